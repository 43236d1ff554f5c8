/**
 * Refunds, a hands-on pass as support staff and a manager (e20): an order number (or a request id
 * without its R-) typed where a request's id goes is answered with that order's requests and the
 * line to type, not "no such request"; a reason typed without `reason=` is said to be that, with
 * the line written right, not as extra arguments; Discord suggests for `/refund approve` and
 * `/refund reject` only the requests awaiting a decision.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
afterEach(() => app?.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const idOf = (title: string | undefined) => /R-[0-9A-Z]{6}/.exec(title ?? "")![0];

/** A fresh app (CNY, Asia/Shanghai) with staff, support and two managers, and orders of ¥300 and ¥100. */
async function fresh(): Promise<TestApp> {
  app = await withCast(makeTestApp(), USUAL_CAST);
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000), paidOrder("ORD-2", 10_000)]);
  return app;
}

describe("an order number typed where a refund request's id goes", () => {
  it("refund approve / reject ORD-1 name the order's requests awaiting a decision and the line to type (en, zh); nothing changes", async () => {
    await fresh();
    const a = idOf((await app.run("shell:sam", "refund request ORD-1 20 reason=dented")).reply.title);
    app.clock.set(new Date("2026-11-25T05:00:00Z"));
    const b = idOf((await app.run("shell:sam", "refund request ORD-1 30 reason=scratched")).reply.title);
    expect((await app.run("shell:sue", `refund reject ${a} reason="no photo"`)).outcome).toBe("ok");
    const r = await app.run("shell:sue", "refund approve ord-1");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "unknown_refund",
      `ORD-1 is an order number, not a refund request id (R-…). Awaiting a decision on it: ${b} (CN¥30.00, pending). Give the request's id: \`refund approve ${b}\`.`,
    ]);
    expect((await app.run("shell:sue", "refund reject ORD-1 reason=dup")).reply.text).toContain(`Give the request's id: \`refund reject ${b} reason=<reason>\`.`);
    expect((await zh("shell:sue", "refund reject ORD-1 reason=重复")).reply.text).toBe(
      `ORD-1 是订单号，不是退款申请编号（R-…）。该订单待审批的退款申请：${b}（¥30.00，待审批）。请填写申请编号：\`refund reject ${b} reason=<原因>\`。`,
    );
    // Nothing was approved or rejected; the refusals are on the order's trail.
    expect((await app.services.refund.get(b))!.status).toBe("pending");
    expect(await app.store.audit.countDocuments({ command: { $in: ["refund approve", "refund reject"] }, subject: "ORD-1", outcome: "user_error" })).toBe(3);
    // None awaiting: said so, with what it has; an order without requests says how to ask one.
    expect((await app.run("shell:sue", `refund approve ${b}`)).outcome).toBe("ok");
    expect((await app.run("shell:sue", "refund approve ORD-1")).reply.text).toBe(
      `ORD-1 is an order number, not a refund request id (R-…), and none of its refund requests awaits a decision: ${b} (CN¥30.00, approved and refunded), ${a} (CN¥20.00, rejected). \`refund show <id>\` shows one.`,
    );
    expect((await zh("shell:mia", "refund approve ORD-2")).reply.text).toBe("ORD-2 是订单号，不是退款申请编号（R-…），且该订单没有退款申请。`refund request ORD-2 <金额|全额> reason=<原因>` 可提交申请。");
    // An id that is neither: as before.
    expect((await app.run("shell:sue", "refund approve R-NOSUCH")).reply.text).toBe('No refund request "R-NOSUCH". See `refund list`.');
  });

  it("refund show ORD-1 lists its requests newest first with the line to show one; a request id typed without its R- is found", async () => {
    await fresh();
    const a = idOf((await app.run("shell:sam", "refund request ORD-1 20 reason=dented")).reply.title);
    app.clock.set(new Date("2026-11-25T05:00:00Z"));
    const b = idOf((await app.run("shell:sam", "refund request ORD-1 30 reason=scratched")).reply.title);
    expect((await app.run("shell:sam", "refund show ORD-1")).reply.text).toBe(
      `ORD-1 is an order number, not a refund request id (R-…). Refund requests on it, newest first: ${b} (CN¥30.00, pending), ${a} (CN¥20.00, pending). Give the request's id: \`refund show ${b}\`.`,
    );
    // The id as the card prints it, without its R- (as complaint ids are taken without C-), in any case.
    const shown = await app.run("shell:sam", `refund show ${a.slice(2).toLowerCase()}`);
    expect([shown.outcome, shown.reply.title]).toEqual(["ok", `Refund request ${a}`]);
    const approved = await app.run("shell:sue", `refund approve ${a.slice(2)}`);
    expect([approved.outcome, approved.reply.title]).toEqual(["ok", `Refund ${a} approved: CN¥20.00 refunded on ORD-1`]);
  });
});

