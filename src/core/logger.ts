/** Minimal structured logger: JSON lines on stderr, so stdout stays for replies. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values must never reach a log line. */
const SECRET_KEY = /token|secret|password|authorization|api_?key|(^|_)(uri|url)$|Uri$/i;

/**
 * An API key's token inside any text (`shopops_k<key id>_<secret>`, see ApiKeyService): the
 * key id stays readable, the secret is cut. A token is shown once, in a reply, and a library
 * logging a request body at debug (Slack's Web API) must not keep a copy.
 */
const API_TOKEN_IN_TEXT = /(shopops_k[0-9A-Z]{10}_)[A-Za-z0-9_-]+/g;

/** `text` with every API key secret in it replaced by `[redacted]`. */
export function scrubText(text: string): string {
  return text.replace(API_TOKEN_IN_TEXT, "$1[redacted]");
}

/**
 * Replaces secret-looking values (by key name, and API key tokens inside any string),
 * serializes errors with their cause chain and dates as ISO times.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5) return "[…]";
  if (typeof value === "string") return scrubText(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: scrubText(value.message),
      stack: value.stack === undefined ? undefined : scrubText(value.stack),
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
  // A date as its ISO time (walked as an object, it would be written as {}).
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && typeof v === "string" ? "[redacted]" : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Creates a logger writing JSON lines to `sink` (stderr by default). */
export function createLogger(
  level: LogLevel = "info",
  bindings: Record<string, unknown> = {},
  sink: (line: string) => void = (line) => process.stderr.write(line + "\n"),
): Logger {
  const log = (lvl: LogLevel, msg: string, meta?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const entry = { t: new Date().toISOString(), level: lvl, msg: scrubText(msg), ...bindings, ...(meta ? (redact(meta) as object) : {}) };
    sink(JSON.stringify(entry));
  };
  return {
    debug: (m, x) => log("debug", m, x),
    info: (m, x) => log("info", m, x),
    warn: (m, x) => log("warn", m, x),
    error: (m, x) => log("error", m, x),
    child: (b) => createLogger(level, { ...bindings, ...b }, sink),
  };
}

/** A logger that drops everything (for tests that do not inspect logs). */
export const silentLogger: Logger = createLogger("error", {}, () => {});

/**
 * Lets a repeated warning through at most once per `windowMs` per key (a refused API key from one
 * address, an unsigned Slack request), counting the ones held back in between, so a client
 * retrying in a loop cannot flood the log. Keeps at most `maxKeys` keys.
 */
export class WarnThrottle {
  private readonly seen = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Undefined when this one is held back; else how many were held back since the last let through. */
  pass(key = ""): number | undefined {
    const t = this.now();
    const last = this.seen.get(key);
    if (last && t - last.at < this.windowMs) {
      last.since++;
      return undefined;
    }
    if (this.seen.size >= this.maxKeys) {
      for (const [k, v] of this.seen) if (t - v.at >= this.windowMs) this.seen.delete(k);
      if (this.seen.size >= this.maxKeys) this.seen.clear();
    }
    this.seen.set(key, { at: t, since: 0 });
    return last?.since ?? 0;
  }
}
