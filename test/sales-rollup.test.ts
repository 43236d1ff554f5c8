import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repairOrderEffects } from "../src/services/order-effects.repair.js";
import { OrderEffects } from "../src/services/order-effects.service.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

// The daily sales rollup (the digest chart's days) is kept by every order writer: ingestion,
// `order cancel` in chat, refunds. It is checked against a plain loop over the orders as
// stored, finding each paid instant's local day with Intl, not the stored paidDay.

const TZ = "Asia/Shanghai";
const PAID = ["paid", "shipped", "delivered", "refunded"];
const dayOf = (d: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);

interface Stored {
  _id: string;
  status: string;
  total: number;
  discount?: number;
  couponCode?: string;
  currency: string;
  paidAt?: Date;
  items: { sku: string; qty: number }[];
}

type Sums = { gmv: number; orders: number; units: number; discount: number };

/** GMV, paid orders, units and discount per `day|currency`, by a plain loop. */
function expected(orders: Stored[]): Record<string, Sums> {
  const out: Record<string, Sums> = {};
  for (const o of orders) {
    if (!o.paidAt || !PAID.includes(o.status)) continue;
    const k = `${dayOf(o.paidAt)}|${o.currency}`;
    out[k] ??= { gmv: 0, orders: 0, units: 0, discount: 0 };
    out[k].gmv += o.total;
    out[k].orders++;
    for (const it of o.items) out[k].units += it.qty;
    out[k].discount += o.discount ?? 0;
  }
  return out;
}

async function rollup(app: TestApp): Promise<Record<string, Sums>> {
  const docs = await app.store.salesDays.find({}).lean();
  // Days whose orders all left again keep a document at zero: the same as no document.
  return Object.fromEntries(
    docs.filter((d) => d.orders !== 0 || d.gmv !== 0).map((d) => [d._id, { gmv: d.gmv, orders: d.orders, units: d.units, discount: d.discount }]),
  );
}

const msg = (orderNo: string, paidAt: string | undefined, items: [string, number, number][], over: Record<string, unknown> = {}) => ({
  orderNo,
  customerId: "CUST-1",
  createdAt: paidAt ?? "2026-11-20T01:00:00Z",
  ...(paidAt ? { status: "paid", paidAt } : { status: "pending" }),
  items: items.map(([sku, qty, unitPrice]) => ({ sku, qty, unitPrice })),
  ...over,
});

