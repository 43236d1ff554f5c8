import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderDoc } from "../src/store/models.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** A paid order of `total` fen (CNY) with defaults. */
const order = (no: string, total: number, over: Partial<OrderDoc> = {}) => paidOrder(no, total, undefined, over);

/** The request id in a created card's title. */
function idOf(r: { reply: { title?: string } }): string {
  const m = /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "");
  if (!m) throw new Error(`no request id in ${JSON.stringify(r.reply)}`);
  return m[0];
}

async function request(who: string, orderNo: string, amount: string): Promise<string> {
  const r = await app.run(who, `refund request ${orderNo} ${amount} reason="damaged"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return idOf(r);
}

beforeAll(async () => {
  app = await makeTestApp();
  const roles: [string, "staff" | "support" | "manager"][] = [
    ["shell:sam", "staff"],
    ["shell:sue", "support"],
    ["shell:sid", "support"],
    ["shell:max", "manager"],
    ["shell:mia", "manager"],
    ...Array.from({ length: 20 }, (_, i) => [`shell:m${i}`, "manager"] as [string, "manager"]),
  ];
  for (const [id, role] of roles) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany([
    order("ORD-1", 100_000),
    order("ORD-2", 30_000),
    order("ORD-3", 500_000),
    order("ORD-4", 10_000),
    order("ORD-5", 8_000, { status: "pending", paidAt: undefined, paidDay: undefined }),
    // Refunded by the shop and sent as such: no refund entries, refundedTotal 0.
    order("ORD-RF", 5_000, { status: "refunded" }),
    // In another currency than the shop's (CNY): the limits cannot measure it.
    order("ORD-USD", 30_000, { currency: "USD" }),
    order("ORD-6", 12_000, { status: "paid" }),
    order("ORD-7", 20_000),
    order("ORD-8", 900_000),
    order("ORD-9", 40_000),
    order("ORD-10", 40_000),
  ]);
});
afterAll(() => app.close());

describe("refund request", () => {
  it("creates a request card with order, customer, amount, reason, requester and Approve/Reject buttons", async () => {
    const r = await app.run("shell:sam", 'refund request ord-1 120.50 reason="arrived damaged"');
    expect(r.outcome).toBe("ok");
    const id = idOf(r);
    const f = Object.fromEntries(r.reply.fields!.map((x) => [x.label, x.value]));
    expect(f).toMatchObject({ Order: "ORD-1", Customer: "CUST-1", Amount: "CN¥120.50", Reason: "arrived damaged", Status: "pending" });
    expect(f["Requested by"]).toContain("shell:sam");
    expect(f["Approval needed"]).toBe("one approver: support or above");
    expect(r.reply.actions).toEqual([
      { id: `refund approve ${id}`, label: "Approve", style: "primary" },
      { id: `refund reject ${id} reason="rejected from button"`, label: "Reject", style: "danger" },
    ]);
    for (const a of r.reply.actions!) expect(a.id.length).toBeLessThanOrEqual(100);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ orderNo: "ORD-1", amount: 12_050, status: "pending", requester: "shell:sam" });
  });

  it("refuses unknown and unpaid orders, bad amounts and amounts over the refundable balance, and changes nothing", async () => {
    const before = await app.store.refundRequests.countDocuments();
    const cases: [string, string][] = [
      ["refund request ORD-404 10 reason=x", "unknown_order"],
      ["refund request ORD-5 10 reason=x", "order_not_paid"],
      ["refund request ORD-RF full reason=x", "already_refunded"],
      ["refund request ORD-2 0 reason=x", "bad_amount"],
      ["refund request ORD-2 -5 reason=x", "bad_amount"],
      ["refund request ORD-2 1.234 reason=x", "bad_amount"],
      ["refund request ORD-2 abc reason=x", "bad_amount"],
      // A decimal comma is refused, never read as a thousands separator (12,50 is not 1250).
      ["refund request ORD-2 12,50 reason=x", "bad_amount"],
      // Nor is a group led by a lone 0: "0,500" is half a unit where the comma is the decimal mark, never 500.
      ["refund request ORD-2 0,500 reason=x", "bad_amount"],
      ["refund request ORD-2 0,005 reason=x", "bad_amount"],
      ["refund request ORD-2 1,2,3 reason=x", "bad_amount"],
      ["refund request ORD-2 1,200 reason=x", "over_balance"],
      ["refund request ORD-2 300.01 reason=x", "over_balance"],
      ["refund request ORD-2 99999999999 reason=x", "over_balance"],
    ];
    for (const [line, code] of cases) {
      const r = await app.run("shell:sam", line);
      expect(r.code, line).toBe(code);
      expect(r.outcome, line).toBe("user_error");
      // Each refused ask on a known order names it on the audit trail (`audit subject=ORD-2`).
      if (!line.includes("ORD-404")) expect((await app.store.audit.findById(r.ref).lean())?.subject, line).toBe(line.split(" ")[2]);
    }
    const missing = await app.run("shell:sam", "refund request ORD-2 10");
    expect(missing.code).toBe("invalid_args");
    // Refused before it ran (no reason=): the order as typed names it all the same.
    expect((await app.store.audit.findById(missing.ref).lean())?.subject).toBe("ORD-2");
    // Each bad amount is told its own problem.
    const said = async (amount: string) => (await app.run("shell:sam", `refund request ORD-2 ${amount} reason=x`)).reply.text;
    expect(await said("0")).toBe('"0" refunds nothing: give an amount above 0, e.g. 25.00, or full.');
    expect(await said("1.234")).toBe('"1.234" has more decimals than CNY has. Give a positive amount with at most 2 decimals, e.g. 25.00, or full.');
    expect(await said("12,50")).toBe('"12,50" is not a refund amount. Give a positive amount such as 25.00 (up to 12 digits before the point, commas only between thousands), or full.');
    // Typed on a Chinese keyboard (full-width digits, comma and point): read as the plain spelling.
    expect(await said("１，２００")).toBe(await said("1,200"));
    expect(await said("３００．０１")).toBe(await said("300.01"));
    expect(await said("\u22125")).toContain("is not a refund amount");
    expect(await app.store.refundRequests.countDocuments()).toBe(before);
  });

  it("counts pending requests against the balance; full asks for what is left", async () => {
    await request("shell:sam", "ORD-2", "200");
    const over = await app.run("shell:sam", "refund request ORD-2 100.01 reason=x");
    expect(over.code).toBe("over_balance");
    expect(over.reply.text).toContain("at most CN¥100.00 is refundable (paid CN¥300.00, refunded CN¥0.00, pending requests CN¥200.00)");
    const full = await request("shell:sam", "ORD-2", "full");
    expect(await app.store.refundRequests.findById(full).lean()).toMatchObject({ amount: 10_000, full: true });
  });

  it("replies in Simplified Chinese when the caller's locale is zh-CN", async () => {
    const r = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "refund request ORD-404 10 reason=x", locale: "zh-CN" });
    expect(r.reply.text).toBe("没有订单 ORD-404。请核对订单号（例如 ORD-100231）。");
    const unpaid = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "refund request ORD-5 10 reason=x", locale: "zh-CN" });
    expect(unpaid.reply.text).toBe("订单 ORD-5 未付款（待付款）：只有已付款订单可以退款。");
    const c = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon launch code=X type=percent value=10", locale: "zh-CN" });
    expect(c.reply.text).toContain("券码 \"X\"：请使用 3–20 个字母");
  });

  it("viewers cannot request", async () => {
    const r = await app.run("shell:nobody", "refund request ORD-1 1 reason=x");
    expect(r.code).toBe("permission_denied");
  });
});

describe("refund approval", () => {
  it("approval executes the refund once, notifies the requester and records one execution", async () => {
    const id = await request("shell:sam", "ORD-4", "40");
    const r = await app.run("shell:sue", `refund approve ${id} note="photo checked"`);
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe(`Refund ${id} approved: CN¥40.00 refunded on ORD-4`);
    expect(r.reply.actions).toBeUndefined();
    const o = await app.store.orders.findById("ORD-4").lean();
    expect(o).toMatchObject({ refundedTotal: 4_000, status: "delivered" });
    expect(o!.refunds).toEqual([{ requestId: id, amount: 4_000, at: app.clock.now(), day: "2026-11-25", by: "shell:sue" }]);
    // The order's timeline says who approved it, as it does for every other event.
    const timeline = (await app.run("shell:sam", "order ORD-4")).reply.fields!.find((f) => f.label === "Timeline")!.value;
    expect(timeline).toContain(`Refunded CN¥40.00 (by shell:sue)`);
    const req = await app.store.refundRequests.findById(id).lean();
    expect(req).toMatchObject({ status: "approved", decidedBy: "shell:sue", approvalCount: 1 });
    expect(req!.executedAt).toBeInstanceOf(Date);
    const note = await app.store.outbox.findById(`refund:${id}:approved`).lean();
    expect(note).toMatchObject({ platform: "shell", dest: { kind: "user", identity: "shell:sam" }, kind: "refund" });
    expect((note!.reply as { text: string }).text).toContain("was approved by shell:sue and refunded");
    expect(await app.store.audit.countDocuments({ command: "refund execute", args: new RegExp(`^${id} `) })).toBe(1);
  });

  it("20 parallel approvals of one request by 20 managers: one approval, the order's refunded total rises once", async () => {
    const id = await request("shell:sam", "ORD-7", "150");
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => app.run(`shell:m${i}`, `refund approve ${id}`)));
    const approved = runs.filter((r) => r.reply.title?.startsWith(`Refund ${id} approved`));
    expect(approved).toHaveLength(1);
    expect(runs.filter((r) => r.code === "already_approved")).toHaveLength(19);
    const o = await app.store.orders.findById("ORD-7").lean();
    expect(o!.refundedTotal).toBe(15_000);
    expect(o!.refunds).toHaveLength(1);
    const req = await app.store.refundRequests.findById(id).lean();
    expect(req!.approvals).toHaveLength(1);
    expect(await app.store.audit.countDocuments({ command: "refund execute", args: new RegExp(`^${id} `) })).toBe(1);
    expect(await app.store.outbox.countDocuments({ _id: new RegExp(`^refund:${id}:`) })).toBe(1);

    // Replays (a retried click, a replayed platform event) change nothing.
    const replays = await Promise.all(Array.from({ length: 5 }, () => app.run("shell:m3", `refund approve ${id}`)));
    expect(replays.every((r) => r.code === "already_approved")).toBe(true);
    const rejectLate = await app.run("shell:sue", `refund reject ${id} reason=late`);
    expect(rejectLate.code).toBe("already_decided");
    expect((await app.store.orders.findById("ORD-7").lean())!.refundedTotal).toBe(15_000);
  });

  it("nobody approves their own request, whatever their role", async () => {
    const id = await request("shell:max", "ORD-9", "10");
    const r = await app.run("shell:max", `refund approve ${id}`);
    expect(r.code).toBe("self_approval");
    // Refused for who asks, as a role check is: a denial on the audit trail, under its own code.
    expect(r.outcome).toBe("denied");
    expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ outcome: "denied", code: "self_approval", subject: [id, "ORD-9"] });
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
    // Nor as another manager at the terminal (the shell's --as): the person typing asked for it.
    const posing = await app.core.invoke({ identity: "shell:mia", via: "shell:max", platform: "shell", text: `refund approve ${id}` });
    expect(posing.code).toBe("self_approval");
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
  });

  it("the person at the terminal counts for four eyes whichever side they act on (--as): asking as someone else, or giving both approvals", async () => {
    const as = (identity: string, via: string, text: string) => app.core.invoke({ identity, via, platform: "shell", text });
    // Asked as shell:sam by shell:max at the terminal: max may not approve it as himself.
    await app.store.orders.insertMany([order("ORD-AS", 40_000)]);
    const asked = await as("shell:sam", "shell:max", "refund request ORD-AS 10 reason=posing");
    const id = /R-[A-Z0-9]{6}/.exec(asked.reply.title ?? "")![0];
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ requester: "shell:sam", requestedVia: "shell:max" });
    const self = await app.run("shell:max", `refund approve ${id}`);
    expect(self.code).toBe("self_approval");
    expect(self.reply.text).toBe(`${id} was requested as shell:sam by the person at this terminal (acting as someone else with --as, then or now): nobody approves their own refund request. Ask another approver.`);
    expect((await app.run("shell:mia", `refund approve ${id}`)).reply.title).toMatch(/approved/);
    // A two-manager request: the first approval as shell:m1 by shell:mia, then mia herself.
    const big = await request("shell:sam", "ORD-8", "2500");
    expect((await as("shell:m1", "shell:mia", `refund approve ${big}`)).reply.title).toBe(`Refund ${big}: first approval recorded; a second manager must approve`);
    expect((await app.run("shell:mia", `refund approve ${big}`)).code).toBe("awaiting_second_approval");
    expect(await app.store.refundRequests.findById(big).lean()).toMatchObject({ status: "pending", approvalCount: 1, approvals: [{ by: "shell:m1", via: "shell:mia" }] });
  });

  it("thresholds per role: support up to 200, manager up to 2,000, staff never", async () => {
    const small = await request("shell:sam", "ORD-1", "200");
    const mid = await request("shell:sam", "ORD-1", "200.01");
    expect((await app.run("shell:sam", `refund approve ${small}`)).code).toBe("permission_denied");
    const supMid = await app.run("shell:sue", `refund approve ${mid}`);
    expect(supMid.code).toBe("approval_limit");
    expect(supMid.outcome).toBe("denied");
    expect(await app.store.audit.findById(supMid.ref).lean()).toMatchObject({ outcome: "denied", code: "approval_limit" });
    expect(supMid.reply.text).toBe(`${mid} is for CN¥200.01: a support may not approve it (limit CN¥200.00); it needs a manager or above.`);
    expect((await app.run("shell:sue", `refund approve ${small}`)).outcome).toBe("ok");
    expect((await app.run("shell:max", `refund approve ${mid}`)).outcome).toBe("ok");
    expect((await app.store.orders.findById("ORD-1").lean())!.refundedTotal).toBe(40_001);
  });

  it("above the manager limit two different managers must approve; 10 racing second approvals give one", async () => {
    const id = await request("shell:sam", "ORD-3", "2500");
    const card = await app.run("shell:sam", `refund show ${id}`);
    expect(card.reply.fields!.find((f) => f.label === "Approval needed")!.value).toBe("two different managers");
    expect((await app.run("shell:sue", `refund approve ${id}`)).code).toBe("approval_limit");

    const first = await app.run("shell:max", `refund approve ${id}`);
    expect(first.reply.title).toBe(`Refund ${id}: first approval recorded; a second manager must approve`);
    expect(first.reply.actions?.map((a) => a.label)).toEqual(["Approve", "Reject"]);
    expect((await app.store.orders.findById("ORD-3").lean())!.refundedTotal).toBe(0);
    const again = await app.run("shell:max", `refund approve ${id}`);
    expect(again.code).toBe("awaiting_second_approval");

    const seconds = await Promise.all(Array.from({ length: 10 }, (_, i) => app.run(`shell:m${i}`, `refund approve ${id}`)));
    expect(seconds.filter((r) => r.reply.title?.startsWith(`Refund ${id} approved`))).toHaveLength(1);
    const req = await app.store.refundRequests.findById(id).lean();
    expect(req).toMatchObject({ status: "approved", approvalCount: 2 });
    expect(req!.approvals.map((a) => a.by)[0]).toBe("shell:max");
    expect(new Set(req!.approvals.map((a) => a.by)).size).toBe(2);
    expect((await app.store.orders.findById("ORD-3").lean())!.refundedTotal).toBe(250_000);
  });

  it("a full refund moves the order to refunded", async () => {
    const id = await request("shell:sam", "ORD-6", "full");
    await app.run("shell:sue", `refund approve ${id}`);
    const o = await app.store.orders.findById("ORD-6").lean();
    expect(o).toMatchObject({ status: "refunded", refundedTotal: 12_000 });
    expect(o!.history.at(-1)).toMatchObject({ status: "refunded", note: id });
    expect((await app.run("shell:sam", "refund request ORD-6 1 reason=x")).code).toBe("already_refunded");
  });

  it("rejection needs a reason, tells the requester, and closes the request", async () => {
    const id = await request("shell:sam", "ORD-9", "20");
    expect((await app.run("shell:sue", `refund reject ${id}`)).code).toBe("invalid_args");
    const rejects = await Promise.all(Array.from({ length: 5 }, () => app.run("shell:sue", `refund reject ${id} reason="rejected from button"`)));
    expect(rejects.filter((r) => r.reply.title === `Refund request ${id} rejected`)).toHaveLength(1);
    expect(rejects.filter((r) => r.code === "already_rejected")).toHaveLength(4);
    expect((await app.run("shell:max", `refund approve ${id}`)).code).toBe("already_decided");
    // A late Approve (a stale card) says who rejected it and when, as the card does, in the reader's language.
    const lateZh = await app.core.invoke({ identity: "shell:max", platform: "shell", text: `refund approve ${id}`, locale: "zh-CN" });
    expect(lateZh.reply.text).toMatch(new RegExp(`^退款申请 ${id} 已由 shell:sue 于 .+ 通过“拒绝”按钮拒绝（未填写原因），未做任何更改。$`));
    const note = await app.store.outbox.findById(`refund:${id}:rejected`).lean();
    // No reason given: said so, not "rejected by shell:sue: rejected with the Reject button".
    expect((note!.reply as { text: string }).text).toBe(`Your refund request ${id} for CN¥20.00 on order ORD-9 was rejected by shell:sue with the Reject button (no reason given).`);
    // In Chinese, the button's fixed reason is Chinese too.
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: `refund show ${id}`, locale: "zh-CN" });
    expect(JSON.stringify(zh.reply.fields)).toContain("通过“拒绝”按钮拒绝");
    expect((await app.store.orders.findById("ORD-9").lean())!.refundedTotal).toBe(0);
  });

  it("unknown request ids are refused", async () => {
    expect((await app.run("shell:sue", "refund approve R-NOPE00")).code).toBe("unknown_refund");
    expect((await app.run("shell:sue", "refund reject R-NOPE00 reason=x")).code).toBe("unknown_refund");
    expect((await app.run("shell:sue", "refund show R-NOPE00")).code).toBe("unknown_refund");
  });
});

describe("expiry and crash recovery", () => {
  it("an expired request cannot be approved or rejected; expireDue expires each once and notifies", async () => {
    const id = await request("shell:sam", "ORD-10", "30");
    const other = await request("shell:sam", "ORD-10", "40");
    const start = app.clock.now();
    app.clock.advance(72 * 3_600_000);
    try {
      const r = await app.run("shell:sue", `refund approve ${id}`);
      expect(r.code).toBe("refund_expired");
      expect((await app.run("shell:sue", `refund reject ${other} reason=x`)).code).toBe("refund_expired");
      expect((await app.store.orders.findById("ORD-10").lean())!.refundedTotal).toBe(0);
      const third = await request("shell:sam", "ORD-10", "10");
      app.clock.advance(72 * 3_600_000);
      const [a, b] = await Promise.all([app.services.refund.expireDue(app.clock.now()), app.services.refund.expireDue(app.clock.now())]);
      const all = [...a.expired, ...b.expired];
      // Every due request expires once (this file's other pending requests are due too).
      expect(all.filter((x) => x === third)).toHaveLength(1);
      expect(new Set(all).size).toBe(all.length);
      expect(await app.store.refundRequests.findById(third).lean()).toMatchObject({ status: "expired" });
      expect(await app.store.outbox.countDocuments({ _id: `refund:${third}:expired` })).toBe(1);
      // Expired by the job before anyone answered: approve and reject say so, with when, as above.
      for (const line of [`refund approve ${third}`, `refund reject ${third} reason=x`]) {
        const late = await app.run("shell:sue", line);
        expect([late.code, late.reply.text], line).toEqual(["refund_expired", expect.stringMatching(new RegExp(`^Refund request ${third} expired at `))]);
      }
    } finally {
      app.clock.set(start);
    }
  });

  it("an approval interrupted before execution is finished once by the next approve, even when retries race", async () => {
    const id = await request("shell:sam", "ORD-8", "100");
    // Crash after the approval step, before the order update.
    await app.store.refundRequests.updateOne({ _id: id }, { $set: { status: "approved", decidedBy: "shell:sue", decidedAt: app.clock.now(), approvalCount: 1 } });
    const show = await app.run("shell:sam", `refund show ${id}`);
    expect(show.reply.context?.[0]).toContain(`run \`refund approve ${id}\` to finish it`);
    const runs = await Promise.all(Array.from({ length: 6 }, () => app.run("shell:sid", `refund approve ${id}`)));
    expect(runs.every((r) => r.code === "already_approved")).toBe(true);
    expect(runs.filter((r) => r.reply.text?.endsWith("it was executed now (once)."))).toHaveLength(1);
    const o = await app.store.orders.findById("ORD-8").lean();
    expect(o!.refundedTotal).toBe(10_000);
    expect(o!.refunds).toHaveLength(1);
    expect((await app.store.refundRequests.findById(id).lean())!.executedAt).toBeInstanceOf(Date);
  });

  it("a request without a hold, on an order with an earlier refund: racing finishers refund it once", async () => {
    await app.store.orders.insertMany([order("ORD-11", 40_000)]);
    const first = await request("shell:sam", "ORD-11", "100");
    expect((await app.run("shell:sue", `refund approve ${first}`)).outcome).toBe("ok");
    const id = await request("shell:sam", "ORD-11", "50");
    // From before holds: no hold on the order; approved, then the process stopped before executing.
    await app.store.orders.updateOne({ _id: "ORD-11" }, { $set: { refundHolds: [], heldTotal: 0 } });
    await app.store.refundRequests.updateOne({ _id: id }, { $set: { status: "approved", decidedBy: "shell:sue", decidedAt: app.clock.now(), approvalCount: 1 } });
    const req = (await app.store.refundRequests.findById(id).lean())!;
    await Promise.all(Array.from({ length: 4 }, () => app.services.refund.finish(req)));
    const o = (await app.store.orders.findById("ORD-11").lean())!;
    // The guard "this refund not yet on the order" holds with two refunds in the array too.
    expect(o.refunds!.map((r) => r.requestId)).toEqual([first, id]);
    expect(o.refundedTotal).toBe(15_000);
  });

  it("a crash after the order update is repaired without refunding twice", async () => {
    const id = await request("shell:sam", "ORD-8", "50");
    await app.store.refundRequests.updateOne({ _id: id }, { $set: { status: "approved", decidedBy: "shell:sue", decidedAt: app.clock.now(), approvalCount: 1 } });
    // The order took the refund, then the process died before executedAt was set.
    await app.store.orders.updateOne({ _id: "ORD-8" }, { $inc: { refundedTotal: 5_000 }, $push: { refunds: { requestId: id, amount: 5_000, at: app.clock.now(), day: "2026-11-25" } } });
    const r = await app.services.refund.repair();
    expect(r.finished).toEqual([id]);
    expect((await app.store.orders.findById("ORD-8").lean())!.refundedTotal).toBe(15_000);
    expect(await app.store.outbox.countDocuments({ _id: `refund:${id}:approved` })).toBe(1);
    expect((await app.services.refund.repair()).finished).toEqual([]);
  });

  it("a crash after a rejection, before its notice, is repaired: the requester is told once", async () => {
    const id = await request("shell:sam", "ORD-9", "30");
    // The guarded update landed (with its pending-notice mark), then the process died.
    await app.store.refundRequests.updateOne({ _id: id }, { $set: { status: "rejected", decidedBy: "shell:max", decidedAt: app.clock.now(), rejectReason: "no", notice: "pending" } });
    expect(await app.store.outbox.countDocuments({ _id: `refund:${id}:rejected` })).toBe(0);
    expect((await app.services.refund.repair()).notified).toEqual([id]);
    expect(await app.store.outbox.countDocuments({ _id: `refund:${id}:rejected`, "dest.identity": "shell:sam" })).toBe(1);
    expect((await app.store.refundRequests.findById(id).lean())!.notice).toBeUndefined();
    expect((await app.services.refund.repair()).notified).toEqual([]);
    // Without a crash the mark is cleared as the notice is queued.
    const other = await request("shell:sam", "ORD-9", "10");
    expect((await app.run("shell:max", `refund reject ${other} reason="not eligible"`)).outcome).toBe("ok");
    expect((await app.store.refundRequests.findById(other).lean())!.notice).toBeUndefined();
    expect(await app.store.outbox.countDocuments({ _id: `refund:${other}:rejected` })).toBe(1);
  });
});

