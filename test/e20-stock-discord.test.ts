/**
 * The e20 stock pass on Discord (real discord.js against the local peer; see e20-stock.test.ts):
 * a quantity typed with a word for pieces is answered with the command as members type it, and a
 * PO recorded again by a colleague is said to be on record already, to that member alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { product } from "./helpers/app.js";

const ops = discordRole("Ops", "staff");
const sam = ops.member("Sam");
const li = ops.member("Li", "zh-CN");
let bot: DiscordHarness;

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("SKU-D", { onHand: 3, reorderPoint: 10 })]);
  bot = await discordHarness({ role: ops, seed, start: true });
});
afterAll(() => bot?.stop());

describe("on Discord", () => {
  it("`delta:+5件` is answered with the command as members type it; a PO pressed again by a colleague is on record already", async () => {
    const en = await bot.answer(bot.peer.slash(sam, "stock adjust", { sku: "SKU-D", delta: "+5件", reason: "restock" }).id);
    expect(JSON.stringify(en)).toContain("stock is counted in units, so a quantity is the number alone, without a unit: `/stock adjust sku:SKU-D delta:+5 reason:restock`");
    const z = await bot.answer(bot.peer.slash(li, "stock adjust", { sku: "SKU-D", delta: "+5件", reason: "补货" }).id);
    expect(JSON.stringify(z)).toContain("库存按件计数，数量只写数字、不带单位：`/stock adjust sku:SKU-D delta:+5 reason:补货`");
    expect((await bot.app.store.products.findById("SKU-D").lean())?.onHand).toBe(3);

    const first = await bot.answer(bot.peer.slash(sam, "stock po", { sku: "SKU-D", eta: "2026-12-09", qty: 30 }).id);
    expect(JSON.stringify(first)).toContain("PO recorded for SKU-D (30 units)");
    const again = await bot.answer(bot.peer.slash(li, "stock po", { sku: "SKU-D", eta: "2026-12-09", qty: 30 }).id);
    expect(again.flags & 64).toBe(64); // to the member alone
    expect(JSON.stringify(again)).toContain(`预计 2026-12-09 到货的采购单（30 件）已有记录（由 discord:${sam.id} 记录）：未作更改。`);
    expect((await bot.app.services.lowStock.state("SKU-D"))?.po).toMatchObject({ qty: 30, by: `discord:${sam.id}` });
  });
});
