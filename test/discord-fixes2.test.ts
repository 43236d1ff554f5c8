/**
 * Discord button presses racing each other, through the local Discord (test/peers/discord-peer.ts)
 * and the real discord.js client: a slow second click of a double click that another member's
 * press overtakes runs nothing, and a press on a button someone else already used is told so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../src/app.js";
import { loadConfig, type Config } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { product } from "./helpers/app.js";
import { DiscordPeer, nextId, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.fixes2-token-0123456789";
const APP_ID = nextId();
const STAFF_ROLE = nextId();

const sam: PeerUser = { id: nextId(), username: "Sam", roles: [STAFF_ROLE] };
const kim: PeerUser = { id: nextId(), username: "Kim", roles: [STAFF_ROLE] };

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let config: Config;
let adapter: DiscordAdapter;

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [{ id: STAFF_ROLE, name: "Ops" }], heartbeatMs: 500 });
  await peer.start();
  db = await connectTestDb();
  config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_ROLE_MAP: `${STAFF_ROLE}:staff`,
  });
  const commands = await commandsOnce();
  app = await createApp({ config, conn: db.conn, clock: new FixedClock("2026-11-25T04:00:00Z"), logger: silentLogger, commands });
  await app.store.products.insertMany([product("SKU-2", { onHand: 3 }), product("SKU-3", { onHand: 2 })]);
  adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0, deferAfterMs: 300 });
  await adapter.start();
});

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

/** The answer to a press: the callback, or the edit or follow-up after a deferral. */
async function answer(id: string): Promise<{ type: number; data: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const cb = await peer.callback(id);
  if (cb.body.type !== 5 && cb.body.type !== 6) return cb.body;
  return Promise.race([
    peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${id}/messages/@original$`)).then((r) => ({ type: 7, data: r.body })),
    peer.waitFor("POST", new RegExp(`^/webhooks/${APP_ID}/itoken-${id}$`)).then((r) => ({ type: 4, data: r.body })),
  ]);
}

/** Holds the marker write `id` (the replay claim of one interaction) until `open()`. */
function holdMarker(id: string) {
  const markers = app.services.markers as unknown as { claim: (...a: unknown[]) => Promise<unknown> };
  const claim = markers.claim;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { held: false };
  markers.claim = async (...a: unknown[]) => {
    if (a[0] === id) {
      state.held = true;
      await gate;
    }
    return claim.apply(markers, a);
  };
  return {
    state,
    open: () => {
      markers.claim = claim;
      open();
    },
  };
}

const snoozeCard = (sku: string) =>
  peer.message(peer.channelId, {
    embeds: [{ title: `${sku} is low` }],
    components: [{ type: 1, components: [{ type: 2, custom_id: `stock snooze ${sku} 24h`, label: "Snooze 24h", style: 2 }] }],
  });

const ALREADY_PRESSED = "You already pressed this button; nothing was changed the second time.";
const USED = "This button was already used; the card shows the outcome. Nothing was run.";

describe("a slow second click overtaken by another member's press", () => {
  it("runs nothing: the second click is judged on the card it was pressed on, not the one a later press carried", async () => {
    const card = snoozeCard("SKU-2");
    const button = "stock snooze SKU-2 24h";
    const second = nextId();
    const hold = holdMarker(`discord.ix:${second}`);
    try {
      // Sam clicks twice on the card as it is; the second click's first marker write is slow.
      const first = peer.press(sam, card, button);
      peer.press(sam, card, button, second);
      const done = await answer(first.id);
      expect(done.type).toBe(7);
      expect(JSON.stringify(done.data.embeds)).toContain("Snooze 24h by Sam");
      const updated: Record<string, unknown> = { ...peer.message(peer.channelId, done.data), id: card.id };
      const disabled = (updated.components as { components: { custom_id: string; disabled?: boolean }[] }[]).flatMap((r) => r.components).find((b) => b.custom_id === button);
      expect(disabled?.disabled).toBe(true);
      expect(hold.state.held).toBe(true);

      // Kim presses the button the update disabled (her client still showed it): nothing runs,
      // and she is told it was already used.
      const refused = await answer(peer.press(kim, updated, button).id);
      expect(refused.data.flags & 64).toBe(64);
      expect(refused.data.content).toBe(USED);
      // Sam's second click is still waiting (deferred meanwhile).
      expect((await peer.callback(second, 5_000)).body.type).toBe(6);
    } finally {
      hold.open();
    }
    // Released, the second click is told it was already pressed; the card is not touched again.
    const told = await answer(second);
    expect(told.type).toBe(4);
    expect(told.data.flags & 64).toBe(64);
    expect(told.data.content).toBe(ALREADY_PRESSED);
    expect(peer.find("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${second}/messages/@original$`))).toHaveLength(0);
    expect(await app.store.audit.countDocuments({ command: "stock snooze", outcome: "ok", args: { $regex: "^SKU-2" } })).toBe(1);
  });
});

describe("a press on a button the card shows disabled", () => {
  it("tells someone who did not press it that it was already used (in their language), and the presser that they pressed it", async () => {
    const card = snoozeCard("SKU-3");
    const button = "stock snooze SKU-3 24h";
    const done = await answer(peer.press(sam, card, button).id);
    expect(done.type).toBe(7);
    const updated = { ...peer.message(peer.channelId, done.data), id: card.id };

    const en = await answer(peer.press(kim, updated, button).id);
    expect(en.data).toMatchObject({ flags: 64, content: USED });
    const zh = await answer(peer.press({ ...kim, locale: "zh-CN" }, updated, button).id);
    expect(zh.data).toMatchObject({ flags: 64, content: "该按钮已被使用，结果见卡片；未执行任何操作。" });
    // The presser's own late second click, as before.
    const mine = await answer(peer.press(sam, updated, button).id);
    expect(mine.data).toMatchObject({ flags: 64, content: ALREADY_PRESSED });
    // A custom id the card does not show at all is still "not on this message".
    const crafted = await answer(peer.press(kim, updated, "stock snooze SKU-9 24h").id);
    expect(crafted.data).toMatchObject({ flags: 64, content: "That button is not on this message; nothing was run." });
    expect(await app.store.audit.countDocuments({ command: "stock snooze", outcome: "ok", args: { $regex: "^SKU-3" } })).toBe(1);
  });
});
