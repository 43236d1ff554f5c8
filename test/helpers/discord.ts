import { DiscordAdapter } from "../../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { FixedClock, type Clock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/logger.js";
import { DiscordPeer, nextId, type PeerUser } from "../peers/discord-peer.js";
import { connectTestDb, type TestDb } from "./db.js";

/** A bot on the local Discord peer: the real discord.js client, the app over a test database. */
export interface DiscordHarness {
  peer: DiscordPeer;
  db: TestDb;
  app: App;
  config: Config;
  /** Not started unless asked (`start`): a test seeds its data first, then `adapter.start()`. */
  adapter: DiscordAdapter;
  /** The answer to slash command `id`: the callback's data, or the edit of the original after a deferral. */
  answer(id: string): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Stops the adapter and the peer and closes the database: a file's whole `afterAll`. */
  stop(): Promise<void>;
}

/** A server role of the harness's peer, mapped to shopops role `as`, and how to make its members. */
export interface DiscordRole {
  id: string;
  name: string;
  as: string;
  /** A member of the server with this role (in `locale`, if given: Discord's own default otherwise). */
  member(username: string, locale?: string): PeerUser;
}

/** A {@link DiscordRole} with a fresh id: declared at a file's top, its members with it. */
export function discordRole(name: string, as: string): DiscordRole {
  const id = nextId();
  return { id, name, as, member: (username, locale) => ({ id: nextId(), username, roles: [id], ...(locale ? { locale } : {}) }) };
}

/** The token the harness's peer takes when a file gives none (any token of the right shape does). */
const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.harness-0123456789";

/**
 * The peer started (one server role, `role`, mapped to a shopops role), a shop in Asia/Shanghai
 * and CNY with `shell:admin` as admin, on `clock` (by default fixed at makeTestApp's time), and an
 * adapter for it (answers deferred after 1.5 s, the outbox dispatched by the test). With `seed`,
 * the file's data is written before the adapter could see it; with `start`, the adapter is started
 * (after `seed`), a failure stopping everything.
 */
export async function discordHarness(o: {
  token?: string;
  applicationId?: string;
  role: { id: string; name: string; as: string };
  clock?: Clock;
  seed?: (app: App) => Promise<unknown>;
  start?: boolean;
}): Promise<DiscordHarness> {
  const token = o.token ?? TOKEN;
  const applicationId = o.applicationId ?? nextId();
  const clock = o.clock ?? new FixedClock("2026-11-25T04:00:00Z"); // makeTestApp's
  const peer = new DiscordPeer({ token, applicationId, roles: [{ id: o.role.id, name: o.role.name }], heartbeatMs: 500 });
  await peer.start();
  const db = await connectTestDb();
  const config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    DISCORD_TOKEN: token,
    DISCORD_APPLICATION_ID: applicationId,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_ROLE_MAP: `${o.role.id}:${o.role.as}`,
  });
  const commands = await commandsOnce();
  const app = await createApp({ config, conn: db.conn, clock, logger: silentLogger, commands });
  const adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0, deferAfterMs: 1500 });
  const stop = async () => {
    await adapter.stop();
    await peer.stop();
    await db.close();
  };
  const answer = async (id: string) => {
    const cb = await peer.callback(id);
    if (cb.body.type !== 5) return cb.body.data;
    return (await peer.waitFor("PATCH", new RegExp(`^/webhooks/${applicationId}/itoken-${id}/messages/@original$`))).body;
  };
  try {
    await o.seed?.(app);
    if (o.start) await adapter.start();
  } catch (e) {
    await stop();
    throw e;
  }
  return { peer, db, app, config, adapter, answer, stop };
}
