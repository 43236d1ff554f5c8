import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, localDay } from "../src/core/format.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** salesByDay with `perDay` units on each of the `days` days before the test clock's shop day. */
function sales(app: TestApp, perDay: number, days: number): Map<string, number> {
  const today = localDay(app.clock.now(), app.config.timeZone);
  const m = new Map<string, number>();
  for (let i = 1; i <= days; i++) m.set(addDays(today, -i), perDay);
  m.set(today, 1000); // today's partial sales are outside the window
  return m;
}

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await app.store.products.insertMany([
    product("SKU-1001", { name: "Wireless Mouse", onHand: 120, reserved: 20, reorderPoint: 30, salesByDay: sales(app, 4, 28) }),
    product("SKU-1002", { name: "不锈钢保温杯 500ml", onHand: 8, reorderPoint: 10 }),
    product("SKU-1003", { name: "Wireless Keyboard", onHand: 40, reorderPoint: 5, leadTimeDays: 14, salesByDay: sales(app, 5, 28) }),
    product("SKU-1004", { name: "USB-C Cable", onHand: 0, reorderPoint: 10 }),
    product("SKU-1005", { name: "Desk Lamp", onHand: 500, reorderPoint: 10 }),
    product("SKU-2001", { name: "Concurrency Widget", onHand: 25, reserved: 5 }),
    product("SKU-2002", { name: "Replay Widget", onHand: 10, reorderPoint: 2 }),
  ]);
});
afterAll(() => app.close());

describe("stock lookup", () => {
  it("shows on hand, reserved, available, reorder point, velocity and days of cover", async () => {
    const r = await app.run("shell:viewer", "stock sku-1001");
    expect(r.outcome).toBe("ok");
    const f = Object.fromEntries(r.reply.fields!.map((x) => [x.label, x.value]));
    expect(f).toMatchObject({ Available: "100", "On hand": "120", Reserved: "20", "Reorder point": "30" });
    // 4 units/day over 28 days; 100 available ÷ 4 = 25 days.
    expect(f["Sales velocity"]).toBe("4/day (last 28 days)");
    expect(f["Days of cover"]).toBe("25 days");
    expect(f.Status).toBe("OK");
    expect(r.reply.status).toBe("ok");
  });

  it("finds a product by words, Chinese included", async () => {
    const r = await app.run("shell:viewer", "stock 保温杯");
    expect(r.reply.title).toBe("不锈钢保温杯 500ml (SKU-1002)");
    const many = await app.run("shell:viewer", "stock wireless");
    expect(many.reply.table!.rows.map((x) => x[0])).toEqual(["SKU-1001", "SKU-1003"]);
  });

  it("suggests close matches for an unknown sku", async () => {
    const r = await app.run("shell:viewer", "stock SKU-10011");
    expect(r.outcome).toBe("user_error");
    expect(r.code).toBe("unknown_sku");
    expect(r.reply.text).toMatch(/Did you mean: SKU-1001/);
    // The commonest slips: no hyphen, letters swapped, only the number; a Chinese name mistyped.
    for (const typed of ["SKU1001", "SUK-1001", "1001"]) expect((await app.run("shell:viewer", `stock ${typed}`)).reply.text, typed).toMatch(/Did you mean: SKU-1001\b/);
    expect((await app.run("shell:viewer", "stock 保温怀")).reply.text).toMatch(/Did you mean: SKU-1002\b/);
  });

  it("stock low lists low products worst first with cover and lead time", async () => {
    const r = await app.run("shell:viewer", "stock low");
    const skus = r.reply.table!.rows.map((x) => x[0]);
    // out of stock first, then cover 8 days < 14 lead time, then no-sales at reorder point.
    expect(skus).toEqual(["SKU-1004", "SKU-1003", "SKU-1002"]);
    expect(r.reply.title).toBe("Low stock: 3 products");
  });

  it("among products out of stock, the fastest seller comes first (it loses the most sales)", async () => {
    const yesterday = addDays(localDay(app.clock.now(), app.config.timeZone), -1);
    await app.store.products.insertMany([product("AAA-SLOW", { onHand: 0 }), product("ZZZ-FAST", { onHand: 0, salesByDay: new Map([[yesterday, 40]]) })]);
    try {
      const skus = (await app.run("shell:viewer", "stock low")).reply.table!.rows.map((x) => x[0]);
      expect(skus.slice(0, 3)).toEqual(["ZZZ-FAST", "AAA-SLOW", "SKU-1004"]);
    } finally {
      await app.store.products.deleteMany({ _id: { $in: ["AAA-SLOW", "ZZZ-FAST"] } });
    }
  });
});

