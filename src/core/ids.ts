import { randomBytes } from "node:crypto";

// Crockford-style alphabet without look-alikes (no I, L, O, U).
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A random id of `len` characters from an unambiguous alphabet, e.g. reference ids. */
export function shortId(len = 8): string {
  const bytes = randomBytes(len);
  let s = "";
  for (const b of bytes) s += ALPHABET[b % 32];
  return s;
}
