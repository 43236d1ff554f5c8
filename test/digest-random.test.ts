import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComplaintFigures, Digest, SalesFigures } from "../src/services/digest.service.js";
import { mulberry32 as rng } from "../src/seed/demo-data.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

// A seeded, randomized differential test of the daily digest. Each scenario builds a small shop
// history (about 40 orders, 10 complaints) through the paths real data takes: the ingestion
// API's items (single messages, a batch import, updates that arrive before their order), the
// bot's refund flow (request + approve), `order cancel` (OrderService.transition) and the
// complaint service, with the clock set to each event's instant. The expected figures come from
// a model of what was sent, by the README's "Digest figures" definitions, with local days found
// by Intl from the instants: no service helper and no stored day field is read.

const M = 60_000;
const H = 60 * M;
const PAID = new Set(["paid", "shipped", "delivered", "refunded"]);
/** README defaults of COMPLAINT_SLA_RESOLUTION (also set explicitly below), in hours. */
const SLA_H = { low: 168, normal: 72, high: 24, urgent: 8 } as const;
/** README defaults of COMPLAINT_SLA_FIRST_RESPONSE (also set explicitly below), in hours. */
const FIRST_H = { low: 72, normal: 24, high: 4, urgent: 1 } as const;
type Sev = keyof typeof SLA_H;
/** SKU, category, price. Two SKUs share a price so that rankings tie. */
const SKUS: [string, string, number][] = [
  ["TEE-M", "Apparel", 2500],
  ["TEE-S", "Apparel", 2500],
  ["MUG-1", "Home", 1800],
  ["LAMP-2", "Home", 7900],
  ["PHONE-X", "Electronics", 129900],
  ["CABLE", "Electronics", 1500],
  ["SOAP", "Beauty", 600],
  ["CREAM", "Beauty", 3300],
];
const CATEGORY = new Map(SKUS.map(([s, c]) => [s, c]));


