/**
 * Stock lookup by SKU through the real command core (`stock SKU-…` as a shell viewer) against a
 * shop of 100k products and 1M orders, compared with a bare `findOne({_id})` on the same server in
 * the same run.
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, in database `shopops_bench`, full
 * size; else the test server (FerretDB v1 on SQLite here, where every query scans the whole
 * collection) with the data scaled to 10%. BENCH_SCALE (fraction of full size) overrides.
 * BENCH_LOOKUPS sets the number of measured lookups (default 200).
 */
import mongoose, { type Connection } from "mongoose";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { addDays, localDay } from "../src/core/format.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { mulberry32 } from "../src/seed/demo-data.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { cursorDocs, monitor, percentile, secondsSince, type Op } from "./measure.js";
import type { Bench, BenchResult } from "./run.js";

// The driver types of mongoose's own copy of mongodb (a top-level mongodb may be another version).
type Db = mongoose.mongo.Db;
type Document = mongoose.mongo.Document;

const FULL = { products: 100_000, orders: 1_000_000 };
const DB_NAME = "shopops_bench";
const DATA_VERSION = 1;
const BATCH = 10_000;
const WARMUP = 20;
const CATEGORIES = ["Electronics", "Home & Kitchen", "Apparel", "Beauty", "Sports", "Toys", "Office", "Grocery"];
const NOUNS = ["Wireless Mouse", "Water Bottle", "T-Shirt", "Face Serum", "Yoga Mat", "Puzzle", "Notebook", "Coffee Beans"];
const CHANNELS = ["web", "app", "marketplace", "pos"];

const sku = (i: number): string => `SKU-${1001 + i}`;

/** Loads products and orders unless the same data is already there (reuse on a real server). */
async function ensureData(db: Db, sizes: { products: number; orders: number }, log: (l: string) => void): Promise<{ reused: boolean; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const meta = await db.collection<{ _id: string; value: Document }>("meta").findOne({ _id: "bench:stock-lookup" });
  if (meta && meta.value.version === DATA_VERSION && meta.value.products === sizes.products && meta.value.orders === sizes.orders) {
    return { reused: true, seconds: 0 };
  }
  await db.dropDatabase();
  const rnd = mulberry32(20261125);
  const int = (min: number, max: number): number => min + Math.floor(rnd() * (max - min + 1));
  const today = localDay(new Date(), "UTC");
  const salesDays = Array.from({ length: 30 }, (_, i) => addDays(today, -(i + 1)));
  const orderDays = Array.from({ length: 90 }, (_, i) => addDays(today, -(i + 1)));
  const now = new Date();

  const products = db.collection("products");
  for (let start = 0; start < sizes.products; start += BATCH) {
    const docs: Document[] = [];
    for (let i = start; i < Math.min(sizes.products, start + BATCH); i++) {
      const price = int(300, 30000);
      const onHand = int(0, 400);
      const reserved = Math.min(onHand, int(0, 5));
      const salesByDay: Record<string, number> = {};
      for (const d of salesDays) salesByDay[d] = int(0, 8);
      docs.push({
        _id: sku(i),
        name: `${NOUNS[i % NOUNS.length]} ${i}`,
        category: CATEGORIES[i % CATEGORIES.length],
        price,
        cost: Math.round(price * 0.5),
        currency: "USD",
        onHand,
        reserved,
        available: onHand - reserved,
        reorderPoint: int(5, 40),
        leadTimeDays: int(3, 30),
        supplier: `Supplier ${i % 50}`,
        active: true,
        salesByDay,
        appliedKeys: [],
        createdAt: now,
        updatedAt: now,
      });
    }
    await products.insertMany(docs, { ordered: false });
  }
  log(`products: ${sizes.products.toLocaleString("en")} in ${secondsSince(t0)} s`);

  const orders = db.collection("orders");
  for (let start = 0; start < sizes.orders; start += BATCH) {
    const docs: Document[] = [];
    for (let i = start; i < Math.min(sizes.orders, start + BATCH); i++) {
      const n = int(1, 3);
      const items = Array.from({ length: n }, () => ({ sku: sku(int(0, sizes.products - 1)), qty: int(1, 2), unitPrice: int(300, 30000) }));
      const subtotal = items.reduce((s, it) => s + it.qty * it.unitPrice, 0);
      const day = orderDays[int(0, orderDays.length - 1)]!;
      const createdAt = new Date(Date.parse(`${day}T00:00:00Z`) + int(0, 86_399_999));
      const paidAt = new Date(createdAt.getTime() + int(1, 30) * 60_000);
      docs.push({
        _id: `ORD-${1_000_001 + i}`,
        items,
        subtotal,
        discount: 0,
        shipping: 0,
        total: subtotal,
        currency: "USD",
        status: "delivered",
        channel: CHANNELS[i % CHANNELS.length],
        customerId: `CUST-${int(10001, 10001 + Math.max(1, Math.floor(sizes.orders / 3)))}`,
        createdAt,
        paidAt,
        day,
        paidDay: localDay(paidAt, "UTC"),
      });
    }
    await orders.insertMany(docs, { ordered: false });
    if ((start / BATCH) % 10 === 9) log(`orders: ${(start + BATCH).toLocaleString("en")} / ${sizes.orders.toLocaleString("en")} (${secondsSince(t0)} s)`);
  }
  await db
    .collection("meta")
    .updateOne({ _id: "bench:stock-lookup" } as Document, { $set: { value: { version: DATA_VERSION, ...sizes } } }, { upsert: true });
  const seconds = Number(secondsSince(t0));
  log(`data loaded in ${seconds} s`);
  return { reused: false, seconds };
}

