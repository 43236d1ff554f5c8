/**
 * What Slack users see (e22): command lines in thread replies as they can be typed there (a
 * mention of the bot, since Slack takes no slash commands in threads), clips that never break
 * a code span, and messages within Slack's limits. Real Bolt over HTTP against the local Slack
 * peer (test/helpers/slack.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, eventBody, postToBot } from "./peers/slack-peer.js";

const TEAM = "T0PEER";
const AMY = "UAMY"; // no role, English
const MAX = "UMAX"; // admin, English
const ZOE = "UZOE"; // no role, Chinese

let app: TestApp;
let h: SlackHarness;

beforeAll(async () => {
  app = await makeTestApp();
  h = await slackHarness(app, { team: TEAM, users: { [AMY]: "amy", [MAX]: "max" } });
  h.peer.users.set(ZOE, { id: ZOE, name: "zoe", locale: "zh-CN" });
  await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "admin", "shell:admin");
});

afterAll(async () => {
  await h?.stop();
  await app?.close();
});

type TextObject = { type: string; text: string };

function textObjects(blocks: readonly Block[]): TextObject[] {
  const out: TextObject[] = [];
  for (const b of blocks) {
    if (b.text) out.push(b.text as TextObject);
    for (const f of (b.fields ?? []) as TextObject[]) out.push(f);
    for (const e of (b.elements ?? []) as TextObject[]) if (e.type === "mrkdwn" || e.type === "plain_text") out.push(e);
  }
  return out;
}

let seq = 0;
/** `text` mentioned by `user` in a thread of C0OPS: the calls the bot made answering it. */
async function mention(user: string, text: string, method: "chat.postEphemeral" | "chat.postMessage") {
  const ts = `1700001000.${String(++seq).padStart(6, "0")}`;
  const before = h.peer.calls.length;
  const event = { type: "app_mention", user, text: `<@UBOT> ${text}`, channel: "C0OPS", ts, thread_ts: "1700000999.000001", event_ts: ts };
  const res = await postToBot(h.eventsUrl, { secret: h.secret, body: JSON.stringify(eventBody(TEAM, event)), form: false });
  expect(res.status).toBe(200);
  await h.peer.waitFor(() => h.peer.calls.slice(before).some((c) => c.method === method), `${method} answering ${text}`);
  await h.slack.idle();
  return h.peer.calls.slice(before).filter((c) => c.method === method);
}

/** Every mrkdwn and plain text of the calls' blocks, one a line. */
function shown(calls: readonly { args: Record<string, unknown> }[]): string {
  return calls.flatMap((c) => textObjects(c.args.blocks as Block[]).map((o) => o.text)).join("\n");
}

