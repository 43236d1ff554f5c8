import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
let zh: TestApp;

beforeAll(async () => {
  app = await makeTestApp(); // 2026-11-25 12:00 in Shanghai
  zh = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
  for (const a of [app, zh]) {
    await a.services.identity.grant("shell:sam", "staff", "shell:admin");
    await a.store.products.insertMany([product("P-OK", { onHand: 50, reorderPoint: 10 }), product("P-LOW", { onHand: 4, reorderPoint: 10 })]);
  }
});
afterAll(async () => {
  await app.close();
  await zh.close();
});

describe("stock snooze on a product that is not low", () => {
  it("says it is not low now (available, reorder point), not that it alerts again 'if still low'; a low one keeps the usual reply", async () => {
    const r = await app.run("shell:sam", "stock snooze P-OK 3d");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe(
      "Low-stock alerts for P-OK are snoozed until 2026-11-28 12:00 GMT+8. It is not low now (50 available, reorder point 10): if it runs low before then, its alert waits until that time. Selling out before 2026-11-28 12:00 GMT+8 is still announced.",
    );
    expect((await app.services.lowStock.state("P-OK"))?.state).toBe("snoozed");
    const low = await app.run("shell:sam", "stock snooze P-LOW 3d");
    expect(low.reply.text).toMatch(/^Low-stock alerts for P-LOW are snoozed until 2026-11-28 12:00 GMT\+8; it alerts again then if it is still low\./);

    const z = await zh.run("shell:sam", "stock snooze p-ok 3天");
    expect(z.outcome).toBe("ok");
    expect(z.reply.text).toMatch(/^P-OK 的低库存提醒已暂停至 2026-11-28 12:00 GMT\+8。该商品目前并不偏低（可用 50，补货点 10）：在此之前若变为偏低，提醒会推迟到届时。/);
  });
});

describe("stock po over another PO", () => {
  it("names the PO it replaces (another date or quantity); the same PO recorded again names none", async () => {
    expect((await app.run("shell:sam", "stock po P-LOW eta=2026-12-01 qty=40")).outcome).toBe("ok");
    const again = await app.run("shell:sam", "stock po P-LOW eta=2026-12-01 qty=40");
    expect(again.reply.text).not.toMatch(/replaces/);
    const r = await app.run("shell:admin", "stock po P-LOW eta=2026-12-03 qty=60");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe(
      "PO recorded for P-LOW (60 units), arriving 2026-12-03. Low-stock alerts for it wait until 2026-12-04 00:00 GMT+8. It replaces the PO (40 units) arriving 2026-12-01 recorded by shell:sam: a product keeps one PO on record. Selling out before 2026-12-04 00:00 GMT+8 is still announced.",
    );
    expect((await app.services.lowStock.state("P-LOW"))?.po).toMatchObject({ eta: "2026-12-03", qty: 60, by: "shell:admin" });

    expect((await zh.run("shell:sam", "stock po P-LOW eta=2026-12-01")).outcome).toBe("ok");
    const z = await zh.run("shell:sam", "stock po P-LOW eta=2026-12-02 qty=5");
    expect(z.reply.text).toContain("它取代了 shell:sam 记录的采购单（预计 2026-12-01 到货）：每个商品只保留一张采购单记录。");
  });
});
