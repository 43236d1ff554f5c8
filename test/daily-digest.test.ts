import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { addDays } from "../src/core/format.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const HOUR = 3_600_000;
let app: TestApp;
let jobs: JobStepper;
// Friday 2026-11-27 08:00 in Shanghai.
const T0 = Date.parse("2026-11-27T00:00:00Z");

/** One paid order a day from 2026-11-16 to 2026-11-29: day i (0-based) totals (i + 1) × 10.00 CNY. */
const DAYS = Array.from({ length: 14 }, (_, i) => addDays("2026-11-16", i));
const total = (i: number) => (i + 1) * 1000;

beforeAll(async () => {
  app = await withCast(makeTestApp({}, new Date(T0).toISOString()), { "shell:max": "manager", "shell:mia": "manager", "shell:sam": "staff" });
  await app.store.orders.insertMany(
    DAYS.map((day, i) =>
      paidOrder(`ORD-D${i}`, total(i), `${day}T04:00:00Z`, {
        customerId: `CUST-${i}`,
        // A refund of 5.00 on the 2026-11-25 order, that day.
        ...(day === "2026-11-25" ? { refundedTotal: 500, refunds: [{ requestId: "R-TEST01", amount: 500, at: new Date(`${day}T04:00:00Z`), day }] } : {}),
      }),
    ),
  );
  // Written straight to the database, so the daily rollup (the chart) is rebuilt, but for two
  // days whose rollup is off; the weekly summary counts from the orders, so they do not matter:
  await app.services.digest.rebuildRollups(DAYS[0]!, DAYS.at(-1)!);
  await app.store.salesDays.deleteOne({ _id: `${DAYS[3]}|CNY` });
  // one missing, one whose order count is right but whose GMV is off.
  await app.store.salesDays.updateOne({ _id: `${DAYS[10]}|CNY` }, { $inc: { gmv: 12345 } });
  jobs = await jobStepper(app, "daily-digest", T0);
});
afterAll(() => app.close());

async function tickUntil(iso: string, stepMs = HOUR): Promise<void> {
  const end = Date.parse(iso);
  while (jobs.t < end) await jobs.step(Math.min(stepMs, end - jobs.t));
}

const digestDocs = async () => app.store.outbox.find({ kind: "digest" }).sort({ _id: 1 }).lean();

