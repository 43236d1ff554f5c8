/** Chinese replies read as Chinese: its punctuation, its separators, the names the tables show, one term per thing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet } from "../adapters/discord/commands.js";
import { renderText } from "../adapters/shell/render.js";
import { commandsOnce } from "../src/app.js";
import { addDays, Formatter, localDay } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { changeText } from "../src/services/digest.service.js";
import { field, makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** Runs `text` as `identity` with Chinese replies. */
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

/** salesByDay with `perDay` units on each of the 28 days before the test clock's shop day. */
function sales(perDay: number): Map<string, number> {
  const today = localDay(app.clock.now(), app.config.timeZone);
  return new Map(Array.from({ length: 28 }, (_, i) => [addDays(today, -(i + 1)), perDay] as const));
}

/** The request id in a created card's title. */
const idOf = (r: { reply: { title?: string } }) => /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "")![0];

beforeAll(async () => {
  app = await makeTestApp();
  for (const [id, role] of [["shell:sam", "staff"], ["shell:sue", "support"], ["shell:max", "manager"], ["shell:wang", "manager"]] as const) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.products.insertMany([
    product("SKU-1010", { category: "Kitchen" }),
    product("SKU-1011", { category: "Kitchen" }),
    // Fast sellers with little stock: a coupon on them warns for both.
    product("SKU-F1", { category: "Fast", onHand: 20, salesByDay: sales(10) }),
    product("SKU-F2", { category: "Fast", onHand: 20, salesByDay: sales(10) }),
  ]);
  await app.store.orders.insertMany([
    paidOrder("ORD-1", 57_300),
    paidOrder("ORD-2", 10_000),
    paidOrder("ORD-3", 10_000),
    paidOrder("ORD-D", 10_000),
    paidOrder("ORD-S", 10_000, undefined, { status: "shipped", shipment: { carrier: "顺丰", trackingNo: "SF12345678", shippedAt: new Date("2026-11-21T02:00:00Z") } }),
    // Corrected before the change: one English-punctuated note, shown as stored.
    paidOrder("ORD-OLD", 10_000, undefined, {
      status: "shipped",
      shipment: { carrier: "YTO", trackingNo: "YT2", shippedAt: new Date("2026-11-21T02:00:00Z") },
      history: [{ status: "tracking", at: new Date("2026-11-22T02:00:00Z"), by: "shell:sue", note: "SF SF1 → YTO YT2: typo" }],
    }),
  ]);
});
afterAll(() => app.close());

describe("refund card", () => {
  it("writes brackets and colons the Chinese way: full refund, approvals, who rejected and why", async () => {
    const full = await zh("shell:sam", "refund request ORD-1 全额 reason=到货破损");
    expect(full.outcome, full.reply.text).toBe("ok");
    expect(field(full, "金额")).toBe("¥573.00（全额退款）");
    const id = idOf(full);
    const approved = await zh("shell:wang", `refund approve ${id} note=同意`);
    expect(approved.outcome, approved.reply.text).toBe("ok");
    expect(field(await zh("shell:sam", `refund show ${id}`), "审批记录")).toBe("shell:wang（2026-11-25 12:00 GMT+8）：同意");
    // English as before.
    expect(field(await app.run("shell:sam", `refund show ${id}`), "Approvals")).toBe("shell:wang (2026-11-25 12:00 GMT+8): 同意");

    const two = idOf(await zh("shell:sam", "refund request ORD-2 10 reason=x"));
    expect((await zh("shell:wang", `refund reject ${two} reason=证据不足`)).outcome).toBe("ok");
    expect(field(await zh("shell:sam", `refund show ${two}`), "拒绝人")).toBe("shell:wang（原因：证据不足）");
    expect(field(await app.run("shell:sam", `refund show ${two}`), "Rejected by")).toBe("shell:wang: 证据不足");

    // The Reject button gives no reason: said so, not "rejected: rejected with the button".
    const three = await zh("shell:sam", "refund request ORD-3 10 reason=x");
    const button = three.reply.actions!.find((a) => a.id.startsWith("refund reject"))!;
    expect((await zh("shell:max", button.id)).outcome).toBe("ok");
    expect(field(await zh("shell:sam", `refund show ${idOf(three)}`), "拒绝人")).toBe("shell:max（通过“拒绝”按钮拒绝，未填写原因）");
  });

  it("names 全额 where it says how to give an amount", async () => {
    expect((await zh("shell:sam", "refund request ORD-D abc reason=x")).reply.text).toContain("或 全额（full）");
    const defs = buildCommandSet(await commandsOnce()).definitions as unknown as Opt[];
    const amount = option(defs, "refund", "request", "amount");
    expect(amount.description_localizations!["zh-CN"]).toBe("退款金额（或 全额），例如 25.00");
    expect(amount.description).toBe("amount, e.g. 25.00");
  });
});

