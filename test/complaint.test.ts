import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { field, makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;

const H = 3_600_000;
const M = 60_000;
/** The test clock's start: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");

/** The id in "Complaint C-XXXXXX filed. …". */
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];

beforeAll(async () => {
  app = await makeTestApp();
  for (const [who, role] of [
    ["shell:sue", "support"],
    ["shell:lin", "support"],
    ["shell:max", "manager"],
    ["shell:sam", "staff"],
  ] as const)
    await app.services.identity.grant(who, role, "shell:admin");
  for (let i = 0; i < 10; i++) await app.services.identity.grant(`shell:agent${i}`, "support", "shell:admin");
  await app.store.orders.create({
    _id: "ORD-100001",
    items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }],
    subtotal: 5000,
    total: 5000,
    currency: "CNY",
    status: "delivered",
    channel: "web",
    customerId: "CUST-77",
    createdAt: new Date(NOW - 72 * H),
    day: "2026-11-22",
  });
});
afterAll(() => app.close());

describe("complaint lifecycle", () => {
  it("files, claims, resolves and reopens, every change in history, with the right buttons", async () => {
    app.clock.set(new Date(NOW));
    const r = await app.run("shell:sue", 'complaint new order=ORD-100001 severity=urgent category=damaged "mug arrived broken"');
    expect(r.outcome).toBe("ok");
    const id = idOf(r);
    expect(id).toMatch(/^C-[0-9A-Z]{6}$/);
    expect(r.reply.title).toBe(`Complaint ${id} filed · urgent`);
    expect(r.reply.text).toBe("mug arrived broken");
    // The customer comes from the order.
    expect(field(r, "Customer")).toBe("CUST-77");
    expect(field(r, "Order")).toBe("ORD-100001");
    expect(field(r, "Status")).toBe("New");
    expect(field(r, "First response")).toBe("1h left (due 2026-11-25 13:00 GMT+8)");
    expect(field(r, "Resolution")).toBe("8h left (due 2026-11-25 20:00 GMT+8)");
    expect(r.reply.actions!.map((a) => a.id)).toEqual([`complaint claim ${id}`, `complaint resolve ${id}`, `complaint escalate ${id}`]);

    app.clock.advance(20 * M);
    const c = await app.run("shell:lin", `complaint claim ${id.toLowerCase()}`);
    expect(c.reply.title).toBe(`You have ${id} now.`);
    expect(field(c, "Assignee")).toBe("shell:lin");
    expect(field(c, "First response")).toBe("done 2026-11-25 12:20 GMT+8, on time");
    expect(c.reply.actions!.map((a) => a.id)).toEqual([`complaint resolve ${id}`, `complaint escalate ${id}`]);

    // The Resolve button carries no note: it asks for one and changes nothing.
    const prompt = await app.run("shell:lin", `complaint resolve ${id}`);
    expect(prompt.code).toBe("note_required");
    expect(prompt.reply.text).toBe(`Resolving ${id} needs a note saying what was done: \`complaint resolve ${id} note="…"\`.`);
    expect((await app.store.complaints.findById(id).lean())!.status).toBe("claimed");
    // Nothing was resolved: the audit trail says so.
    expect(await app.store.audit.findById(prompt.ref).lean()).toMatchObject({ command: "complaint resolve", outcome: "user_error", code: "note_required" });

    app.clock.advance(2 * H);
    const done = await app.run("shell:lin", `complaint resolve ${id} note="replacement sent"`);
    expect(done.reply.title).toBe(`${id} resolved.`);
    expect(field(done, "Resolution")).toBe("done 2026-11-25 14:20 GMT+8, on time");
    expect(done.reply.actions!.map((a) => a.id)).toEqual([`complaint reopen ${id}`]);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "resolved", resolvedDay: "2026-11-25", resolvedAt: new Date(NOW + 140 * M) });
    expect((await app.run("shell:lin", `complaint resolve ${id} note=again`)).code).toBe("already_resolve");
    expect((await app.run("shell:sue", `complaint claim ${id}`)).code).toBe("resolved");

    const re = await app.run("shell:sue", `complaint reopen ${id} note="still broken"`);
    // A fresh resolution clock from the reopening (urgent: 8 h), noted in the history.
    expect(re.reply.title).toBe(`${id} reopened; its resolution clock restarted: due 2026-11-25 22:20 GMT+8.`);
    expect(field(re, "Status")).toBe("Claimed");
    expect(field(re, "Resolution")).toBe("8h left (due 2026-11-25 22:20 GMT+8)");
    const doc = await app.store.complaints.findById(id).lean();
    expect(doc!.resolvedAt).toBeUndefined();
    expect(doc!.resolutionDueAt).toEqual(new Date(NOW + 140 * M + 8 * H));
    expect(doc!.history.map((h) => [h.action, h.by, h.from, h.to])).toEqual([
      ["created", "shell:sue", undefined, "new"],
      ["claim", "shell:lin", "new", "shell:lin"],
      ["resolve", "shell:lin", "claimed", "resolved"],
      ["reopen", "shell:sue", "resolved", "claimed"],
      ["clock_restart", "shell:sue", new Date(NOW + 8 * H).toISOString(), new Date(NOW + 140 * M + 8 * H).toISOString()],
    ]);
    expect(doc!.history[2]!.note).toBe("replacement sent");
    const show = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(show, "History")!.split("\n")).toHaveLength(5);
    expect(field(show, "History")).toContain("shell:sue: resolution clock restarted: due 2026-11-25 22:20 GMT+8 (was due 2026-11-25 20:00 GMT+8)");
    expect(field(show, "History")).toContain("shell:lin: resolved: replacement sent");
    // The order card lists it.
    const card = await app.run("shell:sue", "order ORD-100001");
    expect(field(card, "Complaints")).toBe(`${id} · urgent · Claimed: mug arrived broken`);
    // The audit trail finds every change to it by its id, however it was typed (filed: no id typed; claimed as lower case).
    const trail = await app.run("shell:max", `audit subject=${id}`);
    const rows = trail.reply.table!.rows.map((row) => row[2]!);
    // The subject typed loosely finds the same entries.
    expect((await app.run("shell:max", `audit subject=${id.slice(2).toLowerCase()}`)).reply.table!.rows).toEqual(trail.reply.table!.rows);
    expect(rows.every((x) => x.includes(id))).toBe(true);
    expect(new Set(rows.map((x) => x.split(" ").slice(0, 2).join(" ")))).toEqual(new Set(["complaint claim", "complaint new", "complaint reopen", "complaint resolve"]));
    // Cut to the column's width with a mark, never mid-character.
    expect(rows.find((x) => x.startsWith("complaint new"))).toMatch(new RegExp(`^complaint new ${id} · order=ORD-100001 severity=urgent .*…$`));
  });

  it("escalation leaves the assignee and waits unassigned; assignment goes to support staff only", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new customer=cust-5 source=email refund never arrived"));
    await app.run("shell:sue", `complaint claim ${id}`);
    expect((await app.run("shell:sue", `complaint escalate ${id}`)).code).toBe("reason_required");
    const e = await app.run("shell:sue", `complaint escalate ${id} reason="threatens chargeback"`);
    expect(e.reply.title).toBe(`${id} escalated: threatens chargeback. It waits unassigned for someone senior to claim it.`);
    expect(field(e, "Status")).toBe("Escalated");
    expect(field(e, "Assignee")).toBe("nobody");
    expect(field(e, "Customer")).toBe("cust-5"); // as typed: the shop's ids are not re-cased
    expect(e.reply.actions!.map((a) => a.label)).toEqual(["Claim", "Resolve"]);
    const viewerAssign = await app.run("shell:max", `complaint assign ${id} shell:sam`);
    expect(viewerAssign.code).toBe("assignee_not_support");
    expect(viewerAssign.reply.text).toContain("shell:sam is staff");
    // To themselves: a manager's claim, as `complaint claim` says it.
    const a = await app.run("shell:max", `complaint assign ${id} shell:max`);
    expect(a.reply.title).toBe(`You have ${id} now.`);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "escalated", assignee: "shell:max" });
    expect((await app.run("shell:max", `complaint assign ${id} shell:max`)).code).toBe("already_claim");
  });

  it("an escalated complaint is claimed, assigned or resolved by a manager or above only: support is refused, audited as denied", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new customer=cust-6 wants to speak to a manager"));
    await app.run("shell:sue", `complaint claim ${id}`);
    await app.run("shell:sue", `complaint escalate ${id} reason="asks for a manager"`);
    const before = await app.store.complaints.findById(id).lean();
    // The one who escalated cannot take it back, nor close it; nor can another support person.
    for (const [who, line] of [
      ["shell:sue", `complaint claim ${id}`],
      ["shell:sue", `complaint resolve ${id} note="sorted it myself"`],
      ["shell:lin", `complaint claim ${id}`],
      ["shell:lin", `complaint assign ${id} shell:lin`],
      ["shell:lin", `complaint resolve ${id} note=done`],
      // The card's Resolve button (no note): refused now, not after asking for a note.
      ["shell:lin", `complaint resolve ${id}`],
    ] as const) {
      const r = await app.run(who, line);
      expect(r.outcome, line).toBe("denied");
      expect(r.code).toBe("permission_denied");
      expect(r.reply.text).toBe(
        `${id} is escalated: only a manager or admin may claim, assign or resolve it. Ask a manager to take it (\`complaint claim ${id}\`) or to hand it to you (\`complaint assign ${id} <identity>\`).`,
      );
      expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ actor: who, command: line.split(" ").slice(0, 2).join(" "), outcome: "denied", code: "permission_denied" });
    }
    const zh = await app.core.invoke({ identity: "shell:lin", platform: "shell", text: `complaint claim ${id}`, locale: "zh-CN" });
    expect(zh.reply.text).toBe(`${id} 已升级：只有经理或管理员可以认领、分配或结案。请经理认领（\`complaint claim ${id}\`）或分配给你（\`complaint assign ${id} <身份>\`）。`);
    expect(await app.store.complaints.findById(id).lean()).toEqual(before); // nothing changed

    // A manager may hand it to support; the assignee (chosen by a manager) may then resolve it.
    expect((await app.run("shell:max", `complaint assign ${id} shell:sue`)).outcome).toBe("ok");
    expect((await app.run("shell:lin", `complaint resolve ${id} note=done`)).code).toBe("permission_denied");
    const done = await app.run("shell:sue", `complaint resolve ${id} note="manager approved a voucher"`);
    expect(done.outcome).toBe("ok");
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "resolved", assignee: "shell:sue" });

    // A manager claims and resolves an escalated one directly.
    const other = idOf(await app.run("shell:sue", "complaint new customer=cust-7 second escalation"));
    await app.run("shell:sue", `complaint escalate ${other} reason="legal threat"`);
    expect((await app.run("shell:max", `complaint claim ${other}`)).reply.title).toBe(`You have ${other} now.`);
    expect((await app.run("shell:admin", `complaint resolve ${other} note="settled"`)).outcome).toBe("ok");
  });

  it("10 people claim at once: one wins, the other nine are told who has it", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new severity=high parcel lost"));
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => app.run(`shell:agent${i}`, `complaint claim ${id}`)));
    const winners = runs.filter((r) => r.outcome === "ok");
    expect(winners).toHaveLength(1);
    const doc = await app.store.complaints.findById(id).lean();
    const winner = doc!.assignee!;
    expect(winners[0]!.reply.title).toBe(`You have ${id} now.`);
    const losers = runs.filter((r) => r.outcome !== "ok");
    expect(losers).toHaveLength(9);
    for (const l of losers) {
      expect(l.code).toBe("claimed_by_other");
      expect(l.reply.text).toContain(`${id} is already claimed by ${winner}.`);
    }
    expect(doc!.history.filter((h) => h.action === "claim")).toHaveLength(1);
  });

  it("a claim and an assignment at once: never both told it is theirs; a reassignment says from whom", async () => {
    for (let round = 0; round < 5; round++) {
      const id = idOf(await app.run("shell:sue", `complaint new race round ${round}`));
      const [claim, assign] = await Promise.all([app.run("shell:agent1", `complaint claim ${id}`), app.run("shell:max", `complaint assign ${id} shell:agent2`)]);
      const doc = (await app.store.complaints.findById(id).lean())!;
      if (claim.outcome === "ok" && assign.outcome === "ok") {
        // The claim landed first and the manager saw it: a reassignment, said as such.
        expect(assign.reply.title, `round ${round}`).toBe(`${id} reassigned from shell:agent1 to shell:agent2.`);
        // Whom it was taken from is a field (the card words it in the reader's language), not an English note.
        expect(doc.history.at(-1)).toMatchObject({ action: "assign", from: "shell:agent1", to: "shell:agent2" });
        expect(doc.history.at(-1)!.note).toBeUndefined();
      } else if (assign.outcome !== "ok") {
        expect(assign.code).toBe("taken_meanwhile");
        expect(assign.reply.text).toBe(`shell:agent1 claimed ${id} while you were assigning it; nothing changed. To give it to shell:agent2 anyway, run \`complaint assign ${id} shell:agent2\` again.`);
        expect(doc.assignee).toBe("shell:agent1");
      } else {
        expect(claim.code).toBe("claimed_by_other");
        expect(doc.assignee).toBe("shell:agent2");
      }
    }
  });

  it("two assignments at once: the loser is told who assigned it to whom (nobody claimed it)", async () => {
    await app.services.identity.grant("shell:ann", "manager", "shell:admin");
    let lost = 0;
    for (let round = 0; round < 4; round++) {
      const id = idOf(await app.run("shell:sue", `complaint new two managers round ${round}`));
      const [a, b] = await Promise.all([app.run("shell:max", `complaint assign ${id} shell:agent3`), app.run("shell:ann", `complaint assign ${id} shell:agent4`)]);
      const loser = [a, b].find((r) => r.outcome !== "ok");
      if (!loser) continue; // the second saw the first and reassigned it, said as such
      const winner = loser === a ? { by: "shell:ann", to: "shell:agent4", mine: "shell:agent3" } : { by: "shell:max", to: "shell:agent3", mine: "shell:agent4" };
      expect(loser.reply.text).toBe(`${winner.by} assigned ${id} to ${winner.to} while you were assigning it; nothing changed. To give it to ${winner.mine} anyway, run \`complaint assign ${id} ${winner.mine}\` again.`);
      lost++;
    }
    // Both read it unassigned in every round seen here (4 of 4): the race is exercised.
    expect(lost).toBeGreaterThan(0);
  });

  it("a stale Resolve or Escalate button on a resolved complaint says so at once, without asking for a note or reason", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new stale buttons"));
    await app.run("shell:sue", `complaint resolve ${id} note=done`);
    const resolve = await app.run("shell:lin", `complaint resolve ${id}`);
    expect([resolve.code, resolve.reply.text]).toEqual(["already_resolve", expect.stringContaining(id)]);
    const escalate = await app.run("shell:lin", `complaint escalate ${id}`);
    expect(escalate.code).toBe("resolved");
  });

  it("two reopenings at once: one reopens, the other changes nothing and says the complaint is open", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new reopened twice"));
    await app.run("shell:sue", `complaint resolve ${id} note=done`);
    const runs = await Promise.all([app.run("shell:sue", `complaint reopen ${id}`), app.run("shell:max", `complaint reopen ${id}`)]);
    const codes = runs.map((r) => r.code ?? "reopened").sort();
    // The other one read the complaint either before the reopening landed (it was resolved:
    // "already open") or after it ("is claimed, not resolved": a reopened complaint goes back to
    // its assignee): both change nothing.
    expect(codes[1]).toBe("reopened");
    expect(["already_reopen", "not_resolved"]).toContain(codes[0]);
    expect(runs.find((r) => r.code)!.reply.text).toMatch(new RegExp(`${id} is (already open|claimed, not resolved)`));
    expect((await app.store.complaints.findById(id).lean())!.history.filter((h) => h.action === "reopen")).toHaveLength(1);
  });
});

