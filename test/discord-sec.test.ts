/**
 * DMs to the bot with DISCORD_GUILD_IDS set: a sender whose membership of an allowed server
 * cannot be confirmed (Discord slow or failing) is refused with "try again", never taken for a
 * member (tested through the local Discord, test/peers/discord-peer.ts, with real discord.js).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { product } from "./helpers/app.js";
import { DiscordPeer, nextId, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.test-token-never-logged-0123456789";
const APP_ID = nextId();
const STAFF_ROLE = nextId();
const staff: PeerUser = { id: nextId(), username: "Sam", roles: [STAFF_ROLE] };

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let adapter: DiscordAdapter;
/** Extra time the local Discord takes to answer a member lookup (GET /guilds/:id/members/:user). */
let memberLookupDelayMs = 0;

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [{ id: STAFF_ROLE, name: "Ops" }], heartbeatMs: 500 });
  // A slow Discord: the peer's request handler, delayed for member lookups.
  const slowable = peer as unknown as { onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> };
  const handle = slowable.onRequest.bind(peer);
  slowable.onRequest = async (req, res) => {
    if (memberLookupDelayMs && /\/guilds\/\d+\/members\/\d+/.test(req.url ?? "")) await sleep(memberLookupDelayMs);
    return handle(req, res);
  };
  await peer.start();
  db = await connectTestDb();
  const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: peer.guildId, DISCORD_ROLE_MAP: `${STAFF_ROLE}:staff` });
  app = await createApp({ config, conn: db.conn, clock: new FixedClock("2026-11-25T04:00:00Z"), logger: silentLogger });
  await app.store.products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 40 })]);
  adapter = new DiscordAdapter({ core: app.core, services: app.services, commands: app.commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0 });
  await adapter.start();
});

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

const onHand = async (sku: string) => (await app.store.products.findById(sku).lean())!.onHand;

describe("DM membership check (DISCORD_GUILD_IDS)", () => {
  const button = "stock adjust SKU-1001 +5 reason=restock";
  const card = () => peer.message(peer.channelId, { embeds: [{ title: "Restock?" }], components: [{ type: 1, components: [{ type: 2, custom_id: button, label: "Add 5", style: 1 }] }] });

  it("a member's DM press is refused with 'try again' while Discord is too slow to confirm membership, and runs nothing", async () => {
    const before = await onHand("SKU-1001");
    const audits = await app.store.audit.countDocuments({});
    memberLookupDelayMs = 1_200; // past the 800 ms the bot waits
    try {
      const slow = await peer.callback(peer.pressInDm(staff, card(), button).id);
      expect(slow.body).toMatchObject({ type: 4, data: { content: "Could not confirm you are a member of this shop's server (Discord did not answer in time); nothing was run. Try again." } });
      expect(slow.body.data.flags & 64).toBe(64);
      const zh = await peer.callback(peer.pressInDm({ ...staff, locale: "zh-CN" }, card(), button).id);
      expect(zh.body.data.content).toBe("无法确认你是此店铺服务器的成员（Discord 未及时响应）；未执行任何操作。请重试。");
    } finally {
      memberLookupDelayMs = 0;
      await sleep(1_500); // the slow lookups end (answered late, to nobody)
    }
    expect(await onHand("SKU-1001")).toBe(before);
    expect(await app.store.audit.countDocuments({})).toBe(audits);
  });

  it("a lookup that fails otherwise (not Unknown Member) is refused the same way; once Discord answers, the member's press runs", async () => {
    const before = await onHand("SKU-1001");
    peer.failNext(/^GET \/guilds\/\d+\/members\/\d+$/, 403, { message: "Missing Access", code: 50001 });
    const failed = await peer.callback(peer.pressInDm(staff, card(), button).id);
    expect(failed.body.data?.content, JSON.stringify(failed.body)).toContain("Could not confirm you are a member of this shop's server");
    expect(await onHand("SKU-1001")).toBe(before);
    // Pressing again works.
    const ok = await peer.callback(peer.pressInDm(staff, card(), button).id);
    expect(ok.body.data?.content ?? "").not.toContain("Could not confirm");
    expect(await onHand("SKU-1001")).toBe(before + 5);
  });
});
