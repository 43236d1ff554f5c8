import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { runImport } from "../src/import.js";
import type { ProductDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

// One item, three paths (chat, the ingestion API, the bulk import): the same limits and readings,
// and the import's audit entry names its records as the API's does.

let app: TestApp;
let http: RunningHttpServer;
let base: string;
let key: string;
let dir: string;

async function call(route: string, body: unknown) {
  const res = await fetch(`${base}/api/v1/${route}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}
const prod = (sku: string) => app.store.products.findById(sku).lean<ProductDoc>();
const jsonl = async (name: string, items: unknown[]) => {
  const f = path.join(dir, name);
  await writeFile(f, items.map((i) => JSON.stringify(i)).join("\n") + "\n");
  return f;
};
const imp = (kind: "inventory" | "complaints" | "refund-requests", file: string) => runImport({ kind, file, ingest: app.services.ingest, audit: { service: app.services.audit, who: "shell:tester" } });
const paidOrder = (orderNo: string) => ({ orderNo, customerId: "cust-1", status: "paid", createdAt: "2026-11-24T02:00:00Z", paidAt: "2026-11-24T03:00:00Z", items: [{ sku: "SKU-A", qty: 1, unitPrice: 10000 }] });

beforeAll(async () => {
  app = await makeTestApp();
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  base = `http://127.0.0.1:${http.port}`;
  key = (await app.services.apiKeys.create("storefront", ["orders", "products", "inventory", "complaints", "refunds"], "shell:admin")).token;
  await app.store.products.insertMany([product("SKU-A", { onHand: 500 }), product("SKU-B", { onHand: 15 }), product("SKU-C", { onHand: 30 }), product("SKU-OFF", { onHand: 20, active: false })]);
  for (const no of ["R-1", "R-2", "R-3", "R-4"]) expect((await call("orders", paidOrder(no))).status).toBe(201);
  dir = await mkdtemp(path.join(os.tmpdir(), "shopops-paths-"));
});
afterAll(async () => {
  await http.close();
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe("inventory deltas: one limit on every path", () => {
  it("a delta past ±9,999,999 is refused by the API and the import as by chat, naming the limit and the count form; nothing changes", async () => {
    const expected = "a change of at most 9,999,999 units either way (a count that found a different level is sent as a level: {sku, set})";
    for (const [delta, k] of [[10_000_000, "z1"], [-10_000_000, "z2"]] as const) {
      const r = await call("inventory", { sku: "SKU-B", delta, key: k });
      expect(r.status).toBe(400);
      expect(r.json.errors).toEqual([{ field: "delta", expected }]);
    }
    // Chat refuses the same change.
    expect((await app.run("shell:admin", "stock adjust SKU-B +10000000 reason=x")).reply.text).toMatch(/at most 9,999,999 units either way/);
    const f = await jsonl("big-delta.jsonl", [{ sku: "SKU-B", delta: 10_000_000, key: "z3" }]);
    const r = await imp("inventory", f);
    expect(r).toMatchObject({ lines: 1, failed: 1, updated: 0 });
    expect(r.failures[0]!.message).toBe(`delta: expected ${expected}`);
    expect(await prod("SKU-B")).toMatchObject({ onHand: 15, available: 15 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-B" })).toBe(0);
    // The limit itself is taken, as in chat.
    expect((await call("inventory", { sku: "SKU-B", delta: 9_999_999, key: "z4" })).json).toMatchObject({ status: 200, message: "on hand 15 → 10000014" });
  });
});

describe("refund request amounts as chat takes them", () => {
  it("全额, 全部, FULL and full-width digits are taken by the API (and the import) as by `refund request`", async () => {
    const body = (externalId: string, orderNo: string, amount: string) => ({ externalId, orderNo, amount, reason: "damaged" });
    expect((await app.run("shell:admin", "refund request R-1 全额 reason=x")).outcome).toBe("ok");
    const full = await call("refund-requests", body("b6", "R-2", "全额"));
    expect(full.status).toBe(201);
    expect(await app.store.refundRequests.findById(full.json.id).lean()).toMatchObject({ orderNo: "R-2", full: true, amount: 10000 });
    // A retry of it is the same request, not a conflict.
    expect((await call("refund-requests", body("b6", "R-2", "全额"))).json).toMatchObject({ status: 200, outcome: "unchanged" });
    expect((await call("refund-requests", body("b6", "R-2", "ｆｕｌｌ"))).json.outcome).toBe("unchanged");
    const width = await call("refund-requests", body("b7", "R-3", "１０"));
    expect(width.status).toBe(201);
    expect(await app.store.refundRequests.findById(width.json.id).lean()).toMatchObject({ amount: 1000 });
    expect((await call("refund-requests", body("b7", "R-3", "10.00"))).json.outcome).toBe("unchanged");
    // Full-width commas and point too; a zero stays refused, also full-width.
    expect((await call("refund-requests", body("b8", "R-3", "２０．５０"))).status).toBe(201);
    expect((await call("refund-requests", body("b9", "R-3", "０"))).json).toMatchObject({ status: 400, errors: [{ field: "amount", expected: 'an amount above 0, such as "25", or "full"' }] });
    const f = await jsonl("refunds-zh.jsonl", [body("b10", "R-4", "全部")]);
    expect(await imp("refund-requests", f)).toMatchObject({ imported: 1, failed: 0 });
    expect(await app.store.refundRequests.findOne({ orderNo: "R-4" }).lean()).toMatchObject({ full: true, amount: 10000 });
  });
});

describe("an import run's audit entry names its records", () => {
  it("refund requests (the request and its order) and inventory lines (the SKU): `audit subject=` finds the run", async () => {
    const f = await jsonl("refunds.jsonl", [{ externalId: "y1", orderNo: "R-3", amount: "1.00", reason: "late" }]);
    expect(await imp("refund-requests", f)).toMatchObject({ imported: 1 });
    const id = (await app.store.refundRequests.findOne({ orderNo: "R-3", amount: 100 }).lean())!._id;
    expect(await app.store.audit.findOne({ command: "import refund-requests", args: /^refunds\.jsonl/ }).lean()).toMatchObject({ subject: [id, "R-3"] });
    const inv = await jsonl("count.jsonl", [{ sku: "sku-c", delta: 2 }, { sku: "SKU-NOPE", delta: 1 }]);
    expect(await imp("inventory", inv)).toMatchObject({ updated: 1, failed: 1 });
    // Refused lines are named too, as an API batch's entry names them.
    expect((await app.store.audit.findOne({ command: "import inventory", args: /^count\.jsonl/ }).lean())!.subject?.slice().sort()).toEqual(["SKU-C", "SKU-NOPE"]);
    for (const [subject, command] of [["R-3", "import refund-requests"], ["sku-c", "import inventory"]]) {
      const r = await app.run("shell:admin", `audit subject=${subject}`);
      expect(JSON.stringify(r.reply), subject).toContain(command);
    }
  });
});

describe("a count on an inactive product", () => {
  it("is refused as a change is (409 inactive_product, saying how to reactivate it), by the API and the import; nothing is written", async () => {
    const message = 'SKU-OFF is inactive; reactivate it (send the product with "active": true to /api/v1/products or in a products import) before changing its stock';
    for (const item of [{ sku: "SKU-OFF", set: 5 }, { sku: "SKU-OFF", set: 5, key: "cnt-1" }, { sku: "SKU-OFF", set: 20, key: "cnt-2" }, { sku: "SKU-OFF", delta: -1, key: "d-1" }]) {
      expect((await call("inventory", item)).json, JSON.stringify(item)).toEqual({ status: 409, outcome: "rejected", id: "SKU-OFF", code: "inactive_product", message });
    }
    const f = await jsonl("count-off.jsonl", [{ sku: "SKU-OFF", set: 5 }]);
    const r = await imp("inventory", f);
    expect(r).toMatchObject({ failed: 1, updated: 0 });
    expect(r.failures[0]!.message).toBe(message);
    expect(await prod("SKU-OFF")).toMatchObject({ onHand: 20, available: 20 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-OFF" })).toBe(0);
    // Reactivated, the same keyed count applies (its key was given back).
    await call("products", { sku: "SKU-OFF", name: "Off", category: "Home", price: 100, active: true });
    expect((await call("inventory", { sku: "SKU-OFF", set: 5, key: "cnt-1" })).json).toMatchObject({ status: 200, message: "on hand 20 → 5" });
  });
});

describe("imported complaints without a source", () => {
  it("are stored with source `other` and 'import' in their history, not as the API's; the API's default stays `api`", async () => {
    expect((await call("complaints", { externalId: "t9", customerId: "c-9", text: "sent by the helpdesk" })).status).toBe(201);
    const f = await jsonl("complaints.jsonl", [
      { externalId: "y2", customerId: "c-1", orderNo: "R-3", text: "migrated" },
      { customerId: "c-2", text: "no id" },
      { externalId: "y3", customerId: "c-3", source: "email", text: "by mail" },
      // The ticket the API sent before: the same complaint, not a second one.
      { externalId: "t9", customerId: "c-9", text: "sent by the helpdesk" },
    ]);
    expect(await imp("complaints", f)).toMatchObject({ imported: 3, skipped: 1, failed: 0 });
    const of = (customerId: string) => app.store.complaints.findOne({ customerId }).lean();
    expect(await of("c-1")).toMatchObject({ source: "other", history: [{ action: "created", by: "import:complaints.jsonl", note: "import y2" }] });
    expect(await of("c-2")).toMatchObject({ source: "other", history: [{ note: "import" }] });
    expect(await of("c-3")).toMatchObject({ source: "email", history: [{ note: "email y3" }] });
    expect(await of("c-9")).toMatchObject({ source: "api", history: [{ note: "api t9" }] });
    expect(await app.store.complaints.countDocuments({ customerId: "c-9" })).toBe(1);
    // The card shows it as such.
    const card = await app.run("shell:admin", `complaint show ${(await of("c-1"))!._id}`);
    expect(card.reply.fields).toContainEqual(expect.objectContaining({ label: "Source", value: "other" }));
    // A re-run changes nothing.
    expect(await imp("complaints", f)).toMatchObject({ imported: 0, skipped: 4 });
  });
});
