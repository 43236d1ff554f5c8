/**
 * Discord adapter fixes, through the local Discord (test/peers/discord-peer.ts) and the real
 * discord.js client: with several servers in DISCORD_GUILD_IDS, a DM's sender is looked up in
 * DISCORD_GUILD_ID first and alone (its answer also gives the roles: one lookup in the usual case),
 * and in the others all at once only when it does not confirm (the first to confirm wins), so slow
 * servers cannot use up Discord's 3 seconds; a confirmed membership is remembered for a short
 * while, a refusal never; someone in none is still refused. And usage
 * lines in slash form never repeat an option's name inside its placeholder.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildCommandSet, slashLine } from "../adapters/discord/commands.js";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { commandsOnce, createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { usageOf } from "../src/core/registry.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { product } from "./helpers/app.js";
import { DiscordPeer, nextId, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.e5-token-0123456789";
const APP_ID = nextId();
const STAFF_ROLE = nextId();
/** Allowed servers other than the peer's own, listed before it: each one is asked about the sender. */
const OTHERS = [nextId(), nextId(), nextId(), nextId()];

const staff: PeerUser = { id: nextId(), username: "Sam", roles: [STAFF_ROLE] };
/** In none of the allowed servers (their interactions come from a server elsewhere). */
const stranger: PeerUser = { id: nextId(), username: "Eve", guildId: nextId() };

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let adapter: DiscordAdapter;

/**
 * How the other servers answer a member lookup: after `delayMs` (`hang`: only after 2.5 s, past
 * the bot's 800 ms), the member for a user in `members` (server id → users), else Unknown Member.
 */
const others = { delayMs: 0, hang: new Set<string>(), members: new Map<string, PeerUser[]>() };
/** When each member lookup of the other servers arrived and was answered (ms, performance.now()). */
const lookups: { guild: string; arrived: number; answered?: number }[] = [];
/** How the peer's own server answers member lookups: the next `slow` ones after `slowMs`, the rest after `delayMs`. */
const home = { delayMs: 0, slow: 0, slowMs: 1_000 };
/** When each member lookup of the peer's own server arrived and was answered (ms, performance.now()). */
const homeLookups: { user: string; arrived: number; answered?: number }[] = [];

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID, roles: [{ id: STAFF_ROLE, name: "Ops" }], heartbeatMs: 500 });
  // The other allowed servers, served beside the peer's own: the guild itself, and member
  // lookups answered "Unknown Member" as slowly as the test says.
  const served = peer as unknown as { onRequest(req: IncomingMessage, res: ServerResponse): Promise<void>; guild(): Record<string, unknown> };
  const handle = served.onRequest.bind(peer);
  served.onRequest = async (req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.replace(/^\/api\/v10/, "");
    const m = /^\/guilds\/(\d+)(\/members\/(\d+))?$/.exec(path);
    if (req.method === "GET" && m?.[1] === peer.guildId && m[3]) {
      const entry: (typeof homeLookups)[number] = { user: m[3], arrived: performance.now() };
      homeLookups.push(entry);
      await sleep(home.slow > 0 && home.slow-- ? home.slowMs : home.delayMs);
      entry.answered = performance.now();
      return handle(req, res);
    }
    if (req.method !== "GET" || !m || !OTHERS.includes(m[1]!)) return handle(req, res);
    const json = (status: number, value: unknown) => void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (!m[2]) {
      const g = served.guild();
      return json(200, { ...g, id: m[1], name: `Shop ${m[1]}`, roles: [{ ...(g.roles as Record<string, unknown>[])[0], id: m[1] }], channels: [] });
    }
    const entry: (typeof lookups)[number] = { guild: m[1]!, arrived: performance.now() };
    lookups.push(entry);
    await sleep(others.hang.has(m[1]!) ? 2_500 : others.delayMs);
    entry.answered = performance.now();
    const user = others.members.get(m[1]!)?.find((u) => u.id === m[3]);
    if (user) return json(200, (peer as unknown as { memberOf(u: PeerUser): unknown }).memberOf(user));
    json(404, { message: "Unknown Member", code: 10007 });
  };
  await peer.start();
  db = await connectTestDb();
  const config = loadConfig({
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_GUILD_ID: peer.guildId,
    DISCORD_GUILD_IDS: [...OTHERS, peer.guildId].join(","),
    DISCORD_ROLE_MAP: `${STAFF_ROLE}:staff`,
  });
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
const button = "stock adjust SKU-1001 +5 reason=restock";
const ownLookups = () => peer.find("GET", new RegExp(`^/guilds/${peer.guildId}/members/`));

/** Presses the card's button (`line`) in a DM as `user`: the callback. */
async function pressInDm(user: PeerUser, line = button) {
  const message = peer.message(peer.channelId, { embeds: [{ title: "Card" }], components: [{ type: 1, components: [{ type: 2, custom_id: line, label: "Go", style: 1 }] }] });
  return { cb: await peer.callback(peer.pressInDm(user, message, line).id, 15_000) };
}

