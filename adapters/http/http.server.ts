import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { promisify } from "node:util";
import { gunzip, inflate, type ZlibOptions } from "node:zlib";
import type { Config } from "../../src/config.js";
import { WarnThrottle, type Logger } from "../../src/core/logger.js";
import { clip } from "../../src/core/reply.js";
import type { ApiCaller, ApiScope } from "../../src/services/apikey.service.js";
import type { AuditRecord } from "../../src/services/audit.service.js";
import type { IngestKind } from "../../src/services/ingest-schemas.js";
import { isFailedItem, itemSubjects, MAX_AUDIT_SUBJECTS, type ItemResult } from "../../src/services/ingest.service.js";
import type { Services } from "../../src/services/services.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { duplicateKeys } from "../../src/core/json-keys.js";

/** What the HTTP adapter needs from the app. */
export interface HttpDeps {
  services: Services;
  config: Config;
  logger: Logger;
  /**
   * Slack's HTTP receiver when it shares this server's port (HTTP_PORT = SLACK_PORT): requests
   * to `/slack/events` go to it whole (Bolt verifies their signatures), everything else is ours.
   */
  slack?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Where Slack sends events, commands and interactions in HTTP mode (Bolt's default). */
export const SLACK_EVENTS_PATH = "/slack/events";

/** A refused API key is logged at warn at most this often per key id and remote address. */
const REFUSED_KEY_LOG_MS = 60_000;
const API = "/api/v1";
/** Ingestion routes: path → (kind of item, scope needed). */
const ROUTES: Record<string, { kind: IngestKind; scope: ApiScope }> = {
  "/orders": { kind: "orders", scope: "orders" },
  "/products": { kind: "products", scope: "products" },
  "/inventory": { kind: "inventory", scope: "inventory" },
  "/complaints": { kind: "complaints", scope: "complaints" },
  "/refund-requests": { kind: "refund-requests", scope: "refunds" },
};

/** The methods an API route takes, as `Allow` says them (OPTIONS answers what the route takes). */
const ROUTE_METHODS = "POST, OPTIONS";
/** The methods `/healthz` and `/readyz` take. */
const PROBE_METHODS = "GET, HEAD, OPTIONS";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Answers with a JSON body. A request answered before its announced body has arrived (a 401 or
 * 404 refused on its headers, a 413) gets `Connection: close`: the connection ends with the
 * answer, so the server does not go on receiving, and discarding, a body it will never use.
 */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const req = res.req as IncomingMessage | undefined;
  const unread = !!req && !req.complete && (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...(unread ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(text);
}

/**
 * The HTTP surface of the bot: `GET /healthz`, `GET /readyz` and the ingestion API under
 * `/api/v1` (API keys, scopes, rate limit, JSON bodies up to the configured limit, one item
 * or a batch), and Slack's `/slack/events` when Slack shares the port; any other path is a 404.
 */
function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { services, config, logger } = deps;
  const log = logger.child({ component: "http" });
  const limiter = new RateLimiter(config.http.ratePerSec, config.http.rateBurst);
  /**
   * Refused API keys (unknown, revoked, wrong secret, malformed) are logged at warn, so a revoked
   * key still in use shows at the default level: at most once a minute per key id and remote
   * address (a client retrying in a loop must not flood the log), with the refusals in between
   * counted. The key id only (never the token or its secret); the id of a malformed one is unknown.
   */
  const refusedKeys = new WarnThrottle(REFUSED_KEY_LOG_MS);
  function refusedKey(req: IncomingMessage, token: string | undefined): void {
    const key = token ? (/^shopops_(k[0-9A-Z]{10})_/.exec(token)?.[1] ?? null) : null;
    const remote = req.socket.remoteAddress ?? "unknown";
    const since = refusedKeys.pass(`${key ?? "-"}|${remote}`);
    if (since === undefined) return;
    log.warn("API request refused: invalid or revoked API key", { key: key ?? "(malformed, no key id)", remote, ...(since ? { refusedSinceLastWarning: since } : {}) });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    // The request target as a path: with a base, "//api/v1/orders" would read "api" as a host.
    const target = req.url ?? "/";
    const method = req.method ?? "GET";
    let url: URL;
    try {
      url = new URL(target.startsWith("/") ? `http://localhost${target}` : target, "http://localhost");
    } catch {
      // A malformed absolute-form target (`http://[::1`, a port past 65535): the client's error.
      log.debug("request", { method, status: 400, reason: "bad request target", ms: Date.now() - started });
      return void send(res, 400, { error: "invalid", code: "invalid", message: "bad request target: send a path such as /api/v1/orders" });
    }
    const path = url.pathname.replace(/\/+$/, "") || "/";
    // Only what Bolt's receiver handles goes to it (it throws on any other method or path): its
    // one path, as our routes are matched, with or without a trailing slash (Bolt matches the
    // exact path, so the request goes to it as `/slack/events`, its query kept).
    if (deps.slack && path === SLACK_EVENTS_PATH && method === "POST") {
      if (url.pathname !== SLACK_EVENTS_PATH) req.url = SLACK_EVENTS_PATH + url.search;
      return deps.slack(req, res);
    }
    if (deps.slack && path === SLACK_EVENTS_PATH) {
      return void send(res, 405, { error: "method_not_allowed", code: "method_not_allowed", message: `POST ${SLACK_EVENTS_PATH} only (Slack's events, commands and interactions)` }, { allow: "POST" });
    }
    let caller: ApiCaller | null = null;
    let status = 500;
    let items = 0;
    // Set once a request of a known caller reaches a route: what the audit entry says.
    let audited: { command: string; args: string; outcome: AuditRecord["outcome"]; code?: string; message?: string; subject?: string[] } | undefined;
    // 122 random bits: the API may see millions of requests, and a 40-bit ref collides after
    // about a million (birthday bound). Shown to the caller with a 500, logged, and the audit id.
    const ref = randomUUID();
    /**
     * The request's audit entry (who: `api:<key label>#<key id>`, from platform `http`, what,
     * result): one per request, not per item, recorded before the answer is sent. The items were
     * applied or refused already, so a failed audit write is logged, not answered.
     */
    const record = async (): Promise<void> => {
      if (!audited || !caller) return;
      await services.audit
        .add({
          ref: `api-${ref}`,
          // The app's clock, as every other entry (a test's fixed clock, a shop day's boundary).
          at: services.clock.now(),
          actor: apiActor(caller),
          platform: "http",
          command: audited.command,
          args: clip(`${audited.args} [key ${caller.id}]`, 600),
          outcome: audited.outcome,
          ...(audited.code ? { code: audited.code } : {}),
          ...(audited.message ? { message: clip(audited.message, 300) } : {}),
          ...(audited.subject?.length ? { subject: audited.subject.length === 1 ? audited.subject[0]! : audited.subject } : {}),
        })
        .catch((err: unknown) => log.error("audit failed", { ref, err }));
    };
    // OPTIONS says which methods a route takes, to anyone (it reveals nothing more): no key, no
    // rate, no audit, no body. No CORS headers: the API is for servers, not browsers.
    const options = (allow: string) => {
      const unread = !req.complete && (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0);
      res.writeHead((status = 204), { allow, "cache-control": "no-store", ...(unread ? { connection: "close" } : {}) });
      res.end();
    };
    try {
      if (path === "/healthz" || path === "/readyz") {
        if (method === "OPTIONS") return options(PROBE_METHODS);
        if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "method_not_allowed", `${path} accepts GET`, { allow: PROBE_METHODS });
        if (path === "/healthz") return void send(res, (status = 200), { status: "ok" });
        const ready = await ping(services);
        return void send(res, (status = ready ? 200 : 503), { status: ready ? "ready" : "database unreachable" });
      }
      const route = path.startsWith(API + "/") ? ROUTES[path.slice(API.length)] : undefined;
      // A known key's request answered 404 or 405 is on its trail too (the status stays what the
      // route and method say); anyone else's is not: there is nobody to name. It costs the key a
      // token of its rate as a POST does: past the rate it is a 429, not audited.
      const knownCaller = async (command: string) => {
        if (!path.startsWith("/api/") || !req.headers.authorization) return;
        caller = await authenticate(req).catch(() => null);
        if (!caller) return;
        audited = { command, args: `${method} ${path}`, outcome: "error" };
        limit(caller);
      };
      if (!route) {
        await knownCaller("api");
        throw new HttpError(404, "not_found", `no route ${path}; routes: GET /healthz, GET /readyz, POST ${[...Object.keys(ROUTES).map((r) => API + r), ...(deps.slack ? [SLACK_EVENTS_PATH] : [])].join(", ")}`);
      }
      if (method === "OPTIONS") return options(ROUTE_METHODS);
      if (method !== "POST") {
        await knownCaller(`api ${route.kind}`);
        throw new HttpError(405, "method_not_allowed", `${path} accepts POST`, { allow: ROUTE_METHODS });
      }
      caller = await authenticate(req);
      const command = `api ${route.kind}`;
      audited = { command, args: `POST ${path}`, outcome: "error" };
      // Limited before the scope check: refusals cost a key its rate too (and an audit entry each).
      limit(caller);
      if (!caller.scopes.has(route.scope)) throw new HttpError(403, "forbidden", `this key lacks the "${route.scope}" scope`);
      // The routes take no query parameters: one a client counts on (`?dry_run=1`, `?upsert=false`)
      // would otherwise be ignored unsaid and the body applied for real. Refused, as unknown fields are.
      const query = [...new Set(url.searchParams.keys())];
      if (query.length) {
        throw new HttpError(400, "invalid", `unknown query parameter${query.length > 1 ? "s" : ""} ${query.slice(0, 5).map((k) => clip(k, 40)).join(", ")}${query.length > 5 ? ", …" : ""}: ${path} takes none (everything goes in the JSON body; a dry run is npm run import -- … --dry-run); nothing applied`, {}, {
          errors: query.slice(0, 20).map((k) => ({ field: `?${clip(k, 40)}`, expected: "no query parameters" })),
        });
      }
      // Node keeps the first of two Content-Type lines, unsaid: how the body is read would depend
      // on their order (a proxy's). A malformed request, as two Authorization lines are: a 400.
      if ((req.headersDistinct["content-type"]?.length ?? 0) > 1) throw new HttpError(400, "invalid", "more than one Content-Type header: send one (Content-Type: application/json)");
      const [type = "", ...params] = (req.headers["content-type"] ?? "").split(";");
      const ctype = type.trim().toLowerCase();
      if (ctype !== "application/json") throw new HttpError(415, "unsupported_media_type", `expected Content-Type: application/json, got ${ctype || "none"}`);
      // The body is read as UTF-8 (as JSON is sent, RFC 8259): one said to be in another charset
      // would be read wrong, so it is refused, not guessed at.
      const charset = otherCharset(params);
      if (charset !== undefined) {
        throw new HttpError(415, "unsupported_media_type", `charset ${charset} is not supported: send the JSON encoded as UTF-8 (Content-Type: application/json; charset=utf-8, or no charset)`);
      }
      // A compressed body (Content-Encoding: gzip, as some webhook senders send by default) is
      // read decompressed; one in a coding we cannot read is a 415 naming those we can (RFC 7694).
      const coding = contentCoding(req.headers["content-encoding"]);
      const body = await readJson(req, config.http.bodyLimit, () => res.writeContinue(), coding);
      // What records name as their author (createdBy, requester): the key's label, as before. The
      // key itself (apiActor) goes along for the trail: a parked update refused later names it.
      const actor = `api:${caller.label}`;
      if (Array.isArray(body)) {
        if (body.length === 0) throw new HttpError(400, "invalid", "empty batch: send one item or an array of 1 or more", {}, { errors: [{ field: "(body)", expected: "an object or a non-empty array" }] });
        if (body.length > config.http.batchMax) {
          throw new HttpError(400, "invalid", `batch of ${body.length} items; at most ${config.http.batchMax} per request`, {}, { errors: [{ field: "(body)", expected: `at most ${config.http.batchMax} items` }] });
        }
        items = body.length;
        const results = await services.ingest.applyMany(route.kind, body, actor, apiActor(caller));
        const summary = { created: 0, updated: 0, unchanged: 0, parked: 0, failed: 0 };
        for (const r of results) summary[isFailedItem(r) ? "failed" : (r.outcome as Exclude<typeof r.outcome, "invalid" | "rejected">)]++;
        // An item that failed on our side (5xx) makes the request an error, as a single item's
        // would: the trail must not file a server fault under the caller's bad input.
        const internal = results.filter((r) => r.status >= 500).length;
        audited = {
          command: audited.command,
          args: `POST ${path}: batch of ${results.length} (${Object.entries(summary).map(([k, n]) => `${k} ${n}`).join(", ")}); ${idList(results)}`,
          outcome: internal ? "error" : summary.failed ? "user_error" : "ok",
          subject: subjectsOf(body, results),
          ...(summary.failed
            ? { code: "partial", message: `${summary.failed} of ${results.length} items failed${internal ? ` (${internal} with an internal error)` : ""}` }
            : {}),
        };
        await record();
        return void send(res, (status = 200), { summary, results: results.map((r, index) => ({ index, ...r })) });
      }
      if (body === null || typeof body !== "object") {
        throw new HttpError(400, "invalid", "expected a JSON object (one item) or an array (a batch)", {}, { errors: [{ field: "(body)", expected: "an object or an array" }] });
      }
      items = 1;
      const r = await applyOne(route.kind, body, actor, apiActor(caller), ref);
      const failed = isFailedItem(r);
      audited = {
        command: audited.command,
        args: `POST ${path}: ${r.outcome}${r.id ? ` ${r.id}` : ""}`,
        outcome: r.status >= 500 ? "error" : failed ? "user_error" : "ok",
        subject: subjectsOf([body], [r]),
        ...(failed && r.code ? { code: r.code } : {}),
        ...(failed && r.message ? { message: r.message } : {}),
      };
      await record();
      return void send(res, (status = r.status), r);
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status;
        // A known caller refused after reaching a route: denied (scope) or bad input. Rate
        // limiting is not recorded (a flood would flood the trail).
        if (audited && e.status !== 429) {
          audited = { ...audited, outcome: e.status === 403 ? "denied" : "user_error", code: e.code, message: e.message };
          await record();
        }
        if (e.status === 413) res.setHeader("connection", "close");
        // `code` as an item's answer has it, so a client reads one field whatever failed.
        return void send(res, e.status, { error: e.code, code: e.code, message: e.message, ...e.extra }, e.headers);
      }
      // The body never arrived whole: the client went away, or was too slow and has had its 408
      // (see `clientError`). Its fault, not ours: no error in the log, no answer left to give.
      if ((e as NodeJS.ErrnoException).code === "ECONNRESET" && !req.complete) {
        status = 408;
        if (audited) {
          audited = { ...audited, outcome: "user_error", code: "incomplete", message: "the request's body did not arrive whole (too slow, or the client disconnected); nothing applied" };
          await record();
        }
        return;
      }
      log.error("request failed", { ref, path, err: e });
      status = 500;
      await record();
      if (!res.headersSent) send(res, 500, { error: "internal", code: "internal", message: `internal error; reference ${ref}` });
    } finally {
      // Never the Authorization header or the body: only what identifies the request.
      log.debug("request", { method, path, status, key: caller?.id, items, ms: Date.now() - started });
    }
  }