const fmts = new Map<string, Intl.DateTimeFormat>();
/** The local day of an instant, by Intl. */
function dayOf(t: number, tz: string): string {
  let f = fmts.get(tz);
  if (!f) fmts.set(tz, (f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(new Date(t));
}
function shift(day: string, n: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
/** The first minute of `day` in `tz`, by scanning minutes with Intl. */
function midnight(day: string, tz: string): number {
  let t = Date.parse(`${day}T00:00:00Z`) - 15 * H;
  while (dayOf(t, tz) < day) t += M;
  return t;
}
const iso = (t: number) => new Date(t).toISOString();
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Line {
  sku: string;
  qty: number;
  unitPrice: number;
}
/** What the shop's order is, once every event has happened (as sent). */
interface MOrder {
  no: string;
  customer: string;
  currency: string;
  channel: string;
  coupon?: string;
  discount: number;
  total: number;
  items: Line[];
  paidAt?: number;
  status: string;
  refunds: { amount: number; at: number; by: "bot" | "shop" }[];
}
interface MComplaint {
  id: string;
  createdAt: number;
  severity: Sev;
  /** In the order sent; the first of them (an escalation or a resolve) is the first response. */
  events: { kind: "escalate" | "resolve" | "reopen"; at: number }[];
}
interface Ev {
  at: number;
  seq: number;
  what: string;
  run: (app: TestApp) => Promise<void>;
}
interface Scenario {
  name: string;
  tz: string;
  currency: string;
  /** The day the data clusters around; days D − 8 … D + 1 (today, partial) are checked. */
  day: string;
  seed: number;
}
interface World {
  orders: MOrder[];
  complaints: MComplaint[];
  events: Ev[];
  now: number;
  days: string[];
}

async function ingestOrder(app: TestApp, item: Record<string, unknown>, want: string[]): Promise<void> {
  const r = await app.services.ingest.apply("orders", item, "api:fuzz");
  expect(want, `${JSON.stringify(item)} → ${JSON.stringify(r)}`).toContain(r.outcome);
}

async function botRefund(app: TestApp, no: string, amount: string): Promise<void> {
  const r = await app.services.refund.request({ orderNo: no, amount, reason: "fuzz", requester: "shell:staffer" });
  if (r.kind !== "created") throw new Error(`refund request ${no} ${amount}: ${r.kind}`);
  let a = await app.services.refund.approve({ id: r.request._id, actor: "shell:boss1", role: "admin" });
  // Another currency than the shop's needs two managers.
  if (a.kind === "waiting_second") a = await app.services.refund.approve({ id: r.request._id, actor: "shell:boss2", role: "admin" });
  if (a.kind !== "approved") throw new Error(`refund approve ${no}: ${a.kind}`);
}

/** Builds the scenario's orders, complaints and the timeline of events that produce them. */
function makeWorld(s: Scenario): World {
  const rnd = rng(s.seed);
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const { tz, currency: shop } = s;
  const first = shift(s.day, -8);
  const today = shift(s.day, 1);
  const now = midnight(today, tz) + 10 * H + int(0, 59) * M;
  const latest = now - 5 * M;
  const t0 = midnight(shift(s.day, -6), tz) + int(1, 20) * H; // the history import
  const days = Array.from({ length: 10 }, (_, i) => shift(first, i));
  const events: Ev[] = [];
  let seq = 0;
  const at = (t: number, what: string, run: Ev["run"]) => events.push({ at: t, seq: seq++, what, run });
  /** An instant in the window: half of them within 2 h of a local midnight (a third of those within 10 min). */
  const instant = (from = midnight(first, tz)): number => {
    for (;;) {
      let t: number;
      if (rnd() < 0.5) {
        const m = midnight(pick([...days, shift(s.day, -9)]), tz);
        const r = rnd();
        // Exactly at midnight, the millisecond before, within 10 minutes, within 2 hours.
        t = r < 0.1 ? m : r < 0.2 ? m - 1 : m + (r < 0.45 ? int(-10 * M, 10 * M) : int(-2 * H, 2 * H));
      } else t = int(from, latest);
      if (t >= from && t < latest - 2 * H) return t;
    }
  };
  const orders: MOrder[] = [];
  const history: Record<string, unknown>[] = [];

  const newOrder = (i: number, hist: boolean) => {
    const no = `${s.name.slice(0, 3).toUpperCase()}-${String(i).padStart(3, "0")}`;
    const items: Line[] = Array.from({ length: int(1, 3) }, () => {
      const [sku, , price] = pick(SKUS);
      return { sku, qty: int(1, 4), unitPrice: rnd() < 0.2 ? price - 100 : price };
    });
    const subtotal = items.reduce((a, x) => a + x.qty * x.unitPrice, 0);
    const coupon = rnd() < 0.3 ? pick(["WELCOME10", "SPRING", "VIP"]) : undefined;
    const discount = coupon ? Math.round(subtotal * 0.1) : rnd() < 0.1 ? 500 : 0;
    const shipping = rnd() < 0.5 ? 800 : 0;
    const total = subtotal - discount + shipping;
    const channel = pick(["web", "app", "marketplace", ""]);
    const o: MOrder = {
      no,
      customer: `cust-${int(1, hist ? 10 : 14)}`,
      currency: rnd() < 0.07 ? "EUR" : shop,
      channel: channel || "api",
      ...(coupon ? { coupon } : {}),
      discount,
      total,
      items,
      status: "pending",
      refunds: [],
    };
    orders.push(o);
    const msg: Record<string, unknown> = {
      orderNo: no,
      customerId: o.customer,
      items,
      discount,
      shipping,
      currency: o.currency,
      ...(channel ? { channel } : {}),
      ...(coupon ? { couponCode: coupon } : {}),
      ...(rnd() < 0.3 ? { subtotal, total } : {}),
    };
    return { o, msg };
  };

  /** Shipping, cancellation after payment, bot and shop refunds, a late coupon: from `t` on. */
  const afterPayment = (o: MOrder, start: number) => {
    let t = start;
    const next = () => {
      t += rnd() < 0.4 ? int(5 * M, 3 * H) : int(3 * H, 40 * H);
      // A fifth of the steps land within 10 minutes after a local midnight.
      if (rnd() < 0.2) t = Math.max(t, midnight(dayOf(t, tz), tz) + int(0, 10 * M));
      return t < latest;
    };
    const refunded = () => o.refunds.reduce((a, r) => a + r.amount, 0);
    if (o.status === "paid" && rnd() < 0.1 && next()) {
      // Delivered, then the late shipment message: it changes nothing.
      const td = t;
      o.status = "delivered";
      at(td, `${o.no} delivered`, (app) => ingestOrder(app, { orderNo: o.no, status: "delivered", deliveredAt: iso(td) }, ["updated"]));
      if (next()) at(t, `${o.no} late shipment message`, (app) => ingestOrder(app, { orderNo: o.no, status: "shipped", shipment: { carrier: "UPS", shippedAt: iso(td - H) } }, ["unchanged", "updated"]));
    } else if (o.status === "paid" && rnd() < 0.3 && next()) {
      const ts = t;
      o.status = "shipped";
      at(ts, `${o.no} shipped`, (app) => ingestOrder(app, { orderNo: o.no, status: "shipped", shipment: { carrier: "UPS", trackingNo: `1z ${o.no}`, shippedAt: iso(ts) } }, ["updated"]));
      if (rnd() < 0.5 && next()) {
        const td = t;
        o.status = "delivered";
        at(td, `${o.no} delivered`, (app) => ingestOrder(app, { orderNo: o.no, status: "delivered", deliveredAt: iso(td) }, ["updated"]));
      }
    } else if (o.status === "paid" && rnd() < 0.2 && next()) {
      const tc = t;
      o.status = "cancelled";
      if (rnd() < 0.5) {
        at(tc, `${o.no} cancelled in chat`, async (app) => {
          const r = await app.services.orders.transition(o.no, "cancelled", { by: "shell:admin", note: "customer changed mind" });
          expect(r.kind).toBe("done");
        });
      } else at(tc, `${o.no} cancelled by the shop`, (app) => ingestOrder(app, { orderNo: o.no, status: "cancelled", cancelledAt: iso(tc) }, ["updated"]));
      if (rnd() < 0.5 && next()) {
        o.refunds.push({ amount: o.total, at: t, by: "bot" });
        at(t, `${o.no} cancelled, refunded in full by the bot`, (app) => botRefund(app, o.no, "full"));
      }
      return;
    }
    if (rnd() < 0.35) {
      for (let k = int(1, 2); k > 0; k--) {
        const left = o.total - refunded();
        if (left <= 0 || !next()) break;
        const full = k === 1 && rnd() < 0.3;
        const amount = full ? left : Math.min(left, int(100, Math.max(100, Math.floor(o.total / 3))));
        o.refunds.push({ amount, at: t, by: "bot" });
        if (refunded() === o.total) o.status = "refunded";
        at(t, `${o.no} bot refund ${amount}`, (app) => botRefund(app, o.no, full ? "full" : (amount / 100).toFixed(2)));
      }
    }
    if (o.status === "paid" && o.refunds.length && rnd() < 0.3 && next()) {
      // Partly refunded, then cancelled: void, its refunds leave every refund figure.
      o.status = "cancelled";
      at(t, `${o.no} cancelled in chat after a refund`, async (app) => {
        expect((await app.services.orders.transition(o.no, "cancelled", { by: "shell:admin", note: "void" })).kind).toBe("done");
      });
      return;
    }
    if (o.status !== "refunded" && rnd() < 0.2 && next()) {
      // The shop refunded the rest itself and says so; refundedAt (when given) may be a while before the message.
      const arrive = t;
      const when = rnd() < 0.6 ? Math.max(start + M, arrive - int(0, 3 * H)) : undefined;
      o.refunds.push({ amount: o.total - refunded(), at: when ?? arrive, by: "shop" });
      o.status = "refunded";
      at(arrive, `${o.no} refunded by the shop`, (app) => ingestOrder(app, { orderNo: o.no, status: "refunded", ...(when !== undefined ? { refundedAt: iso(when) } : {}) }, ["updated"]));
    }
    if (o.paidAt !== undefined && rnd() < 0.25 && next()) {
      // A storefront retry of the payment message, late: changes nothing.
      const paidAt = o.paidAt;
      at(t, `${o.no} payment message again`, (app) => ingestOrder(app, { orderNo: o.no, status: "paid", paidAt: iso(paidAt) }, ["unchanged"]));
    }
    if (o.status === "refunded" && o.refunds.at(-1)?.by === "shop" && rnd() < 0.3 && next()) {
      at(t, `${o.no} shop refund message again`, (app) => ingestOrder(app, { orderNo: o.no, status: "refunded" }, ["unchanged"]));
    }
    if (!o.coupon && o.status !== "cancelled" && rnd() < 0.1 && next()) {
      o.coupon = "LATE5";
      at(t, `${o.no} coupon added`, (app) => ingestOrder(app, { orderNo: o.no, couponCode: "LATE5" }, ["updated"]));
    }
  };

  // History: paid before the window's first days, imported in one batch (the batch path).
  for (let i = 0; i < 8; i++) {
    const { o, msg } = newOrder(i, true);
    const created = int(midnight(shift(s.day, -14), tz), t0 - 4 * H);
    const paid = created + int(1, 90) * M;
    o.paidAt = paid;
    const kind = pick(["paid", "delivered", "refunded", "paid"] as const);
    o.status = kind;
    Object.assign(msg, { createdAt: iso(created), paidAt: iso(paid), status: kind });
    // Delivered before the import (a batch refuses times ahead of the clock, as single items do).
    if (kind === "delivered") Object.assign(msg, { deliveredAt: iso(paid + 2 * H + 30 * M), shipment: { carrier: "DHL", shippedAt: iso(paid + 2 * H) } });
    if (kind === "refunded") {
      // Created already refunded: without refundedAt, the latest time its message gives.
      const r = rnd() < 0.5 ? paid + int(1, 30) * M : undefined;
      if (r !== undefined) msg.refundedAt = iso(r);
      o.refunds.push({ amount: o.total, at: r ?? paid, by: "shop" });
    }
    history.push(msg);
    afterPayment(o, t0 + M);
  }
  at(t0, "history import", async (app) => {
    const rs = await app.services.ingest.applyMany("orders", history, "api:fuzz");
    expect(rs.map((r) => r.outcome)).toEqual(history.map(() => "created"));
  });

  for (let i = 8; i < 48; i++) {
    const { o, msg } = newOrder(i, false);
    const created = instant();
    const r = rnd();
    if (r < 0.08) {
      at(created, `${o.no} created pending`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created) }, ["created"]));
      continue;
    }
    if (r < 0.2) {
      // Cancelled before payment; sometimes the payment is reported afterwards (recorded, stays cancelled, refundable).
      at(created, `${o.no} created pending`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created) }, ["created"]));
      let t = created + int(5 * M, 20 * H);
      if (t >= latest) continue;
      const tc = t;
      o.status = "cancelled";
      if (rnd() < 0.5) {
        at(tc, `${o.no} cancelled in chat`, async (app) => {
          expect((await app.services.orders.transition(o.no, "cancelled", { by: "shell:admin", note: "fraud check" })).kind).toBe("done");
        });
      } else at(tc, `${o.no} cancelled by the shop`, (app) => ingestOrder(app, { orderNo: o.no, status: "cancelled", cancelledAt: iso(tc) }, ["updated"]));
      t += int(10 * M, 10 * H);
      if (rnd() < 0.5 && t < latest) {
        const paidAt = t - int(0, 5 * M);
        o.paidAt = paidAt;
        at(t, `${o.no} paid after its cancellation`, (app) => ingestOrder(app, { orderNo: o.no, status: "paid", paidAt: iso(paidAt) }, ["updated"]));
        t += int(10 * M, 10 * H);
        if (rnd() < 0.6 && t < latest) {
          o.refunds.push({ amount: o.total, at: t, by: "bot" });
          at(t, `${o.no} cancelled, refunded in full by the bot`, (app) => botRefund(app, o.no, "full"));
        }
      }
      continue;
    }
    const late = rnd() < 0.25;
    let paid = created + (late ? int(2 * H, 30 * H) : int(M, 20 * M));
    if (paid >= latest - H) paid = created + M;
    o.paidAt = paid;
    o.status = "paid";
    const mode = rnd();
    if (mode < 0.4) {
      at(created, `${o.no} created pending`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created) }, ["created"]));
      const v = rnd();
      let m: Record<string, unknown> = v < 0.4 ? { orderNo: o.no, status: "paid", paidAt: iso(paid) } : { orderNo: o.no, paidAt: iso(paid) };
      if (v > 0.8) {
        // The paid message is lost: the shipment message says when it was paid (pending → shipped).
        m = { orderNo: o.no, status: "shipped", paidAt: iso(paid), shipment: { carrier: "UPS", trackingNo: `1z-${o.no}`, shippedAt: iso(paid) } };
        o.status = "shipped";
      }
      at(paid, `${o.no} paid`, (app) => ingestOrder(app, m, ["updated"]));
      afterPayment(o, paid);
    } else if (mode < 0.7) {
      at(paid, `${o.no} created paid`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created), paidAt: iso(paid), status: "paid" }, ["created"]));
      afterPayment(o, paid);
    } else if (mode < 0.8) {
      // The payment message overtakes the order: parked, applied when the order arrives; sometimes
      // the shop's full refund overtakes it too (dated by refundedAt, else when it arrived).
      const refundMsg = rnd() < 0.5 ? paid + int(1, 120) * M : undefined;
      const refundedAt = refundMsg !== undefined && rnd() < 0.5 ? refundMsg - int(0, 30) * M : undefined;
      const arrive = Math.min(latest, (refundMsg ?? paid) + (rnd() < 0.5 ? int(1, 30) * M : int(2, 30) * H));
      at(paid, `${o.no} paid (parked)`, (app) => ingestOrder(app, { orderNo: o.no, status: "paid", paidAt: iso(paid) }, ["parked"]));
      if (refundMsg !== undefined) {
        o.status = "refunded";
        o.refunds.push({ amount: o.total, at: refundedAt ?? refundMsg, by: "shop" });
        at(refundMsg, `${o.no} refunded by the shop (parked)`, (app) => ingestOrder(app, { orderNo: o.no, status: "refunded", ...(refundedAt !== undefined ? { refundedAt: iso(refundedAt) } : {}) }, ["parked"]));
      }
      at(arrive, `${o.no} created (drains what was parked)`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created) }, ["created"]));
      afterPayment(o, arrive);
    } else if (mode < 0.9) {
      // Created already delivered (the storefront did those steps).
      const shipped = paid + int(1, 5) * H;
      const delivered = shipped + int(1, 20) * H;
      const arrive = Math.min(latest, delivered + int(0, 2) * H);
      if (delivered >= arrive) {
        at(paid, `${o.no} created paid`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created), paidAt: iso(paid), status: "paid" }, ["created"]));
        afterPayment(o, paid);
        continue;
      }
      o.status = "delivered";
      at(arrive, `${o.no} created delivered`, (app) =>
        ingestOrder(app, { ...msg, createdAt: iso(created), paidAt: iso(paid), status: "delivered", shipment: { carrier: "DHL", shippedAt: iso(shipped) }, deliveredAt: iso(delivered) }, ["created"]),
      );
      afterPayment(o, arrive);
    } else {
      // Created already refunded by the shop; the refund is dated by refundedAt, else the latest time the message gives.
      const refundedAt = rnd() < 0.5 ? paid + int(1, 20) * H : undefined;
      const arrive = Math.min(latest, (refundedAt ?? paid) + int(0, 6) * H);
      if ((refundedAt ?? paid) > arrive) {
        at(paid, `${o.no} created paid`, (app) => ingestOrder(app, { ...msg, createdAt: iso(created), paidAt: iso(paid), status: "paid" }, ["created"]));
        afterPayment(o, paid);
        continue;
      }
      o.status = "refunded";
      o.refunds.push({ amount: o.total, at: refundedAt ?? paid, by: "shop" });
      at(arrive, `${o.no} created refunded`, (app) =>
        ingestOrder(app, { ...msg, createdAt: iso(created), paidAt: iso(paid), status: "refunded", ...(refundedAt !== undefined ? { refundedAt: iso(refundedAt) } : {}) }, ["created"]),
      );
    }
  }

  // Complaints: through the API (a createdAt a little in the past) or filed in chat; resolved,
  // reopened, resolved again, escalated.
  const complaints: MComplaint[] = [];
  for (let i = 0; i < 10; i++) {
    const filed = instant();
    const severity = pick(["low", "normal", "high", "urgent", "urgent", "high"] as const);
    const api = rnd() < 0.5;
    const createdAt = api ? filed - int(0, 40) * M : filed;
    const c: MComplaint = { id: "", createdAt, severity, events: [] };
    complaints.push(c);
    at(filed, `complaint ${i} filed`, async (app) => {
      if (api) {
        const r = await app.services.ingest.apply("complaints", { externalId: `T-${s.seed}-${i}`, customerId: `cust-${i}`, text: "parcel damaged", severity, createdAt: iso(createdAt) }, "api:fuzz");
        expect(r.outcome).toBe("created");
        c.id = r.id!;
      } else {
        const r = await app.services.complaints.create({ text: "late delivery", by: "shell:sue", severity, customerId: `cust-${i}` });
        if (r.kind !== "created") throw new Error(r.kind);
        c.id = r.complaint._id;
      }
    });
    let t = filed;
    const next = () => (t += rnd() < 0.3 ? int(10 * M, 4 * H) : int(4 * H, 50 * H)) < latest;
    if (rnd() < 0.2 && next()) {
      c.events.push({ kind: "escalate", at: t });
      at(t, `complaint ${i} escalated`, async (app) => {
        expect((await app.services.complaints.escalate(c.id, { identity: "shell:sue", role: "support" }, "angry")).kind).toBe("done");
      });
    }
    if (rnd() < 0.6 && next()) {
      for (let round = 0; round < 5; round++) {
        const kind = round % 2 === 0 ? "resolve" : "reopen";
        const ta = t;
        c.events.push({ kind, at: ta });
        at(ta, `complaint ${i} ${kind}`, async (app) => {
          const r = kind === "resolve" ? await app.services.complaints.resolve(c.id, { identity: "shell:boss1", role: "admin" }, "done") : await app.services.complaints.reopen(c.id, "shell:sue", "again");
          expect(r.kind).toBe("done");
        });
        if (rnd() < 0.45 || !next()) break;
      }
    }
  }
  events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return { orders, complaints, events, now, days };
}

