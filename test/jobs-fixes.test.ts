import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config.js";
import { nextSlot, parseCron } from "../src/core/cron.js";
import { defineJob, type JobContext } from "../src/core/job.js";
import { silentLogger } from "../src/core/logger.js";
import { translator } from "../src/core/messages.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { AlertService } from "../src/services/alert.service.js";
import type { RunOutcome } from "../src/services/jobs.service.js";
import { LEASE_MS, OutboxService } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";
import { recorder } from "./helpers/outbound.js";

const MIN = 60_000;
let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ QUIET_HOURS: "22:00-07:00", REFUND_PENDING_HOURS: "48", REFUND_REMIND_HOURS: "24", RETENTION_DAYS: "30" }, "2026-11-23T19:00:00Z");
});
afterAll(() => app.close());

/** A job with a handler, on the test app's configuration (Asia/Shanghai). */
function job(id: string, schedule: string, handler: (ctx: JobContext) => Promise<string | void>, catchUp = false) {
  return checkJob(defineJob({ id, description: id, schedule, timeout: 10 * MIN, handler, catchUp }), `${id}.job.ts`, app.config);
}
const scheduler = (instance: string, jobs: ReturnType<typeof job>[]) => new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance });

describe("refund notices and quiet hours", () => {
  it("an expiry notice found by the job in quiet hours waits for them to end; an approval answering a manager goes at once", async () => {
    await app.services.identity.grant("shell:sue", "support", "shell:admin");
    await app.store.orders.insertMany([paidOrder("QH-1", 10_000), paidOrder("QH-2", 10_000)]);
    // 2026-11-24 03:00 in Shanghai (quiet until 07:00).
    app.clock.set(new Date("2026-11-23T19:00:00Z"));
    const asked = await app.run("shell:sue", `refund request QH-1 20 reason="damaged"`);
    expect(asked.outcome, asked.reply.text).toBe("ok");
    const id = /R-[0-9A-Z]{6}/.exec(asked.reply.title ?? "")![0];
    // 48 h later, 11-26 03:05 local: the job expires it.
    const jobs = await jobStepper(app, "refund-expiry", Date.parse("2026-11-25T19:00:00Z"));
    await jobs.step(5 * MIN);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "expired" });
    const notice = await app.store.outbox.findById(`refund:${id}:expired`).lean();
    expect(notice!.notBefore.toISOString()).toBe("2026-11-25T23:00:00.000Z"); // 07:00 local
    expect((await app.services.outbox.dispatch(recorder("shell"))).sent).toBe(0);

    // A manager approving at 03:10 local: the requester hears at once (an answer to that action).
    const b = await app.run("shell:sue", `refund request QH-2 20 reason="damaged"`);
    const idB = /R-[0-9A-Z]{6}/.exec(b.reply.title ?? "")![0];
    expect((await app.run("shell:admin", `refund approve ${idB}`)).outcome).toBe("ok");
    const approved = await app.store.outbox.findById(`refund:${idB}:approved`).lean();
    expect(approved!.notBefore.getTime()).toBe(app.clock.now().getTime());
  });
});

describe("a delivery whose record fails", () => {
  it("is not sent again when writing 'sent' fails once (the write is retried), nor after its lease while the database stays down", async () => {
    const outbox = new OutboxService(app.store, app.clock, silentLogger);
    const model = app.store.outbox;
    const orig = model.updateOne.bind(model);
    let failSent = 1;
    const spy = vi.spyOn(model, "updateOne").mockImplementation(((filter: never, update: { $set?: { status?: string } }, ...rest: never[]) => {
      if (failSent > 0 && update?.$set?.status === "sent") {
        failSent--;
        return Promise.reject(new Error("connection reset"));
      }
      return orig(filter, update as never, ...rest);
    }) as never);
    try {
      const d = recorder("slack");
      await outbox.enqueue({ key: "rec-1", dest: { kind: "user", identity: "slack:T1:U1" }, reply: { text: "one", visibility: "ephemeral" }, kind: "refund" });
      expect(await outbox.dispatch(d)).toEqual({ sent: 1, failed: 0 });
      app.clock.advance(MIN);
      await outbox.dispatch(d);
      expect(d.got).toHaveLength(1);
      expect(await model.findById("rec-1").lean()).toMatchObject({ status: "sent", attempts: 1 });

      // The database refuses every "sent" write for a while: still sent once, recorded when it answers.
      failSent = 100;
      await outbox.enqueue({ key: "rec-2", dest: { kind: "user", identity: "slack:T1:U1" }, reply: { text: "two", visibility: "ephemeral" }, kind: "refund" });
      expect((await outbox.dispatch(d)).sent).toBe(1);
      expect((await model.findById("rec-2").lean())!.status).toBe("sending");
      app.clock.advance(LEASE_MS + MIN);
      await outbox.dispatch(d); // the lease ran out: claimed again, but not sent again
      failSent = 0;
      await outbox.dispatch(d);
      expect(d.got.map((g) => g.reply.text)).toEqual(["one", "two"]);
      expect((await model.findById("rec-2").lean())!.status).toBe("sent");
    } finally {
      spy.mockRestore();
    }
  });
});

