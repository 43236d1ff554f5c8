import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translator } from "../src/core/messages.js";
import type { AuditDoc } from "../src/store/models.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

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

/** The rows (id → status column) of a `refund list …` reply. */
async function rows(r: Promise<{ reply: { table?: { rows: string[][] } } }>): Promise<Map<string, string>> {
  return new Map(((await r).reply.table?.rows ?? []).map((x) => [x[0]!, x[3]!]));
}

/** The `refund execute` entry of a request. */
const execEntry = (id: string) => app.store.audit.findById(`exec-${id}`).lean<AuditDoc>();

const ENOUGH = "pending: 1 approval, enough under the current policy; the next approval completes it";
const YOURS = "pending: your approval is enough under the current policy; approve again to complete it";

/** A request of `amount` yuan first approved by `first` (as `run` runs it) while two managers were needed, then made a one-approval request by a policy change. */
async function approvedOnceThenEnough(orderNo: string, amount: string, first: (text: string) => Promise<{ reply: { title?: string } }>): Promise<string> {
  await policy("support=200 manager=1000");
  const id = await request("shell:sam", orderNo, amount);
  expect((await first(`refund approve ${id}`)).reply.title).toContain("first approval recorded");
  await policy("manager=2000");
  return id;
}

beforeAll(async () => {
  app = await makeTestApp();
  const roles: [string, "staff" | "support" | "manager"][] = [
    ["shell:sam", "staff"],
    ["shell:sue", "support"],
    ["shell:max", "manager"],
    ["shell:mia", "manager"],
    ["slack:T01:UMGR", "manager"],
  ];
  for (const [id, role] of roles) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany(["A", "B", "C", "D", "E", "F", "G", "H"].map((x) => paidOrder(`ORD-${x}`, 1_000_000)));
});
afterAll(() => app.close());

describe("refund list approvable and the first approver's confirmation after a policy change", () => {
  it("lists the request to its first approver, marked as theirs to confirm, as refund show says it; approving again completes it", async () => {
    const id = await approvedOnceThenEnough("ORD-A", "1500", (text) => app.run("shell:max", text));
    // A two-manager request max approved stays out of his list: only another manager may give the second approval.
    const two = await request("shell:sam", "ORD-B", "2500");
    expect((await app.run("shell:max", `refund approve ${two}`)).reply.title).toContain("first approval recorded");

    const maxNow = await rows(app.run("shell:max", "refund list approvable"));
    expect(maxNow.get(id)).toBe(YOURS);
    expect(maxNow.has(two)).toBe(false);
    // The other lists and his card say it the same way; anyone else reads the card as before.
    expect((await rows(app.run("shell:max", "refund list pending"))).get(id)).toBe(YOURS);
    expect(field(await app.run("shell:max", `refund show ${id}`), "Status")).toBe(YOURS);
    expect(field(await app.run("shell:mia", `refund show ${id}`), "Status")).toBe(ENOUGH);
    expect((await rows(app.run("shell:mia", "refund list approvable"))).get(id)).toBe(ENOUGH);
    // Max at the terminal acting as mia would confirm his own approval: listed as his to confirm too.
    expect((await rows(as("shell:mia", "shell:max", "refund list approvable"))).get(id)).toBe(YOURS);
    // 1,500 is above support's limit: not sue's to approve, in the list as in refund approve.
    expect((await rows(app.run("shell:sue", "refund list approvable"))).has(id)).toBe(false);
    expect((await app.run("shell:sue", `refund approve ${id}`)).code).toBe("approval_limit");

    // His card offers him the Approve button that completes it.
    expect((await app.run("shell:max", `refund show ${id}`)).reply.actions?.map((a) => a.id)).toContain(`refund approve ${id}`);

    const done = await app.run("shell:max", `refund approve ${id}`);
    expect(done.reply.title).toBe(`Refund ${id} approved: CN¥1,500.00 refunded on ORD-A`);
    expect((await rows(app.run("shell:max", "refund list approvable"))).has(id)).toBe(false);
    // In Chinese too, a sentence of its own.
    const zh = translator("zh-CN");
    expect(zh("refund.status.pending_yours", { count: 1 })).not.toBe(zh("refund.status.pending_enough", { count: 1 }));
  });

  it("an approval given with --as is the person's at the terminal: listed to them to confirm, and to the identity acted as", async () => {
    const id = await approvedOnceThenEnough("ORD-C", "1200", (text) => as("shell:mia", "shell:max", text));
    expect((await rows(app.run("shell:max", "refund list approvable"))).get(id)).toBe(YOURS);
    expect((await rows(app.run("shell:mia", "refund list approvable"))).get(id)).toBe(YOURS);
    expect(field(await app.run("shell:max", `refund show ${id}`), "Status")).toBe(YOURS);
    // The requester never: neither in the list nor by approving.
    expect((await rows(app.run("shell:sam", "refund list approvable"))).has(id)).toBe(false);
  });
});