  /** Takes one of the key's tokens; a 429 with Retry-After when it has none left. */
  function limit(caller: ApiCaller): void {
    const wait = limiter.take(caller.id);
    if (wait > 0) throw new HttpError(429, "rate_limited", `too many requests for this key; retry in ${wait} s`, { "retry-after": String(wait) });
  }

  async function authenticate(req: IncomingMessage): Promise<ApiCaller> {
    const h = req.headers.authorization;
    const challenge = { "www-authenticate": 'Bearer realm="shopops"' };
    // Node keeps the first of two; which key acts would depend on a proxy's ordering.
    if ((req.headersDistinct.authorization?.length ?? 0) > 1) throw new HttpError(400, "invalid", "more than one Authorization header: send one");
    if (!h) throw new HttpError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>", challenge);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    // Another scheme (`Token …`, `Basic …`) or the key alone: told how to send it, not "invalid
    // or revoked" (the key may be fine). Only the scheme is quoted, never what follows it.
    if (!m) {
      refusedKey(req, undefined);
      const given = h.trim();
      const scheme = /^\S+/.exec(given)?.[0] ?? "";
      const got = given.startsWith("shopops_")
        ? "the key without \"Bearer \" before it"
        : /^bearer$/i.test(scheme)
          ? given === scheme ? "\"Bearer\" and no key" : "\"Bearer\" and more than one word after it"
          : given.includes(" ") ? `the scheme "${clip(scheme, 20)}"` : "one word and no scheme";
      throw new HttpError(401, "unauthorized", `malformed Authorization header (got ${got}): send Authorization: Bearer <key>, the key as apikey create showed it`, challenge);
    }
    const caller = await services.apiKeys.authenticate(m[1]!);
    if (!caller) {
      refusedKey(req, m[1]);
      throw new HttpError(401, "unauthorized", "invalid or revoked API key", challenge);
    }
    return caller;
  }