describe("scheduler", () => {
  it("a run whose 'ok' cannot be written is not recorded as failed and run again", async () => {
    let calls = 0;
    const j = job("rec-hourly", "0 * * * *", async () => {
      calls++;
      return "done";
    });
    const s = scheduler("A", [j]);
    const orig = app.services.jobs.finish.bind(app.services.jobs);
    let failOk = 1;
    const spy = vi.spyOn(app.services.jobs, "finish").mockImplementation(async (run, outcome: RunOutcome) => {
      if (failOk > 0 && outcome.status === "ok") {
        failOk--;
        throw new Error("connection reset");
      }
      return orig(run, outcome);
    });
    try {
      const slot = new Date("2026-12-10T02:00:00Z");
      for (const t of [0, 3, 5]) {
        app.clock.set(new Date(slot.getTime() + t * MIN));
        await s.tick(app.clock.now());
      }
      expect(calls).toBe(1);
      expect(await app.store.jobRuns.findById(`rec-hourly@${slot.toISOString()}`).lean()).toMatchObject({ status: "ok", attempt: 1, summary: "done" });

      // Every write of "ok" refused for longer than the claim lasts: still run once, recorded later.
      failOk = 100;
      const slot2 = new Date(slot.getTime() + 60 * MIN);
      for (const t of [0, 12, 13]) {
        app.clock.set(new Date(slot2.getTime() + t * MIN));
        await s.tick(app.clock.now());
      }
      failOk = 0;
      app.clock.set(new Date(slot2.getTime() + 14 * MIN));
      await s.tick(app.clock.now());
      expect(calls).toBe(2);
      expect(await app.store.jobRuns.findById(`rec-hourly@${slot2.toISOString()}`).lean()).toMatchObject({ status: "ok", attempt: 1 });
    } finally {
      spy.mockRestore();
    }
  });

  it("a daily catch-up job's slot of an earlier shop day is not taken over the next day", async () => {
    let calls = 0;
    const j = job("rec-daily", "0 9 * * *", async () => {
      calls++;
    }, true);
    // Instance A claims 12-01 09:00 (Shanghai) and dies.
    const slot = new Date("2026-12-01T01:00:00Z");
    app.clock.set(slot);
    expect(await app.services.jobs.claim({ job: "rec-daily", slot, holder: "A", leaseMs: 11 * MIN, catchUp: false })).not.toBeNull();
    // B starts 12-02 08:00 local, before that day's slot.
    app.clock.set(new Date("2026-12-02T00:00:00Z"));
    await scheduler("B", [j]).tick(app.clock.now());
    expect(calls).toBe(0);
    const run = await app.store.jobRuns.findById(`rec-daily@${slot.toISOString()}`).lean();
    expect(run).toMatchObject({ status: "lost" });
    expect(run!.error).toContain("its shop day (2026-12-01) is over");
  });

  it("a failed daily catch-up run is not retried once its shop day is over", async () => {
    let calls = 0;
    const j = job("rec-daily2", "0 23 * * *", async () => {
      calls++;
      if (calls === 1) throw new Error("database blip");
    }, true);
    const s = scheduler("A", [j]);
    // 23:00 Shanghai on 12-03 fails; its retry would fall at 23:02… then the next day: not retried.
    const slot = new Date("2026-12-03T15:00:00Z");
    app.clock.set(slot);
    await s.tick(slot);
    expect(calls).toBe(1);
    app.clock.set(new Date("2026-12-03T16:01:00Z")); // 00:01 on 12-04
    await s.tick(app.clock.now());
    expect(calls).toBe(1);
    const run = await app.store.jobRuns.findById(`rec-daily2@${slot.toISOString()}`).lean();
    expect(run).toMatchObject({ status: "failed" });
    expect(run!.error).toContain("not retried: run failed; its shop day (2026-12-03) is over");
  });

  it("housekeeping runs when a bot starts after its 03:30 slot, the same shop day", async () => {
    app.clock.set(new Date("2026-12-05T00:00:00Z"));
    await app.store.markers.insertMany([{ _id: "hk-old", by: "slack:T1:U1", at: new Date("2026-10-01T00:00:00Z") }]);
    // A daytime-only bot starting 12-05 09:00 Shanghai.
    const hk = await jobStepper(app, "housekeeping", Date.parse("2026-12-05T00:59:00Z"));
    await hk.step(MIN);
    expect(await app.store.markers.findById("hk-old").lean()).toBeNull();
    expect(await app.store.jobRuns.findById("housekeeping@2026-12-04T19:30:00.000Z").lean()).toMatchObject({ status: "ok", catchUp: true });
  });
});

