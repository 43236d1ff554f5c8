/**
 * Complaint leftovers (e14, second pass): the order card says "Assigned" for a complaint a manager
 * gave someone; `complaint assign` reports the complaint's own blocker (resolved, escalated,
 * someone else's) before the assignee's role; the holder of an escalated complaint escalating it
 * again is told they have it; support refused an escalated complaint is told who has it.
 * Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

/** The test clock's start: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");

let app: TestApp;
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const doc = (id: string) => app.store.complaints.findById(id).lean();

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:lin", "support", "shell:admin");
  await app.services.identity.grant("shell:bob", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-100001", 5_000)]);
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("the order card's complaints", () => {
  it("say Assigned (en) / 已分配 (zh) for a complaint a manager gave someone, Claimed for one claimed", async () => {
    const given = idOf(await app.run("shell:sue", "complaint new order=ORD-100001 box crushed"));
    const taken = idOf(await app.run("shell:sue", "complaint new order=ORD-100001 lid leaks"));
    await app.run("shell:max", `complaint assign ${given} shell:bob`);
    await app.run("shell:lin", `complaint claim ${taken}`);
    const lines = field(await app.run("shell:sue", "order ORD-100001"), "Complaints")!.split("\n");
    expect(lines).toEqual([`${given} · normal · Assigned: box crushed`, `${taken} · normal · Claimed: lid leaks`]);
    const z = field(await zh("shell:sue", "order ORD-100001"), "投诉")!.split("\n");
    expect(z[0]).toContain("已分配");
    expect(z[1]).toContain("已认领");
  });
});

describe("assigning a complaint to a viewer", () => {
  it("reports the complaint's own blocker first: resolved, escalated, someone else's, escalated and yours; nothing changes", async () => {
    // Resolved: reopen first (for support and a manager alike), not "the viewer cannot have it".
    const resolved = idOf(await app.run("shell:sue", "complaint new box crushed"));
    await app.run("shell:sue", `complaint resolve ${resolved} note=refunded`);
    for (const who of ["shell:sue", "shell:max"]) {
      const r = await app.run(who, `complaint assign ${resolved} shell:nobody`);
      expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "resolved", `${resolved} is resolved; reopen it first (\`complaint reopen ${resolved}\`).`]);
    }
    // Escalated, support: only a manager may assign it (audited denied).
    const escalated = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    await app.run("shell:sue", `complaint escalate ${escalated} reason=vip`);
    const e = await app.run("shell:sue", `complaint assign ${escalated} shell:nobody`);
    expect([e.outcome, e.code]).toEqual(["denied", "permission_denied"]);
    expect(e.reply.text).toContain("only a manager or admin may claim, assign or resolve it");
    expect(await app.store.audit.findById(e.ref).lean()).toMatchObject({ actor: "shell:sue", command: "complaint assign", outcome: "denied", code: "permission_denied", subject: escalated });
    // Someone else's, support: only they or a manager may hand it on.
    const held = idOf(await app.run("shell:sue", "complaint new late parcel"));
    await app.run("shell:lin", `complaint claim ${held}`);
    const h = await app.run("shell:sue", `complaint assign ${held} shell:nobody`);
    expect([h.outcome, h.code]).toEqual(["denied", "held_by_other"]);
    expect(h.reply.text).toContain(`${held} is with shell:lin`);
    // Escalated and given to sue by a manager: it stays hers, only a manager hands it on.
    await app.run("shell:max", `complaint assign ${escalated} shell:sue`);
    const mine = await app.run("shell:sue", `complaint assign ${escalated} shell:nobody`);
    expect([mine.outcome, mine.code]).toEqual(["denied", "permission_denied"]);
    expect(mine.reply.text).toContain("It stays with you and you may resolve it");
    const before = await app.store.complaints.find({}).sort({ _id: 1 }).lean();

    // A complaint anyone may assign: the viewer is the blocker, as before; a manager may assign
    // the escalated one, and is then told the viewer cannot have it.
    const open = idOf(await app.run("shell:sue", "complaint new wrong colour"));
    for (const [who, id] of [["shell:sue", open], ["shell:max", escalated]] as const) {
      const v = await app.run(who, `complaint assign ${id} shell:nobody`);
      expect([v.outcome, v.code]).toEqual(["user_error", "assignee_not_support"]);
    }
    expect(await app.store.complaints.find({ _id: { $ne: open } }).sort({ _id: 1 }).lean()).toEqual(before);
  });
});

describe("escalating again an escalated complaint you hold", () => {
  it("says you have it (en, zh), typed or pressed; someone else is told who has it", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new severity=high box crushed"));
    await app.run("shell:sue", `complaint escalate ${id} reason="chargeback threat"`);
    await app.run("shell:max", `complaint assign ${id} shell:lin`);
    const before = await doc(id);
    const yours = `${id} is already escalated, and you have it; nothing changed. You may resolve it (\`complaint resolve ${id} note="…"\`); only a manager or admin can send it back to the queue.`;
    for (const line of [`complaint escalate ${id} reason="still angry"`, `complaint escalate ${id}`]) {
      const r = await app.run("shell:lin", line);
      // e21: then who escalated it, when and why, and (given one) that this reason was not kept.
      const by = ` shell:sue escalated it at 2026-11-25 12:00 GMT+8: “chargeback threat”.${line.includes("reason=") ? " Your reason was not kept." : ""}`;
      expect([r.outcome, r.code, r.reply.text]).toEqual(["ok", "already_escalated", yours + by]);
      expect(r.reply.text).not.toContain("shell:lin");
    }
    const z = await zh("shell:lin", `complaint escalate ${id} reason=客户还在生气`);
    expect(z.reply.text).toBe(`${id} 已经升级，目前由你处理，未做任何更改。你可以结案（\`complaint resolve ${id} note="…"\`）；只有经理或管理员可以将其退回待认领队列。shell:sue 已于 2026-11-25 12:00 GMT+8 升级：“chargeback threat”。你填写的原因未被保存。`);
    const other = await app.run("shell:sue", `complaint escalate ${id} reason="still angry"`);
    expect(other.reply.text).toBe(`${id} is already escalated, and shell:lin has it; nothing changed. Only a manager or admin can send it back to the queue. You escalated it at 2026-11-25 12:00 GMT+8: “chargeback threat”. Your reason was not kept.`);
    expect(await doc(id)).toEqual(before);
  });
});

describe("support refused an escalated complaint someone has", () => {
  it("is told who has it (claim, resolve, assign; en, zh), audited denied, nothing changed", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new severity=high box crushed"));
    await app.run("shell:sue", `complaint escalate ${id} reason="chargeback threat"`);
    await app.run("shell:max", `complaint assign ${id} shell:bob`);
    const before = await doc(id);
    const text = `${id} is escalated and shell:bob has it: only a manager or admin may claim or assign it, and only shell:bob, a manager or an admin may resolve it; nothing changed. Ask shell:bob, or a manager to hand it to you (\`complaint assign ${id} <identity>\`).`;
    for (const line of [`complaint claim ${id}`, `complaint resolve ${id} note=done`, `complaint resolve ${id}`, `complaint assign ${id} shell:sue`]) {
      const r = await app.run("shell:sue", line);
      expect([r.outcome, r.code, r.reply.text]).toEqual(["denied", "permission_denied", text]);
      expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ actor: "shell:sue", outcome: "denied", code: "permission_denied", subject: id });
    }
    const z = await zh("shell:sue", `complaint claim ${id}`);
    expect(z.reply.text).toBe(`${id} 已升级，目前由 shell:bob 处理：只有经理或管理员可以认领或分配，只有 shell:bob、经理或管理员可以结案，未做任何更改。请联系 shell:bob，或请经理分配给你（\`complaint assign ${id} <身份>\`）。`);
    expect(await doc(id)).toEqual(before);
    // Waiting unassigned, the refusal is as before: ask a manager to take it.
    await app.run("shell:max", `complaint escalate ${id} reason="back to the queue"`);
    const free = await app.run("shell:sue", `complaint claim ${id}`);
    expect(free.reply.text).toContain("Ask a manager to take it");
  });
});
