// The Slack adapter loaded first, as any entry point or tool may load it: Slack's Socket Mode
// brings its own undici (7), discord.js another (6), and the first loaded must not become the
// pool that sends discord.js's uploads. Kept in its own file: the import order is the test.
import "../adapters/slack/slack.adapter.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { DiscordPeer, nextId } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.test-token-never-logged-0123456789";
const APP_ID = nextId();
// The smallest valid PNG: 1×1 transparent.
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082", "hex");

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let adapter: DiscordAdapter;

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [], heartbeatMs: 500 });
  await peer.start();
  db = await connectTestDb();
  const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: peer.guildId });
  const commands = await commandsOnce();
  app = await createApp({ config, conn: db.conn, clock: new FixedClock("2026-11-25T04:00:00Z"), logger: silentLogger, commands });
  adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0 });
  await adapter.start();
});

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

it("a chart or alert image still reaches Discord when the Slack adapter was loaded first", async () => {
  await app.services.outbox.enqueue({
    key: "alert:png:1",
    kind: "alert",
    dest: { kind: "channel", platform: "discord", channel: peer.channelId },
    reply: { title: "Low stock", text: "3 products", status: "warning", image: { filename: "low-stock.png", data: new Uint8Array(PNG), alt: "chart" }, visibility: "public" },
  });
  expect(await adapter.dispatchOutbox()).toEqual({ sent: 1, failed: 0 });
  const [post] = peer.find("POST", new RegExp(`^/channels/${peer.channelId}/messages$`));
  expect(post!.files.map((f) => [f.filename, f.data.equals(PNG)])).toEqual([["low-stock.png", true]]);
  expect((await app.store.outbox.findById("alert:png:1").lean())!.status).toBe("sent");
});
