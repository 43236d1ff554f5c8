import { z } from "zod";
import { ORDER_STATUSES, SEVERITIES } from "../store/models.js";
import { COMPLAINT_CATEGORIES, COMPLAINT_CATEGORY_WORDS, COMPLAINT_SOURCES } from "./complaint.service.js";
import { isCurrency } from "../core/format.js";
import { RESERVED_KEY_PREFIX } from "../core/ids.js";
import { oneOf, plainTyped, zhChoiceNames } from "../core/args.js";
import { CONTROL_CHARS, normalizeTracking, trimInvisible, withoutInvisible } from "../core/text.js";

// Item schemas of the ingestion API and the bulk import (one source of truth for both).
// Objects are strict: an unknown field is an error naming it, never silently stored.

const SKU = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const ORDER_NO = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The largest amount taken, in minor units: sums of such stay exact in a double. */
const MAX_MINOR = 1e12;
const WHOLE_MINOR = "a whole number of minor units (e.g. 1999 for 19.99)";
/** What an amount past {@link MAX_MINOR} is told: too large, and the limit (not "a whole number", which it is). */
export const AMOUNT_TOO_LARGE = `an amount of at most ${MAX_MINOR} minor units (10^12): the amount given is too large`;
/**
 * Minor units (cents, fen): a whole number ≥ 0. Each check says its own problem: a whole number
 * too large (even past what a double holds exactly, which `int` refuses) is told it is too large.
 */
const NOT_NEGATIVE = "an amount of 0 or more minor units (e.g. 1999 for 19.99)";
const money = z
  // Missing: required, as other fields say it; ±Infinity (JSON's 1e400): too large, or below 0.
  .number({ error: (iss) => (iss.input === undefined ? `a value (required): ${WHOLE_MINOR}` : iss.input === Infinity ? AMOUNT_TOO_LARGE : iss.input === -Infinity ? NOT_NEGATIVE : WHOLE_MINOR) })
  // A whole number past what a double holds exactly: too large, or (-1e20) below 0, as `min` says it.
  .int({ error: (iss) => (typeof iss.input === "number" && Number.isInteger(iss.input) ? (iss.input > 0 ? AMOUNT_TOO_LARGE : NOT_NEGATIVE) : WHOLE_MINOR) })
  .min(0, { error: NOT_NEGATIVE })
  .max(MAX_MINOR, { error: AMOUNT_TOO_LARGE });
/** The earliest time taken: a year 0001 or 1900 is a typo or an empty value, and would make a sales day of its own. */
const EARLIEST = Date.UTC(2000, 0, 1);
const WHEN = "an ISO 8601 date-time such as 2026-11-25T08:30:00Z or 2026-11-25T16:30:00+08:00";
/**
 * What a time that is not one was expected to be, by what was sent: a time without its zone
 * (it would be read in the bot's zone, hours off) and a Unix time are told so, not just shown an example.
 */
function whenExpected(input: unknown): string {
  if (typeof input === "number") return `${WHEN} (text; a number such as a Unix time is not taken)`;
  if (typeof input === "string" && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(input.trim())) {
    return `${WHEN}, with its time zone (Z or an offset): "${input}" names none, so it could be any zone's`;
  }
  return WHEN;
}
/**
 * A date-time with its zone in the one form zod reads (`2026-11-25T08:30:00+08:00`), from the other
 * ways RFC 3339 and ISO 8601 write it: a space for the `T` (Python's `str()`, SQL's and
 * PostgreSQL's `2026-11-25 08:30:00+08`), lowercase `t` and `z`, an offset without its colon
 * (`+0800`, as PHP's and Java's formats write it) or without its minutes (`+08`). The same instant.
 */
