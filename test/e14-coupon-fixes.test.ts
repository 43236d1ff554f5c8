import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, localDay } from "../src/core/format.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** salesByDay with `perDay` units on each of the 28 days before the test clock's shop day. */
function sales(perDay: number): Map<string, number> {
  const today = localDay(app.clock.now(), app.config.timeZone);
  return new Map(Array.from({ length: 28 }, (_, i) => [addDays(today, -(i + 1)), perDay] as const));
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  // Seven toys that sell 10 a day with 1..7 in stock: all short for a week's promotion.
  await app.store.products.insertMany(Array.from({ length: 7 }, (_, i) => product(`SKU-T${i + 1}`, { category: "Toys", onHand: i + 1, salesByDay: sales(10) })));
});
afterAll(() => app.close());

describe("the preview's stock warning when more products are short than it names", () => {
  it("says the five it names are the shortest of all of them, in English and Chinese", async () => {
    const r = await app.run("shell:max", "coupon launch code=TOYS10 type=percent value=10 end=+7d categories=toys");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toContain(
      "⚠ 7 targeted products may run out: stock would not cover usual sales plus the expected uplift (the 5 shortest: SKU-T1: 1 available, about 91 expected; SKU-T2: 2 available, about 91 expected; SKU-T3: 3 available, about 91 expected; SKU-T4: 4 available, about 91 expected; SKU-T5: 5 available, about 91 expected).",
    );
    const zh = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon launch code=TOYS11 type=percent value=10 end=+7d categories=toys", locale: "zh-CN" });
    expect(zh.reply.text).toContain("7 个商品可能缺货：库存不足以覆盖常规销量加预期增量（缺口最大的 5 个：SKU-T1：可用 1，预计约 91；");
  });
});
