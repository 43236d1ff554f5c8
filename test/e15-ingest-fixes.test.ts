import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { runImport } from "../src/import.js";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

// A shop engineer wiring a storefront, a helpdesk and a warehouse to the API and the import
// (issue #8): what they send, and what each answer tells them.

let app: TestApp;
let http: RunningHttpServer;
let base: string;
let key: string;
let dir: string;

async function post(p: string, body: unknown) {
  const res = await fetch(base + p, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}
const prod = (sku: string) => app.store.products.findById(sku).lean<ProductDoc>();
const order = (no: string) => app.store.orders.findById(no).lean<OrderDoc>();

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  base = `http://127.0.0.1:${http.port}`;
  key = (await app.services.apiKeys.create("storefront", ["orders", "products", "inventory", "complaints", "refunds"], "shell:admin")).token;
  await app.store.products.insertMany(["SKU-1", "SKU-2"].map((s) => product(s, { onHand: 100 })));
  dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e15-"));
});
afterAll(async () => {
  await http.close();
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the ingestion API, as a storefront sends it", () => {
  it("a query parameter (?dry_run=1) is refused naming it, nothing applied, instead of being ignored and the body applied for real", async () => {
    const r = await fetch(`${base}/api/v1/inventory?dry_run=1`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ sku: "SKU-2", delta: -5, key: "e15-q1" }),
    });
    const json = (await r.json()) as Record<string, unknown>;
    expect(r.status).toBe(400);
    expect(json).toMatchObject({ code: "invalid", errors: [{ field: "?dry_run", expected: "no query parameters" }] });
    expect(json.message).toMatch(/^unknown query parameter dry_run: \/api\/v1\/inventory takes none/);
    expect((await prod("SKU-2"))?.onHand).toBe(100);
    expect(await app.store.ledger.exists({ _id: "e15-q1" })).toBeNull();
    // On the key's audit trail as bad input.
    const entry = await app.store.audit.findOne({ command: "api inventory", code: "invalid" }).lean();
    expect(entry?.outcome).toBe("user_error");
    // A bare "?" carries no parameter: the request applies.
    const ok = await fetch(`${base}/api/v1/inventory?`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ sku: "SKU-2", delta: -5, key: "e15-q1" }) });
    expect(ok.status).toBe(200);
    expect((await prod("SKU-2"))?.onHand).toBe(95);
  });

  it("a time with its offset written +0800 (PHP's and Java's ISO 8601) is taken; one with no zone, or a Unix time, is told what is missing", async () => {
    const r = await post("/api/v1/orders", { orderNo: "E15-T1", customerId: "c1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1999 }], createdAt: "2026-11-24T10:00:00+0800", status: "paid", paidAt: "2026-11-24T10:05:00.250-0530" });
    expect([r.status, r.json.outcome]).toEqual([201, "created"]);
    const o = await order("E15-T1");
    expect(o?.createdAt.toISOString()).toBe("2026-11-24T02:00:00.000Z");
    expect(o?.paidAt?.toISOString()).toBe("2026-11-24T15:35:00.250Z");

    const bad = await post("/api/v1/orders", { orderNo: "E15-T2", customerId: "c1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1999 }], createdAt: "2026-11-24 10:00:00", paidAt: 1764000000 });
    expect(bad.status).toBe(400);
    const expected = Object.fromEntries((bad.json.errors as { field: string; expected: string }[]).map((e) => [e.field, e.expected]));
    expect(expected.createdAt).toMatch(/with its time zone \(Z or an offset\): "2026-11-24 10:00:00" names none/);
    expect(expected.paidAt).toMatch(/a number such as a Unix time is not taken/);
    expect(await order("E15-T2")).toBeNull();
  });

  it("a number sent as text is told so and how to send it, not just \"expected a number\"", async () => {
    const r = await post("/api/v1/orders", { orderNo: "E15-N1", customerId: "c1", items: [{ sku: "SKU-1", qty: "2", unitPrice: "1999" }] });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([
      { field: "items.0.qty", expected: 'a number; got the text "2": send it as a JSON number, without quotes' },
      { field: "items.0.unitPrice", expected: 'a whole number of minor units (e.g. 1999 for 19.99); got the text "1999": send it as a JSON number, without quotes' },
    ]);
    const d = await post("/api/v1/inventory", { sku: "SKU-1", delta: "5", key: "e15-n1" });
    expect(d.json.message).toBe('delta: expected a non-zero whole number such as 5 or -2; got the text "5": send it as a JSON number, without quotes');
    expect(await order("E15-N1")).toBeNull();
  });

  it("a keyed stock change retried with the same key and another reason says that reason is not recorded, and which is, rather than a plain \"already applied\"", async () => {
    expect((await post("/api/v1/inventory", { sku: "SKU-1", delta: 5, key: "e15-po-1", reason: "PO 1" })).status).toBe(200);
    // Another delta under the key: refused, naming the change it holds (as before).
    expect((await post("/api/v1/inventory", { sku: "SKU-1", delta: 7, key: "e15-po-1", reason: "PO 1" })).json).toMatchObject({ status: 409, code: "key_conflict", message: "key e15-po-1 was used for another change (SKU-1 +5)" });
    // The same body, or one leaving the reason out: unchanged, as before.
    for (const body of [{ reason: "PO 1" }, {}]) {
      expect((await post("/api/v1/inventory", { sku: "SKU-1", delta: 5, key: "e15-po-1", ...body })).json).toEqual({ status: 200, outcome: "unchanged", id: "SKU-1", message: "key e15-po-1 already applied" });
    }
    const r = await post("/api/v1/inventory", { sku: "SKU-1", delta: 5, key: "e15-po-1", reason: "PO 2" });
    expect(r.json).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["reason"] });
    expect(r.json.message).toBe('key e15-po-1 already applied, with reason "PO 1": not changed: reason (this retry gives "PO 2"; a key names one change, kept as first recorded; another change takes another key)');
    // A keyed count likewise.
    expect((await post("/api/v1/inventory", { sku: "SKU-1", set: 80, key: "e15-count-1", reason: "count A" })).status).toBe(200);
    const c = await post("/api/v1/inventory", { sku: "SKU-1", set: 80, key: "e15-count-1", reason: "count B" });
    expect(c.json).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["reason"] });
    expect(c.json.message).toMatch(/^key e15-count-1 already applied, with reason "count A": not changed: reason/);
    expect((await prod("SKU-1"))?.onHand).toBe(80);
    expect((await app.store.ledger.findById("e15-po-1").lean())?.reason).toBe("PO 1");
  });

  it("a cancellation after shipment says what the order can become instead", async () => {
    await post("/api/v1/orders", { orderNo: "E15-S1", customerId: "c1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1999 }], createdAt: "2026-11-24T01:00:00Z", status: "shipped" });
    const r = await post("/api/v1/orders", { orderNo: "E15-S1", status: "cancelled" });
    expect(r.status).toBe(409);
    expect(r.json.message).toBe("order E15-S1 is shipped; it cannot become cancelled (from shipped it can become delivered or refunded; to take back a shipped order, send status refunded with its refundedAt)");
    const c = await post("/api/v1/orders", { orderNo: "E15-S1", status: "refunded", refundedAt: "2026-11-24T03:00:00Z" });
    expect(c.status).toBe(200);
    const again = await post("/api/v1/orders", { orderNo: "E15-S1", status: "delivered" });
    expect(again.json.message).toMatch(/refunded is final/);
  });
});