describe("order timeline", () => {
  it("stores a tracking correction as fields and words it in the reader's language; an old note shows as stored", async () => {
    const r = await zh("shell:sue", "order tracking ORD-S tracking=SF999 reason=录错");
    expect(r.outcome, r.reply.text).toBe("ok");
    const stored = (await app.store.orders.collection.findOne({ _id: "ORD-S" as never }))!;
    expect(stored.history.at(-1)).toMatchObject({ status: "tracking", by: "shell:sue", note: "录错", tracking: { fromCarrier: "顺丰", fromTrackingNo: "SF12345678", toCarrier: "顺丰", toTrackingNo: "SF999" } });
    expect(field(await zh("shell:sam", "order ORD-S"), "时间线")).toContain("更正运单（操作人 shell:sue）：顺丰 SF12345678 → 顺丰 SF999（原因：录错）");
    expect(field(await app.run("shell:sam", "order ORD-S"), "Timeline")).toContain("Tracking corrected (by shell:sue): 顺丰 SF12345678 → 顺丰 SF999: 录错");
    expect(field(await zh("shell:sam", "order ORD-OLD"), "时间线")).toContain("更正运单（操作人 shell:sue）：SF SF1 → YTO YT2: typo");
    expect(field(await zh("shell:sam", "order ORD-S"), "快递公司")).toBe("顺丰");
  });

  it("says an order is already in a status in quotes", async () => {
    expect((await zh("shell:sam", "order deliver ORD-D")).reply.text).toBe("ORD-D 已是“已签收”状态，未做任何更改。");
    expect((await zh("shell:sam", "order ORD-404")).reply.text).toMatch(/^没有订单 ORD-404。请核对订单号（例如 ORD-100231/);
  });
});

describe("lists in Chinese", () => {
  it("separate SKUs, warnings and suggestions with 、 and ；", async () => {
    const r = await zh("shell:max", "coupon launch code=FAST10 type=percent value=10 end=+7d skus=SKU-F1,SKU-F2");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(field(r, "适用范围")).toBe("SKU SKU-F1、SKU-F2");
    expect(field(r, "折扣")).toBe("减 10%（9 折）");
    expect(r.reply.text).toMatch(/（SKU-F1：可用 20，预计约 \d+；SKU-F2：可用 20，预计约 \d+）/);
    // English keeps its commas and semicolons.
    const en = await app.run("shell:max", "coupon launch code=FAST15 type=percent value=15 end=+7d skus=SKU-F1,SKU-F2");
    expect(field(en, "Applies to")).toBe("SKUs SKU-F1, SKU-F2");
    expect(en.reply.text).toMatch(/\(SKU-F1: 20 available, about \d+ expected; SKU-F2: 20 available, about \d+ expected\)/);
    expect((await zh("shell:sam", "stock SKU-10O1")).reply.text).toContain("SKU-1011、SKU-1010");
  });

  it("take the Chinese names the tables show: coupon list 已结束, refund list 待审批; a wrong one lists them", async () => {
    const { reply } = await zh("shell:max", "coupon launch code=OVER15 type=percent value=15 end=+7d");
    expect((await zh("shell:max", reply.actions![0]!.id)).outcome).toBe("ok");
    expect((await zh("shell:max", "coupon expire OVER15")).outcome).toBe("ok");
    const ended = await zh("shell:max", "coupon list 已结束");
    expect(ended.outcome, ended.reply.text).toBe("ok");
    expect(ended.reply.table!.rows.map((row) => [row[0], row[1], row[2]])).toEqual([["OVER15", "减 15%（8.5 折）", "已结束"]]);
    expect(ended.reply.table!.columns[0]).toBe("券码");
    expect((await zh("shell:max", "coupon list 全部")).outcome).toBe("ok");
    expect((await zh("shell:max", "coupon list 过去")).reply.text).toContain("生效中（active）、待开始（scheduled）、已暂停（paused）、已结束（expired）或全部（all）");

    const pending = await zh("shell:max", "refund list 待审批");
    expect(pending.outcome, pending.reply.text).toBe("ok");
    expect((await zh("shell:max", "refund list 我的")).outcome).toBe("ok");
    expect((await zh("shell:max", "refund list 哈")).reply.text).toContain("待审批（pending）、我可审批（approvable）、我的（mine）或全部（all）");
  });

  it("list Chinese names beside the English values in complaint errors", async () => {
    expect((await zh("shell:sue", "complaint new severity=超级 坏了")).reply.text).toContain("低（low）、一般（normal）、高（high）或紧急（urgent）");
    expect((await zh("shell:sue", "complaint new category=别的 坏了")).reply.text).toContain("物流配送（delivery）、商品损坏（damaged）");
    expect((await zh("shell:sue", "complaint new source=飞鸽 坏了")).reply.text).toContain("在线聊天（chat）、邮件（email）");
  });
});

