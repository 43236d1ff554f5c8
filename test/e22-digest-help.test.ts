/**
 * Digest leftovers and help examples a newcomer can run (task F, e22), in English and Chinese:
 * a tiny move reads "+<0.1%", not "±0.0%"; the Monday weekly summary of a shop whose first sale
 * is that Monday (or none yet) does not read "CN¥0.00 vs CN¥0.00"; a fortnight without sales has
 * whole GMV ticks; the ids the help examples name are in the demo data; the Chinese usage of
 * `stock` names the SKU as the others do. Real database, fixed clock (2026-11-25 12:00 Asia/Shanghai).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays } from "../src/core/format.js";
import type { Reply } from "../src/core/reply.js";
import { ChartService, dailySpec } from "../src/services/chart.service.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { generateDemo, seedDemo } from "../src/seed/demo-data.js";
import { DEMO_EXAMPLE_IDS, generateDemoExtras } from "../src/seed/demo-extras.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

/** Runs the daily-digest job at 09:30 Shanghai time on the Monday `monday` and returns its weekly summary. */
async function weeklyOn(app: TestApp, monday: string): Promise<Reply> {
  const start = Date.parse(`${addDays(monday, -1)}T16:30:00Z`);
  app.clock.set(new Date(start));
  const jobs = await jobStepper(app, "daily-digest", start);
  await jobs.step(9 * 3_600_000);
  const doc = await app.store.outbox.findById(`digest-week:${addDays(monday, -1)}:shell:managers`).lean();
  expect(doc).not.toBeNull();
  return reviveReply(doc!.reply);
}

describe("a change too small for one decimal", () => {
  let en: TestApp;
  let zh: TestApp;
  beforeAll(async () => {
    [en, zh] = await Promise.all([makeTestApp(), makeTestApp({ SHOP_LOCALE: "zh-CN" })]);
    for (const app of [en, zh]) {
      // GMV ¥1,000.00 on 11-17, 11-18 and 11-23, ¥1,000.10 on 11-24: a rise of 0.01%; ¥999.90 on 11-25: a fall.
      await app.store.orders.insertMany([
        paidOrder("ORD-W", 100_000, "2026-11-17T04:00:00Z"),
        paidOrder("ORD-X", 100_000, "2026-11-18T04:00:00Z"),
        paidOrder("ORD-A", 100_000, "2026-11-23T04:00:00Z"),
        paidOrder("ORD-B", 100_010, "2026-11-24T04:00:00Z"),
        paidOrder("ORD-C", 99_990, "2026-11-25T02:00:00Z"),
      ]);
      await app.services.digest.rebuildRollups("2026-11-17", "2026-11-25");
    }
  }, 120_000);
  afterAll(() => Promise.all([en?.close(), zh?.close()]));

  it("reads \"+<0.1%\" / \"−<0.1%\" (was \"±0.0%\", as if nothing moved); no move at all stays \"±0.0%\" (en, zh)", async () => {
    const rows = (await en.run("shell:admin", "digest 2026-11-24")).reply.table!.rows;
    const row = (label: string) => rows.find((r) => r[0] === label);
    expect(row("GMV")).toEqual(["GMV", "CN¥1,000.10", "+<0.1%", "+<0.1%"]);
    expect(row("Net revenue")![2]).toBe("+<0.1%");
    expect(row("Avg. order value")![2]).toBe("+<0.1%");
    expect(row("Paid orders")![2]).toBe("±0.0%");
    // Against the day before (¥1,000.10) and a week before (¥1,000.00): both a fall under 0.1%.
    const today = (await en.run("shell:admin", "digest")).reply.table!.rows.find((r) => r[0] === "GMV");
    expect(today).toEqual(["GMV", "CN¥999.90", "\u2212<0.1%", "\u2212<0.1%"]);

    const zhRows = (await zh.run("shell:admin", "digest 2026-11-24")).reply.table!.rows;
    expect(zhRows.find((r) => r[0] === "成交额 GMV")!.slice(2)).toEqual(["+<0.1%", "+<0.1%"]);
  });
});

