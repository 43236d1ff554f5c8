/**
 * Complaint fixes (e13): the lists put first the complaint whose next clock (the one the "Next
 * due" column shows) runs out first; someone a manager gave an escalated complaint to is told it
 * stays theirs when they try to hand it on. Real database, fixed clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, type TestApp } from "./helpers/app.js";

const H = 3_600_000;
/** The test clock's start: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");

let app: TestApp;
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:lin", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
});
afterAll(() => app.close());

describe("complaint list order", () => {
  it("an urgent complaint nobody answered, its reply due in 1h, comes before claimed ones whose resolution is due later", async () => {
    await app.store.complaints.deleteMany({});
    // Ten normal complaints filed 70h ago and claimed: resolution due in 2h (72h clock).
    app.clock.set(new Date(NOW - 70 * H));
    const old: string[] = [];
    for (let i = 0; i < 10; i++) old.push(idOf(await app.run("shell:sue", `complaint new severity=normal parcel ${i} late`)));
    for (const id of old) await app.run("shell:lin", `complaint claim ${id}`);
    // A new urgent one: reply due in 1h, resolution in 8h.
    app.clock.set(new Date(NOW));
    const urgent = idOf(await app.run("shell:sue", "complaint new severity=urgent customer threatens chargeback"));
    for (const which of ["open", "unassigned"]) {
      const first = await app.run("shell:lin", `complaint list ${which}`);
      expect(first.reply.table!.rows[0]!.slice(0, 5)).toEqual([urgent, "urgent", "New", "—", "reply in 1h"]);
    }
    const page1 = (await app.run("shell:lin", "complaint list")).reply.table!.rows;
    const page2 = (await app.run("shell:lin", "complaint list page=2")).reply.table!.rows;
    // Every complaint once, across the pages, the next due column in order.
    expect(page1.map((r) => r[4])).toEqual(["reply in 1h", ...Array(9).fill("resolve in 2h")]);
    expect(page2.map((r) => r[4])).toEqual(["resolve in 2h"]);
    expect([...page1, ...page2].map((r) => r[0]).sort()).toEqual([urgent, ...old].sort());
    // 3h later all are overdue: the urgent reply (2h overdue) first, as its clock ran out first.
    app.clock.set(new Date(NOW + 3 * H));
    const overdue = (await app.run("shell:lin", "complaint list overdue")).reply.table!.rows;
    expect(overdue[0]!.slice(0, 1).concat(overdue[0]![4]!)).toEqual([urgent, "reply 2h overdue"]);
    expect(overdue.slice(1).map((r) => r[4])).toEqual(Array(9).fill("resolve 1h overdue"));
  });
});

describe("escalated complaint a manager gave to support", () => {
  it("its holder trying to hand it on is told it stays theirs and that they may resolve it, in English and Chinese", async () => {
    await app.store.complaints.deleteMany({});
    app.clock.set(new Date(NOW));
    const id = idOf(await app.run("shell:sue", "complaint new severity=high box crushed"));
    await app.run("shell:sue", `complaint escalate ${id} reason="chargeback threat"`);
    expect((await app.run("shell:max", `complaint assign ${id} shell:lin`)).outcome).toBe("ok");
    const r = await app.run("shell:lin", `complaint assign ${id} shell:sue`);
    expect([r.outcome, r.code]).toEqual(["denied", "permission_denied"]);
    expect(r.reply.text).toBe(
      `${id} is escalated: only a manager or admin may hand it to someone else; nothing changed. It stays with you and you may resolve it (\`complaint resolve ${id} note="…"\`), or ask a manager to run \`complaint assign ${id} shell:sue\`.`,
    );
    const zh = await app.core.invoke({ identity: "shell:lin", platform: "shell", text: `complaint assign ${id} shell:sue`, locale: "zh-CN" });
    expect(zh.reply.text).toContain("它仍由你处理，你可以结案");
    // Assigning it to themselves: it is theirs already, as a claim says it.
    const self = await app.run("shell:lin", `complaint assign ${id} shell:lin`);
    expect([self.outcome, self.code, self.reply.text]).toEqual(["ok", "already_claim", `${id} is already yours; nothing changed.`]);
    // Nothing changed: still with lin, escalated; and lin may resolve it as the message says.
    const c = await app.services.complaints.get(id);
    expect([c!.status, c!.assignee]).toEqual(["escalated", "shell:lin"]);
    expect((await app.run("shell:lin", `complaint resolve ${id} note="refund sent"`)).outcome).toBe("ok");
    // Someone else below manager is told who has it and to ask a manager to hand it to them (a
    // manager's claim would be refused: lin has it).
    await app.run("shell:sue", `complaint reopen ${id}`);
    const other = await app.run("shell:sue", `complaint assign ${id} shell:sue`);
    expect(other.reply.text).toContain(`is escalated and shell:lin has it`);
    expect(other.reply.text).toContain(`Ask shell:lin, or a manager to hand it to you (\`complaint assign ${id} <identity>\`)`);
  });
});
