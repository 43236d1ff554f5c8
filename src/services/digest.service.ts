import type { Clock } from "../core/clock.js";
import { addDays, dayStart, isDay, localDay } from "../core/format.js";
import { chunked } from "../store/writes.js";
import type { Store } from "../store/models.js";
import { salesDayId, salesDayTotals, type SalesDayTotals } from "./order-effects.service.js";
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
  /** Line revenue (qty × unit price) and units per SKU, all SKUs. */
  bySku: Map<string, { revenue: number; units: number }>;
  /** Order totals per sales channel. */
  byChannel: Map<string, number>;
  /** Paid orders on the day in another currency than the shop's: left out of every figure. */
  otherCurrency: number;
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
  name: string;
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
  /** Line revenue per product category, largest first. */
  byCategory: { key: string; revenue: number }[];
  /** Order totals per channel, largest first. */
  byChannel: { key: string; revenue: number }[];
  lowStock: { count: number; worst: StockView[] };
  /** The 14 days ending with the day: GMV and paid orders (chart). */
  series: { day: string; gmv: number; orders: number }[];
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

const PAID = new Set<string>(PAID_STATUSES);
const SALE_FIELDS = { _id: 1, paidDay: 1, status: 1, total: 1, discount: 1, currency: 1, channel: 1, couponCode: 1, customerId: 1, items: 1 } as const;

/** Days of the chart. */
export const SERIES_DAYS = 14;

