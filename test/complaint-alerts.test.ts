import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  // Urgent: first response within 1 h (reminder at 48 min), resolution within 8 h (reminder at 6 h 24 min).
  app = await makeTestApp();
  for (const who of ["shell:sue", "shell:lin"]) await app.services.identity.grant(who, "support", "shell:admin");
  jobs = await jobStepper(app, "complaint-alerts", Date.parse("2026-11-25T04:00:00Z")); // 12:00 in Shanghai
});
afterAll(() => app.close());

async function runJob(ms: number): Promise<void> {
  await jobs.step(ms);
}

async function file(text: string): Promise<string> {
  const r = await app.run("shell:sue", `complaint new severity=urgent customer=cust-1 "${text}"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
}

/** Messages queued for complaint `id`'s alert `kind`, with where they went. */
async function sent(id: string, kind: string) {
  const docs = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:${kind}:` } }).lean();
  return docs.map((d) => ({ dest: d.dest, reply: reviveReply(d.reply) }));
}

describe("complaint-alerts job", () => {
  it("posts a new complaint within a minute with Claim, reminds at 80% of each SLA, escalates breaches, each once", async () => {
    const a = await file("parcel lost"); // nobody claims it
    const b = await file("wrong colour"); // claimed after 10 minutes
    await runJob(MIN);
    for (const id of [a, b]) {
      const posted = await sent(id, "posted");
      expect(posted).toHaveLength(1);
      expect(posted[0]!.dest).toEqual({ kind: "channel", platform: "shell", channel: "support" });
      expect(posted[0]!.reply.title).toBe(`New complaint ${id} (urgent)`);
      expect(posted[0]!.reply.actions!.map((x) => x.id)).toContain(`complaint claim ${id}`);
    }
    await runJob(9 * MIN);
    expect((await app.run("shell:lin", `complaint claim ${b}`)).outcome).toBe("ok");

    // Nine hours of runs every 12 minutes: past both 80% marks and both deadlines.
    for (let i = 0; i < 45; i++) await runJob(12 * MIN);

    // a (unclaimed): reminders to the support channel, escalations to the managers' channel.
    for (const kind of ["firstResponseWarn", "resolutionWarn"]) {
      const r = await sent(a, kind);
      expect(r).toHaveLength(1);
      expect(r[0]!.dest).toEqual({ kind: "channel", platform: "shell", channel: "support" });
    }
    for (const kind of ["firstResponseBreach", "resolutionBreach"]) {
      const r = await sent(a, kind);
      expect(r).toHaveLength(1);
      expect(r[0]!.dest).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
      expect(r[0]!.reply.status).toBe("critical");
    }
    expect((await sent(a, "firstResponseBreach"))[0]!.reply.title).toMatch(new RegExp(`^SLA breached: complaint ${a} had no first response by 2026-11-25 13:00`));

    // b (claimed in time): no first-response alerts; the resolution reminder is a DM to lin.
    expect(await sent(b, "firstResponseWarn")).toHaveLength(0);
    expect(await sent(b, "firstResponseBreach")).toHaveLength(0);
    const warn = await sent(b, "resolutionWarn");
    expect(warn).toHaveLength(1);
    expect(warn[0]!.dest).toEqual({ kind: "user", identity: "shell:lin" });
    expect(warn[0]!.reply.title).toMatch(/^Complaint C-\w+: resolution due 2026-11-25 20:00/);
    expect(await sent(b, "resolutionBreach")).toHaveLength(1);

    // Everything recorded on the complaint: later runs send nothing more.
    const before = await app.store.outbox.countDocuments({ _id: { $regex: "^complaint-alert:" } });
    expect(before).toBe(8); // a: posted + 2 reminders + 2 escalations; b: posted + reminder + escalation
    for (let i = 0; i < 5; i++) await runJob(30 * MIN);
    expect(await app.store.outbox.countDocuments({ _id: { $regex: "^complaint-alert:" } })).toBe(before);
  });

  it("a complaint resolved before its reminders gets none; one already past its deadline escalates without a stale reminder", async () => {
    const c = await file("quick one");
    await runJob(MIN);
    expect((await app.run("shell:lin", `complaint claim ${c}`)).outcome).toBe("ok");
    expect((await app.run("shell:lin", `complaint resolve ${c} note=done`)).outcome).toBe("ok");
    for (let i = 0; i < 10; i++) await runJob(60 * MIN);
    expect(await app.store.outbox.countDocuments({ _id: { $regex: `^complaint-alert:${c}:` } })).toBe(1); // posted only

    const d = await file("seen late");
    await app.store.complaints.updateOne({ _id: d }, { $set: { createdAt: new Date(jobs.t - 2 * 60 * MIN), firstResponseDueAt: new Date(jobs.t - 60 * MIN) } });
    await runJob(MIN);
    await runJob(MIN);
    expect(await sent(d, "firstResponseWarn")).toHaveLength(0);
    expect(await sent(d, "firstResponseBreach")).toHaveLength(1);

    // Breached days ago (an import of open history, a first deployment): recorded, not sent.
    const e = await file("from last week");
    // It arrived then too (its first history entry): one the API dates back is news when it arrives.
    await app.store.complaints.updateOne({ _id: e }, { $set: { "alerted.posted": new Date(jobs.t), createdAt: new Date(jobs.t - 4 * 24 * 60 * MIN), "history.0.at": new Date(jobs.t - 4 * 24 * 60 * MIN), firstResponseDueAt: new Date(jobs.t - 3 * 24 * 60 * MIN), resolutionDueAt: new Date(jobs.t - 3 * 24 * 60 * MIN) } });
    await runJob(MIN);
    expect(await app.store.outbox.countDocuments({ _id: { $regex: `^complaint-alert:${e}:` } })).toBe(0);
    expect((await app.store.complaints.findById(e).lean())!.alerted).toMatchObject({ firstResponseBreach: expect.any(Date), resolutionBreach: expect.any(Date) });
  });

  it("with more open complaints than one read takes, a new one is still posted", async () => {
    // Older open complaints fill the read of the oldest (limit 2 here, 500 in the job).
    for (const t of ["old one", "old two", "old three"]) await file(t);
    app.clock.set(new Date(app.clock.now().getTime() + 2 * 24 * 60 * MIN));
    const fresh = await file("a brand new complaint");
    const now = app.clock.now();
    const due = await app.services.complaints.alertsDue(now, { postSince: new Date(now.getTime() - 24 * 60 * MIN), warnPct: 80, limit: 2 });
    expect(due.filter((d) => d.kind === "posted").map((d) => d.complaint._id)).toEqual([fresh]);
  });

  it("a backlog of old complaints with long clocks does not crowd out a new urgent one's SLA warning", async () => {
    // Earlier tests' complaints: every alert of theirs went out already.
    const past = app.clock.now();
    await app.store.complaints.updateMany({}, { $set: { "alerted.posted": past, "alerted.firstResponseBreach": past, "alerted.resolutionBreach": past } });
    // Older low-severity complaints, filed days ago, with week-long clocks (limit 2 here, 500 in the job).
    for (const t of ["slow one", "slow two", "slow three"]) {
      const r = await app.run("shell:sue", `complaint new severity=low customer=cust-1 "${t}"`);
      expect(r.outcome).toBe("ok");
    }
    app.clock.set(new Date(app.clock.now().getTime() + 2 * 24 * 60 * MIN));
    const urgent = await file("checkout charges twice");
    const c = (await app.store.complaints.findById(urgent).lean())!;
    // 90% of its first-response clock has run: its warning is due.
    const now = new Date(c.createdAt.getTime() + (c.firstResponseDueAt.getTime() - c.createdAt.getTime()) * 0.9);
    app.clock.set(now);
    await app.services.complaints.markAlerted(urgent, "posted", now);
    const due = await app.services.complaints.alertsDue(now, { postSince: new Date(now.getTime() - 24 * 60 * MIN), warnPct: 80, limit: 2 });
    expect(due.some((d) => d.complaint._id === urgent && d.kind === "firstResponseWarn")).toBe(true);
  });

  it("a reopened complaint whose first deadline passed long ago gets a fresh resolution clock and its alerts again, once each", async () => {
    jobs.t = app.clock.now().getTime();
    const c = await file("kettle leaks");
    expect((await app.run("shell:lin", `complaint claim ${c}`)).outcome).toBe("ok");
    expect((await app.run("shell:lin", `complaint resolve ${c} note="replacement sent"`)).outcome).toBe("ok");
    // Filed 12 days ago, resolved after its breach, every alert of its first round sent then.
    const t0 = jobs.t - 12 * 24 * 60 * MIN;
    const at = new Date(t0 + 60 * MIN);
    await app.store.complaints.updateOne(
      { _id: c },
      { $set: { createdAt: new Date(t0), firstResponseDueAt: new Date(t0 + 60 * MIN), resolutionDueAt: new Date(t0 + 8 * 60 * MIN), alerted: { posted: at, firstResponseWarn: at, firstResponseBreach: at, resolutionWarn: at, resolutionBreach: at } } },
    );
    // The first round's messages, under the keys it used.
    for (const [key, dest] of [
      [`complaint-alert:${c}:resolutionWarn:shell:lin`, { kind: "user", identity: "shell:lin" }],
      [`complaint-alert:${c}:resolutionBreach:shell:managers`, { kind: "channel", platform: "shell", channel: "managers" }],
    ] as const) {
      expect(await app.services.outbox.enqueue({ key, dest, reply: { text: "first round", visibility: "public" }, kind: "complaints" })).toBe(true);
    }
    const reopened = jobs.t + MIN;
    await runJob(MIN);
    expect((await app.run("shell:sue", `complaint reopen ${c} note="the replacement leaks too"`)).outcome).toBe("ok");
    const doc = (await app.store.complaints.findById(c).lean())!;
    // urgent: 8 h to resolve, from the reopening; the first round's resolution markers are gone.
    expect(doc.resolutionDueAt).toEqual(new Date(reopened + 8 * 60 * MIN));
    expect(doc.alerted).toMatchObject({ posted: at, firstResponseBreach: at });
    expect(doc.alerted?.resolutionWarn ?? undefined).toBeUndefined();
    expect(doc.alerted?.resolutionBreach ?? undefined).toBeUndefined();

    // Nothing at once (the clock is fresh), the 80% reminder to the assignee at 6 h 24 min, the
    // breach at 8 h: each once, under keys of their own (the first round's keys are taken).
    await runJob(MIN);
    expect(await app.store.outbox.countDocuments({ _id: { $regex: `^complaint-alert:${c}:` } })).toBe(2);
    for (let i = 0; i < 9; i++) await runJob(60 * MIN);
    const warn = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${c}:resolutionWarn:reopen1:` } }).lean();
    expect(warn.map((d) => d.dest)).toEqual([{ kind: "user", identity: "shell:lin" }]);
    expect(warn[0]!.createdAt.getTime() - reopened).toBeGreaterThanOrEqual(6.4 * 60 * MIN);
    expect(warn[0]!.createdAt.getTime() - reopened).toBeLessThan(8 * 60 * MIN);
    const breach = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${c}:resolutionBreach:reopen1:` } }).lean();
    expect(breach.map((d) => d.dest)).toEqual([{ kind: "channel", platform: "shell", channel: "managers" }]);
    expect(reviveReply(breach[0]!.reply).status).toBe("critical");
    for (let i = 0; i < 3; i++) await runJob(60 * MIN);
    expect(await app.store.outbox.countDocuments({ _id: { $regex: `^complaint-alert:${c}:` } })).toBe(4);
  });
  it("a complaint resolved and reopened while a run marks its breach still gets the new round's breach", async () => {
    jobs.t = app.clock.now().getTime();
    const c = await file("race between the run and a reopening");
    expect((await app.run("shell:lin", `complaint claim ${c}`)).outcome).toBe("ok");
    await runJob(MIN);
    // The run has read the complaint with its resolution breach due; before it records the breach,
    // someone resolves and reopens it (a fresh clock, its resolution markers cleared).
    const svc = app.services.complaints;
    const original = svc.markAlerted;
    let raced = false;
    svc.markAlerted = async (...args: Parameters<typeof original>) => {
      if (args[0] === c && args[1] === "resolutionBreach" && !raced) {
        raced = true;
        expect((await app.run("shell:lin", `complaint resolve ${c} note=done`)).outcome).toBe("ok");
        expect((await app.run("shell:lin", `complaint reopen ${c} note="not done"`)).outcome).toBe("ok");
      }
      return original.apply(svc, args);
    };
    try {
      await runJob(8 * 60 * MIN);
    } finally {
      svc.markAlerted = original;
    }
    expect(raced).toBe(true);
    expect((await app.store.complaints.findById(c).lean())!.alerted?.resolutionBreach ?? undefined).toBeUndefined();
    // The reopened round's clock runs out 8 h after the reopening: its breach goes out, once.
    await runJob(8 * 60 * MIN + MIN);
    expect(await sent(c, "resolutionBreach:reopen1")).toHaveLength(1);
  });

  it("an assignee who lost the support role gets no reminder DM: the support channel does, saying so", async () => {
    jobs.t = app.clock.now().getTime();
    await app.services.identity.grant("shell:kim", "support", "shell:admin");
    const c = await file("kim's complaint");
    const d = await file("lin's complaint");
    expect((await app.run("shell:kim", `complaint claim ${c}`)).outcome).toBe("ok");
    expect((await app.run("shell:lin", `complaint claim ${d}`)).outcome).toBe("ok");
    await runJob(MIN);
    await app.services.identity.revoke("shell:kim");
    // 80% of the urgent 8 h resolution clock: 6 h 24 min.
    await runJob(6.5 * 60 * MIN);
    const warn = await sent(c, "resolutionWarn");
    expect(warn.map((w) => w.dest)).toEqual([{ kind: "channel", platform: "shell", channel: "support" }]);
    expect(warn[0]!.reply.context).toContain(
      `Sent here, not to shell:kim: they have no support role granted in shopops (revoked, or held only through Discord server roles). Reassign it with \`complaint assign ${c} <identity>\`, or ask an admin to run \`role grant shell:kim support\`.`,
    );
    // One who still has it gets the DM as before.
    expect((await sent(d, "resolutionWarn")).map((w) => w.dest)).toEqual([{ kind: "user", identity: "shell:lin" }]);
  });

  it("a complaint the API dates back more than a day is posted and its breaches sent when it arrives", async () => {
    jobs.t = app.clock.now().getTime();
    // Normal: first response within 24 h (due 36 h ago), resolution within 72 h (due in 12 h).
    const createdAt = new Date(jobs.t - 60 * 60 * MIN).toISOString();
    const r = await app.services.ingest.apply("complaints", { customerId: "cust-api", text: "sent late by the storefront", createdAt }, "api:shop");
    expect(r.outcome).toBe("created");
    const id = r.id!;
    await runJob(MIN);
    expect((await sent(id, "posted")).map((m) => m.dest)).toEqual([{ kind: "channel", platform: "shell", channel: "support" }]);
    expect((await sent(id, "firstResponseBreach")).map((m) => m.dest)).toEqual([{ kind: "channel", platform: "shell", channel: "managers" }]);
    expect(await sent(id, "firstResponseWarn")).toHaveLength(0);
  });

  it("open complaints imported from a helpdesk's history (days old) are not posted or escalated as news", async () => {
    jobs.t = app.clock.now().getTime();
    const createdAt = new Date(jobs.t - 10 * 24 * 60 * MIN).toISOString();
    const r = await app.services.ingest.apply("complaints", { customerId: "cust-old", text: "migrated ticket", createdAt }, "import:helpdesk-export.csv");
    const id = r.id!;
    await runJob(MIN);
    for (const kind of ["posted", "firstResponseBreach", "resolutionBreach"] as const) expect(await sent(id, kind), kind).toHaveLength(0);
    // Recorded all the same (`complaint list overdue` shows it), so no later run sends them.
    expect((await app.store.complaints.findById(id).lean())!.alerted).toMatchObject({ firstResponseBreach: expect.any(Date), resolutionBreach: expect.any(Date) });
  });
});

