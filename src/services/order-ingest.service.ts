import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { inKeyOrder } from "../core/grouped.js";
import { localDay } from "../core/format.js";
import type { OrderDoc, Store } from "../store/models.js";
import { orderInput, type OrderInput } from "./ingest-schemas.js";
import { ORDER_TRANSITIONS, PAID_STATUSES, type OrderStatus } from "./order-status.js";
import { missingEffects, wantedEffects, type OrderEffects } from "./order-effects.service.js";
import { TRACKING_CORRECTED } from "./order.service.js";
import { duplicateIndexes, isDuplicateKey } from "../store/writes.js";

/** Outcome of ingesting one order message. Expected outcomes are results, not exceptions. */
/** A parked update its order refused when it arrived (see OrderIngestService's `onRefused`). */
export interface ParkedRefusal {
  id: string;
  orderNo: string;
  /** Its author as records name it (`api:<label>`, `import:<file>`). */
  actor: string;
  /** Its sender as the audit trail names it (`api:<label>#<key id>`), when kept apart from `actor`. */
  auditActor?: string;
  parkedAt: Date;
  payload: Record<string, unknown>;
  result: OrderIngestResult;
}

export type OrderIngestResult =
  /**
   * `ignored`: fields of an existing order the message gives otherwise, which an update does not
   * change. `dropped`: step times the message gives that the order does not hold at all (a
   * `deliveredAt` beside status `pending`), each with why: said, never dropped unsaid.
   */
  | { kind: "created" | "updated" | "unchanged"; orderNo: string; status: OrderStatus; ignored?: string[]; dropped?: DroppedTime[] }
  /** Items for an order not known yet, without the customer a create needs. */
  | { kind: "missing_customer"; orderNo: string }
  | { kind: "parked"; orderNo: string }
  | { kind: "invalid_transition"; orderNo: string; from: OrderStatus; to: OrderStatus }
  /** One message that says the order shipped and was cancelled: no order can be both. */
  | { kind: "shipped_and_cancelled"; orderNo: string }
  | { kind: "unknown_sku"; orderNo: string; skus: string[] }
  | { kind: "conflict"; orderNo: string };

const RETRIES = 8;
/** Order numbers of a batch that take the single path side by side. */
const REST_CONCURRENCY = 8;

/** Which of an order's times the bot filled in (see the order schema's `filled`). */
type Filled = NonNullable<OrderDoc["filled"]>;

/**
 * Fields a message gives for an existing order that differ from what it holds and that an
 * update never changes (an order's contents are fixed when it is created): said in the
 * answer, so a sender does not take "unchanged" for a correction that landed.
 */
function fixedFieldsDiffering(o: OrderDoc, m: OrderInput): string[] {
  const out: string[] = [];
  const items = (x: { sku: string; qty: number; unitPrice: number }[]) => JSON.stringify(x.map((i) => [i.sku, i.qty, i.unitPrice]));
  if (m.items && items(m.items) !== items(o.items)) out.push("items");
  for (const k of ["subtotal", "discount", "shipping", "total", "currency", "customerId", "channel"] as const) {
    if (m[k] !== undefined && m[k] !== o[k]) out.push(k);
  }
  if (m.createdAt && m.createdAt.getTime() !== o.createdAt.getTime()) out.push("createdAt");
  // A step's time the order holds for real (given before, or set in chat) stands: one the bot
  // filled in is replaced by the first real one (see `corrections`), a real one is not.
  const f: Filled = o.filled ?? {};
  const times: [string, Date | undefined, Date | null | undefined, boolean | null | undefined][] = [
    ["paidAt", m.paidAt, o.paidAt, f.paidAt],
    ["shipment.shippedAt", m.shipment?.shippedAt, o.shipment?.shippedAt, f.shippedAt],
    ["deliveredAt", m.deliveredAt, o.deliveredAt, f.deliveredAt],
    ["cancelledAt", m.cancelledAt, o.cancelledAt, f.cancelledAt],
  ];
  for (const [k, given, held, filled] of times) if (given && held && !filled && given.getTime() !== held.getTime()) out.push(k);
  // A note is kept with the status change it comes with (the timeline's entry): with none (no
  // status change, and not recorded by an earlier delivery of the message), it is not kept.
  if (m.note && !o.history?.some((h) => h.note === m.note)) out.push("note");
  // A shipment's details for an order that ended without one are not taken (see `update`).
  if (endedUnshipped(o)) {
    if (m.shipment?.carrier && m.shipment.carrier !== o.shipment?.carrier) out.push("shipment.carrier");
    if (m.shipment?.trackingNo && m.shipment.trackingNo !== o.shipment?.trackingNo) out.push("shipment.trackingNo");
  }
  return out;
}

/** A time a message gave that the order does not hold, and why (see {@link timesNotTaken}). */
export interface DroppedTime {
  field: string;
  reason: string;
}

/**
 * The step times message `m` gives that order `o`, as it stands after the message, does not hold
 * (a time its status contradicts: `deliveredAt` beside status `pending`, `paidAt` on a pending
 * order, a ship time on a paid one, `cancelledAt` on a shipped order's refund, a `refundedAt` on an
 * order never paid or refunded already at another time), each with why. A time the order holds
 * otherwise is {@link fixedFieldsDiffering}'s.
 */
