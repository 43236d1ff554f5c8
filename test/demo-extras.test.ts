import { describe, expect, it } from "vitest";
import { generateDemo } from "../src/seed/demo-data.js";
import { generateDemoExtras } from "../src/seed/demo-extras.js";

const opts = { seed: 7, endDay: "2026-11-24", timeZone: "Asia/Shanghai", currency: "CNY", products: 40, days: 30, ordersPerDay: 20 };
const now = new Date("2026-11-24T10:00:00Z");

describe("demo extras", () => {
  const data = generateDemo({ ...opts, until: now });
  const x = generateDemoExtras(data, { seed: 7, timeZone: "Asia/Shanghai", currency: "CNY", now });

  it("is deterministic", () => {
    const again = generateDemoExtras(generateDemo({ ...opts, until: now }), { seed: 7, timeZone: "Asia/Shanghai", currency: "CNY", now });
    expect(again).toEqual(x);
  });

  it("gives shipped and delivered orders a carrier, tracking number and dates in order, never after now", () => {
    for (const o of x.orders) {
      if (["shipped", "delivered", "refunded"].includes(o.status) && o.paidAt) {
        expect(o.shipment?.carrier, o._id).toBeTruthy();
        expect(o.shipment!.shippedAt.getTime()).toBeGreaterThanOrEqual(o.paidAt.getTime());
        expect(o.shipment!.shippedAt.getTime()).toBeLessThanOrEqual(now.getTime());
      }
      if (o.status === "delivered") expect(o.deliveredAt!.getTime()).toBeGreaterThanOrEqual(o.shipment!.shippedAt.getTime());
      if (o.status === "pending" || o.status === "paid") expect(o.shipment).toBeUndefined();
    }
  });

  it("dates each cancelled order's cancellation (the order card's timeline shows it), after its payment if paid", () => {
    const cancelled = x.orders.filter((o) => o.status === "cancelled");
    expect(cancelled.length).toBeGreaterThan(0);
    for (const o of cancelled) {
      expect(o.cancelledAt, o._id).toBeInstanceOf(Date);
      expect(o.cancelledAt!.getTime()).toBeGreaterThanOrEqual((o.paidAt ?? o.createdAt).getTime());
      expect(o.cancelledAt!.getTime()).toBeLessThanOrEqual(now.getTime());
    }
  });

  it("records each refunded order's refund once, with an approved, executed request", () => {
    const refunded = x.orders.filter((o) => o.status === "refunded");
    expect(refunded.length).toBeGreaterThan(0);
    for (const o of refunded) {
      expect(o.refunds).toHaveLength(1);
      expect(o.refundedTotal).toBe(o.total);
      const req = x.refundRequests.find((r) => r._id === o.refunds[0]!.requestId)!;
      expect(req).toMatchObject({ orderNo: o._id, status: "approved", amount: o.total });
    }
    for (const o of x.orders.filter((o) => o.status !== "refunded")) expect(o.refundedTotal).toBe(0);
  });

  it("leaves a few partial refund requests waiting, within each order's balance", () => {
    const pending = x.refundRequests.filter((r) => r.status === "pending");
    expect(pending.length).toBeGreaterThan(0);
    for (const r of pending) {
      const o = x.orders.find((o) => o._id === r.orderNo)!;
      expect(r.amount).toBeGreaterThan(0);
      expect(r.amount).toBeLessThanOrEqual(o.total - o.refundedTotal);
      expect(r.expiresAt.getTime()).toBeGreaterThan(now.getTime());
    }
  });

  it("turns each promotion into a coupon whose code the orders carry", () => {
    expect(x.coupons.map((c) => c._id).sort()).toEqual(data.promotions.map((p) => p.code).sort());
    for (const c of x.coupons) expect(data.orders.some((o) => o.couponCode === c._id)).toBe(true);
    expect(x.complaints.length).toBeGreaterThan(0);
  });
});
