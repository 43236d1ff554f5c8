/**
 * The Slack adapter end to end: real Bolt (HTTP receiver and Socket Mode)
 * against the local Slack peer, over this file's own database.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { startHttpServer } from "../adapters/http/http.server.js";
import { ACTION_PREFIX, appendOutcome, renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { buildManifest, toYaml } from "../adapters/slack/manifest.js";
import { boltLogger, complaintInvocation, mentionCommandLine, SlackAdapter, slashCommandLine } from "../adapters/slack/slack.adapter.js";
import { ConfigError, loadConfig, type Config } from "../src/config.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { Core } from "../src/core/core.js";
import { Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";
import { buttonPayload, eventBody, postToBot, SlackPeer, slashBody } from "./peers/slack-peer.js";

const BOT_TOKEN = "xoxb-1111-2222-SECRETBOTTOKEN";
const APP_TOKEN = "xapp-1-A0PEER-3333-SECRETAPPTOKEN";
const SIGNING_SECRET = "signing-secret-9f8e7d6c5b4a";
const TEAM = "T0PEER";
const ALICE = "UALICE"; // staff
const VIC = "UVIC"; // viewer

/** A command whose reply offers buttons (stock-based, until refunds/complaints bring theirs). */
const offer = defineCommand({
  name: "offer",
  description: "cmd.stock",
  positional: ["sku"],
  args: z.object({ sku: z.string() }),
  examples: ["offer SKU-1"],
  permission: "viewer",
  mutates: false,
  async handler({ args }) {
    return {
      title: `Restock ${args.sku}?`,
      status: "warning",
      actions: [
        { id: `stock adjust ${args.sku} +5 reason=restock`, label: "Restock 5", style: "primary" },
        { id: `stock ${args.sku}`, label: "Show" },
      ],
      visibility: "public",
    };
  },
});

/** A command whose reply carries a chart: public (as the digest sends it) or private (as on demand). */
function chartCommand(name: string, title: string, filename: string, visibility: "public" | "ephemeral", last: number) {
  return defineCommand({
    name,
    description: "cmd.stock",
    args: z.object({}),
    examples: [name],
    permission: "viewer",
    mutates: false,
    async handler() {
      return { title, status: "info", image: { filename, alt: title, data: new Uint8Array([137, 80, 78, 71, last, last]) }, visibility };
    },
  });
}
const chart = chartCommand("chart", "Sales chart", "sales.png", "public", 9);
const myChart = chartCommand("mychart", "My chart", "mine.png", "ephemeral", 7);

let app: TestApp;
let peer: SlackPeer;
let core: Core;
let http: SlackAdapter;
let socket: SlackAdapter;
let eventsUrl: string;
const logLines: string[] = [];
const waits: number[] = [];

function slackConfig(extra: Record<string, string>): Config {
  return loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_COMPLAINT_EMOJI: ":sos:",
    SLACK_SUPPORT_CHANNELS: "C0SUPPORT",
    LOG_LEVEL: "debug",
    ...extra,
  });
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1", { name: "Thermos", onHand: 20 }), product("SKU-2", { name: "Mug", onHand: 8 })]);
  await app.services.identity.grant(`slack:${TEAM}:${ALICE}`, "support", "shell:admin");
  peer = await new SlackPeer(TEAM).start();
  peer.users.set(ALICE, { id: ALICE, name: "alice", display_name: "Alice" });
  peer.users.set(VIC, { id: VIC, name: "vic" });
  const commands: Command[] = [...app.commands, offer as unknown as Command, chart as unknown as Command, myChart as unknown as Command];
  const logger = createLogger("debug", {}, (l) => logLines.push(l));
  const base = { services: app.services, logger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 } };
  const httpConfig = slackConfig({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_TEAM_IDS: TEAM });
  core = new Core({ commands, services: app.services, config: httpConfig, clock: app.clock, logger: silentLogger });
  http = new SlackAdapter({ ...base, core, config: httpConfig, listen: { port: 0, host: "127.0.0.1" }, sleep: async (ms) => void waits.push(ms) });
  const { port } = await http.start();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  socket = new SlackAdapter({ ...base, core, config: slackConfig({ SLACK_APP_TOKEN: APP_TOKEN }), sleep: async (ms) => void waits.push(ms) });
  await socket.start();
});

afterAll(async () => {
  await http?.stop();
  await socket?.stop();
  await peer?.stop();
  await app?.close();
});

/** Sends a signed slash command over HTTP; returns the ack and the response_url post. */
async function slash(command: string, text: string, user = ALICE) {
  const responseUrl = peer.responseUrl();
  const ack = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: slashBody({ command, text, user, team: TEAM, responseUrl }) });
  const response = await peer.waitForResponse(responseUrl, `the answer to ${command} ${text}`);
  return { ack, response: response.body, responseUrl };
}

/** Presses a button over HTTP (signed interactivity payload). */
async function press(p: Record<string, unknown>) {
  return postToBot(eventsUrl, { secret: SIGNING_SECRET, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() });
}

async function postEvent(event: Record<string, unknown>, eventId?: string) {
  return postToBot(eventsUrl, { secret: SIGNING_SECRET, body: JSON.stringify(eventBody(TEAM, event, eventId)), form: false });
}

const textOf = (body: Record<string, unknown>) => JSON.stringify(body.blocks ?? []) + " " + String(body.text ?? "");
const buttonsOf = (body: Record<string, unknown>) =>
  (body.blocks as Block[]).filter((b) => b.type === "actions").flatMap((b) => (b.elements as { action_id: string; value: string }[]).map((e) => ({ ...e, block_id: b.block_id as string })));

