/**
 * Fixes from the review of this session's own commits: a negative amount past 2^53 is not called
 * too large; `audit actor=` keeps two identities that differ only in case apart when the typed
 * spelling is on the trail; a demoted first approver is not told to "approve again".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseItem } from "../src/services/ingest-schemas.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  for (const [id, role] of [["shell:sam", "staff"], ["shell:max", "manager"], ["shell:mia", "manager"], ["shell:Bob", "staff"], ["shell:bob", "staff"]] as const) {
    await app.services.identity.grant(id, role, "shell:admin");
  }
  await app.store.orders.insertMany([paidOrder("ORD-R1", 1_000_000)]);
});
afterAll(() => app.close());

describe("an amount far below 0", () => {
  it("is told it must be 0 or more, once, never that it is too large", () => {
    for (const unitPrice of [-1e20, -1.5e20, -5]) {
      const r = parseItem("orders", { orderNo: "R-NEG", customerId: "c1", items: [{ sku: "S-1", qty: 1, unitPrice }] });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.errors, String(unitPrice)).toEqual([{ field: "items.0.unitPrice", expected: "an amount of 0 or more minor units (e.g. 1999 for 19.99)" }]);
    }
  });
});

describe("audit actor= with two identities that differ only in case", () => {
  it("finds the spelling typed when the trail holds it, and any case only when it holds none", async () => {
    const upper = await app.run("shell:Bob", "role grant shell:x staff"); // refused (staff), and audited
    const lower = await app.run("shell:bob", "role grant shell:x staff");
    const refs = async (actor: string) => {
      const r = await app.run("shell:admin", `audit actor=${actor}`);
      return (r.reply.table?.rows ?? []).map((row) => row[4]).sort();
    };
    expect(await refs("shell:bob")).toEqual([lower.ref]);
    expect(await refs("shell:Bob")).toEqual([upper.ref]);
    // A spelling nobody has: either may be meant, so both are shown.
    expect(await refs("SHELL:BOB")).toEqual([upper.ref, lower.ref].sort());
  });
});

describe("a first approver demoted since", () => {
  it("is not told their approval completes it, as refund approve refuses them", async () => {
    const policy = async (line: string) => expect((await app.run("shell:admin", `refund policy set ${line}`)).outcome).toBe("ok");
    await policy("support=200 manager=1000");
    const req = await app.run("shell:sam", 'refund request ORD-R1 1500 reason="damaged"');
    const id = /R-[0-9A-Z]{6}/.exec(req.reply.title ?? "")![0];
    expect((await app.run("shell:max", `refund approve ${id}`)).reply.title).toContain("first approval recorded");
    await policy("manager=2000");
    expect((await app.run("shell:admin", "role grant shell:max support")).outcome).toBe("ok");
    const enough = "pending: 1 approval, enough under the current policy; the next approval completes it";
    expect(field(await app.run("shell:max", `refund show ${id}`), "Status")).toBe(enough);
    const listed = await app.run("shell:max", "refund list pending");
    expect(new Map((listed.reply.table?.rows ?? []).map((x) => [x[0], x[3]])).get(id)).toBe(enough);
    expect((await app.run("shell:max", `refund approve ${id}`)).code).toBe("approval_limit");
  });
});
