/**
 * Discord tables longer than one message (issue #6's area), through the local Discord
 * (test/peers/discord-peer.ts) and the real discord.js client: `/audit limit:100` showed the rows
 * one embed held ("table cut to fit Discord; n of 100 rows") while its next page went on after
 * row 100, so the rest could never be seen. The rows now go on in follow-up messages under the
 * table's header, as private as the answer (a slash command answered at once or deferred, a
 * button pressed in the server or in a DM); a table too long even for those says which rows it
 * showed, and shows no fewer than it says.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { LIMITS, MORE_MESSAGES } from "../adapters/discord/embeds.js";
import type { App } from "../src/app.js";
import { FixedClock } from "../src/core/clock.js";
import type { TestDb } from "./helpers/db.js";
import { discordHarness } from "./helpers/discord.js";
import { paidOrder, product } from "./helpers/app.js";
import { nextId, type DiscordPeer, type PeerUser } from "./peers/discord-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.e16-pages-0123456789";
const APP_ID = nextId();
const MANAGER_ROLE = nextId();

const max: PeerUser = { id: nextId(), username: "Max", roles: [MANAGER_ROLE] };
const li: PeerUser = { id: nextId(), username: "Li", roles: [MANAGER_ROLE], locale: "zh-CN" };

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let adapter: DiscordAdapter;
const clock = new FixedClock("2026-11-25T04:00:00Z");
/** The Refs of `audit limit=100`'s rows, as the core lists them. */
let refs: string[];

beforeAll(async () => {
  ({ peer, db, app, adapter } = await discordHarness({ token: TOKEN, applicationId: APP_ID, role: { id: MANAGER_ROLE, name: "Managers", as: "manager" }, clock }));
  await app.store.products.insertMany([product("SKU-1", { name: "Thermos", onHand: 20 })]);
  await adapter.start();
  // 110 entries on the trail: a page of 100 is longer than one Discord message.
  for (let i = 1; i <= 110; i++) {
    await app.core.invoke({ identity: "shell:admin", platform: "shell", text: `stock adjust SKU-1 +1 reason="cycle count number ${i} for the east warehouse"` });
  }
  const page = (await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "audit limit=100" })).reply;
  const refAt = page.table!.columns.indexOf("Ref");
  refs = page.table!.rows.map((r) => r[refAt]!);
}, 120_000);

