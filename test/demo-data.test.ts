import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixedClock } from "../src/core/clock.js";
import { addDays, dayStart, localDay } from "../src/core/format.js";
import { DemoDataExistsError, generateDemo, seedDemo, type DemoData, type DemoOptions } from "../src/seed/demo-data.js";
import { StockService } from "../src/services/stock.service.js";
import { createStore, type Store } from "../src/store/models.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

const BASE: DemoOptions = { seed: 42, endDay: "2026-11-08", timeZone: "America/New_York", currency: "USD" };

const cache = new Map<string, DemoData>();
function demo(opts: Partial<DemoOptions> = {}): DemoData {
  const key = JSON.stringify(opts);
  let d = cache.get(key);
  if (!d) cache.set(key, (d = generateDemo({ ...BASE, ...opts })));
  return d;
}

/** Weekday (0 = Sunday) of a YYYY-MM-DD day, computed independently of the generator. */
const dow = (day: string): number => new Date(`${day}T12:00:00Z`).getUTCDay();

describe("generateDemo", () => {
  it("is deterministic for a seed and differs for another seed", () => {
    const a = generateDemo(BASE);
    const b = generateDemo(BASE);
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = generateDemo({ ...BASE, seed: 43 });
    expect(JSON.stringify(c.orders)).not.toBe(JSON.stringify(a.orders));
    expect(JSON.stringify(c.products)).not.toBe(JSON.stringify(a.products));
  });

  it("builds a realistic catalogue", () => {
    const { products } = demo();
    expect(products.length).toBeGreaterThanOrEqual(200);
    expect(new Set(products.map((p) => p._id)).size).toBe(products.length);
    expect(new Set(products.map((p) => p.name)).size).toBe(products.length);
    expect(products[0]!._id).toBe("SKU-1001");
    expect(new Set(products.map((p) => p.category)).size).toBeGreaterThanOrEqual(6);
    expect(products.filter((p) => /[\u4e00-\u9fff]/.test(p.name)).length).toBeGreaterThanOrEqual(3);
    expect(products.some((p) => p.name === "不锈钢保温杯 500ml")).toBe(true);
    for (const p of products) {
      expect(p._id).toMatch(/^SKU-\d{4,}$/);
      expect(p.currency).toBe("USD");
      expect(Number.isInteger(p.price) && p.price > 0).toBe(true);
      expect(Number.isInteger(p.cost)).toBe(true);
      expect(p.cost / p.price).toBeGreaterThanOrEqual(0.34);
      expect(p.cost / p.price).toBeLessThanOrEqual(0.71);
      expect(p.leadTimeDays).toBeGreaterThanOrEqual(3);
      expect(p.leadTimeDays).toBeLessThanOrEqual(30);
      expect(p.supplier).not.toBe("");
      expect(p.reserved).toBeGreaterThanOrEqual(0);
      expect(p.reserved).toBeLessThanOrEqual(p.onHand);
      expect(p.available).toBe(p.onHand - p.reserved);
    }
  });

  it("has 90 days of orders, busier on weekends, with channels, coupons, returning customers and statuses", () => {
    const { orders, promotions } = demo();
    const perDay = new Map<string, number>();
    for (const o of orders) perDay.set(o.day, (perDay.get(o.day) ?? 0) + 1);
    expect(perDay.size).toBe(90);
    expect([...perDay.keys()].sort().at(-1)).toBe(BASE.endDay);
    expect([...perDay.keys()].sort()[0]).toBe(addDays(BASE.endDay, -89));

    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const weekend = [...perDay].filter(([d]) => dow(d) === 0 || dow(d) === 6).map(([, n]) => n);
    const weekdays = [...perDay].filter(([d]) => dow(d) !== 0 && dow(d) !== 6).map(([, n]) => n);
    expect(avg(weekend)).toBeGreaterThan(avg(weekdays) * 1.15);
    expect(orders.length / 90).toBeGreaterThan(45);
    expect(orders.length / 90).toBeLessThan(75);

    expect(new Set(orders.map((o) => o._id)).size).toBe(orders.length);
    expect(new Set(orders.map((o) => o.channel))).toEqual(new Set(["web", "app", "marketplace", "pos"]));
    const customers = new Set(orders.map((o) => o.customerId));
    const repeatShare = 1 - customers.size / orders.length;
    expect(repeatShare).toBeGreaterThan(0.08);
    expect(repeatShare).toBeLessThan(0.25);

    expect(promotions.length).toBeGreaterThanOrEqual(2);
    const coupons = orders.filter((o) => o.couponCode);
    expect(coupons.length).toBeGreaterThan(0);
    expect(new Set(coupons.map((o) => o.couponCode))).toEqual(new Set(promotions.map((p) => p.code)));
    for (const o of coupons) {
      const promo = promotions.find((p) => p.code === o.couponCode)!;
      expect(o.day >= promo.from && o.day <= promo.to).toBe(true);
      expect(o.discount).toBeGreaterThan(0);
    }
    for (const o of orders) {
      expect(o.items.length).toBeGreaterThanOrEqual(1);
      expect(o.items.length).toBeLessThanOrEqual(4);
      expect(o.currency).toBe("USD");
      expect(o.customerId).toMatch(/^CUST-/);
      expect(o.subtotal).toBe(o.items.reduce((s, i) => s + i.qty * i.unitPrice, 0));
      expect(o.total).toBe(o.subtotal - o.discount + o.shipping);
      if (!o.couponCode) expect(o.discount).toBe(0);
      if (o.status === "pending") expect(o.paidAt).toBeUndefined();
      if (["paid", "shipped", "delivered", "refunded"].includes(o.status)) expect(o.paidAt).toBeDefined();
      if (o.paidAt) expect(o.paidAt.getTime()).toBeGreaterThan(o.createdAt.getTime());
    }
    const statuses = (from: string) => new Set(orders.filter((o) => o.day >= from).map((o) => o.status));
    expect(statuses(BASE.endDay).has("pending")).toBe(true);
    expect(statuses(BASE.endDay).has("paid")).toBe(true);
    const old = orders.filter((o) => o.day < addDays(BASE.endDay, -14));
    expect(old.filter((o) => o.status === "delivered").length / old.length).toBeGreaterThan(0.85);
    for (const s of ["cancelled", "refunded"]) expect(orders.some((o) => o.status === s)).toBe(true);
    expect(orders.some((o) => o.paidDay && o.paidDay !== o.day)).toBe(true);
  });

  it("keeps salesByDay equal to units per paid day of the last 60 days' paid orders", () => {
    const { orders, products } = demo();
    const from = addDays(BASE.endDay, -59);
    const expected = new Map<string, Record<string, number>>(products.map((p) => [p._id, {}]));
    for (const o of orders) {
      if (o.status === "cancelled" || !o.paidAt) continue;
      const day = localDay(o.paidAt, BASE.timeZone);
      if (day < from || day > BASE.endDay) continue;
      for (const it of o.items) {
        const rec = expected.get(it.sku)!;
        rec[day] = (rec[day] ?? 0) + it.qty;
      }
    }
    for (const p of products) expect(p.salesByDay, p._id).toEqual(expected.get(p._id));
    expect(products.filter((p) => Object.keys(p.salesByDay).length > 0).length).toBeGreaterThan(products.length * 0.8);
  });

  it("leaves a few products out of stock, some low and some with cover below lead time", () => {
    const { products } = demo();
    const low = products.filter((p) => p.available <= p.reorderPoint);
    expect(low.length).toBeGreaterThanOrEqual(8);
    expect(low.length).toBeLessThanOrEqual(20);
    const out = products.filter((p) => p.available === 0);
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(out.length).toBeLessThanOrEqual(3);

    // As the bot sees it the morning after endDay, with the default 28-day window.
    const tomorrow = addDays(BASE.endDay, 1);
    const clock = new FixedClock(new Date(dayStart(tomorrow, BASE.timeZone).getTime() + 9 * 3_600_000));
    const stock = new StockService({} as Store, clock, { timeZone: BASE.timeZone, velocityWindowDays: 28 });
    const count = (s: string) => products.filter((p) => stock.view(p as never).status === s).length;
    expect(count("out")).toBe(out.length);
    expect(count("low")).toBe(low.length - out.length);
    expect(count("cover")).toBeGreaterThanOrEqual(1);
    expect(count("ok")).toBeGreaterThan(products.length * 0.85);
  });

  for (const timeZone of ["Asia/Shanghai", "America/New_York"]) {
    it(`stamps day and paidDay as shop-local days in ${timeZone} (across a DST change)`, () => {
      // 2026-03-08 and 2026-11-01 are DST changes in New York; Shanghai has none.
      const { orders } = demo({ timeZone, endDay: "2026-03-20", days: 30, ordersPerDay: 40, currency: "CNY" });
      expect(new Set(orders.map((o) => o.day)).size).toBe(30);
      for (const o of orders) {
        expect(o.day).toBe(localDay(o.createdAt, timeZone));
        if (o.paidAt) expect(o.paidDay).toBe(localDay(o.paidAt, timeZone));
        else expect(o.paidDay).toBeUndefined();
        expect(o.currency).toBe("CNY");
      }
      // Early-morning orders exist, so a UTC day would differ from the local one for some orders.
      expect(orders.some((o) => o.createdAt.toISOString().slice(0, 10) !== o.day)).toBe(true);
    });
  }

  it("leaves out orders and payments after `until`", () => {
    const until = new Date(dayStart(BASE.endDay, BASE.timeZone).getTime() + 12 * 3_600_000);
    const { orders } = generateDemo({ ...BASE, until });
    expect(orders.every((o) => o.createdAt <= until && (!o.paidAt || o.paidAt <= until))).toBe(true);
    expect(orders.filter((o) => o.day === BASE.endDay).length).toBeGreaterThan(0);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => generateDemo({ ...BASE, endDay: "2026-02-30" })).toThrow(/endDay/);
    expect(() => generateDemo({ ...BASE, timeZone: "Mars/Olympus" })).toThrow(/time zone/);
  });
});

