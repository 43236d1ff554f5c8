import type { Clock } from "../core/clock.js";
import { addDays, dayFirst, dayStart, daysInMonth, isDay, localDay, readDateInput, weekdayDay, type Formatter } from "../core/format.js";
import type { Translate } from "../core/messages.js";
import { chunked } from "../store/writes.js";
import type { Store } from "../store/models.js";
import type { Logger } from "../core/logger.js";
import { ROLLUP_VERSION, salesDayId, salesDayTotals, SUM_FIELDS, type OrderEffects, type SalesDayTotals, type SalesSums } from "./order-effects.service.js";
import { PAID_STATUSES, type OrderStatus } from "./order-status.js";
import type { StockService, StockView } from "./stock.service.js";

// Every figure is computed in code from projected finds on indexed local-day
// fields (paidDay, refunds.day, complaint day/resolvedDay): no multi-accumulator
// $group (FerretDB computes only the first), and the same answer on MongoDB. The
// chart's other 11 days come from the daily rollup (sales_days), kept by OrderEffects.
// The exact definitions are in the README, "Digest figures".

/** Sales figures of one shop-local day. Money in minor units of the shop currency. */
export interface SalesFigures {
  day: string;
  /** Sum of `total` of orders paid on the day whose status is still a paid status. */
  gmv: number;
  /** Number of those orders. */
  orders: number;
  /** Units (item quantities) in those orders. */
  units: number;
  /** gmv ÷ orders, rounded to a minor unit; null without orders. */
  aov: number | null;
  /** Refunds executed on the day (any order paid any day, cancelled orders aside). */
  refunds: number;
  refundCount: number;
  /** refunds ÷ gmv; null when gmv is 0. */
  refundRate: number | null;
  /** gmv − refunds. */
  net: number;
  /** Sum of `discount` of the paid orders. */
  discount: number;
  /** Paid orders carrying a coupon code. */
  couponUses: number;
  /** Distinct customers of the paid orders with no earlier paid order. */
  newCustomers: number;
  /** Distinct customers of the paid orders with an earlier paid order. */
  returningCustomers: number;
  /** Line revenue (qty × unit price) and units per SKU, all SKUs (the digest's day only: empty for the comparison days). */
  bySku: Map<string, { revenue: number; units: number }>;
  /** Order totals per sales channel (the digest's day only: empty for the comparison days). */
  byChannel: Map<string, number>;
  /** Paid orders on the day in another currency than the shop's: left out of every figure. */
  otherCurrency: number;
  /** Refunds executed on the day on orders in another currency: left out of the refund figures. */
  otherCurrencyRefunds: number;
}

/** Complaint figures of one day. */
export interface ComplaintFigures {
  opened: number;
  resolved: number;
  /** Open at the end of the day (or now, for today) past their resolution due time. */
  overdue: number;
}

/** A ranked product line. */
export interface ProductLine {
  sku: string;
  /** Its name in the catalog now; null when the SKU is not in the catalog (any more). */
  name: string | null;
  revenue: number;
  units: number;
}

/** Everything the digest shows for one day. */
export interface Digest {
  day: string;
  /** True when the day is today: figures so far. */
  partial: boolean;
  currency: string;
  /** The day, the day before, and the same weekday a week before. */
  sales: { day: SalesFigures; prev: SalesFigures; week: SalesFigures };
  complaints: { day: ComplaintFigures; prev: ComplaintFigures; week: ComplaintFigures };
  topByRevenue: ProductLine[];
  topByUnits: ProductLine[];
  /** Line revenue per product category, largest first; key null: products not in the catalog. */
  byCategory: { key: string | null; revenue: number }[];
  /** Order totals per channel, largest first. */
  byChannel: { key: string; revenue: number }[];
  lowStock: { count: number; worst: StockView[] };
  /** The 14 days ending with the day: GMV and paid orders (chart). */
  series: { day: string; gmv: number; orders: number }[];
  /**
   * Set only when the day, or the first day of its chart, has no paid orders: the first day any
   * order was paid (null: none ever), so a day before the shop's data began is said to be so
   * (the day itself, a day it is compared with, a day of the chart), not shown as a day without sales.
   */
  firstPaidDay?: string | null;
}

