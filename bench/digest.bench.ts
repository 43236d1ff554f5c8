/**
 * The daily digest for a day of 100k paid orders in a store of 3M orders (30 days of 100k),
 * side by side in one run with the single cheapest query that reads that day's orders:
 * `find({paidDay: D}, {total: 1})`, read to the end.
 *
 * Measured, interleaved: the bare query; `DigestService.digest(D)` (every figure, the 14-day
 * series, complaints, low stock); and `digest D` through the core (figures + chart PNG).
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, database `shopops_bench_digest`,
 * full size; else the test server (FerretDB v1 on SQLite, where every query scans the whole
 * collection) scaled to 1% (30k orders, 1k on the day). BENCH_SCALE overrides; BENCH_RUNS sets
 * the measured runs (default 10; 3 on FerretDB).
 */
import mongoose, { type Connection } from "mongoose";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { FixedClock } from "../src/core/clock.js";
import { addDays } from "../src/core/format.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { mulberry32 } from "../src/seed/demo-data.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { salesDayTotals, type SalesDayTotals } from "../src/services/order-effects.service.js";
import { cursorDocs, monitor, secondsSince, type Op } from "./measure.js";
import { labelServer, type Bench, type BenchResult } from "./run.js";

type Db = mongoose.mongo.Db;
type Document = mongoose.mongo.Document;

const FULL = { orders: 3_000_000, perDay: 100_000, products: 20_000, complaintsPerDay: 300 };
const DB_NAME = "shopops_bench_digest";
const DATA_VERSION = 3;
const BATCH = 10_000;
/** The digested day (UTC shop); the store holds the 30 days ending with it. */
const DAY = "2026-11-24";
const CATEGORIES = ["Electronics", "Home & Kitchen", "Apparel", "Beauty", "Sports", "Toys", "Office", "Grocery"];
const CHANNELS = ["web", "app", "marketplace", "pos"];
const STATUSES = ["paid", "shipped", "delivered", "delivered", "delivered", "delivered", "cancelled", "refunded"];

type Sizes = { orders: number; perDay: number; products: number; complaintsPerDay: number };

