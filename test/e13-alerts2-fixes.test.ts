import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";
import { recorder } from "./helpers/outbound.js";

let app: TestApp;
beforeAll(async () => {
  // One app for the whole file: `jobs` reads the job schedules once per process (jobsOnce).
  app = await makeTestApp({ QUIET_HOURS: "22:00-07:00", HOUSEKEEPING_CRON: "58 23 * * *", ALERT_ROUTES: "digest:shell:managers,refunds:shell:managers,sla:slack:C0SLA" });
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const rows = async () => (await app.run("shell:mia", "alerts list")).reply.table!.rows;
const audited = (ref: string) => app.store.audit.findById(ref).lean();

describe("alerts route to what is in effect already", () => {
  it("says 'already …' as info, stores nothing new, and is audited with its code, for off and for a channel", async () => {
    const first = await app.run("shell:admin", "alerts route digest shell off");
    expect([first.outcome, first.code, first.reply.text]).toEqual(["ok", undefined, "digest alerts on shell are now off."]);
    const stored = await app.store.alertRoutes.findById("digest:shell").lean();
    app.clock.advance(60_000);

    const twice = await app.run("shell:admin", "alerts route digest shell off");
    expect([twice.outcome, twice.code, twice.reply.status, twice.reply.text]).toEqual(["ok", "already_routed", "info", "digest alerts on shell are already off (turned off by shell:admin); nothing changed."]);
    expect(await audited(twice.ref)).toMatchObject({ command: "alerts route", outcome: "ok", code: "already_routed" });
    expect(await app.store.alertRoutes.findById("digest:shell").lean()).toEqual(stored);
    expect((await zh("shell:admin", "alerts route digest shell off")).reply.text).toBe("shell 上的 digest 告警已经是关闭的（由 shell:admin 关闭），未做任何更改。");

    expect((await app.run("shell:admin", "alerts route sla slack C0NEW")).reply.text).toBe("sla alerts on slack now go to C0NEW.");
    const same = await app.run("shell:admin", "alerts route sla slack C0NEW");
    expect([same.code, same.reply.text]).toEqual(["already_routed", "sla alerts on slack already go to C0NEW (set by shell:admin); nothing changed."]);
  });
});

describe("alerts route back to the configuration", () => {
  it("the configured channel is answered as in effect, not stored: the configuration keeps the route", async () => {
    const r = await app.run("shell:admin", "alerts route refunds shell managers");
    expect([r.outcome, r.code, r.reply.text]).toEqual(["ok", "already_routed", "refunds alerts on shell already go to managers, as the configuration (ALERT_ROUTES) says; nothing changed."]);
    expect(await app.store.alertRoutes.findById("refunds:shell").lean()).toBeNull();
    expect(await rows()).toContainEqual(["refunds", "shell", "managers", "configuration"]);
  });

  it("`default` drops the admin's route, says what is in effect, moves alerts waiting for the dropped channel, and is audited", async () => {
    expect((await app.run("shell:admin", "alerts route refunds shell ops")).reply.text).toBe("refunds alerts on shell now go to ops.");
    app.clock.set("2026-11-25T15:00:00Z"); // 23:00 in Shanghai: quiet hours hold it for ops
    await app.services.alerts.send({ type: "refunds", key: "refund-remind:R-9", reply: { text: "R-9 waits", visibility: "public" } as Reply });

    const back = await app.run("shell:admin", "alerts route refunds shell Default");
    expect([back.outcome, back.code, back.reply.status, back.reply.text]).toEqual([
      "ok",
      undefined,
      "ok",
      "refunds alerts on shell follow the configuration (ALERT_ROUTES) again: they go to managers. 1 alert still waiting for ops (quiet hours, or retrying) will go to managers instead.",
    ]);
    expect(await audited(back.ref)).toMatchObject({ command: "alerts route", outcome: "ok", args: "refunds shell Default (ops → managers)" });
    expect(await app.store.alertRoutes.findById("refunds:shell").lean()).toBeNull();
    expect(await rows()).toContainEqual(["refunds", "shell", "managers", "configuration"]);
    app.clock.set("2026-11-25T23:00:00Z"); // 07:00: quiet hours over
    const shell = recorder("shell");
    await app.services.outbox.dispatch(shell);
    expect(shell.got.map((g) => [g.dest, g.reply.text])).toEqual([[{ kind: "channel", platform: "shell", channel: "managers" }, "R-9 waits"]]);

    // Nothing stored any more: said, nothing changed.
    const again = await app.run("shell:admin", "alerts route refunds shell default");
    expect([again.outcome, again.code, again.reply.status, again.reply.text]).toEqual(["ok", "already_default", "info", "refunds alerts on shell already follow the configuration (ALERT_ROUTES): they go to managers; nothing changed."]);
    expect((await zh("shell:admin", "alerts route refunds shell default")).reply.text).toBe("shell 上的 refunds 告警已经按配置（ALERT_ROUTES）发送：发送到 managers，未做任何更改。");
  });

  it("`default` where the configuration routes nothing turns the alerts off there, and says so; help shows it", async () => {
    expect((await app.run("shell:admin", "alerts route refunds discord 123456789012345678")).outcome).toBe("ok");
    // Not delivered yet (no Discord sender has run): withdrawn with the route, as `off` does.
    await app.services.alerts.send({ type: "refunds", key: "refund-failed:R-7", reply: { text: "R-7 failed", visibility: "public" }, urgent: true });
    const r = await app.run("shell:admin", "alerts route refunds discord default");
    expect(r.reply.text).toBe(
      "refunds alerts on discord follow the configuration (ALERT_ROUTES) again, which routes none there: they are off. 1 alert still waiting for 123456789012345678 (quiet hours, or retrying) was withdrawn.",
    );
    expect(await app.store.outbox.countDocuments({ platform: "discord" })).toBe(0);
    expect((await zh("shell:admin", "alerts route refunds discord default")).reply.text).toBe("discord 上的 refunds 告警已经按配置（ALERT_ROUTES）发送，而配置没有路由到那里，未做任何更改。");
    expect((await rows()).filter((x) => x[1] === "discord")).toEqual([]);
    const help = (await app.run("shell:admin", "help alerts route")).reply.fields!.map((f) => f.value);
    expect(help).toContain("`alerts route <type> <platform> <channel|off|default>`");
    expect(help.join("\n")).toContain("`alerts route low_stock shell default`");
  });
});

describe("alerts route off where nothing is routed, and admin offs in alerts list", () => {
  it("off on a platform with no route says nothing was routed there, and stores nothing", async () => {
    const r = await app.run("shell:admin", "alerts route digest slack off");
    expect([r.code, r.reply.status, r.reply.text]).toEqual(["already_routed", "info", "digest alerts on slack are already off: neither the configuration (ALERT_ROUTES) nor an admin routes them there; nothing changed."]);
    expect(await app.store.alertRoutes.findById("digest:slack").lean()).toBeNull();
  });

  it("alerts list shows an admin's off where the configuration routes nothing, until `default` drops it", async () => {
    // Stored before this fix (or by a route that was later taken out of ALERT_ROUTES).
    await app.store.alertRoutes.create({ _id: "coupons:discord", type: "coupons", platform: "discord", channel: "off", setBy: "shell:admin", setAt: new Date("2026-11-25T04:00:00Z") });
    expect(await rows()).toContainEqual(["coupons", "discord", "off", "shell:admin on 2026-11-25 12:00 GMT+8"]);
    const zhRows = (await zh("shell:mia", "alerts list")).reply.table!.rows;
    expect(zhRows).toContainEqual(["coupons", "discord", "关闭", "shell:admin（2026-11-25 12:00 GMT+8）"]);
    expect((await app.run("shell:admin", "alerts route coupons discord default")).reply.text).toBe("coupons alerts on discord follow the configuration (ALERT_ROUTES) again, which routes none there: they are off.");
    expect((await rows()).filter((x) => x[0] === "coupons")).toEqual([]);
  });
});

describe("jobs: a failed run whose retry falls on the next shop day", () => {
  it("says it is not retried, as the scheduler then gives it up (HOUSEKEEPING_CRON=58 23 * * *)", async () => {
    const jobs = await jobStepper(app, "housekeeping", Date.parse("2026-11-30T15:57:00Z")); // 23:57 in Shanghai
    await jobs.step(0);
    const spy = vi.spyOn(app.services.stock, "settlePending").mockRejectedValueOnce(new Error("database blip"));
    try {
      await jobs.step(60_000); // 23:58: the run fails; its retry would be at 00:00, the next shop day
    } finally {
      spy.mockRestore();
    }
    const outcome = async (locale: "en" | "zh-CN" = "en") => (await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "jobs", locale })).reply.table!.rows.find((x) => x[0] === "housekeeping")![3];
    expect(await outcome()).toBe("failed; not retried: its shop day (2026-11-30) is over before the retry is due");
    expect(await outcome("zh-CN")).toBe("失败；不会重试：重试时间到来前其营业日（2026-11-30）已结束");
    await jobs.step(2 * 60_000); // 00:00: the scheduler gives it up
    expect((await app.store.jobRuns.findById("housekeeping@2026-11-30T15:58:00.000Z").lean())?.error).toBe("database blip; not retried: run failed; its shop day (2026-11-30) is over");
    expect(await outcome()).toBe("failed");
  });

  it("a retry due mid-minute is shown at the tick that makes it: the next shop day's first, or the minute after", async () => {
    const run = async (slot: string, retryAt: string) => {
      const claim = await app.services.jobs.claim({ job: "housekeeping", slot: new Date(slot), holder: "A", leaseMs: 60_000, catchUp: false });
      await app.services.jobs.finish(claim!, { status: "failed", error: "database blip", retryAt: new Date(retryAt) });
    };
    const outcome = async () => (await app.run("shell:admin", "jobs")).reply.table!.rows.find((x) => x[0] === "housekeeping")![3];
    app.clock.set("2026-12-01T15:58:30Z");
    await run("2026-12-01T15:58:00Z", "2026-12-01T15:59:30Z"); // 23:59:30: the tick at 00:00 finds the day over
    expect(await outcome()).toBe("failed; not retried: its shop day (2026-12-01) is over before the retry is due");
    // Due at 23:58:40 (a run cut short by a shutdown is due again at once): the tick at 23:59 retries it, the same day.
    app.clock.set("2026-12-02T15:58:40Z");
    await run("2026-12-02T15:58:00Z", "2026-12-02T15:58:40Z");
    expect(await outcome()).toBe("failed; retry at 2026-12-02 23:59 GMT+8");
  });
});
