/**
 * A local stand-in for Slack's side, on 127.0.0.1, for tests and benches that
 * drive the real Bolt: the Web API (`/api/<method>`), `response_url`
 * endpoints, the file upload URL, and a Socket Mode WebSocket server. It
 * records what the bot sent and lets a test send what Slack would send.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/** One Web API call the bot made. */
export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  /** The Authorization header (Bearer token). */
  auth: string | undefined;
  /** Arrival, `performance.now()` of this process (benches compare it with their own clock). */
  at: number;
}

/** One POST to a response_url. */
export interface ResponsePost {
  id: string;
  body: Record<string, unknown>;
  /** Arrival, `performance.now()` of this process. */
  at: number;
}

/** A canned answer of a Web API method; `status` other than 200 only for 429 tests. */
export interface ApiAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

type Handler = (args: Record<string, unknown>, call: ApiCall) => ApiAnswer | Record<string, unknown>;

/** A Slack user the peer knows (users.info). */
export interface PeerUser {
  id: string;
  name: string;
  display_name?: string;
  /** The user's Slack language (`en-US`, `zh-CN`…): users.info gives it only with `include_locale`, as Slack does. */
  locale?: string;
}

/** The local Slack peer. */
export class SlackPeer {
  readonly calls: ApiCall[] = [];
  readonly responses: ResponsePost[] = [];
  readonly uploads: { id: string; bytes: number }[] = [];
  /** Messages conversations.history/replies can return, by `channel:ts`. */
  readonly messages = new Map<string, { ts: string; text: string; user?: string; thread_ts?: string }>();
  readonly users = new Map<string, PeerUser>();
  /** Archived channels: posting to them answers is_archived, as Slack does. */
  readonly archivedChannels = new Set<string>();
  /** Envelopes the bot acknowledged over Socket Mode, by envelope id. */
  readonly acks = new Map<string, unknown>();
  private readonly overrides = new Map<string, Handler[]>();
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private sockets: WebSocket[] = [];
  private ackWaiters = new Map<string, (payload: unknown) => void>();
  private seq = 0;
  private tsSeq = 0;
  port = 0;

