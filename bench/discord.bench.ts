/**
 * Discord interactions end to end: 100 `/stock show` slash commands dispatched by
 * the local Discord peer as fast as it can send them over the gateway, timed
 * from dispatch to the interaction callback the bot POSTs back, against the same
 * command run through the core alone in the same run (same burst, same data).
 *
 * The path measured: gateway frame → discord.js → adapter (options → command
 * line, role mapping) → core → embed rendering → REST callback. Both sides use
 * the same database, so the ratio shows what the Discord path adds.
 *
 * Server: MONGODB_URI (or SHOPOPS_TEST_MONGODB_URI) when set, else the test server
 * (FerretDB v1 on SQLite here). Data: 200 products. BENCH_INTERACTIONS overrides 100. Three
 * bursts per side, alternating (percentiles pool them), then 30 one at a time per side.
 */
import mongoose, { type Connection } from "mongoose";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { createLogger } from "../src/core/logger.js";
import { startTestDatabase } from "../src/store/db-server.js";
import { DiscordPeer, nextId } from "../test/peers/discord-peer.js";
import { percentile } from "./measure.js";
import type { Bench, BenchResult } from "./run.js";

const DB_NAME = "shopops_bench_discord";
const PRODUCTS = 200;
const WARMUP = 10;
/** Bursts per side; percentiles pool all of them. */
const ROUNDS = 3;

/** Percentile of unsorted samples. */
const pctOf = (xs: number[], p: number): number => percentile([...xs].sort((a, b) => a - b), p);
const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const ms = (ns: bigint) => Number(ns) / 1e6;

