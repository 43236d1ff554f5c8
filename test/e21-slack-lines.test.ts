/**
 * Slack replies name commands as a Slack user types them (e21): `help`, a typo's suggestion, a
 * help example, a next page are shown as `/ops help`, `/ops refund`, `/ops role list limit=1
 * page=2`, in English and Chinese; Slack never reads a plain `help` (it sends the bot slash
 * commands, mentions, reactions and Home only). Values, text people typed, the title, tables
 * and buttons' values are left as they are, and Slack's limits hold after the rewrite. Real
 * Bolt over HTTP against the local Slack peer (test/helpers/slack.ts), over this file's own
 * database, in a shop whose SHOP_LOCALE is zh-CN.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot, type ResponsePost } from "./peers/slack-peer.js";

const TEAM = "T0PEER";
const AMY = "UAMY"; // no role (viewer), Slack in English
const MAX = "UMAX"; // admin, Slack in English
const ZOE = "UZOE"; // no role, her Slack language not given: the shop's (zh-CN)

let app: TestApp;
let h: SlackHarness;

beforeAll(async () => {
  app = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
  h = await slackHarness(app, { team: TEAM, users: { [AMY]: "amy", [MAX]: "max" } });
  h.peer.users.set(ZOE, { id: ZOE, name: "zoe" });
  await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "admin", "shell:admin");
});

afterAll(async () => {
  await h?.stop();
  await app?.close();
});

type TextObject = { type: string; text: string };

/** Every text object of the blocks (headers, sections, fields, context), in order. */
function textObjects(blocks: readonly Block[]): TextObject[] {
  const out: TextObject[] = [];
  for (const b of blocks) {
    if (b.text) out.push(b.text as TextObject);
    for (const f of (b.fields ?? []) as TextObject[]) out.push(f);
    for (const e of (b.elements ?? []) as (TextObject & { value?: string })[]) if (e.type === "mrkdwn" || e.type === "plain_text") out.push(e);
  }
  return out;
}

/** What the person sees of the answers: each message's mrkdwn and plain text, one a line. */
function shown(posts: readonly ResponsePost[]): string {
  return posts.flatMap((p) => textObjects(p.body.blocks as Block[]).map((o) => o.text)).join("\n");
}

/** The contents of the code spans of the answers' mrkdwn. */
function codeSpans(posts: readonly ResponsePost[]): string[] {
  const mrkdwn = posts.flatMap((p) => textObjects(p.body.blocks as Block[]).filter((o) => o.type === "mrkdwn"));
  return mrkdwn.flatMap((o) => [...o.text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
}

describe("a newcomer on Slack is told what to type", () => {
  it("an empty /ops: `/ops help`, in the message and its notification text", async () => {
    const [answer, ...rest] = await h.slash("", AMY);
    expect(rest).toEqual([]);
    expect(answer!.body.text).toBe("Nothing to run. Type `/ops help` to see the commands you can use.");
    expect(shown([answer!])).toBe(":x: Nothing to run. Type `/ops help` to see the commands you can use.");
  });

  it("a mistyped command: the word typed as it was, the suggestion and the help to type as /ops lines", async () => {
    const posts = await h.slash("refnd", AMY);
    expect(shown(posts)).toBe(
      ":x: Unknown command `refnd`. Did you mean `/ops refund`? `/ops refund` is followed by one of: approve, list, policy, reject, request, show. Type `/ops help refund` for their usage.",
    );
  });

  it("help: each command, and the footer's usage line, as typed after /ops; the commands named in the list can be typed as shown", async () => {
    const posts = await h.slash("help", AMY);
    const spans = codeSpans(posts);
    expect(spans).toEqual(expect.arrayContaining(["/ops help", "/ops whoami", "/ops stock low", "/ops help &lt;command&gt;"]));
    for (const s of spans) expect(s).toMatch(/^\/ops \S/);
    expect(shown(posts)).toContain("Type `/ops help &lt;command&gt;` for usage and examples.");
    // The header is plain text, not a command line: as it was.
    expect((posts[0]!.body.blocks as Block[])[0]).toMatchObject({ type: "header", text: { text: ":information_source: Commands you can run (viewer)" } });
  });

  it("help for a group: usage lines and examples as typed after /ops, the role to ask for too; the labels as they were", async () => {
    const posts = await h.slash("help refund", AMY);
    const text = shown(posts);
    expect(text).toContain("*refund approve (support)*\nApprove a refund request (within your role's limit; never your own)\n`/ops refund approve &lt;id&gt; [note=&lt;note&gt;]`\n`/ops refund approve R-7K2M9Q`\n`/ops refund approve R-7K2M9Q note=\"photo checked\"`");
    expect(text).toContain("Ask an admin (`/ops role grant`) if you need one.");
    for (const s of codeSpans(posts)) expect(s).toMatch(/^\/ops (refund|role) /);
  });

  it("a next page's command is shown as /ops … and, typed as shown, gives the next page", async () => {
    await app.services.identity.grant(`slack:${TEAM}:UOTHER`, "staff", "shell:admin");
    const first = await h.slash("role list limit=1", MAX);
    const next = codeSpans(first).find((s) => s.includes("page=2"));
    expect(next).toBe("/ops role list limit=1 page=2");
    const [command, ...words] = next!.split(" ");
    const second = await h.slash(words.join(" "), MAX, command);
    expect(shown(second)).toMatch(/Rows 2–2 of \d+/);
  });

  it("text someone typed stays as typed; a button carries the line the core runs, and its answer names the /ops line to type", async () => {
    const posts = await h.slash("complaint new Typed `help` and `stock SKU-1` and nothing happened", MAX);
    const blocks = posts[0]!.body.blocks as Block[];
    expect(textObjects(blocks)).toContainEqual(expect.objectContaining({ type: "plain_text", text: "Typed `help` and `stock SKU-1` and nothing happened" }));
    expect(posts[0]!.body.text).toContain("Typed `help` and `stock SKU-1` and nothing happened");
    const buttons = blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { value: string; action_id: string }[]).map((e) => ({ ...e, block_id: String(b.block_id) })));
    const resolve = buttons.find((b) => b.value.startsWith("complaint resolve "))!;
    expect(resolve.value).toMatch(/^complaint resolve C-\w+$/);
    const id = resolve.value.split(" ")[2]!;
    // Resolve pressed without a note: the presser is told the line to type, as typed in Slack.
    const responseUrl = h.peer.responseUrl();
    const payload = buttonPayload({ user: MAX, team: TEAM, messageTs: "1700000900.000100", blockId: resolve.block_id, actionId: resolve.action_id, value: resolve.value, responseUrl, blocks });
    expect((await postToBot(h.eventsUrl, { secret: h.secret, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() })).status).toBe(200);
    const answer = (await h.peer.waitForResponse(responseUrl)).body;
    await h.slack.idle();
    expect(answer).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(shown([{ body: answer } as ResponsePost])).toBe(`:x: Resolving ${id} needs a note saying what was done: \`/ops complaint resolve ${id} note="…"\`.`);
  });

  it("App Home names commands as its footer does (`/ops help`)", async () => {
    await h.slack.publishHome(TEAM, MAX);
    const view = h.peer.callsOf("views.publish").at(-1)!.args.view as { blocks: Block[] };
    const texts = textObjects(view.blocks).map((o) => o.text);
    expect(texts).toContain(":information_source: You have no open complaints. `/ops complaint list unassigned` shows ones to claim.");
    expect(texts.at(-1)).toBe("Type `/ops help` to see the commands you can run.");
  });
});