  constructor(readonly team = "T0PEER", readonly botUserId = "UBOT") {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("upgrade", (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  /** The Web API base URL for the client (`slackApiUrl`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** Starts listening on a free port. */
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A fresh response_url. */
  responseUrl(): string {
    return `http://127.0.0.1:${this.port}/respond/${++this.seq}`;
  }

  /** Answers the next call(s) of `method` with `handler` (once each, in order). */
  once(method: string, handler: Handler): void {
    const list = this.overrides.get(method) ?? [];
    list.push(handler);
    this.overrides.set(method, list);
  }

  /** Calls of one method. */
  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Waits until `probe` returns something (polling); throws naming `what` after `ms`. */
  async waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, ms = 15_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`slack peer: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Every POST to this response_url so far, in order. */
  responsesTo(url: string): ResponsePost[] {
    const id = url.slice(url.lastIndexOf("/") + 1);
    return this.responses.filter((r) => r.id === id);
  }

  /** Waits for the response_url POST with this url's id. */
  waitForResponse(url: string, what = "a response_url post"): Promise<ResponsePost> {
    const id = url.slice(url.lastIndexOf("/") + 1);
    return this.waitFor(() => this.responses.find((r) => r.id === id), what);
  }

  private nextTs(): string {
    return `1700000000.${String(++this.tsSeq).padStart(6, "0")}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = req.url ?? "/";
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (url.startsWith("/respond/")) {
      this.responses.push({ id: url.slice("/respond/".length), body: JSON.parse(raw.toString("utf8") || "{}") as Record<string, unknown>, at: performance.now() });
      return send(200, "ok", { "content-type": "text/plain" });
    }
    if (url.startsWith("/upload/")) {
      this.uploads.push({ id: url.slice("/upload/".length), bytes: raw.length });
      return send(200, "OK - " + raw.length, { "content-type": "text/plain" });
    }
    if (!url.startsWith("/api/")) return send(404, { ok: false, error: "not_found" });
    const method = url.slice("/api/".length).split("?")[0]!;
    const args = parseArgs(raw.toString("utf8"), String(req.headers["content-type"] ?? ""));
    const call: ApiCall = { method, args, auth: req.headers.authorization, at: performance.now() };
    this.calls.push(call);
    const override = this.overrides.get(method)?.shift();
    const out = override ? override(args, call) : this.answer(method, args, call);
    const answer: ApiAnswer = "body" in out && typeof out.body === "object" ? (out as ApiAnswer) : { body: out as Record<string, unknown> };
    send(answer.status ?? 200, answer.body, answer.headers);
  }

  // Slack answers HTTP 200 with {ok:false, error} for errors.
  private answer(method: string, args: Record<string, unknown>, call: ApiCall): Record<string, unknown> {
    const token = (call.auth ?? "").replace(/^Bearer /, "");
    switch (method) {
      case "auth.test":
        return token.startsWith("xoxb-") && !token.includes("revoked") ? { ok: true, url: "https://peer.slack.test/", team: "Peer", team_id: this.team, user: "shopops", user_id: this.botUserId, bot_id: "BBOT" } : { ok: false, error: "invalid_auth" };
      case "apps.connections.open":
        return token.startsWith("xapp-") && !token.includes("revoked") ? { ok: true, url: `ws://127.0.0.1:${this.port}/socket` } : { ok: false, error: "invalid_auth" };
      case "chat.postMessage": {
        if (this.archivedChannels.has(String(args.channel))) return { ok: false, error: "is_archived" };
        const ts = this.nextTs();
        return { ok: true, channel: args.channel, ts, message: { ts, text: args.text, blocks: args.blocks } };
      }
      case "chat.update":
        return { ok: true, channel: args.channel, ts: args.ts };
      case "chat.postEphemeral":
        return { ok: true, message_ts: this.nextTs() };
      case "chat.getPermalink":
        return { ok: true, channel: args.channel, permalink: `https://peer.slack.test/archives/${String(args.channel)}/p${String(args.message_ts).replace(".", "")}` };
      case "views.publish":
        return { ok: true, view: { id: "V1", ...(args.view as object) } };
      case "users.info": {
        const u = this.users.get(String(args.user));
        if (!u) return { ok: false, error: "user_not_found" };
        const withLocale = (args.include_locale === true || args.include_locale === "true") && u.locale;
        return { ok: true, user: { id: u.id, name: u.name, real_name: u.name, profile: { display_name: u.display_name ?? "" }, ...(withLocale ? { locale: u.locale } : {}) } };
      }
      case "conversations.open":
        return { ok: true, channel: { id: `D${String(args.users).split(",")[0]}` } };
      case "conversations.history":
      case "conversations.replies": {
        const key = `${String(args.channel)}:${String(method === "conversations.history" ? args.latest : args.ts)}`;
        const m = this.messages.get(key);
        if (method === "conversations.history" && m?.thread_ts && m.thread_ts !== m.ts) return { ok: true, messages: [] };
        // As Slack does: conversations.replies lists the thread's parent first, then its replies
        // (up to `latest`), cut to `limit`.
        if (method === "conversations.replies" && m?.thread_ts && m.thread_ts !== m.ts) {
          const parent = this.messages.get(`${String(args.channel)}:${m.thread_ts}`);
          const all = [...(parent ? [parent] : []), m];
          return { ok: true, messages: args.limit ? all.slice(0, Number(args.limit)) : all, has_more: false };
        }
        return { ok: true, messages: m ? [m] : [], has_more: false };
      }
      case "files.getUploadURLExternal": {
        const id = `F${++this.seq}`;
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
      }
      case "files.completeUploadExternal":
        return { ok: true, files: (args.files as { id: string; title?: string }[]).map((f) => ({ id: f.id, title: f.title })) };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.push(ws);
    this.connectionsOpened++;
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (!msg.envelope_id) return;
      this.acks.set(msg.envelope_id, msg.payload);
      this.ackWaiters.get(msg.envelope_id)?.(msg.payload);
    });
    ws.on("close", () => (this.sockets = this.sockets.filter((s) => s !== ws)));
    ws.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "peer", approximate_connection_time: 3600 }, connection_info: { app_id: "A0PEER" } }));
  }

  /**
   * Sends a Socket Mode envelope (`slash_commands`, `interactive`,
   * `events_api`) and resolves with the bot's ack payload.
   */
  sendEnvelope(type: "slash_commands" | "interactive" | "events_api", payload: Record<string, unknown>): Promise<unknown> {
    const ws = this.sockets[0];
    if (!ws) throw new Error("slack peer: no Socket Mode connection");
    const envelope_id = randomUUID();
    const acked = new Promise<unknown>((r) => this.ackWaiters.set(envelope_id, r));
    ws.send(JSON.stringify({ envelope_id, type, accepts_response_payload: type !== "events_api", retry_attempt: 0, retry_reason: "", payload }));
    return acked;
  }

  /** Asks every Socket Mode client to reconnect, as Slack does before it recycles a connection. */
  askToReconnect(): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: "disconnect", reason: "refresh_requested", debug_info: { host: "peer" } }));
  }

  /** Socket Mode connections opened so far. */
  connectionsOpened = 0;

  /** Number of open Socket Mode connections. */
  get socketCount(): number {
    return this.sockets.length;
  }
}