describe("SLA clocks", () => {
  it("a card just filed or reopened shows the whole clock left, not a minute or an hour more, with a clock that moves on during the command", async () => {
    app.clock.set(new Date(NOW));
    // A real clock moves on between the command's start and its write: 5 ms a reading here.
    const now = app.clock.now.bind(app.clock);
    const spy = vi.spyOn(app.clock, "now").mockImplementation(() => {
      app.clock.advance(5);
      return now();
    });
    try {
      const r = await app.run("shell:sue", 'complaint new order=ORD-100001 severity=urgent "lid cracked"');
      expect(field(r, "First response")).toMatch(/^1h left \(due/);
      expect(field(r, "Resolution")).toMatch(/^8h left \(due/);
      const low = await app.run("shell:sue", 'complaint new order=ORD-100001 severity=low "box dented"');
      expect(field(low, "Resolution")).toMatch(/^7d left \(due/); // not "7d 1h"
      const id = idOf(low);
      await app.run("shell:sue", `complaint resolve ${id} note=ok`);
      const re = await app.run("shell:sue", `complaint reopen ${id} note="still dented"`);
      expect(field(re, "Resolution")).toMatch(/^7d left \(due/);
    } finally {
      spy.mockRestore();
    }
  });

  it("show time left, then how long overdue, by severity from configuration", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new severity=normal category=delivery where is my parcel"));
    app.clock.advance(22 * H + 45 * M);
    let s = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(s, "First response")).toBe("1h 15m left (due 2026-11-26 12:00 GMT+8)");
    // 2d 1h 15m left: time left rounds up to the unit shown (never less than is left).
    expect(field(s, "Resolution")).toBe("2d 2h left (due 2026-11-28 12:00 GMT+8)");
    expect(s.reply.status).toBe("info");
    app.clock.set(new Date(NOW + 25 * H + 30 * M));
    s = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(s, "First response")).toBe("OVERDUE by 1h 30m (was due 2026-11-26 12:00 GMT+8)");
    expect(s.reply.status).toBe("critical");
    expect((await app.run("shell:sue", "complaint list overdue")).reply.table!.rows.map((r) => r[0])).toContain(id);
    const late = await app.run("shell:lin", `complaint claim ${id}`);
    expect(field(late, "First response")).toBe("done 2026-11-26 13:30 GMT+8, 1h 30m late");
    app.clock.set(new Date(NOW + 73 * H));
    s = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(s, "Resolution")).toBe("OVERDUE by 1h (was due 2026-11-28 12:00 GMT+8)");
    s = await app.core.invoke({ identity: "shell:sue", platform: "shell", text: `complaint show ${id}`, locale: "zh-CN" });
    expect(field(s, "解决")).toBe("已超时 1小时（截止 2026-11-28 12:00 GMT+8）");
    // Categories and sources are named in the team's language, with the code to type beside them.
    expect([field(s, "类别"), field(s, "来源")]).toEqual([expect.stringMatching(/^[^a-z]+（[a-z_]+）$/), expect.stringMatching(/^[^a-z]*（[a-z]+）$/)]);
  });

  it("around the due instant: overdue strictly after it, everywhere; time left rounds up, overdue and late say at least 1m (English and Chinese)", async () => {
    await app.store.complaints.deleteMany({});
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new severity=urgent kettle"));
    const due = NOW + H; // urgent: first response within 1 h
    const zh = async (line: string) => app.core.invoke({ identity: "shell:sue", platform: "shell", text: line, locale: "zh-CN" });
    const listRow = async () => (await app.run("shell:lin", "complaint list")).reply.table!.rows.find((r) => r[0] === id)![4];
    const overdueIds = async () => (await app.run("shell:lin", "complaint list overdue")).reply.table?.rows.map((r) => r[0]) ?? [];

    app.clock.set(new Date(due - 59 * M - 59_000)); // 59m59s left
    expect(field(await app.run("shell:sue", `complaint show ${id}`), "First response")).toBe("1h left (due 2026-11-25 13:00 GMT+8)");
    app.clock.set(new Date(due - 30_000)); // 30 s left
    expect(field(await app.run("shell:sue", `complaint show ${id}`), "First response")).toBe("1m left (due 2026-11-25 13:00 GMT+8)");
    expect(field(await zh(`complaint show ${id}`), "首次响应")).toBe("剩余 1分钟（截止 2026-11-25 13:00 GMT+8）");
    expect(await listRow()).toBe("reply in 1m");

    // The due instant itself: not overdue yet, on the card, in the lists and for the reminders.
    app.clock.set(new Date(due));
    const atDue = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(atDue, "First response")).toBe("0m left (due 2026-11-25 13:00 GMT+8)");
    expect(atDue.reply.status).not.toBe("critical");
    expect(await listRow()).toBe("reply in 0m");
    expect(await overdueIds()).toEqual([]);
    expect((await app.services.complaints.dueForReminder(new Date(due))).filter((d) => d.clock === "first_response").map((d) => d.state)).toEqual(["due_soon"]);
    const alerts = await app.services.complaints.alertsDue(new Date(due), { postSince: new Date(NOW - 24 * H), warnPct: 80 });
    expect(alerts.filter((d) => d.kind === "firstResponseBreach")).toEqual([]);

    // 30 s past: overdue everywhere, by at least 1m.
    app.clock.set(new Date(due + 30_000));
    const past = await app.run("shell:sue", `complaint show ${id}`);
    expect(field(past, "First response")).toBe("OVERDUE by 1m (was due 2026-11-25 13:00 GMT+8)");
    expect(past.reply.status).toBe("critical");
    expect(field(await zh(`complaint show ${id}`), "首次响应")).toBe("已超时 1分钟（截止 2026-11-25 13:00 GMT+8）");
    expect(await listRow()).toBe("reply 1m overdue");
    expect(await overdueIds()).toEqual([id]);
    expect((await app.services.complaints.dueForReminder(new Date(due + 30_000))).filter((d) => d.clock === "first_response").map((d) => d.state)).toEqual(["overdue"]);
    const later = await app.services.complaints.alertsDue(new Date(due + 30_000), { postSince: new Date(NOW - 24 * H), warnPct: 80 });
    expect(later.filter((d) => d.kind === "firstResponseBreach")).toHaveLength(1);

    // Answered 30 s late: late by 1m, not 0m.
    const late = await app.run("shell:lin", `complaint claim ${id}`);
    expect(field(late, "First response")).toBe("done 2026-11-25 13:00 GMT+8, 1m late");
  });

  it("reads COMPLAINT_SLA_* with per-severity defaults and refuses bad values naming the variable", () => {
    const c = loadConfig({ COMPLAINT_SLA_FIRST_RESPONSE: "urgent:15m, low:2d", COMPLAINT_SLA_RESOLUTION: "urgent:2h" });
    expect(c.complaintSla.firstResponse).toEqual({ urgent: 15 * M, high: 4 * H, normal: 24 * H, low: 48 * H });
    expect(c.complaintSla.resolution.urgent).toBe(2 * H);
    expect(c.complaintSla.resolution.low).toBe(168 * H);
    expect(() => loadConfig({ COMPLAINT_SLA_FIRST_RESPONSE: "critical:1h" })).toThrow(/COMPLAINT_SLA_FIRST_RESPONSE: "critical" is not a severity/);
    expect(() => loadConfig({ COMPLAINT_SLA_RESOLUTION: "high:soon" })).toThrow(ConfigError);
    expect(() => loadConfig({ COMPLAINT_SLA_RESOLUTION: "urgent:30m" })).toThrow(/COMPLAINT_SLA_RESOLUTION: shorter than COMPLAINT_SLA_FIRST_RESPONSE for urgent/);
  });

  it("dueForReminder lists running clocks due soon or overdue, with one outbox key per clock and state", async () => {
    await app.store.complaints.deleteMany({});
    app.clock.set(new Date(NOW));
    const a = idOf(await app.run("shell:sue", "complaint new severity=urgent a"));
    const b = idOf(await app.run("shell:sue", "complaint new severity=low b"));
    await app.run("shell:lin", `complaint claim ${a}`);
    const now = new Date(NOW + 7 * H + 45 * M);
    const due = await app.services.complaints.dueForReminder(now, { dueSoonMs: 30 * M });
    // a: first response met; resolution due at 8h, in 15 minutes. b: low, nothing due for days.
    expect(due.map((d) => [d.complaint._id, d.clock, d.state, d.to, d.key])).toEqual([[a, "resolution", "due_soon", "shell:lin", `complaint:${a}:resolution:due_soon`]]);
    const later = await app.services.complaints.dueForReminder(new Date(NOW + 73 * H));
    expect(later.map((d) => [d.complaint._id, d.clock, d.state])).toEqual([
      [a, "resolution", "overdue"],
      [b, "first_response", "overdue"],
    ]);
    void b;
  });
});