describe("slash commands over HTTP", () => {
  it("acks at once, then answers through response_url with Block Kit", async () => {
    const { ack, response } = await slash("/stock", "SKU-1");
    expect(ack.status).toBe(200);
    expect(ack.text).toBe("");
    expect(response.response_type).toBe("ephemeral");
    const blocks = response.blocks as Block[];
    expect(blocks[0]).toMatchObject({ type: "header", text: { text: expect.stringContaining("Thermos (SKU-1)") } });
    expect(JSON.stringify(blocks)).toContain("*Available*\\n20");
  });

  it("the umbrella /ops runs any command line, and a table renders monospace", async () => {
    const { response } = await slash("/ops", "stock low");
    expect(textOf(response)).toContain("Low stock");
    const { response: r2 } = await slash("/ops", "stock m");
    expect(JSON.stringify(r2.blocks)).toMatch(/```SKU/);
  });

  it("a user without the role gets an ephemeral refusal and nothing changes", async () => {
    const { response } = await slash("/stock", "adjust SKU-2 +1 reason=test", VIC);
    expect(response.response_type).toBe("ephemeral");
    expect(textOf(response)).toContain("needs the staff role; you are viewer");
    expect((await app.store.products.findById("SKU-2").lean())?.onHand).toBe(8);
    expect(await app.store.audit.findOne({ actor: `slack:${TEAM}:${VIC}` }).lean()).toMatchObject({ outcome: "denied", platform: "slack" });
  });

  it("rejects a wrong signature or a stale timestamp with 401 and runs nothing", async () => {
    const responseUrl = peer.responseUrl();
    const body = slashBody({ command: "/stock", text: "adjust SKU-2 -1 reason=forged", user: ALICE, team: TEAM, responseUrl });
    const forged = await postToBot(eventsUrl, { secret: "not-the-secret", body });
    expect(forged.status).toBe(401);
    const stale = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body, ts: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    // A request that does pass proves the bot is up; the two above left no trace.
    await slash("/stock", "SKU-2");
    expect(peer.responses.some((r) => responseUrl.endsWith("/" + r.id))).toBe(false);
    expect((await app.store.products.findById("SKU-2").lean())?.onHand).toBe(8);
    expect(await app.store.audit.countDocuments({ args: /forged/ })).toBe(0);
  });

  it("a signed slash command delivered twice (a retry, or a replay within the signature's 5 minutes) runs once", async () => {
    const before = (await app.store.products.findById("SKU-2").lean())!.onHand;
    const responseUrl = peer.responseUrl();
    const body = slashBody({ command: "/stock", text: "adjust SKU-2 +1 reason=replayed", user: ALICE, team: TEAM, responseUrl });
    const first = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body });
    await peer.waitForResponse(responseUrl, "the first delivery's answer");
    const again = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body, headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } });
    expect([first.status, again.status]).toEqual([200, 200]);
    await http.idle();
    expect((await app.store.products.findById("SKU-2").lean())!.onHand).toBe(before + 1);
    expect(await app.store.audit.countDocuments({ args: /replayed/ })).toBe(1);
    expect(peer.responses.filter((r) => responseUrl.endsWith("/" + r.id))).toHaveLength(1);
    // The same words as a new command (its own trigger_id) run again: only the delivery is deduplicated.
    await slash("/stock", "adjust SKU-2 -1 reason=replayed");
    expect((await app.store.products.findById("SKU-2").lean())!.onHand).toBe(before);
    // A marker that cannot be written (the fault injected where the database would fail) does
    // not leave the user without an answer: the command runs and is answered.
    const markers = app.services.markers as unknown as { claim: (...a: unknown[]) => Promise<unknown> };
    const claim = markers.claim;
    markers.claim = () => Promise.reject(new Error("connection pool closed"));
    try {
      const { response } = await slash("/stock", "SKU-2");
      expect(textOf(response)).toContain("SKU-2");
    } finally {
      markers.claim = claim;
    }
  });
});

describe("Slack on the HTTP server's port (HTTP_PORT = SLACK_PORT)", () => {
  it("one server answers Slack at /slack/events, verifying signatures, and the API and health checks beside it", async () => {
    const config = slackConfig({ SLACK_SIGNING_SECRET: SIGNING_SECRET, HTTP_PORT: "3000", SLACK_PORT: "3000" });
    const shared = new SlackAdapter({ services: app.services, logger: silentLogger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, core, config, listen: "shared" });
    expect(await shared.start()).toEqual({});
    const server = await startHttpServer({ services: app.services, config, logger: silentLogger, slack: shared.requestListener! }, 0, "127.0.0.1");
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const responseUrl = peer.responseUrl();
      const ack = await postToBot(`${base}/slack/events`, { secret: SIGNING_SECRET, body: slashBody({ command: "/stock", text: "SKU-1", user: ALICE, team: TEAM, responseUrl }) });
      expect(ack.status).toBe(200);
      const answer = await peer.waitForResponse(responseUrl, "the shared-port answer");
      expect(JSON.stringify(answer.body.blocks)).toContain("Thermos (SKU-1)");
      const body = slashBody({ command: "/stock", text: "adjust SKU-2 -1 reason=forged-shared", user: ALICE, team: TEAM, responseUrl: peer.responseUrl() });
      expect((await postToBot(`${base}/slack/events`, { secret: "not-the-secret", body })).status).toBe(401);
      expect(await app.store.audit.countDocuments({ args: /forged-shared/ })).toBe(0);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const api = await fetch(`${base}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(api.status).toBe(401);
      // What Bolt's receiver would throw on (another method) is answered here, and the server
      // keeps serving; a POST with a trailing slash goes to Bolt, which verifies it (a forged one: 401).
      expect((await fetch(`${base}/slack/events`)).status).toBe(405);
      expect((await postToBot(`${base}/slack/events/`, { secret: "not-the-secret", body: "x=1" })).status).toBe(401);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await shared.idle();
    } finally {
      await server.close();
      await shared.stop();
    }
  });
});

describe("workspaces", () => {
  it("with SLACK_TEAM_IDS, a command from another workspace is acknowledged with a refusal and runs nothing", async () => {
    const audits = await app.store.audit.countDocuments({});
    const before = peer.callsOf("chat.postMessage").length;
    const ack = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: slashBody({ command: "/ops", text: "role grant slack:TOTHER:U1 admin", user: "U1", team: "TOTHER", responseUrl: peer.responseUrl() }) });
    expect(ack.status).toBe(200);
    expect(ack.text).toContain("This workspace is not set up for shopops");
    await http.idle();
    expect(await app.store.audit.countDocuments({})).toBe(audits);
    expect(peer.callsOf("chat.postMessage").length).toBe(before);
  });
});

describe("HTTP receiver basics", () => {
  it("answers Slack's url_verification challenge", async () => {
    const r = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: JSON.stringify({ type: "url_verification", challenge: "c-123", token: "x" }), form: false });
    expect(r.status).toBe(200);
    expect(r.text).toContain("c-123");
  });

  it("a public reply with an image is answered, and the image uploaded to the channel", async () => {
    const before = peer.callsOf("files.completeUploadExternal").length;
    const { response } = await slash("/ops", "chart");
    expect(response.response_type).toBe("in_channel");
    const done = await peer.waitFor(() => peer.callsOf("files.completeUploadExternal").slice(before)[0], "the upload");
    expect(done.args.channel_id).toBe("C0OPS");
    expect(peer.callsOf("files.getUploadURLExternal").at(-1)!.args).toMatchObject({ filename: "sales.png", length: "6" });
  });
});

describe("buttons", () => {
  it("a press runs the action as the clicking user and updates the message with the outcome and who acted", async () => {
    const { response } = await slash("/ops", "offer SKU-1");
    expect(response.response_type).toBe("in_channel");
    const [restock] = buttonsOf(response);
    expect(restock).toMatchObject({ value: "stock adjust SKU-1 +5 reason=restock" });
    expect(restock!.action_id.startsWith(ACTION_PREFIX)).toBe(true);
    const responseUrl = peer.responseUrl();
    const p = buttonPayload({ user: ALICE, team: TEAM, messageTs: "1700000100.000100", blockId: restock!.block_id, actionId: restock!.action_id, value: restock!.value, responseUrl });
    expect((await press(p)).status).toBe(200);
    const update = (await peer.waitForResponse(responseUrl)).body;
    expect(update.replace_original).toBe(true);
    expect(textOf(update)).toContain("Stock adjusted: SKU-1");
    expect(textOf(update)).toContain(`<@${ALICE}> ran \`stock adjust SKU-1 +5 reason=restock\``);
    expect((await app.store.products.findById("SKU-1").lean())?.onHand).toBe(25);
    expect(await app.store.audit.findOne({ command: "stock adjust", actor: `slack:${TEAM}:${ALICE}` }).lean()).toMatchObject({ outcome: "ok" });

    // The same payload again (a retry or a replay): nothing changes, the clicker is told.
    const again = peer.responseUrl();
    await press({ ...p, response_url: again });
    const notice = (await peer.waitForResponse(again)).body;
    expect(notice).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(notice)).toContain("You already pressed this button");
    expect((await app.store.products.findById("SKU-1").lean())?.onHand).toBe(25);
  });

  it("a double click applies once; another button on the same message still works (a lookup answers the presser alone)", async () => {
    const { response } = await slash("/ops", "offer SKU-2");
    const [restock, show] = buttonsOf(response);
    const base = { user: ALICE, team: TEAM, messageTs: "1700000200.000200" };
    const urls = [peer.responseUrl(), peer.responseUrl(), peer.responseUrl()];
    await Promise.all(urls.map((u) => press(buttonPayload({ ...base, blockId: restock!.block_id, actionId: restock!.action_id, value: restock!.value, responseUrl: u }))));
    const answers = await Promise.all(urls.map((u) => peer.waitForResponse(u)));
    expect(answers.filter((a) => a.body.replace_original === true)).toHaveLength(1);
    expect((await app.store.products.findById("SKU-2").lean())?.onHand).toBe(13);
    const showUrl = peer.responseUrl();
    await press(buttonPayload({ ...base, blockId: show!.block_id, actionId: show!.action_id, value: show!.value, responseUrl: showUrl }));
    const shown = (await peer.waitForResponse(showUrl)).body;
    expect(shown).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(shown)).toContain("Mug (SKU-2)");
    // On a message only the presser sees (ephemeral), the private outcome replaces it in place.
    const ownUrl = peer.responseUrl();
    await press(buttonPayload({ ...base, messageTs: "1700000200.000201", blockId: show!.block_id, actionId: show!.action_id, value: show!.value, responseUrl: ownUrl, ephemeral: true }));
    expect((await peer.waitForResponse(ownUrl)).body.replace_original).toBe(true);
  });

  it("a refused press leaves the message as it was and the button usable by someone allowed", async () => {
    const { response } = await slash("/ops", "offer SKU-2");
    const [restock] = buttonsOf(response);
    const base = { team: TEAM, messageTs: "1700000300.000300", blockId: restock!.block_id, actionId: restock!.action_id, value: restock!.value };
    const vicUrl = peer.responseUrl();
    await press(buttonPayload({ ...base, user: VIC, responseUrl: vicUrl }));
    const refusal = (await peer.waitForResponse(vicUrl)).body;
    expect(refusal).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(refusal)).toContain("needs the staff role");
    const aliceUrl = peer.responseUrl();
    await press(buttonPayload({ ...base, user: ALICE, responseUrl: aliceUrl }));
    expect((await peer.waitForResponse(aliceUrl)).body.replace_original).toBe(true);
    expect((await app.store.products.findById("SKU-2").lean())?.onHand).toBe(18);
  });
});

