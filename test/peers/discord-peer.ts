/**
 * A local stand-in for Discord's servers on 127.0.0.1, so tests can drive the
 * real discord.js client: REST (gateway discovery, command registration,
 * interaction callbacks, webhook edits and follow-ups, channel messages with
 * multipart files, DMs) and the gateway WebSocket (HELLO, IDENTIFY, READY,
 * GUILD_CREATE, heartbeats and ACKs, RESUME, INTERACTION_CREATE, forced drops).
 * It records what the bot sent; it does not check Discord's business rules.
 */
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/** One request the bot made. */
export interface PeerRequest {
  method: string;
  /** Path after /api/v10, decoded (`/webhooks/1/tok/messages/@original`). */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** JSON body, or `payload_json` of a multipart body. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  files: { field: string; filename: string; contentType: string; data: Buffer }[];
  at: bigint;
}

/** A member of the peer's guild as it appears in interactions. */
export interface PeerUser {
  id: string;
  username: string;
  roles?: string[];
  locale?: string;
  /** The server the user's interactions come from; default the peer's own (another: a server the bot was added to elsewhere). */
  guildId?: string;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
let sequence = 0n;
/**
 * A fresh snowflake as Discord makes them: milliseconds since Discord's epoch in the high bits,
 * so an interaction's `createdTimestamp` is the moment the peer created it.
 */
export const nextId = () => String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (sequence++ & 0x3fffffn));

/** Splits a multipart/form-data body into its parts. */
function parseMultipart(body: Buffer, boundary: string): { name: string; filename?: string; contentType: string; data: Buffer }[] {
  const parts: { name: string; filename?: string; contentType: string; data: Buffer }[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const sep = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, sep).toString();
    const data = part.subarray(sep + 4);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    const contentType = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? "text/plain";
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), contentType, data });
    pos = next;
  }
  return parts;
}

/** The local Discord. */
export class DiscordPeer extends EventEmitter {
  readonly requests: PeerRequest[] = [];
  readonly gateway = { connections: 0, identifies: 0, resumes: 0, heartbeats: 0, tokens: [] as string[] };
  readonly guildId = nextId();
  readonly channelId = nextId();
  readonly botId = nextId();
  /** Members of the server, as seen in interactions (served by GET /guilds/:id/members/:user). */
  readonly members = new Map<string, PeerUser>();
  private server!: http.Server;
  private wss!: WebSocketServer;
  private socket: WebSocket | undefined;
  private seq = 0;
  private sessionId = "";
  private failures: { match: RegExp; status: number; body: unknown; headers: Record<string, string> }[] = [];

