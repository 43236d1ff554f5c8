/**
 * Complaints treat identities linked with `role link` as one person (e15): `complaint list mine`,
 * the holder checks of claim / assign / resolve / escalate and the "you have it" replies, while
 * the complaint keeps the identity that took it; durations in Chinese without a space between
 * units; the order card's severity as complaint cards name it. Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

/** The test clock's start: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");
/** One support person on Slack and on Discord (linked); sue is someone else. */
const SLACK = "slack:T1:U1";
const DISCORD = "discord:111111";

let app: TestApp;
const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const doc = (id: string) => app.store.complaints.findById(id).lean();
/** A complaint filed by sue, claimed on Slack. */
const claimedOnSlack = async (text = "box crushed") => {
  const id = idOf(await app.run("shell:sue", `complaint new order=ORD-100001 ${text}`));
  expect((await app.run(SLACK, `complaint claim ${id}`)).outcome).toBe("ok");
  return id;
};
/** A complaint escalated, then given by a manager to the Slack identity. */
const escalatedWithSlack = async () => {
  const id = idOf(await app.run("shell:sue", "complaint new order=ORD-100001 lid leaks"));
  await app.run("shell:sue", `complaint escalate ${id} reason=vip`);
  expect((await app.run("shell:max", `complaint assign ${id} ${SLACK}`)).outcome).toBe("ok");
  return id;
};

beforeAll(async () => {
  app = await makeTestApp();
  for (const who of [SLACK, DISCORD, "shell:sue"]) await app.services.identity.grant(who, "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  expect((await app.run("shell:admin", `role link ${SLACK} ${DISCORD}`)).outcome).toBe("ok");
  await app.store.orders.insertMany([paidOrder("ORD-100001", 5_000)]);
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("a complaint claimed under one identity is the person's under a linked one", () => {
  it("complaint list mine on Discord lists the one claimed on Slack (not someone else's); the card keeps the Slack identity", async () => {
    const id = await claimedOnSlack();
    const other = idOf(await app.run("shell:sue", "complaint new lid leaks"));
    await app.run("shell:sue", `complaint claim ${other}`);
    const r = await app.run(DISCORD, "complaint list mine");
    expect(r.reply.title).toBe("Your open complaints: 1");
    expect(r.reply.table!.rows.map((row) => [row[0], row[3]])).toEqual([[id, SLACK]]);
    expect((await app.run("shell:sue", "complaint list mine")).reply.table!.rows.map((row) => row[0])).toEqual([other]);
    expect(field(await app.run(DISCORD, `complaint show ${id}`), "Assignee")).toBe(SLACK);
  });

  it("claiming it again on Discord says it is yours already, not claimed by the Slack identity; nothing changes", async () => {
    const id = await claimedOnSlack();
    const before = await doc(id);
    const r = await app.run(DISCORD, `complaint claim ${id}`);
    expect([r.outcome, r.code, r.reply.text]).toEqual(["ok", "already_claim", `${id} is already yours; nothing changed.`]);
    expect(await doc(id)).toEqual(before);
  });

  it("claimed at the same moment on Slack and on Discord: one claim wins, the other is told it is theirs already", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new order=ORD-100001 box crushed"));
    const rs = await Promise.all([app.run(SLACK, `complaint claim ${id}`), app.run(DISCORD, `complaint claim ${id}`)]);
    expect(rs.map((r) => r.code ?? r.outcome).sort()).toEqual(["already_claim", "ok"]);
    expect((await doc(id))!.history!.filter((h) => h.action === "claim")).toHaveLength(1);
  });

  it("its holder on Discord may hand it on (support): not refused held_by_other; someone else still is", async () => {
    const id = await claimedOnSlack();
    const refused = await app.run("shell:sue", `complaint assign ${id} ${DISCORD}`);
    expect([refused.outcome, refused.code]).toEqual(["denied", "held_by_other"]);
    const r = await app.run(DISCORD, `complaint assign ${id} shell:sue`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `${id} reassigned from ${SLACK} to shell:sue.`]);
    expect((await doc(id))!.assignee).toBe("shell:sue");
    expect((await doc(id))!.history!.at(-1)).toMatchObject({ action: "assign", by: DISCORD, from: SLACK, to: "shell:sue" });
  });

  it("its holder on Discord may escalate it (typed, and the bare Escalate press asks for the reason)", async () => {
    const id = await claimedOnSlack();
    const press = await app.run(DISCORD, `complaint escalate ${id}`);
    expect(press.code).toBe("reason_required");
    const r = await app.run(DISCORD, `complaint escalate ${id} reason="customer threatens chargeback"`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `${id} escalated: customer threatens chargeback. It waits unassigned for someone senior to claim it.`]);
    expect((await doc(id))!.status).toBe("escalated");
  });

  it("escalated and given to the Slack identity: resolved from Discord (support), not refused permission_denied", async () => {
    const id = await escalatedWithSlack();
    expect((await app.run(DISCORD, `complaint resolve ${id}`)).code).toBe("note_required");
    const r = await app.run(DISCORD, `complaint resolve ${id} note="replacement sent"`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `${id} resolved.`]);
    expect((await doc(id))!).toMatchObject({ status: "resolved", assignee: SLACK });
    // Someone else (support) still may not.
    const other = await escalatedWithSlack();
    expect((await app.run("shell:sue", `complaint resolve ${other} note=done`)).code).toBe("permission_denied");
  });

  it("escalated and given to the Slack identity: on Discord, escalating again and handing it on say you have it, in en and zh", async () => {
    const id = await escalatedWithSlack();
    const again = await app.run(DISCORD, `complaint escalate ${id} reason=again`);
    expect([again.code, again.reply.text]).toEqual([
      "already_escalated",
      // e21: then who escalated it, when and why, and that this reason was not kept.
      `${id} is already escalated, and you have it; nothing changed. You may resolve it (\`complaint resolve ${id} note="…"\`); only a manager or admin can send it back to the queue. shell:sue escalated it at 2026-11-25 12:00 GMT+8: “vip”. Your reason was not kept.`,
    ]);
    expect((await zh(DISCORD, `complaint escalate ${id}`)).reply.text).toContain("目前由你处理");
    const hand = await app.run(DISCORD, `complaint assign ${id} shell:sue`);
    expect([hand.code, hand.reply.text]).toEqual([
      "permission_denied",
      `${id} is escalated: only a manager or admin may hand it to someone else; nothing changed. It stays with you and you may resolve it (\`complaint resolve ${id} note="…"\`), or ask a manager to run \`complaint assign ${id} shell:sue\`.`,
    ]);
    expect((await doc(id))!.assignee).toBe(SLACK);
  });
});

