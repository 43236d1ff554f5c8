/**
 * The Discord adapter against a local Discord (test/peers/discord-peer.ts): the
 * real discord.js client logs in over REST and the gateway WebSocket, registers
 * the generated commands, and answers slash commands, buttons and autocomplete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../src/app.js";
import { loadConfig, type Config } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { paidOrder, product } from "./helpers/app.js";
import { DiscordPeer, nextId, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.test-token-never-logged-0123456789";
const APP_ID = nextId();
const STAFF_ROLE = nextId();
const MANAGER_ROLE = nextId();

const staff: PeerUser = { id: nextId(), username: "Sam", roles: [STAFF_ROLE] };
const manager: PeerUser = { id: nextId(), username: "Mia", roles: [MANAGER_ROLE] };
const viewer: PeerUser = { id: nextId(), username: "Vic", roles: [] };
const manager2: PeerUser = { id: nextId(), username: "Max", roles: [MANAGER_ROLE] };

// A command that offers a stock action as a button, and one whose work the test holds open.
let release: () => void = () => {};
const offer = defineCommand({
  name: "restock-offer",
  description: "cmd.stock",
  positional: ["sku"],
  args: z.object({ sku: z.string() }),
  examples: ["restock-offer SKU-1001"],
  permission: "viewer",
  mutates: false,
  async handler({ args }) {
    return {
      title: `Restock ${args.sku}?`,
      status: "info",
      actions: [
        { id: `stock adjust ${args.sku} +5 reason=restock`, label: "Add 5", style: "primary" },
        { id: `stock adjust ${args.sku} -1 reason=shrinkage`, label: "Remove 1" },
      ],
      visibility: "public",
    };
  },
});
const slow = defineCommand({
  name: "slow",
  description: "cmd.stock",
  args: z.object({ private: z.boolean().default(false) }),
  examples: ["slow", "slow --private"],
  permission: "viewer",
  mutates: false,
  async handler({ args }) {
    await new Promise<void>((resolve) => (release = resolve));
    return { title: "Finished", status: "ok", visibility: args.private ? "ephemeral" : "public" };
  },
});

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let config: Config;
let adapter: DiscordAdapter;
let commands: Command[];
const logs: string[] = [];

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [{ id: STAFF_ROLE, name: "Ops" }, { id: MANAGER_ROLE, name: "Leads" }], heartbeatMs: 500 });
  await peer.start();
  db = await connectTestDb();
  config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_ROLE_MAP: `${STAFF_ROLE}:staff, ${MANAGER_ROLE}:manager`,
  });
  commands = [...(await commandsOnce()), offer as unknown as Command, slow as unknown as Command];
  const logger = createLogger("debug", {}, (line) => logs.push(line));
  app = await createApp({ config, conn: db.conn, clock: new FixedClock("2026-11-25T04:00:00Z"), logger, commands });
  await app.store.products.insertMany([
    product("SKU-1001", { name: "Wireless Mouse", onHand: 40 }),
    product("SKU-1002", { name: "不锈钢保温杯 500ml", onHand: 8 }),
    product("SKU-2001", { name: "Button Widget", onHand: 10 }),
    product("TEA-1", { name: "Green tea", onHand: 3 }),
  ]);
  adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger, api: peer.api, outboxIntervalMs: 0 });
  await adapter.start();
});

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

const onHand = async (sku: string) => (await app.store.products.findById(sku).lean())!.onHand;

describe("command registration", () => {
  it("registers the generated commands to the server in one bulk PUT, with the bot token", async () => {
    const puts = peer.find("PUT", /commands$/);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.path).toBe(`/applications/${APP_ID}/guilds/${peer.guildId}/commands`);
    expect(puts[0]!.authorization).toBe(`Bot ${TOKEN}`);
    const defs = puts[0]!.body as { name: string; description_localizations: Record<string, string>; default_member_permissions: string | null; options: any[] }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const stock = defs.find((d) => d.name === "stock")!;
    expect(stock.default_member_permissions).toBeNull();
    expect(stock.description_localizations["zh-CN"]).toMatch(/库存/);
    expect(stock.options.map((o) => o.name).sort()).toEqual(["adjust", "low", "po", "show", "snooze"]);
    const adjust = stock.options.find((o) => o.name === "adjust");
    expect(adjust.options.map((o: { name: string; required: boolean }) => [o.name, o.required])).toEqual([
      ["sku", true],
      ["reason", true],
      ["delta", false],
      ["set", false],
      ["key", false],
    ]);
    expect(adjust.options[0].autocomplete).toBe(true);
    // A change (+5, -2) or a counted level: set is a whole number from 0.
    expect(adjust.options.find((o: { name: string }) => o.name === "set")).toMatchObject({ type: 4, min_value: 0 });
    const low = stock.options.find((o) => o.name === "low");
    expect(low.options[0]).toMatchObject({ name: "limit", type: 4, min_value: 1, max_value: 50, required: false });
    // No command is hidden by Discord's permission flags: a manager or admin by DISCORD_ROLE_MAP
    // (who need not have Manage Server) can run /audit and /role; the core checks each call.
    expect(defs.every((d) => d.default_member_permissions === null)).toBe(true);
    // Booleans are true/false options.
    expect(defs.find((d) => d.name === "slow")!.options[0]).toMatchObject({ name: "private", type: 5, required: false });
    const grant = defs.find((d) => d.name === "role")!.options.find((o) => o.name === "grant");
    expect(grant.options[1].choices.map((c: { value: string }) => c.value)).toEqual(["viewer", "staff", "support", "manager", "admin"]);
  });

  it("does not register again when the definitions are unchanged, even after a restart", async () => {
    expect(await adapter.registerCommands()).toBe("unchanged");
    const restarted = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: createLogger("error", {}, () => {}), api: peer.api, outboxIntervalMs: 0 });
    expect(await restarted.registerCommands()).toBe("unchanged");
    await restarted.stop();
    expect(peer.find("PUT", /commands$/)).toHaveLength(1);
  });

  it("registering per server removes the global commands it registered before (each would show twice)", async () => {
    const applicationId = config.discord!.applicationId;
    // An earlier start without DISCORD_GUILD_ID registered them globally.
    await app.store.meta.updateOne({ _id: `discord.commands:${applicationId}:global` }, { $set: { value: { hash: "old" } } }, { upsert: true });
    await app.store.meta.deleteOne({ _id: `discord.commands:${applicationId}:${config.discord!.guildId}` });
    const globalPuts = () => peer.find("PUT", new RegExp(`^/applications/${applicationId}/commands$`));
    expect(globalPuts()).toHaveLength(0);
    expect(await adapter.registerCommands()).toBe("registered");
    expect(globalPuts()).toHaveLength(1);
    expect(globalPuts()[0]!.body).toEqual([]);
    expect(await app.store.meta.exists({ _id: `discord.commands:${applicationId}:global` })).toBeNull();
    // Nothing more to remove on the next registration.
    await app.store.meta.deleteOne({ _id: `discord.commands:${applicationId}:${config.discord!.guildId}` });
    await adapter.registerCommands();
    expect(globalPuts()).toHaveLength(1);
    // Back to per-server after a global spell, with this server's commands unchanged: the global
    // ones still go.
    await app.store.meta.updateOne({ _id: `discord.commands:${applicationId}:global` }, { $set: { value: { hash: "old" } } }, { upsert: true });
    expect(await adapter.registerCommands()).toBe("unchanged");
    expect(globalPuts()).toHaveLength(2);
  });
});

describe("slash commands", () => {
  it("runs /stock adjust end to end as the member's identity, with a guild role granting staff", async () => {
    const ix = peer.slash(staff, "stock adjust", { sku: "SKU-1001", delta: "-2", reason: "damaged in transit" });
    const cb = await peer.callback(ix.id);
    expect(cb.body.type).toBe(4);
    const embed = cb.body.data.embeds[0];
    expect(embed.title).toContain("SKU-1001");
    expect(embed.color).toBe(0x57f287);
    expect(embed.footer.text).toBe("2026-11-25 12:00 GMT+8");
    expect(cb.body.data.flags ?? 0).toBe(0); // public
    expect(await onHand("SKU-1001")).toBe(38);
    // The value with spaces reached the core as one argument.
    const ledger = await app.store.ledger.findOne({ sku: "SKU-1001" }).lean();
    expect(ledger).toMatchObject({ reason: "damaged in transit", delta: -2, actor: `discord:${staff.id}` });
    const audit = await app.store.audit.findOne({ command: "stock adjust" }).lean();
    expect(audit).toMatchObject({ actor: `discord:${staff.id}`, platform: "discord", outcome: "ok" });
  });

  it("an interaction whose replay marker cannot be written is still answered, not left to time out", async () => {
    // The fault injected where the database would fail: the marker's write.
    const markers = app.services.markers as unknown as { claim: (...a: unknown[]) => Promise<unknown> };
    const claim = markers.claim;
    markers.claim = () => Promise.reject(new Error("connection pool closed"));
    await app.store.products.insertMany([product("SKU-MK1", { onHand: 5 })]);
    try {
      const cb = await peer.callback(peer.slash(staff, "stock adjust", { sku: "SKU-MK1", delta: "+1", reason: "recount" }).id);
      expect(cb.body.data.embeds[0].title).toContain("SKU-MK1");
      expect(await onHand("SKU-MK1")).toBe(6);
      // A button pressed meanwhile is answered too.
      const offer = await peer.callback(peer.slash(viewer, "restock-offer", { sku: "SKU-MK1" }).id);
      const message = peer.message(peer.channelId, offer.body.data);
      const pressed = await peer.callback(peer.press(staff, message, "stock adjust SKU-MK1 +5 reason=restock").id);
      expect(pressed.body.type).toBe(7);
      expect(await onHand("SKU-MK1")).toBe(11);
    } finally {
      markers.claim = claim;
    }
  });

  it("refuses a member without the role with an ephemeral reply, and changes nothing", async () => {
    const ix = peer.slash(viewer, "stock adjust", { sku: "SKU-1001", delta: "-5", reason: "oops" });
    const cb = await peer.callback(ix.id);
    expect(cb.body.data.flags & 64).toBe(64);
    expect(cb.body.data.embeds[0].description).toMatch(/staff/);
    expect(cb.body.data.embeds[0].color).toBe(0xed4245);
    expect(await onHand("SKU-1001")).toBe(38);
  });

  it("answers in the member's language", async () => {
    const ix = peer.slash({ ...viewer, locale: "zh-CN" }, "stock show", { query: "SKU-1002" });
    const cb = await peer.callback(ix.id);
    const names = cb.body.data.embeds[0].fields.map((f: { name: string }) => f.name);
    expect(names).toContain("可用");
  });

  it("answers any Chinese (zh-TW too) in Chinese, by the rule the Slack adapter follows; English and others by theirs or the shop's", async () => {
    const named = async (locale: string) => (await peer.callback(peer.slash({ ...viewer, locale }, "stock show", { query: "SKU-1002" }).id)).body.data.embeds[0].fields.map((f: { name: string }) => f.name);
    expect(await named("zh-TW")).toContain("可用");
    for (const locale of ["en-GB", "fr"]) expect(await named(locale), locale).toContain("Available");
  });

  it("defers a command that takes long and edits the reply when it is done", async () => {
    const ix = peer.slash(viewer, "slow");
    const deferred = await peer.callback(ix.id);
    expect(deferred.body.type).toBe(5);
    release();
    const edit = await peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${ix.id}/messages/@original$`));
    expect(edit.body.embeds[0].title).toBe("Finished");
  });

  it("turns a deferred reply that should be private into an ephemeral follow-up", async () => {
    const ix = peer.slash(viewer, "slow", { private: true });
    expect((await peer.callback(ix.id)).body.type).toBe(5);
    release();
    await peer.waitFor("DELETE", new RegExp(`^/webhooks/${APP_ID}/itoken-${ix.id}/messages/@original$`));
    const follow = await peer.waitFor("POST", new RegExp(`^/webhooks/${APP_ID}/itoken-${ix.id}$`));
    expect(follow.body.flags & 64).toBe(64);
    expect(follow.body.embeds[0].title).toBe("Finished");
  });

  it("suggests SKUs while the member types", async () => {
    const ix = peer.autocomplete(staff, "stock adjust", { sku: "sku-10" }, "sku");
    const cb = await peer.callback(ix.id);
    expect(cb.body.type).toBe(8);
    expect(cb.body.data.choices).toEqual([
      { name: "SKU-1001 · Wireless Mouse", value: "SKU-1001" },
      { name: "SKU-1002 · 不锈钢保温杯 500ml", value: "SKU-1002" },
    ]);
    const byName = peer.autocomplete(staff, "stock show", { query: "tea" }, "query");
    expect((await peer.callback(byName.id)).body.data.choices).toEqual([{ name: "TEA-1 · Green tea", value: "TEA-1" }]);
  });

  it("suggests nothing to a member whose role may not run the command (the core decides)", async () => {
    // A viewer may look stock up, but not adjust it: no SKUs offered for `stock adjust`.
    const denied = peer.autocomplete(viewer, "stock adjust", { sku: "sku-10" }, "sku");
    expect((await peer.callback(denied.id)).body.data.choices).toEqual([]);
    const lookup = peer.autocomplete(viewer, "stock show", { query: "tea" }, "query");
    expect((await peer.callback(lookup.id)).body.data.choices).toEqual([{ name: "TEA-1 · Green tea", value: "TEA-1" }]);
  });
});

describe("buttons", () => {
  /** Posts the offer and returns the message as Discord would hold it. */
  async function offerMessage(): Promise<Record<string, unknown>> {
    const ix = peer.slash(viewer, "restock-offer", { sku: "SKU-2001" });
    const cb = await peer.callback(ix.id);
    expect(cb.body.data.components[0].components.map((b: { custom_id: string }) => b.custom_id)).toEqual([
      "stock adjust SKU-2001 +5 reason=restock",
      "stock adjust SKU-2001 -1 reason=shrinkage",
    ]);
    return peer.message(peer.channelId, cb.body.data);
  }

  it("runs the button's command, updates the message with the outcome and who acted, and ignores double clicks and replays", async () => {
    const message = await offerMessage();
    const press = peer.press(staff, message, "stock adjust SKU-2001 +5 reason=restock");
    const cb = await peer.callback(press.id);
    expect(cb.body.type).toBe(7); // update the message
    const [original, outcome] = cb.body.data.embeds;
    expect(original.title).toBe("Restock SKU-2001?");
    expect(outcome.footer.text).toContain("Add 5 by Sam");
    expect(cb.body.data.components[0].components.every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(await onHand("SKU-2001")).toBe(15);

    // A double click (a new interaction on the same message) changes nothing.
    const again = peer.press(staff, message, "stock adjust SKU-2001 +5 reason=restock");
    const cb2 = await peer.callback(again.id);
    expect(cb2.body.type).toBe(4);
    expect(cb2.body.data.flags & 64).toBe(64);
    expect(cb2.body.data.content).toMatch(/already pressed/);

    // A replay of the same interaction gets no second answer and changes nothing.
    peer.press(staff, message, "stock adjust SKU-2001 +5 reason=restock", press.id);
    const after = peer.slash(viewer, "stock show", { query: "SKU-2001" });
    await peer.callback(after.id);
    expect(peer.find("POST", new RegExp(`^/interactions/${press.id}/`))).toHaveLength(1);
    expect(await onHand("SKU-2001")).toBe(15);
    expect(await app.store.ledger.countDocuments({ sku: "SKU-2001" })).toBe(1);
  });

  it("a press in a DM (no member in the interaction) takes the roles from the configured server", async () => {
    const message = await offerMessage();
    const before = await onHand("SKU-2001");
    // Sam is staff only through his server role (DISCORD_ROLE_MAP).
    const cb = await peer.callback(peer.pressInDm(staff, message, "stock adjust SKU-2001 -1 reason=shrinkage").id);
    expect(cb.body.type).toBe(7);
    expect(await onHand("SKU-2001")).toBe(before - 1);
    // Someone without the role is still refused.
    const refused = await peer.callback(peer.pressInDm(viewer, await offerMessage(), "stock adjust SKU-2001 +5 reason=restock").id);
    expect(refused.body.data.flags & 64).toBe(64);
    await app.services.stock.adjust({ sku: "SKU-2001", delta: 1, reason: "test reset", actor: "shell:admin", key: "dm-test-reset" });
  });

  it("an alert about several products: a press disables that product's buttons only, and earlier presses stay disabled", async () => {
    const btn = (custom_id: string, style: number) => ({ type: 2, custom_id, label: custom_id.split(" ").slice(0, 3).join(" "), style });
    const alert = peer.message(peer.channelId, {
      embeds: [{ title: "2 products are low" }],
      components: [{ type: 1, components: [btn("stock snooze SKU-1001 24h", 2), btn("stock po SKU-1001 eta=2026-12-02 qty=5", 1), btn("stock snooze TEA-1 24h", 2), btn("stock po TEA-1 eta=2026-12-02 qty=5", 1)] }],
    });
    const first = await peer.callback(peer.press(staff, alert, "stock snooze SKU-1001 24h").id);
    expect(first.body.type).toBe(7);
    const state = (data: { components: { components: { custom_id: string; disabled?: boolean; style: number }[] }[] }) =>
      data.components.flatMap((r) => r.components).map((c) => [c.custom_id.split(" ").slice(0, 3).join(" "), !!c.disabled, c.style]);
    expect(state(first.body.data)).toEqual([["stock snooze SKU-1001", true, 2], ["stock po SKU-1001", true, 1], ["stock snooze TEA-1", false, 2], ["stock po TEA-1", false, 1]]);
    const second = await peer.callback(peer.press(staff, { ...peer.message(peer.channelId, first.body.data), id: alert.id }, "stock snooze TEA-1 24h").id);
    expect(state(second.body.data)).toEqual([["stock snooze SKU-1001", true, 2], ["stock po SKU-1001", true, 1], ["stock snooze TEA-1", true, 2], ["stock po TEA-1", true, 1]]);
  });

  it("refuses a member without the role privately and leaves the message as it was", async () => {
    const message = await offerMessage();
    const press = peer.press(viewer, message, "stock adjust SKU-2001 -1 reason=shrinkage");
    const cb = await peer.callback(press.id);
    expect(cb.body.type).toBe(4);
    expect(cb.body.data.flags & 64).toBe(64);
    expect(cb.body.data.embeds[0].description).toMatch(/staff/);
    expect(await onHand("SKU-2001")).toBe(15);
    // Once a manager presses it, it works: the refusal did not use up the button.
    const ok = await peer.callback(peer.press(manager, message, "stock adjust SKU-2001 -1 reason=shrinkage").id);
    expect(ok.body.type).toBe(7);
    expect(await onHand("SKU-2001")).toBe(14);
  });
});

