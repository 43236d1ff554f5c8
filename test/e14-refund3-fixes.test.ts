/**
 * Refund replies that leave a manager guessing: an order whose balance is all asked in pending
 * requests names them (and that rejecting one frees its amount); approving a rejected request says
 * who rejected it, when and why; shortening the expiry says pending requests keep the deadline
 * they were given; and a list read with since= says its window in its title.
 */
import { afterEach, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;
afterEach(() => app?.close());

/** A fresh app (2026-11-25T04:00:00Z, 12:00 in Asia/Shanghai) with staff, support, two managers and an order of ¥300. */
async function fresh(): Promise<TestApp> {
  app = await makeTestApp();
  for (const [id, role] of [["shell:sam", "staff"], ["shell:sue", "support"], ["shell:mia", "manager"], ["shell:max", "manager"]] as const) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000)]);
  return app;
}

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

/** Asks a refund as sam; its id. */
async function request(line: string): Promise<string> {
  const r = await app.run("shell:sam", line);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /R-[0-9A-Z]{6}/.exec(r.reply.title!)![0];
}

describe("refund request on an order whose balance is all asked", () => {
  it("says nothing is left to request, names the pending requests holding it and that rejecting one frees its amount (en and zh), for an amount and for full", async () => {
    await fresh();
    const a = await request('refund request ORD-1 100 reason="damaged"');
    // With some left, an amount above it is still told at most how much.
    const some = await app.run("shell:sam", 'refund request ORD-1 250 reason="damaged"');
    expect(some.reply.text).toBe("Cannot refund that much on ORD-1: at most CN¥200.00 is refundable (paid CN¥300.00, refunded CN¥0.00, pending requests CN¥100.00).");
    app.clock.advance(60_000);
    const b = await request('refund request ORD-1 full reason="damaged"');
    const text = `Nothing is left to request on ORD-1: of CN¥300.00 paid, CN¥0.00 is refunded and the rest (CN¥300.00) is asked in refund requests awaiting a decision: ${a}, ${b}. Rejecting one (\`refund reject <id> reason=<reason>\`) frees its amount for a new request.`;
    for (const line of ['refund request ORD-1 5.00 reason="damaged"', 'refund request ORD-1 full reason="damaged"']) {
      const r = await app.run("shell:sam", line);
      expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "over_balance", text]);
    }
    const z = await zh("shell:sam", 'refund request ORD-1 5.00 reason="damaged"');
    expect(z.reply.text).toBe(`订单 ORD-1 已没有可申请的退款金额：实付 ¥300.00，已退 ¥0.00，其余（¥300.00）已在待审批的退款申请中：${a}、${b}。拒绝其中一个（\`refund reject <编号> reason=<原因>\`）即可释放其金额，用于新的申请。`);
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-1" })).toBe(2);

    // As it says: rejecting one frees its amount.
    expect((await app.run("shell:mia", `refund reject ${a} reason="duplicate"`)).outcome).toBe("ok");
    expect((await app.run("shell:sam", 'refund request ORD-1 5.00 reason="damaged"')).outcome).toBe("ok");

    // Many of them: the five oldest, and an ellipsis for the rest (`refund list pending` has them all).
    await app.store.orders.insertMany([paidOrder("ORD-2", 600)]);
    const six: string[] = [];
    for (let i = 0; i < 6; i++) {
      app.clock.advance(60_000);
      six.push(await request('refund request ORD-2 1 reason="damaged"'));
    }
    const many = await app.run("shell:sam", 'refund request ORD-2 1 reason="damaged"');
    expect(many.reply.text).toContain(`awaiting a decision: ${six.slice(0, 5).join(", ")}, …. Rejecting one`);
  });

  it("with part refunded already, says what was refunded and names only the pending request", async () => {
    await fresh();
    const a = await request('refund request ORD-1 100 reason="damaged"');
    expect((await app.run("shell:mia", `refund approve ${a}`)).outcome).toBe("ok");
    const b = await request('refund request ORD-1 full reason="damaged"');
    const r = await app.run("shell:sam", 'refund request ORD-1 1 reason="damaged"');
    expect(r.reply.text).toBe(
      `Nothing is left to request on ORD-1: of CN¥300.00 paid, CN¥100.00 is refunded and the rest (CN¥200.00) is asked in refund requests awaiting a decision: ${b}. Rejecting one (\`refund reject <id> reason=<reason>\`) frees its amount for a new request.`,
    );
  });

  it("with the balance held by a request being asked this very moment (not inserted yet), still says nothing is left, and where to look", async () => {
    await fresh();
    const at = app.clock.now();
    await app.store.orders.insertMany([paidOrder("ORD-3", 5_000, undefined, { heldTotal: 5_000, refundHolds: [{ id: "R-INFLT1", hid: "R-INFLT1:x", amount: 5_000, at }] })]);
    const r = await app.run("shell:sam", 'refund request ORD-3 1 reason="damaged"');
    expect([r.code, r.reply.text]).toEqual([
      "over_balance",
      "Nothing is left to request on ORD-3: of CN¥50.00 paid, CN¥0.00 is refunded and the rest (CN¥50.00) is held by refund requests being asked or executed right now; `order ORD-3` shows them.",
    ]);
    expect((await zh("shell:sam", 'refund request ORD-3 1 reason="damaged"')).reply.text).toBe("订单 ORD-3 已没有可申请的退款金额：实付 ¥50.00，已退 ¥0.00，其余（¥50.00）已被正在提交或执行的退款申请占用；`order ORD-3` 可查看。");
  });
});

