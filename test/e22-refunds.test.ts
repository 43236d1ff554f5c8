/**
 * Refunds, a pass as staff requesting and a manager approving (e22): amounts typed as people say
 * them (`12块5`, `十二块`), a Chinese option name with a quoted reason (`原因="客户 改主意"`), and
 * old refund cards' buttons pressed after the request was decided elsewhere or expired.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Block } from "../adapters/slack/blocks.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot } from "./peers/slack-peer.js";

let app: TestApp;
let h: SlackHarness | undefined;
let d: DiscordHarness | undefined;
afterEach(async () => {
  await h?.stop();
  await d?.stop();
  h = d = undefined;
  await app?.close();
});

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const idOf = (title: string | undefined) => /R-[0-9A-Z]{6}/.exec(title ?? "")![0];

/** A fresh app (CNY, Asia/Shanghai) with staff, support and two managers, and an order of ¥300. */
async function fresh(): Promise<TestApp> {
  app = await withCast(makeTestApp(), USUAL_CAST);
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000)]);
  return app;
}

describe("amounts typed as people say them", () => {
  it("12块5, 12元5角 and 12块5毛6 are read as 12.50 and 12.56 yuan", async () => {
    await fresh();
    for (const [typed, minor] of [["12块5", 1250], ["12元5角", 1250], ["¥12块5", 1250], ["12块5毛6", 1256], ["12.50元", 1250], ["¥12.5元", 1250]] as const) {
      const r = await app.run("shell:sam", `refund request ORD-1 ${typed} reason=dented`);
      expect([typed, r.outcome]).toEqual([typed, "ok"]);
      expect((await app.services.refund.get(idOf(r.reply.title)))!.amount).toBe(minor);
    }
  });

  it("十二块 and 12。5 are refused with the amount in digits and the line to type (en, zh); nothing is asked", async () => {
    await fresh();
    const r = await app.run("shell:sam", "refund request ORD-1 十二块 reason=dented");
    expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "bad_amount", '"十二块" is not a refund amount as typed: write it in digits, 12块: `refund request ORD-1 12块 reason=dented`.']);
    expect((await zh("shell:sam", "refund request ORD-1 12。5 reason=破损")).reply.text).toBe('"12。5" 无法识别为退款金额：请用阿拉伯数字填写金额，即 12.5：`refund request ORD-1 12.5 reason=破损`。');
    expect((await zh("shell:sam", "refund request ORD-1 一百五十元 reason=破损")).reply.text).toContain("即 150元：`refund request ORD-1 150元 reason=破损`");
    // Not an amount in any writing: refused as before, without a made-up one.
    expect((await app.run("shell:sam", "refund request ORD-1 很多 reason=dented")).reply.text).toBe('"很多" is not a refund amount. Give a positive amount such as 25.00 (up to 12 digits before the point, commas only between thousands), or full.');
    expect(await app.store.refundRequests.countDocuments({})).toBe(0);
  });

  it("12块5 on an order in another currency is refused naming its currency", async () => {
    await fresh();
    await app.store.orders.insertMany([{ ...paidOrder("ORD-9", 10_000), currency: "USD" }]);
    const r = await app.run("shell:sam", "refund request ORD-9 12块5 reason=dented");
    expect([r.code, r.reply.text]).toEqual(["bad_amount", '"12块5" is in another currency than order ORD-9, which is in USD: give the amount in USD, e.g. 25.00, or full.']);
  });
});

describe("an option named in Chinese with a quoted value", () => {
  it("refund reject R-… 原因=\"客户 改主意\" is refused naming reason= with the whole quoted reason, not split", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-1 10 reason=dented")).reply.title);
    for (const [open, close] of [['"', '"'], ["“", "”"]]) {
      const r = await zh("shell:sue", `refund reject ${id} 原因=${open}客户 改主意${close}`);
      expect([r.outcome, r.reply.text]).toEqual([
        "user_error",
        `\`refund reject\` 的参数无效：\n• "原因=" 不是选项：选项名要用英文写，原因请写作 \`reason=\`\n你是不是想输入 \`refund reject ${id} reason=${open}客户 改主意${close}\`？`,
      ]);
    }
    expect((await app.services.refund.get(id))!.status).toBe("pending");
  });
});

/** A Slack card's buttons, with the block each is in. */
function slackButtons(blocks: readonly Block[]): { value: string; action_id: string; block_id: string }[] {
  return blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { value: string; action_id: string }[]).map((e) => ({ ...e, block_id: String(b.block_id) })));
}