function timesNotTaken(o: OrderDoc, m: OrderInput): DroppedTime[] {
  const status = o.status as OrderStatus;
  const contradicts = `the order is ${status}: a step's time is kept with its status only; send the status it belongs to, or no status (the times then say it)`;
  const out: DroppedTime[] = [];
  const missing: [string, Date | undefined, Date | null | undefined][] = [
    ["paidAt", m.paidAt, o.paidAt],
    ["shipment.shippedAt", m.shipment?.shippedAt, o.shipment?.shippedAt],
    ["deliveredAt", m.deliveredAt, o.deliveredAt],
    ["cancelledAt", m.cancelledAt, o.cancelledAt],
  ];
  for (const [field, given, held] of missing) {
    if (!given || held) continue;
    // Refunded after shipping (a storefront's cancelledAt beside it): the refund stands, never a cancel.
    const shipped = field === "cancelledAt" && !!o.shipment?.shippedAt;
    out.push({ field, reason: shipped ? `the order shipped and is ${status}: a shipped order is refunded, not cancelled` : contradicts });
  }
  if (m.refundedAt) {
    const refunds = o.refunds ?? [];
    const at = m.refundedAt.getTime();
    // The refund's time as taken: the one given, or the payment or creation time the shop gave
    // when the one given is before them (see `shopRefund`), so a retry of the message says nothing.
    const floors = [o.paidAt && !o.filled?.paidAt ? o.paidAt : undefined, o.filled?.createdAt ? undefined : o.createdAt].flatMap((d) => (d && d.getTime() > at ? [d.getTime()] : []));
    const taken = refunds.some((r) => r.at && (r.at.getTime() === at || (r.requestId === SHOP_REFUND && floors.includes(r.at.getTime()))));
    if (!taken) {
      const last = refunds.filter((r) => r.at).at(-1);
      const reason =
        (o.refundedTotal ?? 0) >= o.total && last?.at
          ? `the order was refunded in full already, dated ${last.at.toISOString()}; a refund's time is not changed`
          : !o.paidAt
            ? `the order is ${status} and was never paid: there is nothing to refund`
            : contradicts;
      out.push({ field: "refundedAt", reason });
    }
  }
  return out;
}

/** The times (ms) of the steps after creation that a message gives: what an inferred createdAt is never after. */
function stepTimes(m: OrderInput): number[] {
  return [m.paidAt, m.shipment?.shippedAt, m.deliveredAt, m.cancelledAt, m.refundedAt].flatMap((d) => (d ? [d.getTime()] : []));
}

/** True for a message that says the order went out: a ship or delivery time, or status shipped or delivered. */
function saysShipped(m: OrderInput): boolean {
  return !!m.shipment?.shippedAt || !!m.deliveredAt || m.status === "shipped" || m.status === "delivered";
}

/** True for a message that says the order shipped (a ship or delivery time) and that it is cancelled. */
export function shippedAndCancelled(m: OrderInput): boolean {
  if (m.cancelledAt && !m.refundedAt && (m.status === "shipped" || m.status === "delivered")) return true;
  return !!(m.shipment?.shippedAt || m.deliveredAt) && impliedStatus(m) === "cancelled";
}

/** True for an order cancelled, or refunded, before it shipped: it will never ship. */
function endedUnshipped(o: OrderDoc): boolean {
  return (o.status === "cancelled" || o.status === "refunded") && !o.shipment?.shippedAt;
}

/** True when a message says the shop refunded the order in full (by its status or its refundedAt). */
function refundsInFull(m: OrderInput): boolean {
  return m.status === "refunded" || m.refundedAt !== undefined;
}

/**
 * The steps from `from` to `target` for a message: through the statuses its timestamps prove
 * on the way (a refund after delivery goes through shipped and delivered, so the shipment is
 * recorded and its stock stays shipped), else the shortest path.
 */
function routeTo(from: OrderStatus, target: OrderStatus, m: OrderInput): OrderStatus[] | null {
  const via: OrderStatus | undefined =
    target === "refunded" ? (m.deliveredAt || m.status === "delivered" ? "delivered" : m.shipment?.shippedAt || m.status === "shipped" ? "shipped" : undefined) : undefined;
  if (via && via !== from) {
    const first = pathTo(from, via);
    const rest = first && pathTo(via, target);
    if (first && rest) return [...first, ...rest];
  }
  return pathTo(from, target);
}

/**
 * When a step the message skips over happened, when it gives no time of its own: when the
 * message arrived, but never after a later step's time it gives (an imported delivered order
 * is not shipped after its delivery).
 */
function filledIn(step: OrderStatus, m: OrderInput, arrived: Date, earlier: (Date | null | undefined)[]): Date {
  const later: (Date | undefined)[] =
    step === "paid" ? [m.shipment?.shippedAt, m.deliveredAt, m.refundedAt, m.cancelledAt] : step === "shipped" ? [m.deliveredAt, m.refundedAt] : step === "delivered" ? [m.refundedAt] : [];
  const times = (ds: (Date | null | undefined)[]) => ds.flatMap((d) => (d ? [d.getTime()] : []));
  // Nor before the steps it follows (the order's creation, its payment): times that contradict
  // each other still leave the timeline in order.
  return new Date(Math.max(Math.min(arrived.getTime(), ...times(later)), ...times(earlier)));
}

/**
 * The corrections of times the bot filled in (`filled`) that message `m` gives for real: the
 * fields to set and unset, and the filter that makes them apply once. A payment time that moves
 * to another day moves the order's sales too (`paidMovedFrom`, applied by OrderEffects), which
 * is only decided on an order whose effects are all applied as read (`resettle` asks for that
 * first): the filter then holds those flags, so the move counts exactly what was counted.
 */
