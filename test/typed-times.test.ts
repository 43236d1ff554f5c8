import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addLocalDays, localTime, plainTyped, sinceToDate, text, typedId, wholeNumber } from "../src/core/args.js";
import { z } from "zod";
import { field, makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// Typed times and durations in a shop whose clocks change: New York springs forward on
// 2026-03-08 (02:00 → 03:00) and falls back on 2026-11-01 (01:00–02:00 twice).
const NY = "America/New_York";
const ZWSP = "\u200B";
let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp({ SHOP_TIMEZONE: NY, SHOP_CURRENCY: "USD", QUIET_HOURS: "22:00-02:30" }, "2026-03-01T15:00:00Z");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { currency: "USD", onHand: 5, reorderPoint: 10 })]);
  await app.store.orders.insertMany([
    paidOrder("ORD-1", 1_000, "2026-03-01T14:00:00Z", { currency: "USD" }),
    paidOrder("ORD-2", 1_000, "2026-03-01T14:00:00Z", { currency: "USD", status: "paid" }),
  ]);
});
afterAll(() => app.close());

describe("local times the clocks skip or repeat", () => {
  it("reads a skipped time as the instant the clocks jump to, a repeated one as its first occurrence", () => {
    expect(localTime(2026, 3, 8, 2, 30, NY)).toEqual({ at: new Date("2026-03-08T07:00:00Z"), kind: "gap", local: "03:00" });
    expect(localTime(2026, 3, 8, 3, 30, NY)).toEqual({ at: new Date("2026-03-08T07:30:00Z"), kind: "exact", local: "03:30" });
    expect(localTime(2026, 11, 1, 1, 30, NY)).toEqual({ at: new Date("2026-11-01T05:30:00Z"), kind: "repeated", local: "01:30" });
    // A half-hour change (Lord Howe: 02:00 → 02:30) and a day skipped whole (Samoa, 2011-12-30).
    expect(localTime(2026, 10, 4, 2, 10, "Australia/Lord_Howe")).toMatchObject({ at: new Date("2026-10-03T15:30:00Z"), kind: "gap", local: "02:30" });
    expect(localTime(2011, 12, 30, 12, 0, "Pacific/Apia")).toMatchObject({ at: new Date("2011-12-30T10:00:00Z"), kind: "gap", local: "00:00" });
  });

  it("coupon start/end in the skipped hour: taken as 03:00 and said so; a repeated time is said to be the first", async () => {
    app.clock.set("2026-03-01T15:00:00Z");
    const r = await app.run("shell:max", 'coupon launch code=GAP1 type=percent value=10 start="2026-03-08 02:30" end=2026-03-09');
    expect(r.outcome).toBe("ok");
    expect(field(r, "Starts")).toBe("2026-03-08 03:00 GMT-4");
    // Both in the gap: the same instant, refused, and the refusal says why the two times are one.
    const both = await app.run("shell:max", 'coupon launch code=GAP2 type=percent value=10 start="2026-03-08 02:30" end="2026-03-08 02:45"');
    expect(both.outcome).toBe("user_error");
    expect(both.reply.text).toContain("start: 02:30 does not exist on 2026-03-08 in America/New_York (the clocks jump forward); taken as 03:00.");
    expect(both.reply.text).toContain("end: 02:45 does not exist on 2026-03-08 in America/New_York (the clocks jump forward); taken as 03:00.");
    // The preview's own notes (what the launch card shows).
    const p = await app.services.coupon.preview({ code: "GAP3", type: "percent", value: "10", start: "2026-03-08 02:30", end: "2026-11-01 01:30", actor: "shell:max" });
    expect(p.kind).toBe("preview");
    if (p.kind !== "preview") return;
    expect(p.params.startsAt).toEqual(new Date("2026-03-08T07:00:00Z"));
    expect(p.params.endsAt).toEqual(new Date("2026-11-01T05:30:00Z"));
    expect(p.notes).toEqual([
      { field: "start", kind: "gap", day: "2026-03-08", time: "02:30", taken: "03:00", zone: NY, offset: "GMT-4" },
      { field: "end", kind: "repeated", day: "2026-11-01", time: "01:30", taken: "01:30", zone: NY, offset: "GMT-4" },
    ]);
    const twice = await app.run("shell:max", 'coupon launch code=TWICE type=percent value=10 start="2026-11-01 01:30" end="2026-11-01 01:00"');
    expect(twice.reply.text).toContain("start: 01:30 happens twice on 2026-11-01 in America/New_York (the clocks go back); taken as the first, GMT-4.");
  });

  it("the launch preview names a start the clocks skip", async () => {
    app.clock.set("2026-03-01T15:00:00Z");
    const r = await app.run("shell:max", 'coupon launch code=GAPNOTE type=percent value=10 start="2026-03-08 02:30" end=2026-03-09');
    expect(r.reply.text).toContain("ℹ start: 02:30 does not exist on 2026-03-08 in America/New_York (the clocks jump forward); taken as 03:00.");
  });

  it("end=+1d from a start the day before the change keeps its local time, or takes 03:00 when that time is skipped", async () => {
    app.clock.set("2026-03-01T15:00:00Z");
    const p = await app.services.coupon.preview({ code: "SPAN1", type: "percent", value: "10", start: "2026-03-07 02:30", end: "+1d", actor: "shell:max" });
    expect(p.kind === "preview" && p.params.endsAt).toEqual(new Date("2026-03-08T07:00:00Z"));
    expect(p.kind === "preview" && p.notes).toEqual([{ field: "end", kind: "gap", day: "2026-03-08", time: "02:30", taken: "03:00", zone: NY, offset: "GMT-4" }]);
  });

  it("quiet hours ending at 02:30 end at 03:00 on the night the clocks skip 02:30", () => {
    const quiet = app.services.alerts;
    expect(quiet.quietUntil(new Date("2026-03-08T06:50:00Z"))).toEqual(new Date("2026-03-08T07:00:00Z"));
    // 03:10 EDT: quiet hours are over, as the end above says.
    expect(quiet.quietUntil(new Date("2026-03-08T07:10:00Z"))).toBeNull();
    // Another night: 02:30 as set.
    expect(quiet.quietUntil(new Date("2026-03-10T06:00:00Z"))).toEqual(new Date("2026-03-10T06:30:00Z"));
  });
});