/** The sales figures of day `d` by the README's definitions, from the model. */
function salesOracle(w: World, s: Scenario, d: string) {
  const day = (t: number) => dayOf(t, s.tz);
  const paidOn = w.orders.filter((o) => o.paidAt !== undefined && PAID.has(o.status) && day(o.paidAt) === d);
  const mine = paidOn.filter((o) => o.currency === s.currency);
  const bySku = new Map<string, { revenue: number; units: number }>();
  const byChannel = new Map<string, number>();
  const customers = new Set<string>();
  let gmv = 0;
  let units = 0;
  let discount = 0;
  let couponUses = 0;
  for (const o of mine) {
    gmv += o.total;
    discount += o.discount;
    if (o.coupon) couponUses++;
    customers.add(o.customer);
    byChannel.set(o.channel, (byChannel.get(o.channel) ?? 0) + o.total);
    for (const it of o.items) {
      units += it.qty;
      const x = bySku.get(it.sku) ?? { revenue: 0, units: 0 };
      x.revenue += it.qty * it.unitPrice;
      x.units += it.qty;
      bySku.set(it.sku, x);
    }
  }
  let returning = 0;
  for (const c of customers) if (w.orders.some((o) => o.customer === c && o.currency === s.currency && o.paidAt !== undefined && PAID.has(o.status) && day(o.paidAt) < d)) returning++;
  let refunds = 0;
  let refundCount = 0;
  let otherCurrencyRefunds = 0;
  for (const o of w.orders) {
    if (o.status === "cancelled") continue;
    for (const r of o.refunds) {
      if (day(r.at) !== d) continue;
      if (o.currency !== s.currency) {
        otherCurrencyRefunds++;
        continue;
      }
      refunds += r.amount;
      refundCount++;
    }
  }
  return {
    day: d,
    gmv,
    orders: mine.length,
    units,
    aov: mine.length ? Math.round(gmv / mine.length) : null,
    refunds,
    refundCount,
    refundRate: gmv > 0 ? refunds / gmv : null,
    net: gmv - refunds,
    discount,
    couponUses,
    newCustomers: customers.size - returning,
    returningCustomers: returning,
    bySku,
    byChannel,
    otherCurrency: paidOn.length - mine.length,
    otherCurrencyRefunds,
  };
}

