/**
 * The rest of the demo shop, derived from the generated orders: fulfilment
 * (carriers, tracking, delivery), executed refunds on refunded orders with
 * their approved requests, a few refund requests awaiting approval, the
 * promotions as coupons, and complaints. Pure and deterministic like
 * {@link generateDemo}: the same data and options give the same documents.
 */
import { addDays, dayStart, localDay } from "../core/format.js";
import { generateDemoComplaints, type DemoComplaint } from "./demo-complaints.js";
import { mulberry32, type DemoData, type DemoOrder } from "./demo-data.js";

const HOUR = 3_600_000;
const CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "SF Express"];
/** Demo people: a staff member who files refund requests, managers who approve them. */
export const DEMO_STAFF = "shell:demo-staff";
export const DEMO_MANAGER = "shell:demo-manager";

/** A demo order with fulfilment and refund fields. */
export interface DemoOrderFull extends DemoOrder {
  shipment?: { carrier: string; trackingNo: string; shippedAt: Date };
  deliveredAt?: Date;
  /** When it was cancelled: the order card's timeline reads it. */
  cancelledAt?: Date;
  refundedTotal: number;
  refunds: { requestId: string; amount: number; at: Date; day: string }[];
  history: { status: string; at: Date; by: string }[];
}

/** A refund request document. */
export interface DemoRefundRequest {
  _id: string;
  orderNo: string;
  customerId: string;
  amount: number;
  currency: string;
  full: boolean;
  reason: string;
  requester: string;
  requestedAt: Date;
  expiresAt: Date;
  requiredApprovals: number;
  approvalCount: number;
  approvals: { by: string; role: string; at: Date }[];
  status: "pending" | "approved";
  decidedBy?: string;
  decidedAt?: Date;
  executedAt?: Date;
}

/** A coupon document for a demo promotion. */
export interface DemoCoupon {
  _id: string;
  type: "percent";
  value: number;
  currency: string;
  minSpend: number;
  startsAt: Date;
  endsAt: Date;
  skus: string[];
  categories: string[];
  status: "active" | "expired";
  draftId: string;
  createdBy: string;
  confirmedBy: string;
  createdAt: Date;
  history: { action: string; by: string; at: Date }[];
}

/** Everything {@link generateDemoExtras} adds. */
export interface DemoExtras {
  orders: DemoOrderFull[];
  refundRequests: DemoRefundRequest[];
  /** The promotions as coupons (their codes are the ones the orders carry). */
  coupons: DemoCoupon[];
  complaints: DemoComplaint[];
  /** A coupon running from the demo's present, carried by no order: the one the help examples name. */
  exampleCoupon: DemoCoupon;
}

/**
 * The ids the commands' help examples name (`complaint claim C-7K2M9Q`, `refund approve
 * R-7K2M9Q`, `coupon pause WELCOME15`): the demo holds them whatever its seed and end day, so a
 * newcomer who copies an example on the demo data runs it, not "not found". Fixed ids in the demo
 * rather than demo ids in the examples: the demo's own complaint ids and pending requests change
 * with DEMO_SEED and the day it is loaded, its promotion codes with the season.
 */
export const DEMO_EXAMPLE_IDS = { complaint: "C-7K2M9Q", refundRequest: "R-7K2M9Q", coupon: "WELCOME15" } as const;

const REASONS = ["Item arrived damaged", "Wrong size sent", "Late delivery, customer cancelled use", "Missing part in the box", "Colour differs from the photos"];

/**
 * Derives fulfilment, refunds, coupons and complaints from generated demo data.
 * `now` is the demo's present: nothing is dated after it.
 */
