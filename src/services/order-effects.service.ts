import type { OrderDoc, Store } from "../store/models.js";
import { PAID_STATUSES, type OrderStatus } from "./order-status.js";
import { chunked, duplicateIndexes, incAsDoubles, isDuplicateKey } from "../store/writes.js";
import { PRODUCT_KEPT_KEYS } from "./stock.service.js";

/** The effects an order has on products and on the daily sales rollup, each applied once. */
type Effect = "reserved" | "shipped" | "released" | "sold" | "unsold" | "movedOut" | "movedIn";


/**
 * How many applied keys a day's rollup remembers. Every order of the day passes through the
 * same document, so its window is wider than a product's; a key only has to outlive the
 * moments between the rollup update and the order's effect flag (see {@link OrderEffects}).
 */
const KEPT_DAY_KEYS = 1_000;
/**
 * At most this many keys are pushed on one target by one flush round, well under what the
 * target remembers, so a round's keys outlive the round even with other writers around.
 */
const KEYS_PER_ROUND = { products: 50, salesDays: 400 } as const;

/** The `_id` of the rollup document of a shop-local day and a currency. */
export function salesDayId(day: string, currency: string): string {
  return `${day}|${currency}`;
}

/** What deciding an order's effects reads of it. */
type EffectFacts = Pick<OrderDoc, "status" | "shipment" | "paidAt" | "paidDay"> & { paidMovedFrom?: string | null };

/** The effects an order in its current state must have had (see {@link OrderEffects}). */
export function wantedEffects(o: EffectFacts): Effect[] {
  const s = o.status as OrderStatus;
  const shipped = s === "shipped" || s === "delivered" || (s === "refunded" && !!o.shipment?.shippedAt);
  const out: Effect[] = ["reserved"];
  if (shipped) out.push("shipped");
  if (s === "cancelled" || (s === "refunded" && !shipped)) out.push("released");
  if (o.paidAt && o.paidDay) {
    out.push("sold");
    if (s === "cancelled") out.push("unsold");
    // Counted on the filled-in payment day, then the real payment time came: moved once.
    if (o.paidMovedFrom && o.paidMovedFrom !== o.paidDay) out.push("movedOut", "movedIn");
  }
  return out;
}

/**
 * The version of the rollup's fields. Documents written since units and discount were added
 * carry it (set on insert and by a rebuild); the digest trusts only those for its comparison
 * days, and reads the orders of a day whose document is older. Coupon uses are not kept: a
 * coupon code may be added to an order after payment, which no effect would follow.
 */
export const ROLLUP_VERSION = 2;

/** The sums a day's rollup keeps, per paid day and currency (see {@link OrderEffects}). */
export interface SalesSums {
  /** Sum of `total` of the orders paid on the day whose status is a paid status. */
  gmv: number;
  /** Number of those orders. */
  orders: number;
  /** Item quantities in them. */
  units: number;
  /** Sum of their `discount`. */
  discount: number;
}

/** A day's rollup as computed from its orders. */
export interface SalesDayTotals extends SalesSums {
  _id: string;
  day: string;
  currency: string;
  v: number;
}

/** The fields of {@link SalesSums}. */
export const SUM_FIELDS = ["gmv", "orders", "units", "discount"] as const satisfies readonly (keyof SalesSums)[];

/** What the rollup needs of an order. */
type SaleFacts = { total: number; currency: string; items: readonly { qty: number }[]; discount?: number | null };

/** An order's part of its paid day's sums (negated with `sign` −1 when it leaves them). */
function saleSums(o: SaleFacts, sign = 1): SalesSums {
  let units = 0;
  for (const it of o.items) units += it.qty;
  return { gmv: sign * o.total, orders: sign, units: sign * units, discount: sign * (o.discount ?? 0) };
}

/**
 * The rollup documents of `orders` computed in code (for seeding and rebuilding): per paid
 * day and currency, the sums over orders whose status is a paid status.
 */
export function salesDayTotals(orders: Iterable<SaleFacts & { status: string; paidDay?: string | null }>, into = new Map<string, SalesDayTotals>()): Map<string, SalesDayTotals> {
  for (const o of orders) {
    if (!o.paidDay || !PAID_STATUSES.includes(o.status as OrderStatus)) continue;
    const id = salesDayId(o.paidDay, o.currency);
    const cur = into.get(id) ?? { _id: id, day: o.paidDay, currency: o.currency, v: ROLLUP_VERSION, gmv: 0, orders: 0, units: 0, discount: 0 };
    const sums = saleSums(o);
    for (const k of SUM_FIELDS) cur[k] += sums[k];
    into.set(id, cur);
  }
  return into;
}