describe("the order guard", () => {
  it("two approved requests that together exceed the balance: the second is refused by the order update, not refunded", async () => {
    await app.store.orders.insertMany([order("ORD-RACE", 10_000)]);
    const a = await request("shell:sam", "ORD-RACE", "70");
    // Two requests created at the same moment can both pass the request-time check; simulate it.
    const b = "R-RACE01";
    const doc = (await app.store.refundRequests.findById(a).lean())!;
    await app.store.refundRequests.create({ ...doc, _id: b, amount: 6_000 });
    const [ra, rb] = await Promise.all([app.run("shell:sue", `refund approve ${a}`), app.run("shell:sid", `refund approve ${b}`)]);
    const codes = [ra.code ?? ra.outcome, rb.code ?? rb.outcome].sort();
    expect(codes).toEqual(["ok", "refund_failed"]);
    const o = await app.store.orders.findById("ORD-RACE").lean();
    expect(o!.refundedTotal).toBeLessThanOrEqual(10_000);
    expect(o!.refunds).toHaveLength(1);
    const failed = (await app.store.refundRequests.find({ _id: { $in: [a, b] }, status: "failed" }).lean())[0]!;
    expect(failed.failReason).toBe("balance");
    expect(await app.store.outbox.countDocuments({ _id: `refund:${failed._id}:failed` })).toBe(1);
  });
});

