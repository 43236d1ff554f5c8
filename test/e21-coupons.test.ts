/**
 * The e21 coupon pass, as a marketer types a promotion in English and Chinese: a coupon said the
 * way people say it (`coupon launch SAVE10 10%`, `9折`, `满100减20`, `value=10%` without type=,
 * `ends=2026-12-31 23:59`) is answered with the whole line to type, never with a code that holds
 * the value; `value=满100减20` names value= and min=; a start or end on a day word with a time
 * (`明天 10:00`, `tomorrow 9:30`) or a one-digit hour is read; a code in Chinese characters is
 * refused saying letters mean A–Z. On Slack too (Discord: e21-coupons-discord.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";

const TEAM = "T0E21C";
const ANN = "U0E21ANN";
let app: TestApp;
let slack: SlackHarness;

const run = (text: string, identity = "shell:max") => app.run(identity, text);
const zh = (text: string, identity = "shell:max") => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const drafts = () => app.store.couponDrafts.countDocuments();

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:max": "manager", [`slack:${TEAM}:${ANN}`]: "manager" });
  await app.store.products.insertMany([product("SKU-1001", { price: 10_000, cost: 4_000, onHand: 10_000 })]);
  slack = await slackHarness(app, { team: TEAM, users: { [ANN]: "ann" } });
});
afterAll(async () => {
  await slack?.stop();
  await app?.close();
});

describe("a coupon typed without its options' names", () => {
  it("is answered with the whole line to type (9折 as value=10, 满100减20 as value=20 min=100), in English and Chinese; nothing is previewed", async () => {
    const before = await drafts();
    const cases: [string, string][] = [
      ["coupon launch SAVE10 10%", "`coupon launch code=SAVE10 type=percent value=10`"],
      ["coupon launch code=SAVE10 10%", "`coupon launch code=SAVE10 type=percent value=10`"],
      ["coupon launch code=SAVE10 value=10%", "`coupon launch code=SAVE10 type=percent value=10`"],
      ["coupon launch code=SAVE10 9折", "9折 is 10% off. Write it as: `coupon launch code=SAVE10 type=percent value=10`"],
      ["coupon launch MJ20 满100减20 end=2026-12-31", "满100减20 is 20 off orders from 100. Write it as: `coupon launch code=MJ20 type=fixed value=20 min=100 end=2026-12-31`"],
      ["coupon launch code=SAVE10 type=percent value=10 ends=2026-12-31 23:59", 'the option is end=, not ends=. Write it as: `coupon launch code=SAVE10 type=percent value=10 end="2026-12-31 23:59"`'],
    ];
    for (const [line, expected] of cases) {
      const r = await run(line);
      expect([line, r.outcome, r.code]).toEqual([line, "user_error", "invalid_args"]);
      expect(r.reply.text).toContain(expected);
      expect(r.reply.text).toContain("Nothing was previewed.");
      // Never a code holding the value (`code="SAVE10 10%"`), which the code check would then refuse.
      expect(r.reply.text).not.toMatch(/code="/);
    }
    const z = await zh("coupon launch D11 满300减50 start=11月11日");
    expect(z.reply.text).toContain("满300减50 即减 50、最低消费 300。请写作：`coupon launch code=D11 type=fixed value=50 min=300 start=11月11日`。未生成预览。");
    expect(await drafts()).toBe(before);
    // The refusal is on the code's audit trail.
    const audit = await app.store.audit.findOne({ command: "coupon launch", subject: "MJ20" }).lean();
    expect(audit).toMatchObject({ outcome: "user_error", code: "invalid_args" });
    // The line it gives is a preview.
    const given = await run("coupon launch code=MJ20 type=fixed value=20 min=100 end=2026-12-31");
    expect([given.outcome, field(given, "Discount")]).toEqual(["ok", "CN¥20.00 off orders from CN¥100.00"]);
  });

  it("on Slack too: `/coupon launch SAVE10 10%` gives the line to type", async () => {
    const body = (await slack.slash("launch SAVE10 10%", ANN, "/coupon"))[0]!.body;
    expect(JSON.stringify(body)).toContain("Write it as: `/ops coupon launch code=SAVE10 type=percent value=10`");
  });
});

describe("value=满100减20 with its type", () => {
  it("names the two options it is, value= and min= (a percent coupon's, as a fixed one), in English and Chinese", async () => {
    const fixed = await run("coupon launch code=MJ30 type=fixed value=满100减20");
    expect([fixed.outcome, fixed.code]).toEqual(["user_error", "bad_fixed"]);
    expect(fixed.reply.text).toContain('Fixed discount "满100减20": that is 20 off orders from 100; give the two apart, the discount and the minimum spend: `coupon launch code=MJ30 type=fixed value=20 min=100`');
    const percent = await run("coupon launch code=MJ30 type=percent value=满100减20");
    expect(percent.reply.text).toContain('Percent "满100减20": that is 20 off orders from 100, a fixed coupon: `coupon launch code=MJ30 type=fixed value=20 min=100`');
    expect((await zh("coupon launch code=MJ30 type=满减 value=满300元减50元")).reply.text).toContain('固定折扣 "满300元减50元"：即满 300 减 50，请把折扣和最低消费分开写：`coupon launch code=MJ30 type=fixed value=50 min=300`');
  });
});

describe("a start or end on a day word with a time", () => {
  it("is read as that day's time (明天 10:00, tomorrow 9:30, a one-digit hour), and the coupon starts then", async () => {
    const cases: [string, string, string][] = [
      ['start="明天 10:00" end="12月3日 9:00"', "2026-11-26 10:00 GMT+8", "2026-12-03 09:00 GMT+8"],
      ['start="tomorrow 9:30" end=明天18:00', "2026-11-26 09:30 GMT+8", "2026-11-26 18:00 GMT+8"],
      ['start="today 18:00" end="2026-12-01 9:00"', "2026-11-25 18:00 GMT+8", "2026-12-01 09:00 GMT+8"],
    ];
    for (const [dates, starts, ends] of cases) {
      const r = await run(`coupon launch code=TIMED1 type=percent value=10 ${dates}`);
      expect([dates, r.outcome, field(r, "Starts"), field(r, "Ends")]).toEqual([dates, "ok", starts, ends]);
    }
    const z = await zh('coupon launch code=TIMED2 type=折扣 value=10 start="明天 9:00"');
    expect(z.outcome).toBe("ok");
    expect(await run(z.reply.actions![0]!.id)).toMatchObject({ outcome: "ok" });
    expect((await app.store.coupons.findById("TIMED2").lean())?.startsAt).toEqual(new Date("2026-11-26T01:00:00Z"));
    // A time already past today is refused as past, not as unreadable.
    expect((await run('coupon launch code=TIMED3 type=percent value=10 start="today 10:00"')).code).toBe("start_in_past");
  });
});

describe("a code in Chinese characters", () => {
  it("is refused saying letters are A–Z and a code cannot hold Chinese characters", async () => {
    const z = await zh("coupon launch code=双十一 type=折扣 value=10");
    expect([z.outcome, z.code]).toEqual(["user_error", "bad_code"]);
    expect(z.reply.text).toContain("字母只能是英文字母 A–Z，券码中不能有汉字");
    expect((await run("coupon launch code=双十一 type=percent value=10")).reply.text).toContain("use 3–20 letters A–Z, digits, - or _");
    // A plain bad code keeps its message.
    expect((await run("coupon launch code=X! type=percent value=10")).reply.text).not.toContain("Chinese");
  });
});
