import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationResult } from "../src/core/core.js";
import { localDay } from "../src/core/format.js";
import { ChartService, dailySpec } from "../src/services/chart.service.js";
import { parseDigestDay } from "../src/services/digest.service.js";
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
/** A complaint created at `created` with resolution due `dueH` hours later, resolved `resolvedH` hours later (or open). */
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
  app = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY", DIGEST_ANOMALY_PCT: "30" }, NOW);
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
  it("shows each figure with its change vs the previous day and the same weekday a week before, flags large moves, attaches a chart", async () => {
    const r = await app.run("shell:mia", "digest yesterday");
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe("Daily digest: 2026-11-24");
    expect(r.reply.table!.columns).toEqual(["Figure", "Value", "vs prev. day", "vs prev. Tue"]);
    expect(row(r, "GMV")).toEqual(["GMV", "CN¥200.00", "+100% ⚠", "±0%"]);
    expect(row(r, "Paid orders")).toEqual(["Paid orders", "2", "+100% ⚠", "±0%"]);
    expect(row(r, "Avg. order value")).toEqual(["Avg. order value", "CN¥100.00", "±0%", "±0%"]);
    expect(row(r, "Refunds")).toEqual(["Refunds", "CN¥0.00", "—", "—"]);
    expect(r.reply.status).toBe("warning");
    expect(r.reply.context!.join("\n")).toMatch(/Anomalies \(moves of 30% or more\): GMV \+100% vs previous day; Paid orders \+100% vs previous day/);
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
      overdue: COMPLAINTS.filter(
        (c) => c.createdAt.getTime() < endMs && c.resolutionDueAt.getTime() < endMs && (!c.resolvedAt || c.resolvedAt.getTime() >= endMs),
      ).length,
    });
    const d24 = figs("2026-11-24", end("2026-11-24"));
    const d23 = figs("2026-11-23", end("2026-11-23"));
    expect(d24).toEqual({ opened: 2, resolved: 2, overdue: 2 }); // C-1 and C-4
    expect(d23).toEqual({ opened: 1, resolved: 0, overdue: 1 }); // C-3
    expect(row(r, "Complaints opened")!.slice(0, 2)).toEqual(["Complaints opened", "2"]);
    expect(row(r, "Complaints resolved")!.slice(0, 3)).toEqual(["Complaints resolved", "2", "new"]);
    expect(row(r, "Complaints overdue")!.slice(0, 3)).toEqual(["Complaints overdue", "2", "+100% ⚠"]);
    const d = await app.services.digest.digest("2026-11-24");
    expect(d.complaints).toEqual({ day: d24, prev: d23, week: figs("2026-11-17", end("2026-11-17")) });
    // Today: judged now (12:00 local), not at the end of the day.
    const today = await app.services.digest.digest("2026-11-25");
    expect(today.complaints.day).toEqual({ opened: 1, resolved: 0, overdue: 3 }); // C-1, C-4 and C-6 (due 02:00Z)
  });

  it("today is partial: said so; a fall so far is not flagged, a rise past the whole base day and overdue now are", async () => {
    const r = await app.run("shell:mia", "digest");
    expect(r.reply.title).toBe("Daily digest: 2026-11-25 (today so far)");
    expect(row(r, "GMV")).toEqual(["GMV", "CN¥0.00", "−100%", "—"]);
    // 3 overdue now against 2 at the end of yesterday: measured now, so judged as on any day.
    expect(row(r, "Complaints overdue")!.slice(0, 3)).toEqual(["Complaints overdue", "3", "+50% ⚠"]);
    expect(r.reply.context!.join(" ")).toContain("Anomalies (moves of 30% or more): Complaints overdue +50% vs previous day");
    expect(r.reply.context![0]).toMatch(/Today is not over/);
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
    expect(JSON.stringify((await app.run("shell:sam", "help")).reply)).not.toContain("digest");
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
});
