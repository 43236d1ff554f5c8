import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, localDay } from "../src/core/format.js";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

let app: TestApp;

/** Runs `text` as `identity` with Chinese replies. */
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

/** salesByDay with `perDay` units on each of the 28 days before the test clock's shop day. */
function sales(perDay: number): Map<string, number> {
  const today = localDay(app.clock.now(), app.config.timeZone);
  return new Map(Array.from({ length: 28 }, (_, i) => [addDays(today, -(i + 1)), perDay] as const));
}

/** The row of `sku` in a reply's table, by column name. */
function rowOf(reply: Reply, sku: string): Record<string, string> {
  const row = reply.table!.rows.find((r) => r[0] === sku)!;
  return Object.fromEntries(reply.table!.columns.map((c, i) => [c, row[i]!]));
}

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:bob": "staff" }); // 2026-11-25 12:00 in Shanghai
});
afterAll(() => app.close());

describe("a shorter snooze does not cut a colleague's longer one short", () => {
  it("the 24h (the alert's button) over a colleague's 3d: answered with who, until when and how to end it; nothing changed; audited", async () => {
    await app.store.products.insertMany([product("P-S1", { onHand: 5 })]);
    expect((await app.run("shell:sam", "stock snooze P-S1 3d")).outcome).toBe("ok");
    const r = await app.run("shell:bob", "stock snooze P-S1 24h");
    expect(r.outcome).toBe("ok");
    expect(r.code).toBe("snooze_holds");
    expect(r.reply.status).toBe("info");
    expect(r.reply.text).toBe(
      "P-S1 is already snoozed until 2026-11-28 12:00 GMT+8 by shell:sam, longer than this snooze: nothing changed. To end that snooze early, run `stock snooze P-S1 off`, then snooze it for as long as you need.",
    );
    expect(await app.services.lowStock.state("P-S1")).toMatchObject({ state: "snoozed", snoozedUntil: new Date("2026-11-28T04:00:00Z"), snoozedBy: "shell:sam" });
    expect(field(await app.run("shell:bob", "stock P-S1"), "Low-stock alerts")).toBe("Snoozed until 2026-11-28 12:00 GMT+8 by shell:sam");
    const audit = await app.store.audit.find({ command: "stock snooze", actor: "shell:bob", subject: "P-S1" }).lean();
    expect(audit.map((a) => a.code)).toEqual(["snooze_holds"]);
    // In Chinese too.
    expect((await zh("shell:bob", "stock snooze P-S1 24h")).reply.text).toBe(
      "P-S1 已由 shell:sam 暂停至 2026-11-28 12:00 GMT+8，比本次暂停更久：未作更改。如需提前结束该暂停，请先运行 `stock snooze P-S1 off`，再按需要的时长重新暂停。",
    );
    // Ended with `off`, it can then be snoozed for less; a longer snooze by a colleague extends it.
    expect((await app.run("shell:bob", "stock snooze P-S1 off")).outcome).toBe("ok");
    expect((await app.run("shell:bob", "stock snooze P-S1 24h")).reply.text).toContain("snoozed until 2026-11-26 12:00 GMT+8");
    expect((await app.run("shell:sam", "stock snooze P-S1 5d")).reply.text).toContain("snoozed until 2026-11-30 12:00 GMT+8");
    expect(await app.services.lowStock.state("P-S1")).toMatchObject({ snoozedUntil: new Date("2026-11-30T04:00:00Z"), snoozedBy: "shell:sam" });
    // Its owner may shorten it (as before): a slip of the finger, not a colleague's decision.
    const own = await app.run("shell:sam", "stock snooze P-S1 24h");
    expect(own.code).toBeUndefined();
    expect(own.reply.text).toContain("Low-stock alerts for P-S1 are snoozed until 2026-11-26 12:00 GMT+8");
    expect(await app.services.lowStock.state("P-S1")).toMatchObject({ snoozedUntil: new Date("2026-11-26T04:00:00Z"), snoozedBy: "shell:sam" });
  });

  it("a colleague's snooze running past a PO: named with the PO (which `off` cancels too); its owner shortens it only down to the PO's hold", async () => {
    await app.store.products.insertMany([product("P-S3", { onHand: 5 })]);
    expect((await app.run("shell:bob", "stock po P-S3 eta=2026-11-27 qty=30")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "stock snooze P-S3 10d")).outcome).toBe("ok");
    const r = await app.run("shell:bob", "stock snooze P-S3 3d");
    expect(r.code).toBe("snooze_holds");
    expect(r.reply.text).toBe(
      "P-S3 is already snoozed until 2026-12-05 12:00 GMT+8 by shell:sam, longer than this snooze, with a PO (30 units) arriving 2026-11-27 on record: nothing changed. To end that snooze early, run `stock snooze P-S3 off`; it cancels the PO too, so record it again with `stock po P-S3 eta=2026-11-27`.",
    );
    expect(await app.services.lowStock.state("P-S3")).toMatchObject({ snoozedUntil: new Date("2026-12-05T04:00:00Z"), snoozedBy: "shell:sam", po: { eta: "2026-11-27" } });
    // Its owner's 24h: the PO still holds until the day after its arrival, and stays on record.
    const own = await app.run("shell:sam", "stock snooze P-S3 24h");
    expect(own.code).toBeUndefined();
    expect(own.reply.text).toContain("Low-stock alerts for P-S3 are snoozed until 2026-11-28 00:00 GMT+8");
    expect(await app.services.lowStock.state("P-S3")).toMatchObject({ snoozedUntil: new Date("2026-11-27T16:00:00Z"), po: { eta: "2026-11-27", qty: 30 } });
  });
});