async function ensureData(db: Db, sizes: Sizes, log: (l: string) => void): Promise<{ reused: boolean; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const meta = await db.collection<{ _id: string; value: Document }>("meta").findOne({ _id: "bench:digest" });
  if (meta && meta.value.version === DATA_VERSION && meta.value.orders === sizes.orders && meta.value.perDay === sizes.perDay) {
    return { reused: true, seconds: 0 };
  }
  await db.dropDatabase();
  const rnd = mulberry32(20261124);
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const sku = (i: number) => `SKU-${100001 + i}`;
  const products: Document[] = [];
  for (let i = 0; i < sizes.products; i++) {
    const onHand = int(0, 300);
    products.push({
      _id: sku(i), name: `Product ${i}`, category: CATEGORIES[i % CATEGORIES.length], price: int(300, 30000), cost: 100, currency: "USD",
      onHand, reserved: 0, available: onHand, reorderPoint: int(5, 40), leadTimeDays: int(3, 30), supplier: "S", active: true,
      salesByDay: { [addDays(DAY, -1)]: int(0, 9), [addDays(DAY, -2)]: int(0, 9) }, appliedKeys: [],
    });
  }
  for (let i = 0; i < products.length; i += BATCH) await db.collection("products").insertMany(products.slice(i, i + BATCH), { ordered: false });
  const days = Math.round(sizes.orders / sizes.perDay);
  const customers = Math.max(10, Math.floor(sizes.orders / 3));
  let n = 0;
  const rollup = new Map<string, SalesDayTotals>();
  for (let d = days - 1; d >= 0; d--) {
    const day = addDays(DAY, -d);
    const start = Date.parse(`${day}T00:00:00Z`);
    for (let b = 0; b < sizes.perDay; b += BATCH) {
      const docs: Document[] = [];
      for (let i = b; i < Math.min(sizes.perDay, b + BATCH); i++) {
        const items = Array.from({ length: int(1, 3) }, () => ({ sku: sku(int(0, sizes.products - 1)), qty: int(1, 3), unitPrice: int(300, 30000) }));
        const subtotal = items.reduce((s, x) => s + x.qty * x.unitPrice, 0);
        const coupon = rnd() < 0.2;
        const discount = coupon ? Math.round(subtotal / 10) : 0;
        const total = subtotal - discount;
        const paidAt = new Date(start + int(0, 86_399_999));
        const status = STATUSES[int(0, STATUSES.length - 1)]!;
        const refunds = status === "refunded" || rnd() < 0.03 ? [{ requestId: `R-${n}`, amount: status === "refunded" ? total : Math.round(total / 3), at: paidAt, day }] : [];
        docs.push({
          _id: `ORD-${10_000_001 + n++}`, items, subtotal, discount, shipping: 0, total, currency: "USD", status,
          channel: CHANNELS[i % CHANNELS.length], ...(coupon ? { couponCode: "SAVE10" } : {}), customerId: `CUST-${int(1, customers)}`,
          createdAt: paidAt, paidAt, day, paidDay: day, refundedTotal: refunds.reduce((s, r) => s + r.amount, 0), refunds, history: [],
        });
      }
      await db.collection("orders").insertMany(docs, { ordered: false });
      salesDayTotals(docs as never[], rollup);
    }
    const complaints: Document[] = [];
    for (let i = 0; i < sizes.complaintsPerDay; i++) {
      const createdAt = new Date(start + int(0, 86_399_999));
      const resolved = rnd() < 0.7;
      const resolvedAt = new Date(createdAt.getTime() + int(1, 72) * 3_600_000);
      complaints.push({
        _id: `C-${day}-${i}`, customerId: "CUST-1", source: "chat", category: "other", severity: "normal", text: "x", status: resolved ? "resolved" : "new",
        createdBy: "bench", createdAt, day, firstResponseDueAt: createdAt, resolutionDueAt: new Date(createdAt.getTime() + 48 * 3_600_000),
        ...(resolved ? { resolvedAt, resolvedDay: resolvedAt.toISOString().slice(0, 10) } : {}), history: [],
      });
    }
    if (complaints.length) await db.collection("complaints").insertMany(complaints, { ordered: false });
    log(`day ${day}: ${n.toLocaleString("en")} orders (${secondsSince(t0)} s)`);
  }
  // The daily rollup the order writers keep (OrderEffects), as they would have left it.
  await db.collection("sales_days").insertMany([...rollup.values()].map((r) => ({ ...r, appliedKeys: [] })) as Document[]);
  await db.collection("meta").updateOne({ _id: "bench:digest" } as Document, { $set: { value: { version: DATA_VERSION, ...sizes } } }, { upsert: true });
  return { reused: false, seconds: Number(secondsSince(t0)) };
}

function stats(ops: Op[]) {
  const ms = ops.map((o) => o.ms).sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: ops.length,
    medianMs: r(ms[Math.floor((ms.length - 1) / 2)]!),
    minMs: r(ms[0]!),
    maxMs: r(ms.at(-1)!),
    roundTrips: r(ops.reduce((a, o) => a + o.commands.length, 0) / ops.length),
    docs: r(ops.reduce((a, o) => a + o.docs, 0) / ops.length),
  };
}