describe("server allowlist (DISCORD_GUILD_IDS, here DISCORD_GUILD_ID alone)", () => {
  // The bot added to someone else's server (Public Bot is on by default): even a member whose
  // role id is mapped to manager there runs nothing.
  const OTHER_GUILD = nextId();
  const stranger: PeerUser = { id: nextId(), username: "Eve", roles: [MANAGER_ROLE], guildId: OTHER_GUILD };

  it("allows only the configured server", () => {
    expect(config.discord!.guildIds).toEqual([peer.guildId]);
  });

  it("refuses commands, buttons and suggestions from another server, privately, and runs nothing", async () => {
    const stock = await onHand("SKU-1001");
    const audits = await app.store.audit.countDocuments({});
    for (const ix of [peer.slash(stranger, "stock show", { query: "SKU-1001" }), peer.slash(stranger, "stock adjust", { sku: "SKU-1001", delta: "-5", reason: "mine now" })]) {
      const cb = await peer.callback(ix.id);
      expect(cb.body.type).toBe(4);
      expect(cb.body.data.flags & 64).toBe(64);
      expect(cb.body.data.content).toBe("This server is not set up for shopops (DISCORD_GUILD_IDS); ask the shop's admin.");
      expect(cb.body.data.embeds ?? []).toEqual([]); // no stock, price or supplier shown
    }
    const zh = await peer.callback(peer.slash({ ...stranger, locale: "zh-CN" }, "stock show", { query: "SKU-1001" }).id);
    expect(zh.body.data.content).toBe("此服务器未设置使用 shopops（DISCORD_GUILD_IDS）；请联系店铺管理员。");
    const message = peer.message(peer.channelId, { embeds: [{ title: "Restock?" }], components: [{ type: 1, components: [{ type: 2, custom_id: "stock adjust SKU-1001 +5 reason=restock", label: "Add 5", style: 1 }] }] });
    const pressed = await peer.callback(peer.press(stranger, message, "stock adjust SKU-1001 +5 reason=restock").id);
    expect(pressed.body).toMatchObject({ type: 4, data: { content: expect.stringContaining("DISCORD_GUILD_IDS") } });
    const suggested = await peer.callback(peer.autocomplete(stranger, "stock show", { query: "sku" }, "query").id);
    expect(suggested.body).toMatchObject({ type: 8, data: { choices: [] } });
    expect(await onHand("SKU-1001")).toBe(stock);
    expect(await app.store.audit.countDocuments({})).toBe(audits);
    expect(await app.store.markers.countDocuments({ by: `discord:${stranger.id}` })).toBe(0);
    // The configured server still works.
    const ok = await peer.callback(peer.slash(viewer, "stock show", { query: "SKU-1001" }).id);
    expect(ok.body.data.embeds[0].title).toContain("SKU-1001");
    // A DM from someone in none of the allowed servers runs nothing either.
    const dm = await peer.callback(peer.pressInDm(stranger, message, "stock adjust SKU-1001 +5 reason=restock").id);
    expect(dm.body).toMatchObject({ type: 4, data: { content: "shopops answers the members of the shop's Discord server only; ask the shop's admin." } });
    expect(await onHand("SKU-1001")).toBe(stock);
  });

  it("a press with a custom id its message does not show runs nothing (a crafted interaction)", async () => {
    const stock = await onHand("SKU-1001");
    const message = peer.message(peer.channelId, { embeds: [{ title: "Restock?" }], components: [{ type: 1, components: [{ type: 2, custom_id: "stock adjust SKU-1001 +5 reason=restock", label: "Add 5", style: 1 }] }] });
    const crafted = await peer.callback(peer.press(staff, message, "stock adjust SKU-1001 +500 reason=restock").id);
    expect(crafted.body).toMatchObject({ type: 4, data: { content: "That button is not on this message; nothing was run." } });
    expect(crafted.body.data.flags & 64).toBe(64);
    expect(await onHand("SKU-1001")).toBe(stock);
  });
});