/** The projection of an order the sales figures need. */
interface SaleRow {
  _id: string;
  paidDay: string;
  status: OrderStatus;
  total: number;
  discount?: number;
  currency: string;
  channel: string;
  couponCode?: string | null;
  customerId: string;
  items: { sku: string; qty: number; unitPrice: number }[];
}

interface RefundRow {
  _id: string;
  status: OrderStatus;
  currency: string;
  refunds: { requestId?: string; amount: number; day: string }[];
}

/** The comparison days' light read: what gives their orders, GMV and customers exactly. */
interface LightRow {
  paidDay: string;
  status: OrderStatus;
  currency: string;
  customerId: string;
  total: number;
  couponCode?: string | null;
}

/** A day's sums before refunds and customers are judged. */
interface DaySums extends SalesSums {
  couponUses: number;
  customers: Set<string>;
  bySku: Map<string, { revenue: number; units: number }>;
  byChannel: Map<string, number>;
  otherCurrency: number;
}

const PAID = new Set<string>(PAID_STATUSES);
/** Exactly the fields of the orders index `{paidDay, status, currency, customerId, total, couponCode}`: index-only on MongoDB. */
const LIGHT_FIELDS = { _id: 0, paidDay: 1, status: 1, currency: 1, customerId: 1, total: 1, couponCode: 1 } as const;
const SALE_FIELDS = { _id: 1, paidDay: 1, status: 1, total: 1, discount: 1, currency: 1, channel: 1, couponCode: 1, customerId: 1, items: 1 } as const;

/** Days of the chart. */
export const SERIES_DAYS = 14;

