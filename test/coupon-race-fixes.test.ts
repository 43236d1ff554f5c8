import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const SEC = 1_000;
const MIN = 60 * SEC;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

/** A coupon launched at the current test time, starting `startIn` ms later (and ending `endIn` ms later). */
async function scheduled(code: string, startIn: number, endIn?: number): Promise<void> {
  const now = jobs.t;
  await app.store.coupons.create({
    _id: code,
    type: "percent",
    value: 10,
    currency: "CNY",
    minSpend: 0,
    startsAt: new Date(now + startIn),
    ...(endIn === undefined ? {} : { endsAt: new Date(now + endIn) }),
    status: "active",
    draftId: `D-${code}`,
    createdBy: "shell:max",
    confirmedBy: "shell:max",
    createdAt: new Date(now),
  });
}

const announced = async () => (await app.store.outbox.find({ kind: "coupons" }).lean()).map((d) => String(d._id)).sort();
const coupon = async (code: string) => (await app.store.coupons.findById(code).lean())!;

/** Runs `between` once, right after the job's next read of due coupons. */
function afterNextRead(between: () => Promise<void>): void {
  const svc = app.services.coupon;
  const read = svc.scheduleDue;
  svc.scheduleDue = async (...args) => {
    svc.scheduleDue = read;
    const due = await read.apply(svc, args);
    await between();
    return due;
  };
}

/** Makes the job's next send fail, as a process stopping between the claim and the send would. */
function failNextSend(): void {
  const alerts = app.services.alerts;
  const sender = alerts.sender;
  alerts.sender = () => {
    alerts.sender = sender;
    return async () => {
      throw new Error("stopped before sending");
    };
  };
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  jobs = await jobStepper(app, "coupon-schedule", T0);
});
afterAll(() => app.close());

describe("coupon-schedule job: claim first, send second", () => {
  it("a coupon paused right after the job read it is not announced live while paused, and is once when resumed", async () => {
    await scheduled("SOON", 30 * SEC);
    afterNextRead(async () => {
      expect((await app.run("shell:max", "coupon pause SOON")).outcome).toBe("ok");
    });
    await jobs.step(MIN);
    const paused = await coupon("SOON");
    expect(paused.status).toBe("paused");
    expect(await announced()).toEqual([]);
    expect(paused.notified?.live).toBeUndefined();
    // Resumed after its start, never announced: the resume announces it, once.
    await jobs.step(4 * MIN);
    expect(await announced()).toEqual([]);
    expect((await app.run("shell:max", "coupon resume SOON")).outcome).toBe("ok");
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:SOON:shell:managers"]);
    expect((await coupon("SOON")).notified?.live).toEqual(new Date(jobs.t - 3 * MIN));
  });

  it("a coupon going live normally is announced once, and the claim is ended", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("LIVE1", 30 * SEC);
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:LIVE1:shell:managers"]);
    expect(reviveReply((await app.store.outbox.findById("coupon-live:LIVE1:shell:managers").lean())!.reply).title).toBe("Coupon LIVE1 is live");
    const c = await coupon("LIVE1");
    expect(c.notified?.live).toEqual(new Date(jobs.t));
    expect(c.notified?.claimed?.live ?? undefined).toBeUndefined();
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:LIVE1:shell:managers"]);
  });

  it("an announcement claimed by a run that stopped before sending is sent by the next run, once", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("CRASH", 30 * SEC, 90 * SEC);
    failNextSend();
    await jobs.step(MIN);
    expect(await announced()).toEqual([]);
    const claimedAt = new Date(jobs.t);
    expect((await coupon("CRASH")).notified).toMatchObject({ live: claimedAt, claimed: { live: claimedAt } });
    // The end passes too: the claimed "live" is no longer the coupon's state, so it is released;
    // the expiry is announced. Both through the same claim.
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-expired:CRASH:shell:managers"]);
    // A live claim still current is finished instead.
    await scheduled("CRASH2", 30 * SEC);
    failNextSend();
    await jobs.step(MIN);
    expect((await coupon("CRASH2")).notified?.claimed?.live).toEqual(new Date(jobs.t));
    await jobs.step(MIN);
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-expired:CRASH:shell:managers", "coupon-live:CRASH2:shell:managers"]);
    for (const code of ["CRASH", "CRASH2"]) expect((await coupon(code)).notified?.claimed ?? {}).toEqual({});
  });

  it("a claimed announcement whose coupon was paused before the next run is held, not sent, until the coupon is resumed", async () => {
    await app.store.outbox.deleteMany({ kind: "coupons" });
    await scheduled("HALT", 30 * SEC);
    failNextSend();
    await jobs.step(MIN);
    expect((await app.run("shell:max", "coupon pause HALT")).outcome).toBe("ok");
    await jobs.step(MIN);
    expect(await announced()).toEqual([]);
    const c = await coupon("HALT");
    expect(c.notified?.claimed?.live).toEqual(new Date(jobs.t - MIN));
    expect(c.notified?.live).toEqual(new Date(jobs.t - MIN));
    expect((await app.run("shell:max", "coupon resume HALT")).outcome).toBe("ok");
    await jobs.step(MIN);
    expect(await announced()).toEqual(["coupon-live:HALT:shell:managers"]);
    expect((await coupon("HALT")).notified?.claimed?.live ?? undefined).toBeUndefined();
  });
});
