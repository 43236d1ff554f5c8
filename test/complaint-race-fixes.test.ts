import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

// Complaint races and lost writes: an escalation whose managers' alert could not be queued is
// queued by the complaint-alerts job, once.

const MIN = 60_000;
const START = Date.parse("2026-11-25T02:00:00Z"); // 10:00 in Shanghai, outside quiet hours
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:a1", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  app.clock.set(new Date(START));
  jobs = await jobStepper(app, "complaint-alerts", START);
});
afterAll(() => app.close());

/** Files a complaint, lets the job post it to support, and has shell:a1 claim it. */
async function claimedComplaint(text: string): Promise<string> {
  const r = await app.run("shell:a1", `complaint new ${text}`);
  expect(r.outcome, r.reply.text).toBe("ok");
  const id = /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
  await jobs.step(MIN);
  expect((await app.run("shell:a1", `complaint claim ${id}`)).outcome).toBe("ok");
  return id;
}

/** The alerts queued for complaint `id`: outbox key and reply. */
async function alertsOf(id: string) {
  const docs = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:` } }).lean();
  return docs.map((d) => ({ key: String(d._id), dest: d.dest, reply: reviveReply(d.reply) })).sort((a, b) => a.key.localeCompare(b.key));
}

describe("complaint escalation alert repair", () => {
  it("an escalation alert that failed to queue is queued by the next complaint-alerts run, once, with its reason", async () => {
    const id = await claimedComplaint("lid cracked");
    const spy = vi.spyOn(app.services.alerts, "send").mockRejectedValueOnce(new Error("connection reset"));
    try {
      const r = await app.run("shell:a1", `complaint escalate ${id} reason=hard`);
      expect(r.outcome).toBe("ok");
      // Told it is escalated, as ever: the escalation is made.
      expect(JSON.stringify(r.reply)).toContain(`${id} escalated: hard. It waits unassigned for someone senior to claim it.`);
    } finally {
      spy.mockRestore();
    }
    expect((await alertsOf(id)).map((a) => a.key)).toEqual([`complaint-alert:${id}:posted:shell:support`]);
    expect((await app.store.complaints.findById(id).lean())!.alerted?.escalated).toBeUndefined();

    await jobs.step(MIN);
    const escalated = (await alertsOf(id)).filter((a) => a.key.includes(":escalated:"));
    expect(escalated.map((a) => a.key)).toEqual([`complaint-alert:${id}:escalated:1:shell:managers`]);
    expect(escalated[0]!.dest).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
    expect(escalated[0]!.reply.title).toBe(`Complaint ${id} (normal) escalated by shell:a1`);
    expect(escalated[0]!.reply.fields!.at(-1)).toEqual({ label: "Reason", value: "hard", plain: true });
    expect(escalated[0]!.reply.context).toEqual(["It waits for a manager to claim it."]);
    expect((await app.store.complaints.findById(id).lean())!.alerted?.escalated).toBeInstanceOf(Date);

    // Later runs add nothing.
    for (let i = 0; i < 5; i++) await jobs.step(MIN);
    expect((await alertsOf(id)).filter((a) => a.key.includes(":escalated:"))).toHaveLength(1);
  });

  it("an escalation queued at once is recorded, and later runs queue nothing more; a second escalation alerts once again", async () => {
    const id = await claimedComplaint("severity=high wrong size");
    expect((await app.run("shell:a1", `complaint escalate ${id} reason="customer angry"`)).outcome).toBe("ok");
    expect((await alertsOf(id)).filter((a) => a.key.includes(":escalated:")).map((a) => a.key)).toEqual([`complaint-alert:${id}:escalated:1:shell:managers`]);
    expect((await app.store.complaints.findById(id).lean())!.alerted?.escalated).toBeInstanceOf(Date);
    for (let i = 0; i < 5; i++) await jobs.step(MIN);
    expect((await alertsOf(id)).filter((a) => a.key.includes(":escalated:"))).toHaveLength(1);

    // A manager takes it, then sends it back to the queue: its own alert, once.
    expect((await app.run("shell:max", `complaint claim ${id}`)).outcome).toBe("ok");
    expect((await app.run("shell:max", `complaint escalate ${id} reason="needs the director"`)).outcome).toBe("ok");
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    const escalated = (await alertsOf(id)).filter((a) => a.key.includes(":escalated:"));
    expect(escalated.map((a) => a.key)).toEqual([`complaint-alert:${id}:escalated:1:shell:managers`, `complaint-alert:${id}:escalated:2:shell:managers`]);
    expect(escalated[1]!.reply.fields!.at(-1)).toEqual({ label: "Reason", value: "needs the director", plain: true });
  });

  it("an escalation a manager claimed before the repair run is recorded without a message", async () => {
    const id = await claimedComplaint("parcel wet");
    const spy = vi.spyOn(app.services.alerts, "send").mockRejectedValueOnce(new Error("connection reset"));
    try {
      expect((await app.run("shell:a1", `complaint escalate ${id} reason=soaked`)).outcome).toBe("ok");
    } finally {
      spy.mockRestore();
    }
    expect((await app.run("shell:max", `complaint claim ${id}`)).outcome).toBe("ok");
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    expect((await alertsOf(id)).filter((a) => a.key.includes(":escalated:"))).toEqual([]);
    expect((await app.store.complaints.findById(id).lean())!.alerted?.escalated).toBeInstanceOf(Date);
  });
});
