/**
 * A manager's morning read of the digest and its chart (task D, e21), in English and Chinese:
 * a quiet day beside a spike, and a shop with under 14 days of history. Real database, fixed
 * clock 2026-11-25 12:00 Asia/Shanghai.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { InvocationResult } from "../src/core/core.js";
import { dailySpec, type DailyChartLabels, type DailyPoint } from "../src/services/chart.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

const NOW = "2026-11-25T04:00:00Z";
let app: TestApp;
let n = 0;
/** A paid order of `total` fen at 10:00 Shanghai time on `day`. */
function order(day: string, total: number) {
  n++;
  return paidOrder(`ORD-${n}`, total, `${day}T02:00:00Z`, { status: "paid", customerId: `C-${n % 40}`, refunds: [], refundedTotal: 0 });
}
const day = (d: number) => `2026-11-${String(d).padStart(2, "0")}`;
const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });
const row = (r: InvocationResult, label: string) => r.reply.table!.rows.find((x) => x[0] === label)!;

/** Runs a digest and returns the reply with the SVG of the chart it drew (what the PNG shows). */
async function withChart(run: () => Promise<InvocationResult>): Promise<{ r: InvocationResult; points: DailyPoint[]; labels: DailyChartLabels; svg: string }> {
  const spy = vi.spyOn(app.services.chart, "dailyPng");
  try {
    const r = await run();
    expect(r.outcome).toBe("ok");
    const [points, labels] = spy.mock.calls.at(-1)! as [DailyPoint[], DailyChartLabels];
    return { r, points, labels, svg: await app.services.chart.svg(dailySpec(points, labels)) };
  } finally {
    spy.mockRestore();
  }
}
const texts = (svg: string, s: string) => svg.split(`>${s}</text>`).length - 1;

beforeAll(async () => {
  app = await makeTestApp({}, NOW);
});
afterAll(() => app.close());

describe("chart: a quiet day beside a spike", () => {
  beforeAll(async () => {
    await app.store.orders.deleteMany({});
    const os = [];
    // 11-11 … 11-21: ten orders of ¥101.70 a day (¥1,017.00); 11-22: 50 of ¥2,000 (¥100,000); 11-23: one of ¥87.
    for (let d = 11; d <= 21; d++) for (let i = 0; i < 10; i++) os.push(order(day(d), 10_170));
    for (let i = 0; i < 50; i++) os.push(order(day(22), 200_000));
    // ¥30 refunded that day on ¥100,000 of sales: a refund rate of 0.03%.
    os[os.length - 1] = { ...os.at(-1)!, refunds: [{ amount: 3_000, at: new Date(`${day(22)}T03:00:00Z`), day: day(22) }], refundedTotal: 3_000 };
    os.push(order(day(23), 8_700));
    await app.store.orders.insertMany(os);
    await app.services.digest.rebuildRollups(day(1), day(25));
  }, 120_000);

  it("writes each day's GMV over its column, so the quiet day's ¥87 reads beside ¥100,000 (en, zh)", async () => {
    for (const run of [() => app.run("shell:admin", "digest 2026-11-23"), () => zh("digest 11月23日")]) {
      const { svg } = await withChart(run);
      // Was: only the axis ticks (0 … 100,000): the quiet day's bar a sliver, indistinguishable from none.
      expect(texts(svg, "87")).toBe(1);
      expect(texts(svg, "1,017")).toBe(11);
      // 100,000 once over its bar, once as the top tick of the GMV axis.
      expect(texts(svg, "100,000")).toBe(2);
    }
  });

  it("a refund rate that is not 0 reads \"<0.1%\" and its move \"+<0.1 pp\", not 0.0% and ±0.0 pp as if nothing was refunded (en, zh)", async () => {
    const r = await app.run("shell:admin", "digest 2026-11-22");
    expect(row(r, "Refunds")).toEqual(["Refunds", "CN¥30.00", "— (was 0)", "— (was 0)"]);
    expect(row(r, "Refund rate")).toEqual(["Refund rate", "<0.1%", "+<0.1 pp", "+<0.1 pp"]);
    expect(row(await zh("digest 2026-11-22"), "退款率")).toEqual(["退款率", "<0.1%", "+<0.1 个百分点", "+<0.1 个百分点"]);
    // The day after: down from 0.03% to 0.
    expect(row(await app.run("shell:admin", "digest 2026-11-23"), "Refund rate")).toEqual(["Refund rate", "0.0%", "\u2212<0.1 pp", "—"]);
  });
});