describe("alerts route to a platform this process does not run", () => {
  it("is set, and the reply warns as start-up does, without start-up's advice to route them", async () => {
    app.services.alerts.setRunning(["shell"]);
    const r = await app.run("shell:admin", "alerts route low_stock discord 123456789012345678");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe(
      "low_stock alerts on discord now go to 123456789012345678.\nwarning: alerts are routed to low_stock:discord:123456789012345678, but this process runs shell: they wait undelivered until a process that runs that platform starts.",
    );
    expect((await app.services.alerts.routesFor("low_stock")).map((x) => `${x.platform}:${x.channel}`)).toContain("discord:123456789012345678");
    expect(app.services.alerts.idleWarning([{ type: "low_stock", platform: "discord", channel: "1" }], translator("zh-CN"))).toBe(
      "警告：告警路由到 low_stock:discord:1，但本进程运行的平台为：shell；这些告警会一直等待，直到运行该平台的进程启动。",
    );
    // A platform that runs here, and turning a route off: no warning.
    expect((await app.run("shell:admin", "alerts route low_stock shell ops2")).reply.text).toBe("low_stock alerts on shell now go to ops2.");
    expect((await app.run("shell:admin", "alerts route low_stock discord off")).reply.text).toBe("low_stock alerts on discord are now off.");
  });
});

describe("schedules", () => {
  it("refuses a cron that never matches a date, naming the variable", () => {
    expect(() => loadConfig({ DIGEST_CRON: "0 9 30 2 *" })).toThrow(/DIGEST_CRON: "0 9 30 2 \*" never matches a date \(e\.g\. February 30\)/);
    expect(loadConfig({ DIGEST_CRON: "0 9 29 2 *" }).digestCron).toBe("0 9 29 2 *"); // leap days exist
  });

  it("a day-of-month step starting with * combines with a weekday as Vixie cron does (both must match)", () => {
    const spec = parseCron("0 9 */2 * 1", "UTC");
    // After Monday 2026-11-30: Tuesday 12-01 is odd but no Monday; Monday 12-07 is odd.
    expect(nextSlot(spec, new Date("2026-11-30T12:00:00Z"))?.toISOString()).toBe("2026-12-07T09:00:00.000Z");
    // Both restricted without *: either matches.
    expect(nextSlot(parseCron("0 9 1-7 * 1", "UTC"), new Date("2026-11-30T12:00:00Z"))?.toISOString()).toBe("2026-12-01T09:00:00.000Z");
    expect(nextSlot(parseCron("0 9 * * 1", "UTC"), new Date("2026-11-30T12:00:00Z"))?.toISOString()).toBe("2026-12-07T09:00:00.000Z");
  });

  it("quiet hours ending inside the repeated fall-back hour are over once that end has passed", () => {
    const alerts = new AlertService(app.store, app.clock, new OutboxService(app.store, app.clock, silentLogger), { alertRoutes: [], quietHours: { start: "00:00", end: "01:30" }, timeZone: "America/New_York", locale: "en" }, silentLogger);
    expect(alerts.quietUntil(new Date("2026-11-01T04:30:00Z"))?.toISOString()).toBe("2026-11-01T05:30:00.000Z"); // 00:30 EDT
    expect(alerts.quietUntil(new Date("2026-11-01T06:15:00Z"))).toBeNull(); // 01:15 EST, after 01:30 EDT
  });
});
