/**
 * Slack HTTP receiver under a burst: 100 concurrent signed `/stock <sku>` slash commands against
 * the real Bolt HTTP receiver (answers through response_url to the local Slack peer), in one run:
 * - every ack is under Slack's 3 s limit (the run fails otherwise), with p50/p99/max of the ack;
 * - end to end (request sent → response_url received) p50/p99, and also ack → response;
 * - the same 100 `stock <sku>` commands through the core alone at the same concurrency, and the
 *   ratio end-to-end ÷ core alone (what the adapter, HTTP and Block Kit add).
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, else the test server (FerretDB v1 on
 * SQLite here). Data: 200 products in database `shopops_bench_slack` (a lookup by `_id`).
 * BENCH_SLACK_REQUESTS sets the burst size (default 100).
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import mongoose from "mongoose";
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { SlackPeer } from "../test/peers/slack-peer.js";
import { percentile } from "./measure.js";
import type { Bench, BenchResult } from "./run.js";

/** One request of the burst, as the worker measured it (ms). */
interface Shot {
  status: number;
  ackMs: number;
  e2eMs: number;
  ackToRespMs: number;
  ok: boolean;
}

// Plain JavaScript (a worker with eval: true is not compiled by tsx). Times are absolute
// (timeOrigin + now) so they compare across requests; each request gets its own response_url.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { createHmac } = require("node:crypto");
const { url, secret, team, users, products } = workerData;
const clock = () => performance.timeOrigin + performance.now();
const arrived = new Map();
const waiters = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const at = clock();
    const id = req.url.slice("/respond/".length);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    arrived.set(id, { at, body });
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    const w = waiters.get(id);
    if (w) w();
  });
});
const ready = new Promise((r) => server.listen(0, "127.0.0.1", r));
const sku = (i) => "SKU-" + (1001 + ((i * 37) % products));
async function one(i) {
  await ready;
  const id = String(i);
  const responseUrl = "http://127.0.0.1:" + server.address().port + "/respond/" + id;
  const body = new URLSearchParams({ token: "x", team_id: team, team_domain: "bench", channel_id: "C0BENCH", channel_name: "bench",
    user_id: "UB" + (i % users), user_name: "u", command: "/stock", text: sku(i), api_app_id: "A0", response_url: responseUrl, trigger_id: "1.2.3" }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const sig = "v0=" + createHmac("sha256", secret).update("v0:" + ts + ":" + body).digest("hex");
  const got = new Promise((r) => (arrived.has(id) ? r() : waiters.set(id, r)));
  const t0 = clock();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": sig }, body });
  await res.text();
  const tAck = clock();
  await got;
  const a = arrived.get(id);
  return { status: res.status, ackMs: tAck - t0, e2eMs: a.at - t0, ackToRespMs: a.at - tAck, ok: JSON.stringify(a.body.blocks || "").includes(sku(i)) };
}
parentPort.on("message", async ({ n, from }) => {
  const out = await Promise.all(Array.from({ length: n }, (_, k) => one(from + k)));
  parentPort.postMessage(out);
});
`;

const SECRET = "bench-signing-secret-0123";
const TEAM = "T0BENCH";
const PRODUCTS = 200;
const USERS = 10;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const now = () => performance.now();

const bench: Bench = {
  description: "100 concurrent signed /stock <sku> requests against the Slack HTTP receiver: ack times and end-to-end vs the core alone",
  async run(ctx): Promise<BenchResult> {
    const n = Number(process.env.BENCH_SLACK_REQUESTS ?? 100);
    const server = await startTestDatabase({ logger: silentLogger });
    ctx.log(`server: ${server.description}`);
    const conn = await mongoose.createConnection(server.uri, { dbName: "shopops_bench_slack", autoIndex: false }).asPromise();
    const peer = await new SlackPeer(TEAM).start();
    let adapter: SlackAdapter | undefined;
    try {
      await conn.dropDatabase();
      // A few users send the whole burst: the per-person chat limit is lifted for the bench.
      const config = loadConfig({ SLACK_BOT_TOKEN: "xoxb-bench-token", SLACK_SIGNING_SECRET: SECRET, LOG_LEVEL: "error", CHAT_RATE_BURST: "100000", CHAT_RATE_PER_MIN: "100000" });
      const app = await createApp({ config, conn, clock: systemClock, logger: silentLogger });
      const t = new Date();
      await app.store.products.insertMany(
        Array.from({ length: PRODUCTS }, (_, i) => ({ _id: `SKU-${1001 + i}`, name: `Product ${i}`, category: "Home", price: 990, cost: 400, currency: "USD", onHand: 50, reserved: 0, available: 50, reorderPoint: 10, leadTimeDays: 7, supplier: "Acme", active: true, createdAt: t, updatedAt: t })),
      );
      for (let u = 0; u < USERS; u++) peer.users.set(`UB${u}`, { id: `UB${u}`, name: `user${u}` });
      adapter = new SlackAdapter({ core: app.core, services: app.services, config, logger: createLogger("error"), slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" } });
      const { port } = await adapter.start();
      const url = `http://127.0.0.1:${port}/slack/events`;
      const sku = (i: number) => `SKU-${1001 + ((i * 37) % PRODUCTS)}`;

      // Slack's side of the burst (the signed requests and the response_url endpoint) runs in a
      // worker thread, so its own work does not delay the bot's event loop or its clock readings.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url, secret: SECRET, team: TEAM, users: USERS, products: PRODUCTS } });
      const ask = (msg: { n: number; from: number }) =>
        new Promise<Shot[]>((resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
          worker.postMessage(msg);
        });
      // Inside the bot: from the request parsed by node:http to the ack written (Bolt's 200).
      const inBot: number[] = [];
      let recording = false;
      adapter.httpServer!.prependListener("request", (_req, res) => {
        const s = now();
        res.on("finish", () => recording && inBot.push(now() - s));
      });
      let results: Shot[];
      let burstSeconds: number;
      try {
        await ask({ n: 20, from: 0 }); // warm-up: connections, code paths, every display name cached
        const t0 = now();
        recording = true;
        results = await ask({ n, from: 1000 });
        recording = false;
        burstSeconds = (now() - t0) / 1000;
        await adapter.idle();
      } finally {
        await worker.terminate();
      }

      const coreOne = async (i: number) => {
        const s = now();
        const r = await app.core.invoke({ identity: `slack:${TEAM}:UB${i % USERS}`, platform: "slack", text: `stock ${sku(i)}` });
        if (r.outcome !== "ok") throw new Error(`core: ${r.reply.text}`);
        return now() - s;
      };
      const coreConcurrent = (await Promise.all(Array.from({ length: n }, (_, i) => coreOne(i)))).sort((a, b) => a - b);
      const coreSequential: number[] = [];
      for (let i = 0; i < n; i++) coreSequential.push(await coreOne(i));
      coreSequential.sort((a, b) => a - b);

      const bad = results.filter((r) => r.status !== 200 || !r.ok);
      const acks = results.map((r) => r.ackMs).sort((a, b) => a - b);
      const e2e = results.map((r) => r.e2eMs).sort((a, b) => a - b);
      const ackToResp = results.map((r) => r.ackToRespMs).sort((a, b) => a - b);
      inBot.sort((a, b) => a - b);
      const late = acks.filter((a) => a >= 3000).length;
      if (bad.length || late) throw new Error(`${bad.length} requests failed or answered wrongly, ${late} acks took 3 s or more`);

      const ratioP50 = percentile(e2e, 50) / percentile(coreConcurrent, 50);
      const ratioP99 = percentile(e2e, 99) / percentile(coreConcurrent, 99);
      const ratioSeq = percentile(e2e, 50) / percentile(coreSequential, 50);
      return {
        server: server.description,
        requests: n,
        burstSeconds,
        ack: { p50: percentile(acks, 50), p99: percentile(acks, 99), max: acks.at(-1)!, under3s: n - late },
        ackInBot: { p50: percentile(inBot, 50), p99: percentile(inBot, 99), max: inBot.at(-1)! },
        endToEnd: { p50: percentile(e2e, 50), p99: percentile(e2e, 99), max: e2e.at(-1)! },
        ackToResponse: { p50: percentile(ackToResp, 50), p99: percentile(ackToResp, 99) },
        coreConcurrent: { p50: percentile(coreConcurrent, 50), p99: percentile(coreConcurrent, 99) },
        coreSequential: { p50: percentile(coreSequential, 50), p99: percentile(coreSequential, 99) },
        ratio: { p50: ratioP50, p99: ratioP99, p50VsSequentialCore: ratioSeq },
        summary: [
          `server: ${server.description}; ${PRODUCTS} products, ${USERS} users; ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at the end (bot, Slack side and database share them)`,
          `${n} concurrent signed /stock requests in ${burstSeconds.toFixed(2)} s: every ack under 3 s (${n - late}/${n}), all answered correctly`,
          `ack (HTTP 200 from Bolt): p50 ${ms(percentile(acks, 50))}, p99 ${ms(percentile(acks, 99))}, max ${ms(acks.at(-1)!)}`,
          `  of which inside the bot (request parsed → ack written): p50 ${ms(percentile(inBot, 50))}, p99 ${ms(percentile(inBot, 99))}; the rest is queueing before node:http has read the request (one event loop; CPUs shared with the database and the sender)`,
          `end to end (request → response_url received): p50 ${ms(percentile(e2e, 50))}, p99 ${ms(percentile(e2e, 99))}; ack → response p50 ${ms(percentile(ackToResp, 50))}`,
          `core alone, same concurrency: p50 ${ms(percentile(coreConcurrent, 50))}, p99 ${ms(percentile(coreConcurrent, 99))}; sequential p50 ${ms(percentile(coreSequential, 50))}`,
          `ratio end-to-end ÷ core alone (same concurrency): p50 ${ratioP50.toFixed(2)}×, p99 ${ratioP99.toFixed(2)}× (÷ sequential core p50: ${ratioSeq.toFixed(1)}×)`,
        ],
      };
    } finally {
      await adapter?.stop().catch(() => {});
      await peer.stop();
      await conn.dropDatabase().catch(() => {});
      await conn.close();
      if (server.owned) await server.stop();
    }
  },
};

export default bench;
