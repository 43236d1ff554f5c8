import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import housekeeping from "../jobs/housekeeping.job.js";
import { silentLogger } from "../src/core/logger.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { field, makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;

/** A coupon created at the clock's time, starting `startIn` ms after it and ending `endIn` ms after it. */
async function scheduled(code: string, startIn: number, endIn: number): Promise<void> {
  const now = app.clock.now().getTime();
  await app.store.coupons.create({
    _id: code,
    type: "percent",
    value: 10,
    currency: "CNY",
    minSpend: 0,
    startsAt: new Date(now + startIn),
    endsAt: new Date(now + endIn),
    status: "active",
    draftId: `D-${code}`,
    createdBy: "shell:max",
    confirmedBy: "shell:max",
    createdAt: new Date(now),
    history: [{ action: "launched", by: "shell:max", at: new Date(now) }],
  });
}

const run = async (line: string, who = "shell:max") => {
  const r = await app.run(who, line);
  expect(r.outcome, r.reply.text).toBe("ok");
  return r;
};
const runHousekeeping = () =>
  housekeeping.handler({ services: app.services, clock: app.clock, logger: silentLogger, config: app.config, slot: app.clock.now(), catchUp: false, signal: new AbortController().signal });
const draftStatus = async (id: string) => (await app.store.couponDrafts.findById(id).lean())!.status;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => app.close());

describe("a coupon paused from before its start until its end never ran", () => {
  it("`coupon expire` after the start of a coupon paused before it says it never went live, in its reply, announcement, show and list", async () => {
    app.clock.set(new Date(T0));
    await scheduled("HUSH", 2 * HOUR, 5 * DAY); // starts 14:00 Shanghai
    await run("coupon pause HUSH");
    app.clock.set(new Date(T0 + 3 * HOUR)); // past its start, still paused
    const r = await run("coupon expire HUSH");
    expect(r.reply.text).toContain("never went live");
    expect(r.reply.text).toContain("2026-11-25 14:00");
    expect(r.reply.text).not.toContain("ended in shopops before its start");
    const notice = reviveReply((await app.store.outbox.findById("coupon-expired:HUSH:shell:managers").lean())!.reply);
    expect(notice.fields!.find((f) => f.label === "Starts")!.value).toMatch(/^never \(was to start 2026-11-25 14:00 GMT\+8\)$/);
    const show = await run("coupon show HUSH");
    expect(field(show, "Starts")).toMatch(/^never \(was to start 2026-11-25 14:00 GMT\+8\)$/);
    const list = await run("coupon list expired");
    expect(list.reply.table!.rows.find((row) => row[0] === "HUSH")![3]).toBe("never ran (ended 2026-11-25)");
  });

  it("says so in Chinese too", async () => {
    const zh = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
    try {
      await zh.services.identity.grant("shell:wang", "manager", "shell:admin");
      zh.clock.set(new Date(T0));
      await zh.store.coupons.create({
        _id: "HUSHZH", type: "percent", value: 10, currency: "CNY", minSpend: 0, startsAt: new Date(T0 + 2 * HOUR), endsAt: new Date(T0 + 5 * DAY),
        status: "active", draftId: "D-HUSHZH", createdBy: "shell:wang", confirmedBy: "shell:wang", createdAt: new Date(T0), history: [{ action: "launched", by: "shell:wang", at: new Date(T0) }],
      });
      expect((await zh.run("shell:wang", "coupon pause HUSHZH")).outcome).toBe("ok");
      zh.clock.set(new Date(T0 + 3 * HOUR));
      const r = await zh.run("shell:wang", "coupon expire HUSHZH");
      expect(r.outcome).toBe("ok");
      expect(r.reply.text).toContain("从未生效");
      expect(r.reply.text).toContain("2026-11-25 14:00");
    } finally {
      await zh.close();
    }
  });

  it("a paused coupon whose end passes by its date while still paused since before its start reads as never ran; one that ran before its pause does not", async () => {
    app.clock.set(new Date(T0));
    await scheduled("QUIET", HOUR, 3 * HOUR);
    await scheduled("RAN", 0, 3 * HOUR);
    await run("coupon pause QUIET");
    app.clock.set(new Date(T0 + 30 * MIN));
    await run("coupon pause RAN");
    app.clock.set(new Date(T0 + 4 * HOUR));
    const quiet = await run("coupon show QUIET");
    expect(field(quiet, "Starts")).toMatch(/^never \(was to start 2026-11-25 13:00 GMT\+8\)$/);
    const ran = await run("coupon show RAN");
    expect(field(ran, "Starts")).toMatch(/^2026-11-25 12:00/);
    const list = await run("coupon list expired");
    expect(list.reply.table!.rows.find((row) => row[0] === "QUIET")![3]).toBe("never ran (ended 2026-11-25)");
    expect(list.reply.table!.rows.find((row) => row[0] === "RAN")![3]).toBe("2026-11-25 → 2026-11-25");
    // The job's expiry announcement says it too.
    const jobs = await jobStepper(app, "coupon-schedule", T0 + 4 * HOUR);
    await jobs.step(MIN);
    const notice = reviveReply((await app.store.outbox.findById("coupon-expired:QUIET:shell:managers").lean())!.reply);
    expect(notice.fields!.find((f) => f.label === "Starts")!.value).toMatch(/^never \(was to start 2026-11-25 13:00 GMT\+8\)$/);
    // Still paused and not ended yet: not "never" (it may still be resumed).
    await scheduled("WAIT", HOUR, DAY);
    await run("coupon pause WAIT");
    app.clock.set(new Date(app.clock.now().getTime() + 2 * HOUR));
    expect(field(await run("coupon show WAIT"), "Starts")).not.toContain("never");
  });
});