  /** One item; a failure inside is a 500 naming the request's ref (its log line and audit entry). */
  async function applyOne(kind: IngestKind, raw: unknown, actor: string, auditActor: string, ref: string): Promise<ItemResult> {
    try {
      return await services.ingest.apply(kind, raw, actor, false, auditActor);
    } catch (e) {
      log.error("ingest item failed", { ref, kind, err: e });
      return { status: 500, outcome: "rejected", code: "internal", message: `internal error; reference ${ref}` };
    }
  }

  return (req, res) =>
    void handle(req, res).catch((e: unknown) => {
      // Nothing may escape as an unhandled rejection (it would stop the process).
      log.error("request failed", { path: req.url, err: e });
      if (!res.headersSent) send(res, 500, { error: "internal", code: "internal", message: "internal error" });
      else res.destroy();
    });
}

/**
 * The audit actor of an API key: `api:<label>#<key id>`. Labels need not be unique, so the key
 * id says which key it was; `audit actor=api:<label>` still finds every key of that label.
 */
function apiActor(caller: Pick<ApiCaller, "id" | "label">): string {
  return `api:${caller.label}#${caller.id}`;
}

/** The first item ids of a batch's results, for its audit entry. */
/**
 * The records a request was about, as stored, for `audit subject=`: each item's id (an order
 * number, a C-… or R-… id, a SKU), and the order a refund request or complaint names.
 */
