/**
 * Complaint fixes (e14): escalating someone else's complaint needs its holder or a manager; an
 * unknown complaint is reported before whom it is assigned to; the reopen refusal writes the status
 * as the other replies do; a complaint a manager gave someone reads "assigned", not "claimed".
 * Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, type TestApp } from "./helpers/app.js";

/** The test clock's start: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");

let app: TestApp;
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:lin", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("escalating a complaint someone else holds", () => {
  it("support is refused, told who holds it and who may escalate it (en, zh), audited denied, nothing changed; the holder and a manager may", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new severity=high box crushed"));
    await app.run("shell:lin", `complaint claim ${id}`);
    const before = await app.store.complaints.findById(id).lean();

    const r = await app.run("shell:sue", `complaint escalate ${id} reason="customer is angry"`);
    expect([r.outcome, r.code]).toEqual(["denied", "held_by_other"]);
    expect(r.reply.text).toBe(
      `${id} is with shell:lin: only they, a manager or an admin may escalate it; nothing changed. Ask shell:lin to escalate it, or a manager to run \`complaint escalate ${id} reason="…"\`.`,
    );
    expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ actor: "shell:sue", command: "complaint escalate", outcome: "denied", code: "held_by_other", subject: id });
    // The card's bare Escalate press is refused at once, not asked for a reason first.
    const bare = await app.run("shell:sue", `complaint escalate ${id}`);
    expect([bare.outcome, bare.code]).toEqual(["denied", "held_by_other"]);
    const z = await zh("shell:sue", `complaint escalate ${id} reason=客户很生气`);
    expect([z.outcome, z.reply.text]).toEqual(["denied", `${id} 目前由 shell:lin 处理：只有其本人、经理或管理员可以升级，未做任何更改。请联系 shell:lin 升级，或请经理执行 \`complaint escalate ${id} reason="…"\`。`]);
    expect(await app.store.complaints.findById(id).lean()).toEqual(before);

    // Its holder may escalate it; so may a manager one someone else holds.
    expect((await app.run("shell:lin", `complaint escalate ${id} reason="customer is angry"`)).outcome).toBe("ok");
    const other = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    await app.run("shell:lin", `complaint claim ${other}`);
    expect((await app.run("shell:max", `complaint escalate ${other} reason="legal threat"`)).outcome).toBe("ok");
    // An unassigned one, as before: any support.
    const free = idOf(await app.run("shell:sue", "complaint new late parcel"));
    expect((await app.run("shell:sue", `complaint escalate ${free} reason="vip"`)).outcome).toBe("ok");
  });
});

describe("assigning an unknown complaint", () => {
  it("to a viewer says the complaint does not exist, not that the viewer cannot have it", async () => {
    const r = await app.run("shell:sue", "complaint assign C-NOPE99 shell:vic");
    expect([r.outcome, r.code]).toEqual(["user_error", "unknown_complaint"]);
    expect(r.reply.text).toContain("No complaint C-NOPE99.");
  });
});

describe("reopening an open complaint", () => {
  it("names its status in lower case mid-sentence, as the other replies do", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new box crushed"));
    await app.run("shell:lin", `complaint claim ${id}`);
    const r = await app.run("shell:sue", `complaint reopen ${id}`);
    expect([r.code, r.reply.text]).toEqual(["not_resolved", `${id} is claimed, not resolved: only a resolved complaint can be reopened.`]);
    const fresh = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    expect((await app.run("shell:sue", `complaint reopen ${fresh}`)).reply.text).toBe(`${fresh} is new, not resolved: only a resolved complaint can be reopened.`);
  });
});

describe("a complaint a manager assigned", () => {
  it("reads assigned (by whom, to whom) on its card, in the list and in a claim refusal, en and zh; a claimed one still reads claimed", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new box crushed"));
    const done = await app.run("shell:max", `complaint assign ${id} shell:lin`);
    expect(field(done, "Status")).toBe("Assigned");
    expect(field(done, "History")).toContain("shell:max: assigned to shell:lin");
    expect(field(await app.run("shell:lin", `complaint show ${id}`), "Status")).toBe("Assigned");
    expect(field(await zh("shell:lin", `complaint show ${id}`), "状态")).toBe("已分配");
    expect((await app.run("shell:lin", "complaint list mine")).reply.table!.rows[0]!.slice(0, 4)).toEqual([id, "normal", "Assigned", "shell:lin"]);

    const claim = await app.run("shell:sue", `complaint claim ${id}`);
    expect([claim.code, claim.reply.text]).toEqual(["claimed_by_other", `${id} is already assigned to shell:lin (by shell:max). Ask them, or a manager can \`complaint assign ${id} <identity>\`.`]);
    expect((await zh("shell:sue", `complaint claim ${id}`)).reply.text).toBe(`${id} 已由 shell:max 分配给 shell:lin。请联系对方，或由经理执行 \`complaint assign ${id} <身份>\`。`);
    expect((await app.run("shell:sue", `complaint reopen ${id}`)).reply.text).toBe(`${id} is assigned, not resolved: only a resolved complaint can be reopened.`);

    // Claimed by the person themselves (or assigned to themselves): "Claimed", "claimed by".
    const own = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    await app.run("shell:lin", `complaint assign ${own} shell:lin`);
    expect(field(await app.run("shell:lin", `complaint show ${own}`), "Status")).toBe("Claimed");
    expect((await app.run("shell:sue", `complaint claim ${own}`)).reply.text).toContain(`${own} is already claimed by shell:lin.`);
  });
});

describe("an escalation reason that ends its own sentence", () => {
  it("gets no second full stop in the reply, en and zh; the history keeps it as typed", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new box crushed"));
    const r = await app.run("shell:sue", `complaint escalate ${id} reason="Customer threatens chargeback."`);
    expect(r.reply.title).toBe(`${id} escalated: Customer threatens chargeback. It waits unassigned for someone senior to claim it.`);
    expect(field(r, "History")).toContain("escalated: Customer threatens chargeback.");
    const other = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    const z = await zh("shell:sue", `complaint escalate ${other} reason=客户要求退款！`);
    expect(z.reply.title).toBe(`${other} 已升级：客户要求退款！该投诉将保持未分配，等待经理认领。`);
  });
});

describe("a complaint list page past the last", () => {
  it("says which line shows the last page, en and zh", async () => {
    for (let i = 0; i < 11; i++) await app.run("shell:sue", `complaint new parcel ${i} late`);
    const r = await app.run("shell:sue", "complaint list unassigned page=5");
    expect([r.code, r.reply.text]).toEqual(["page_out_of_range", "Page 5 is past the last page (2) of 11 complaints. Run `complaint list unassigned page=2` for the last page."]);
    const z = await zh("shell:sue", "complaint list 未分配 page=5");
    expect(z.reply.text).toBe("第 5 页超出了最后一页（共 2 页，11 个投诉）。请执行 `complaint list unassigned page=2` 查看最后一页。");
    // The line it names runs.
    expect((await app.run("shell:sue", "complaint list unassigned page=2")).reply.table!.rows).toHaveLength(1);
  });
});