describe("the refund that reaches the total", () => {
  it("two halves approved at once by two managers: the order ends refunded, with its history entry, whichever lands second", async () => {
    // Each pair races: both approvals read the order before either refund lands.
    const nos = Array.from({ length: 4 }, (_, i) => `ORD-HALF${i}`);
    await app.store.orders.insertMany(nos.map((no) => order(no, 10_000)));
    for (const no of nos) {
      const [a, b] = [await request("shell:sam", no, "50"), await request("shell:sam", no, "50")];
      const runs = await Promise.all([app.run("shell:max", `refund approve ${a}`), app.run("shell:mia", `refund approve ${b}`)]);
      expect(runs.map((r) => r.outcome), no).toEqual(["ok", "ok"]);
      const o = (await app.store.orders.findById(no).lean())!;
      expect({ status: o.status, refunded: o.refundedTotal, refunds: o.refunds?.length }, no).toEqual({ status: "refunded", refunded: 10_000, refunds: 2 });
      expect(o.history.filter((h) => h.status === "refunded"), no).toHaveLength(1);
      // A refunded order is not shipped, and nothing more is refunded.
      expect((await app.run("shell:max", `order ship ${no} carrier=SF tracking=SF1234567`)).outcome, no).toBe("user_error");
      expect((await app.run("shell:sam", `refund request ${no} 1 reason=x`)).code, no).toBe("already_refunded");
    }
  });
});

