/**
 * The e22 Discord pass, as a support agent and a manager using slash commands (real discord.js
 * against the local peer): what a member sees when answering fails, a chart that takes long,
 * and the command picker of a Chinese-speaking shop.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { App } from "../src/app.js";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/core/logger.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { paidOrder, product } from "./helpers/app.js";

const leads = discordRole("Leads", "manager");
const mia = leads.member("Mia");
const max = leads.member("Max", "zh-CN");
let bot: DiscordHarness;

beforeAll(async () => {
  const seed = async (a: App) => {
    await a.store.products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 40 })]);
    await a.store.orders.insertMany([paidOrder("ORD-100001", 50_000), paidOrder("ORD-100002", 20_000, "2026-11-24T02:00:00Z")] as never);
  };
  bot = await discordHarness({ role: leads, seed, start: true });
});
afterAll(() => bot?.stop());

/** The interaction callbacks of interaction `id` so far. */
const callbacks = (id: string) => bot.peer.find("POST", new RegExp(`^/interactions/${id}/[^/]+/callback$`));

describe("when answering fails", () => {
  it("a reply Discord refuses is followed by a private 'went wrong on our side' with a reference, in the member's language, not silence", async () => {
    bot.peer.failNext(/^POST \/interactions\/\d+\/[^/]+\/callback$/, 400, { message: "Invalid Form Body", code: 50035 });
    const ix = bot.peer.slash(mia, "stock show", { query: "SKU-1001" });
    await vi.waitFor(() => expect(callbacks(ix.id)).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const told = callbacks(ix.id)[1]!.body;
    expect(told.type).toBe(4);
    expect(told.data.flags & 64).toBe(64);
    expect(JSON.stringify(told.data)).toMatch(/Something went wrong on our side\. Reference: [A-Z0-9]{6,}\./);
    expect(JSON.stringify(told.data)).not.toMatch(/Invalid Form Body|DiscordAPIError|at .*\.ts/);

    bot.peer.failNext(/^POST \/interactions\/\d+\/[^/]+\/callback$/, 400, { message: "Invalid Form Body", code: 50035 });
    const zh = bot.peer.slash(max, "stock show", { query: "SKU-1001" });
    await vi.waitFor(() => expect(callbacks(zh.id)).toHaveLength(2), { timeout: 15_000, interval: 100 });
    expect(JSON.stringify(callbacks(zh.id)[1]!.body.data)).toMatch(/系统出错了。参考编号：[A-Z0-9]{6,}。/);
  });

  it("a button whose answer Discord refuses is followed by the same private word to the presser", async () => {
    const ix = bot.peer.slash(max, "refund request", { "order-no": "ORD-100001", amount: "20.00", reason: "lid cracked" });
    const card = bot.peer.message(bot.peer.channelId, await bot.answer(ix.id));
    const id = /R-\w+/.exec(JSON.stringify(card.embeds))![0];
    bot.peer.failNext(/^POST \/interactions\/\d+\/[^/]+\/callback$/, 400, { message: "Invalid Form Body", code: 50035 });
    const press = bot.peer.press(mia, card, `refund approve ${id}`);
    await vi.waitFor(() => expect(callbacks(press.id)).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const told = callbacks(press.id)[1]!.body;
    expect(told.type).toBe(4);
    expect(told.data.flags & 64).toBe(64);
    expect(JSON.stringify(told.data)).toMatch(/Something went wrong on our side\. Reference: [A-Z0-9]{6,}\./);
  });
});

describe("a reply with a chart", () => {
  it("/digest show is acknowledged privately before its work starts, then the member gets it privately with its PNG (the placeholder private too)", async () => {
    const ix = bot.peer.slash(mia, "digest show", { day: "yesterday" });
    const first = await bot.peer.callback(ix.id, 60_000);
    // Deferred ("shopops is thinking…", to the member alone), not answered late: Discord drops an answer after 3 s.
    expect(first.body.type).toBe(5);
    expect(first.body.data.flags & 64).toBe(64);
    const digest = await bot.peer.waitFor("PATCH", new RegExp(`^/webhooks/\\d+/itoken-${ix.id}/messages/@original$`), 200_000);
    expect(digest.body.embeds[0].title).toBe("Daily digest: 2026-11-24");
    expect(digest.body.embeds[0].image.url).toBe("attachment://digest-2026-11-24.png");
    expect(digest.files.map((f) => f.filename)).toEqual(["digest-2026-11-24.png"]);
  }, 240_000); // the chart alone has taken 50 s on a loaded machine
});

describe("the command picker of a Chinese-speaking shop (SHOP_LOCALE=zh-CN)", () => {
  type Opt = { name: string; description: string; description_localizations?: Record<string, string>; choices?: { name: string; value: string; name_localizations?: Record<string, string> }[]; options?: Opt[] };
  /** The application commands an adapter for a shop in `locale` registers. */
  const definitions = async (locale: "en" | "zh-CN") => {
    const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOP_LOCALE: locale, DISCORD_TOKEN: "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.harness-0123456789", DISCORD_APPLICATION_ID: "123456789012345678", DISCORD_GUILD_ID: bot.peer.guildId });
    const adapter = new DiscordAdapter({ core: bot.app.core, services: bot.app.services, commands: bot.app.commands, config, discord: config.discord!, logger: silentLogger, api: bot.peer.api, outboxIntervalMs: 0 });
    await adapter.client.destroy();
    return adapter.commandSet.definitions as unknown as Opt[];
  };
  const sub = (defs: Opt[], top: string, name: string) => defs.find((d) => d.name === top)!.options!.find((o) => o.name === name)!;

  it("shows descriptions and choices in Chinese to a member whose Discord is in neither language, as the replies answer them; English ones get English", async () => {
    const defs = await definitions("zh-CN");
    const stock = defs.find((d) => d.name === "stock")!;
    expect(stock.description).toBe("查看商品库存：在库、已预留、可用、补货点、可售天数");
    expect(stock.description_localizations).toEqual({ "en-US": "Show a product's stock: on hand, reserved, available, reorder point, days of cover", "en-GB": "Show a product's stock: on hand, reserved, available, reorder point, days of cover" });
    const severity = sub(defs, "complaint", "new").options!.find((o) => o.name === "severity")!;
    expect(severity.description).toBe("严重程度，例如 高");
    expect(severity.description_localizations!["en-US"]).toBe("severity, e.g. high");
    expect(severity.choices!.find((c) => c.value === "urgent")).toEqual({ name: "紧急", value: "urgent", name_localizations: { "en-US": "urgent", "en-GB": "urgent" } });
    expect(defs.find((d) => d.name === "refund")!.description).toBe("refund 相关命令");
  });

  it("an English-speaking shop keeps English descriptions with Chinese localizations", async () => {
    const defs = await definitions("en");
    const stock = defs.find((d) => d.name === "stock")!;
    expect(stock.description).toBe("Show a product's stock: on hand, reserved, available, reorder point, days of cover");
    expect(stock.description_localizations!["zh-CN"]).toBe("查看商品库存：在库、已预留、可用、补货点、可售天数");
    const severity = sub(defs, "complaint", "new").options!.find((o) => o.name === "severity")!;
    expect(severity.choices!.find((c) => c.value === "urgent")).toEqual({ name: "urgent", value: "urgent", name_localizations: { "zh-CN": "紧急", "zh-TW": "紧急" } });
  });
});