/**
 * The complaint figures of day `d`. Overdue is judged at the end of the day, or now for today, by
 * either clock (as `complaint list overdue`): open then, and no first response (the first staff
 * action: escalate or resolve) before then with its due time past, or the resolution due time
 * in force then (a reopening restarts it) past.
 */
function complaintOracle(w: World, s: Scenario, d: string): ComplaintFigures {
  const cut = Math.min(midnight(shift(d, 1), s.tz), w.now);
  let overdue = 0;
  for (const c of w.complaints) {
    if (c.createdAt >= cut) continue;
    let due = c.createdAt + SLA_H[c.severity] * H;
    let resolved = false;
    let responded = false;
    for (const e of c.events) {
      if (e.at >= cut) break;
      responded = true;
      if (e.kind === "escalate") continue;
      resolved = e.kind === "resolve";
      if (e.kind === "reopen") due = e.at + SLA_H[c.severity] * H;
    }
    const firstLate = !responded && c.createdAt + FIRST_H[c.severity] * H < cut;
    if (!resolved && (due < cut || firstLate)) overdue++;
  }
  return {
    opened: w.complaints.filter((c) => dayOf(c.createdAt, s.tz) === d).length,
    resolved: w.complaints.filter((c) => c.events.some((e) => e.kind === "resolve" && dayOf(e.at, s.tz) === d)).length,
    overdue,
  };
}