function corrections(cur: OrderDoc, m: OrderInput, set: Record<string, unknown>, tz: string): { set: Record<string, unknown>; unset: Record<string, "">; guard: Record<string, unknown>; resettle?: true } {
  const out = { set: {} as Record<string, unknown>, unset: {} as Record<string, "">, guard: {} as Record<string, unknown> };
  const f: Filled = cur.filled ?? {};
  if (f.createdAt) {
    // Inferred from the first message: the shop's own createdAt replaces it; an earlier time a
    // later message gives pulls it back (an order is not created after it was paid).
    const earliest = Math.min(...stepTimes(m));
    const to = m.createdAt ?? (earliest < cur.createdAt.getTime() ? new Date(earliest) : undefined);
    if (to && to.getTime() !== cur.createdAt.getTime()) Object.assign(out.set, { createdAt: to, day: localDay(to, tz) });
    if (to) out.guard.createdAt = cur.createdAt;
    if (m.createdAt) {
      out.unset["filled.createdAt"] = "";
      out.guard["filled.createdAt"] = true;
    }
  }
  const fixOne = (flag: "paidAt" | "shippedAt" | "deliveredAt" | "cancelledAt", path: string, given: Date | undefined) => {
    if (!f[flag] || !given || path in set) return false;
    out.set[path] = given;
    out.unset[`filled.${flag}`] = "";
    out.guard[`filled.${flag}`] = true;
    return true;
  };
  fixOne("shippedAt", "shipment.shippedAt", m.shipment?.shippedAt);
  fixOne("deliveredAt", "deliveredAt", m.deliveredAt);
  // A cancellation dated when its message arrived (it gave no time). Nothing else follows the
  // cancel time: a cancelled order's sales leave its paid day, whenever it was cancelled.
  fixOne("cancelledAt", "cancelledAt", m.cancelledAt);
  if (fixOne("paidAt", "paidAt", m.paidAt)) {
    const day = localDay(m.paidAt!, tz);
    if (day !== cur.paidDay && cur.paidDay) {
      out.set.paidDay = day;
      if (cur.effects) {
        if (missingEffects(cur).length) return { ...out, resettle: true };
        const wanted = wantedEffects(cur);
        for (const e of wanted) out.guard[`effects.${e}`] = true;
        // Counted on the old day and not taken back there (a cancellation): moved, once.
        if (wanted.includes("sold") && !wanted.includes("unsold") && !cur.paidMovedFrom) out.set.paidMovedFrom = cur.paidDay;
      }
    } else if (!cur.paidDay) out.set.paidDay = day;
  }
  // The shop's refund is never before the payment or creation time the shop gave (see
  // `shopRefund`): one kept at a time now known to be before them (the creation, a filled-in
  // payment) moves to the real time, and to its day, in the same update, guarded by the refunded
  // total read (a refund landing in between re-reads). The digest reads refunds from the orders.
  const floor = Math.max(...[out.set.paidAt, f.createdAt ? m.createdAt : undefined].flatMap((d) => (d instanceof Date ? [d.getTime()] : [])));
  const early = (r: RefundEntry) => r.requestId === SHOP_REFUND && !!r.at && r.at.getTime() < floor;
  if (Number.isFinite(floor) && (cur.refunds ?? []).some(early)) {
    const at = new Date(floor);
    out.set.refunds = (cur.refunds ?? []).map((r) => (early(r) ? { ...r, at, day: localDay(at, tz) } : r));
    out.guard.refundedTotal = cur.refundedTotal ?? null;
  }
  return out;
}

/** One executed refund as an order holds it. */
type RefundEntry = NonNullable<OrderDoc["refunds"]>[number];

/** How many carriers and tracking numbers the shop gave an order remembers. */
const SHOP_VALUES_KEPT = 20;

/**
 * The carrier and tracking number a message brings, as news only: a value the shop's messages
 * gave before (`shopCarriers`, `shopTrackingNos`) is a resend, and must not undo a correction
 * made in chat since, nor the shop's own later one; nor may a `late` message replace a value. A
 * new one fills in, or replaces what the order holds, with a `tracking` entry in its history
 * (old → new) and a guard on the replaced values, as `order tracking` does.
 */
function shipmentNews(cur: OrderDoc, m: OrderInput, at: Date, by: string, history: { status: string; at: Date; by: string; note: string }[], late: boolean): { set: Record<string, unknown>; push: Record<string, unknown>; guard: Record<string, unknown> } {
  const set: Record<string, unknown> = {};
  const push: Record<string, unknown> = {};
  const guard: Record<string, unknown> = {};
  const held = cur.shipment ?? {};
  let replaced = false;
  const news = (field: "carrier" | "trackingNo", said: "shopCarriers" | "shopTrackingNos", given: string | undefined) => {
    if (!given || held[said]?.includes(given) || (late && held[field])) return held[field] ?? undefined;
    push[`shipment.${said}`] = { $each: [given], $slice: -SHOP_VALUES_KEPT };
    if (given === held[field]) return given;
    set[`shipment.${field}`] = given;
    guard[`shipment.${field}`] = held[field] ?? null;
    if (held[field]) replaced = true;
    return given;
  };
  const carrier = news("carrier", "shopCarriers", m.shipment?.carrier);
  const trackingNo = news("trackingNo", "shopTrackingNos", m.shipment?.trackingNo);
  if (replaced) {
    const was = [held.carrier, held.trackingNo].filter(Boolean).join(" ");
    history.push({ status: TRACKING_CORRECTED, at, by, note: `${was} → ${[carrier, trackingNo].filter(Boolean).join(" ")}` });
  }
  return { set, push, guard };
}