function subjectsOf(items: readonly unknown[], results: readonly ItemResult[]): string[] {
  const out = new Set<string>();
  results.forEach((r, i) => itemSubjects(items[i], r).forEach((s) => out.add(s)));
  return [...out].slice(0, MAX_AUDIT_SUBJECTS);
}

function idList(results: ItemResult[]): string {
  const ids = results.flatMap((r) => (r.id ? [r.id] : []));
  if (!ids.length) return "no ids";
  return `ids ${ids.slice(0, 20).join(", ")}${ids.length > 20 ? `, … (${ids.length})` : ""}`;
}

/**
 * The charset a Content-Type's parameters name when it is not UTF-8 (`charset=utf-16`; the
 * name in any case, quoted or not; `utf8` is UTF-8 too); undefined for UTF-8 or none given.
 */
function otherCharset(params: string[]): string | undefined {
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").trim();
    if (!/^utf-?8$/i.test(value)) return value ? clip(value, 40) : "(empty)";
  }
  return undefined;
}

/** True when the database answers a ping within 2 s. */
async function ping(services: Services): Promise<boolean> {
  const db = services.store.conn.db;
  if (!db) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      db.admin().ping().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The content codings a body may be sent in (besides none): Node's zlib reads them. */
const CODINGS = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate" } as const;
type Coding = (typeof CODINGS)[keyof typeof CODINGS];
const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);

