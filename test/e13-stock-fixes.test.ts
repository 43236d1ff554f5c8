import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, Formatter, localDay } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  jobs = await jobStepper(app, "low-stock", Date.parse("2026-11-25T04:00:00Z")); // 12:00 in Shanghai
});
afterAll(() => app.close());

/** The low-stock messages queued so far that list `sku`, oldest first. */
async function alertsFor(sku: string): Promise<Reply[]> {
  const docs = await app.store.outbox.find({ kind: "low_stock" }).sort({ createdAt: 1, _id: 1 }).lean();
  return docs.map((d) => reviveReply(d.reply)).filter((r) => r.table!.rows.some((row) => row[0] === sku));
}

/** The stock card's "Low-stock alerts" field of `sku`, if it has one. */
async function holdOf(sku: string): Promise<string | undefined> {
  const card = await app.run("shell:sam", `stock ${sku}`);
  return card.reply.fields!.find((f) => f.label === "Low-stock alerts")?.value;
}

function today(): string {
  return localDay(new Date(jobs.t), app.config.timeZone);
}

describe("purchase orders that are late, or on their way when a product sells out", () => {
  it("a PO whose expected arrival passed with the product still low: the alert, the card and `off` say it is overdue", async () => {
    await app.store.products.insertMany([product("P-LATE", { onHand: 5, reorderPoint: 10 }), product("P-CAME", { onHand: 5, reorderPoint: 10 })]);
    await jobs.step(5 * MIN);
    expect(await alertsFor("P-LATE")).toHaveLength(1);
    const eta = addDays(today(), 2);
    expect((await app.run("shell:sam", `stock po P-LATE eta=${eta} qty=40`)).outcome).toBe("ok");
    expect((await app.run("shell:sam", `stock po P-CAME eta=${eta} qty=40`)).outcome).toBe("ok");
    // Past the day after its arrival (the end of its hold), still low: alerted again, saying the PO is late.
    await jobs.step(3 * DAY);
    const late = await alertsFor("P-LATE");
    expect(late).toHaveLength(2);
    expect(late[1]!.context).toContain(
      `P-LATE: the PO (40 units) due ${eta} (recorded by shell:sam) is overdue: still low after its expected arrival. Chase the supplier, or record the new date: \`stock po P-LATE eta=YYYY-MM-DD\`.`,
    );
    // The first alert, before any PO, named none.
    expect(late[0]!.context!.some((c) => c.includes("PO (40 units)"))).toBe(false);
    // The card says so too, instead of showing nothing about the PO.
    expect(await holdOf("P-LATE")).toBe(
      `PO (40 units) due ${eta} (recorded by shell:sam) is overdue: still low after its expected arrival. Record its new date with \`stock po P-LATE eta=YYYY-MM-DD\`, or cancel it with \`stock snooze P-LATE off\`.`,
    );
    // The supplier cancelled it: `off` drops it (audited), where it said "nothing holds" before.
    const off = await app.run("shell:sam", "stock snooze P-LATE off");
    expect(off.outcome).toBe("ok");
    expect(off.reply.text).toBe(`The overdue PO (40 units) for P-LATE, due ${eta} (recorded by shell:sam), is cancelled. It no longer held the product's low-stock alerts: nothing else changed.`);
    expect(await holdOf("P-LATE")).toBeUndefined();
    expect((await app.run("shell:sam", "stock snooze P-LATE off")).code).toBe("not_held");
    const audit = await app.store.audit.find({ command: "stock snooze", subject: "P-LATE" }).lean();
    expect(audit.length).toBeGreaterThanOrEqual(2);
    // A PO that arrived: the restock re-arms the product, and nothing is overdue any more.
    expect((await app.run("shell:sam", "stock adjust P-CAME +40 reason=PO")).outcome).toBe("ok");
    await jobs.step(5 * MIN);
    expect(await app.services.lowStock.state("P-CAME")).toMatchObject({ state: "armed" });
    expect(await holdOf("P-CAME")).toBeUndefined();
  });

  it("an overdue PO is dropped once the product is no longer low (its stock came in, if not above the re-arm level)", async () => {
    await app.store.products.insertMany([product("P-PART", { onHand: 5, reorderPoint: 10 })]);
    await jobs.step(5 * MIN);
    const eta = addDays(today(), 1);
    expect((await app.run("shell:sam", `stock po P-PART eta=${eta} qty=20`)).outcome).toBe("ok");
    await jobs.step(2 * DAY);
    expect(await alertsFor("P-PART")).toHaveLength(2);
    expect(await holdOf("P-PART")).toContain("is overdue");
    // 11: above the reorder point (10), not above the re-arm level (12): not low, not re-armed.
    expect((await app.run("shell:sam", "stock adjust P-PART +6 reason=PO")).outcome).toBe("ok");
    await jobs.step(5 * MIN);
    expect(await app.services.lowStock.state("P-PART")).toMatchObject({ state: "alerted" });
    expect((await app.services.lowStock.state("P-PART"))!.po).toBeUndefined();
    // Selling out later is announced without naming a PO that came.
    expect((await app.run("shell:sam", "stock adjust P-PART -11 reason=damaged")).outcome).toBe("ok");
    await jobs.step(5 * MIN);
    const alerts = await alertsFor("P-PART");
    expect(alerts).toHaveLength(3);
    expect(alerts[2]!.context!.some((c) => c.includes("PO"))).toBe(false);
  });

  it("a product with a PO on its way that sells out: the urgent alert names the PO", async () => {
    await app.store.products.insertMany([product("P-COME", { onHand: 8, reorderPoint: 10 })]);
    await jobs.step(5 * MIN);
    expect(await alertsFor("P-COME")).toHaveLength(1);
    const eta = addDays(today(), 5);
    expect((await app.run("shell:sam", `stock po P-COME eta=${eta} qty=60`)).outcome).toBe("ok");
    expect((await app.run("shell:sam", "stock adjust P-COME -8 reason=damaged")).outcome).toBe("ok");
    await jobs.step(5 * MIN);
    const alerts = await alertsFor("P-COME");
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.context).toContain(`P-COME: PO (60 units) arriving ${eta} (recorded by shell:sam).`);
    // Chinese readers get it too.
    const zh = app.services.lowStock.message(
      [{ view: (await app.services.stock.bySku("P-COME"))!, threshold: 10, reorderQty: 12, po: { eta, qty: 60, by: "shell:sam" } }],
      translator("zh-CN"),
      new Formatter("zh-CN", app.config.timeZone, "CNY"),
    );
    expect(zh.context).toContain(`P-COME：采购单（60 件）预计 ${eta} 到货（由 shell:sam 记录）。`);
  });
});

