import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  app = await makeTestApp({ REFUND_PENDING_HOURS: "48", REFUND_REMIND_HOURS: "24" });
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.store.orders.insertMany(["ORD-1", "ORD-2"].map((no) => paidOrder(no, 10_000)));
  jobs = await jobStepper(app, "refund-expiry", Date.parse("2026-11-25T04:00:00Z"));
});
afterAll(() => app.close());

/** Moves the clock by `ms` and runs the due slot of the job. */
async function runJob(ms: number): Promise<void> {
  await jobs.step(ms);
}

async function request(orderNo: string): Promise<string> {
  const r = await app.run("shell:sue", `refund request ${orderNo} 20 reason="damaged"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "")![0];
}

const reminders = (id: string) => app.store.outbox.countDocuments({ kind: "refunds", _id: { $regex: `^refund-remind:${id}:` } });
const expiredNotices = (id: string) => app.store.outbox.countDocuments({ _id: `refund:${id}:expired` });

describe("refund-expiry job", () => {
  it("reminds approvers once per request after REFUND_REMIND_HOURS, and expires it once at its deadline (requester told)", async () => {
    const a = await request("ORD-1");
    await runJob(5 * MIN);
    const b = await request("ORD-2"); // an hour younger than a
    await runJob(55 * MIN);
    expect(await reminders(a)).toBe(0);

    // 24 h after a was requested: one reminder for a, none yet for b.
    await runJob(23 * HOUR);
    expect(await reminders(a)).toBe(1);
    expect(await reminders(b)).toBe(0);
    const doc = await app.store.outbox.findOne({ _id: { $regex: `^refund-remind:${a}:` } }).lean();
    expect(doc!.dest).toMatchObject({ kind: "channel", platform: "shell", channel: "managers" });
    const reply = reviveReply(doc!.reply);
    expect(reply.title).toBe(`Refund request ${a} has been waiting 24 h for approval`);
    expect(reply.actions!.map((x) => x.id)).toContain(`refund approve ${a}`);
    // 20.00 is within support's limit: the reminder says so, as the request's own card did.
    expect(reply.fields!.find((f) => f.label === "Approval needed")?.value).toBe("one approver: support or above");

    // b's turn, then many runs: still one reminder each.
    for (let i = 0; i < 4; i++) await runJob(30 * MIN);
    expect(await reminders(a)).toBe(1);
    expect(await reminders(b)).toBe(1);

    // b gets approved; a reaches its 48 h deadline: expired once, requester told once, b untouched.
    expect((await app.run("shell:admin", `refund approve ${b}`)).outcome).toBe("ok");
    for (let i = 0; i < 6; i++) await runJob(5 * HOUR);
    expect(await app.store.refundRequests.findById(a).lean()).toMatchObject({ status: "expired" });
    expect(await expiredNotices(a)).toBe(1);
    // Its card says when it expired and that nobody decided, as a rejected one names who did.
    const shown = (await app.run("shell:sue", `refund show ${a}`)).reply.fields!;
    expect(shown.find((f) => f.label === "Expired")?.value).toMatch(/^2026-11-27 \d\d:\d\d .*with no decision before then \(closed by the system; nothing refunded\)$/);
    expect(shown.find((f) => f.label === "Expires")).toBeUndefined();
    expect(await app.store.refundRequests.findById(b).lean()).toMatchObject({ status: "approved" });
    expect(await reminders(a)).toBe(1);
    expect(await reminders(b)).toBe(1);
    const runs = await app.services.jobs.runs("refund-expiry", 50);
    expect(runs.every((r) => r.status === "ok")).toBe(true);
  });

  it("finishes an approved refund whose execution was interrupted", async () => {
    const c = await request("ORD-1");
    // Simulate a crash after approval, before the order was updated.
    await app.store.refundRequests.updateOne({ _id: c }, { $set: { status: "approved", approvalCount: 1, decidedBy: "shell:admin", decidedAt: new Date(jobs.t) } });
    await runJob(5 * MIN);
    await runJob(5 * MIN);
    const after = await app.store.refundRequests.findById(c).lean();
    expect(after!.executedAt).toBeInstanceOf(Date);
    const order = await app.store.orders.findById("ORD-1").lean();
    expect(order!.refunds.filter((r) => r.requestId === c)).toHaveLength(1);
  });
});
