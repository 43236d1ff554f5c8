/**
 * A workspace admin's and its users' pass over the Slack adapter (e16): real Bolt over HTTP
 * against the local Slack peer, over this file's own database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import type { Block } from "../adapters/slack/blocks.js";
import { loadConfig, type Config } from "../src/config.js";
import { createLogger } from "../src/core/logger.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";
import { eventBody, postToBot, SlackPeer, slashBody } from "./peers/slack-peer.js";

const SIGNING_SECRET = "signing-secret-e16-slack";
const TEAM = "T0PEER";
const MAX = "UMAX"; // manager
const ZOE = "UZOE"; // manager, Slack in Chinese

let app: TestApp;
let peer: SlackPeer;
let slack: SlackAdapter;
let eventsUrl: string;
const logLines: string[] = [];

function slackConfig(extra: Record<string, string> = {}): Config {
  return loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    SLACK_BOT_TOKEN: "xoxb-e16-slack-token",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ...extra,
  });
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1", { name: "Thermos", onHand: 20 })]);
  for (const u of [MAX, ZOE]) await app.services.identity.grant(`slack:${TEAM}:${u}`, "manager", "shell:admin");
  peer = await new SlackPeer(TEAM).start();
  peer.users.set(MAX, { id: MAX, name: "max", locale: "en-US" });
  peer.users.set(ZOE, { id: ZOE, name: "zoe", locale: "zh-CN" });
  const logger = createLogger("info", {}, (l) => logLines.push(l));
  slack = new SlackAdapter({ core: app.core, services: app.services, config: slackConfig(), logger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" }, sleep: async () => {} });
  const { port } = await slack.start();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await peer?.stop();
  await app?.close();
});

/** A signed slash command; resolves once everything it sends is sent, with its response_url posts. */
async function slash(command: string, text: string, user = MAX) {
  const responseUrl = peer.responseUrl();
  const ack = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: slashBody({ command, text, user, team: TEAM, responseUrl }) });
  expect(ack.status).toBe(200);
  await peer.waitForResponse(responseUrl, `the answer to ${command} ${text}`);
  await slack.idle();
  return peer.responsesTo(responseUrl).map((r) => r.body);
}

async function mention(text: string, ts: string, user = MAX) {
  const event = { type: "app_mention", user, text: `<@UBOT> ${text}`, channel: "C0OPS", ts, event_ts: ts };
  expect((await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: JSON.stringify(eventBody(TEAM, event)), form: false })).status).toBe(200);
  await peer.waitFor(() => peer.callsOf("chat.postEphemeral").some((c) => c.args.thread_ts === ts), "the private answer");
  await slack.idle();
}

/** Slack's limits on one message: 50 blocks, 3,000 characters a section text, about 13,200 in all. */
function expectWithinLimits(blocks: Block[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(blocks).length).toBeLessThan(13_000);
  for (const b of blocks) if (b.type === "section" && b.text) expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(3000);
}

describe("a table longer than one Slack message", () => {
  it("audit limit=100 shows all 100 rows: those one message cannot hold follow in the next, each within Slack's limits, before the next page's command is used", async () => {
    for (let i = 1; i <= 110; i++) await app.run("shell:admin", `stock adjust SKU-1 +1 reason="cycle count number ${i} for the east warehouse"`);
    const page = (await app.run("shell:admin", "audit limit=100")).reply;
    const refAt = page.table!.columns.indexOf("Ref");
    const refs = page.table!.rows.map((r) => r[refAt]!);
    expect(refs).toHaveLength(100);
    expect(page.context?.join(" ")).toContain(`before=${refs[99]}`); // the next page starts after the 100th row

    const posts = await slash("/ops", "audit limit=100");
    expect(posts.length).toBeGreaterThan(1);
    for (const p of posts) {
      expect(p.response_type).toBe("ephemeral");
      expectWithinLimits(p.blocks as Block[]);
    }
    const shown = JSON.stringify(posts.map((p) => p.blocks));
    for (const ref of refs) expect(shown, ref).toContain(ref);
    expect(shown).not.toMatch(/… \+\d+```"\}\}\]\]$/); // the last post leaves nothing out
    // Each follow-up reads alone: the table's header comes again.
    for (const p of posts.slice(1)) expect(JSON.stringify(p.blocks)).toMatch(/```When +Actor/);

    // In a mention, the private answer goes on the same way, to the asker alone.
    await mention("audit limit=100", "1700000500.000500");
    const eph = peer.callsOf("chat.postEphemeral").filter((c) => c.args.thread_ts === "1700000500.000500");
    expect(eph.length).toBeGreaterThan(1);
    const said = JSON.stringify(eph.map((c) => c.args.blocks));
    for (const ref of refs) expect(said, ref).toContain(ref);
    for (const c of eph) expect(c.args.user).toBe(MAX);
  }, 120_000);
});