describe("coupon dates far ahead", () => {
  it("refuses end=9999-12-31 and a start more than 5 years ahead, saying the limit; nothing is stored", async () => {
    app.clock.set("2026-03-01T15:00:00Z");
    const drafts = await app.store.couponDrafts.countDocuments();
    const far = await app.run("shell:max", "coupon launch code=FAR1 type=percent value=10 end=9999-12-31");
    expect(far.outcome).toBe("user_error");
    expect(far.code).toBe("too_far");
    expect(far.reply.text).toContain('end="9999-12-31" is more than 5 years ahead: a coupon\'s start and end must be on or before 2031-03-01.');
    const start = await app.run("shell:max", "coupon launch code=FAR2 type=percent value=10 start=2031-03-02");
    expect(start.code).toBe("too_far");
    expect(await app.store.couponDrafts.countDocuments()).toBe(drafts);
    // The last day is still taken.
    expect((await app.run("shell:max", "coupon launch code=FAR3 type=percent value=10 end=2031-03-01")).outcome).toBe("ok");
  });
});

describe("Nd as calendar days at the same local time", () => {
  it("sinceToDate: 7d back over the change is 10:00 a week ago; 24h stays elapsed hours", () => {
    const now = new Date("2026-03-10T14:00:00Z"); // Tue 10:00 EDT
    expect(sinceToDate("7d", now, NY)).toEqual(new Date("2026-03-03T15:00:00Z")); // Tue 10:00 EST
    expect(sinceToDate("48h", now, NY)).toEqual(new Date("2026-03-08T14:00:00Z"));
    expect(addLocalDays(new Date("2026-03-07T07:30:00Z"), 1, NY).at).toEqual(new Date("2026-03-08T07:00:00Z"));
  });

  it("audit since=7d starts at the same local time a week ago", async () => {
    app.clock.set("2026-03-10T14:00:00Z");
    const entry = (id: string, at: string) => ({ _id: id, at: new Date(at), actor: "shell:week", platform: "shell", command: "stock adjust", args: "SKU-1 +1 reason=x", outcome: "ok" });
    // 09:30 and 10:30 EST on Tue 2026-03-03.
    await app.store.audit.insertMany([entry("WEEK-OLD", "2026-03-03T14:30:00Z"), entry("WEEK-IN", "2026-03-03T15:30:00Z")]);
    const r = await app.run("shell:admin", "audit actor=shell:week since=7d");
    expect(r.reply.table!.rows.map((row) => row[4])).toEqual(["WEEK-IN"]);
  });

  it("stock snooze 3d on a Friday ends Monday at the same local time; 24h stays 24 hours", async () => {
    app.clock.set("2026-03-06T15:00:00Z"); // Fri 10:00 EST
    const r = await app.run("shell:max", "stock snooze SKU-1 3d");
    expect(r.reply.text).toContain("2026-03-09 10:00 GMT-4");
    expect((await app.services.lowStock.state("SKU-1"))?.snoozedUntil).toEqual(new Date("2026-03-09T14:00:00Z"));
    const h = await app.run("shell:max", "stock snooze SKU-1 72h");
    expect(h.reply.text).toContain("2026-03-09 11:00 GMT-4");
    expect((await app.run("shell:max", "stock snooze SKU-1 31d")).outcome).toBe("user_error");
  });
});