function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (!raw) return {};
  if (contentType.includes("application/json")) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const looksJson = (v.startsWith("[") && v.endsWith("]")) || (v.startsWith("{") && v.endsWith("}"));
    try {
      out[k] = looksJson ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Signs a request body as Slack does (`v0=` HMAC-SHA256 of `v0:<ts>:<body>`). */
export function slackSignature(secret: string, ts: number, body: string): string {
  return "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
}

/** A request Slack would POST to `/slack/events`, signed (or not). */
export async function postToBot(
  url: string,
  opts: { secret: string; body: string; form?: boolean; ts?: number; signature?: string; headers?: Record<string, string> },
): Promise<{ status: number; text: string }> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      // Exactly this string: Bolt compares it strictly.
      "content-type": opts.form === false ? "application/json" : "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": opts.signature ?? slackSignature(opts.secret, ts, opts.body),
      ...opts.headers,
    },
    body: opts.body,
  });
  return { status: res.status, text: await res.text() };
}

let triggers = 0;

/** The form body of a slash command; each gets its own `trigger_id`, as from Slack, unless one is given (a replay). */
export function slashBody(f: { command: string; text: string; user: string; team: string; channel?: string; responseUrl: string; triggerId?: string }): string {
  return new URLSearchParams({
    token: "legacy-verification-token",
    team_id: f.team,
    team_domain: "peer",
    channel_id: f.channel ?? "C0OPS",
    channel_name: "ops",
    user_id: f.user,
    user_name: f.user.toLowerCase(),
    command: f.command,
    text: f.text,
    api_app_id: "A0PEER",
    response_url: f.responseUrl,
    trigger_id: f.triggerId ?? `13345224609.738474920.${(++triggers).toString(16).padStart(8, "0")}${randomBytes(12).toString("hex")}`,
  }).toString();
}

/**
 * The payload of a button press (block_actions). `blocks` are the pressed message's blocks as
 * Slack holds them (Slack sends the whole message); an `ephemeral` message comes without them,
 * as from Slack.
 */
export function buttonPayload(f: {
  user: string;
  team: string;
  channel?: string;
  messageTs: string;
  blockId: string;
  actionId: string;
  value: string;
  responseUrl: string;
  blocks?: Record<string, unknown>[];
  ephemeral?: boolean;
}): Record<string, unknown> {
  const p: Record<string, unknown> = {
    type: "block_actions",
    team: { id: f.team, domain: "peer" },
    user: { id: f.user, username: f.user.toLowerCase(), team_id: f.team },
    api_app_id: "A0PEER",
    token: "legacy-verification-token",
    container: { type: "message", message_ts: f.messageTs, channel_id: f.channel ?? "C0OPS", is_ephemeral: !!f.ephemeral },
    trigger_id: "13345224609.738474920.8088930838d88f008e0",
    channel: { id: f.channel ?? "C0OPS", name: "ops" },
    message: { type: "message", subtype: "bot_message", bot_id: "BBOT", ts: f.messageTs, text: "", blocks: f.blocks ?? [] },
    response_url: f.responseUrl,
    actions: [{ type: "button", action_id: f.actionId, block_id: f.blockId, value: f.value, text: { type: "plain_text", text: "x" }, action_ts: "1700000001.000000" }],
  };
  if (f.ephemeral) delete p.message;
  return p;
}

/** An Events API envelope body. */
export function eventBody(team: string, event: Record<string, unknown>, eventId = `Ev${randomUUID().slice(0, 8).toUpperCase()}`): Record<string, unknown> {
  return { token: "legacy-verification-token", team_id: team, api_app_id: "A0PEER", type: "event_callback", event_id: eventId, event_time: 1700000000, event };
}