describe("complaint lists", () => {
  it("open, mine, overdue and unassigned", async () => {
    await app.store.complaints.deleteMany({});
    app.clock.set(new Date(NOW));
    const u = idOf(await app.run("shell:sue", "complaint new severity=urgent u"));
    const n = idOf(await app.run("shell:sue", "complaint new severity=normal n"));
    const l = idOf(await app.run("shell:sue", "complaint new severity=low l"));
    const r = idOf(await app.run("shell:sue", "complaint new severity=high r"));
    await app.run("shell:lin", `complaint claim ${n}`);
    await app.run("shell:sue", `complaint resolve ${r} note=done`);
    app.clock.set(new Date(NOW + 2 * H));
    const ids = async (line: string, who = "shell:lin") => (await app.run(who, line)).reply.table?.rows.map((x) => x[0]) ?? [];
    // Most urgent first: by the next clock due (u's reply), then resolution due (n before l).
    expect(await ids("complaint list")).toEqual([u, n, l]);
    expect(await ids("complaint list open")).toEqual([u, n, l]);
    expect(await ids("complaint list mine")).toEqual([n]);
    expect(await ids("complaint list unassigned")).toEqual([u, l]);
    expect(await ids("complaint list overdue")).toEqual([u]);
    // However typed: another case, or the Chinese names.
    expect(await ids("complaint list Overdue")).toEqual([u]);
    expect(await ids("complaint list 未分配")).toEqual([u, l]);
    // As the list's own title says it (已超时投诉), and a page typed with a Chinese keyboard.
    expect(await ids("complaint list 已超时")).toEqual([u]);
    expect(await ids("complaint list open page=１")).toEqual([u, n, l]);
    const zhBad = await app.core.invoke({ identity: "shell:lin", platform: "shell", text: "complaint list 以后 page=第二", locale: "zh-CN" });
    expect(zhBad.reply.text).toContain("\"以后\" 不是列表。请使用 未结（open）、我的（mine）、已超时（overdue）、未分配（unassigned）、已升级（escalated）、已解决（resolved）或全部（all）。");
    expect(zhBad.reply.text).toContain("\"第二\" 不是 1 到 10000 之间的页码，例如 page=2。");
    const overdue = await app.run("shell:lin", "complaint list overdue");
    expect(overdue.reply.table!.rows[0]!.slice(1, 5)).toEqual(["urgent", "New", "—", "reply 1h overdue"]);
    expect((await app.run("shell:lin", "complaint list open page=2")).code).toBe("page_out_of_range");
    const mine = await app.run("shell:sue", "complaint list mine");
    expect(mine.reply.text).toBe("You have no open complaints. `complaint list unassigned` shows ones to claim.");
  });
});