describe("in a thread, where Slack takes no slash commands, command lines are a mention of the bot and the line", () => {
  it("a mistyped command in a thread: the suggestion and the help as `@shopops refund`, `@shopops help refund` (the bot's id, shown as its name)", async () => {
    const calls = await mention(AMY, "refnd", "chat.postEphemeral");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.thread_ts).toBe("1700000999.000001");
    const said = "Unknown command `refnd`. Did you mean <@UBOT> `refund`? <@UBOT> `refund` is followed by one of: approve, list, policy, reject, request, show. Type <@UBOT> `help refund` for their usage.";
    expect(shown(calls)).toBe(`:x: ${said}`);
    expect(calls[0]!.args.text).toBe(said);
    expect(shown(calls)).not.toContain("/ops");
  });

  it("help in a thread: every command line is the bot's mention then a code span; typed so, the mention handler runs it", async () => {
    const calls = await mention(AMY, "help refund", "chat.postEphemeral");
    const text = shown(calls);
    expect(text).toContain("<@UBOT> `refund approve &lt;id&gt; [note=&lt;note&gt;]`");
    expect(text).not.toContain("/ops");
    // Each code span naming a command follows the mention.
    const lines = [...text.matchAll(/(<@UBOT> )?`((?:refund|role|help)\b[^`\n]*)`/g)];
    expect(lines.length).toBeGreaterThan(3);
    for (const m of lines) expect(m[1]).toBe("<@UBOT> ");
    // An example shown, typed after the mention as it reads, is run by the bot (a refund it does not know).
    const example = lines.map((m) => m[2]!).find((l) => /^refund show R-\w+$/.test(l))!;
    expect(example).toBeDefined();
    const typed = await mention(MAX, example, "chat.postEphemeral");
    expect(shown(typed)).toContain(example.split(" ")[2]!);
    expect(shown(typed)).not.toMatch(/Unknown command/);
  });

  it("in Chinese too", async () => {
    const calls = await mention(ZOE, "refnd", "chat.postEphemeral");
    const text = shown(calls);
    expect(text).toContain("未知命令 `refnd`。你是不是想输入 <@UBOT> `refund`？");
    expect(text).toContain("输入 <@UBOT> `help refund` 查看用法。");
    expect(text).not.toContain("/ops");
  });

  it("a complaint reaction refused (a viewer): the answer in the message's thread names commands after the bot's mention", async () => {
    const before = h.peer.calls.length;
    const r = await h.slack.fileComplaintFromMessage(
      { text: "The parcel never came", author: `slack:${TEAM}:UCUST`, permalink: "https://peer.slack.test/archives/C0SUP/p1700002000000100", channel: "C0SUP", ts: "1700002000.000100" },
      { identity: `slack:${TEAM}:${AMY}`, user: AMY },
    );
    expect(r.outcome).not.toBe("ok");
    const answer = h.peer.calls.slice(before).filter((c) => c.method === "chat.postEphemeral" && c.args.thread_ts === "1700002000.000100");
    expect(answer).toHaveLength(1);
    const text = shown(answer);
    expect(text).toMatch(/<@UBOT> `role grant/);
    expect(text).not.toContain("/ops");
  });

  it("a button on a message in a thread: a refusal names the line to type after the bot's mention", async () => {
    const responseUrl = h.peer.responseUrl();
    const payload = buttonPayload({ user: AMY, team: TEAM, messageTs: "1700003000.000200", blockId: "shopops.actions.e22thread.0", actionId: "shopops.run.0", value: "complaint resolve C-NOPE1", responseUrl, blocks: [{ type: "section", text: { type: "mrkdwn", text: "x" } }] });
    (payload.message as Record<string, unknown>).thread_ts = "1700003000.000100";
    expect((await postToBot(h.eventsUrl, { secret: h.secret, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() })).status).toBe(200);
    const answer = (await h.peer.waitForResponse(responseUrl)).body;
    await h.slack.idle();
    const text = textObjects(answer.blocks as Block[]).map((o) => o.text).join("\n");
    expect(text).toMatch(/<@UBOT> `\w+/);
    expect(text).not.toContain("/ops");
  });

  it("a slash command's answer still names /ops lines", async () => {
    const posts = await h.slash("refnd", AMY);
    expect(JSON.stringify(posts[0]!.body.blocks)).toContain("Did you mean `/ops refund`?");
  });
});

describe("clips never break a code span, a link or a mention", () => {
  const words = new Set(["help", "refund"]);
  /** Every mrkdwn text of a message's blocks has its code spans closed and its `<…>` whole. */
  function whole(blocks: readonly Block[]) {
    for (const o of textObjects(blocks).filter((x) => x.type === "mrkdwn")) {
      const outside = o.text.replace(/```[\s\S]*?```/g, "");
      expect((outside.match(/`/g)?.length ?? 0) % 2, o.text.slice(-80)).toBe(0);
      expect(outside.replace(/<[@#!][^<>]*>|<https?:[^<>]*>/g, ""), o.text.slice(-80)).not.toMatch(/[<>]/);
    }
  }

  it("a long text of command lines cut into sections: each section's code spans whole, the cut marked with …", () => {
    const line = "`refund approve R-7K2M9Q note=\"photo checked and the parcel was seen\"` then ";
    const msg = renderBlocks({ text: line.repeat(120), visibility: "public" }, { commandWords: words });
    const sections = msg.blocks.filter((b) => b.type === "section");
    expect(sections.length).toBe(3);
    whole(msg.blocks);
    expect(String((sections[2]!.text as TextObject).text)).toMatch(/…$/);
    for (const b of sections) expect(String((b.text as TextObject).text).length).toBeLessThanOrEqual(3000);
  });

  it("in a thread, the same: each command line's mention stays with its span, within 3,000 a section", () => {
    const line = "`refund approve R-7K2M9Q note=\"photo checked and the parcel was seen\"` then ";
    const msg = renderBlocks({ text: line.repeat(120), visibility: "public" }, { commandWords: words, thread: { botUserId: "UBOT" } });
    const sections = msg.blocks.filter((b) => b.type === "section");
    whole(msg.blocks);
    for (const b of sections) {
      const t = String((b.text as TextObject).text);
      expect(t.length).toBeLessThanOrEqual(3000);
      expect(t).not.toMatch(/(^|[^>] )`refund/);
    }
  });

  it("a context line with a mention and a code span cut at 3,000: no half mention, no open code span", () => {
    const msg = renderBlocks({ title: "x", visibility: "public" }, { extraContext: ["x".repeat(2990) + " <@U12345678> ran `refund approve R-1`"] });
    whole(msg.blocks);
    const ctx = (msg.blocks.at(-1)!.elements as TextObject[])[0]!.text;
    expect(ctx.length).toBeLessThanOrEqual(3000);
    expect(ctx.endsWith("…")).toBe(true);
  });
});

describe("the longest replies keep Slack's limits, in a channel and in a thread", () => {
  /** Slack's limits: 50 blocks, about 12,000 characters of blocks, 3,000 a section text, 2,000 a field, 40,000 the text. */
  function withinLimits(message: { blocks: Block[]; text: string }) {
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(message.blocks).length).toBeLessThanOrEqual(12_000);
    expect(message.text.length).toBeLessThanOrEqual(40_000);
    for (const b of message.blocks) {
      if (b.text) expect((b.text as TextObject).text.length).toBeLessThanOrEqual(b.type === "header" ? 150 : 3000);
      for (const f of (b.fields ?? []) as TextObject[]) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
  }

  it("an order of 120 items, a complaint with a long history, help as admin, audit limit=100", async () => {
    const items = Array.from({ length: 120 }, (_, k) => ({ sku: `SKU-${1000 + k}`, qty: 1 + k, unitPrice: 5000 }));
    await app.store.orders.create({ _id: "ORD-900001", items, subtotal: 600000, total: 600000, currency: "CNY", status: "paid", channel: "web", customerId: "a&b<c>@example.com", createdAt: new Date("2026-11-25T03:00:00Z"), day: "2026-11-25" });
    const filed = await h.slash(`complaint new order=ORD-900001 ${"&<>".repeat(290)}`, MAX);
    const id = /C-\w+/.exec(JSON.stringify(filed))![0];
    for (let k = 0; k < 30; k++) await app.core.invoke({ identity: "shell:admin", platform: "shell", text: `complaint ${k % 2 ? "reopen" : "resolve"} ${id} note="${"&".repeat(200)}"` });
    for (const line of ["order ORD-900001", `complaint show ${id}`, "help", "audit limit=100"]) {
      const posts = await h.slash(line, MAX);
      expect(posts[0]!.body.blocks, line).toBeDefined();
      for (const p of posts) withinLimits(p.body as { blocks: Block[]; text: string });
      const inThread = await mention(MAX, line, "chat.postEphemeral").catch(() => mention(MAX, line, "chat.postMessage"));
      for (const c of inThread) withinLimits(c.args as { blocks: Block[]; text: string });
    }
  });
});

describe("App Home for a Chinese user", () => {
  it("its title, sections and footer in Chinese, commands named as /ops lines (typed in the app's Messages tab)", async () => {
    await h.slack.publishHome(TEAM, ZOE);
    const view = h.peer.callsOf("views.publish").at(-1)!.args.view as { blocks: Block[] };
    const texts = textObjects(view.blocks).map((o) => o.text);
    expect(texts).toEqual(["shopops", ":information_source: 你是 slack:T0PEER:UZOE，角色为查看者（viewer）。", "输入 `/ops help` 查看你可以使用的命令。"]);
  });
});
