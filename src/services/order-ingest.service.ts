import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { localDay } from "../core/format.js";
import type { OrderDoc, Store } from "../store/models.js";
import { orderInput, type OrderInput } from "./ingest-schemas.js";
import { ORDER_TRANSITIONS, PAID_STATUSES, type OrderStatus } from "./order-status.js";
import { isDuplicateKey } from "./stock.service.js";

/** Outcome of ingesting one order message. Expected outcomes are results, not exceptions. */
export type OrderIngestResult =
  | { kind: "created" | "updated" | "unchanged"; orderNo: string; status: OrderStatus }
  | { kind: "parked"; orderNo: string }
  | { kind: "invalid_transition"; orderNo: string; from: OrderStatus; to: OrderStatus }
  | { kind: "unknown_sku"; orderNo: string; skus: string[] }
  | { kind: "conflict"; orderNo: string };

/** The effects an order has on products, each applied once per (order, effect, sku). */
type Effect = "reserved" | "shipped" | "released" | "sold" | "unsold";

/** How many applied keys a product remembers (as StockService.adjust). */
const KEPT_KEYS = 100;
const RETRIES = 8;

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

/** Status a message implies when it names none: the furthest its timestamps prove. */
function impliedStatus(m: OrderInput): OrderStatus | undefined {
  if (m.status) return m.status;
  if (m.cancelledAt) return "cancelled";
  if (m.deliveredAt) return "delivered";
  if (m.shipment?.shippedAt) return "shipped";
  if (m.paidAt) return "paid";
  return undefined;
}

/**
 * Creates and updates orders from outside (storefront webhooks, imports), and keeps
 * everything derived from an order consistent exactly once, whatever the order of arrival:
 *
 * - Status changes follow the transition table; a message whose status is already behind
 *   the order's (a late delivery) changes no status; one that is neither ahead nor behind
 *   (cancelled → paid) is refused. Moving several steps at once (pending → shipped when the
 *   paid message is late) is allowed: the storefront has done those steps.
 * - Product effects: stock reserved at creation, reserved → decremented at shipment,
 *   released at cancellation, `salesByDay[paidDay]` on payment (taken back if a paid order
 *   is cancelled, as velocity counts paid, non-cancelled orders). Each is one guarded
 *   single-document product update with the idempotency key `ord:<no>:<effect>:<sku>`
 *   pushed into `appliedKeys`, then a flag `effects.<effect>` on the order. A crash
 *   between the two is finished by the next delivery of the same order.
 * - An update before its create (no items to create from) is parked and applied when the
 *   order arrives.
 *
 * Coupon uses are counted from orders' `couponCode`, so there is nothing else to maintain.
 */
