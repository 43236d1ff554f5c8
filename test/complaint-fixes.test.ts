import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBlocks } from "../adapters/slack/blocks.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

// Complaint fixes: refusals on the audit trail by subject, alerts for reopened and escalated
// complaints, Chinese names as cards write them, an order guessed from a message, reassignment
// by support, and invisible characters around customer=.

const MIN = 60_000;
const START = Date.parse("2026-11-25T02:00:00Z"); // 10:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  // Discord configured with a role map: a Discord member's mapped role cannot be seen (role_not_stored).
  app = await makeTestApp({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_ROLE_MAP: "223456789012345678:support" });
  for (const who of ["shell:sue", "shell:lin"]) await app.services.identity.grant(who, "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-100001", 5_000, undefined, { customerId: "Cust-A" })]);
  app.clock.set(new Date(START));
  jobs = await jobStepper(app, "complaint-alerts", START);
});
afterAll(() => app.close());

const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];

async function file(line: string): Promise<string> {
  const r = await app.run("shell:sue", `complaint new ${line}`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return idOf(r);
}

/** Messages queued for complaint `id` (outbox ids start `complaint-alert:<id>:`), with where they went. */
async function alertsOf(id: string) {
  const docs = await app.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:` } }).lean();
  return docs.map((d) => ({ key: String(d._id), dest: d.dest as { kind: string; channel?: string; identity?: string }, reply: reviveReply(d.reply) }));
}

describe("complaint fixes", () => {
  it("refusals the command answers itself name the complaint typed, so audit subject= finds them", async () => {
    const id = await file("refusals on the trail");
    const lines: [string, string][] = [
      [`complaint assign ${id.slice(2).toLowerCase()} shell:ghost`, "assignee_not_support"],
      [`complaint assign ${id} discord:323456789012345678`, "role_not_stored"],
      [`complaint resolve ${id}`, "note_required"],
      [`complaint escalate ${id}`, "reason_required"],
    ];
    for (const [line, code] of lines) {
      const r = await app.run("shell:sue", line);
      expect(r.code, line).toBe(code);
      expect(await app.store.audit.findById(r.ref).lean(), line).toMatchObject({ outcome: "user_error", code, subject: id });
      const rows = ((await app.run("shell:max", `audit subject=${id} limit=100`)).reply.table?.rows ?? []).map((row) => row.join(" "));
      expect(rows.some((row) => row.includes(r.ref)), line).toBe(true);
    }
    // Nothing changed.
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "new" });
    expect((await app.store.complaints.findById(id).lean())!.assignee).toBeUndefined();
  });

  it("a complaint resolved before it was posted is not announced as a new complaint when reopened", async () => {
    const id = await file("resolved at once");
    expect((await app.run("shell:sue", `complaint resolve ${id} note=sorted`)).outcome).toBe("ok");
    await jobs.step(MIN);
    for (let i = 0; i < 3; i++) await jobs.step(60 * MIN); // 13:01
    expect((await app.run("shell:lin", `complaint reopen ${id} note="customer wrote again"`)).outcome).toBe("ok");
    await jobs.step(MIN);
    await jobs.step(MIN);
    const sent = await alertsOf(id);
    expect(sent.filter((s) => s.key.includes(":posted")), JSON.stringify(sent.map((s) => s.reply.title))).toEqual([]);
    expect(sent.some((s) => (s.reply.title ?? "").startsWith("New complaint"))).toBe(false);
    // Recorded, so later runs do not post it either.
    expect((await app.store.complaints.findById(id).lean())!.alerted?.posted).toBeInstanceOf(Date);
  });

  it("escalating tells the managers at once; an escalated unassigned complaint's post and reminders go to them, not to support", async () => {
    const id = await file("severity=urgent VIP parcel lost");
    const r = await app.run("shell:sue", `complaint escalate ${id} reason=vip`);
    expect(r.outcome).toBe("ok");
    const now = await alertsOf(id);
    expect(now).toHaveLength(1);
    expect(now[0]!.key).toBe(`complaint-alert:${id}:escalated:1:shell:managers`);
    expect(now[0]!.dest).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
    expect(now[0]!.reply.title).toBe(`Complaint ${id} (urgent) escalated by shell:sue`);
    expect(now[0]!.reply.context).toEqual(["It waits for a manager to claim it."]);
    expect(now[0]!.reply.fields!.at(-1)).toEqual({ label: "Reason", value: "vip", plain: true });
    expect(now[0]!.reply.actions!.map((a) => a.id)).toContain(`complaint claim ${id}`);
    // Escalating it again changes nothing and sends nothing.
    expect((await app.run("shell:sue", `complaint escalate ${id} reason=again`)).code).toBe("already_escalated");
    expect(await alertsOf(id)).toHaveLength(1);
    // The 80% resolution reminder (6 h 24 min of 8 h), to the managers' route only; no post after
    // the escalation card, which was its first post.
    await jobs.step(MIN);
    for (let i = 0; i < 7; i++) await jobs.step(60 * MIN);
    const sent = await alertsOf(id);
    const kinds = sent.map((s) => s.key.split(":")[2]).sort();
    expect(kinds).toEqual(["escalated", "resolutionWarn"]);
    for (const s of sent) expect(s.dest, s.key).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
  });

  it("the escalation alert names the severity in a short title; a long reason and what happens next stay whole on Slack, in either language", async () => {
    const reason = `customer says the parcel was opened, ${"the seal was cut and two of the three cups are missing, ".repeat(2)}and threatens a chargeback`;
    const id = await file("severity=high cups missing");
    expect((await app.run("shell:sue", `complaint escalate ${id} reason="${reason}"`)).outcome).toBe("ok");
    const [en] = (await alertsOf(id)).filter((s) => s.key.includes(":escalated:"));
    expect(en!.reply.title).toBe(`Complaint ${id} (high) escalated by shell:sue`);
    expect(en!.reply.context).toEqual(["It waits for a manager to claim it."]);
    expect(en!.reply.fields!.at(-1)).toEqual({ label: "Reason", value: reason, plain: true });
    // On Slack: the header is not cut, and the reason and the call to action are shown whole.
    const blocks = renderBlocks(en!.reply).blocks;
    const header = blocks.find((b) => b.type === "header") as unknown as { text: { text: string } };
    expect(header.text.text).toBe(`:warning: Complaint ${id} (high) escalated by shell:sue`);
    // The reason whole, as typed (plain text, not markup), and the call to action.
    expect(JSON.stringify(blocks)).toContain(JSON.stringify({ type: "plain_text", text: reason }).slice(1, -1));
    expect(JSON.stringify(blocks.filter((b) => b.type === "context"))).toContain("It waits for a manager to claim it.");

    // A shop in Chinese: the alert in Chinese, the reason as typed.
    const zh = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
    try {
      await zh.services.identity.grant("shell:sue", "support", "shell:admin");
      const filed = await zh.run("shell:sue", "complaint new severity=urgent 杯子碎了");
      const zid = idOf(filed);
      expect((await zh.run("shell:sue", `complaint escalate ${zid} reason=客户威胁要发起拒付`)).outcome).toBe("ok");
      const docs = await zh.store.outbox.find({ _id: { $regex: `^complaint-alert:${zid}:escalated:` } }).lean();
      expect(docs).toHaveLength(1);
      const reply = reviveReply(docs[0]!.reply);
      expect(reply.title).toBe(`投诉 ${zid}（紧急）已由 shell:sue 升级`);
      expect(reply.context).toEqual(["等待经理认领。"]);
      expect(reply.fields!.at(-1)).toEqual({ label: "原因", value: "客户威胁要发起拒付", plain: true });
    } finally {
      await zh.close();
    }
  });

  it("takes the Chinese names as cards write them, with the value in brackets (full-width or not)", async () => {
    for (const [arg, want] of [
      ["category=商品损坏（damaged）", { category: "damaged" }],
      ["category=商品损坏(damaged)", { category: "damaged" }],
      ["category=商品损坏", { category: "damaged" }],
      ["source=邮件（email）", { source: "email" }],
      ['source="API 接口（api）"', { source: "api" }],
      ["severity=紧急", { severity: "urgent" }],
    ] as const) {
      const r = await app.run("shell:sue", `complaint new ${arg} 杯子碎了`);
      expect(r.outcome, `${arg}: ${r.reply.text}`).toBe("ok");
      expect(await app.store.complaints.findById(idOf(r)).lean(), arg).toMatchObject(want);
    }
    // Roles are read the same way.
    expect((await app.run("shell:admin", "role grant shell:zed 客服（support）")).outcome).toBe("ok");
    expect((await app.run("shell:admin", "role grant shell:zed 经理")).outcome).toBe("ok");
    expect(await app.services.identity.roleOf("shell:zed")).toBe("manager");
  });

  it("an order number in a message that is another customer's is not linked; the complaint is filed for the customer given", async () => {
    const r = await app.run("shell:sue", "complaint new link=https://x.slack.com/archives/C1/p1 author=slack:T1:U2 customer=cust-b my ORD-100001 arrived broken");
    expect(r.outcome, r.reply.text).toBe("ok");
    const c = await app.store.complaints.findById(idOf(r)).lean();
    expect(c).toMatchObject({ customerId: "cust-b" });
    expect(c!.orderNo).toBeUndefined();
    // One that fits is linked.
    const fits = await app.run("shell:sue", "complaint new link=https://x.slack.com/archives/C1/p2 author=slack:T1:U2 customer=cust-a my ORD-100001 arrived broken");
    expect(await app.store.complaints.findById(idOf(fits)).lean()).toMatchObject({ customerId: "Cust-A", orderNo: "ORD-100001" });
    // order= typed is the filer's word: a mismatch is still refused.
    const typed = await app.run("shell:sue", "complaint new link=https://x.slack.com/archives/C1/p3 author=slack:T1:U2 order=ORD-100001 customer=cust-b arrived broken");
    expect(typed.code).toBe("customer_mismatch");
  });

  it("support cannot take a complaint from whoever holds it; its holder and a manager can hand it on", async () => {
    const id = await file("who has it");
    expect((await app.run("shell:lin", `complaint claim ${id}`)).outcome).toBe("ok");
    const taken = await app.run("shell:sue", `complaint assign ${id} shell:sue`);
    expect([taken.outcome, taken.code]).toEqual(["denied", "held_by_other"]);
    expect(taken.reply.text).toBe(`${id} is with shell:lin: only they, a manager or an admin may hand it to someone else; nothing changed. Ask shell:lin, or a manager to run \`complaint assign ${id} shell:sue\`.`);
    expect(await app.store.audit.findById(taken.ref).lean()).toMatchObject({ outcome: "denied", code: "held_by_other", subject: id });
    expect((await app.store.complaints.findById(id).lean())!.assignee).toBe("shell:lin");
    const zh = await app.core.invoke({ identity: "shell:sue", platform: "shell", text: `complaint assign ${id} shell:sue`, locale: "zh-CN" });
    expect(zh.reply.text).toBe(`${id} 目前由 shell:lin 处理：只有其本人、经理或管理员可以转交给他人，未做任何更改。请联系 shell:lin，或请经理执行 \`complaint assign ${id} shell:sue\`。`);
    // Its holder hands it on; a manager takes it back.
    expect((await app.run("shell:lin", `complaint assign ${id} shell:sue`)).reply.title).toBe(`${id} reassigned from shell:lin to shell:sue.`);
    expect((await app.run("shell:max", `complaint assign ${id} shell:lin`)).reply.title).toBe(`${id} reassigned from shell:sue to shell:lin.`);
    // An unassigned one support may still assign.
    const free = await file("nobody has it");
    expect((await app.run("shell:sue", `complaint assign ${free} shell:lin`)).outcome).toBe("ok");
  });

  it("customer= drops invisible characters at its ends, as the API does", async () => {
    const id = await file("customer=\u200bcust-zw\u200b\ufeff invisible around the id");
    expect((await app.store.complaints.findById(id).lean())!.customerId).toBe("cust-zw");
  });
});
