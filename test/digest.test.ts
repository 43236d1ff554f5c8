import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDay } from "../src/core/format.js";
import { mulberry32 } from "../src/seed/demo-data.js";
import { change, type Digest, type SalesFigures } from "../src/services/digest.service.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

// The digest is checked against an independent computation: a plain loop over
// the raw orders that finds each instant's local day with Intl (not the
// stored paidDay / refunds.day the service reads), with hard-coded UTC
// boundaries asserting that the DST days really are 23 and 25 hours long.

const PAID = ["paid", "shipped", "delivered", "refunded"];
const SKUS: [string, string, number][] = [
  ["SKU-1", "Electronics", 12900],
  ["SKU-2", "Electronics", 4500],
  ["SKU-3", "Home", 2300],
  ["SKU-4", "Home", 999],
  ["SKU-5", "Apparel", 5900],
  ["SKU-6", "Apparel", 15900],
  ["SKU-7", "Beauty", 3100],
];
const CHANNELS = ["web", "app", "marketplace"];

interface RawOrder {
  _id: string;
  items: { sku: string; qty: number; unitPrice: number }[];
  subtotal: number;
  discount: number;
  shipping: number;
  total: number;
  currency: string;
  status: string;
  channel: string;
  couponCode?: string;
  customerId: string;
  createdAt: Date;
  paidAt?: Date;
  day: string;
  paidDay?: string;
  refundedTotal: number;
  refunds: { requestId: string; amount: number; at: Date; day: string }[];
}

