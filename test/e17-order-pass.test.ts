/**
 * A hands-on pass over orders as a demanding ops team uses them: a cancel reply that names the
 * refund request still to make (as the card does), a reason typed with its own full stop, a
 * delivery asked of an order not shipped, and a parcel shipped while a refund awaits a decision.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const paid = (no: string, over: Record<string, unknown> = {}) => paidOrder(no, 10000, "2026-11-20T02:00:00Z", { status: "paid", ...over });

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:mia": "manager" });
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order cancel of a paid order", () => {
  beforeAll(async () => {
    await app.store.orders.insertMany([
      paid("CX-1"),
      paid("CX-2", { refundedTotal: 3000, refunds: [{ requestId: "R-OLD", amount: 3000, at: new Date("2026-11-21T02:00:00Z"), by: "shell:mia" }] }),
      paid("CX-3"),
      paid("CX-4"),
      paid("CX-5"),
    ]);
  });

  it("names what is still owed and the refund request that gives it back, as the order card then says it (none when requests ask it all)", async () => {
    const r = await app.run("shell:mia", "order cancel CX-1 reason=duplicate");
    expect(r.reply.context).toEqual(["Cancelled, but paid: CN¥100.00 not refunded and not requested. Give it back with `refund request CX-1 full reason=…`."]);
    expect((await app.run("shell:sam", "order CX-1")).reply.context).toEqual(r.reply.context);
    // Open requests asking the whole balance already: nothing more to request, so no command.
    expect((await app.run("shell:sam", "refund request CX-3 full reason=damaged")).outcome).toBe("ok");
    const all = await app.run("shell:mia", "order cancel CX-3 reason=duplicate");
    expect([all.outcome, all.reply.context]).toEqual(["ok", undefined]);
    expect(all.reply.text).toContain("Refund requests already awaiting a decision: R-");
  });

  it("counts refunds executed and requests awaiting a decision out of what it says is owed (en and zh)", async () => {
    const req = await app.run("shell:sam", "refund request CX-2 20 reason=damaged");
    expect(req.outcome).toBe("ok");
    const r = await zh("shell:mia", "order cancel CX-2 reason=缺货");
    expect(r.reply.context).toEqual(["订单已取消但已付款：¥50.00 未退款，也没有退款申请。请用 `refund request CX-2 full reason=…` 退还。"]);
    // And the command offered asks exactly that.
    const ask = await app.run("shell:sam", "refund request CX-2 full reason=cancelled");
    expect([ask.outcome, ask.reply.fields?.find((f) => f.label === "Amount")?.value]).toEqual(["ok", expect.stringMatching(/^CN¥50\.00 /)]);
  });

  it("does not print a reason's own full stop twice (en and zh); the reason is kept as typed", async () => {
    const en = await app.run("shell:mia", 'order cancel CX-4 reason="customer asked."');
    expect(en.reply.text).toMatch(/^CX-4 cancelled: customer asked\. It had been paid/);
    const z = await zh("shell:mia", "order cancel CX-5 reason=客户改主意了。");
    expect(z.reply.text).toMatch(/^CX-5 已取消：客户改主意了。该订单已付款/);
    const card = await app.run("shell:sam", "order CX-5");
    expect(card.reply.fields?.find((f) => f.label === "Timeline")?.value).toContain("Cancelled (by shell:mia): 客户改主意了。");
  });
});

describe("order deliver of an order not shipped", () => {
  it("says to ship it first, with the command, and changes nothing (en and zh)", async () => {
    await app.store.orders.insertMany([paid("DV-1")]);
    const r = await app.run("shell:sam", "order deliver DV-1");
    expect([r.code, r.reply.text]).toEqual([
      "invalid_transition",
      "DV-1 is Paid, so it cannot be marked Delivered. From Paid it can only become: Shipped, Cancelled, Refunded. It has not shipped yet: record its shipment first with `order ship DV-1 carrier=… tracking=…`, then mark it delivered.",
    ]);
    const z = await zh("shell:sam", "order deliver DV-1");
    expect(z.reply.text).toBe("DV-1 当前为已付款，不能标记为已签收。已付款的订单只能变为：已发货、已取消、已退款。该订单尚未发货：请先用 `order ship DV-1 carrier=… tracking=…` 记录发货，再标记为已签收。");
    expect((await app.store.orders.findById("DV-1").lean())?.status).toBe("paid");
  });
});

describe("order ship while refund requests await a decision", () => {
  it("ships, but warns naming the open requests and how to see them (en and zh)", async () => {
    await app.store.orders.insertMany([paid("SH-1"), paid("SH-2"), paid("SH-3")]);
    const req = await app.run("shell:sam", "refund request SH-1 full reason=customer-cancelled");
    const id = req.reply.title!.match(/R-\w+/)![0];
    const r = await app.run("shell:sam", "order ship SH-1 carrier=SF tracking=SF100");
    expect([r.outcome, r.reply.status, r.reply.text]).toEqual(["ok", "warning", "SH-1 shipped with SF, tracking number SF100."]);
    expect(r.reply.context).toEqual([`Refund requests of this order still await a decision: ${id} (CN¥100.00). Check them before the parcel leaves: \`refund show ${id}\`.`]);
    await app.run("shell:sam", "refund request SH-2 25 reason=dent");
    const z = await zh("shell:sam", "order ship SH-2 carrier=顺丰 tracking=SF200");
    expect(z.reply.status).toBe("warning");
    expect(z.reply.context?.[0]).toMatch(/^该订单仍有待审批的退款申请：R-\w+（¥25\.00）。请在包裹发出前核对：`refund show R-\w+`。$/);
    // None open: a plain success, as before.
    const plain = await app.run("shell:sam", "order ship SH-3 carrier=SF tracking=SF300");
    expect([plain.reply.status, plain.reply.context]).toEqual(["ok", undefined]);
  });
});

describe("the order card of a paid order the shop gave a carrier for ahead of shipment", () => {
  it("says the carrier is not shipped yet, not as if it were on its way (en and zh); shipped, it reads plain", async () => {
    await app.store.orders.insertMany([paid("HD-1", { shipment: { carrier: "SF", trackingNo: "SF555" } })]);
    const card = await app.run("shell:sam", "order HD-1");
    expect([field(card, "Status"), field(card, "Carrier"), field(card, "Tracking no.")]).toEqual(["Paid", "SF (given by the shop; not shipped)", "SF555"]);
    expect(field(await zh("shell:sam", "order HD-1"), "快递公司")).toBe("SF（店铺已提供，未发货）");
    expect((await app.run("shell:sam", "order ship HD-1 carrier=SF tracking=SF555")).outcome).toBe("ok");
    expect(field(await app.run("shell:sam", "order HD-1"), "Carrier")).toBe("SF");
  });
});
