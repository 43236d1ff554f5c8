import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";

// Orders and logistics as an ops team meets them: orders the shop's messages announce before
// they arrive, and orders the shop reports shipped without any shipment details.

let app: TestApp;
const SHOP = "api:shop#k1";
const api = (body: Record<string, unknown>) => app.services.ingest.apply("orders", body, SHOP);
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const items = [{ sku: "SKU-1", qty: 1, unitPrice: 10000 }];

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("a change asked of an order not arrived yet (its updates parked)", () => {
  it("ship, deliver, cancel and tracking say it is on its way, as `order` does, change nothing, and are audited on it", async () => {
    expect((await api({ orderNo: "Web-77", status: "paid" })).status).toBe(202);
    expect((await app.run("shell:sam", "order web-77")).code).toBe("order_pending_arrival");
    const said = "Order Web-77 has not arrived yet (1 update for it came first and wait for it); nothing changed. Try again once it has arrived: `order Web-77` shows when it has.";
    for (const [who, line] of [
      ["shell:sam", "order ship web-77 carrier=SF tracking=SF1"],
      ["shell:sam", "order deliver WEB-77"],
      ["shell:max", "order cancel Web-77 reason=dup"],
      ["shell:sam", "order tracking web-77 tracking=SF2 reason=typo"],
    ] as const) {
      const r = await app.run(who, line);
      expect([r.outcome, r.code, r.reply.text], line).toEqual(["user_error", "order_pending_arrival", said]);
      expect((await app.store.audit.findById(r.ref).lean())?.subject, line).toBe("Web-77");
    }
    expect(await app.store.orders.countDocuments({})).toBe(0);
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "Web-77" })).toBe(1);
    const r = await zh("shell:sam", "order ship Web-77 carrier=SF tracking=SF1");
    expect(r.reply.text).toBe("订单 Web-77 尚未到达（已先收到 1 条更新，正等待订单本身），未做任何更改。请在订单到达后重试：可用 `order Web-77` 查看是否已到达。");
    // A number nobody sent anything for is still unknown.
    expect((await app.run("shell:sam", "order ship web-78 carrier=SF tracking=SF1")).code).toBe("unknown_order");
  });
});

describe("an order the shop reported shipped without carrier or tracking number", () => {
  it("`order ship` says none is recorded (not 'shipped with —, tracking —') and how to record them", async () => {
    expect((await api({ orderNo: "S-1", customerId: "c1", status: "shipped", items })).status).toBe(201);
    const r = await app.run("shell:sam", "order ship S-1 carrier=SF tracking=SF100");
    expect([r.code, r.reply.text]).toEqual([
      "tracking_differs",
      "S-1 is already shipped, with no carrier or tracking number recorded; nothing changed. To record them: `order tracking S-1 carrier=SF tracking=SF100 reason=…`.",
    ]);
    expect((await zh("shell:sam", "order ship S-1 carrier=SF tracking=SF100")).reply.text).toBe(
      "S-1 已经发货，但未记录快递公司和运单号，未做任何更改。如需记录：`order tracking S-1 carrier=SF tracking=SF100 reason=…`。",
    );
    expect((await app.store.orders.findById("S-1").lean())!.shipment?.trackingNo).toBeUndefined();
  });

  it("`order tracking` records them as given, not 'corrected from — —', and the timeline shows — → new", async () => {
    await api({ orderNo: "S-2", customerId: "c1", status: "delivered", items });
    const r = await app.run("shell:sam", 'order tracking S-2 carrier=SF tracking=SF200 reason="label found"');
    expect([r.outcome, r.reply.text]).toEqual(["ok", "S-2: shipped with no carrier or tracking number recorded; now SF, tracking SF200."]);
    expect(field(await app.run("shell:sam", "order S-2"), "Timeline")).toContain("Tracking corrected (by shell:sam): — → SF SF200: label found");
    expect(field(await zh("shell:sam", "order S-2"), "时间线")).toContain("更正运单（操作人 shell:sam）：— → SF SF200（原因：label found）");
    // A later correction of those reads as one.
    const again = await zh("shell:sam", "order tracking S-2 tracking=SF201 reason=typo");
    expect(again.reply.text).toBe("S-2：运单已从 SF SF200 更正为 SF SF201。");
  });
});

describe("an order number typed with the # shop admin pages print before it", () => {
  it("`#1001` (and full-width `＃１００１`) is the shop's order 1001, in the card and in changes", async () => {
    expect((await api({ orderNo: "1001", customerId: "c1", status: "paid", items })).status).toBe(201);
    const card = await app.run("shell:sam", "order #1001");
    expect([card.outcome, card.reply.title]).toEqual(["ok", "Order 1001"]);
    expect((await app.run("shell:sam", "order ＃１００１")).reply.title).toBe("Order 1001");
    const r = await app.run("shell:sam", "order ship #1001 carrier=SF tracking=SF300");
    expect([r.outcome, r.reply.text]).toEqual(["ok", "1001 shipped with SF, tracking number SF300."]);
    // Not found: named as the number it means, without the #.
    expect((await app.run("shell:sam", "order #1002")).reply.text).toMatch(/^No order ORD-1002\./);
    // A # alone, or inside a number, is still no order number.
    expect((await app.run("shell:sam", "order #")).code).toBe("invalid_args");
    expect((await app.run("shell:sam", "order 10#01")).code).toBe("invalid_args");
  });
});

