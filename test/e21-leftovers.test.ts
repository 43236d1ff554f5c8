/**
 * Leftovers from earlier passes (e21), for ops and support staff in English and Chinese: an
 * option's name typed in Chinese (`原因=破损`) is refused saying option names are English, with the
 * line written with the option meant, nothing changed; `全额 退款` (with a space) is a full refund;
 * `订单ORD-…` is the order; `stock low` on a shop whose products are all inactive says none is
 * active; the Slack card's "ran" line names the Reject button's reason in the reader's language.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Block } from "../adapters/slack/blocks.js";
import { makeTestApp, paidOrder, product, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot } from "./peers/slack-peer.js";

const SECRET = "signing-secret-e21-leftovers";
const TEAM = "T0E21";
const WANG = "UWANG"; // staff, Chinese Slack
const LI = "ULI"; // manager, Chinese Slack

let app: TestApp;
let harness: SlackHarness;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { ...USUAL_CAST, [`slack:${TEAM}:${WANG}`]: "staff", [`slack:${TEAM}:${LI}`]: "manager" });
  await app.store.orders.insertMany([paidOrder("ORD-100001", 30_000), paidOrder("ORD-100002", 20_000), paidOrder("ORD-100003", 10_000), paidOrder("ORD-100004", 10_000)]);
  await app.store.products.insertMany([product("SKU-1001", { onHand: 40 })]);
  harness = await slackHarness(app, { team: TEAM, users: { [WANG]: "wang", [LI]: "li" }, secret: SECRET });
  for (const [id, name] of [[WANG, "wang"], [LI, "li"]] as const) harness.peer.users.set(id, { id, name, locale: "zh-CN" });
});

afterAll(async () => {
  await harness?.stop();
  await app?.close();
});

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const idOf = (title: string | undefined) => /R-[0-9A-Z]{6}/.exec(title ?? "")![0];

describe("an option's name typed in Chinese", () => {
  it("refund reject R-… 原因=…: refused saying option names are English, with the line written with reason= (en, zh); nothing rejected", async () => {
    const id = idOf((await app.run("shell:sam", "refund request ORD-100001 20 reason=dented")).reply.title);
    const r = await app.run("shell:sue", `refund reject ${id} 原因=客户改主意`);
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      `Invalid arguments for \`refund reject\`:\n• "原因=" is not an option: option names are written in English; 原因 is \`reason=\`\nDid you mean \`refund reject ${id} reason=客户改主意\`?`,
    ]);
    expect((await zh("shell:sue", `refund reject ${id} 理由=客户改主意`)).reply.text).toBe(
      `\`refund reject\` 的参数无效：\n• "理由=" 不是选项：选项名要用英文写，理由请写作 \`reason=\`\n你是不是想输入 \`refund reject ${id} reason=客户改主意\`？`,
    );
    expect((await app.services.refund.get(id))!.status).toBe("pending");
    // The line it gives runs.
    expect((await app.run("shell:sue", `refund reject ${id} reason=客户改主意`)).outcome).toBe("ok");
  });

  it("stock adjust … 原因=破损 and stock po … 数量=50: the option meant (reason=, qty=), what else is missing said with it; stock and POs unchanged", async () => {
    const adj = await zh("shell:sam", "stock adjust SKU-1001 -2 原因=破损");
    expect(adj.reply.text).toBe("`stock adjust` 的参数无效：\n• \"原因=\" 不是选项：选项名要用英文写，原因请写作 `reason=`\n你是不是想输入 `stock adjust SKU-1001 -2 reason=破损`？");
    const po = await app.run("shell:sam", "stock po SKU-1001 eta=2026-12-09 数量＝50");
    expect(po.reply.text).toBe('Invalid arguments for `stock po`:\n• "数量=" is not an option: option names are written in English; 数量 is `qty=`\nDid you mean `stock po SKU-1001 eta=2026-12-09 qty=50`?');
    // Without its eta=, the line written with qty= would still be refused: that is said too, and no line is offered.
    expect((await zh("shell:sam", "stock po SKU-1001 数量=50")).reply.text).toBe("`stock po` 的参数无效：\n• \"数量=\" 不是选项：选项名要用英文写，数量请写作 `qty=`\n• 缺少 eta=");
    // A word that is no option of the command: its options listed.
    expect((await app.run("shell:sam", "stock po SKU-1001 eta=+5d 颜色=红")).reply.text).toBe('Invalid arguments for `stock po`:\n• "颜色=" is not an option: option names are written in English (this command takes: eta=, qty=)');
    expect((await zh("shell:sam", "stock adjust SKU-1001 -2 数量=2 reason=破损")).reply.text).toBe("`stock adjust` 的参数无效：\n• \"数量=\" 不是选项：选项名要用英文写（该命令支持：set=, reason=, key=）");
    expect((await app.store.products.findById("SKU-1001").lean())!.onHand).toBe(40);
    expect(await app.store.ledger.countDocuments({ sku: "SKU-1001" })).toBe(0);
    expect((await app.store.stockAlerts.findById("SKU-1001").lean())?.po?.eta).toBeUndefined();
  });
});

describe("a full refund typed 全额 退款, with a space", () => {
  it("is read as full, as 全额退款 is", async () => {
    const r = await zh("shell:sam", "refund request ORD-100002 全额 退款 reason=一直没收到货");
    expect([r.outcome, r.reply.title]).toEqual(["ok", expect.stringMatching(/^已创建退款申请 R-[0-9A-Z]{6}$/)]);
    const req = (await app.services.refund.get(idOf(r.reply.title)))!;
    expect([req.amount, req.full]).toEqual([20_000, true]);
  });
});

describe("订单 typed before an order number", () => {
  it("order 订单ORD-…, order 订单 ORD-… and refund request 订单ORD-… find the order", async () => {
    for (const line of ["order 订单ORD-100003", "order 订单 ORD-100003", "order 订单号：100003"]) {
      const r = await zh("shell:sam", line);
      expect([line, r.outcome, r.reply.title]).toEqual([line, "ok", expect.stringContaining("ORD-100003")]);
    }
    const r = await zh("shell:sam", "refund request 订单ORD-100003 全额 reason=错发");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect((await app.services.refund.get(idOf(r.reply.title)))!.orderNo).toBe("ORD-100003");
    // 订单 typed apart in refund request (two positional words): refused with the line without it, nothing asked.
    const apart = await zh("shell:sam", "refund request 订单 ORD-100003 全额 reason=错发");
    expect([apart.code, apart.reply.text]).toEqual(["invalid_args", "`refund request` 的参数无效：\n• 订单号前的“订单”与订单号之间有空格，会被当成订单号：只写订单号即可，`refund request ORD-100003 全额 reason=错发`。"]);
    expect((await app.run("shell:sam", "refund request 订单 100003 12 reason=wrong")).reply.text).toBe(
      'Invalid arguments for `refund request`:\n• "订单" before the order number, typed apart from it, is taken for the order number: give the order number alone, `refund request ORD-100003 12 reason=wrong`.',
    );
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-100003" })).toBe(1);
  });
});

describe("stock low on a shop whose products are all inactive", () => {
  it("says no product is active and how to reactivate one (en, zh), not that none is low", async () => {
    await app.store.products.updateMany({}, { $set: { active: false } });
    try {
      const r = await app.run("shell:sam", "stock low");
      expect([r.outcome, r.reply.status, r.reply.text]).toEqual([
        "ok",
        "info",
        "No product is active (1 inactive: discontinued), so none is low: inactive products get no low-stock checks. If some are back on sale, reactivate them (the product with `active: true` through the products API, `POST /api/v1/products`, or the import); `stock low` lists the low ones from then on.",
      ]);
      expect((await zh("shell:sam", "stock low")).reply.text).toContain("没有在售商品（1 个商品均已停用、下架）");
    } finally {
      await app.store.products.updateMany({}, { $set: { active: true } });
    }
    expect((await app.run("shell:sam", "stock low")).reply.text).toBe("No product is low: every active product is above its reorder point and covers its lead time.");
  });
});

describe("Slack: the refund card's Reject button pressed by a Chinese reader", () => {
  it("the line saying who ran what names the button's reason in Chinese, not its English", async () => {
    const [card] = await harness.slash("refund request ORD-100004 10 reason=破损", WANG);
    const id = /R-[0-9A-Z]{6}/.exec(JSON.stringify(card!.body.blocks))![0];
    const blocks = card!.body.blocks as Block[];
    const reject = blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { action_id: string; value: string }[]).map((e) => ({ ...e, block_id: b.block_id as string }))).find((b) => b.value.startsWith("refund reject "))!;
    const responseUrl = harness.peer.responseUrl();
    const p = buttonPayload({ user: LI, team: TEAM, messageTs: "1700003000.000100", blockId: reject.block_id, actionId: reject.action_id, value: reject.value, responseUrl, blocks });
    expect((await postToBot(harness.eventsUrl, { secret: SECRET, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() })).status).toBe(200);
    const update = JSON.stringify((await harness.peer.waitForResponse(responseUrl)).body.blocks);
    await harness.slack.idle();
    expect(update).toContain(`<@${LI}> 执行了 \`refund reject ${id} reason=\\"通过“拒绝”按钮拒绝\\"\``);
    expect(update).not.toContain("rejected from button");
    expect((await app.services.refund.get(id))!.status).toBe("rejected");
  });
});