describe("the daily sales rollup", () => {
  let app: TestApp;
  const ingest = async (m: unknown) => {
    const r = await app.services.ingest.apply("orders", m, "api:shop");
    expect(r.status, JSON.stringify(r)).toBeLessThan(300);
    return r;
  };

  beforeAll(async () => {
    app = await makeTestApp({}, "2026-11-25T04:00:00Z");
    await app.services.identity.grant("shell:mia", "manager", "shell:admin");
    await app.store.products.insertMany([product("SKU-1", { onHand: 100 }), product("SKU-2", { onHand: 100 })]);
  });
  afterAll(() => app.close());

  it("follows payment, cancellation in chat, refunds and duplicate deliveries exactly once", async () => {
    await ingest(msg("O-1", "2026-11-20T02:00:00Z", [["SKU-1", 2, 1000]], { discount: 200, couponCode: "SAVE10" }));
    // Pending first, paid a day later (late payment: the paid day counts).
    await ingest(msg("O-2", undefined, [["SKU-1", 1, 3000], ["SKU-2", 1, 500]]));
    await ingest({ orderNo: "O-2", status: "paid", paidAt: "2026-11-21T15:30:00Z" }); // 23:30 local on the 21st
    await ingest(msg("O-3", "2026-11-21T03:00:00Z", [["SKU-2", 3, 700]], { discount: 100, couponCode: "SAVE10" }));
    // Ten concurrent deliveries of one order.
    const o4 = msg("O-4", "2026-11-21T16:10:00Z", [["SKU-1", 1, 4200]]); // 00:10 local on the 22nd
    await Promise.all(Array.from({ length: 10 }, () => app.services.ingest.apply("orders", o4, "api:shop")));
    await ingest(msg("O-5", "2026-11-21T04:00:00Z", [["SKU-1", 1, 900]], { currency: "EUR" }));
    await ingest(msg("O-6", "2026-11-22T04:00:00Z", [["SKU-2", 2, 1500]]));
    // A paid order cancelled in chat leaves the day's GMV and gives its stock back.
    const r = await app.run("shell:mia", "order cancel O-3 reason=fraud");
    expect(r.outcome, r.reply.text).toBe("ok");
    // Refunded in full before shipment: still in GMV (refunds are counted apart), stock released.
    await ingest({ orderNo: "O-6", status: "refunded" });

    const orders = await app.store.orders.find({}).lean<Stored[]>();
    expect(orders.map((o) => `${o._id}:${o.status}`).sort()).toEqual(["O-1:paid", "O-2:paid", "O-3:cancelled", "O-4:paid", "O-5:paid", "O-6:refunded"]);
    const want = expected(orders);
    expect(Object.keys(want).sort()).toEqual(["2026-11-20|CNY", "2026-11-21|CNY", "2026-11-21|EUR", "2026-11-22|CNY"]);
    expect(await rollup(app)).toEqual(want);

    // Stock: open (paid) orders hold their units; the cancelled and refunded ones gave them back.
    const reservedBy = (sku: string) =>
      orders.filter((o) => o.status === "paid").reduce((s, o) => s + o.items.filter((i) => i.sku === sku).reduce((t, i) => t + i.qty, 0), 0);
    const [p1, p2] = await Promise.all(["SKU-1", "SKU-2"].map((s) => app.store.products.findById(s).lean()));
    expect({ reserved: p1!.reserved, available: p1!.available }).toEqual({ reserved: reservedBy("SKU-1"), available: 100 - reservedBy("SKU-1") });
    expect({ reserved: p2!.reserved, available: p2!.available }).toEqual({ reserved: reservedBy("SKU-2"), available: 100 - reservedBy("SKU-2") });

    // The digest's chart reads the rollup for the days other than the day, the day before
    // and a week before: the 20th to the 22nd here.
    const d = await app.services.digest.digest("2026-11-25");
    for (const day of ["2026-11-20", "2026-11-21", "2026-11-22"]) {
      const p = d.series.find((x) => x.day === day)!;
      expect({ gmv: p.gmv, orders: p.orders }).toEqual({ gmv: want[`${day}|CNY`]!.gmv, orders: want[`${day}|CNY`]!.orders });
    }
  });

  it("60 concurrent orders on one product share flushes and count exactly, over several rounds", async () => {
    await app.store.products.insertMany([product("HOT-1", { onHand: 1000 })]);
    const day = async () => (await app.store.salesDays.findById("2026-11-24|CNY").lean()) ?? { gmv: 0, orders: 0 };
    const before = await day();
    // 60 orders × 2 effects (reserved, sold) = 120 keys on HOT-1: more than one round of 50.
    const rs = await Promise.all(
      Array.from({ length: 60 }, (_, i) => app.services.ingest.apply("orders", msg(`H-${i}`, "2026-11-24T02:00:00Z", [["HOT-1", 1 + (i % 3), 100]]), "api:shop")),
    );
    expect(rs.every((r) => r.outcome === "created")).toBe(true);
    const units = Array.from({ length: 60 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
    const p = await app.store.products.findById("HOT-1").lean();
    expect({ reserved: p!.reserved, available: p!.available, sold: (p!.salesByDay as unknown as Record<string, number>)["2026-11-24"] }).toEqual({ reserved: units, available: 1000 - units, sold: units });
    const after = await day();
    expect({ gmv: after.gmv - before.gmv, orders: after.orders - before.orders }).toEqual({ gmv: units * 100, orders: 60 });
    expect(await app.store.orders.countDocuments({ _id: /^H-/, "effects.reserved": true, "effects.sold": true })).toBe(60);
  });

  it("a flush over 120 products (more statements than one write command may carry on FerretDB) applies each once", async () => {
    await app.store.products.insertMany(Array.from({ length: 120 }, (_, i) => product(`W-${i}`, { onHand: 10 })));
    const rs = await Promise.all(
      Array.from({ length: 120 }, (_, i) => app.services.ingest.apply("orders", msg(`W-${i}`, "2026-11-19T02:00:00Z", [[`W-${i}`, 2, 100]]), "api:shop")),
    );
    expect(rs.every((r) => r.outcome === "created")).toBe(true);
    const ps = await app.store.products.find({ _id: /^W-/ }).lean();
    expect(ps).toHaveLength(120);
    expect(ps.every((p) => p.reserved === 2 && p.available === 8)).toBe(true);
    expect(await app.store.salesDays.findById("2026-11-19|CNY").lean()).toMatchObject({ gmv: 120 * 200, orders: 120 });
  });

  it("a crash between the rollup update and the order's flag is finished without counting twice", async () => {
    await ingest(msg("O-7", "2026-11-23T02:00:00Z", [["SKU-1", 1, 2500]]));
    const before = await rollup(app);
    const stock = async () => (await app.store.products.findById("SKU-1").lean())!;
    const stockBefore = await stock();
    expect(before["2026-11-23|CNY"]).toEqual({ gmv: 2500, orders: 1, units: 1, discount: 0 });
    // As if the process died after the rollup and product updates, before flagging the order.
    await app.store.orders.updateOne({ _id: "O-7" }, { $unset: { "effects.sold": 1, "effects.reserved": 1 } });
    await ingest(msg("O-7", "2026-11-23T02:00:00Z", [["SKU-1", 1, 2500]]));
    expect(await rollup(app)).toEqual(before);
    expect({ reserved: (await stock()).reserved, sold: (await stock()).salesByDay }).toEqual({ reserved: stockBefore.reserved, sold: stockBefore.salesByDay });
    const o7 = await app.store.orders.findById("O-7").lean();
    expect(o7!.effects).toMatchObject({ sold: true, reserved: true });
  });

  it("one flush over an order already applied (crash before its flags) and a new one applies only the new one", async () => {
    await app.store.products.insertMany([product("MIX-1", { onHand: 100 })]);
    await ingest(msg("M-1", "2026-11-16T02:00:00Z", [["MIX-1", 4, 250]]));
    // M-1's stock and GMV are applied; as if the process died before flagging it.
    await app.store.orders.collection.updateOne({ _id: "M-1" as never }, { $set: { effects: {} } });
    // M-2 stored by a batch that died before any effect.
    const m1 = (await app.store.orders.findById("M-1").lean())!;
    await app.store.orders.collection.insertOne({ ...m1, _id: "M-2" as never, items: [{ sku: "MIX-1", qty: 3, unitPrice: 250 }], total: 750, effects: {} } as never);
    const [p0, d0] = [(await app.store.products.findById("MIX-1").lean())!, (await app.store.salesDays.findById("2026-11-16|CNY").lean())!];
    expect({ reserved: p0.reserved, gmv: d0.gmv, orders: d0.orders }).toEqual({ reserved: 4, gmv: 1000, orders: 1 });
    // Both in one flush: the summed update misses on M-1's keys, then each step goes alone.
    const both = await app.store.orders.find({ _id: { $in: ["M-1", "M-2"] } }).lean();
    await new OrderEffects(app.store).settleMany(both);
    const [p1, d1] = [(await app.store.products.findById("MIX-1").lean())!, (await app.store.salesDays.findById("2026-11-16|CNY").lean())!];
    expect({ reserved: p1.reserved, available: p1.available, gmv: d1.gmv, orders: d1.orders }).toEqual({ reserved: 7, available: 93, gmv: 1750, orders: 2 });
    for (const o of await app.store.orders.find({ _id: { $in: ["M-1", "M-2"] } }).lean()) expect(o.effects).toMatchObject({ reserved: true, sold: true });
  });

  it("the order-effects job finishes what a writer that died before settling left undone, once", async () => {
    const MIN = 60_000;
    await app.store.products.insertMany([product("CRASH-1", { onHand: 50 }), product("CRASH-2", { onHand: 50 })]);
    await ingest(msg("O-SHIP", "2026-11-24T02:00:00Z", [["CRASH-2", 4, 500]]));
    const stock = async (sku: string) => {
      const p = (await app.store.products.findById(sku).lean())!;
      // A lean read: salesByDay is a plain object here.
      const sold = (p.salesByDay as unknown as Record<string, number> | undefined)?.["2026-11-24"] ?? 0;
      return { onHand: p.onHand, reserved: p.reserved, available: p.available, sold };
    };
    expect(await stock("CRASH-2")).toEqual({ onHand: 50, reserved: 4, available: 46, sold: 4 });
    const day = async () => (await rollup(app))["2026-11-24|CNY"];
    const dayBefore = (await day())!;
    const now = app.clock.now();
    // The ingestion path wrote a new paid order, then the process died before its effects.
    await app.store.orders.collection.insertOne({
      _id: "O-CRASH", items: [{ sku: "CRASH-1", qty: 3, unitPrice: 900 }], subtotal: 2700, discount: 0, shipping: 0, total: 2700, currency: "CNY",
      status: "paid", channel: "api", customerId: "CUST-9", createdAt: new Date("2026-11-24T03:00:00Z"), day: "2026-11-24",
      paidAt: new Date("2026-11-24T03:00:00Z"), paidDay: "2026-11-24", refundedTotal: 0, refunds: [], history: [], effects: {}, changedAt: now,
    } as never);
    // `order ship` wrote the new status, then the process died before moving the stock.
    await app.store.orders.updateOne({ _id: "O-SHIP" }, { $set: { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF9", shippedAt: now }, changedAt: now } });

    const jobs = await jobStepper(app, "order-effects", now.getTime());
    await jobs.step(10 * MIN);
    const [run] = await app.services.jobs.runs("order-effects", 1);
    expect(run).toMatchObject({ status: "ok" });
    expect(run!.summary).toMatch(/2 finished: (O-CRASH, O-SHIP|O-SHIP, O-CRASH)$/);
    expect(await stock("CRASH-1")).toEqual({ onHand: 50, reserved: 3, available: 47, sold: 3 });
    expect(await stock("CRASH-2")).toEqual({ onHand: 46, reserved: 0, available: 46, sold: 4 });
    expect(await day()).toEqual({ gmv: dayBefore.gmv + 2700, orders: dayBefore.orders + 1, units: dayBefore.units + 3, discount: dayBefore.discount });
    expect((await app.store.orders.findById("O-CRASH").lean())!.effects).toMatchObject({ reserved: true, sold: true });

    // Again, over any window: nothing left to do, nothing applied twice.
    expect((await app.services.effects.repair(new Date(0), app.clock.now())).repaired).toEqual([]);
    await jobs.step(10 * MIN);
    expect(await stock("CRASH-1")).toEqual({ onHand: 50, reserved: 3, available: 47, sold: 3 });
    expect(await stock("CRASH-2")).toEqual({ onHand: 46, reserved: 0, available: 46, sold: 4 });
    expect((await day())!.orders).toBe(dayBefore.orders + 1);
  });

  it("a repair pass stopped at its timeout keeps its progress: the next pass goes on from there", async () => {
    const MIN = 60_000;
    await app.store.products.insertMany([product("PAGE-1", { onHand: 50 })]);
    const base = app.clock.now().getTime() + 30 * MIN;
    // Three paid orders whose writers died before their effects, changed 10 minutes apart.
    for (const [i, no] of ["O-P1", "O-P2", "O-P3"].entries()) {
      await app.store.orders.collection.insertOne({
        _id: no, items: [{ sku: "PAGE-1", qty: 1, unitPrice: 100 }], subtotal: 100, discount: 0, shipping: 0, total: 100, currency: "CNY",
        status: "paid", channel: "api", customerId: "CUST-9", createdAt: new Date("2026-11-24T03:00:00Z"), day: "2026-11-24",
        paidAt: new Date("2026-11-24T03:00:00Z"), paidDay: "2026-11-24", refundedTotal: 0, refunds: [], history: [], effects: {}, changedAt: new Date(base + i * 10 * MIN),
      } as never);
    }
    const now = new Date(base + 40 * MIN);
    // A pass already past its timeout stops after its first page (of one order here).
    const first = (await repairOrderEffects(app.services, now, now, 0, { pageSize: 1, signal: AbortSignal.abort() }))!;
    expect({ repaired: first.repaired, stopped: first.stopped }).toEqual({ repaired: ["O-P1"], stopped: true });
    const second = (await repairOrderEffects(app.services, now, now, 0, { pageSize: 1 }))!;
    expect(second.since.getTime()).toBeGreaterThan(first.since.getTime());
    expect(second.since.getTime()).toBeLessThanOrEqual(base);
    expect({ repaired: second.repaired, stopped: second.stopped }).toEqual({ repaired: ["O-P2", "O-P3"], stopped: false });
    expect((await app.store.products.findById("PAGE-1").lean())!.reserved).toBe(3);
    // Done up to `now`: the next pass starts a minute before it.
    expect((await repairOrderEffects(app.services, now, now, 0))!.checked).toBe(0);
  });

  it("a rebuild from the orders gives the rollup the writers kept", async () => {
    const kept = await rollup(app);
    // Refused: a manager (admins only), a backwards range, a day that does not exist; nothing changes.
    expect((await app.run("shell:mia", "digest rebuild 2026-11-15 2026-11-25")).outcome).toBe("denied");
    const back = await app.run("shell:admin", "digest rebuild 2026-11-25 2026-11-15");
    expect([back.outcome, back.code, back.reply.text]).toEqual(["user_error", "bad_range", expect.stringMatching(/runs backwards/)]);
    expect((await app.run("shell:admin", "digest rebuild 2026-02-30")).code).toBe("bad_day");
    expect(await rollup(app)).toEqual(kept);
    const r = await app.run("shell:admin", "digest rebuild 2026-11-15 2026-11-25");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(await app.store.audit.findOne({ command: "digest rebuild", outcome: "ok" }).lean()).toMatchObject({ actor: "shell:admin" });
    expect(await rollup(app)).toEqual(kept);
    expect(await rollup(app)).toEqual(expected(await app.store.orders.find({}).lean<Stored[]>()));
  });

  it("a rebuild over an order whose writer died before its effects counts it once, and the repair job adds nothing after", async () => {
    await app.store.products.insertMany([product("REB-1", { onHand: 30 })]);
    await app.store.orders.collection.insertOne({
      _id: "O-REB", items: [{ sku: "REB-1", qty: 2, unitPrice: 1100 }], subtotal: 2200, discount: 0, shipping: 0, total: 2200, currency: "CNY",
      status: "paid", channel: "api", customerId: "CUST-8", createdAt: new Date("2026-11-18T03:00:00Z"), day: "2026-11-18",
      paidAt: new Date("2026-11-18T03:00:00Z"), paidDay: "2026-11-18", refundedTotal: 0, refunds: [], history: [], effects: {}, changedAt: app.clock.now(),
    } as never);
    expect((await app.run("shell:admin", "digest rebuild 2026-11-18")).outcome).toBe("ok");
    const want = expected(await app.store.orders.find({}).lean<Stored[]>());
    expect(await rollup(app)).toEqual(want);
    // The rebuild settled it first: its stock is reserved once, and nothing is left to repair.
    expect((await app.store.products.findById("REB-1").lean())).toMatchObject({ reserved: 2, available: 28 });
    expect((await app.services.effects.repair(new Date(0), app.clock.now())).repaired).toEqual([]);
    expect(await rollup(app)).toEqual(want);
  });
});
