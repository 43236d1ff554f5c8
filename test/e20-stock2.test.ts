/**
 * Stock leftovers (e20), as ops staff type them, in English and Chinese: "1 is reserved" (not
 * "1 are"), `stock adjust` replies with their figures grouped as the card shows them, a PO's
 * quantity typed without `qty=` and a snooze's duration typed before the SKU answered with the
 * line written right (nothing changed), and `stock low` on a shop with no products yet saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await app.store.products.insertMany([
    product("SKU-R1", { name: "Kettle", onHand: 3, reserved: 1 }),
    product("SKU-R2", { name: "Teapot", onHand: 3, reserved: 2 }),
    product("SKU-Z1", { name: "Cup", onHand: 0, reserved: 1 }),
    product("SKU-BIG", { name: "Screws", onHand: 1_000_000_000, reorderPoint: 10 }),
    product("SKU-PO", { name: "Thermos", onHand: 4, reorderPoint: 10 }),
    product("SKU-SN", { name: "Mug", onHand: 2, reorderPoint: 10 }),
  ]);
});

afterAll(async () => {
  await app?.close();
});

const zh = (a: TestApp, identity: string, text: string) => a.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

describe("one unit reserved by open orders", () => {
  it("a count below it reads '1 is reserved' (2 still 'are'); a removal with none on hand reads '1 … waits'", async () => {
    const one = await app.run("shell:sam", "stock adjust SKU-R1 set=0 reason=count");
    expect([one.outcome, one.reply.text]).toEqual(["ok", "SKU-R1 set to 0: on hand 3 → 0, available -1. 1 is reserved by open orders: 1 short, so SKU-R1 shows out of stock."]);
    const two = await app.run("shell:sam", "stock adjust SKU-R2 set=0 reason=count");
    expect(two.reply.text).toBe("SKU-R2 set to 0: on hand 3 → 0, available -2. 2 are reserved by open orders: 2 short, so SKU-R2 shows out of stock.");
    const none = await app.run("shell:sam", "stock adjust SKU-Z1 -1 reason=damaged");
    expect([none.outcome, none.reply.text]).toEqual([
      "user_error",
      "Cannot remove 1 from SKU-Z1: none is on hand (1 reserved by open orders waits for stock), and stock never goes below zero; nothing changed. `stock SKU-Z1` shows its figures.",
    ]);
    // Chinese needs no plural: as before.
    expect((await zh(app, "shell:sam", "stock adjust SKU-Z1 -1 reason=损坏")).reply.text).toContain("在库为 0（未完成订单已预留 1，正等待到货）");
  });
});

describe("stock adjust with large figures", () => {
  it("groups the figures of its replies as the card does, in English and Chinese", async () => {
    const add = await app.run("shell:sam", "stock adjust SKU-BIG +9999999 reason=restock");
    expect([add.outcome, add.reply.text]).toEqual(["ok", "SKU-BIG +9,999,999: on hand 1,000,000,000 → 1,009,999,999, available 1,009,999,999."]);
    // The card the reply should agree with.
    const card = await app.run("shell:sam", "stock SKU-BIG");
    expect(card.reply.fields?.find((f) => f.label === "On hand")?.value).toBe("1,009,999,999");
    const set = await zh(app, "shell:sam", "stock adjust SKU-BIG set=1000000000 reason=盘点");
    expect(set.reply.text).toBe("SKU-BIG 设为 1,000,000,000：在库 1,009,999,999 → 1,000,000,000，可用 1,000,000,000。");
    const same = await app.run("shell:sam", "stock adjust SKU-BIG set=1000000000 reason=count");
    expect(same.reply.text).toBe("SKU-BIG: on hand is already 1,000,000,000; the count matches, nothing changed.");
    const replay = await app.run("shell:sam", "stock adjust SKU-BIG -1000 reason=damaged key=E20-BIG");
    expect(replay.reply.text).toBe("SKU-BIG -1,000: on hand 1,000,000,000 → 999,999,000, available 999,999,000.");
    const again = await app.run("shell:sam", "stock adjust SKU-BIG -1000 reason=damaged key=E20-BIG");
    expect(again.reply.text).toBe("This adjustment (key E20-BIG) was already applied; nothing changed. On hand is 999,999,000.");
    const over = await app.run("shell:sam", "stock adjust SKU-R1 -5000 reason=damaged");
    expect(over.reply.text).toContain("Cannot remove 5,000 from SKU-R1");
  });
});

describe("a PO's quantity typed without qty=", () => {
  it("is answered with the line written with qty=, in English and Chinese; nothing recorded", async () => {
    for (const [line, typed, fixed] of [
      ["stock po SKU-PO eta=+5d 50", "50", "stock po SKU-PO eta=+5d qty=50"],
      ["stock po sku-po eta=2026-12-09 50件", "50件", "stock po SKU-PO eta=2026-12-09 qty=50"],
      ["stock po SKU-PO eta=+5d 50 pcs", "50 pcs", "stock po SKU-PO eta=+5d qty=50"],
    ] as const) {
      const r = await app.run("shell:sam", line);
      expect([r.outcome, r.code], line).toEqual(["user_error", "invalid_args"]);
      expect(r.reply.text, line).toContain(`• "${typed}": a PO's quantity is its own option: \`${fixed}\`. Nothing changed.`);
      expect(r.reply.text, line).not.toContain("unexpected extra argument");
      expect((await app.store.audit.findById(r.ref).lean())?.subject, line).toBe("SKU-PO");
    }
    const z = await zh(app, "shell:sam", "stock po SKU-PO eta=明天 ５０");
    expect(z.reply.text).toContain("• \"５０\"：采购单的数量是单独的选项：`stock po SKU-PO eta=明天 qty=50`。未做任何更改。");
    expect(await app.services.lowStock.state("SKU-PO")).toBeNull();
    // What is no quantity stays an extra argument.
    expect((await app.run("shell:sam", "stock po SKU-PO eta=+5d 0")).reply.text).toContain('unexpected extra argument "0"');
    // Without its eta= no line is written right by adding qty= alone.
    expect((await app.run("shell:sam", "stock po SKU-PO 50")).reply.text).toContain('unexpected extra argument "50"');
    // Written right, it is taken.
    const ok = await app.run("shell:sam", "stock po SKU-PO eta=+5d qty=50");
    expect([ok.outcome, ok.reply.text]).toEqual(["ok", expect.stringMatching(/^PO recorded for SKU-PO \(50 units\), arriving 2026-11-30\./)]);
  });
});

describe("a snooze's duration typed before the SKU", () => {
  it("is answered with the SKU first when the second word is a product, in English and Chinese; nothing snoozed", async () => {
    const r = await app.run("shell:sam", "stock snooze 24h sku-sn");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toBe('Invalid arguments for `stock snooze`:\n• "24h sku-sn": the SKU comes first, then how long: `stock snooze SKU-SN 24h`. Nothing changed.');
    expect((await app.store.audit.findById(r.ref).lean())?.subject).toBe("SKU-SN");
    const z = await zh(app, "shell:sam", "stock snooze 3天 SKU-SN");
    expect(z.reply.text).toContain("• \"3天 SKU-SN\"：先写 SKU，再写时长：`stock snooze SKU-SN 3天`。未做任何更改。");
    expect(await app.services.lowStock.state("SKU-SN")).toBeNull();
    // No product by that name: the duration's own refusal, as before.
    expect((await app.run("shell:sam", "stock snooze 24h SKU-NONE")).reply.text).toContain('"SKU-NONE" is not a duration');
  });
});

describe("stock low on a shop with no products yet", () => {
  it("says there are none yet and how they come in, in English and Chinese", async () => {
    const empty = await withCast(makeTestApp(), { "shell:sam": "staff" });
    try {
      const r = await empty.run("shell:sam", "stock low");
      expect([r.outcome, r.reply.text]).toEqual([
        "ok",
        "There are no products yet, so none is low. Products come in through the products API (`POST /api/v1/products`) or the bulk import (`npm run import -- products <file>`); `stock low` lists the low ones from then on.",
      ]);
      expect((await zh(empty, "shell:sam", "stock low")).reply.text).toBe(
        "还没有任何商品，因此没有低库存商品。商品通过商品 API（`POST /api/v1/products`）或批量导入（`npm run import -- products <文件>`）录入；此后 `stock low` 会列出库存偏低的商品。",
      );
      // With products, none low: as before.
      await empty.store.products.insertMany([product("SKU-OK", { onHand: 500 })]);
      expect((await empty.run("shell:sam", "stock low")).reply.text).toBe("No product is low: every active product is above its reorder point and covers its lead time.");
    } finally {
      await empty.close();
    }
  });
});