  constructor(
    readonly opts: { token: string; applicationId: string; roles?: { id: string; name: string }[]; heartbeatMs?: number },
  ) {
    super();
    this.setMaxListeners(1000);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The REST base to give discord.js (`rest.api`). */
  get api(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on("connection", (ws) => this.onSocket(ws));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next request matching `path` and `method` answers `status` with `body` (once). */
  failNext(match: RegExp, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.failures.push({ match, status, body, headers });
  }

  /** Requests seen so far that match. */
  find(method: string, path: RegExp): PeerRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /** Resolves with the first request (past or future) that matches. */
  waitFor(method: string, path: RegExp, timeoutMs = 10_000): Promise<PeerRequest> {
    const seen = this.find(method, path)[0];
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("request", on);
        reject(new Error(`peer: no ${method} ${path} within ${timeoutMs} ms; saw ${this.requests.map((r) => `${r.method} ${r.path}`).join(", ")}`));
      }, timeoutMs);
      const on = (r: PeerRequest) => {
        if (r.method === method && path.test(r.path)) {
          clearTimeout(timer);
          this.off("request", on);
          resolve(r);
        }
      };
      this.on("request", on);
    });
  }

  /** Resolves once the gateway event `name` has happened `count` times in total. */
  waitForGateway(key: "connections" | "identifies" | "resumes" | "heartbeats", count: number, timeoutMs = 15_000): Promise<void> {
    if (this.gateway[key] >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer: ${key} stayed at ${this.gateway[key]} (< ${count})`)), timeoutMs);
      const on = () => {
        if (this.gateway[key] >= count) {
          clearTimeout(timer);
          this.off("gateway", on);
          resolve();
        }
      };
      this.on("gateway", on);
    });
  }

  // ---- gateway ------------------------------------------------------------

  private send(ws: WebSocket, payload: object): void {
    ws.send(JSON.stringify(payload));
  }

  private onSocket(ws: WebSocket): void {
    this.socket = ws;
    this.gateway.connections++;
    this.emit("gateway");
    this.send(ws, { op: 10, d: { heartbeat_interval: this.opts.heartbeatMs ?? 1_000 }, s: null, t: null });
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (msg.op === 1) {
        this.gateway.heartbeats++;
        this.send(ws, { op: 11, d: null, s: null, t: null });
      } else if (msg.op === 2) {
        this.gateway.identifies++;
        this.gateway.tokens.push(String(msg.d.token));
        if (msg.d.token !== this.opts.token) return ws.close(4004, "Authentication failed");
        this.seq = 0;
        this.sessionId = nextId();
        this.dispatchOn(ws, "READY", {
          v: 10,
          user: { id: this.botId, username: "shopops", discriminator: "0000", global_name: null, avatar: null, bot: true },
          guilds: [{ id: this.guildId, unavailable: true }],
          session_id: this.sessionId,
          resume_gateway_url: `ws://127.0.0.1:${this.port}`,
          shard: [0, 1],
          application: { id: this.opts.applicationId, flags: 0 },
        });
        this.dispatchOn(ws, "GUILD_CREATE", this.guild());
      } else if (msg.op === 6) {
        this.gateway.resumes++;
        this.gateway.tokens.push(String(msg.d.token));
        if (msg.d.session_id !== this.sessionId || msg.d.token !== this.opts.token) this.send(ws, { op: 9, d: false, s: null, t: null });
        else this.dispatchOn(ws, "RESUMED", {});
      }
      this.emit("gateway");
    });
  }

  private guild() {
    const role = (id: string, name: string, position: number) => ({
      id, name, color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null, unicode_emoji: null,
      position, permissions: "0", managed: false, mentionable: false, flags: 0,
    });
    return {
      id: this.guildId,
      name: "Test Shop",
      icon: null,
      owner_id: "1",
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      system_channel_id: null,
      system_channel_flags: 0,
      premium_tier: 0,
      preferred_locale: "en-US",
      nsfw_level: 0,
      features: [],
      emojis: [],
      stickers: [],
      roles: [role(this.guildId, "@everyone", 0), ...(this.opts.roles ?? []).map((r, i) => role(r.id, r.name, i + 1))],
      channels: [{ id: this.channelId, type: 0, name: "ops", position: 0, permission_overwrites: [], parent_id: null, nsfw: false, topic: null, last_message_id: null, rate_limit_per_user: 0 }],
      threads: [],
      members: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      member_count: 3,
      large: false,
      unavailable: false,
      joined_at: new Date().toISOString(),
    };
  }

  private dispatchOn(ws: WebSocket, t: string, d: unknown): void {
    this.send(ws, { op: 0, t, s: ++this.seq, d });
  }

  /** Sends a dispatch event on the current gateway connection. */
  dispatch(t: string, d: unknown): void {
    if (!this.socket || this.socket.readyState !== this.socket.OPEN) throw new Error("peer: no open gateway connection");
    this.dispatchOn(this.socket, t, d);
  }

  /** Drops the gateway connection the way Discord does on an unknown error (the client may resume). */
  dropGateway(code = 4000): void {
    this.socket?.close(code, "peer dropped the connection");
  }

  // ---- interactions ---------------------------------------------------------

  private memberOf(user: PeerUser) {
    return {
      user: { id: user.id, username: user.username, discriminator: "0", global_name: user.username, avatar: null },
      roles: user.roles ?? [],
      permissions: "0",
      joined_at: new Date().toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      nick: null,
      avatar: null,
      premium_since: null,
      pending: false,
    };
  }

  private base(user: PeerUser, type: number, data: object, extra: object = {}) {
    const id = nextId();
    const guild = user.guildId ?? this.guildId;
    if (guild === this.guildId) this.members.set(user.id, user);
    return {
      id,
      application_id: this.opts.applicationId,
      token: `itoken-${id}`,
      type,
      version: 1,
      guild_id: guild,
      channel_id: this.channelId,
      channel: { id: this.channelId, type: 0, guild_id: guild, name: "ops" },
      member: this.memberOf(user),
      app_permissions: "0",
      locale: user.locale ?? "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": guild },
      context: 0,
      attachment_size_limit: 10_485_760,
      data,
      ...extra,
    };
  }

  /**
   * Sends a slash command: `name` is `stock` or `stock adjust` (a subcommand),
   * options are name → value (strings, numbers, booleans).
   */
  slash(user: PeerUser, name: string, options: Record<string, string | number | boolean> = {}, focused?: string): { id: string; token: string } {
    const [top, sub] = name.split(" ");
    const opts = Object.entries(options).map(([n, value]) => ({
      name: n,
      type: typeof value === "boolean" ? 5 : typeof value === "number" ? (Number.isInteger(value) ? 4 : 10) : 3,
      value,
      ...(n === focused ? { focused: true } : {}),
    }));
    const data = { id: nextId(), name: top, type: 1, options: sub ? [{ name: sub, type: 1, options: opts }] : opts };
    const ix = this.base(user, focused ? 4 : 2, data);
    this.dispatch("INTERACTION_CREATE", ix);
    return { id: ix.id, token: ix.token };
  }

  /** Sends an autocomplete interaction with `option` focused. */
  autocomplete(user: PeerUser, name: string, options: Record<string, string>, option: string): { id: string; token: string } {
    return this.slash(user, name, options, option);
  }

  /** Presses the button `customId` on `message` (a message object the bot posted or edited). */
  press(user: PeerUser, message: Record<string, unknown>, customId: string, interactionId?: string): { id: string; token: string } {
    const ix = this.base(user, 3, { custom_id: customId, component_type: 2 }, { message });
    if (interactionId) Object.assign(ix, { id: interactionId, token: `itoken-${interactionId}` });
    this.dispatch("INTERACTION_CREATE", ix);
    return { id: ix.id, token: ix.token };
  }

  /**
   * Presses a button on a message in the user's DMs with the bot (a reminder sent by DM): as
   * Discord sends it, with `user` and no `member` or server.
   */
  pressInDm(user: PeerUser, message: Record<string, unknown>, customId: string): { id: string; token: string } {
    const ix: Record<string, unknown> = this.base(user, 3, { custom_id: customId, component_type: 2 }, { message });
    const dm = `9${user.id}`.slice(0, 20);
    delete ix.member;
    delete ix.guild_id;
    Object.assign(ix, {
      user: { id: user.id, username: user.username, discriminator: "0", global_name: user.username, avatar: null },
      channel_id: dm,
      channel: { id: dm, type: 1 },
      context: 1,
      authorizing_integration_owners: { "0": this.guildId },
    });
    this.dispatch("INTERACTION_CREATE", ix);
    return { id: ix.id as string, token: ix.token as string };
  }

  /** Waits for the callback of interaction `id`. */
  callback(id: string, timeoutMs?: number): Promise<PeerRequest> {
    return this.waitFor("POST", new RegExp(`^/interactions/${id}/[^/]+/callback$`), timeoutMs);
  }

  /** A message object as Discord returns it. */
  message(channelId: string, body: Record<string, unknown> | undefined, files: PeerRequest["files"] = []): Record<string, unknown> {
    return {
      id: nextId(),
      channel_id: channelId,
      author: { id: this.botId, username: "shopops", discriminator: "0000", avatar: null, bot: true, global_name: null },
      content: (body?.content as string | undefined) ?? "",
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: files.map((f, i) => ({ id: String(i), filename: f.filename, size: f.data.length, url: `http://127.0.0.1/${f.filename}`, proxy_url: `http://127.0.0.1/${f.filename}`, content_type: f.contentType })),
      embeds: body?.embeds ?? [],
      components: body?.components ?? [],
      pinned: false,
      type: 0,
      // An ephemeral reply stays ephemeral (flag 64), as Discord keeps it on the message.
      flags: typeof body?.flags === "number" ? body.flags & 64 : 0,
    };
  }

  // ---- REST -------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v10/, ""));
    const type = req.headers["content-type"] ?? "";
    let body: unknown = undefined;
    let files: PeerRequest["files"] = [];
    if (type.startsWith("application/json") && raw.length) body = JSON.parse(raw.toString());
    else if (type.startsWith("multipart/form-data")) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
      const parts = parseMultipart(raw, boundary?.[1] ?? boundary?.[2] ?? "");
      const pj = parts.find((p) => p.name === "payload_json");
      body = pj ? JSON.parse(pj.data.toString()) : undefined;
      files = parts.filter((p) => p.filename !== undefined).map((p) => ({ field: p.name, filename: p.filename!, contentType: p.contentType, data: p.data }));
    }
    const request: PeerRequest = { method: req.method ?? "GET", path, query: url.searchParams, authorization: req.headers.authorization, body, files, at: process.hrtime.bigint() };
    this.requests.push(request);

    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(value));
    };
    const failure = this.failures.findIndex((f) => f.match.test(`${request.method} ${path}`));
    if (failure >= 0) {
      const f = this.failures.splice(failure, 1)[0]!;
      json(f.status, f.body, f.headers);
      this.emit("request", request);
      return;
    }
    const bot = `Bot ${this.opts.token}`;
    // Interaction callbacks and webhooks are authorized by the interaction token in the path.
    const needsAuth = !/^\/(interactions|webhooks)\//.test(path);
    if (needsAuth && req.headers.authorization !== bot) {
      json(401, { message: "401: Unauthorized", code: 0 });
      this.emit("request", request);
      return;
    }
    let m: RegExpExecArray | null;
    if (request.method === "GET" && path === "/gateway/bot") {
      json(200, { url: `ws://127.0.0.1:${this.port}`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } });
    } else if (request.method === "PUT" && (m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      // A server the bot is not in: Discord answers 403 Missing Access.
      if (m[2] && m[2] !== this.guildId) {
        json(403, { message: "Missing Access", code: 50001 });
        this.emit("request", request);
        return;
      }
      const list = (body as { name: string }[]).map((c) => ({ ...c, id: nextId(), application_id: m![1], version: nextId(), ...(m![2] ? { guild_id: m![2] } : {}) }));
      json(200, list);
    } else if (request.method === "POST" && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) {
      res.writeHead(204).end();
    } else if ((m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/.exec(path))) {
      if (request.method === "DELETE") res.writeHead(204).end();
      else json(200, this.message(this.channelId, body as Record<string, unknown>, files));
    } else if (request.method === "POST" && /^\/webhooks\/\d+\/[^/]+$/.test(path)) {
      json(200, this.message(this.channelId, body as Record<string, unknown>, files));
    } else if (request.method === "POST" && path === "/users/@me/channels") {
      const recipient = (body as { recipient_id: string }).recipient_id;
      json(200, { id: `9${recipient}`.slice(0, 20), type: 1, last_message_id: null, recipients: [{ id: recipient, username: "user", discriminator: "0", avatar: null, global_name: null }] });
    } else if (request.method === "GET" && (m = /^\/guilds\/(\d+)\/members\/(\d+)$/.exec(path))) {
      const u = m[1] === this.guildId ? this.members.get(m[2]!) : undefined;
      if (u) json(200, this.memberOf(u));
      else json(404, { message: "Unknown Member", code: 10007 });
    } else if (request.method === "GET" && (m = /^\/channels\/(\d+)$/.exec(path))) {
      if (m[1] === this.channelId) json(200, { id: this.channelId, type: 0, guild_id: this.guildId, name: "ops", position: 0, permission_overwrites: [] });
      else json(404, { message: "Unknown Channel", code: 10003 });
    } else if (request.method === "POST" && (m = /^\/channels\/(\d+)\/messages$/.exec(path))) {
      json(200, this.message(m[1]!, body as Record<string, unknown>, files), {
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "4",
        "x-ratelimit-reset-after": "1",
        "x-ratelimit-bucket": `channel-${m[1]}`,
      });
    } else {
      json(404, { message: "404: Not Found", code: 0 });
    }
    this.emit("request", request);
  }
}
