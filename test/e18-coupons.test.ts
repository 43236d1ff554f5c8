/** Coupon leftovers: amounts with ¥ or 元 and counts with 次, a past start said as past, every refused Confirm says nothing launched, typo suggestions, unused coupons in words. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

const run = (text: string) => app.run("shell:max", text);
const zh = (text: string) => app.core.invoke({ identity: "shell:max", platform: "shell", text, locale: "zh-CN" });
const drafts = () => app.store.couponDrafts.countDocuments();

beforeAll(async () => {
  app = await makeTestApp({}, "2026-11-25T02:00:00Z");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1001", { price: 100_000, cost: 4_000, onHand: 100_000 })]);
});
afterAll(() => app.close());

describe("amounts and counts as Chinese staff type them", () => {
  it("reads ¥20, 20元, RMB￥20 and min=150元 as the shop currency, and limit=500次 / per-customer=1张 as counts", async () => {
    app.clock.set("2026-11-25T02:00:00Z");
    const r = await run("coupon launch code=YUAN20 type=fixed value=¥20 min=150元 limit=500次 per-customer=1张");
    expect(r.outcome).toBe("ok");
    expect(field(r, "Discount")).toBe("CN¥20.00 off orders from CN¥150.00");
    expect(field(r, "Total uses")).toBe("500");
    expect(field(r, "Per customer")).toBe("1");
    for (const [value, min] of [["20元", "￥150"], ["RMB￥20", "人民币150元"], ["￥２０", "１５０元"]]) {
      const again = await run(`coupon launch code=YUAN20 type=fixed value=${value} min=${min} limit=１,０００次`);
      expect(again.outcome, `${value} ${min}`).toBe("ok");
      expect(field(again, "Discount")).toBe("CN¥20.00 off orders from CN¥150.00");
      expect(field(again, "Total uses")).toBe("1,000");
    }
  });

  it("refuses another currency's sign naming the shop currency, and drafts nothing", async () => {
    const before = await drafts();
    const r = await run("coupon launch code=USD20 type=fixed value=$20 min=US$150");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.text).toContain('Fixed discount "$20": coupons are in the shop currency, CNY; give the amount in CNY, e.g. 20 or 19.90.');
    expect(r.reply.text).toContain('Minimum spend "US$150": coupons are in the shop currency, CNY; give the amount in CNY, e.g. 100.');
    expect((await zh("coupon launch code=USD20 type=fixed value=$20 min=150")).reply.text).toContain('固定折扣 "$20"：优惠券使用店铺币种 CNY；请用 CNY 填写金额，例如 20 或 19.90。');
    // A sign on a count is no count.
    expect((await run("coupon launch code=USD20 type=percent value=10 limit=¥500")).reply.text).toContain('limit="¥500": use a whole number of at least 1.');
    expect(await drafts()).toBe(before);
  });
});

describe("a start or end in the past", () => {
  it("refuses start=yesterday (昨天) as past, saying what to type, not as unreadable", async () => {
    const r = await run("coupon launch code=PAST10 type=percent value=10 start=yesterday");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.code).toBe("start_in_past");
    expect(r.reply.text).toContain("The start (yesterday) is already past. Leave start out (or use start=now) to start at once, or give a later time.");
    expect((await zh("coupon launch code=PAST10 type=percent value=10 start=昨天")).reply.text).toContain("开始时间（昨天）已过。不写 start（或用 start=now）即可立即开始");
  });

  it("refuses end=yesterday as past with what to type; start=today starts when confirmed", async () => {
    const r = await run("coupon launch code=PAST10 type=percent value=10 end=yesterday");
    expect(r.reply.code).toBe("end_in_past");
    expect(r.reply.text).toContain("The end (yesterday) is already past. Give a later end (a date, or end=+7d for 7 days from the start), or leave end out for no end.");
    expect((await zh("coupon launch code=PAST10 type=percent value=10 end=昨天")).reply.text).toContain("结束时间（昨天）已过。请给出更晚的结束时间");
    const today = await run("coupon launch code=PAST10 type=percent value=10 start=today end=today");
    expect(today.outcome).toBe("ok");
    expect(field(today, "Starts")).toBe("when confirmed");
  });
});

describe("every refused Confirm says nothing was launched", () => {
  it("a cancelled, a replaced and an unknown preview, and a mistyped check", async () => {
    app.clock.set("2026-11-25T02:00:00Z");
    const cancelled = (await run("coupon launch code=CONF1 type=percent value=10")).reply.actions![0]!.id;
    await run(cancelled.replace(/^coupon confirm (\S+) .*$/, "coupon cancel $1"));
    const replaced = (await run("coupon launch code=CONF2 type=percent value=10")).reply.actions![0]!.id;
    await run("coupon launch code=CONF2 type=percent value=15");
    const lines = [cancelled, replaced, "coupon confirm D-NOPE00 h=12345678", replaced.replace(/h=\S+/, "h=zz")];
    for (const line of lines) {
      const r = await run(line);
      expect(r.outcome, line).toBe("user_error");
      expect(r.reply.text, line).toMatch(/nothing was launched/i);
      expect((await zh(line)).reply.text, line).toContain("未发布任何内容");
    }
    expect(await app.store.coupons.countDocuments({ _id: { $in: ["CONF1", "CONF2"] } })).toBe(0);
  });
});

describe("a mistyped code", () => {
  it("suggests the nearest existing codes in coupon show, pause, resume and expire", async () => {
    app.clock.set("2026-11-25T02:00:00Z");
    await app.services.coupon.launchNow({ code: "XMAS25", type: "percent", value: "25", actor: "shell:max" });
    await app.services.coupon.launchNow({ code: "XMAS26", type: "percent", value: "25", actor: "shell:max" });
    const show = await run("coupon show XMAS52");
    expect(show.reply.code).toBe("unknown_coupon");
    expect(show.reply.text).toBe('No coupon "XMAS52". Did you mean XMAS25, XMAS26? See `coupon list`.');
    expect((await zh("coupon show xmas52")).reply.text).toBe('没有优惠券 "xmas52"。你是不是想找 XMAS25、XMAS26？请查看 `coupon list`。');
    expect((await run("coupon pause XMAS2")).reply.text).toBe('No coupon "XMAS2". Did you mean XMAS25, XMAS26? See `coupon list`.');
    // Nothing near: no suggestion.
    expect((await run("coupon expire SUMMER")).reply.text).toBe('No coupon "SUMMER". See `coupon list`.');
    expect((await app.services.coupon.get("XMAS25"))!.status).toBe("active");
  });
});

describe("a coupon never used", () => {
  it("reads Not used yet in coupon show, and Never used once ended (also in the expiry tally); a used one keeps its figures", async () => {
    app.clock.set("2026-11-25T02:00:00Z");
    await app.services.coupon.launchNow({ code: "QUIET5", type: "percent", value: "5", actor: "shell:max" });
    const show = await run("coupon show QUIET5");
    expect(field(show, "Uses")).toBe("Not used yet");
    expect(field(show, "Orders (customers)")).toBeUndefined();
    expect(field(show, "Revenue of those orders")).toBeUndefined();
    expect(field(await zh("coupon show QUIET5"), "已使用")).toBe("尚未使用");
    const expire = await run("coupon expire QUIET5");
    expect(expire.reply.context).toEqual(["Never used: no paid order carrying the code was placed while it ran."]);
    expect(field(await run("coupon show QUIET5"), "Uses")).toBe("Never used");
    expect(field(await zh("coupon show QUIET5"), "已使用")).toBe("从未使用");

    // A used coupon keeps its figures (in zh too).
    app.clock.set("2026-11-25T02:00:00Z");
    await app.services.coupon.launchNow({ code: "BUSY5", type: "percent", value: "5", actor: "shell:max" });
    const at = "2026-11-25T03:00:00Z";
    app.clock.set("2026-11-25T04:00:00Z");
    const ingested = await app.services.ingest.apply("orders", { orderNo: "BUSY-1", status: "paid", items: [{ sku: "SKU-1001", qty: 1, unitPrice: 10_000 }], customerId: "C1", couponCode: "BUSY5", discount: 500, createdAt: at, paidAt: at, currency: "CNY" }, "api:shop");
    expect(ingested.outcome).toBe("created");
    const used = await zh("coupon show BUSY5");
    expect(field(used, "已使用")).toBe("1");
    expect(field(used, "订单 / 客户")).toBe("1 笔 / 1 位");
    expect(field(used, "退款 / 净额")).toBe("¥0.00 / ¥95.00");
  });
});

describe("odd input a marketer types", () => {
  it("refuses an amount on a percent coupon (¥15, 15元) pointing to a fixed coupon, not as a bad percent", async () => {
    const before = await drafts();
    const r = await run("coupon launch code=ODD15 type=percent value=¥15");
    expect(r.reply.code).toBe("bad_percent");
    expect(r.reply.text).toContain('Percent "¥15": a currency sign is for fixed coupons, which need a minimum spend above the discount (e.g. `coupon launch code=ODD15 type=fixed value=15 min=100`); a percent coupon\'s value is the percent off, a whole number from 1 to 90 (15 or 15%).');
    expect((await zh("coupon launch code=ODD15 type=percent value=15元")).reply.text).toContain('百分比 "15元"：带币种符号的金额用于固定金额优惠券，需要高于折扣的最低消费（例如 `coupon launch code=ODD15 type=fixed value=15 min=100`）');
    // A percent above 90 is still told the range.
    expect((await run("coupon launch code=ODD15 type=percent value=150")).reply.text).toContain('Percent "150": use a whole number from 1 to 90 (15 or 15%).');
    expect(await drafts()).toBe(before);
  });

  it("an empty list names the state asked for (in zh too), and an empty whole list says none was launched", async () => {
    expect((await run("coupon list scheduled")).reply.text).toBe("No scheduled coupons. Every coupon: `coupon list all`.");
    expect((await zh("coupon list 已暂停")).reply.text).toBe("没有已暂停的优惠券。查看全部：`coupon list 全部`。");
    await app.store.coupons.deleteMany({});
    expect((await run("coupon list all")).reply.text).toBe("No coupons have been launched here yet.");
  });
});