describe("refunds, orders and complaints", () => {
  const order = (no: string, total: number) => paidOrder(no, total, undefined, { items: [{ sku: "SKU-1001", qty: 1, unitPrice: total }] });
  let complaintId = "";
  beforeAll(async () => {
    await app.store.orders.insertMany([order("ORD-9101", 30_000), order("ORD-9102", 12_000), order("ORD-8001", 5_000)]);
    const c = await app.services.complaints.create({ text: "Parcel left in the rain", by: `discord:${staff.id}`, orderNo: "ORD-9102" });
    complaintId = c.kind === "created" ? c.complaint._id : "";
  });
  const refunded = async (no: string) => (await app.store.orders.findById(no).lean())!.refundedTotal;

  /** The answer to a button press: the callback, or the edit that follows a deferred update. */
  async function pressAnswer(id: string): Promise<{ type: number; data: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const cb = await peer.callback(id);
    if (cb.body.type !== 6) return cb.body;
    const edit = await peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${id}/messages/@original$`));
    return { type: 7, data: edit.body };
  }

  it("a refund approved by a button: the order refunded once, the message updated with the outcome and who acted, a replay changes nothing", async () => {
    const ix = peer.slash(staff, "refund request", { "order-no": "ORD-9101", amount: "50.00", reason: "lid cracked" });
    const cb = await peer.callback(ix.id);
    expect(cb.body.type).toBe(4);
    const id = /R-[0-9A-Z]{6}/.exec(cb.body.data.embeds[0].title)![0];
    const ids = cb.body.data.components[0].components.map((b: { custom_id: string }) => b.custom_id);
    expect(ids).toContain(`refund approve ${id}`);
    const message = peer.message(peer.channelId, cb.body.data);

    // Mia is a manager through her guild role only (DISCORD_ROLE_MAP), checked in the core.
    const press = peer.press(manager, message, `refund approve ${id}`);
    const answer = await pressAnswer(press.id);
    expect(answer.type).toBe(7);
    const [original, outcome] = answer.data.embeds;
    expect(original.title).toBe(`Refund request ${id} created`);
    expect(outcome.title).toBe(`Refund ${id} approved: CN¥50.00 refunded on ORD-9101`);
    expect(outcome.footer.text).toContain("Approve by Mia");
    expect(answer.data.components[0].components.every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(await refunded("ORD-9101")).toBe(5_000);
    expect(await app.store.audit.findOne({ command: "refund approve" }).lean()).toMatchObject({ actor: `discord:${manager.id}`, outcome: "ok" });

    // A double click changes nothing and says so privately; a replayed interaction gets no answer at all.
    const again = await peer.callback(peer.press(manager, message, `refund approve ${id}`).id);
    expect(again.body.data.flags & 64).toBe(64);
    expect(again.body.data.content).toMatch(/already pressed/);
    peer.press(manager, message, `refund approve ${id}`, press.id);
    await peer.callback(peer.slash(viewer, "stock show", { query: "SKU-1001" }).id);
    expect(peer.find("POST", new RegExp(`^/interactions/${press.id}/`))).toHaveLength(1);
    expect(await refunded("ORD-9101")).toBe(5_000);
    expect(await app.store.audit.countDocuments({ command: "refund approve" })).toBe(1);

    // The requester hears the outcome in a DM.
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 1, failed: 0 });
    const dm = peer.find("POST", /^\/channels\/\d+\/messages$/).find((r) => String(r.body?.embeds?.[0]?.description ?? "").includes(`Your refund request ${id}`));
    expect(dm?.body.embeds[0].description).toContain(`approved by discord:${manager.id}`);
  });

  it("hints name commands as Discord users type them (/order search customer:… page:2), and the next page runs as shown", async () => {
    await app.store.orders.insertMany(Array.from({ length: 12 }, (_, i) => paidOrder(`ORD-DS${String(i).padStart(2, "0")}`, 1_000, undefined, { customerId: "CUST-DS" })));
    const first = (await peer.callback(peer.slash(staff, "order search", { customer: "CUST-DS" }).id)).body.data.embeds[0];
    // The footer shows no markdown: no backticks, and a line a Discord user can type.
    expect(first.footer.text).toContain("Next page: /order search customer:CUST-DS before:ORD-DS02 page:2");
    expect(first.footer.text).not.toContain("`");
    const second = (await peer.callback(peer.slash(staff, "order search", { customer: "CUST-DS", before: "ORD-DS02", page: 2 }).id)).body.data.embeds[0];
    expect(second.footer.text).toContain("Page 2 of 2");
    // In the text, a command stays a code span, in slash form; the README's text form stays for Slack and the shell.
    await app.store.orders.insertMany([paidOrder("ORD-DSR", 2_000, undefined, { status: "refunded" })]);
    const done = (await peer.callback(peer.slash(staff, "refund request", { "order-no": "ORD-DSR", amount: "full", reason: "x" }).id)).body.data.embeds[0];
    expect(done.description).toContain("`/order show order-no:ORD-DSR`");
    await app.services.identity.grant("shell:dsr", "staff", "shell:admin");
    const shell = await app.core.invoke({ identity: "shell:dsr", platform: "shell", text: "refund request ORD-DSR full reason=x" });
    expect(shell.reply.text).toContain("`order ORD-DSR`");
    // Usage lines in help too, placeholders kept.
    const help = (await peer.callback(peer.slash(staff, "help", { command: "stock adjust" }).id)).body.data.embeds[0];
    expect(JSON.stringify(help)).toContain("`/stock adjust sku:<sku> (delta:<+n|-n> | set:<n>) reason:<text> [key:<idempotency key>]`");
  });

  it("a refund needing two managers: the first press keeps Approve for the second, a repeat is answered privately, the second executes it", async () => {
    await app.store.orders.insertMany([order("ORD-9201", 500_000)]);
    const ix = peer.slash(staff, "refund request", { "order-no": "ORD-9201", amount: "3000", reason: "whole set broken" });
    const cb = await peer.callback(ix.id);
    const id = /R-[0-9A-Z]{6}/.exec(cb.body.data.embeds[0].title)![0];
    const message = peer.message(peer.channelId, cb.body.data);
    const first = await pressAnswer(peer.press(manager, message, `refund approve ${id}`).id);
    expect(first.type).toBe(7);
    const buttons = first.data.components[0].components as { custom_id: string; disabled?: boolean }[];
    expect(buttons.find((b) => b.custom_id === `refund approve ${id}`)?.disabled).toBeFalsy();
    // A double click (the message as it was when pressed) is told they already pressed it.
    const again = await pressAnswer(peer.press(manager, message, `refund approve ${id}`).id);
    expect(again.data.flags & 64).toBe(64);
    expect(again.data.content).toBe("You already pressed this button; nothing was changed the second time.");
    // The updated card keeps its id, as on Discord; its Approve is a new button: the same manager
    // pressing it hears from the core, privately, that a second manager is needed; nothing changes.
    const updated = { ...peer.message(peer.channelId, first.data), id: message.id };
    const repeat = await pressAnswer(peer.press(manager, updated, `refund approve ${id}`).id);
    expect(repeat.data.flags & 64).toBe(64);
    expect(JSON.stringify(repeat.data)).toContain(`You already approved ${id}; a second, different manager must approve it.`);
    // On a fresh card (a new message), the same manager's approval is a private outcome: the
    // presser alone is told a second manager is needed, and the shared card is not edited.
    const fresh = peer.message(peer.channelId, first.data);
    const mine = await pressAnswer(peer.press(manager, fresh, `refund approve ${id}`).id);
    expect(mine.data.flags & 64).toBe(64);
    expect(JSON.stringify(mine.data)).toContain(`You already approved ${id}; a second, different manager must approve it.`);
    expect(await refunded("ORD-9201")).toBe(0);
    const second = await pressAnswer(peer.press(manager2, updated, `refund approve ${id}`).id);
    expect(second.type).toBe(7);
    expect((second.data.components[0]?.components ?? []).every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(await refunded("ORD-9201")).toBe(300_000);
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 1, failed: 0 }); // the requester's notice
  });

  it("a coupon preview (seen only by its author) cancelled by its button shows the outcome and leaves no live Confirm", async () => {
    const ix = peer.slash(manager, "coupon launch", { code: "DCX10", type: "percent", value: "10" });
    const cb = await peer.callback(ix.id);
    expect(cb.body.data.flags & 64).toBe(64);
    const ids = cb.body.data.components[0].components.map((b: { custom_id: string }) => b.custom_id) as string[];
    const cancel = ids.find((x) => x.startsWith("coupon cancel"))!;
    const preview = peer.message(peer.channelId, cb.body.data);
    const answer = await pressAnswer(peer.press(manager, preview, cancel).id);
    expect(answer.type).toBe(7);
    expect((answer.data.components[0].components as { disabled?: boolean }[]).every((b) => b.disabled)).toBe(true);
  });

  it("an escalated complaint's Claim button refuses a support member (the core's rule) and works for a manager", async () => {
    const supporter: PeerUser = { id: nextId(), username: "Sue", roles: [] };
    await app.services.identity.grant(`discord:${supporter.id}`, "support", "shell:admin");
    const c = await app.services.complaints.create({ text: "Wants a manager", by: `discord:${staff.id}` });
    const id = c.kind === "created" ? c.complaint._id : "";
    await app.services.complaints.escalate(id, `discord:${supporter.id}`, "asks for a manager");
    const btn = `complaint claim ${id}`;
    const card = peer.message(peer.channelId, { embeds: [{ title: `Complaint ${id}` }], components: [{ type: 1, components: [{ type: 2, custom_id: btn, label: "Claim", style: 1 }] }] });
    const refused = await pressAnswer(peer.press(supporter, card, btn).id);
    expect(refused.data.flags & 64).toBe(64);
    expect(refused.data.embeds[0].description).toContain(`${id} is escalated: only a manager or admin may claim, assign or resolve it.`);
    expect((await app.store.complaints.findById(id).lean())!.assignee).toBeUndefined();
    expect(await app.store.audit.findOne({ command: "complaint claim", actor: `discord:${supporter.id}` }).lean()).toMatchObject({ outcome: "denied", code: "permission_denied" });
    const taken = await pressAnswer(peer.press(manager, card, btn).id);
    expect(taken.type).toBe(7);
    expect((await app.store.complaints.findById(id).lean())!.assignee).toBe(`discord:${manager.id}`);
  });

  it("suggests order numbers and complaint ids while the member types", async () => {
    const orders = await peer.callback(peer.autocomplete(staff, "refund request", { "order-no": "ord-91" }, "order-no").id);
    expect(orders.body.type).toBe(8);
    // The latest (highest number) first.
    expect(orders.body.data.choices).toEqual([
      { name: "ORD-9102", value: "ORD-9102" },
      { name: "ORD-9101", value: "ORD-9101" },
    ]);
    const card = await peer.callback(peer.autocomplete(staff, "order show", { "order-no": "ORD-80" }, "order-no").id);
    expect(card.body.data.choices).toEqual([{ name: "ORD-8001", value: "ORD-8001" }]);
    // Complaint ids and text only to those who may read complaints (support and above).
    const complaints = await peer.callback(peer.autocomplete(manager, "complaint show", { id: "rain" }, "id").id);
    expect(complaints.body.data.choices).toEqual([{ name: `${complaintId} · Parcel left in the rain`, value: complaintId }]);
    expect((await peer.callback(peer.autocomplete(staff, "complaint show", { id: "rain" }, "id").id)).body.data.choices).toEqual([]);
  });
});