describe("an old refund card's buttons, its request decided or expired meanwhile", () => {
  it("Slack: pressing Approve or Reject tells the presser the request's state and takes the card's buttons away, saying why", async () => {
    await fresh();
    h = await slackHarness(app, { team: "T0PEER", users: { UMIA: "mia", USAM: "sam" } });
    await app.services.identity.grant("slack:T0PEER:UMIA", "manager", "shell:admin");
    await app.services.identity.grant("slack:T0PEER:USAM", "staff", "shell:admin");
    const press = async (blocks: Block[], value: string) => {
      const b = slackButtons(blocks).find((x) => x.value.startsWith(value))!;
      const responseUrl = h!.peer.responseUrl();
      const payload = buttonPayload({ user: "UMIA", team: "T0PEER", messageTs: "1700000900.000100", blockId: b.block_id, actionId: b.action_id, value: b.value, responseUrl, blocks });
      expect((await postToBot(h!.eventsUrl, { secret: h!.secret, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() })).status).toBe(200);
      await h!.peer.waitForResponse(responseUrl);
      await h!.slack.idle();
      return h!.peer.responsesTo(responseUrl).map((p) => p.body as { text: string; blocks: Block[]; replace_original: boolean; response_type?: string });
    };
    // A card in the channel; the request is approved by command meanwhile.
    const card = (await h.slash("refund request ORD-1 10 reason=dented", "USAM"))[0]!.body.blocks as Block[];
    const id = idOf(JSON.stringify(card));
    expect((await app.run("shell:max", `refund approve ${id}`)).outcome).toBe("ok");
    const [updated, told] = await press(card, "refund approve");
    expect(updated).toMatchObject({ replace_original: true });
    expect(slackButtons(updated!.blocks)).toEqual([]);
    expect(JSON.stringify(updated!.blocks)).toContain(`Refund request ${id} is approved and refunded now; its buttons here no longer apply.`);
    expect(told).toMatchObject({ response_type: "ephemeral", replace_original: false, text: `Refund request ${id} was already approved by shell:max; nothing changed.` });
    // Expired: Reject on its card says so, and the card loses its buttons too.
    const card2 = (await h.slash("refund request ORD-1 20 reason=scratched", "USAM"))[0]!.body.blocks as Block[];
    const id2 = idOf(JSON.stringify(card2));
    app.clock.set(new Date("2026-11-29T04:00:00Z"));
    const [updated2, told2] = await press(card2, "refund reject");
    expect(slackButtons(updated2!.blocks)).toEqual([]);
    expect(JSON.stringify(updated2!.blocks)).toContain(`Refund request ${id2} is expired now; its buttons here no longer apply.`);
    expect(told2!.text).toBe(`Refund request ${id2} expired at 2026-11-28 12:00 GMT+8; it can no longer be approved or rejected. Create a new request if it is still needed.`);
    expect((await app.services.refund.get(id2))!.status).not.toBe("rejected");
  });

  it("Discord: pressing Reject disables the card's buttons with a line saying why, the answer to the presser alone (zh)", async () => {
    const leads = discordRole("Leads", "manager");
    const mia = leads.member("Mia", "zh-CN");
    d = await discordHarness({
      role: leads,
      start: true,
      seed: async (a) => {
        for (const [who, role] of Object.entries(USUAL_CAST)) await a.services.identity.grant(who, role, "shell:admin");
        await a.store.orders.insertMany([paidOrder("ORD-7", 100_000)]);
      },
    });
    // Mia's request's card, in the channel; support rejects it by command meanwhile.
    const shown = await d.answer(d.peer.slash(mia, "refund request", { "order-no": "ORD-7", amount: "10", reason: "dented" }).id);
    const id = idOf(shown.embeds[0].title);
    const message = d.peer.message(d.peer.channelId, shown);
    expect((await d.app.core.invoke({ identity: "shell:sue", platform: "shell", text: `refund reject ${id} reason="no photo"` })).outcome).toBe("ok");
    const press = d.peer.press(mia, message, `refund reject ${id} reason="rejected from button"`);
    const cb = (await d.peer.callback(press.id)).body;
    // The shared card: its buttons disabled, a line saying why; the request's card kept above it.
    expect(cb.type).toBe(7);
    expect(cb.data.components[0].components.map((b: { disabled: boolean }) => b.disabled)).toEqual([true, true]);
    expect(cb.data.embeds.map((e: { title?: string; description?: string }) => e.title ?? e.description)).toEqual([`已创建退款申请 ${id}`, `退款申请 ${id} 当前为“已拒绝”，此处的按钮已不再适用。`]);
    // The presser alone is told who rejected it, when and why.
    const told = await d.peer.waitFor("POST", new RegExp(`^/webhooks/[^/]+/itoken-${press.id}$`));
    expect(told.body.flags & 64).toBe(64);
    expect(told.body.embeds[0].description).toBe(`退款申请 ${id} 已由 shell:sue 于 2026-11-25 12:00 GMT+8 拒绝（原因：no photo），未做任何更改。`);
    expect((await d.app.services.refund.get(id))!.status).toBe("rejected");
  });
});