describe("complaint-alerts job in quiet hours (22:00-07:00)", () => {
  let qapp: TestApp;
  let q: JobStepper;
  beforeAll(async () => {
    // Normal: first response within 2 h, resolution within 12 h (80%: 9 h 36 min).
    qapp = await makeTestApp({ QUIET_HOURS: "22:00-07:00", COMPLAINT_SLA_FIRST_RESPONSE: "normal:2h", COMPLAINT_SLA_RESOLUTION: "normal:12h" });
    await qapp.services.identity.grant("shell:lin", "support", "shell:admin");
    q = await jobStepper(qapp, "complaint-alerts", Date.parse("2026-11-25T13:00:00Z")); // 21:00 in Shanghai
    qapp.clock.set(new Date(q.t));
  });
  afterAll(() => qapp.close());

  const fileQ = async (text: string) => {
    const r = await qapp.run("shell:lin", `complaint new customer=cust-1 "${text}"`);
    expect(r.outcome, r.reply.text).toBe("ok");
    return /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
  };
  const queued = async (id: string, kind: string) => qapp.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:${kind}:` } }).lean();

  it("queues no post or warning while they hold: the first run after them sends those still relevant, as the complaint then is", async () => {
    const c = await fileQ("resolved in the night");
    const d = await fileQ("still open in the morning");
    for (const id of [c, d]) expect((await qapp.run("shell:lin", `complaint claim ${id}`)).outcome).toBe("ok");
    await q.step(MIN); // 21:01: posted at once
    for (const id of [c, d]) expect(await queued(id, "posted")).toHaveLength(1);
    await q.step(9 * 60 * MIN + 36 * MIN); // 06:37: both resolution warnings due, in quiet hours
    const e = await fileQ("filed and resolved in the night");
    const f = await fileQ("filed in the night, still open");
    await q.step(MIN); // 06:38
    for (const [id, kind] of [[c, "resolutionWarn"], [d, "resolutionWarn"], [e, "posted"], [f, "posted"]] as const) expect(await queued(id, kind)).toHaveLength(0);
    for (const id of [c, e]) expect((await qapp.run("shell:lin", `complaint resolve ${id} note=done`)).outcome).toBe("ok");
    await q.step(23 * MIN); // 07:01
    // Resolved meanwhile: nothing (no card with buttons from the night).
    expect(await queued(c, "resolutionWarn")).toHaveLength(0);
    expect(await queued(e, "posted")).toHaveLength(0);
    // Still open: sent now, at once.
    const warn = await queued(d, "resolutionWarn");
    expect(warn.map((w) => w.dest)).toEqual([{ kind: "user", identity: "shell:lin" }]);
    expect(warn[0]!.notBefore.getTime()).toBeLessThanOrEqual(q.t);
    const posted = await queued(f, "posted");
    expect(posted).toHaveLength(1);
    expect(posted[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(Date.parse("2026-11-25T23:00:00Z"));
  });
});
