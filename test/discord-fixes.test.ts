/**
 * Discord adapter fixes, through the local Discord (test/peers/discord-peer.ts) and the real
 * discord.js client: a refund card's Approve pressed again after the policy loosened, the
 * acknowledgement of an interaction when the database is slow, and hints naming
 * `/complaint assign` as a Discord member types it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { buildCommandSet, slashLine } from "../adapters/discord/commands.js";
import { commandsOnce, createApp, type App } from "../src/app.js";
import { loadConfig, type Config } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { paidOrder, product } from "./helpers/app.js";
import { DiscordPeer, nextId, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.fixes-token-0123456789";
const APP_ID = nextId();
const STAFF_ROLE = nextId();
const MANAGER_ROLE = nextId();

const staff: PeerUser = { id: nextId(), username: "Sam", roles: [STAFF_ROLE] };
const mia: PeerUser = { id: nextId(), username: "Mia", roles: [MANAGER_ROLE] };

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let config: Config;
let adapter: DiscordAdapter;

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [{ id: STAFF_ROLE, name: "Ops" }, { id: MANAGER_ROLE, name: "Leads" }], heartbeatMs: 500 });
  await peer.start();
  db = await connectTestDb();
  config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_ROLE_MAP: `${STAFF_ROLE}:staff, ${MANAGER_ROLE}:manager`,
  });
  const commands = await commandsOnce();
  app = await createApp({ config, conn: db.conn, clock: new FixedClock("2026-11-25T04:00:00Z"), logger: silentLogger, commands });
  await app.store.products.insertMany([product("SKU-1", { onHand: 40 }), product("SKU-2", { onHand: 3 })]);
  await app.store.orders.insertMany([paidOrder("ORD-A", 500_000)]);
  // A short defer time keeps the slow-database tests quick; the rule is the same at 1.5 s.
  adapter = new DiscordAdapter({ core: app.core, services: app.services, commands, config, discord: config.discord!, logger: silentLogger, api: peer.api, outboxIntervalMs: 0, deferAfterMs: 300 });
  await adapter.start();
});

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

const admin = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text });

/** The answer to a press or command: the callback, or the edit or follow-up after a deferral. */
async function answer(id: string): Promise<{ type: number; data: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const cb = await peer.callback(id);
  if (cb.body.type !== 5 && cb.body.type !== 6) return cb.body;
  return Promise.race([
    peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${id}/messages/@original$`)).then((r) => ({ type: 7, data: r.body })),
    peer.waitFor("POST", new RegExp(`^/webhooks/${APP_ID}/itoken-${id}$`)).then((r) => ({ type: 4, data: r.body })),
  ]);
}

describe("a refund card's Approve after the policy loosens", () => {
  it("the first manager completes it by pressing Approve again on the card the first press updated", async () => {
    expect((await admin("refund policy set support=200 manager=1000")).outcome).toBe("ok");
    const req = await peer.callback(peer.slash(staff, "refund request", { "order-no": "ORD-A", amount: "1500", reason: "damaged" }).id);
    const id = /R-[0-9A-Z]{6}/.exec(req.body.data.embeds[0].title)![0];
    const shown = await peer.callback(peer.slash(mia, "refund show", { id }).id);
    const card = peer.message(peer.channelId, shown.body.data);
    expect(card.components).toEqual(expect.arrayContaining([expect.objectContaining({ components: expect.arrayContaining([expect.objectContaining({ custom_id: `refund approve ${id}` })]) })]));

    // First approval: the card is updated, Approve kept for a second manager.
    const first = await answer(peer.press(mia, card, `refund approve ${id}`).id);
    expect(first.type).toBe(7);
    expect(JSON.stringify(first.data.embeds)).toMatch(/second manager/);
    const approve = (first.data.components as { components: { custom_id: string; disabled?: boolean }[] }[]).flatMap((r) => r.components).find((b) => b.custom_id === `refund approve ${id}`);
    expect(approve?.disabled).toBeFalsy();
    const updated = { ...peer.message(peer.channelId, first.data), id: card.id };
    expect((await app.store.orders.findById("ORD-A").lean())!.refundedTotal).toBe(0);

    // The policy loosens: one manager's approval is now enough.
    expect((await admin("refund policy set manager=2000")).outcome).toBe("ok");
    const again = await answer(peer.press(mia, updated, `refund approve ${id}`).id);
    expect(again.type).toBe(7);
    expect(again.data.flags ?? 0).toBe(0);
    expect(JSON.stringify(again.data)).not.toContain("already pressed");
    expect((await app.store.orders.findById("ORD-A").lean())!.refundedTotal).toBe(150_000);
    expect((await app.store.refundRequests.findById(id).lean())!.status).toBe("approved");

    // Once, however many clicks: a double click on the card as it was changes nothing more.
    const twice = await answer(peer.press(mia, updated, `refund approve ${id}`).id);
    expect(twice.data.flags & 64).toBe(64);
    expect(twice.data.content).toBe("You already pressed this button; nothing was changed the second time.");
    // And the card the completion produced has Approve disabled: a press on it that reaches
    // Discord late (the second click of a double click) runs nothing.
    const done = { ...peer.message(peer.channelId, again.data), id: card.id };
    const late = await answer(peer.press(mia, done, `refund approve ${id}`).id);
    expect(late.data.flags & 64).toBe(64);
    expect(late.data.content).toBe("You already pressed this button; nothing was changed the second time.");
    expect((await app.store.orders.findById("ORD-A").lean())!.refundedTotal).toBe(150_000);
    expect(await app.store.audit.countDocuments({ command: "refund approve", outcome: "ok" })).toBe(2);
  });
});

describe("a slow database does not make the acknowledgement late", () => {
  /**
   * Holds every marker write (the exactly-once claims a press or a change makes) until
   * `open()`; `held` counts the writes waiting.
   */
  function holdMarkerWrites() {
    const markers = app.services.markers as unknown as { claim: (...a: unknown[]) => Promise<unknown> };
    const claim = markers.claim;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const state = { held: 0, done: 0 };
    markers.claim = async (...a: unknown[]) => {
      state.held++;
      await gate;
      const r = await claim.apply(markers, a);
      state.done++;
      return r;
    };
    return {
      state,
      open: () => {
        markers.claim = claim;
        open();
      },
    };
  }

  const snoozeCard = () =>
    peer.message(peer.channelId, {
      embeds: [{ title: "SKU-2 is low" }],
      components: [{ type: 1, components: [{ type: 2, custom_id: "stock snooze SKU-2 24h", label: "Snooze 24h", style: 2 }] }],
    });

  it("a button is deferred while its marker writes are still waiting, and the outcome then edits the message", async () => {
    const card = snoozeCard();
    const hold = holdMarkerWrites();
    let press: { id: string };
    try {
      press = peer.press(staff, card, "stock snooze SKU-2 24h");
      // The acknowledgement reaches Discord before any marker write has finished.
      const cb = await peer.callback(press.id, 5_000);
      expect(cb.body.type).toBe(6);
      expect(hold.state.done).toBe(0);
      expect(hold.state.held).toBeGreaterThan(0);
    } finally {
      hold.open();
    }
    const edit = await peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${press.id}/messages/@original$`));
    expect(JSON.stringify(edit.body.embeds)).toContain("Snooze 24h by Sam");
    expect((await app.store.stockAlerts.findById("SKU-2").lean())?.snoozedUntil).toBeDefined();
    // One acknowledgement only.
    expect(peer.find("POST", new RegExp(`^/interactions/${press.id}/`))).toHaveLength(1);

    // A double click meanwhile, also slow: deferred, then told privately, nothing changed.
    const hold2 = holdMarkerWrites();
    let twice: { id: string };
    try {
      twice = peer.press(staff, card, "stock snooze SKU-2 24h");
      expect((await peer.callback(twice.id, 5_000)).body.type).toBe(6);
      expect(hold2.state.done).toBe(0);
    } finally {
      hold2.open();
    }
    const told = await peer.waitFor("POST", new RegExp(`^/webhooks/${APP_ID}/itoken-${twice.id}$`));
    expect(told.body.flags & 64).toBe(64);
    expect(told.body.content).toBe("You already pressed this button; nothing was changed the second time.");
    expect(await app.store.audit.countDocuments({ command: "stock snooze", outcome: "ok" })).toBe(1);
  });

  it("a slash command that changes something is deferred while its replay marker is still being written", async () => {
    const hold = holdMarkerWrites();
    let ix: { id: string };
    try {
      ix = peer.slash(staff, "stock adjust", { sku: "SKU-1", delta: "-2", reason: "recount" });
      const cb = await peer.callback(ix.id, 5_000);
      expect(cb.body.type).toBe(5);
      expect(hold.state.done).toBe(0);
    } finally {
      hold.open();
    }
    const edit = await peer.waitFor("PATCH", new RegExp(`^/webhooks/${APP_ID}/itoken-${ix.id}/messages/@original$`));
    expect(edit.body.embeds[0].title).toContain("SKU-1");
    expect((await app.store.products.findById("SKU-1").lean())!.onHand).toBe(38);
  });
});

