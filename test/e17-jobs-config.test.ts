/**
 * Jobs, start-up and configuration leftovers: the low-stock scan stops when told to (shutdown,
 * timeout) instead of refreshing every product first; a data directory or HTTP host of spaces only
 * is refused at start-up; a MONGODB_URI where nothing listens is said in seconds.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it, vi } from "vitest";
import { JOBS_DIR } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { Formatter } from "../src/core/format.js";
import { silentLogger } from "../src/core/logger.js";
import { translator } from "../src/core/messages.js";
import { loadJobs, Scheduler } from "../src/core/scheduler.js";
import { LOW_BASIS, LOW_WATERMARK } from "../src/services/stock.service.js";
import { reachServer, uriProblem } from "../src/store/db-server.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

const NOW = "2026-11-25T04:00:00Z"; // a slot of LOW_STOCK_CRON=* * * * *
const PRODUCTS = 40;

/** `PRODUCTS` products never scanned: the next scan refreshes the threshold of each, one write apiece. */
async function unscannedShop(app: TestApp) {
  await app.store.products.insertMany(Array.from({ length: PRODUCTS }, (_, i) => product(`SKU-E17-${String(i).padStart(3, "0")}`, { onHand: 5 + i })));
}

/** How many products the scan refreshed (their lowDay written). */
const refreshed = (app: TestApp) => app.store.products.countDocuments({ lowDay: { $exists: true } });

/** Runs `then` at the first threshold write (the scan under way), before that write goes on. */
function atFirstWrite(app: TestApp, then: () => Promise<void> | void) {
  const real = app.store.products.updateOne.bind(app.store.products);
  return vi.spyOn(app.store.products, "updateOne").mockImplementationOnce((async (...args: Parameters<typeof real>) => {
    await then();
    return real(...args);
  }) as never);
}

describe("the low-stock scan told to stop", () => {
  it("stops between products, writing neither the thresholds' basis nor the watermark, so the next run does the rest", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      await unscannedShop(app);
      const stop = new AbortController();
      atFirstWrite(app, () => stop.abort());
      const scan = app.services.lowStock.scan({ slot: new Date(NOW), t: translator("en"), fmt: new Formatter("en", "Asia/Shanghai", "CNY"), signal: stop.signal });
      await expect(scan).rejects.toThrow("low-stock scan stopped before its end");
      expect(await refreshed(app)).toBe(1); // the write under way, then nothing more
      expect(await app.store.meta.findById(LOW_BASIS).lean()).toBeNull();
      expect(await app.store.meta.findById(LOW_WATERMARK).lean()).toBeNull();

      // The next run refreshes the rest.
      await app.services.lowStock.scan({ slot: new Date(NOW), t: translator("en"), fmt: new Formatter("en", "Asia/Shanghai", "CNY") });
      expect(await refreshed(app)).toBe(PRODUCTS);
    } finally {
      vi.restoreAllMocks();
      await app.close();
    }
  }, 60_000);

  it("a shutdown during the scan: the job stops at once after being interrupted, recorded as interrupted and retried", async () => {
    const app = await makeTestApp({ LOW_STOCK_CRON: "* * * * *" }, NOW);
    try {
      await unscannedShop(app);
      const jobs = (await loadJobs(JOBS_DIR, app.config)).filter((j) => j.job.id === "low-stock");
      const s = new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance: "E17" });
      let stopping: ReturnType<Scheduler["stop"]> | undefined;
      atFirstWrite(app, async () => {
        // The bot stops (SIGTERM, Ctrl-D) with a tiny grace: the run is interrupted during this write.
        stopping = s.stop(1);
        await vi.waitFor(async () => expect(await app.store.jobRuns.findById(`low-stock@${new Date(NOW).toISOString()}`).lean()).toMatchObject({ errorCode: "shutdown" }));
      });
      const tick = s.tick(new Date(NOW));
      await vi.waitFor(() => expect(stopping).toBeDefined(), { timeout: 20_000 });
      expect(await stopping).toEqual({ interrupted: ["low-stock"], stillRunning: [] });
      await tick;
      await sleep(300); // a scan going on would keep writing
      // Stopped after the write under way: the other products are left for the retry.
      expect(await refreshed(app)).toBe(1);
      expect(await app.store.meta.findById(LOW_BASIS).lean()).toBeNull();
      expect(await app.store.jobRuns.findById(`low-stock@${new Date(NOW).toISOString()}`).lean()).toMatchObject({ status: "failed", errorCode: "shutdown", interruptions: 1 });
    } finally {
      vi.restoreAllMocks();
      await app.close();
    }
  }, 60_000);
});

/** The configuration error `env` gives (fails the test when there is none). */
function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe("settings of spaces only are refused at start-up, saying how to fix them", () => {
  it("SHOPOPS_DATA_DIR", () => {
    const p = problem({ SHOPOPS_DATA_DIR: "  " });
    expect(p).toContain('SHOPOPS_DATA_DIR: got only spaces ("  ")');
    expect(p).toContain("leave it empty (SHOPOPS_DATA_DIR=) or remove the line for the default .data");
    // Empty is unset (the default), as for every variable.
    expect(loadConfig({ SHOPOPS_DATA_DIR: "" }).dataDir).toMatch(/\.data$/);
  });

  it("HTTP_HOST, also with a space beside an address", () => {
    expect(problem({ HTTP_HOST: " " })).toContain('HTTP_HOST: expected an address or host name to listen on, such as 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface); got only spaces (" ")');
    expect(problem({ HTTP_HOST: "0.0.0.0 " })).toContain('got "0.0.0.0 ", which holds a space. Remove the spaces');
    expect(loadConfig({ HTTP_HOST: "0.0.0.0" }).http.host).toBe("0.0.0.0");
  });
});

/** A local port where nothing listens (taken, then given back). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("MONGODB_URI where nothing listens", () => {
  it("is said within seconds as connection refused, not after the whole timeout, without the password", async () => {
    const port = await freePort();
    const uri = `mongodb://bob:pa55word@127.0.0.1:${port}/shop`;
    const started = Date.now();
    const e = await reachServer(uri, { timeoutMs: 60_000 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(Date.now() - started).toBeLessThan(30_000); // behaviour: not the 60 s it was given
    const said = uriProblem(e, `MongoDB at mongodb://127.0.0.1:${port}/shop`, 60);
    expect(said).toContain(`nothing answers at 127.0.0.1:${port} (connection refused)`);
    expect(said).toContain("Check that the database server is running");
    expect(said).not.toContain("pa55word");
  }, 60_000);

  it("a server that opens its port a moment later (still starting) is still waited for", async () => {
    const port = await freePort();
    const waited = reachServer(`mongodb://127.0.0.1:${port}/shop`, { timeoutMs: 20_000 });
    // The refusals of its first second are not the answer: a server (a relay to the test database) then listens.
    await sleep(1_000);
    const target = new URL(inject("mongoUri").replace(/^mongodb:/, "http:"));
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(port, "127.0.0.1", r));
    try {
      await expect(waited).resolves.toBeUndefined();
    } finally {
      relay.close();
    }
  }, 60_000);
});
