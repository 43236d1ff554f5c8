/**
 * Stock as an inventory planner reads it (e22, second pass), in English and Chinese: a search
 * listing several products marks the inactive (discontinued) ones, as their card does; figures
 * typed with commas between thousands (`qty=1,000`, `+1,000`, `set=1,000`, as the bot prints them)
 * are read as those numbers, a comma elsewhere (`1,00`) refused saying how to write it; and the
 * low-stock alert says what its Threshold column is, beside `stock low`'s ROP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays } from "../src/core/format.js";
import { reviveReply } from "../src/services/outbox.service.js";
import type { Reply } from "../src/core/reply.js";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

let app: TestApp;

/** perDay units on each of the 28 days before the test clock's shop day (2026-11-25). */
const sales = (perDay: number) => new Map(Array.from({ length: 28 }, (_, i) => [addDays("2026-11-25", -(i + 1)), perDay] as [string, number]));

/** A product selling 600 a day over a 7-day lead time, its reorder point 100: low below 4,200 (threshold 4,199), far above its ROP. */
const FAST = { name: "Fast screws", onHand: 4_000, reorderPoint: 100, salesByDay: sales(600) };

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await app.store.products.insertMany([
    product("SKU-1001", { name: "Wireless Mouse", onHand: 30, reorderPoint: 10 }),
    product("SKU-1002", { name: "Wireless Keyboard", onHand: 5, reorderPoint: 10 }),
    // Discontinued, with fewer units than its reorder point: not a live product running out.
    product("SKU-1003", { name: "Wireless Charger", onHand: 2, reorderPoint: 10, active: false }),
    product("SKU-2001", { name: "Desk Lamp", onHand: 40 }),
    product("SKU-2002", { name: "Desk Mat", onHand: 40 }),
    product("SKU-FAST", FAST),
  ]);
}, 120_000);
afterAll(() => app?.close());

const zh = (text: string) => app.core.invoke({ identity: "shell:sam", platform: "shell", text, locale: "zh-CN" });

describe("a search listing several products", () => {
  it("marks an inactive one after its name, with a line saying what that means, as its card and `stock low` do (en, zh)", async () => {
    const en = await app.run("shell:sam", "stock wireless");
    expect(en.reply.table?.rows.map((r) => r.slice(0, 2))).toEqual([
      ["SKU-1001", "Wireless Mouse"],
      ["SKU-1002", "Wireless Keyboard"],
      ["SKU-1003", "Wireless Charger (inactive)"],
    ]);
    expect(en.reply.context).toContain("Inactive: discontinued, so not checked for low stock: never in `stock low` and no low-stock alerts.");
    const z = await zh("stock wireless");
    expect(z.reply.table?.rows.find((r) => r[0] === "SKU-1003")?.[1]).toBe("Wireless Charger（已停用）");
    expect(z.reply.context).toContain("已停用：已下架，不做低库存检查：不会列入 `stock low`，也不会有低库存提醒。");

    // Its card says the same; `stock low` leaves it out, though it has fewer units than its ROP.
    expect(field(await app.run("shell:sam", "stock SKU-1003"), "Status")).toBe("Inactive");
    expect(field(await zh("stock SKU-1003"), "状态")).toBe("已停用");
    expect((await app.run("shell:sam", "stock low")).reply.table?.rows.map((r) => r[0])).not.toContain("SKU-1003");
  });

  it("has no mark nor line when every product listed is active", async () => {
    const r = await app.run("shell:sam", "stock desk");
    expect(r.reply.table?.rows.map((row) => row[1])).toEqual(["Desk Lamp", "Desk Mat"]);
    expect(r.reply.context).toEqual(["Showing 2 of 2. Type the exact SKU, e.g. `stock SKU-2001`."]);
  });
});

