import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig, type Config } from "../src/config.js";
import { nextSlot, parseCron } from "../src/core/cron.js";
import { defineJob, type Job, type JobContext } from "../src/core/job.js";
import { silentLogger } from "../src/core/logger.js";
import { checkJob, JobLoadError, Scheduler } from "../src/core/scheduler.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
});
afterAll(() => app.close());

const HOUR = 3_600_000;
const MIN = 60_000;

/** A test job with a handler. */
function job(id: string, schedule: string, handler: (ctx: JobContext) => Promise<string | void>, over: Partial<Job> = {}) {
  return checkJob(defineJob({ id, description: id, schedule, timeout: 10 * MIN, handler, ...over }), `${id}.job.ts`, app.config);
}

function scheduler(instance: string, jobs: ReturnType<typeof job>[], config: Config = app.config): Scheduler {
  return new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: app.clock, config, logger: silentLogger, instance });
}

/** Both instances tick at `t` (real concurrency on the claims). */
async function tickAll(t: Date, ...ss: Scheduler[]): Promise<void> {
  app.clock.set(t);
  await Promise.all(ss.map((s) => s.tick(t)));
}

describe("cron slots", () => {
  it("computes slots in the shop time zone, weekdays and steps included", () => {
    const daily = parseCron("0 9 * * *", "Asia/Shanghai");
    expect(nextSlot(daily, new Date("2026-11-25T00:59:00Z"))?.toISOString()).toBe("2026-11-25T01:00:00.000Z");
    expect(nextSlot(daily, new Date("2026-11-25T01:00:00Z"))?.toISOString()).toBe("2026-11-26T01:00:00.000Z");
    const mondays = parseCron("30 8 * * MON", "Asia/Shanghai");
    expect(nextSlot(mondays, new Date("2026-11-25T00:00:00Z"))?.toISOString()).toBe("2026-11-30T00:30:00.000Z");
    const every5 = parseCron("*/5 * * * *", "UTC");
    expect(nextSlot(every5, new Date("2026-11-25T10:03:10Z"))?.toISOString()).toBe("2026-11-25T10:05:00.000Z");
    // New York springs forward on 2026-03-08: 02:30 does not exist that day. A daily job set
    // then runs once the clocks have jumped (03:00 EDT = 07:00Z), as in Vixie cron.
    const ny = parseCron("30 2 * * *", "America/New_York");
    expect(nextSlot(ny, new Date("2026-03-07T12:00:00Z"))?.toISOString()).toBe("2026-03-08T07:00:00.000Z");
    expect(nextSlot(ny, new Date("2026-03-08T07:00:00Z"))?.toISOString()).toBe("2026-03-09T06:30:00.000Z");
    // Two times in the gap still make one slot; a job at 03:00 shares it.
    const twice = parseCron("0,30 2 * * *", "America/New_York");
    expect(nextSlot(twice, new Date("2026-03-08T05:00:00Z"))?.toISOString()).toBe("2026-03-08T07:00:00.000Z");
    expect(nextSlot(twice, new Date("2026-03-08T07:00:00Z"))?.toISOString()).toBe("2026-03-09T06:00:00.000Z");
    // Every-half-hour schedules have no slots in the gap: 01:30 EST (06:30Z), then 03:00 EDT (07:00Z).
    const halfHourly = parseCron("*/30 * * * *", "America/New_York");
    expect(nextSlot(halfHourly, new Date("2026-03-08T06:30:00Z"))?.toISOString()).toBe("2026-03-08T07:00:00.000Z");
  });

  it("keeps every-minute jobs running through the hour that repeats when clocks go back; fixed-time jobs run once", () => {
    // New York falls back on 2026-11-01: 01:00-01:59 comes twice (05:00Z-05:59Z EDT, then 06:00Z-06:59Z EST).
    const everyMinute = parseCron("* * * * *", "America/New_York");
    expect(nextSlot(everyMinute, new Date("2026-11-01T05:59:00Z"))?.toISOString()).toBe("2026-11-01T06:00:00.000Z");
    expect(nextSlot(everyMinute, new Date("2026-11-01T06:30:00Z"))?.toISOString()).toBe("2026-11-01T06:31:00.000Z");
    expect(nextSlot(everyMinute, new Date("2026-11-01T06:59:00Z"))?.toISOString()).toBe("2026-11-01T07:00:00.000Z");
    const slots = (spec: ReturnType<typeof parseCron>, from: string, to: string) => {
      const out: string[] = [];
      for (let c = nextSlot(spec, new Date(from)); c && c <= new Date(to); c = nextSlot(spec, c)) out.push(c.toISOString());
      return out;
    };
    expect(slots(parseCron("*/15 * * * *", "America/New_York"), "2026-11-01T04:50:00Z", "2026-11-01T07:10:00Z")).toHaveLength(9); // 05:00 … 07:00 UTC, every 15 min
    expect(slots(parseCron("30 1 * * *", "America/New_York"), "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z")).toEqual(["2026-11-01T05:30:00.000Z"]);
  });

  it("a malformed job file stops start-up with a message naming the file and the problem", () => {
    expect(() => checkJob({ id: "x", description: "x", schedule: "0 25 * * *", timeout: 5000, handler: async () => {} }, "jobs/x.job.ts", app.config)).toThrow(JobLoadError);
    expect(() => checkJob({ id: "x", description: "x", schedule: "0 25 * * *", timeout: 5000, handler: async () => {} }, "jobs/x.job.ts", app.config)).toThrow(/jobs\/x\.job\.ts.*hour|jobs\/x\.job\.ts.*25/);
    expect(() => checkJob({ id: "Bad Id", description: "x", schedule: "* * * * *", timeout: 5000, handler: async () => {} }, "jobs/y.job.ts", app.config)).toThrow(/y\.job\.ts: id/);
  });
});

