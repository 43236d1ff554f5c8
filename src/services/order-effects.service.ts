import type { OrderDoc, Store } from "../store/models.js";
import { PAID_STATUSES, type OrderStatus } from "./order-status.js";

/** The effects an order has on products and on the daily sales rollup, each applied once. */
export type Effect = "reserved" | "shipped" | "released" | "sold" | "unsold";

/** How many applied keys a product remembers (as StockService.adjust). */
const KEPT_KEYS = 100;
/**
 * How many applied keys a day's rollup remembers. Every order of the day passes through the
 * same document, so its window is wider than a product's; a key only has to outlive the
 * moments between the rollup update and the order's effect flag (see {@link OrderEffects}).
 */
const KEPT_DAY_KEYS = 1_000;
/** At most this many keys are pushed by one update, so none is sliced away at once. */
const KEYS_PER_UPDATE = 50;

/** The `_id` of the rollup document of a shop-local day and a currency. */
export function salesDayId(day: string, currency: string): string {
  return `${day}|${currency}`;
}

/** The effects an order in its current state must have had (see {@link OrderEffects}). */
export function wantedEffects(o: Pick<OrderDoc, "status" | "shipment" | "paidAt" | "paidDay">): Effect[] {
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

/** A day's rollup as computed from its orders. */
export interface SalesDayTotals {
  _id: string;
  day: string;
  currency: string;
  gmv: number;
  orders: number;
}

/**
 * The rollup documents of `orders` computed in code (for seeding and rebuilding): per paid
 * day and currency, the GMV and count of orders whose status is a paid status.
 */
export function salesDayTotals(orders: Iterable<{ status: string; total: number; currency: string; paidDay?: string | null }>, into = new Map<string, SalesDayTotals>()): Map<string, SalesDayTotals> {
  for (const o of orders) {
    if (!o.paidDay || !PAID_STATUSES.includes(o.status as OrderStatus)) continue;
    const id = salesDayId(o.paidDay, o.currency);
    const cur = into.get(id) ?? { _id: id, day: o.paidDay, currency: o.currency, gmv: 0, orders: 0 };
    cur.gmv += o.total;
    cur.orders++;
    into.set(id, cur);
  }
  return into;
}

/** The `effects` flags of an order written whole with its effects already reflected (seeding). */
export function effectsDone(o: Pick<OrderDoc, "status" | "shipment" | "paidAt" | "paidDay">): Partial<Record<Effect, boolean>> {
  return Object.fromEntries(wantedEffects(o).map((e) => [e, true]));
}

/** A product's or a rollup's change for one effect. */
function productDelta(e: Effect, q: number, paidDay: string): Record<string, number> {
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

function add(into: Record<string, number>, d: Record<string, number>): void {
  for (const [f, v] of Object.entries(d)) into[f] = (into[f] ?? 0) + v;
}

/** One guarded `$inc` a settle wants: on a product (by sku) or on a day's rollup. */
interface Step {
  coll: "products" | "salesDays";
  id: string;
  key: string;
  inc: Record<string, number>;
}

/**
 * Applies what an order implies outside itself, exactly once per (order, effect, target),
 * whatever the writer (ingestion, `order ship|cancel`, a refund) and however often it runs:
 *
 * - products: stock reserved at creation, reserved → decremented at shipment, released at
 *   cancellation (or a refund before shipment), `salesByDay[paidDay]` on payment, taken back
 *   if a paid order is cancelled (velocity counts paid, non-cancelled orders);
 * - the daily sales rollup (`sales_days`, one document per paid day and currency): GMV and
 *   paid orders, +1 on payment and −1 when a paid order is cancelled, which is exactly the
 *   digest's definition (paid on the day, status still a paid status: a refund keeps it).
 *
 * Each is one single-document update with the idempotency key `ord:<no>:<effect>:<target>`
 * in its filter (`appliedKeys: {$nin}`) and pushed by the same update; then the order gets
 * `effects.<effect>: true`. A crash between the two is finished by the next settle of the
 * order, which the key makes harmless. Orders without an `effects` field were written
 * directly to the database (old data, fixtures): they are not tracked, and their rollups are
 * rebuilt by {@link DigestService.rebuildRollups}.
 */
export class OrderEffects {
  constructor(private readonly store: Store) {}

  /** Applies each missing effect of a tracked order (no-op for untracked ones). */
  async settle(o: OrderDoc): Promise<void> {
    await this.settleMany([o]);
  }

  /**
   * Settles several orders with as few updates as possible: per target, one update carrying
   * the summed change of every order, guarded by all their keys. When any key is found
   * already applied (a concurrent or earlier settle), that target falls back to one update
   * per key, each guarded by its own.
   */
  async settleMany(orders: OrderDoc[]): Promise<void> {
    const steps: Step[] = [];
    const todoOf = new Map<string, Effect[]>();
    for (const o of orders) {
      if (!o.effects) continue;
      const done = o.effects as Partial<Record<Effect, boolean>>;
      const todo = wantedEffects(o).filter((e) => !done[e]);
      if (!todo.length) continue;
      todoOf.set(o._id, todo);
      const qty = new Map<string, number>();
      for (const it of o.items) qty.set(it.sku, (qty.get(it.sku) ?? 0) + it.qty);
      for (const e of todo) {
        for (const [sku, q] of qty) steps.push({ coll: "products", id: sku, key: `ord:${o._id}:${e}:${sku}`, inc: productDelta(e, q, o.paidDay ?? "") });
        if (e === "sold" || e === "unsold") {
          const sign = e === "sold" ? 1 : -1;
          steps.push({ coll: "salesDays", id: salesDayId(o.paidDay!, o.currency), key: `ord:${o._id}:${e}`, inc: { gmv: sign * o.total, orders: sign } });
        }
      }
    }
    if (!steps.length) return;
    const byTarget = new Map<string, Step[]>();
    for (const s of steps) {
      const k = `${s.coll}\u0000${s.id}`;
      const g = byTarget.get(k);
      if (g) g.push(s);
      else byTarget.set(k, [s]);
    }
    const targets = [...byTarget.values()];
    if (!(await this.applyAllAtOnce(targets))) {
      // Something was applied already (a concurrent or earlier settle) or is missing: target by
      // target, each key guarding itself. Keys of updates that did land make those no-ops.
      await Promise.all(targets.map((g) => this.applyTarget(g)));
    }
    // Flags, grouped by the set of effects applied (usually one or two groups per batch).
    const groups = new Map<string, string[]>();
    for (const [no, todo] of todoOf) {
      const k = todo.join(",");
      const g = groups.get(k);
      if (g) g.push(no);
      else groups.set(k, [no]);
    }
    await this.store.orders.bulkWrite(
      [...groups].map(([k, nos]) => ({
        updateMany: { filter: { _id: { $in: nos } }, update: { $set: Object.fromEntries(k.split(",").map((e) => [`effects.${e}`, true])) } },
      })),
      { ordered: false },
    );
  }

  /**
   * The usual case in one round trip per collection: per target, one update of the summed
   * change guarded by all its keys. True when every update landed; false (after applying
   * what it could) when one found a key applied already or no document.
   */
  private async applyAllAtOnce(targets: Step[][]): Promise<boolean> {
    if (targets.some((g) => g.length > KEYS_PER_UPDATE)) return false;
    const ops = { products: [] as object[], salesDays: [] as object[] };
    for (const g of targets) {
      const { coll, id } = g[0]!;
      const keys = g.map((s) => s.key);
      const inc: Record<string, number> = {};
      for (const s of g) add(inc, s.inc);
      const push = { appliedKeys: { $each: keys, $slice: coll === "products" ? -KEPT_KEYS : -KEPT_DAY_KEYS } };
      if (coll === "products") ops.products.push({ updateOne: { filter: { _id: id, appliedKeys: { $nin: keys } }, update: { $inc: inc, $push: push } } });
      else {
        const [day, currency] = id.split("|");
        ops.salesDays.push({ updateOne: { filter: { _id: id, appliedKeys: { $nin: keys } }, update: { $inc: inc, $push: push, $setOnInsert: { day, currency } }, upsert: true } });
      }
    }
    const run = async (coll: "products" | "salesDays", list: object[]): Promise<boolean> => {
      if (!list.length) return true;
      try {
        const r = await this.store[coll].collection.bulkWrite(list as never[], { ordered: false });
        return r.modifiedCount + r.upsertedCount === list.length;
      } catch (e) {
        // An upsert whose document holds a key already collides on `_id`: applied before.
        if ((e as { code?: number }).code === 11000 || (e as { writeErrors?: unknown[] }).writeErrors) {
          const errs = ([] as { code?: number }[]).concat((e as { writeErrors?: { code?: number }[] }).writeErrors ?? []);
          if (errs.every((w) => w.code === 11000)) return false;
        }
        throw e;
      }
    };
    const [a, b] = await Promise.all([run("products", ops.products), run("salesDays", ops.salesDays)]);
    return a && b;
  }

  /** Applies the steps of one target, in chunks of keys, each chunk once. */
  private async applyTarget(steps: Step[]): Promise<void> {
    for (let i = 0; i < steps.length; i += KEYS_PER_UPDATE) {
      const chunk = steps.slice(i, i + KEYS_PER_UPDATE);
      if (chunk.length > 1) {
        const inc: Record<string, number> = {};
        for (const s of chunk) add(inc, s.inc);
        if ((await this.update(chunk[0]!.coll, chunk[0]!.id, chunk.map((s) => s.key), inc)) === "applied") continue;
      }
      // Some key already applied (or a single step): one by one, each guarded by its own key.
      for (const s of chunk) await this.update(s.coll, s.id, [s.key], s.inc);
    }
  }

  private async update(coll: Step["coll"], id: string, keys: string[], inc: Record<string, number>): Promise<"applied" | "missed"> {
    const push = { appliedKeys: { $each: keys, $slice: coll === "products" ? -KEPT_KEYS : -KEPT_DAY_KEYS } };
    if (coll === "products") {
      const r = await this.store.products.collection.updateOne({ _id: id as never, appliedKeys: { $nin: keys } }, { $inc: inc, $push: push } as never);
      return r.modifiedCount === 1 ? "applied" : "missed";
    }
    // The day's document may not exist yet: upsert. When it exists and holds a key, the
    // upsert's insert collides on `_id` (E11000): that means applied already.
    const [day, currency] = id.split("|");
    try {
      const r = await this.store.salesDays.collection.updateOne(
        { _id: id as never, appliedKeys: { $nin: keys } },
        { $inc: inc, $push: push, $setOnInsert: { day, currency } } as never,
        { upsert: true },
      );
      return r.modifiedCount === 1 || r.upsertedCount === 1 ? "applied" : "missed";
    } catch (e) {
      if ((e as { code?: number }).code === 11000) return "missed";
      throw e;
    }
  }
}