describe("stock card and list figures", () => {
  const DAY = 86_400_000;
  /** Inserts products with their creation time (insertMany would stamp the wall time); removed by `drop`. */
  const insert = (docs: { sku: string; createdAt: Date; over: Parameters<typeof product>[1] }[]) =>
    app.store.products.collection.insertMany(docs.map((d) => ({ ...product(d.sku, d.over), createdAt: d.createdAt, updatedAt: d.createdAt })) as never);
  const drop = (skus: string[]) => app.store.products.deleteMany({ _id: { $in: skus } });
  const card = async (sku: string, zh = false) => {
    const r = await app.core.invoke({ identity: "shell:viewer", platform: "shell", text: `stock ${sku}`, ...(zh ? { locale: "zh-CN" as const } : {}) });
    return Object.fromEntries(r.reply.fields!.map((x) => [x.label, x.value]));
  };

  it("a product newer than the window: velocity and cover name the same days; one created today or yesterday is worded as such", async () => {
    const now = app.clock.now().getTime();
    await insert([
      { sku: "NEW-3", createdAt: new Date(now - 3 * DAY), over: { onHand: 50 } },
      { sku: "NEW-1", createdAt: new Date(now - DAY), over: { onHand: 50 } },
      { sku: "NEW-0", createdAt: new Date(now - 60_000), over: { onHand: 50 } },
    ]);
    try {
      expect(await card("NEW-3")).toMatchObject({ "Sales velocity": "0/day (last 3 days)", "Days of cover": "no sales in the last 3 days" });
      expect(await card("NEW-1")).toMatchObject({ "Sales velocity": "0/day (yesterday)", "Days of cover": "no sales yesterday" });
      expect(await card("NEW-0")).toMatchObject({ "Sales velocity": "0/day (new today: no full day yet)", "Days of cover": "no sales counted yet (new today)" });
      expect(await card("NEW-3", true)).toMatchObject({ 销售速度: "0/天（近 3 天）", 可售天数: "近 3 天无销售" });
      expect(await card("NEW-1", true)).toMatchObject({ 销售速度: "0/天（昨天）", 可售天数: "昨天无销售" });
      expect(await card("NEW-0", true)).toMatchObject({ 销售速度: "0/天（今天新上架，尚不足一整天）", 可售天数: "尚无销售数据（今天新上架）" });
    } finally {
      await drop(["NEW-3", "NEW-1", "NEW-0"]);
    }
  });

  it("figures never contradict: a slow seller's velocity is not 0, cover is rounded down (never at the lead time while below it)", async () => {
    const old = new Date(app.clock.now().getTime() - 60 * DAY);
    const yesterday = addDays(localDay(app.clock.now(), app.config.timeZone), -1);
    await insert([
      // 1 sold in 28 days, 100 available: 0.036 a day, 2,800 days of cover.
      { sku: "FIG-SLOW", createdAt: old, over: { onHand: 100, reorderPoint: 5, salesByDay: new Map([[yesterday, 1]]) } },
      // 25 a day, lead time 7: 174 available is 6.96 days, below the lead time.
      { sku: "FIG-696", createdAt: old, over: { onHand: 174, reorderPoint: 5, leadTimeDays: 7, salesByDay: sales(app, 25, 28) } },
      // 1 available at 25 a day: 0.04 days, not "0" (that is out of stock).
      { sku: "FIG-ONE", createdAt: old, over: { onHand: 1, reorderPoint: 0, leadTimeDays: 7, salesByDay: sales(app, 25, 28) } },
    ]);
    try {
      expect(await card("FIG-SLOW")).toMatchObject({ "Sales velocity": "0.036/day (last 28 days)", "Days of cover": "2,800 days", Status: "OK" });
      expect(await card("FIG-696")).toMatchObject({ "Sales velocity": "25/day (last 28 days)", "Days of cover": "6.9 days", "Lead time": "7 days", Status: "Low: cover below lead time" });
      expect(await card("FIG-ONE")).toMatchObject({ "Days of cover": "<0.1 days", Status: "Low: cover below lead time" });
      const rows = (await app.run("shell:viewer", "stock low limit=50")).reply.table!.rows;
      expect(rows.find((r) => r[0] === "FIG-696")!.slice(4, 6)).toEqual(["6.9", "7"]);
      expect(rows.find((r) => r[0] === "FIG-ONE")!.slice(4, 6)).toEqual(["<0.1", "7"]);
    } finally {
      await drop(["FIG-SLOW", "FIG-696", "FIG-ONE"]);
    }
  });
});