const bench: Bench = {
  description: "100 Discord slash commands through discord.js and the adapter vs the core alone (p50/p99, ratio)",
  async run(ctx): Promise<BenchResult> {
    const n = Number(process.env.BENCH_INTERACTIONS ?? 100);
    const logger = createLogger("warn", { scope: "bench" });
    const server = await startTestDatabase({ logger });
    ctx.log(`server: ${server.description}`);
    const token = "QkVOQ0hCRU5DSEJFTkNIQkVOQ0g.bench.token-for-the-local-peer-only";
    const applicationId = nextId();
    const peer = new DiscordPeer({ token, applicationId, heartbeatMs: 5_000 });
    let conn: Connection | undefined;
    let adapter: DiscordAdapter | undefined;
    try {
      await peer.start();
      conn = await mongoose.createConnection(server.uri, { dbName: DB_NAME }).asPromise();
      await conn.dropDatabase();
      // One member sends the whole burst: the per-person chat limit is lifted for the bench.
      const config = loadConfig({ DISCORD_TOKEN: token, DISCORD_APPLICATION_ID: applicationId, DISCORD_GUILD_ID: peer.guildId, CHAT_RATE_BURST: "100000", CHAT_RATE_PER_MIN: "100000" });
      const app = await createApp({ config, conn, clock: systemClock, logger });
      await app.store.products.insertMany(
        Array.from({ length: PRODUCTS }, (_, i) => ({
          _id: `SKU-${1001 + i}`, name: `Product ${i}`, category: "Office", price: 1000, cost: 500, currency: "USD",
          onHand: 50, reserved: 0, available: 50, reorderPoint: 10, leadTimeDays: 7, supplier: "Acme", active: true,
        })),
      );
      adapter = new DiscordAdapter({ core: app.core, services: app.services, commands: app.commands, config, discord: config.discord!, logger, api: peer.api, outboxIntervalMs: 0, deferAfterMs: 2_500 });
      await adapter.start();
      const user = { id: nextId(), username: "bench" };
      const sku = (i: number) => `SKU-${1001 + (i % PRODUCTS)}`;

      // Time spent inside the core per command line, to tell the Discord path's own share.
      const inCore = new Map<string, number>();
      const invoke = app.core.invoke.bind(app.core);
      let tracing = false;
      app.core.invoke = async (inv) => {
        const at = process.hrtime.bigint();
        const res = await invoke(inv);
        if (tracing) inCore.set(inv.text, ms(process.hrtime.bigint() - at));
        return res;
      };
      const outside: number[] = [];

      // Discord path: dispatch all, then wait for every callback.
      const viaDiscord = async (count: number): Promise<{ latencies: number[]; wallMs: number }> => {
        tracing = true;
        inCore.clear();
        const t0 = process.hrtime.bigint();
        const sent: { id: string; at: bigint }[] = [];
        for (let i = 0; i < count; i++) {
          const at = process.hrtime.bigint();
          sent.push({ id: peer.slash(user, "stock show", { query: sku(i) }).id, at });
        }
        const callbacks = await Promise.all(sent.map((s) => peer.callback(s.id, 120_000)));
        const wallMs = ms(process.hrtime.bigint() - t0);
        tracing = false;
        for (const cb of callbacks) if (cb.body?.type !== 4 || !cb.body.data?.embeds?.[0]?.title) throw new Error(`unexpected callback ${JSON.stringify(cb.body).slice(0, 200)}`);
        const latencies = callbacks.map((cb, i) => ms(cb.at - sent[i]!.at));
        latencies.forEach((l, i) => outside.push(l - (inCore.get(`stock ${sku(i)}`) ?? 0)));
        return { latencies, wallMs };
      };
      // Core alone: the same burst of invocations, each timed from its start to its reply.
      const viaCore = async (count: number): Promise<{ latencies: number[]; wallMs: number }> => {
        const t0 = process.hrtime.bigint();
        const latencies = await Promise.all(
          Array.from({ length: count }, async (_, i) => {
            const at = process.hrtime.bigint();
            const res = await app.core.invoke({ identity: `discord:${user.id}`, platform: "discord", text: `stock ${sku(i)}` });
            if (res.outcome !== "ok") throw new Error(`core: ${res.outcome}`);
            return ms(process.hrtime.bigint() - at);
          }),
        );
        return { latencies, wallMs: ms(process.hrtime.bigint() - t0) };
      };

      // One at a time: what the Discord path adds to a single command, without queueing.
      const sequential = async (f: (count: number) => Promise<{ latencies: number[] }>, count: number) => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(...(await f(1)).latencies);
        return out;
      };
      await viaCore(WARMUP);
      await viaDiscord(WARMUP);
      // Bursts alternate, so a slow spell of the database server hits both sides alike.
      const core = { latencies: [] as number[], wallMs: 0 };
      const discord = { latencies: [] as number[], wallMs: 0 };
      for (let round = 1; round <= ROUNDS; round++) {
        ctx.log(`round ${round}/${ROUNDS}: ${n} interactions, then ${n} core commands`);
        const d = await viaDiscord(n);
        const c = await viaCore(n);
        discord.latencies.push(...d.latencies);
        discord.wallMs += d.wallMs / ROUNDS;
        core.latencies.push(...c.latencies);
        core.wallMs += c.wallMs / ROUNDS;
      }
      const burstOutside = [...outside];
      outside.length = 0;
      const seqN = Math.min(n, 30);
      const seqCore = await sequential(viaCore, seqN);
      const seqDiscord = await sequential(viaDiscord, seqN);
      const seq = { discordP50Ms: r(pctOf(seqDiscord, 50)), coreP50Ms: r(pctOf(seqCore, 50)), discordP99Ms: r(pctOf(seqDiscord, 99)), coreP99Ms: r(pctOf(seqCore, 99)) };
      const stats = (x: { latencies: number[]; wallMs: number }) => ({
        p50Ms: r(pctOf(x.latencies, 50)),
        p99Ms: r(pctOf(x.latencies, 99)),
        wallMs: r(x.wallMs),
        perSecond: r((n / x.wallMs) * 1000),
      });
      const d = stats(discord);
      const c = stats(core);
      const ratio = { p50: r(d.p50Ms / c.p50Ms, 2), p99: r(d.p99Ms / c.p99Ms, 2) };
      return {
        server: server.description,
        interactions: n,
        products: PRODUCTS,
        discord: d,
        core: c,
        ratio,
        sequential: seq,
        outsideCoreP50Ms: { burst: r(pctOf(burstOutside, 50)), oneAtATime: r(pctOf(outside, 50)) },
        summary: [
          `server: ${server.description}; ${PRODUCTS} products; bursts of ${n}, ${ROUNDS} rounds alternating, after ${WARMUP} warm-up`,
          `discord (dispatch → callback): p50 ${d.p50Ms} ms  p99 ${d.p99Ms} ms  (${d.perSecond}/s, burst ${d.wallMs} ms)`,
          `core alone (same burst):       p50 ${c.p50Ms} ms  p99 ${c.p99Ms} ms  (${c.perSecond}/s, burst ${c.wallMs} ms)`,
          `ratio discord/core:            p50 ×${ratio.p50}  p99 ×${ratio.p99}`,
          `outside the core (gateway → adapter → callback), p50: ${r(pctOf(burstOutside, 50))} ms in bursts, ${r(pctOf(outside, 50))} ms one at a time`,
          `one at a time (${seqN} each):     discord p50 ${seq.discordP50Ms} / p99 ${seq.discordP99Ms} ms, core p50 ${seq.coreP50Ms} / p99 ${seq.coreP99Ms} ms (×${r(seq.discordP50Ms / seq.coreP50Ms, 2)} p50)`,
        ],
      };
    } finally {
      await adapter?.stop().catch(() => {});
      await conn?.dropDatabase().catch(() => {});
      await conn?.close().catch(() => {});
      await peer.stop().catch(() => {});
      if (server.owned) await server.stop();
    }
  },
};

export default bench;
