/**
 * Two leftovers (task I, e21), in English and Chinese: a Chinese-speaking team's argument errors
 * and usage lines name the arguments in Chinese; the Monday weekly summary of a shop under two
 * weeks old says the week before has no data, not "— (was 0)" as if nothing sold. Real database,
 * fixed clock (2026-11-25 12:00 Asia/Shanghai; the weekly summary on Mondays 2026-11-30 and 12-07).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet, slashLine } from "../adapters/discord/commands.js";
import type { InvocationResult } from "../src/core/core.js";
import { addDays } from "../src/core/format.js";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

const value = (r: InvocationResult, label: string) => r.reply.fields?.find((f) => f.label === label)?.value;

describe("a Chinese-speaking team (SHOP_LOCALE=zh-CN): argument names in Chinese", () => {
  let zh: TestApp;
  let en: TestApp;
  beforeAll(async () => {
    [zh, en] = await Promise.all([makeTestApp({ SHOP_LOCALE: "zh-CN" }), makeTestApp()]);
  });
  afterAll(() => Promise.all([zh?.close(), en?.close()]));

  it("a missing argument is named in Chinese, as the usage line below it names it; option names stay as typed", async () => {
    const cases: [string, string, string][] = [
      // Was: "缺少 <query>", "缺少 <orderNo>", usage `order <orderNo>`.
      ["stock", "• 缺少 <查询内容>", "`stock <SKU | 商品名关键词>`"],
      ["order", "• 缺少 <订单号>", "`order <订单号>`"],
      ["refund show", "• 缺少 <编号>", "`refund show <编号>`"],
      ["order cancel", "• 缺少 <订单号>\n• 缺少 reason=", "`order cancel <订单号> reason=<原因>`"],
      ["role grant", "• 缺少 <身份>\n• 缺少 <角色>", "`role grant <身份> <角色>`"],
      ["coupon show", "• 缺少 <券码>", "`coupon show <券码>`"],
      ["coupon confirm", "• 缺少 <草稿编号>\n• 缺少 h=", "`coupon confirm <草稿编号> h=<校验码>`"],
      ["stock adjust", "• 缺少 <SKU>\n• 缺少 reason=", "`stock adjust <SKU> (<+n|-n> | set=<n>) reason=<原因> [key=<幂等键>]`"],
    ];
    for (const [line, problems, usage] of cases) {
      const r = await zh.run("shell:admin", line);
      expect(r.reply.code).toBe("invalid_args");
      expect(r.reply.text).toBe(`\`${line}\` 的参数无效：\n${problems}`);
      expect(value(r, "用法")).toBe(usage);
    }
    // An English reader keeps the argument's own name.
    const r = await en.run("shell:admin", "order cancel");
    expect(r.reply.text).toBe("Invalid arguments for `order cancel`:\n• missing <orderNo>\n• missing reason=");
    expect(value(r, "Usage")).toBe("`order cancel <orderNo> reason=<text>`");
  });

  it("help shows the Chinese placeholders (en unchanged)", async () => {
    expect(value(await zh.run("shell:admin", "help refund show"), "用法")).toBe("`refund show <编号>`");
    const group = JSON.stringify((await zh.run("shell:admin", "help order")).reply);
    expect(group).toContain("`order deliver <订单号>`");
    expect(group).not.toContain("<orderNo>");
    expect(value(await en.run("shell:admin", "help refund show"), "Usage")).toBe("`refund show <id>`");
  });

  it("on Discord a missing argument keeps its option's name (what the picker shows), and the Chinese usage reads in slash form", async () => {
    const r = await zh.core.invoke({ identity: "discord:555000111", platform: "discord", platformRole: "manager", text: "order cancel", locale: "zh-CN" });
    expect(r.reply.text).toBe("`order cancel` 的参数无效：\n• 缺少 order-no\n• 缺少 reason");
    const set = buildCommandSet(zh.core.commands);
    expect(slashLine(set, value(r, "用法")!.slice(1, -1))).toBe("/order cancel order-no:<订单号> reason:<原因>");
    expect(slashLine(set, "role grant <身份> <角色>")).toBe("/role grant identity:<身份> role:<角色>");
  });
});

describe("the Monday weekly summary of a shop under two weeks old", () => {
  /** The shop's first paid order is on 2026-11-25: three of ¥100.00 a day, one ¥10.00 refunded each day, to 12-06. */
  const FIRST = "2026-11-25";
  const DAYS = Array.from({ length: 12 }, (_, i) => addDays(FIRST, i));
  const orders = DAYS.flatMap((day, d) =>
    [0, 1, 2].map((i) =>
      paidOrder(`ORD-W${d}-${i}`, 10_000, `${day}T04:00:00Z`, {
        customerId: `CUST-${i}`,
        ...(i === 0 ? { refundedTotal: 1_000, refunds: [{ requestId: `R-W${d}`, amount: 1_000, at: new Date(`${day}T05:00:00Z`), day }] } : {}),
      }),
    ),
  );
  let en: TestApp;
  let zh: TestApp;
  beforeAll(async () => {
    [en, zh] = await Promise.all([makeTestApp({}, "2026-11-30T00:30:00Z"), makeTestApp({ SHOP_LOCALE: "zh-CN" }, "2026-11-30T00:30:00Z")]);
    for (const app of [en, zh]) {
      await app.store.orders.insertMany(orders);
      await app.services.digest.rebuildRollups(DAYS[0]!, DAYS.at(-1)!);
    }
  }, 120_000);
  afterAll(() => Promise.all([en?.close(), zh?.close()]));

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

  it("the week before the first paid order reads \"— (no data yet)\", not \"— (was 0)\" (en, zh)", async () => {
    const week = await weeklyOn(en, "2026-11-30");
    expect(week.title).toBe("Weekly summary: 2026-11-23 to 2026-11-29");
    expect(week.table!.rows).toEqual([
      ["GMV", "CN¥1,500.00", "—", "— (no data yet)"],
      ["Paid orders", "15", "—", "— (no data yet)"],
      ["Refunds", "CN¥50.00", "—", "— (no data yet)"],
      ["Net revenue", "CN¥1,450.00", "—", "— (no data yet)"],
    ]);
    expect(week.status).toBe("info");
    expect(week.context).toContain("No sales data before 2026-11-25, the shop's first paid order: the 7 days before have nothing to compare with.");

    const zhWeek = await weeklyOn(zh, "2026-11-30");
    expect(zhWeek.table!.rows.map((r) => r.slice(2))).toEqual(Array.from({ length: 4 }, () => ["—", "—（尚无数据）"]));
    expect(zhWeek.context).toContain("2026-11-25（店铺第一笔已付款订单）之前无销售数据：之前 7 天没有可比较的数据。");
  });

  it("a week before that began before the first paid order is compared as it is, said so, and a rise against it is not flagged (en, zh)", async () => {
    const week = await weeklyOn(en, "2026-12-07");
    expect(week.title).toBe("Weekly summary: 2026-11-30 to 2026-12-06");
    // 7 days against 5 (11-25 … 11-29): +40%, refunds 7 against 5 too; was "+40.0% ⚠" on refunds, as if refunds had risen.
    expect(week.table!.rows).toEqual([
      ["GMV", "CN¥2,100.00", "CN¥1,500.00", "+40.0%"],
      ["Paid orders", "21", "15", "+40.0%"],
      ["Refunds", "CN¥70.00", "CN¥50.00", "+40.0%"],
      ["Net revenue", "CN¥2,030.00", "CN¥1,450.00", "+40.0%"],
    ]);
    expect(week.status).toBe("info");
    expect(week.text).toBeUndefined();
    expect(week.context).toContain("The 7 days before have sales data only from 2026-11-25, the shop's first paid order: a rise against them is not flagged.");

    const zhWeek = await weeklyOn(zh, "2026-12-07");
    expect(zhWeek.table!.rows.map((r) => r[3])).toEqual(["+40.0%", "+40.0%", "+40.0%", "+40.0%"]);
    expect(zhWeek.status).toBe("info");
    expect(zhWeek.context).toContain("之前 7 天只有 2026-11-25（店铺第一笔已付款订单）起的销售数据：相对它的上升不标记为异常。");
  });
});
