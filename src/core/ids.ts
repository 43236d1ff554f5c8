import { randomBytes } from "node:crypto";

/** Crockford-style alphabet without look-alikes (no I, L, O, U): 32 characters. */
export const ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** One {@link ID_ALPHABET} character per byte (the byte modulo 32). */
export function base32(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += ID_ALPHABET[b % 32];
  return s;
}

/** A random id of `len` characters from an unambiguous alphabet, e.g. reference ids. */
export function shortId(len = 8): string {
  return base32(randomBytes(len));
}