describe("in Chinese (the shop's SHOP_LOCALE=zh-CN)", () => {
  it("an empty /ops and a mistyped command name /ops lines", async () => {
    expect(shown(await h.slash("", ZOE))).toBe(":x: 没有可执行的内容。输入 `/ops help` 查看你可以使用的命令。");
    const typo = shown(await h.slash("refnd", ZOE));
    expect(typo).toContain("未知命令 `refnd`。你是不是想输入 `/ops refund`？");
    expect(typo).toContain("输入 `/ops help refund` 查看用法。");
  });

  it("help: usage lines and examples as typed after /ops", async () => {
    const posts = await h.slash("help refund", ZOE);
    expect(shown(posts)).toContain("`/ops refund show &lt;编号&gt;`");
    for (const s of codeSpans(posts)) expect(s).toMatch(/^\/ops /);
  });
});

describe("the renderer", () => {
  // The registry's top-level words, as the adapter passes them.
  const words = new Set(["help", "refund", "role", "stock"]);

  it("rewrites only command lines: values, other tools' lines, fences and text as typed stay", () => {
    const msg = renderBlocks(
      {
        text: "Type `help`; `SKU-1` is low; `npm run shell`; `/invite @shopops`; ```stock```",
        fields: [
          { label: "Usage", value: "`refund approve <id>`" },
          { label: "Note", value: "`help` as typed", plain: true },
        ],
        context: ["Next page: `stock page=2`"],
        visibility: "public",
      },
      { commandWords: words, extraContext: ["<@U1> ran `refund approve R-1`"] },
    );
    const texts = textObjects(msg.blocks).map((o) => o.text);
    expect(texts).toEqual([
      "Type `/ops help`; `SKU-1` is low; `npm run shell`; `/invite @shopops`; ```stock```",
      "*Usage*\n`/ops refund approve &lt;id&gt;`",
      "*Note*",
      "`help` as typed",
      "Next page: `/ops stock page=2`",
      // A pressed button's line names what the button ran (its value), as it was.
      "<@U1> ran `refund approve R-1`",
    ]);
    expect(msg.text).toBe("Type `/ops help`; `SKU-1` is low; `npm run shell`; `/invite @shopops`; ```stock```");
  });

  it("Slack's limits hold once `/ops ` is added: a field within 2,000, a context line and each section within 3,000", () => {
    const spans = (n: number) => Array.from({ length: n }, () => "`help`").join(" ");
    const msg = renderBlocks(
      { text: spans(1_100), fields: [{ label: "Usage", value: spans(280) }], context: [spans(420)], visibility: "public" },
      { commandWords: words },
    );
    const objects = textObjects(msg.blocks);
    for (const o of objects) expect(o.text.length).toBeLessThanOrEqual(3_000);
    const field = objects.find((o) => o.text.startsWith("*Usage*"))!;
    expect(field.text.length).toBeLessThanOrEqual(2_000);
    expect(field.text).toContain("`/ops help`");
    expect(objects.filter((o) => o.text.includes("`/ops help`")).length).toBeGreaterThanOrEqual(4);
  });
});
