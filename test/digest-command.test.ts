import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { renderDigest, type DigestRenderCtx } from "../commands/digest.command.js";
import { loadConfig } from "../src/config.js";
import type { InvocationResult } from "../src/core/core.js";
import { addDays, Formatter, localDay } from "../src/core/format.js";
import { translator, type Locale } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { ChartService, dailySpec, type DailyChartLabels, type DailyPoint } from "../src/services/chart.service.js";
import { parseDigestDay, type ComplaintFigures, type Digest, type SalesFigures } from "../src/services/digest.service.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// Shop in Asia/Shanghai; the clock is 2026-11-25 12:00 local, so "yesterday" is 2026-11-24 (a Tuesday).
const NOW = "2026-11-25T04:00:00Z";
const TZ = "Asia/Shanghai";

let app: TestApp;
let n = 0;

/** A paid order of `total` fen paid at `paidAt` (UTC instant). */
function order(paidAt: string, total: number, over: Record<string, unknown> = {}) {
  n++;
  return paidOrder(`ORD-${n}`, total, paidAt, { status: "paid", customerId: `C-${n}`, refunds: [], refundedTotal: 0, ...over });
}

const H = 3_600_000;
/**
 * A complaint created at `created` with resolution due `dueH` hours later, resolved `resolvedH`
 * hours later (or open); claimed (its first response) half an hour after filing, within the hour.
 */
function complaint(id: string, created: string, dueH: number, resolvedH?: number) {
  const c = new Date(created);
  const resolvedAt = resolvedH === undefined ? undefined : new Date(c.getTime() + resolvedH * H);
  return {
    _id: id,
    customerId: "C-1",
    text: "late parcel",
    status: resolvedAt ? "resolved" : "claimed",
    createdBy: "shell:sue",
    createdAt: c,
    day: localDay(c, TZ),
    firstResponseDueAt: new Date(c.getTime() + H),
    firstResponseAt: new Date(c.getTime() + Math.min(0.5, resolvedH ?? 0.5) * H),
    resolutionDueAt: new Date(c.getTime() + dueH * H),
    ...(resolvedAt ? { resolvedAt, resolvedDay: localDay(resolvedAt, TZ) } : {}),
  };
}

const COMPLAINTS = [
  complaint("C-1", "2026-11-24T01:00:00Z", 4), // opened 24th, open, overdue since 05:00Z on the 24th
  complaint("C-2", "2026-11-24T02:00:00Z", 48, 3), // opened and resolved on the 24th
  complaint("C-3", "2026-11-22T02:00:00Z", 24, 50), // opened 22nd, due 23rd 02:00Z, resolved 24th 04:00Z: overdue at end of 23rd only
  complaint("C-4", "2026-11-23T15:00:00Z", 2), // opened 23rd 23:00 local, due 24th 01:00 local: overdue at end of 24th, not of 23rd
  complaint("C-5", "2026-11-17T03:00:00Z", 100, 1), // a week before: opened and resolved
  complaint("C-6", "2026-11-25T01:00:00Z", 1), // today, due 02:00Z: overdue now (04:00Z)
];

beforeAll(async () => {
  // A handful of orders and complaints: every count is judged (DIGEST_ANOMALY_MIN_COUNT=1).
  app = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY", DIGEST_ANOMALY_PCT: "30", DIGEST_ANOMALY_MIN_COUNT: "1" }, NOW);
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany([
    product("SKU-1", { name: "保温杯", category: "Home", price: 10000 }),
    product("SKU-9", { name: "Low Widget", onHand: 2, reorderPoint: 10 }),
  ]);
  await app.store.orders.insertMany([
    // 2026-11-24 (local): 2 orders, 20,000 fen; the first at 00:30 local (16:30Z on the 23rd).
    order("2026-11-23T16:30:00Z", 10000),
    order("2026-11-24T15:59:00Z", 10000),
    // 2026-11-23: 1 order of 10,000 (GMV +100% on the 24th: an anomaly), paid at 23:59 local.
    order("2026-11-23T15:59:00Z", 10000),
    // 2026-11-17 (a week before): 2 orders of 10,000 (no change).
    order("2026-11-17T02:00:00Z", 10000),
    order("2026-11-17T03:00:00Z", 10000),
  ]);
  await app.store.complaints.insertMany(COMPLAINTS);
});
afterAll(() => app.close());

