/**
 * The e22 coupon-lines pass on Discord (real discord.js against the local peer; see
 * e22-coupon-lines.test.ts): a refusal that says how to write the coupon gives the whole
 * corrected line as a member types it (`/coupon launch … value:20 min:100`), not `value=20 min=100`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { product } from "./helpers/app.js";

const marketing = discordRole("Marketing", "manager");
const li = marketing.member("Li", "zh-CN");
const ann = marketing.member("Ann", "en-US");
let bot: DiscordHarness;

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("SKU-D", { price: 10_000, cost: 4_000, onHand: 1_000 })]);
  bot = await discordHarness({ role: marketing, seed, start: true });
});
afterAll(() => bot?.stop());

describe("on Discord", () => {
  it("the corrected line is shown as a member types it (`/coupon launch … value:20 min:100`), to the member alone; nothing is previewed", async () => {
    const a = await bot.answer(bot.peer.slash(li, "coupon launch", { code: "MJ40", type: "fixed", value: "满100减20" }).id);
    expect(a.flags & 64).toBe(64);
    expect(JSON.stringify(a)).toContain("请把折扣和最低消费分开写：`/coupon launch code:MJ40 type:fixed value:20 min:100`");
    const b = await bot.answer(bot.peer.slash(ann, "coupon launch", { code: "ZHE8", type: "fixed", value: "8折", min: "100" }).id);
    expect(JSON.stringify(b)).toContain("(8折 is 20% off: `/coupon launch code:ZHE8 type:percent value:20 min:100`)");
    expect(await bot.app.store.couponDrafts.countDocuments()).toBe(0);
  });
});
