import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";
import { trackingArg } from "../commands/order.view.js";

// Orders as the shop's messages (the ingestion API) and chat both touch them.

let app: TestApp;
const SHOP = "api:shop#k1";
const api = (body: Record<string, unknown>) => app.services.ingest.apply("orders", body, SHOP);
const paid = (orderNo: string, over: Record<string, unknown> = {}) =>
  api({ orderNo, customerId: "c1", status: "paid", items: [{ sku: "SKU-1", qty: 1, unitPrice: 10000 }], ...over });
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order ship after the shop gave a tracking number", () => {
  it("keeps what the shop said, shows the replacement, and a resend does not undo it", async () => {
    expect((await paid("A-1", { shipment: { carrier: "SF", trackingNo: "T111" } })).status).toBe(201);
    const r = await app.run("shell:sam", "order ship A-1 carrier=SF tracking=T222");
    expect([r.outcome, r.reply.text]).toEqual(["ok", "A-1 shipped with SF, tracking number T222."]);
    const o = await app.store.orders.findById("A-1").lean();
    expect(o!.shipment).toMatchObject({ carrier: "SF", trackingNo: "T222", shopCarriers: ["SF"], shopTrackingNos: ["T111"] });
    const card = await app.run("shell:sam", "order A-1");
    expect(field(card, "Timeline")).toContain("Tracking corrected (by shell:sam): SF T111 → SF T222");
    // The shop resends the number it gave before: not news.
    expect((await api({ orderNo: "A-1", status: "shipped", shipment: { carrier: "SF", trackingNo: "T111" } })).status).toBe(200);
    const after = await app.store.orders.findById("A-1").lean();
    expect(after!.shipment?.trackingNo).toBe("T222");
    expect(after!.history!.filter((h) => h.status === "tracking")).toHaveLength(1);
    expect(field(await app.run("shell:sam", "order A-1"), "Tracking no.")).toBe("T222");
  });

  it("shipping with the number the shop gave records no correction", async () => {
    await paid("A-2", { shipment: { carrier: "SF", trackingNo: "T333" } });
    expect((await app.run("shell:sam", "order ship A-2 carrier=SF tracking=t333")).outcome).toBe("ok");
    const o = await app.store.orders.findById("A-2").lean();
    expect(o!.shipment).toMatchObject({ carrier: "SF", trackingNo: "T333", shopTrackingNos: ["T333"] });
    expect(o!.history!.some((h) => h.status === "tracking")).toBe(false);
  });
});

describe("order cancel of a paid order partly refunded", () => {
  async function refund(orderNo: string, amount: string, approve: boolean): Promise<string> {
    expect((await app.run("shell:sam", `refund request ${orderNo} ${amount} reason=dent`)).outcome).toBe("ok");
    const id = (await app.store.refundRequests.findOne({ orderNo, status: "pending", amount: Number(amount) * 100 }).lean())!._id;
    if (approve) expect((await app.run("shell:max", `refund approve ${id}`)).outcome).toBe("ok");
    return id;
  }

  it("names what is left to refund and the requests awaiting a decision", async () => {
    await paid("B-1");
    await refund("B-1", "30", true);
    const pending = await refund("B-1", "20", false);
    const r = await app.run("shell:max", "order cancel B-1 reason=oos");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe(
      `B-1 cancelled: oos. It had been paid (CN¥100.00) and CN¥30.00 of it refunded: refund the customer the CN¥70.00 left through a refund request. Refund requests already awaiting a decision: ${pending} (CN¥20.00).`,
    );
    expect(r.reply.status).toBe("warning");
  });

  it("says so in Chinese too", async () => {
    await paid("B-2");
    await refund("B-2", "30", true);
    const r = await zh("shell:max", "order cancel B-2 reason=缺货");
    expect(r.reply.text).toBe("B-2 已取消：缺货。该订单已付款（¥100.00），已退款 ¥30.00：请通过退款申请为客户退还剩余的 ¥70.00。");
  });

  it("says nothing about refunding when nothing is left", async () => {
    // As imported: paid, and refunded in full by the shop, still in status paid.
    const at = new Date("2026-11-24T04:00:00Z");
    await app.store.orders.create({
      _id: "B-3", items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], subtotal: 5000, discount: 0, shipping: 0, total: 5000, currency: "CNY",
      status: "paid", channel: "web", customerId: "c1", createdAt: at, day: "2026-11-24", paidAt: at, paidDay: "2026-11-24",
      refundedTotal: 5000, refunds: [{ requestId: "shop", amount: 5000, at, day: "2026-11-24" }], history: [], effects: {},
    });
    const r = await app.run("shell:max", "order cancel B-3 reason=oos");
    expect([r.outcome, r.reply.text, r.reply.status]).toEqual(["ok", "B-3 cancelled: oos.", "ok"]);
  });
});

