import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, dayStart, Formatter, localDay } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let app: TestApp;

// Quiet hours 22:00-07:00 in Asia/Shanghai; the clock starts at 12:00 there (2026-11-25).
beforeAll(async () => {
  app = await withCast(makeTestApp({ QUIET_HOURS: "22:00-07:00" }), { "shell:sam": "staff" });
  await app.store.products.insertMany([
    product("SKU-1001", { onHand: 50, reorderPoint: 10 }),
    product("SKU-1010", { onHand: 50 }),
    product("SKU-1011", { onHand: 50 }),
    product("SKU-1012", { onHand: 50 }),
  ]);
});
afterAll(() => app.close());

/** Low-stock messages queued so far that list `sku`, oldest first: their status and when they may go (ISO). */
async function alertsFor(sku: string): Promise<{ status: string | undefined; notBefore: string }[]> {
  const docs = await app.store.outbox.find({ kind: "low_stock" }).sort({ notBefore: 1 }).lean();
  return docs.filter((d) => reviveReply(d.reply).table!.rows.some((r) => r[0] === sku)).map((d) => ({ status: reviveReply(d.reply).status, notBefore: d.notBefore.toISOString() }));
}

async function adjust(sku: string, delta: string): Promise<void> {
  expect((await app.run("shell:sam", `stock adjust ${sku} ${delta} reason=test`)).outcome).toBe("ok");
}

