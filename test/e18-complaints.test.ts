/**
 * A hands-on pass over complaint triage as support staff and their manager (issue #4), and a
 * `stock adjust` leftover: the lines it writes right keep the reason typed. Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

const NOW = Date.parse("2026-11-25T04:00:00Z");
let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  for (const who of ["shell:sue", "shell:lin"]) await app.services.identity.grant(who, "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-100001", 5000, "2026-11-20T02:00:00Z", { customerId: "CUST-10005" })]);
  await app.store.products.insertMany([product("WRD-1", { onHand: 12, reserved: 2 }), product("WRD-2", { onHand: 2, reserved: 2 })]);
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("stock adjust: the lines it writes right keep the reason typed", () => {
  const cases: [string, string, string][] = [
    // A count without its sign, `set` without its level, no change, neither, too large.
    ["WRD-1 40 reason=damaged", "`stock adjust WRD-1 set=40 reason=damaged`", "`stock adjust WRD-1 set=40 reason=damaged`"],
    ['WRD-1 40 reason="damaged in transit"', '`stock adjust WRD-1 set=40 reason="damaged in transit"`', '`stock adjust WRD-1 set=40 reason="damaged in transit"`'],
    ["WRD-1 set reason=damaged", "`stock adjust WRD-1 set=40 reason=damaged`", "`stock adjust WRD-1 set=40 reason=damaged`"],
    ["WRD-1 abc reason=damaged", "`stock adjust WRD-1 set=<n> reason=damaged`", "`stock adjust WRD-1 set=<n> reason=damaged`"],
    ["WRD-1 reason=damaged", "`stock adjust WRD-1 +5 reason=damaged` adds 5 (-5 removes 5); `stock adjust WRD-1 set=40 reason=damaged`", "`stock adjust WRD-1 +5 reason=damaged` 表示增加 5 件"],
    ["WRD-1 +99999999 reason=damaged", "`stock adjust WRD-1 set=<n> reason=damaged`", "`stock adjust WRD-1 set=<n> reason=damaged`"],
    // Refused for the stock there is: the count's line too.
    ["WRD-1 -100 reason=damaged", "`stock adjust WRD-1 set=<n> reason=damaged`", "`stock adjust WRD-1 set=<n> reason=damaged`"],
    ["WRD-2 -1 reason=damaged", "`stock adjust WRD-2 set=<n> reason=damaged`", "`stock adjust WRD-2 set=<n> reason=damaged`"],
  ];
  it.each(cases)("stock adjust %s (en, zh); nothing changes", async (line, en, zhLine) => {
    const r = await app.run("shell:sam", `stock adjust ${line}`);
    expect(r.outcome).toBe("user_error");
    expect(r.reply.text).toContain(en);
    expect(r.reply.text).not.toContain("reason=count");
    const z = await zh("shell:sam", `stock adjust ${line}`);
    expect(z.reply.text).toContain(zhLine);
    expect(z.reply.text).not.toContain("reason=盘点");
    expect(await app.store.products.findById(line.slice(0, 5)).lean()).toMatchObject({ onHand: line.startsWith("WRD-1") ? 12 : 2 });
  });
});

describe("complaint new with an order in its text", () => {
  it("a text that is only an order number is refused with the line written right (en, zh); nothing is filed", async () => {
    for (const line of ["ORD-100001", "100001", "#100001", "ord-100001"]) {
      const r = await app.run("shell:sue", `complaint new ${line}`);
      expect([r.outcome, r.code], line).toEqual(["user_error", "text_only_order"]);
      expect(r.reply.text).toBe(
        'The complaint\'s text is only an order number (ORD-100001); nothing was filed. Say what the customer complains about, with the order as order=: `complaint new order=ORD-100001 "box arrived crushed"`.',
      );
    }
    const z = await zh("shell:sue", "complaint new order=ORD-100001 ORD-100001");
    expect([z.code, z.reply.text]).toEqual(["text_only_order", "投诉内容只有订单号（ORD-100001），未登记任何投诉。请写明客户投诉的内容，订单用 order= 给出：`complaint new order=ORD-100001 外箱被压坏`。"]);
    expect(await app.store.complaints.countDocuments({})).toBe(0);
    // A one-word complaint that is no order number is filed as ever.
    expect((await app.run("shell:sue", "complaint new broken")).outcome).toBe("ok");
  });

  it("an order number in the text links that order and its customer, as a complaint filed from a message does (en, zh)", async () => {
    const r = await app.run("shell:sue", "complaint new ORD-100001 the box was crushed");
    expect(r.outcome).toBe("ok");
    expect([field(r, "Order"), field(r, "Customer"), r.reply.text]).toEqual(["ORD-100001", "CUST-10005", "ORD-100001 the box was crushed"]);
    const z = await zh("shell:sue", "complaint new 订单ＯＲＤ－１００００１的杯子碎了");
    expect([field(z, "订单"), field(z, "客户")]).toEqual(["ORD-100001", "CUST-10005"]);
    // Not an order of the shop, or another customer's than customer= names: filed without it.
    const unknown = await app.run("shell:sue", "complaint new ORD-999999 never arrived");
    expect([unknown.outcome, field(unknown, "Order")]).toEqual(["ok", "—"]);
    const other = await app.run("shell:sue", "complaint new customer=CUST-2 about ORD-100001 of a friend");
    expect([other.outcome, field(other, "Order"), field(other, "Customer")]).toEqual(["ok", "—", "CUST-2"]);
    // order= given: that order, whatever the text names.
    const given = await app.run("shell:sue", "complaint new order=ORD-100001 also see ORD-999999");
    expect(field(given, "Order")).toBe("ORD-100001");
  });
});

describe("complaint new with key=value-looking words in its text", () => {
  it("is refused as an unknown option, saying how to keep the words as text (en, zh); quoted, it is filed as typed", async () => {
    const r = await app.run("shell:sue", "complaint new the price=wrong on my invoice");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toContain('if price=wrong is part of the text, put the whole text in quotes: `complaint new "… price=wrong …"`');
    const z = await zh("shell:sue", "complaint new 发票上 price=wrong 不对");
    expect(z.reply.text).toContain('如果 price=wrong 是正文的一部分，请把整段正文放在引号里：`complaint new "… price=wrong …"`');
    expect(await app.store.complaints.countDocuments({})).toBe(0);
    const quoted = await app.run("shell:sue", 'complaint new "the price=wrong on my invoice"');
    expect([quoted.outcome, quoted.reply.text]).toEqual(["ok", "the price=wrong on my invoice"]);
    // Other commands' unknown options read as before.
    expect((await app.run("shell:sue", "complaint list sev=high")).reply.text).toMatch(/unknown option "sev" \(this command takes: page=\)$/m);
  });
});

describe("complaint assign to an identity without a role", () => {
  it("says it has no role granted and to check its spelling, not that it 'is viewer' (en, zh); nothing changes", async () => {
    const id = /C-[A-Z0-9]+/.exec((await app.run("shell:sue", "complaint new box crushed")).reply.title!)![0];
    const r = await app.run("shell:sue", `complaint assign ${id} shell:lynn`);
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "assignee_not_support",
      "shell:lynn has no role granted in shopops, so nothing changed: complaints go only to support staff or above. Check the identity is spelt right; if it is, an admin can `role grant shell:lynn support`.",
    ]);
    const z = await zh("shell:sue", `complaint assign ${id} shell:lynn`);
    expect(z.reply.text).toBe("shell:lynn 在 shopops 中没有被授予任何角色，未做任何更改：投诉只能分配给客服（support）及以上角色。请检查身份是否写对；如果没错，可请管理员执行 `role grant shell:lynn support`。");
    const doc = await app.store.complaints.findById(id).lean();
    expect([doc!.status, doc!.assignee]).toEqual(["new", undefined]);
    // Someone with a role below support is told their role, as before.
    expect((await app.run("shell:sue", `complaint assign ${id} shell:sam`)).reply.text).toBe(
      "shell:sam is staff; complaints can only go to support staff or above (an admin can `role grant shell:sam support`).",
    );
  });
});