describe("refusals and bad input change nothing", () => {
  it("permissions: staff cannot file or claim, viewers cannot list", async () => {
    const count = await app.store.complaints.countDocuments();
    expect((await app.run("shell:sam", "complaint new broken")).code).toBe("permission_denied");
    expect((await app.run("shell:nobody", "complaint list")).code).toBe("permission_denied");
    const any = await app.store.complaints.findOne().lean();
    expect((await app.run("shell:sam", `complaint claim ${any!._id}`)).code).toBe("permission_denied");
    expect(await app.store.complaints.countDocuments()).toBe(count);
    expect(await app.store.complaints.findById(any!._id).lean()).toEqual(any);
    expect(await app.store.audit.countDocuments({ command: "complaint new", outcome: "denied" })).toBe(1);
  });

  it("unknown ids, bad severity, category, list, identity or order are clear errors", async () => {
    const count = await app.store.complaints.countDocuments();
    const sev = await app.run("shell:sue", "complaint new severity=critical broken");
    expect(sev.outcome).toBe("user_error");
    expect(sev.reply.text).toContain('"critical" is not a severity. Use low, normal, high or urgent.');
    expect((await app.run("shell:sue", "complaint new category=rude broken")).reply.text).toContain('"rude" is not a category');
    expect((await app.run("shell:sue", "complaint new order=ORD-404 broken")).code).toBe("unknown_order");
    const mismatch = await app.run("shell:sue", "complaint new order=ORD-100001 customer=CUST-1 broken");
    expect(mismatch.reply.text).toBe("Order ORD-100001 belongs to CUST-77, not CUST-1. Leave out customer= to use the order's customer.");
    expect((await app.run("shell:sue", "complaint new severity=high")).reply.text).toContain("missing <text>");
    expect(await app.store.complaints.countDocuments()).toBe(count);
    for (const line of ["complaint show C-NOPE99", "complaint claim C-NOPE99", "complaint resolve C-NOPE99 note=x", "complaint resolve C-NOPE99", "complaint escalate C-NOPE99 reason=x", "complaint reopen C-NOPE99", "complaint assign C-NOPE99 shell:lin"]) {
      const r = await app.run("shell:lin", line);
      expect(r.code, line).toBe("unknown_complaint");
      expect(r.reply.text).toContain("No complaint C-NOPE99.");
    }
    expect((await app.run("shell:sue", "complaint list later")).reply.text).toContain('"later" is not a list');
    expect((await app.run("shell:sue", "complaint show C-!!")).reply.text).toContain("is not a complaint id");
    // Typed in capitals, by a Chinese name, with a Chinese keyboard's full-width characters: read as meant.
    const typed = await app.run("shell:sue", "complaint new severity＝紧急 category＝商品损坏 order＝ＯＲＤ－１０００01 lid cracked");
    expect(typed.outcome).toBe("ok");
    const filed = (await app.store.complaints.findOne({ text: "lid cracked" }).lean())!;
    expect({ severity: filed.severity, category: filed.category, orderNo: filed.orderNo }).toEqual({ severity: "urgent", category: "damaged", orderNo: "ORD-100001" });
    expect((await app.run("shell:sue", `complaint show ${filed._id.replace("C-", "Ｃ－")}`)).outcome).toBe("ok");
    expect((await app.run("shell:sue", "complaint new severity=HIGH another lid")).outcome).toBe("ok");
    const any = await app.store.complaints.findOne({ status: { $ne: "resolved" } }).lean();
    expect((await app.run("shell:sue", `complaint assign ${any!._id} bob`)).reply.text).toContain('"bob" is not an identity');
    expect((await app.run("shell:sue", `complaint reopen ${any!._id}`)).code).toBe("not_resolved");
    expect(await app.store.complaints.findById(any!._id).lean()).toEqual(any);
  });
});