describe("refund list and policy", () => {
  it("lists pending, mine and all", async () => {
    await request("shell:sam", "ORD-9", "1");
    const pending = await app.run("shell:sue", "refund list");
    expect(pending.reply.title).toMatch(/^Pending refund requests: \d+$/);
    expect(pending.reply.table!.rows.every((r) => r[3]!.startsWith("pending"))).toBe(true);
    const mine = await app.run("shell:max", "refund list mine");
    expect(mine.reply.table!.rows.map((r) => r[4])).toEqual(["shell:max"]);
    const all = await app.run("shell:max", "refund list all since=today");
    expect(all.reply.table!.rows.length).toBeGreaterThan(5);
    expect((await app.run("shell:max", "refund list bogus")).code).toBe("invalid_args");
  });

  it("pages through a long list to its end; each page names the next as a command that runs", async () => {
    await app.services.identity.grant("shell:pager", "staff", "shell:admin");
    await app.store.orders.insertMany([order("ORD-PAGE", 100_000)]);
    const made: string[] = [];
    for (let i = 0; i < 23; i++) {
      made.push(await request("shell:pager", "ORD-PAGE", "1"));
      app.clock.advance(1_000); // newest first, in a known order
    }
    const seen: string[] = [];
    const contexts: string[][] = [];
    let line: string | undefined = "refund list mine since=today";
    while (line) {
      const r = await app.run("shell:pager", line);
      seen.push(...r.reply.table!.rows.map((row) => row[0]!));
      contexts.push(r.reply.context ?? []);
      line = /`(refund list [^`]+)`/.exec(contexts.at(-1)!.join("\n"))?.[1];
    }
    expect(seen).toEqual([...made].reverse());
    // The window pinned (today as the instant it began) and the last row shown as the cursor.
    expect(contexts[0]).toEqual(["Requests 1–20 of 23, newest first.", expect.stringMatching(new RegExp(`^Next page: \`refund list mine since=\\d{4}-\\d{2}-\\d{2}T16:00:00Z before=${made[3]} page=2\`$`))]);
    expect(contexts[1]).toEqual(["Requests 21–23 of 23, newest first."]);
    const beyond = await app.run("shell:pager", "refund list mine page=3");
    expect([beyond.code, beyond.reply.text]).toEqual(["page_out_of_range", "Page 3 is past the last page (2) of 23 matching requests."]);
  });

  it("approvable lists only the pending requests the caller may approve: not their own, within their role", async () => {
    const small = await request("shell:sam", "ORD-10", "10");
    const large = await request("shell:sue", "ORD-8", "300");
    const ids = async (who: string) => ((await app.run(who, "refund list approvable")).reply.table?.rows ?? []).map((r) => r[0]);
    const sue = await ids("shell:sue");
    expect(sue).toContain(small);
    expect(sue).not.toContain(large); // her own, and above the support limit
    expect(await ids("shell:max")).toEqual(expect.arrayContaining([small, large]));
    const staff = await app.run("shell:sam", "refund list approvable");
    expect(staff.reply.text).toBe("No refund request is waiting for your approval.");
    expect((await app.run("shell:max", `refund approve ${small}`)).outcome).toBe("ok");
    expect(await ids("shell:max")).not.toContain(small);
  });

  it("shows the policy; only admins change it; the new limits apply at once", async () => {
    const p = await app.run("shell:sam", "refund policy");
    expect(Object.fromEntries(p.reply.fields!.map((f) => [f.label, f.value]))).toMatchObject({
      "Support approves alone": "up to CN¥200.00",
      "A manager approves alone": "up to CN¥2,000.00",
      "Pending requests expire after": "72 hours",
    });
    // Reading changes nothing and is not audited; a manager's `set` is audited as denied.
    expect(await app.store.audit.countDocuments({ command: "refund policy", actor: "shell:sam" })).toBe(0);
    const denied = await app.run("shell:max", "refund policy set support=300");
    expect([denied.code, denied.outcome]).toEqual(["permission_denied", "denied"]);
    expect(await app.store.audit.findOne({ command: "refund policy", actor: "shell:max" }).lean()).toMatchObject({ outcome: "denied", code: "permission_denied" });
    expect((await app.run("shell:admin", "refund policy set support=3000")).code).toBe("policy_inconsistent");
    expect((await app.run("shell:admin", "refund policy set expiry=0")).code).toBe("invalid_args");
    const set = await app.run("shell:admin", "refund policy set support=300 expiry=2d");
    expect(set.outcome).toBe("ok");
    expect(await app.store.meta.findById("refund_policy").lean()).toMatchObject({ value: { supportLimit: 30_000, managerLimit: 200_000, pendingHours: 48, updatedBy: "shell:admin" } });
    const id = await request("shell:sam", "ORD-9", "250");
    expect((await app.run("shell:sue", `refund approve ${id}`)).outcome).toBe("ok");
    expect(await app.store.audit.countDocuments({ command: "refund policy", actor: "shell:admin" })).toBe(3);
  });

  it("two admins changing different limits at once both keep their change", async () => {
    const before = await app.services.refund.policy();
    await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => app.services.refund.setPolicy({ supportLimit: 31_000 + i }, "shell:admin")),
      app.services.refund.setPolicy({ pendingHours: 36 }, "shell:admin"),
    ]);
    const after = await app.services.refund.policy();
    expect(after.pendingHours).toBe(36);
    expect(after.supportLimit).toBeGreaterThanOrEqual(31_000);
    expect(after.managerLimit).toBe(before.managerLimit);
    await app.services.refund.setPolicy({ supportLimit: before.supportLimit, pendingHours: before.pendingHours }, "shell:admin");
  });

  it("a request in another currency than the shop's needs two managers, however small", async () => {
    const id = await request("shell:sam", "ORD-USD", "5");
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ currency: "USD", amount: 500, requiredApprovals: 2 });
    const support = await app.run("shell:sue", `refund approve ${id}`);
    expect(support.code).toBe("approval_limit");
    expect(support.reply.text).toContain("is in USD, not the shop's CNY");
    expect((await app.run("shell:max", `refund approve ${id}`)).outcome).toBe("ok");
    expect((await app.store.refundRequests.findById(id).lean())!.status).toBe("pending");
    expect((await app.run("shell:mia", `refund approve ${id}`)).outcome).toBe("ok");
    expect((await app.store.refundRequests.findById(id).lean())!.status).toBe("approved");
  });
});