describe("outbound", () => {
  // The smallest valid PNG: 1×1 transparent.
  const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082", "hex");

  it("delivers an alert with a PNG attachment to a channel, and a DM to a person", async () => {
    await app.services.outbox.enqueue({
      key: "alert:low:1",
      kind: "alert",
      dest: { kind: "channel", platform: "discord", channel: peer.channelId },
      reply: { title: "Low stock", text: "3 products", status: "warning", image: { filename: "low-stock.png", data: new Uint8Array(PNG), alt: "chart" }, visibility: "public" },
    });
    await app.services.outbox.enqueue({ key: "dm:1", kind: "notice", dest: { kind: "user", identity: `discord:${manager.id}` }, reply: { text: "Refund waiting", status: "info", visibility: "public" } });
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 2, failed: 0 });
    const [post] = peer.find("POST", new RegExp(`^/channels/${peer.channelId}/messages$`));
    expect(post!.files).toHaveLength(1);
    expect(post!.files[0]!.filename).toBe("low-stock.png");
    expect(post!.files[0]!.data.equals(PNG)).toBe(true);
    expect(post!.body.embeds[0]).toMatchObject({ title: "Low stock", color: 0xfee75c, image: { url: "attachment://low-stock.png" } });
    expect(post!.body.attachments[0]).toMatchObject({ id: "0" });
    await peer.waitFor("POST", /^\/users\/@me\/channels$/);
    expect(peer.find("POST", /^\/users\/@me\/channels$/).map((r) => r.body.recipient_id)).toContain(manager.id);
    const dmMessage = peer.find("POST", /^\/channels\/\d+\/messages$/).find((r) => r.body?.embeds?.[0]?.description === "Refund waiting");
    expect(dmMessage).toBeDefined();
    expect((await app.store.outbox.findById("alert:low:1").lean())!.status).toBe("sent");
  });

  it("leaves a message the platform refused in the outbox for a retry", async () => {
    peer.failNext(/^POST \/channels\/\d+\/messages$/, 403, { message: "Missing Access", code: 50001 });
    await app.services.outbox.enqueue({ key: "alert:low:2", kind: "alert", dest: { kind: "channel", platform: "discord", channel: peer.channelId }, reply: { text: "again", visibility: "public" } });
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 0, failed: 1 });
    const doc = (await app.store.outbox.findById("alert:low:2").lean())!;
    expect(doc.status).toBe("pending");
    expect(doc.lastError).toMatch(/Missing Access/);
    // A member who blocks DMs can never get this one: dead at once, not retried for twenty minutes.
    peer.failNext(/^POST \/channels\/\d+\/messages$/, 403, { message: "Cannot send messages to this user", code: 50007 });
    await app.services.outbox.enqueue({ key: "dm:blocked:1", kind: "refund", dest: { kind: "user", identity: `discord:${staff.id}` }, reply: { text: "hello", visibility: "ephemeral" } });
    await app.store.outbox.updateOne({ _id: "alert:low:2" }, { $set: { notBefore: new Date(Date.now() + 3_600_000) } }); // not due in this round
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 0, failed: 1 });
    expect(await app.store.outbox.findById("dm:blocked:1").lean()).toMatchObject({ status: "dead", attempts: 1, lastError: expect.stringContaining("50007") });
  });
});