describe("filing from a chat message", () => {
  it("is idempotent per message and links an order named in the text", async () => {
    app.clock.set(new Date(NOW));
    const msg = { text: "Customer says ORD-100001 arrived wet", author: "slack:T1:U2", permalink: "https://x.slack.com/archives/C1/p1700000000000100" };
    const r = await app.services.complaints.fileFromMessage(msg);
    expect(r.kind).toBe("created");
    if (r.kind !== "created") return;
    expect(r.complaint).toMatchObject({ source: "slack", orderNo: "ORD-100001", customerId: "CUST-77", createdBy: "slack:T1:U2", permalink: msg.permalink, status: "new" });
    const again = await app.services.complaints.fileFromMessage(msg);
    expect(again).toMatchObject({ kind: "duplicate", complaint: { _id: r.complaint._id } });
    const other = await app.services.complaints.fileFromMessage({ ...msg, text: "ORD-999 never came", permalink: msg.permalink + "1" });
    expect(other).toMatchObject({ kind: "created", complaint: { customerId: "unknown" } });
    expect(await app.store.complaints.countDocuments({ source: "slack" })).toBe(2);
    const card = await app.run("shell:sue", `complaint show ${r.complaint._id}`);
    expect(field(card, "Message")).toBe(msg.permalink);
  });
  it("complaint new link=… author=… files the message once, as its author, with the link", async () => {
    const link = "https://x.slack.com/archives/C1/p1700000000000200";
    const line = `complaint new source=slack link=${link} author=slack:T1:U9 "lid cracked, ORD-100001"`;
    const r = await app.run("shell:sue", line);
    expect(r.outcome, r.reply.text).toBe("ok");
    const stored = (await app.store.complaints.findOne({ permalink: link }).lean())!;
    expect(stored).toMatchObject({ text: "lid cracked, ORD-100001", source: "slack", createdBy: "slack:T1:U9", orderNo: "ORD-100001", customerId: "CUST-77" });
    // The history names who filed it, beside the message's author.
    expect(stored.history[0]).toMatchObject({ action: "created", by: "shell:sue", from: "slack:T1:U9" });
    expect(stored.history[0]!.note).toBeUndefined();
    expect(r.reply.title).toContain(stored._id);
    const again = await app.run("shell:sue", line);
    expect(again).toMatchObject({ outcome: "ok", code: "already_filed", reply: { status: "info", visibility: "ephemeral", text: `This message was already filed as ${stored._id}; nothing new was created.` } });
    expect(await app.store.complaints.countDocuments({ permalink: link })).toBe(1);
    expect((await app.run("shell:sue", `complaint new link=ftp://x author=slack:T1:U9 "x"`)).reply.text).toContain("is not a message link");
  });
});