const isoForm = (v: unknown): unknown => {
  if (typeof v !== "string") return v;
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:([Zz])|([+-]\d{2})(?::?(\d{2}))?)$/.exec(v);
  if (!m) return v;
  return `${m[1]}T${m[2]}${m[3] ? "Z" : `${m[4]}:${m[5] ?? "00"}`}`;
};
const when = z
  .preprocess(isoForm, z.iso.datetime({ offset: true, error: (iss) => whenExpected(iss.input) }))
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() >= EARLIEST, { error: "a time from 2000-01-01 on" });
const sku = z.string().regex(SKU, { error: "a SKU: letters A-Z (either case), digits, - _ . : (1-64 characters, starting with a letter or digit)" }).transform((s) => s.toUpperCase());
const CURRENCY = "an ISO 4217 currency code in capitals such as USD, CNY or EUR";
// A code in lower case (as some payment platforms write it, "cny") is told the spelling to send, as SHOP_CURRENCY is.
const currency = z.string().refine(isCurrency, {
  error: (iss) => {
    const v = typeof iss.input === "string" ? iss.input.trim().toUpperCase() : "";
    return v && isCurrency(v) ? `${CURRENCY}; got ${JSON.stringify(iss.input)}: send "${v}"` : CURRENCY;
  },
});
// Trimmed of spaces and of invisible format characters (U+200B, U+2060, U+FEFF…) at its ends, as
// `trim` alone is not: a text of those only is empty, refused, never stored as a blank card.
// An id the shop's systems gave (a customer id) is kept as sent otherwise.
const verbatim = (max: number) => z.string().overwrite(trimInvisible).min(1).max(max);
// Text (a note, a reason, a category) in its composed form (NFC: "e" + U+0301 is "é"), which looks
// the same and reads the same to a search or a comparison whichever form the sender's system used.
const short = (max: number) => z.string().overwrite((s) => trimInvisible(s.normalize("NFC"))).min(1).max(max);
// A code as the coupon commands read it (NFKC, no invisible characters anywhere: full-width
// "ＳＰＲＩＮＧ１５" and "SPRING\u200b15" are SPRING15), so `coupon show` counts every order
// the digest counts; its case is kept (codes match in any case).
const code = (max: number) => z.string().overwrite((s) => trimInvisible(withoutInvisible(s.normalize("NFKC")))).min(1).max(max);

/** A tracking number as the API takes it (1–100 characters, composed, ends trimmed) in its one spelling; chat's `tracking=` takes the same. */
export const trackingNoInput = short(100).transform(normalizeTracking);

/** One order (create or update by orderNo). */
export const orderInput = z.strictObject({
  orderNo: z.string().regex(ORDER_NO, { error: "an order number: letters, digits, - _ (1-64 characters)" }),
  status: z.enum(ORDER_STATUSES, { error: `one of ${ORDER_STATUSES.join(", ")}` }).optional(),
  items: z
    .array(z.strictObject({ sku, qty: z.number().int().min(1).max(100_000), unitPrice: money }))
    .min(1)
    .max(500)
    .optional(),
  subtotal: money.optional(),
  discount: money.optional(),
  shipping: money.optional(),
  total: money.optional(),
  currency: currency.optional(),
  channel: short(40).optional(),
  couponCode: code(64).optional(),
  customerId: verbatim(100).optional(),
  createdAt: when.optional(),
  paidAt: when.optional(),
  shipment: z.strictObject({ carrier: short(60).optional(), trackingNo: trackingNoInput.optional(), shippedAt: when.optional() }).optional(),
  deliveredAt: when.optional(),
  cancelledAt: when.optional(),
  /** When the shop refunded the order in full (its refund's day in the digest). */
  refundedAt: when.optional(),
  note: short(300).optional(),
}).superRefine((m, ctx) => {
  // An order number alone says nothing to create or change: refused, not parked (for an order not
  // known yet) nor answered "unchanged" (for a known one) as if something had been taken.
  if (Object.entries(m).every(([k, v]) => k === "orderNo" || v === undefined)) {
    ctx.addIssue({ code: "custom", path: [], message: "at least one field to create or update the order (status, items, …)" });
    return;
  }
  // Amounts that only make sense together (on a create, which carries items): a total that
  // computes below zero would count as negative GMV; sums past 10^12 lose cents in a double.
  if (!m.items) return;
  let sum = 0;
  m.items.forEach((i, k) => {
    const line = i.qty * i.unitPrice;
    sum += line;
    // A unit price too large is told so on its own (its line and the items' sum follow from it).
    if (line > MAX_MINOR && i.unitPrice <= MAX_MINOR) ctx.addIssue({ code: "custom", path: ["items", k], message: `a line total (qty × unitPrice) of at most ${MAX_MINOR} minor units` });
  });
  if (sum > MAX_MINOR && m.items.every((i) => i.unitPrice <= MAX_MINOR)) ctx.addIssue({ code: "custom", path: ["items"], message: `items totalling at most ${MAX_MINOR} minor units` });
  const most = (m.subtotal ?? sum) + (m.shipping ?? 0);
  // The order as a whole too (its subtotal, given or the lines' sum, plus shipping): each part
  // within the limit does not make the order so.
  if (most > MAX_MINOR && (m.subtotal ?? sum) <= MAX_MINOR) {
    ctx.addIssue({ code: "custom", path: ["shipping"], message: `${m.subtotal !== undefined ? "subtotal" : "the items' total"} + shipping of at most ${MAX_MINOR} minor units (an order above that is refused); got ${most}` });
  }
  if (m.discount !== undefined && m.discount > most) ctx.addIssue({ code: "custom", path: ["discount"], message: `at most the subtotal plus shipping (${most} minor units)` });
});
export type OrderInput = z.output<typeof orderInput>;

