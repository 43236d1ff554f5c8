/** A marketer's pass over coupons: amounts refused for their decimals, the net in an ended coupon's tally, a long list's count. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;
let yen: TestApp;

const zh = (a: TestApp, text: string) => a.core.invoke({ identity: "shell:max", platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  yen = await makeTestApp({ SHOP_CURRENCY: "JPY" });
  for (const a of [app, yen]) await a.services.identity.grant("shell:max", "manager", "shell:admin");
});
afterAll(async () => {
  await app.close();
  await yen.close();
});

describe("coupon launch: an amount with more decimals than the currency has", () => {
  it("says the currency's decimals, not 'use a positive amount', and records nothing", async () => {
    const drafts = await app.store.couponDrafts.countDocuments();
    const fixed = await app.run("shell:max", "coupon launch code=FIX1 type=fixed value=19.999 min=100");
    expect(fixed).toMatchObject({ outcome: "user_error", code: "bad_fixed" });
    expect(fixed.reply.text).toContain('Fixed discount "19.999": CNY amounts have at most 2 decimals; use a positive amount in the shop currency, e.g. 20 or 19.90.');
    const min = await app.run("shell:max", "coupon launch code=FIX2 type=fixed value=20 min=150.555");
    expect(min).toMatchObject({ outcome: "user_error", code: "bad_min" });
    expect(min.reply.text).toContain('Minimum spend "150.555": CNY amounts have at most 2 decimals, e.g. 100 or 99.90.');
    expect((await zh(app, "coupon launch code=FIX1 type=fixed value=19.999 min=100")).reply.text).toContain('固定折扣 "19.999"：CNY 金额最多 2 位小数；');
    expect((await zh(app, "coupon launch code=FIX2 type=fixed value=20 min=150.555")).reply.text).toContain('最低消费 "150.555"：CNY 金额最多 2 位小数，例如 100 或 99.90。');
    // Not a number at all is still told as before.
    expect((await app.run("shell:max", "coupon launch code=FIX3 type=fixed value=abc min=100")).reply.text).toContain('Fixed discount "abc": use a positive amount in the shop currency, e.g. 20 or 19.90.');
    expect(await app.store.couponDrafts.countDocuments()).toBe(drafts);
  });

  it("in a currency without decimals (JPY), says it has none", async () => {
    const fixed = await yen.run("shell:max", "coupon launch code=YEN1 type=fixed value=20.5 min=1000");
    expect(fixed).toMatchObject({ outcome: "user_error", code: "bad_fixed" });
    expect(fixed.reply.text).toContain('Fixed discount "20.5": JPY amounts have no decimals; use a whole amount, e.g. 20 or 1500.');
    expect((await yen.run("shell:max", "coupon launch code=YEN2 type=fixed value=500 min=3000.5")).reply.text).toContain('Minimum spend "3000.5": JPY amounts have no decimals, e.g. 100.');
    expect((await zh(yen, "coupon launch code=YEN1 type=fixed value=20.5 min=1000")).reply.text).toContain('固定折扣 "20.5"：JPY 金额没有小数；请使用整数金额，例如 20 或 1500。');
    expect(await yen.store.couponDrafts.countDocuments()).toBe(0);
  });
});

describe("an ended coupon's tally with orders refunded since", () => {
  it("gives the refunds and the net, in the expire reply and the announcement, as coupon show does", async () => {
    expect((await app.services.coupon.launchNow({ code: "WEEK10", type: "percent", value: "10", actor: "shell:max" })).kind).toBe("launched");
    expect((await app.services.coupon.launchNow({ code: "WEEK11", type: "percent", value: "10", actor: "shell:max" })).kind).toBe("launched");
    const on = (code: string, no: string, over: Record<string, unknown>) => paidOrder(no, 18000, "2026-11-25T04:30:00Z", { couponCode: code, subtotal: 20000, discount: 2000, ...over });
    await app.store.orders.insertMany([
      on("WEEK10", "W1", {}),
      on("week10", "W2", { status: "refunded", refundedTotal: 18000, customerId: "C2" }),
      on("WEEK10", "W3", { refundedTotal: 5000, customerId: "C3" }),
      on("WEEK11", "W4", { refundedTotal: 1000 }),
    ]);
    app.clock.set("2026-11-25T05:00:00Z");
    // A plain loop over the orders: revenue 540, refunded 180 + 50, net 310.
    expect((await app.run("shell:max", "coupon show WEEK10")).reply.fields?.find((f) => f.label === "Refunded (net)")?.value).toBe("CN¥230.00 (CN¥310.00 net)");
    const r = await app.run("shell:max", "coupon expire WEEK10");
    expect(r.outcome).toBe("ok");
    expect(r.reply.context).toEqual([
      "Used 3 times by 3 customers: CN¥540.00 of orders, CN¥60.00 of discounts.",
      "CN¥230.00 of those orders refunded: CN¥310.00 net.",
      "ROI +416.7% on the discount: (CN¥310.00 net − CN¥60.00 of discounts) ÷ CN¥60.00.",
    ]);
    const doc = await app.store.outbox.findOne({ kind: "coupons", _id: /^coupon-expired:WEEK10:/ }).lean();
    expect((reviveReply(doc!.reply) as Reply).context).toContain("CN¥230.00 of those orders refunded: CN¥310.00 net.");
    expect((await zh(app, "coupon expire WEEK11")).reply.context).toContain("这些订单已退款 ¥10.00：净额 ¥170.00。");
  });
});

describe("coupon list past the 500 it reads", () => {
  it("counts them all in the title and the 'more' line", async () => {
    const at = new Date("2026-11-25T05:00:00Z");
    await app.store.coupons.insertMany(
      Array.from({ length: 501 }, (_, i) => ({
        _id: `BULK${String(i).padStart(3, "0")}`,
        type: "percent",
        value: 5,
        currency: "CNY",
        minSpend: 0,
        startsAt: new Date(at.getTime() + 86_400_000 + i * 60_000),
        skus: [],
        categories: [],
        status: "active",
        draftId: `D-B${i}`,
        createdBy: "shell:max",
        confirmedBy: "shell:max",
        createdAt: at,
      })),
    );
    const r = await app.run("shell:max", "coupon list scheduled");
    expect(r.reply.title).toBe("Coupons: 501");
    expect(r.reply.context).toEqual(["Showing 30 of 501; 471 more not shown. Narrow the list: `coupon list active`, `coupon list scheduled`, `coupon list paused` or `coupon list expired`."]);
    expect((await zh(app, "coupon list scheduled")).reply.title).toBe("优惠券：501 个");
  });
});

describe("coupon launch: a limit typed with commas between thousands", () => {
  it("reads limit=1,000 as a thousand, as amounts are read, and still refuses 1,00", async () => {
    const r = await app.run("shell:max", "coupon launch code=THOU type=percent value=10 limit=1,000 per-customer=２");
    expect(r.outcome).toBe("ok");
    expect(r.reply.fields?.find((f) => f.label === "Total uses")?.value).toBe("1,000");
    const bad = await app.run("shell:max", "coupon launch code=THOU type=percent value=10 limit=1,00");
    expect(bad).toMatchObject({ outcome: "user_error", code: "bad_count" });
    expect(bad.reply.text).toContain('limit="1,00": use a whole number of at least 1.');
  });
});

describe("coupon cancel after the preview was confirmed", () => {
  it("says the coupon is launched and how to end it, and changes nothing", async () => {
    const p = await app.run("shell:max", "coupon launch code=LATE5 type=percent value=5");
    const [confirm, cancel] = p.reply.actions!.map((a) => a.id);
    expect((await app.run("shell:max", confirm!)).outcome).toBe("ok");
    const r = await app.run("shell:max", cancel!);
    expect(r).toMatchObject({ outcome: "ok", code: "preview_closed" });
    expect(r.reply.text).toContain("was confirmed already: LATE5 is launched in shopops, and nothing was cancelled. To end it: `coupon expire LATE5`");
    expect((await zh(app, cancel!)).reply.text).toContain("已经确认：LATE5 已在 shopops 中发布，未取消任何内容。如需结束：`coupon expire LATE5`");
    expect((await app.store.coupons.findById("LATE5").lean())?.status).toBe("active");
  });
});