describe("durations in Chinese", () => {
  it("read 2天22小时 and 21小时30分钟 (no space between units) on cards and lists; English keeps 2d 22h", async () => {
    const low = idOf(await app.run("shell:sue", "complaint new severity=low lid leaks"));
    const high = idOf(await app.run("shell:sue", "complaint new severity=high box crushed"));
    await app.run("shell:sue", `complaint claim ${high}`);
    app.clock.set(new Date(NOW + 2.5 * 3_600_000));
    expect(field(await zh("shell:sue", `complaint show ${low}`), "首次响应")).toBe("剩余 2天22小时（截止 2026-11-28 12:00 GMT+8）");
    const rows = (await zh("shell:sue", "complaint list")).reply.table!.rows.map((r) => [r[0], r[4]]);
    expect(rows).toEqual([
      [high, "解决 剩余 21小时30分钟"],
      [low, "响应 剩余 2天22小时"],
    ]);
    expect(field(await app.run("shell:sue", `complaint show ${low}`), "First response")).toBe("2d 22h left (due 2026-11-28 12:00 GMT+8)");
    // Overdue: 1 day 3 hours past the 24h reply clock of a normal one.
    const late = idOf(await app.run("shell:sue", "complaint new late reply"));
    app.clock.set(new Date(NOW + 2.5 * 3_600_000 + 51 * 3_600_000));
    expect(field(await zh("shell:sue", `complaint show ${late}`), "首次响应")).toMatch(/^已超时 1天3小时（/);
  });
});