describe("hints naming /complaint assign", () => {
  it("a literal id fills the id option, so the placeholder after it keeps its own name, in both languages", async () => {
    const set = buildCommandSet(await commandsOnce());
    expect(slashLine(set, "complaint assign C-1 <identity>")).toBe("/complaint assign id:C-1 identity:<identity>");
    expect(slashLine(set, "complaint assign C-1 <身份>")).toBe("/complaint assign id:C-1 identity:<身份>");
    // Placeholders alone, and an option's placeholder of several words, as before.
    expect(slashLine(set, "complaint assign <id> <identity>")).toBe("/complaint assign id:<id> identity:<identity>");
    expect(slashLine(set, "complaint new [link=<message url> [author=<identity>]] <text…>")).toBe("/complaint new [link:<message url> [author:<identity>]] text:<text…>");
  });

  it("a support member pressing Claim on an escalated complaint is told how to ask for it in slash form", async () => {
    const sue: PeerUser = { id: nextId(), username: "Sue", roles: [] };
    await app.services.identity.grant(`discord:${sue.id}`, "support", "shell:admin");
    const c = await app.services.complaints.create({ text: "Wants a manager", by: `discord:${staff.id}` });
    const id = c.kind === "created" ? c.complaint._id : "";
    await app.services.complaints.escalate(id, `discord:${sue.id}`, "asks for a manager");
    const card = peer.message(peer.channelId, { embeds: [{ title: `Complaint ${id}` }], components: [{ type: 1, components: [{ type: 2, custom_id: `complaint claim ${id}`, label: "Claim", style: 1 }] }] });
    const en = await answer(peer.press(sue, card, `complaint claim ${id}`).id);
    expect(en.data.embeds[0].description).toContain(`(\`/complaint assign id:${id} identity:<identity>\`)`);
    const zh = await answer(peer.press({ ...sue, locale: "zh-CN" }, card, `complaint claim ${id}`).id);
    expect(zh.data.embeds[0].description).toContain(`（\`/complaint assign id:${id} identity:<身份>\`）`);
  });
});
