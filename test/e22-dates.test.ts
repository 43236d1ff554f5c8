import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";

// Day and time words people type, read by the shared date readers: in order search (since=), and
// in coupon start=/end=. The test clock: Wednesday 2026-11-25 12:00 in Asia/Shanghai (04:00Z).
let en: TestApp;
let zh: TestApp;

// Orders either side of each boundary (shop time, GMT+8): weeks start on Monday.
const ORDERS = [
  paidOrder("ORD-SEP30", 1_000, "2026-09-30T15:59:00Z"), // Sep 30 23:59: before last month
  paidOrder("ORD-OCT31", 1_000, "2026-10-31T15:59:00Z"), // Oct 31 23:59: last month, before this month
  paidOrder("ORD-NOV15", 1_000, "2026-11-15T15:59:00Z"), // Sun Nov 15 23:59: before last week
  paidOrder("ORD-NOV20", 1_000, "2026-11-20T04:00:00Z"), // Fri Nov 20 12:00: last week
  paidOrder("ORD-NOV22", 1_000, "2026-11-22T15:59:00Z"), // Sun Nov 22 23:59: last week
  paidOrder("ORD-NOV23", 1_000, "2026-11-22T16:00:00Z"), // Mon Nov 23 00:00: this week
  paidOrder("ORD-NOV24", 1_000, "2026-11-24T07:00:00Z"), // Tue Nov 24 15:00
];

beforeAll(async () => {
  en = await withCast(makeTestApp(), USUAL_CAST);
  zh = await withCast(makeTestApp({ SHOP_LOCALE: "zh-CN" }), USUAL_CAST);
  for (const a of [en, zh]) await a.store.orders.insertMany(ORDERS);
}, 120_000);
afterAll(async () => {
  await en?.close();
  await zh?.close();
});