describe("tracking numbers the API stores are taken in chat", () => {
  it("corrects and ships with them", async () => {
    await api({ orderNo: "T-1", customerId: "c1", status: "shipped", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1000 }], shipment: { carrier: "YTO", trackingNo: "YT_1234/5" } });
    const fix = await app.run("shell:sam", "order tracking T-1 tracking=yt_1234/6 reason=typo");
    expect(fix.outcome).toBe("ok");
    expect((await app.store.orders.findById("T-1").lean())!.shipment?.trackingNo).toBe("YT_1234/6");
    await paid("T-2");
    expect((await app.run("shell:sam", "order ship T-2 carrier=YTO tracking=YT_1234/5")).outcome).toBe("ok");
    expect((await app.store.orders.findById("T-2").lean())!.shipment?.trackingNo).toBe("YT_1234/5");
  });

  it("refuses what the API refuses, clearly, changing nothing", async () => {
    await paid("T-3");
    const long = await app.run("shell:sam", `order ship T-3 carrier=SF tracking=${"X".repeat(101)}`);
    expect([long.code, long.reply.text]).toEqual(["invalid_args", expect.stringContaining("tracking=: is too long: at most 100 characters")]);
    const empty = await app.run("shell:sam", "order ship T-3 carrier=SF tracking=\u200b");
    expect([empty.code, empty.reply.text]).toEqual(["invalid_args", expect.stringContaining("tracking=: cannot be empty")]);
    expect((await app.store.orders.findById("T-3").lean())!.status).toBe("paid");
    // 100 characters, as the API takes.
    expect((await app.run("shell:sam", `order ship T-3 carrier=SF tracking=${"X".repeat(100)}`)).outcome).toBe("ok");
    // Control characters (which a chat line cannot carry) are refused by the argument itself too.
    const ctl = trackingArg.safeParse("SF\u00071");
    expect(ctl.success).toBe(false);
    expect(ctl.error?.issues[0]?.message).toBe("order.bad_tracking");
  });
});

describe("order search customer=", () => {
  it("drops invisible characters at the ends, as the API does", async () => {
    await api({ orderNo: "C-1", customerId: "cust-inv\u200b", status: "pending", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1000 }] });
    expect((await app.store.orders.findById("C-1").lean())!.customerId).toBe("cust-inv");
    for (const typed of ["cust-inv\u200b", "\u2060cust-inv\u200b", "\"\ufeffcust-inv\""]) {
      const r = await app.run("shell:sam", `order search customer=${typed}`);
      expect(r.reply.table?.rows.map((row) => row[0]), JSON.stringify(typed)).toEqual(["C-1"]);
    }
  });
});

describe("an order whose updates came first", () => {
  it("is on its way whatever the case it is typed in", async () => {
    expect((await api({ orderNo: "Park-9", status: "paid" })).status).toBe(202);
    for (const typed of ["Park-9", "park-9", "PARK-9", "pArK-9"]) {
      const r = await app.run("shell:sam", `order ${typed}`);
      expect([r.code, r.reply.text], typed).toEqual(["order_pending_arrival", "Order Park-9 has not arrived yet: 1 update for it came first and wait for the order itself (its items and customer), then apply."]);
    }
    expect((await app.run("shell:sam", "order park-10")).code).toBe("unknown_order");
  });
});
