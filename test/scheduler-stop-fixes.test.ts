/**
 * Stopping the scheduler while a tick is still claiming slots (Ctrl-C soon after start-up):
 * stop() waits for the claim under way, no run starts after it, and closing the connection
 * then logs no error.
 */
import { describe, expect, it, vi } from "vitest";
import { defineJob } from "../src/core/job.js";
import { createLogger } from "../src/core/logger.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

const MIN = 60_000;
const NOW = "2026-11-25T04:00:00Z"; // a slot of every-minute jobs

function setup(app: TestApp, ids: string[]) {
  const logs: { level: string; msg: string }[] = [];
  const logger = createLogger("debug", {}, (line) => logs.push(JSON.parse(line) as { level: string; msg: string }));
  const started: string[] = [];
  const jobs = ids.map((id) =>
    checkJob(
      defineJob({
        id,
        description: id,
        schedule: "* * * * *",
        timeout: 10 * MIN,
        handler: async () => void started.push(id),
      }),
      `${id}.job.ts`,
      app.config,
    ),
  );
  const s = new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger, instance: "STOP" });
  return { s, logs, started, errors: () => logs.filter((l) => l.level === "error") };
}

describe("stopping the scheduler during a tick", () => {
  it("waits for the claim under way, starts no run after stop, and the connection then closes without errors", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      const { s, errors, started } = setup(app, ["stop-a", "stop-b"]);
      // The first claim is slow (a database far away): stop() comes while it is on its way.
      let arrived!: () => void;
      const claimArrived = new Promise<void>((r) => (arrived = r));
      let letGo!: () => void;
      const gate = new Promise<void>((r) => (letGo = r));
      const realClaim = app.services.jobs.claim.bind(app.services.jobs);
      vi.spyOn(app.services.jobs, "claim").mockImplementationOnce(async (input) => {
        arrived();
        await gate;
        return realClaim(input);
      });

      let tickDone = false;
      const tick = s.tick(new Date(NOW)).then(() => (tickDone = true));
      await claimArrived;
      let stopDone = false;
      const stopping = s.stop(10_000).then(() => (stopDone = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(stopDone).toBe(false); // still waiting for the claim
      letGo();
      await stopping;
      expect(tickDone).toBe(true); // stop() resolved after the tick
      await tick;

      // No run began after stop: the slot claimed on the way is given back, due again; the other job was not claimed.
      expect(started).toEqual([]);
      const a = await app.store.jobRuns.findById(`stop-a@${new Date(NOW).toISOString()}`).lean();
      expect(a).toMatchObject({ status: "failed", attempt: 1, interruptions: 1, error: "interrupted by shutdown before it started" });
      expect(a?.retryAt?.getTime()).toBeLessThanOrEqual(new Date(NOW).getTime());
      expect(await app.store.jobRuns.exists({ job: "stop-b" })).toBeNull();

      await app.close();
      await new Promise((r) => setTimeout(r, 200));
      expect(errors()).toEqual([]);
      expect(started).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it("a slot given back at shutdown runs on the next start, as a first attempt", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      const first = setup(app, ["back-a"]);
      let letGo!: () => void;
      const gate = new Promise<void>((r) => (letGo = r));
      const realClaim = app.services.jobs.claim.bind(app.services.jobs);
      const spy = vi.spyOn(app.services.jobs, "claim").mockImplementationOnce(async (input) => {
        await gate;
        return realClaim(input);
      });
      const tick = first.s.tick(new Date(NOW));
      await vi.waitFor(() => expect(spy).toHaveBeenCalled());
      const stopping = first.s.stop(10_000);
      letGo();
      await Promise.all([stopping, tick]);
      expect(first.started).toEqual([]);

      // Restarted a few seconds later, in the same minute.
      const later = new Date(new Date(NOW).getTime() + 20_000);
      app.clock.set(later);
      const second = setup(app, ["back-a"]);
      await second.s.tick(later);
      expect(second.started).toEqual(["back-a"]);
      const run = await app.store.jobRuns.findById(`back-a@${new Date(NOW).toISOString()}`).lean();
      expect(run).toMatchObject({ status: "ok", attempt: 2, interruptions: 1 });
      expect(second.errors()).toEqual([]);
      await second.s.stop();
    } finally {
      await app.close();
    }
  });

  it("start() then an immediate stop(): closing the connection right after logs no error", async () => {
    const app = await makeTestApp({}, NOW);
    try {
      const { s, errors, started } = setup(app, ["quick-a", "quick-b", "quick-c"]);
      s.start();
      await s.stop(10_000);
      const afterStop = started.length;
      await app.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(errors()).toEqual([]);
      expect(started.length).toBe(afterStop); // nothing began after stop
    } finally {
      await app.close();
    }
  });
});