describe("figures typed with commas between thousands", () => {
  it("are that number in `stock po … qty=` (1,000; 1，000; full-width), as the reply prints it (en, zh)", async () => {
    const en = await app.run("shell:sam", "stock po SKU-1001 eta=+5d qty=1,000");
    expect([en.outcome, en.reply.text]).toEqual(["ok", expect.stringContaining("PO recorded for SKU-1001 (1,000 units), arriving 2026-11-30.")]);
    expect((await app.services.lowStock.state("SKU-1001"))?.po).toMatchObject({ qty: 1000 });
    const z = await zh("stock po SKU-1001 eta=+6d qty=1，200");
    expect([z.outcome, z.reply.text]).toEqual(["ok", expect.stringContaining("已记录 SKU-1001 的采购单（1,200 件），预计 2026-12-01 到货。")]);
    expect((await app.services.lowStock.state("SKU-1001"))?.po).toMatchObject({ qty: 1200 });
    const wide = await app.run("shell:sam", "stock po SKU-1001 eta=+7d qty=１２，５００");
    expect(wide.reply.text).toContain("(12,500 units)");
    expect((await app.services.lowStock.state("SKU-1001"))?.po).toMatchObject({ qty: 12_500 });
  });

  it("are that number in `stock adjust` (+1,000, -1,000, set=1,000), the ledger and stock moved by it (en, zh)", async () => {
    const add = await app.run("shell:sam", "stock adjust SKU-2001 +1,000 reason=restock");
    expect([add.outcome, add.reply.text]).toEqual(["ok", "SKU-2001 +1,000: on hand 40 → 1,040, available 1,040."]);
    const take = await zh("stock adjust SKU-2001 −1，000 reason=盘亏");
    expect([take.outcome, take.reply.text]).toEqual(["ok", "SKU-2001 -1,000：在库 1,040 → 40，可用 40。"]);
    const set = await zh("stock adjust SKU-2001 set=1，500 reason=盘点");
    expect([set.outcome, set.reply.text]).toEqual(["ok", "SKU-2001 设为 1,500：在库 40 → 1,500，可用 1,500。"]);
    expect((await app.services.stock.bySku("SKU-2001"))?.onHand).toBe(1500);
    // Without a sign it is still refused as a change, naming it as the number it is.
    const bare = await app.run("shell:sam", "stock adjust SKU-2001 1,000 reason=restock");
    expect([bare.outcome, bare.reply.text]).toEqual(["user_error", expect.stringContaining("+1000 adds 1000 units to SKU-2001")]);
  });

  it("with a word for pieces, or a PO's without `qty=`, get the line written right with the number's digits (en, zh)", async () => {
    const unit = await app.run("shell:sam", "stock adjust SKU-2002 +1,000件 reason=restock");
    expect([unit.outcome, unit.reply.text]).toEqual(["user_error", expect.stringContaining('"+1,000件": stock is counted in units, so a quantity is the number alone, without a unit: `stock adjust SKU-2002 +1000 reason=restock`.')]);
    const apart = await zh("stock po SKU-2002 eta=+5d 1，000");
    expect([apart.outcome, apart.reply.text]).toEqual(["user_error", expect.stringContaining("\"1，000\"：采购单的数量是单独的选项：`stock po SKU-2002 eta=+5d qty=1000`。")]);
    expect((await app.services.stock.bySku("SKU-2002"))?.onHand).toBe(40);
    expect(await app.services.lowStock.state("SKU-2002")).toBeFalsy();
  });

  it("placed elsewhere (1,00; 10,0000; +1,00) are refused saying how to write the number, and nothing changes (en, zh)", async () => {
    const before = await app.services.lowStock.state("SKU-1002");
    const po = await app.run("shell:sam", "stock po SKU-1002 eta=+5d qty=1,00");
    expect([po.outcome, po.code]).toEqual(["user_error", "invalid_args"]);
    expect(po.reply.text).toContain('qty=: "1,00" is not a number as written: a comma goes only between thousands (1,000 or 12,500). Put one before every three digits from the right, or write digits only (1000).');
    expect(await app.services.lowStock.state("SKU-1002")).toEqual(before);

    const z = await zh("stock adjust SKU-1002 set=10，0000 reason=盘点");
    expect(z.reply.text).toContain('set=: "10，0000" 的写法不对：逗号只用来分隔千位（如 1,000、12,500）。请从右往左每三位数字加一个逗号，或只写数字（如 1000）。');
    const delta = await app.run("shell:sam", "stock adjust SKU-1002 +1,00 reason=restock");
    expect([delta.outcome, delta.reply.text]).toEqual(["user_error", expect.stringContaining('"+1,00" is not a number as written: a comma goes only between thousands')]);
    expect(delta.reply.text).not.toContain("is not a quantity change");
    expect((await app.services.stock.bySku("SKU-1002"))?.onHand).toBe(5);
  });
});

describe("the low-stock alert's Threshold", () => {
  /** The low-stock alerts the first scan of `a` queues. */
  const alertsOf = async (a: TestApp): Promise<Reply[]> => {
    const jobs = await jobStepper(a, "low-stock", Date.parse("2026-11-25T04:00:00Z"));
    await jobs.step(5 * 60_000);
    return (await a.store.outbox.find({ kind: "low_stock" }).lean()).map((d) => reviveReply(d.reply));
  };

  it("is said in a line to be the reorder point (`stock low`'s ROP) or, when higher, the lead time's sales less 1", async () => {
    // `stock low` shows the ROP (100) of a product low by its cover (4,000 < 600 × 7).
    expect((await app.run("shell:sam", "stock low")).reply.table?.rows.find((r) => r[0] === "SKU-FAST")?.slice(2, 4)).toEqual(["4,000", "100"]);
    const alert = (await alertsOf(app)).find((r) => r.table?.rows.some((row) => row[0] === "SKU-FAST"))!;
    expect(alert.table?.rows.find((r) => r[0] === "SKU-FAST")?.slice(2, 4)).toEqual(["4,000", "4,199"]);
    expect(alert.context).toContain(
      "Threshold: low at or below it. It is the reorder point (ROP in `stock low`), or, when higher, one less than the sales expected over the lead time (so cover below the lead time is low too).",
    );
  });

  it("is said so in Chinese in a Chinese shop's alert", async () => {
    const zhApp = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
    try {
      await zhApp.store.products.insertMany([product("SKU-FAST", FAST)]);
      const [alert] = await alertsOf(zhApp);
      expect(alert?.table?.columns[3]).toBe("阈值");
      expect(alert?.context).toContain("阈值：可用库存不高于阈值即为偏低。阈值为补货点（`stock low` 中的“补货点”列）；若采购周期内的预计销量减 1 更高，则取该值（可售天数低于采购周期也算偏低）。");
    } finally {
      await zhApp.close();
    }
  }, 120_000);
});