/** Computes the daily sales digest. */
export class DigestService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly stock: StockService,
    private readonly effects: OrderEffects,
    private readonly opts: { timeZone: string; currency: string },
    private readonly logger: Logger,
  ) {}

  /** Today in the shop time zone. */
  today(): string {
    return localDay(this.clock.now(), this.opts.timeZone);
  }

  /**
   * The digest of `day` (YYYY-MM-DD, not after today). Reads, side by side:
   * - the orders paid on the day, and those refunded on any of the three figure days (full
   *   rows: two indexed branches on MongoDB, one scan on FerretDB);
   * - the comparison days' paid orders, light (status, currency, customer, total, coupon:
   *   index-only on MongoDB), which give their orders, GMV, coupon uses and customers exactly;
   * - the 14 days' rollup documents: the chart, and the comparison days' units and discount
   *   (fixed at an order's creation), trusted only when the rollup's orders and GMV equal the light read's (else
   *   that day's orders are read whole, and a warning says to run `digest rebuild`);
   * then which customers had paid before each day (one `distinct` per day, index-only).
   */
  async digest(day: string): Promise<Digest> {
    const prevDay = addDays(day, -1);
    const weekDay = addDays(day, -7);
    const seriesDays = Array.from({ length: SERIES_DAYS }, (_, i) => addDays(day, i - (SERIES_DAYS - 1)));
    const figureDays = [day, prevDay, weekDay];
    const [both, light, rollups, complaints, low] = await Promise.all([
      this.store.orders
        .find({ $or: [{ paidDay: day }, { "refunds.day": { $in: figureDays } }] })
        .select({ ...SALE_FIELDS, refunds: 1 })
        .lean<(SaleRow & RefundRow)[]>(),
      this.store.orders
        .find({ paidDay: { $in: [prevDay, weekDay] } })
        .select(LIGHT_FIELDS)
        .lean<LightRow[]>(),
      this.rollups(seriesDays),
      this.complaints(figureDays),
      this.stock.low(5),
    ]);
    const figDays = new Set(figureDays);
    const refundRows = both.filter((o) => o.refunds?.some((r) => figDays.has(r.day)));
    const sums = new Map<string, DaySums>([[day, this.sumsOf(day, both)]]);
    for (const d of [prevDay, weekDay]) {
      const fromLight = this.sumsOf(d, light);
      const r = rollups.get(d);
      if (r && r.v === ROLLUP_VERSION && r.orders === fromLight.orders && r.gmv === fromLight.gmv) {
        sums.set(d, { ...fromLight, units: r.units, discount: r.discount });
      } else if (fromLight.orders === 0 && (!r || (r.orders === 0 && r.gmv === 0))) {
        sums.set(d, fromLight);
      } else {
        // The rollup is older than its fields, or behind the orders: read the day whole.
        this.logger.warn("daily rollup disagrees with the orders: read them instead; run `digest rebuild` for that day", { day: d, rollup: r ? { v: r.v ?? null, orders: r.orders, gmv: r.gmv } : null, orders: fromLight.orders, gmv: fromLight.gmv });
        const rows = await this.store.orders.find({ paidDay: d }).select(SALE_FIELDS).lean<SaleRow[]>();
        sums.set(d, this.sumsOf(d, rows));
      }
    }
    const returning = await this.returning(sums);
    const fig = (d: string) => this.figures(d, sums.get(d)!, refundRows, returning.get(d)!);
    const cur = fig(day);
    const names = await this.productNames([...cur.bySku.keys()]);
    // A SKU no longer in the catalog has neither name nor category: said so, not shown as its SKU twice or as "—".
    const lines = [...cur.bySku].map(([sku, v]) => ({ sku, name: names.get(sku)?.name ?? null, ...v }));
    const byCategory = new Map<string | null, number>();
    for (const l of lines) {
      const cat = names.get(l.sku)?.category ?? null;
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + l.revenue);
    }
    const prev = fig(prevDay);
    const week = fig(weekDay);
    const exact = new Map([cur, prev, week].map((f) => [f.day, f]));
    // Only on a day without sales, or a chart whose first day has none (one indexed read): is
    // the day, or are days of the chart and the comparisons, before the shop's first sale?
    const first = seriesDays[0]!;
    const firstEmpty = (exact.get(first)?.orders ?? rollups.get(first)?.orders ?? 0) === 0;
    const firstPaidDay = (cur.orders === 0 && cur.otherCurrency === 0) || firstEmpty ? await this.firstPaidDay() : undefined;
    return {
      day,
      partial: day === this.today(),
      currency: this.opts.currency,
      sales: { day: cur, prev, week },
      complaints: { day: complaints[0]!, prev: complaints[1]!, week: complaints[2]! },
      topByRevenue: [...lines].sort((a, b) => b.revenue - a.revenue || b.units - a.units || a.sku.localeCompare(b.sku)).slice(0, 5),
      topByUnits: [...lines].sort((a, b) => b.units - a.units || b.revenue - a.revenue || a.sku.localeCompare(b.sku)).slice(0, 5),
      byCategory: ranked(byCategory),
      byChannel: ranked(cur.byChannel),
      lowStock: { count: low.total, worst: low.items },
      // The three figure days as just computed (exact); the others from the rollup.
      series: seriesDays.map((d) => {
        const f = exact.get(d);
        return f ? { day: d, gmv: f.gmv, orders: f.orders } : { day: d, gmv: rollups.get(d)?.gmv ?? 0, orders: rollups.get(d)?.orders ?? 0 };
      }),
      ...(firstPaidDay !== undefined ? { firstPaidDay } : {}),
    };
  }

  /** The earliest `paidDay` of any order (any status or currency), null when none was ever paid. */
  private async firstPaidDay(): Promise<string | null> {
    const first = await this.store.orders.findOne({ paidDay: { $type: "string" } }).sort({ paidDay: 1 }).select({ _id: 0, paidDay: 1 }).lean<{ paidDay: string }>();
    return first?.paidDay ?? null;
  }

  /**
   * GMV, paid orders, refunds and net summed over `days` (the weekly summary), with the
   * daily figures' definitions: the paid orders counted and their totals summed by the server,
   * grouped by day (two aggregates, one accumulator each, which FerretDB gets right; index-only
   * on MongoDB), so two weeks of orders are never loaded; refunds from the orders refunded on
   * those days.
   */
  async totals(days: readonly string[]): Promise<{ gmv: number; orders: number; refunds: number; refundCount: number; net: number; otherCurrency: number; otherCurrencyRefunds: number }> {
    const match = { $match: { paidDay: { $in: days }, status: { $in: PAID_STATUSES }, currency: this.opts.currency } };
    const [counts, gmvs, refundRows, otherCurrency] = await Promise.all([
      this.store.orders.aggregate<{ n: number }>([match, { $group: { _id: "$paidDay", n: { $sum: 1 } } }]),
      this.store.orders.aggregate<{ gmv: number }>([match, { $group: { _id: "$paidDay", gmv: { $sum: "$total" } } }]),
      this.store.orders
        .find({ "refunds.day": { $in: days } })
        .select({ _id: 0, status: 1, currency: 1, refunds: 1 })
        .lean<RefundRow[]>(),
      // Left out, as the daily digest says of its day.
      this.store.orders.countDocuments({ paidDay: { $in: days }, status: { $in: PAID_STATUSES }, currency: { $ne: this.opts.currency } }),
    ]);
    const sum = { gmv: 0, orders: 0, refunds: 0, refundCount: 0, net: 0, otherCurrency, otherCurrencyRefunds: 0 };
    for (const c of counts) sum.orders += c.n;
    for (const g of gmvs) sum.gmv += g.gmv;
    for (const d of days) {
      const r = this.refundsOn(d, refundRows);
      sum.refunds += r.amount;
      sum.refundCount += r.count;
      sum.otherCurrencyRefunds += r.other;
    }
    sum.net = sum.gmv - sum.refunds;
    return sum;
  }

  /** Subscribes `identity` to the daily digest by DM; false if it already was. */
  async subscribe(identity: string): Promise<boolean> {
    const r = await this.store.digestSubscriptions.updateOne({ _id: identity }, { $setOnInsert: { at: this.clock.now() } }, { upsert: true });
    return r.upsertedCount === 1;
  }

  /** Ends `identity`'s digest DMs; false if it was not subscribed. */
  async unsubscribe(identity: string): Promise<boolean> {
    const r = await this.store.digestSubscriptions.deleteOne({ _id: identity });
    await this.withdrawDirect(identity);
    return r.deletedCount === 1;
  }

  /**
   * Withdraws the digests queued for `identity` by direct message and not sent yet (held by
   * quiet hours, or waiting for a retry): after an unsubscribe, or a role below manager, none
   * may still arrive. One delete of pending messages; one being sent right now goes out.
   */
  async withdrawDirect(identity: string): Promise<number> {
    const r = await this.store.outbox.deleteMany({ kind: "digest", status: "pending", "dest.kind": "user", "dest.identity": identity });
    return r.deletedCount;
  }

  /** Identities subscribed to the digest by DM. */
  async subscribers(): Promise<string[]> {
    const docs = await this.store.digestSubscriptions.find({}).sort({ _id: 1 }).lean();
    return docs.map((d) => d._id);
  }

  /**
   * The sums of the paid orders of day `d` (shop currency), their coupon uses and customers;
   * from whole rows also units, discount, lines and channels (light rows leave those at 0).
   */
  private sumsOf(d: string, rows: (LightRow | SaleRow)[]): DaySums {
    const f: DaySums = { gmv: 0, orders: 0, units: 0, discount: 0, couponUses: 0, customers: new Set(), bySku: new Map(), byChannel: new Map(), otherCurrency: 0 };
    for (const o of rows) {
      if (o.paidDay !== d || !PAID.has(o.status)) continue;
      if (o.currency !== this.opts.currency) {
        f.otherCurrency++;
        continue;
      }
      f.gmv += o.total;
      f.orders++;
      f.customers.add(o.customerId);
      if (o.couponCode) f.couponUses++;
      if (!("items" in o)) continue;
      f.discount += o.discount ?? 0;
      f.byChannel.set(o.channel, (f.byChannel.get(o.channel) ?? 0) + o.total);
      for (const it of o.items) {
        f.units += it.qty;
        const s = f.bySku.get(it.sku) ?? { revenue: 0, units: 0 };
        s.revenue += it.qty * it.unitPrice;
        s.units += it.qty;
        f.bySku.set(it.sku, s);
      }
    }
    return f;
  }

  /**
   * Per day, its customers who had a paid order (paid status now) in the shop currency on an
   * earlier day (an order in another currency is in no figure, so it makes no one returning):
   * one `distinct` per day over the index `{customerId, paidDay, status, currency}` (FerretDB has
   * no `$min` accumulator to do it in one `$group`).
   */
  private async returning(sums: Map<string, DaySums>): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    await Promise.all(
      [...sums].map(async ([d, s]) => {
        if (s.customers.size === 0) return void out.set(d, new Set());
        const ids = await this.store.orders.distinct("customerId", { customerId: { $in: [...s.customers] }, paidDay: { $lt: d }, status: { $in: PAID_STATUSES }, currency: this.opts.currency });
        out.set(d, new Set(ids as string[]));
      }),
    );
    return out;
  }

  /** The figures of day `d` from its sums, the refund rows and its returning customers. */
  private figures(d: string, s: DaySums, refundRows: RefundRow[], returning: Set<string>): SalesFigures {
    const { amount: refunds, count: refundCount, other } = this.refundsOn(d, refundRows);
    let back = 0;
    for (const c of s.customers) if (returning.has(c)) back++;
    return {
      day: d,
      gmv: s.gmv,
      orders: s.orders,
      units: s.units,
      aov: s.orders > 0 ? Math.round(s.gmv / s.orders) : null,
      refunds,
      refundCount,
      refundRate: s.gmv > 0 ? refunds / s.gmv : null,
      net: s.gmv - refunds,
      discount: s.discount,
      couponUses: s.couponUses,
      newCustomers: s.customers.size - back,
      returningCustomers: back,
      bySku: s.bySku,
      byChannel: s.byChannel,
      otherCurrency: s.otherCurrency,
      otherCurrencyRefunds: other,
    };
  }

  /** Executed refunds of day `d` in the shop currency (cancelled orders aside), and how many in another currency. */
  private refundsOn(d: string, rows: RefundRow[]): { amount: number; count: number; other: number } {
    let amount = 0;
    let count = 0;
    let other = 0;
    for (const o of rows) {
      // A cancelled order is void: its sale is in no GMV, so its refunds are in no refund figure.
      if (o.status === "cancelled") continue;
      for (const r of o.refunds) {
        if (r.day !== d) continue;
        if (o.currency !== this.opts.currency) {
          other++;
          continue;
        }
        amount += r.amount;
        count++;
      }
    }
    return { amount, count, other };
  }

  /**
   * The daily rollup documents of `days` (in the shop currency; see OrderEffects): 14 small
   * documents. Days without one had no sales.
   */
  private async rollups(days: string[]): Promise<Map<string, SalesSums & { v?: number }>> {
    const docs = await this.store.salesDays
      .find({ _id: { $in: days.map((d) => salesDayId(d, this.opts.currency)) } })
      .select({ _id: 0, day: 1, v: 1, ...Object.fromEntries(SUM_FIELDS.map((k) => [k, 1])) })
      .lean<(SalesSums & { day: string; v?: number })[]>();
    return new Map(docs.map((d) => [d.day, { ...d, units: d.units ?? 0, discount: d.discount ?? 0 }]));
  }

  /**
   * Recomputes the daily rollup of the paid days `from`..`to` from the orders, for data
   * written to the database directly (a restore, an old version, test fixtures): sums in
   * code, then one `$set` per day and currency. Tracked orders of those days with effects still
   * to apply (a writer that died) are settled first, so no later settle adds to what the
   * rebuild counted. Orders written meanwhile by the bot may be counted twice or not at all:
   * run it while nothing else writes orders.
   */
  async rebuildRollups(from: string, to: string): Promise<{ days: number; orders: number }> {
    await this.effects.repairPaidDays(from, to);
    const sums = new Map<string, SalesDayTotals>();
    let orders = 0;
    // A week per read, so a large store is never held in memory at once.
    for (let start = from; start <= to; start = addDays(start, 7)) {
      const end = addDays(start, 6) < to ? addDays(start, 6) : to;
      const rows = await this.store.orders
        .find({ paidDay: { $gte: start, $lte: end } })
        .select({ _id: 0, paidDay: 1, status: 1, total: 1, currency: 1, discount: 1, couponCode: 1, items: 1 })
        .lean<{ paidDay: string; status: string; total: number; currency: string; discount?: number; couponCode?: string; items: { qty: number }[] }[]>();
      salesDayTotals(rows, sums);
      orders += rows.length;
    }
    const existing = await this.store.salesDays.find({ day: { $gte: from, $lte: to } }).select({ _id: 1, day: 1, currency: 1 }).lean<{ _id: string; day: string; currency: string }[]>();
    for (const e of existing) if (!sums.has(e._id)) sums.set(e._id, { _id: e._id, day: e.day, currency: e.currency, v: ROLLUP_VERSION, gmv: 0, orders: 0, units: 0, discount: 0 });
    if (sums.size) {
      const ops = [...sums].map(([id, { _id, ...v }]) => ({ updateOne: { filter: { _id: id }, update: { $set: { ...v, appliedKeys: [] } }, upsert: true } }));
      for (const part of chunked(ops)) await this.store.salesDays.bulkWrite(part);
    }
    return { days: sums.size, orders };
  }

  /** Complaint figures of each day. */
  private async complaints(days: string[]): Promise<ComplaintFigures[]> {
    const now = this.clock.now();
    // Overdue is judged at the end of each day, or now for today, by either SLA clock as
    // `complaint list overdue`, reminders and breach alerts do: no first response yet past its
    // due time, or not resolved past the resolution due time.
    const cutoffs = days.map((d) => new Date(Math.min(dayStart(addDays(d, 1), this.opts.timeZone).getTime(), now.getTime())));
    const minCut = new Date(Math.min(...cutoffs.map((c) => c.getTime())));
    const maxCut = new Date(Math.max(...cutoffs.map((c) => c.getTime())));
    type Row = {
      day: string;
      resolvedDay?: string | null;
      createdAt: Date;
      resolvedAt?: Date | null;
      resolutionDueAt: Date;
      firstResponseDueAt?: Date | null;
      firstResponseAt?: Date | null;
      history?: { action?: string | null; at?: Date | null; from?: string | null }[];
    };
    const fields = { _id: 0, day: 1, resolvedDay: 1, createdAt: 1, resolvedAt: 1, resolutionDueAt: 1, firstResponseDueAt: 1, firstResponseAt: 1, history: 1 };
    const tz = this.opts.timeZone;
    const since = dayStart(days.reduce((a, b) => (a < b ? a : b)), tz);
    const [dayRows, overdueRows] = await Promise.all([
      // Filed or resolved on the days, or reopened since (a reopened complaint has lost its
      // resolvedDay, but its resolution on one of the days still counts there).
      this.store.complaints
        .find({ $or: [{ day: { $in: days } }, { resolvedDay: { $in: days } }, { "history.action": "reopen", "history.at": { $gte: since } }] })
        .select(fields)
        .lean<Row[]>(),
      // Due before the last cut and not resolved before the first; or first response due before
      // the last cut and not given before the first; or with a resolution clock restarted (a
      // reopening) since the first cut: its earlier due time may have passed then.
      this.store.complaints
        .find({
          $or: [
            { resolutionDueAt: { $lt: maxCut }, $or: [{ resolvedAt: null }, { resolvedAt: { $gte: minCut } }] },
            { firstResponseDueAt: { $lt: maxCut }, $or: [{ firstResponseAt: null }, { firstResponseAt: { $gte: minCut } }] },
            { "history.action": "clock_restart", "history.at": { $gte: minCut } },
          ],
        })
        .select(fields)
        .lean<Row[]>(),
    ]);
    // The resolution due time in force at an instant: a reopening restarts the clock (history
    // `clock_restart`, from the old due time), which must not change what a past day showed.
    const dueAt = (c: Row, cut: number): number => {
      const restart = (c.history ?? []).find((h) => h.action === "clock_restart" && h.at && h.at.getTime() > cut && h.from);
      return restart ? Date.parse(restart.from!) : c.resolutionDueAt.getTime();
    };
    // Resolutions and reopenings from the history; complaints without them (imported as
    // resolved) have only their resolvedAt.
    const spansOf = (c: Row) => (c.history ?? []).filter((h) => (h.action === "resolve" || h.action === "reopen") && h.at) as { action: string; at: Date }[];
    // Per complaint once: the days it was resolved on (for "resolved"), and whether it was
    // resolved at an instant (for "overdue").
    const resolvedDays = new Map(
      dayRows.map((c) => {
        const rs = spansOf(c).filter((h) => h.action === "resolve");
        return [c, rs.length ? rs.map((h) => localDay(h.at, tz)) : c.resolvedDay ? [c.resolvedDay] : []] as const;
      }),
    );
    const overdueSpans = new Map(overdueRows.map((c) => [c, spansOf(c)] as const));
    const resolvedAtCut = (c: Row, cut: number): boolean => {
      const spans = overdueSpans.get(c)!;
      const before = spans.filter((h) => h.at.getTime() < cut);
      if (before.length) return before.at(-1)!.action === "resolve";
      return !spans.length && !!c.resolvedAt && c.resolvedAt.getTime() < cut;
    };
    // The first response clock at an instant: due before it with no first response (the first
    // claim, assignment, escalation or resolution, kept as firstResponseAt) before it.
    const firstResponseLate = (c: Row, cut: number): boolean =>
      !!c.firstResponseDueAt && c.firstResponseDueAt.getTime() < cut && !(c.firstResponseAt && c.firstResponseAt.getTime() < cut);
    return days.map((d, i) => {
      const cut = cutoffs[i]!.getTime();
      return {
        opened: dayRows.filter((c) => c.day === d).length,
        resolved: dayRows.filter((c) => resolvedDays.get(c)!.includes(d)).length,
        overdue: overdueRows.filter((c) => c.createdAt.getTime() < cut && !resolvedAtCut(c, cut) && (dueAt(c, cut) < cut || firstResponseLate(c, cut))).length,
      };
    });
  }

  private async productNames(skus: string[]): Promise<Map<string, { name: string; category: string }>> {
    if (skus.length === 0) return new Map();
    const docs = await this.store.products
      .find({ _id: { $in: skus } })
      .select({ _id: 1, name: 1, category: 1 })
      .lean<{ _id: string; name: string; category: string }[]>();
    return new Map(docs.map((d) => [d._id, { name: d.name, category: d.category }]));
  }
}