describe("roles in Chinese", () => {
  it("names roles in Chinese with their English value in refusals, help, whoami and role list; lists take 、 and ；", async () => {
    expect((await zh("shell:nobody", "stock adjust SKU-1010 +1 reason=x")).reply.text).toBe("`stock adjust` 需要员工（staff）角色；你当前是查看者（viewer）。如有需要，请联系管理员（`role grant`）。");
    expect((await zh("shell:sam", "refund policy set support=5")).reply.text).toMatch(/^`refund policy set` 需要管理员（admin）角色；你当前是员工（staff）。/);
    expect((await zh("shell:max", "help")).reply.title).toBe("你作为经理（manager）可以使用的命令");
    expect(field(await zh("shell:max", "help refund approve"), "所需角色")).toBe("客服（support）");
    const group = await zh("shell:admin", "help role");
    expect(group.reply.title).toBe("role grant、role link、role list、role revoke、role unlink");
    expect(group.reply.fields![0]!.label).toBe("role grant（管理员）");

    await app.services.identity.grant("shell:lin1", "support", "shell:admin");
    expect((await zh("shell:admin", "role link shell:lin1 shell:lin2")).reply.text).toContain("现在是同一人：shell:lin1、shell:lin2。");
    expect((await zh("shell:admin", "role link shell:lin1 shell:lin3")).outcome).toBe("ok");
    expect((await zh("shell:admin", "role link shell:lin4 shell:lin5")).outcome).toBe("ok");
    // role list names the links of the identities it lists (those holding a role).
    await app.services.identity.grant("shell:lin4", "staff", "shell:admin");
    expect((await zh("shell:lin1", "whoami")).reply.text).toBe("你是 shell:lin1，角色为客服（support）。与你关联的身份（在退款审批规则中视为同一人）：shell:lin2、shell:lin3。");
    const list = await zh("shell:admin", "role list");
    expect(list.reply.table!.rows.find((r) => r[0] === "shell:lin1")![1]).toBe("客服（support）");
    expect(list.reply.table!.rows.find((r) => r[0] === "shell:admin")![1]).toBe("管理员（admin）");
    expect(list.reply.context).toEqual(["已关联（每组为同一人）：shell:lin1 = shell:lin2 = shell:lin3；shell:lin4 = shell:lin5"]);
    expect((await zh("shell:admin", "role unlink shell:lin3")).reply.text).toBe("shell:lin3 已恢复为独立的人，不再与 shell:lin1、shell:lin2 关联。");
    // English as before.
    expect((await app.run("shell:lin1", "whoami")).reply.text).toBe("You are shell:lin1, role support. Linked to you (one person, for the refund approval rules): shell:lin2.");
    expect((await app.run("shell:admin", "role list")).reply.context).toEqual(["Linked (one person each): shell:lin1 = shell:lin2; shell:lin4 = shell:lin5"]);
    expect((await app.run("shell:admin", "help role")).reply.fields![0]!.label).toBe("role grant (admin)");
    expect((await app.run("shell:max", "help")).reply.title).toBe("Commands you can run (manager)");
  });

  it("role grant takes a role as the replies name it (经理, 经理（manager）) and in English in any case", async () => {
    expect((await zh("shell:admin", "role grant shell:r1 经理")).reply.text).toBe("shell:r1 的角色已从查看者（viewer）改为经理（manager）。");
    expect(await app.services.identity.roleOf("shell:r1")).toBe("manager");
    expect((await zh("shell:admin", "role grant shell:r1 员工（staff）")).reply.text).toBe("shell:r1 的角色已从经理（manager）改为员工（staff）。");
    expect(await app.services.identity.roleOf("shell:r1")).toBe("staff");
    expect((await app.run("shell:admin", "role grant shell:r1 Manager")).reply.text).toBe("shell:r1 is now manager (was staff).");
    expect((await zh("shell:admin", "role revoke shell:r1")).reply.text).toBe("已撤销 shell:r1 原有的经理（manager）角色，现在是查看者（viewer）。");
    const bad = await zh("shell:admin", "role grant shell:r1 老板");
    expect(bad.code).toBe("invalid_args");
    expect(await app.services.identity.roleOf("shell:r1")).toBe("viewer");
  });

  it("names roles in Chinese when a refund is above the approver's limit or a complaint goes to a non-support", async () => {
    await app.store.orders.insertMany([paidOrder("ORD-RL", 100_000)]);
    const req = await zh("shell:sam", "refund request ORD-RL 500 reason=x");
    expect(req.outcome, req.reply.text).toBe("ok");
    const over = await zh("shell:sue", `refund approve ${idOf(req)}`);
    expect(over.code).toBe("approval_limit");
    expect(over.reply.text).toContain("客服（support）无权批准（上限 ¥200.00），需要经理（manager）或以上角色。");
    const c = await zh("shell:sue", "complaint new 杯子裂了");
    const cid = /C-[0-9A-Z]+/.exec(c.reply.title ?? "")![0];
    expect((await zh("shell:sue", `complaint assign ${cid} shell:sam`)).reply.text).toMatch(/^shell:sam 的角色是员工（staff）；/);
  });

  it("lists unknown SKUs and categories of a coupon with 、", async () => {
    expect((await zh("shell:max", "coupon launch code=NOPE1 type=percent value=5 skus=SKU-NO1,SKU-NO2")).reply.text).toContain("未知 SKU：SKU-NO1、SKU-NO2。");
    expect((await zh("shell:max", "coupon launch code=NOPE2 type=percent value=5 categories=家居,园艺")).reply.text).toContain("未知类目：家居、园艺。已有类目：Fast、Kitchen。");
    expect((await app.run("shell:max", "coupon launch code=NOPE3 type=percent value=5 skus=SKU-NO1,SKU-NO2")).reply.text).toContain("Unknown SKUs: SKU-NO1, SKU-NO2.");
  });
});

