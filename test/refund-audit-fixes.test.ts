import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runImport } from "../src/import.js";
import type { AuditDoc } from "../src/store/models.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;
let dir: string;

/** The request id in a created card's title. */
function idOf(r: { reply: { title?: string; text?: string } }): string {
  const m = /R-[0-9A-Z]{6}/.exec(r.reply.title ?? "");
  if (!m) throw new Error(`no request id in ${JSON.stringify(r.reply)}`);
  return m[0];
}

/** Runs a line as `identity` typed by `via` at the terminal (the shell's --as). */
const as = (identity: string, via: string, text: string) => app.core.invoke({ identity, via, platform: "shell", text });

/** The `refund execute` entry of a request. */
const execEntry = (id: string) => app.store.audit.findById(`exec-${id}`).lean<AuditDoc>();

beforeAll(async () => {
  app = await makeTestApp();
  dir = await mkdtemp(path.join(os.tmpdir(), "refaudit-"));
  const roles: [string, "staff" | "support" | "manager"][] = [
    ["shell:sam", "staff"],
    ["shell:sue", "support"],
    ["shell:imp", "manager"],
    ["shell:max", "manager"],
    ["slack:T01:U01", "support"],
  ];
  for (const [id, role] of roles) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany(["ORD-IMP1", "ORD-EX1", "ORD-EX2", "ORD-EX3", "ORD-105652"].map((no) => paidOrder(no, 10_000)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await app.close();
});

describe("a refund request filed through the bulk import is the importer's own", () => {
  it("the person who imported it may not approve it, nor see it as approvable; another approver may", async () => {
    const f = path.join(dir, "rr.csv");
    await writeFile(f, "externalId,orderNo,amount,reason\naudit-test-1,ORD-IMP1,5.00,customer asked\n");
    const audit = { service: app.services.audit, who: "shell:imp", store: app.store };
    expect(await runImport({ kind: "refund-requests", file: f, ingest: app.services.ingest, audit })).toMatchObject({ imported: 1, failed: 0 });
    const req = await app.store.refundRequests.findOne({ orderNo: "ORD-IMP1" }).lean();
    expect(req).toMatchObject({ requester: "import:rr.csv", requestedVia: "shell:imp", status: "pending", amount: 500 });
    const id = req!._id;

    // As in chat: nobody approves their own refund request.
    const own = await app.run("shell:imp", `refund approve ${id}`);
    expect([own.outcome, own.code, own.reply.text]).toEqual(["denied", "self_approval", `You requested ${id}: nobody approves their own refund request. Ask another approver.`]);
    // Acting as someone else at the same terminal changes nothing.
    const viaAs = await as("shell:max", "shell:imp", `refund approve ${id}`);
    expect([viaAs.outcome, viaAs.code]).toEqual(["denied", "self_approval"]);
    expect((await app.run("shell:imp", "refund list approvable")).reply.table?.rows.map((r) => r[0]) ?? []).not.toContain(id);
    // Theirs to follow, though: `refund list mine` lists what they imported.
    expect((await app.run("shell:imp", "refund list mine")).reply.table?.rows.map((r) => r[0])).toContain(id);
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "pending", approvalCount: 0 });
    expect((await app.store.orders.findById("ORD-IMP1").lean())!.refundedTotal ?? 0).toBe(0);

    // Someone else approves it as any request.
    expect((await app.run("shell:max", "refund list approvable")).reply.table?.rows.map((r) => r[0])).toContain(id);
    const ok = await app.run("shell:max", `refund approve ${id}`);
    expect(ok.reply.title).toBe(`Refund ${id} approved: CN¥5.00 refunded on ORD-IMP1`);

    // Without a person behind it (the API's path: a key is the requester), nothing is recorded beside the requester.
    const api = await app.services.ingest.apply("refund-requests", { externalId: "api-1", orderNo: "ORD-IMP1", amount: "1.00", reason: "x" }, "api:shop#k1");
    expect(api).toMatchObject({ outcome: "created" });
    expect(await app.store.refundRequests.findById(api.id).lean()).not.toHaveProperty("requestedVia");
  });
});