/** Largest first; ties by key, the unknown (null) key last. */
function ranked<K extends string | null>(m: Map<K, number>): { key: K; revenue: number }[] {
  return [...m].map(([key, revenue]) => ({ key, revenue })).sort((a, b) => b.revenue - a.revenue || (a.key === null ? 1 : b.key === null ? -1 : a.key.localeCompare(b.key)));
}

/**
 * Relative change from `base` to `value`; null when the base is 0. Measured against the base's
 * size, so a rise from a negative base (net revenue after a day of large refunds) is positive.
 * Rounded to 0.1%, the precision shown, so a change shown as +30.0% compares as 30%.
 */
export function change(value: number, base: number): number | null {
  if (base === 0) return null;
  const c = (value - base) / Math.abs(base);
  // Rounded away from zero at .5 either way, so −29.95% and +29.95% compare alike.
  return (Math.sign(c) * Math.round(Math.abs(c) * 1000)) / 1000;
}

/**
 * Whether a move by `ch` (see {@link change}; null from a base of 0: never) is an anomaly: in
 * the way that is `bad`, by DIGEST_ANOMALY_PCT or more, with the count behind the figure
 * (`counts`: on the day and on its base) reaching DIGEST_ANOMALY_MIN_COUNT on either.
 */
export function isAnomaly(ch: number | null, bad: "down" | "up" | undefined, counts: readonly [number, number], opts: { pct: number; minCount: number }): boolean {
  if (ch === null || !bad) return false;
  if (Math.max(counts[0], counts[1]) < opts.minCount) return false;
  const threshold = opts.pct / 100;
  return bad === "down" ? ch <= -threshold : ch >= threshold;
}