describe("buttons on a low-stock alert about five products", () => {
  const SKUS = ["SKU-L1", "SKU-L2", "SKU-L3", "SKU-L4", "SKU-L5"];

  beforeAll(async () => {
    await app.store.products.insertMany(SKUS.map((sku, i) => product(sku, { name: `Low ${i + 1}`, onHand: i + 1 })));
  });

  /** The alert as the outbox posts it to a channel (the low-stock job's own message), and its blocks as Slack holds them. */
  async function postAlert(): Promise<Block[]> {
    const items = await Promise.all(SKUS.map(async (sku) => ({ view: (await app.services.stock.bySku(sku))!, threshold: 10, reorderQty: 20 })));
    const reply = app.services.lowStock.message(items, translator("en"), new Formatter("en", "Asia/Shanghai", "CNY"));
    await http.deliver({ kind: "channel", platform: "slack", channel: "C0ALERTS" }, reply);
    const posted = peer.callsOf("chat.postMessage").at(-1)!;
    expect(posted.args.channel).toBe("C0ALERTS");
    return posted.args.blocks as Block[];
  }

  /** Presses the button whose command starts with `prefix` on a message with `blocks`; returns the response_url. */
  async function pressOn(blocks: Block[], prefix: string, messageTs: string, user = ALICE): Promise<string> {
    const b = buttonsOf({ blocks }).find((x) => x.value.startsWith(prefix))!;
    expect(b, prefix).toBeDefined();
    const responseUrl = peer.responseUrl();
    await press(buttonPayload({ user, team: TEAM, channel: "C0ALERTS", messageTs, blockId: b.block_id, actionId: b.action_id, value: b.value, responseUrl, blocks }));
    return responseUrl;
  }

  it("a press keeps the alert, its table and the other products' buttons: only the pressed product's buttons go, and the outcome is added", async () => {
    const alert = await postAlert();
    expect(buttonsOf({ blocks: alert })).toHaveLength(10);
    const ts = "1700001000.000100";
    const first = (await peer.waitForResponse(await pressOn(alert, "stock snooze SKU-L1 ", ts))).body;
    expect(first.replace_original).toBe(true);
    const blocks = first.blocks as Block[];
    expect(blocks[0]).toMatchObject({ type: "header", text: { text: expect.stringContaining("5 products") } });
    expect(JSON.stringify(blocks)).toMatch(/SKU-L5 +Low 5/); // the table is still there
    expect(buttonsOf(first).map((b) => b.value.split(" ").slice(0, 3).join(" "))).toEqual(["stock snooze SKU-L2", "stock po SKU-L2", "stock snooze SKU-L3", "stock po SKU-L3", "stock snooze SKU-L4", "stock po SKU-L4", "stock snooze SKU-L5", "stock po SKU-L5"]);
    expect(textOf(first)).toContain("Low-stock alerts for SKU-L1 are snoozed until");
    expect(textOf(first)).toContain(`<@${ALICE}> ran \`stock snooze SKU-L1 24h\``);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect((await app.services.lowStock.state("SKU-L1"))?.state).toBe("snoozed");

    // A PO for another product from the updated alert: both outcomes shown, six buttons left.
    const second = (await peer.waitForResponse(await pressOn(blocks, "stock po SKU-L2 ", ts))).body;
    expect(textOf(second)).toContain("Low-stock alerts for SKU-L1 are snoozed until");
    expect(textOf(second)).toContain("stock po SKU-L2");
    expect(buttonsOf(second).map((b) => b.value.split(" ")[2])).toEqual(["SKU-L3", "SKU-L3", "SKU-L4", "SKU-L4", "SKU-L5", "SKU-L5"]);
    expect((second.blocks as Block[])[0]).toMatchObject({ type: "header" });
  });

  it("outcomes added press after press stay within Slack's limits: earlier outcomes give way first, live buttons and the header stay", () => {
    const actions = ["A", "B", "C"].map((x) => ({ id: `stock snooze SKU-${x} 24h`, label: `Snooze ${x}` }));
    let blocks = renderBlocks({ title: "3 products are low", text: "x".repeat(2_500), actions, context: ["formula"], visibility: "public" }).blocks;
    for (let n = 1; n <= 30; n++) {
      const outcome = renderBlocks({ text: `outcome ${n} ` + "y".repeat(300), visibility: "public" }, { extraContext: [`<@U${n}> ran it`] }).blocks;
      blocks = appendOutcome(blocks, outcome, `stock adjust SKU-Z${n} +1`);
      expect(blocks.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(blocks).length).toBeLessThanOrEqual(12_000);
    }
    const all = JSON.stringify(blocks);
    expect(blocks[0]).toMatchObject({ type: "header" });
    expect(buttonsOf({ blocks }).map((b) => b.value)).toEqual(actions.map((a) => a.id));
    expect(all).toContain("outcome 30 ");
    expect(all).not.toContain("outcome 1 ");
    // A press whose outcome brings buttons of its own: the message's buttons give way to them.
    const own = renderBlocks({ text: "card", actions: [{ id: "refund approve R-1", label: "Approve" }], visibility: "public" }).blocks;
    expect(buttonsOf({ blocks: appendOutcome(blocks, own, "stock snooze SKU-A 24h") }).map((b) => b.value)).toEqual(["refund approve R-1"]);
  });

  it("a private outcome (a PO already holds the product) goes to the presser alone and leaves the shared alert as it was", async () => {
    expect((await app.services.lowStock.placePo({ sku: "SKU-L3", eta: "2026-12-20", qty: 40, by: "shell:admin" })).kind).toBe("ok");
    const alert = await postAlert();
    const url = await pressOn(alert, "stock snooze SKU-L3 ", "1700001200.000100");
    const note = (await peer.waitForResponse(url)).body;
    expect(note).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(note)).toContain("A PO for SKU-L3 arriving 2026-12-20 already holds its low-stock alerts");
    await http.idle();
    expect(peer.responsesTo(url)).toHaveLength(1); // the alert itself was not replaced
    expect((await app.services.lowStock.state("SKU-L3"))?.po?.eta).toBe("2026-12-20");
  });
});

describe("Socket Mode", () => {
  it("runs a slash command end to end over the WebSocket", async () => {
    expect(peer.socketCount).toBe(1);
    const responseUrl = peer.responseUrl();
    const ack = await peer.sendEnvelope("slash_commands", Object.fromEntries(new URLSearchParams(slashBody({ command: "/stock", text: "SKU-1", user: ALICE, team: TEAM, responseUrl }))));
    expect(peer.acks.size).toBeGreaterThan(0); // acknowledged over the socket before the answer
    expect(ack ?? {}).toEqual({});
    const r = (await peer.waitForResponse(responseUrl)).body;
    expect(textOf(r)).toContain("Thermos (SKU-1)");
  });

  it("reconnects when Slack asks it to, and keeps answering", async () => {
    const opened = peer.connectionsOpened;
    peer.askToReconnect();
    await peer.waitFor(() => peer.connectionsOpened > opened && peer.socketCount === 1, "a new Socket Mode connection");
    const responseUrl = peer.responseUrl();
    await peer.sendEnvelope("slash_commands", Object.fromEntries(new URLSearchParams(slashBody({ command: "/stock", text: "SKU-2", user: ALICE, team: TEAM, responseUrl }))));
    expect(textOf((await peer.waitForResponse(responseUrl)).body)).toContain("Mug (SKU-2)");
  });

  it("publishes App Home with the user's role when it is opened", async () => {
    const before = peer.callsOf("views.publish").length;
    await peer.sendEnvelope("events_api", eventBody(TEAM, { type: "app_home_opened", user: ALICE, channel: "D0ALICE", tab: "home", event_ts: "1700000000.1" }));
    await peer.waitFor(() => peer.callsOf("views.publish").length > before, "views.publish");
    const call = peer.callsOf("views.publish").at(-1)!;
    expect(call.args.user_id).toBe(ALICE);
    expect(JSON.stringify(call.args.view)).toContain(`You are slack:${TEAM}:${ALICE}, role support.`);
    expect(call.auth).toBe(`Bearer ${BOT_TOKEN}`);
  });
});

