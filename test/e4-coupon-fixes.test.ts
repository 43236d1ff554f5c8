import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const SEC = 1_000;
const MIN = 60 * SEC;
const DAY = 24 * 60 * MIN;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

/** A coupon created `createdAgo` ms before the current test time, starting `startIn` ms after it. */
async function scheduled(code: string, startIn: number, createdAgo = 0): Promise<void> {
  const now = jobs.t;
  await app.store.coupons.create({
    _id: code,
    type: "percent",
    value: 10,
    currency: "CNY",
    minSpend: 0,
    startsAt: new Date(now + startIn),
    status: "active",
    draftId: `D-${code}`,
    createdBy: "shell:max",
    confirmedBy: "shell:max",
    createdAt: new Date(now - createdAgo),
    history: [{ action: "launched", by: "shell:max", at: new Date(now - createdAgo) }],
  });
}

/** Sets the clock `ms` after the job's last run (the job's next run is a minute after it). */
const at = (ms: number) => app.clock.set(new Date(jobs.t + ms));
const run = async (line: string) => {
  const r = await app.run("shell:max", line);
  expect(r.outcome, r.reply.text).toBe("ok");
  return r;
};
const announced = async () => (await app.store.outbox.find({ kind: "coupons" }).lean()).map((d) => String(d._id)).sort();
const coupon = async (code: string) => (await app.store.coupons.findById(code).lean())!;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  jobs = await jobStepper(app, "coupon-schedule", T0);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => app.close());

describe("coupon live announcement around pauses", () => {
  it("a scheduled coupon paused and resumed between its start and the job's next run is announced live once, at the resume", async () => {
    await scheduled("BLINK", 30 * SEC);
    at(40 * SEC);
    await run("coupon pause BLINK");
    at(50 * SEC);
    await run("coupon resume BLINK");
    expect(await announced()).toEqual(["coupon-live:BLINK:shell:managers"]);
    const live = reviveReply((await app.store.outbox.findById("coupon-live:BLINK:shell:managers").lean())!.reply);
    expect(live.title).toBe("Coupon BLINK is live");
    expect((await coupon("BLINK")).notified?.live).toEqual(new Date(T0 + 50 * SEC));
    expect((await coupon("BLINK")).notified?.claimed?.live ?? undefined).toBeUndefined();
    // Paused and resumed again, and the job's runs: still once.
    await jobs.step(MIN);
    await run("coupon pause BLINK");
    await jobs.step(MIN);
    await run("coupon resume BLINK");
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:BLINK:shell:managers"]);
  });

  it("a coupon paused over its start is announced live when resumed, days later; a start the job missed while the coupon ran is not", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("LONG", 30 * SEC);
    await run("coupon pause LONG");
    await jobs.step(MIN);
    await jobs.step(MIN);
    // Three days on (a fresh scheduler: one stepping over the days would walk every minute's slot).
    jobs = await jobStepper(app, "coupon-schedule", jobs.t + 3 * DAY);
    await jobs.step(MIN);
    expect(await announced()).toEqual([]); // never while paused
    // Live two days ago, never announced (the job did not run then), not paused at its start.
    await scheduled("MISSED", -2 * DAY, 3 * DAY);
    await run("coupon pause MISSED");
    await run("coupon resume MISSED");
    await run("coupon resume LONG");
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:LONG:shell:managers"]);
    expect((await coupon("MISSED")).notified?.live ?? undefined).toBeUndefined();
  });

  it("a resume stopped before queuing its live announcement leaves it to the job's next run, once", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("STOPPED", 30 * SEC);
    await run("coupon pause STOPPED");
    await jobs.step(MIN);
    vi.spyOn(app.services.alerts, "send").mockRejectedValueOnce(new Error("stopped before queuing"));
    await run("coupon resume STOPPED");
    expect(await announced()).toEqual([]);
    expect((await coupon("STOPPED")).notified?.claimed?.live).toEqual(new Date(jobs.t));
    await jobs.step(MIN);
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:STOPPED:shell:managers"]);
    expect((await coupon("STOPPED")).notified?.claimed?.live ?? undefined).toBeUndefined();
  });
});

describe("coupon-schedule runs overlapping", () => {
  it("a run overlapping one still sending keeps its claim of a coupon paused meanwhile: announced once, when resumed, never while paused", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("OVER", 30 * SEC);
    // Run B: the next minute's run, started while run A (this minute's) is past its timeout.
    const b = await jobStepper(app, "coupon-schedule", jobs.t + MIN);
    const svc = app.services.coupon;
    const claim = svc.claimNotice.bind(svc);
    vi.spyOn(svc, "claimNotice").mockImplementationOnce(async (...args) => {
      await claim(...args); // A holds the claim in the database
      await run("coupon pause OVER");
      await b.step(MIN);
      throw new Error("run A stopped past its timeout, before queuing");
    });
    await jobs.step(MIN);
    expect(vi.mocked(svc.claimNotice)).toHaveBeenCalled();
    // B neither announced the paused coupon nor dropped A's claim.
    expect(await announced()).toEqual([]);
    expect((await coupon("OVER")).notified?.claimed?.live).toEqual(new Date(jobs.t));
    jobs.t = b.t;
    await jobs.step(MIN);
    expect(await announced()).toEqual([]);
    await run("coupon resume OVER");
    await jobs.step(MIN);
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:OVER:shell:managers"]);
    const c = await coupon("OVER");
    expect(c.notified?.claimed?.live ?? undefined).toBeUndefined();
    expect(c.notified?.live).toEqual(new Date(b.t - MIN));
  });
});

describe("coupon confirm", () => {
  it("a Confirm stopped after launching the coupon, pressed again after the coupon's end, says it was launched (not that nothing was)", async () => {
    app.clock.set(new Date(T0 + 10 * DAY)); // 2026-12-05 12:00 in Shanghai
    const preview = await run('coupon launch code=BRIEF type=percent value=10 end="2026-12-05 12:20"');
    const confirm = preview.reply.actions![0]!.id;
    // The process stops after inserting the coupon, before marking its preview confirmed.
    vi.spyOn(app.store.couponDrafts, "updateOne").mockRejectedValueOnce(new Error("stopped"));
    expect((await app.run("shell:max", confirm)).outcome).not.toBe("ok");
    expect(await app.store.coupons.exists({ _id: "BRIEF" })).toBeTruthy();
    app.clock.set(new Date(T0 + 10 * DAY + 25 * MIN)); // past its end, within the preview's 30 minutes
    const again = await app.run("shell:max", confirm);
    expect(again).toMatchObject({ outcome: "ok", code: "already_confirmed" });
    expect(again.reply.text).toBe("Coupon BRIEF was already launched from this preview; nothing changed.");
    expect((await app.store.couponDrafts.findById(preview.reply.actions![0]!.id.split(" ")[2]).lean())!.status).toBe("confirmed");
  });
});
