import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translator } from "../src/core/messages.js";
import { approversText } from "../src/services/refund.service.js";
import type { OrderDoc } from "../src/store/models.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** A paid order of `total` fen (CNY) with defaults. */
const order = (no: string, total: number, over: Partial<OrderDoc> = {}) => paidOrder(no, total, undefined, over);

/** The request id in a card's title. */
function idOf(r: { reply: { title?: string; text?: string } }): string {
  const m = /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "");
  if (!m) throw new Error(`no request id in ${JSON.stringify(r.reply)}`);
  return m[0];
}

async function request(who: string, orderNo: string, amount: string): Promise<string> {
  const r = await app.run(who, `refund request ${orderNo} ${amount} reason="damaged"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return idOf(r);
}

/** Runs a line as `identity` typed by `via` at the terminal (the shell's --as). */
const as = (identity: string, via: string, text: string) => app.core.invoke({ identity, via, platform: "shell", text });

/** Sets the policy (whole yuan) as the admin. */
async function policy(line: string): Promise<void> {
  const r = await app.run("shell:admin", `refund policy set ${line}`);
  expect(r.outcome, r.reply.text).toBe("ok");
}

/** The ids `who` sees in `refund list approvable`. */
const approvable = async (r: Promise<{ reply: { table?: { rows: string[][] } } }>) => ((await r).reply.table?.rows ?? []).map((x) => x[0]);

beforeAll(async () => {
  app = await makeTestApp();
  const roles: [string, "staff" | "support" | "manager"][] = [
    ["shell:sam", "staff"],
    ["shell:sue", "support"],
    ["shell:max", "manager"],
    ["shell:mia", "manager"],
    ["shell:m1", "manager"],
  ];
  for (const [id, role] of roles) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany(["A", "B", "C", "D", "E", "F", "G"].map((x) => order(`ORD-${x}`, 1_000_000)));
});
afterAll(() => app.close());

describe("a policy change applies at once to pending requests: card, status, approval", () => {
  it("the card and status follow the policy in force; the first approver completes a request the new policy lets one approve", async () => {
    await policy("support=200 manager=2000");
    const a = await request("shell:sam", "ORD-A", "1500");
    const b = await request("shell:sam", "ORD-B", "2500");
    await policy("manager=1000");
    // 1,500 is now above the manager limit: two managers, as `refund approve` decides.
    expect(field(await app.run("shell:sam", `refund show ${a}`), "Approval needed")).toBe("two different managers");
    const first = await app.run("shell:max", `refund approve ${a}`);
    expect(first.reply.title).toBe(`Refund ${a}: first approval recorded; a second manager must approve`);
    expect(field(first, "Approval needed")).toBe("two different managers");
    expect(field(first, "Status")).toBe("pending: 1 of 2 approvals");

    await policy("support=3000 manager=5000");
    // 2,500 is now within support's limit: the card says so, and support may approve it alone.
    expect(field(await app.run("shell:sam", `refund show ${b}`), "Approval needed")).toBe("one approver: support or above");
    const shownA = await app.run("shell:sam", `refund show ${a}`);
    expect(field(shownA, "Approval needed")).toBe("one approver: support or above");
    expect(field(shownA, "Status")).toBe("pending: 1 approval, enough under the current policy; the next approval completes it");
    const listed = (await app.run("shell:sam", "refund list pending")).reply.table!.rows.find((r) => r[0] === a)!;
    expect(listed[3]).toBe("pending: 1 approval, enough under the current policy; the next approval completes it");
    expect((await app.run("shell:sue", `refund approve ${b}`)).reply.title).toBe(`Refund ${b} approved: CN¥2,500.00 refunded on ORD-B`);

    // Max approved A already, and one approval is enough now: his approval again completes it, once.
    const again = await app.run("shell:max", `refund approve ${a}`);
    expect(again.reply.title).toBe(`Refund ${a} approved: CN¥1,500.00 refunded on ORD-A`);
    const req = await app.store.refundRequests.findById(a).lean();
    expect(req).toMatchObject({ status: "approved", decidedBy: "shell:max", approvalCount: 1 });
    expect(req!.approvals.map((x) => x.by)).toEqual(["shell:max"]);
    expect((await app.store.orders.findById("ORD-A").lean())!.refundedTotal).toBe(150_000);
    expect((await app.run("shell:max", `refund approve ${a}`)).code).toBe("already_approved");
    expect((await app.store.orders.findById("ORD-A").lean())!.refundedTotal).toBe(150_000);
  });

  it("racing re-approvals by the first approver complete it exactly once; the requester still never counts", async () => {
    await policy("support=200 manager=1000");
    const c = await request("shell:sam", "ORD-C", "1500");
    expect((await app.run("shell:max", `refund approve ${c}`)).reply.title).toContain("first approval recorded");
    await policy("manager=2000");
    // Max clicks three times at once: one completes it, the others are told it is approved already.
    const runs = await Promise.all([1, 2, 3].map(() => app.run("shell:max", `refund approve ${c}`)));
    expect(runs.filter((r) => r.reply.title?.startsWith(`Refund ${c} approved`))).toHaveLength(1);
    expect(runs.map((r) => r.code).filter(Boolean)).toEqual(["already_approved", "already_approved"]);
    expect(await app.store.refundRequests.findById(c).lean()).toMatchObject({ status: "approved", approvalCount: 1, decidedBy: "shell:max" });
    expect((await app.store.orders.findById("ORD-C").lean())!.refundedTotal).toBe(150_000);
    expect(await app.store.audit.countDocuments({ command: "refund execute", args: new RegExp(`^${c} `) })).toBe(1);

    // Four eyes: a manager's own request, approved by nobody else, stays theirs.
    const own = await request("shell:mia", "ORD-C", "10");
    expect((await app.run("shell:mia", `refund approve ${own}`)).code).toBe("self_approval");
  });
});

describe("refund list approvable under --as", () => {
  it("leaves out what the person at the terminal asked for or approved, as refund approve refuses it", async () => {
    await policy("support=200 manager=2000");
    // Asked by max himself; a two-manager one first approved by max.
    const his = await request("shell:max", "ORD-D", "50");
    const big = await request("shell:sam", "ORD-D", "2500");
    expect((await app.run("shell:max", `refund approve ${big}`)).reply.title).toContain("first approval recorded");
    // Max at the terminal acting as mia: approve refuses both...
    expect((await as("shell:mia", "shell:max", `refund approve ${his}`)).code).toBe("self_approval");
    expect((await as("shell:mia", "shell:max", `refund approve ${big}`)).code).toBe("awaiting_second_approval");
    // ...so the list offers neither; mia herself sees both.
    const posing = await approvable(as("shell:mia", "shell:max", "refund list approvable"));
    expect(posing).not.toContain(his);
    expect(posing).not.toContain(big);
    expect(await approvable(app.run("shell:mia", "refund list approvable"))).toEqual(expect.arrayContaining([his, big]));
  });
});

describe("a two-manager refund's notices name both approvers", () => {
  it("the requester's notice and the already-approved reply name every approver", async () => {
    await policy("support=200 manager=2000");
    const id = await request("shell:sam", "ORD-E", "2500");
    expect((await app.run("shell:max", `refund approve ${id}`)).reply.title).toContain("first approval recorded");
    expect((await app.run("shell:mia", `refund approve ${id}`)).reply.title).toBe(`Refund ${id} approved: CN¥2,500.00 refunded on ORD-E`);
    const note = await app.store.outbox.findById(`refund:${id}:approved`).lean();
    expect((note!.reply as { text: string }).text).toBe(`Your refund request ${id} for CN¥2,500.00 on order ORD-E was approved by shell:max and shell:mia and refunded.`);
    expect((await app.run("shell:m1", `refund approve ${id}`)).reply.text).toBe(`Refund request ${id} was already approved by shell:max and shell:mia; nothing changed.`);
    // One approver: named alone. In Chinese, joined as Chinese writes it.
    const zh = translator("zh-CN");
    expect(approversText({ approvals: [{ by: "shell:max" }], decidedBy: "shell:max" } as never, zh)).toBe("shell:max");
    expect(approversText({ approvals: [{ by: "shell:max" }, { by: "shell:mia" }], decidedBy: "shell:mia" } as never, zh)).toBe("shell:max 和 shell:mia");
    expect(zh("refund.notify.approved", { id, orderNo: "ORD-E", amount: "¥2,500.00", by: "shell:max 和 shell:mia" })).toContain("已由 shell:max 和 shell:mia 批准");
  });
});

describe("refund policy set amounts", () => {
  it("takes thousands separators as refund request does, full-width too; refuses a comma that is not one", async () => {
    const set = await app.run("shell:admin", "refund policy set support=1,000 manager=１２，５００");
    expect(set.outcome, set.reply.text).toBe("ok");
    expect(await app.store.meta.findById("refund_policy").lean()).toMatchObject({ value: { supportLimit: 100_000, managerLimit: 1_250_000 } });
    for (const bad of ["1,0", "1,2,3", "0,500", "1,000,000,000"]) {
      const r = await app.run("shell:admin", `refund policy set support=${bad}`);
      expect(r.code, bad).toBe("invalid_args");
      expect(r.reply.text, bad).toContain(`"${bad}" is not an amount: give a whole number of currency units, e.g. 300 or 5,000.`);
    }
    expect(await app.store.meta.findById("refund_policy").lean()).toMatchObject({ value: { supportLimit: 100_000, managerLimit: 1_250_000 } });
  });
});

describe("refund list approvable, long", () => {
  it("counts and pages every request the caller may approve, past 500", async () => {
    await policy("support=200 manager=2000");
    const now = app.clock.now();
    const base = { orderNo: "ORD-G", customerId: "CUST-1", currency: "CNY", full: false, reason: "bulk", requester: "shell:sam", expiresAt: new Date(now.getTime() + 3_600_000), approvalCount: 0, approvals: [], status: "pending" };
    // 520 pending: every other one within support's limit.
    const docs = Array.from({ length: 520 }, (_, i) => ({
      ...base,
      _id: `R-Z${String(i).padStart(5, "0")}`,
      amount: i % 2 ? 10_000 : 100_000,
      requiredApprovals: 1,
      requestedAt: new Date(now.getTime() - (i + 1) * 1000),
    }));
    const before = await app.services.refund.list({ which: "approvable", actor: "shell:m1", role: "manager", limit: 1 });
    const sueBefore = (await app.services.refund.list({ which: "approvable", actor: "shell:sue", role: "support", limit: 1 })).total;
    await app.store.refundRequests.insertMany(docs);
    try {
      const manager = await app.run("shell:m1", "refund list approvable");
      expect(manager.reply.title).toBe(`Refund requests you may approve: ${before.total + 520}`);
      const pages = Math.ceil((before.total + 520) / 20);
      const last = await app.run("shell:m1", `refund list approvable page=${pages}`);
      expect(last.outcome, last.reply.text).toBe("ok");
      // The oldest of them is on the last page.
      expect(last.reply.table!.rows.map((r) => r[0])).toContain("R-Z00519");
      const sue = await app.services.refund.list({ which: "approvable", actor: "shell:sue", role: "support", limit: 20 });
      expect(sue.total).toBe(sueBefore + 260);
      expect(sue.items.every((r) => r.amount <= 20_000)).toBe(true);
    } finally {
      await app.store.refundRequests.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    }
  });
});
