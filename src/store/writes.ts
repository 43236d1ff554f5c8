import mongoose from "mongoose";

const { Double } = mongoose.mongo;
type Double = InstanceType<typeof Double>;

/**
 * Statements per write command at most. FerretDB v1 holds one pooled connection per
 * statement of an update command until the command ends, so a command with as many
 * statements as its pool never returns (measured: on SQLite 99 pass and 100 hang; on
 * PostgreSQL the pool is 50 unless `pool_max_conns` says more). MongoDB takes 100,000.
 * Bulk writes are cut into commands of this size, so they work on all of them.
 */
export const MAX_STATEMENTS = 90;

/** `xs` cut into consecutive pieces of at most `size`. */
export function chunked<T>(xs: readonly T[], size = MAX_STATEMENTS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * An `$inc` whose amounts are sent as doubles. The driver sends a whole JS number as a 32-bit
 * integer, and FerretDB v1 (the embedded database) wraps a 32-bit sum past 2^31 (a day's GMV of
 * 21.5M CNY in fen became negative), where MongoDB widens it. A double holds every integer up to
 * 2^53 exactly, and an integer field incremented by a double becomes a double. Only for updates
 * sent as they are (`Model.collection`): mongoose casts a Number path's value back to a number.
 */
export function incAsDoubles(inc: Record<string, number>): Record<string, Double> {
  return Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, new Double(v)]));
}

/** True for MongoDB's E11000 duplicate key error. */
export function isDuplicateKey(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: number }).code === 11000;
}

/**
 * For an unordered bulk write that failed only on duplicate keys, the indexes of the
 * statements that collided; null when any other error is among them (rethrow it then).
 */
export function duplicateIndexes(e: unknown): number[] | null {
  const errs = ([] as { index: number; code?: number }[]).concat((e as { writeErrors?: { index: number; code?: number }[] }).writeErrors ?? []);
  if (errs.length) return errs.every((w) => w.code === 11000) ? errs.map((w) => w.index) : null;
  return isDuplicateKey(e) ? [] : null;
}
