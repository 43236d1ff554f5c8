import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationResult } from "../src/core/core.js";
import { ChartService, dailySpec } from "../src/services/chart.service.js";
import { PAID_STATUSES } from "../src/services/order-status.js";
import { field, makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// A manager's morning read, in Asia/Shanghai (UTC+8, no DST); the clock is 2026-11-25 12:00 local.
const NOW = "2026-11-25T04:00:00Z";
const TZ = "Asia/Shanghai";

let n = 0;
/** A paid order of `total` fen at `paidAt` (UTC), one line of SKU-1 unless `over` says otherwise. */
function order(paidAt: string, total: number, over: Record<string, unknown> = {}) {
  n++;
  return paidOrder(`ORD-${n}`, total, paidAt, { status: "paid", customerId: `C-${n}`, refunds: [], refundedTotal: 0, ...over });
}
const line = (sku: string, qty: number, unitPrice: number) => ({ sku, qty, unitPrice });

type Raw = ReturnType<typeof order> & { items: { sku: string; qty: number; unitPrice: number }[] };
const intlDay = (d: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);

/** The plain loop: a day's paid orders (from the instants), their line revenue per SKU and per category. */
function loop(orders: Raw[], day: string, catalog: Map<string, string>) {
  const paid = orders.filter((o) => intlDay(o.paidAt as Date) === day && (PAID_STATUSES as readonly string[]).includes(o.status as string) && o.currency === "CNY");
  const bySku = new Map<string, { revenue: number; units: number }>();
  const byCategory = new Map<string | null, number>();
  let gmv = 0;
  let units = 0;
  for (const o of paid) {
    gmv += o.total as number;
    for (const it of o.items) {
      units += it.qty;
      const s = bySku.get(it.sku) ?? { revenue: 0, units: 0 };
      s.revenue += it.qty * it.unitPrice;
      s.units += it.qty;
      bySku.set(it.sku, s);
      const cat = catalog.get(it.sku) ?? null;
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + it.qty * it.unitPrice);
    }
  }
  return { gmv, orders: paid.length, units, bySku, byCategory };
}

const row = (r: InvocationResult, label: string) => r.reply.table!.rows.find((x) => x[0] === label)!;

describe("digest: anomalies on small numbers (default DIGEST_ANOMALY_MIN_COUNT 5)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY" }, NOW);
    await app.store.products.insertMany([product("SKU-1", { category: "Home" })]);
    await app.store.orders.insertMany([
      // 11-09: one bulk order of 50 units; 11-10: one order of 2 units, same money.
      order("2026-11-09T03:00:00Z", 10000, { items: [line("SKU-1", 50, 200)] }),
      order("2026-11-10T03:00:00Z", 10000, { items: [line("SKU-1", 2, 5000)] }),
      // 11-11: 6 orders of 10 units; 11-12: 6 orders of 1 unit, same money: a real fall of units.
      ...Array.from({ length: 6 }, (_, i) => order(`2026-11-11T0${i}:00:00Z`, 10000, { items: [line("SKU-1", 10, 1000)] })),
      ...Array.from({ length: 6 }, (_, i) => order(`2026-11-12T0${i}:00:00Z`, 10000, { items: [line("SKU-1", 1, 10000)] })),
    ]);
  });
  afterAll(() => app.close());

  it("units are judged on the paid orders behind them: one bulk order the day before does not flag a quiet day's units", async () => {
    const quiet = await app.run("shell:admin", "digest 2026-11-10");
    expect(quiet.outcome).toBe("ok");
    expect(row(quiet, "Units")).toEqual(["Units", "2", "−96.0%", "— (no data yet)"]);
    expect(quiet.reply.text).toBeUndefined();
    expect(quiet.reply.status).toBe("info");
    // Six orders a day on both days: the same fall of units is news.
    const real = await app.run("shell:admin", "digest 2026-11-12");
    expect(row(real, "Units")).toEqual(["Units", "6", "−90.0% ⚠", "— (no data yet)"]);
    expect(real.reply.text).toBe("⚠ Anomalies (moves of 30% or more the wrong way): Units −90.0% vs previous day.");
  });
});