describe("the bulk import, as a shop's export gives it", () => {
  const noDb = { MONGODB_URI: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300" };

  it("a .csv file holding JSON lines, and a .jsonl file holding CSV, are said to be so (exit 64, before any database), not failed line by line", async () => {
    const csv = path.join(dir, "catalogue.csv");
    await writeFile(csv, '{"sku":"E15-P1","name":"Mug","category":"kitchen","price":1999}\n');
    const a = await runScript("src/import.ts", ["products", csv], noDb);
    expect([a.code, a.stderr.split("\n")[0]]).toEqual([64, `import: ${csv}: line 1 is JSON, not a CSV header (the field names): a file of JSON lines is imported as .jsonl (rename it catalogue.jsonl); nothing was imported.`]);
    const jsonl = path.join(dir, "stock.jsonl");
    await writeFile(jsonl, "\uFEFFsku,delta,key\r\nSKU-1,5,k1\r\n");
    const b = await runScript("src/import.ts", ["inventory", jsonl], noDb);
    expect([b.code, b.stderr.split("\n")[0]]).toEqual([64, `import: ${jsonl}: line 1 reads as a CSV header (sku,delta,key), not a JSON object: a .jsonl file holds one JSON object per line. Is it a CSV file? Import it as .csv (rename it stock.csv); nothing was imported.`]);
    // A run given such a file (no command line) refuses it the same way, nothing applied.
    await expect(runImport({ kind: "products", file: csv, ingest: app.services.ingest })).rejects.toThrow("line 1 is JSON, not a CSV header");
    expect(await prod("E15-P1")).toBeNull();
  });

  it("a CSV export with +0800 offsets (CRLF, BOM) imports, and a re-run changes nothing", async () => {
    const f = path.join(dir, "orders.csv");
    await writeFile(f, "\uFEFForderNo,customerId,items,status,createdAt,paidAt\r\nE15-I1,c9,SKU-2:1:500,paid,2026-11-24T09:00:00+0800,2026-11-24T09:10:00+0800\r\n");
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 1, imported: 1, failed: 0 });
    expect((await order("E15-I1"))?.paidAt?.toISOString()).toBe("2026-11-24T01:10:00.000Z");
    expect(await runImport({ kind: "orders", file: f, ingest: app.services.ingest })).toMatchObject({ imported: 0, skipped: 1, failed: 0 });
  });
});