describe("stock adjust", () => {
  it("applies a signed change, records it in the ledger and the audit", async () => {
    const r = await app.run("shell:sam", 'stock adjust SKU-1005 -3 reason="damaged in transit"');
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toContain("on hand 500 → 497");
    const p = await app.store.products.findById("SKU-1005").lean();
    expect(p).toMatchObject({ onHand: 497, available: 497 });
    const ledger = await app.store.ledger.find({ sku: "SKU-1005" }).lean();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ delta: -3, reason: "damaged in transit", actor: "shell:sam", status: "applied", onHandAfter: 497 });
    expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ command: "stock adjust", outcome: "ok", args: 'SKU-1005 -3 reason="damaged in transit"' });
  });

  it("rejects zero, non-numeric and below-zero changes and changes nothing", async () => {
    for (const bad of ["0", "abc", "1.5", "--5"]) {
      const r = await app.run("shell:sam", `stock adjust SKU-1002 ${bad} reason=count`);
      expect(r.outcome, bad).toBe("user_error");
    }
    const below = await app.run("shell:sam", "stock adjust SKU-1002 -9 reason=count");
    expect(below.code).toBe("insufficient_stock");
    expect(below.reply.text).toContain("only 8 available");
    // Nothing available (all reserved, or oversold): said so, not "only -2 available".
    await app.store.products.insertMany([product("SKU-HELD", { onHand: 3, reserved: 5 })]);
    const none = await app.run("shell:sam", "stock adjust SKU-HELD -1 reason=count");
    expect(none.reply.text).toContain("Cannot remove 1 from SKU-HELD: none is available (on hand 3, 5 reserved by open orders)");
    await app.store.products.deleteOne({ _id: "SKU-HELD" });
    const unknown = await app.run("shell:sam", "stock adjust SKU-9999 -1 reason=count");
    expect(unknown.code).toBe("unknown_sku");
    expect(await app.store.products.findById("SKU-1002").lean()).toMatchObject({ onHand: 8, available: 8 });
    expect(await app.store.ledger.countDocuments({ sku: { $in: ["SKU-1002", "SKU-9999"] } })).toBe(0);
  });

  it("says what is wrong with an argument in a person's terms, in English and Chinese", async () => {
    const cases: [string, string][] = [
      ["stock adjust SKU-1002 -1 reason=", "• reason=: cannot be empty"],
      ["stock low limit=abc", '• limit=: "abc" is not a number'],
      ["stock low limit=2.5", '• limit=: "2.5" is not a whole number'],
      ["stock low limit=999", "• limit=: must be at most 50"],
      [`stock adjust SKU-1002 -1 reason=${"x".repeat(301)}`, "• reason=: is too long: at most 200 characters"],
      ["stock adjust SKU-1002 -1 reason=count reason=theft", "• reason= is given more than once; give it once"],
      ['stock adjust SKU-1002 -1 reason=count key="a b"', "• key=: is not an idempotency key: 1 to 100 letters, digits or _ . : - (no spaces), e.g. PO-7781"],
      // The bot's own ledger keys (an order's reservation, a count, a keyless change) are not the caller's to reuse.
      ["stock adjust SKU-1002 -1 reason=count key=o:ORD-1:r", '• key=: "o:ORD-1:r" starts with o:, set: or adj:, which the bot keeps for its own stock changes.'],
    ];
    for (const [cmd, says] of cases) {
      const r = await app.run("shell:sam", cmd);
      expect(r.code, cmd).toBe("invalid_args");
      expect(r.reply.text, cmd).toContain(says);
      expect(r.reply.text, cmd).not.toMatch(/expected (number|string)|received|Too (small|big)/);
    }
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "stock low limit=abc", locale: "zh-CN" });
    expect(zh.reply.text).toContain('• limit=: "abc" 不是数字');
    // An argument not given is missing, not "an empty value is not a role".
    const grant = await app.run("shell:admin", "role grant shell:newbie");
    expect(grant.reply.text).toContain("<role>");
    expect(grant.reply.text).not.toContain('"" is not');
  });

  it("reads numbers as any keyboard types them: full-width digits and signs, the minus sign the bot prints, 天 and 小时", async () => {
    // Each typed form does exactly what its plain spelling does.
    for (const [typed, plainDelta] of [["－２", -2], ["\u22122", -2], ["\u20142", -2], ["＋３", 3]] as const) {
      const before = (await app.store.products.findById("SKU-1005").lean())!.onHand;
      const r = await app.run("shell:sam", `stock adjust SKU-1005 ${typed} reason=recount`);
      expect([r.outcome, r.reply.text], typed).toEqual(["ok", expect.stringContaining(`on hand ${before} → ${before + plainDelta}`)]);
    }
    expect((await app.run("shell:sam", "stock low limit=２")).reply.table!.rows).toHaveLength(2);
    // A SKU typed full-width is the SKU: looked up, adjusted, snoozed.
    expect((await app.run("shell:sam", "stock ＳＫＵ－１００５")).reply.title).toContain("SKU-1005");
    const wide = await app.run("shell:sam", "stock adjust ｓｋｕ－１００５ +1 reason=recount");
    expect([wide.outcome, wide.reply.text]).toEqual(["ok", expect.stringContaining("SKU-1005")]);
    expect((await app.run("shell:sam", "stock low limit=５１")).reply.text).toContain("• limit=: must be at most 50");
    const snooze = async (typed: string) => (await app.run("shell:sam", `stock snooze SKU-1004 ${typed}`)).reply.text;
    for (const [typed, plainForm] of [["3天", "3d"], ["２４小时", "24h"], ["30分钟", "30m"], ["３d", "3d"]] as const) expect(await snooze(typed), typed).toBe(await snooze(plainForm));
    expect(await snooze("3周")).toContain('"3周" is not a duration');
    const po = await app.run("shell:sam", "stock po SKU-1004 eta=+10天 qty=１２０");
    expect([po.outcome, po.reply.text]).toEqual(["ok", expect.stringContaining("(120 units)")]);
    const policy = await app.run("shell:admin", "refund policy set support=３００ expiry=48小时");
    expect(policy.outcome).toBe("ok");
    expect(policy.reply.fields!.map((f) => f.value)).toEqual(expect.arrayContaining(["up to CN¥300.00", "48 hours"]));
  });

  it("50 concurrent -1 adjustments on 20 available: exactly 20 succeed and stock ends at 0 available", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => app.run("shell:sam", `stock adjust SKU-2001 -1 reason="pick ${i}"`)),
    );
    expect(results.filter((r) => r.outcome === "ok")).toHaveLength(20);
    expect(results.filter((r) => r.code === "insufficient_stock")).toHaveLength(30);
    expect(await app.store.products.findById("SKU-2001").lean()).toMatchObject({ onHand: 5, reserved: 5, available: 0 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-2001" })).toBe(20);
  });

  it("a replayed adjustment with the same idempotency key applies once, even when replays race", async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, () => app.run("shell:sam", "stock adjust SKU-2002 +5 reason=restock key=PO-77")));
    expect(runs.filter((r) => r.reply.text?.includes("on hand 10 → 15"))).toHaveLength(1);
    expect(runs.every((r) => r.outcome === "ok")).toBe(true);
    const again = await app.run("shell:sam", "stock adjust SKU-2002 +5 reason=restock key=PO-77");
    expect(again.reply.text).toContain("already applied");
    expect(await app.store.products.findById("SKU-2002").lean()).toMatchObject({ onHand: 15 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-2002" })).toBe(1);
    // The key is held apart from the order effects' keys, which a selling product pushes by the hundred a day.
    expect(await app.store.products.findById("SKU-2002").lean()).toMatchObject({ ledgerKeys: ["PO-77"], appliedKeys: [] });
    const conflict = await app.run("shell:sam", "stock adjust SKU-2002 +6 reason=restock key=PO-77");
    expect(conflict.code).toBe("key_conflict");
  });

  it("finishes a change interrupted after its ledger intent was written", async () => {
    // Simulate a crash between step 1 (intent) and step 2 (product update).
    await app.store.ledger.create({ _id: "crash-1", sku: "SKU-2002", delta: 2, reason: "restock", actor: "shell:sam", status: "pending", at: new Date() });
    const r = await app.run("shell:sam", "stock adjust SKU-2002 +2 reason=restock key=crash-1");
    expect(r.reply.text).toContain("on hand 15 → 17");
    expect(await app.store.ledger.findById("crash-1").lean()).toMatchObject({ status: "applied", onHandAfter: 17 });
  });

  it("a key whose first attempt died is freed by a refused retry, and housekeeping leaves an entry a retry is working on", async () => {
    const now = app.clock.now().getTime();
    const H = 3_600_000;
    // An attempt that died two hours ago holding its key (never joined since); the retry is refused (not enough stock).
    await app.store.ledger.create({ _id: "died-1", sku: "SKU-1004", delta: -5, reason: "x", actor: "shell:sam", status: "pending", at: new Date(now - 2 * H), active: 1, heldAt: new Date(now - 2 * H) });
    expect((await app.run("shell:sam", "stock adjust SKU-1004 -5 reason=x key=died-1")).code).toBe("insufficient_stock");
    // The key is free again for another change (it was a key_conflict until housekeeping).
    expect((await app.run("shell:sam", "stock adjust SKU-1004 +3 reason=found key=died-1")).reply.text).toContain("on hand 0 → 3");
    // Housekeeping withdraws an old entry nobody holds, not one a retry joined a minute ago.
    await app.store.ledger.create({ _id: "old-1", sku: "SKU-1005", delta: 1, reason: "x", actor: "x", status: "pending", at: new Date(now - 2 * H), active: 1, heldAt: new Date(now - 2 * H) });
    await app.store.ledger.create({ _id: "held-1", sku: "SKU-1005", delta: 1, reason: "x", actor: "x", status: "pending", at: new Date(now - 2 * H), active: 2, heldAt: new Date(now - 60_000) });
    expect(await app.services.stock.settlePending(new Date(now - H))).toEqual({ applied: 0, withdrawn: 1 });
    expect(await app.store.ledger.exists({ _id: "held-1" })).not.toBeNull();
  });
});
