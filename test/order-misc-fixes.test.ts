import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// `order ship` again with another shipment, the digest rebuild's advice, a full-width customer id.

let app: TestApp;
const SHOP = "api:shop#k1";
const api = (body: Record<string, unknown>) => app.services.ingest.apply("orders", body, SHOP);
const paid = (orderNo: string, over: Record<string, unknown> = {}) =>
  api({ orderNo, customerId: "CUST-10005", status: "paid", items: [{ sku: "SKU-1", qty: 1, unitPrice: 10000 }], ...over });
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order ship on an order already shipped", () => {
  it("with another carrier or tracking number: refused (tracking_differs), audited, nothing changed", async () => {
    expect((await paid("S-1")).status).toBe(201);
    expect((await app.run("shell:sam", "order ship S-1 carrier=DHL tracking=TRK1")).outcome).toBe("ok");
    const before = await app.store.orders.findById("S-1").lean();
    const r = await app.run("shell:sam", "order ship S-1 carrier=UPS tracking=NEWONE");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "tracking_differs",
      "S-1 is already shipped with DHL, tracking TRK1, not UPS NEWONE; nothing changed. If it went with UPS NEWONE, correct its tracking: `order tracking S-1 carrier=UPS tracking=NEWONE reason=…`.",
    ]);
    // Only the tracking number differs, or only the carrier (a name with a space is quoted in the hint).
    expect((await app.run("shell:sam", "order ship S-1 carrier=DHL tracking=TRK2")).code).toBe("tracking_differs");
    const carrier = await app.run("shell:sam", 'order ship S-1 carrier="China Post" tracking=TRK1');
    expect([carrier.code, carrier.reply.text]).toEqual(["tracking_differs", expect.stringContaining('`order tracking S-1 carrier="China Post" tracking=TRK1 reason=…`')]);
    const cn = await zh("shell:sam", "order ship S-1 carrier=顺丰 tracking=SF9");
    expect(cn.reply.text).toBe("S-1 已经发货（DHL，运单号 TRK1），而不是 顺丰 SF9，未做任何更改。如实际由 顺丰 发出、运单号为 SF9，请更正运单：`order tracking S-1 carrier=顺丰 tracking=SF9 reason=…`。");
    expect(await app.store.orders.findById("S-1").lean()).toEqual(before);
    expect(await app.store.audit.findOne({ command: "order ship", args: "S-1 carrier=UPS tracking=NEWONE" }).lean()).toMatchObject({ outcome: "user_error", code: "tracking_differs", subject: "S-1" });
    // The hint does what it says.
    expect((await app.run("shell:sam", "order tracking S-1 carrier=UPS tracking=NEWONE reason=relabelled")).outcome).toBe("ok");
    expect((await app.store.orders.findById("S-1").lean())!.shipment).toMatchObject({ carrier: "UPS", trackingNo: "NEWONE" });
  });

  it("with the shipment stored (carrier in any case, tracking as printed): already, nothing changed", async () => {
    await paid("S-2");
    expect((await app.run("shell:sam", "order ship S-2 carrier=DHL tracking=TRK3")).outcome).toBe("ok");
    const before = await app.store.orders.findById("S-2").lean();
    const r = await app.run("shell:sam", 'order ship S-2 carrier=dhl tracking="trk 3"');
    expect([r.outcome, r.code, r.reply.text]).toEqual(["ok", "already_in_status", "S-2 is already shipped (DHL, tracking TRK3); nothing changed. To correct its tracking: `order tracking S-2 tracking=… reason=…`."]);
    expect(await app.store.orders.findById("S-2").lean()).toEqual(before);
  });

  it("shipped by the shop's messages without a tracking number: the one typed is not dropped silently", async () => {
    expect((await paid("S-3", { status: "shipped" })).status).toBe(201);
    const r = await app.run("shell:sam", "order ship S-3 carrier=SF tracking=SF77");
    expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "tracking_differs", expect.stringContaining("S-3 is already shipped, with no carrier or tracking number recorded; nothing changed. To record them: `order tracking S-3 carrier=SF tracking=SF77")]);
    expect((await app.store.orders.findById("S-3").lean())!.shipment?.trackingNo).toBeUndefined();
  });
});

describe("digest rebuild", () => {
  it("says orders written to the database directly stay untracked whatever changes them, chat and API included", async () => {
    const r = await app.run("shell:admin", "digest rebuild 2026-11-20");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.text).toMatch(
      /Orders written to the database directly stay untracked whatever changes them later, `order cancel` and API updates included: run this again for their days after any change to them\.$/,
    );
    const cn = await zh("shell:admin", "digest rebuild 2026-11-20");
    expect(cn.reply.text).toMatch(/直接写入数据库的订单之后无论如何变更（包括 `order cancel` 和 API 更新）都不会被跟踪：每次变更这些订单后，请对其所在日期再次运行此命令。$/);
  });
});

describe("order search by a customer id typed full-width", () => {
  it("finds the customer's orders (its plain form), in any case too", async () => {
    await app.store.orders.collection.insertOne(paidOrder("W-1", 500, "2026-11-20T02:00:00Z", { customerId: "Cust-Wide" }) as never);
    for (const typed of ["ＣＵＳＴ－１０００５", "ｃｕｓｔ－１０００５"]) {
      const r = await app.run("shell:sam", `order search customer=${typed}`);
      expect([r.outcome, r.reply.title], typed).toEqual(["ok", "Orders: 3 match"]);
    }
    // Mixed case stored, full-width lower case typed: found in any case.
    const mixed = await zh("shell:sam", "order search customer=ｃｕｓｔ－ｗｉｄｅ");
    expect(mixed.reply.table?.rows.map((row) => row[0])).toEqual(["W-1"]);
  });
});
