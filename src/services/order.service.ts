import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { localDay } from "../core/format.js";
import { rowsAfter, type ComplaintDoc, type OrderDoc, type ProductDoc, type Store } from "../store/models.js";
import { openRequests } from "../store/refund.model.js";
import { escapeRegex, normalizeTracking, widthInsensitive } from "../core/text.js";
import { canTransition, ORDER_TRANSITIONS, type OrderStatus } from "./order-status.js";
import type { OrderEffects } from "./order-effects.service.js";

/** An order line with the product name looked up. */
export interface OrderLine {
  sku: string;
  /** Product name, or null when the product no longer exists. */
  name: string | null;
  qty: number;
  unitPrice: number;
  lineTotal: number;
}

/** One event of an order's timeline. */
export interface TimelineEvent {
  kind: "created" | "paid" | "shipped" | "delivered" | "refunded" | "cancelled" | "tracking";
  at: Date;
  by?: string;
  note?: string;
  /** Refund amount (minor units), for refund events. */
  amount?: number;
  /** Its time was filled in by the bot (the shop's messages skipped the step), not given. */
  estimated?: boolean;
  /** A tracking correction: what changed (its `note` is then the reason). */
  tracking?: TrackingChange;
  /** For the shipped event: the carrier and tracking number it left with (either may be ""). */
  shipment?: { carrier: string; trackingNo: string };
}

/**
 * A refund request still waiting for a decision. Refund requests live in the refunds
 * area's collection; see {@link OrderService.pendingRefundRequests}.
 */
export interface PendingRefundRequest {
  id: string;
  amount: number;
  currency: string;
  requestedBy: string;
  requestedAt: Date;
  reason?: string;
}

/** Everything the order card shows. */
export interface OrderDetail {
  order: OrderDoc;
  lines: OrderLine[];
  timeline: TimelineEvent[];
  complaints: ComplaintDoc[];
  pendingRefunds: PendingRefundRequest[];
}

/** Filters of {@link OrderService.search}. */
export interface OrderQuery {
  customerId?: string;
  since?: Date;
  statuses?: OrderStatus[];
  /**
   * Continue after this order (the last row a page showed): only orders after it in the list's
   * order (older, or as old with a smaller number), so orders arriving meanwhile neither repeat
   * nor skip rows of the next page. `page` is then not skipped: the page right after it is read.
   */
  after?: Pick<OrderDoc, "_id" | "createdAt">;
  /** 1-based page. */
  page: number;
  pageSize: number;
}

/** Extra facts a transition records. */
export interface TransitionInput {
  by: string;
  note?: string;
  /** Required to ship. */
  carrier?: string;
  trackingNo?: string;
  /** When it happened, if not now (payments reported late by a channel). */
  at?: Date;
}

/** Outcome of {@link OrderService.transition}. Expected outcomes are results, not exceptions. */
export type TransitionResult =
  /** `effectsPending`: the change stands, its stock effects are left to the order-effects job. */
  | { kind: "done"; order: OrderDoc; from: OrderStatus; effectsPending?: boolean }
  /** `parked`: no such order, but updates for it came first and wait for it (see {@link OrderService.parkedUpdates}). */
  | { kind: "not_found"; parked?: ParkedUpdates }
  | { kind: "already"; order: OrderDoc }
  /** `orderNo`: the stored number of the order refused (which may differ from what was typed). */
  | { kind: "refused"; orderNo: string; current: OrderStatus; allowed: readonly OrderStatus[] };

/** Updates the shop sent for an order not arrived yet, kept until it does: the number they name, and how many. */
export interface ParkedUpdates {
  orderNo: string;
  count: number;
}

/** How often a transition re-reads after losing a race before giving its answer. */
const MAX_ATTEMPTS = 3;