/** One product (upsert by sku). `onHand` is the starting stock of a new product only. */
export const productInput = z.strictObject({
  sku,
  name: short(200),
  category: short(100),
  price: money,
  cost: money.optional(),
  currency: currency.optional(),
  reorderPoint: z.number().int().min(0).max(1e9).optional(),
  leadTimeDays: z.number().int().min(0).max(365).optional(),
  supplier: z.string().overwrite((s) => trimInvisible(s.normalize("NFC"))).max(200).optional(),
  active: z.boolean().optional(),
  onHand: z.number().int().min(0).max(1e9).optional(),
});
export type ProductInput = z.output<typeof productInput>;

const idemKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: "an idempotency key: letters, digits, _ . : - (1-100 characters)" })
  .refine((s) => !RESERVED_KEY_PREFIX.test(s), { error: "a key not starting with o:, set: or adj: (kept for the bot's own stock changes)" });

/** The most one change moves either way, as chat's `stock adjust` (src/core/args.ts `signedDelta`). */
const MAX_DELTA = 9_999_999;
const DELTA_TOO_LARGE = `a change of at most ${MAX_DELTA.toLocaleString("en-US")} units either way (a count that found a different level is sent as a level: {sku, set})`;

const inventoryDelta = z.strictObject({
  sku,
  delta: z
    .number({ error: "a non-zero whole number such as 5 or -2" })
    .int({ error: "a non-zero whole number such as 5 or -2" })
    .min(-MAX_DELTA, { error: DELTA_TOO_LARGE })
    .max(MAX_DELTA, { error: DELTA_TOO_LARGE })
    .refine((n) => n !== 0, { error: "a non-zero whole number" }),
  key: idemKey,
  reason: short(200).optional(),
});
const inventoryLevel = z.strictObject({
  sku,
  set: z.number({ error: "a stock level: a whole number from 0" }).int({ error: "a stock level: a whole number from 0" }).min(0, { error: "a stock level: a whole number from 0" }).max(1e9),
  key: idemKey.optional(),
  reason: short(200).optional(),
});

/** One stock change: a delta (with its idempotency key) or an absolute level. */
export const inventoryInput = z.union([inventoryDelta, inventoryLevel], {
  error: "{sku, delta, key} (a change, with an idempotency key) or {sku, set} (a stock level)",
});
export type InventoryInput = z.output<typeof inventoryInput>;

/** One complaint. `externalId` (e.g. the helpdesk ticket) makes a retry create it once. */
export const complaintInput = z.strictObject({
  externalId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: "an id: letters, digits, _ . : - (1-100 characters)" }).optional(),
  customerId: verbatim(100),
  orderNo: z.string().regex(ORDER_NO, { error: "an order number" }).optional(),
  // The values chat takes, as chat takes them (any case or width, or the Chinese name a card
  // shows: 紧急, 商品损坏; a category also by the short words `complaint new` reads: 物流, shipping):
  // a card, a filter and the digest name each one (an unknown one would name nothing).
  source: oneOf(COMPLAINT_SOURCES, `one of ${COMPLAINT_SOURCES.join(", ")}`, zhChoiceNames(COMPLAINT_SOURCES, "complaint.source")).optional(),
  category: oneOf(COMPLAINT_CATEGORIES, `one of ${COMPLAINT_CATEGORIES.join(", ")}`, { ...zhChoiceNames(COMPLAINT_CATEGORIES, "complaint.category"), ...COMPLAINT_CATEGORY_WORDS }).optional(),
  severity: oneOf(SEVERITIES, `one of ${SEVERITIES.join(", ")}`, zhChoiceNames(SEVERITIES, "complaint.severity")).optional(),
  text: short(4000),
  createdAt: when.optional(),
});
export type ComplaintInput = z.output<typeof complaintInput>;

const AMOUNT = 'a positive amount in major units such as "25.00" or "1,200.50", or "full"';
const ZERO = 'an amount above 0, such as "25", or "full"';

/**
 * An amount as chat reads it (the refund service's `plainTyped`): full-width digits and commas
 * ("１，２００．５０") made plain (width only: `1²` and `⑤` stay as typed and are refused), invisible characters dropped, trimmed; "full" in any
 * case or width, or as Chinese teams say it (全额, 全部), is "full".
 */