describe("a shop with under 14 days of history", () => {
  beforeAll(async () => {
    await app.store.orders.deleteMany({});
    // The shop's first paid order is on 11-20: five orders a day from then on.
    const os = [];
    for (let d = 20; d <= 24; d++) for (let i = 0; i < 5; i++) os.push(order(day(d), 10_000));
    await app.store.orders.insertMany(os);
    await app.services.digest.rebuildRollups(day(1), day(25));
  }, 120_000);

  it("a day compared with a day before the shop's data reads \"— (no data yet)\", not \"— (was 0)\" (en, zh)", async () => {
    const r = await app.run("shell:admin", "digest 2026-11-24");
    // Against the day before (data on both): as ever; against 11-17 (before the first sale): no data.
    expect(row(r, "GMV")).toEqual(["GMV", "CN¥500.00", "±0.0%", "— (no data yet)"]);
    expect(row(r, "Paid orders")).toEqual(["Paid orders", "5", "±0.0%", "— (no data yet)"]);
    expect(row(r, "Avg. order value")).toEqual(["Avg. order value", "CN¥100.00", "±0.0%", "— (no data yet)"]);
    expect(row(r, "New customers")[3]).toBe("— (no data yet)");
    // Complaints are not sales data: a day before the first sale is a day like any other for them.
    expect(row(r, "Complaints opened")).toEqual(["Complaints opened", "0", "—", "—"]);
    const z = await zh("digest 2026-11-24");
    expect(row(z, "成交额 GMV")).toEqual(["成交额 GMV", "¥500.00", "±0.0%", "—（尚无数据）"]);
    // Its first day: against both days before it.
    expect(row(await app.run("shell:admin", "digest 2026-11-20"), "GMV")).toEqual(["GMV", "CN¥500.00", "— (no data yet)", "— (no data yet)"]);
    // A day before the first sale itself reads as before: its own note says why it is empty.
    const before = await app.run("shell:admin", "digest 2026-11-18");
    expect(row(before, "GMV")).toEqual(["GMV", "CN¥0.00", "—", "—"]);
    expect(before.reply.context).toContain("2026-11-18 is before the first paid order (2026-11-20): the sales figures are empty because the shop's data starts later, not because nothing sold.");
  });

  it("the chart leaves the days before the first sale empty and says why, instead of drawing them as days without sales (en, zh)", async () => {
    const en = await withChart(() => app.run("shell:admin", "digest yesterday"));
    expect(en.points.filter((p) => p.noData).map((p) => p.day)).toEqual(["11", "12", "13", "14", "15", "16", "17", "18", "19"].map((d) => `2026-11-${d}`));
    expect(en.labels.subtitle).toBe("No data before 2026-11-20, the shop's first paid order: earlier days are left empty.");
    expect(texts(en.svg, "No data before 2026-11-20, the shop&#39;s first paid order: earlier days are left empty.") + texts(en.svg, "No data before 2026-11-20, the shop's first paid order: earlier days are left empty.")).toBe(1);
    // Every day keeps its place on the axis; only the five days with data have a GMV figure
    // (500 five times over the columns, once as the GMV axis's top tick; no "0" column figures).
    expect(texts(en.svg, "11-11")).toBe(1);
    expect(texts(en.svg, "500")).toBe(6);
    expect(texts(en.svg, "0")).toBe(2);
    const z = await withChart(() => zh("digest 昨天"));
    expect(z.labels.subtitle).toBe("2026-11-20（店铺第一笔已付款订单）之前无数据：更早的日期留空。");
    expect(texts(z.svg, "2026-11-20（店铺第一笔已付款订单）之前无数据：更早的日期留空。")).toBe(1);
    // A shop with 14 days or more of history: no empty days, no subtitle.
    await app.store.orders.insertMany([order(day(5), 10_000)]);
    await app.services.digest.rebuildRollups(day(5), day(5));
    const old = await withChart(() => app.run("shell:admin", "digest yesterday"));
    expect(old.points.filter((p) => p.noData)).toEqual([]);
    expect(old.labels.subtitle).toBeUndefined();
  });
});
