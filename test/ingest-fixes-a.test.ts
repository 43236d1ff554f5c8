import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";

// Order messages as the ingestion API applies them (the same path as POST /api/v1/orders):
// times given against times the order holds, refunds against corrected payments, notes.

let app: TestApp;
const SHOP = "api:shop#k1";
const api = (body: Record<string, unknown>) => app.services.ingest.apply("orders", body, SHOP);
const items = [{ sku: "SKU-A", qty: 1, unitPrice: 700 }];
const order = async (no: string) => (await app.store.orders.findById(no).lean())!;
const sales = async (day: string) => (await app.services.digest.digest(day)).sales.day;

beforeAll(async () => {
  app = await makeTestApp({}, "2026-11-27T04:00:00Z");
  await app.store.products.insertMany([product("SKU-A", { onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("a corrected payment time and the shop's refund", () => {
  it("moves a shop refund dated before the real payment to the payment, with its day", async () => {
    const created = await api({ orderNo: "M2", customerId: "C-x", createdAt: "2026-11-19T03:00:00Z", status: "refunded", refundedAt: "2026-11-20T03:00:00Z", items });
    expect(created.status).toBe(201);
    const fix = { orderNo: "M2", paidAt: "2026-11-21T03:00:00Z" };
    expect(await api(fix)).toMatchObject({ status: 200, outcome: "updated" });
    const o = await order("M2");
    expect(o.paidDay).toBe("2026-11-21");
    expect(o.refunds).toMatchObject([{ requestId: "shop", amount: 700, at: new Date("2026-11-21T03:00:00Z"), day: "2026-11-21" }]);
    // The digest: the sale and its refund on the same day, nothing left on the 20th.
    expect(await sales("2026-11-20")).toMatchObject({ gmv: 0, refunds: 0, net: 0 });
    expect(await sales("2026-11-21")).toMatchObject({ gmv: 700, orders: 1, refunds: 700, refundCount: 1, net: 0 });
    // A retry changes nothing.
    expect(await api(fix)).toMatchObject({ status: 200, outcome: "unchanged" });
    expect((await order("M2")).refunds).toHaveLength(1);
  });

  it("moves it to the shop's creation time, given after the estimated one", async () => {
    await api({ orderNo: "M5", customerId: "C-x", status: "refunded", refundedAt: "2026-11-20T03:00:00Z", items });
    expect(await api({ orderNo: "M5", createdAt: "2026-11-21T03:00:00Z" })).toMatchObject({ status: 200, outcome: "updated" });
    expect((await order("M5")).refunds).toMatchObject([{ requestId: "shop", at: new Date("2026-11-21T03:00:00Z"), day: "2026-11-21" }]);
  });
});

describe("a time that differs from the one the order holds", () => {
  it("names a payment time that does not replace the one given before", async () => {
    await api({ orderNo: "M1", customerId: "C-y", status: "paid", paidAt: "2026-11-18T03:00:00Z", items });
    const r = await api({ orderNo: "M1", paidAt: "2026-11-19T03:00:00Z" });
    expect(r).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["paidAt"] });
    expect((await order("M1")).paidAt).toEqual(new Date("2026-11-18T03:00:00Z"));
    // The same time again: nothing to say.
    expect((await api({ orderNo: "M1", paidAt: "2026-11-18T03:00:00Z" })).ignored).toBeUndefined();
  });

  it("takes a real payment time in place of a filled-in one without naming it", async () => {
    await api({ orderNo: "M3", customerId: "C-y", status: "shipped", createdAt: "2026-11-18T01:00:00Z", items });
    const r = await api({ orderNo: "M3", paidAt: "2026-11-18T02:00:00Z" });
    expect(r).toMatchObject({ status: 200, outcome: "updated" });
    expect(r.ignored).toBeUndefined();
  });

  it("names a delivery time that does not replace the one given before", async () => {
    await api({ orderNo: "M4", customerId: "C-y", status: "delivered", paidAt: "2026-11-18T03:00:00Z", deliveredAt: "2026-11-20T03:00:00Z", items });
    const r = await api({ orderNo: "M4", status: "delivered", deliveredAt: "2026-11-21T03:00:00Z" });
    expect(r).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["deliveredAt"] });
    // Said as what it is: a time the order holds, not fixed contents.
    expect(r.message).toBe("not changed: deliveredAt (the order holds the time given before, or set in chat; only a time the bot estimated is replaced)");
    expect((await order("M4")).deliveredAt).toEqual(new Date("2026-11-20T03:00:00Z"));
  });
});

describe("returning customers", () => {
  it("counts only earlier payments in the shop currency", async () => {
    await api({ orderNo: "EU-1", customerId: "EU1", status: "paid", currency: "EUR", paidAt: "2026-11-10T03:00:00Z", items });
    await api({ orderNo: "CN-1", customerId: "EU1", status: "paid", paidAt: "2026-11-22T03:00:00Z", items });
    // Another customer, paid in CNY before: returning.
    await api({ orderNo: "CN-2", customerId: "CN2", status: "paid", paidAt: "2026-11-10T03:00:00Z", items });
    await api({ orderNo: "CN-3", customerId: "CN2", status: "paid", paidAt: "2026-11-22T04:00:00Z", items });
    expect(await sales("2026-11-22")).toMatchObject({ orders: 2, newCustomers: 1, returningCustomers: 1 });
  });
});

describe("a delivery time beside status paid or shipped", () => {
  it("delivers a shipped order (the time says what happened last)", async () => {
    await api({ orderNo: "D-1", customerId: "C-z", status: "shipped", paidAt: "2026-11-24T02:00:00Z", shipment: { shippedAt: "2026-11-25T02:00:00Z" }, items });
    const r = await api({ orderNo: "D-1", status: "shipped", deliveredAt: "2026-11-26T10:00:00Z" });
    expect(r).toMatchObject({ status: 200, outcome: "updated" });
    const o = await order("D-1");
    expect([o.status, o.deliveredAt]).toEqual(["delivered", new Date("2026-11-26T10:00:00Z")]);
  });

  it("creates a paid order with a delivery time as delivered", async () => {
    const r = await api({ orderNo: "D-2", customerId: "C-z", status: "paid", paidAt: "2026-11-24T02:00:00Z", deliveredAt: "2026-11-26T10:00:00Z", items });
    expect(r).toMatchObject({ status: 201, outcome: "created" });
    const o = await order("D-2");
    expect([o.status, o.deliveredAt, !!o.shipment?.shippedAt]).toEqual(["delivered", new Date("2026-11-26T10:00:00Z"), true]);
  });
});

describe("a note with no status change", () => {
  it("is named as not kept; a note with a status change is kept, and its retry says nothing", async () => {
    await api({ orderNo: "E-1", customerId: "C-n", status: "paid", paidAt: "2026-11-24T02:00:00Z", items });
    const r = await api({ orderNo: "E-1", note: "hello" });
    expect(r).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["note"] });
    expect(r.message).toMatch(/^not kept: note \(a note is kept on the order's timeline with the status change/);
    expect((await order("E-1")).history!.some((h) => h.note === "hello")).toBe(false);
    const ship = { orderNo: "E-1", status: "shipped", note: "left the warehouse" };
    expect(await api(ship)).toMatchObject({ status: 200, outcome: "updated" });
    expect(field(await app.run("shell:admin", "order E-1"), "Timeline")).toContain("left the warehouse");
    const again = await api(ship);
    expect(again).toMatchObject({ status: 200, outcome: "unchanged" });
    expect(again.ignored).toBeUndefined();
  });
});

describe("a filled-in delivery time of an order created refunded", () => {
  it("is not before its payment", async () => {
    const r = await api({ orderNo: "R-1", customerId: "C-r", status: "delivered", paidAt: "2026-11-20T10:00:00Z", refundedAt: "2026-11-20T08:00:00Z", items });
    expect(r.status).toBe(201);
    const o = await order("R-1");
    expect(o.refunds![0]!.at).toEqual(new Date("2026-11-20T10:00:00Z"));
    expect(o.deliveredAt!.getTime()).toBeGreaterThanOrEqual(o.paidAt!.getTime());
    expect(o.deliveredAt!.getTime()).toBeGreaterThanOrEqual(o.shipment!.shippedAt!.getTime());
    const timeline = field(await app.run("shell:admin", "order R-1"), "Timeline")!;
    expect(timeline.indexOf("Paid")).toBeLessThan(timeline.indexOf("Delivered"));
  });
});

describe("a cancel time the bot filled in", () => {
  const held = "not changed: cancelledAt (the order holds the time given before, or set in chat; only a time the bot estimated is replaced)";

  it("is replaced by the first time the shop gives; a later, different one is named and stands aside", async () => {
    await api({ orderNo: "X-1", customerId: "C-c", status: "pending", createdAt: "2026-11-23T01:00:00Z", items });
    await api({ orderNo: "X-1", status: "paid", paidAt: "2026-11-23T02:00:00Z" });
    // Cancelled with no time: dated when the message arrived.
    expect(await api({ orderNo: "X-1", status: "cancelled" })).toMatchObject({ status: 200, outcome: "updated" });
    expect((await order("X-1")).cancelledAt).toEqual(app.clock.now());
    // The card says the time is the bot's estimate, until the shop's real one replaces it.
    const cancelledLine = async () => field(await app.run("shell:admin", "order X-1"), "Timeline")!.split("\n").find((l) => l.includes("Cancelled"))!;
    expect(await cancelledLine()).toContain("time estimated");
    const real = { orderNo: "X-1", status: "cancelled", cancelledAt: "2026-11-24T01:00:00Z" };
    const r = await api(real);
    expect(r).toMatchObject({ status: 200, outcome: "updated" });
    expect(r.ignored).toBeUndefined();
    expect(r.message).toBeUndefined();
    expect((await order("X-1")).cancelledAt).toEqual(new Date("2026-11-24T01:00:00Z"));
    expect(await cancelledLine()).not.toContain("time estimated");
    // Its retry changes nothing; another time now stands aside, named.
    expect(await api(real)).toMatchObject({ status: 200, outcome: "unchanged" });
    expect(await api({ orderNo: "X-1", cancelledAt: "2026-11-25T01:00:00Z" })).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["cancelledAt"], message: held });
    expect((await order("X-1")).cancelledAt).toEqual(new Date("2026-11-24T01:00:00Z"));
    // The cancelled sale stays out of its paid day's figures.
    expect(await sales("2026-11-23")).toMatchObject({ gmv: 0, orders: 0 });
  });

  it("on an order created cancelled is replaced too; one given at creation, or set in chat, stands", async () => {
    await api({ orderNo: "X-2", customerId: "C-c", status: "cancelled", createdAt: "2026-11-23T01:00:00Z", items });
    expect(await api({ orderNo: "X-2", cancelledAt: "2026-11-23T05:00:00Z" })).toMatchObject({ status: 200, outcome: "updated" });
    expect((await order("X-2")).cancelledAt).toEqual(new Date("2026-11-23T05:00:00Z"));

    await api({ orderNo: "X-3", customerId: "C-c", status: "cancelled", createdAt: "2026-11-23T01:00:00Z", cancelledAt: "2026-11-23T03:00:00Z", items });
    expect(await api({ orderNo: "X-3", cancelledAt: "2026-11-23T05:00:00Z" })).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["cancelledAt"], message: held });
    expect((await order("X-3")).cancelledAt).toEqual(new Date("2026-11-23T03:00:00Z"));

    await api({ orderNo: "X-4", customerId: "C-c", status: "paid", createdAt: "2026-11-23T01:00:00Z", paidAt: "2026-11-23T02:00:00Z", items });
    expect((await app.run("shell:admin", "order cancel X-4 reason=oos")).outcome).toBe("ok");
    const inChat = (await order("X-4")).cancelledAt;
    expect(await api({ orderNo: "X-4", status: "cancelled", cancelledAt: "2026-11-23T05:00:00Z" })).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["cancelledAt"], message: held });
    expect((await order("X-4")).cancelledAt).toEqual(inChat);
  });
});