describe("digest: what an empty day is, and what cannot be sold", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY" }, NOW);
    await app.store.products.insertMany([product("SKU-1", { category: "Home" }), product("SKU-OUT", { name: "Empty Shelf", onHand: 0, reorderPoint: 10 }), product("SKU-FEW", { name: "Few Left", onHand: 3, reorderPoint: 10 })]);
  });
  afterAll(() => app.close());

  it("a day before the shop's first paid order says so (en, zh), a quiet day after it does not; no order ever: said too", async () => {
    const none = await app.run("shell:admin", "digest 2026-11-01");
    expect(none.outcome).toBe("ok");
    expect(none.reply.context).toContain("No order of this shop has been paid yet: every sales figure is 0.");
    await app.store.orders.insertMany([order("2026-11-09T03:00:00Z", 10000), order("2026-11-12T03:00:00Z", 10000)]);
    const before = await app.run("shell:admin", "digest 2026-11-01");
    expect(before.reply.table!.rows[0]).toEqual(["GMV", "CN¥0.00", "—", "—"]);
    expect(before.reply.context).toContain("2026-11-01 is before the first paid order (2026-11-09): the sales figures are empty because the shop's data starts later, not because nothing sold.");
    // A day without sales after the first one is just that.
    const quiet = await app.run("shell:admin", "digest 2026-11-10");
    expect(quiet.reply.context).toEqual(['Definitions: README, "Digest figures". Days in Asia/Shanghai.']);
    const sold = await app.run("shell:admin", "digest 2026-11-09");
    expect(sold.reply.context).toEqual(['Definitions: README, "Digest figures". Days in Asia/Shanghai.']);
    const zh = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "digest 2026-11-01", locale: "zh-CN" });
    expect(zh.reply.context).toContain("2026-11-01 早于第一笔已付款订单（2026-11-09）：销售数据为空是因为店铺数据从那以后才开始，而不是当天没有销售。");
    const zhOut = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "digest 昨天", locale: "zh-CN" });
    expect(field(zhOut, "低库存：2 个商品")!.split("\n")[0]).toBe("SKU-OUT Empty Shelf：缺货");
  });

  it("an out-of-stock product in the low-stock list reads \"out of stock\", not \"0 available, 0 days of cover\"", async () => {
    const r = await app.run("shell:admin", "digest yesterday");
    const low = field(r, "Low-stock products: 2")!.split("\n");
    expect(low).toEqual(["SKU-OUT Empty Shelf: out of stock", "SKU-FEW Few Left: 3 available, no recent sales"]);
  });
});