describe("order ship given again after the order was delivered or refunded", () => {
  it("with the shipment it went with: already done, nothing changed (not a refused transition); another shipment is still refused", async () => {
    await api({ orderNo: "D-1", customerId: "c1", status: "paid", items });
    expect((await app.run("shell:sam", "order ship D-1 carrier=SF tracking=SF400")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order deliver D-1")).outcome).toBe("ok");
    const before = await app.store.orders.findById("D-1").lean();
    const again = await app.run("shell:sam", "order ship d-1 carrier=sf tracking=sf400");
    expect([again.outcome, again.code, again.reply.text]).toEqual(["ok", "already_in_status", "D-1 was already shipped with SF, tracking SF400, and is Delivered now; nothing changed."]);
    expect((await zh("shell:sam", "order ship D-1 carrier=SF tracking=SF400")).reply.text).toBe("D-1 此前已由 SF 发货（运单号 SF400），当前为已签收，未做任何更改。");
    expect((await app.store.audit.findById(again.ref).lean())?.subject).toBe("D-1");
    expect(await app.store.orders.findById("D-1").lean()).toEqual(before);
    const other = await app.run("shell:sam", "order ship D-1 carrier=SF tracking=SF401");
    // Refused naming what it went with, and the `order tracking` line that corrects it (e21).
    expect([other.outcome, other.code, other.reply.text]).toEqual(["user_error", "tracking_differs", "D-1 was shipped with SF, tracking SF400, not SF SF401, and is Delivered now; nothing changed. If it went with SF SF401, correct its tracking: `order tracking D-1 carrier=SF tracking=SF401 reason=…`."]);
  });
});

describe("order cancel on an order that has shipped", () => {
  it("is refused as before, and says a refund request is the way to give the money back (en and zh); a paid order still cancels", async () => {
    await api({ orderNo: "X-1", customerId: "c1", status: "paid", items });
    expect((await app.run("shell:sam", "order ship X-1 carrier=SF tracking=SF500")).outcome).toBe("ok");
    const r = await app.run("shell:max", "order cancel X-1 reason=\"changed mind\"");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "invalid_transition",
      "X-1 is Shipped, so it cannot be marked Cancelled. From Shipped it can only become: Delivered, Refunded. An order that has left the warehouse is not cancelled: to give the customer money back (a return, a parcel lost), request a refund: `refund request X-1 full reason=…` (or an amount instead of full).",
    ]);
    expect((await app.store.orders.findById("X-1").lean())!.status).toBe("shipped");
    expect((await app.run("shell:sam", "order deliver X-1")).outcome).toBe("ok");
    expect((await zh("shell:max", "order cancel X-1 reason=x")).reply.text).toMatch(/已出库的订单不能取消：如需给客户退款（退货、包裹丢失），请申请退款：`refund request X-1 full reason=…`（也可填写金额代替 full）。$/);
    // Not a shipment: no such hint (deliver on a paid order is refused for another reason).
    await api({ orderNo: "X-2", customerId: "c1", status: "paid", items });
    expect((await app.run("shell:sam", "order deliver X-2")).reply.text).not.toContain("refund request");
    expect((await app.run("shell:max", "order cancel X-2 reason=dup")).outcome).toBe("ok");
  });
});

describe("the card of an order cancelled after it was paid", () => {
  it("says what the customer is owed and the refund request that gives it back, until a request or refund covers it (en and zh)", async () => {
    await api({ orderNo: "P-1", customerId: "c1", status: "paid", items });
    expect((await app.run("shell:max", "order cancel P-1 reason=dup")).outcome).toBe("ok");
    const card = await app.run("shell:sam", "order P-1");
    expect(card.reply.context).toEqual(["Cancelled, but paid: CN¥100.00 not refunded and not requested. Give it back with `refund request P-1 full reason=…`."]);
    expect((await zh("shell:sam", "order P-1")).reply.context).toEqual(["订单已取消但已付款：¥100.00 未退款，也没有退款申请。请用 `refund request P-1 full reason=…` 退还。"]);
    // Part requested: the rest is what is owed; all requested: nothing more to say.
    expect((await app.run("shell:sam", "refund request P-1 40 reason=dup")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order P-1")).reply.context).toEqual(["Cancelled, but paid: CN¥60.00 not refunded and not requested. Give it back with `refund request P-1 full reason=…`."]);
    expect((await app.run("shell:sam", "refund request P-1 full reason=dup")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order P-1")).reply.context).toBeUndefined();
    // Never paid: nothing owed.
    await api({ orderNo: "P-2", customerId: "c1", status: "pending", items });
    expect((await app.run("shell:max", "order cancel P-2 reason=dup")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order P-2")).reply.context).toBeUndefined();
  });
});
