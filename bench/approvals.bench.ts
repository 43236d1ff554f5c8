/**
 * Refund approvals through the real command core (`refund approve R-…`), all fired at once:
 *
 * 1. distinct: N approvals of N different requests (each on its own order) by N managers;
 * 2. same: N managers approve ONE request at the same moment.
 *
 * Reports throughput (approvals answered per second of wall time), p50/p99 latency of one
 * invocation, database round trips per approval, and checks the counts are exact: in (1) every
 * request approved once and every order refunded once; in (2) one approval, N − 1 "already
 * approved", the order's refunded total raised once, one execution in the audit, one notification.
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, else the test server (FerretDB v1 on
 * SQLite with the write-serializing relay here). Database `shopops_bench_approvals`, dropped first.
 * Size: N = 200 (BENCH_APPROVALS overrides); about 3N + 1 orders/requests/identities, so it is
 * the same size on every server.
 */
import mongoose, { type Connection } from "mongoose";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { percentile } from "./measure.js";
import type { Bench, BenchResult } from "./run.js";

const DB_NAME = "shopops_bench_approvals";
const REQUESTER = "shell:requester";


function order(no: string, total: number): Record<string, unknown> {
  const at = new Date(Date.now() - 86_400_000);
  const day = at.toISOString().slice(0, 10);
  return { _id: no, items: [{ sku: "SKU-1", qty: 1, unitPrice: total }], subtotal: total, discount: 0, shipping: 0, total, currency: "USD", status: "delivered", channel: "web", customerId: "CUST-1", createdAt: at, paidAt: at, day, paidDay: day };
}

