/**
 * What a user sees from the real entry points, as processes: a bot stopping while a job runs
 * (which job it waits for, Ctrl-C to stop now, exit 130; or the job interrupted and recorded), a
 * MONGODB_URI where nothing listens, and `npm run import` stopped after its last line was read.
 * A job or an import is held mid-way by a TCP relay in front of the test database that stops
 * passing a connection's bytes once it sees a marker.
 */
import type { ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { shellIdentity } from "../src/core/identity.js";
import { LOW_WATERMARK } from "../src/services/stock.service.js";
import { createStore, type Store } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { startScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { holdingRelay } from "./helpers/relay.js";

const SPAWNS_TIMEOUT = 180_000;

let db: TestDb;
let store: Store;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  db = await connectTestDb();
  store = createStore(db.conn);
  await store.products.insertMany([product("E17-A", { onHand: 100 }), product("E17-B", { onHand: 3 })]);
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-e17-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await db.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Starts `script` (src/main.ts, src/import.ts) with `args` and `env` added to a clean environment. */
function start(script: string, args: string[], env: Record<string, string>) {
  const run = startScript(script, args, { LOG_LEVEL: "error", ...env });
  children.push(run.child);
  return run;
}

/** Waits until `text()` matches `re` (output lines, not time, decide). */
const waitFor = (text: () => string, re: RegExp) => vi.waitFor(() => expect(text()).toMatch(re), { timeout: 60_000, interval: 100 });

/** A bot (HTTP only, no chat platform) that runs low-stock at start-up, its scan held in its first read. */
async function botWithHeldScan(env: Record<string, string> = {}) {
  const relay = await holdingRelay(db.processUri, LOW_WATERMARK); // the scan's first query reads the watermark
  // The daily jobs due on 1 January only and not caught up: the daily digest, due since its hour
  // each day, would otherwise run at start-up too, and its read of the watermark be the one held.
  const quiet = { JOBS_CATCH_UP: "false", DIGEST_CRON: "0 0 1 1 *", HOUSEKEEPING_CRON: "0 0 1 1 *" };
  const bot = start("src/main.ts", [], { MONGODB_URI: relay.uri, HTTP_PORT: "0", LOW_STOCK_CRON: "* * * * *", SHOPOPS_ADMINS: shellIdentity(), ...quiet, ...env });
  await relay.seen;
  return { relay, bot };
}

describe("a bot stopping while a job runs (SIGTERM, then Ctrl-C)", () => {
  it("says which job it waits for and that Ctrl-C stops now; a Ctrl-C then stops it at once, exit 130", { timeout: SPAWNS_TIMEOUT }, async () => {
    const { relay, bot } = await botWithHeldScan();
    try {
      await waitFor(bot.err, /HTTP on http:\/\/127\.0\.0\.1:\d+/);
      bot.child.kill("SIGTERM");
      await waitFor(bot.err, /shopops: stopping: waiting for .*low-stock \(running \d+ s\).* to finish \(up to 10 s, then it is interrupted and run again later; Ctrl-C to stop now\)/);
      await sleep(1_200); // a second key press, not npm's echo of the first
      bot.child.kill("SIGINT");
      expect(await bot.code).toBe(130);
      expect(bot.err()).not.toContain("interrupted and recorded");
    } finally {
      relay.close();
    }
  });

  it("without a Ctrl-C, the job is interrupted after the grace and recorded so, said in Chinese to a zh-CN shop; exit 0", { timeout: SPAWNS_TIMEOUT }, async () => {
    // The slot the first test's bot left claimed (stopped at once, unrecorded) would not be run again until its lease ends.
    await store.jobRuns.deleteMany({});
    const { relay, bot } = await botWithHeldScan({ SHOP_LOCALE: "zh-CN" });
    try {
      await waitFor(bot.err, /HTTP 服务：http:\/\/127\.0\.0\.1:\d+/);
      bot.child.kill("SIGTERM");
      await waitFor(bot.err, /shopops: 正在退出：等待 .*low-stock（已运行 \d+ 秒）.*完成（最多 10 秒，之后将其中断、稍后重跑；按 Ctrl-C 立即退出）/);
      // After the 10 s grace the run is interrupted and recorded so (over another connection)…
      await vi.waitFor(async () => expect(await store.jobRuns.findOne({ job: "low-stock" }).lean()).toMatchObject({ status: "failed", errorCode: "shutdown" }), { timeout: 60_000, interval: 200 });
      // …and its scan, its read answered at last, stops there rather than going on.
      relay.release();
      await waitFor(bot.err, /shopops: 已退出：low-stock 被中断，已记录/);
      expect(await bot.code).toBe(0);
      expect(await store.products.countDocuments({ lowDay: { $exists: true } })).toBe(0);
    } finally {
      relay.close();
    }
  });
});

describe("MONGODB_URI where nothing listens", () => {
  it("stops start-up within seconds saying nothing answers there (connection refused), without the password; exit 78", { timeout: SPAWNS_TIMEOUT }, async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const bot = start("src/main.ts", ["shell", "-c", "whoami"], { MONGODB_URI: `mongodb://ops:Secr3tPw@127.0.0.1:${port}/shop`, MONGODB_CONNECT_TIMEOUT_SECONDS: "60" });
    expect(await bot.code).toBe(78);
    expect(bot.err()).toContain(`MONGODB_URI: cannot use MongoDB at mongodb://127.0.0.1:${port}/shop: nothing answers at 127.0.0.1:${port} (connection refused). Check that the database server is running`);
    // Not the line of a slow server it waits 60 s for.
    expect(bot.err()).not.toContain("giving up after");
    expect(bot.err()).not.toContain("Secr3tPw");
  });
});

describe("npm run import stopped after its last line was read", () => {
  it("finishes the last batch and its report says the import finished, nothing to run again; exit as without the signal", { timeout: SPAWNS_TIMEOUT }, async () => {
    const lines = ["E17-IMP-1", "E17-IMP-2", "E17-IMP-LAST"].map((no) => JSON.stringify({ orderNo: no, customerId: "c17", status: "paid", paidAt: "2026-11-24T03:00:00Z", items: [{ sku: "E17-A", qty: 1, unitPrice: 700 }] }));
    const file = path.join(dir, "orders.jsonl");
    await fsp.writeFile(file, lines.join("\n") + "\n");
    const relay = await holdingRelay(db.processUri, "E17-IMP-LAST"); // the batch of every line, on its way to the database
    try {
      const run = start("src/import.ts", ["orders", file], { MONGODB_URI: relay.uri, SHOPOPS_ADMINS: shellIdentity() });
      await relay.seen;
      run.child.kill("SIGINT");
      await waitFor(run.err, /import: SIGINT: stopping after the lines in progress/);
      relay.release();
      expect(await run.code).toBe(0);
      expect(run.out()).toContain("Import of orders from");
      expect(run.out()).toContain("imported: 3");
      expect(run.out()).toContain("SIGINT came after every line was read: the import finished (the lines in progress were the last ones); nothing is left to run again.");
      expect(run.out()).not.toContain("Stopped after");
      expect(await store.orders.countDocuments({ _id: { $in: ["E17-IMP-1", "E17-IMP-2", "E17-IMP-LAST"] } })).toBe(3);
    } finally {
      relay.close();
    }
  });
});
