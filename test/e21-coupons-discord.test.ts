/**
 * The e21 coupon pass on Discord (real discord.js against the local peer; see e21-coupons.test.ts):
 * `value:满100减20` is answered naming the two options it is, value= and min=, to the member alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { product } from "./helpers/app.js";

const marketing = discordRole("Marketing", "manager");
const li = marketing.member("Li", "zh-CN");
let bot: DiscordHarness;

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("SKU-D", { price: 10_000, cost: 4_000, onHand: 1_000 })]);
  bot = await discordHarness({ role: marketing, seed, start: true });
});
afterAll(() => bot?.stop());

describe("on Discord", () => {
  it("`value:满100减20` names value= and min=, to the member alone; nothing is previewed", async () => {
    const a = await bot.answer(bot.peer.slash(li, "coupon launch", { code: "MJ40", type: "fixed", value: "满100减20" }).id);
    expect(a.flags & 64).toBe(64);
    expect(JSON.stringify(a)).toContain('固定折扣 \\"满100减20\\"：即满 100 减 20，请把折扣和最低消费分开写：`/coupon launch code:MJ40 type:fixed value:20 min:100`');
    expect(await bot.app.store.couponDrafts.countDocuments()).toBe(0);
  });
});