/** The comparable part of a day's sales figures (lines and channels: the digest's day only). */
function salesView(x: SalesFigures | ReturnType<typeof salesOracle>, lines: boolean) {
  const { bySku, byChannel, ...rest } = x;
  return lines ? { ...rest, bySku: Object.fromEntries([...bySku].sort()), byChannel: Object.fromEntries([...byChannel].sort()) } : rest;
}

function expectedDigest(w: World, s: Scenario, d: string) {
  const prev = shift(d, -1);
  const week = shift(d, -7);
  const cur = salesOracle(w, s, d);
  const lines = [...cur.bySku].map(([sku, v]) => ({ sku, name: `Name of ${sku}`, ...v }));
  const byCategory = new Map<string, number>();
  for (const l of lines) byCategory.set(CATEGORY.get(l.sku)!, (byCategory.get(CATEGORY.get(l.sku)!) ?? 0) + l.revenue);
  const ranked = (m: Map<string, number>) => [...m].map(([key, revenue]) => ({ key, revenue })).sort((a, b) => b.revenue - a.revenue || cmp(a.key, b.key));
  return {
    day: d,
    partial: d === dayOf(w.now, s.tz),
    currency: s.currency,
    sales: { day: salesView(cur, true), prev: salesView(salesOracle(w, s, prev), false), week: salesView(salesOracle(w, s, week), false) },
    complaints: { day: complaintOracle(w, s, d), prev: complaintOracle(w, s, prev), week: complaintOracle(w, s, week) },
    topByRevenue: [...lines].sort((a, b) => b.revenue - a.revenue || b.units - a.units || cmp(a.sku, b.sku)).slice(0, 5),
    topByUnits: [...lines].sort((a, b) => b.units - a.units || b.revenue - a.revenue || cmp(a.sku, b.sku)).slice(0, 5),
    byCategory: ranked(byCategory),
    byChannel: ranked(cur.byChannel),
    series: Array.from({ length: 14 }, (_, i) => {
      const sd = shift(d, i - 13);
      const o = salesOracle(w, s, sd);
      return { day: sd, gmv: o.gmv, orders: o.orders };
    }),
  };
}