describe("holds on the balance", () => {
  /** Pending requests of an order and their sum. */
  async function pendingOf(orderNo: string) {
    const reqs = await app.store.refundRequests.find({ orderNo, status: "pending" }).lean();
    return { count: reqs.length, sum: reqs.reduce((s, r) => s + r.amount, 0) };
  }

  it("ten people asking for the full balance at once: one request, the others are told nothing is left", async () => {
    await app.store.orders.insertMany([order("ORD-H1", 25_000)]);
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => app.run(`shell:m${i}`, "refund request ORD-H1 full reason=damaged")));
    expect(runs.filter((r) => r.outcome === "ok")).toHaveLength(1);
    const refused = runs.filter((r) => r.outcome !== "ok");
    expect(refused.map((r) => r.code)).toEqual(Array(9).fill("over_balance"));
    expect(refused[0]!.reply.text).toContain("Nothing is left to request on ORD-H1: of CN¥250.00 paid, CN¥0.00 is refunded and the rest (CN¥250.00) is ");
    expect(await pendingOf("ORD-H1")).toEqual({ count: 1, sum: 25_000 });
  });

  it("six racing requests of 40 on an order of 100: two are created, and together they never exceed it", async () => {
    await app.store.orders.insertMany([order("ORD-H2", 10_000)]);
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => app.run(`shell:m${i}`, "refund request ORD-H2 40 reason=damaged")));
    expect(runs.filter((r) => r.outcome === "ok")).toHaveLength(2);
    expect(runs.filter((r) => r.code === "over_balance")).toHaveLength(4);
    expect(await pendingOf("ORD-H2")).toEqual({ count: 2, sum: 8_000 });
    // What is left can still be asked for, and no more.
    expect((await app.run("shell:sam", "refund request ORD-H2 20.01 reason=x")).code).toBe("over_balance");
    expect(await app.store.refundRequests.findById(await request("shell:sam", "ORD-H2", "full")).lean()).toMatchObject({ amount: 2_000 });
  });

  it("a rejected or expired request gives its amount back; an executed one turns it into the refund", async () => {
    await app.store.orders.insertMany([order("ORD-H3", 10_000)]);
    const a = await request("shell:sam", "ORD-H3", "full");
    expect((await app.run("shell:sam", "refund request ORD-H3 1 reason=x")).code).toBe("over_balance");
    expect((await app.run("shell:max", `refund reject ${a} reason="not eligible"`)).outcome).toBe("ok");
    // "full" as a Chinese team types it.
    const b = await request("shell:sam", "ORD-H3", "全额");
    expect(await app.store.refundRequests.findById(b).lean()).toMatchObject({ amount: 10_000, full: true });
    // b expires: the next request finds it due, expires it and measures without it.
    const start = app.clock.now();
    app.clock.advance(72 * 3_600_000);
    try {
      const c = await request("shell:sam", "ORD-H3", "60");
      expect(await app.store.refundRequests.findById(b).lean()).toMatchObject({ status: "expired" });
      expect(await app.store.outbox.countDocuments({ _id: `refund:${b}:expired` })).toBe(1);
      expect((await app.run("shell:sue", `refund approve ${c}`)).outcome).toBe("ok");
      const o = (await app.store.orders.findById("ORD-H3").lean())!;
      expect({ refunded: o.refundedTotal, held: o.heldTotal, holds: o.refundHolds }).toEqual({ refunded: 6_000, held: 0, holds: [] });
      expect((await app.run("shell:sam", "refund request ORD-H3 40.01 reason=x")).code).toBe("over_balance");
      expect((await app.run("shell:sam", "refund request ORD-H3 40 reason=x")).outcome).toBe("ok");
    } finally {
      app.clock.set(start);
    }
  });

  it("a crash before a hold was given back is repaired; a hold whose request never came is given back after the grace", async () => {
    await app.store.orders.insertMany([order("ORD-H4", 10_000)]);
    const a = await request("shell:sam", "ORD-H4", "full");
    // The rejection landed with its notice mark, then the process died before releasing.
    await app.store.refundRequests.updateOne({ _id: a }, { $set: { status: "rejected", decidedBy: "shell:max", decidedAt: app.clock.now(), rejectReason: "no", notice: "pending" } });
    expect((await app.run("shell:sam", "refund request ORD-H4 1 reason=x")).code).toBe("over_balance");
    await app.services.refund.repair();
    expect((await app.store.orders.findById("ORD-H4").lean())!.heldTotal).toBe(0);
    // A hold written just before a crash, its request never inserted.
    const now = app.clock.now().getTime();
    const orphan = (id: string, ago: number) => ({ id, hid: `${id}:x`, amount: 3_000, at: new Date(now - ago) });
    await app.store.orders.updateOne({ _id: "ORD-H4" }, { $inc: { heldTotal: 6_000 }, $push: { refundHolds: { $each: [orphan("R-OLD001", 11 * 60_000), orphan("R-NEW001", 60_000)] } } });
    expect((await app.run("shell:sam", "refund request ORD-H4 40.01 reason=x")).code).toBe("over_balance");
    expect((await app.services.refund.repair()).released).toEqual(["R-OLD001"]);
    const o = (await app.store.orders.findById("ORD-H4").lean())!;
    expect({ held: o.heldTotal, holds: o.refundHolds!.map((h) => h.id) }).toEqual({ held: 3_000, holds: ["R-NEW001"] });
    expect((await app.run("shell:sam", "refund request ORD-H4 70 reason=x")).outcome).toBe("ok");
    expect((await app.services.refund.repair()).released).toEqual([]);
  });
});

