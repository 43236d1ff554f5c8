/**
 * Complaint leftovers (issue #4): assigning a complaint to another of one's own linked identities
 * is one's claim, replied and shown as one; resolving one someone else holds is allowed, and the
 * reply and the card's history say whose it was. Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, type TestApp } from "./helpers/app.js";

const NOW = Date.parse("2026-11-25T04:00:00Z");
/** One support person on Slack and on Discord (linked); a manager on the shell and on Slack (linked). */
const SLACK = "slack:T1:U1";
const DISCORD = "discord:111111";
const MAX_SLACK = "slack:T1:UMAX";

let app: TestApp;
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" });
const doc = (id: string) => app.store.complaints.findById(id).lean();
const file = async (text = "box crushed") => idOf(await app.run("shell:sue", `complaint new ${text}`));
const history = (r: Awaited<ReturnType<TestApp["run"]>>) => field(r, "History")!.split("\n");

beforeAll(async () => {
  app = await makeTestApp();
  for (const who of [SLACK, DISCORD, "shell:sue", "shell:lin", MAX_SLACK]) await app.services.identity.grant(who, "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  expect((await app.run("shell:admin", `role link ${SLACK} ${DISCORD}`)).outcome).toBe("ok");
  expect((await app.run("shell:admin", `role link shell:max ${MAX_SLACK}`)).outcome).toBe("ok");
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("complaint assign to one of the caller's own linked identities", () => {
  it("is their claim made as that identity: the reply, the card's status and its history say so (en, zh); to someone else it stays an assignment", async () => {
    const id = await file();
    const r = await app.run(DISCORD, `complaint assign ${id} ${SLACK}`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `You have ${id} now, as ${SLACK}.`]);
    expect(field(r, "Status")).toBe("Claimed");
    expect(field(r, "Assignee")).toBe(SLACK);
    expect(history(r).at(-1)).toMatch(new RegExp(`${DISCORD}: claimed as ${SLACK}$`));
    expect(await doc(id)).toMatchObject({ status: "claimed", assignee: SLACK });
    // The lists and the card read Claimed for anyone.
    expect(field(await app.run("shell:sue", `complaint show ${id}`), "Status")).toBe("Claimed");
    // Again: it is theirs already.
    const again = await app.run(DISCORD, `complaint assign ${id} ${SLACK}`);
    expect([again.outcome, again.code, again.reply.text]).toEqual(["ok", "already_claim", `${id} is already yours; nothing changed.`]);
    const other = await file("lid leaks");
    const z = await zh(DISCORD, `complaint assign ${other} ${SLACK}`);
    expect(z.reply.title).toBe(`${other} 现在由你处理（身份：${SLACK}）。`);
    expect(field(z, "处理记录")!.split("\n").at(-1)).toMatch(new RegExp(`${DISCORD}：以 ${SLACK} 认领$`));
    // Given by someone else, it is an assignment, as before.
    const third = await file("wrong colour");
    const given = await app.run("shell:sue", `complaint assign ${third} ${SLACK}`);
    expect([given.reply.title, field(given, "Status")]).toEqual([`${third} assigned to ${SLACK}.`, "Assigned"]);
  });

  it("a manager taking one from someone else for their own linked identity: a claim, saying whom it was taken from", async () => {
    const id = await file();
    expect((await app.run("shell:lin", `complaint claim ${id}`)).outcome).toBe("ok");
    const r = await app.run("shell:max", `complaint assign ${id} ${MAX_SLACK}`);
    expect([r.outcome, r.reply.title, field(r, "Status")]).toEqual(["ok", `You have ${id} now, as ${MAX_SLACK}, taken from shell:lin.`, "Claimed"]);
    expect(history(r).at(-1)).toMatch(new RegExp(`shell:max: claimed as ${MAX_SLACK}, taking it from shell:lin$`));
    // Support still cannot take it from its holder this way.
    const refused = await app.run(SLACK, `complaint assign ${id} ${DISCORD}`);
    expect([refused.outcome, refused.code]).toEqual(["denied", "held_by_other"]);
    expect((await doc(id))!.assignee).toBe(MAX_SLACK);
  });
});

describe("complaint resolve of one someone else holds", () => {
  it("is allowed, and the reply and the card's history say whose it was (en, zh); its holder stays its assignee", async () => {
    const id = await file();
    expect((await app.run(SLACK, `complaint claim ${id}`)).outcome).toBe("ok");
    const r = await app.run("shell:sue", `complaint resolve ${id} note="refund sent"`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `${id} resolved. It was with ${SLACK}: its history says you resolved it while they had it.`]);
    expect(history(r).at(-2)).toContain("shell:sue: resolved");
    expect(history(r).at(-1)).toMatch(new RegExp(`shell:sue: resolved it while it was with ${SLACK}$`));
    expect(await doc(id)).toMatchObject({ status: "resolved", assignee: SLACK });
    expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ actor: "shell:sue", outcome: "ok", subject: id });
    // A manager too; in Chinese.
    const other = await file("lid leaks");
    await app.run("shell:lin", `complaint claim ${other}`);
    const z = await zh("shell:max", `complaint resolve ${other} note=已退款`);
    expect(z.reply.title).toBe(`${other} 已结案。该投诉原由 shell:lin 处理：处理记录中已注明是你在其处理期间结案。`);
    expect(field(z, "处理记录")!.split("\n").at(-1)).toMatch(/shell:max：结案时该投诉由 shell:lin 处理$/);
    // Its holder under a linked identity, or an unassigned one: resolved as before, nothing more said.
    const own = await file("scratched");
    await app.run(SLACK, `complaint claim ${own}`);
    const mine = await app.run(DISCORD, `complaint resolve ${own} note=done`);
    expect([mine.reply.title, history(mine).some((l) => l.includes("while it was with"))]).toEqual([`${own} resolved.`, false]);
    const free = await file("late");
    expect((await app.run("shell:sue", `complaint resolve ${free} note=done`)).reply.title).toBe(`${free} resolved.`);
  });
});
