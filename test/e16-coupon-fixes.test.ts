/** Coupons for marketing: the ROI of a coupon's discount, grouped uses in the list, no remaining uses once ended, value=15%. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

const zh = (text: string) => app.core.invoke({ identity: "shell:max", platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
});
afterAll(() => app.close());

describe("coupon ROI: (net revenue − discount given) ÷ discount given", () => {
  it("matches a plain loop over the orders, refunded and cancelled ones included, in coupon show, the expire reply and the announcement", async () => {
    app.clock.set("2026-11-25T04:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "ROI10", type: "percent", value: "10", actor: "shell:max" })).kind).toBe("launched");
    const on = (no: string, total: number, discount: number, over: Record<string, unknown> = {}) =>
      paidOrder(no, total, "2026-11-25T04:30:00Z", { couponCode: "ROI10", subtotal: total + discount, discount, ...over });
    const orders = [
      on("R1", 45_000, 5_000, { customerId: "C1" }),
      on("R2", 27_000, 3_000, { customerId: "C2", refundedTotal: 7_000 }),
      on("R3", 18_000, 2_000, { customerId: "C3", status: "refunded", refundedTotal: 18_000 }),
      on("R4", 90_000, 10_000, { customerId: "C4", status: "cancelled" }),
      on("R5", 9_000, 1_000, { customerId: "C5", status: "pending", paidAt: undefined, paidDay: undefined }),
    ];
    await app.store.orders.insertMany(orders);
    app.clock.set("2026-11-25T05:00:00Z");

    // A plain loop: paid orders only (cancelled and unpaid ones are not uses), revenue after discount minus refunds.
    let revenue = 0;
    let refunded = 0;
    let discount = 0;
    for (const o of orders as { status: string; total: number; discount: number; refundedTotal?: number }[]) {
      if (o.status === "cancelled" || o.status === "pending") continue;
      revenue += o.total;
      refunded += o.refundedTotal ?? 0;
      discount += o.discount;
    }
    const roi = ((revenue - refunded - discount) / discount) * 100;
    const expected = `+${roi.toFixed(1)}%`;
    expect(expected).toBe("+550.0%"); // (900 − 250 − 100) ÷ 100

    const show = await app.run("shell:max", "coupon show ROI10");
    expect(field(show, "Revenue of those orders")).toBe("CN¥900.00");
    expect(field(show, "Discount given")).toBe("CN¥100.00");
    expect(field(show, "Refunded (net)")).toBe("CN¥250.00 (CN¥650.00 net)");
    expect(field(show, "ROI on the discount")).toBe(expected);
    expect(field(await zh("coupon show ROI10"), "折扣回报率（ROI）")).toBe(expected);

    const r = await app.run("shell:max", "coupon expire ROI10");
    expect(r.outcome, r.reply.text).toBe("ok");
    const line = `ROI ${expected} on the discount: (CN¥650.00 net − CN¥100.00 of discounts) ÷ CN¥100.00.`;
    expect(r.reply.context).toEqual(["Used 3 times by 3 customers: CN¥900.00 of orders, CN¥100.00 of discounts.", "CN¥250.00 of those orders refunded: CN¥650.00 net.", line]);
    const doc = await app.store.outbox.findOne({ kind: "coupons", _id: /^coupon-expired:ROI10:/ }).lean();
    expect((reviveReply(doc!.reply) as Reply).context).toContain(line);
    // Ended, the ROI still shows in coupon show.
    expect(field(await app.run("shell:max", "coupon show ROI10"), "ROI on the discount")).toBe(expected);
  });

  it("reads a loss with the bot's minus sign, in Chinese too", async () => {
    app.clock.set("2026-11-25T06:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "LOSS20", type: "percent", value: "20", actor: "shell:max" })).kind).toBe("launched");
    // 80 paid, 20 off, 70 refunded: (10 − 20) ÷ 20 = −50%.
    await app.store.orders.insertMany([paidOrder("L1", 8_000, "2026-11-25T06:10:00Z", { couponCode: "LOSS20", subtotal: 10_000, discount: 2_000, refundedTotal: 7_000 })]);
    app.clock.set("2026-11-25T06:30:00Z");
    expect(field(await app.run("shell:max", "coupon show LOSS20"), "ROI on the discount")).toBe("\u221250.0%");
    const r = await zh("coupon expire LOSS20");
    expect(r.reply.context).toContain("折扣回报率（ROI）\u221250.0%：（净额 ¥10.00 − 折扣 ¥20.00）÷ ¥20.00。");
  });

  it("says — with the reason when no discount was given: no uses yet, or a 0 discount", async () => {
    app.clock.set("2026-11-25T07:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "NONE5", type: "percent", value: "5", actor: "shell:max" })).kind).toBe("launched");
    expect(field(await app.run("shell:max", "coupon show NONE5"), "ROI on the discount")).toBe("— (no uses yet)");
    expect(field(await zh("coupon show NONE5"), "折扣回报率（ROI）")).toBe("—（尚无使用）");
    // An order carrying the code with no discount on it (the storefront did not apply it).
    await app.store.orders.insertMany([paidOrder("N1", 5_000, "2026-11-25T07:10:00Z", { couponCode: "NONE5" })]);
    app.clock.set("2026-11-25T07:30:00Z");
    expect(field(await app.run("shell:max", "coupon show NONE5"), "ROI on the discount")).toBe("— (no discount given)");
    const r = await app.run("shell:max", "coupon expire NONE5");
    expect(r.reply.context).toContain("ROI on the discount: — (no discount given).");
    expect((await zh("coupon show NONE5")).reply.fields?.find((f) => f.label === "折扣回报率（ROI）")?.value).toBe("—（未给出折扣）");
  });
});

describe("coupon list: uses grouped by thousands", () => {
  it("writes 1,234 uses and a 5,000 limit as the other numbers are written", async () => {
    app.clock.set("2026-11-26T04:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "BIG1", type: "percent", value: "5", limit: "5000", actor: "shell:max" })).kind).toBe("launched");
    await app.store.orders.insertMany(Array.from({ length: 1234 }, (_, i) => paidOrder(`B-${i}`, 1_000, "2026-11-26T04:10:00Z", { couponCode: i % 2 ? "BIG1" : "big1", customerId: `C${i}` })));
    app.clock.set("2026-11-26T05:00:00Z");
    const uses = async (run: (text: string) => ReturnType<typeof zh>) => (await run("coupon list active")).reply.table!.rows.find((r) => r[0] === "BIG1")?.[4];
    expect(await uses((text) => app.run("shell:max", text))).toBe("1,234/5,000");
    expect(await uses(zh)).toBe("1,234/5,000");
    // Without a limit, the uses alone.
    await app.store.coupons.updateOne({ _id: "BIG1" }, { $unset: { limit: 1 } });
    expect(await uses((text) => app.run("shell:max", text))).toBe("1,234");
  });
});

describe("coupon show on an ended coupon: no remaining uses", () => {
  it("shows remaining uses while it can be used, paused too, and none once expired, by hand or by its date", async () => {
    app.clock.set("2026-11-27T04:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "END1", type: "percent", value: "5", limit: "10", end: "+1d", actor: "shell:max" })).kind).toBe("launched");
    expect((await app.services.coupon.launchNow({ code: "END2", type: "percent", value: "5", limit: "1", actor: "shell:max" })).kind).toBe("launched");
    expect((await app.services.coupon.launchNow({ code: "END3", type: "percent", value: "5", limit: "10", start: "+2d", actor: "shell:max" })).kind).toBe("launched");
    await app.store.orders.insertMany([
      paidOrder("E1", 1_000, "2026-11-27T04:10:00Z", { couponCode: "END2", discount: 50 }),
      paidOrder("E2", 1_000, "2026-11-27T04:20:00Z", { couponCode: "END2", discount: 50, customerId: "C2" }),
    ]);
    app.clock.set("2026-11-27T05:00:00Z");
    expect(field(await app.run("shell:max", "coupon show END1"), "Remaining uses")).toBe("10");
    expect((await app.run("shell:max", "coupon pause END1")).outcome).toBe("ok");
    expect(field(await app.run("shell:max", "coupon show END1"), "Remaining uses")).toBe("10");
    expect((await app.run("shell:max", "coupon resume END1")).outcome).toBe("ok");
    expect(field(await app.run("shell:max", "coupon show END3"), "Remaining uses")).toBe("10");
    // Past its end (by its date), expired by hand, and ended before its start: no remaining uses.
    app.clock.set("2026-11-28T05:00:00Z");
    const past = await app.run("shell:max", "coupon show END1");
    expect(past.reply.title).toBe("Coupon END1: expired");
    expect(field(past, "Remaining uses")).toBeUndefined();
    expect(field(await zh("coupon show END1"), "剩余次数")).toBeUndefined();
    expect((await app.run("shell:max", "coupon expire END3")).outcome).toBe("ok");
    expect(field(await app.run("shell:max", "coupon show END3"), "Remaining uses")).toBeUndefined();
    // Its overrun of the limit is still said, as the expiry tally says it.
    expect((await app.run("shell:max", "coupon expire END2")).outcome).toBe("ok");
    const over = await app.run("shell:max", "coupon show END2");
    expect(field(over, "Remaining uses")).toBeUndefined();
    expect(over.reply.context).toContain("1 use over its total limit of 1.");
  });
});

describe("coupon launch value=15%", () => {
  it("takes 15% (and 15％) as 15 on a percent coupon", async () => {
    app.clock.set("2026-11-29T04:00:00Z");
    const r = await app.run("shell:max", "coupon launch code=PCT15 type=percent value=15%");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(field(r, "Discount")).toBe("15% off");
    const wide = await app.run("shell:max", "coupon launch code=PCT16 type=percent value=１５％");
    expect(wide.outcome, wide.reply.text).toBe("ok");
    expect(field(wide, "Discount")).toBe("15% off");
    const confirm = r.reply.actions![0]!.id;
    expect((await app.run("shell:max", confirm)).outcome).toBe("ok");
    expect((await app.store.coupons.findById("PCT15").lean())?.value).toBe(15);
    // Out of range or not whole is still refused, quoting what was typed.
    const bad = await app.run("shell:max", "coupon launch code=PCT17 type=percent value=95%");
    expect(bad).toMatchObject({ outcome: "user_error", code: "bad_percent" });
    expect(bad.reply.text).toContain('Percent "95%": use a whole number from 1 to 90');
  });

  it("refuses it on a fixed coupon, saying the % form is for percent coupons, and records nothing", async () => {
    const drafts = await app.store.couponDrafts.countDocuments();
    const r = await app.run("shell:max", "coupon launch code=FIX15 type=fixed value=15% min=100");
    expect(r).toMatchObject({ outcome: "user_error", code: "bad_fixed" });
    expect(r.reply.text).toContain('Fixed discount "15%": a % is for percent coupons (`coupon launch code=FIX15 type=percent value=15 min=100`); a fixed discount is an amount in the shop currency, e.g. 20 or 19.90.');
    expect((await zh("coupon launch code=FIX15 type=fixed value=15％ min=100")).reply.text).toContain('固定折扣 "15％"：% 只用于百分比优惠券（`coupon launch code=FIX15 type=percent value=15 min=100`）；');
    expect(await app.store.couponDrafts.countDocuments()).toBe(drafts);
  });
});
