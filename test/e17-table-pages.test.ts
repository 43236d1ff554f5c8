/**
 * A page of a list too long for a chat platform's messages (issues #5 and #6's area), through the
 * local Discord and Slack peers (test/peers/) and the real discord.js and Bolt clients. When even
 * the follow-ups could not hold a page (`audit limit=100` of long rows), the last message said
 * which rows it showed, but the page line ("Entries 1–100") and the next page's command still went
 * on after row 100: the rows between could never be seen. The page now ends at the last row shown,
 * its page line and next page's command those of that row, so the next page goes on right after it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import type { Block } from "../adapters/slack/blocks.js";
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import type { App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import type { TestDb } from "./helpers/db.js";
import { discordHarness } from "./helpers/discord.js";
import { product } from "./helpers/app.js";
import { nextId, type DiscordPeer, type PeerUser } from "./peers/discord-peer.js";
import { postToBot, SlackPeer, slashBody } from "./peers/slack-peer.js";

const TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcdE.e17-pages-0123456789";
const APP_ID = nextId();
const MANAGER_ROLE = nextId();
const max: PeerUser = { id: nextId(), username: "Max", roles: [MANAGER_ROLE] };

const SIGNING_SECRET = "signing-secret-e17-pages";
const TEAM = "T0PEER";
const SLACK_MAX = "UMAX";

let peer: DiscordPeer;
let db: TestDb;
let app: App;
let adapter: DiscordAdapter;
let slackPeer: SlackPeer;
let slack: SlackAdapter;
let eventsUrl: string;
const clock = new FixedClock("2026-11-25T04:00:00Z");
/** The Refs of the trail, newest first (as `audit` lists them). */
let refs: string[];

/** A manager with a long name: the Actor column is wide on every row. */
const LONG_ACTOR = `shell:${"warehouse-night-shift-lead.".repeat(3)}`.slice(0, 70);

beforeAll(async () => {
  ({ peer, db, app, adapter } = await discordHarness({ token: TOKEN, applicationId: APP_ID, role: { id: MANAGER_ROLE, name: "Managers", as: "manager" }, clock }));
  await adapter.start();
  await app.services.identity.grant(LONG_ACTOR, "manager", "shell:admin");
  await app.services.identity.grant(`slack:${TEAM}:${SLACK_MAX}`, "manager", "shell:admin");
  // 200 refused changes on the trail: each row wide (its actor, its command and the reason,
  // which repeats the SKU typed), the `&<>`s taking four or five characters each escaped for Slack.
  for (let i = 1; i <= 200; i++) {
    const r = await app.core.invoke({ identity: LONG_ACTOR, platform: "shell", text: `stock adjust SKU-${"&<>".repeat(10)}${String(i).padStart(3, "0")} +1 reason="recount & <check> & recount"` });
    expect(r.outcome).toBe("user_error");
  }
  const page = (await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "audit limit=100 page=1" })).reply;
  const refAt = page.table!.columns.indexOf("Ref");
  refs = page.table!.rows.map((r) => r[refAt]!);
  const next = (await app.core.invoke({ identity: "shell:admin", platform: "shell", text: `audit before=${refs[99]} limit=100 page=2` })).reply;
  refs.push(...next.table!.rows.map((r) => r[refAt]!));

  slackPeer = await new SlackPeer(TEAM).start();
  slackPeer.users.set(SLACK_MAX, { id: SLACK_MAX, name: "max", locale: "en-US" });
  const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", SLACK_BOT_TOKEN: "xoxb-e17-pages", SLACK_SIGNING_SECRET: SIGNING_SECRET });
  slack = new SlackAdapter({ core: app.core, services: app.services, config, logger: silentLogger, slackApiUrl: slackPeer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" }, sleep: async () => {} });
  const { port } = await slack.start();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
}, 120_000);

afterAll(async () => {
  await slack?.stop();
  await slackPeer?.stop();
  await adapter?.stop();
  await peer?.stop();
  await db?.close();
});

