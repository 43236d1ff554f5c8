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

/** Replaces secret-looking values and serializes errors with their cause chain. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5) return "[…]";
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
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
    const entry = { t: new Date().toISOString(), level: lvl, msg, ...bindings, ...(meta ? (redact(meta) as object) : {}) };
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