describe("the refund execute audit entry", () => {
  it("gives the amount in major units with the currency", async () => {
    const r = await app.run("shell:sam", 'refund request ORD-EX1 5.00 reason="damaged"');
    const id = idOf(r);
    expect((await app.run("shell:sue", `refund approve ${id}`)).outcome).toBe("ok");
    const e = await execEntry(id);
    expect(e).toMatchObject({ actor: "shell:sue", platform: "shell", command: "refund execute", args: `${id} ORD-EX1 5.00 CNY` });
    expect(e).not.toHaveProperty("via");
    // As the audit command shows it.
    const shown = (await app.run("shell:admin", `audit subject=${id} command="refund execute"`)).reply.table!.rows;
    expect(shown.map((x) => x[2])).toEqual([`refund execute ${id} ORD-EX1 5.00 CNY`]);
  });

  it("names the person at the terminal who approved as someone else (--as), as the approval's entry does", async () => {
    const id = idOf(await app.run("shell:sam", 'refund request ORD-EX2 2.50 reason="damaged"'));
    expect((await as("shell:sue", "shell:root", `refund approve ${id}`)).outcome).toBe("ok");
    expect(await execEntry(id)).toMatchObject({ actor: "shell:sue", via: "shell:root", platform: "shell", args: `${id} ORD-EX2 2.50 CNY` });
    // `audit actor=` finds what the person at the terminal did that way: the approval and its execution.
    const rows = (await app.run("shell:admin", "audit actor=shell:root")).reply.table!.rows;
    expect(rows.filter((x) => x[2]!.includes(id)).map((x) => [x[1], x[2]!.split(" ").slice(0, 2).join(" ")])).toEqual([
      ["shell:sue (via shell:root)", "refund execute"],
      ["shell:sue (via shell:root)", "refund approve"],
    ]);
  });

  it("a chat identity approving through the shell's --as: the execution was typed on the shell, as the approval", async () => {
    const id = idOf(await app.run("shell:sam", 'refund request ORD-EX3 1.00 reason="damaged"'));
    expect((await as("slack:T01:U01", "shell:ops", `refund approve ${id}`)).outcome).toBe("ok");
    const approve = await app.store.audit.findOne({ command: "refund approve", args: id }).lean<AuditDoc>();
    expect(approve).toMatchObject({ actor: "slack:T01:U01", via: "shell:ops", platform: "shell" });
    expect(await execEntry(id)).toMatchObject({ actor: "slack:T01:U01", via: "shell:ops", platform: "shell" });
  });
});

describe("refund request reads order numbers as `order` does", () => {
  it("full-width characters and an invisible character pasted with the number are ignored", async () => {
    const wide = await app.run("shell:sam", "refund request ＯＲＤ－１０５６５２ 1.00 reason=x");
    expect(wide.outcome, wide.reply.text).toBe("ok");
    const zw = await app.run("shell:sam", "refund request ORD-105652\u200B 1.00 reason=x");
    expect(zw.outcome, zw.reply.text).toBe("ok");
    expect((await app.store.refundRequests.find({ orderNo: "ORD-105652" }).lean()).map((r) => r._id).sort()).toEqual([idOf(wide), idOf(zw)].sort());
    // Something that is no order number is refused as `order` refuses it, nothing made.
    const bad = await app.run("shell:sam", "refund request ORD/1 1.00 reason=x");
    expect([bad.outcome, bad.code, bad.reply.text]).toEqual(["user_error", "invalid_args", expect.stringContaining('"ORD/1" is not an order number. Use e.g. ORD-100001.')]);
    expect(await app.store.refundRequests.countDocuments({ orderNo: /\// })).toBe(0);
  });
});