/** Order lookup, search and validated status transitions. */
export class OrderService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: { timeZone: string },
    private readonly effects: OrderEffects,
    private readonly logger: Logger,
  ) {}

  /**
   * Normalizes what a user typed as an order number: upper case, without the `#` shop admin
   * pages print before it, and a bare number gets the `ORD-` prefix (`100001` → `ORD-100001`).
   */
  static normalizeOrderNo(input: string): string {
    const s = OrderService.withoutHash(OrderService.withoutEndPunctuation(input.trim())).toUpperCase();
    return /^\d+$/.test(s) ? `ORD-${s}` : s;
  }

  /**
   * An order number without the sentence punctuation people end a question with (`ORD-100001?`,
   * `ORD-100001。`, `#1001,`, also after a space: `ORD-100001 ?`): no order number ends with one.
   */
  static withoutEndPunctuation(this: void, s: string): string {
    return s.replace(/(?<=[A-Za-z0-9_-])[\s?!.,;:。，、？！；：．…]+$/u, "");
  }

  /** An order number without the one `#` before it (`#1001`, as shop admin pages and e-mails print numbers): no stored number starts with one. */
  static withoutHash(this: void, s: string): string {
    return s.replace(/^#(?=[A-Za-z0-9])/, "");
  }

  /** The order, or null. */
  async byNo(orderNo: string): Promise<OrderDoc | null> {
    return findOrder(this.store, orderNo);
  }

  /**
   * The updates waiting for an order not yet arrived (parked, by the number the shop sent), for a
   * number as typed: the same spellings {@link orderNoCandidates} gives, in that order, then any
   * case when exactly one number is spelt so (as `findOrder`); null when there are none.
   */
  async parkedUpdates(typed: string): Promise<ParkedUpdates | null> {
    for (const orderNo of orderNoCandidates(typed)) {
      const count = await this.store.parkedOrderUpdates.countDocuments({ orderNo });
      if (count) return { orderNo, count };
    }
    const nos = (await this.store.parkedOrderUpdates.distinct("orderNo", { orderNo: anyCase(typed) })) as string[];
    if (nos.length !== 1) return null;
    return { orderNo: nos[0]!, count: await this.store.parkedOrderUpdates.countDocuments({ orderNo: nos[0]! }) };
  }

  /** `not_found`, naming the updates waiting for it when the order is on its way (so no command calls it unknown while `order` says it is coming). */
  private async notFound(typed: string): Promise<{ kind: "not_found"; parked?: ParkedUpdates }> {
    const parked = await this.parkedUpdates(typed);
    return parked ? { kind: "not_found", parked } : { kind: "not_found" };
  }

  /** The order with its lines, timeline, linked complaints and pending refund requests. */
  async detail(orderNo: string): Promise<OrderDetail | null> {
    const order = await this.byNo(orderNo);
    if (!order) return null;
    const skus = [...new Set(order.items.map((i) => i.sku))];
    const [products, complaints, pendingRefunds] = await Promise.all([
      this.store.products.find({ _id: { $in: skus } }, { name: 1 }).lean<Pick<ProductDoc, "_id" | "name">[]>(),
      this.store.complaints.find({ orderNo: order._id }).sort({ createdAt: 1 }).limit(50).lean<ComplaintDoc[]>(),
      this.pendingRefundRequests(order._id),
    ]);
    const names = new Map(products.map((p) => [p._id, p.name]));
    const lines = order.items.map((i) => ({
      sku: i.sku,
      name: names.get(i.sku) ?? null,
      qty: i.qty,
      unitPrice: i.unitPrice,
      lineTotal: i.qty * i.unitPrice,
    }));
    return { order, lines, timeline: timelineOf(order), complaints, pendingRefunds };
  }

  /**
   * Refund requests of this order that may still become refunds, oldest first: pending and not
   * expired, or approved and not yet executed.
   */
  async pendingRefundRequests(orderNo: string): Promise<PendingRefundRequest[]> {
    const now = this.clock.now();
    const docs = await this.store.refundRequests
      .find({ orderNo, ...openRequests(now) })
      .sort({ requestedAt: 1 })
      .limit(20)
      .lean();
    return docs.map((d) => ({
      id: d._id,
      amount: d.amount,
      currency: d.currency,
      requestedBy: d.requester,
      requestedAt: d.requestedAt,
      reason: d.reason,
    }));
  }

  /**
   * A page of orders matching every given filter, newest first, with the total count and, after
   * `q.after`, how many of them come after it (`rest`; the total without it).
   */
  async search(q: OrderQuery): Promise<{ orders: OrderDoc[]; total: number; rest: number }> {
    const filter: Record<string, unknown> = {};
    // Customer ids are kept as the shop sent them (`Cust-1`, an e-mail): see customerIdFilters.
    if (q.customerId) {
      const { exact, loose } = customerIdFilters(q.customerId);
      filter.customerId = exact;
      if (!(await this.store.orders.exists(filter))) filter.customerId = loose;
    }
    if (q.since) filter.createdAt = { $gte: q.since };
    if (q.statuses?.length) filter.status = q.statuses.length === 1 ? q.statuses[0] : { $in: q.statuses };
    // After a row, in the sort's order (createdAt, then _id, both descending).
    const page = q.after ? { ...filter, ...rowsAfter("createdAt", q.after.createdAt, q.after._id) } : filter;
    const [orders, total, rest] = await Promise.all([
      this.store.orders
        .find(page)
        .sort({ createdAt: -1, _id: -1 })
        .skip(q.after ? 0 : (q.page - 1) * q.pageSize)
        .limit(q.pageSize)
        .lean<OrderDoc[]>(),
      this.store.orders.countDocuments(filter),
      q.after ? this.store.orders.countDocuments(page) : undefined,
    ]);
    return { orders, total, rest: rest ?? total };
  }

  /**
   * Corrects the carrier and tracking number of a shipped (or delivered) order: one update
   * guarded by the tracking number read, so two corrections at once cannot both apply to the
   * same old number; recorded in the history (`tracking`, old → new and why).
   */
  async correctShipment(orderNo: string, input: { carrier?: string; trackingNo: string; by: string; reason: string }): Promise<ShipmentCorrection> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await findOrder(this.store, orderNo);
      if (!current) return this.notFound(orderNo);
      const status = current.status as OrderStatus;
      if (status !== "shipped" && status !== "delivered") {
        // Never shipped and in a final status (cancelled, refunded before shipment): `order ship` would be refused too.
        const kind = current.shipment?.shippedAt ? "closed" : ORDER_TRANSITIONS[status].length === 0 ? "final" : "not_shipped";
        return { kind, order: current };
      }
      if (!current.shipment?.shippedAt) return { kind: "not_shipped", order: current };
      const old = { carrier: current.shipment.carrier ?? "", trackingNo: current.shipment.trackingNo ?? "" };
      // What differs only in case or width is what is stored, kept as stored: a carrier is one
      // whatever its case (`sf` is SF, as `order ship` reads it), and tracking numbers have one
      // spelling (upper case, no spaces: `normalizeTracking`), an older one stored otherwise too.
      const carrier = input.carrier === undefined || sameCarrier(input.carrier, old.carrier) ? old.carrier : input.carrier;
      const trackingNo = normalizeTracking(old.trackingNo) === normalizeTracking(input.trackingNo) ? old.trackingNo : input.trackingNo;
      if (carrier === old.carrier && trackingNo === old.trackingNo) return { kind: "unchanged", order: current };
      const now = this.clock.now();
      // What changed and why as separate fields, worded when shown in the reader's language
      // (`note` is the reason alone; older entries hold one preformatted English note).
      const entry: TrackingHistoryEntry = { status: TRACKING_CORRECTED, at: now, by: input.by, note: input.reason, tracking: { fromCarrier: old.carrier, fromTrackingNo: old.trackingNo, toCarrier: carrier, toTrackingNo: trackingNo } };
      const order = await this.store.orders
        .findOneAndUpdate(
          { _id: current._id, status, "shipment.trackingNo": current.shipment.trackingNo ?? null, "shipment.carrier": current.shipment.carrier ?? null },
          { $set: { ...(input.carrier ? { "shipment.carrier": carrier } : {}), "shipment.trackingNo": trackingNo, changedAt: now }, $push: { history: entry } },
          { returnDocument: "after" },
        )
        .lean<OrderDoc>();
      if (order) return { kind: "done", order, old };
    }
    return { kind: "busy" };
  }

  /**
   * Moves an order to status `to` when the shared table allows it (see order-status.ts).
   * Each attempt is ONE guarded update (`{_id, status: from}`) that sets the new status, the
   * fields that go with it, and appends to `history`; a concurrent change makes the filter
   * miss, and the order is re-read and judged again.
   */
  async transition(orderNo: string, to: OrderStatus, input: TransitionInput): Promise<TransitionResult> {
    let id = ""; // the stored number, once the first read has found the order
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = attempt === 0 ? await findOrder(this.store, orderNo) : await this.store.orders.findById(id).lean<OrderDoc>();
      if (!current) return attempt === 0 ? this.notFound(orderNo) : { kind: "not_found" };
      id = current._id;
      const from = current.status as OrderStatus;
      if (from === to) return { kind: "already", order: current };
      if (!canTransition(from, to)) return { kind: "refused", orderNo: id, current: from, allowed: ORDER_TRANSITIONS[from] };
      const at = input.at ?? this.clock.now();
      const set: Record<string, unknown> = { status: to };
      const guard: Record<string, unknown> = {};
      const entries: Record<string, unknown>[] = [];
      switch (to) {
        case "paid":
          set.paidAt = at;
          set.paidDay = localDay(at, this.opts.timeZone);
          break;
        case "shipped": {
          // Field by field: the carriers and tracking numbers the shop's messages gave before
          // shipment (`shopCarriers`, `shopTrackingNos`) stay, so a resend of one stays a resend.
          const held = current.shipment;
          if (held && typeof held === "object") {
            // The shop's carrier or number typed in another case or width is the one given, kept as given (no "SF → sf").
            const carrier = held.carrier && input.carrier !== undefined && sameCarrier(held.carrier, input.carrier) ? held.carrier : input.carrier;
            const trackingNo = held.trackingNo && input.trackingNo !== undefined && normalizeTracking(held.trackingNo) === normalizeTracking(input.trackingNo) ? held.trackingNo : input.trackingNo;
            Object.assign(set, { "shipment.carrier": carrier, "shipment.trackingNo": trackingNo, "shipment.shippedAt": at });
            // Guarded by the values read, so a number the shop sends meanwhile is not replaced unseen.
            if (held.carrier) guard["shipment.carrier"] = held.carrier;
            if (held.trackingNo) guard["shipment.trackingNo"] = held.trackingNo;
            // Replacing a number the shop gave before shipment: in the timeline (old → new), as a correction by the shop's messages is.
            const replaced = (!!held.carrier && held.carrier !== carrier) || (!!held.trackingNo && held.trackingNo !== trackingNo);
            if (replaced) {
              const tracking: TrackingChange = { fromCarrier: held.carrier ?? "", fromTrackingNo: held.trackingNo ?? "", toCarrier: carrier ?? "", toTrackingNo: trackingNo ?? "" };
              entries.push({ status: TRACKING_CORRECTED, at, by: input.by, tracking });
            }
          } else set.shipment = { carrier: input.carrier, trackingNo: input.trackingNo, shippedAt: at };
          break;
        }
        case "delivered":
          set.deliveredAt = at;
          break;
        case "cancelled":
          set.cancelledAt = at;
          break;
        default:
          break;
      }
      const entry = { status: to, at, by: input.by, ...(input.note ? { note: input.note } : {}) };
      const order = await this.store.orders
        .findOneAndUpdate({ _id: id, status: from, ...guard }, { $set: { ...set, changedAt: this.clock.now() }, $push: { history: { $each: [entry, ...entries] } } }, { returnDocument: "after" })
        .lean<OrderDoc>();
      if (order) {
        // Stock, velocity and the daily rollup follow the new status (once; see OrderEffects).
        // The status change stands whatever happens here: a failure is finished by the
        // order-effects job, and the person is told the change was made.
        try {
          await this.effects.settle(order);
        } catch (e) {
          this.logger.error("order effects failed after a status change; the order-effects job will finish them", { orderNo: id, to, error: e });
          return { kind: "done", order, from, effectsPending: true };
        }
        return { kind: "done", order, from };
      }
      // Someone else changed the status between our read and write: judge again.
    }
    const last = await this.store.orders.findById(id).lean<OrderDoc>();
    if (!last) return { kind: "not_found" };
    const cur = last.status as OrderStatus;
    return cur === to ? { kind: "already", order: last } : { kind: "refused", orderNo: last._id, current: cur, allowed: ORDER_TRANSITIONS[cur] };
  }
}