/** Statuses reachable from `from` by allowed transitions (itself excluded), with the path to each. */
function pathTo(from: OrderStatus, to: OrderStatus): OrderStatus[] | null {
  const prev = new Map<OrderStatus, OrderStatus>();
  const queue: OrderStatus[] = [from];
  while (queue.length) {
    const s = queue.shift()!;
    for (const n of ORDER_TRANSITIONS[s]) {
      if (n === from || prev.has(n)) continue;
      prev.set(n, s);
      if (n === to) {
        const path: OrderStatus[] = [to];
        let c = s;
        while (c !== from) {
          path.unshift(c);
          c = prev.get(c)!;
        }
        return path;
      }
      queue.push(n);
    }
  }
  return null;
}

/**
 * The refund entry of a full refund made by the shop (not through the bot's requests), dated by
 * the message's refundedAt, else `fallback`: for an update, when it arrived, as every other
 * status an update brings (its paidAt or deliveredAt repeat old facts, they do not date the
 * refund); for an order created already refunded, the latest time its message gives (an
 * imported history must not land every old refund on the day of the import); never before
 * `notBefore` (its payment, or its creation).
 */
function shopRefund(amount: number, m: OrderInput, fallback: Date, tz: string, by: string, notBefore: Date): { requestId: string; amount: number; at: Date; day: string; by: string } {
  // Never before the order was paid (or created): a refundedAt that says so is a wrong clock, and
  // would put the refund on a day whose digest never had the sale.
  const at = new Date(Math.max((m.refundedAt ?? fallback).getTime(), notBefore.getTime()));
  return { requestId: SHOP_REFUND, amount, at, day: localDay(at, tz), by };
}

/** `requestId` of a refund the shop made itself (reported through ingestion). */
export const SHOP_REFUND = "shop";

/** The note of a history entry written from an ingested message that gave none (the card shows no note for it). */
export const INGESTED_NOTE = "ingested";

/**
 * True when the order went through `s` already, so a message saying `s` is late: its history
 * or its timestamps say so. A status it never had (shipped, for an order refunded before
 * shipment) is news the order cannot take, not a late message.
 */
function passed(o: OrderDoc, s: OrderStatus): boolean {
  if (o.history?.some((h) => h.status === s)) return true;
  switch (s) {
    case "pending":
      return true;
    case "paid":
      return !!o.paidAt;
    case "shipped":
      return !!o.shipment?.shippedAt;
    case "delivered":
      return !!o.deliveredAt;
    case "cancelled":
      return !!o.cancelledAt;
    case "refunded":
      return o.status === "refunded";
  }
}

/**
 * Status a message implies: the one it names, else the furthest its timestamps prove. An
 * order cancelled and then refunded (`refunded` with a `cancelledAt`, never shipped) is a
 * cancelled order with a refund, as when the cancel arrives first: it was never a sale.
 */
function impliedStatus(m: OrderInput, cur?: OrderDoc): OrderStatus | undefined {
  // Only for an order that never shipped, by the message or by what is stored (a shipped
  // order's refund stays a refund, whatever cancelledAt the storefront also sends).
  const shipped = saysShipped(m) || !!cur?.shipment?.shippedAt || (cur !== undefined && ["shipped", "delivered", "refunded"].includes(cur.status));
  if (m.status === "refunded" && m.cancelledAt && !shipped) return "cancelled";
  // A later step's time beside an earlier status (a storefront that sends its fulfilment status
  // with refundedAt or cancelledAt): the time says what happened last, not dropped unsaid.
  if (m.refundedAt && (m.status === "paid" || m.status === "shipped" || m.status === "delivered")) return m.cancelledAt && !shipped ? "cancelled" : "refunded";
  if (m.cancelledAt && (m.status === "pending" || m.status === "paid")) return "cancelled";
  // Likewise a delivery time beside a payment or shipment (refundedAt and cancelledAt aside, above).
  if (m.deliveredAt && (m.status === "paid" || m.status === "shipped")) return "delivered";
  if (m.status) return m.status;
  if (m.cancelledAt) return "cancelled";
  if (m.refundedAt) return "refunded";
  if (m.deliveredAt) return "delivered";
  if (m.shipment?.shippedAt) return "shipped";
  if (m.paidAt) return "paid";
  return undefined;
}

/**
 * Creates and updates orders from outside (storefront webhooks, imports), and keeps
 * everything derived from an order consistent exactly once, whatever the order of arrival:
 *
 * - Status changes follow the transition table; a message for a status the order went
 *   through already (a late delivery) changes no status; one for a status it never had and
 *   cannot reach (shipped, for an order refunded before shipment) is refused. A payment for
 *   a cancelled order is recorded (it stays cancelled, and can be refunded). Moving several steps at once (pending → shipped when the
 *   paid message is late) is allowed: the storefront has done those steps.
 * - Effects on products and on the daily sales rollup (stock reserved, shipped, released;
 *   salesByDay; GMV and orders of the paid day) are applied exactly once by OrderEffects,
 *   after each order write; a crash in between is finished by the next delivery.
 * - An update before its create (no items to create from) is parked and applied when the
 *   order arrives.
 *
 * Coupon uses are counted from orders' `couponCode`, so there is nothing else to maintain.
 */
