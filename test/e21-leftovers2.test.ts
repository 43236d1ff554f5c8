/**
 * Two e21 leftovers, as support staff and a marketer meet them (EN and ZH): an "already" reply to
 * `complaint resolve` / `complaint escalate` says who did it, when (shop time) and with what note
 * or reason, and that the caller's own was not kept; a coupon ending at the very start of a day
 * (`end=2026-12-31`) is shown as the end of the day before in `coupon show` and the launch
 * preview, as `coupon list` shows it. Real database, fixed clock (2026-11-25 12:00 Asia/Shanghai).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

const NOW = Date.parse("2026-11-25T04:00:00Z");
let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sue": "support", "shell:lin": "support", "shell:mia": "manager", "shell:max": "manager" });
  await app.store.products.insertMany([product("SKU-1001", { price: 10_000, cost: 4_000, onHand: 10_000 })]);
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

async function file(text = "box arrived crushed"): Promise<string> {
  const r = await app.run("shell:sue", `complaint new severity=high "${text}"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
}

describe("complaint resolve on one already resolved", () => {
  it("says who resolved it, when and with what note, and that the caller's note was not kept (en, zh); nothing changes", async () => {
    const id = await file();
    expect((await app.run("shell:lin", `complaint resolve ${id} note="sent again"`)).outcome).toBe("ok");
    const before = await app.store.complaints.findById(id).lean();
    app.clock.set(new Date(NOW + 5 * 60_000));
    const late = await app.run("shell:sue", `complaint resolve ${id} note="refunded in full"`);
    expect([late.outcome, late.code, late.reply.text]).toEqual([
      "ok",
      "already_resolve",
      `${id} is already resolved; nothing changed. shell:lin resolved it at 2026-11-25 12:00 GMT+8: “sent again”. Your note was not kept.`,
    ]);
    // A bare press of a stale card's Resolve: who and when, nothing about a note it never gave.
    expect((await app.run("shell:sue", `complaint resolve ${id}`)).reply.text).toBe(`${id} is already resolved; nothing changed. shell:lin resolved it at 2026-11-25 12:00 GMT+8: “sent again”.`);
    // The one who resolved it is told it was them.
    expect((await app.run("shell:lin", `complaint resolve ${id} note=again`)).reply.text).toBe(`${id} is already resolved; nothing changed. You resolved it at 2026-11-25 12:00 GMT+8: “sent again”. Your note was not kept.`);
    expect((await zh("shell:sue", `complaint resolve ${id} note=已退款`)).reply.text).toBe(`${id} 已经结案，未做任何更改。shell:lin 已于 2026-11-25 12:00 GMT+8 结案：“sent again”。你填写的处理说明未被保存。`);
    expect(await app.store.complaints.findById(id).lean()).toEqual(before);
  });

  it("clips a long note", async () => {
    const id = await file();
    const note = "x".repeat(400);
    expect((await app.run("shell:lin", `complaint resolve ${id} note="${note}"`)).outcome).toBe("ok");
    const r = await app.run("shell:sue", `complaint resolve ${id} note=done`);
    expect(r.reply.text).toContain(`: “${"x".repeat(199)}…”. Your note was not kept.`);
  });
});

describe("complaint escalate on one already escalated", () => {
  it("says who escalated it, when and why, and that the caller's reason was not kept (en, zh)", async () => {
    const id = await file();
    expect((await app.run("shell:lin", `complaint escalate ${id} reason="customer threatens chargeback"`)).outcome).toBe("ok");
    const e = await app.run("shell:sue", `complaint escalate ${id} reason="angry customer"`);
    expect([e.outcome, e.code, e.reply.text]).toEqual([
      "ok",
      "already_escalated",
      `${id} is already escalated and waiting to be claimed; nothing changed. shell:lin escalated it at 2026-11-25 12:00 GMT+8: “customer threatens chargeback”. Your reason was not kept.`,
    ]);
    expect((await app.run("shell:lin", `complaint escalate ${id}`)).reply.text).toBe(
      `${id} is already escalated and waiting to be claimed; nothing changed. You escalated it at 2026-11-25 12:00 GMT+8: “customer threatens chargeback”.`,
    );
    expect((await zh("shell:sue", `complaint escalate ${id} reason=客户生气`)).reply.text).toBe(
      `${id} 已经升级并在等待认领，未做任何更改。shell:lin 已于 2026-11-25 12:00 GMT+8 升级：“customer threatens chargeback”。你填写的原因未被保存。`,
    );
    // Held by a manager now: who has it, and who escalated it and why.
    expect((await app.run("shell:mia", `complaint claim ${id}`)).outcome).toBe("ok");
    expect((await app.run("shell:sue", `complaint escalate ${id}`)).reply.text).toContain(
      `${id} is already escalated, and shell:mia has it; nothing changed. Only a manager or admin can send it back to the queue. shell:lin escalated it at 2026-11-25 12:00 GMT+8: “customer threatens chargeback”.`,
    );
  });
});

describe("a coupon ending at the start of a day", () => {
  it("is shown as the end of the day before in the preview and coupon show, as coupon list shows it (en, zh); stored as typed", async () => {
    const zp = await zh("shell:max", "coupon launch code=YEAREND type=percent value=10 end=2026-12-31");
    expect(field(zp, "结束")).toBe("2026-12-31（当天结束）");
    // The later preview replaces the earlier one: confirmed below.
    const preview = await app.run("shell:max", "coupon launch code=YEAREND type=percent value=10 end=2026-12-31");
    expect([preview.outcome, field(preview, "Ends")]).toEqual(["ok", "2026-12-31 (end of day)"]);
    expect((await app.run("shell:max", preview.reply.actions![0]!.id)).outcome).toBe("ok");
    expect((await app.store.coupons.findById("YEAREND").lean())?.endsAt).toEqual(new Date("2026-12-31T16:00:00Z"));
    expect(field(await app.run("shell:max", "coupon show YEAREND"), "Ends")).toBe("2026-12-31 (end of day)");
    expect(field(await zh("shell:max", "coupon show YEAREND"), "结束")).toBe("2026-12-31（当天结束）");
    // Any other end keeps its time (23:59 is the end of that day: e22-dates).
    const timed = await app.run("shell:max", 'coupon launch code=LATE type=percent value=10 end="2026-12-31 22:00"');
    expect(field(timed, "Ends")).toBe("2026-12-31 22:00 GMT+8");
  });
});
