/**
 * Orders as ops staff type them all day: a number with the question's punctuation after it
 * (`ORD-100001?`, `ORD-100001。`), one without its hyphen (`ord100001`), `order ship` again for a
 * delivered order with another tracking number, the Chinese refusal to cancel what has shipped,
 * and the status words Chinese back-offices use (待发货, 待收货).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const order = (no: string, over: Record<string, unknown> = {}) => paidOrder(no, 10000, "2026-11-20T02:00:00Z", { status: "paid", customerId: "CUST-E21", ...over });
const status = async (no: string) => (await app.store.orders.findById(no).lean())?.status;
const delivered = { status: "delivered", shipment: { carrier: "SF", trackingNo: "SF124", shippedAt: new Date("2026-11-21T03:00:00Z") }, deliveredAt: new Date("2026-11-23T03:00:00Z") };

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:mia": "manager" });
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("an order number with a question's punctuation after it", () => {
  it("is the order: `order ORD-…?`, `。`, `？`, `,` and after a space show its card (en and zh)", async () => {
    await app.store.orders.insertMany([order("ORD-210001"), order("1021")]);
    for (const typed of ["ORD-210001?", "ORD-210001。", "ORD-210001.", "ord-210001,", "ORD-210001 ?", "ORD-210001！"]) {
      const r = await app.run("shell:sam", `order ${typed}`);
      expect([r.outcome, r.reply.title], typed).toEqual(["ok", "Order ORD-210001"]);
    }
    expect((await zh("shell:sam", "order ORD-210001？")).reply.title).toBe("订单 ORD-210001");
    expect((await app.run("shell:sam", "order #1021,")).reply.title).toBe("Order 1021");
    // Punctuation alone is still no order number.
    expect((await app.run("shell:sam", "order ?")).reply.text).toContain('"?" is not an order number');
  });

  it("changes the order it names, audited on that number", async () => {
    await app.store.orders.insertMany([order("ORD-210002")]);
    const r = await app.run("shell:sam", "order ship ORD-210002? carrier=SF tracking=SF1");
    expect([r.outcome, r.reply.text]).toEqual(["ok", "ORD-210002 shipped with SF, tracking number SF1."]);
    expect(await status("ORD-210002")).toBe("shipped");
    expect((await app.run("shell:mia", "order cancel ORD-210002。 reason=x")).code).toBe("invalid_transition");
    const trail = await app.store.audit.find({ subject: "ORD-210002" }).lean();
    expect(trail.map((a) => a.outcome).sort()).toEqual(["ok", "user_error"]);
  });
});

describe("an order number typed without its hyphen", () => {
  it("is the order with it (`ord210003` is ORD-210003), unless one is spelt so", async () => {
    await app.store.orders.insertMany([order("ORD-210003"), order("ORD-210004"), order("WEB210004", { customerId: "CUST-WEB" })]);
    expect((await app.run("shell:sam", "order ord210003")).reply.title).toBe("Order ORD-210003");
    expect((await zh("shell:sam", "order ORD210003")).reply.title).toBe("订单 ORD-210003");
    const r = await app.run("shell:sam", "order ship ord210003 carrier=SF tracking=SF3");
    expect([r.outcome, r.reply.title]).toEqual(["ok", "ORD-210003: Paid → Shipped"]);
    // A number stored without a hyphen is that order, as typed.
    expect(field(await app.run("shell:sam", "order web210004"), "Customer")).toBe("CUST-WEB");
    expect((await app.run("shell:sam", "order ORD210099")).code).toBe("unknown_order");
  });
});

describe("order ship again for a delivered order, with another tracking number", () => {
  it("is refused naming what it went with and the `order tracking` line, nothing changed (en and zh)", async () => {
    await app.store.orders.insertMany([order("ORD-210005", delivered)]);
    const r = await app.run("shell:sam", "order ship ORD-210005 carrier=SF tracking=SF125");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "tracking_differs",
      "ORD-210005 was shipped with SF, tracking SF124, not SF SF125, and is Delivered now; nothing changed. If it went with SF SF125, correct its tracking: `order tracking ORD-210005 carrier=SF tracking=SF125 reason=…`.",
    ]);
    const z = await zh("shell:sam", "order ship ORD-210005 carrier=SF tracking=SF125");
    expect(z.reply.text).toBe("ORD-210005 此前已由 SF 发货（运单号 SF124），而不是 SF SF125，当前为已签收，未做任何更改。如实际由 SF 发出、运单号为 SF125，请更正运单：`order tracking ORD-210005 carrier=SF tracking=SF125 reason=…`。");
    const o = await app.store.orders.findById("ORD-210005").lean();
    expect([o?.status, o?.shipment?.trackingNo]).toEqual(["delivered", "SF124"]);
    // The same shipment again is still done already; the line it gives works.
    expect((await app.run("shell:sam", "order ship ORD-210005 carrier=SF tracking=SF124")).code).toBe("already_in_status");
    expect((await app.run("shell:sam", "order tracking ORD-210005 carrier=SF tracking=SF125 reason=typo")).outcome).toBe("ok");
  });
});

describe("order cancel of an order that has shipped, in Chinese", () => {
  it("runs its two sentences together, with no space after the full stop", async () => {
    await app.store.orders.insertMany([order("ORD-210006", delivered)]);
    const z = await zh("shell:mia", "order cancel ORD-210006 reason=测试");
    expect(z.reply.text).toContain("已签收的订单只能变为：已退款。已出库的订单不能取消：");
    expect((await app.run("shell:mia", "order cancel ORD-210006 reason=test")).reply.text).toContain("it can only become: Refunded. An order that has left the warehouse is not cancelled");
    expect(await status("ORD-210006")).toBe("delivered");
  });
});

describe("order search by the status words of Chinese back-offices", () => {
  it("reads 待发货 as paid and 待收货 as shipped (en and zh)", async () => {
    await app.store.orders.insertMany([order("ST-1", { customerId: "CUST-ST" }), order("ST-2", { customerId: "CUST-ST", ...delivered, status: "shipped", deliveredAt: undefined }), order("ST-3", { customerId: "CUST-ST", ...delivered })]);
    const rows = async (r: Promise<{ reply: { table?: { rows: string[][] } } }>) => (await r).reply.table?.rows.map((x) => [x[0], x[3]]);
    expect(await rows(zh("shell:sam", "order search customer=CUST-ST status=待发货"))).toEqual([["ST-1", "已付款"]]);
    expect(await rows(app.run("shell:sam", "order search customer=CUST-ST status=待收货"))).toEqual([["ST-2", "Shipped"]]);
    expect(await rows(zh("shell:sam", "order search customer=CUST-ST status=待发货、待收货"))).toEqual([["ST-2", "已发货"], ["ST-1", "已付款"]]);
  });
});
