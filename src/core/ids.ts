import { randomBytes } from "node:crypto";

/** Crockford-style alphabet without look-alikes (no I, L, O, U): 32 characters. */
/**
 * Prefixes of the stock ledger keys the bot makes itself (an order's reservation `o:<no>:r`, a
 * stock count `set:<key>`, a chat change without a key `adj:<ref>`). A caller's idempotency key
 * shares their namespace, so one starting with these is refused: it could match the bot's own
 * and be answered "already applied" (or swallow an order's reservation).
 */
export const RESERVED_KEY_PREFIX = /^(o|set|adj):/;

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