describe("mentions and the complaint reaction", () => {
  it("@shopops <command> answers in the thread, once even if Slack retries the event", async () => {
    const before = peer.callsOf("chat.postMessage").length;
    const onHand = (await app.store.products.findById("SKU-2").lean())!.onHand;
    // A public reply (a stock change is the team's business) goes to the thread.
    const ev = { type: "app_mention", user: ALICE, text: "<@UBOT> stock adjust SKU-2 +1 reason=recount", channel: "C0OPS", ts: "1700000400.000400", event_ts: "1700000400.000400" };
    await postEvent(ev, "EvMENTION1");
    const post = await peer.waitFor(() => peer.callsOf("chat.postMessage").slice(before).find((c) => c.args.thread_ts === ev.ts), "the thread answer");
    expect(post.args.channel).toBe("C0OPS");
    expect(JSON.stringify(post.args.blocks)).toContain("SKU-2");
    await postEvent(ev, "EvMENTION1");
    await http.idle();
    expect(peer.callsOf("chat.postMessage").slice(before)).toHaveLength(1);
    expect((await app.store.products.findById("SKU-2").lean())?.onHand).toBe(onHand + 1);
    await app.services.stock.adjust({ sku: "SKU-2", delta: -1, reason: "test reset", actor: "shell:admin", key: "test-reset-sku2" });
  });

  it("a mention whose reply is private (a lookup) answers only the asker, never the channel", async () => {
    const posts = peer.callsOf("chat.postMessage").length;
    const ev = { type: "app_mention", user: ALICE, text: "<@UBOT> stock SKU-2", channel: "C0OPS", ts: "1700000420.000420", event_ts: "1700000420.000420" };
    await postEvent(ev);
    const eph = await peer.waitFor(() => peer.callsOf("chat.postEphemeral").find((c) => c.args.thread_ts === ev.ts), "the private answer");
    expect(eph.args.user).toBe(ALICE);
    expect(JSON.stringify(eph.args.blocks)).toContain("Mug (SKU-2)");
    await http.idle();
    expect(peer.callsOf("chat.postMessage").slice(posts).filter((c) => c.args.thread_ts === ev.ts)).toHaveLength(0);
  });

  it("a mention whose private reply has a chart sends the chart to the asker's DM, not the channel", async () => {
    const before = peer.callsOf("files.completeUploadExternal").length;
    const ev = { type: "app_mention", user: ALICE, text: "<@UBOT> mychart", channel: "C0OPS", ts: "1700000430.000430", event_ts: "1700000430.000430" };
    await postEvent(ev);
    await peer.waitFor(() => peer.callsOf("chat.postEphemeral").find((c) => c.args.thread_ts === ev.ts), "the private answer");
    const done = await peer.waitFor(() => peer.callsOf("files.completeUploadExternal").slice(before)[0], "the upload");
    expect(done.args.channel_id).toBe(`D${ALICE}`);
  });

  it("a key made by `apikey create` in a mention reaches the admin, never a debug log line", async () => {
    const admin = `slack:${TEAM}:UADMIN`;
    await app.services.identity.grant(admin, "admin", "shell:admin");
    const ev = { type: "app_mention", user: "UADMIN", text: "<@UBOT> apikey create storefront scopes=orders", channel: "C0OPS", ts: "1700000440.000440", event_ts: "1700000440.000440" };
    await postEvent(ev);
    const eph = await peer.waitFor(() => peer.callsOf("chat.postEphemeral").find((c) => c.args.thread_ts === ev.ts), "the private answer");
    const token = /shopops_(k[0-9A-Z]{10})_[A-Za-z0-9_-]{43}/.exec(JSON.stringify(eph.args))!;
    expect(token).not.toBeNull();
    await http.idle();
    const all = logLines.join("\n");
    // The Web API logged the request body at debug, with the key id but without its secret.
    expect(all).toContain(`${token[0].slice(0, 20)}[redacted]`);
    expect(all).not.toContain(token[0].slice(20));
  });

  it("a mention with an error answers only the asker, in the thread", async () => {
    const ev = { type: "app_mention", user: VIC, text: "<@UBOT> stock adjust SKU-2 +1 reason=x", channel: "C0OPS", ts: "1700000450.000450", event_ts: "1700000450.000450" };
    await postEvent(ev);
    const eph = await peer.waitFor(() => peer.callsOf("chat.postEphemeral").find((c) => c.args.thread_ts === ev.ts), "the ephemeral refusal");
    expect(eph.args.user).toBe(VIC);
    expect(JSON.stringify(eph.args.blocks)).toContain("needs the staff role");
  });

  it("a button in App Home runs as the presser, answers in a DM and refreshes Home", async () => {
    const publishes = peer.callsOf("views.publish").length;
    const p = buttonPayload({ user: ALICE, team: TEAM, messageTs: "x", blockId: "shopops.actions.home1.0", actionId: `${ACTION_PREFIX}0`, value: "stock SKU-1", responseUrl: "" });
    const home = { ...p, container: { type: "view", view_id: "V0HOME" }, view: { id: "V0HOME", type: "home" } } as Record<string, unknown>;
    delete home.response_url;
    delete home.channel;
    delete home.message;
    await press(home);
    const dm = await peer.waitFor(() => peer.callsOf("chat.postMessage").find((c) => c.args.channel === `D${ALICE}` && JSON.stringify(c.args.blocks).includes("Thermos (SKU-1)")), "the DM");
    expect(JSON.stringify(dm.args.blocks)).toContain(`<@${ALICE}> ran`);
    await peer.waitFor(() => peer.callsOf("views.publish").length > publishes, "Home refreshed");
  });

  it("the complaint emoji in a support channel files a complaint from the message as the reacting user", async () => {
    peer.messages.set("C0SUPPORT:1700000500.000500", { ts: "1700000500.000500", user: "UCUST", text: 'My "thermos" arrived <b>broken</b>' });
    const before = peer.callsOf("chat.postMessage").length;
    const reaction = { type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000500.000500" }, event_ts: "1700000501.000100" };
    await postEvent(reaction);
    const answer = await peer.waitFor(() => peer.callsOf("chat.postMessage").slice(before).find((c) => c.args.thread_ts === "1700000500.000500"), "the complaint answer");
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700000500000500";
    const stored = (await app.store.complaints.findOne({ permalink }).lean())!;
    expect(stored).toMatchObject({ text: 'My "thermos" arrived <b>broken</b>', source: "slack", createdBy: `slack:${TEAM}:UCUST`, status: "new" });
    const shown = JSON.stringify(answer.args.blocks);
    expect(shown).toContain(`Complaint ${stored._id} filed`);
    expect(shown).toContain("arrived &lt;b&gt;broken&lt;/b&gt;");
    expect(await app.store.audit.findOne({ command: "complaint new" }).lean()).toMatchObject({ actor: `slack:${TEAM}:${ALICE}`, outcome: "ok" });
    // A second reaction on the same message files nothing more.
    await postEvent({ ...reaction, user: VIC, event_ts: "1700000502.000100" });
    await peer.waitFor(() => peer.callsOf("chat.postEphemeral").find((c) => c.args.user === VIC), "the already-filed notice");
    expect(await app.store.audit.countDocuments({ command: "complaint new" })).toBe(1);
  });

  it("a reaction on a message the bot cannot read tells the person it filed nothing; a helpdesk bot's message is read from its attachments", async () => {
    const before = peer.callsOf("chat.postEphemeral").length;
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000700.000700" }, event_ts: "1700000701.000100" });
    const told = await peer.waitFor(() => peer.callsOf("chat.postEphemeral").slice(before).find((c) => c.args.user === ALICE), "the not-filed notice");
    expect(String(told.args.text)).toContain("No complaint was filed from this message: the message was not found.");
    // A reply in a thread (Slack lists the thread's parent first) is filed from the reply.
    peer.messages.set("C0SUPPORT:1700000750.000100", { ts: "1700000750.000100", user: "UCUST", text: "the parent post" });
    peer.messages.set("C0SUPPORT:1700000750.000900", { ts: "1700000750.000900", thread_ts: "1700000750.000100", user: "UCUST", text: "the reply: lid cracked" } as never);
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000750.000900" }, event_ts: "1700000751.000100" });
    await peer.waitFor(async () => !!(await app.store.complaints.findOne({ permalink: "https://peer.slack.test/archives/C0SUPPORT/p1700000750000900" }).lean()), "the thread complaint");
    expect((await app.store.complaints.findOne({ permalink: "https://peer.slack.test/archives/C0SUPPORT/p1700000750000900" }).lean())!.text).toBe("the reply: lid cracked");
    // A bot's message (a helpdesk bridge) carries its words in attachments, not text.
    peer.messages.set("C0SUPPORT:1700000800.000800", { ts: "1700000800.000800", bot_id: "B0DESK", text: "", attachments: [{ title: "Ticket 4411", text: "Customer: my order never arrived" }] } as never);
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "B0DESK", item: { type: "message", channel: "C0SUPPORT", ts: "1700000800.000800" }, event_ts: "1700000801.000100" });
    await peer.waitFor(async () => !!(await app.store.complaints.findOne({ permalink: "https://peer.slack.test/archives/C0SUPPORT/p1700000800000800" }).lean()), "the complaint");
    expect((await app.store.complaints.findOne({ permalink: "https://peer.slack.test/archives/C0SUPPORT/p1700000800000800" }).lean())!.text).toBe("Ticket 4411\nCustomer: my order never arrived");
  });

  it("a reaction that fails on our side shows a reference, never the database's error; Slack's own refusal is named", async () => {
    peer.messages.set("C0SUPPORT:1700000900.000900", { ts: "1700000900.000900", user: "UCUST", text: "where is my parcel" });
    const react = (event_ts: string) =>
      postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000900.000900" }, event_ts });
    const toldAlice = async (before: number) =>
      String((await peer.waitFor(() => peer.callsOf("chat.postEphemeral").slice(before).find((c) => c.args.user === ALICE), "the not-filed notice")).args.text);
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700000900000900";
    // The fault injected where the database would fail: the marker's write.
    const markers = app.services.markers as unknown as { claim: (...a: unknown[]) => Promise<unknown> };
    const claim = markers.claim;
    markers.claim = () => Promise.reject(new Error("connection <monitor> to 10.20.30.40:27017 closed"));
    let before = peer.callsOf("chat.postEphemeral").length;
    try {
      await react("1700000901.000100");
      const text = await toldAlice(before);
      const ref = /Reference: ([0-9A-Z]{10})\./.exec(text)?.[1];
      expect(text).toContain("No complaint was filed from this message. Something went wrong on our side.");
      expect(ref).toBeDefined();
      expect(text).not.toMatch(/10\.20\.30\.40|27017|monitor|invite/);
      // The operator finds the details under the reference.
      expect(logLines.find((l) => l.includes(ref!) && l.includes('"level":"error"'))).toContain("10.20.30.40");
    } finally {
      markers.claim = claim;
    }
    expect(await app.store.complaints.countDocuments({ permalink })).toBe(0);
    // Slack refusing to show the message: its error code, and what to do about it.
    peer.once("conversations.history", () => ({ ok: false, error: "not_in_channel" }));
    before = peer.callsOf("chat.postEphemeral").length;
    await react("1700000902.000100");
    const refused = await toldAlice(before);
    expect(refused).toContain("No complaint was filed from this message: not_in_channel.");
    expect(refused).toContain("/invite @shopops");
    expect(await app.store.complaints.countDocuments({ permalink })).toBe(0);
    // Nothing was kept claimed: reacting again files it.
    await react("1700000903.000100");
    await peer.waitFor(async () => (await app.store.complaints.countDocuments({ permalink })) === 1, "the complaint");
  });

  it("a complaint filed whose answer in the thread fails is still one complaint: the reactor is told privately, a second reaction files nothing more", async () => {
    peer.messages.set("C0SUPPORT:1700000950.000950", { ts: "1700000950.000950", user: "UCUST", text: "box was empty" });
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700000950000950";
    const react = (event_ts: string) => postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000950.000950" }, event_ts });
    // Slack refuses the answer in this message's thread only (other tests' posts may come between).
    const inner = peer as unknown as { answer(m: string, a: Record<string, unknown>, c: unknown): Record<string, unknown>; overrides: Map<string, unknown[]> };
    for (let i = 0; i < 50; i++) peer.once("chat.postMessage", (a, c) => (a.thread_ts === "1700000950.000950" ? { ok: false, error: "ratelimited" } : inner.answer("chat.postMessage", a, c)));
    const before = peer.callsOf("chat.postEphemeral").length;
    await react("1700000951.000100");
    // Notices about this message only (earlier tests' background answers may still arrive).
    const notices = () => peer.callsOf("chat.postEphemeral").slice(before).filter((c) => c.args.user === ALICE && c.args.thread_ts === "1700000950.000950");
    const told = await peer.waitFor(() => notices()[0], "the private notice");
    expect(String(told.args.text)).not.toContain("No complaint was filed");
    expect(String(told.args.text)).toMatch(/C-[0-9A-Z]{6}/);
    expect(await app.store.complaints.countDocuments({ permalink })).toBe(1);
    await react("1700000952.000100");
    await peer.waitFor(() => notices().length >= 2, "the already-filed notice");
    expect(await app.store.complaints.countDocuments({ permalink })).toBe(1);
    inner.overrides.delete("chat.postMessage");
  });

  it("ignores other emoji and other channels", async () => {
    peer.messages.set("C0OPS:1700000600.000600", { ts: "1700000600.000600", user: "UCUST", text: "hello" });
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0OPS", ts: "1700000600.000600" }, event_ts: "1" });
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "tada", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700000600.000600" }, event_ts: "2" });
    await http.idle();
    expect(peer.callsOf("conversations.history").filter((c) => c.args.latest === "1700000600.000600")).toHaveLength(0);
  });

  it("a reacted-to message is filed as written: line breaks, spacing and quotes kept, up to 4,000 characters; the audit entry shows it abbreviated", async () => {
    const text = 'line one\nline two\n\n  indented  "q"';
    peer.messages.set("C0SUPPORT:1700001000.000100", { ts: "1700001000.000100", user: "UCUST", text });
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700001000000100";
    const before = peer.callsOf("chat.postMessage").length;
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700001000.000100" }, event_ts: "1700001001.000100" });
    const answer = await peer.waitFor(() => peer.callsOf("chat.postMessage").slice(before).find((c) => c.args.thread_ts === "1700001000.000100"), "the complaint answer");
    const stored = (await app.store.complaints.findOne({ permalink }).lean())!;
    expect(stored.text).toBe(text);
    // The card in the thread shows the text with its lines, and says nothing was cut.
    expect(JSON.stringify(answer.args.blocks)).toContain(JSON.stringify("line one\nline two").slice(1, -1));
    expect(JSON.stringify(answer.args.blocks)).not.toContain("characters long");
    const audit = (await app.store.audit.findOne({ command: "complaint new", subject: stored._id }).lean())!;
    expect(audit).toMatchObject({ actor: `slack:${TEAM}:${ALICE}`, outcome: "ok", args: `source=slack link=${permalink} author=slack:${TEAM}:UCUST 'line one line two indented "q"'` });

    // 1,200 characters (past the 900 `complaint new` takes typed): stored whole.
    const long = Array.from({ length: 40 }, (_, i) => `line ${String(i).padStart(2, "0")} ${"x".repeat(21)}`).join("\n");
    expect(long.length).toBe(1199);
    peer.messages.set("C0SUPPORT:1700001010.000100", { ts: "1700001010.000100", user: "UCUST", text: long + "!" });
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700001010.000100" }, event_ts: "1700001011.000100" });
    const longLink = "https://peer.slack.test/archives/C0SUPPORT/p1700001010000100";
    await peer.waitFor(async () => !!(await app.store.complaints.findOne({ permalink: longLink }).lean()), "the long complaint");
    const longStored = (await app.store.complaints.findOne({ permalink: longLink }).lean())!;
    expect(longStored.text).toBe(long + "!");
    const longAudit = (await app.store.audit.findOne({ command: "complaint new", subject: longStored._id }).lean())!;
    expect(longAudit.outcome).toBe("ok");
    // The entry names the command with the text's first 200 characters on one line.
    expect(longAudit.args).toContain(`author=slack:${TEAM}:UCUST "line 00 ${"x".repeat(21)} line 01`);
    expect(longAudit.args.length).toBeLessThan(400);
    expect(longAudit.args.endsWith('…"')).toBe(true);
  });

  it("a message past 4,000 characters is filed cut there, and the thread reply says so", async () => {
    const text = "y".repeat(4100);
    peer.messages.set("C0SUPPORT:1700001020.000100", { ts: "1700001020.000100", user: "UCUST", text });
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700001020000100";
    const before = peer.callsOf("chat.postMessage").length;
    await postEvent({ type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts: "1700001020.000100" }, event_ts: "1700001021.000100" });
    const answer = await peer.waitFor(() => peer.callsOf("chat.postMessage").slice(before).find((c) => c.args.thread_ts === "1700001020.000100"), "the complaint answer");
    const stored = (await app.store.complaints.findOne({ permalink }).lean())!;
    expect(stored.text).toBe("y".repeat(3999) + "…");
    const shown = JSON.stringify(answer.args.blocks);
    expect(shown).toContain(`Complaint ${stored._id} filed`);
    expect(shown).toContain("The message is 4,100 characters long: the complaint keeps its first 4,000 (ending in …).");
  });

  it("carries the message's text beside the command line, as written, with Slack's markup as a person reads it", () => {
    const src = { author: "slack:T1:U1", permalink: "https://x/p1", channel: "C1", ts: "1.2" };
    expect(complaintInvocation({ ...src, text: 'a "b"\n  c' })).toEqual({ line: "complaint new source=slack link=https://x/p1 author=slack:T1:U1", text: 'a "b"\n  c' });
    // Cut at the complaint limit (the API's), with the length it had.
    const cut = complaintInvocation({ ...src, text: "x".repeat(5000) });
    expect(cut.text).toHaveLength(4000);
    expect(cut.cutFrom).toBe(5000);
    // Slack's markup as a person reads it; escaped text that looks like markup stays text.
    expect(complaintInvocation({ ...src, text: "see <https://shop.example/o/1|order 1> in <#C0OPS|ops>, cc <@U42> &lt;b&gt;" }).text).toBe("see order 1 (https://shop.example/o/1) in #ops, cc @U42 <b>");
    // Every quote style in the text: kept exactly.
    const mixed = `客户说："保温杯坏了" 他'很生气'，「急」“快”处理 『慢』`;
    expect(complaintInvocation({ ...src, text: mixed }).text).toBe(mixed);
    // No text at all (only spaces or invisible characters): the permalink stands for it.
    expect(complaintInvocation({ ...src, text: " \u200b " }).text).toBe("https://x/p1");
  });
});