const plainAmount = (s: string): string => {
  const p = plainTyped(s);
  return /^(full|全额|全部)$/i.test(p) ? "full" : p;
};

/**
 * One refund request from another system (a helpdesk, the storefront). `externalId` makes a
 * retry create it once; the amount is in major units of the order's currency ("25.00") or "full".
 */
export const refundRequestInput = z.strictObject({
  externalId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: "an id: letters, digits, _ . : - (1-100 characters)" }),
  orderNo: z.string().regex(ORDER_NO, { error: "an order number" }),
  // As chat takes it (thousands commas, up to 12 digits, full-width, 全额); zero, the size and the decimals are told by the refund service, as in chat.
  // Zero is told before any lookup (a 400 whatever the order), as a wrong form is.
  amount: z.union(
    [
      z
        .string()
        .overwrite(plainAmount)
        .regex(/^(full|(\d{1,12}|[1-9]\d{0,2}(,\d{3}){1,3})(\.\d+)?)$/i, { error: AMOUNT })
        .refine((a) => !/^[0,]+(\.0*)?$/.test(a), { error: ZERO }),
      z.number({ error: AMOUNT }).finite({ error: AMOUNT }).refine((n) => n > 0, { error: ZERO }),
    ],
    { error: AMOUNT },
  ),
  reason: short(300),
});
export type RefundRequestInput = z.output<typeof refundRequestInput>;

/** The kinds of item the API and the import take. */
export const INGEST_KINDS = ["orders", "products", "inventory", "complaints", "refund-requests"] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

const SCHEMAS = {
  orders: orderInput,
  products: productInput,
  inventory: inventoryInput,
  complaints: complaintInput,
  "refund-requests": refundRequestInput,
} as const;

/** A validation problem: the field (dotted path) and what was expected. */
export interface FieldError {
  field: string;
  expected: string;
}

/** Parsed item of a kind. */
export type IngestInput<K extends IngestKind> = z.output<(typeof SCHEMAS)[K]>;

/**
 * Validates one raw item: first refuses operator-shaped keys (`$…`, dotted), then the
 * kind's zod schema. Never lets a raw value reach a query.
 */
export function parseItem<K extends IngestKind>(kind: K, raw: unknown): { ok: true; value: IngestInput<K> } | { ok: false; errors: FieldError[] } {
  const bad = rawProblems(raw);
  if (bad.length) return { ok: false, errors: bad };
  // An inventory item that says which it is (delta or set) is checked as that, so its errors
  // name the field ("set: expected a stock level") instead of "{sku, delta, key} … or {sku, set} …".
  const schema =
    kind === "inventory" && raw && typeof raw === "object" && ("delta" in raw) !== ("set" in raw) ? ("delta" in raw ? inventoryDelta : inventoryLevel) : SCHEMAS[kind];
  const r = schema.safeParse(raw, { error: apiIssue });
  if (r.success) return { ok: true, value: r.data as IngestInput<K> };
  // One problem said once (a number past 2^53 fails `int` and `max`, both "too large").
  const errors = r.error.issues
    .flatMap(toFieldErrors)
    .filter((e, i, all) => all.findIndex((x) => x.field === e.field && x.expected === e.expected) === i)
    .map((e) => numberAsText(e, raw))
    .map((e) => nullGiven(e, raw, schema));
  return { ok: false, errors };
}

