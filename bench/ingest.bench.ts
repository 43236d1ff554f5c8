/**
 * Ingestion: sustained order ingest over HTTP (16 concurrent clients posting batches to
 * /api/v1/orders, each order reserving stock and recording sales), compared with a bare
 * `insertMany` of the same order documents on the same server in the same run; then the bulk
 * import of a large JSONL file of orders, with the process's RSS sampled throughout.
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, full size (200k orders over
 * HTTP in batches of 100, a 1M-line import, 2,000 products); else the test server (FerretDB v1
 * on SQLite, where every query scans its whole collection and writes are serialized) scaled to
 * 0.16% (320 orders in batches of 20, 80 products; 500 import lines). BENCH_SCALE (fraction
 * of full size) overrides; BENCH_IMPORT_LINES sets the import's size alone.
 *
 * Then, on every server, a dry run (`--dry-run`: streamed and validated, nothing written) of a
 * 1M-line file, with RSS sampled: the reader's memory at full size, which the server's write
 * speed does not change. BENCH_DRYRUN_LINES sets its size (0 skips it).
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import os from "node:os";
import path from "node:path";
import mongoose, { type Connection } from "mongoose";
import { startHttpServer } from "../adapters/http/http.server.js";
import { loadConfig } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { localDay } from "../src/core/format.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { runImport } from "../src/import.js";
import { mulberry32 } from "../src/seed/demo-data.js";
import { createServices, type Services } from "../src/services/services.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { createStore, ensureIndexes } from "../src/store/models.js";
import { labelServer, type Bench, type BenchResult } from "./run.js";

const FULL = { products: 2_000, httpOrders: 200_000, importLines: 1_000_000 };
const DB_NAME = "shopops_bench_ingest";
const CLIENTS = 16;

interface OrderMsg {
  orderNo: string;
  status: "paid";
  customerId: string;
  createdAt: string;
  paidAt: string;
  items: { sku: string; qty: number; unitPrice: number }[];
}

function makeOrder(i: number, prefix: string, products: number, rnd: () => number): OrderMsg {
  const n = 1 + Math.floor(rnd() * 3);
  const created = Date.UTC(2026, 10, 1) + Math.floor(rnd() * 20 * 86_400_000);
  return {
    orderNo: `${prefix}-${1_000_000 + i}`,
    status: "paid",
    customerId: `CUST-${Math.floor(rnd() * 50_000)}`,
    createdAt: new Date(created).toISOString(),
    paidAt: new Date(created + 600_000).toISOString(),
    items: Array.from({ length: n }, () => ({ sku: `SKU-${1001 + Math.floor(rnd() * products)}`, qty: 1 + Math.floor(rnd() * 2), unitPrice: 300 + Math.floor(rnd() * 20000) })),
  };
}

/** The document the service stores for a message (for the bare insertMany baseline). */
function asDoc(m: OrderMsg) {
  const subtotal = m.items.reduce((s, i) => s + i.qty * i.unitPrice, 0);
  const createdAt = new Date(m.createdAt);
  const paidAt = new Date(m.paidAt);
  return {
    _id: m.orderNo,
    items: m.items,
    subtotal,
    discount: 0,
    shipping: 0,
    total: subtotal,
    currency: "USD",
    status: m.status,
    channel: "api",
    customerId: m.customerId,
    createdAt,
    day: localDay(createdAt, "UTC"),
    paidAt,
    paidDay: localDay(paidAt, "UTC"),
    refundedTotal: 0,
    refunds: [],
    history: [{ status: m.status, at: new Date(), by: "api:bench", note: "ingested" }],
    effects: {},
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const mb = (b: number) => Math.round(b / 1e6);

const bench: Bench = {
  description: "order ingest over HTTP (16 clients) vs bare insertMany; bulk import of a large JSONL file with RSS",
  async run(ctx): Promise<BenchResult> {
    const logger = createLogger(process.env.LOG_LEVEL === "debug" ? "debug" : "warn", { scope: "bench" });
    // Checked before the server starts, so a bad value leaves nothing running.
    const envScale = process.env.BENCH_SCALE;
    const server = await startTestDatabase({ logger });
    ctx.log(`server: ${server.description}`);
    const scale = envScale ? Number(envScale) : server.kind === "ferretdb" ? 0.0016 : 1;
    const BATCH = scale < 0.01 ? 20 : 100;
    const sizes = {
      products: Math.max(50, Math.round(FULL.products * Math.min(1, scale * 25))),
      httpOrders: Math.max(CLIENTS * BATCH, Math.round(FULL.httpOrders * scale)),
      // FerretDB imports at a few lines/s (every write scans): 500 lines unless BENCH_SCALE says.
      importLines: process.env.BENCH_IMPORT_LINES ? Number(process.env.BENCH_IMPORT_LINES) : server.kind === "ferretdb" && !envScale ? 500 : Math.max(100, Math.round(FULL.importLines * scale)),
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), "shopops-bench-"));
    let conn: Connection | undefined;
    let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
    try {
      conn = await mongoose.createConnection(server.uri, { dbName: DB_NAME, autoIndex: false, maxPoolSize: 8, monitorCommands: true }).asPromise();
      await conn.dropDatabase();
      const serverName = await labelServer(server.description, conn.db!);
      const config = loadConfig({ SHOP_CURRENCY: "USD", INGEST_BATCH_MAX: String(BATCH), INGEST_RATE_PER_SEC: "100000", INGEST_RATE_BURST: "100000", HTTP_BODY_LIMIT: String(4 * 1024 * 1024) });
      const store = createStore(conn);
      await ensureIndexes(store);
      const services = createServices(store, systemClock, config, silentLogger);
      const now = new Date();
      await conn.db!.collection("products").insertMany(
        Array.from({ length: sizes.products }, (_, i) => ({
          _id: `SKU-${1001 + i}` as never,
          name: `Product ${i}`,
          category: "Bench",
          price: 1000,
          cost: 500,
          currency: "USD",
          onHand: 1_000_000,
          reserved: 0,
          available: 1_000_000,
          reorderPoint: 10,
          leadTimeDays: 7,
          supplier: "",
          active: true,
          salesByDay: {},
          appliedKeys: [],
          createdAt: now,
          updatedAt: now,
        })),
      );
      const { token } = await services.apiKeys.create("bench", ["orders"], "bench");
      http = await startHttpServer({ services, config, logger: silentLogger }, 0, "127.0.0.1");
      const url = `http://127.0.0.1:${http.port}/api/v1/orders`;

      // Same documents for both: generated once.
      const rnd = mulberry32(99);
      const msgs = Array.from({ length: sizes.httpOrders }, (_, i) => makeOrder(i, "H", sizes.products, rnd));
      const batches: OrderMsg[][] = [];
      for (let i = 0; i < msgs.length; i += BATCH) batches.push(msgs.slice(i, i + BATCH));

      // Round trips do not depend on the server: count the commands each phase sends.
      let commands = 0;
      // Documents written (inserted, modified, upserted, deleted) do not depend on the server either.
      let statements = 0;
      conn.getClient().on("commandStarted", () => commands++);
      conn.getClient().on("commandSucceeded", (e) => {
        if (!["insert", "update", "delete"].includes(e.commandName)) return;
        const r = e.reply as { n?: number; nModified?: number; upserted?: unknown[] };
        statements += e.commandName === "update" ? (r.nModified ?? 0) + (r.upserted?.length ?? 0) : (r.n ?? 0);
      });
      ctx.log(`HTTP: ${sizes.httpOrders} orders in batches of ${BATCH}, ${CLIENTS} clients`);
      let next = 0;
      let failed = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let b = next++; b < batches.length; b = next++) {
            const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(batches[b]) }).catch((e: Error) => {
              throw new Error(`batch ${b}: ${e.message} (${String((e.cause as Error | undefined)?.message ?? e.cause)})`);
            });
            const body = (await res.json()) as { summary?: { created: number }; results?: unknown[] };
            if (res.status !== 200 || body.summary?.created !== batches[b]!.length) ctx.log(`batch ${b}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
            if (res.status !== 200 || body.summary?.created !== batches[b]!.length) failed++;
          }
        }),
      );
      const httpSecs = Number(process.hrtime.bigint() - t0) / 1e9;
      const httpTrips = commands / sizes.httpOrders;
      const httpStatements = statements / sizes.httpOrders;
      commands = 0;
      statements = 0;
      if (failed) throw new Error(`${failed} HTTP batches did not create every order`);
      const httpRate = sizes.httpOrders / httpSecs;

      ctx.log("bare insertMany of the same documents");
      const bare = conn.db!.collection("orders_bare");
      let nb = 0;
      const t1 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let b = nb++; b < batches.length; b = nb++) await bare.insertMany(batches[b]!.map(asDoc) as never[], { ordered: false });
        }),
      );
      const bareSecs = Number(process.hrtime.bigint() - t1) / 1e9;
      const bareTrips = commands / sizes.httpOrders;
      const bareStatements = statements / sizes.httpOrders;
      const bareRate = sizes.httpOrders / bareSecs;
      // Check: every order reserved its stock once.
      const units = msgs.reduce((s, m) => s + m.items.reduce((t, i) => t + i.qty, 0), 0);
      const reserved = (await store.products.find({}).select({ reserved: 1 }).lean<{ reserved: number }[]>()).reduce((s, p) => s + p.reserved, 0);
      if (reserved !== units) throw new Error(`reserved ${reserved} units, expected ${units}`);

      // Import: a JSONL file of new orders, streamed; then a dry run (validation only, nothing
      // written) over a file of the full 1M lines: the reader's memory at full size, whatever
      // the server's write speed.
      const imp = await measureImport(path.join(dir, "orders.jsonl"), sizes.importLines, false, sizes.products, services, ctx.log);
      if (imp.report.failed || imp.report.imported !== sizes.importLines) throw new Error(`import: ${imp.report.imported} imported, ${imp.report.failed} failed`);
      const dryLines = process.env.BENCH_DRYRUN_LINES !== undefined ? Number(process.env.BENCH_DRYRUN_LINES) : FULL.importLines;
      const dry = dryLines > 0 ? await measureImport(path.join(dir, "dry.jsonl"), dryLines, true, sizes.products, services, ctx.log) : undefined;
      if (dry && (dry.report.failed || dry.report.skipped !== dryLines)) throw new Error(`dry run: ${dry.report.skipped} valid, ${dry.report.failed} failed`);

      const ratio = Number((httpRate / bareRate).toPrecision(2));
      const full = scale === 1;
      const summary = [
        `server: ${serverName}${full ? "" : ` — scaled to ${scale} of full size`}`,
        `HTTP ingest: ${sizes.httpOrders.toLocaleString("en")} orders (${CLIENTS} clients, batches of ${BATCH}, ${sizes.products} products): ${Math.round(httpRate)} orders/s`,
        `bare insertMany of the same documents: ${Math.round(bareRate)} orders/s → ratio ${ratio}x (target ≥ 0.3x)`,
        `database round trips per order: HTTP ingest ${httpTrips.toFixed(2)}, bare insertMany ${bareTrips.toFixed(3)}`,
        `documents written per order (each update a full collection scan on FerretDB, an index lookup on MongoDB): HTTP ingest ${httpStatements.toFixed(2)}, bare insertMany ${bareStatements.toFixed(2)}`,
        `import: ${sizes.importLines.toLocaleString("en")} JSONL lines in ${r1(imp.report.seconds)} s: ${imp.linesPerSec} lines/s`,
        `RSS during import: ${rssLine(imp.rssMB)}`,
        ...(dry
          ? [
              `dry run (validation only): ${dryLines.toLocaleString("en")} JSONL lines (${mb(dry.bytes)} MB) in ${r1(dry.report.seconds)} s: ${dry.linesPerSec} lines/s`,
              `RSS during the dry run: ${rssLine(dry.rssMB)}`,
            ]
          : []),
      ];
      return {
        server: serverName,
        summary,
        scale,
        sizes,
        http: { ordersPerSec: Math.round(httpRate), seconds: r1(httpSecs), roundTripsPerOrder: Number(httpTrips.toFixed(2)), docsWrittenPerOrder: Number(httpStatements.toFixed(2)) },
        bare: { ordersPerSec: Math.round(bareRate), seconds: r1(bareSecs), roundTripsPerOrder: Number(bareTrips.toFixed(3)), docsWrittenPerOrder: Number(bareStatements.toFixed(2)) },
        ratio,
        import: { linesPerSec: imp.linesPerSec, seconds: r1(imp.report.seconds), rssMB: imp.rssMB },
        ...(dry ? { dryRun: { lines: dryLines, fileMB: mb(dry.bytes), linesPerSec: dry.linesPerSec, seconds: r1(dry.report.seconds), rssMB: dry.rssMB } } : {}),
      };
    } finally {
      await http?.close();
      await conn?.dropDatabase().catch(() => {});
      await conn?.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

type RssMB = { start: number; firstQuarterPeak: number; lastQuarterPeak: number; peak: number };

function rssLine(r: RssMB): string {
  return `start ${r.start} MB, peak in first quarter ${r.firstQuarterPeak} MB, in last quarter ${r.lastQuarterPeak} MB, overall peak ${r.peak} MB`;
}

/** Writes `lines` new orders as JSONL to `file`, imports it (or dry-runs it), sampling RSS every 250 ms. */
async function measureImport(file: string, lines: number, dryRun: boolean, products: number, services: Services, log: (l: string) => void) {
  log(`writing ${lines} lines to ${file}`);
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    const r = mulberry32(dryRun ? 11 : 7);
    let i = 0;
    const write = () => {
      let ok = true;
      while (i < lines && ok) ok = out.write(JSON.stringify(makeOrder(i++, dryRun ? "D" : "I", products, r)) + "\n");
      if (i < lines) out.once("drain", write);
      else out.end(resolve);
    };
    out.on("error", reject);
    write();
  });
  const rss: number[] = [];
  global.gc?.();
  const start = process.memoryUsage().rss;
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);
  log(dryRun ? "dry run" : "importing");
  const report = await runImport({ kind: "orders", file, ingest: services.ingest, progress: process.stderr, dryRun });
  clearInterval(sampler);
  rss.push(process.memoryUsage().rss);
  const q = Math.max(1, Math.floor(rss.length / 4));
  return {
    report,
    bytes: (await stat(file)).size,
    linesPerSec: Math.round(lines / report.seconds),
    rssMB: { start: mb(start), firstQuarterPeak: mb(Math.max(...rss.slice(0, q))), lastQuarterPeak: mb(Math.max(...rss.slice(-q))), peak: mb(Math.max(...rss)) } satisfies RssMB,
  };
}

export default bench;