describe("holds after the fact", () => {
  it("a request that stands without a hold (from before holds, or given back too early) is held again by the repair, once", async () => {
    await app.store.orders.insertMany([order("ORD-H5", 10_000)]);
    const a = await request("shell:sam", "ORD-H5", "60");
    // As a request created before holds existed: no hold on the order.
    await app.store.orders.updateOne({ _id: "ORD-H5" }, { $set: { heldTotal: 0, refundHolds: [] } });
    const r = await app.services.refund.repair();
    expect(r.reheld).toEqual([a]);
    expect((await app.services.refund.repair()).reheld).toEqual([]);
    const o = (await app.store.orders.findById("ORD-H5").lean())!;
    expect({ held: o.heldTotal, holds: o.refundHolds!.map((h) => h.id) }).toEqual({ held: 6_000, holds: [a] });
    // Racing requests now see the 60 held: 40 is left, once.
    const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => app.run(`shell:m${i}`, "refund request ORD-H5 30 reason=x")));
    expect(runs.filter((x) => x.outcome === "ok")).toHaveLength(1);
    // Executed: the hold becomes the refund, and the repair does not hold it again.
    expect((await app.run("shell:sue", `refund approve ${a}`)).outcome).toBe("ok");
    expect((await app.services.refund.repair()).reheld).toEqual([]);
    const after = (await app.store.orders.findById("ORD-H5").lean())!;
    expect({ refunded: after.refundedTotal, held: after.heldTotal }).toEqual({ refunded: 6_000, held: 3_000 });
  });

  it("a caller id retried long after a first delivery that held and stopped: one request, one hold", async () => {
    await app.store.orders.insertMany([order("ORD-H6", 10_000)]);
    const id = "R-EXT-77";
    // The first delivery held 30 and stopped before inserting, 8 minutes ago.
    await app.store.orders.updateOne({ _id: "ORD-H6" }, { $set: { heldTotal: 3_000, refundHolds: [{ id, hid: `${id}:old`, amount: 3_000, at: new Date(app.clock.now().getTime() - 8 * 60_000) }] } });
    const [x, y] = await Promise.all([
      app.services.refund.request({ orderNo: "ORD-H6", amount: "30", reason: "x", requester: "api:shop", id, exactOrderNo: true }),
      app.services.refund.request({ orderNo: "ORD-H6", amount: "30", reason: "x", requester: "api:shop", id, exactOrderNo: true }),
    ]);
    expect([x.kind, y.kind].sort()).toEqual(["created", "exists"]);
    const o = (await app.store.orders.findById("ORD-H6").lean())!;
    expect({ held: o.heldTotal, holds: o.refundHolds!.map((h) => h.id) }).toEqual({ held: 3_000, holds: [id] });
    expect(o.refundHolds![0]!.hid).not.toBe(`${id}:old`);
    expect((await app.services.refund.repair()).released).toEqual([]);
  });
});