describe("stock adjust below zero with nothing on hand", () => {
  it("does not suggest a count that found fewer than zero units", async () => {
    await app.store.products.insertMany([product("P-ZERO", { onHand: 0 }), product("P-OVER", { onHand: 0, reserved: 2 }), product("P-RES", { onHand: 2, reserved: 2 })]);
    const r = await app.run("shell:sam", "stock adjust P-ZERO -1 reason=x");
    expect(r.code).toBe("insufficient_stock");
    expect(r.reply.text).toBe("Cannot remove 1 from P-ZERO: none is on hand, and stock never goes below zero; nothing changed. `stock P-ZERO` shows its figures.");
    expect((await zh("shell:sam", "stock adjust P-ZERO -1 reason=x")).reply.text).toBe("无法从 P-ZERO 扣减 1：在库为 0，库存不能低于零；未做任何更改。`stock P-ZERO` 可查看其库存。");
    // Oversold: what open orders wait for is said, not a count of fewer units.
    expect((await app.run("shell:sam", "stock adjust P-OVER -1 reason=x")).reply.text).toBe(
      "Cannot remove 1 from P-OVER: none is on hand (2 reserved by open orders wait for stock), and stock never goes below zero; nothing changed. `stock P-OVER` shows its figures.",
    );
    // Units on hand, all reserved: a count may well have found fewer (unchanged).
    expect((await app.run("shell:sam", "stock adjust P-RES -1 reason=x")).reply.text).toContain("A count that found fewer units is recorded as a level");
    expect(await app.store.products.findById("P-ZERO").lean()).toMatchObject({ onHand: 0, available: 0 });
  });
});

describe("inactive (discontinued) products", () => {
  it("`stock snooze` and `stock po` are refused, saying why and how to reactivate; nothing is recorded; audited", async () => {
    await app.store.products.insertMany([product("P-OFF", { onHand: 0, active: false })]);
    const snooze = await app.run("shell:sam", "stock snooze p-off 24h");
    expect(snooze.outcome).toBe("user_error");
    expect(snooze.code).toBe("inactive_product");
    expect(snooze.reply.text).toBe(
      "P-OFF is inactive (discontinued): it gets no low-stock alerts, so there is nothing to snooze; nothing changed. If it is back on sale, reactivate it first (the product with `active: true` through the products API or import).",
    );
    const po = await app.run("shell:sam", "stock po P-OFF eta=+5d qty=10");
    expect(po.code).toBe("inactive_product");
    expect(po.reply.text).toBe(
      "P-OFF is inactive (discontinued): it gets no low-stock alerts for a PO to hold; nothing changed. If it is back on sale, reactivate it first (the product with `active: true` through the products API or import), then record the PO.",
    );
    // Said before an arrival date out of range: that is not what is wrong.
    expect((await app.run("shell:sam", "stock po P-OFF eta=+400d")).code).toBe("inactive_product");
    expect((await zh("shell:sam", "stock snooze P-OFF 24h")).reply.text).toContain("P-OFF 已停用（下架）");
    expect((await zh("shell:sam", "stock po P-OFF eta=+5d")).reply.text).toContain("再记录采购单");
    expect(await app.services.lowStock.state("P-OFF")).toBeNull();
    const audit = await app.store.audit.find({ subject: "P-OFF" }).lean();
    expect(audit.filter((a) => a.code === "inactive_product")).toHaveLength(5);
  });
});

describe("the Cover column of `stock low` and the low-stock alert", () => {
  it("always shows one decimal (7.0 beside 7.3, 0.0 when out), in English and Chinese; the card keeps 7 days", async () => {
    await app.store.products.insertMany([
      product("P-C70", { onHand: 70, leadTimeDays: 10, salesByDay: sales(10) }),
      product("P-C73", { onHand: 73, leadTimeDays: 10, salesByDay: sales(10) }),
      product("P-C00", { onHand: 0, leadTimeDays: 10, salesByDay: sales(10) }),
    ]);
    for (const run of [(s: string) => app.run("shell:sam", s), (s: string) => zh("shell:sam", s)]) {
      const low = (await run("stock low limit=50")).reply;
      const cover = low.table!.columns[4]!;
      expect([rowOf(low, "P-C70")[cover], rowOf(low, "P-C73")[cover], rowOf(low, "P-C00")[cover]]).toEqual(["7.0", "7.3", "0.0"]);
    }
    expect(field(await app.run("shell:sam", "stock P-C70"), "Days of cover")).toBe("7 days");
    // The alert lists the 5 worst: the earlier tests' products out of stock would come first.
    await app.store.products.updateMany({ _id: { $in: ["P-ZERO", "P-OVER", "P-RES"] } }, { $set: { active: false } });
    const jobs = await jobStepper(app, "low-stock", app.clock.now().getTime());
    await jobs.step(5 * 60_000);
    const sent = (await app.store.outbox.find({ kind: "low_stock" }).lean()).map((d) => reviveReply(d.reply)).find((r) => r.table!.rows.some((row) => row[0] === "P-C70"))!;
    expect(sent.table!.columns[4]).toBe("Cover (d)");
    expect([rowOf(sent, "P-C70")["Cover (d)"], rowOf(sent, "P-C73")["Cover (d)"], rowOf(sent, "P-C00")["Cover (d)"]]).toEqual(["7.0", "7.3", "0.0"]);
  });
});