describe("`stock po` with an arrival date in the past", () => {
  it("says the date is in the past and what today is, rather than that it is not a date, and changes nothing", async () => {
    await app.store.products.insertMany([product("P-PAST", { onHand: 4, reorderPoint: 10 })]);
    const past = addDays(today(), -3);
    const r = await app.run("shell:sam", `stock po P-PAST eta=${past} qty=10`);
    expect([r.code, r.reply.text]).toEqual([
      "bad_eta",
      `"${past}" is in the past (today is ${today()}): a PO's expected arrival is today or later. For a late PO, give the date the supplier now expects, e.g. +5d.`,
    ]);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: `stock po P-PAST eta=${past}`, locale: "zh-CN" });
    expect(zh.reply.text).toContain(`"${past}" 已是过去的日期（今天是 ${today()}）`);
    expect(await app.services.lowStock.state("P-PAST")).toBeNull();
  });
});

describe("`stock low` says which low products are already handled", () => {
  it("shows the snooze or PO holding each one's alerts, and an overdue PO, as the card does (English and Chinese)", async () => {
    await app.store.products.insertMany([
      product("L-SNZ", { onHand: 4, reorderPoint: 10 }),
      product("L-PO", { onHand: 4, reorderPoint: 10 }),
      product("L-LATE", { onHand: 4, reorderPoint: 10 }),
      product("L-NONE", { onHand: 4, reorderPoint: 10 }),
    ]);
    await jobs.step(5 * MIN);
    const late = addDays(today(), 1);
    expect((await app.run("shell:sam", `stock po L-LATE eta=${late} qty=30`)).outcome).toBe("ok");
    await jobs.step(2 * DAY); // its PO's hold has ended, still low
    const eta = addDays(today(), 4);
    expect((await app.run("shell:sam", "stock snooze L-SNZ 3d")).outcome).toBe("ok");
    expect((await app.run("shell:sam", `stock po L-PO eta=${eta} qty=30`)).outcome).toBe("ok");
    const until = (await app.services.lowStock.state("L-SNZ"))!.snoozedUntil!;
    const list = await app.run("shell:sam", "stock low limit=50");
    const col = list.reply.table!.columns.indexOf("Snooze / PO");
    expect(col).toBeGreaterThan(0);
    const held = Object.fromEntries(list.reply.table!.rows.filter((r) => r[0]!.startsWith("L-")).map((r) => [r[0], r[col]]));
    const fmt = new Formatter("en", app.config.timeZone, "CNY");
    expect(held).toEqual({ "L-SNZ": `snoozed until ${fmt.dateTime(until)}`, "L-PO": `PO arriving ${eta}`, "L-LATE": `PO due ${late}: overdue`, "L-NONE": "—" });
    const zlist = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "stock low limit=50", locale: "zh-CN" });
    const zcol = zlist.reply.table!.columns.indexOf("暂停/采购单");
    expect(zlist.reply.table!.rows.find((r) => r[0] === "L-PO")![zcol]).toBe(`采购单 ${eta} 到货`);
    expect(zlist.reply.table!.rows.find((r) => r[0] === "L-LATE")![zcol]).toBe(`采购单 ${late} 应到：已逾期`);
  });
});