/** Types in a slash command's option in a DM as `user` (an autocomplete interaction as Discord sends it from a DM): the choices offered. */
async function suggestInDm(user: PeerUser, name: string, options: Record<string, string>, focused: string): Promise<unknown[]> {
  const [top, sub] = name.split(" ");
  const opts = Object.entries(options).map(([n, value]) => ({ name: n, type: 3, value, ...(n === focused ? { focused: true } : {}) }));
  const base = (peer as unknown as { base(u: PeerUser, type: number, data: object): Record<string, unknown> }).base.bind(peer);
  const ix = base(user, 4, { id: nextId(), name: top, type: 1, options: sub ? [{ name: sub, type: 1, options: opts }] : opts });
  const dm = `9${user.id}`.slice(0, 20);
  delete ix.member;
  delete ix.guild_id;
  Object.assign(ix, {
    user: { id: user.id, username: user.username, discriminator: "0", global_name: user.username, avatar: null },
    channel_id: dm,
    channel: { id: dm, type: 1 },
    context: 1,
    authorizing_integration_owners: { "0": peer.guildId },
  });
  peer.dispatch("INTERACTION_CREATE", ix);
  const cb = await peer.callback(ix.id as string, 15_000);
  expect(cb.body.type).toBe(8);
  return cb.body.data.choices as unknown[];
}

const homeLookupsOf = (user: PeerUser) => homeLookups.filter((l) => l.user === user.id);

describe("DM membership check with several servers (DISCORD_GUILD_IDS)", () => {
  it("asks DISCORD_GUILD_ID first and alone: a member of it costs one lookup, which also gives the roles; the other servers, slow or not, are not asked", async () => {
    const before = await onHand("SKU-1001");
    const own = ownLookups().length;
    for (const g of OTHERS) others.hang.add(g);
    lookups.length = 0;
    try {
      const { cb } = await pressInDm(staff);
      // Run, as staff (the role from the peer's server): the card updated (or deferred, on a busy machine).
      expect([6, 7], JSON.stringify(cb.body)).toContain(cb.body.type);
      await vi.waitFor(async () => expect(await onHand("SKU-1001")).toBe(before + 5), { timeout: 15_000 }); // a deferred press finishes after its callback
      expect(lookups).toEqual([]);
      expect(ownLookups().length - own).toBe(1);
    } finally {
      others.hang.clear();
    }
  });

  it("a member of the last listed other server only is let through while the servers before it are slow; those are asked, all at once, only once DISCORD_GUILD_ID has said not a member", async () => {
    /** In OTHERS[3] only (not the peer's server). */
    const kim: PeerUser = { id: nextId(), username: "Kim", guildId: OTHERS[3] };
    others.members.set(OTHERS[3]!, [kim]);
    for (const g of OTHERS.slice(0, 3)) others.hang.add(g);
    home.delayMs = 150; // "not a member", in 150 ms
    lookups.length = 0;
    try {
      const { cb } = await pressInDm(kim, "stock show SKU-1001");
      expect(JSON.stringify(cb.body)).toContain("SKU-1001");
      expect(JSON.stringify(cb.body)).not.toContain("shopops answers the members");
      expect(JSON.stringify(cb.body)).not.toContain("Could not confirm");
      expect(lookups.map((l) => l.guild).sort()).toEqual([...OTHERS].sort());
      const asked = homeLookupsOf(kim)[0]!;
      expect(Math.min(...lookups.map((l) => l.arrived))).toBeGreaterThanOrEqual(asked.answered!);
      expect(Math.max(...lookups.map((l) => l.arrived))).toBeLessThan(Math.min(...lookups.map((l) => l.answered ?? Infinity)));
    } finally {
      home.delayMs = 0;
      others.hang.clear();
      await sleep(2_600); // the slow lookups end (answered late, to nobody)
    }
  });

  it("takes the roles from a fresh lookup of DISCORD_GUILD_ID when the check's own lookup of it was too slow (another server confirmed the member)", async () => {
    const before = await onHand("SKU-1001");
    /** Staff in the peer's server, and a member of OTHERS[1] too. */
    const lee: PeerUser = { id: nextId(), username: "Lee", roles: [STAFF_ROLE] };
    others.members.set(OTHERS[1]!, [lee]);
    home.slow = 1; // the check's lookup of the peer's server: past the bot's 800 ms
    try {
      const { cb } = await pressInDm(lee);
      expect([6, 7], JSON.stringify(cb.body)).toContain(cb.body.type);
      await vi.waitFor(async () => expect(await onHand("SKU-1001")).toBe(before + 5), { timeout: 15_000 });
      expect(homeLookupsOf(lee)).toHaveLength(2); // the slow one, then one for the roles
    } finally {
      home.slow = 0;
    }
  });

  it("suggestions typed in a DM: one lookup a keystroke for a member of DISCORD_GUILD_ID; for a member of another server only the first keystroke asks the others (a confirmed membership is remembered a while, the roles asked each time)", async () => {
    const typist: PeerUser = { id: nextId(), username: "Tia", roles: [STAFF_ROLE] };
    /** In OTHERS[2] only. */
    const remote: PeerUser = { id: nextId(), username: "Rob", guildId: OTHERS[2] };
    others.members.set(OTHERS[2]!, [remote]);
    lookups.length = 0;
    for (const typed of ["s", "sk", "sku-1"]) {
      expect(await suggestInDm(typist, "stock adjust", { sku: typed }, "sku")).toContainEqual({ name: "SKU-1001 · Wireless Mouse", value: "SKU-1001" });
    }
    expect(lookups).toEqual([]);
    expect(homeLookupsOf(typist)).toHaveLength(3);
    for (const typed of ["m", "mo", "mouse"]) {
      expect(await suggestInDm(remote, "stock show", { query: typed }, "query")).toContainEqual({ name: "SKU-1001 · Wireless Mouse", value: "SKU-1001" });
    }
    expect(lookups.map((l) => l.guild).sort()).toEqual([...OTHERS].sort());
    // The first keystroke: the check (not a member), then the roles; each later one: the roles.
    expect(homeLookupsOf(remote)).toHaveLength(4);
  });

  it("someone in none of them is refused once every server has said so, in the time of one lookup; a server that does not answer makes it 'try again'", async () => {
    const before = await onHand("SKU-1001");
    const audits = await app.store.audit.countDocuments({});
    others.delayMs = 700; // each under the bot's 800 ms: all four in turn would take 2.8 s
    try {
      lookups.length = 0;
      const refused = await pressInDm(stranger);
      expect(refused.cb.body).toMatchObject({ type: 4, data: { content: "shopops answers the members of the shop's Discord server only; ask the shop's admin." } });
      expect(refused.cb.body.data.flags & 64).toBe(64);
      // Asked at once, not in turn (no timing asserted: a busy machine may be slow either way).
      expect(lookups.map((l) => l.guild).sort()).toEqual([...OTHERS].sort());
      expect(Math.max(...lookups.map((l) => l.arrived))).toBeLessThan(Math.min(...lookups.map((l) => l.answered ?? Infinity)));
      // One server does not answer in time: nobody confirmed, some could not say: "try again".
      others.hang.add(OTHERS[0]!);
      const unconfirmed = await pressInDm(stranger);
      expect(unconfirmed.cb.body.data.content).toBe("Could not confirm you are a member of this shop's server (Discord did not answer in time); nothing was run. Try again.");
    } finally {
      others.delayMs = 0;
      others.hang.clear();
      await sleep(2_600);
    }
    expect(await onHand("SKU-1001")).toBe(before);
    expect(await app.store.audit.countDocuments({})).toBe(audits);
  });
});