/**
 * A change as shown: "+12.5%", "−3.0%", "±0.0%" (no change); "+<0.1%" / "−<0.1%" for a move too
 * small for one decimal (¥100,010 against ¥100,000), not "±0.0%" as if none; "new" from a base of
 * 0, "—" when both are 0.
 */
export function changeText(value: number, base: number, t: Translate, fmt: Formatter): string {
  const c = change(value, base);
  if (c === null) return value === 0 ? "—" : t("digest.change.new");
  if (c === 0 && value !== base) return `${value > base ? "+" : "\u2212"}<${fmt.percent(0.001)}`;
  return fmt.percent(c, { signed: true });
}

/** Outcome of {@link parseDigestDay}. */
export type DigestDayResult =
  | { ok: true; day: string }
  | { ok: false; reason: "bad_day" }
  /** A week (`last week`, 上周): the digest is of one day. */
  | { ok: false; reason: "week" }
  /** Written as a date, but no such day: 2026-02-29 (`days`: how many its month has). */
  | { ok: false; reason: "no_such_day"; month: string; days: number }
  | { ok: false; reason: "future"; day: string }
  /** Written day/month (20/11): days are read month/day (`month_day`: that one, 11/20). */
  | { ok: false; reason: "day_first"; month_day: string };

/**
 * Reads `today`, `yesterday` or a calendar date (YYYY-MM-DD) as a shop day (in the spellings
 * {@link readDateInput} takes: 昨天, 前天, 2026/11/24; a day without a year, 11月24日 or 11/24
 * month/day as both the shop's locales write it, as the most recent such day, today or before),
 * or a weekday (friday, last friday, 周五, 上周五: see {@link weekdayDay}); refuses dates that do not exist (2026-02-30), days after `today`, day/month (24/11) and a week (`last week`).
 */