describe("Slack refusing what comes from the app's set-up", () => {
  const missingScope = () => ({ ok: false, error: "missing_scope", needed: "files:write", provided: "commands,chat:write,im:write,users:read" });

  it("a digest asked for whose chart Slack refuses (the app installed without files:write) says the chart was not sent and how an admin fixes it, in the asker's language", async () => {
    await app.store.orders.insertMany([paidOrder("ORD-E16-1", 12_900, "2026-11-24T03:00:00Z")]);
    peer.once("files.getUploadURLExternal", missingScope);
    const posts = await slash("/digest", "yesterday");
    expect(JSON.stringify(posts[0]!.blocks)).toContain("Daily digest: 2026-11-24"); // the digest itself arrives
    const note = JSON.stringify(posts.slice(1).map((p) => p.blocks));
    expect(posts.at(-1)!.response_type).toBe("ephemeral");
    expect(note).toContain("The chart was not sent: Slack refused it (`missing_scope`)");
    expect(note).toContain("lacks the `files:write` scope");
    expect(note).toContain("reinstalls the app");
    expect(logLines.some((l) => l.includes("image not sent") && l.includes("files:write"))).toBe(true);

    peer.once("files.getUploadURLExternal", missingScope);
    const zh = JSON.stringify((await slash("/digest", "yesterday", ZOE)).slice(1).map((p) => p.blocks));
    expect(zh).toContain("图表未发送：Slack 拒绝了（`missing_scope`）");
    expect(zh).toContain("缺少 `files:write` 权限范围");
  });

  it("an alert Slack refuses for the app's set-up keeps, as its last error (alerts list, the log), how to fix it: a missing scope, a channel the bot is not in, a revoked token", async () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    const cases: [string, () => Record<string, unknown>, string][] = [
      ["files.getUploadURLExternal", missingScope, "Slack error missing_scope: the installed app lacks the `files:write` scope. A workspace admin adds it"],
      ["files.completeUploadExternal", () => ({ ok: false, error: "not_in_channel" }), "Slack error not_in_channel: the bot is not a member of that channel. Invite it there (`/invite @shopops`)"],
      ["files.getUploadURLExternal", () => ({ ok: false, error: "token_revoked" }), "Slack error token_revoked: Slack no longer takes the bot token. Put the installed app's Bot User OAuth Token (xoxb-…) in SLACK_BOT_TOKEN"],
    ];
    for (const [i, [method, answer, said]] of cases.entries()) {
      const key = `e16:digest:${i}`;
      await app.services.outbox.enqueue({ key, kind: "digest", dest: { kind: "channel", platform: "slack", channel: "C0DIGEST" }, reply: { title: "Daily digest", text: "¥129", image: { filename: "digest.png", alt: "chart", data: png }, visibility: "public" } });
      peer.once(method, answer);
      expect(await app.services.outbox.dispatch(slack)).toEqual({ sent: 0, failed: 1 });
      const doc = await app.store.outbox.findById(key).lean();
      expect(doc).toMatchObject({ status: "pending" }); // kept: once fixed, it is delivered
      expect(doc!.lastError).toContain(said);
      await app.store.outbox.deleteOne({ _id: key });
    }
  });
});

describe("starting with a token that lacks what the bot needs", () => {
  const authOk = (scopes: string) => () => ({ headers: { "x-oauth-scopes": scopes }, body: { ok: true, url: "https://peer.slack.test/", team: "Peer", team_id: TEAM, user: "shopops", user_id: "UBOT", bot_id: "BBOT" } });

  it("warns at start-up of the manifest's scopes the bot token lacks, what each is for and how to add them; a token with them all is not warned of", async () => {
    const lines: string[] = [];
    const start = async (scopes: string) => {
      lines.length = 0;
      const a = new SlackAdapter({ core: app.core, services: app.services, config: slackConfig(), logger: createLogger("info", {}, (l) => lines.push(l)), slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" } });
      peer.once("auth.test", authOk(scopes));
      peer.once("auth.test", authOk(scopes));
      await a.start();
      await a.stop();
      return lines.filter((l) => l.includes("lacks scopes"));
    };
    const warned = await start("commands,chat:write,chat:write.public,im:write,users:read,app_mentions:read,reactions:read,channels:history");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("files:write (files.uploadV2 (charts and images))");
    expect(warned[0]).toContain("groups:history");
    expect(warned[0]).not.toContain("im:write");
    expect(warned[0]).toContain("then reinstall the app");
    expect(await start("commands,chat:write,chat:write.public,im:write,users:read,files:write,app_mentions:read,reactions:read,channels:history,groups:history")).toEqual([]);
  });

  it("Socket Mode with an app-level token lacking connections:write stops at start-up naming the variable and the scope", async () => {
    const a = new SlackAdapter({ core: app.core, services: app.services, config: slackConfig({ SLACK_APP_TOKEN: "xapp-1-A0PEER-e16" }), logger: createLogger("info", {}, () => {}), slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 } });
    peer.once("apps.connections.open", () => ({ ok: false, error: "missing_scope", needed: "connections:write", provided: "authorizations:read" }));
    const e = await a.start().then(() => undefined, (x: unknown) => x);
    await a.stop().catch(() => undefined);
    expect(String((e as Error)?.message ?? e)).toContain("SLACK_APP_TOKEN");
    expect(String((e as Error)?.message ?? e)).toContain("connections:write");
  });
});