describe("rate limits", () => {
  it("hands a long rate limit back to the outbox as a retry time instead of blocking", async () => {
    peer.failNext(/^POST \/channels\/\d+\/messages$/, 429, { message: "You are being rate limited.", retry_after: 30, global: false }, {
      "retry-after": "30",
      "x-ratelimit-scope": "user",
      "x-ratelimit-bucket": "bench-bucket",
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset-after": "30",
    });
    await app.services.outbox.enqueue({ key: "alert:rl:1", kind: "alert", dest: { kind: "channel", platform: "discord", channel: peer.channelId }, reply: { text: "later", visibility: "public" } });
    const before = app.services.clock.now().getTime();
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 0, failed: 1 });
    const doc = (await app.store.outbox.findById("alert:rl:1").lean())!;
    expect(doc.status).toBe("pending");
    expect(doc.notBefore.getTime() - before).toBeGreaterThanOrEqual(30_000);
  });
});

describe("gateway", () => {
  it("reconnects after the gateway drops the connection and keeps answering", async () => {
    const before = peer.gateway.connections;
    expect(peer.gateway.heartbeats).toBeGreaterThan(0); // heartbeats were acknowledged all along
    peer.dropGateway(4000);
    await peer.waitForGateway("connections", before + 1);
    await peer.waitForGateway("resumes", 1);
    // The session resumed: interactions flow again on the new connection.
    const ix = peer.slash(viewer, "stock show", { query: "SKU-1001" });
    expect((await peer.callback(ix.id)).body.type).toBe(4);
  });
});

