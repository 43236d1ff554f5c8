/**
 * The e22 coupon-lines pass, as marketers type a launch: a code in Chinese characters typed
 * without code= (`coupon launch 双十一 满300减50`) is told a code is A–Z and digits, with the rest of
 * the line written right and an example code; a time after a date typed as its own word as people
 * say it (`9pm`, 下午3点) is written into the line (`end="2026-12-31 21:00"`); a day its month lacks
 * (`start=2026-02-30`, `end=2月30日`) is refused saying how many days that month has; a refusal
 * that says how to write the coupon (满100减20, 9折 or 15% on a fixed coupon, ¥15 on a percent one)
 * gives the whole corrected line, which Discord shows as its members type it
 * (e22-coupon-lines-discord.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
const run = (text: string) => app.run("shell:max", text);
const zh = (text: string) => app.core.invoke({ identity: "shell:max", platform: "shell", text, locale: "zh-CN" });
const drafts = () => app.store.couponDrafts.countDocuments();

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:max": "manager" });
  await app.store.products.insertMany([product("SKU-1001", { price: 10_000, cost: 4_000, onHand: 10_000 })]);
});
afterAll(async () => {
  await app?.close();
});

describe("a code in Chinese characters typed without code=", () => {
  it("is told a code is letters A–Z and digits, with the rest of the line written right and an example code, in English and Chinese; nothing is previewed", async () => {
    const before = await drafts();
    const r = await run("coupon launch 双十一 满300减50");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toBe(
      "Invalid arguments for `coupon launch`:\n• coupon launch takes each part of a coupon with its option's name (code=, type=, value=, min=, start=, end=…); 满300减50 is 50 off orders from 300; a code is 3–20 letters A–Z, digits, - or _, and 双十一 has other characters (such as Chinese ones): SAVE50 in the line that follows is only an example: put a code of your own. Write it as: `coupon launch code=SAVE50 type=fixed value=50 min=300`. Nothing was previewed.",
    );
    const z = await zh("coupon launch 双十一 满300减50 end=12月12日");
    expect(z.reply.text).toContain(
      "满300减50 即减 50、最低消费 300；券码只能用 3–20 个英文字母 A–Z、数字、- 或 _，双十一 含有其他字符（如汉字）：以下写法中的 SAVE50 只是示例，请换成你自己的券码。请写作：`coupon launch code=SAVE50 type=fixed value=50 min=300 end=12月12日`。未生成预览。",
    );
    // Named but with the value typed bare, the same answer.
    expect((await run("coupon launch code=双十一 9折")).reply.text).toContain("Write it as: `coupon launch code=SAVE10 type=percent value=10`");
    expect(await drafts()).toBe(before);
    // The refusal's audit entry does not name the example as its subject.
    expect(await app.store.audit.countDocuments({ command: "coupon launch", subject: "SAVE50" })).toBe(0);
    // The line it gives is a preview.
    const given = await run("coupon launch code=SAVE50 type=fixed value=50 min=300");
    expect([given.outcome, field(given, "Discount")]).toEqual(["ok", "CN¥50.00 off orders from CN¥300.00"]);
  });
});

describe("a time after a date typed as its own word", () => {
  it("is written into the line as HH:mm (9pm as 21:00, 下午3点 as 15:00), in English and Chinese", async () => {
    const r = await run("coupon launch code=LATE9 type=percent value=10 end=2026-12-31 9pm");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toContain('Write it as: `coupon launch code=LATE9 type=percent value=10 end="2026-12-31 21:00"`. Nothing was previewed.');
    const z = await zh("coupon launch code=LATE9 type=折扣 value=10 start=2026-12-01 下午3点");
    expect(z.reply.text).toContain('请写作：`coupon launch code=LATE9 type=折扣 value=10 start="2026-12-01 15:00"`。未生成预览。');
    expect(await app.store.couponDrafts.countDocuments({ code: "LATE9" })).toBe(0);
    // The line it gives is read as that time.
    const given = await run('coupon launch code=LATE9 type=percent value=10 end="2026-12-31 21:00"');
    expect([given.outcome, field(given, "Ends")]).toEqual(["ok", "2026-12-31 21:00 GMT+8"]);
  });
});

describe("a start or end on a day its month lacks", () => {
  it("is refused saying how many days that month has, as since= says it, in English and Chinese", async () => {
    const r = await run("coupon launch code=FEB30 type=percent value=10 start=2026-02-30");
    expect([r.outcome, r.code]).toEqual(["user_error", "bad_date"]);
    expect(r.reply.text).toBe('Coupon FEB30 cannot be launched:\n• start="2026-02-30" is no day of the calendar: 2026-02 has 28 days. Give a day that exists, YYYY-MM-DD.');
    // A day without a year is the next such day: 2月30日 is read in 2027.
    const z = await zh("coupon launch code=FEB30 type=percent value=10 end=2月30日");
    expect(z.reply.text).toContain('end="2月30日" 不存在：2027-02 只有 28 天。请给出存在的日期 YYYY-MM-DD。');
    expect((await run('coupon launch code=FEB30 type=percent value=10 end="2026-04-31 10:00"')).reply.text).toContain("2026-04 has 30 days");
    expect(await app.store.couponDrafts.countDocuments({ code: "FEB30" })).toBe(0);
  });
});

describe("a refusal that says how to write the coupon", () => {
  it("gives the whole corrected line (满100减20, 9折 or 15% on a fixed coupon, ¥15 on a percent one), in English and Chinese", async () => {
    const cases: [string, string][] = [
      ["coupon launch code=MJ30 type=fixed value=满100减20", "give the two apart, the discount and the minimum spend: `coupon launch code=MJ30 type=fixed value=20 min=100`"],
      ["coupon launch code=MJ30 type=percent value=满100减20 end=2026-12-31", "a fixed coupon: `coupon launch code=MJ30 type=fixed value=20 min=100 end=2026-12-31`"],
      ["coupon launch code=ZHE8 type=fixed value=8折 min=100", "(8折 is 20% off: `coupon launch code=ZHE8 type=percent value=20 min=100`)"],
      ["coupon launch code=FIX15 type=fixed value=15% min=100", "a % is for percent coupons (`coupon launch code=FIX15 type=percent value=15 min=100`)"],
      ["coupon launch code=ODD15 type=percent value=¥15", "a currency sign is for fixed coupons, which need a minimum spend above the discount (e.g. `coupon launch code=ODD15 type=fixed value=15 min=100`)"],
    ];
    for (const [line, expected] of cases) {
      const r = await run(line);
      expect([line, r.outcome]).toEqual([line, "user_error"]);
      expect(r.reply.text).toContain(expected);
    }
    expect((await zh("coupon launch code=MJ30 type=满减 value=满300元减50元")).reply.text).toContain('固定折扣 "满300元减50元"：即满 300 减 50，请把折扣和最低消费分开写：`coupon launch code=MJ30 type=fixed value=50 min=300`');
    expect((await zh("coupon launch code=ODD15 type=percent value=15元")).reply.text).toContain("带币种符号的金额用于固定金额优惠券，需要高于折扣的最低消费（例如 `coupon launch code=ODD15 type=fixed value=15 min=100`）");
    // The lines given are previews.
    for (const line of ["coupon launch code=MJ30 type=fixed value=20 min=100", "coupon launch code=ZHE8 type=percent value=20 min=100", "coupon launch code=ODD15 type=fixed value=15 min=100"]) {
      expect([line, (await run(line)).outcome]).toEqual([line, "ok"]);
    }
  });
});

