/**
 * Slack leftovers (e17): people of another workspace told why nothing happens, a chart Slack
 * refuses no longer taking a mention's answer with it, Slack ids stored in lower case by older
 * versions delivered, and channel names that look like ids read as names. Real Bolt over HTTP
 * against the local Slack peer, over this file's own database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ACTION_PREFIX } from "../adapters/slack/blocks.js";
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import { loadConfig, type Config } from "../src/config.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { Core } from "../src/core/core.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { buttonPayload, eventBody, postToBot, SlackPeer } from "./peers/slack-peer.js";

const SIGNING_SECRET = "signing-secret-e17-slack";
const TEAM = "T0PEER";
const OTHER = "T0OTHER"; // a workspace sharing a Slack Connect channel with the shop's
const MAX = "UMAX"; // manager of the shop's workspace
const EXT = "UEXT"; // of the other workspace, Slack in English
const EXTZH = "UEXTZH"; // of the other workspace, Slack in Chinese

/** A public reply carrying a chart, as a digest posted to a channel does. */
const chart = defineCommand({
  name: "chart",
  description: "cmd.stock",
  args: z.object({}),
  examples: ["chart"],
  permission: "viewer",
  mutates: false,
  async handler() {
    return { title: "Sales chart", text: "Net sales ¥1,290 yesterday", status: "info", image: { filename: "sales.png", alt: "Sales chart", data: new Uint8Array([137, 80, 78, 71, 9, 9]) }, visibility: "public" };
  },
});

let app: TestApp;
let peer: SlackPeer;
let slack: SlackAdapter;
let eventsUrl: string;
const logLines: string[] = [];

function slackConfig(): Config {
  return loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", SLACK_BOT_TOKEN: "xoxb-e17-slack-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_TEAM_IDS: TEAM });
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1", { name: "Thermos", onHand: 20 })]);
  await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "manager", "shell:admin");
  peer = await new SlackPeer(TEAM).start();
  peer.users.set(MAX, { id: MAX, name: "max", locale: "en-US" });
  peer.users.set(EXT, { id: EXT, name: "ext", locale: "en-US" });
  peer.users.set(EXTZH, { id: EXTZH, name: "extzh", locale: "zh-CN" });
  const config = slackConfig();
  const core = new Core({ commands: [...app.commands, chart as unknown as Command], services: app.services, config, clock: app.clock, logger: silentLogger });
  const logger = createLogger("info", {}, (l) => logLines.push(l));
  slack = new SlackAdapter({ core, services: app.services, config, logger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" }, sleep: async () => {} });
  const { port } = await slack.start();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await peer?.stop();
  await app?.close();
});

async function postEvent(event: Record<string, unknown>, eventId?: string, headers: Record<string, string> = {}) {
  const r = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: JSON.stringify(eventBody(TEAM, event, eventId)), form: false, headers });
  expect(r.status).toBe(200);
  await slack.idle();
}