export class OrderIngestService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly effects: OrderEffects,
    private readonly opts: { timeZone: string; currency: string },
    /**
     * Told of a parked update the order refused when it arrived (a cancel for an order that came
     * shipped): its sender was answered 202 long ago, so it is recorded where ops can see it.
     */
    private readonly onRefused: (r: ParkedRefusal) => Promise<void> = async () => {},
  ) {}

  /**
   * Applies one validated order message as `actor` (e.g. `api:<key label>`); `auditActor` names
   * its sender on the audit trail where that differs (`api:<label>#<key id>`), kept with an
   * update that is parked so a refusal when its order arrives names the sender exactly.
   */
  async ingest(m: OrderInput, actor: string, auditActor?: string): Promise<OrderIngestResult> {
    const no = m.orderNo;
    let created = false;
    let order: OrderDoc | null = null;
    if (shippedAndCancelled(m)) return { kind: "shipped_and_cancelled", orderNo: no };
    if (m.items && m.customerId) {
      const missing = await this.unknownSkus(m.items.map((i) => i.sku));
      if (missing.length) return { kind: "unknown_sku", orderNo: no, skus: missing };
      try {
        // Try the create first: the common case, and it needs no read.
        const doc = this.newOrder(m, actor);
        await this.store.orders.collection.insertOne(doc as never);
        order = doc;
        created = true;
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
    }
    let changed = false;
    let ignored: string[] = [];
    if (!created) {
      const existing = await this.store.orders.findById(no).lean<OrderDoc>();
      // Items say it is meant as the order itself: without its customer it is a create that
      // cannot be made, not an update to keep for later.
      if (!existing && m.items && !m.customerId) return { kind: "missing_customer", orderNo: no };
      if (!existing) return this.park(m, actor, auditActor);
      const r = await this.update(existing, m, actor);
      if ("kind" in r) return r;
      order = r.order;
      changed = r.changed;
    }
    // What the message gives that the order as it now stands did not take (an order's fixed
    // contents; a shipment's details for an order that ended without one).
    ignored = fixedFieldsDiffering(order!, m);
    const dropped = timesNotTaken(order!, m);
    await this.effects.settle(order!);
    // After a create, and after any later message too: parked updates left over when the
    // process stopped between an order's insert and its drain are applied by the next message.
    await this.drain(no);
    const kind = created ? "created" : changed ? "updated" : "unchanged";
    return { kind, orderNo: no, status: order!.status as OrderStatus, ...(ignored.length ? { ignored } : {}), ...(dropped.length ? { dropped } : {}) };
  }

  /**
   * Applies a batch of messages with few round trips, results in input order. New orders
   * (the first message of an order number, with items) go together: one product read, one
   * `insertMany` (unordered), effects settled per target with summed updates, one read of
   * parked updates. Everything else (orders that already exist, updates, repeats of a
   * number in the batch) goes through {@link ingest}, one order number at a time and in
   * input order. Each step is as safe to retry as the single path: the insert is the claim,
   * effects carry their keys.
   */
  async ingestMany(ms: OrderInput[], actor: string, auditActor?: string): Promise<OrderIngestResult[]> {
    const results = new Array<OrderIngestResult>(ms.length);
    const seen = new Set<string>();
    const fresh: number[] = [];
    const rest: number[] = [];
    ms.forEach((m, i) => {
      (m.items && m.customerId && !seen.has(m.orderNo) ? fresh : rest).push(i);
      seen.add(m.orderNo);
    });
    if (fresh.length) {
      const have = await this.knownSkus(fresh.flatMap((i) => ms[i]!.items!.map((it) => it.sku)));
      const docs: { i: number; doc: OrderDoc }[] = [];
      for (const i of fresh) {
        const m = ms[i]!;
        const missing = [...new Set(m.items!.map((it) => it.sku))].filter((s) => !have.has(s));
        if (shippedAndCancelled(m)) results[i] = { kind: "shipped_and_cancelled", orderNo: m.orderNo };
        else if (missing.length) results[i] = { kind: "unknown_sku", orderNo: m.orderNo, skus: missing };
        else docs.push({ i, doc: this.newOrder(m, actor) });
      }
      const clashed = new Set<number>();
      if (docs.length) {
        try {
          await this.store.orders.collection.insertMany(docs.map((d) => d.doc) as never[], { ordered: false });
        } catch (e) {
          const dup = duplicateIndexes(e);
          if (!dup?.length) throw e;
          // Already there (a retry, a concurrent delivery): those take the update path below.
          for (const i of dup) clashed.add(i);
        }
      }
      const created = docs.filter((_, k) => !clashed.has(k));
      await this.effects.settleMany(created.map((d) => d.doc));
      const parked = created.length ? await this.store.parkedOrderUpdates.distinct("orderNo", { orderNo: { $in: created.map((d) => d.doc._id) } }) : [];
      for (const no of parked as string[]) await this.drain(no);
      for (const d of created) {
        const ignored = fixedFieldsDiffering(d.doc, ms[d.i]!);
        const dropped = timesNotTaken(d.doc, ms[d.i]!);
        results[d.i] = { kind: "created", orderNo: d.doc._id, status: d.doc.status as OrderStatus, ...(ignored.length ? { ignored } : {}), ...(dropped.length ? { dropped } : {}) };
      }
      docs.forEach((d, k) => {
        if (clashed.has(k)) rest.push(d.i);
      });
    }
    // The rest: per order number in input order; different numbers side by side.
    await inKeyOrder(rest.sort((a, b) => a - b), (i) => ms[i]!.orderNo, REST_CONCURRENCY, async (i) => {
      results[i] = await this.ingest(ms[i]!, actor, auditActor);
    });
    return results;
  }

  /** The SKUs among `skus` that name a product. */
  private async knownSkus(skus: string[]): Promise<Set<string>> {
    const want = [...new Set(skus)];
    const found = await this.store.products.find({ _id: { $in: want } }).select({ _id: 1 }).lean<{ _id: string }[]>();
    return new Set(found.map((f) => f._id));
  }

  /** SKUs among `skus` with no product. */
  private async unknownSkus(skus: string[]): Promise<string[]> {
    const have = await this.knownSkus(skus);
    return [...new Set(skus)].filter((s) => !have.has(s));
  }

  private newOrder(m: OrderInput, actor: string): OrderDoc {
    const tz = this.opts.timeZone;
    const now = this.clock.now();
    const items = m.items!;
    const status: OrderStatus = impliedStatus(m) ?? "pending";
    // Not given: no later than anything the message says happened to it (it was paid before it arrived).
    const createdAt = m.createdAt ?? new Date(Math.min(now.getTime(), ...stepTimes(m)));
    const subtotal = m.subtotal ?? items.reduce((s, i) => s + i.qty * i.unitPrice, 0);
    const discount = m.discount ?? 0;
    const shipping = m.shipping ?? 0;
    const isPaid = PAID_STATUSES.includes(status) || (status === "cancelled" && m.paidAt !== undefined);
    const paidAt = isPaid ? (m.paidAt ?? createdAt) : undefined;
    // Refunded after delivery went through shipment too (as an update of the same message does).
    const shipped = status === "shipped" || status === "delivered" || (status === "refunded" && saysShipped(m));
    const doc: Record<string, unknown> = {
      _id: m.orderNo,
      items: items.map((i) => ({ sku: i.sku, qty: i.qty, unitPrice: i.unitPrice })),
      subtotal,
      discount,
      shipping,
      total: m.total ?? subtotal - discount + shipping,
      currency: m.currency ?? this.opts.currency,
      status,
      channel: m.channel ?? "api",
      customerId: m.customerId!,
      createdAt,
      day: localDay(createdAt, tz),
      refundedTotal: 0,
      refunds: [],
      history: [{ status, at: now, by: actor, note: m.note ?? INGESTED_NOTE }],
      effects: {},
      changedAt: now,
    };
    if (m.couponCode) doc.couponCode = m.couponCode;
    if (paidAt) Object.assign(doc, { paidAt, paidDay: localDay(paidAt, tz) });
    // Times the message did not give (it skipped those steps): a later message may correct them.
    const filled = {
      ...(!m.createdAt ? { createdAt: true } : {}),
      ...(paidAt && !m.paidAt ? { paidAt: true } : {}),
      ...(shipped && !m.shipment?.shippedAt ? { shippedAt: true } : {}),
      ...((status === "delivered" || (status === "refunded" && m.status === "delivered")) && !m.deliveredAt ? { deliveredAt: true } : {}),
      ...(status === "cancelled" && !m.cancelledAt ? { cancelledAt: true } : {}),
    };
    if (Object.keys(filled).length) doc.filled = filled;
    // No shipment at all for an order that ends without one (cancelled, refunded before shipping).
    if ((m.shipment || shipped) && (shipped || (status !== "cancelled" && status !== "refunded"))) {
      // A ship date only for an order that shipped: on a paid one it would show a shipment in
      // its timeline and make a later refund take stock that never left.
      const { shippedAt: _unused, ...details } = m.shipment ?? {};
      const said = { ...(details.carrier ? { shopCarriers: [details.carrier] } : {}), ...(details.trackingNo ? { shopTrackingNos: [details.trackingNo] } : {}) };
      doc.shipment = { ...details, ...said, ...(shipped ? { shippedAt: m.shipment?.shippedAt ?? paidAt ?? createdAt } : {}) };
    }
    // Delivered, or refunded after delivery (its time, or its status beside refundedAt): a time
    // filled in is never after the refund, nor before the shipment and payment it follows.
    if (status === "delivered" || (status === "refunded" && (m.deliveredAt || m.status === "delivered"))) {
      doc.deliveredAt = m.deliveredAt ?? filledIn("delivered", m, now, [createdAt, paidAt, (doc.shipment as { shippedAt?: Date } | undefined)?.shippedAt]);
    }
    if (status === "cancelled") doc.cancelledAt = m.cancelledAt ?? now;
    if (status === "refunded" || (status === "cancelled" && paidAt && refundsInFull(m))) {
      // Refunded by the shop (a cancelled, paid order too: it stays cancelled): one refund of the
      // whole total, so the digest's refunds see it and nobody refunds it again.
      const total = doc.total as number;
      // Not before a payment or creation time the message gives (times the bot infers are no floor).
      const floor = m.paidAt ?? m.createdAt ?? new Date(0);
      Object.assign(doc, { refundedTotal: total, refunds: [shopRefund(total, m, m.deliveredAt ?? m.shipment?.shippedAt ?? paidAt ?? createdAt, tz, actor, floor)] });
    }
    return doc as unknown as OrderDoc;
  }

  /**
   * One guarded update of an existing order (filter: its status as read), retried when
   * another delivery changed it in between. Times the message does not give (a payment's, a
   * shop refund's, its history's) are when it arrived: `arrivedAt` for a parked update, else now.
   */
  private async update(existing: OrderDoc, m: OrderInput, actor: string, arrivedAt?: Date): Promise<{ order: OrderDoc; changed: boolean } | OrderIngestResult> {
    const tz = this.opts.timeZone;
    let cur = existing;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const now = this.clock.now();
      const at = arrivedAt ?? now;
      const from = cur.status as OrderStatus;
      const target = impliedStatus(m, cur);
      const set: Record<string, unknown> = {};
      const history: { status: string; at: Date; by: string; note: string }[] = [];
      let steps: OrderStatus[] = [];
      // Facts about a cancelled order (it is, or this message cancels it) that change no status:
      // a payment, so it can be refunded, and a full refund by the shop, so nobody refunds twice.
      const cancelled = from === "cancelled" || target === "cancelled";
      let paidLate = false;
      let refundLate = false;
      let late = false;
      if (target && target !== from) {
        const path = routeTo(from, target, m);
        if (path) steps = path;
        else if (from === "cancelled" && target === "paid" && !cur.paidAt) paidLate = true;
        else if (from === "cancelled" && target === "refunded" && (cur.paidAt || m.paidAt)) refundLate = true;
        else if (!passed(cur, target)) return { kind: "invalid_transition", orderNo: m.orderNo, from, to: target };
        else late = true; // the order went through that status already
      }
      // A shipment reported for an order that ended without one (refunded in chat before its
      // "shipped" message came): its stock was released, so it cannot be shipped out now; as a
      // plain "shipped" message, a 409, not a 200 that drops the shipment.
      if (saysShipped(m) && endedUnshipped(cur)) return { kind: "invalid_transition", orderNo: m.orderNo, from, to: m.deliveredAt || m.status === "delivered" ? "delivered" : "shipped" };
      // Nor can one message cancel an order and say it shipped (the first delivery and its retry alike).
      if ((m.shipment?.shippedAt || m.deliveredAt) && target === "cancelled" && !cur.shipment?.shippedAt) return { kind: "shipped_and_cancelled", orderNo: m.orderNo };
      // Ends without a shipment (cancelled, refunded before shipping): takes no carrier or tracking.
      const endsUnshipped = !cur.shipment?.shippedAt && !steps.includes("shipped") && (endedUnshipped(cur) || target === "cancelled" || target === "refunded");
      if (cancelled && m.paidAt && !cur.paidAt) paidLate = true;
      if (cancelled && refundsInFull(m) && (cur.paidAt || m.paidAt)) refundLate = true;
      for (const s of steps) {
        history.push({ status: s, at, by: actor, note: m.note ?? INGESTED_NOTE });
        if (s === "paid" && !cur.paidAt) {
          const paidAt = m.paidAt ?? filledIn("paid", m, at, [cur.createdAt]);
          Object.assign(set, { paidAt, paidDay: localDay(paidAt, tz) });
          if (!m.paidAt) set["filled.paidAt"] = true;
        }
        if (s === "shipped" && !cur.shipment?.shippedAt) {
          set["shipment.shippedAt"] = m.shipment?.shippedAt ?? filledIn("shipped", m, at, [cur.createdAt, cur.paidAt, set.paidAt as Date | undefined]);
          if (!m.shipment?.shippedAt) set["filled.shippedAt"] = true;
        }
        if (s === "delivered" && !cur.deliveredAt) {
          set.deliveredAt = m.deliveredAt ?? filledIn("delivered", m, at, [cur.createdAt, cur.paidAt, cur.shipment?.shippedAt, set["shipment.shippedAt"] as Date | undefined]);
          if (!m.deliveredAt) set["filled.deliveredAt"] = true;
        }
        if (s === "cancelled" && !cur.cancelledAt) {
          // No time given: when the message arrived, as estimated; the shop's real one replaces it.
          set.cancelledAt = m.cancelledAt ?? at;
          if (!m.cancelledAt) set["filled.cancelledAt"] = true;
        }
      }
      if (steps.length) set.status = target;
      if (paidLate && !set.paidAt) {
        // Money received for a cancelled order (its payment message came late, or the customer
        // was charged after all): kept, so it can be refunded; it stays out of GMV and velocity
        // (sold, then unsold). Guarded below by its absence, so two deliveries record it once.
        const paidAt = m.paidAt ?? at;
        Object.assign(set, { paidAt, paidDay: localDay(paidAt, tz) });
        history.push({ status: "paid", at, by: actor, note: m.note ?? "payment received for a cancelled order" });
      }
      let refund: ReturnType<typeof shopRefund> | undefined;
      if (steps.includes("refunded") || refundLate) {
        // Refunded by the shop: what the bot had not refunded yet becomes one refund entry, in
        // the same update (guarded by the refunded total read), so the digest's refunds see it
        // and a refund request cannot pay it again.
        const rest = cur.total - (cur.refundedTotal ?? 0);
        if (rest > 0) {
          // Not before the payment or creation as known for real (times the bot filled in are no floor).
          const paid = m.paidAt ?? (set.paidAt && !set["filled.paidAt"] ? (set.paidAt as Date) : undefined) ?? (cur.paidAt && !cur.filled?.paidAt ? cur.paidAt : undefined);
          refund = shopRefund(rest, m, at, tz, actor, paid ?? (cur.filled?.createdAt ? new Date(0) : cur.createdAt));
          set.refundedTotal = cur.total;
        }
      }
      // A time filled in earlier (a message skipped the step), now given: the given one stands.
      const fix = corrections(cur, m, set, tz);
      if (fix.resettle) {
        // Its sales move to another day: only from a known state, with every effect applied.
        await this.effects.settle(cur);
        cur = (await this.store.orders.findById(cur._id).lean<OrderDoc>()) ?? cur;
        continue;
      }
      // Shop refunds moved to a corrected time (see `corrections`): a refund this message adds
      // joins that list, one write of the field.
      if (fix.set.refunds && refund) {
        fix.set.refunds = [...(fix.set.refunds as RefundEntry[]), refund];
        refund = undefined;
      }
      Object.assign(set, fix.set);
      // Details that only fill in or correct what the order holds (tracking, carrier, coupon).
      // A late message (a status the order went through) only fills in what is empty: a retry of
      // it must not undo what a later message or a person changed since.
      const ship = endsUnshipped ? { set: {}, push: {}, guard: {} } : shipmentNews(cur, m, at, actor, history, late);
      Object.assign(set, ship.set);
      if (m.couponCode && m.couponCode !== cur.couponCode && !(late && cur.couponCode)) set.couponCode = m.couponCode;
      // Only recording which carrier or tracking the shop said (the order holds them already): not a change.
      const quiet = Object.keys(set).length === 0 && Object.keys(fix.unset).length === 0;
      if (quiet && Object.keys(ship.push).length === 0) return { order: cur, changed: false };
      const upd: Record<string, unknown> = quiet ? {} : { $set: { ...set, changedAt: now } };
      if (Object.keys(fix.unset).length) upd.$unset = fix.unset;
      if (history.length || refund || Object.keys(ship.push).length) upd.$push = { ...(history.length ? { history: { $each: history } } : {}), ...(refund ? { refunds: refund } : {}), ...ship.push };
      const after = await this.store.orders
        .findOneAndUpdate(
          { _id: cur._id, status: from, ...(refund ? { refundedTotal: cur.refundedTotal ?? null } : {}), ...(paidLate && !cur.paidAt ? { paidAt: null } : {}), ...fix.guard, ...ship.guard },
          upd,
          { returnDocument: "after" },
        )
        .lean<OrderDoc>();
      if (after) return { order: after, changed: !quiet };
      const again = await this.store.orders.findById(cur._id).lean<OrderDoc>();
      if (!again) return { kind: "conflict", orderNo: m.orderNo };
      cur = again;
    }
    return { kind: "conflict", orderNo: m.orderNo };
  }

  /** Keeps an update for an order not yet known; applies it at once if the order appeared meanwhile. */
  private async park(m: OrderInput, actor: string, auditActor?: string): Promise<OrderIngestResult> {
    const payload = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
    const id = `${m.orderNo}:${createHash("sha256").update(JSON.stringify(payload)).digest("hex").slice(0, 24)}`;
    try {
      await this.store.parkedOrderUpdates.create({ _id: id, orderNo: m.orderNo, payload, actor, ...(auditActor && auditActor !== actor ? { auditActor } : {}), at: this.clock.now() });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    // The create may have landed between our read and the park: it drained before we parked.
    if (await this.store.orders.exists({ _id: m.orderNo })) await this.drain(m.orderNo);
    return { kind: "parked", orderNo: m.orderNo };
  }

  /**
   * Applies the parked updates, kept before `before`, whose order exists: left behind when a
   * process stopped between an order's insert and its drain, and no message about it came since
   * (the next one would have drained them). For the order-effects job. Order numbers drained.
   */
  async drainOrphans(before: Date): Promise<string[]> {
    const nos = (await this.store.parkedOrderUpdates.distinct("orderNo", { at: { $lt: before } })) as string[];
    if (!nos.length) return [];
    const have = await this.store.orders.find({ _id: { $in: nos } }).select({ _id: 1 }).lean<{ _id: string }[]>();
    for (const o of have) await this.drain(o._id);
    return have.map((o) => o._id);
  }

  /** Applies the parked updates of an order that now exists, in status order, then drops them. */
  async drain(orderNo: string): Promise<void> {
    const parked = await this.store.parkedOrderUpdates.find({ orderNo }).lean();
    if (!parked.length) return;
    const rank = (p: { payload: Record<string, unknown> }) => {
      const r = orderInput.safeParse(p.payload);
      const s = r.success ? impliedStatus(r.data) : undefined;
      return s ? ["pending", "paid", "shipped", "delivered", "refunded", "cancelled"].indexOf(s) : -1;
    };
    parked.sort((a, b) => rank(a) - rank(b) || a.at.getTime() - b.at.getTime());
    for (const p of parked) {
      const r = orderInput.safeParse(p.payload);
      if (r.success) {
        const existing = await this.store.orders.findById(orderNo).lean<OrderDoc>();
        if (!existing) return;
        // Dated when it arrived, not now: a refund parked on the 20th is the 20th's refund.
        const u = await this.update(existing, r.data, p.actor, p.at);
        if (!("kind" in u)) await this.effects.settle(u.order);
        // Refused now (its order arrived in a state it cannot move from that way): not applied,
        // and said where ops can see it, once (the record is keyed by the parked update).
        else if (u.kind !== "created" && u.kind !== "updated" && u.kind !== "unchanged") await this.onRefused({ id: String(p._id), orderNo, actor: p.actor, ...(p.auditActor ? { auditActor: p.auditActor } : {}), parkedAt: p.at, payload: p.payload, result: u });
      }
      await this.store.parkedOrderUpdates.deleteOne({ _id: p._id });
    }
  }
}