describe("outbound (Deliverer)", () => {
  it("delivers an alert with an image to a channel and a DM to a user through the outbox", async () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);
    await app.services.outbox.enqueue({ key: "alert:1", kind: "low_stock", dest: { kind: "channel", platform: "slack", channel: "C0ALERTS" }, reply: { title: "Low stock", text: "2 products", status: "warning", image: { filename: "low.png", alt: "chart", data: png }, visibility: "public" } });
    await app.services.outbox.enqueue({ key: "dm:1", kind: "refund", dest: { kind: "user", identity: `slack:${TEAM}:${ALICE}` }, reply: { text: "Refund R-1 approved", visibility: "ephemeral" } });
    expect(await app.services.outbox.dispatch(http)).toEqual({ sent: 2, failed: 0 });
    const complete = peer.callsOf("files.completeUploadExternal").at(-1)!;
    expect(complete.args.channel_id).toBe("C0ALERTS");
    expect(JSON.stringify(complete.args.blocks)).toContain("Low stock");
    expect(peer.uploads.at(-1)!.bytes).toBeGreaterThan(png.length); // multipart around the bytes
    expect(peer.callsOf("files.getUploadURLExternal").at(-1)!.args).toMatchObject({ filename: "low.png", length: String(png.length) });
    expect(peer.callsOf("conversations.open").at(-1)!.args.users).toBe(ALICE);
    expect(peer.callsOf("chat.postMessage").at(-1)!.args).toMatchObject({ channel: `D${ALICE}`, text: "Refund R-1 approved" });
  });

  it("a message to an archived channel is dead at once, not retried for twenty minutes", async () => {
    peer.archivedChannels.add("C0GONE");
    await app.services.outbox.enqueue({ key: "alert:gone", kind: "low_stock", dest: { kind: "channel", platform: "slack", channel: "C0GONE" }, reply: { text: "x", visibility: "public" } });
    expect(await app.services.outbox.dispatch(http)).toEqual({ sent: 0, failed: 1 });
    expect(await app.store.outbox.findById("alert:gone").lean()).toMatchObject({ status: "dead", attempts: 1, lastError: "Slack error is_archived" });
  });

  it("on 429 the message waits Retry-After in the outbox and is delivered later, not lost", async () => {
    await app.services.outbox.enqueue({ key: "alert:2", kind: "low_stock", dest: { kind: "channel", platform: "slack", channel: "C0RATE" }, reply: { text: "slow down", visibility: "public" } });
    peer.once("chat.postMessage", () => ({ status: 429, headers: { "retry-after": "7" }, body: { ok: false, error: "ratelimited" } }));
    expect(await app.services.outbox.dispatch(http)).toEqual({ sent: 0, failed: 1 });
    expect(await app.store.outbox.findById("alert:2").lean()).toMatchObject({ status: "pending", lastError: "rate limited: retry after 7000 ms" });
    app.clock.advance(8_000);
    expect(await app.services.outbox.dispatch(http)).toEqual({ sent: 1, failed: 0 });
    expect(peer.callsOf("chat.postMessage").filter((c) => c.args.channel === "C0RATE")).toHaveLength(2);
  });

  it("paces messages to one channel about a second apart, other channels unaffected", async () => {
    waits.length = 0;
    await http.deliver({ kind: "channel", platform: "slack", channel: "C0PACE" }, { text: "one", visibility: "public" });
    await http.deliver({ kind: "channel", platform: "slack", channel: "C0OTHER" }, { text: "other", visibility: "public" });
    expect(waits).toEqual([]);
    await http.deliver({ kind: "channel", platform: "slack", channel: "C0PACE" }, { text: "two", visibility: "public" });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(500);
  });
});