describe("refunds of cancelled orders", () => {
  it("a paid order cancelled by a manager can be refunded, and stays cancelled; an unpaid cancelled one cannot", async () => {
    await app.store.orders.insertMany([order("ORD-CX", 20_000, { status: "paid" }), order("ORD-CU", 9_000, { status: "pending", paidAt: undefined, paidDay: undefined })]);
    const cancel = await app.run("shell:max", 'order cancel ORD-CX reason="customer changed their mind"');
    expect(cancel.reply.text).toContain("refund the customer through a refund request");
    const id = await request("shell:sam", "ORD-CX", "full");
    expect((await app.run("shell:sue", `refund approve ${id}`)).outcome).toBe("ok");
    const o = (await app.store.orders.findById("ORD-CX").lean())!;
    expect({ status: o.status, refunded: o.refundedTotal, held: o.heldTotal }).toEqual({ status: "cancelled", refunded: 20_000, held: 0 });
    // Nothing is left: said as for a refunded order, not as an amount over a balance of 0.00.
    const more = await app.run("shell:sam", "refund request ORD-CX 1 reason=x");
    expect([more.code, more.reply.text]).toEqual(["already_refunded", expect.stringContaining("ORD-CX")]);
    expect((await app.run("shell:max", 'order cancel ORD-CU reason="never paid"')).outcome).toBe("ok");
    expect((await app.run("shell:sam", "refund request ORD-CU 10 reason=x")).code).toBe("order_not_paid");
  });
});