/** Computes the daily sales digest. */
export class DigestService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly stock: StockService,
    private readonly opts: { timeZone: string; currency: string },
  ) {}

  /** Today in the shop time zone. */
  today(): string {
    return localDay(this.clock.now(), this.opts.timeZone);
  }

  /** The digest of `day` (YYYY-MM-DD, not after today). */
  async digest(day: string): Promise<Digest> {
    const prevDay = addDays(day, -1);
    const weekDay = addDays(day, -7);
    const seriesDays = Array.from({ length: SERIES_DAYS }, (_, i) => addDays(day, i - (SERIES_DAYS - 1)));
    const figureDays = [day, prevDay, weekDay];
    // One read for the orders paid on the three days and those refunded on them (two
    // indexed branches on MongoDB; one scan instead of two on FerretDB).
    const [both, series, complaints, low] = await Promise.all([
      this.store.orders
        .find({ $or: [{ paidDay: { $in: figureDays } }, { "refunds.day": { $in: figureDays } }] })
        .select({ ...SALE_FIELDS, refunds: 1 })
        .lean<(SaleRow & RefundRow)[]>(),
      this.series(seriesDays),
      this.complaints(figureDays),
      this.stock.low(5),
    ]);
    const days = new Set(figureDays);
    const rows = both.filter((o) => days.has(o.paidDay));
    const refundRows = both.filter((o) => o.refunds?.some((r) => days.has(r.day)));
    const firstPaid = await this.firstPaidDays(rows, day);
    const fig = (d: string) => this.sales(d, rows, refundRows, firstPaid);
    const cur = fig(day);
    const names = await this.productNames([...cur.bySku.keys()]);
    const lines = [...cur.bySku].map(([sku, v]) => ({ sku, name: names.get(sku)?.name ?? sku, ...v }));
    const byCategory = new Map<string, number>();
    for (const l of lines) {
      const cat = names.get(l.sku)?.category ?? "—";
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + l.revenue);
    }
    return {
      day,
      partial: day === this.today(),
      currency: this.opts.currency,
      sales: { day: cur, prev: fig(prevDay), week: fig(weekDay) },
      complaints: { day: complaints[0]!, prev: complaints[1]!, week: complaints[2]! },
      topByRevenue: [...lines].sort((a, b) => b.revenue - a.revenue || b.units - a.units || a.sku.localeCompare(b.sku)).slice(0, 5),
      topByUnits: [...lines].sort((a, b) => b.units - a.units || b.revenue - a.revenue || a.sku.localeCompare(b.sku)).slice(0, 5),
      byCategory: ranked(byCategory),
      byChannel: ranked(cur.byChannel),
      lowStock: { count: low.total, worst: low.items },
      // The three figure days come from the orders just read (exact); the others from the rollup.
      series: series.map((p) => (days.has(p.day) ? { day: p.day, gmv: fig(p.day).gmv, orders: fig(p.day).orders } : p)),
    };
  }

  /**
   * GMV, paid orders, refunds and net summed over `days` (the weekly summary), with the
   * same definitions as the daily figures: one read of the orders paid or refunded then.
   */
  async totals(days: readonly string[]): Promise<{ gmv: number; orders: number; refunds: number; net: number }> {
    const both = await this.store.orders
      .find({ $or: [{ paidDay: { $in: days } }, { "refunds.day": { $in: days } }] })
      .select({ ...SALE_FIELDS, refunds: 1 })
      .lean<(SaleRow & RefundRow)[]>();
    const set = new Set(days);
    const rows = both.filter((o) => set.has(o.paidDay));
    const refundRows = both.filter((o) => o.refunds?.some((r) => set.has(r.day)));
    const sum = { gmv: 0, orders: 0, refunds: 0, net: 0 };
    for (const d of days) {
      const f = this.sales(d, rows, refundRows, new Map());
      sum.gmv += f.gmv;
      sum.orders += f.orders;
      sum.refunds += f.refunds;
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
    return r.deletedCount === 1;
  }

  /** Identities subscribed to the digest by DM. */
  async subscribers(): Promise<string[]> {
    const docs = await this.store.digestSubscriptions.find({}).sort({ _id: 1 }).lean();
    return docs.map((d) => d._id);
  }

  /** Sales figures of day `d` from the rows of several days. */
  private sales(d: string, rows: SaleRow[], refundRows: RefundRow[], firstPaid: Map<string, string>): SalesFigures {
    const f: SalesFigures = {
      day: d,
      gmv: 0,
      orders: 0,
      units: 0,
      aov: null,
      refunds: 0,
      refundCount: 0,
      refundRate: null,
      net: 0,
      discount: 0,
      couponUses: 0,
      newCustomers: 0,
      returningCustomers: 0,
      bySku: new Map(),
      byChannel: new Map(),
      otherCurrency: 0,
    };
    const customers = new Set<string>();
    for (const o of rows) {
      if (o.paidDay !== d || !PAID.has(o.status)) continue;
      if (o.currency !== this.opts.currency) {
        f.otherCurrency++;
        continue;
      }
      f.gmv += o.total;
      f.orders++;
      f.discount += o.discount ?? 0;
      if (o.couponCode) f.couponUses++;
      f.byChannel.set(o.channel, (f.byChannel.get(o.channel) ?? 0) + o.total);
      customers.add(o.customerId);
      for (const it of o.items) {
        f.units += it.qty;
        const s = f.bySku.get(it.sku) ?? { revenue: 0, units: 0 };
        s.revenue += it.qty * it.unitPrice;
        s.units += it.qty;
        f.bySku.set(it.sku, s);
      }
    }
    for (const c of customers) {
      const first = firstPaid.get(c);
      if (first !== undefined && first < d) f.returningCustomers++;
      else f.newCustomers++;
    }
    for (const o of refundRows) {
      // A cancelled order is void: its sale is in no GMV, so its refunds are in no refund figure.
      if (o.status === "cancelled" || o.currency !== this.opts.currency) continue;
      for (const r of o.refunds) {
        if (r.day !== d) continue;
        f.refunds += r.amount;
        f.refundCount++;
      }
    }
    f.aov = f.orders > 0 ? Math.round(f.gmv / f.orders) : null;
    f.refundRate = f.gmv > 0 ? f.refunds / f.gmv : null;
    f.net = f.gmv - f.refunds;
    return f;
  }

  /**
   * For each customer of the rows, the earliest day before `day` on which they
   * had a paid order (paid status now): customers absent have none.
   */
  private async firstPaidDays(rows: SaleRow[], day: string): Promise<Map<string, string>> {
    const ids = [...new Set(rows.map((r) => r.customerId))];
    const first = new Map<string, string>();
    if (ids.length === 0) return first;
    const prior = await this.store.orders
      .find({ customerId: { $in: ids }, paidDay: { $lt: day }, status: { $in: PAID_STATUSES } })
      .select({ _id: 0, customerId: 1, paidDay: 1 })
      .lean<{ customerId: string; paidDay: string }[]>();
    for (const p of prior) {
      const f = first.get(p.customerId);
      if (f === undefined || p.paidDay < f) first.set(p.customerId, p.paidDay);
    }
    return first;
  }

  /**
   * GMV and paid orders per day of `days` (in the shop currency), from the daily rollup
   * (14 small documents; see OrderEffects). Days without a rollup document had no sales.
   */
  private async series(days: string[]): Promise<{ day: string; gmv: number; orders: number }[]> {
    const docs = await this.store.salesDays
      .find({ _id: { $in: days.map((d) => salesDayId(d, this.opts.currency)) } })
      .select({ day: 1, gmv: 1, orders: 1 })
      .lean<{ day: string; gmv: number; orders: number }[]>();
    const by = new Map(docs.map((d) => [d.day, d]));
    return days.map((d) => ({ day: d, gmv: by.get(d)?.gmv ?? 0, orders: by.get(d)?.orders ?? 0 }));
  }

  /**
   * Recomputes the daily rollup of the paid days `from`..`to` from the orders, for data
   * written to the database directly (a restore, an old version, test fixtures): sums in
   * code, then one `$set` per day and currency. Orders written meanwhile by the bot may be
   * counted twice or not at all: run it while nothing else writes orders.
   */
  async rebuildRollups(from: string, to: string): Promise<{ days: number; orders: number }> {
    const sums = new Map<string, SalesDayTotals>();
    let orders = 0;
    // A week per read, so a large store is never held in memory at once.
    for (let start = from; start <= to; start = addDays(start, 7)) {
      const end = addDays(start, 6) < to ? addDays(start, 6) : to;
      const rows = await this.store.orders
        .find({ paidDay: { $gte: start, $lte: end } })
        .select({ _id: 0, paidDay: 1, status: 1, total: 1, currency: 1 })
        .lean<{ paidDay: string; status: string; total: number; currency: string }[]>();
      salesDayTotals(rows, sums);
      orders += rows.length;
    }
    const existing = await this.store.salesDays.find({ day: { $gte: from, $lte: to } }).select({ _id: 1, day: 1, currency: 1 }).lean<{ _id: string; day: string; currency: string }[]>();
    for (const e of existing) if (!sums.has(e._id)) sums.set(e._id, { _id: e._id, day: e.day, currency: e.currency, gmv: 0, orders: 0 });
    if (sums.size) {
      const ops = [...sums].map(([id, v]) => ({ updateOne: { filter: { _id: id }, update: { $set: { day: v.day, currency: v.currency, gmv: v.gmv, orders: v.orders, appliedKeys: [] } }, upsert: true } }));
      for (const part of chunked(ops)) await this.store.salesDays.bulkWrite(part);
    }
    return { days: sums.size, orders };
  }

  /** Complaint figures of each day. */
  private async complaints(days: string[]): Promise<ComplaintFigures[]> {
    const now = this.clock.now();
    // Overdue is judged at the end of each day, or now for today.
    const cutoffs = days.map((d) => new Date(Math.min(dayStart(addDays(d, 1), this.opts.timeZone).getTime(), now.getTime())));
    const minCut = new Date(Math.min(...cutoffs.map((c) => c.getTime())));
    const maxCut = new Date(Math.max(...cutoffs.map((c) => c.getTime())));
    type Row = { day: string; resolvedDay?: string | null; createdAt: Date; resolvedAt?: Date | null; resolutionDueAt: Date };
    const fields = { _id: 0, day: 1, resolvedDay: 1, createdAt: 1, resolvedAt: 1, resolutionDueAt: 1 };
    const [dayRows, overdueRows] = await Promise.all([
      this.store.complaints
        .find({ $or: [{ day: { $in: days } }, { resolvedDay: { $in: days } }] })
        .select(fields)
        .lean<Row[]>(),
      this.store.complaints
        .find({ resolutionDueAt: { $lt: maxCut }, $or: [{ resolvedAt: null }, { resolvedAt: { $gte: minCut } }] })
        .select(fields)
        .lean<Row[]>(),
    ]);
    return days.map((d, i) => {
      const cut = cutoffs[i]!.getTime();
      return {
        opened: dayRows.filter((c) => c.day === d).length,
        resolved: dayRows.filter((c) => c.resolvedDay === d).length,
        overdue: overdueRows.filter(
          (c) => c.createdAt.getTime() < cut && c.resolutionDueAt.getTime() < cut && (!c.resolvedAt || c.resolvedAt.getTime() >= cut),
        ).length,
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

function ranked(m: Map<string, number>): { key: string; revenue: number }[] {
  return [...m].map(([key, revenue]) => ({ key, revenue })).sort((a, b) => b.revenue - a.revenue || a.key.localeCompare(b.key));
}

/** Relative change from `base` to `value`; null when the base is 0. */
export function change(value: number, base: number): number | null {
  return base === 0 ? null : (value - base) / base;
}

/** Outcome of {@link parseDigestDay}. */
export type DigestDayResult = { ok: true; day: string } | { ok: false; reason: "bad_day" | "future" };

/**
 * Reads `today`, `yesterday` or a calendar date (YYYY-MM-DD) as a shop day;
 * refuses dates that do not exist (2026-02-30) and days after `today`.
 */
export function parseDigestDay(value: string | undefined, today: string): DigestDayResult {
  const v = (value ?? "today").trim().toLowerCase();
  let day: string;
  if (v === "today") day = today;
  else if (v === "yesterday") day = addDays(today, -1);
  else if (isDay(v) && v >= "1970-01-01") day = v;
  else return { ok: false, reason: "bad_day" };
  return day > today ? { ok: false, reason: "future" } : { ok: true, day };
}