afterAll(async () => {
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

type Embed = { title?: string; description?: string; footer?: { text: string }; fields?: { name: string; value: string }[] };
type Message = { embeds?: Embed[]; content?: string; flags?: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FOLLOWS = /follow below|见下方消息/;

/**
 * The messages an interaction was answered with, in order: the callback's (or, deferred, the edit
 * of the original), then its follow-ups; once the last of them says nothing more follows.
 */
async function answers(id: string): Promise<Message[]> {
  await peer.callback(id);
  const token = `itoken-${id}`;
  const until = Date.now() + 15_000;
  for (;;) {
    const msgs: Message[] = [];
    for (const r of peer.requests) {
      if (r.method === "POST" && r.path === `/interactions/${id}/${token}/callback` && (r.body.type === 4 || r.body.type === 7)) msgs.push(r.body.data);
      else if (r.method === "PATCH" && r.path === `/webhooks/${APP_ID}/${token}/messages/@original`) msgs.push(r.body);
      else if (r.method === "POST" && r.path === `/webhooks/${APP_ID}/${token}`) msgs.push(r.body);
    }
    const last = msgs.at(-1);
    if (last && !FOLLOWS.test(JSON.stringify(last.embeds ?? []))) return msgs;
    if (Date.now() > until) throw new Error(`no last message for ${id}: ${JSON.stringify(msgs).slice(0, 2000)}`);
    await sleep(50);
  }
}

/** Discord's limits on one message's embeds: 10 of them, 4,096 a description, 6,000 in all. */
function expectWithinLimits(m: Message): void {
  const embeds = m.embeds ?? [];
  expect(embeds.length).toBeLessThanOrEqual(LIMITS.embeds);
  for (const e of embeds) expect(e.description?.length ?? 0).toBeLessThanOrEqual(LIMITS.description);
  const size = embeds.reduce((n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((k, f) => k + f.name.length + f.value.length, 0), 0);
  expect(size).toBeLessThanOrEqual(LIMITS.total);
}

/** Every table row line (between a code block's header rule and its end) of the messages. */
function tableRows(msgs: Message[]): string[] {
  const rows: string[] = [];
  for (const m of msgs) {
    for (const e of m.embeds ?? []) {
      for (const block of (e.description ?? "").matchAll(/```\n([\s\S]*?)\n```/g)) {
        const lines = block[1]!.split("\n");
        const rule = lines.findIndex((l) => /^─+( +─+)*$/.test(l));
        rows.push(...lines.slice(rule + 1));
      }
    }
  }
  return rows;
}

/** Asserts the page's 100 rows are all shown, once each, privately, each message within Discord's limits and under the header. */
function expectWholePage(msgs: Message[], header: RegExp): void {
  expect(msgs.length).toBeGreaterThan(1);
  expect(msgs.length).toBeLessThanOrEqual(1 + MORE_MESSAGES);
  for (const m of msgs) {
    expect(m.flags! & 64, "ephemeral like the answer").toBe(64);
    expectWithinLimits(m);
  }
  const rows = tableRows(msgs);
  expect(rows).toHaveLength(100);
  for (const [i, ref] of refs.entries()) expect(rows[i], ref).toContain(ref); // in order, none skipped
  // Each follow-up reads alone: numbered under the title, the table's header atop it.
  for (const [k, m] of msgs.slice(1).entries()) {
    expect(m.embeds![0]!.title).toMatch(new RegExp(`\\(${k + 2}/${msgs.length}\\)$`));
    expect(m.embeds![0]!.description).toMatch(header);
  }
  expect(JSON.stringify(msgs)).not.toMatch(/table cut to fit|表格已截断/);
}

describe("a table longer than one Discord message", () => {
  it("/audit limit:100 shows all 100 rows before its next page: those the reply cannot hold follow in private follow-ups under the header, in the reader's language", async () => {
    const msgs = await answers(peer.slash(max, "audit", { limit: 100 }).id);
    expectWholePage(msgs, /^```\nWhen +Actor/);
    // The first says which rows it holds and that the rest follow; its footer keeps the next page's command.
    const first = msgs[0]!.embeds![0]!;
    expect(first.description).toMatch(/\n```\n\(rows 1–\d+ of 100; the rest follow below\)$/);
    expect(first.footer!.text).toContain(`before:${refs[99]}`);

    const zh = await answers(peer.slash(li, "audit", { limit: 100 }).id);
    expectWholePage(zh, /^```\n时间/);
    expect(zh[0]!.embeds![0]!.description).toMatch(/（第 1–\d+ 行，共 100 行；其余见下方消息）$/);
  }, 60_000);

  it("answered after a deferral (a slow database), the private answer and its follow-ups stay private", async () => {
    // One slow read: the adapter defers, then replaces its public placeholder with private messages.
    const query = app.services.audit.query.bind(app.services.audit);
    const spy = vi.spyOn(app.services.audit, "query").mockImplementationOnce(async (q) => {
      await sleep(1_800);
      return query(q);
    });
    try {
      const ix = peer.slash(max, "audit", { limit: 100 });
      expect((await peer.callback(ix.id)).body.type).toBe(5);
      const msgs = (await answers(ix.id)).filter((m) => m.embeds?.length);
      await peer.waitFor("DELETE", new RegExp(`^/webhooks/${APP_ID}/itoken-${ix.id}/messages/@original$`));
      expectWholePage(msgs, /^```\nWhen +Actor/);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it("a button whose answer is such a table, pressed in the server or in a DM, goes on the same way, to the presser alone", async () => {
    const button = "audit limit=100";
    const card = () => peer.message(peer.channelId, { embeds: [{ title: "Trail" }], components: [{ type: 1, components: [{ type: 2, custom_id: button, label: "Last 100", style: 2 }] }] });
    expectWholePage(await answers(peer.press(max, card(), button).id), /^```\nWhen +Actor/);
    expectWholePage(await answers(peer.pressInDm(max, card(), button).id), /^```\nWhen +Actor/);
  }, 60_000);

  it("a table too long even for the follow-ups (an order of 300 long lines) says which rows it shows, and shows exactly those", async () => {
    const names = Array.from({ length: 300 }, (_, i) => `SKU-L${String(i).padStart(3, "0")}`);
    await app.store.products.insertMany(names.map((sku) => product(sku, { name: `${sku} insulated stainless steel travel mug with a leak-proof lid and a carry loop, ${"large ".repeat(12)}` })));
    await app.store.orders.insertMany([paidOrder("ORD-300300", 300 * 1000, "2026-11-24T02:00:00Z", { items: names.map((sku) => ({ sku, qty: 1, unitPrice: 1000 })), subtotal: 300 * 1000 })]);
    const msgs = await answers(peer.slash(max, "order show", { "order-no": "ORD-300300" }).id);
    expect(msgs).toHaveLength(1 + MORE_MESSAGES);
    for (const m of msgs) expectWithinLimits(m);
    const rows = tableRows(msgs);
    const last = msgs.at(-1)!.embeds!.at(-1)!.description!;
    const said = /\(table cut to fit Discord: rows 1–(\d+) of 300 shown; rows (\d+)–300 did not fit and are left out: ask for fewer rows at a time to see them\)$/.exec(last);
    expect(said, last.slice(-300)).not.toBeNull();
    expect(Number(said![1])).toBe(rows.length);
    expect(Number(said![2])).toBe(rows.length + 1);
    for (const [i, sku] of names.slice(0, rows.length).entries()) expect(rows[i]!.startsWith(sku), sku).toBe(true);
  }, 60_000);
});
