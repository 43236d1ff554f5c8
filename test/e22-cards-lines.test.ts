/**
 * Complaint cards whose complaint was resolved elsewhere (their buttons go, as a decided refund's
 * do), and command lines in messages written as code so the chat adapters rewrite them (e22).
 */
import { afterEach, describe, expect, it } from "vitest";
import { buildCommandSet } from "../adapters/discord/commands.js";
import { commandsOnce } from "../src/app.js";
import type { Block } from "../adapters/slack/blocks.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { makeTestApp, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot } from "./peers/slack-peer.js";

let app: TestApp | undefined;
let h: SlackHarness | undefined;
let d: DiscordHarness | undefined;
afterEach(async () => {
  await h?.stop();
  await d?.stop();
  await app?.close();
  h = d = app = undefined;
});

const idOf = (s: string | undefined) => /C-[0-9A-Z]{6}/.exec(s ?? "")![0];

/** A Slack card's buttons, with the block each is in. */
function slackButtons(blocks: readonly Block[]): { value: string; action_id: string; block_id: string }[] {
  return blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { value: string; action_id: string }[]).map((e) => ({ ...e, block_id: String(b.block_id) })));
}

describe("a complaint card's buttons, the complaint resolved or claimed elsewhere", () => {
  it("Slack: Claim or Resolve on a card resolved elsewhere takes its buttons away saying why; claimed by another, its buttons stay", async () => {
    app = await withCast(makeTestApp(), USUAL_CAST);
    h = await slackHarness(app, { team: "T0PEER", users: { UKIM: "kim" } });
    await app.services.identity.grant("slack:T0PEER:UKIM", "support", "shell:admin");
    const press = async (blocks: Block[], value: string) => {
      const b = slackButtons(blocks).find((x) => x.value.startsWith(value))!;
      const responseUrl = h!.peer.responseUrl();
      const payload = buttonPayload({ user: "UKIM", team: "T0PEER", messageTs: "1700000900.000100", blockId: b.block_id, actionId: b.action_id, value: b.value, responseUrl, blocks });
      expect((await postToBot(h!.eventsUrl, { secret: h!.secret, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() })).status).toBe(200);
      await h!.peer.waitForResponse(responseUrl);
      await h!.slack.idle();
      return h!.peer.responsesTo(responseUrl).map((p) => p.body as { text: string; blocks: Block[]; replace_original: boolean; response_type?: string });
    };
    const card = async () => (await h!.slash('complaint new "parcel arrived crushed"', "UKIM"))[0]!.body.blocks as Block[];

    // Resolved by command meanwhile: Claim on the old card.
    const c1 = await card();
    const id1 = idOf(JSON.stringify(c1));
    expect(slackButtons(c1).map((b) => b.value)).toEqual([`complaint claim ${id1}`, `complaint resolve ${id1}`, `complaint escalate ${id1}`]);
    expect((await app.run("shell:sue", `complaint resolve ${id1} note="sent a new one"`)).outcome).toBe("ok");
    const [updated, told] = await press(c1, "complaint claim");
    expect(updated).toMatchObject({ replace_original: true });
    expect(slackButtons(updated!.blocks)).toEqual([]);
    expect(JSON.stringify(updated!.blocks)).toContain(`Complaint ${id1} is resolved now; its buttons here no longer apply.`);
    expect(told).toMatchObject({ response_type: "ephemeral", replace_original: false, text: `${id1} is resolved; reopen it first (\`/ops complaint reopen ${id1}\`).` });

    // Resolve on another old card: told who resolved it, and the card loses its buttons too.
    const c2 = await card();
    const id2 = idOf(JSON.stringify(c2));
    expect((await app.run("shell:sue", `complaint resolve ${id2} note="refunded"`)).outcome).toBe("ok");
    const [updated2, told2] = await press(c2, "complaint resolve");
    expect(slackButtons(updated2!.blocks)).toEqual([]);
    expect(JSON.stringify(updated2!.blocks)).toContain(`Complaint ${id2} is resolved now; its buttons here no longer apply.`);
    expect(told2!.text).toContain(`${id2} is already resolved; nothing changed.`);
    expect((await app.services.complaints.get(id2))!.history!.filter((x) => x.action === "resolve")).toHaveLength(1);

    // Claimed by someone else meanwhile: Claim is refused to the presser alone, and the card keeps
    // its buttons (Resolve and Escalate still apply to it), not replaced.
    const c3 = await card();
    const id3 = idOf(JSON.stringify(c3));
    expect((await app.run("shell:sue", `complaint claim ${id3}`)).outcome).toBe("ok");
    const answers = await press(c3, "complaint claim");
    expect(answers.filter((a) => a.replace_original)).toEqual([]);
    expect(answers.map((a) => a.text)).toEqual([expect.stringContaining("shell:sue")]);
    expect((await app.services.complaints.get(id3))!.assignee).toBe("shell:sue");
  });

  it("Discord: Escalate on a card resolved elsewhere disables its buttons with a line saying why, the answer to the presser alone (zh)", async () => {
    const desk = discordRole("Desk", "support");
    const kim = desk.member("Kim", "zh-CN");
    d = await discordHarness({
      role: desk,
      start: true,
      seed: async (a) => {
        for (const [who, role] of Object.entries(USUAL_CAST)) await a.services.identity.grant(who, role, "shell:admin");
      },
    });
    const shown = await d.answer(d.peer.slash(kim, "complaint new", { text: "包裹压坏了" }).id);
    const id = idOf(shown.embeds[0].title);
    const message = d.peer.message(d.peer.channelId, shown);
    expect((await d.app.core.invoke({ identity: "shell:sue", platform: "shell", text: `complaint resolve ${id} note=已补发` })).outcome).toBe("ok");
    const press = d.peer.press(kim, message, `complaint escalate ${id}`);
    const cb = (await d.peer.callback(press.id)).body;
    expect(cb.type).toBe(7);
    expect(cb.data.components[0].components.map((b: { disabled: boolean }) => b.disabled)).toEqual([true, true, true]);
    expect(cb.data.embeds.at(-1).description).toBe(`投诉 ${id} 当前为“已结案”，此处的按钮已不再适用。`);
    const told = await d.peer.waitFor("POST", new RegExp(`^/webhooks/[^/]+/itoken-${press.id}$`));
    expect(told.body.flags & 64).toBe(64);
    expect(told.body.embeds[0].description).toBe(`${id} 已结案；请先重新打开（\`/complaint reopen id:${id}\`）。`);
    expect((await d.app.services.complaints.get(id))!.status).toBe("resolved");
  });
});