/**
 * The body's Content-Encoding: undefined for none (or `identity`), `gzip` or `deflate`; any other
 * (`br`, `zstd`, two codings) is a 415 naming the ones taken, decided on the headers, before the body.
 */
function contentCoding(header: string | undefined): Coding | undefined {
  const codings = (header ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== "identity");
  if (!codings.length) return undefined;
  const one = codings.length === 1 && Object.hasOwn(CODINGS, codings[0]!) ? CODINGS[codings[0] as keyof typeof CODINGS] : undefined;
  if (one) return one;
  throw new HttpError(415, "unsupported_media_type", `Content-Encoding ${clip(codings.join(", "), 40)} is not supported: send the body uncompressed, or compressed once with gzip or deflate`, { "accept-encoding": "gzip, deflate" });
}

/**
 * Reads a JSON body of at most `limit` bytes (413 beyond, 400 when not JSON); `proceed` tells a
 * client waiting on Expect: 100-continue to send it, once its declared length is within the limit.
 * A compressed body (`coding`) is held to the limit both as sent and decompressed (a small gzip
 * body may inflate to gigabytes).
 */
async function readJson(req: IncomingMessage, limit: number, proceed: () => void, coding?: Coding): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  const tooBig = () => new HttpError(413, "payload_too_large", `body over the limit of ${limit} bytes`);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooBig();
  }
  if (/100-continue/i.test(req.headers.expect ?? "")) proceed();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooBig();
    }
    chunks.push(chunk);
  }
  let raw: Buffer = Buffer.concat(chunks);
  if (coding) {
    try {
      raw = await (coding === "gzip" ? gunzipAsync : inflateAsync)(raw, { maxOutputLength: limit });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new HttpError(413, "payload_too_large", `body over the limit of ${limit} bytes once decompressed (Content-Encoding: ${coding})`);
      throw new HttpError(400, "invalid", `body is not valid ${coding} data, as its Content-Encoding says: send it compressed with ${coding}, or uncompressed without Content-Encoding`, {}, { errors: [{ field: "(body)", expected: `${coding}-compressed JSON` }] });
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new HttpError(400, "invalid", "body is not valid UTF-8: send JSON encoded as UTF-8", {}, { errors: [{ field: "(body)", expected: "UTF-8 text" }] });
  }
  if (!text.trim()) throw new HttpError(400, "invalid", "empty body: expected JSON", {}, { errors: [{ field: "(body)", expected: "JSON" }] });
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, "invalid", `body is not valid JSON: ${(e as Error).message}`, {}, { errors: [{ field: "(body)", expected: "valid JSON" }] });
  }
  // JSON.parse keeps the last of two same keys: `"qty":1,"qty":3` would order 3 unsaid. Refused whole, nothing applied.
  const twice = duplicateKeys(text);
  if (twice.length) {
    throw new HttpError(400, "invalid", `field ${twice[0]} is given more than once: send each field once`, {}, { errors: twice.map((field) => ({ field, expected: "the field once" })) });
  }
  return body;
}

