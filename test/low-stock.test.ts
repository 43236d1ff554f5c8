import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, Formatter, localDay } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  jobs = await jobStepper(app, "low-stock", Date.parse("2026-11-25T04:00:00Z")); // 12:00 in Shanghai
});
afterAll(() => app.close());

/** The next low-stock slot: moves the clock 5 minutes (or `ms`) and ticks. */
async function runJob(ms = 5 * MIN): Promise<void> {
  await jobs.step(ms);
}

/** Low-stock messages queued so far that list `sku`. */
async function alertsFor(sku: string): Promise<number> {
  const docs = await app.store.outbox.find({ kind: "low_stock" }).lean();
  return docs.filter((d) => reviveReply(d.reply).table!.rows.some((r) => r[0] === sku)).length;
}

async function adjust(sku: string, delta: string): Promise<void> {
  const r = await app.run("shell:sam", `stock adjust ${sku} ${delta} reason=test`);
  expect(r.outcome).toBe("ok");
}

/** perDay units on each of the 28 days before the clock's shop day. */
function sales(perDay: number): Map<string, number> {
  const today = localDay(new Date(jobs.t), app.config.timeZone);
  return new Map(Array.from({ length: 28 }, (_, i) => [addDays(today, -(i + 1)), perDay] as [string, number]));
}