/** The `effects` flags of an order written whole with its effects already reflected (seeding). */
export function effectsDone(o: EffectFacts): Partial<Record<Effect, boolean>> {
  return Object.fromEntries(wantedEffects(o).map((e) => [e, true]));
}

/** The paid day an effect changes: the day the sales move away from, for `movedOut`. */
function effectDay(e: Effect, o: { paidDay?: string | null; paidMovedFrom?: string | null }): string {
  return (e === "movedOut" ? o.paidMovedFrom : o.paidDay) ?? "";
}

/** A product's or a rollup's change for one effect (`paidDay`: its {@link effectDay}). */
function productDelta(e: Effect, q: number, paidDay: string): Record<string, number> {
  switch (e) {
    case "reserved":
      return { reserved: q, available: -q };
    case "shipped":
      return { reserved: -q, onHand: -q };
    case "released":
      return { reserved: -q, available: q };
    case "sold":
    case "movedIn":
      return { [`salesByDay.${paidDay}`]: q };
    case "unsold":
    case "movedOut":
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

/** One-letter tags of the effects in idempotency keys (short keys keep documents small). */
const TAG: Record<Effect, string> = { reserved: "r", shipped: "s", released: "l", sold: "d", unsold: "u", movedOut: "mo", movedIn: "mi" };
/** Orders settled by one flush at most; more wait for the next. */
const MAX_FLUSH_ORDERS = 2_000;
/** Orders a repair reads at a time. */
const REPAIR_PAGE = 1_000;

/** Options of a repair pass. */
export interface RepairOptions {
  /** Stops between pages once aborted (a job past its timeout). */
  signal?: AbortSignal;
  /** Called after each full page with the instant before which every order was checked. */
  onPage?: (checkedBefore: Date) => Promise<void>;
  pageSize?: number;
}
/** What deciding and applying an order's effects reads of it. */
const SETTLE_FIELDS = { status: 1, shipment: 1, paidAt: 1, paidDay: 1, paidMovedFrom: 1, effects: 1, items: 1, currency: 1, total: 1, discount: 1 } as const;

/** A settle request waiting for its flush. */
interface Waiter {
  orders: OrderDoc[];
  done: (e?: unknown) => void;
}

/**
 * Applies what an order implies outside itself, exactly once per (order, effect, target),
 * whatever the writer (ingestion, `order ship|cancel`, a refund) and however often it runs:
 *
 * - products: stock reserved at creation, reserved → decremented at shipment, released at
 *   cancellation (or a refund before shipment), `salesByDay[paidDay]` on payment, taken back
 *   if a paid order is cancelled (velocity counts paid, non-cancelled orders);
 * - the daily sales rollup (`sales_days`, one document per paid day and currency): GMV, paid
 *   orders, units and discount (fixed at creation), added on payment and taken back when a paid order
 *   is cancelled, which is exactly the digest's definition (paid on the day, status still a
 *   paid status: a refund keeps it).
 *
 * Each change is a single-document update whose filter excludes its idempotency keys
 * (`appliedKeys: {$nin}`, a key is `o:<orderNo>:<effect tag>` within the target) and which
 * pushes them; then the order gets `effects.<effect>: true`. A crash between the two is
 * finished by the next settle of the order, which the keys make harmless.
 *
 * Group commit: settles requested while a flush runs wait for the next one, which applies
 * them all with one update per target (the summed change, guarded by all its keys) sent in
 * one bulk write per collection, then one flag update per set of effects. Under load a hot
 * product gets one update per flush instead of one per order. When any of those updates
 * misses (a key applied already by another process, a deleted product), the flush applies
 * every step again one by one, each guarded by its own key.
 *
 * Orders without an `effects` field were written directly to the database (old data,
 * fixtures): they are not tracked, and their rollups are rebuilt by
 * DigestService.rebuildRollups.
 */
export class OrderEffects {
  private waiting: Waiter[] = [];
  private flushing = false;

  constructor(private readonly store: Store) {}

  /**
   * Finishes the effects of tracked orders changed in [`since`, `until`) that miss some (a
   * writer that died between its order write and its settle, and no retry came): reads those
   * orders (by the `changedAt` index) and settles the ones with effects to apply. Safe beside
   * live writers: every step is guarded by its key.
   */
  async repair(since: Date, until: Date, opts: RepairOptions = {}): Promise<{ checked: number; repaired: string[]; stopped: boolean }> {
    return this.repairWhere({ changedAt: { $gte: since, $lt: until } }, "changedAt", opts);
  }

  /**
   * Finishes the effects of the tracked orders paid on the days `from`..`to` that miss some: run
   * by `digest rebuild` first, so the rollup it recomputes from the orders is never added to
   * again by a late settle of an order it already counted.
   */
  async repairPaidDays(from: string, to: string): Promise<{ checked: number; repaired: string[] }> {
    // Also the orders whose sales move away from those days (a corrected payment time).
    const days = { $gte: from, $lte: to };
    return this.repairWhere({ $or: [{ paidDay: days }, { paidMovedFrom: days }] }, "paidDay");
  }

  /** Pages through the tracked orders matching `filter` in `key` order, settling those missing effects. */
  private async repairWhere(filter: Record<string, unknown>, key: "changedAt" | "paidDay", opts: RepairOptions = {}): Promise<{ checked: number; repaired: string[]; stopped: boolean }> {
    const pageSize = opts.pageSize ?? REPAIR_PAGE;
    let checked = 0;
    const repaired: string[] = [];
    let after: { k: unknown; id: string } | undefined;
    for (;;) {
      const base = { ...filter, effects: { $exists: true } };
      const page = await this.store.orders
        .find(after ? { $and: [base, { $or: [{ [key]: { $gt: after.k } }, { [key]: after.k, _id: { $gt: after.id } }] }] } : base)
        .sort({ [key]: 1, _id: 1 })
        .limit(pageSize)
        .select({ ...SETTLE_FIELDS, [key]: 1 })
        .lean<OrderDoc[]>();
      checked += page.length;
      const broken = page.filter((o) => missingEffects(o).length > 0);
      if (broken.length) await this.settleMany(broken);
      repaired.push(...broken.map((o) => o._id));
      if (page.length < pageSize) return { checked, repaired, stopped: false };
      const last = page.at(-1)!;
      after = { k: last[key], id: last._id };
      // Everything before the page's last key is checked (its ties may not be).
      if (key === "changedAt" && opts.onPage) await opts.onPage(new Date((last.changedAt as Date).getTime() - 1));
      if (opts.signal?.aborted) return { checked, repaired, stopped: true };
    }
  }

  /** Applies each missing effect of a tracked order (no-op for untracked ones). */
  settle(o: OrderDoc): Promise<void> {
    return this.settleMany([o]);
  }

  /** Resolves once every missing effect of the tracked `orders` is applied. */
  settleMany(orders: OrderDoc[]): Promise<void> {
    const work = orders.filter((o) => o.effects && missingEffects(o).length);
    if (!work.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ orders: work, done: (e) => (e === undefined ? resolve() : reject(e as Error)) });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length) {
        const group: Waiter[] = [];
        let n = 0;
        while (this.waiting.length && (n === 0 || n + this.waiting[0]!.orders.length <= MAX_FLUSH_ORDERS)) {
          const w = this.waiting.shift()!;
          group.push(w);
          n += w.orders.length;
        }
        try {
          await this.flush(group.flatMap((w) => w.orders));
          for (const w of group) w.done();
        } catch {
          // Keep one caller's failure from failing the others: each alone (safe, keys guard).
          for (const w of group) await this.flush(w.orders).then(() => w.done(), (e: unknown) => w.done(e ?? new Error("settle failed")));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Applies the missing effects of `orders` (see the class comment), then flags them. */
  private async flush(orders: OrderDoc[]): Promise<void> {
    // Per order: its missing effects (a union when it comes twice: concurrent deliveries; its
    // effects only grow as its status moves on) and the steps they make.
    const perOrder = new Map<string, { todo: Set<Effect>; steps: Map<string, Step> }>();
    for (const o of orders) {
      const cur = perOrder.get(o._id) ?? { todo: new Set<Effect>(), steps: new Map<string, Step>() };
      perOrder.set(o._id, cur);
      const qty = new Map<string, number>();
      for (const it of o.items) qty.set(it.sku, (qty.get(it.sku) ?? 0) + it.qty);
      for (const e of missingEffects(o)) {
        cur.todo.add(e);
        const key = `o:${o._id}:${TAG[e]}`;
        const day = effectDay(e, o);
        for (const [sku, q] of qty) cur.steps.set(`products|${sku}|${key}`, { coll: "products", id: sku, key, inc: productDelta(e, q, day) });
        if (e === "sold" || e === "unsold" || e === "movedOut" || e === "movedIn") {
          const id = salesDayId(day, o.currency);
          cur.steps.set(`salesDays|${id}|${key}`, { coll: "salesDays", id, key, inc: { ...saleSums(o, e === "sold" || e === "movedIn" ? 1 : -1) } });
        }
      }
    }
    // Rounds in which no target takes more than KEYS_PER_ROUND keys: one update per target
    // per round, and a round's keys all stay in the target's window until its flags are set.
    let round: [string, { todo: Set<Effect>; steps: Map<string, Step> }][] = [];
    let load = new Map<string, number>();
    for (const entry of perOrder) {
      const targets = new Map<string, number>();
      for (const st of entry[1].steps.values()) targets.set(`${st.coll}|${st.id}`, (targets.get(`${st.coll}|${st.id}`) ?? 0) + 1);
      const cap = (t: string) => KEYS_PER_ROUND[t.slice(0, t.indexOf("|")) as Step["coll"]];
      if ([...targets].some(([t, n]) => (load.get(t) ?? 0) + n > cap(t))) {
        await this.flushRound(round);
        round = [];
        load = new Map();
      }
      round.push(entry);
      for (const [t, n] of targets) load.set(t, (load.get(t) ?? 0) + n);
    }
    await this.flushRound(round);
  }

  private async flushRound(round: [string, { todo: Set<Effect>; steps: Map<string, Step> }][]): Promise<void> {
    if (!round.length) return;
    const byTarget = new Map<string, Step[]>();
    for (const [, { steps }] of round) {
      for (const st of steps.values()) {
        const k = `${st.coll}|${st.id}`;
        const g = byTarget.get(k);
        if (g) g.push(st);
        else byTarget.set(k, [st]);
      }
    }
    if (!(await this.applyAtOnce([...byTarget.values()]))) {
      // Some update missed: every step on its own, guarded by its key (landed ones are no-ops).
      await Promise.all(
        [...byTarget.values()].map(async (g) => {
          for (const st of g) await this.applyOne(st);
        }),
      );
    }
    const groups = new Map<string, string[]>();
    for (const [no, { todo: t }] of round) {
      const k = [...t].sort().join(",");
      const g = groups.get(k);
      if (g) g.push(no);
      else groups.set(k, [no]);
    }
    const flags = [...groups].map(([k, nos]) => ({
      updateMany: { filter: { _id: { $in: nos } }, update: { $set: Object.fromEntries(k.split(",").map((e) => [`effects.${e}`, true])) } },
    }));
    await Promise.all(chunked(flags).map((part) => this.store.orders.bulkWrite(part, { ordered: false })));
  }

  /**
   * One update per op (a target and up to KEYS_PER_ROUND of its steps: the summed change,
   * guarded by all their keys), one bulk write per collection. True when every update landed.
   */
  private async applyAtOnce(ops: Step[][]): Promise<boolean> {
    const lists = { products: [] as object[], salesDays: [] as object[] };
    for (const g of ops) {
      const { coll, id } = g[0]!;
      const keys = g.map((s) => s.key);
      const inc: Record<string, number> = {};
      for (const s of g) add(inc, s.inc);
      lists[coll].push({ updateOne: { filter: { _id: id, appliedKeys: { $nin: keys } }, ...this.change(coll, id, keys, inc) } });
    }
    const run = async (coll: Step["coll"], list: object[]): Promise<boolean> => {
      if (!list.length) return true;
      try {
        const rs = await Promise.all(chunked(list).map((part) => this.store[coll].collection.bulkWrite(part as never[], { ordered: false })));
        return rs.reduce((n, r) => n + r.modifiedCount + r.upsertedCount, 0) === list.length;
      } catch (e) {
        // An upsert whose document holds a key already collides on `_id`: applied before.
        if (duplicateIndexes(e)) return false;
        throw e;
      }
    };
    const [a, b] = await Promise.all([run("products", lists.products), run("salesDays", lists.salesDays)]);
    return a && b;
  }

  /** One step alone, guarded by its own key. */
  private async applyOne(s: Step): Promise<void> {
    const { update, upsert } = this.change(s.coll, s.id, [s.key], s.inc);
    try {
      await this.store[s.coll].collection.updateOne({ _id: s.id as never, appliedKeys: { $nin: [s.key] } }, update as never, { upsert });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  /** The update of a target: the change, its keys pushed (the newest kept); a day's rollup is created on first use. */
  private change(coll: Step["coll"], id: string, keys: string[], inc: Record<string, number>): { update: object; upsert: boolean } {
    // updatedAt as mongoose would set it, wall time and not the injected clock: it is a change
    // marker the low-stock scan compares with its wall-time watermark (products changed since its last run).
    // Sent as they are (collection updates), as doubles: see incAsDoubles.
    if (coll === "products") return { update: { $inc: incAsDoubles(inc), $push: { appliedKeys: { $each: keys, $slice: -PRODUCT_KEPT_KEYS } }, $set: { updatedAt: new Date() } }, upsert: false };
    const [day, currency] = id.split("|");
    return { update: { $inc: incAsDoubles(inc), $push: { appliedKeys: { $each: keys, $slice: -KEPT_DAY_KEYS } }, $setOnInsert: { day, currency, v: ROLLUP_VERSION } }, upsert: true };
  }
}

/** The effects of a tracked order not applied yet. */
export function missingEffects(o: OrderDoc): Effect[] {
  const done = (o.effects ?? {}) as Partial<Record<Effect, boolean>>;
  return wantedEffects(o).filter((e) => !done[e]);
}