describe("linked identities are one person", () => {
  // One manager, Lin, on Slack, Discord and the shell; another manager, Mia, on the shell.
  const SLACK = "slack:TLINK:ULIN";
  const DISCORD = "discord:4000000001";
  const SHELL = "shell:lin";
  /** The ids `who` sees in `refund list <which>`. */
  const listed = async (who: string, which: string) => ((await app.run(who, `refund list ${which}`)).reply.table?.rows ?? []).map((r) => r[0]);

  beforeAll(async () => {
    for (const id of [SLACK, DISCORD, SHELL]) await app.services.identity.grant(id, "manager", "shell:admin");
    await app.store.orders.insertMany([order("ORD-L1", 900_000), order("ORD-L2", 900_000), order("ORD-L3", 900_000)]);
    expect((await app.run("shell:admin", `role link ${SLACK} ${DISCORD}`)).outcome).toBe("ok");
  });

  it("a request made on Slack cannot be approved by the same manager on Discord, nor listed as waiting for them", async () => {
    const id = await request(SLACK, "ORD-L1", "500");
    const self = await app.run(DISCORD, `refund approve ${id}`);
    expect(self.code).toBe("self_approval");
    expect(self.reply.text).toBe(`You requested ${id} as ${SLACK}, an identity linked to yours: nobody approves their own refund request. Ask another approver.`);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
    expect(await listed(DISCORD, "approvable")).not.toContain(id);
    expect(await listed(DISCORD, "mine")).toContain(id);
    expect(await listed("shell:mia", "approvable")).toContain(id);
    expect((await app.run("shell:mia", `refund approve ${id}`)).outcome).toBe("ok");
    expect((await app.store.refundRequests.findById(id).lean())!.status).toBe("approved");
  });

  it("one manager cannot give both approvals of a two-manager refund, in turn or racing", async () => {
    const id = await request("shell:sam", "ORD-L2", "2500");
    // Both identities at once: one first approval lands; the other, retrying on the fresh read, finds it is theirs.
    const both = await Promise.all([app.run(SLACK, `refund approve ${id}`), app.run(DISCORD, `refund approve ${id}`)]);
    expect(both.map((r) => r.code ?? r.reply.title).sort()).toEqual([`Refund ${id}: first approval recorded; a second manager must approve`, "awaiting_second_approval"]);
    const first = (await app.store.refundRequests.findById(id).lean())!;
    expect(first).toMatchObject({ status: "pending", approvalCount: 1 });
    const by = first.approvals[0]!.by!;
    const other = by === SLACK ? DISCORD : SLACK;
    const again = await app.run(other, `refund approve ${id}`);
    expect(again.code).toBe("awaiting_second_approval");
    expect(again.reply.text).toBe(`You already approved ${id} as ${by}, an identity linked to yours; a second, different manager must approve it.`);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 1 });
    expect((await app.store.orders.findById("ORD-L2").lean())!.refundedTotal).toBe(0);
    for (const who of [SLACK, DISCORD]) expect(await listed(who, "approvable")).not.toContain(id);
    expect(await listed("shell:mia", "approvable")).toContain(id);
    const second = await app.run("shell:mia", `refund approve ${id}`);
    expect(second.reply.title).toBe(`Refund ${id} approved: CN¥2,500.00 refunded on ORD-L2`);
    expect((await app.store.refundRequests.findById(id).lean())!.approvals.map((a) => a.by)).toEqual([by, "shell:mia"]);
  });

  it("links are transitive: a request under a third linked identity is the person's own too", async () => {
    expect((await app.run("shell:admin", `role link ${SHELL} ${DISCORD}`)).outcome).toBe("ok");
    const id = await request(SHELL, "ORD-L3", "300");
    expect((await app.run(SLACK, `refund approve ${id}`)).code).toBe("self_approval");
    expect(await listed(SLACK, "approvable")).not.toContain(id);
    expect(await listed(SLACK, "mine")).toEqual(expect.arrayContaining([id]));
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
  });

  it("unlinking restores separate persons", async () => {
    expect((await app.run("shell:admin", `role unlink ${DISCORD}`)).outcome).toBe("ok");
    const id = await request("shell:sam", "ORD-L3", "2500");
    expect((await app.run(SLACK, `refund approve ${id}`)).reply.title).toContain("first approval recorded");
    expect((await app.run(DISCORD, `refund approve ${id}`)).reply.title).toBe(`Refund ${id} approved: CN¥2,500.00 refunded on ORD-L3`);
    // The shell and Slack identities are still one person.
    const own = await request(SLACK, "ORD-L3", "100");
    expect((await app.run(SHELL, `refund approve ${own}`)).code).toBe("self_approval");
    expect((await app.run(DISCORD, `refund approve ${own}`)).outcome).toBe("ok");
  });
});