type Opt = { name: string; description: string; description_localizations?: Record<string, string>; options?: Opt[]; choices?: { value: string; name_localizations?: Record<string, string> }[] };
const option = (defs: Opt[], top: string, sub: string | null, name: string): Opt => {
  const cmd = defs.find((d) => d.name === top)!;
  const parent = sub ? cmd.options!.find((o) => o.name === sub)! : cmd;
  return parent.options!.find((o) => o.name === name)!;
};

describe("Discord", () => {
  it("names every choice in Chinese for Chinese members", async () => {
    const defs = buildCommandSet(await commandsOnce()).definitions as unknown as Opt[];
    const names = (top: string, sub: string | null, name: string) => option(defs, top, sub, name).choices!.map((c) => [c.value, c.name_localizations?.["zh-CN"]]);
    expect(names("coupon", "list", "which")).toEqual([["active", "生效中"], ["scheduled", "待开始"], ["paused", "已暂停"], ["expired", "已结束"], ["all", "全部"]]);
    expect(names("refund", "list", "which")).toEqual([["pending", "待审批"], ["approvable", "我可审批"], ["mine", "我的"], ["all", "全部"]]);
    expect(names("coupon", "launch", "type")).toEqual([["percent", "按百分比"], ["fixed", "减固定金额"]]);
    expect(names("role", "grant", "role")).toEqual([["viewer", "查看者"], ["staff", "员工"], ["support", "客服"], ["manager", "经理"], ["admin", "管理员"]]);
    expect(names("alerts", "route", "type").every(([, n]) => n && /\p{Script=Han}/u.test(n))).toBe(true);
    expect(names("refund", "policy", "action")).toEqual([["set", "设置"]]);
    // Option descriptions say what to give in Chinese, not the English option name.
    expect(option(defs, "apikey", "create", "label").description_localizations!["zh-CN"]).toBe("密钥名称，例如 官网商城");
  });
});