describe("filing the same message again", () => {
  it("answers privately that it is filed already, names the arguments not applied, and audits already_filed", async () => {
    app.clock.set(new Date(NOW));
    const link = "https://x.slack.com/archives/C1/p1700000000000300";
    const first = await app.run("shell:sue", `complaint new source=slack link=${link} author=slack:T1:U9 severity=high order=ORD-100001 "kettle leaks"`);
    expect(first.outcome, first.reply.text).toBe("ok");
    expect(first.reply.visibility).toBe("public");
    const id = idOf(first);
    const before = await app.store.complaints.findById(id).lean();

    // A second agent reacts to the same message, with other values: nothing changes, no second card.
    const again = await app.run("shell:lin", `complaint new source=slack link=${link} author=slack:T1:U9 severity=urgent category=damaged order=ORD-404 customer=cust-9 "kettle leaks"`);
    expect(again.outcome).toBe("ok");
    expect(again.code).toBe("already_filed");
    expect(again.reply).toMatchObject({ status: "info", visibility: "ephemeral" });
    expect(again.reply.title).toBeUndefined();
    expect(again.reply.text).toBe(
      `This message was already filed as ${id}; nothing new was created. Not applied, as ${id} was filed with other values: severity=urgent (it has high), category=damaged (it has other), order=ORD-404 (it has ORD-100001), customer=cust-9 (it has CUST-77).`,
    );
    expect(await app.store.audit.findById(again.ref).lean()).toMatchObject({ actor: "shell:lin", command: "complaint new", outcome: "ok", code: "already_filed" });
    expect(await app.store.complaints.findById(id).lean()).toEqual(before);
    expect(await app.store.complaints.countDocuments({ permalink: link })).toBe(1);

    // The same values (or none), in any case for the customer: just "already filed".
    const same = await app.run("shell:lin", `complaint new source=slack link=${link} author=slack:T1:U9 severity=high order=100001 customer=cust-77 "kettle leaks"`);
    expect(same.reply.text).toBe(`This message was already filed as ${id}; nothing new was created.`);
    // In Chinese: severity and category by the names the card shows, Chinese separators, no space between sentences.
    const zh = await app.core.invoke({ identity: "shell:lin", platform: "shell", text: `complaint new link=${link} author=slack:T1:U9 severity=low category=damaged "kettle leaks"`, locale: "zh-CN" });
    expect(zh.reply.text).toBe(`这条消息已登记为 ${id}，未重复创建。${id} 登记时的值不同，以下参数未被采用：severity=低（已登记：高）；category=商品损坏（已登记：其他）。`);
  });
});

