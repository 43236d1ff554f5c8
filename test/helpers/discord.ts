import { DiscordAdapter } from "../../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import type { Clock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/logger.js";
import { DiscordPeer } from "../peers/discord-peer.js";
import { connectTestDb, type TestDb } from "./db.js";

/** A bot on the local Discord peer: the real discord.js client, the app over a test database. */
export interface DiscordHarness {
  peer: DiscordPeer;
  db: TestDb;
  app: App;
  config: Config;
  /** Not started: a test seeds its data first, then `adapter.start()`. */
  adapter: DiscordAdapter;
}

/**
 * The peer started (one server role, `role`, mapped to a shopops role), a shop in Asia/Shanghai
 * and CNY with `shell:admin` as admin, and an adapter for it (answers deferred after 1.5 s, the
 * outbox dispatched by the test).
 */
export async function discordHarness(o: { token: string; applicationId: string; role: { id: string; name: string; as: string }; clock: Clock }): Promise<DiscordHarness> {
  const peer = new DiscordPeer({ token: o.token, applicationId: o.applicationId, roles: [{ id: o.role.id, name: o.role.name }], heartbeatMs: 500 });
  await peer.start();
  const db = await connectTestDb();
  const config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    DISCORD_TOKEN: o.token,
    DISCORD_APPLICATION_ID: o.applicationId,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_ROLE_MAP: `${o.role.id}:${o.role.as}`,
  });
  const commands = await commandsOnce();
  const app = await createApp({ config, conn: db.conn, clock: o.clock, logger: silentLogger, commands });
  const adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0, deferAfterMs: 1500 });
  return { peer, db, app, config, adapter };
}