type Embed = { title?: string; description?: string; footer?: { text: string } };
type Message = { embeds?: Embed[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FOLLOWS = /follow below|见下方消息/;

/** The messages a Discord interaction was answered with, in order, once the last says nothing more follows. */
async function answers(id: string): Promise<Message[]> {
  await peer.callback(id);
  const token = `itoken-${id}`;
  const until = Date.now() + 15_000;
  for (;;) {
    const msgs: Message[] = [];
    for (const r of peer.requests) {
      if (r.method === "POST" && r.path === `/interactions/${id}/${token}/callback` && r.body.type === 4) msgs.push(r.body.data);
      else if (r.method === "PATCH" && r.path === `/webhooks/${APP_ID}/${token}/messages/@original`) msgs.push(r.body);
      else if (r.method === "POST" && r.path === `/webhooks/${APP_ID}/${token}`) msgs.push(r.body);
    }
    const last = msgs.at(-1);
    if (last && !FOLLOWS.test(JSON.stringify(last.embeds ?? []))) return msgs;
    if (Date.now() > until) throw new Error(`no last message for ${id}: ${JSON.stringify(msgs).slice(0, 2000)}`);
    await sleep(50);
  }
}

/** The table row lines (after a code block's header rule) of some texts, in order. */
function rowLines(texts: string[], fence: RegExp): string[] {
  const rows: string[] = [];
  for (const text of texts) {
    for (const block of text.matchAll(fence)) {
      const lines = block[1]!.split("\n");
      const rule = lines.findIndex((l) => /^─+( +─+)*$/.test(l));
      rows.push(...lines.slice(rule + 1).filter((l) => !/^… \+\d+$/.test(l)));
    }
  }
  return rows;
}

/** The Ref each row line shows (refs are unique on the trail). */
const refsOf = (rows: string[]) => rows.map((row) => refs.find((ref) => row.includes(ref)));

describe("a page longer than the messages a platform takes for it", () => {
  it("Discord: /audit limit:100 ends at the last row its five messages hold; the footer's page line and next page's command are that row's, and the next page goes on right after it", async () => {
    const msgs = await answers(peer.slash(max, "audit", { limit: 100 }).id);
    const rows = rowLines(msgs.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g);
    const k = rows.length;
    expect(k).toBeGreaterThan(20);
    expect(k).toBeLessThan(100); // the page is longer than the messages hold
    expect(refsOf(rows)).toEqual(refs.slice(0, k)); // in order, none skipped
    const all = JSON.stringify(msgs);
    expect(all).not.toMatch(/left out|table cut/); // no row is lost
    const footer = msgs[0]!.embeds![0]!.footer!.text;
    expect(footer).toContain(`Entries 1–${k} of 200`);
    expect(footer).toContain(`/audit before:${refs[k - 1]} limit:${k} page:2`);

    // The next page, as the footer gives it, starts with the row after the last one shown.
    const next = await answers(peer.slash(max, "audit", { before: refs[k - 1]!, limit: k, page: 2 }).id);
    const nextRows = rowLines(next.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g);
    expect(refsOf(nextRows)[0]).toBe(refs[k]);
    expect(next[0]!.embeds![0]!.footer!.text).toContain(`Entries ${k + 1}–${k + nextRows.length} of 200`);
  }, 60_000);

  it("Slack: /ops audit limit=100 ends at the last row its four messages hold; the context's page line and next page's command are that row's, and the next page goes on right after it", async () => {
    const slash = async (text: string) => {
      const responseUrl = slackPeer.responseUrl();
      const ack = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: slashBody({ command: "/ops", text, user: SLACK_MAX, team: TEAM, responseUrl }) });
      expect(ack.status).toBe(200);
      await slackPeer.waitForResponse(responseUrl, `the answer to ${text}`);
      await slack.idle();
      return slackPeer.responsesTo(responseUrl).map((r) => r.body as { blocks: Block[] });
    };
    const sections = (posts: { blocks: Block[] }[]) => posts.flatMap((p) => p.blocks.filter((b) => b.type === "section").map((b) => (b.text as { text: string }).text));
    const contextOf = (posts: { blocks: Block[] }[]) => JSON.stringify(posts.flatMap((p) => p.blocks.filter((b) => b.type === "context")));
    const posts = await slash("audit limit=100");
    expect(posts.length).toBe(4);
    const rows = rowLines(sections(posts), /```([\s\S]*?)```/g);
    const k = rows.length;
    expect(k).toBeGreaterThan(20);
    expect(k).toBeLessThan(100);
    expect(refsOf(rows)).toEqual(refs.slice(0, k));
    expect(JSON.stringify(posts.at(-1)!.blocks)).not.toMatch(/… \+\d+/); // nothing said left out: nothing is
    const context = contextOf(posts);
    expect(context).toContain(`Entries 1–${k} of 200`);
    expect(context).toContain(`audit before=${refs[k - 1]} limit=${k} page=2`);

    const next = await slash(`audit before=${refs[k - 1]} limit=${k} page=2`);
    expect(refsOf(rowLines(sections(next), /```([\s\S]*?)```/g))[0]).toBe(refs[k]);
    expect(contextOf(next)).toContain(`Entries ${k + 1}–`);
  }, 60_000);

  it("Discord: a later page cut short (page 2 of 90 rows, too many for its messages) ends at the last row they hold, and its next page's command goes on right after it with from:, pages still of 90", async () => {
    const msgs = await answers(peer.slash(max, "audit", { limit: 90, page: 2 }).id);
    const rows = rowLines(msgs.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g);
    const k = rows.length;
    // Rows 91–180 do not fit; the page holds as many as its messages take (before, only 45: pages of 45 from row 1).
    expect(k).toBeGreaterThan(45);
    expect(k).toBeLessThan(90);
    expect(refsOf(rows)).toEqual(refs.slice(90, 90 + k));
    const footer = msgs[0]!.embeds![0]!.footer!.text;
    expect(footer).toContain(`Entries 91–${90 + k} of 200`);
    expect(footer).toContain(`/audit before:${refs[89 + k]} limit:90 from:${91 + k}`);
    expect(JSON.stringify(msgs)).not.toMatch(/left out|table cut/);

    const next = await answers(peer.slash(max, "audit", { before: refs[89 + k]!, limit: 90, from: 91 + k }).id);
    expect(refsOf(rowLines(next.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g))).toEqual(refs.slice(90 + k));
    expect(next[0]!.embeds![0]!.footer!.text).toContain(`Entries ${91 + k}–200 of 200`);
  }, 60_000);

  it("Discord: /stock low limit:50 of wide rows (one product's long Chinese name) ends at the last row shown, and its next page, of as many rows, starts right after it", async () => {
    const skus = Array.from({ length: 60 }, (_, i) => `SKU-W${String(i).padStart(2, "0")}`);
    await app.store.products.insertMany(skus.map((sku, i) => product(sku, { name: i === 0 ? "保温杯".repeat(66) : `Travel mug ${sku}`, onHand: 1 + (i % 5), reorderPoint: 10 })));
    const low = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text }).then((r) => r.reply.table!.rows.map((row) => row[0]!));
    const ranked = [...(await low("stock low limit=50")), ...(await low("stock low limit=50 page=2"))];
    expect(ranked).toHaveLength(60);

    const msgs = await answers(peer.slash(max, "stock low", { limit: 50 }).id);
    const rows = rowLines(msgs.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g);
    const k = rows.length;
    expect(k).toBeLessThan(50);
    expect(rows.map((r) => r.split(" ")[0])).toEqual(ranked.slice(0, k));
    expect(JSON.stringify(msgs)).not.toMatch(/left out|table cut/);
    const footer = msgs[0]!.embeds![0]!.footer!.text;
    expect(footer).toContain(`Showing 1–${k} of 60`);
    expect(footer).toContain(`/stock low limit:${k} page:2`);

    const next = await answers(peer.slash(max, "stock low", { limit: k, page: 2 }).id);
    const nextRows = rowLines(next.flatMap((m) => (m.embeds ?? []).map((e) => e.description ?? "")), /```\n([\s\S]*?)\n```/g);
    expect(nextRows[0]!.split(" ")[0]).toBe(ranked[k]);
  }, 60_000);
});