function digestView(g: Digest) {
  return {
    day: g.day,
    partial: g.partial,
    currency: g.currency,
    sales: { day: salesView(g.sales.day, true), prev: salesView(g.sales.prev, false), week: salesView(g.sales.week, false) },
    complaints: g.complaints,
    topByRevenue: g.topByRevenue,
    topByUnits: g.topByUnits,
    byCategory: g.byCategory,
    byChannel: g.byChannel,
    series: g.series,
  };
}

const SCENARIOS: Scenario[] = [
  { name: "shanghai", tz: "Asia/Shanghai", currency: "CNY", day: "2026-11-24", seed: 101 },
  { name: "nyspring", tz: "America/New_York", currency: "USD", day: "2026-03-08", seed: 204 },
  { name: "nyfall", tz: "America/New_York", currency: "USD", day: "2026-11-01", seed: 303 },
  { name: "london", tz: "Europe/London", currency: "GBP", day: "2026-03-29", seed: 407 },
  { name: "ldnautumn", tz: "Europe/London", currency: "GBP", day: "2026-10-25", seed: 506 },
];

// FUZZ_SEED_OFFSET=n explores other seeds (the default set is the one kept in CI).
const OFFSET = Number(process.env.FUZZ_SEED_OFFSET ?? 0);

describe.each(SCENARIOS.map((x) => ({ ...x, seed: x.seed + OFFSET })))("digest against a plain loop: $name ($tz, around $day, seed $seed)", (s) => {
  let app: TestApp;
  const w = makeWorld(s);
  beforeAll(async () => {
    app = await makeTestApp(
      { SHOP_TIMEZONE: s.tz, SHOP_CURRENCY: s.currency, COMPLAINT_SLA_RESOLUTION: "urgent:8h,high:24h,normal:72h,low:168h", COMPLAINT_SLA_FIRST_RESPONSE: "urgent:1h,high:4h,normal:24h,low:72h" },
      iso(w.events[0]!.at - H),
    );
    await app.services.refund.setPolicy({ supportLimit: 1e12, managerLimit: 1e12 }, "shell:admin");
    for (const [sku, category, price] of SKUS) {
      const r = await app.services.ingest.apply("products", { sku, name: `Name of ${sku}`, category, price, onHand: 500 }, "api:fuzz");
      expect(r.outcome).toBe("created");
    }
    for (const e of w.events) {
      app.clock.set(new Date(e.at));
      try {
        await e.run(app);
      } catch (err) {
        throw new Error(`event "${e.what}" at ${iso(e.at)}: ${(err as Error).message}`);
      }
    }
    app.clock.set(new Date(w.now));
  }, 120_000);
  afterAll(() => app?.close());

  it("the data covers what it should (late payments, midnights, refunds, cancellations, coupons)", async () => {
    const paid = w.orders.filter((o) => o.paidAt !== undefined);
    expect(w.orders.length).toBeGreaterThanOrEqual(40);
    expect(w.events.length).toBeGreaterThan(60);
    expect(w.orders.some((o) => o.refunds.some((r) => r.by === "bot") && o.status !== "refunded" && o.status !== "cancelled")).toBe(true);
    expect(w.orders.some((o) => o.refunds.some((r) => r.by === "shop"))).toBe(true);
    expect(w.orders.some((o) => o.status === "cancelled" && o.paidAt !== undefined)).toBe(true);
    expect(w.orders.some((o) => o.coupon)).toBe(true);
    expect(paid.some((o) => Math.abs(o.paidAt! - midnight(dayOf(o.paidAt! + 12 * H, s.tz), s.tz)) < 15 * M)).toBe(true);
    // The database holds what the model says was sent (so a mismatch below is the digest's).
    const docs = await app.store.orders.find({}).select({ status: 1, refundedTotal: 1, paidAt: 1, couponCode: 1 }).lean<{ _id: string; status: string; refundedTotal?: number; paidAt?: Date; couponCode?: string }[]>();
    const got = Object.fromEntries(docs.map((d) => [d._id, { status: d.status, refunded: d.refundedTotal ?? 0, paidAt: d.paidAt?.getTime() ?? null, coupon: d.couponCode ?? null }]));
    const want = Object.fromEntries(w.orders.map((o) => [o.no, { status: o.status, refunded: o.refunds.reduce((a, r) => a + r.amount, 0), paidAt: o.paidAt ?? null, coupon: o.coupon ?? null }]));
    expect(got).toEqual(want);
  });

  it("the weekly totals match", async () => {
    for (const end of [s.day, shift(s.day, -7), shift(s.day, 1)]) {
      const days = Array.from({ length: 7 }, (_, i) => shift(end, i - 6));
      const want = { gmv: 0, orders: 0, refunds: 0, refundCount: 0, net: 0, otherCurrency: 0, otherCurrencyRefunds: 0 };
      for (const d of days) {
        const o = salesOracle(w, s, d);
        for (const k of Object.keys(want) as (keyof typeof want)[]) want[k] += o[k];
      }
      expect({ end, ...(await app.services.digest.totals(days)) }).toEqual({ end, ...want });
    }
  });

  it.each(w.days)("every figure of %s matches", async (d) => {
    const g = await app.services.digest.digest(d);
    expect(digestView(g)).toEqual(expectedDigest(w, s, d));
  });
});