describe("a reason typed without reason=", () => {
  it("refund request and refund reject say the words are the reason left without its name, with the line to type (en, zh); nothing is asked or rejected", async () => {
    await fresh();
    const r = await app.run("shell:sam", "refund request ord-1 ¥12.5 box arrived crushed");
    expect([r.code, r.reply.text]).toEqual([
      "invalid_args",
      'Invalid arguments for `refund request`:\n• "box arrived crushed" was typed without reason= before it, and reason= is missing. Write it as `refund request ord-1 ¥12.5 reason="box arrived crushed"`',
    ]);
    const z = await zh("shell:sam", "refund request ORD-1 12.50元 到货破损");
    expect(z.reply.text).toBe("`refund request` 的参数无效：\n• \"到货破损\" 前缺少 reason=，而 reason= 是必填项。应写成 `refund request ORD-1 12.50元 reason=到货破损`");
    expect(await app.store.refundRequests.countDocuments({})).toBe(0);
    const id = idOf((await app.run("shell:sam", "refund request ORD-1 20 reason=dented")).reply.title);
    const j = await app.run("shell:sue", `refund reject ${id} customer changed mind`);
    expect(j.reply.text).toBe(`Invalid arguments for \`refund reject\`:\n• "customer changed mind" was typed without reason= before it, and reason= is missing. Write it as \`refund reject ${id} reason="customer changed mind"\``);
    expect((await app.services.refund.get(id))!.status).toBe("pending");
    // The line as written runs.
    expect((await app.run("shell:sue", `refund reject ${id} reason="customer changed mind"`)).outcome).toBe("ok");
    // Other words that are no such value stay extra arguments: a second id to approve.
    expect((await app.run("shell:sue", `refund approve ${id} R-OTHER1`)).reply.text).toContain('unexpected extra argument "R-OTHER1"');
  });
});

describe("Discord: the id suggestions of /refund approve and /refund reject", () => {
  const leads = discordRole("Leads", "manager");
  const mia = leads.member("Mia");
  let h: DiscordHarness;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    h = await discordHarness({
      role: leads,
      start: true,
      seed: async (a) => {
        await a.services.identity.grant("shell:sue", "support", "shell:admin");
        await a.store.orders.insertMany([paidOrder("ORD-7", 100_000)]);
        for (const name of ["approved", "rejected", "pending"]) {
          const r = await a.services.refund.request({ orderNo: "ORD-7", amount: "10", reason: name, requester: "shell:sam" });
          ids[name] = r.kind === "created" ? r.request._id : "";
        }
        await a.services.refund.approve({ id: ids.approved!, actor: "shell:sue", role: "support" });
        await a.services.refund.reject({ id: ids.rejected!, actor: "shell:sue", reason: "no photo" });
      },
    });
  });
  afterAll(() => h?.stop());

  it("offer only the request awaiting a decision, by id or by its order; /refund show offers all three", async () => {
    const offered = async (command: string, typed: string) => (await h.peer.callback(h.peer.autocomplete(mia, command, { id: typed }, "id").id)).body.data.choices;
    const pending = [{ name: `${ids.pending} · ORD-7`, value: ids.pending }];
    expect(await offered("refund approve", "")).toEqual(pending);
    expect(await offered("refund approve", "ord-7")).toEqual(pending);
    expect(await offered("refund reject", "R-")).toEqual(pending);
    expect((await offered("refund show", "ord-7")).map((c: { value: string }) => c.value).sort()).toEqual(Object.values(ids).sort());
  });
});