/** The local day of an instant, by Intl (independent of the code under test). */
function intlDay(d: Date, tz: string): string {
  let f = formats.get(tz);
  if (!f) formats.set(tz, (f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(d);
}
const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * Orders clustered around the local midnights of `days` (±4 h, where day
 * boundaries bite) plus a spread over the surrounding weeks; some paid late
 * (next local day), some cancelled before or after payment, some pending,
 * partial and full refunds, a few in a foreign currency.
 */
function makeOrders(tz: string, currency: string, anchors: string[], seed: number, prefix: string, now: Date): RawOrder[] {
  const rnd = mulberry32(seed);
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const instants: Date[] = [];
  for (const a of anchors) {
    // Midnight of the anchor, found by scanning hours (no library): first hour whose Intl day is the anchor.
    let t = Date.parse(`${a}T00:00:00Z`) - 20 * 3_600_000;
    while (intlDay(new Date(t), tz) !== a) t += 60_000;
    for (let i = 0; i < 35; i++) instants.push(new Date(t + int(-4 * 3_600_000, 4 * 3_600_000)));
    for (let i = 0; i < 35; i++) instants.push(new Date(t + int(-16, 8) * 86_400_000 + int(0, 86_399_999)));
  }
  const orders: RawOrder[] = [];
  instants.forEach((createdAt, i) => {
    if (createdAt.getTime() > now.getTime()) return;
    const items = Array.from({ length: int(1, 3) }, () => {
      const [sku, , price] = pick(SKUS);
      return { sku, qty: int(1, 4), unitPrice: price };
    });
    const subtotal = items.reduce((s, x) => s + x.qty * x.unitPrice, 0);
    const coupon = rnd() < 0.3;
    const discount = coupon ? Math.round(subtotal * 0.1) : rnd() < 0.1 ? 500 : 0;
    const shipping = rnd() < 0.5 ? 800 : 0;
    const total = subtotal - discount + shipping;
    const r = rnd();
    let status: string;
    let paidAt: Date | undefined;
    if (r < 0.08) status = "pending";
    else if (r < 0.14) status = "cancelled"; // never paid
    else {
      // 20% paid late: up to 30 hours after creation, often on the next local day.
      const delay = rnd() < 0.2 ? int(2, 30) * 3_600_000 : int(1, 20) * 60_000;
      paidAt = new Date(createdAt.getTime() + delay);
      if (paidAt.getTime() > now.getTime()) paidAt = new Date(now.getTime() - 1000);
      status = r < 0.2 ? "cancelled" : pick(["paid", "shipped", "delivered", "delivered"]);
    }
    const refunds: RawOrder["refunds"] = [];
    if (paidAt && (rnd() < 0.25 || status === "cancelled")) {
      const n = int(1, 2);
      let left = total;
      for (let k = 0; k < n && left > 0; k++) {
        const amount = k === n - 1 && rnd() < 0.3 ? left : Math.min(left, int(100, Math.max(100, Math.floor(total / 2))));
        left -= amount;
        const at = new Date(Math.min(now.getTime() - 1, paidAt.getTime() + int(10, 3 * 24 * 60) * 60_000));
        refunds.push({ requestId: `R-${prefix}${i}-${k}`, amount, at, day: localDay(at, tz) });
      }
      if (left === 0 && status !== "cancelled") status = "refunded";
    }
    orders.push({
      _id: `${prefix}-${String(i).padStart(4, "0")}`,
      items,
      subtotal,
      discount,
      shipping,
      total,
      currency: rnd() < 0.03 ? "EUR" : currency,
      status,
      channel: pick(CHANNELS),
      ...(coupon ? { couponCode: pick(["WELCOME10", "SPRING", "VIP"]) } : {}),
      customerId: `CUST-${int(1, 70)}`,
      createdAt,
      ...(paidAt ? { paidAt, paidDay: localDay(paidAt, tz) } : {}),
      day: localDay(createdAt, tz),
      refundedTotal: refunds.reduce((s, x) => s + x.amount, 0),
      refunds,
    });
  });
  return orders;
}

/** The oracle: figures of local day `day` by a plain loop over the raw orders. */
function oracle(orders: RawOrder[], day: string, tz: string, currency: string) {
  const paid = orders.filter((o) => o.paidAt && intlDay(o.paidAt, tz) === day && PAID.includes(o.status) && o.currency === currency);
  let gmv = 0, units = 0, discount = 0, coupons = 0, refunds = 0, refundCount = 0;
  const bySku = new Map<string, { revenue: number; units: number }>();
  const byChannel = new Map<string, number>();
  const byCategory = new Map<string, number>();
  const customers = new Set<string>();
  for (const o of paid) {
    gmv += o.total;
    discount += o.discount;
    if (o.couponCode) coupons++;
    customers.add(o.customerId);
    byChannel.set(o.channel, (byChannel.get(o.channel) ?? 0) + o.total);
    for (const it of o.items) {
      units += it.qty;
      const s = bySku.get(it.sku) ?? { revenue: 0, units: 0 };
      s.revenue += it.qty * it.unitPrice;
      s.units += it.qty;
      bySku.set(it.sku, s);
      const cat = SKUS.find((x) => x[0] === it.sku)![1];
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + it.qty * it.unitPrice);
    }
  }
  let returning = 0;
  for (const c of customers) {
    // Only payments in the shop currency make a customer returning (the others are in no figure).
    const before = orders.some((o) => o.customerId === c && o.paidAt && PAID.includes(o.status) && o.currency === currency && intlDay(o.paidAt, tz) < day);
    if (before) returning++;
  }
  let otherCurrencyRefunds = 0;
  for (const o of orders) {
    if (o.status === "cancelled") continue;
    for (const r of o.refunds) {
      if (intlDay(r.at, tz) !== day) continue;
      if (o.currency !== currency) otherCurrencyRefunds++;
      else {
        refunds += r.amount;
        refundCount++;
      }
    }
  }
  return {
    gmv,
    orders: paid.length,
    units,
    aov: paid.length ? Math.round(gmv / paid.length) : null,
    refunds,
    refundCount,
    refundRate: gmv ? refunds / gmv : null,
    net: gmv - refunds,
    discount,
    couponUses: coupons,
    newCustomers: customers.size - returning,
    returningCustomers: returning,
    bySku,
    byChannel,
    byCategory,
    otherCurrency: orders.filter((o) => o.paidAt && intlDay(o.paidAt, tz) === day && PAID.includes(o.status) && o.currency !== currency).length,
    otherCurrencyRefunds,
  };
}

/** `lines`: compare the per-SKU and per-channel breakdowns too (the digest's day only has them). */
function expectFigures(got: SalesFigures, want: ReturnType<typeof oracle>, lines = true): void {
  const pick = (x: SalesFigures | ReturnType<typeof oracle>) => ({
    gmv: x.gmv,
    orders: x.orders,
    units: x.units,
    aov: x.aov,
    refunds: x.refunds,
    refundCount: x.refundCount,
    refundRate: x.refundRate,
    net: x.net,
    discount: x.discount,
    couponUses: x.couponUses,
    newCustomers: x.newCustomers,
    returningCustomers: x.returningCustomers,
    ...(lines ? { bySku: Object.fromEntries([...x.bySku].sort()), byChannel: Object.fromEntries([...x.byChannel].sort()) } : {}),
    otherCurrency: x.otherCurrency,
    otherCurrencyRefunds: x.otherCurrencyRefunds,
  });
  expect(pick(got)).toEqual(pick(want));
}

function expectDigest(d: Digest, orders: RawOrder[], day: string, tz: string, currency: string): void {
  const prev = new Date(Date.parse(`${day}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const week = new Date(Date.parse(`${day}T12:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
  const want = oracle(orders, day, tz, currency);
  expect(want.orders).toBeGreaterThan(3); // the data really covers the day
  expectFigures(d.sales.day, want);
  expectFigures(d.sales.prev, oracle(orders, prev, tz, currency), false);
  expectFigures(d.sales.week, oracle(orders, week, tz, currency), false);
  const lines = [...want.bySku].map(([sku, v]) => ({ sku, ...v }));
  expect(d.topByRevenue.map((p) => p.sku)).toEqual(
    [...lines].sort((a, b) => b.revenue - a.revenue || b.units - a.units || a.sku.localeCompare(b.sku)).slice(0, 5).map((p) => p.sku),
  );
  expect(d.topByUnits.map((p) => p.sku)).toEqual(
    [...lines].sort((a, b) => b.units - a.units || b.revenue - a.revenue || a.sku.localeCompare(b.sku)).slice(0, 5).map((p) => p.sku),
  );
  expect(Object.fromEntries(d.byCategory.map((x) => [x.key, x.revenue]))).toEqual(Object.fromEntries(want.byCategory));
  expect(Object.fromEntries(d.byChannel.map((x) => [x.key, x.revenue]))).toEqual(Object.fromEntries(want.byChannel));
  expect(d.series).toHaveLength(14);
  expect(d.series.at(-1)!.day).toBe(day);
  for (const p of d.series) {
    const o = oracle(orders, p.day, tz, currency);
    expect({ day: p.day, gmv: p.gmv, orders: p.orders }).toEqual({ day: p.day, gmv: o.gmv, orders: o.orders });
  }
}

async function setup(tz: string, currency: string, now: string, anchors: string[], seed: number): Promise<{ app: TestApp; orders: RawOrder[] }> {
  const app = await makeTestApp({ SHOP_TIMEZONE: tz, SHOP_CURRENCY: currency }, now);
  await app.store.products.insertMany(SKUS.map(([sku, category, price]) => product(sku, { name: `Item ${sku}`, category, price, currency })));
  const orders = makeOrders(tz, currency, anchors, seed, tz.slice(0, 3).toUpperCase(), new Date(now));
  await app.store.orders.insertMany(orders);
  // Written straight to the database, so the daily rollup (the chart's other days) is rebuilt.
  const paidDays = orders.flatMap((o) => (o.paidDay ? [o.paidDay] : [])).sort();
  await app.services.digest.rebuildRollups(paidDays[0]!, paidDays.at(-1)!);
  return { app, orders };
}

describe("digest figures in America/New_York across DST", () => {
  const tz = "America/New_York";
  let app: TestApp;
  let orders: RawOrder[];
  beforeAll(async () => {
    ({ app, orders } = await setup(tz, "USD", "2026-11-25T15:00:00Z", ["2026-03-08", "2026-03-09", "2026-03-01", "2026-03-15", "2026-11-01", "2026-11-02", "2026-10-25", "2026-11-08"], 11));
  });
  afterAll(() => app.close());

  it("the DST days are 23 and 25 hours long (test data sanity)", () => {
    // Spring forward on 2026-03-08, fall back on 2026-11-01.
    expect(intlDay(new Date("2026-03-08T04:59:59Z"), tz)).toBe("2026-03-07");
    expect(intlDay(new Date("2026-03-08T05:00:00Z"), tz)).toBe("2026-03-08");
    expect(intlDay(new Date("2026-03-09T03:59:59Z"), tz)).toBe("2026-03-08");
    expect(intlDay(new Date("2026-03-09T04:00:00Z"), tz)).toBe("2026-03-09");
    expect(intlDay(new Date("2026-11-01T03:59:59Z"), tz)).toBe("2026-10-31");
    expect(intlDay(new Date("2026-11-01T04:00:00Z"), tz)).toBe("2026-11-01");
    expect(intlDay(new Date("2026-11-02T04:59:59Z"), tz)).toBe("2026-11-01");
    expect(intlDay(new Date("2026-11-02T05:00:00Z"), tz)).toBe("2026-11-02");
    // Orders fall in the extra and the missing hour's neighbourhood.
    expect(orders.some((o) => o.paidAt && o.paidAt >= new Date("2026-11-02T04:00:00Z") && o.paidAt < new Date("2026-11-02T05:00:00Z"))).toBe(true);
    expect(orders.some((o) => o.paidAt && o.paidAt >= new Date("2026-03-09T03:00:00Z") && o.paidAt < new Date("2026-03-09T04:00:00Z"))).toBe(true);
  });

  it.each(["2026-03-08", "2026-03-09", "2026-03-15", "2026-11-01", "2026-11-02", "2026-11-08"])("matches a plain loop over the raw orders on %s", async (day) => {
    expectDigest(await app.services.digest.digest(day), orders, day, tz, "USD");
  });

  it("judges complaints overdue at the end of the 25-hour day (05:00 UTC next day)", async () => {
    const H = 3_600_000;
    const mk = (id: string, created: string, dueH: number, resolvedAt?: string) => {
      const c = new Date(created);
      return {
        _id: id, customerId: "C-1", text: "x", status: resolvedAt ? "resolved" : "claimed", createdBy: "shell:sue", createdAt: c,
        // Answered at once, so only the resolution clock is judged here.
        day: localDay(c, tz), firstResponseDueAt: c, firstResponseAt: c, resolutionDueAt: new Date(c.getTime() + dueH * H),
        ...(resolvedAt ? { resolvedAt: new Date(resolvedAt), resolvedDay: localDay(new Date(resolvedAt), tz) } : {}),
      };
    };
    await app.store.complaints.insertMany([
      mk("C-N1", "2026-11-01T20:00:00Z", 8), // due 04:00Z on the 2nd: before the day ends (05:00Z) → overdue
      mk("C-N2", "2026-11-01T20:00:00Z", 8.5, "2026-11-02T04:30:00Z"), // resolved 23:30 local on the 1st, before the end → not overdue
      mk("C-N3", "2026-11-01T20:00:00Z", 8.5, "2026-11-02T05:30:00Z"), // resolved 00:30 local on the 2nd → overdue at end of the 1st
      mk("C-N4", "2026-11-02T04:30:00Z", 0.1), // created 23:30 local on the 1st (EST), due 23:36 → overdue
      mk("C-N5", "2026-11-02T05:10:00Z", 0.1), // created 00:10 local on the 2nd → not the 1st's
    ]);
    const d = await app.services.digest.digest("2026-11-01");
    expect(d.complaints.day).toEqual({ opened: 4, resolved: 1, overdue: 3 });
    expect(d.complaints.prev).toEqual({ opened: 0, resolved: 0, overdue: 0 });
    expect((await app.services.digest.digest("2026-11-02")).complaints.day).toEqual({ opened: 1, resolved: 1, overdue: 3 });
  });

  it("the data has late-paid, cancelled-after-payment, partially refunded and foreign-currency orders", () => {
    expect(orders.some((o) => o.paidAt && intlDay(o.paidAt, tz) !== intlDay(o.createdAt, tz))).toBe(true);
    expect(orders.some((o) => o.status === "cancelled" && o.paidAt && o.refunds.length > 0)).toBe(true);
    expect(orders.some((o) => o.refunds.length > 0 && o.refundedTotal < o.total && o.status !== "cancelled")).toBe(true);
    expect(orders.some((o) => o.status === "refunded")).toBe(true);
    expect(orders.some((o) => o.currency !== "USD" && o.paidAt)).toBe(true);
  });
});

describe("digest figures in Asia/Shanghai", () => {
  const tz = "Asia/Shanghai";
  let app: TestApp;
  let orders: RawOrder[];
  // 12:00 in Shanghai on 2026-11-25: today is partial.
  beforeAll(async () => {
    ({ app, orders } = await setup(tz, "CNY", "2026-11-25T04:00:00Z", ["2026-11-25", "2026-11-24", "2026-11-17"], 22));
  });
  afterAll(() => app.close());

  it.each(["2026-11-24", "2026-11-25", "2026-11-18"])("matches a plain loop over the raw orders on %s", async (day) => {
    expectDigest(await app.services.digest.digest(day), orders, day, tz, "CNY");
  });

  it("reopening a complaint later does not change what past days' digests said about it", async () => {
    const start = app.clock.now();
    try {
      app.clock.set(new Date("2026-11-21T01:00:00Z")); // 09:00 local on the 21st
      const r = await app.services.complaints.create({ text: "lid cracked", by: "shell:sue", severity: "urgent" });
      if (r.kind !== "created") throw new Error(r.kind);
      app.clock.set(new Date("2026-11-21T03:00:00Z"));
      expect((await app.services.complaints.resolve(r.complaint._id, { identity: "shell:sue", role: "support" }, "sent a new lid")).kind).toBe("done");
      app.clock.set(start);
      const before = await Promise.all(["2026-11-21", "2026-11-22"].map(async (d) => (await app.services.digest.digest(d)).complaints.day));
      expect(before[0]!.resolved).toBeGreaterThanOrEqual(1);
      app.clock.set(new Date("2026-11-24T02:00:00Z"));
      expect((await app.services.complaints.reopen(r.complaint._id, "shell:sue", "cracked again")).kind).toBe("done");
      app.clock.set(start);
      const after = await Promise.all(["2026-11-21", "2026-11-22"].map(async (d) => (await app.services.digest.digest(d)).complaints.day));
      expect(after).toEqual(before);
    } finally {
      app.clock.set(start);
    }
  });

  it("a reopening restarts the resolution clock without changing a past day's overdue count", async () => {
    const start = app.clock.now();
    const days = ["2026-11-21", "2026-11-22", "2026-11-23"];
    const overdue = async () => Promise.all(days.map(async (d) => (await app.services.digest.digest(d)).complaints.day.overdue));
    try {
      app.clock.set(new Date("2026-11-21T01:00:00Z"));
      const r = await app.services.complaints.create({ text: "never arrived", by: "shell:sue", severity: "urgent" });
      if (r.kind !== "created") throw new Error(r.kind);
      // Open and past due at the end of the 21st; resolved on the 22nd.
      app.clock.set(new Date("2026-11-22T03:00:00Z"));
      expect((await app.services.complaints.resolve(r.complaint._id, { identity: "shell:sue", role: "support" }, "found it")).kind).toBe("done");
      app.clock.set(start);
      const before = await overdue();
      app.clock.set(new Date("2026-11-24T02:00:00Z"));
      expect((await app.services.complaints.reopen(r.complaint._id, "shell:sue", "lost again")).kind).toBe("done");
      expect((await app.store.complaints.findById(r.complaint._id).lean())!.resolutionDueAt.getTime()).toBeGreaterThan(Date.parse("2026-11-24T02:00:00Z"));
      app.clock.set(start);
      expect(await overdue()).toEqual(before);
    } finally {
      app.clock.set(start);
    }
  });

  it("stays exact when a comparison day's rollup is older than its fields, behind the orders or missing", async () => {
    const day = "2026-11-25";
    const prev = "2026-11-24";
    const week = "2026-11-18";
    const id = (d: string) => `${d}|CNY`;
    const saved = await app.store.salesDays.find({ _id: { $in: [id(prev), id(week)] } }).lean();
    expect(saved).toHaveLength(2);
    try {
      // Written before units, discount and coupon uses were kept: no version, no such fields.
      await app.store.salesDays.collection.updateOne({ _id: id(prev) } as never, { $unset: { v: "", units: "", discount: "" } });
      // Behind the orders: one paid order missing, its units too.
      await app.store.salesDays.collection.updateOne({ _id: id(week) } as never, { $inc: { orders: -1, units: -1 } });
      expectDigest(await app.services.digest.digest(day), orders, day, tz, "CNY");
      await app.store.salesDays.deleteMany({ _id: { $in: [id(prev), id(week)] } });
      expectDigest(await app.services.digest.digest(day), orders, day, tz, "CNY");
    } finally {
      await app.store.salesDays.deleteMany({ _id: { $in: [id(prev), id(week)] } });
      await app.store.salesDays.insertMany(saved);
    }
    // A coupon code added to a paid order after payment (an ingestion update may) is counted
    // on the comparison day as on the day itself.
    const late = orders.find((o) => o.paidAt && o.paidDay === prev && !o.couponCode && o.status === "paid" && o.currency === "CNY")!;
    await app.store.orders.updateOne({ _id: late._id }, { $set: { couponCode: "LATE5" } });
    late.couponCode = "LATE5";
    try {
      const d = await app.services.digest.digest(day);
      expect(d.sales.prev.couponUses).toBe(oracle(orders, prev, tz, "CNY").couponUses);
      expectDigest(d, orders, day, tz, "CNY");
    } finally {
      await app.store.orders.updateOne({ _id: late._id }, { $unset: { couponCode: "" } });
      delete late.couponCode;
    }
    // A rollup in step with the orders is what the comparison days' units come from.
    await app.store.salesDays.collection.updateOne({ _id: id(prev) } as never, { $inc: { units: 1000 } });
    try {
      const d = await app.services.digest.digest(day);
      expect(d.sales.prev.units).toBe(oracle(orders, prev, tz, "CNY").units + 1000);
    } finally {
      await app.store.salesDays.collection.updateOne({ _id: id(prev) } as never, { $inc: { units: -1000 } });
    }
  });

  it("a local day runs 16:00 to 16:00 UTC", () => {
    expect(intlDay(new Date("2026-11-23T15:59:59Z"), tz)).toBe("2026-11-23");
    expect(intlDay(new Date("2026-11-23T16:00:00Z"), tz)).toBe("2026-11-24");
  });
});

describe("changes against the day before and the week before", () => {
  it("a rise from a negative net is a rise; a change shown as +30.0% is 30% when compared with the threshold", () => {
    expect(change(100_000, -30_000)).toBeGreaterThan(0);
    expect(change(-60_000, -30_000)).toBe(-1);
    expect(change(13, 10)).toBe(0.3);
    expect(change(0.13, 0.1)).toBe(0.3);
    // Rises and falls of the same size compare alike.
    expect(change(12_995, 10_000)).toBe(0.3);
    expect(change(7_005, 10_000)).toBe(-0.3);
    expect(change(5, 0)).toBeNull();
  });
});
