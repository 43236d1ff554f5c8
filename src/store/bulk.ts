/**
 * Statements per write command at most. FerretDB v1 keeps every statement of an update
 * command open until the command ends, and a command of 100 or more update statements
 * never returns there (measured: 99 pass, 100 hang); MongoDB takes 100,000. Bulk writes
 * are cut into commands of this size, so they work on both.
 */
export const MAX_STATEMENTS = 90;

/** `xs` cut into consecutive pieces of at most `size`. */
export function chunked<T>(xs: readonly T[], size = MAX_STATEMENTS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