describe("a preview left confirming by a Confirm that died", () => {
  it("once its end has passed, a later Confirm press closes it as never launched; housekeeping closes another; a Confirm still under way is left alone", async () => {
    app.clock.set(new Date(T0 + 10 * DAY)); // 2026-12-05 12:00 in Shanghai
    const preview = await run('coupon launch code=GONE type=percent value=10 end="2026-12-05 12:20"');
    const confirm = preview.reply.actions![0]!.id;
    const id = confirm.split(" ")[2]!;
    // The process stops after claiming the draft, before inserting the coupon.
    vi.spyOn(app.store.coupons, "create").mockRejectedValueOnce(new Error("stopped"));
    expect((await app.run("shell:max", confirm)).outcome).not.toBe("ok");
    expect(await draftStatus(id)).toBe("confirming");
    // Past its end, but soon after its preview: a Confirm could still be under way; left as is.
    app.clock.set(new Date(T0 + 10 * DAY + 25 * MIN));
    expect((await app.run("shell:max", confirm)).code).toBe("stale_preview");
    expect(await draftStatus(id)).toBe("confirming");
    // Long after: closed, and pressed again it says the same.
    app.clock.set(new Date(T0 + 10 * DAY + HOUR));
    const late = await app.run("shell:max", confirm);
    expect(late.code).toBe("stale_preview");
    expect(late.reply.text).toContain("Nothing was launched");
    expect(await draftStatus(id)).toBe("ended");
    expect(await app.store.coupons.exists({ _id: "GONE" })).toBeFalsy();
    expect((await app.run("shell:max", confirm)).code).toBe("stale_preview");

    // Another, never pressed again: housekeeping closes it.
    app.clock.set(new Date(T0 + 11 * DAY));
    const p2 = await run('coupon launch code=GONE2 type=percent value=10 end="2026-12-06 12:20"');
    const id2 = p2.reply.actions![0]!.id.split(" ")[2]!;
    vi.spyOn(app.store.coupons, "create").mockRejectedValueOnce(new Error("stopped"));
    expect((await app.run("shell:max", p2.reply.actions![0]!.id)).outcome).not.toBe("ok");
    app.clock.set(new Date(T0 + 11 * DAY + 2 * HOUR));
    const summary = await runHousekeeping();
    expect(summary).toContain("closed 1 coupon preview left confirming past its end");
    expect(await draftStatus(id2)).toBe("ended");
  });

  it("a draft closed while a stalled Confirm was inserting its coupon ends confirmed", async () => {
    app.clock.set(new Date(T0 + 12 * DAY));
    const p = await run('coupon launch code=SLOW type=percent value=10 end="2026-12-07 12:20"');
    const id = p.reply.actions![0]!.id.split(" ")[2]!;
    // A Confirm claims the draft, then stalls; meanwhile housekeeping runs long after.
    const create = app.store.coupons.create.bind(app.store.coupons);
    vi.spyOn(app.store.coupons, "create").mockImplementationOnce((async (doc: unknown) => {
      app.clock.set(new Date(T0 + 12 * DAY + 2 * HOUR));
      await runHousekeeping();
      return create(doc as never);
    }) as never);
    const r = await app.run("shell:max", p.reply.actions![0]!.id);
    expect(r.code ?? r.outcome).not.toBe("stale_preview");
    expect(await app.store.coupons.exists({ _id: "SLOW" })).toBeTruthy();
    expect(await draftStatus(id)).toBe("confirmed");
  });
});
