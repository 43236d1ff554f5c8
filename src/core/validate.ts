import type { z } from "zod";

/** One problem found by {@link validate}: where, and what was expected. */
export interface Issue {
  path: string;
  message: string;
}

/** Result of {@link validate}: the parsed value or the list of issues. */
export type Validated<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/**
 * The single validation helper for command args and config: runs a zod schema
 * and turns failures into `{path, message}` pairs a person can act on.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Validated<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
  };
}