// The smallest case the randomized runs reduced to (seeds 204, 407 and 506 above), before parked
// updates were dated when they arrived.
describe("a shop refund that arrives before its order (minimized)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY" }, "2026-11-20T14:00:00Z");
    await app.services.ingest.apply("products", { sku: "MUG-1", name: "Mug", category: "Home", price: 1800, onHand: 10 }, "api:fuzz");
  });
  afterAll(() => app?.close());

  it("is dated when its message arrived (README: refundedAt, else when it arrived), not when the order came", async () => {
    // 22:00 and 23:30 in Shanghai on the 20th: the payment and the shop's full refund (no refundedAt) overtake the order.
    app.clock.set(new Date("2026-11-20T14:00:00Z"));
    await ingestOrder(app, { orderNo: "P-1", status: "paid", paidAt: "2026-11-20T14:00:00Z" }, ["parked"]);
    app.clock.set(new Date("2026-11-20T15:30:00Z"));
    await ingestOrder(app, { orderNo: "P-1", status: "refunded" }, ["parked"]);
    // 01:00 on the 21st: the order arrives and what was parked is applied.
    app.clock.set(new Date("2026-11-20T17:00:00Z"));
    await ingestOrder(app, { orderNo: "P-1", customerId: "c-1", items: [{ sku: "MUG-1", qty: 1, unitPrice: 1800 }], createdAt: "2026-11-20T13:55:00Z" }, ["created"]);
    const [d20, d21] = await Promise.all([app.services.digest.digest("2026-11-20"), app.services.digest.digest("2026-11-21")]);
    expect({ gmv20: d20.sales.day.gmv, refunds20: d20.sales.day.refunds, refunds21: d21.sales.day.refunds }).toEqual({ gmv20: 1800, refunds20: 1800, refunds21: 0 });
  });
});