describe("command lines in messages, shown as each platform's users type them", () => {
  it("shell (en, zh): the lines to type are code, the rest reads as before", async () => {
    app = await withCast(makeTestApp(), { ...USUAL_CAST, "shell:ada": "admin" });
    const zh = (identity: string, text: string) => app!.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
    expect((await app.run("shell:sam", "order search")).reply.text).toBe("Give at least one filter, e.g. `order search customer=CUST-10001`, `order search since=7d` or `order search status=paid`.");
    expect((await zh("shell:sam", "order search")).reply.text).toBe("请至少提供一个筛选条件，例如 `order search customer=CUST-10001`、`order search since=7天` 或 `order search status=已付款`。");
    expect((await app.run("shell:ada", "digest rebuild 2026-11-24 2026-11-01")).reply.text).toBe("The range runs backwards (2026-11-24 is after 2026-11-01). Give the earlier day first: `digest rebuild 2026-11-01 2026-11-24`.");
    expect((await zh("shell:ada", "digest rebuild 2026-11-24 2026-11-01")).reply.text).toBe("日期范围颠倒了（2026-11-24 晚于 2026-11-01）。请先写较早的日期：`digest rebuild 2026-11-01 2026-11-24`。");
    expect((await app.run("shell:mia", "coupon confirm P-ZZZZ h=0123abcd")).reply.text).toContain("Run `coupon launch` again.");
    expect((await zh("shell:mia", "coupon confirm P-ZZZZ h=0123abcd")).reply.text).toContain("请重新运行 `coupon launch`。");
    expect((await app.run("shell:ada", "refund policy support=300")).reply.text).toContain("start with set: `refund policy set support=300 manager=5000 expiry=48h`.");
    expect((await zh("shell:ada", "refund policy support=300")).reply.text).toContain("请以 set 开头：`refund policy set support=300 manager=5000 expiry=48h`。");
  });

  it("Slack: the lines are shown as /ops lines", async () => {
    app = await withCast(makeTestApp(), USUAL_CAST);
    h = await slackHarness(app, { team: "T0PEER", users: { UADA: "ada" } });
    await app.services.identity.grant("slack:T0PEER:UADA", "admin", "shell:admin");
    const said = async (line: string) => JSON.stringify((await h!.slash(line, "UADA")).map((p) => p.body));
    expect(await said("order search")).toContain("e.g. `/ops order search customer=CUST-10001`, `/ops order search since=7d` or `/ops order search status=paid`.");
    expect(await said("digest rebuild 2026-11-24 2026-11-01")).toContain("Give the earlier day first: `/ops digest rebuild 2026-11-01 2026-11-24`.");
    expect(await said("coupon confirm P-ZZZZ h=0123abcd")).toContain("Run `/ops coupon launch` again.");
    expect(await said("refund policy support=300")).toContain("start with set: `/ops refund policy set support=300 manager=5000 expiry=48h`.");
  });

  it("Discord: the lines are shown as slash commands with name:value options (zh)", async () => {
    const admins = discordRole("Admins", "admin");
    const ada = admins.member("Ada", "zh-CN");
    d = await discordHarness({ role: admins, start: true });
    const said = async (command: string, options: Record<string, string>) => JSON.stringify(await d!.answer(d!.peer.slash(ada, command, options).id));
    expect(await said("order search", {})).toContain("例如 `/order search customer:CUST-10001`、`/order search since:7天` 或 `/order search status:已付款`。");
    expect(await said("digest rebuild", { from: "2026-11-24", to: "2026-11-01" })).toContain("请先写较早的日期：`/digest rebuild from:2026-11-01 to:2026-11-24`。");
    expect(await said("refund policy", { support: "300" })).toContain("请以 set 开头：`/refund policy action:set support:300 manager:5000 expiry:48h`。");
  });
});

describe("command descriptions in Discord's picker", () => {
  it("refund policy and stock adjust describe what they do without text-command syntax Discord users do not type (en, zh)", async () => {
    type Def = { name: string; description: string; description_localizations?: Record<string, string>; options?: Def[] };
    const defs = buildCommandSet(await commandsOnce()).definitions as unknown as Def[];
    const sub = (group: string, name: string) => defs.find((x) => x.name === group)!.options!.find((o) => o.name === name)!;
    const said = (x: Def) => [x.description, x.description_localizations?.["zh-CN"]];
    expect(said(sub("refund", "policy"))).toEqual(["Show the refund approval policy, or change it (admins only)", "查看退款审批政策，或修改它（仅限管理员）"]);
    expect(said(sub("stock", "adjust"))).toEqual(["Change a product's on-hand stock by a signed quantity (+5, -2) or to a counted level, with a reason", "按带符号的数量调整商品在库库存（+5、-2），或设为盘点得到的库存水平，并注明原因"]);
  });
});
