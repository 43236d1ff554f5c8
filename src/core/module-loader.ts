import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Loads the default export of every file in `dir` whose name matches `pattern` (sorted), checks
 * each with `check`, and refuses two with the same key. Problems become `fail(file, problem)`,
 * so start-up stops with a message naming the file. Shared by commands/ and jobs/.
 */
export async function loadDefaults<T>(opts: {
  dir: string;
  pattern: RegExp;
  check: (value: unknown, file: string) => T;
  key: (item: T) => string;
  /** Word for the key in messages ("name", "id"). */
  keyName: string;
  fail: (file: string, problem: string) => Error;
}): Promise<T[]> {
  const files = (await readdir(opts.dir)).filter((f) => opts.pattern.test(f)).sort();
  const out: T[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const file = path.join(opts.dir, f);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (e) {
      throw opts.fail(file, `it does not import (${(e as Error).message})`);
    }
    const item = opts.check(mod.default, file);
    const key = opts.key(item);
    const other = seen.get(key);
    if (other) throw opts.fail(file, `the ${opts.keyName} "${key}" is already used by ${other}`);
    seen.set(key, file);
    out.push(item);
  }
  return out;
}