describe("identity, logs, rendering, manifest and config", () => {
  it("fetches each user's display name once", async () => {
    const before = peer.callsOf("users.info").filter((c) => c.args.user === VIC).length;
    await slash("/stock", "SKU-1", VIC);
    await slash("/stock", "SKU-2", VIC);
    expect(peer.callsOf("users.info").filter((c) => c.args.user === VIC).length - before).toBeLessThanOrEqual(1);
    expect(await http.displayName(ALICE)).toBe("Alice");
  });

  it("never writes a token or the signing secret to the logs", async () => {
    await http.idle();
    await socket.idle();
    const all = logLines.join("\n");
    expect(logLines.length).toBeGreaterThan(10); // debug logs of Bolt and the Web API were captured
    for (const secret of [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "SECRETBOTTOKEN", "SECRETAPPTOKEN"]) expect(all).not.toContain(secret);
  });

  it("renders errors ephemeral, public replies in channel, fields, context and escaped text", () => {
    const err = renderBlocks({ status: "error", text: "bad <input> & more", visibility: "public" });
    expect(err.response_type).toBe("ephemeral");
    expect(JSON.stringify(err.blocks)).toContain("bad &lt;input&gt; &amp; more");
    const ok = renderBlocks({ title: "T", fields: [{ label: "A", value: "1", inline: true }, { label: "B", value: "2" }], context: ["note"], visibility: "public" });
    expect(ok.response_type).toBe("in_channel");
    expect(ok.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
  });

  it("generates the manifest from the registry: /ops, one command per top-level name, scopes, events, mode", () => {
    const socketYaml = toYaml(buildManifest({ commands: core.commands, mode: { socket: true } }));
    expect(socketYaml).toContain('command: "/ops"');
    expect(socketYaml).toContain('command: "/stock"');
    expect(socketYaml).toContain('command: "/offer"');
    expect(socketYaml).toContain('command: "/complaint"');
    expect(socketYaml).not.toContain('command: "/role"');
    expect(socketYaml).toContain("socket_mode_enabled: true");
    for (const s of ["commands", "chat:write", "im:write", "users:read", "files:write", "app_mentions:read", "reactions:read"]) expect(socketYaml).toContain(`- "${s}"`);
    for (const e of ["app_mention", "reaction_added", "app_home_opened"]) expect(socketYaml).toContain(`- "${e}"`);
    const httpYaml = toYaml(buildManifest({ commands: core.commands, mode: { socket: false, publicUrl: "https://bot.example.com/" } }));
    expect(httpYaml).toContain('request_url: "https://bot.example.com/slack/events"');
    expect(httpYaml).toContain("socket_mode_enabled: false");
  });

  it("undoes Slack's escaping of & < > in command and mention text", () => {
    expect(slashCommandLine("/refund", 'request ORD-1 5 reason="A&amp;B &lt;fragile&gt;"')).toBe('refund request ORD-1 5 reason="A&B <fragile>"');
    expect(mentionCommandLine("<@UBOT> complaint new lid &amp; box &gt; broken", "UBOT")).toBe("complaint new lid & box > broken");
  });

  it("takes a mention's command line after the bot's mention", () => {
    expect(mentionCommandLine("<@UBOT> stock SKU-1", "UBOT")).toBe("stock SKU-1");
    expect(mentionCommandLine("hey <@UBOT|shopops>: stock low", "UBOT")).toBe("stock low");
    expect(mentionCommandLine("<@UBOT> whoami", undefined)).toBe("whoami");
  });

  it("maps slash commands to command lines", () => {
    expect(slashCommandLine("/ops", " stock low ")).toBe("stock low");
    expect(slashCommandLine("/stock", "adjust SKU-1 +1 reason=x")).toBe("stock adjust SKU-1 +1 reason=x");
  });

  it("validates the Slack settings, naming the variable", () => {
    expect(loadConfig({}).slack).toBeUndefined();
    expect(() => loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN })).toThrow(/SLACK_APP_TOKEN or SLACK_SIGNING_SECRET/);
    expect(() => loadConfig({ SLACK_APP_TOKEN: APP_TOKEN })).toThrow(/SLACK_BOT_TOKEN: required/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "nope", SLACK_APP_TOKEN: APP_TOKEN })).toThrow(ConfigError);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_SUPPORT_CHANNELS: "general" })).toThrow(/SLACK_SUPPORT_CHANNELS/);
    const c = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_COMPLAINT_EMOJI: ":rotating_light:" });
    expect(c.slack).toMatchObject({ appToken: undefined, signingSecret: SIGNING_SECRET, port: 3000, complaintEmoji: "rotating_light", supportChannels: [] });
  });
});

