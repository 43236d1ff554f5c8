/**
 * Leaving the bot while a job runs (Ctrl-D, Ctrl-C, SIGTERM): the scheduler's stop() waits for
 * the run, or interrupts it and waits for that to be recorded and for its handler to stop, so
 * nothing is written after the connection closes and no outcome is lost.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { defineJob, type JobContext } from "../src/core/job.js";
import { createLogger } from "../src/core/logger.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

const NOW = "2026-11-25T04:00:00Z"; // a slot of every-minute jobs

function setup(app: TestApp, id: string, timeout: number, handler: (ctx: JobContext) => Promise<string | void>) {
  const logs: { level: string; msg: string }[] = [];
  const logger = createLogger("debug", {}, (line) => logs.push(JSON.parse(line) as { level: string; msg: string }));
  const job = checkJob(defineJob({ id, description: id, schedule: "* * * * *", timeout, handler }), `${id}.job.ts`, app.config);
  const s = new Scheduler({ jobs: [job], services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger, instance: "E16" });
  return { s, errors: () => logs.filter((l) => l.level === "error") };
}

/** Resolves once `signal` is aborted. */
const aborted = (signal: AbortSignal) => new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));

describe("stopping the bot while a job runs", () => {
  it("an interrupted run is recorded as such even when that write waits behind the job's own, before the connection closes", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const { s, errors } = setup(app, "slow-scan", 120_000, async ({ signal }) => {
        started();
        await aborted(signal);
        await sleep(100);
      });
      // The interruption's write queues behind the busy job's writes (the embedded database
      // serializes them): it takes a few seconds to land.
      const realFinish = app.services.jobs.finish.bind(app.services.jobs);
      vi.spyOn(app.services.jobs, "finish").mockImplementationOnce(async (run, outcome) => {
        await sleep(3_000);
        return realFinish(run, outcome);
      });
      const tick = s.tick(new Date(NOW));
      await running;
      const result = await s.stop(200);
      // Recorded before stop() returned: retried later, not counted as an attempt.
      const run = await app.store.jobRuns.findById(`slow-scan@${new Date(NOW).toISOString()}`).lean();
      expect(run).toMatchObject({ status: "failed", errorCode: "shutdown", interruptions: 1, attempt: 1 });
      expect(run?.retryAt).toBeInstanceOf(Date);
      expect(result).toEqual({ interrupted: ["slow-scan"], stillRunning: [] });
      expect(s.running()).toEqual([]);
      await tick;
      await app.close();
      await sleep(200);
      expect(errors()).toEqual([]);
    } finally {
      await app.close();
    }
  }, 30_000);

  it("names the runs still going, and since when, for the line saying what the shutdown waits for", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      let finish!: () => void;
      const release = new Promise<void>((r) => (finish = r));
      const { s } = setup(app, "low-stock", 120_000, () => release);
      const tick = s.tick(new Date(NOW));
      await vi.waitFor(() => expect(s.running()).toEqual([{ job: "low-stock", since: new Date(NOW) }]));
      const stopping = s.stop(10_000);
      finish();
      // It finished within the grace: recorded ok, nothing interrupted.
      expect(await stopping).toEqual({ interrupted: [], stillRunning: [] });
      await tick;
      expect(s.running()).toEqual([]);
      expect(await app.store.jobRuns.findById(`low-stock@${new Date(NOW).toISOString()}`).lean()).toMatchObject({ status: "ok" });
    } finally {
      await app.close();
    }
  }, 30_000);

  it("a handler that goes on a moment after being told to stop has written before stop() returns (nothing written after the connection closes)", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      let wroteAt = 0;
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const { s, errors } = setup(app, "stubborn", 120_000, async ({ signal }) => {
        started();
        await aborted(signal);
        await sleep(1_500); // a batch it finishes before looking at its signal again
        await app.store.meta.updateOne({ _id: "e16-stubborn" }, { $set: { value: "last write" } }, { upsert: true });
        wroteAt = Date.now();
      });
      const tick = s.tick(new Date(NOW));
      await running;
      await s.stop(200);
      const stoppedAt = Date.now();
      expect(wroteAt).toBeGreaterThan(0);
      expect(wroteAt).toBeLessThanOrEqual(stoppedAt);
      expect(await app.store.meta.findById("e16-stubborn").lean()).toMatchObject({ value: "last write" });
      expect(await app.store.jobRuns.findById(`stubborn@${new Date(NOW).toISOString()}`).lean()).toMatchObject({ status: "failed", errorCode: "shutdown" });
      await tick;
      await app.close();
      await sleep(200);
      expect(errors()).toEqual([]);
    } finally {
      await app.close();
    }
  }, 30_000);

  it("a timed-out run whose handler finishes after stop() was called has its late finish recorded", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      const { s, errors } = setup(app, "overrun", 1_000, async () => {
        await sleep(2_500);
        return "12 low, 3 alerted";
      });
      await s.tick(new Date(NOW)); // resolves once the run is recorded as timed out
      const id = `overrun@${new Date(NOW).toISOString()}`;
      expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "timeout" });

      const result = await s.stop(10_000);
      const run = await app.store.jobRuns.findById(id).lean();
      expect(run).toMatchObject({ status: "timeout", late: { status: "ok", summary: "12 low, 3 alerted" } });
      expect(result).toEqual({ interrupted: [], stillRunning: [] });
      await app.close();
      await sleep(200);
      expect(errors().map((e) => e.msg)).toEqual(["job failed"]); // the timeout itself; nothing about recording
    } finally {
      await app.close();
    }
  }, 30_000);
});