describe("usage lines in slash form", () => {
  it("name each option once: a placeholder that starts with the option's name drops it", async () => {
    const set = buildCommandSet(await commandsOnce());
    expect(slashLine(set, "digest rebuild <from YYYY-MM-DD> [to YYYY-MM-DD]")).toBe("/digest rebuild from:<YYYY-MM-DD> [to:YYYY-MM-DD]");
    expect(slashLine(set, "digest rebuild <from 起始日 YYYY-MM-DD> [to 截止日 YYYY-MM-DD]")).toBe("/digest rebuild from:<起始日 YYYY-MM-DD> [to:截止日 YYYY-MM-DD]");
    // The same in the Chinese usage of other commands, options given by name too.
    expect(slashLine(set, "apikey create <label 名称> scopes=<orders,products>")).toBe("/apikey create label:<名称> scopes:<orders,products>");
    expect(slashLine(set, "stock snooze <sku> <duration 时长 30m|24h|3d|off|取消>")).toBe("/stock snooze sku:<sku> duration:<时长 30m|24h|3d|off|取消>");
    expect(slashLine(set, "refund request <orderNo> <amount 金额|full 全额> reason=<原因>")).toBe("/refund request order-no:<orderNo> amount:<金额|full 全额> reason:<原因>");
    expect(slashLine(set, "complaint escalate <id> reason=<reason in words>")).toBe("/complaint escalate id:<id> reason:<in words>");
    // A placeholder that is the name alone, or a choice of words, stays as it is.
    expect(slashLine(set, "refund request <orderNo> <amount|full> reason=<text>")).toBe("/refund request order-no:<orderNo> amount:<amount|full> reason:<text>");
    expect(slashLine(set, "refund reject <id> reason=<reason>")).toBe("/refund reject id:<id> reason:<reason>");
    // No command's usage, in either language, names an option twice in a row (`from:<from …`).
    for (const locale of ["en", "zh-CN"] as const) {
      for (const c of await commandsOnce()) {
        const line = slashLine(set, usageOf(c, locale))!;
        for (const m of line.matchAll(/([a-z0-9-]+):\[*<([A-Za-z][\w-]*) /g)) expect(m[2]!.toLowerCase(), `${locale}: ${line}`).not.toBe(m[1]);
      }
    }
  });
});