export function generateDemoExtras(data: DemoData, opts: { seed: number; timeZone: string; currency: string; now: Date }): DemoExtras {
  const rnd = mulberry32(opts.seed ^ 0x5eed);
  const now = opts.now.getTime();
  const cap = (t: number) => new Date(Math.min(t, now));
  const refundRequests: DemoRefundRequest[] = [];
  let refundNo = 0;
  const orders: DemoOrderFull[] = data.orders.map((o) => {
    const full: DemoOrderFull = { ...o, refundedTotal: 0, refunds: [], history: [{ status: "pending", at: o.createdAt, by: "ingest:demo" }] };
    if (!o.paidAt) {
      if (o.status === "cancelled") {
        full.cancelledAt = cap(o.createdAt.getTime() + 6 * HOUR);
        full.history.push({ status: "cancelled", at: full.cancelledAt, by: "ingest:demo" });
      }
      return full;
    }
    full.history.push({ status: "paid", at: o.paidAt, by: "ingest:demo" });
    if (o.status === "cancelled") {
      full.cancelledAt = cap(o.paidAt.getTime() + 3 * HOUR);
      full.history.push({ status: "cancelled", at: full.cancelledAt, by: DEMO_MANAGER });
      return full;
    }
    if (o.status === "shipped" || o.status === "delivered" || o.status === "refunded") {
      const shippedAt = cap(o.paidAt.getTime() + (8 + rnd() * 30) * HOUR);
      full.shipment = {
        carrier: CARRIERS[Math.floor(rnd() * CARRIERS.length)]!,
        trackingNo: `TRK${String(Math.floor(rnd() * 1e10)).padStart(10, "0")}`,
        shippedAt,
      };
      full.history.push({ status: "shipped", at: shippedAt, by: DEMO_STAFF });
      if (o.status !== "shipped") {
        full.deliveredAt = cap(shippedAt.getTime() + (30 + rnd() * 60) * HOUR);
        full.history.push({ status: "delivered", at: full.deliveredAt, by: "ingest:demo" });
      }
    }
    if (o.status === "refunded") {
      const id = `R-DEMO${String(++refundNo).padStart(3, "0")}`;
      const requestedAt = cap((full.deliveredAt ?? o.paidAt).getTime() + (2 + rnd() * 48) * HOUR);
      const at = cap(requestedAt.getTime() + (1 + rnd() * 6) * HOUR);
      full.refundedTotal = o.total;
      full.refunds = [{ requestId: id, amount: o.total, at, day: localDay(at, opts.timeZone) }];
      full.history.push({ status: "refunded", at, by: DEMO_MANAGER });
      refundRequests.push({
        _id: id,
        orderNo: o._id,
        customerId: o.customerId,
        amount: o.total,
        currency: o.currency,
        full: true,
        reason: REASONS[Math.floor(rnd() * REASONS.length)]!,
        requester: DEMO_STAFF,
        requestedAt,
        expiresAt: new Date(requestedAt.getTime() + 72 * HOUR),
        requiredApprovals: 1,
        approvalCount: 1,
        approvals: [{ by: DEMO_MANAGER, role: "manager", at }],
        status: "approved",
        decidedBy: DEMO_MANAGER,
        decidedAt: at,
        executedAt: at,
      });
    }
    return full;
  });

  // A few recent paid orders with a partial refund request waiting for a manager.
  const recent = orders.filter((o) => o.paidAt && o.status === "delivered" && o.deliveredAt && now - o.deliveredAt.getTime() < 10 * 24 * HOUR);
  for (let i = 0; i < Math.min(4, recent.length); i++) {
    const o = recent[Math.floor(rnd() * recent.length)]!;
    if (refundRequests.some((r) => r.orderNo === o._id)) continue;
    const requestedAt = new Date(now - (1 + rnd() * 20) * HOUR);
    refundRequests.push({
      _id: `R-DEMO${String(++refundNo).padStart(3, "0")}`,
      orderNo: o._id,
      customerId: o.customerId,
      amount: Math.max(100, Math.round((o.total * (0.2 + rnd() * 0.5)) / 100) * 100),
      currency: o.currency,
      full: false,
      reason: REASONS[Math.floor(rnd() * REASONS.length)]!,
      requester: DEMO_STAFF,
      requestedAt,
      expiresAt: new Date(requestedAt.getTime() + 72 * HOUR),
      requiredApprovals: 1,
      approvalCount: 0,
      approvals: [],
      status: "pending",
    });
  }

  const coupons: DemoCoupon[] = data.promotions.map((p, i) => {
    const startsAt = dayStart(p.from, opts.timeZone);
    const endsAt = dayStart(addDays(p.to, 1), opts.timeZone);
    const createdAt = new Date(startsAt.getTime() - 2 * 24 * HOUR);
    return {
      _id: p.code,
      type: "percent",
      value: p.percent,
      currency: opts.currency,
      minSpend: 0,
      startsAt,
      endsAt,
      skus: [],
      categories: [],
      status: endsAt.getTime() <= now ? "expired" : "active",
      draftId: `D-DEMO${i + 1}`,
      createdBy: DEMO_MANAGER,
      confirmedBy: DEMO_MANAGER,
      createdAt,
      history: [{ action: "launched", by: DEMO_MANAGER, at: createdAt }],
    };
  });

  const complaints = generateDemoComplaints(orders, { seed: opts.seed, now: opts.now, timeZone: opts.timeZone });
  // The examples' complaint: the latest still new (so `complaint claim` claims it), else the latest
  // open, else the latest; one that drew the id by chance takes the other's.
  const open = (st: string[]) => complaints.filter((c) => st.includes(c.status)).at(-1);
  const example = open(["new"]) ?? open(["claimed", "escalated"]) ?? complaints.at(-1);
  if (example && example._id !== DEMO_EXAMPLE_IDS.complaint) {
    const holder = complaints.find((c) => c._id === DEMO_EXAMPLE_IDS.complaint);
    if (holder) holder._id = example._id;
    example._id = DEMO_EXAMPLE_IDS.complaint;
  }
  // The examples' refund request: the latest awaiting approval (no order names a pending one).
  const pending = refundRequests.filter((r) => r.status === "pending").at(-1);
  if (pending) pending._id = DEMO_EXAMPLE_IDS.refundRequest;
  // From the start of the demo's last day (its present may be the next midnight), for 60 days.
  const launched = dayStart(localDay(new Date(now - 1), opts.timeZone), opts.timeZone);
  const exampleCoupon: DemoCoupon = {
    _id: DEMO_EXAMPLE_IDS.coupon,
    type: "percent",
    value: 15,
    currency: opts.currency,
    minSpend: 0,
    startsAt: launched,
    endsAt: new Date(launched.getTime() + 60 * 24 * HOUR),
    skus: [],
    categories: [],
    status: "active",
    draftId: `D-DEMO${coupons.length + 1}`,
    createdBy: DEMO_MANAGER,
    confirmedBy: DEMO_MANAGER,
    createdAt: launched,
    history: [{ action: "launched", by: DEMO_MANAGER, at: launched }],
  };
  return { orders, refundRequests, coupons, complaints, exampleCoupon };
}