describe("digest: product lines and shares as a manager reads them", () => {
  let app: TestApp;
  let zh: TestApp;
  const catalog = new Map([
    ["SKU-1", "Home"],
    ["SKU-2", "Kitchen"],
    ["SKU-3", "Office"],
  ]);
  const orders: Raw[] = [];
  beforeAll(async () => {
    n = 0;
    orders.push(
      // 2026-11-20 (local): a huge order, a SKU no longer in the catalog, and ties.
      order("2026-11-20T02:00:00Z", 123456789012, { items: [line("SKU-1", 2, 61728394506)] }) as Raw,
      order("2026-11-20T03:00:00Z", 10000, { items: [line("SKU-2", 1, 10000)], channel: "app" }) as Raw,
      order("2026-11-20T04:00:00Z", 10000, { items: [line("SKU-GONE", 1, 10000)], channel: "marketplace" }) as Raw,
      order("2026-11-20T05:00:00Z", 10500, { items: [line("SKU-3", 6, 1750)], channel: "app" }) as Raw,
      // Paid on 2026-11-20 too, refunded on 2026-11-21, a day without sales: GMV 0, net negative.
      order("2026-11-20T06:00:00Z", 9000, { status: "refunded", items: [line("SKU-2", 1, 9000)], refunds: [{ requestId: "R-1", amount: 9000, at: new Date("2026-11-21T03:00:00Z"), day: "2026-11-21" }], refundedTotal: 9000 }) as Raw,
    );
    for (const a of [(app = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY" }, NOW)), (zh = await makeTestApp({ SHOP_TIMEZONE: TZ, SHOP_CURRENCY: "CNY", SHOP_LOCALE: "zh-CN" }, NOW))]) {
      await a.store.products.insertMany([...catalog].map(([sku, category]) => product(sku, { name: `Name of ${sku}`, category })));
      await a.store.orders.insertMany(orders);
    }
  });
  afterAll(async () => {
    await app.close();
    await zh.close();
  });

  it("a SKU no longer in the catalog is said to be so in the top lists and by category, with the figures of a plain loop", async () => {
    const r = await app.run("shell:admin", "digest 2026-11-20");
    expect(r.outcome).toBe("ok");
    const want = loop(orders, "2026-11-20", catalog);
    expect(row(r, "GMV")[1]).toBe(`CN¥${(want.gmv / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`);
    expect(row(r, "Paid orders")[1]).toBe(String(want.orders));
    expect(row(r, "Units")[1]).toBe(String(want.units));
    // Ranked by revenue (line revenue: qty × unit price), the unknown SKU by its SKU alone.
    const top = field(r, "Top 5 by revenue")!.split("\n");
    expect(top).toEqual([
      "SKU-1 Name of SKU-1: CN¥1,234,567,890.12, 2 units",
      "SKU-2 Name of SKU-2: CN¥190.00, 2 units",
      "SKU-3 Name of SKU-3: CN¥105.00, 6 units",
      "SKU-GONE (not in the catalog): CN¥100.00, 1 unit",
    ]);
    for (const [sku, s] of want.bySku) expect(top.some((l) => l.startsWith(`${sku} `) && l.includes(`, ${s.units} unit`))).toBe(true);
    const cats = field(r, "Revenue by category")!.split("\n");
    expect(cats.map((l) => l.replace(/:.*/, ""))).toEqual(["Home", "Kitchen", "Office", "(not in the catalog)"]);
    expect(cats.at(-1)).toBe("(not in the catalog): CN¥100.00 (<0.1%)");
    expect(want.byCategory.get(null)).toBe(10000);
    // Never the SKU twice, never a bare "—" for a category.
    expect(field(r, "Top 5 by units")).not.toMatch(/SKU-GONE SKU-GONE/);
    expect(cats.some((l) => l.startsWith("—"))).toBe(false);

    const z = await zh.run("shell:admin", "digest 11月20日");
    expect(z.outcome).toBe("ok");
    expect(field(z, "销售额前 5 商品")!.split("\n").at(-1)).toBe("SKU-GONE （不在商品目录中）：¥100.00，1 件");
    expect(field(z, "各类目销售额")!.split("\n").at(-1)).toBe("（不在商品目录中）：¥100.00（<0.1%）");
  });

  it("a share that is not nothing never reads 0.0%, nor one that is not everything 100.0%", async () => {
    const r = await app.run("shell:admin", "digest 2026-11-20");
    const cats = field(r, "Revenue by category")!.split("\n");
    expect(cats).toEqual([
      "Home: CN¥1,234,567,890.12 (>99.9%)",
      "Kitchen: CN¥190.00 (<0.1%)",
      "Office: CN¥105.00 (<0.1%)",
      "(not in the catalog): CN¥100.00 (<0.1%)",
    ]);
    expect(field(r, "Revenue by channel")!.split("\n")).toEqual(["web: CN¥1,234,567,980.12 (>99.9%)", "app: CN¥205.00 (<0.1%)", "marketplace: CN¥100.00 (<0.1%)"]);
    // The day after: GMV 0 with a refund: no rate, net negative with the digest's minus sign, no Infinity.
    const next = await app.run("shell:admin", "digest 2026-11-21");
    expect(row(next, "Refund rate")).toEqual(["Refund rate", "— (no sales that day)", "—", "—"]);
    expect(row(next, "Net revenue")[1]).toBe("−CN¥90.00");
    expect(JSON.stringify(next.reply.table)).not.toMatch(/Infinity|NaN/);
    // In Chinese too.
    const z = await zh.run("shell:admin", "digest 2026-11-20");
    expect(field(z, "各渠道销售额")!.split("\n")[0]).toBe("web：¥1,234,567,980.12（>99.9%）");
  });
});

describe("digest chart", () => {
  it("a fortnight without sales draws its zeros at the bottom: both axes run from 0 to 1", async () => {
    const quiet = Array.from({ length: 14 }, (_, i) => ({ day: `2026-11-${String(12 + i).padStart(2, "0")}`, gmv: 0, orders: 0 }));
    const svg = await new ChartService().svg(dailySpec(quiet, { title: "近 14 天", gmv: "成交额（CNY）", orders: "已付款订单", day: "日期" }));
    // One "0" and one "1" tick on each of the two axes (a scale of only 0 puts 0 mid-height).
    expect(svg.split(">0</text>").length - 1).toBe(2);
    expect(svg.split(">1</text>").length - 1).toBe(2);
    // Some sales: the scales follow the data as before.
    const some = quiet.map((p, i) => (i === 3 ? { ...p, gmv: 50, orders: 4 } : p));
    const svg2 = await new ChartService().svg(dailySpec(some, { title: "", gmv: "GMV", orders: "Orders", day: "Day" }));
    expect(svg2).toContain(">50</text>");
    expect(svg2).toContain(">4</text>");
  });
});