describe("the refund execute entry of a confirmation after a policy change", () => {
  it("names the person at the terminal who confirmed as someone else (--as), as the approve entry does", async () => {
    const id = await approvedOnceThenEnough("ORD-D", "1500", (text) => app.run("shell:max", text));
    const r = await as("shell:max", "shell:root", `refund approve ${id}`);
    expect(r.reply.title).toBe(`Refund ${id} approved: CN¥1,500.00 refunded on ORD-D`);
    const approve = await app.store.audit.findOne({ command: "refund approve", args: id, via: "shell:root" }).lean<AuditDoc>();
    expect(approve).toMatchObject({ actor: "shell:max", via: "shell:root", platform: "shell", outcome: "ok" });
    expect(await execEntry(id)).toMatchObject({ actor: "shell:max", via: "shell:root", platform: "shell", args: `${id} ORD-D 1500.00 CNY` });
  });

  it("a chat approver confirming through the shell's --as: typed on the shell, by the person at it", async () => {
    const id = await approvedOnceThenEnough("ORD-E", "1500", (text) => app.run("slack:T01:UMGR", text));
    expect((await as("slack:T01:UMGR", "shell:ops", `refund approve ${id}`)).reply.title).toContain("approved");
    expect(await execEntry(id)).toMatchObject({ actor: "slack:T01:UMGR", via: "shell:ops", platform: "shell" });
  });

  it("a first approval given with --as, confirmed by the approver themselves: no via, their own platform", async () => {
    const id = await approvedOnceThenEnough("ORD-F", "1500", (text) => as("slack:T01:UMGR", "shell:ops", text));
    expect((await app.run("slack:T01:UMGR", `refund approve ${id}`)).reply.title).toContain("approved");
    const e = await execEntry(id);
    expect(e).toMatchObject({ actor: "slack:T01:UMGR", platform: "slack" });
    expect(e).not.toHaveProperty("via");
  });
});

describe("refund show offers the Approve button to whom refund approve takes it from", () => {
  it("leaves it out, saying why as refund approve would, for the requester, beyond the role, the first of two managers and staff", async () => {
    await policy("support=200 manager=2000");
    const own = await request("shell:mia", "ORD-H", "100");
    const big = await request("shell:sam", "ORD-H", "2500");
    expect((await app.run("shell:max", `refund approve ${big}`)).reply.title).toContain("first approval recorded");
    const buttons = async (who: string, id: string) => {
      const r = await app.run(who, `refund show ${id}`);
      return { ids: (r.reply.actions ?? []).map((a) => a.id.split(" ").slice(0, 2).join(" ")), context: r.reply.context ?? [] };
    };
    // Whatever the card says, refund approve and the approvable list agree with it, for each reader.
    const cases: [who: string, id: string, why: string | null][] = [
      ["shell:mia", own, `You requested ${own}: nobody approves their own refund request. Ask another approver.`],
      ["shell:max", own, null],
      ["shell:sue", own, null],
      ["shell:sue", big, `${big} is for CN¥2,500.00, above CN¥2,000.00: two different managers must approve it; a support cannot.`],
      ["shell:max", big, `You already approved ${big}; a second, different manager must approve it.`],
      ["shell:mia", big, null],
    ];
    for (const [who, id, why] of cases) {
      const shown = await buttons(who, id);
      const listed = (await rows(app.run(who, "refund list approvable"))).has(id);
      if (why === null) {
        expect(shown, `${who} ${id}`).toEqual({ ids: ["refund approve", "refund reject"], context: [] });
        expect(listed, `${who} ${id}`).toBe(true);
      } else {
        expect(shown, `${who} ${id}`).toEqual({ ids: ["refund reject"], context: [why] });
        expect(listed, `${who} ${id}`).toBe(false);
        // The same words as refund approve itself, which changes nothing.
        const tried = await app.run(who, `refund approve ${id}`);
        expect(tried.reply.text, `${who} ${id}`).toContain(why);
      }
    }
    // Staff may neither approve nor reject: no buttons, and why (see e16-refund-fixes).
    expect(await buttons("shell:sam", own)).toEqual({ ids: [], context: ["`refund approve` and `refund reject` need the support role; you are staff. Ask an admin (`role grant`) if you need them."] });
    expect((await app.run("shell:sam", `refund approve ${own}`)).reply.text).toContain("`refund approve` needs the support role; you are staff.");
    expect(await app.store.refundRequests.findById(own).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
    expect(await app.store.refundRequests.findById(big).lean()).toMatchObject({ status: "pending", approvalCount: 1 });
  });
});

describe("a pending request past its deadline, not yet marked expired", () => {
  it("its card asks for no approval, as refund approve and the approvable list refuse it", async () => {
    await policy("support=200 manager=2000 expiry=48h");
    const id = await request("shell:sam", "ORD-G", "50");
    app.clock.advance(49 * 3_600_000);
    try {
      const shown = await app.run("shell:sue", `refund show ${id}`);
      expect(field(shown, "Status")).toBe("expired");
      expect(field(shown, "Approval needed")).toBeUndefined();
      expect(field(shown, "Expires")).toBeUndefined();
      expect(shown.reply.actions).toBeUndefined();
      expect((await rows(app.run("shell:sue", "refund list approvable"))).has(id)).toBe(false);
      expect((await app.run("shell:sue", `refund approve ${id}`)).code).toBe("refund_expired");
    } finally {
      app.clock.advance(-49 * 3_600_000);
    }
  });
});