/** History `status` of a carrier or tracking number correction, in chat or by the shop's messages (not an order status). */
export const TRACKING_CORRECTED = "tracking";

/** The carrier and tracking number before and after a correction (history entries from `order tracking`). */
export interface TrackingChange {
  fromCarrier: string;
  fromTrackingNo: string;
  toCarrier: string;
  toTrackingNo: string;
}

/** A tracking correction's history entry: `note` is its reason; `tracking` what changed. */
interface TrackingHistoryEntry {
  status: typeof TRACKING_CORRECTED;
  at: Date;
  by: string;
  note: string;
  tracking: TrackingChange;
}

/** Outcome of {@link OrderService.correctShipment}. */
export type ShipmentCorrection =
  | { kind: "done"; order: OrderDoc; old: { carrier: string; trackingNo: string } }
  | { kind: "unchanged"; order: OrderDoc }
  | { kind: "not_shipped"; order: OrderDoc }
  /** Never shipped, and in a final status (cancelled, or refunded before shipment): it never will be. */
  | { kind: "final"; order: OrderDoc }
  /** Shipped once, but refunded or cancelled since: its shipment is closed. */
  | { kind: "closed"; order: OrderDoc }
  | { kind: "not_found"; parked?: ParkedUpdates }
  | { kind: "busy" };