/** The order numbers an order search lists, oldest first. */
async function found(a: TestApp, since: string): Promise<string[]> {
  const r = await a.run("shell:sam", `order search since="${since}"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return (r.reply.table?.rows ?? []).map((row) => String(row[0])).sort();
}

describe("order search since= a week, a month or a weekday: from the start of that calendar day in the shop's zone", () => {
  it("this week / 本周 from Monday 00:00, last week / 上周 from the Monday before", async () => {
    for (const a of [en, zh]) {
      for (const w of ["this week", "本周", "这周"]) expect(await found(a, w)).toEqual(["ORD-NOV23", "ORD-NOV24"]);
      for (const w of ["last week", "上周", "上个星期"]) expect(await found(a, w)).toEqual(["ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24"]);
    }
  });

  it("this month / 本月 from the 1st, last month / 上个月 from the 1st of the month before", async () => {
    expect(await found(en, "this month")).toEqual(["ORD-NOV15", "ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24"]);
    expect(await found(zh, "本月")).toEqual(["ORD-NOV15", "ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24"]);
    for (const w of ["last month", "上个月"]) expect(await found(zh, w)).toEqual(["ORD-NOV15", "ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24", "ORD-OCT31"]);
  });

  it("a weekday as digest reads it: monday / 周一 this week's, last friday / 上周五 the 20th", async () => {
    for (const w of ["monday", "周一", "星期一"]) expect(await found(en, w)).toEqual(["ORD-NOV23", "ORD-NOV24"]);
    for (const w of ["last friday", "上周五", "friday"]) expect(await found(zh, w)).toEqual(["ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24"]);
  });

  it("a Chinese time of day: 昨天下午3点 is yesterday 15:00; 1w is 7 days back", async () => {
    expect(await found(zh, "昨天下午3点")).toEqual(["ORD-NOV24"]);
    expect(await found(en, "1w")).toEqual(["ORD-NOV20", "ORD-NOV22", "ORD-NOV23", "ORD-NOV24"]);
  });

  it("no match repeats the filter as a Chinese reader typed it (since=上周), an English one as read", async () => {
    const z = await zh.run("shell:sam", "order search customer=NOBODY since=上周");
    expect(z.reply.text).toContain("since=上周");
    const e = await en.run("shell:sam", 'order search customer=NOBODY since="last week"');
    expect(e.reply.text).toContain('since="last week"');
  });

  it("a day its month lacks is refused saying so, not told to use YYYY-MM-DD; an unreadable one lists the week forms", async () => {
    const e = await en.run("shell:sam", "order search since=2026-02-30");
    expect(e.outcome).toBe("user_error");
    expect(e.reply.text).toContain('"2026-02-30" is no day of the calendar: 2026-02 has 28 days.');
    const z = await zh.run("shell:sam", "order search since=2026-02-30");
    expect(z.reply.text).toContain('"2026-02-30" 不存在：2026-02 只有 28 天。');
    const bad = await en.run("shell:sam", "order search since=fortnight");
    expect(bad.reply.text).toContain("this week or last week (from its Monday)");
    const badZh = await zh.run("shell:sam", "order search since=两周前");
    expect(badZh.reply.text).toContain("本周或上周（从周一起）");
  });
});

describe("coupon start=/end= as people type them", () => {
  const launch = (a: TestApp, code: string, opts: string) => a.run("shell:mia", `coupon launch code=${code} type=percent value=10 ${opts}`);

  it("a Chinese day with 点, 下午3点, 9:00pm, 9am after a date", async () => {
    expect(field(await launch(en, "CPN-T1", 'start="12月1日10点"'), "Starts")).toBe("2026-12-01 10:00 GMT+8");
    expect(field(await launch(zh, "CPN-T2", 'start="下午3点"'), "开始")).toBe("2026-11-25 15:00 GMT+8");
    expect(field(await launch(en, "CPN-T3", 'start="9:00pm"'), "Starts")).toBe("2026-11-25 21:00 GMT+8");
    const t4 = await launch(en, "CPN-T4", 'start="2026-12-01 9am" end="12月2日晚上8点半"');
    expect([field(t4, "Starts"), field(t4, "Ends")]).toEqual(["2026-12-01 09:00 GMT+8", "2026-12-02 20:30 GMT+8"]);
    expect(field(await launch(zh, "CPN-T5", 'start="明天下午3点"'), "开始")).toBe("2026-11-26 15:00 GMT+8");
  });

  it("end=后天, end=月底 (the end of that day), end=1w / 2周 from the start", async () => {
    expect(field(await launch(en, "CPN-T6", "end=后天"), "Ends")).toBe("2026-11-27 (end of day)");
    expect(field(await launch(zh, "CPN-T7", "end=月底"), "结束")).toBe("2026-11-30（当天结束）");
    expect(field(await launch(en, "CPN-T8", 'start="2026-12-01 10:00" end=1w'), "Ends")).toBe("2026-12-08 10:00 GMT+8");
    expect(field(await launch(zh, "CPN-T9", 'start="2026-12-01 10:00" end=2周'), "结束")).toBe("2026-12-15 10:00 GMT+8");
  });

  it('end="2026-12-31 23:59" runs through that day: stored as its end, not a minute short', async () => {
    const r = await launch(en, "CPN-T10", 'end="2026-12-31 23:59"');
    expect(field(r, "Ends")).toBe("2026-12-31 (end of day)");
    const p = await en.services.coupon.preview({ code: "CPN-T11", type: "percent", value: "10", end: "2026-12-31 23:59", actor: "shell:mia" });
    expect(p.kind === "preview" && p.params.endsAt).toEqual(new Date("2026-12-31T16:00:00Z"));
  });

  it("13pm is refused, the refusal naming the forms it takes", async () => {
    const r = await launch(en, "CPN-T12", 'start="13pm"');
    expect(r.outcome).toBe("user_error");
    expect(r.reply.text).toContain('start="13pm" is not a time');
    expect(r.reply.text).toContain("also 9pm");
    const z = await launch(zh, "CPN-T13", 'start="13pm"');
    expect(z.reply.text).toContain("下午3点");
  });
});