describe("the history in the reader's language", () => {
  it("says whose message it was filed from and whom it was reassigned from, in Chinese too, also from the English notes of older entries", async () => {
    app.clock.set(new Date(NOW));
    const link = "https://x.slack.com/archives/C1/p1700000000000400";
    const id = idOf(await app.run("shell:sue", `complaint new source=slack link=${link} author=slack:T1:U2 "strap snapped"`));
    await app.run("shell:lin", `complaint claim ${id}`);
    expect((await app.run("shell:max", `complaint assign ${id} shell:sue`)).outcome).toBe("ok");
    expect((await app.run("shell:sue", `complaint resolve ${id} note="refund sent"`)).outcome).toBe("ok");
    const history = async (cid: string, locale: "en" | "zh-CN") =>
      (await app.core.invoke({ identity: "shell:sue", platform: "shell", text: `complaint show ${cid}`, locale }))
        .reply.fields!.find((f) => f.label === (locale === "en" ? "History" : "处理记录"))!
        .value.split("\n");
    const en = [
      "2026-11-25 12:00 GMT+8 shell:sue: filed from a message by slack:T1:U2",
      "2026-11-25 12:00 GMT+8 shell:lin: claimed",
      "2026-11-25 12:00 GMT+8 shell:max: reassigned from shell:lin to shell:sue",
      "2026-11-25 12:00 GMT+8 shell:sue: resolved: refund sent",
    ];
    const zh = [
      "2026-11-25 12:00 GMT+8 shell:sue：登记（来自 slack:T1:U2 的消息）",
      "2026-11-25 12:00 GMT+8 shell:lin：认领",
      "2026-11-25 12:00 GMT+8 shell:max：从 shell:lin 改派给 shell:sue",
      "2026-11-25 12:00 GMT+8 shell:sue：结案：refund sent",
    ];
    expect(await history(id, "en")).toEqual(en);
    expect(await history(id, "zh-CN")).toEqual(zh);
    // Stored before these facts had fields, as the bot's English notes: worded the same way.
    const doc = (await app.store.complaints.findById(id).lean())!;
    const at = new Date(NOW);
    await app.store.complaints.create({
      ...doc,
      _id: "C-OLDNTS",
      permalink: link + "9",
      history: [
        { action: "created", by: "shell:sue", at, to: "new", note: "from a message by slack:T1:U2" },
        { action: "claim", by: "shell:lin", at, from: "new", to: "shell:lin" },
        { action: "assign", by: "shell:max", at, from: "claimed", to: "shell:sue", note: "from shell:lin" },
        { action: "resolve", by: "shell:sue", at, from: "claimed", to: "resolved", note: "refund sent" },
      ],
    });
    expect(await history("C-OLDNTS", "en")).toEqual(en);
    expect(await history("C-OLDNTS", "zh-CN")).toEqual(zh);
    // A first assignment (nobody had it) stays "assigned to".
    const first = idOf(await app.run("shell:sue", "complaint new nobody on it"));
    await app.run("shell:max", `complaint assign ${first} shell:lin`);
    expect((await history(first, "zh-CN")).at(-1)).toBe("2026-11-25 12:00 GMT+8 shell:max：分配给 shell:lin");
  });
});

describe("reopening", () => {
  it("an escalated complaint comes back escalated, with its assignee, and support may not close it", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new severity=high customer=cust-8 wants a manager"));
    await app.run("shell:sue", `complaint escalate ${id} reason="asks for a manager"`);
    expect((await app.run("shell:max", `complaint claim ${id}`)).outcome).toBe("ok");
    app.clock.advance(2 * H);
    expect((await app.run("shell:max", `complaint resolve ${id} note="voucher given"`)).outcome).toBe("ok");
    app.clock.advance(3 * 24 * H);
    const re = await app.run("shell:sue", `complaint reopen ${id} note="voucher did not work"`);
    expect(re.outcome).toBe("ok");
    // high: 24 h to resolve, from the reopening (2026-11-28 14:00 local).
    expect(re.reply.title).toBe(
      `${id} reopened and escalated again, as it was when resolved, still with shell:max, who may resolve it, as may a manager or admin. Its resolution clock restarted: due 2026-11-29 14:00 GMT+8.`,
    );
    expect([field(re, "Status"), field(re, "Assignee")]).toEqual(["Escalated", "shell:max"]);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "escalated", assignee: "shell:max", resolutionDueAt: new Date(NOW + 74 * H + 24 * H) });
    const h = (await app.store.complaints.findById(id).lean())!.history.at(-2)!;
    expect([h.action, h.from, h.to, h.note]).toEqual(["reopen", "resolved", "escalated", "voucher did not work"]);
    // The ESCALATED_ROLE rule applies again.
    const denied = await app.run("shell:sue", `complaint resolve ${id} note="sorted"`);
    expect([denied.outcome, denied.code]).toEqual(["denied", "permission_denied"]);
    expect((await app.run("shell:lin", `complaint assign ${id} shell:lin`)).code).toBe("permission_denied");
    expect((await app.run("shell:max", `complaint resolve ${id} note="refunded"`)).outcome).toBe("ok");

    // Resolved from claimed: back to claimed, as before.
    const plain = idOf(await app.run("shell:sue", "complaint new customer=cust-8 plain one"));
    await app.run("shell:lin", `complaint claim ${plain}`);
    await app.run("shell:lin", `complaint resolve ${plain} note=done`);
    expect(field(await app.run("shell:sue", `complaint reopen ${plain}`), "Status")).toBe("Claimed");
  });
});

