/**
 * Complaint fixes (e8): a complaint escalated before its first post reaches the managers once;
 * a Slack message made only of control characters is filed under its permalink, as an empty one.
 * Real database; Slack through the local peer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import { loadConfig } from "../src/config.js";
import { Core } from "../src/core/core.js";
import { silentLogger } from "../src/core/logger.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";
import { eventBody, postToBot, SlackPeer } from "./peers/slack-peer.js";

const MIN = 60_000;
const START = Date.parse("2026-11-25T02:00:00Z"); // 10:00 in Shanghai
const TEAM = "T0PEER";
const ALICE = "UALICE";
const SIGNING_SECRET = "signing-secret-e8e8e8e8";

let app: TestApp;
let jobs: JobStepper;
let peer: SlackPeer;
let slack: SlackAdapter;
let eventsUrl: string;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.services.identity.grant(`slack:${TEAM}:${ALICE}`, "support", "shell:admin");
  app.clock.set(new Date(START));
  jobs = await jobStepper(app, "complaint-alerts", START);
  peer = await new SlackPeer(TEAM).start();
  peer.users.set(ALICE, { id: ALICE, name: "alice", display_name: "Alice" });
  const config = loadConfig({
    SHOP_TIMEZONE: "Asia/Shanghai",
    SHOP_CURRENCY: "CNY",
    SHOPOPS_ADMINS: "shell:admin",
    SLACK_BOT_TOKEN: "xoxb-1111-2222-E8BOTTOKEN",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_TEAM_IDS: TEAM,
    SLACK_COMPLAINT_EMOJI: ":sos:",
    SLACK_SUPPORT_CHANNELS: "C0SUPPORT",
  });
  const core = new Core({ commands: app.commands, services: app.services, config, clock: app.clock, logger: silentLogger });
  slack = new SlackAdapter({ services: app.services, logger: silentLogger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, core, config, listen: { port: 0, host: "127.0.0.1" }, sleep: async () => undefined });
  const { port } = await slack.start();
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await peer?.stop();
  await app?.close();
});

const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];

async function file(line: string): Promise<string> {
  const r = await app.run("shell:sue", `complaint new ${line}`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return idOf(r);
}

/** Messages queued for complaint `id`, with where they went. */
async function alertsOf(id: string) {
  const docs = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:` } }).lean();
  return docs.map((d) => ({ key: String(d._id), dest: d.dest as { kind: string; channel?: string }, reply: reviveReply(d.reply) }));
}

describe("a complaint escalated before its first post", () => {
  it("reaches the managers once, as the escalation card; one filed beside it is still posted to support", async () => {
    const id = await file("severity=high VIP parcel lost");
    const plain = await file("severity=high lid cracked");
    expect((await app.run("shell:sue", `complaint escalate ${id} reason=vip`)).outcome).toBe("ok");
    await jobs.step(MIN);
    await jobs.step(MIN);
    const sent = await alertsOf(id);
    expect(sent.map((s) => s.key)).toEqual([`complaint-alert:${id}:escalated:1:shell:managers`]);
    expect(sent[0]!.reply.title).toBe(`Complaint ${id} (high) escalated by shell:sue`);
    // Its post is recorded as done: later runs send no "New complaint" card either.
    expect((await app.store.complaints.findById(id).lean())!.alerted?.posted).toBeInstanceOf(Date);
    // The other one, never escalated, is posted to support as ever.
    const other = await alertsOf(plain);
    expect(other.map((s) => s.key)).toEqual([`complaint-alert:${plain}:posted:shell:support`]);
    expect(other[0]!.reply.title).toBe(`New complaint ${plain} (high)`);
  });

  it("whose managers' alert could not be queued at once: the next run sends that alert, with its reason, and no post", async () => {
    const id = await file("severity=high charged twice");
    const send = vi.spyOn(app.services.alerts, "send").mockRejectedValueOnce(new Error("outbox unreachable"));
    try {
      expect((await app.run("shell:sue", `complaint escalate ${id} reason="bank dispute"`)).outcome).toBe("ok");
    } finally {
      send.mockRestore();
    }
    expect(await alertsOf(id)).toHaveLength(0);
    await jobs.step(MIN);
    await jobs.step(MIN);
    const sent = await alertsOf(id);
    expect(sent.map((s) => s.key)).toEqual([`complaint-alert:${id}:escalated:1:shell:managers`]);
    expect(sent[0]!.reply.fields!.at(-1)).toEqual({ label: "Reason", value: "bank dispute", plain: true });
  });
});

describe("Slack: a reacted-to message made only of control characters", () => {
  const react = (ts: string, event_ts: string) =>
    postToBot(eventsUrl, {
      secret: SIGNING_SECRET,
      body: JSON.stringify(eventBody(TEAM, { type: "reaction_added", user: ALICE, reaction: "sos", item_user: "UCUST", item: { type: "message", channel: "C0SUPPORT", ts }, event_ts })),
      form: false,
    });
  const filed = async (permalink: string) => {
    await peer.waitFor(async () => !!(await app.store.complaints.findOne({ permalink }).lean()), `the complaint from ${permalink}`);
    return (await app.store.complaints.findOne({ permalink }).lean())!;
  };

  it("is filed under the message's permalink, as an empty message is", async () => {
    peer.messages.set("C0SUPPORT:1700002000.000100", { ts: "1700002000.000100", user: "UCUST", text: "\u0000\u0007\u202e\u001b \u200b" });
    const before = peer.callsOf("chat.postMessage").length;
    await react("1700002000.000100", "1700002001.000100");
    const permalink = "https://peer.slack.test/archives/C0SUPPORT/p1700002000000100";
    const stored = await filed(permalink);
    expect(stored).toMatchObject({ text: permalink, source: "slack", createdBy: `slack:${TEAM}:UCUST`, status: "new" });
    const answer = await peer.waitFor(() => peer.callsOf("chat.postMessage").slice(before).find((c) => c.args.thread_ts === "1700002000.000100"), "the thread answer");
    expect(JSON.stringify(answer.args.blocks)).toContain(`Complaint ${stored._id} filed`);
    expect(await app.store.audit.findOne({ command: "complaint new", subject: stored._id }).lean()).toMatchObject({ actor: `slack:${TEAM}:${ALICE}`, outcome: "ok" });
    // Nobody was told it was refused for missing text.
    expect(peer.callsOf("chat.postEphemeral").filter((c) => c.args.thread_ts === "1700002000.000100")).toHaveLength(0);
  });

  it("with attachments (a helpdesk bot's post) is read from them, as a message with no text is", async () => {
    peer.messages.set("C0SUPPORT:1700002100.000100", { ts: "1700002100.000100", bot_id: "B0DESK", text: "\u0007\u0000", attachments: [{ title: "Ticket 77", text: "Customer: box crushed" }] } as never);
    await react("1700002100.000100", "1700002101.000100");
    const stored = await filed("https://peer.slack.test/archives/C0SUPPORT/p1700002100000100");
    expect(stored.text).toBe("Ticket 77\nCustomer: box crushed");
  });

  it("an attachment whose text is only control characters is read from its fallback", async () => {
    peer.messages.set("C0SUPPORT:1700002200.000100", { ts: "1700002200.000100", bot_id: "B0DESK", text: "", attachments: [{ title: "Ticket 78", text: "\u0000\u200b", fallback: "Customer: wrong size sent" }] } as never);
    await react("1700002200.000100", "1700002201.000100");
    const stored = await filed("https://peer.slack.test/archives/C0SUPPORT/p1700002200000100");
    expect(stored.text).toBe("Ticket 78\nCustomer: wrong size sent");
  });
});