describe("seedDemo", () => {
  let db: TestDb;
  let store: Store;
  const small = { ...BASE, products: 30, days: 10, ordersPerDay: 8 };

  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
  });
  afterAll(() => db?.close());

  it("loads an empty store, refuses a second time, and reloads with reset", async () => {
    const expected = generateDemo(small);
    const r = await seedDemo(store, small);
    expect(r).toEqual({ products: 30, orders: expected.orders.length });
    expect(await store.products.countDocuments()).toBe(30);
    expect(await store.orders.countDocuments()).toBe(expected.orders.length);
    // Every demo complaint's assignee may work it: support role granted (none left without).
    const assignees = [...new Set((await store.complaints.find({ assignee: { $exists: true } }).lean()).map((c) => c.assignee!))];
    expect(assignees.length).toBeGreaterThan(0);
    for (const a of assignees) expect((await store.roles.findById(a).lean())?.role, a).toBe("support");

    const p = await store.products.findById("SKU-1001").lean();
    const want = expected.products[0]!;
    expect(p).toMatchObject({ name: want.name, available: want.available, onHand: want.onHand, currency: "USD" });
    expect(p!.salesByDay).toEqual(want.salesByDay);
    const o = await store.orders.findById(expected.orders[0]!._id).lean();
    expect(o!.createdAt).toEqual(expected.orders[0]!.createdAt);
    expect(o!.day).toBe(expected.orders[0]!.day);

    const meta = await store.meta.findById("demo").lean();
    expect(meta!.value).toMatchObject({ seed: 42, endDay: BASE.endDay });
    expect((meta!.value as { seededAt: unknown }).seededAt).toBeInstanceOf(Date);

    await expect(seedDemo(store, small)).rejects.toThrow(DemoDataExistsError);
    await expect(seedDemo(store, small)).rejects.toThrow(/already holds 30 product/);
    expect(await store.products.countDocuments()).toBe(30);

    await store.ledger.create({ _id: "k1", sku: "SKU-1001", delta: 1, reason: "x", actor: "shell:t", status: "applied", at: new Date() });
    const again = await seedDemo(store, { ...small, seed: 7, reset: true });
    expect(again.products).toBe(30);
    expect(await store.products.countDocuments()).toBe(30);
    expect(await store.orders.countDocuments()).toBe(again.orders);
    expect(await store.ledger.countDocuments()).toBe(0);
    expect(((await store.meta.findById("demo").lean())!.value as { seed: number }).seed).toBe(7);
  });
});
