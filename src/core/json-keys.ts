/**
 * Keys given twice in one JSON object. `JSON.parse` keeps the last of them silently, so a body or
 * an import line with `"qty":1,"qty":3` would be read as 3 unsaid: the ingestion API and the bulk
 * import refuse it instead, naming the field.
 */

/** Levels of nesting {@link duplicateKeys} looks into; deeper, an item is refused anyway (ingest-schemas `MAX_DEPTH`). */
const DUP_SCAN_DEPTH = 64;

/** An object or array open in {@link duplicateKeys}. */
interface OpenValue {
  parent: OpenValue | null;
  /** Its key or index in its parent; null at the top. */
  at: string | number | null;
  /** An object's keys so far (decoded); null for an array. */
  keys: Set<string> | null;
  /** An array: the index of the element being read. An object: its last key. */
  index: number;
  key: string;
  expectKey: boolean;
}

/**
 * The paths (`items.0.qty`; a batch's start with the item's index, `1.orderNo`) of keys that
 * occur twice in one object of `text`, valid JSON, at most `max` of them. One pass over the
 * text, no recursion (any depth is safe), keys compared as decoded (`"a"` and `"\u0061"` are
 * one key), objects deeper than {@link DUP_SCAN_DEPTH} levels counted but not looked into.
 */
export function duplicateKeys(text: string, max = 10): string[] {
  const out: string[] = [];
  let top = null as OpenValue | null;
  let depth = 0;
  const pathOf = (v: OpenValue, key: string) => {
    const parts = [key];
    for (let f: OpenValue | null = v; f && f.at !== null; f = f.parent) parts.push(String(f.at));
    return parts.reverse().join(".");
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: to its closing quote, past escapes.
      const start = ++i;
      let escaped = false;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) break;
        else i++;
      }
      if (top?.keys && top.expectKey && depth <= DUP_SCAN_DEPTH) {
        const raw = text.slice(start, i);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) {
          out.push(pathOf(top, key));
          if (out.length >= max) return out;
        } else top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      // { or [: deeper than the scan looks, only counted (memory stays bounded on any nesting).
      if (++depth <= DUP_SCAN_DEPTH) top = { parent: top, at: top ? (top.keys ? top.key : top.index) : null, keys: c === 0x7b ? new Set() : null, index: 0, key: "", expectKey: true };
    } else if (c === 0x7d || c === 0x5d) {
      if (depth-- <= DUP_SCAN_DEPTH) top = top?.parent ?? null;
    } else if (c === 0x2c && top && depth <= DUP_SCAN_DEPTH) {
      if (top.keys) top.expectKey = true;
      else top.index++;
    }
  }
  return out;
}