const bench: Bench = {
  description: "digest of a 100k-order day in a 3M-order store vs the cheapest query reading that day's orders",
  async run(ctx): Promise<BenchResult> {
    const logger = createLogger(process.env.LOG_LEVEL === "debug" ? "debug" : "warn", { scope: "bench" });
    const server = await startTestDatabase({ logger });
    ctx.log(`server: ${server.description}`);
    let conn: Connection | undefined;
    try {
      const ferret = server.kind === "ferretdb";
      const scale = process.env.BENCH_SCALE ? Number(process.env.BENCH_SCALE) : ferret ? 0.01 : 1;
      const sizes: Sizes = {
        orders: Math.round(FULL.orders * scale),
        perDay: Math.round(FULL.perDay * scale),
        products: Math.max(100, Math.round(FULL.products * scale)),
        complaintsPerDay: Math.max(10, Math.round(FULL.complaintsPerDay * scale)),
      };
      const runs = Number(process.env.BENCH_RUNS ?? (ferret ? 3 : 10));
      conn = await mongoose.createConnection(server.uri, { dbName: DB_NAME, autoIndex: false, monitorCommands: true }).asPromise();
      const data = await ensureData(conn.db!, sizes, ctx.log);
      const serverName = await labelServer(server.description, conn.db!);
      const config = loadConfig({ SHOP_TIMEZONE: "UTC", SHOP_CURRENCY: "USD" });
      const app = await createApp({ config, conn, clock: new FixedClock(`${addDays(DAY, 1)}T10:00:00Z`), logger: silentLogger });
      // Documents returned, counting each value a `distinct` returns as one (an index entry).
      const measure = monitor(conn, { docs: (r) => cursorDocs(r) + (Array.isArray(r?.values) ? r.values.length : 0) });
      const orders = conn.db!.collection("orders");

      let expectOrders = -1;
      const bare = async () => {
        const docs = await orders.find({ paidDay: DAY }, { projection: { total: 1 } }).toArray();
        if (docs.length !== sizes.perDay) throw new Error(`bare query read ${docs.length} orders, expected ${sizes.perDay}`);
      };
      const figures = async () => {
        const d = await app.services.digest.digest(DAY);
        if (expectOrders >= 0 && d.sales.day.orders !== expectOrders) throw new Error("digest figures changed between runs");
        expectOrders = d.sales.day.orders;
      };
      const command = async () => {
        const r = await app.core.invoke({ identity: "shell:bench", platform: "shell", text: `digest ${DAY}` });
        if (r.outcome !== "ok" || !r.reply.image) throw new Error(`digest: unexpected reply ${JSON.stringify(r.reply).slice(0, 300)}`);
      };
      await app.services.identity.grant("shell:bench", "manager", "bench");

      ctx.log(`warm-up, then ${runs} runs of each, interleaved`);
      await bare();
      await figures();
      await command();
      const B: Op[] = [], F: Op[] = [], C: Op[] = [];
      for (let i = 0; i < runs; i++) {
        B.push(await measure(bare));
        F.push(await measure(figures));
        C.push(await measure(command));
      }
      const b = stats(B), f = stats(F), c = stats(C);
      // Where the digest's time goes: its commands in the median run, by collection.
      const medianRun = [...F].sort((x, y) => x.ms - y.ms)[Math.floor((F.length - 1) / 2)]!;
      const breakdown = medianRun.detail.map((d) => `${d.command} ${d.collection}: ${Math.round(d.ms)} ms, ${d.docs} docs`);
      const ratio = { figures: Math.round((f.medianMs / b.medianMs) * 100) / 100, command: Math.round((c.medianMs / b.medianMs) * 100) / 100 };
      const fmt = (x: number) => x.toLocaleString("en");
      return {
        server: serverName,
        serverKind: server.kind,
        sizes,
        scale,
        fullSize: scale === 1,
        dataLoadSeconds: data.seconds,
        dataReused: data.reused,
        bare: b,
        figures: f,
        command: c,
        ratio,
        breakdown,
        summary: [
          `server: ${serverName}`,
          `data: ${fmt(sizes.orders)} orders over ${Math.round(sizes.orders / sizes.perDay)} days, ${fmt(sizes.perDay)} on the day, ${fmt(sizes.products)} products ` +
            `(${scale === 1 ? "full size" : `scale ${scale} of 3M / 100k`}; ${data.reused ? "reused" : `loaded in ${data.seconds} s`})`,
          `bare find({paidDay}) total only: median ${b.medianMs} ms (min ${b.minMs}, max ${b.maxMs}); ${b.roundTrips} round trips, ${fmt(b.docs)} docs`,
          `digest figures (service):        median ${f.medianMs} ms (min ${f.minMs}, max ${f.maxMs}); ${f.roundTrips} round trips, ${fmt(f.docs)} docs  ×${ratio.figures} of bare`,
          `"digest D" via core + chart PNG:  median ${c.medianMs} ms (min ${c.minMs}, max ${c.maxMs}); ${c.roundTrips} round trips  ×${ratio.command} of bare`,
          `digest's commands (median run, driver durations; concurrent ones overlap): ${breakdown.join("; ")}`,
        ],
      };
    } finally {
      await conn?.close().catch(() => {});
      if (server.owned) await server.stop();
    }
  },
};

export default bench;