describe("scheduler", () => {
  it("two instances over a simulated week run every slot exactly once", async () => {
    const runs = new Map<string, string[]>();
    const record = (tag: string) => async ({ slot }: JobContext) => {
      const k = `${tag}@${slot.toISOString()}`;
      runs.set(k, [...(runs.get(k) ?? []), k]);
    };
    const jobs = [job("hourly-q", "0 * * * *", record("q")), job("daily-9", "0 9 * * *", record("d"), { catchUp: true })];
    const a = scheduler("A", jobs);
    const b = scheduler("B", jobs);
    const start = new Date("2026-11-29T16:00:00Z"); // Monday 00:00 in Shanghai
    for (let t = start.getTime(); t < start.getTime() + 7 * 24 * HOUR; t += 20 * MIN) await tickAll(new Date(t), a, b);

    const counts = [...runs.values()].map((v) => v.length);
    expect(counts.every((n) => n === 1)).toBe(true);
    expect([...runs.keys()].filter((k) => k.startsWith("q@"))).toHaveLength(7 * 24);
    const daily = [...runs.keys()].filter((k) => k.startsWith("d@")).sort();
    expect(daily).toHaveLength(7);
    expect(daily[0]).toBe("d@2026-11-30T01:00:00.000Z"); // 09:00 Shanghai
    expect(await app.store.jobRuns.countDocuments({ job: "hourly-q", status: "ok" })).toBe(7 * 24);
    // Both instances did part of the work.
    expect((await app.store.jobRuns.distinct("holder", { job: "hourly-q" })).sort()).toEqual(["A", "B"]);
  }, 300_000);

  it("a holder killed mid-run is taken over once its claim expires, and its late finish changes nothing", async () => {
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const effects: string[] = [];
    let calls = 0;
    const j = job("hourly", "0 * * * *", async ({ slot }) => {
      calls++;
      if (calls === 1) {
        await hung; // the first holder stops here: its process dies
        return "late";
      }
      effects.push(slot.toISOString());
      return "done";
    });
    const a = scheduler("A", [j]);
    const b = scheduler("B", [j]);
    const slot = new Date("2026-12-10T02:00:00Z");
    app.clock.set(slot);
    const aTick = a.tick(slot);
    await vi.waitFor(() => expect(calls).toBe(1));
    await a.stop(); // killed

    await tickAll(new Date(slot.getTime() + 5 * MIN), b);
    expect(calls).toBe(1); // the claim still holds
    expect(await app.store.jobRuns.findById("hourly@2026-12-10T02:00:00.000Z").lean()).toMatchObject({ status: "running", holder: "A" });

    await tickAll(new Date(slot.getTime() + 12 * MIN), b); // lease = 10 min timeout + 1 min grace
    expect(effects).toEqual(["2026-12-10T02:00:00.000Z"]);
    const taken = await app.store.jobRuns.findById("hourly@2026-12-10T02:00:00.000Z").lean();
    expect(taken).toMatchObject({ status: "ok", holder: "B", attempt: 2, summary: "done" });

    release();
    await aTick;
    expect(await app.store.jobRuns.findById("hourly@2026-12-10T02:00:00.000Z").lean()).toMatchObject({ status: "ok", holder: "B", summary: "done" });
  });

  it("an outage across 09:00 runs the daily job once when the bot comes back the same day", async () => {
    const ran: { slot: string; catchUp: boolean }[] = [];
    const j = job("digest-test", "0 9 * * *", async ({ slot, catchUp }) => void ran.push({ slot: slot.toISOString(), catchUp }), { catchUp: true });
    const before = scheduler("A", [j]);
    // Up from 08:00 to 08:50 Shanghai on 2026-12-14, then down.
    for (let t = Date.parse("2026-12-14T00:00:00Z"); t <= Date.parse("2026-12-14T00:50:00Z"); t += 10 * MIN) await tickAll(new Date(t), before);
    await before.stop();
    expect(ran).toEqual([]);

    // Two instances come back at 10:30 and run until noon.
    const a = scheduler("A2", [j]);
    const b = scheduler("B2", [j]);
    for (let t = Date.parse("2026-12-14T02:30:00Z"); t <= Date.parse("2026-12-14T04:00:00Z"); t += 10 * MIN) await tickAll(new Date(t), a, b);
    // A third instance restarting later the same day does not run it again.
    await tickAll(new Date("2026-12-14T05:00:00Z"), scheduler("C", [j]));
    expect(ran).toEqual([{ slot: "2026-12-14T01:00:00.000Z", catchUp: true }]);
    expect(await app.store.jobRuns.findById("digest-test@2026-12-14T01:00:00.000Z").lean()).toMatchObject({ status: "ok", catchUp: true });

    // The next day it runs on time, not as a catch-up.
    for (let t = Date.parse("2026-12-15T00:50:00Z"); t <= Date.parse("2026-12-15T01:10:00Z"); t += 10 * MIN) await tickAll(new Date(t), a, b);
    expect(ran[1]).toEqual({ slot: "2026-12-15T01:00:00.000Z", catchUp: false });
    expect(ran).toHaveLength(2);
  });

  it("a process asleep across days does not send an earlier day's missed slot on waking; the next one runs on time", async () => {
    const ran: { slot: string; catchUp: boolean }[] = [];
    const j = job("sleeper", "0 9 * * *", async ({ slot, catchUp }) => void ran.push({ slot: slot.toISOString(), catchUp }), { catchUp: true });
    const s = scheduler("SLEEP", [j]);
    await tickAll(new Date("2026-12-24T00:00:00Z"), s); // 08:00 Shanghai, then suspended
    await tickAll(new Date("2026-12-25T16:30:00Z"), s); // 00:30 on the 26th: the 25th's 09:00 was missed
    expect(ran).toEqual([]);
    await tickAll(new Date("2026-12-26T01:00:00Z"), s); // the 26th's 09:00 runs on time
    expect(ran).toEqual([{ slot: "2026-12-26T01:00:00.000Z", catchUp: false }]);
    await s.stop();
  });

  it("with JOBS_CATCH_UP=false, a process asleep across its slot does not run it on waking", async () => {
    const ran: string[] = [];
    const j = job("sleeper-off", "0 9 * * *", async ({ slot }) => void ran.push(slot.toISOString()), { catchUp: true });
    const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", JOBS_CATCH_UP: "false" });
    const s = scheduler("SLEEP-OFF", [j], config);
    await tickAll(new Date("2026-12-27T00:00:00Z"), s); // 08:00, then suspended
    await tickAll(new Date("2026-12-28T16:30:00Z"), s); // 00:30 two days on
    expect(ran).toEqual([]);
    await s.stop();
  });

  it("a database error while claiming the 09:00 slot leaves it due: the next tick runs it", async () => {
    const ran: string[] = [];
    const j = job("blip-test", "0 9 * * *", async ({ slot }) => void ran.push(slot.toISOString()));
    let fail = true;
    const runs = Object.create(app.services.jobs) as typeof app.services.jobs;
    runs.claim = async (input) => {
      if (fail) {
        fail = false;
        throw new Error("connection reset");
      }
      return app.services.jobs.claim(input);
    };
    const s = new Scheduler({ jobs: [j], services: app.services, runs, clock: app.clock, config: app.config, logger: silentLogger, instance: "BLIP" });
    await tickAll(new Date("2026-12-20T00:59:00Z"), s); // 08:59 in Shanghai
    await tickAll(new Date("2026-12-20T01:00:00Z"), s); // 09:00: the claim fails
    expect(ran).toEqual([]);
    await tickAll(new Date("2026-12-20T01:01:00Z"), s);
    expect(ran).toEqual(["2026-12-20T01:00:00.000Z"]);
  });

  it("with JOBS_CATCH_UP=false a missed daily slot is not run on return", async () => {
    const ran: string[] = [];
    const j = job("no-catch-up", "0 9 * * *", async ({ slot }) => void ran.push(slot.toISOString()), { catchUp: true });
    const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", JOBS_CATCH_UP: "false" });
    await tickAll(new Date("2026-12-16T02:30:00Z"), scheduler("A", [j], config));
    expect(ran).toEqual([]);
  });

  it("a failed daily run is tried again after a backoff, by any instance, once: the day's digest is not lost", async () => {
    let calls = 0;
    const daily = job("daily-retry", "0 9 * * *", async () => {
      calls++;
      if (calls === 1) throw new Error("database failover");
      return "sent";
    });
    const a = scheduler("A", [daily]);
    const b = scheduler("B", [daily]);
    const slot = new Date("2026-12-22T01:00:00Z"); // 09:00 in Asia/Shanghai
    const id = "daily-retry@2026-12-22T01:00:00.000Z";
    await tickAll(slot, a, b);
    expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "failed", error: "database failover", attempt: 1, retryAt: new Date(slot.getTime() + 2 * MIN) });
    await tickAll(new Date(slot.getTime() + MIN), a, b);
    expect(calls).toBe(1); // not before its backoff
    await tickAll(new Date(slot.getTime() + 2 * MIN), a, b);
    await tickAll(new Date(slot.getTime() + 3 * MIN), a, b);
    expect(calls).toBe(2);
    const run = await app.store.jobRuns.findById(id).lean();
    expect(run).toMatchObject({ status: "ok", summary: "sent", attempt: 2 });
    expect(run!.retryAt).toBeUndefined();
    expect(run!.error).toBeUndefined();
  });

  it("a run that keeps failing is tried 3 times in all; a failed run is not retried once its next slot is due", async () => {
    let calls = 0;
    const stuck = job("always-fails", "0 * * * *", async () => {
      calls++;
      throw new Error(`failure ${calls}`);
    });
    const s = scheduler("A", [stuck]);
    const slot = new Date("2026-12-23T02:00:00Z");
    for (const m of [0, 2, 6, 12, 20]) await tickAll(new Date(slot.getTime() + m * MIN), s);
    expect(calls).toBe(3);
    expect(await app.store.jobRuns.findById("always-fails@2026-12-23T02:00:00.000Z").lean()).toMatchObject({ status: "failed", attempt: 3, error: "failure 3" });

    let n = 0;
    const often = job("fails-once-each", "*/5 * * * *", async ({ slot: at }) => {
      n++;
      throw new Error(`slot ${at.toISOString()}`);
    });
    const o = scheduler("A", [often]);
    const start = new Date("2026-12-23T05:00:00Z");
    await tickAll(start, o);
    await tickAll(new Date(start.getTime() + 5 * MIN), o); // the 05:05 slot is due before 05:00's retry would help
    expect(n).toBe(2);
    const first = await app.store.jobRuns.findById("fails-once-each@2026-12-23T05:00:00.000Z").lean();
    expect(first).toMatchObject({ status: "failed", attempt: 1, error: "slot 2026-12-23T05:00:00.000Z; not retried: run failed; a later slot superseded it" });
    expect(first!.retryAt).toBeUndefined();
  });

  it("a clean shutdown interrupts a run still going after the grace: its handler is told, the run is recorded and retried", async () => {
    let sawAbort = false;
    const j = job("long-one", "0 * * * *", async ({ signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      sawAbort = signal.aborted;
    });
    const s = scheduler("A", [j]);
    const slot = new Date("2026-12-11T02:00:00Z");
    app.clock.set(slot);
    const tick = s.tick(slot);
    await vi.waitFor(async () => expect(await app.store.jobRuns.findById("long-one@2026-12-11T02:00:00.000Z").lean()).toMatchObject({ status: "running" }));
    await s.stop(50);
    await tick;
    expect(sawAbort).toBe(true);
    const run = await app.store.jobRuns.findById("long-one@2026-12-11T02:00:00.000Z").lean();
    expect(run).toMatchObject({ status: "failed", error: "interrupted by shutdown" });
    expect(run!.retryAt).toBeInstanceOf(Date);
  });

  it("a run past its timeout is recorded as such, and this instance starts no other run of the job until the handler has stopped", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const starts: string[] = [];
    const j = job(
      "slow-one",
      "*/5 * * * *",
      async ({ slot: at }) => {
        starts.push(at.toISOString());
        if (starts.length === 1) await slow;
      },
      { timeout: 1000 },
    );
    const s = scheduler("A", [j]);
    const t0 = new Date("2026-12-24T02:00:00Z");
    await tickAll(t0, s); // times out after 1 s of real time; the handler goes on
    const timedOut = await app.store.jobRuns.findById("slow-one@2026-12-24T02:00:00.000Z").lean();
    expect(timedOut).toMatchObject({ status: "timeout" });
    expect(timedOut!.retryAt).toBeUndefined(); // its handler is still going: not retried
    await tickAll(new Date(t0.getTime() + 5 * MIN), s);
    expect(starts).toHaveLength(1); // still running: the 02:05 slot is skipped here, not run beside it
    release();
    await new Promise((r) => setTimeout(r, 20)); // the handler returns
    await tickAll(new Date(t0.getTime() + 10 * MIN), s);
    expect(starts).toEqual(["2026-12-24T02:00:00.000Z", "2026-12-24T02:10:00.000Z"]);
  });

  it("records failures and timeouts with their error, and `jobs` shows last run, next run and failures", async () => {
    const failing = job("boom", "*/10 * * * *", async () => {
      throw new Error("supplier API down");
    });
    const s = scheduler("A", [failing]);
    await tickAll(new Date("2026-12-20T02:00:00Z"), s);
    expect(await app.store.jobRuns.findById("boom@2026-12-20T02:00:00.000Z").lean()).toMatchObject({ status: "failed", error: "supplier API down" });

    // The real low-stock job as `jobs` lists it: one failed run recorded through the service.
    const claim = await app.services.jobs.claim({ job: "low-stock", slot: new Date("2026-12-20T02:00:00Z"), holder: "A", leaseMs: MIN, catchUp: false });
    await app.services.jobs.finish(claim!, { status: "failed", error: "database unreachable" });
    const r = await app.run("shell:admin", "jobs");
    expect(r.outcome).toBe("ok");
    const row = r.reply.table!.rows.find((x) => x[0] === "low-stock")!;
    expect(row).toEqual(["low-stock", "*/5 * * * *", "2026-12-20 10:00 GMT+8", "failed", "2026-12-20 10:05 GMT+8", "1"]);
    expect(r.reply.context).toEqual(["low-stock: last failure at 2026-12-20 10:00 GMT+8: database unreachable"]);
    expect((await app.run("shell:someone", "jobs")).code).toBe("permission_denied");
  });

  it("`jobs` says when a failed run is tried again, and how many attempts a slot took", async () => {
    // The real daily digest (09:00 in Asia/Shanghai): its 09:00 run failed, retried at 09:02.
    const slot = new Date("2026-12-21T01:00:00Z");
    app.clock.set(new Date(slot.getTime() + 30_000));
    const claim = await app.services.jobs.claim({ job: "daily-digest", slot, holder: "A", leaseMs: MIN, catchUp: false });
    await app.services.jobs.finish(claim!, { status: "failed", error: "database failover", retryAt: new Date(slot.getTime() + 2 * MIN) });
    const row = async (locale = "") => (await app.run(`shell:admin${locale}`, "jobs")).reply.table!.rows.find((x) => x[0] === "daily-digest")!;
    expect((await row())[3]).toBe("failed; retry at 2026-12-21 09:02 GMT+8");
    app.clock.set(new Date(slot.getTime() + 2 * MIN));
    const [due] = await app.services.jobs.expired(["daily-digest"]);
    const taken = await app.services.jobs.takeOver(due!, "B", MIN);
    expect((await row())[3]).toBe("running (attempt 2)");
    await app.services.jobs.finish(taken!, { status: "ok", summary: "sent" });
    expect((await row())[3]).toBe("ok (attempt 2)");
  });

  it("a run interrupted by a clean shutdown on its last attempt is still retried: the interruption is not the job's failure", async () => {
    let calls = 0;
    let hang = false;
    const j = job("third-time", "0 * * * *", async ({ signal }) => {
      calls++;
      if (!hang) throw new Error(`failure ${calls}`);
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    });
    const slot = new Date("2026-12-26T02:00:00Z");
    const id = "third-time@2026-12-26T02:00:00.000Z";
    const a = scheduler("A", [j]);
    await tickAll(slot, a);
    await tickAll(new Date(slot.getTime() + 2 * MIN), a);
    expect(calls).toBe(2);
    // The third attempt is under way when the bot is redeployed.
    hang = true;
    app.clock.set(new Date(slot.getTime() + 6 * MIN));
    const tick = a.tick(new Date(slot.getTime() + 6 * MIN));
    await vi.waitFor(async () => expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "running", attempt: 3 }));
    await a.stop(50);
    await tick;
    expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "failed", error: "interrupted by shutdown", interruptions: 1 });
    // The new process retries it rather than giving up after "3 failures".
    hang = false;
    const b = scheduler("B", [j]);
    await tickAll(new Date(slot.getTime() + 13 * MIN), b);
    expect(calls).toBe(4);
    expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "failed", attempt: 4, error: "failure 4" });
    expect((await app.store.jobRuns.findById(id).lean())!.retryAt).toBeUndefined(); // three real failures: given up
  });
});