describe("refunds, complaints and the digest in Slack", () => {
  const MIA = "UMIA"; // manager
  const mia = `slack:${TEAM}:${MIA}`;
  // Paid yesterday in Shanghai.
  const order = (no: string, total: number) => paidOrder(no, total, "2026-11-24T02:00:00Z");

  beforeAll(async () => {
    await app.services.identity.grant(mia, "manager", "shell:admin");
    peer.users.set(MIA, { id: MIA, name: "mia", display_name: "Mia" });
    await app.store.orders.insertMany([order("ORD-9001", 30_000), order("ORD-9002", 12_000)]);
  });

  it("a refund approved by a button: the order refunded once, the message updated with the outcome and who acted, a replay changes nothing", async () => {
    const { response } = await slash("/refund", 'request ORD-9001 50.00 reason="lid cracked"');
    expect(textOf(response)).toContain("Refund request R-");
    const id = /R-[0-9A-Z]{6}/.exec(textOf(response))![0];
    const approve = buttonsOf(response).find((b) => b.value === `refund approve ${id}`)!;
    expect(approve).toBeDefined();
    const responseUrl = peer.responseUrl();
    const p = buttonPayload({ user: MIA, team: TEAM, messageTs: "1700000700.000700", blockId: approve.block_id, actionId: approve.action_id, value: approve.value, responseUrl });
    await press(p);
    const update = (await peer.waitForResponse(responseUrl)).body;
    expect(update.replace_original).toBe(true);
    expect(textOf(update)).toContain(`Refund ${id} approved: CN¥50.00 refunded on ORD-9001`);
    expect(textOf(update)).toContain(`<@${MIA}> ran \`refund approve ${id}\``);
    expect(buttonsOf(update)).toEqual([]); // decided: no buttons left
    expect((await app.store.orders.findById("ORD-9001").lean())!.refundedTotal).toBe(5_000);

    // The same payload replayed: the clicker is told, the order is not refunded twice.
    const again = peer.responseUrl();
    await press({ ...p, response_url: again });
    expect(textOf((await peer.waitForResponse(again)).body)).toContain("You already pressed this button");
    await http.idle();
    expect((await app.store.orders.findById("ORD-9001").lean())!.refundedTotal).toBe(5_000);
    expect(await app.store.audit.countDocuments({ command: "refund approve", actor: mia })).toBe(1);

    // The requester (a Slack identity) hears the outcome by DM, through the Slack deliverer.
    const note = (await app.store.outbox.findById(`refund:${id}:approved`).lean())!;
    expect(note).toMatchObject({ platform: "slack", dest: { kind: "user", identity: `slack:${TEAM}:${ALICE}` }, status: "pending" });
    expect(await app.services.outbox.dispatch(http)).toEqual({ sent: 1, failed: 0 });
    const dm = peer.callsOf("chat.postMessage").at(-1)!;
    expect(dm.args.channel).toBe(`D${ALICE}`);
    expect(JSON.stringify(dm.args.blocks)).toContain(`Your refund request ${id} for CN¥50.00 on order ORD-9001 was approved by ${mia}`);
  });

  it("a refund needing two managers: each manager's Approve is judged by the core, a repeat is answered privately and the card stays for the second", async () => {
    const MAX = "UMAX"; // a second manager
    await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "manager", "shell:admin");
    peer.users.set(MAX, { id: MAX, name: "max" });
    await app.store.orders.insertMany([order("ORD-9201", 500_000)]);
    const { response } = await slash("/refund", 'request ORD-9201 3000 reason="whole set broken"');
    const id = /R-[0-9A-Z]{6}/.exec(textOf(response))![0];
    const approve = buttonsOf(response).find((b) => b.value === `refund approve ${id}`)!;
    const card = { team: TEAM, messageTs: "1700000900.000900", blockId: approve.block_id, actionId: approve.action_id, value: approve.value, blocks: response.blocks as Block[] };

    // Mia's press records the first approval: the card keeps the request and offers Approve again.
    const miaUrl = peer.responseUrl();
    await press(buttonPayload({ ...card, user: MIA, responseUrl: miaUrl }));
    const first = (await peer.waitForResponse(miaUrl)).body;
    expect(first.replace_original).toBe(true);
    expect(textOf(first)).toContain(`Refund request ${id}`);
    expect(textOf(first)).toContain(`Refund ${id}: first approval recorded; a second manager must approve`);
    const again = buttonsOf(first).find((b) => b.value === `refund approve ${id}`)!;
    expect(again).toBeDefined();

    // Mia's double click on the same button: answered once, privately, nothing run.
    const dupUrl = peer.responseUrl();
    await press(buttonPayload({ ...card, user: MIA, responseUrl: dupUrl }));
    expect((await peer.waitForResponse(dupUrl)).body).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(peer.responsesTo(dupUrl)[0]!.body)).toContain("You already pressed this button");

    // Mia presses Approve on the updated card: only she is told a second manager is needed; the card stays.
    const mineUrl = peer.responseUrl();
    await press(buttonPayload({ ...card, blockId: again.block_id, actionId: again.action_id, blocks: first.blocks as Block[], user: MIA, responseUrl: mineUrl }));
    const mine = (await peer.waitForResponse(mineUrl)).body;
    expect(mine).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(mine)).toContain(`You already approved ${id}; a second, different manager must approve it.`);
    await http.idle();
    expect(peer.responsesTo(mineUrl)).toHaveLength(1);
    expect((await app.store.orders.findById("ORD-9201").lean())!.refundedTotal).toBe(0);

    // Max pressed Approve on the card as he saw it (the same rendered button Mia pressed first):
    // his press is his own, and the core executes the refund.
    const maxUrl = peer.responseUrl();
    await press(buttonPayload({ ...card, user: MAX, responseUrl: maxUrl }));
    const second = (await peer.waitForResponse(maxUrl)).body;
    expect(second.replace_original).toBe(true);
    expect(textOf(second)).toContain(`Refund ${id} approved: CN¥3,000.00 refunded on ORD-9201`);
    expect(textOf(second)).toContain(`<@${MAX}> ran \`refund approve ${id}\``);
    expect(buttonsOf(second).filter((b) => b.value === `refund approve ${id}`)).toEqual([]);
    expect((await app.store.orders.findById("ORD-9201").lean())!.refundedTotal).toBe(300_000);
    expect(await app.store.audit.countDocuments({ command: "refund approve", args: id, outcome: "ok" })).toBe(3);
  });

  it("App Home shows a manager's role, refunds waiting for their approval, complaints assigned to them and yesterday's digest", async () => {
    const pending = await app.services.refund.request({ orderNo: "ORD-9002", amount: "20.00", reason: "late", requester: `slack:${TEAM}:${ALICE}` });
    expect(pending.kind).toBe("created");
    const c = await app.services.complaints.create({ text: "Parcel left in the rain", by: `slack:${TEAM}:${ALICE}`, orderNo: "ORD-9002" });
    if (c.kind !== "created") throw new Error(c.kind);
    expect((await app.services.complaints.assign(c.complaint._id, mia, { identity: "shell:admin", role: "admin" })).kind).toBe("done");

    const before = peer.callsOf("views.publish").length;
    await postEvent({ type: "app_home_opened", user: MIA, channel: "D0MIA", tab: "home", event_ts: "1700000800.1" });
    await peer.waitFor(() => peer.callsOf("views.publish").length > before, "views.publish");
    const call = peer.callsOf("views.publish").at(-1)!;
    expect(call.args.user_id).toBe(MIA);
    const home = JSON.stringify(call.args.view);
    expect(home).toContain(`You are ${mia}, role manager.`);
    expect(home).toContain("Refund requests you may approve: 1");
    expect(home).toContain((pending as { request: { _id: string } }).request._id);
    expect(home).toContain("Your open complaints: 1");
    expect(home).toContain(c.complaint._id);
    expect(home).toContain("Daily digest: 2026-11-24");

    // A support member sees their own sections but not the manager's digest.
    const n = peer.callsOf("views.publish").length;
    await postEvent({ type: "app_home_opened", user: ALICE, channel: "D0ALICE", tab: "home", event_ts: "1700000800.2" });
    await peer.waitFor(() => peer.callsOf("views.publish").length > n, "views.publish for Alice");
    const alice = JSON.stringify(peer.callsOf("views.publish").at(-1)!.args.view);
    expect(alice).toContain("role support");
    expect(alice).toContain("No refund request is waiting for your approval."); // her own request
    expect(alice).not.toContain("Daily digest");
  });
});

