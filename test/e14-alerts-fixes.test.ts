import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextSlot, parseCron } from "../src/core/cron.js";
import { defineJob, type JobContext } from "../src/core/job.js";
import { silentLogger } from "../src/core/logger.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
});
afterAll(() => app.close());

const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });

/** A scheduler running `handler` as the real job `id` (so `jobs` lists it), with a 1 s timeout. */
function scheduler(id: string, schedule: string, handler: (ctx: JobContext) => Promise<string | void>, catchUp = false): Scheduler {
  const job = checkJob(defineJob({ id, description: id, schedule, timeout: 1000, catchUp, handler }), `${id}.job.ts`, app.config);
  return new Scheduler({ jobs: [job], services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance: "T" });
}

/** Runs the scheduler's tick at `at` (ISO), the app's clock set to it. */
async function tickAt(s: Scheduler, at: string): Promise<void> {
  app.clock.set(at);
  await s.tick(new Date(at));
}

/** The `jobs` row of `id` and its last-failure line, as `run` shows them. */
async function jobsView(id: string, run = (text: string) => app.run("shell:admin", text)): Promise<{ row: string[]; failure: string | undefined }> {
  const r = await run("jobs");
  return { row: r.reply.table!.rows.find((x) => x[0] === id)!, failure: r.reply.context?.find((c) => c.startsWith(`${id}`)) };
}

/** The next `n` slots of `expr` in `tz` after `from`, as ISO instants. */
function slots(expr: string, tz: string, from: string, n: number): string[] {
  const spec = parseCron(expr, tz);
  const out: string[] = [];
  let cur = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = nextSlot(spec, cur);
    if (!next) break;
    out.push(next.toISOString());
    cur = next;
  }
  return out;
}