describe("digest subscribe|unsubscribe", () => {
  it("managers opt in and out; staff cannot", async () => {
    const on = await app.run("shell:max", "digest subscribe");
    expect(on.outcome).toBe("ok");
    // When, in words, with the next one (Friday 08:00 in Shanghai now): not the cron expression.
    expect(on.reply.text).toBe("You will get the daily digest by direct message every day at 09:00 (Asia/Shanghai), next 2026-11-27 09:00.");
    const again = await app.run("shell:max", "digest subscribe");
    expect(again.reply.code).toBe("already_subscribed");
    expect((await app.run("shell:mia", "digest subscribe")).outcome).toBe("ok");
    const off = await app.run("shell:mia", "digest unsubscribe");
    expect(off.reply.text).toBe("You will no longer get the daily digest by direct message.");
    expect((await app.run("shell:mia", "digest unsubscribe")).reply.code).toBe("not_subscribed");
    expect((await app.run("shell:sam", "digest subscribe")).outcome).not.toBe("ok");
    expect(await app.services.digest.subscribers()).toEqual(["shell:max"]);
  });

  it("a digest held for a subscriber (quiet hours) is withdrawn when they unsubscribe or lose the manager role", async () => {
    const held = (id: string) => ({ _id: `digest:2026-11-20:dm:${id}`, kind: "digest", platform: "shell", dest: { kind: "user", identity: id }, reply: { title: "Daily sales", status: "info", visibility: "public" }, status: "pending", attempts: 0, notBefore: new Date("2099-01-01T00:00:00Z"), createdAt: new Date() });
    await app.services.identity.grant("shell:held1", "manager", "shell:admin");
    await app.services.identity.grant("shell:held2", "manager", "shell:admin");
    await app.services.identity.grant("shell:held3", "manager", "shell:admin");
    await app.store.outbox.insertMany([held("shell:held1"), held("shell:held2"), held("shell:held3"), held("shell:max")]);
    expect((await app.run("shell:held1", "digest unsubscribe")).outcome).toBe("ok");
    expect((await app.run("shell:admin", "role grant shell:held2 staff")).outcome).toBe("ok");
    expect((await app.run("shell:admin", "role revoke shell:held3")).outcome).toBe("ok");
    // A manager who stays keeps theirs.
    expect((await app.store.outbox.find({ _id: /^digest:2026-11-20:dm:/ }).lean()).map((d) => d._id)).toEqual(["digest:2026-11-20:dm:shell:max"]);
    await app.store.outbox.deleteOne({ _id: "digest:2026-11-20:dm:shell:max" });
  });

  it("with quiet hours over the digest's time, subscribing says when it really arrives", async () => {
    const quiet = await makeTestApp({ QUIET_HOURS: "22:00-09:30" }, new Date(T0).toISOString());
    try {
      await quiet.services.identity.grant("shell:q", "manager", "shell:admin");
      const on = await quiet.run("shell:q", "digest subscribe");
      expect(on.reply.text).toBe("You will get the daily digest by direct message every day at 09:00 (Asia/Shanghai), next 2026-11-27 09:00. Quiet hours hold it until 2026-11-27 09:30: the next one arrives then.");
    } finally {
      await quiet.close();
    }
  });

  it("a subscriber demoted below manager can still unsubscribe (anyone may)", async () => {
    await app.services.identity.grant("shell:dee", "manager", "shell:admin");
    expect((await app.run("shell:dee", "digest subscribe")).outcome).toBe("ok");
    await app.services.identity.grant("shell:dee", "viewer", "shell:admin");
    const off = await app.run("shell:dee", "digest unsubscribe");
    expect(off.outcome).toBe("ok");
    expect(off.reply.text).toBe("You will no longer get the daily digest by direct message.");
    expect(await app.services.digest.subscribers()).toEqual(["shell:max"]);
    // Someone never subscribed is told so, not refused.
    expect((await app.run("shell:nobody", "digest unsubscribe")).reply.code).toBe("not_subscribed");
  });

  it("a schedule that is not daily at one time is named as it is, with its next run", async () => {
    const weekdays = await makeTestApp({ DIGEST_CRON: "30 8 * * 1-5" }, new Date(T0).toISOString());
    try {
      await weekdays.services.identity.grant("shell:max", "manager", "shell:admin");
      // Friday 08:00: the next weekday 08:30 is today's.
      expect((await weekdays.run("shell:max", "digest subscribe")).reply.text).toBe(
        "You will get the daily digest by direct message on the schedule `30 8 * * 1-5` (Asia/Shanghai), next 2026-11-27 08:30.",
      );
    } finally {
      await weekdays.close();
    }
  });

  it("a schedule that skips days (`*/2` in a day field) is named as it is, not as every day", async () => {
    for (const [cron, next] of [
      ["0 9 */2 * *", "2026-11-27 09:00"],
      ["0 9 * * */2", "2026-11-28 09:00"],
    ] as const) {
      const skipping = await makeTestApp({ DIGEST_CRON: cron }, new Date(T0).toISOString());
      try {
        await skipping.services.identity.grant("shell:max", "manager", "shell:admin");
        expect((await skipping.run("shell:max", "digest subscribe")).reply.text).toBe(`You will get the daily digest by direct message on the schedule \`${cron}\` (Asia/Shanghai), next ${next}.`);
      } finally {
        await skipping.close();
      }
    }
    // Every day written out in full is still every day.
    const full = await makeTestApp({ DIGEST_CRON: "0 9 1-31 * 0-6" }, new Date(T0).toISOString());
    try {
      await full.services.identity.grant("shell:max", "manager", "shell:admin");
      expect((await full.run("shell:max", "digest subscribe")).reply.text).toBe("You will get the daily digest by direct message every day at 09:00 (Asia/Shanghai), next 2026-11-27 09:00.");
    } finally {
      await full.close();
    }
  });

  it("a manager by Discord role alone is told to get the role granted, not subscribed to messages that would never come", async () => {
    const r = await app.core.invoke({ identity: "discord:555000111", platform: "discord", text: "digest subscribe", platformRole: "manager" });
    expect(r.reply.code).toBe("role_not_stored");
    expect(r.reply.text).toContain("role grant discord:555000111 manager");
    expect(await app.services.digest.subscribers()).toEqual(["shell:max"]);
    await app.services.identity.grant("discord:555000111", "manager", "shell:admin");
    expect((await app.core.invoke({ identity: "discord:555000111", platform: "discord", text: "digest subscribe", platformRole: "manager" })).outcome).toBe("ok");
    expect(await app.services.digest.subscribers()).toEqual(["discord:555000111", "shell:max"]);
    await app.run("discord:555000111", "digest unsubscribe");
  });
});