describe("invisible characters in what is typed", () => {
  it("reads ids and numbers without them: order ORD-1<U+200B>, stock snooze SKU-1<U+200B>, limit=5<U+200B>", async () => {
    app.clock.set("2026-03-10T14:00:00Z");
    const r = await app.run("shell:max", `order ORD-1${ZWSP}`);
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toContain("ORD-1");
    expect((await app.run("shell:max", `stock snooze SKU-1${ZWSP} 1h`)).outcome).toBe("ok");
    expect((await app.run("shell:admin", `audit limit=5${ZWSP}`)).outcome).toBe("ok");
    expect(typedId(z.string().regex(/^R-[A-Z0-9]{6}$/)).parse(`R-N30XZG\u2060\uFEFF`)).toBe("R-N30XZG");
    expect(plainTyped(`\u200D１２\u200C`)).toBe("12");
    // SKUs, refund request ids and coupon codes, read by their services.
    expect((await app.run("shell:max", `stock SKU-1${ZWSP}`)).outcome).toBe("ok");
    const asked = await app.run("shell:max", `refund request ORD-1 1 reason=test`);
    const id = /R-[A-Z0-9]{6}/.exec(asked.reply.title ?? "")![0];
    expect((await app.run("shell:max", `refund show ${id}${ZWSP}`)).outcome).toBe("ok");
    expect((await app.run("shell:max", `coupon show NOPE${ZWSP}`)).reply.text).toContain('"NOPE"');
  });

  it("refuses a reason or complaint text made only of invisible characters as missing; nothing changes", async () => {
    const cancel = await app.run("shell:max", `order cancel ORD-2 reason=${ZWSP}`);
    expect(cancel.outcome).toBe("user_error");
    expect(cancel.reply.text).toContain("reason");
    expect((await app.store.orders.findById("ORD-2").lean())?.status).toBe("paid");
    const complaints = await app.store.complaints.countDocuments();
    const c = await app.run("shell:max", `complaint new ${ZWSP}\u2060`);
    expect(c.outcome).toBe("user_error");
    expect(await app.store.complaints.countDocuments()).toBe(complaints);
    // Text with a joiner inside (an emoji family) is kept as typed.
    expect(text().parse("box 👨‍👩‍👧 crushed")).toBe("box 👨‍👩‍👧 crushed");
  });

  it("a huge number is refused with one message", async () => {
    const r = await app.run("shell:admin", "audit limit=99999999999999999999");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.text!.match(/at most 100/g)).toHaveLength(1);
    expect(wholeNumber(1, 100).safeParse("99999999999999999999").error?.issues).toHaveLength(1);
  });
});
