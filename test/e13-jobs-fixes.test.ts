import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";
import { recorder } from "./helpers/outbound.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ QUIET_HOURS: "22:00-07:00", ALERT_ROUTES: "refunds:shell:managers,sla:slack:C0OLD,coupons:slack:C0CPN" });
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

describe("alerts route: alerts still waiting for the old channel follow the change", () => {
  it("a route turned off in quiet hours takes back the alerts held for it: none arrives in the morning", async () => {
    app.clock.set("2026-11-25T15:00:00Z"); // 23:00 in Shanghai
    const held = await app.services.alerts.send({ type: "refunds", key: "refund-remind:R-1", reply: { text: "R-1 waits", visibility: "public" } });
    expect(held.heldUntil?.toISOString()).toBe("2026-11-25T23:00:00.000Z");
    // Another type on the same platform is not touched.
    await app.services.alerts.send({ type: "coupons", key: "coupon-live:X", reply: { text: "X is live", visibility: "public" } });

    const r = await app.run("shell:admin", "alerts route refunds shell off");
    expect(r.reply.text).toBe("refunds alerts on shell are now off. 1 alert still waiting for managers (quiet hours, or retrying) was withdrawn.");

    app.clock.set("2026-11-25T23:00:00Z"); // 07:00: quiet hours over
    const shell = recorder("shell");
    const slack = recorder("slack");
    await app.services.outbox.dispatch(shell);
    await app.services.outbox.dispatch(slack);
    expect(shell.got).toEqual([]);
    expect(slack.got.map((g) => g.reply.text)).toEqual(["X is live"]);
    // Turning it off again changes nothing: said so.
    expect((await app.run("shell:admin", "alerts route refunds shell off")).reply.text).toBe("refunds alerts on shell are already off (turned off by shell:admin); nothing changed.");
  });

  it("a route moved to another channel sends the alert stuck on the old one there, once, and alerts list stops reporting it", async () => {
    app.clock.set("2026-11-26T04:00:00Z"); // 12:00 in Shanghai
    const chart = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const reply: Reply = { title: "SLA breached", text: "C-1", image: { data: chart, filename: "c.png", alt: "chart" }, visibility: "public" };
    await app.services.alerts.send({ type: "sla", key: "complaint-alert:C-1:resolutionBreach", reply, urgent: true });
    const slack = recorder("slack");
    slack.failing = new Error("not_in_channel");
    await app.services.outbox.dispatch(slack);

    app.clock.set("2026-11-26T04:30:00Z");
    const stuck = (await app.run("shell:mia", "alerts list")).reply.fields?.[0]?.value ?? "";
    expect(stuck).toMatch(/ sla → slack C0OLD \(waiting\): not_in_channel/);

    const r = await app.run("shell:admin", "alerts route sla slack C0NEW");
    expect(r.reply.text).toBe("sla alerts on slack now go to C0NEW. 1 alert still waiting for C0OLD (quiet hours, or retrying) will go to C0NEW instead.");
    expect((await app.run("shell:mia", "alerts list")).reply.fields?.[0]?.value ?? "").not.toContain("C0OLD");
    // The same alert raised again (a retried job run) is not queued a second time.
    expect((await app.services.alerts.send({ type: "sla", key: "complaint-alert:C-1:resolutionBreach", reply, urgent: true })).queued).toBe(0);

    slack.failing = null;
    await app.services.outbox.dispatch(slack);
    expect(slack.got.map((g) => [g.dest, g.reply.text])).toEqual([[{ kind: "channel", platform: "slack", channel: "C0NEW" }, "C-1"]]);
    expect([...(slack.got[0]!.reply.image!.data as Uint8Array)]).toEqual([...chart]);
    await app.services.outbox.dispatch(slack);
    expect(slack.got).toHaveLength(1);
  });
});