describe("refund approve on a rejected request", () => {
  it("says who rejected it, when and why (en and zh), as refund reject on it does; nothing changes", async () => {
    await fresh();
    const id = await request('refund request ORD-1 20 reason="damaged"');
    expect((await app.run("shell:mia", `refund reject ${id} reason="outside the return window"`)).outcome).toBe("ok");
    app.clock.advance(3 * 3_600_000);
    const text = `Refund request ${id} was already rejected by shell:mia at 2026-11-25 12:00 GMT+8 (reason: outside the return window); nothing changed.`;
    const late = await app.run("shell:max", `refund approve ${id}`);
    expect([late.outcome, late.code, late.reply.text]).toEqual(["user_error", "already_decided", text]);
    const again = await app.run("shell:max", `refund reject ${id} reason="again"`);
    expect([again.code, again.reply.text]).toEqual(["already_rejected", text]);
    expect((await zh("shell:max", `refund approve ${id}`)).reply.text).toBe(`退款申请 ${id} 已由 shell:mia 于 2026-11-25 12:00 GMT+8 拒绝（原因：outside the return window），未做任何更改。`);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "rejected", rejectReason: "outside the return window", approvalCount: 0 });
  });

  it("one rejected with the Reject button says so (no reason given), en and zh", async () => {
    await fresh();
    const id = await request('refund request ORD-1 20 reason="damaged"');
    expect((await app.run("shell:sue", `refund reject ${id} reason="rejected from button"`)).outcome).toBe("ok");
    expect((await app.run("shell:mia", `refund approve ${id}`)).reply.text).toBe(`Refund request ${id} was already rejected by shell:sue at 2026-11-25 12:00 GMT+8 with the Reject button (no reason given); nothing changed.`);
    expect((await zh("shell:mia", `refund approve ${id}`)).reply.text).toBe(`退款申请 ${id} 已由 shell:sue 于 2026-11-25 12:00 GMT+8 通过“拒绝”按钮拒绝（未填写原因），未做任何更改。`);
  });
});

describe("refund policy set expiry= with requests pending", () => {
  it("says the pending requests keep the expiry they were given (en and zh), and they do; nothing of the kind with none pending, nor for a limit or the same expiry", async () => {
    await fresh();
    const bare = [expect.stringMatching(/^Set by shell:admin/)];
    expect((await app.run("shell:admin", "refund policy set expiry=48h")).reply.context).toEqual(bare);
    const id = await request('refund request ORD-1 20 reason="damaged"');
    await request('refund request ORD-1 30 reason="damaged"');
    const set = await app.run("shell:admin", "refund policy set expiry=1h");
    expect(set.outcome).toBe("ok");
    expect(set.reply.context).toContain("2 pending requests keep the expiry they were given; the new expiry applies to requests asked from now on.");
    expect((await zh("shell:admin", "refund policy set expiry=2h")).reply.context).toContain("2 个待审批申请保留原有的过期时间；新的过期时间适用于此后提交的申请。");

    // As it says: three hours on (past the new expiry), the request asked under 48 hours is still pending and approvable.
    app.clock.advance(3 * 3_600_000);
    expect(field(await app.run("shell:mia", `refund show ${id}`), "Expires")).toBe("2026-11-27 12:00 GMT+8");
    expect((await app.run("shell:mia", `refund approve ${id}`)).outcome).toBe("ok");
    const one = await app.run("shell:admin", "refund policy set expiry=3h");
    expect(one.reply.context).toContain("1 pending request keeps the expiry it was given; the new expiry applies to requests asked from now on.");
    expect((await app.run("shell:admin", "refund policy set support=100")).reply.context).toEqual(bare);
    expect((await app.run("shell:admin", "refund policy set expiry=3h")).reply.context).toEqual(bare);
  });
});

describe("refund list with since=", () => {
  it("says the window in its title (en and zh), also on a page pinned to an instant; without since= it says none", async () => {
    await fresh();
    await request('refund request ORD-1 20 reason="damaged"');
    await request('refund request ORD-1 30 reason="damaged"');
    expect((await app.run("shell:mia", "refund list all since=7d")).reply.title).toBe("Refund requests: 2 (since 2026-11-18 12:00 GMT+8)");
    expect((await zh("shell:mia", "refund list all since=7d")).reply.title).toBe("退款申请：2 个（自 2026-11-18 12:00 GMT+8 起）");
    expect((await app.run("shell:mia", "refund list pending since=2026-11-24T06:30:00Z")).reply.title).toBe("Pending refund requests: 2 (since 2026-11-24 14:30 GMT+8)");
    expect((await app.run("shell:mia", "refund list all")).reply.title).toBe("Refund requests: 2");
  });
});