describe("people of a workspace not in SLACK_TEAM_IDS (a Slack Connect channel)", () => {
  it("a button they press is refused to them alone through its response_url, in their language, as a slash command is; nothing runs, the message stays, the refusal is logged", async () => {
    const audits = await app.store.audit.countDocuments({});
    const pressAs = async (user: string) => {
      const responseUrl = peer.responseUrl();
      const p = buttonPayload({ user, team: OTHER, messageTs: "1700000700.000100", blockId: "shopops.b1", actionId: `${ACTION_PREFIX}0`, value: "stock adjust SKU-1 +5 reason=restock", responseUrl, blocks: [{ type: "section", text: { type: "mrkdwn", text: "Restock SKU-1?" } }] });
      const ack = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() });
      expect(ack.status).toBe(200);
      await peer.waitForResponse(responseUrl, "the refusal of the press");
      await slack.idle();
      return peer.responsesTo(responseUrl).map((r) => r.body);
    };
    const [said, ...more] = await pressAs(EXT);
    expect(more).toEqual([]);
    expect(said).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(said!.text).toBe("This workspace is not set up for shopops (SLACK_TEAM_IDS); ask the shop's admin.");
    const [zh] = await pressAs(EXTZH);
    expect(zh!.text).toBe("此工作区未设置使用 shopops（SLACK_TEAM_IDS）；请联系店铺管理员。");

    expect((await app.store.products.findById("SKU-1").lean())!.onHand).toBe(20);
    expect(await app.store.audit.countDocuments({})).toBe(audits);
    expect(logLines.filter((l) => l.includes("not in SLACK_TEAM_IDS") && l.includes("button"))).toHaveLength(2);
  });

  it("a mention they make in a shared channel is refused to them alone (ephemeral, in its thread, with the shop's token), once however often Slack retries the event; nothing runs", async () => {
    const audits = await app.store.audit.countDocuments({});
    const posted = peer.callsOf("chat.postMessage").length;
    const ts = "1700000800.000100";
    const event = { type: "app_mention", user: EXT, user_team: OTHER, team: OTHER, text: "<@UBOT> stock adjust SKU-1 +5 reason=restock", channel: "C0SHARED", ts, event_ts: ts };
    await postEvent(event, "Ev0E17MENTION");
    const told = peer.callsOf("chat.postEphemeral").filter((c) => c.args.thread_ts === ts);
    expect(told).toHaveLength(1);
    expect(told[0]!.args).toMatchObject({ channel: "C0SHARED", user: EXT, text: "This workspace is not set up for shopops (SLACK_TEAM_IDS); ask the shop's admin." });
    expect(told[0]!.auth).toBe("Bearer xoxb-e17-slack-token");
    // Slack sends the event again (it thought the first delivery failed): not told twice.
    await postEvent(event, "Ev0E17MENTION", { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" });
    expect(peer.callsOf("chat.postEphemeral").filter((c) => c.args.thread_ts === ts)).toHaveLength(1);

    // In their language; a reply in a thread is answered in that thread.
    await postEvent({ ...event, user: EXTZH, ts: "1700000800.000200", thread_ts: "1700000800.000150" });
    const zh = peer.callsOf("chat.postEphemeral").find((c) => c.args.user === EXTZH);
    expect(zh!.args).toMatchObject({ thread_ts: "1700000800.000150", text: "此工作区未设置使用 shopops（SLACK_TEAM_IDS）；请联系店铺管理员。" });

    expect(peer.callsOf("chat.postMessage").length).toBe(posted);
    expect((await app.store.products.findById("SKU-1").lean())!.onHand).toBe(20);
    expect(await app.store.audit.countDocuments({})).toBe(audits);
    expect(logLines.filter((l) => l.includes("not in SLACK_TEAM_IDS") && l.includes("app_mention")).length).toBeGreaterThanOrEqual(3);
  });
});

describe("a mention's public answer whose chart Slack refuses", () => {
  it("still posts the answer's text in the thread, saying the chart is not attached, what Slack refused and how an admin fixes it; in the asker's language", async () => {
    peer.once("files.getUploadURLExternal", () => ({ ok: false, error: "missing_scope", needed: "files:write", provided: "commands,chat:write" }));
    const ts = "1700000900.000100";
    await postEvent({ type: "app_mention", user: MAX, text: "<@UBOT> chart", channel: "C0OPS", ts, event_ts: ts });
    const answer = peer.callsOf("chat.postMessage").find((c) => c.args.thread_ts === ts);
    expect(answer).toBeDefined();
    expect(answer!.args.channel).toBe("C0OPS");
    const shown = JSON.stringify(answer!.args.blocks);
    expect(shown).toContain("Net sales ¥1,290 yesterday");
    expect(shown).toContain("The chart was not sent: Slack refused it (`missing_scope`): the installed app lacks the `files:write` scope");
    expect(logLines.some((l) => l.includes("image not sent") && l.includes("files:write"))).toBe(true);

    peer.users.set("UZOE", { id: "UZOE", name: "zoe", locale: "zh-CN" });
    peer.once("files.getUploadURLExternal", () => ({ ok: false, error: "missing_scope", needed: "files:write", provided: "commands,chat:write" }));
    await postEvent({ type: "app_mention", user: "UZOE", text: "<@UBOT> chart", channel: "C0OPS", ts: "1700000900.000200", event_ts: "1700000900.000200" });
    const zh = JSON.stringify(peer.callsOf("chat.postMessage").find((c) => c.args.thread_ts === "1700000900.000200")!.args.blocks);
    expect(zh).toContain("图表未发送：Slack 拒绝了（`missing_scope`）");
  });
});