/** Documents in a command reply (cursor batches, findAndModify value). */
function docsIn(reply: Document | undefined): number {
  if (!reply) return 0;
  if (reply.cursor) return cursorDocs(reply);
  if ("value" in reply) return reply.value ? 1 : 0;
  return 0;
}

function summarize(ops: Op[]) {
  const ms = ops.map((o) => o.ms).sort((a, b) => a - b);
  const outside = ops.map((o) => Math.max(0, o.ms - o.dbMs)).sort((a, b) => a - b);
  const r = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  const shapes = new Map<string, number>();
  for (const o of ops) shapes.set(o.commands.join(" + "), (shapes.get(o.commands.join(" + ")) ?? 0) + 1);
  return {
    n: ops.length,
    p50Ms: r(percentile(ms, 50)),
    p99Ms: r(percentile(ms, 99)),
    meanMs: r(ms.reduce((a, b) => a + b, 0) / ms.length),
    maxMs: r(ms.at(-1)!),
    /** Time not spent waiting for the database (driver-reported command durations subtracted). */
    outsideDbP50Ms: r(percentile(outside, 50)),
    roundTripsPerOp: r(ops.reduce((a, o) => a + o.commands.length, 0) / ops.length, 2),
    docsPerOp: r(ops.reduce((a, o) => a + o.docs, 0) / ops.length, 2),
    commands: [...shapes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ×${n}`),
  };
}

const bench: Bench = {
  description: "stock lookup by SKU through the core vs a bare findOne({_id}) (p50/p99, round trips, documents)",
  async run(ctx): Promise<BenchResult> {
    const logger = createLogger(process.env.LOG_LEVEL === "debug" ? "debug" : "warn", { scope: "bench" });
    const server = await startTestDatabase({ logger });
    ctx.log(`server: ${server.description}`);
    let conn: Connection | undefined;
    let loader: Connection | undefined;
    try {
      const envScale = process.env.BENCH_SCALE;
      const scale = envScale ? Number(envScale) : server.kind === "ferretdb" ? 0.1 : 1;
      const sizes = { products: Math.max(10, Math.round(FULL.products * scale)), orders: Math.round(FULL.orders * scale) };
      const lookups = Number(process.env.BENCH_LOOKUPS ?? 200);

      loader = await mongoose.createConnection(server.uri, { dbName: DB_NAME, autoIndex: false }).asPromise();
      const data = await ensureData(loader.db!, sizes, ctx.log);
      await loader.close();
      loader = undefined;

      conn = await mongoose.createConnection(server.uri, { dbName: DB_NAME, autoIndex: false, monitorCommands: true }).asPromise();
      const config = loadConfig({});
      const tIdx = process.hrtime.bigint();
      const app = await createApp({ config, conn, clock: systemClock, logger: silentLogger });
      const indexSeconds = Number(secondsSince(tIdx));
      const raw = conn.db!.collection<{ _id: string }>("products");
      const measure = monitor(conn, {
        describe: (e) => `${e.commandName} ${String(e.command[e.commandName] ?? "")}`.trim(),
        docs: docsIn,
      });

      const rnd = mulberry32(7);
      const pick = (): string => sku(Math.floor(rnd() * sizes.products));
      const core = async (s: string): Promise<void> => {
        const r = await app.core.invoke({ identity: "shell:bench", platform: "shell", text: `stock ${s}` });
        if (r.outcome !== "ok" || !r.reply.title?.includes(s)) throw new Error(`stock ${s}: unexpected reply ${JSON.stringify(r.reply).slice(0, 300)}`);
      };
      const bare = async (s: string): Promise<void> => {
        const d = await raw.findOne({ _id: s });
        if (!d) throw new Error(`findOne ${s}: not found`);
      };

      ctx.log(`warm-up (${WARMUP} each), then ${lookups} lookups each, interleaved`);
      for (let i = 0; i < WARMUP; i++) {
        await bare(pick());
        await core(pick());
      }
      const coreOps: Op[] = [];
      const bareOps: Op[] = [];
      for (let i = 0; i < lookups; i++) {
        const s = pick();
        // Alternate which goes first, so neither always meets a warm cache for this SKU.
        if (i % 2 === 0) {
          bareOps.push(await measure(() => bare(s)));
          coreOps.push(await measure(() => core(s)));
        } else {
          coreOps.push(await measure(() => core(s)));
          bareOps.push(await measure(() => bare(s)));
        }
      }
      const c = summarize(coreOps);
      const b = summarize(bareOps);
      const ratio = { p50: Math.round((c.p50Ms / b.p50Ms) * 100) / 100, p99: Math.round((c.p99Ms / b.p99Ms) * 100) / 100 };
      const fullSize = sizes.products === FULL.products && sizes.orders === FULL.orders;
      const fmt = (n: number) => n.toLocaleString("en");
      return {
        server: server.description,
        serverKind: server.kind,
        sizes,
        scale,
        fullSize,
        dataLoadSeconds: data.seconds,
        dataReused: data.reused,
        indexSeconds,
        lookups,
        core: c,
        bare: b,
        ratio,
        summary: [
          `server: ${server.description}`,
          `data: ${fmt(sizes.products)} products, ${fmt(sizes.orders)} orders (${fullSize ? "full size" : `scale ${scale} of 100k/1M`}; ` +
            `${data.reused ? "reused" : `loaded in ${data.seconds} s`}; createApp/indexes ${indexSeconds} s)`,
          `core "stock SKU-…":    p50 ${c.p50Ms} ms  p99 ${c.p99Ms} ms  mean ${c.meanMs} ms  (outside the DB p50 ${c.outsideDbP50Ms} ms)`,
          `bare findOne({_id}):  p50 ${b.p50Ms} ms  p99 ${b.p99Ms} ms  mean ${b.meanMs} ms`,
          `ratio core/bare:      p50 ×${ratio.p50}  p99 ×${ratio.p99}`,
          `round trips per op:   core ${c.roundTripsPerOp} [${c.commands.join("; ")}], bare ${b.roundTripsPerOp}`,
          `documents per op:     core ${c.docsPerOp}, bare ${b.docsPerOp}`,
        ],
      };
    } finally {
      await loader?.close().catch(() => {});
      await conn?.close().catch(() => {});
      if (server.owned) await server.stop();
    }
  },
};

export default bench;
