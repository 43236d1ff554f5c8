/** A manager's hands-on pass over the daily digest (issue #4): what read wrong, in English and Chinese. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDigestDay } from "../src/services/digest.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

// Wednesday 2026-11-25, 12:00 in Asia/Shanghai.
const NOW = "2026-11-25T04:00:00Z";
let app: TestApp;

let n = 0;
/** A paid order of `total` fen at `paidAt` (UTC). */
function order(paidAt: string, total: number, over: Record<string, unknown> = {}) {
  n++;
  return paidOrder(`ORD-${n}`, total, paidAt, { status: "paid", customerId: `C-${n}`, refunds: [], refundedTotal: 0, ...over });
}

const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp({}, NOW);
  await app.store.orders.insertMany([
    order("2026-11-24T03:00:00Z", 10_000),
    // One sale in another currency on 11-24, and one refund of another such order that day.
    order("2026-11-24T04:00:00Z", 9_900, { currency: "USD" }),
    order("2026-11-10T04:00:00Z", 5_000, { currency: "USD", refunds: [{ amount: 1_000, at: new Date("2026-11-24T05:00:00Z"), day: "2026-11-24" }], refundedTotal: 1_000 }),
    // Two of each on 11-23.
    order("2026-11-23T03:00:00Z", 10_000),
    order("2026-11-23T04:00:00Z", 9_900, { currency: "USD" }),
    order("2026-11-23T05:00:00Z", 9_900, { currency: "USD", refunds: [{ amount: 1_000, at: new Date("2026-11-23T06:00:00Z"), day: "2026-11-23" }, { amount: 500, at: new Date("2026-11-23T07:00:00Z"), day: "2026-11-23" }], refundedTotal: 1_500 }),
    // Six sales on 11-12 and on 11-18, none on 11-19: a fall against both days.
    ...["2026-11-12", "2026-11-18"].flatMap((day) => Array.from({ length: 6 }, (_, i) => order(`${day}T0${i}:00:00Z`, 1_000))),
  ]);
  await app.services.digest.rebuildRollups("2026-11-01", "2026-11-25");
});
afterAll(() => app.close());

describe("digest small print", () => {
  it("names one order or refund left out in the singular (was \"1 paid orders … are left out\")", async () => {
    const one = await app.run("shell:admin", "digest 2026-11-24");
    expect(one.outcome).toBe("ok");
    expect(one.reply.context!.slice(0, 2)).toEqual([
      "1 paid order in a currency other than CNY is left out.",
      "1 refund of an order in a currency other than CNY is left out of the refund figures.",
    ]);
    const two = await app.run("shell:admin", "digest 2026-11-23");
    expect(two.reply.context!.slice(0, 2)).toEqual([
      "2 paid orders in a currency other than CNY are left out.",
      "2 refunds of orders in a currency other than CNY are left out of the refund figures.",
    ]);
    // Chinese has no plural: unchanged.
    expect((await zh("digest 2026-11-24")).reply.context!.slice(0, 2)).toEqual(["有 1 笔非 CNY 币种的已付款订单未计入。", "有 1 笔非 CNY 币种订单的退款未计入退款数据。"]);
  });
});

describe("anomalies", () => {
  it("a figure flagged against both days is named once, with both changes (was named twice)", async () => {
    const r = await app.run("shell:admin", "digest 2026-11-19");
    expect(r.reply.text).toBe(
      "⚠ Anomalies (moves of 30% or more the wrong way): GMV −100.0% vs previous day, −100.0% vs a week before; Paid orders −100.0% vs previous day, −100.0% vs a week before; " +
        "Units −100.0% vs previous day, −100.0% vs a week before; Net revenue −100.0% vs previous day, −100.0% vs a week before; New customers −100.0% vs previous day, −100.0% vs a week before.",
    );
    expect((await zh("digest 2026-11-19")).reply.text).toMatch(/^⚠ 异常波动（向不利方向变化 30% 及以上）：成交额 GMV −100\.0%（较前一日），−100\.0%（较上周同日）；已付款订单 −100\.0%（较前一日），/);
  });
});

describe("a shop with no sale yet", () => {
  it("says its sales figures are 0, not every figure, when complaints already came in (en, zh)", async () => {
    const fresh = await makeTestApp({}, NOW);
    try {
      const filed = await fresh.run("shell:admin", "complaint new parcel arrived crushed");
      expect(filed.outcome, filed.reply.text).toBe("ok");
      const r = await fresh.run("shell:admin", "digest");
      expect(r.reply.table!.rows.find((x) => x[0] === "Complaints opened")![1]).toBe("1");
      expect(r.reply.context).toContain("No order of this shop has been paid yet: every sales figure is 0.");
      const z = await fresh.core.invoke({ identity: "shell:admin", platform: "shell", text: "digest", locale: "zh-CN" });
      expect(z.reply.context).toContain("店铺还没有任何已付款订单：各项销售数据均为 0。");
    } finally {
      await fresh.close();
    }
  });
});

describe("digest <weekday>", () => {
  it("reads the day as the table's column names it: digest 上周五 / friday (were refused as not a day)", async () => {
    const last = await zh("digest 上周五");
    expect(last.outcome, last.reply.text).toBe("ok");
    expect(last.reply.title).toBe("销售日报：2026-11-20");
    expect((await app.run("shell:admin", "digest friday")).reply.title).toBe("Daily digest: 2026-11-20");
    // This week's Friday is still to come: said so, as for any day after today.
    const ahead = await zh("digest 本周五");
    expect(ahead).toMatchObject({ outcome: "user_error", code: "future_day" });
    expect(ahead.reply.text).toBe("2026-11-27 是未来的日期（Asia/Shanghai 今天是 2026-11-25）：还没有它的日报。");
    // A word that is no day says weekdays are read too, in both languages.
    expect((await app.run("shell:admin", "digest someday")).reply.text).toContain("A weekday reads too: friday or fri, the latest one, today or before.");
    expect((await zh("digest 某天")).reply.text).toContain("也可写星期几：周五、星期五（今天或之前最近的一个）、上周五、本周五。");
  });

  it("weekdays: the latest such day today or before; 上周X in last week, 本周X/这周X in this one (weeks from Monday)", () => {
    const wed = "2026-11-25";
    const cases: [string, string][] = [
      ["wed", wed],
      ["Wednesday", wed],
      ["周三", wed],
      ["thu", "2026-11-19"],
      ["mon", "2026-11-23"],
      ["sunday", "2026-11-22"],
      ["星期一", "2026-11-23"],
      ["礼拜二", "2026-11-24"],
      ["周日", "2026-11-22"],
      ["周天", "2026-11-22"],
      ["上周一", "2026-11-16"],
      ["上周三", "2026-11-18"],
      ["上周日", "2026-11-22"],
      ["上星期五", "2026-11-20"],
      ["本周一", "2026-11-23"],
      ["这周三", wed],
    ];
    for (const [typed, day] of cases) expect(parseDigestDay(typed, wed), typed).toEqual({ ok: true, day });
    // On a Sunday, 上周日 is a week before and 本周日 today.
    expect(parseDigestDay("上周日", "2026-11-29")).toEqual({ ok: true, day: "2026-11-22" });
    expect(parseDigestDay("本周日", "2026-11-29")).toEqual({ ok: true, day: "2026-11-29" });
    expect(parseDigestDay("本周四", wed)).toEqual({ ok: false, reason: "future", day: "2026-11-26" });
    expect(parseDigestDay("周八", wed)).toEqual({ ok: false, reason: "bad_day" });
  });
});
