/** Timing and driver-monitoring helpers shared by the benchmarks. */
import type { Connection } from "mongoose";
import type mongoose from "mongoose";

type Document = mongoose.mongo.Document;
type CommandStartedEvent = mongoose.mongo.CommandStartedEvent;

/** Nearest-rank percentile `p` (0–100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Seconds since `t0` (`process.hrtime.bigint()`), one decimal. */
export function secondsSince(t0: bigint): string {
  return (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1);
}

/** Documents in a command reply's cursor batches. */
export function cursorDocs(reply: Document | undefined): number {
  const c = reply?.cursor as { firstBatch?: unknown[]; nextBatch?: unknown[] } | undefined;
  return c ? (c.firstBatch?.length ?? 0) + (c.nextBatch?.length ?? 0) : 0;
}

/** One measured operation. */
export interface Op {
  ms: number;
  /** The commands it sent, as `describe` named them. */
  commands: string[];
  docs: number;
  /** Sum of the driver-reported durations of its commands. */
  dbMs: number;
  /** Each command: its name, the collection it names, driver-reported duration and documents. */
  detail: { command: string; collection: string; ms: number; docs: number }[];
}

/**
 * Driver command monitoring on `conn` (opened with `monitorCommands: true`): the returned function
 * runs one operation and reports its time, commands and documents.
 */
export function monitor(
  conn: Connection,
  opts: { describe?: (e: CommandStartedEvent) => string; docs?: (reply: Document | undefined) => number } = {},
): (op: () => Promise<unknown>) => Promise<Op> {
  const describe = opts.describe ?? ((e) => e.commandName);
  const docs = opts.docs ?? cursorDocs;
  const client = conn.getClient();
  let cur: Op | null = null;
  const started = new Map<number, string>();
  client.on("commandStarted", (e) => {
    if (!cur) return;
    cur.commands.push(describe(e));
    const target = (e.command as Document)[e.commandName === "getMore" ? "collection" : e.commandName] as unknown;
    started.set(e.requestId, typeof target === "string" ? target : "");
  });
  client.on("commandSucceeded", (e) => {
    if (!cur) return;
    const n = docs(e.reply as Document | undefined);
    cur.docs += n;
    cur.dbMs += e.duration;
    cur.detail.push({ command: e.commandName, collection: started.get(e.requestId) ?? "", ms: e.duration, docs: n });
    started.delete(e.requestId);
  });
  return async (op) => {
    const o: Op = { ms: 0, commands: [], docs: 0, dbMs: 0, detail: [] };
    cur = o;
    const t0 = process.hrtime.bigint();
    try {
      await op();
    } finally {
      o.ms = Number(process.hrtime.bigint() - t0) / 1e6;
      cur = null;
    }
    return o;
  };
}