describe("wording", () => {
  it("uses one term per thing across the Chinese catalog", () => {
    const t = translator("zh-CN");
    const checked = ["coupon.col.code", "coupon.problem.code_taken", "coupon.show.paused_now", "notify.coupon.uses", "order.carrier", "cmd.order_ship", "order.refund.by_shop", "role.bootstrap.demo", "complaint.col.severity", "discord.guild_refused", "slack.team_refused"] as const;
    const texts = checked.map((k) => t(k));
    for (const bad of ["代码", "顾客", "承运商", "商店", "级别"]) expect(texts.filter((s) => s.includes(bad)), bad).toEqual([]);
    expect(t("notify.coupon.expired", { code: "X" })).toBe("优惠券 X 已结束");
    expect(t("notify.complaint.firstResponseBreach", { id: "C-1", due: "D" })).toBe("SLA 已超时：投诉 C-1 未在 D 前首次响应");
    expect(t("digest.chart.title.partial", { day: "2026-11-26" })).toBe("近 14 天成交额与已付款订单（2026-11-26 截至目前）");
    const fmt = new Formatter("zh-CN", "Asia/Shanghai", "CNY");
    expect(changeText(3, 0, t, fmt)).toBe("—（前值 0）");
    expect(changeText(3, 0, translator("en"), new Formatter("en", "Asia/Shanghai", "CNY"))).toBe("— (was 0)");
  });

  it("words escalation, a far PO arrival and coupon figures as a Chinese reader expects", async () => {
    const c = await zh("shell:sue", "complaint new 杯子碎了");
    const cid = /C-[0-9A-Z]+/.exec(c.reply.title ?? c.reply.text ?? "")![0];
    const esc = await zh("shell:sue", `complaint escalate ${cid} reason=客户要投诉`);
    expect(JSON.stringify(esc.reply)).toContain("该投诉将保持未分配，等待经理认领");
    expect((await zh("shell:sam", "stock po SKU-1010 eta=2027-11-24")).reply.text).toMatch(/^2027-11-24 距今超过 180 天：/);
    const show = await zh("shell:max", "coupon show OVER15");
    // Not used: said in words, not as rows of zeros (a used coupon's figures: e18-coupons.test.ts).
    expect(field(show, "已使用")).toBe("从未使用");
    expect(field(show, "订单 / 客户")).toBeUndefined();
  });

  it("names roles in Chinese with their English value where the text is the catalog's own", async () => {
    expect((await zh("shell:admin", "role grant shell:tmp 老板")).reply.text).toContain("查看者（viewer）、员工（staff）、客服（support）、经理（manager）、管理员（admin）");
    await app.services.identity.grant("shell:tmp", "staff", "shell:admin");
    expect((await zh("shell:admin", "role revoke shell:tmp")).reply.text).toContain("现在是查看者（viewer）");
  });

  it("puts a Chinese button label before its command with a full-width colon in the terminal", () => {
    expect(renderText({ text: "x", visibility: "ephemeral", actions: [{ id: "refund approve R-1", label: "批准" }, { id: "refund approve R-2", label: "Approve" }] })).toBe("x\n  → 批准：refund approve R-1\n  → Approve: refund approve R-2");
  });
});
