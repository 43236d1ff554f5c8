/**
 * Refunds as support staff and managers use them all day: an amount written with the order's
 * currency sign (as the bot prints it) is read, another currency's is refused naming the order's;
 * a two-manager request that expires after one approval tells its requester who approved it; and
 * `refund show` offers the Reject button only to whom `refund reject` would take it from.
 */
import { afterEach, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
afterEach(() => app?.close());

/** A fresh app (CNY, Asia/Shanghai) with staff, support, two managers, an order of ¥300, one of ¥4,000 and one of $50.00. */
async function fresh(): Promise<TestApp> {
  app = await withCast(makeTestApp(), USUAL_CAST);
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000), paidOrder("ORD-4", 400_000), paidOrder("ORD-US", 5_000, undefined, { currency: "USD" })]);
  return app;
}

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const idOf = (title: string | undefined) => /R-[0-9A-Z]{6}/.exec(title ?? "")![0];

describe("refund request with a currency sign", () => {
  it("reads the order's own sign or code as the bot prints it (CN¥100.00, ¥, ￥, 元, RMB, cny; $ and US$ on a USD order)", async () => {
    await fresh();
    const cases: [string, string, number, "en" | "zh"][] = [
      ["ORD-1", "CN¥100.00", 10_000, "en"],
      ["ORD-1", "¥50", 5_000, "en"],
      ["ORD-1", "￥２０", 2_000, "zh"],
      ["ORD-1", "10元", 1_000, "zh"],
      ["ORD-1", "RMB5.50", 550, "en"],
      ["ORD-1", "3cny", 300, "en"],
      ["ORD-US", "$22.98", 2_298, "en"],
      ["ORD-US", "US$10.00", 1_000, "zh"],
    ];
    for (const [orderNo, amount, minor, lang] of cases) {
      const line = `refund request ${orderNo} ${amount} reason=damaged`;
      const r = lang === "zh" ? await zh("shell:sam", line) : await app.run("shell:sam", line);
      expect([amount, r.outcome, r.code]).toEqual([amount, "ok", undefined]);
      expect(await app.store.refundRequests.findById(idOf(r.reply.title)).lean()).toMatchObject({ orderNo, amount: minor });
    }
  });

  it("refuses another currency's sign or code, naming the order's currency (en and zh), and changes nothing", async () => {
    await fresh();
    for (const [orderNo, amount, currency] of [["ORD-1", "$100", "CNY"], ["ORD-1", "US$5", "CNY"], ["ORD-1", "5USD", "CNY"], ["ORD-1", "€5", "CNY"], ["ORD-US", "¥5", "USD"], ["ORD-US", "5元", "USD"]] as const) {
      const r = await app.run("shell:sam", `refund request ${orderNo} ${amount} reason=damaged`);
      expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "bad_amount", `"${amount}" is in another currency than order ${orderNo}, which is in ${currency}: give the amount in ${currency}, e.g. 25.00, or full.`]);
    }
    const z = await zh("shell:sam", "refund request ORD-1 $100 reason=damaged");
    expect(z.reply.text).toBe('"$100" 不是订单 ORD-1 的币种（CNY）：请用 CNY 填写金额，例如 25.00，或 全额（full）。');
    // Text that names no currency is still told it is not an amount.
    for (const amount of ["100abc", "-¥5", "¥", "¥-5"]) {
      const r = await app.run("shell:sam", `refund request ORD-1 ${amount} reason=damaged`);
      expect([amount, r.code, r.reply.text]).toEqual([amount, "bad_amount", `"${amount}" is not a refund amount. Give a positive amount such as 25.00 (up to 12 digits before the point, commas only between thousands), or full.`]);
    }
    // The sign does not lift the other checks: decimals, zero, the balance.
    expect((await app.run("shell:sam", "refund request ORD-1 ¥1.005 reason=x")).code).toBe("bad_amount");
    expect((await app.run("shell:sam", "refund request ORD-1 ¥0 reason=x")).reply.text).toBe('"¥0" refunds nothing: give an amount above 0, e.g. 25.00, or full.');
    expect((await app.run("shell:sam", "refund request ORD-1 ¥300.01 reason=x")).code).toBe("over_balance");
    expect(await app.store.refundRequests.countDocuments()).toBe(0);
    expect((await app.store.orders.findById("ORD-1").lean())?.heldTotal ?? 0).toBe(0);
  });
});

describe("a two-manager request that expires after one approval", () => {
  it("tells its requester who approved it and that nothing completed it in time; its card says so (en and zh)", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-4 3000 reason=damaged")).reply.title);
    expect((await app.run("shell:mia", `refund approve ${id}`)).outcome).toBe("ok");
    app.clock.advance(73 * 3_600_000);
    expect((await app.services.refund.expireDue()).expired).toEqual([id]);
    const notice = await app.store.outbox.findById(`refund:${id}:expired`).lean<{ reply: { text: string } }>();
    expect(notice?.reply.text).toBe(`Your refund request ${id} for CN¥3,000.00 on order ORD-4 expired: shell:mia approved it, but no further approval completed it in time. Nothing was refunded.`);
    const show = await app.run("shell:sam", `refund show ${id}`);
    expect(field(show, "Expired")).toBe("2026-11-28 12:00 GMT+8, approved but not completed in time (closed by the system; nothing refunded)");
    expect(field(show, "Approvals")).toBe("shell:mia (2026-11-25 12:00 GMT+8)");
    expect(field(await zh("shell:sam", `refund show ${id}`), "已过期")).toBe("2026-11-28 12:00 GMT+8，已有审批但未在期限内完成（由系统关闭，未退款）");
    // One nobody approved still says nobody decided.
    const other = idOf((await app.run("shell:sam", "refund request ORD-1 5 reason=damaged")).reply.title);
    app.clock.advance(73 * 3_600_000);
    await app.services.refund.expireDue();
    expect((await app.store.outbox.findById(`refund:${other}:expired`).lean<{ reply: { text: string } }>())?.reply.text).toBe(`Your refund request ${other} for CN¥5.00 on order ORD-1 expired without a decision.`);
    expect(field(await app.run("shell:sam", `refund show ${other}`), "Expired")).toBe("2026-12-01 13:00 GMT+8, with no decision before then (closed by the system; nothing refunded)");
  });
});

describe("refund show's Reject button", () => {
  it("is offered only to whom refund reject would take it from: not to staff, who are told why", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-1 5 reason=damaged")).reply.title);
    const staff = await app.run("shell:sam", `refund show ${id}`);
    expect(staff.reply.actions ?? []).toEqual([]);
    // Not the requester either: told why, as refund approve and refund reject would say it.
    await app.services.identity.grant("shell:tom", "staff", "shell:admin");
    const tom = await app.run("shell:tom", `refund show ${id}`);
    expect(tom.reply.actions ?? []).toEqual([]);
    expect(tom.reply.context).toEqual(["`refund approve` and `refund reject` need the support role; you are staff. Ask an admin (`role grant`) if you need them."]);
    expect(await zh("shell:tom", `refund show ${id}`).then((r) => r.reply.context)).toEqual(["`refund approve` 和 `refund reject` 需要客服（support）角色；你当前是员工（staff）。如有需要，请联系管理员（`role grant`）。"]);
    const sue = await app.run("shell:sue", `refund show ${id}`);
    expect((sue.reply.actions ?? []).map((a) => a.id)).toEqual([`refund approve ${id}`, `refund reject ${id} reason="rejected from button"`]);
  });
});