/**
 * The timeline of an order from its fields (the facts) and its history (who and why),
 * oldest first. Orders imported without history still get a full timeline.
 */
export function timelineOf(order: OrderDoc): TimelineEvent[] {
  const history = order.history ?? [];
  const who = (status: string): { by?: string; note?: string } => {
    const h = [...history].reverse().find((e) => e.status === status);
    return { ...(h?.by ? { by: h.by } : {}), ...(h?.note ? { note: h.note } : {}) };
  };
  const estimated = (f: "createdAt" | "paidAt" | "shippedAt" | "deliveredAt" | "cancelledAt") => (order.filled?.[f] ? { estimated: true } : {});
  const events: TimelineEvent[] = [{ kind: "created", at: order.createdAt, ...estimated("createdAt") }];
  if (order.paidAt) events.push({ kind: "paid", at: order.paidAt, ...who("paid"), ...estimated("paidAt") });
  if (order.shipment?.shippedAt) events.push({ kind: "shipped", at: order.shipment.shippedAt, ...who("shipped"), ...estimated("shippedAt"), ...shippedWith(order, order.shipment.shippedAt) });
  if (order.deliveredAt) events.push({ kind: "delivered", at: order.deliveredAt, ...who("delivered"), ...estimated("deliveredAt") });
  for (const r of order.refunds ?? []) {
    if (r.at) events.push({ kind: "refunded", at: r.at, amount: r.amount ?? 0, ...(r.by ? { by: r.by } : {}), ...(r.requestId ? { note: r.requestId } : {}) });
  }
  // A refunded status with no executed refund recorded (imported orders): show the status change.
  if (order.status === "refunded" && !(order.refunds ?? []).length) {
    const h = [...history].reverse().find((e) => e.status === "refunded");
    if (h?.at) events.push({ kind: "refunded", at: h.at, ...who("refunded") });
  }
  if (order.cancelledAt) events.push({ kind: "cancelled", at: order.cancelledAt, ...who("cancelled"), ...estimated("cancelledAt") });
  // Corrections of the carrier or tracking number (`order tracking`), with what changed.
  for (const h of history) {
    if (h.status !== TRACKING_CORRECTED || !h.at) continue;
    // Corrections since the change are stored as fields (older ones as one formatted note, shown as stored).
    const tracking = h.tracking as TrackingChange | null | undefined;
    events.push({ kind: "tracking", at: h.at, ...(h.by ? { by: h.by } : {}), ...(h.note ? { note: h.note } : {}), ...(tracking ? { tracking } : {}) });
  }
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * The carrier and tracking number an order left with: the shipment stored, or, when it was
 * corrected after shipping (`order tracking`), what the first such correction replaced. Nothing
 * when that correction is an older one stored as a note only (what it replaced is not known).
 */
function shippedWith(order: OrderDoc, shippedAt: Date): { shipment?: { carrier: string; trackingNo: string } } {
  const later = (order.history ?? [])
    .filter((h) => h.status === TRACKING_CORRECTED && h.at && h.at.getTime() > shippedAt.getTime())
    .sort((a, b) => a.at!.getTime() - b.at!.getTime())[0];
  const change = later?.tracking as TrackingChange | null | undefined;
  if (later && !change) return {};
  const shipment = change ? { carrier: change.fromCarrier, trackingNo: change.fromTrackingNo } : { carrier: order.shipment?.carrier ?? "", trackingNo: order.shipment?.trackingNo ?? "" };
  return shipment.carrier || shipment.trackingNo ? { shipment } : {};
}

/**
 * What a user may mean by a typed order number, most literal first: as typed, upper case,
 * lower case, and for a bare number `ORD-` + digits. Orders keep the number the shop sent (ingestion
 * takes `1001` or `web-1001` as they are), and the demo numbers are `ORD-…`.
 */
export function orderNoCandidates(input: string): string[] {
  const up = input.trim().toUpperCase();
  return [...new Set([...caseVariants(input), ...(/^\d+$/.test(up) ? [`ORD-${up}`] : [])])];
}

/**
 * The order a typed number means (the first of {@link orderNoCandidates} that exists, else one
 * spelt so in any case, else for `ORD100001` the one with its hyphen, `ORD-100001`), or null.
 * One lookup by `_id` per candidate, in order: usually the first hits, and a lookup by `_id`
 * alone is an index read on MongoDB and the one filter FerretDB pushes down.
 */
export async function findOrder<T = OrderDoc>(store: Store, input: string, projection?: Record<string, 0 | 1>): Promise<T | null> {
  for (const id of orderNoCandidates(input)) {
    const q = store.orders.findById(id);
    const d = await (projection ? q.select({ ...projection, _id: 1 }) : q).lean<T>();
    if (d) return d;
  }
  // A shop's own number in mixed case (`Web-1001`) typed otherwise (`web-1001`): found in any
  // case, when exactly one order is spelt so (two that differ only in case: neither is guessed).
  const q = store.orders.find({ _id: anyCase(input) }).limit(2);
  const found = await (projection ? q.select({ ...projection, _id: 1 }) : q).lean<T[]>();
  if (found.length) return found.length === 1 ? found[0]! : null;
  // `ord100001`: letters and digits typed without the hyphen between them, when no order is spelt
  // so in any case: the order with the hyphen (`ORD-100001`), as `100001` is.
  const apart = /^([A-Z]+)(\d+)$/.exec(input.trim().toUpperCase());
  if (!apart) return null;
  const h = store.orders.findById(`${apart[1]}-${apart[2]}`);
  return (await (projection ? h.select({ ...projection, _id: 1 }) : h).lean<T>()) ?? null;
}

/** True when two carrier names are one carrier: the same in any case or width (`sf`, `ＳＦ` and `SF`). */
export function sameCarrier(a: string, b: string): boolean {
  const plain = (s: string) => s.normalize("NFKC").trim().toLowerCase();
  return plain(a) === plain(b);
}

/** A filter matching `s` exactly but in any upper/lower case (anchored, its characters taken literally). */
export function anyCase(s: string): { $regex: string; $options: string } {
  return { $regex: `^${escapeRegex(s.trim())}$`, $options: "i" };
}

/**
 * How a typed customer id finds the shop's spelling of it: `exact` as typed or in its plain form
 * (NFKC: `ＣＵＳＴ－１０００５` is `CUST-10005`), each in one case (index lookups); `loose` in any
 * case and width (a scan of the customer index: only when `exact` finds none).
 */
export function customerIdFilters(typed: string): { exact: { $in: string[] }; loose: { $regex: string; $options: string } } {
  const plain = typed.normalize("NFKC").trim();
  return { exact: { $in: [...new Set([...caseVariants(typed), ...caseVariants(plain)])] }, loose: { $regex: `^${widthInsensitive(plain)}$`, $options: "i" } };
}

/** `s` trimmed as typed, upper-cased and lower-cased (distinct): how a stored id may differ from what a person typed. */
export function caseVariants(s: string): string[] {
  const raw = s.trim();
  return [...new Set([raw, raw.toUpperCase(), raw.toLowerCase()])];
}