describe("stock fixes", () => {
  it("a PO never cuts short a longer running snooze: the snooze is kept, the reply and the card say so", async () => {
    await app.store.products.insertMany([product("SKU-1053", { onHand: 50, reorderPoint: 10 }), product("SKU-1054", { onHand: 50, reorderPoint: 10 })]);
    const today = localDay(app.clock.now(), app.config.timeZone);
    expect((await app.run("shell:sam", "stock po SKU-1053 eta=+10d qty=40")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "stock snooze SKU-1053 30d")).outcome).toBe("ok");
    const snoozedUntil = (await app.services.lowStock.state("SKU-1053"))!.snoozedUntil!;
    expect(snoozedUntil).toEqual(new Date(app.clock.now().getTime() + 30 * DAY));

    const po = await app.run("shell:sam", "stock po SKU-1053 eta=tomorrow");
    expect(po.outcome).toBe("ok");
    expect(po.reply.text).toContain(`PO recorded for SKU-1053, arriving ${addDays(today, 1)}. Low-stock alerts for it stay snoozed until 2026-12-25 12:00`);
    expect(po.reply.text).toContain("(snoozed by shell:sam), which is later than this PO would hold them: the snooze is kept.");
    expect(await app.services.lowStock.state("SKU-1053")).toMatchObject({ state: "snoozed", snoozedUntil, snoozedBy: "shell:sam", po: { eta: addDays(today, 1) } });
    const card = await app.run("shell:sam", "stock SKU-1053");
    expect(field(card, "Low-stock alerts")).toMatch(new RegExp(`^Snoozed until 2026-12-25 12:00.* by shell:sam; PO arriving ${addDays(today, 1)}, recorded by shell:sam$`));

    // Cancelling it cancels both.
    expect((await app.run("shell:sam", "stock snooze SKU-1053 off")).reply.text).toMatch(new RegExp(`the snooze until 2026-12-25 12:00.* \\(by shell:sam\\) is cancelled, and so is the PO arriving ${addDays(today, 1)} \\(recorded by shell:sam\\)`));
    expect((await app.run("shell:sam", "stock snooze SKU-1053 off")).code).toBe("not_held");

    // A PO's own hold is still replaced by a new PO (the supplier moved the date, earlier too).
    expect((await app.run("shell:sam", "stock po SKU-1054 eta=+10d")).outcome).toBe("ok");
    const moved = await app.run("shell:sam", "stock po SKU-1054 eta=+2d");
    expect(moved.reply.text).toContain("Low-stock alerts for it wait until");
    expect((await app.services.lowStock.state("SKU-1054"))!.snoozedUntil).toEqual(dayStart(addDays(today, 3), app.config.timeZone));
  });

  it("snoozing or a PO for a product already out of stock does not promise a sell-out announcement", async () => {
    await app.store.products.insertMany([product("P-OUT", { onHand: 0, reorderPoint: 10 }), product("P-IN", { onHand: 4, reorderPoint: 10 })]);
    for (const line of ["stock snooze P-OUT 24h", "stock po P-OUT eta=+3d"]) {
      const r = await app.run("shell:sam", line);
      expect(r.outcome, line).toBe("ok");
      expect(r.reply.text, line).toMatch(/ It is out of stock already: no alert comes before \d{4}-\d\d-\d\d \d\d:\d\d [^.]*\.$/);
      expect(r.reply.text, line).not.toContain("Selling out");
    }
    for (const line of ["stock snooze P-IN 24h", "stock po P-IN eta=+3d"]) {
      const r = await app.run("shell:sam", line);
      expect(r.reply.text, line).toMatch(/ Selling out before \d{4}-\d\d-\d\d \d\d:\d\d [^.]* is still announced\.$/);
    }
  });

  it("an unknown SKU in `stock snooze` and `stock po` gets suggestions; `stock SKU-1O01` (letter O) suggests SKU-1001 first", async () => {
    const snooze = await app.run("shell:sam", "stock snooze sku1001 3d");
    expect(snooze.code).toBe("unknown_sku");
    expect(snooze.reply.text).toMatch(/Did you mean: SKU-1001\b/);
    const po = await app.run("shell:sam", "stock po sku1001 eta=+3d");
    expect(po.code).toBe("unknown_sku");
    expect(po.reply.text).toMatch(/Did you mean: SKU-1001\b/);
    for (const typed of ["SKU-1O01", "SKU-l001", "SKU-100l"]) expect((await app.run("shell:viewer", `stock ${typed}`)).reply.text, typed).toMatch(/Did you mean: SKU-1001\b/);
    expect(await app.services.lowStock.state("SKU1001")).toBeNull();
  });

  it("durations up to 30 days in minutes and in capitals are taken; a huge adjustment names the limit and changes nothing", async () => {
    const now = app.clock.now().getTime();
    const month = await app.run("shell:sam", "stock snooze SKU-1010 43200m");
    expect(month.outcome).toBe("ok");
    expect((await app.services.lowStock.state("SKU-1010"))!.snoozedUntil).toEqual(new Date(now + 30 * DAY));
    expect((await app.run("shell:sam", "stock snooze SKU-1010 43201m")).reply.text).toContain('"43201m" is longer than a snooze may last: at most 30 days');
    expect((await app.run("shell:sam", "stock snooze SKU-1011 3D")).outcome).toBe("ok");
    expect((await app.services.lowStock.state("SKU-1011"))!.snoozedUntil).toEqual(new Date(now + 3 * DAY));
    expect((await app.run("shell:sam", "stock snooze SKU-1012 24H")).outcome).toBe("ok");
    expect((await app.services.lowStock.state("SKU-1012"))!.snoozedUntil).toEqual(new Date(now + DAY));

    const huge = await app.run("shell:sam", "stock adjust SKU-1001 +99999999999 reason=x");
    expect(huge.code).toBe("invalid_args");
    expect(huge.reply.text).toContain('"+99999999999" is too large a change: one adjustment moves at most 9,999,999 units either way.');
    expect((await app.run("shell:sam", "stock adjust SKU-1001 -99999999 reason=x")).reply.text).toContain("at most 9,999,999 units");
    expect((await app.run("shell:sam", "stock adjust SKU-1001 +5x reason=x")).reply.text).toContain('"+5x" is not a quantity change');
    expect(await app.store.products.findById("SKU-1001").lean()).toMatchObject({ onHand: 50 });
  });

  it("the alert's formula note says the quantity is at least enough to clear the alert (English and Chinese)", async () => {
    // No sales: the quantity is the re-arm level + 1 − available (2 + 1 + 1 − 2 = 2), not the sales formula's 0.
    await app.store.products.insertMany([product("P-1128", { onHand: 2, reorderPoint: 2 })]);
    const slot = new Date(app.clock.now().getTime() + MIN);
    app.clock.set(slot);
    const r = await app.services.lowStock.scan({ slot, t: translator("en"), fmt: new Formatter("en", app.config.timeZone, "CNY") });
    const item = r.alerted.find((i) => i.view.sku === "P-1128")!;
    const msg = app.services.lowStock.message([item], translator("en"), new Formatter("en", app.config.timeZone, "CNY"));
    expect(msg.table!.rows[0]![6]).toBe("2");
    expect(msg.context).toContain("Reorder qty = sales over lead time + cover days + safety days, minus available, and at least enough to clear the alert.");
    const zh = app.services.lowStock.message([item], translator("zh-CN"), new Formatter("zh-CN", app.config.timeZone, "CNY"));
    expect(zh.context!.at(-1)).toContain("且至少足以解除提醒");
  });

  it("`stock snooze <sku> off` cancels a snooze or a PO: audited, the card shows no hold, the next scan alerts the product if still low", async () => {
    await app.store.products.insertMany([product("P-OFF", { onHand: 5, reorderPoint: 10 }), product("P-OFFPO", { onHand: 50, reorderPoint: 10 })]);
    const today = localDay(app.clock.now(), app.config.timeZone);
    expect((await app.run("shell:sam", "stock snooze P-OFF 3d")).outcome).toBe("ok");
    const off = await app.run("shell:sam", "stock snooze p-off off");
    expect(off.outcome).toBe("ok");
    expect(off.reply.text).toMatch(/^Low-stock alerts for P-OFF are on again: the snooze until .+ \(by shell:sam\) is cancelled\. The next scan alerts it if it is still low\.$/);
    expect(await app.store.audit.findById(off.ref).lean()).toMatchObject({ outcome: "ok", subject: "P-OFF" });
    expect(field(await app.run("shell:sam", "stock P-OFF"), "Low-stock alerts")).toBeUndefined();
    const slot = new Date(app.clock.now().getTime() + MIN);
    app.clock.set(slot);
    const scan = await app.services.lowStock.scan({ slot, t: translator("en"), fmt: new Formatter("en", app.config.timeZone, "CNY") });
    expect(scan.alerted.map((i) => i.view.sku)).toContain("P-OFF");
    // Nothing held now: said, nothing changed.
    const again = await app.run("shell:sam", "stock snooze P-OFF 取消");
    expect(again.code).toBe("not_held");
    expect(again.reply.text).toBe("No snooze or PO holds the low-stock alerts of P-OFF: nothing changed.");
    expect(await app.services.lowStock.state("P-OFF")).toMatchObject({ state: "alerted" });

    // The supplier cancelled the PO.
    expect((await app.run("shell:sam", "stock po P-OFFPO eta=+5d qty=40")).outcome).toBe("ok");
    const cancelled = await app.run("shell:sam", "stock snooze P-OFFPO off");
    expect(cancelled.reply.text).toBe(`Low-stock alerts for P-OFFPO are on again: the PO (40 units) arriving ${addDays(today, 5)} (recorded by shell:sam) is cancelled. The next scan alerts it if it is still low.`);
    expect((await app.services.lowStock.state("P-OFFPO"))!.po).toBeUndefined();
    expect(field(await app.run("shell:sam", "stock P-OFFPO"), "Low-stock alerts")).toBeUndefined();
    expect((await app.run("shell:sam", "stock snooze NOPE-1 off")).code).toBe("unknown_sku");
    expect((await app.run("shell:viewer", "stock snooze P-OFFPO off")).code).toBe("permission_denied");
  });

  it("quiet hours queue no low (not out) crossing: one restocked overnight gets nothing, one still low is alerted once in the morning, one sold out is announced at once and only then", async () => {
    await app.store.products.insertMany([
      product("Q-1", { onHand: 30, reorderPoint: 10 }),
      product("Q-2", { onHand: 30, reorderPoint: 10 }),
      product("Q-3", { onHand: 30, reorderPoint: 10 }),
    ]);
    const jobs = await jobStepper(app, "low-stock", Date.parse("2026-11-25T13:55:00Z")); // 21:55 in Shanghai
    await jobs.step(5 * MIN); // 22:00
    await adjust("Q-1", "-25");
    await adjust("Q-2", "-25");
    await adjust("Q-3", "-25");
    await jobs.step(10 * MIN); // 22:10: three crossings in quiet hours
    expect([await alertsFor("Q-1"), await alertsFor("Q-2"), await alertsFor("Q-3")]).toEqual([[], [], []]);
    await adjust("Q-1", "+100"); // restocked overnight
    await jobs.step(5 * MIN);
    await adjust("Q-3", "-5"); // sold out overnight: urgent, at once
    await jobs.step(5 * MIN); // 22:20
    expect(await alertsFor("Q-3")).toEqual([{ status: "critical", notBefore: "2026-11-25T14:20:00.000Z" }]);
    await adjust("Q-2", "+100"); // back above its re-arm level and down again: one crossing, not two
    await jobs.step(5 * MIN);
    await adjust("Q-2", "-100");
    await jobs.step(5 * MIN);
    expect(await alertsFor("Q-2")).toEqual([]);

    jobs.t = Date.parse("2026-11-25T22:55:00Z"); // 06:55
    await jobs.step(5 * MIN); // 07:00: the first scan after quiet hours
    await jobs.step(5 * MIN);
    expect(await alertsFor("Q-1")).toEqual([]);
    expect(await alertsFor("Q-2")).toEqual([{ status: "warning", notBefore: "2026-11-25T23:00:00.000Z" }]);
    expect(await alertsFor("Q-3")).toHaveLength(1);
    expect(await app.services.lowStock.state("Q-2")).toMatchObject({ state: "alerted", crossings: 1 });
    expect((await app.services.lowStock.state("Q-1"))?.state).not.toBe("alerted");
  });
});
