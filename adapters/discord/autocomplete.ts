import { clip } from "../../src/core/reply.js";
import { escapeRegex, widthInsensitive } from "../../src/core/text.js";
import type { Store } from "../../src/store/models.js";

/** One suggestion shown under an option while the user types. */
export interface Choice {
  name: string;
  value: string;
}

/** Where suggestions for an argument come from: a collection keyed by the natural key (`_id`). */
interface Source {
  collection: string;
  /** Extra text searched and shown beside the key (e.g. the product name). */
  label?: string;
  /** The prefix of the keys, which the commands let people leave out (`9100` for ORD-9100, `7k2m` for C-7K2M…). */
  prefix?: string;
  /** Only the records the command can act on (`refund approve`: requests not decided yet). */
  filter?: Record<string, unknown>;
  /**
   * The latest first (what a member is working on), not the shop's oldest: by when a record was
   * made; orders by their number, descending (numbers rise with time), which the `_id` index
   * serves: a sort on `createdAt`, which has no index, would read a big shop's every order.
   */
  sort?: Readonly<Record<string, 1 | -1>>;
}

/** The statuses of a refund request decided already (or past deciding): not offered to `refund approve` / `refund reject`. */
const DECIDED_REFUND_STATUSES: readonly string[] = ["approved", "rejected", "expired", "failed"];

// Arguments that name a record: the option gets Discord autocomplete. Keys are
// `<first word of the command>.<argument>` (most specific) or `<argument>`.
const SOURCES: Record<string, Source> = {
  sku: { collection: "products", label: "name" },
  "stock.query": { collection: "products", label: "name" },
  orderNo: { collection: "orders", prefix: "ORD-", sort: { _id: -1 } },
  order: { collection: "orders", prefix: "ORD-", sort: { _id: -1 } },
  "order.id": { collection: "orders", prefix: "ORD-", sort: { _id: -1 } },
  code: { collection: "coupons" },
  coupon: { collection: "coupons" },
  "coupon.id": { collection: "coupons" },
  "coupon.draft": { collection: "coupon_drafts" },
  complaint: { collection: "complaints", label: "text", prefix: "C-", sort: { createdAt: -1, _id: 1 } },
  "complaint.id": { collection: "complaints", label: "text", prefix: "C-", sort: { createdAt: -1, _id: 1 } },
  "refund.id": { collection: "refund_requests", label: "orderNo", prefix: "R-", sort: { requestedAt: -1, _id: 1 } },
  // Approve and Reject act on requests awaiting a decision: decided ones would crowd them out of the 25.
  "refund approve.id": { collection: "refund_requests", label: "orderNo", prefix: "R-", sort: { requestedAt: -1, _id: 1 }, filter: { status: { $nin: DECIDED_REFUND_STATUSES } } },
  "refund reject.id": { collection: "refund_requests", label: "orderNo", prefix: "R-", sort: { requestedAt: -1, _id: 1 }, filter: { status: { $nin: DECIDED_REFUND_STATUSES } } },
};

// Arguments that name a record yet to be made: suggesting existing ones would only mislead.
const NEW_RECORD = new Set(["coupon launch.code"]);

/** The suggestion source of an argument of a command, if it names a record. */
export function sourceFor(commandName: string, arg: string): Source | undefined {
  if (NEW_RECORD.has(`${commandName}.${arg}`)) return undefined;
  return SOURCES[`${commandName}.${arg}`] ?? SOURCES[`${commandName.split(" ")[0]}.${arg}`] ?? SOURCES[arg];
}


/**
 * Up to 25 keys starting with (or, for labelled sources, labels containing)
 * what the user typed so far. Reads only; an unknown collection gives nothing.
 */
export async function suggest(store: Store, commandName: string, arg: string, typed: string): Promise<Choice[]> {
  const src = sourceFor(commandName, arg);
  if (!src) return [];
  // As the commands read it: full-width characters made plain (ｃ－７ is c-7), the key's prefix optional.
  const q = typed.normalize("NFKC").trim().slice(0, 50);
  const keys = src.prefix && !q.toUpperCase().startsWith(src.prefix) ? [q, src.prefix + q] : [q];
  // A label (a product's name as the shop wrote it, `保温杯（大号）`) holding every word typed, in
  // either width, as `stock <words>` finds it.
  const words = q.split(/\s+/).filter(Boolean);
  const byLabel = src.label ? [{ $and: words.map((w) => ({ [src.label!]: { $regex: widthInsensitive(w), $options: "i" } })) }] : [];
  const filter = { ...src.filter, ...(q === "" ? {} : { $or: [...keys.map((k) => ({ _id: { $regex: "^" + escapeRegex(k), $options: "i" } })), ...byLabel] }) };
  const projection = src.label ? { _id: 1, [src.label]: 1 } : { _id: 1 };
  // The latest records first (an order number's digits typed match the whole shop's history), else by key.
  const docs = await store.conn.collection(src.collection).find(filter as object, { projection }).sort(src.sort ?? { _id: 1 }).limit(25).toArray();
  // A key over Discord's 100 would arrive cut, naming no record: it is not offered.
  return docs.flatMap((d) => {
    const key = String(d._id);
    if (key.length > 100) return [];
    // clip keeps emoji whole (a complaint's text often has some): half of one fails the whole list.
    const label = src.label && typeof d[src.label] === "string" ? `${key} · ${d[src.label] as string}` : key;
    return [{ name: clip(label, 100), value: key }];
  });
}