/** Fires `lines[i]` as `who[i]` all at once; returns per-call latency and the results. */
async function burst(app: App, calls: { who: string; text: string }[]) {
  const t0 = process.hrtime.bigint();
  const timed = await Promise.all(
    calls.map(async (c) => {
      const s = process.hrtime.bigint();
      const r = await app.core.invoke({ identity: c.who, platform: "shell", text: c.text });
      return { r, ms: Number(process.hrtime.bigint() - s) / 1e6 };
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const ms = timed.map((x) => x.ms).sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    results: timed.map((x) => x.r),
    wallMs: r(wallMs),
    throughput: r((calls.length / wallMs) * 1000),
    p50Ms: r(percentile(ms, 50)),
    p99Ms: r(percentile(ms, 99)),
    maxMs: r(ms.at(-1)!),
  };
}

const bench: Bench = {
  description: "200 concurrent refund approvals of distinct requests, and 200 of the same request (throughput, p99, exact counts)",
  async run(ctx): Promise<BenchResult> {
    const logger = createLogger(process.env.LOG_LEVEL === "debug" ? "debug" : "warn", { scope: "bench" });
    // Checked before the server starts, so a bad value leaves nothing running.
    const n = Number(process.env.BENCH_APPROVALS ?? 200);
    const server = await startTestDatabase({ logger });
    ctx.log(`server: ${server.description}`);
    let conn: Connection | undefined;
    try {
      conn = await mongoose.createConnection(server.uri, { dbName: DB_NAME, autoIndex: false, monitorCommands: true }).asPromise();
      await conn.dropDatabase();
      let commands = 0;
      conn.getClient().on("commandStarted", () => commands++);
      const app = await createApp({ config: loadConfig({}), conn, clock: systemClock, logger: silentLogger });
      const { store, services } = app;

      ctx.log(`setup: ${n + 1} orders, ${n + 1} requests, ${n} managers`);
      await store.orders.insertMany([...Array.from({ length: n }, (_, i) => order(`ORD-D${i}`, 10_000)), order("ORD-SAME", 10_000)]);
      await services.identity.grant(REQUESTER, "staff", "bench");
      const managers = Array.from({ length: n }, (_, i) => `shell:mgr${i}`);
      for (const m of managers) await services.identity.grant(m, "manager", "bench");
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await services.refund.request({ orderNo: `ORD-D${i}`, amount: "40", reason: "bench", requester: REQUESTER });
        if (r.kind !== "created") throw new Error(`request ORD-D${i}: ${r.kind}`);
        ids.push(r.request._id);
      }
      const same = await services.refund.request({ orderNo: "ORD-SAME", amount: "40", reason: "bench", requester: REQUESTER });
      if (same.kind !== "created") throw new Error(`request ORD-SAME: ${same.kind}`);
      const sameId = same.request._id;

      // Baseline: the same number of concurrent bare guarded single-document updates (one round
      // trip each) on this server, to read the approval figures against.
      await conn.db!.collection<{ _id: string; n: number }>("bench_baseline").insertMany(Array.from({ length: n }, (_, i) => ({ _id: `B${i}`, n: 0 })));
      const tb = process.hrtime.bigint();
      await Promise.all(Array.from({ length: n }, (_, i) => conn!.db!.collection<{ _id: string; n: number }>("bench_baseline").findOneAndUpdate({ _id: `B${i}`, n: 0 }, { $inc: { n: 1 } })));
      const baseMs = Math.round((Number(process.hrtime.bigint() - tb) / 1e6) * 10) / 10;
      const baseRate = Math.round((n / baseMs) * 10000) / 10;

      // 1. distinct requests
      ctx.log(`${n} concurrent approvals of distinct requests`);
      let before = commands;
      const d = await burst(app, ids.map((id, i) => ({ who: managers[i]!, text: `refund approve ${id}` })));
      const dTrips = Math.round(((commands - before) / n) * 10) / 10;
      const dApproved = d.results.filter((r) => r.outcome === "ok" && r.reply.title?.includes("approved")).length;
      const dOrders = await store.orders.find({ _id: /^ORD-D/ }).select({ refundedTotal: 1, refunds: 1 }).lean();
      const dRefundedOnce = dOrders.filter((o) => o.refundedTotal === 4_000 && o.refunds.length === 1).length;
      const dExec = await store.audit.countDocuments({ command: "refund execute" });
      const dNotes = await store.outbox.countDocuments({ kind: "refund" });

      // 2. the same request
      ctx.log(`${n} concurrent approvals of one request`);
      before = commands;
      const s = await burst(app, managers.map((m) => ({ who: m, text: `refund approve ${sameId}` })));
      const sTrips = Math.round(((commands - before) / n) * 10) / 10;
      const sApproved = s.results.filter((r) => r.outcome === "ok" && r.reply.title?.includes("approved")).length;
      const sAlready = s.results.filter((r) => r.code === "already_approved").length;
      const sOrder = await store.orders.findById("ORD-SAME").lean();
      const sExec = (await store.audit.countDocuments({ command: "refund execute" })) - dExec;
      const sNotes = await store.outbox.countDocuments({ _id: new RegExp(`^refund:${sameId}:`) });
      const sReq = await store.refundRequests.findById(sameId).lean();

      const exact = {
        distinct: dApproved === n && dRefundedOnce === n && dExec === n && dNotes === n,
        same: sApproved === 1 && sAlready === n - 1 && sOrder?.refundedTotal === 4_000 && sOrder.refunds.length === 1 && sExec === 1 && sNotes === 1 && sReq?.approvals.length === 1,
      };
      if (!exact.distinct || !exact.same) throw new Error(`counts are not exact: ${JSON.stringify({ dApproved, dRefundedOnce, dExec, dNotes, sApproved, sAlready, sOrder: sOrder?.refundedTotal, sExec, sNotes })}`);
      await conn.dropDatabase();
      return {
        server: server.description,
        serverKind: server.kind,
        n,
        distinct: { ...d, results: undefined, roundTripsPerApproval: dTrips, approved: dApproved, ordersRefundedOnce: dRefundedOnce, executions: dExec, notifications: dNotes },
        same: { ...s, results: undefined, roundTripsPerApproval: sTrips, approved: sApproved, alreadyApproved: sAlready, refundedTotal: sOrder?.refundedTotal, executions: sExec, notifications: sNotes },
        exact,
        baseline: { wallMs: baseMs, perSecond: baseRate },
        summary: [
          `server: ${server.description}`,
          `size: ${n} approvers; ${n + 1} orders and refund requests (database ${DB_NAME}, dropped before and after)`,
          `distinct: ${n} approvals of ${n} requests in ${d.wallMs} ms: ${d.throughput}/s, p50 ${d.p50Ms} ms, p99 ${d.p99Ms} ms, max ${d.maxMs} ms, ${dTrips} round trips each`,
          `          exact: ${dApproved} approved, ${dRefundedOnce} orders refunded once, ${dExec} executions audited, ${dNotes} notifications`,
          `baseline: ${n} concurrent bare findOneAndUpdate({_id, guard}) in ${baseMs} ms: ${baseRate}/s (an approval is ${dTrips} round trips, 6 of them writes)`,
          `same:     ${n} approvals of 1 request in ${s.wallMs} ms: ${s.throughput}/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms, ${sTrips} round trips each`,
          `          exact: ${sApproved} approved, ${sAlready} already approved, refunded total raised once (${sOrder?.refundedTotal}), ${sExec} execution, ${sNotes} notification`,
        ],
      };
    } finally {
      await conn?.close().catch(() => {});
      if (server.owned) await server.stop();
    }
  },
};

export default bench;