describe("suggestions before anything is typed", () => {
  it("offer the latest orders, complaints and refund requests first, not the shop's oldest; typing still narrows them (order numbers: the latest of those matching)", async () => {
    const sue = leads.member("Sue");
    const offered = async (command: string, option: string, typed: string) => (await bot.peer.callback(bot.peer.autocomplete(sue, command, { [option]: typed }, option).id)).body.data.choices.map((c: { value: string }) => c.value);
    // ORD-100002 was placed on 24 Nov, ORD-100001 on 20 Nov.
    expect(await offered("order show", "order-no", "")).toEqual(["ORD-100002", "ORD-100001"]);
    expect(await offered("refund request", "order-no", "1000")).toEqual(["ORD-100002", "ORD-100001"]);
    expect(await offered("order show", "order-no", "ord-100001")).toEqual(["ORD-100001"]);
    const filed = async (text: string) => {
      const r = await bot.app.services.complaints.create({ text, by: "shell:admin" });
      return r.kind === "created" ? r.complaint._id : "";
    };
    const [older, newer] = [await filed("Late parcel"), await filed("Wrong colour")];
    await bot.app.store.complaints.updateOne({ _id: older }, { $set: { createdAt: new Date("2026-11-20T02:00:00Z") } });
    expect(await offered("complaint show", "id", "")).toEqual([newer, older]);
    const asked = async () => {
      const r = await bot.app.services.refund.request({ orderNo: "ORD-100002", amount: "10", reason: "scratched", requester: "shell:sam" });
      return r.kind === "created" ? r.request._id : "";
    };
    // The one asked earlier is the one whose id sorts first, so key order alone would put it first.
    const [earlier, later] = [await asked(), await asked()].sort();
    await bot.app.store.refundRequests.updateOne({ _id: earlier }, { $set: { requestedAt: new Date("2026-11-24T02:00:00Z") } });
    expect(await offered("refund approve", "id", "ord-100002")).toEqual([later, earlier]);
  });
});