describe("cron: clock changes by half an hour (Lord Howe) and in zones east of UTC", () => {
  it("a fixed-time job in Lord Howe's skipped half hour runs when the clocks jump to 02:30, not at 03:00, and a 02:30 slot is not lost", () => {
    // 2026-10-04: Lord Howe goes from 02:00 (+10:30) straight to 02:30 (+11:00) = 15:30Z.
    expect(slots("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 2)).toEqual(["2026-10-03T15:30:00.000Z", "2026-10-04T15:15:00.000Z"]);
    expect(slots("0,30 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 2)).toEqual(["2026-10-03T15:30:00.000Z", "2026-10-04T15:00:00.000Z"]);
  });

  it("in Lord Howe's repeated half hour an every-ten-minutes job runs through both, and a fixed-time job once, at the first", () => {
    // 2026-04-05: 02:00 (+11:00, 15:00Z) goes back to 01:30 (+10:30): 01:30–01:59 comes twice.
    expect(slots("*/10 * * * *", "Australia/Lord_Howe", "2026-04-04T14:20:00Z", 7)).toEqual([
      "2026-04-04T14:30:00.000Z",
      "2026-04-04T14:40:00.000Z",
      "2026-04-04T14:50:00.000Z",
      "2026-04-04T15:00:00.000Z",
      "2026-04-04T15:10:00.000Z",
      "2026-04-04T15:20:00.000Z",
      "2026-04-04T15:30:00.000Z",
    ]);
    expect(slots("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T10:00:00Z", 2)).toEqual(["2026-04-04T14:45:00.000Z", "2026-04-05T15:15:00.000Z"]);
  });

  it("in London and Sydney a fixed-time job in the repeated hour runs at its first occurrence, as in New York", () => {
    // London 2026-10-25: 01:30 BST is 00:30Z, 01:30 GMT an hour later.
    expect(slots("30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", 1)).toEqual(["2026-10-25T00:30:00.000Z"]);
    // Sydney 2026-04-05: 02:30 AEDT is 15:30Z the day before, 02:30 AEST an hour later.
    expect(slots("30 2 * * *", "Australia/Sydney", "2026-04-04T10:00:00Z", 1)).toEqual(["2026-04-04T15:30:00.000Z"]);
    expect(slots("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 1)).toEqual(["2026-11-01T05:30:00.000Z"]);
  });
});

describe("jobs: a run that timed out but finished later", () => {
  it("records how the handler ended after its timeout, shows it, and still counts one failure", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const s = scheduler("order-effects", "*/10 * * * *", async () => {
      await slow;
      return "3 orders settled";
    });
    await tickAt(s, "2026-12-10T02:00:00Z"); // 10:00 in Shanghai; times out after 1 s
    expect((await jobsView("order-effects")).row[3]).toBe("timed out");

    app.clock.set("2026-12-10T02:07:00Z");
    release();
    await new Promise((r) => setTimeout(r, 100));
    const { row, failure } = await jobsView("order-effects");
    expect(row[3]).toBe("timed out, finished later at 2026-12-10 10:07 GMT+8: ok");
    expect(row[5]).toBe("1");
    expect(failure).toBe("order-effects: last failure at 2026-12-10 10:00 GMT+8: timed out after 1s; finished later at 2026-12-10 10:07 GMT+8: ok");
    expect(await app.store.jobRuns.findById("order-effects@2026-12-10T02:00:00.000Z").lean()).toMatchObject({ status: "timeout", late: { status: "ok", summary: "3 orders settled" } });
  });

  it("a late failure is shown with its error, in Chinese too, and is not counted again", async () => {
    let fail!: (e: Error) => void;
    const slow = new Promise<void>((_, reject) => (fail = reject));
    const s = scheduler("refund-expiry", "*/5 * * * *", async () => {
      await slow;
    });
    await tickAt(s, "2026-12-11T02:00:00Z");
    app.clock.set("2026-12-11T02:03:00Z");
    fail(new Error("payment API down"));
    await new Promise((r) => setTimeout(r, 100));
    const en = await jobsView("refund-expiry");
    expect(en.row[3]).toBe("timed out, finished later at 2026-12-11 10:03 GMT+8: failed");
    expect(en.row[5]).toBe("1");
    expect(en.failure).toBe("refund-expiry: last failure at 2026-12-11 10:00 GMT+8: timed out after 1s; finished later at 2026-12-11 10:03 GMT+8: failed: payment API down");
    const cn = await jobsView("refund-expiry", zh);
    expect(cn.row[3]).toBe("超时，之后于 2026-12-11 10:03 GMT+8 运行完毕：失败");
    expect(cn.failure).toBe("refund-expiry：最近一次失败于 2026-12-11 10:00 GMT+8：运行超过 1秒，已超时；之后于 2026-12-11 10:03 GMT+8 运行完毕：失败：payment API down");
  });
});

describe("jobs in Chinese: the scheduler's own reasons are in the reader's language", () => {
  it("a timed-out run, and one given up, read in Chinese; a handler's own error stays as thrown", async () => {
    const s = scheduler("low-stock", "*/5 * * * *", () => new Promise<void>(() => undefined)); // never ends
    await tickAt(s, "2026-12-12T02:00:00Z");
    expect((await jobsView("low-stock", zh)).failure).toBe("low-stock：最近一次失败于 2026-12-12 10:00 GMT+8：运行超过 1秒，已超时");

    // A failed housekeeping run whose retry comes after its shop day: not retried, said in Chinese.
    const hk = scheduler("housekeeping", "58 23 * * *", async () => {
      throw new Error("database blip");
    }, true);
    await tickAt(hk, "2026-12-12T15:58:00Z"); // 23:58 in Shanghai
    await tickAt(hk, "2026-12-12T16:01:00Z"); // 00:01: the retry is due, the shop day over
    expect((await jobsView("housekeeping", zh)).failure).toBe("housekeeping：最近一次失败于 2026-12-12 23:58 GMT+8：database blip；不再重试：运行失败；其营业日（2026-12-12）已结束");
    // In English as before.
    expect((await jobsView("housekeeping")).failure).toBe("housekeeping: last failure at 2026-12-12 23:58 GMT+8: database blip; not retried: run failed; its shop day (2026-12-12) is over");

    // A claim whose holder vanished, superseded by a later slot: lost, said in Chinese.
    await app.services.jobs.claim({ job: "daily-digest", slot: new Date("2026-12-12T01:00:00Z"), holder: "gone", leaseMs: 60_000, catchUp: false });
    const dd = scheduler("daily-digest", "0 9 * * *", async () => undefined);
    await tickAt(dd, "2026-12-13T01:00:30Z"); // the next day's 09:00: the old slot is superseded
    expect((await jobsView("daily-digest", zh)).failure).toBe("daily-digest：最近一次失败于 2026-12-12 09:00 GMT+8：所在实例失联；已被之后的计划时间取代");
  });
});

describe("alerts route: the audit entry says from → to", () => {
  it("records the channel(s) the route had before, also when it came from the configuration, for a change, off and default", async () => {
    const routed = await makeTestApp({ ALERT_ROUTES: "sla:slack:C0OLD" });
    try {
      /** The audit row's command cell of the invocation `ref`, as `audit` shows it. */
      const audited = async (ref: string) => {
        const rows = (await routed.run("shell:admin", 'audit command="alerts route"')).reply.table?.rows ?? [];
        return rows.find((row) => row.includes(ref))?.find((cell) => cell.startsWith("alerts route"));
      };
      const moved = await routed.run("shell:admin", "alerts route sla slack C0NEW");
      expect(moved.outcome).toBe("ok");
      expect(await audited(moved.ref)).toBe("alerts route sla slack C0NEW (C0OLD → C0NEW)");
      const off = await routed.run("shell:admin", "alerts route sla slack OFF");
      expect(await audited(off.ref)).toBe("alerts route sla slack OFF (C0NEW → off)");
      const back = await routed.run("shell:admin", "alerts route sla slack default");
      expect(back.reply.text).toContain("go to C0OLD");
      expect(await audited(back.ref)).toBe("alerts route sla slack default (off → C0OLD)");
      // Nothing changed: the entry is the typed line alone.
      const same = await routed.run("shell:admin", "alerts route sla slack C0OLD");
      expect(await audited(same.ref)).toBe("alerts route sla slack C0OLD");
    } finally {
      await routed.close();
    }
  });
});

describe("digest subscribe: direct messages on a platform this process does not run", () => {
  it("warns (en and zh) that the digests wait undelivered, when subscribing as a Discord user where only Slack runs", async () => {
    const bot = await makeTestApp();
    try {
      bot.services.alerts.setRunning(["shell", "slack"]);
      for (const id of ["discord:123456789012345678", "discord:223456789012345678", "slack:U0MIA"]) await bot.services.identity.grant(id, "manager", "shell:admin");
      // From the shell, acting as a Discord identity (`--as`).
      const as = (identity: string, text: string, locale?: "zh-CN") => bot.core.invoke({ identity, platform: "shell", via: "shell:admin", text, ...(locale ? { locale } : {}) });
      const r = await as("discord:123456789012345678", "digest subscribe");
      expect(r.outcome).toBe("ok");
      expect(r.reply.status).toBe("warning");
      expect(r.reply.text).toMatch(/^You will get the daily digest by direct message every day at 09:00/);
      expect(r.reply.text).toContain("\nwarning: direct messages to discord:123456789012345678 go out on discord, but this process runs shell, slack: they wait undelivered until a process that runs discord starts.");
      // Asked again: still said.
      expect((await as("discord:123456789012345678", "digest subscribe")).reply.text).toContain("warning: direct messages to discord:123456789012345678 go out on discord");
      const cn = await as("discord:223456789012345678", "digest subscribe", "zh-CN");
      expect(cn.reply.text).toContain("警告：发给 discord:223456789012345678 的私信经 discord 发送，但本进程运行的平台为：shell, slack；");
      // A Slack user here: no warning.
      const slack = await bot.core.invoke({ identity: "slack:U0MIA", platform: "slack", text: "digest subscribe" });
      expect(slack.reply.status).toBe("ok");
      expect(slack.reply.text).not.toContain("warning");
    } finally {
      await bot.close();
    }
  });
});