/**
 * Answers a request Node's parser or its timeouts refused (as Node's own answer would, when
 * nothing of another answer was sent on the socket yet), in the API's JSON shape, and ends the
 * connection: 408 `request_timeout`, 431 `headers_too_large`, else 400 `bad_request`.
 */
function clientError(server: Server, err: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (err.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
    const s = (ms: number) => `${Math.round(ms / 1000)} s`;
    const [status, code, message] =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "request_timeout", `the request did not arrive in time: its headers within ${s(server.headersTimeout)}, the whole request within ${s(server.requestTimeout)}`]
        : err.code === "HPE_HEADER_OVERFLOW"
          ? [431, "headers_too_large", "request headers too large: send fewer or shorter headers"]
          : [400, "bad_request", "malformed HTTP request: send a valid HTTP/1.1 request"];
    const body = JSON.stringify({ error: code, code, message });
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`, "content-type: application/json; charset=utf-8", `content-length: ${Buffer.byteLength(body)}`, "cache-control: no-store", "connection: close"];
    socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
  }
  logger.child({ component: "http" }).debug("request refused before routing", { code: err.code, remote: (socket as Duplex & { remoteAddress?: string }).remoteAddress });
  socket.destroy(err);
}

/** A running HTTP server. */
export interface RunningHttpServer {
  server: Server;
  /** The port it listens on (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Starts the HTTP server on `port` (0: a free one) and `host`. */
export async function startHttpServer(deps: HttpDeps, port: number, host: string): Promise<RunningHttpServer> {
  const handler = createHttpHandler(deps);
  // Timeouts are checked every second (Node's default, 30 s, let a stalled request live up to
  // 30 s past its limit).
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => handler(req, res));
  // A request Node refuses before any route sees it (headers or body too slow, unparseable,
  // headers too large) is answered as every error is, JSON with a `code`, then the connection ends.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => clientError(server, err, socket, deps.logger));
  // A client that asks before sending its body (Expect: 100-continue) goes through the same
  // checks (route, key, scope, rate, audit); "continue" is said only when the body is about to be
  // read, so one over the limit is refused before it is uploaded.
  server.on("checkContinue", (req, res) => handler(req, res));
  server.keepAliveTimeout = 65_000;
  // A slow or stalled client cannot hold a connection for long: the whole request (headers and
  // a body of at most HTTP_BODY_LIMIT) within 30 s, longer for a limit raised past 7.5 MB (a
  // second per 256 KiB, so a large body on a modest link still arrives), its headers within
  // 10 s. Slack's requests on a shared port are small and come at once. Node's defaults are
  // 300 s and 60 s.
  server.requestTimeout = Math.max(30_000, Math.ceil(deps.config.http.bodyLimit / 262_144) * 1000);
  server.headersTimeout = 10_000;
  // Beyond this many open connections, new ones are closed at once rather than exhausting the
  // process's file descriptors.
  server.maxConnections = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