export function parseDigestDay(value: string | undefined, today: string): DigestDayResult {
  // Words typed apart (`last  friday`) read as one space.
  const named = weekdayDay((value ?? "").replace(/\s+/g, " "), today);
  if (named) return named > today ? { ok: false, reason: "future", day: named } : { ok: true, day: named };
  if (/^(?:(?:last|past|previous|this) week|(?:上|本|这)(?:个)?(?:周|星期|礼拜))$/i.test((value ?? "").trim().replace(/\s+/g, " "))) return { ok: false, reason: "week" };
  const v = readDateInput(value ?? "today", today, "last");
  const monthDay = dayFirst(v, true);
  if (monthDay) return { ok: false, reason: "day_first", month_day: monthDay };
  let day: string;
  if (v === "today" || v === "now") day = today;
  else if (v === "yesterday") day = addDays(today, -1);
  // Said "not yet", not "not a day".
  else if (v === "tomorrow") day = addDays(today, 1);
  else if (isDay(v) && v >= "1970-01-01") day = v;
  else if (/^\d{4}-(0[1-9]|1[0-2])-\d{2}$/.test(v) && v >= "1970") {
    const [y, m] = v.split("-").map(Number) as [number, number];
    return { ok: false, reason: "no_such_day", month: v.slice(0, 7), days: daysInMonth(y, m) };
  } else return { ok: false, reason: "bad_day" };
  return day > today ? { ok: false, reason: "future", day } : { ok: true, day };
}