describe("the user's language", () => {
  const ZHANG = "UZHANG"; // Slack set to Simplified Chinese; the shop speaks English

  beforeAll(async () => {
    await app.services.identity.grant(`slack:${TEAM}:${ZHANG}`, "staff", "shell:admin");
    peer.users.set(ZHANG, { id: ZHANG, name: "zhang", locale: "zh-CN" });
  });

  it("answers a user in their Slack language when shopops speaks it (users.info locale, asked once), the shop's otherwise", async () => {
    const { response } = await slash("/stock", "SKU-1", ZHANG);
    expect(textOf(response)).toContain("*可用*");
    const { response: offered } = await slash("/ops", "offer SKU-1", ZHANG);
    const show = buttonsOf(offered).find((b) => b.value === "stock SKU-1")!;
    const restock = buttonsOf(offered).find((b) => b.value.startsWith("stock adjust"))!;
    const base = { user: ZHANG, team: TEAM, messageTs: "1700002000.000100", blocks: offered.blocks as Block[] };
    const url = peer.responseUrl();
    await press(buttonPayload({ ...base, blockId: restock.block_id, actionId: restock.action_id, value: restock.value, responseUrl: url }));
    const done = (await peer.waitForResponse(url)).body;
    expect(textOf(done)).toContain(`<@${ZHANG}> 执行了 \`${restock.value}\``);
    const dup = peer.responseUrl();
    await press(buttonPayload({ ...base, blockId: restock.block_id, actionId: restock.action_id, value: restock.value, responseUrl: dup }));
    expect(textOf((await peer.waitForResponse(dup)).body)).toContain("你已按过此按钮");
    const showUrl = peer.responseUrl();
    await press(buttonPayload({ ...base, blockId: show.block_id, actionId: show.action_id, value: show.value, responseUrl: showUrl }));
    expect(textOf((await peer.waitForResponse(showUrl)).body)).toContain("*可用*");
    const asked = peer.callsOf("users.info").filter((c) => c.args.user === ZHANG);
    expect(asked).toHaveLength(1); // one users.info for name and language, then cached
    expect(asked[0]!.args.include_locale).toBe("true");
    // A user whose Slack language is not given (or not one shopops speaks) gets the shop's.
    expect(textOf((await slash("/stock", "SKU-1", VIC)).response)).toContain("*Available*");
  });

  it("answers any Chinese (zh-TW, zh-HK, zh-Hant too) in Chinese, as the Discord adapter does: shopops has no Traditional Chinese", async () => {
    for (const [user, locale] of [["UTW", "zh-TW"], ["UHK", "zh-HK"], ["UHANT", "zh-Hant-TW"], ["UZH", "zh"]] as const) {
      peer.users.set(user, { id: user, name: user.toLowerCase(), locale });
      expect(await http.userLocale(user), locale).toBe("zh-CN");
    }
    await app.services.identity.grant(`slack:${TEAM}:UTW`, "staff", "shell:admin");
    expect(textOf((await slash("/stock", "SKU-1", "UTW")).response)).toContain("*可用*");
  });

  it("keeps a user's language only for a short while, and falls back to SHOP_LOCALE", async () => {
    const config = slackConfig({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SHOP_LOCALE: "zh-CN" });
    const shortLived = new SlackAdapter({ services: app.services, logger: silentLogger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, core, config, listen: "shared", userCacheMs: 20 });
    // The cache's clock held still, then moved past its 20 ms: a busy machine cannot expire it early.
    const t0 = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(t0);
    try {
      peer.users.set("ULANG", { id: "ULANG", name: "lang", locale: "en-US" });
      expect(await shortLived.userLocale("ULANG")).toBe("en");
      peer.users.set("ULANG", { id: "ULANG", name: "lang", locale: "fr-FR" }); // not a language shopops speaks
      clock.mockReturnValue(t0 + 19);
      expect(await shortLived.userLocale("ULANG")).toBe("en"); // still cached
      clock.mockReturnValue(t0 + 30);
      expect(await shortLived.userLocale("ULANG")).toBe("zh-CN"); // the shop's
      expect(await shortLived.userLocale("UNOBODY")).toBe("zh-CN"); // users.info failed
    } finally {
      clock.mockRestore();
    }
    expect(peer.callsOf("users.info").filter((c) => c.args.user === "ULANG")).toHaveLength(2);
  });
});

describe("Bolt's log lines", () => {
  it("never carry tokens, the verification token or response URLs, even at debug", () => {
    const lines: string[] = [];
    const capture = { debug: (m: string) => lines.push(m), info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), child: () => capture };
    const log = boltLogger(capture, ["s1gning-secret"]);
    log.setLevel("debug" as never);
    const payload = { token: "legacyVerif123", team_id: "T1", response_url: "https://hooks.slack.com/actions/T1/123/abcSECRET", text: "stock SKU-1" };
    log.debug("socket mode payload", payload);
    log.debug(`body token=legacyVerif123&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&command=%2Fops`);
    log.info("client xoxb-1234-5678-abcdef and s1gning-secret");
    const all = lines.join("\n");
    for (const secret of ["legacyVerif123", "abcSECRET", "hooks.slack.com%2Fx", "xoxb-1234", "s1gning-secret"]) expect(all, secret).not.toContain(secret);
    expect(all).toContain("stock SKU-1"); // the rest of the line is kept
  });

  it("warn of requests refused at the events URL at most once a minute, counting those in between", () => {
    const lines: string[] = [];
    const capture = { debug: (m: string) => lines.push(m), info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), child: () => capture };
    let t = 1_000_000;
    const log = boltLogger(capture, [], () => t);
    const refusal = "Failed to parse and verify the request data: Failed to verify authenticity: signature mismatch";
    for (let i = 0; i < 50; i++) log.warn(refusal);
    log.warn("Request body exceeded the maximum allowed size (limit: 4194304 bytes)"); // other warnings pass
    expect(lines).toEqual([refusal, "Request body exceeded the maximum allowed size (limit: 4194304 bytes)"]);
    t += 59_000;
    log.warn(refusal);
    expect(lines).toHaveLength(2);
    t += 2_000;
    log.warn(refusal);
    expect(lines.at(-1)).toBe(`${refusal} (50 more refused since the last warning)`);
  });

  it("never carry a new API key's secret (an `apikey create` reply posted through the Web API)", async () => {
    const lines: string[] = [];
    const capture = { debug: (m: string) => lines.push(m), info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), child: () => capture };
    const log = boltLogger(capture, []);
    const { id, token } = await app.services.apiKeys.create("log-shop", ["orders"], "shell:admin");
    const secret = token.slice(`shopops_${id}_`.length);
    log.debug("http request body:", { channel: "C0OPS", text: `API key ${id} created. Token (shown once): ${token}` });
    log.debug(`http request body: text=${encodeURIComponent(`Token: ${token}`)}&channel=C0OPS`);
    const all = lines.join("\n");
    expect(all).not.toContain(secret);
    expect(all).toContain(`shopops_${id}_[redacted]`); // which key it was stays readable
  });
});