describe("start-up", () => {
  it("stops with a message naming DISCORD_TOKEN when Discord refuses the token", async () => {
    const wrong = "V1JPTkdXUk9OR1dST05HV1JPTkc.wrong.token-that-discord-refuses";
    const discord = { ...config.discord!, token: wrong };
    const other = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord, logger: createLogger("debug", {}, (line) => logs.push(line)), api: peer.api, outboxIntervalMs: 0 });
    const err = await other.start().then(() => null, (e: unknown) => e as Error);
    await other.stop();
    expect(err?.name).toBe("ConfigError");
    expect(err?.message).toMatch(/DISCORD_TOKEN: Discord refused this token/);
    expect(err?.message).not.toContain(wrong);
  });
});

describe("registration refused", () => {
  it("a server the bot is not in stops start-up with what to fix, not a stack trace", async () => {
    const discord = { ...config.discord!, guildId: "123456789012345678" };
    const other = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord, logger: silentLogger, api: peer.api, outboxIntervalMs: 0 });
    const err = await other.start().then(() => null, (e: unknown) => e as Error);
    await other.stop();
    expect(err?.name).toBe("ConfigError");
    expect(err?.message).toMatch(/Discord refused to register the slash commands for server 123456789012345678 \(DISCORD_GUILD_ID\).*applications\.commands/);
  });
});

describe("secrets", () => {
  it("never writes the bot token to the logs", () => {
    expect(peer.gateway.tokens).toContain(TOKEN); // the token was used…
    expect(logs.some((l) => l.includes("application commands registered"))).toBe(true);
    expect(logs.join("\n")).not.toContain(TOKEN); // …and never logged
    expect(logs.join("\n")).not.toContain(TOKEN.split(".")[2]);
  });
});