const row = (r: InvocationResult, label: string) => r.reply.table!.rows.find((x) => x[0] === label);

describe("digest command", () => {
  it("shows each figure with its change vs the previous day and the same weekday a week before, flags large moves the wrong way, attaches a chart", async () => {
    const r = await app.run("shell:mia", "digest yesterday");
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe("Daily digest: 2026-11-24");
    expect(r.reply.table!.columns).toEqual(["Figure", "Value", "vs prev. day", "vs prev. Tue"]);
    // GMV and orders doubled: good news, not an anomaly.
    expect(row(r, "GMV")).toEqual(["GMV", "CN¥200.00", "+100.0%", "±0.0%"]);
    expect(row(r, "Paid orders")).toEqual(["Paid orders", "2", "+100.0%", "±0.0%"]);
    expect(row(r, "Avg. order value")).toEqual(["Avg. order value", "CN¥100.00", "±0.0%", "±0.0%"]);
    expect(row(r, "Refunds")).toEqual(["Refunds", "CN¥0.00", "—", "—"]);
    expect(r.reply.status).toBe("warning");
    // Complaints opened and overdue doubled: the anomalies, in the body text above the table.
    expect(r.reply.text).toBe(
      "⚠ Anomalies (moves of 30% or more the wrong way): Complaints opened +100.0% vs previous day, +100.0% vs a week before; Complaints overdue +100.0% vs previous day.",
    );
    expect(r.reply.context!.join("\n")).not.toContain("Anomalies");
    expect(r.reply.tableFirst).toBe(true);
    expect(r.reply.fields!.find((f) => f.label === "Top 5 by revenue")!.value).toBe("SKU-1 保温杯: CN¥200.00, 2 units");
    expect(r.reply.fields!.find((f) => f.label === "Low-stock products: 1")!.value).toMatch(/^SKU-9 Low Widget: 2 available/);
    expect(r.reply.image!.filename).toBe("digest-2026-11-24.png");
    expect(Buffer.from(r.reply.image!.data.subarray(1, 4)).toString()).toBe("PNG");
  });

  it("counts complaints opened, resolved and overdue at the end of each day", async () => {
    const r = await app.run("shell:mia", "digest 2026-11-24");
    // Independent count over the raw complaints, with day ends at 16:00Z.
    const end = (day: string) => new Date(`${day}T16:00:00Z`).getTime();
    const figs = (day: string, endMs: number) => ({
      opened: COMPLAINTS.filter((c) => c.day === day).length,
      resolved: COMPLAINTS.filter((c) => c.resolvedDay === day).length,
      // Either clock run out: first response or resolution due before the end, not done by then.
      overdue: COMPLAINTS.filter(
        (c) =>
          c.createdAt.getTime() < endMs &&
          (!c.resolvedAt || c.resolvedAt.getTime() >= endMs) &&
          (c.resolutionDueAt.getTime() < endMs || (c.firstResponseDueAt.getTime() < endMs && c.firstResponseAt.getTime() >= endMs)),
      ).length,
    });
    const d24 = figs("2026-11-24", end("2026-11-24"));
    const d23 = figs("2026-11-23", end("2026-11-23"));
    expect(d24).toEqual({ opened: 2, resolved: 2, overdue: 2 }); // C-1 and C-4
    expect(d23).toEqual({ opened: 1, resolved: 0, overdue: 1 }); // C-3
    expect(row(r, "Complaints opened")!.slice(0, 2)).toEqual(["Complaints opened", "2"]);
    expect(row(r, "Complaints resolved")!.slice(0, 3)).toEqual(["Complaints resolved", "2", "— (was 0)"]);
    expect(row(r, "Complaints overdue")!.slice(0, 3)).toEqual(["Complaints overdue", "2", "+100.0% ⚠"]);
    const d = await app.services.digest.digest("2026-11-24");
    expect(d.complaints).toEqual({ day: d24, prev: d23, week: figs("2026-11-17", end("2026-11-17")) });
    // Today: judged now (12:00 local), not at the end of the day.
    const today = await app.services.digest.digest("2026-11-25");
    expect(today.complaints.day).toEqual({ opened: 1, resolved: 0, overdue: 3 }); // C-1, C-4 and C-6 (due 02:00Z)
  });

  it("today is partial: said so; a fall so far is not flagged, a rise past the whole base day and overdue now are", async () => {
    const r = await app.run("shell:mia", "digest");
    expect(r.reply.title).toBe("Daily digest: 2026-11-25 (today so far)");
    expect(row(r, "GMV")).toEqual(["GMV", "CN¥0.00", "−100.0%", "—"]);
    // 3 overdue now against 2 at the end of yesterday: measured now, so judged as on any day.
    expect(row(r, "Complaints overdue")!.slice(0, 3)).toEqual(["Complaints overdue", "3", "+50.0% ⚠"]);
    expect(r.reply.text).toBe("⚠ Anomalies (moves of 30% or more the wrong way): Complaints overdue +50.0% vs previous day.");
    expect(r.reply.context![0]).toMatch(/Today is not over/);
  });

  it("today's chart says so: the day labelled \"so far\", its bar lighter, title and alt text too", async () => {
    const spy = vi.spyOn(app.services.chart, "dailyPng");
    try {
      const r = await app.run("shell:mia", "digest");
      const [points, labels] = spy.mock.calls.at(-1)! as [DailyPoint[], DailyChartLabels];
      expect(points).toHaveLength(14);
      expect(points.at(-1)).toMatchObject({ day: "2026-11-25", partial: true, label: "11-25 (so far)" });
      expect(points.slice(0, -1).filter((p) => p.partial || p.label)).toEqual([]);
      expect(labels.title).toBe("Last 14 days to 2026-11-25 (today so far): GMV and paid orders");
      expect(r.reply.image!.alt).toBe("Bar chart of daily GMV with a line of paid orders, 2026-11-12 to 2026-11-25 (today, so far)");
      // A past day is whole.
      await app.run("shell:mia", "digest yesterday");
      const [past, pastLabels] = spy.mock.calls.at(-1)! as [DailyPoint[], DailyChartLabels];
      expect(past.filter((p) => p.partial || p.label)).toEqual([]);
      expect(pastLabels.title).toBe("Last 14 days to 2026-11-24: GMV and paid orders");
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses a day in the future and dates that do not parse, naming the problem", async () => {
    const future = await app.run("shell:mia", "digest 2026-11-26");
    expect(future).toMatchObject({ outcome: "user_error", code: "future_day" });
    expect(future.reply.text).toBe("2026-11-26 is in the future (today is 2026-11-25 in Asia/Shanghai): there is no digest for it yet.");
    // Tomorrow is a day, just not yet one.
    expect((await app.run("shell:mia", "digest tomorrow")).reply.text).toBe(future.reply.text);
    // A date that is none says why.
    expect((await app.run("shell:mia", "digest 2026/2/30")).reply.text).toBe('"2026/2/30" is no day of the calendar: 2026-02 has 28 days.');
    expect((await app.run("shell:mia", "digest 现在")).reply.title).toMatch(/2026-11-25/);
    for (const bad of ["24/11/2026", "2026-13-01"]) {
      const r = await app.run("shell:mia", `digest ${bad}`);
      expect(r).toMatchObject({ outcome: "user_error", code: "bad_day" });
      expect(r.reply.text).toContain(`"${bad}" is not a day`);
    }
  });

  it("is for managers; staff are refused unless DIGEST_STAFF is on; viewers never", async () => {
    expect(await app.run("shell:sam", "digest yesterday")).toMatchObject({ code: "permission_denied" });
    const viewer = await app.run("shell:someone", "digest yesterday");
    expect(viewer).toMatchObject({ outcome: "denied", code: "permission_denied" });
    // The refusal names the role that would do, and help lists it only to those who may run it.
    expect(viewer.reply.text).toBe("`digest` needs the manager role; you are viewer. Ask an admin (`role grant`) if you need it.");
    // (`digest unsubscribe` is for anyone: a demoted subscriber can still stop it.)
    const help = JSON.stringify((await app.run("shell:sam", "help")).reply);
    expect(help).not.toContain("`digest` —");
    expect(help).not.toContain("`digest subscribe`");
  });

  it("speaks Chinese", async () => {
    const zh = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY", SHOP_LOCALE: "zh-CN" }, NOW);
    try {
      const r = await zh.run("shell:admin", "digest 2026-11-24");
      expect(r.reply.title).toBe("销售日报：2026-11-24");
      expect(r.reply.table!.columns).toEqual(["指标", "数值", "较前一日", "较上周二"]);
      expect(r.reply.image!.alt).toMatch(/每日成交额柱状图/);
    } finally {
      await zh.close();
    }
  });
});

describe("reduced digest for staff", () => {
  it("with DIGEST_STAFF=true staff see GMV, paid orders and units only", async () => {
    const staffApp = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY", DIGEST_STAFF: "true" }, NOW);
    try {
      await staffApp.services.identity.grant("shell:sam", "staff", "shell:admin");
      await staffApp.store.orders.insertMany([order("2026-11-24T03:00:00Z", 5000)]);
      const r = await staffApp.run("shell:sam", "digest yesterday");
      expect(r.outcome).toBe("ok");
      expect(r.reply.title).toBe("Daily sales: 2026-11-24");
      expect(r.reply.table!.rows.map((x) => x[0])).toEqual(["GMV", "Paid orders", "Units"]);
      expect(r.reply.fields).toBeUndefined();
      expect(r.reply.table!.rows[0]![1]).toBe("CN¥50.00");
      // Today: the note names only what staff see (no complaints), and nothing of theirs is flagged.
      const today = await staffApp.run("shell:sam", "digest");
      expect(today.reply.title).toBe("Daily sales: 2026-11-25 (today so far)");
      expect(today.reply.context![0]).toBe("Today is not over: figures so far, compared with whole days, so they are not flagged.");
      expect(today.reply.context!.join(" ")).not.toMatch(/complaint/i);
    } finally {
      await staffApp.close();
    }
  });
});

describe("day argument", () => {
  it("reads today, yesterday and real calendar dates only", () => {
    expect(parseDigestDay(undefined, "2026-03-01")).toEqual({ ok: true, day: "2026-03-01" });
    expect(parseDigestDay("Yesterday", "2026-03-01")).toEqual({ ok: true, day: "2026-02-28" });
    expect(parseDigestDay("2024-02-29", "2026-03-01")).toEqual({ ok: true, day: "2024-02-29" });
    expect(parseDigestDay("2026-02-29", "2026-03-01")).toEqual({ ok: false, reason: "no_such_day", month: "2026-02", days: 28 });
    expect(parseDigestDay("2026-03-02", "2026-03-01")).toEqual({ ok: false, reason: "future", day: "2026-03-02" });
  });

  it("reads days as Chinese teams type them: 今天, 昨天, 2026/2/28, 2026年2月28日, full-width digits", () => {
    expect(parseDigestDay("昨天", "2026-03-01")).toEqual({ ok: true, day: "2026-02-28" });
    expect(parseDigestDay(" 今天 ", "2026-03-01")).toEqual({ ok: true, day: "2026-03-01" });
    for (const typed of ["2026/2/28", "2026.02.28", "2026年2月28日", "２０２６－０２－２８"]) expect(parseDigestDay(typed, "2026-03-01")).toEqual({ ok: true, day: "2026-02-28" });
    expect(parseDigestDay("2026/02/30", "2026-03-01")).toEqual({ ok: false, reason: "no_such_day", month: "2026-02", days: 28 });
    expect(parseDigestDay("明天", "2026-03-01")).toEqual({ ok: false, reason: "future", day: "2026-03-02" });
    expect(parseDigestDay("2026/2", "2026-03-01")).toEqual({ ok: false, reason: "bad_day" });
    // 前天, and a day without a year (the latest one, today or before: a digest is of the past).
    expect(parseDigestDay("前天", "2026-03-01")).toEqual({ ok: true, day: "2026-02-27" });
    expect(parseDigestDay("2月28日", "2026-03-01")).toEqual({ ok: true, day: "2026-02-28" });
    expect(parseDigestDay("3月2日", "2026-03-01")).toEqual({ ok: true, day: "2025-03-02" });
    expect(parseDigestDay("2月29日", "2026-03-01")).toEqual({ ok: true, day: "2024-02-29" });
  });
});

/** Sales figures of a day: zeros but what is given. */
function sales(day: string, over: Partial<SalesFigures>): SalesFigures {
  const base = { gmv: 0, orders: 0, units: 0, aov: null, refunds: 0, refundCount: 0, refundRate: null, net: 0, discount: 0, couponUses: 0, newCustomers: 0, returningCustomers: 0 };
  return { day, ...base, bySku: new Map(), byChannel: new Map(), otherCurrency: 0, otherCurrencyRefunds: 0, ...over };
}

/** A digest of `day` from its figures (no products, no stock), and the reply for it. */
async function rendered(
  day: string,
  s: [Partial<SalesFigures>, Partial<SalesFigures>, Partial<SalesFigures>],
  c: [ComplaintFigures, ComplaintFigures, ComplaintFigures],
  opts: { partial?: boolean; full?: boolean; locale?: Locale; env?: Record<string, string> } = {},
): Promise<Reply> {
  const d: Digest = {
    day,
    partial: opts.partial ?? false,
    currency: "USD",
    sales: { day: sales(day, s[0]), prev: sales(addDays(day, -1), s[1]), week: sales(addDays(day, -7), s[2]) },
    complaints: { day: c[0], prev: c[1], week: c[2] },
    topByRevenue: [],
    topByUnits: [],
    byCategory: [{ key: "Home", revenue: 860 }, { key: "Toys", revenue: 140 }],
    byChannel: [],
    lowStock: { count: 0, worst: [] },
    series: Array.from({ length: 14 }, (_, i) => ({ day: addDays(day, i - 13), gmv: 0, orders: 0 })),
  };
  const locale = opts.locale ?? "en";
  const config = loadConfig({ SHOP_LOCALE: locale, ...opts.env });
  const ctx = { t: translator(locale), fmt: new Formatter(locale, "UTC", "USD"), config, locale, services: { chart: { dailyPng: async () => new Uint8Array([137]) } } };
  return renderDigest(d, opts.full ?? true, ctx as unknown as DigestRenderCtx);
}

describe("anomalies: only moves the wrong way, and not on small numbers", () => {
  // A bad day after a good one (and a quiet week before): sales halved, refunds up 30×, net negative.
  const figures: [Partial<SalesFigures>, Partial<SalesFigures>, Partial<SalesFigures>] = [
    { orders: 20, gmv: 100000, units: 30, aov: 5000, refunds: 126094, refundCount: 6, refundRate: 1.26094, net: -26094, discount: 500, couponUses: 1, newCustomers: 15, returningCustomers: 5 },
    { orders: 40, gmv: 200000, units: 60, aov: 5000, refunds: 4000, refundCount: 4, refundRate: 0.02, net: 196000, discount: 5000, couponUses: 10, newCustomers: 30, returningCustomers: 10 },
    { orders: 10, gmv: 50000, units: 15, aov: 5000, refunds: 200000, refundCount: 8, refundRate: 4, net: -150000, discount: 0, couponUses: 0, newCustomers: 8, returningCustomers: 2 },
  ];
  // Complaints opened 1 → 0 (−100%: good news), resolved 6 → 0 (follows opened), overdue 1 → 4 (+300% on a base of 1).
  const complaints: [ComplaintFigures, ComplaintFigures, ComplaintFigures] = [
    { opened: 0, resolved: 0, overdue: 4 },
    { opened: 1, resolved: 6, overdue: 1 },
    { opened: 4, resolved: 1, overdue: 0 },
  ];

  it("flags falls of sales and rises of refunds, not the other way; one decimal and one minus sign throughout", async () => {
    const r = await rendered("2026-11-25", figures, complaints);
    expect(r.table!.rows).toEqual([
      ["GMV", "$1,000.00", "−50.0% ⚠", "+100.0%"],
      ["Paid orders", "20", "−50.0% ⚠", "+100.0%"],
      ["Units", "30", "−50.0% ⚠", "+100.0%"],
      ["Avg. order value", "$50.00", "±0.0%", "±0.0%"],
      // Refunds 30× the day before: flagged; fewer than a week before: not.
      ["Refunds", "$1,260.94", "+3,052.4% ⚠", "−37.0%"],
      ["Refund rate", "126.1%", "+124.1 pp ⚠", "−273.9 pp"],
      ["Net revenue", "−$260.94", "−113.3% ⚠", "+82.6%"],
      // Discount and coupon uses follow the shop's promotions: never flagged.
      ["Discount given", "$5.00", "−90.0%", "— (was 0)"],
      ["Coupon uses", "1", "−90.0%", "— (was 0)"],
      ["New customers", "15", "−50.0% ⚠", "+87.5%"],
      ["Returning customers", "5", "−50.0% ⚠", "+150.0%"],
      ["Complaints opened", "0", "−100.0%", "−100.0%"],
      ["Complaints resolved", "0", "−100.0%", "−100.0%"],
      // +300% on a base of 1: below DIGEST_ANOMALY_MIN_COUNT (5) on both days.
      ["Complaints overdue", "4", "+300.0%", "— (was 0)"],
    ]);
    expect(r.text).toBe(
      "⚠ Anomalies (moves of 30% or more the wrong way): GMV −50.0% vs previous day; Paid orders −50.0% vs previous day; Units −50.0% vs previous day; " +
        "Refunds +3,052.4% vs previous day; Refund rate +124.1 pp vs previous day; Net revenue −113.3% vs previous day; New customers −50.0% vs previous day; Returning customers −50.0% vs previous day.",
    );
    expect(r.status).toBe("warning");
    expect(r.fields!.find((f) => f.label === "Revenue by category")!.value).toBe("Home: $8.60 (86.0%)\nToys: $1.40 (14.0%)");
    // The small print stays small print; the anomalies are not in it.
    expect(r.context).toEqual(['Definitions: README, "Digest figures". Days in UTC.']);
    // A rate moves in percentage points, in Chinese too (not "+6,204.7%" of a percentage).
    const zh = await rendered("2026-11-25", figures, complaints, { locale: "zh-CN" });
    expect(zh.table!.rows.find((x) => x[0] === "退款率")).toEqual(["退款率", "126.1%", "+124.1 个百分点 ⚠", "−273.9 个百分点"]);
  });

  it("DIGEST_ANOMALY_MIN_COUNT: counts, and the orders or refunds behind money, below it on both days are not judged", async () => {
    const every = await rendered("2026-11-25", figures, complaints, { env: { DIGEST_ANOMALY_MIN_COUNT: "1" } });
    expect(every.table!.rows.at(-1)).toEqual(["Complaints overdue", "4", "+300.0% ⚠", "— (was 0)"]);
    // 5 refunds at most: refunds and the refund rate are not judged; 40 orders still are.
    const few = figures.map((f) => ({ ...f, refundCount: 3 })) as typeof figures;
    const r = await rendered("2026-11-25", few, complaints, { env: { DIGEST_ANOMALY_MIN_COUNT: "5" } });
    expect(r.table!.rows.find((x) => x[0] === "Refunds")).toEqual(["Refunds", "$1,260.94", "+3,052.4%", "−37.0%"]);
    expect(r.table!.rows.find((x) => x[0] === "Refund rate")).toEqual(["Refund rate", "126.1%", "+124.1 pp", "−273.9 pp"]);
    expect(r.table!.rows.find((x) => x[0] === "GMV")![2]).toBe("−50.0% ⚠");
    // Units are judged on the paid orders behind them, as GMV is (40 the day before, not their 60 units).
    const forty = await rendered("2026-11-25", figures, complaints, { env: { DIGEST_ANOMALY_MIN_COUNT: "40" } });
    expect(forty.text).toBe("⚠ Anomalies (moves of 30% or more the wrong way): GMV −50.0% vs previous day; Paid orders −50.0% vs previous day; Units −50.0% vs previous day; Net revenue −113.3% vs previous day.");
    const big = await rendered("2026-11-25", figures, complaints, { env: { DIGEST_ANOMALY_MIN_COUNT: "41" } });
    expect(big.text).toBeUndefined();
    expect(big.status).toBe("info");
  });

  it("in Chinese the list is separated as Chinese is written", async () => {
    const r = await rendered("2026-11-25", figures, complaints, { locale: "zh-CN" });
    expect(r.text).toMatch(/^⚠ 异常波动（向不利方向变化 30% 及以上）：成交额 GMV −50\.0%（较前一日）；已付款订单 −50\.0%（较前一日）；/);
    expect(r.text).not.toContain("; ");
  });

  it("today: only refunds and complaints opened past a whole day, and complaints overdue, are judged", async () => {
    // At noon: a third of yesterday's sales, already twice its refunds and complaints.
    const today: typeof figures = [
      { orders: 10, gmv: 50000, units: 12, aov: 5000, refunds: 8000, refundCount: 8, refundRate: 0.16, net: 42000, newCustomers: 8, returningCustomers: 2 },
      { orders: 30, gmv: 150000, units: 40, aov: 5000, refunds: 4000, refundCount: 4, refundRate: 0.0267, net: 146000, newCustomers: 25, returningCustomers: 5 },
      { orders: 30, gmv: 150000, units: 40, aov: 5000, refunds: 4000, refundCount: 4, refundRate: 0.0267, net: 146000, newCustomers: 25, returningCustomers: 5 },
    ];
    const c: typeof complaints = [
      { opened: 12, resolved: 0, overdue: 9 },
      { opened: 6, resolved: 6, overdue: 6 },
      { opened: 6, resolved: 6, overdue: 6 },
    ];
    const r = await rendered("2026-11-25", today, c, { partial: true });
    expect(r.text).toBe(
      "⚠ Anomalies (moves of 30% or more the wrong way): Refunds +100.0% vs previous day, +100.0% vs a week before; Complaints opened +100.0% vs previous day, " +
        "+100.0% vs a week before; Complaints overdue +50.0% vs previous day, +50.0% vs a week before.",
    );
    expect(r.context![0]).toBe(
      "Today is not over: figures so far, compared with whole days; only refunds and complaints opened already past a whole day, and complaints overdue, are flagged.",
    );
    // Staff see GMV, orders and units: nothing of theirs is judged on today, and the note says so.
    const staff = await rendered("2026-11-25", today, c, { partial: true, full: false });
    expect(staff.text).toBeUndefined();
    expect(staff.context![0]).toBe("Today is not over: figures so far, compared with whole days, so they are not flagged.");
  });
});

describe("what the figures leave out", () => {
  it("says how many paid orders and how many refunds in another currency are left out, in both languages", async () => {
    const none: ComplaintFigures = { opened: 0, resolved: 0, overdue: 0 };
    const s: [Partial<SalesFigures>, Partial<SalesFigures>, Partial<SalesFigures>] = [{ otherCurrency: 1, otherCurrencyRefunds: 2 }, {}, {}];
    const en = await rendered("2026-11-25", s, [none, none, none]);
    expect(en.context).toEqual(["1 paid order in a currency other than USD is left out.", "2 refunds of orders in a currency other than USD are left out of the refund figures.", 'Definitions: README, "Digest figures". Days in UTC.']);
    const zh = await rendered("2026-11-25", s, [none, none, none], { locale: "zh-CN" });
    expect(zh.context![1]).toBe("有 2 笔非 USD 币种订单的退款未计入退款数据。");
    // Refunds are manager figures: the staff digest does not count them, not even in its small print.
    const staff = await rendered("2026-11-25", s, [none, none, none], { full: false });
    expect(staff.context).toEqual(["1 paid order in a currency other than USD is left out.", 'Definitions: README, "Digest figures". Days in UTC.']);
  });
});

describe("chart", () => {
  const points = Array.from({ length: 14 }, (_, i) => ({ day: `2026-11-${String(12 + i).padStart(2, "0")}`, gmv: 1000 + i * 50, orders: 10 + (i % 4) }));
  const labels = { title: "", gmv: "GMV", orders: "Orders", day: "Day" };
  const chart = new ChartService();

  it("draws Chinese glyphs: different Chinese titles of the same length give different images", async () => {
    const none = Buffer.from(await chart.dailyPng(points, labels));
    const a = Buffer.from(await chart.dailyPng(points, { ...labels, title: "销售额趋势" }));
    const b = Buffer.from(await chart.dailyPng(points, { ...labels, title: "订单数变化" }));
    expect(a.equals(none)).toBe(false);
    // With no CJK font both would draw the same boxes (or nothing).
    expect(a.equals(b)).toBe(false);
  });

  it("a fortnight without sales has a plain 0 on the GMV axis; the orders line's points are in its colour", async () => {
    const quiet = points.map((p) => ({ ...p, gmv: 0, orders: 0 }));
    const svg = await chart.svg(dailySpec(quiet, labels));
    expect(svg).not.toContain("0.000000");
    expect(svg).toMatch(/>0<\/text>/);
    // Blue fills only the 14 bars; the 14 points are filled in the line's orange.
    const fills = (colour: string) => svg.split(`fill="${colour}"`).length - 1;
    expect(fills("#4C78A8")).toBe(14);
    expect(fills("#F58518")).toBeGreaterThanOrEqual(14);
  });

  it("a partial day (today) is labelled \"so far\" and drawn lighter, outlined dashed", async () => {
    const today = points.map((p, i) => (i === 13 ? { ...p, partial: true, label: "11-25 (so far)" } : p));
    const svg = await chart.svg(dailySpec(today, labels));
    expect(svg).toContain(">11-25 (so far)</text>");
    expect(svg).not.toContain(">11-25</text>");
    const fills = (colour: string) => svg.split(`fill="${colour}"`).length - 1;
    expect(fills("#4C78A8")).toBe(13);
    expect(fills("#C6D6E8")).toBe(1);
    expect(svg).toMatch(/stroke-dasharray="4,3"/);
    // Without a partial day, nothing is dashed.
    expect(await chart.svg(dailySpec(points, labels))).not.toMatch(/stroke-dasharray/);
  });
});
