/**
 * Orders as a demanding ops team types them: a since= on the shop's own clock (no zone), the
 * same in audit and refund lists; an order number split by a space in the commands that change
 * an order; a tracking correction that differs only in case.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sinceToDate } from "../src/core/args.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
// 12:00 in Asia/Shanghai (UTC+8), the test app's zone.
const NOW = "2026-11-25T04:00:00Z";
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const rows = (r: { reply: { table?: { rows: string[][] } } }) => r.reply.table?.rows.map((row) => row[0]) ?? [];

beforeAll(async () => {
  app = await makeTestApp({}, NOW);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("since= takes a time on the shop's clock", () => {
  beforeAll(async () => {
    // 09:59, 10:00 and 11:00 on 24 November, shop time (UTC+8).
    await app.store.orders.insertMany([
      paidOrder("LT-1", 1000, "2026-11-24T01:59:00Z", { customerId: "LOCAL-1" }),
      paidOrder("LT-2", 1000, "2026-11-24T02:00:00Z", { customerId: "LOCAL-1" }),
      paidOrder("LT-3", 1000, "2026-11-24T03:00:00Z", { customerId: "LOCAL-1" }),
    ]);
  });

  it("order search reads 2026-11-24 10:00 (quoted, with T, the Chinese way) as 10:00 in the shop's zone", async () => {
    for (const since of ['"2026-11-24 10:00"', "2026-11-24T10:00", "2026-11-24t10:00:00", '"2026年11月24日 10:00"', "11月24日10:00", '"2026-11-24 10:00"']) {
      const r = await app.run("shell:sam", `order search customer=LOCAL-1 since=${since}`);
      expect([since, r.outcome, r.reply.text, rows(r)]).toEqual([since, "ok", undefined, ["LT-3", "LT-2"]]);
    }
    // An exact instant keeps its zone: 10:00 UTC is 18:00 in the shop, after all three.
    expect((await app.run("shell:sam", "order search customer=LOCAL-1 since=2026-11-24T02:00:00Z")).reply.title).toBe("Orders: 2 match");
    const utc = await app.run("shell:sam", "order search customer=LOCAL-1 since=2026-11-24T10:00:00Z");
    expect([utc.code, utc.reply.text]).toEqual(["no_match", "No orders match (customer=LOCAL-1 since=2026-11-24T10:00:00Z)."]);
    // Typed without quotes, it is told how to quote it.
    const apart = await app.run("shell:sam", "order search customer=LOCAL-1 since=2026-11-24 10:00");
    expect(apart.reply.text).toContain('since="2026-11-24 10:00"');
  });

  it("a time later than now is refused naming the shop's time now; a time that is none says how to write one, in en and zh", async () => {
    const later = await app.run("shell:sam", 'order search customer=LOCAL-1 since="2026-11-25 13:00"');
    expect([later.code, later.reply.text]).toEqual(["future_date", "2026-11-25 13:00 is in the future (it is 2026-11-25 12:00 GMT+8 now); since= must be now or earlier."]);
    const laterToday = await app.run("shell:sam", "order search customer=LOCAL-1 since=13:00");
    expect([laterToday.code, laterToday.reply.text]).toEqual(["future_date", "13:00 is in the future (it is 2026-11-25 12:00 GMT+8 now); since= must be now or earlier."]);
    expect((await app.run("shell:sam", "order search customer=LOCAL-1 since=25:00")).reply.text).toContain('"25:00" is not a time.');
    const laterZh = await zh("shell:sam", "order search customer=LOCAL-1 since=2026-11-25T13:00");
    expect(laterZh.reply.text).toBe("2026-11-25T13:00 是将来的时间（现在是 2026-11-25 12:00 GMT+8）；since= 必须是现在或更早。");
    const bad = await app.run("shell:sam", "order search customer=LOCAL-1 since=2026-11-24T24:00");
    expect(bad.reply.text).toContain('since=: "2026-11-24T24:00" is not a time. Write one in shop time, "2026-11-19 10:00"');
    expect((await app.run("shell:sam", 'order search customer=LOCAL-1 since="2026-02-30 10:00"')).code).toBe("invalid_args");
    // A day without a year, the latest such day: 02-29 the latest real one (2026 and 2025 have none: 2024's).
    const leap = await app.run("shell:sam", "order search customer=LOCAL-1 since=02-29T10:00");
    const full = await app.run("shell:sam", "order search customer=LOCAL-1 since=2024-02-29T10:00");
    expect([leap.outcome, leap.reply.title, leap.reply.table?.rows]).toEqual(["ok", full.reply.title, full.reply.table?.rows]);
    // Anything but a time is refused as before.
    expect((await app.run("shell:sam", "order search customer=LOCAL-1 since=2026-11-24T10")).code).toBe("invalid_args");
  });

  it("the next-page line pins a shop time as the exact instant it meant", async () => {
    await app.store.orders.insertMany(Array.from({ length: 11 }, (_, i) => paidOrder(`LP-${i + 10}`, 1000, new Date(Date.parse("2026-11-24T02:00:00Z") + i * 60_000).toISOString(), { customerId: "LOCAL-2" })));
    const r = await app.run("shell:sam", 'order search customer=LOCAL-2 since="2026-11-24 10:00"');
    expect(r.reply.context).toEqual(["Page 1 of 2, newest first.", "Next page: `order search customer=LOCAL-2 since=2026-11-24T02:00:00Z before=LP-11 page=2`"]);
    expect(rows(await app.run("shell:sam", "order search customer=LOCAL-2 since=2026-11-24T02:00:00Z before=LP-11 page=2"))).toEqual(["LP-10"]);
  });

  it("audit since= and before=, and refund list since=, read a shop time the same way", async () => {
    // Two changes an hour apart: 12:00 and 13:00 shop time.
    expect((await app.run("shell:admin", "stock adjust SKU-1 +1 reason=count")).outcome).toBe("ok");
    app.clock.advance(3_600_000);
    expect((await app.run("shell:admin", "stock adjust SKU-1 +2 reason=count")).outcome).toBe("ok");
    const since = await app.run("shell:mia", 'audit command=stock since="2026-11-25 12:30"');
    expect([since.reply.text, since.reply.table?.rows.length]).toEqual([undefined, 1]);
    expect(since.reply.table?.rows[0]?.[2]).toContain("+2");
    // A time alone is today's, on the shop's clock.
    expect((await app.run("shell:mia", "audit command=stock since=12:30")).reply.table?.rows.length).toBe(1);
    const before = await app.run("shell:mia", "audit command=stock before=2026-11-25T12:30");
    expect([before.reply.text, before.reply.table?.rows.length]).toEqual([undefined, 1]);
    expect(before.reply.table?.rows[0]?.[2]).toContain("+1");
    await app.store.orders.insertMany([paidOrder("ORD-RL", 100_000)]);
    expect((await app.run("shell:sam", 'refund request ORD-RL 1 reason="damaged"')).outcome).toBe("ok");
    const list = await app.run("shell:mia", 'refund list all since="2026-11-25 12:30"');
    expect([list.outcome, list.reply.title]).toEqual(["ok", "Refund requests: 1 (since 2026-11-25 12:30 GMT+8)"]);
    expect((await app.run("shell:mia", 'refund list all since="2026-11-25 13:01"')).code).toBe("future_date");
    app.clock.set(NOW);
  });

  it("on the nights the clocks change: a skipped time is the instant they jump to, a repeated one its first occurrence", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    // New York springs forward at 02:00 on 8 March 2026: 02:30 does not exist, 03:00 EDT is 07:00 UTC.
    expect(sinceToDate("2026-03-08 02:30", now, "America/New_York")).toEqual(new Date("2026-03-08T07:00:00Z"));
    // It falls back at 02:00 on 1 November: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST); the first.
    expect(sinceToDate("2026-11-01t01:30", now, "America/New_York")).toEqual(new Date("2026-11-01T05:30:00Z"));
    expect(sinceToDate("2026-11-01 01:30:15", now, "America/New_York")).toEqual(new Date("2026-11-01T05:30:15Z"));
    // An instant keeps its own offset.
    expect(sinceToDate("2026-11-01t01:30:00-05:00", now, "America/New_York")).toEqual(new Date("2026-11-01T06:30:00Z"));
  });
});

describe("an order number split by a space in ship, deliver, cancel and tracking", () => {
  beforeAll(async () => {
    await app.store.orders.insertMany([
      paidOrder("ORD-200001", 5000, "2026-11-20T02:00:00Z", { status: "paid" }),
      paidOrder("ORD-200002", 5000, "2026-11-20T02:00:00Z", { status: "paid" }),
      paidOrder("Web-77", 5000, "2026-11-20T02:00:00Z", { status: "paid" }),
    ]);
  });

  it("is told the number has no spaces, with the line written right, and nothing changes", async () => {
    const ship = await app.run("shell:sam", 'order ship ORD 200001 carrier="China Post" tracking=CP1');
    expect([ship.outcome, ship.code, ship.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      'Invalid arguments for `order ship`:\n• "ORD 200001" is not one order number: an order number has no spaces. Write it as one word: `order ship ORD-200001 carrier="China Post" tracking=CP1`',
    ]);
    expect((await app.store.orders.findById("ORD-200001").lean())?.status).toBe("paid");
    // Its audit entry names the order meant.
    expect((await app.store.audit.find({ subject: "ORD-200001" }).lean()).map((e) => e.code)).toEqual(["invalid_args"]);
    // The shop's own number, joined as typed (Web- 77), or with its hyphen.
    const deliver = await app.run("shell:sam", "order deliver web- 77");
    expect(deliver.reply.text).toContain("Write it as one word: `order deliver Web-77`");
    const cancel = await app.run("shell:mia", "order cancel Web 77 reason=dup");
    expect(cancel.reply.text).toContain("`order cancel Web-77 reason=dup`");
    // A prefix and digits, though no such order: the same (the corrected line then says it is unknown).
    const tracking = await zh("shell:sam", "order tracking ORD 999999 tracking=SF1 reason=typo");
    expect(tracking.reply.text).toBe("`order tracking` 的参数无效：\n• \"ORD 999999\" 不是一个订单号：订单号中不能有空格。请连写成一个词：`order tracking ORD-999999 tracking=SF1 reason=typo`");
  });

  it("other extra words are not a split number: a forgotten reason= is said as such (test/e15-leftovers.test.ts), two numbers keep the core's message", async () => {
    const r = await app.run("shell:mia", "order cancel ORD-200002 customer changed mind");
    expect(r.reply.text).toContain('"customer changed mind" looks like the reason');
    expect(r.reply.text).not.toContain("no spaces");
    const two = await app.run("shell:sam", "order deliver 200001 200002");
    expect(two.reply.text).toContain('unexpected extra argument "200002"');
  });
});

describe("order tracking given the same shipment in another case", () => {
  beforeAll(async () => {
    await app.store.orders.insertMany([
      paidOrder("ORD-300001", 5000, "2026-11-20T02:00:00Z", { status: "shipped", deliveredAt: null, shipment: { carrier: "SF Express", trackingNo: "SF123", shippedAt: new Date("2026-11-21T02:00:00Z") } }),
      // Stored before tracking numbers had one spelling.
      paidOrder("ORD-300002", 5000, "2026-11-20T02:00:00Z", { status: "shipped", deliveredAt: null, shipment: { carrier: "SF", trackingNo: "sf456", shippedAt: new Date("2026-11-21T02:00:00Z") } }),
    ]);
  });

  it("changes nothing and says the carrier and number are matched in any case", async () => {
    const r = await app.run("shell:sam", 'order tracking ORD-300001 carrier="sf express" tracking=sf123 reason=check');
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "ok",
      "unchanged",
      "ORD-300001 is already shipped with SF Express, tracking SF123; nothing changed: sf express SF123 is the same shipment (carriers and tracking numbers are matched in any upper/lower case or width, and the spelling stored stays).",
    ]);
    const old = await app.run("shell:sam", "order tracking ORD-300002 carrier=ＳＦ tracking=SF456 reason=check");
    expect(old.code).toBe("unchanged");
    const stored = await app.store.orders.findById("ORD-300002").lean();
    expect([stored?.shipment?.carrier, stored?.shipment?.trackingNo, stored?.history?.length ?? 0]).toEqual(["SF", "sf456", 0]);
  });

  it("order ship with the carrier the shop gave before shipment, typed in another case, keeps the shop's spelling and records no correction", async () => {
    await app.store.orders.insertMany([paidOrder("ORD-300003", 5000, "2026-11-20T02:00:00Z", { status: "paid", deliveredAt: null, shipment: { carrier: "SF Express", trackingNo: "SF789" } })]);
    const r = await app.run("shell:sam", 'order ship ORD-300003 carrier="sf express" tracking=sf789');
    expect([r.outcome, r.reply.text]).toEqual(["ok", "ORD-300003 shipped with SF Express, tracking number SF789."]);
    const stored = await app.store.orders.findById("ORD-300003").lean();
    expect([stored?.shipment?.carrier, (stored?.history ?? []).map((h) => h.status)]).toEqual(["SF Express", ["shipped"]]);
  });

  it("a real correction keeps the stored spelling of what did not change", async () => {
    const r = await app.run("shell:sam", 'order tracking ORD-300001 carrier="sf express" tracking=SF124 reason=typo');
    expect([r.outcome, r.reply.text]).toEqual(["ok", "ORD-300001: tracking corrected from SF Express SF123 to SF Express SF124."]);
  });
});