describe("daily-digest job", () => {
  it("sends yesterday's digest with its chart once a day to the digest channel and to subscribers only", async () => {
    // Hourly ticks from Friday 08:00 to Sunday 23:00 (Shanghai): the 09:00 slots of Fri, Sat and Sun.
    await tickUntil("2026-11-29T15:00:00Z");
    const docs = await digestDocs();
    expect(docs.map((d) => d._id)).toEqual([
      "digest:2026-11-26:dm:shell:max",
      "digest:2026-11-26:shell:managers",
      "digest:2026-11-27:dm:shell:max",
      "digest:2026-11-27:shell:managers",
      "digest:2026-11-28:dm:shell:max",
      "digest:2026-11-28:shell:managers",
    ]);
    const channel = docs.find((d) => d._id === "digest:2026-11-26:shell:managers")!;
    expect(channel.dest).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
    const reply = reviveReply(channel.reply);
    expect(reply.title).toBe("Daily digest: 2026-11-26");
    // Stored for delivery with its layout: the figures before the lists on Slack and in the shell too.
    expect(reply.tableFirst).toBe(true);
    expect(reply.image!.filename).toBe("digest-2026-11-26.png");
    expect([...reply.image!.data.slice(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(reply.table!.rows[0]).toEqual(expect.arrayContaining(["GMV", "CN¥110.00"]));
    expect(reviveReply(docs[0]!.reply).image!.filename).toBe("digest-2026-11-26.png");
  });

  it("on Monday adds the weekly summary (last 7 days vs the 7 before); an outage across 09:00 sends once on return", async () => {
    // Down from Sunday 23:00 to Monday 11:00: the 09:00 slot is caught up once.
    jobs.t = Date.parse("2026-11-30T03:00:00Z");
    await tickUntil("2026-11-30T06:00:00Z");
    const docs = (await digestDocs()).filter((d) => d._id.includes("2026-11-29"));
    expect(docs.map((d) => d._id)).toEqual([
      "digest-week:2026-11-29:dm:shell:max",
      "digest-week:2026-11-29:shell:managers",
      "digest:2026-11-29:dm:shell:max",
      "digest:2026-11-29:shell:managers",
    ]);
    const week = reviveReply(docs.find((d) => d._id === "digest-week:2026-11-29:shell:managers")!.reply);
    expect(week.title).toBe("Weekly summary: 2026-11-23 to 2026-11-29");
    // Independent sums: days 7..13 (2026-11-23..29) and 0..6.
    const sum = (from: number) => Array.from({ length: 7 }, (_, i) => total(from + i)).reduce((a, b) => a + b, 0);
    const yuan = (n: number) => `CN¥${(n / 100).toFixed(2)}`;
    const [gmv, orders, refunds, net] = week.table!.rows;
    expect(gmv).toEqual(["GMV", yuan(sum(7)), yuan(sum(0)), "+175.0%"]);
    expect(orders!.slice(1, 3)).toEqual(["7", "7"]);
    expect(refunds!.slice(1, 3)).toEqual([yuan(500), yuan(0)]);
    expect(net!.slice(1, 3)).toEqual([yuan(sum(7) - 500), yuan(sum(0))]);
    // Sales up, refunds from nothing ("new", never an anomaly): nothing flagged, no other currency.
    expect(week.status).toBe("info");
    expect(week.text).toBeUndefined();
    expect(week.context!.join(" ")).not.toMatch(/another currency/);

    // The rest of Monday and Tuesday morning: Tuesday's digest only, no second weekly summary.
    await tickUntil("2026-12-01T02:00:00Z");
    const all = await digestDocs();
    expect(all.filter((d) => d._id.startsWith("digest-week:"))).toHaveLength(2);
    expect(all.filter((d) => d._id.startsWith("digest:2026-11-30:")).map((d) => d._id)).toEqual(["digest:2026-11-30:dm:shell:max", "digest:2026-11-30:shell:managers"]);
    expect(all).toHaveLength(12);
  });

  it("a week whose refunds exceed its sales shows its negative net with the minus sign the daily digest prints", async () => {
    // A refund of ¥50.00 on 2026-12-02 of an order sold weeks before: that week's net is −¥50.00.
    await app.store.orders.updateOne({ _id: "ORD-D0" }, { $set: { refundedTotal: 5_000, refunds: [{ requestId: "R-WEEK01", amount: 5_000, at: new Date("2026-12-02T04:00:00Z"), day: "2026-12-02" }] } });
    // One sale that week in another currency, left out of the figures and said so.
    await app.store.orders.insertMany([paidOrder("ORD-USD1", 9_900, "2026-12-03T04:00:00Z", { currency: "USD" })]);
    await tickUntil("2026-12-07T02:00:00Z", 6 * HOUR);
    const week = reviveReply((await app.store.outbox.findById("digest-week:2026-12-06:shell:managers").lean())!.reply);
    const net = week.table!.rows.at(-1)!;
    expect(net[1]).toBe("\u2212CN¥50.00");
    expect(net.join(" ")).not.toContain("-");
    // No sales after 7 the week before (over DIGEST_ANOMALY_MIN_COUNT): flagged as the daily digest
    // flags a fall; refunds (1 against 1) are too few to judge.
    const [gmv, orders, refunds] = week.table!.rows;
    expect(week.status).toBe("warning");
    expect(gmv![3]).toBe("\u2212100.0% ⚠");
    expect(orders![3]).toBe("\u2212100.0% ⚠");
    expect(refunds![3]).not.toContain("⚠");
    expect(net[3]).toContain("⚠");
    expect(week.text).toMatch(/^⚠ Anomalies \(moves of \d+% or more the wrong way\): GMV \u2212100\.0% vs 7 days before; Paid orders \u2212100\.0% vs 7 days before; /);
    expect(week.context![0]).toBe("1 paid order in a currency other than CNY is left out.");
  });
});

describe("job schedules in configuration", () => {
  it("defaults DIGEST_CRON to 09:00 daily and names a malformed job schedule's variable", () => {
    expect(loadConfig({}).digestCron).toBe("0 9 * * *");
    expect(loadConfig({}).refundRemindHours).toBe(24);
    expect(() => loadConfig({ DIGEST_CRON: "0 25 * * *" })).toThrow(/DIGEST_CRON/);
    expect(() => loadConfig({ COUPON_SCHEDULE_CRON: "every minute" })).toThrow(/COUPON_SCHEDULE_CRON/);
    expect(() => loadConfig({ REFUND_REMIND_HOURS: "0" })).toThrow(/REFUND_REMIND_HOURS/);
  });
});