describe("Slack routes stored in lower case by older versions", () => {
  it("an admin's route stored as c0123abcd delivers to C0123ABCD, alerts already queued for c0123abcd too; alerts list shows the id as Slack writes it and routing to it again changes nothing", async () => {
    await app.store.alertRoutes.create({ _id: "low_stock:slack", type: "low_stock", platform: "slack", channel: "c0123abcd", setBy: "shell:admin", setAt: new Date("2025-06-01T00:00:00Z") });
    // Queued by the older version, for the channel as it stored it.
    await app.services.outbox.enqueue({ key: "e17:old:low_stock:slack:c0123abcd", kind: "low_stock", dest: { kind: "channel", platform: "slack", channel: "c0123abcd" }, reply: { title: "Low stock (queued before)", visibility: "public" } });
    await app.services.alerts.send({ type: "low_stock", key: "e17:low", reply: { title: "Low stock: SKU-1", visibility: "public" }, urgent: true });
    const before = peer.callsOf("chat.postMessage").length;
    expect(await app.services.outbox.dispatch(slack)).toEqual({ sent: 2, failed: 0 });
    const sent = peer.callsOf("chat.postMessage").slice(before);
    expect(sent.map((c) => [c.args.channel, c.args.text])).toEqual(
      expect.arrayContaining([
        ["C0123ABCD", expect.stringContaining("Low stock (queued before)")],
        ["C0123ABCD", expect.stringContaining("Low stock: SKU-1")],
      ]),
    );

    const list = await app.run("shell:admin", "alerts list");
    expect(list.reply.table!.rows.filter((r) => r[0] === "low_stock" && r[1] === "slack").map((r) => r[2])).toEqual(["C0123ABCD"]);
    const again = await app.run("shell:admin", "alerts route low_stock slack C0123ABCD");
    expect([again.reply.code, again.reply.text]).toEqual(["already_routed", "low_stock alerts on slack already go to C0123ABCD (set by shell:admin); nothing changed."]);
    await app.store.alertRoutes.deleteOne({ _id: "low_stock:slack" });
  });
});

describe("alerts route: a Slack channel name that looks like an id", () => {
  it("dev2, c2, d2ops and general are names, refused as names are (in en and zh), nothing stored; an id still reads as an id, in upper case", async () => {
    const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });
    for (const line of ["alerts route sla slack dev2", "alerts route sla slack channel=dev2", "alerts route sla slack c2", "alerts route sla slack d2ops", "alerts route sla slack general"]) {
      const r = await app.run("shell:admin", line);
      const name = line.split(/[ =]/).at(-1)!;
      expect([r.outcome, r.reply.code], line).toEqual(["user_error", "bad_channel"]);
      expect(r.reply.text, line).toBe(
        `"${name}" is not a Slack channel id: alerts go to a channel by its id, which stays the same when the channel is renamed (click the channel's name at the top of the channel: the ID is at the bottom of the About tab, e.g. C0123ABCD), or off.`,
      );
    }
    expect((await zh("alerts route sla slack dev2")).reply.text).toBe("\"dev2\" 不是 Slack 频道 ID：告警按频道 ID 发送，频道改名后 ID 不变（点击频道顶部的频道名称，在“关于”页底部可找到 ID，例如 C0123ABCD），或填 off。");
    expect(await app.store.alertRoutes.findById("sla:slack").lean()).toBeNull();

    // In ALERT_ROUTES a name stays a name (accepted, warned of at start-up), not an id DEV2.
    expect(loadConfig({ ALERT_ROUTES: "sla:slack:dev2,digest:slack:c0123abcd,low_stock:slack:C0OPS" }).alertRoutes.map((r) => r.channel)).toEqual(["dev2", "C0123ABCD", "C0OPS"]);

    // A real id, typed in lower case at its full length, is still the id.
    const id = await app.run("shell:admin", "alerts route sla slack c0123abcd");
    expect(id.reply.text).toBe("sla alerts on slack now go to C0123ABCD.");
    expect(await app.store.alertRoutes.findById("sla:slack").lean()).toMatchObject({ channel: "C0123ABCD" });
  });
});