export class OrderIngestService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: { timeZone: string; currency: string },
  ) {}

  /** Applies one validated order message as `actor` (e.g. `api:<key label>`). */
  async ingest(m: OrderInput, actor: string): Promise<OrderIngestResult> {
    const no = m.orderNo;
    let created = false;
    let order: OrderDoc | null = null;
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
    if (!created) {
      const existing = await this.store.orders.findById(no).lean<OrderDoc>();
      if (!existing) return this.park(m, actor);
      const r = await this.update(existing, m, actor);
      if ("kind" in r) return r;
      order = r.order;
      changed = r.changed;
    }
    await this.settle(order!);
    if (created) await this.drain(no);
    const kind = created ? "created" : changed ? "updated" : "unchanged";
    return { kind, orderNo: no, status: order!.status as OrderStatus };
  }

  /** SKUs among `skus` with no product. */
  private async unknownSkus(skus: string[]): Promise<string[]> {
    const want = [...new Set(skus)];
    const found = await this.store.products.find({ _id: { $in: want } }).select({ _id: 1 }).lean<{ _id: string }[]>();
    const have = new Set(found.map((f) => f._id));
    return want.filter((s) => !have.has(s));
  }

  private newOrder(m: OrderInput, actor: string): OrderDoc {
    const tz = this.opts.timeZone;
    const now = this.clock.now();
    const items = m.items!;
    const status: OrderStatus = impliedStatus(m) ?? "pending";
    const createdAt = m.createdAt ?? now;
    const subtotal = m.subtotal ?? items.reduce((s, i) => s + i.qty * i.unitPrice, 0);
    const discount = m.discount ?? 0;
    const shipping = m.shipping ?? 0;
    const isPaid = PAID_STATUSES.includes(status) || (status === "cancelled" && m.paidAt !== undefined);
    const paidAt = isPaid ? (m.paidAt ?? createdAt) : undefined;
    const shipped = (status === "shipped" || status === "delivered" || (status === "refunded" && m.shipment?.shippedAt !== undefined));
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
      history: [{ status, at: now, by: actor, note: m.note ?? "ingested" }],
      effects: {},
    };
    if (m.couponCode) doc.couponCode = m.couponCode;
    if (paidAt) Object.assign(doc, { paidAt, paidDay: localDay(paidAt, tz) });
    if (m.shipment || shipped) {
      doc.shipment = { ...m.shipment, ...(shipped ? { shippedAt: m.shipment?.shippedAt ?? paidAt ?? createdAt } : {}) };
    }
    if (status === "delivered") doc.deliveredAt = m.deliveredAt ?? now;
    if (status === "cancelled") doc.cancelledAt = m.cancelledAt ?? now;
    return doc as unknown as OrderDoc;
  }

  /**
   * One guarded update of an existing order (filter: its status as read), retried when
   * another delivery changed it in between.
   */
  private async update(existing: OrderDoc, m: OrderInput, actor: string): Promise<{ order: OrderDoc; changed: boolean } | OrderIngestResult> {
    const tz = this.opts.timeZone;
    let cur = existing;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const now = this.clock.now();
      const from = cur.status as OrderStatus;
      const target = impliedStatus(m);
      const set: Record<string, unknown> = {};
      const history: { status: string; at: Date; by: string; note: string }[] = [];
      let steps: OrderStatus[] = [];
      if (target && target !== from) {
        const path = pathTo(from, target);
        if (path) steps = path;
        else if (!pathTo(target, from)) return { kind: "invalid_transition", orderNo: m.orderNo, from, to: target };
        // else: a late message; the order is already past it.
      }
      for (const s of steps) {
        history.push({ status: s, at: now, by: actor, note: m.note ?? "ingested" });
        if (s === "paid" && !cur.paidAt) {
          const paidAt = m.paidAt ?? now;
          Object.assign(set, { paidAt, paidDay: localDay(paidAt, tz) });
        }
        if (s === "shipped" && !cur.shipment?.shippedAt) set["shipment.shippedAt"] = m.shipment?.shippedAt ?? now;
        if (s === "delivered" && !cur.deliveredAt) set.deliveredAt = m.deliveredAt ?? now;
        if (s === "cancelled" && !cur.cancelledAt) set.cancelledAt = m.cancelledAt ?? now;
      }
      if (steps.length) set.status = target;
      // Details that only fill in or correct what the order holds (tracking, carrier, coupon).
      if (m.shipment?.carrier && m.shipment.carrier !== cur.shipment?.carrier) set["shipment.carrier"] = m.shipment.carrier;
      if (m.shipment?.trackingNo && m.shipment.trackingNo !== cur.shipment?.trackingNo) set["shipment.trackingNo"] = m.shipment.trackingNo;
      if (m.couponCode && m.couponCode !== cur.couponCode) set.couponCode = m.couponCode;
      if (Object.keys(set).length === 0) return { order: cur, changed: false };
      const upd: Record<string, unknown> = { $set: set };
      if (history.length) upd.$push = { history: { $each: history } };
      const after = await this.store.orders
        .findOneAndUpdate({ _id: cur._id, status: from }, upd, { returnDocument: "after" })
        .lean<OrderDoc>();
      if (after) return { order: after, changed: true };
      const again = await this.store.orders.findById(cur._id).lean<OrderDoc>();
      if (!again) return { kind: "conflict", orderNo: m.orderNo };
      cur = again;
    }
    return { kind: "conflict", orderNo: m.orderNo };
  }

  /** The effects an order in its current state must have had on products. */
  private wanted(o: OrderDoc): Effect[] {
    const s = o.status as OrderStatus;
    const shipped = s === "shipped" || s === "delivered" || (s === "refunded" && !!o.shipment?.shippedAt);
    const out: Effect[] = ["reserved"];
    if (shipped) out.push("shipped");
    if (s === "cancelled" || (s === "refunded" && !shipped)) out.push("released");
    if (o.paidAt && o.paidDay) {
      out.push("sold");
      if (s === "cancelled") out.push("unsold");
    }
    return out;
  }

  /** Applies each missing effect once per sku, then flags it on the order. */
  async settle(o: OrderDoc): Promise<void> {
    const done = (o.effects ?? {}) as Partial<Record<Effect, boolean>>;
    const todo = this.wanted(o).filter((e) => !done[e]);
    if (!todo.length) return;
    const qty = new Map<string, number>();
    for (const it of o.items) qty.set(it.sku, (qty.get(it.sku) ?? 0) + it.qty);
    const products = this.store.products.collection;
    const one = (sku: string, q: number, e: Effect) => {
      const key = `ord:${o._id}:${e}:${sku}`;
      return products.updateOne(
        { _id: sku as never, appliedKeys: { $ne: key } },
        { $inc: this.delta(e, q, o.paidDay ?? ""), $push: { appliedKeys: { $each: [key], $slice: -KEPT_KEYS } } } as never,
      );
    };
    await Promise.all(
      [...qty].map(async ([sku, q]) => {
        if (todo.length > 1) {
          // The usual case (a new order): every effect in one update, guarded by all its keys.
          const keys = todo.map((e) => `ord:${o._id}:${e}:${sku}`);
          const inc: Record<string, number> = {};
          for (const e of todo) for (const [f, d] of Object.entries(this.delta(e, q, o.paidDay ?? ""))) inc[f] = (inc[f] ?? 0) + d;
          const r = await products.updateOne(
            { _id: sku as never, appliedKeys: { $nin: keys } },
            { $inc: inc, $push: { appliedKeys: { $each: keys, $slice: -KEPT_KEYS } } } as never,
          );
          if (r.modifiedCount === 1) return;
        }
        // Some effect already applied (a concurrent or earlier delivery): one by one, each guarded.
        for (const e of todo) await one(sku, q, e);
      }),
    );
    const flags = Object.fromEntries(todo.map((e) => [`effects.${e}`, true]));
    await this.store.orders.updateOne({ _id: o._id }, { $set: flags });
  }

  private delta(e: Effect, q: number, paidDay: string): Record<string, number> {
    switch (e) {
      case "reserved":
        return { reserved: q, available: -q };
      case "shipped":
        return { reserved: -q, onHand: -q };
      case "released":
        return { reserved: -q, available: q };
      case "sold":
        return { [`salesByDay.${paidDay}`]: q };
      case "unsold":
        return { [`salesByDay.${paidDay}`]: -q };
    }
  }

  /** Keeps an update for an order not yet known; applies it at once if the order appeared meanwhile. */
  private async park(m: OrderInput, actor: string): Promise<OrderIngestResult> {
    const payload = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
    const id = `${m.orderNo}:${createHash("sha256").update(JSON.stringify(payload)).digest("hex").slice(0, 24)}`;
    try {
      await this.store.parkedOrderUpdates.create({ _id: id, orderNo: m.orderNo, payload, actor, at: this.clock.now() });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    // The create may have landed between our read and the park: it drained before we parked.
    if (await this.store.orders.exists({ _id: m.orderNo })) await this.drain(m.orderNo);
    return { kind: "parked", orderNo: m.orderNo };
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
        const u = await this.update(existing, r.data, p.actor);
        if (!("kind" in u)) await this.settle(u.order);
      }
      await this.store.parkedOrderUpdates.deleteOne({ _id: p._id });
    }
  }
}
