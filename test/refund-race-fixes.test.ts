import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Locale } from "../src/core/messages.js";
import type { AuditRecord } from "../src/services/audit.service.js";
import type { AuditDoc } from "../src/store/models.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** The request id in a created card's title. */
function idOf(r: { reply: { title?: string; text?: string } }): string {
  const m = /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "");
  if (!m) throw new Error(`no request id in ${JSON.stringify(r.reply)}`);
  return m[0];
}

async function request(orderNo: string, amount: string): Promise<string> {
  const r = await app.run("shell:sam", `refund request ${orderNo} ${amount} reason="damaged"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return idOf(r);
}

beforeAll(async () => {
  app = await makeTestApp();
  const roles: [string, "staff" | "support" | "manager"][] = [
    ["shell:sam", "staff"],
    ["shell:sue", "support"],
    ["shell:max", "manager"],
    ["shell:mia", "manager"],
    ["shell:mo", "manager"],
  ];
  for (const [id, role] of roles) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-A1", 10_000), paidOrder("ORD-E1", 10_000), paidOrder("ORD-B1", 500_000), paidOrder("ORD-B2", 500_000), paidOrder("ORD-B3", 500_000)]);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => app.close());

describe("an execution whose audit entry failed once", () => {
  it("is finished by repair with its refund execute entry, as the execution would have written it", async () => {
    const id = await request("ORD-A1", "30");
    const record = app.services.audit.record.bind(app.services.audit);
    let failed = false;
    vi.spyOn(app.services.audit, "record").mockImplementation(async (r: AuditRecord) => {
      if (r.command === "refund execute" && !failed) {
        failed = true;
        throw new Error("connection reset");
      }
      return record(r);
    });
    const r = await app.run("shell:sue", `refund approve ${id}`);
    expect([r.outcome, r.code]).toEqual(["error", "internal"]);
    vi.restoreAllMocks();
    // The order is refunded; the request is approved without executedAt, and no entry yet.
    const order = await app.store.orders.findById("ORD-A1").lean();
    expect(order!.refundedTotal).toBe(3_000);
    expect(await app.store.refundRequests.findById(id).lean()).not.toHaveProperty("executedAt");
    expect(await app.store.audit.findById(`exec-${id}`).lean()).toBeNull();

    expect((await app.services.refund.repair()).finished).toContain(id);
    const e = await app.store.audit.findById(`exec-${id}`).lean<AuditDoc>();
    expect(e).toMatchObject({ actor: "shell:sue", platform: "shell", command: "refund execute", args: `${id} ORD-A1 30.00 CNY`, outcome: "ok", subject: [id, "ORD-A1"] });
    expect(e!.at).toEqual(order!.refunds![0]!.at);
    expect(await app.store.refundRequests.findById(id).lean()).toHaveProperty("executedAt");
    expect(await app.store.outbox.countDocuments({ _id: `refund:${id}:approved` })).toBe(1);
    // `audit subject=` finds the execution; approving again changes nothing, and the entry stays one.
    const audit = await app.run("shell:max", `audit subject=${id}`);
    expect(JSON.stringify(audit.reply)).toContain("refund execute");
    expect((await app.run("shell:max", `refund approve ${id}`)).code).toBe("already_approved");
    expect(await app.store.audit.countDocuments({ command: "refund execute", subject: id })).toBe(1);
    expect((await app.store.orders.findById("ORD-A1").lean())!.refundedTotal).toBe(3_000);
  });
});

/** The next read of a request (by approve or reject) sees it pending; the expiry job then lands before that call's update. */
async function expireAfterNextRead(id: string): Promise<void> {
  const req = (await app.store.refundRequests.findById(id).lean())!;
  const get = app.services.refund.get.bind(app.services.refund);
  vi.spyOn(app.services.refund, "get").mockImplementationOnce(async (x: string) => {
    const seen = await get(x);
    await app.services.refund.expireDue(new Date(req.expiresAt.getTime() + 1));
    return seen;
  });
}

describe("an approval losing to the expiry job", () => {
  it("answers refund_expired with the time it expired, as a late approval and a reject in the same race do", async () => {
    const id = await request("ORD-E1", "10");
    // The approval reads the request pending, before its deadline; the expiry job lands before its update.
    await expireAfterNextRead(id);
    const r = await app.run("shell:sue", `refund approve ${id}`);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "expired", approvalCount: 0 });
    expect([r.outcome, r.code]).toEqual(["user_error", "refund_expired"]);
    expect(r.reply.text).toMatch(new RegExp(`^Refund request ${id} expired at .+; it can no longer be approved or rejected\\. Create a new request if it is still needed\\.$`));
    expect((await app.store.orders.findById("ORD-E1").lean())!.refundedTotal ?? 0).toBe(0);
  });

  it("reject in the same race says the same", async () => {
    const id = await request("ORD-E1", "10");
    await expireAfterNextRead(id);
    const r = await app.run("shell:sue", `refund reject ${id} reason=x`);
    expect(r.code).toBe("refund_expired");
  });
});

describe("the first of several managers approving a two-manager refund at once", () => {
  /** Runs `refund approve` as shell:max; `meanwhile` runs after max's approval landed, before its reply is made. */
  async function firstThen(id: string, meanwhile: () => Promise<unknown>, locale?: Locale) {
    const approve = app.services.refund.approve.bind(app.services.refund);
    vi.spyOn(app.services.refund, "approve").mockImplementationOnce(async (input) => {
      const r = await approve(input);
      await meanwhile();
      return r;
    });
    return app.core.invoke({ identity: "shell:max", platform: "shell", text: `refund approve ${id}`, ...(locale ? { locale } : {}) });
  }

  it("is told the request was then approved by the second and refunded, with the card as it is now (no buttons)", async () => {
    const id = await request("ORD-B1", "2500");
    const r = await firstThen(id, () => app.run("shell:mia", `refund approve ${id}`));
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe(`Refund ${id}: your approval was the first; it was then approved by shell:mia and CN¥2,500.00 refunded on ORD-B1`);
    expect(field(r, "Status")).toBe("approved and refunded");
    expect(r.reply.status).toBe("ok");
    expect(r.reply.actions ?? []).toEqual([]);
    expect((await app.store.orders.findById("ORD-B1").lean())!.refundedTotal).toBe(250_000);
    // A third manager, later still, finds it approved by both.
    const third = await app.run("shell:mo", `refund approve ${id}`);
    expect(third.reply.text).toBe(`Refund request ${id} was already approved by shell:max and shell:mia; nothing changed.`);
  });

  it("in Chinese too", async () => {
    const id = await request("ORD-B2", "2500");
    const r = await firstThen(id, () => app.run("shell:mia", `refund approve ${id}`), "zh-CN");
    expect(r.reply.title).toBe(`退款 ${id}：你是第一位审批人；随后 shell:mia 批准，订单 ORD-B2 已退款 ¥2,500.00`);
    expect(r.reply.actions ?? []).toEqual([]);
  });

  it("rejected meanwhile: says so, without buttons; still pending: the usual first-approval card", async () => {
    const id = await request("ORD-B3", "2500");
    const r = await firstThen(id, () => app.run("shell:mia", `refund reject ${id} reason="not eligible"`));
    expect(r.reply.title).toBe(`Refund ${id}: your approval was the first; it is now rejected`);
    expect(field(r, "Status")).toBe("rejected");
    expect(r.reply.actions ?? []).toEqual([]);

    const next = await request("ORD-B3", "2500");
    const first = await app.run("shell:max", `refund approve ${next}`);
    expect(first.reply.title).toBe(`Refund ${next}: first approval recorded; a second manager must approve`);
    expect(field(first, "Status")).toBe("pending: 1 of 2 approvals");
    expect(first.reply.actions?.length).toBe(2);
  });
});

describe("an approval whose guarded update loses on every try", () => {
  /** Every approval update misses, as when others change the request between each read and update. */
  function loseEveryUpdate() {
    const real = app.store.refundRequests.findOneAndUpdate.bind(app.store.refundRequests);
    return vi.spyOn(app.store.refundRequests, "findOneAndUpdate").mockImplementation(((filter: never, update: { $inc?: { approvalCount?: number } }, opts: never) => {
      if (update.$inc?.approvalCount) return { lean: async () => null };
      return real(filter, update, opts);
    }) as never);
  }

  it("says the approval was not recorded, not that the request is 'already pending'", async () => {
    const id = await request("ORD-A1", "5");
    const spy = loseEveryUpdate();
    const r = await app.run("shell:sue", `refund approve ${id}`);
    // The first try and three retries, each from a fresh read.
    expect(spy.mock.calls.filter(([, u]) => (u as { $inc?: object }).$inc).length).toBe(4);
    vi.restoreAllMocks();
    expect([r.outcome, r.code]).toEqual(["user_error", "refund_busy"]);
    expect(r.reply.text).toBe(`Refund request ${id} kept changing while your approval was being recorded (others deciding it at the same moment); your approval was not recorded. See where it stands with \`refund show ${id}\`, then approve again if it still needs you.`);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
    // Approving again, with nobody in the way, goes through.
    expect((await app.run("shell:sue", `refund approve ${id}`)).outcome).toBe("ok");
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "approved", approvalCount: 1 });
  });

  it("in Chinese too", async () => {
    const id = await request("ORD-A1", "5");
    loseEveryUpdate();
    const r = await app.core.invoke({ identity: "shell:sue", platform: "shell", text: `refund approve ${id}`, locale: "zh-CN" });
    expect(r.code).toBe("refund_busy");
    expect(r.reply.text).toBe(`记录你的批准时，退款申请 ${id} 正被他人同时处理、多次变更：你的批准未被记录。请用 \`refund show ${id}\` 查看当前状态，如仍需你批准请重试。`);
  });
});
