/** A marketer's pass over coupons: singular counts, a taken code's state and next step, a code orders already carry. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

const zh = (text: string) => app.core.invoke({ identity: "shell:max", platform: "shell", text, locale: "zh-CN" });
const run = (text: string) => app.run("shell:max", text);
/** A paid order carrying `code`, ingested as the shop sends it. */
const order = (no: string, code: string, at: string, customerId = "C1") =>
  app.services.ingest.apply(
    "orders",
    { orderNo: no, status: "paid", items: [{ sku: "SKU-1001", qty: 1, unitPrice: 10_000 }], customerId, couponCode: code, discount: 1_000, createdAt: at, paidAt: at, currency: "CNY" },
    "api:shop",
  );

beforeAll(async () => {
  app = await makeTestApp({}, "2026-11-25T02:00:00Z");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1001", { price: 10_000, cost: 4_000, onHand: 1_000 })]);
});
afterAll(() => app.close());

describe("one order is counted in the singular", () => {
  it("says 1 paid order (not '1 paid orders') placed outside the dates or while paused, in coupon show and the expiry tally", async () => {
    app.clock.set("2026-11-25T02:00:00Z");
    expect((await app.services.coupon.launchNow({ code: "ONE10", type: "percent", value: "10", actor: "shell:max" })).kind).toBe("launched");
    app.clock.set("2026-11-25T03:00:00Z");
    expect((await run("coupon pause ONE10")).outcome).toBe("ok");
    app.clock.set("2026-11-25T04:00:00Z");
    expect((await order("ONE-A", "ONE10", "2026-11-25T01:00:00Z")).outcome).toBe("created"); // before its start
    expect((await order("ONE-B", "ONE10", "2026-11-25T03:30:00Z")).outcome).toBe("created"); // while paused
    const show = await run("coupon show ONE10");
    expect(show.reply.context).toContain("1 paid order carries the code but was placed outside the coupon's dates: not counted here.");
    expect(show.reply.context).toContain("1 paid order carries the code but was placed while the coupon was paused in shopops: not counted here (the storefront kept accepting the code).");
    const expire = await run("coupon expire ONE10");
    expect(expire.reply.context).toContain("1 paid order with the code was placed while it was paused in shopops: not counted above.");
  });
});

describe("a code already taken", () => {
  it("says the existing coupon ended and suggests a free code; nothing is drafted", async () => {
    app.clock.set("2026-11-25T04:00:00Z");
    await app.services.coupon.launchNow({ code: "XMAS25", type: "percent", value: "25", end: "+1d", actor: "shell:max" });
    await app.services.coupon.launchNow({ code: "XMAS25-2", type: "percent", value: "25", end: "+1d", actor: "shell:max" });
    app.clock.set("2026-11-27T04:00:00Z");
    const drafts = await app.store.couponDrafts.countDocuments();
    const r = await run("coupon launch code=xmas25 type=percent value=20");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.code).toBe("code_taken");
    expect(r.reply.text).toContain(
      "Code XMAS25 already exists: a coupon that ended on 2026-11-26 (`coupon show XMAS25`). Codes are case-insensitive and never reused: pick another, e.g. XMAS25-3.",
    );
    expect((await zh("coupon launch code=xmas25 type=percent value=20")).reply.text).toContain(
      "券码 XMAS25 已存在：该优惠券已于 2026-11-26 结束（`coupon show XMAS25`）。券码不区分大小写且不能重复使用，请换一个，例如 XMAS25-3。",
    );
    expect(await app.store.couponDrafts.countDocuments()).toBe(drafts);
  });

  it("points a paused coupon's code to coupon resume, and a live one's to coupon show", async () => {
    app.clock.set("2026-11-27T04:00:00Z");
    await app.services.coupon.launchNow({ code: "NY26", type: "percent", value: "10", actor: "shell:max" });
    await app.services.coupon.launchNow({ code: "NY27", type: "percent", value: "10", actor: "shell:max" });
    await run("coupon pause NY27");
    expect((await run("coupon launch code=ny26 type=percent value=20")).reply.text).toContain(
      "Code NY26 already exists: an active coupon (`coupon show NY26`). Codes are case-insensitive and never reused: to change its terms, end it (`coupon expire NY26`) and launch them under another code.",
    );
    expect((await run("coupon launch code=ny27 type=percent value=10")).reply.text).toContain(
      "Code NY27 already exists: a coupon paused in shopops; `coupon resume NY27` runs it again. Codes are case-insensitive and never reused.",
    );
    expect((await zh("coupon launch code=ny27 type=percent value=10")).reply.text).toContain("券码 NY27 已存在：该优惠券在 shopops 中已暂停；`coupon resume NY27` 可恢复它。");
  });
});

describe("a code orders already carry", () => {
  it("warns in the preview that paid orders carry the code before the coupon starts (they are not its uses)", async () => {
    app.clock.set("2026-11-27T04:00:00Z");
    expect((await order("BF-1", "bf2026", "2025-11-28T04:00:00Z", "C1")).outcome).toBe("created");
    expect((await order("BF-2", "BF2026", "2025-11-29T04:00:00Z", "C2")).outcome).toBe("created");
    const r = await run("coupon launch code=BF2026 type=percent value=15 start=2026-11-28 end=+3d");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toContain(
      "⚠ 2 paid orders already carry the code BF2026 (the latest placed 2025-11-29): the storefront may have it set up already, perhaps on other terms. Orders placed before this coupon's start are not counted as its uses.",
    );
    expect((await zh("coupon launch code=BF2026 type=percent value=15 start=2026-11-28 end=+3d")).reply.text).toContain(
      "⚠ 已有 2 笔已付款订单带有券码 BF2026（最近一笔于 2025-11-29 下单）：店铺后台可能已设置该券码，条件可能不同。本券开始前下的订单不计入其使用次数。",
    );
    // A code no order carries: no such warning.
    expect((await run("coupon launch code=BF2027 type=percent value=15 start=2026-11-28")).reply.text).not.toContain("already carry the code");
  });
});

describe("a percent typed as 折", () => {
  it("refuses 8.5折, 85折 and 9折 saying the percent off to write instead, and drafts nothing", async () => {
    app.clock.set("2026-11-27T04:00:00Z");
    const drafts = await app.store.couponDrafts.countDocuments();
    const r = await zh("coupon launch code=ZHE85 type=percent value=8.5折");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.code).toBe("bad_percent");
    expect(r.reply.text).toContain("百分比 \"8.5折\"：折 表示折后支付的比例，这里填写减免的百分比：8.5折 即减 15%，请写 value=15。");
    expect((await zh("coupon launch code=ZHE85 type=percent value=８５折")).reply.text).toContain("即减 15%，请写 value=15。");
    expect((await zh("coupon launch code=ZHE9 type=percent value=9折")).reply.text).toContain("9折 即减 10%，请写 value=10。");
    expect((await run("coupon launch code=ZHE9 type=percent value=9折")).reply.text).toContain(
      'Percent "9折": 折 gives the share of the price paid, while value= is the percent off: 9折 is 10% off, so write value=10.',
    );
    expect(await app.store.couponDrafts.countDocuments()).toBe(drafts);
  });
});