describe("the Monday weekly summary when the shop's first sale is that Monday, or none yet", () => {
  let en: TestApp;
  let zh: TestApp;
  beforeAll(async () => {
    [en, zh] = await Promise.all([makeTestApp({}, "2026-11-30T00:30:00Z"), makeTestApp({ SHOP_LOCALE: "zh-CN" }, "2026-11-30T00:30:00Z")]);
  }, 120_000);
  afterAll(() => Promise.all([en?.close(), zh?.close()]));

  it("none yet: its zeros are said to be the shop's, as the daily digest says; first sale that Monday morning: no week reads 0 vs 0 (en, zh)", async () => {
    for (const app of [en, zh]) {
      const none = await weeklyOn(app, "2026-11-30");
      const zero = app === en ? "CN¥0.00" : "¥0.00";
      expect(none.table!.rows[0]!.slice(1)).toEqual([zero, zero, "—"]);
      expect(none.context).toContain(app === en ? "No order of this shop has been paid yet: every sales figure is 0." : "店铺还没有任何已付款订单：各项销售数据均为 0。");
      // The first order is paid at 08:10 on Monday 12-07, before the 09:30 run.
      await app.store.orders.insertMany([paidOrder("ORD-M1", 10_000, "2026-12-07T00:10:00Z")]);
      await app.services.digest.rebuildRollups("2026-12-07", "2026-12-07");
    }
    const week = await weeklyOn(en, "2026-12-07");
    expect(week.title).toBe("Weekly summary: 2026-11-30 to 2026-12-06");
    // Was: ["GMV", "CN¥0.00", "CN¥0.00", "—"] …, as if the shop had sold nothing for two weeks.
    expect(week.table!.rows).toEqual([
      ["GMV", "—", "—", "— (no data yet)"],
      ["Paid orders", "—", "—", "— (no data yet)"],
      ["Refunds", "—", "—", "— (no data yet)"],
      ["Net revenue", "—", "—", "— (no data yet)"],
    ]);
    expect(week.status).toBe("info");
    expect(week.context).toContain("No sales data before 2026-12-07, the shop's first paid order: these 14 days have none to sum or compare.");

    const zhWeek = await weeklyOn(zh, "2026-12-07");
    expect(zhWeek.table!.rows.map((r) => r.slice(1))).toEqual(Array.from({ length: 4 }, () => ["—", "—", "—（尚无数据）"]));
    expect(zhWeek.context).toContain("2026-12-07（店铺第一笔已付款订单）之前无销售数据：这 14 天没有可汇总或比较的数据。");
  });
});

describe("the chart of a fortnight without sales", () => {
  it("has whole GMV ticks (0 and 1, as the orders axis), not 0.2 … 1", async () => {
    const points = Array.from({ length: 14 }, (_, i) => ({ day: addDays("2026-11-12", i), gmv: 0, orders: 0 }));
    const svg = await new ChartService().svg(dailySpec(points, { title: "GMV and paid orders", gmv: "GMV (CNY)", orders: "Paid orders", day: "Day" }));
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    const gmvTicks = labels.slice(labels.indexOf("Day") + 1, labels.indexOf("GMV (CNY)"));
    expect(gmvTicks).toEqual(["0", "1"]);
    // A fortnight with sales keeps its own ticks.
    const busy = await new ChartService().svg(dailySpec(points.map((p, i) => ({ ...p, gmv: 100 * i, orders: i })), { title: "t", gmv: "GMV (CNY)", orders: "Paid orders", day: "Day" }));
    expect(busy).toContain(">1,200<");
  });
});

describe("help examples on the demo data (what `npm start` loads)", () => {
  it("the demo holds the complaint, refund request and coupon the examples name, whatever its seed and end day", () => {
    for (const [seed, endDay] of [[42, "2026-11-25"], [7, "2026-04-10"], [1234, "2027-01-31"]] as const) {
      const data = generateDemo({ seed, endDay, timeZone: "Asia/Shanghai", currency: "CNY" });
      const x = generateDemoExtras(data, { seed, timeZone: "Asia/Shanghai", currency: "CNY", now: new Date(`${addDays(endDay, 1)}T00:00:00+08:00`) });
      expect(x.complaints.filter((c) => c._id === DEMO_EXAMPLE_IDS.complaint).map((c) => c.status), `${seed}`).toEqual(["new"]);
      expect(x.refundRequests.filter((r) => r._id === DEMO_EXAMPLE_IDS.refundRequest).map((r) => r.status), `${seed}`).toEqual(["pending"]);
      expect(x.coupons.some((c) => c._id === x.exampleCoupon._id)).toBe(false);
      expect(new Set(x.complaints.map((c) => c._id)).size).toBe(x.complaints.length);
    }
  });

  describe("copied into the shell", () => {
    let en: TestApp;
    let zh: TestApp;
    beforeAll(async () => {
      [en, zh] = await Promise.all([makeTestApp(), makeTestApp({ SHOP_LOCALE: "zh-CN" })]);
      await seedDemo(en.store, { seed: 42, endDay: "2026-11-25", timeZone: "Asia/Shanghai", currency: "CNY", products: 60, days: 30, ordersPerDay: 40, until: en.clock.now() });
    }, 300_000);
    afterAll(() => Promise.all([en?.close(), zh?.close()]));

    const examples = async (app: TestApp, name: string) => {
      const cmd = app.core.commands.find((c) => c.name === name)!;
      const { examplesOf } = await import("../src/core/registry.js");
      return examplesOf(cmd, "en");
    };

    it("runs the show, claim, approve, pause and resume examples (was: \"not found\")", async () => {
      for (const name of ["complaint show", "refund show", "coupon show", "complaint claim", "refund approve", "coupon pause", "coupon resume"]) {
        const line = (await examples(en, name))[0]!;
        const r = await en.run("shell:admin", line);
        expect([line, r.outcome, r.reply.code]).toEqual([line, "ok", undefined]);
      }
    });

    it("the Chinese usage of `stock` names the SKU as `stock adjust` does (was `<sku | 商品名关键词>`)", async () => {
      const usage = (await zh.run("shell:admin", "stock")).reply.fields?.find((f) => f.label === "用法")?.value;
      expect(usage).toBe("`stock <SKU | 商品名关键词>`");
      expect(JSON.stringify((await zh.run("shell:admin", "help stock")).reply)).toContain("`stock <SKU | 商品名关键词>`");
    });
  });
});