describe("escalating an escalated complaint", () => {
  it("support is told it is already escalated and nothing changes; a manager may send it back to the queue", async () => {
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new customer=cust-9 legal threat"));
    await app.run("shell:sue", `complaint escalate ${id} reason="legal threat"`);
    // Waiting unassigned.
    const waiting = await app.run("shell:lin", `complaint escalate ${id} reason="again"`);
    // Who escalated it, when and why, and that this reason was dropped (e21: deliberately more than "already escalated").
    expect([waiting.outcome, waiting.code, waiting.reply.text]).toEqual(["ok", "already_escalated", `${id} is already escalated and waiting to be claimed; nothing changed. shell:sue escalated it at 2026-11-25 12:00 GMT+8: “legal threat”. Your reason was not kept.`]);
    expect((await app.run("shell:max", `complaint claim ${id}`)).outcome).toBe("ok");
    const before = await app.store.complaints.findById(id).lean();
    // Held by a manager: a support person's escalation (typed, or the bare button) changes nothing.
    for (const line of [`complaint escalate ${id} reason="customer called again"`, `complaint escalate ${id}`]) {
      const r = await app.run("shell:sue", line);
      expect(r.outcome, line).toBe("ok");
      expect(r.code).toBe("already_escalated");
      const dropped = line.includes("reason=") ? " Your reason was not kept." : "";
      expect(r.reply).toMatchObject({ status: "info", visibility: "ephemeral", text: `${id} is already escalated, and shell:max has it; nothing changed. Only a manager or admin can send it back to the queue. You escalated it at 2026-11-25 12:00 GMT+8: “legal threat”.${dropped}` });
      expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ outcome: "ok", code: "already_escalated" });
    }
    expect(await app.store.complaints.findById(id).lean()).toEqual(before);
    // The card offers no Escalate button on an escalated complaint.
    expect((await app.run("shell:max", `complaint show ${id}`)).reply.actions!.map((a) => a.label)).toEqual(["Resolve"]);
    // A manager may hand it back to the queue for another manager.
    const back = await app.run("shell:max", `complaint escalate ${id} reason="on leave, another manager please"`);
    expect(back.outcome).toBe("ok");
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "escalated" });
    expect((await app.store.complaints.findById(id).lean())!.assignee).toBeUndefined();
  });
});

describe("customer ids", () => {
  it("are taken as ingestion takes them (any 1-100 characters), stored as typed, or as the shop spells them on its orders (as order search finds them)", async () => {
    app.clock.set(new Date(NOW));
    await app.store.orders.create({ _id: "ORD-100050", items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], subtotal: 5000, total: 5000, currency: "CNY", status: "paid", channel: "web", customerId: "shop.user@example.com", createdAt: new Date(NOW - H), day: "2026-11-25" });
    for (const [typed, stored] of [
      ['"a+b@x.com"', "a+b@x.com"],
      ['"cust 1"', "cust 1"],
      ["王小明", "王小明"],
      ["Alice@Example.com", "Alice@Example.com"],
      ["Shop.User@Example.com", "shop.user@example.com"],
    ] as const) {
      const r = await app.run("shell:sue", `complaint new customer=${typed} parcel late`);
      expect(r.outcome, `${typed}: ${r.reply.text}`).toBe("ok");
      expect(field(r, "Customer")).toBe(stored);
      expect((await app.store.complaints.findById(idOf(r)).lean())!.customerId).toBe(stored);
    }
    // With an order, the order's customer in any case; another customer is refused, named as typed.
    expect((await app.run("shell:sue", "complaint new order=ORD-100050 customer=SHOP.USER@EXAMPLE.COM parcel late")).outcome).toBe("ok");
    const mismatch = await app.run("shell:sue", 'complaint new order=ORD-100050 customer="a+b@x.com" parcel late');
    expect(mismatch.reply.text).toBe("Order ORD-100050 belongs to shop.user@example.com, not a+b@x.com. Leave out customer= to use the order's customer.");
    const long = await app.run("shell:sue", `complaint new customer=${"x".repeat(101)} parcel late`);
    expect(long.outcome).toBe("user_error");
    expect(long.reply.text).toContain("is not a customer id: use the shop's id, 1 to 100 characters.");
  });
});

describe("assigning to a Discord member", () => {
  it("whose support role may come from DISCORD_ROLE_MAP: says the mapped role cannot be seen and how to fix it", async () => {
    const d = await makeTestApp({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_ROLE_MAP: "223456789012345678:support" });
    try {
      await d.services.identity.grant("shell:max", "manager", "shell:admin");
      const id = idOf(await d.run("shell:max", "complaint new customer=cust-1 lid cracked"));
      const member = "discord:323456789012345678";
      const r = await d.run("shell:max", `complaint assign ${id} ${member}`);
      expect([r.outcome, r.code]).toEqual(["user_error", "role_not_stored"]);
      expect(r.reply.text).toBe(
        `${member} has no support role granted in shopops. A role that comes from their Discord server roles (DISCORD_ROLE_MAP) cannot be seen for someone else: ask an admin to run \`role grant ${member} support\`, then assign again. If ${id} is not escalated, they can also take it themselves with \`complaint claim ${id}\`.`,
      );
      expect((await d.store.complaints.findById(id).lean())!.assignee).toBeUndefined();
      // Assigning to yourself: the role Discord vouches for is known.
      const self = await d.core.invoke({ identity: member, platform: "discord", platformRole: "support", text: `complaint assign ${id} ${member}` });
      expect(self.outcome, self.reply.text).toBe("ok");
      // Once granted, anyone may assign to them.
      await d.services.identity.grant(member, "support", "shell:admin");
      expect((await d.run("shell:max", `complaint assign ${id} shell:max`)).outcome).toBe("ok");
      expect((await d.run("shell:max", `complaint assign ${id} ${member}`)).outcome).toBe("ok");
      // Not a Discord identity: its stored role is all there is.
      expect((await d.run("shell:max", `complaint assign ${id} shell:nobody`)).code).toBe("assignee_not_support");
    } finally {
      await d.close();
    }
  });
});