/** The raw value at a field's dotted path (`items.0.qty`). */
function valueAt(raw: unknown, field: string): unknown {
  let v: unknown = raw;
  for (const k of field.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** True when the field at `field` may be left out of an item of `schema` (given its parent: `items.0.qty` is not, though `items` is). */
function optionalAt(schema: z.ZodType, field: string): boolean {
  let s: z.ZodType | undefined = schema;
  for (const k of field.split(".")) {
    if (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[k];
    else return false;
  }
  return s instanceof z.ZodOptional;
}

/**
 * A field sent as null (as many serializers write a value they do not have: "note": null): said,
 * and how to send "no value" (leave the field out), not just "expected a string" beside a null.
 */
function nullGiven(e: FieldError, raw: unknown, schema: z.ZodType): FieldError {
  if (e.field === "(item)" || valueAt(raw, e.field) !== null) return e;
  return { ...e, expected: `${e.expected}; got null${optionalAt(schema, e.field) ? ": to give no value, leave the field out" : ": the field is required"}` };
}

/**
 * A number sent as text (`"qty": "2"`, as many storefronts' webhooks write amounts): the error
 * says so and how to send it, since "expected a number" beside a 2 reads as nonsense. Whole
 * numbers only: a CSV cell of digits is read as a number already, and "19.99" is told by the
 * amount's own example (minor units).
 */
function numberAsText(e: FieldError, raw: unknown): FieldError {
  const v = valueAt(raw, e.field);
  // An amount written as a storefront shows it ("12.50"): said so, with the minor units it makes in a currency of cents.
  if (typeof v === "string" && /^\s*\d{1,10}\.\d{1,2}\s*$/.test(v) && e.expected.includes("minor units")) {
    return { ...e, expected: `${e.expected}; got the text "${v}", an amount in major units: send it in minor units, as a number (${Math.round(Number(v) * 100)} for ${v.trim()} in a currency with 2 decimals)` };
  }
  if (typeof v !== "string" || !/^\s*[+-]?\d{1,16}\s*$/.test(v) || !/number|amount|level|change/.test(e.expected)) return e;
  return { ...e, expected: `${e.expected}; got the text "${v}": send it as a JSON number, without quotes` };
}

/**
 * What was expected, for the checks the schemas leave to zod, in plain words ("a whole number",
 * "at least 1") rather than zod's "Too small: expected number to be >=1" or "received NaN".
 * Undefined: zod's own message. One convention for every {@link FieldError} (these, the schemas'
 * own, the server's): `expected` is what was expected, without the word "expected", which the
 * item's message puts before it ("qty: expected a number").
 */
function apiIssue(iss: z.core.$ZodRawIssue): string | undefined {
  const kind = (origin: unknown) => (origin === "string" ? "characters" : origin === "array" ? "items" : "");
  switch (iss.code) {
    case "invalid_type":
      if (iss.input === undefined) return "a value (required)";
      return iss.expected === "int" ? "a whole number" : iss.expected === "object" ? "an object" : iss.expected === "array" ? "an array" : `a ${String(iss.expected)}`;
    case "too_small":
      if (iss.origin === "string" && Number(iss.minimum) <= 1) return "a non-empty text (spaces or invisible characters alone do not count)";
      return `at least ${String(iss.minimum)}${kind(iss.origin) ? ` ${kind(iss.origin)}` : ""}`;
    case "too_big":
      return `at most ${String(iss.maximum)}${kind(iss.origin) ? ` ${kind(iss.origin)}` : ""}`;
    case "invalid_value":
      return Array.isArray(iss.values) ? `one of ${iss.values.map(String).join(", ")}` : undefined;
    default:
      return undefined;
  }
}

function toFieldErrors(i: z.core.$ZodIssue): FieldError[] {
  const at = i.path.map(String).join(".");
  // An unknown field: name it, rather than the object holding it.
  if (i.code === "unrecognized_keys") return i.keys.map((k) => ({ field: at ? `${at}.${k}` : k, expected: "a known field name (unknown fields are refused)" }));
  // Zod's own wording, where none of ours applies, may start with the word too.
  return [{ field: at || "(item)", expected: i.message.replace(/^expected /i, "") }];
}

/**
 * What no item may hold, anywhere in its raw value: keys that look like query operators (`$gt`)
 * or dotted paths (`a.b`), nesting too deep to read, text with half a character, and text with
 * control characters (escape codes, NUL, bidi overrides: what chat refuses, {@link CONTROL_CHARS};
 * tab and line breaks, CRLF included, are text).
 */
function rawProblems(value: unknown, at = "", depth = 0): FieldError[] {
  // No item nests this deep: refused unread, whatever its keys.
  if (depth > MAX_DEPTH) return [{ field: at || "(item)", expected: `at most ${MAX_DEPTH} levels of nesting` }];
  if (Array.isArray(value)) return value.flatMap((v, i) => rawProblems(v, at ? `${at}.${i}` : String(i), depth + 1));
  // JSON can escape half a character ("\ud800"): it would be stored as U+FFFD, changed.
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) return [{ field: at || "(item)", expected: "text of whole characters (a lone \\uD800-\\uDFFF escape is half of one)" }];
    if (CONTROL_CHARS.test(value) && CONTROL_CHARS.test(value.replace(/\r\n/g, "\n"))) return [{ field: at || "(item)", expected: CONTROL_EXPECTED }];
    return [];
  }
  if (value === null || typeof value !== "object") return [];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = at ? `${at}.${k}` : k;
    if (k.startsWith("$") || k.includes(".")) out.push({ field: p, expected: "a plain field name (no leading $ and no dots)" });
    else out.push(...rawProblems(v, p, depth + 1));
  }
  return out;
}

const MAX_DEPTH = 20;
const CONTROL_EXPECTED = "text without control characters (escape codes, NUL, bidi overrides such as \\u202E); tab and line breaks are fine";
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