describe("low-stock job", () => {
  it("alerts once per crossing: three crossings with recoveries alert three times, a product sitting low alerts once", async () => {
    await app.store.products.insertMany([product("P-CROSS", { onHand: 50, reorderPoint: 10 }), product("P-SIT", { onHand: 3, reorderPoint: 10 })]);
    await runJob();
    expect(await alertsFor("P-SIT")).toBe(1);
    expect(await alertsFor("P-CROSS")).toBe(0);

    await adjust("P-CROSS", "-42"); // 8 ≤ 10: first crossing
    await runJob();
    await runJob();
    expect(await alertsFor("P-CROSS")).toBe(1);

    // Back to 12 (threshold 10 + 20% margin = 12: not above it) and down again: no flapping.
    await adjust("P-CROSS", "+4");
    await runJob();
    await adjust("P-CROSS", "-3");
    await runJob();
    expect(await alertsFor("P-CROSS")).toBe(1);

    for (const crossing of [2, 3]) {
      await adjust("P-CROSS", "+12"); // recovered above the margin: re-armed
      await runJob();
      await adjust("P-CROSS", "-12");
      await runJob();
      expect(await alertsFor("P-CROSS")).toBe(crossing);
    }
    await runJob();
    expect(await alertsFor("P-SIT")).toBe(1);
    expect(await app.services.lowStock.state("P-CROSS")).toMatchObject({ state: "alerted", crossings: 3 });
  });

  it("sends one batched message per run: worst first, a count of the rest, snooze and PO buttons with the suggested quantity", async () => {
    await app.store.products.insertMany([
      product("B-1", { onHand: 0, reorderPoint: 10 }),
      product("B-2", { onHand: 20, reorderPoint: 10, leadTimeDays: 7, salesByDay: sales(4) }),
      product("B-3", { onHand: 10, reorderPoint: 5, leadTimeDays: 7, salesByDay: sales(5) }),
      product("B-4", { onHand: 1, reorderPoint: 10 }),
      product("B-5", { onHand: 5, reorderPoint: 10 }),
      product("B-6", { onHand: 8, reorderPoint: 10 }),
      product("B-7", { onHand: 10, reorderPoint: 10 }),
      product("B-OK", { onHand: 200, reorderPoint: 10, salesByDay: sales(1) }),
    ]);
    const before = await app.store.outbox.countDocuments({ kind: "low_stock" });
    await runJob();
    const docs = await app.store.outbox.find({ kind: "low_stock" }).sort({ createdAt: -1 }).lean();
    expect(docs.length - before).toBe(1);
    const reply = reviveReply(docs[0]!.reply);
    expect(reply.title).toBe("Low stock: 7 products crossed their threshold");
    expect(reply.status).toBe("critical");
    // Out of stock, then fewest days of cover (B-3: 2 d, B-2: 5 d), then no sales by how far below the reorder point.
    expect(reply.table!.rows.map((r) => r[0])).toEqual(["B-1", "B-3", "B-2", "B-4", "B-5"]);
    expect(reply.context![0]).toBe("…and 2 more: `stock low` lists them all.");
    // B-2: 4/day, lead 7 → threshold max(10, 4×7−1) = 27; re-arm above 27 + 6 = 33;
    // reorder = max(⌈4 × (7 + 30 + 7)⌉, 34) − 20 = 156.
    const b2 = reply.table!.rows.find((r) => r[0] === "B-2")!;
    expect(b2[3]).toBe("27");
    expect(b2[6]).toBe("156");
    const eta = addDays(localDay(new Date(jobs.t), "Asia/Shanghai"), 7);
    expect(reply.actions).toHaveLength(10);
    expect(reply.actions!.map((a) => a.id)).toContain("stock snooze B-4 24h");
    expect(reply.actions!.map((a) => a.id)).toContain(`stock po B-2 eta=${eta} qty=156`);
    expect(reply.actions!.every((a) => a.id.length <= 100)).toBe(true);

    // Pressing the buttons runs their commands.
    const snooze = await app.run("shell:sam", "stock snooze B-4 24h");
    expect(snooze.outcome).toBe("ok");
    expect(snooze.reply.text).toMatch(/B-4 are snoozed until 2026-11-26 12:/);
    const po = await app.run("shell:sam", reply.actions!.find((a) => a.id.startsWith("stock po B-5"))!.id);
    expect(po.outcome).toBe("ok");
    expect(po.reply.text).toMatch(/^PO recorded for B-5 \(\d+ units\), arriving /);
  });

  it("alerts again when a snooze ends, and after a PO's expected arrival if still low", async () => {
    // B-4 was alerted and then snoozed (24 h); B-5 alerted, then a PO was placed (ETA in 7 days).
    await app.store.products.updateOne({ _id: "B-4" }, { $set: { onHand: 1, available: 1 } }); // lower, still not out: the snooze holds it
    await runJob();
    expect(await alertsFor("B-4")).toBe(1);
    await runJob(24 * 60 * MIN); // the snooze has ended
    expect(await alertsFor("B-4")).toBe(2);
    expect(await alertsFor("B-5")).toBe(1);
    await runJob(7 * 24 * 60 * MIN); // the day after the ETA
    expect(await alertsFor("B-5")).toBe(2);
    expect(await alertsFor("B-4")).toBe(2);
  });

  it("refuses bad snoozes and POs without changing anything", async () => {
    expect((await app.run("shell:sam", "stock snooze B-6 forever")).code).toBe("invalid_args");
    expect((await app.run("shell:sam", "stock snooze NOPE 24h")).code).toBe("unknown_sku");
    expect((await app.run("shell:sam", "stock po B-6 eta=2020-01-01")).code).toBe("bad_eta");
    expect((await app.run("shell:sam", "stock po B-6 eta=2099-02-30")).reply.text).toContain('"2099-02-30" is not an expected arrival date');
    // A day without a year is read (the next such day), and one that no year has is refused as such.
    expect((await app.run("shell:sam", "stock po B-6 eta=2月30日")).code).toBe("invalid_args");
    // Quoted as typed, not as read: 2月29日 is next year's, which has none (said so, with the days to type).
    expect((await app.run("shell:sam", "stock po B-6 eta=2月29日")).reply.text).toContain('"2月29日": there is no 29 February in 2027.');
    // A far arrival would silence the product's alerts for good.
    const far = await app.run("shell:sam", "stock po B-6 eta=2099-01-01");
    expect(far.code).toBe("eta_too_far");
    expect(far.reply.text).toContain("more than 180 days ahead");
    expect((await app.run("shell:viewer", "stock snooze B-6 24h")).code).toBe("permission_denied");
    expect(await app.services.lowStock.state("B-6")).toMatchObject({ state: "alerted" });
  });

  it("alerts when orders (not a stock adjustment) take a product below its threshold", async () => {
    // Last changed an hour ago (wall time, as mongoose stamps it): after its first scan of the
    // day, only a later change brings it back to the scan.
    const hourAgo = new Date(Date.now() - 60 * MIN);
    await app.store.products.collection.insertOne({ ...product("P-ORD", { onHand: 30, reorderPoint: 10 }), createdAt: hourAgo, updatedAt: hourAgo } as never);
    await runJob();
    expect(await alertsFor("P-ORD")).toBe(0);
    const seen = (await app.store.products.findById("P-ORD").lean())!;
    expect(seen.lowDay).toBe(localDay(new Date(jobs.t), app.config.timeZone));
    const at = new Date(jobs.t).toISOString();
    const r = await app.services.ingest.apply("orders", { orderNo: "LS-1", customerId: "C-1", createdAt: at, status: "paid", paidAt: at, items: [{ sku: "P-ORD", qty: 25, unitPrice: 100 }] }, "api:shop");
    expect(r.status).toBe(201);
    expect(await app.store.products.findById("P-ORD").lean()).toMatchObject({ available: 5 });
    await runJob();
    expect(await alertsFor("P-ORD")).toBe(1);
  });

  it("a product marked alerted by a run that failed before queuing its message is sent by a later scan, once", async () => {
    await app.store.products.insertMany([product("P-UNSENT", { onHand: 4, reorderPoint: 10 })]);
    // The failed run marked it 15 minutes ago and stopped before its message was queued.
    await app.store.stockAlerts.create({ _id: "P-UNSENT", state: "alerted", crossings: 1, alertedAt: new Date(jobs.t - 15 * MIN), alertSlot: new Date(jobs.t - 15 * MIN).toISOString(), unsent: true });
    await runJob();
    expect(await alertsFor("P-UNSENT")).toBe(1);
    expect((await app.services.lowStock.state("P-UNSENT"))!.unsent).toBeUndefined();
    await runJob();
    expect(await alertsFor("P-UNSENT")).toBe(1);
  });

  it("a retried or taken-over run that finds a new crossing sends it, even when the earlier attempt queued its batch", async () => {
    await app.store.products.insertMany([product("P-FIRST", { onHand: 2, reorderPoint: 10 }), product("P-LATER", { onHand: 40, reorderPoint: 10 })]);
    const slot = new Date(jobs.t + 5 * MIN);
    app.clock.set(slot);
    const ctx = { slot, t: translator("en"), fmt: new Formatter("en", app.config.timeZone, "CNY") };
    await app.services.lowStock.scan(ctx); // attempt 1 queues P-FIRST's batch, then fails (recorded as failed)
    await adjust("P-LATER", "-35"); // 5: a crossing the retry finds
    await app.services.lowStock.scan(ctx);
    expect([await alertsFor("P-FIRST"), await alertsFor("P-LATER")]).toEqual([1, 1]);
    await app.services.lowStock.scan(ctx);
    expect([await alertsFor("P-FIRST"), await alertsFor("P-LATER")]).toEqual([1, 1]);
    jobs.t = slot.getTime();
  });

  it("a product alerted as low and snoozed (or with a PO) that sells out is announced urgently; one alerted before this existed is not", async () => {
    await app.store.products.insertMany([product("P-SNZ", { onHand: 6, reorderPoint: 10 }), product("P-OLD", { onHand: 0, reorderPoint: 10 })]);
    // P-OLD was alerted (at 0) before sell-out announcements existed: no lowOnly mark.
    await app.store.stockAlerts.create({ _id: "P-OLD", state: "alerted", crossings: 1, alertedAt: new Date(jobs.t - 60 * MIN), alertSlot: "old" });
    await runJob();
    expect(await alertsFor("P-SNZ")).toBe(1);
    expect((await app.run("shell:sam", "stock po P-SNZ eta=2026-12-10 qty=50")).outcome).toBe("ok");
    await adjust("P-SNZ", "-6");
    await runJob();
    await runJob();
    expect(await alertsFor("P-SNZ")).toBe(2);
    expect(await alertsFor("P-OLD")).toBe(0);
    expect(await app.services.lowStock.state("P-SNZ")).toMatchObject({ state: "snoozed", outAt: expect.any(Date) });
  });

  it("a PO placed ahead of time holds until its arrival, a snooze does not shorten it, a sell-out is still announced, a restock re-arms", async () => {
    await app.store.products.insertMany([product("P-AHEAD", { onHand: 80, reorderPoint: 20 }), product("P-SLOW", { onHand: 90, reorderPoint: 5, leadTimeDays: 240 })]);
    await runJob();
    const today = localDay(new Date(jobs.t), app.config.timeZone);
    expect((await app.run("shell:sam", `stock po P-AHEAD eta=${addDays(today, 10)} qty=100`)).outcome).toBe("ok");
    const held = (await app.services.lowStock.state("P-AHEAD"))!.snoozedUntil;
    // The stock card says why no alert will come.
    const card = await app.run("shell:sam", "stock P-AHEAD");
    expect(card.reply.fields!.find((f) => f.label === "Low-stock alerts")?.value).toMatch(new RegExp(`^Held until .+: PO \\(100 units\\) arriving ${addDays(today, 10)}, recorded by shell:sam$`));
    await runJob();
    await runJob();
    // Well stocked when the PO was placed: not a "recovery" that ends the hold.
    expect(await app.services.lowStock.state("P-AHEAD")).toMatchObject({ state: "snoozed", snoozedUntil: held });
    const snooze = await app.run("shell:sam", "stock snooze P-AHEAD 24h");
    expect(snooze.code).toBe("po_holds");
    expect(snooze.reply.text).toContain(`A PO for P-AHEAD arriving ${addDays(today, 10)} already holds its low-stock alerts`);
    expect((await app.services.lowStock.state("P-AHEAD"))!.snoozedUntil).toEqual(held);
    await adjust("P-AHEAD", "-62"); // 18: low, held by the PO
    await runJob();
    expect(await alertsFor("P-AHEAD")).toBe(0);
    await adjust("P-AHEAD", "-18"); // sold out before the PO arrived
    await runJob();
    expect(await alertsFor("P-AHEAD")).toBe(1);
    await runJob();
    expect(await alertsFor("P-AHEAD")).toBe(1);
    await adjust("P-AHEAD", "+100"); // the PO arrived early: re-armed for the next crossing
    await runJob();
    expect(await app.services.lowStock.state("P-AHEAD")).toMatchObject({ state: "armed" });
    // The PO arrived: it holds nothing any more; a snooze now is a snooze.
    expect((await app.run("shell:sam", "stock snooze P-AHEAD 30m")).outcome).toBe("ok");
    const after = await app.run("shell:sam", "stock P-AHEAD");
    expect(after.reply.fields!.find((f) => f.label === "Low-stock alerts")?.value).toMatch(/^Snoozed until .+ by shell:sam$/);
    // A product whose lead time is 240 days may have a PO that far ahead (its alert's button does).
    const slow = await app.run("shell:sam", "stock po P-SLOW eta=+240d");
    expect(slow.reply.text).toContain(`arriving ${addDays(today, 240)}`);
    expect((await app.run("shell:sam", "stock po P-SLOW eta=tomorrow")).reply.text).toContain(`arriving ${addDays(today, 1)}`);
    expect((await app.run("shell:sam", "stock po P-SLOW eta=明天")).reply.text).toContain(`arriving ${addDays(today, 1)}`);
    const [y, m, d] = addDays(today, 3).split("-").map(Number);
    expect((await app.run("shell:sam", `stock po P-SLOW eta=${y}/${m}/${d}`)).reply.text).toContain(`arriving ${addDays(today, 3)}`);
    expect((await app.run("shell:sam", `stock po P-SLOW eta=${addDays(today, 241)}`)).reply.text).toContain("more than 240 days ahead");
  });

  it("a product younger than the window is judged over its own days; a product exactly at its lead time is not low anywhere; old daily sales are dropped", async () => {
    const today = localDay(new Date(jobs.t), app.config.timeZone);
    const fourDaysAgo = new Date(jobs.t - 4 * 24 * 60 * MIN);
    const young = new Map([1, 2, 3, 4].map((i) => [addDays(today, -i), 10] as [string, number]));
    // Launched 4 days ago, 10 a day: 30 left is 3 days of cover, below its 14-day lead time.
    await app.store.products.collection.insertOne({ ...product("P-YOUNG", { onHand: 30, reorderPoint: 5, leadTimeDays: 14, salesByDay: young }), createdAt: fourDaysAgo, updatedAt: fourDaysAgo } as never);
    // 36 sold over the 28 days, lead time 7: 9 available is exactly 7.0 days of cover, not below it.
    const edge = new Map([[addDays(today, -3), 36], [addDays(today, -200), 5]] as [string, number][]);
    // Its record created today (a catalog import) with its sales history: older than its record.
    const now = new Date(jobs.t);
    await app.store.products.collection.insertOne({ ...product("P-EDGE", { onHand: 9, reorderPoint: 2, leadTimeDays: 7, salesByDay: edge }), createdAt: now, updatedAt: now } as never);
    const card = await app.run("shell:sam", "stock P-YOUNG");
    const fields = Object.fromEntries(card.reply.fields!.map((f) => [f.label, f.value]));
    expect(fields["Sales velocity"]).toBe("10/day (last 4 days)");
    expect(fields["Days of cover"]).toContain("3");
    expect((await app.services.stock.bySku("P-EDGE"))!.status).toBe("ok");
    await runJob();
    expect(await alertsFor("P-YOUNG")).toBe(1);
    expect(await alertsFor("P-EDGE")).toBe(0);
    const low = await app.run("shell:sam", "stock low limit=50");
    const listed = low.reply.table!.rows.map((r) => r[0]);
    expect(listed).toContain("P-YOUNG");
    expect(listed).not.toContain("P-EDGE");
    // The scan dropped the day 200 days back (nothing reads it) and kept the window's.
    expect(Object.keys((await app.store.products.findById("P-EDGE").lean())!.salesByDay as object)).toEqual([addDays(today, -3)]);
  });

  it("a product alerted as low that then sells out is announced once more, urgently", async () => {
    await app.store.products.insertMany([product("P-DRAIN", { onHand: 8, reorderPoint: 10 })]);
    const urgentFor = async (sku: string) =>
      (await app.store.outbox.find({ kind: "low_stock" }).lean()).filter((d) => reviveReply(d.reply).table!.rows.some((r) => r[0] === sku)).map((d) => reviveReply(d.reply).status);
    await runJob();
    expect(await urgentFor("P-DRAIN")).toEqual(["warning"]);
    await adjust("P-DRAIN", "-8");
    await runJob();
    expect(await urgentFor("P-DRAIN")).toEqual(["warning", "critical"]);
    await runJob();
    await adjust("P-DRAIN", "+1");
    await adjust("P-DRAIN", "-1");
    await runJob();
    expect(await urgentFor("P-DRAIN")).toHaveLength(2);
    // Restocked: re-armed, and a new crossing straight to zero is one urgent alert.
    await adjust("P-DRAIN", "+30");
    await runJob();
    expect((await app.services.lowStock.state("P-DRAIN"))!.outAt).toBeUndefined();
    await adjust("P-DRAIN", "-30");
    await runJob();
    await runJob();
    expect(await urgentFor("P-DRAIN")).toEqual(["warning", "critical", "critical"]);
  });

  it("`stock low` after scans: a product that turned low since the last scan is listed, one restocked since is not", async () => {
    await app.store.products.insertMany([product("P-LATE", { onHand: 40, reorderPoint: 10 }), product("P-BACK", { onHand: 5, reorderPoint: 10 })]);
    await runJob();
    const listed = async () => (await app.run("shell:sam", "stock low limit=50")).reply.table!.rows.map((r) => r[0]);
    expect(await listed()).toContain("P-BACK");
    expect(await listed()).not.toContain("P-LATE");
    await adjust("P-LATE", "-35");
    await adjust("P-BACK", "+40");
    const now = await listed(); // no scan in between
    expect(now).toContain("P-LATE");
    expect(now).not.toContain("P-BACK");
  });

  it("a product that sells out just after its snooze (or PO hold) ended is announced once, urgently, not again by the next scan", async () => {
    await app.store.products.insertMany([product("P-SNZEND", { onHand: 50, reorderPoint: 10 }), product("P-POEND", { onHand: 50, reorderPoint: 10 })]);
    const statusesFor = async (sku: string) =>
      (await app.store.outbox.find({ kind: "low_stock" }).sort({ createdAt: 1 }).lean()).filter((d) => reviveReply(d.reply).table!.rows.some((r) => r[0] === sku)).map((d) => reviveReply(d.reply).status);
    await runJob();
    await adjust("P-SNZEND", "-45");
    await adjust("P-POEND", "-45");
    await runJob();
    expect([await statusesFor("P-SNZEND"), await statusesFor("P-POEND")]).toEqual([["warning"], ["warning"]]);
    const today = localDay(new Date(jobs.t), app.config.timeZone);
    expect((await app.run("shell:sam", "stock snooze P-SNZEND 30m")).outcome).toBe("ok");
    expect((await app.run("shell:sam", `stock po P-POEND eta=${today} qty=40`)).outcome).toBe("ok");
    /** Moves the clock past `end` by 30 s (no scan), sells `sku` out, then scans at the next slot and twice more. */
    const sellOutAfter = async (sku: string, end: Date) => {
      jobs.t = end.getTime() + 30_000;
      app.clock.set(new Date(jobs.t));
      await adjust(sku, "-5");
      await runJob(5 * MIN - 30_000);
      await runJob();
      await runJob();
    };
    await sellOutAfter("P-SNZEND", (await app.services.lowStock.state("P-SNZEND"))!.snoozedUntil!);
    expect(await statusesFor("P-SNZEND")).toEqual(["warning", "critical"]);
    expect(await app.services.lowStock.state("P-SNZEND")).toMatchObject({ state: "alerted", outAt: expect.any(Date) });
    // The PO's hold ends at 00:00 after its expected arrival.
    await sellOutAfter("P-POEND", (await app.services.lowStock.state("P-POEND"))!.snoozedUntil!);
    expect(await statusesFor("P-POEND")).toEqual(["warning", "critical"]);
    expect(await app.services.lowStock.state("P-POEND")).toMatchObject({ state: "alerted", outAt: expect.any(Date) });
    // Its PO, due and not arrived, stays on record as overdue (the alert and the card say so) until a restock re-arms it.
    expect((await app.services.lowStock.state("P-POEND"))!.po).toMatchObject({ eta: today, qty: 40 });
  });

  it("a snooze longer than a running PO keeps the PO on record and says so; the card shows both", async () => {
    await app.store.products.insertMany([product("P-POSNZ", { onHand: 50, reorderPoint: 10 })]);
    await runJob();
    await adjust("P-POSNZ", "-45");
    await runJob();
    const today = localDay(new Date(jobs.t), app.config.timeZone);
    const eta = addDays(today, 2);
    expect((await app.run("shell:sam", `stock po P-POSNZ eta=${eta} qty=40`)).outcome).toBe("ok");
    const snooze = await app.run("shell:sam", "stock snooze P-POSNZ 10d");
    expect(snooze.outcome).toBe("ok");
    expect(snooze.reply.text).toContain(`The PO (40 units) arriving ${eta} stays on record`);
    const s = (await app.services.lowStock.state("P-POSNZ"))!;
    expect(s).toMatchObject({ state: "snoozed", snoozedUntil: new Date(jobs.t + 10 * 24 * 60 * MIN), po: { eta, qty: 40, by: "shell:sam" } });
    const card = await app.run("shell:sam", "stock P-POSNZ");
    expect(card.reply.fields!.find((f) => f.label === "Low-stock alerts")?.value).toMatch(new RegExp(`^Snoozed until .+ by shell:sam; PO \\(40 units\\) arriving ${eta}, recorded by shell:sam$`));
    // A colleague's shorter snooze still changes nothing (its owner's shortens it, not below the PO's hold),
    // and a PO whose hold has ended is not kept by a later snooze.
    expect((await app.run("shell:admin", "stock snooze P-POSNZ 24h")).code).toBe("snooze_holds");
    await app.store.stockAlerts.updateOne({ _id: "P-POSNZ" }, { $set: { snoozedUntil: new Date(jobs.t - MIN) } });
    const late = await app.run("shell:sam", "stock snooze P-POSNZ 1d");
    expect(late.reply.text).not.toContain("stays on record");
    expect((await app.services.lowStock.state("P-POSNZ"))!.po).toBeUndefined();
  });

  it("the alert table shows cover rounded down, never at the lead time while below it", async () => {
    // 700 sold over 28 days (25 a day), lead time 7: threshold 174; 174 available is 6.96 days of cover.
    await app.store.products.insertMany([product("P-696", { onHand: 174, reorderPoint: 5, leadTimeDays: 7, salesByDay: sales(25) })]);
    await runJob();
    const docs = await app.store.outbox.find({ kind: "low_stock" }).sort({ createdAt: -1 }).lean();
    const row = reviveReply(docs[0]!.reply).table!.rows.find((r) => r[0] === "P-696")!;
    expect(row.slice(2, 6)).toEqual(["174", "174", "6.9", "7"]);
  });
});
