import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../src/core/job.js";
import { silentLogger } from "../src/core/logger.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
});
afterAll(() => app.close());

const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });

describe("alerts route on Slack: channel ids", () => {
  it("takes a Slack channel id typed in lower case as the id (upper case), the same route as typed in upper case", async () => {
    const r = await app.run("shell:admin", "alerts route low_stock slack c0new0001");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe("low_stock alerts on slack now go to C0NEW0001.");
    expect(await app.store.alertRoutes.findById("low_stock:slack").lean()).toMatchObject({ channel: "C0NEW0001" });
    const again = await app.run("shell:admin", "alerts route low_stock slack C0NEW0001");
    expect(again.reply.code).toBe("already_routed");
    const list = await app.run("shell:admin", "alerts list");
    expect(list.reply.table!.rows.filter((row) => row[0] === "low_stock" && row[1] === "slack").map((row) => row[2])).toEqual(["C0NEW0001"]);
    // A private channel's id (G…) likewise.
    expect((await app.run("shell:admin", "alerts route sla slack g01abcdef")).reply.text).toBe("sla alerts on slack now go to G01ABCDEF.");
  });

  it("refuses a channel name (#ops, general, dev) saying how to find the id, in en and zh; nothing stored; audited", async () => {
    for (const name of ["#ops", "general", "dev", "growth"]) {
      const r = await app.run("shell:admin", `alerts route complaints slack ${name}`);
      expect([r.outcome, r.reply.code]).toEqual(["user_error", "bad_channel"]);
      expect(r.reply.text).toBe(
        `"${name}" is not a Slack channel id: alerts go to a channel by its id, which stays the same when the channel is renamed (click the channel's name at the top of the channel: the ID is at the bottom of the About tab, e.g. C0123ABCD), or off.`,
      );
      const audit = await app.store.audit.findById(r.ref).lean();
      expect(audit).toMatchObject({ command: "alerts route", outcome: "user_error", code: "bad_channel" });
    }
    const cn = await zh("alerts route complaints slack #ops");
    expect(cn.reply.text).toBe("\"#ops\" 不是 Slack 频道 ID：告警按频道 ID 发送，频道改名后 ID 不变（点击频道顶部的频道名称，在“关于”页底部可找到 ID，例如 C0123ABCD），或填 off。");
    expect(await app.store.alertRoutes.findById("complaints:slack").lean()).toBeNull();
    // off and default are not channel names.
    expect((await app.run("shell:admin", "alerts route complaints slack OFF")).reply.code).toBe("already_routed");
    expect((await app.run("shell:admin", "alerts route complaints slack default")).reply.code).toBe("already_default");
  });
});

describe("alerts route from a Slack message: a channel picked there", () => {
  it("takes Slack's channel markup (<#C0123ABCD|ops>, as a mention carries a picked #ops) as that channel's id", async () => {
    const r = await app.run("shell:admin", "alerts route digest slack <#C0DIG123|ops-digest>");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe("digest alerts on slack now go to C0DIG123.");
    expect(await app.store.alertRoutes.findById("digest:slack").lean()).toMatchObject({ channel: "C0DIG123" });
    expect((await app.run("shell:admin", "alerts route digest slack <#C0DIG123>")).reply.code).toBe("already_routed");
  });
});

describe("alerts route: the type and platform as people write them", () => {
  it("takes Slack, DISCORD, Refunds and COUPONS in any case, as other choices are read; a wrong one is still refused naming the choices", async () => {
    const r = await app.run("shell:admin", "alerts route Refunds Slack C0REF");
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe("refunds alerts on slack now go to C0REF.");
    expect(await app.store.alertRoutes.findById("refunds:slack").lean()).toMatchObject({ channel: "C0REF" });
    expect((await app.run("shell:admin", "alerts route COUPONS DISCORD 123456789012345678")).reply.text).toBe("coupons alerts on discord now go to 123456789012345678.");
    const bad = await app.run("shell:admin", "alerts route refunds Teams C0REF");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toContain('"Teams" is not a platform alerts can go to: shell, slack or discord.');
  });
});

describe("jobs: a timeout reads as a duration", () => {
  it("says how long the run was allowed in minutes and seconds, in en and zh, not in milliseconds", async () => {
    const job = checkJob(defineJob({ id: "low-stock", description: "low-stock", schedule: "*/5 * * * *", timeout: 1000, handler: () => new Promise<void>(() => undefined) }), "low-stock.job.ts", app.config);
    const s = new Scheduler({ jobs: [job], services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance: "T" });
    app.clock.set("2026-12-12T02:00:00Z");
    await s.tick(new Date("2026-12-12T02:00:00Z")); // times out after 1 s
    const failure = async (run: (text: string) => ReturnType<typeof zh>) => (await run("jobs")).reply.context?.find((c) => c.startsWith("low-stock"));
    const en = (text: string) => app.run("shell:admin", text);
    expect(await failure(en)).toBe("low-stock: last failure at 2026-12-12 10:00 GMT+8: timed out after 1s");
    expect(await failure(zh)).toBe("low-stock：最近一次失败于 2026-12-12 10:00 GMT+8：运行超过 1秒，已超时");
    // The real jobs' timeouts (minutes), and one with seconds besides: as the run records them.
    const id = "low-stock@2026-12-12T02:00:00.000Z";
    expect(await app.store.jobRuns.findById(id).lean()).toMatchObject({ status: "timeout", errorCode: "timeout", timeoutMs: 1000 });
    await app.store.jobRuns.updateOne({ _id: id }, { $set: { timeoutMs: 600_000 } });
    expect(await failure(en)).toBe("low-stock: last failure at 2026-12-12 10:00 GMT+8: timed out after 10m");
    expect(await failure(zh)).toBe("low-stock：最近一次失败于 2026-12-12 10:00 GMT+8：运行超过 10分钟，已超时");
    await app.store.jobRuns.updateOne({ _id: id }, { $set: { timeoutMs: 90_000 } });
    expect(await failure(en)).toBe("low-stock: last failure at 2026-12-12 10:00 GMT+8: timed out after 1m 30s");
    expect(await failure(zh)).toBe("low-stock：最近一次失败于 2026-12-12 10:00 GMT+8：运行超过 1分钟30秒，已超时");
  });
});