describe("daily digest: subscribers who leave while the run is queuing", () => {
  it("a subscriber who unsubscribes, or is demoted, while the digest is being queued gets no digest", async () => {
    for (const id of ["shell:una", "shell:dan", "shell:kim"]) {
      await app.services.identity.grant(id, "manager", "shell:admin");
      expect((await app.run(id, "digest subscribe")).outcome).toBe("ok");
    }
    // Between the job reading the subscribers and queuing their messages: una unsubscribes, dan is
    // made staff (both withdraw what is waiting for them, which is nothing yet).
    const rolesOf = app.services.identity.rolesOf.bind(app.services.identity);
    const spy = vi.spyOn(app.services.identity, "rolesOf").mockImplementationOnce(async (ids) => {
      const read = await rolesOf(ids);
      expect((await app.run("shell:una", "digest unsubscribe")).reply.text).toBe("You will no longer get the daily digest by direct message.");
      expect((await app.run("shell:admin", "role grant shell:dan staff")).outcome).toBe("ok");
      return read;
    });
    try {
      const jobs = await jobStepper(app, "daily-digest", Date.parse("2026-11-27T00:30:00Z")); // 08:30 in Shanghai
      await jobs.step(31 * 60_000); // 09:01: the 09:00 slot runs
    } finally {
      spy.mockRestore();
    }
    const dms = await app.store.outbox.find({ kind: "digest", "dest.kind": "user" }).lean();
    expect(dms.map((d) => d._id)).toEqual(["digest:2026-11-26:dm:shell:kim"]);
    const shell = recorder("shell");
    await app.services.outbox.dispatch(shell);
    expect(shell.got.map((g) => g.dest)).toEqual([{ kind: "user", identity: "shell:kim" }]);
  });
});

describe("jobs: a run whose instance died", () => {
  it("a run still 'running' past its claim says its instance stopped; one within its claim is plain running", async () => {
    app.clock.set("2026-11-28T02:00:00Z"); // 10:00 in Shanghai
    const run = (job: string, slot: string, leaseUntil: string) => ({ _id: `${job}@${new Date(slot).toISOString()}`, job, slot: new Date(slot), status: "running", holder: "web-1:4242:abc123", attempt: 1, leaseUntil: new Date(leaseUntil), catchUp: false, startedAt: new Date(slot) });
    await app.store.jobRuns.insertMany([
      // Housekeeping's 03:30 run: its instance was killed; its claim ran out at 03:36.
      run("housekeeping", "2026-11-27T19:30:00Z", "2026-11-27T19:36:00Z"),
      // Order effects, started a minute ago: still within its claim.
      run("order-effects", "2026-11-28T01:59:00Z", "2026-11-28T02:05:00Z"),
    ]);
    const rows = (await app.run("shell:admin", "jobs")).reply.table!.rows;
    const outcome = (job: string) => rows.find((r) => r[0] === job)![3];
    expect(outcome("housekeeping")).toBe("running, but its instance stopped: its claim ran out at 2026-11-28 03:36 GMT+8, and a running bot's next tick retries it or gives it up");
    expect(outcome("order-effects")).toBe("running");
    const zh = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "jobs", locale: "zh-CN" });
    expect(zh.reply.table!.rows.find((r) => r[0] === "housekeeping")![3]).toBe("运行中，但其所在实例已停止：占用已于 2026-11-28 03:36 GMT+8 到期，运行中的机器人下次检查时会重试或放弃");
  });
});

describe("quiet hours starting inside the hour repeated when clocks fall back", () => {
  it("stay quiet the second time round that hour, after they started the first time", async () => {
    // New York falls back at 02:00 EDT on 2026-11-01: 01:00–01:59 comes twice.
    const ny = await makeTestApp({ SHOP_TIMEZONE: "America/New_York", QUIET_HOURS: "01:30-06:00", ALERT_ROUTES: "refunds:shell:managers" }, "2026-11-01T05:45:00Z");
    try {
      const reply: Reply = { text: "R-2 waits", visibility: "public" };
      // 01:45 EDT: quiet, until 06:00 EST.
      expect((await ny.services.alerts.send({ type: "refunds", key: "r:1", reply })).heldUntil?.toISOString()).toBe("2026-11-01T11:00:00.000Z");
      // 01:10 EST, 40 minutes after quiet hours began: still quiet, not a half-hour hole.
      ny.clock.set("2026-11-01T06:10:00Z");
      expect((await ny.services.alerts.send({ type: "refunds", key: "r:2", reply })).heldUntil?.toISOString()).toBe("2026-11-01T11:00:00.000Z");
      const shell = recorder("shell");
      await ny.services.outbox.dispatch(shell);
      expect(shell.got).toEqual([]);
      // 01:10 EDT, the first time round, before they began: not quiet (nor is 06:00 EST).
      expect(ny.services.alerts.quietUntil(new Date("2026-11-01T05:10:00Z"))).toBeNull();
      expect(ny.services.alerts.quietUntil(new Date("2026-11-01T11:00:00Z"))).toBeNull();
    } finally {
      await ny.close();
    }
  });
});
