import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellIdentity } from "../src/core/identity.js";
import { formatReport, runImport } from "../src/import.js";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

let app: TestApp;
let dir: string;

const file = async (name: string, lines: string[]) => {
  const f = path.join(dir, name);
  await writeFile(f, lines.join("\n") + "\n");
  return f;
};
const prod = (sku: string) => app.store.products.findById(sku).lean<ProductDoc>();

beforeAll(async () => {
  app = await makeTestApp();
  dir = await mkdtemp(path.join(os.tmpdir(), "shopops-import-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await app.close();
});

describe("bulk import", () => {
  it("imports products from CSV; a dry run writes nothing; a re-run changes nothing", async () => {
    const f = await file("products.csv", [
      "sku,name,category,price,cost,onHand,reorderPoint,supplier,active",
      'P-1,"Mug, large",Kitchen,1500,600,40,5,Acme,true',
      "P-2,Teapot 茶壶,Kitchen,4500,2000,12,3,,true",
      "P-3,Broken,Kitchen,not-a-price,1,1,1,,true",
      "P-4,Spoon,Kitchen,300,100,100,10,Acme,false",
    ]);
    const dry = await runImport({ kind: "products", file: f, dryRun: true, ingest: app.services.ingest });
    expect(dry).toMatchObject({ lines: 4, skipped: 3, failed: 1, imported: 0 });
    expect(dry.failures).toEqual([{ line: 4, message: expect.stringMatching(/^price: /) }]);
    expect(await app.store.products.countDocuments({})).toBe(0);

    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 4, imported: 3, updated: 0, skipped: 0, failed: 1 });
    expect(r.failures[0]!.line).toBe(4);
    expect(await prod("P-1")).toMatchObject({ name: "Mug, large", price: 1500, onHand: 40, available: 40, supplier: "Acme" });
    expect(await prod("P-4")).toMatchObject({ active: false });
    const text = formatReport(r);
    expect(text).toContain("imported: 3");
    expect(text).toContain("line 4: price:");

    const again = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(again).toMatchObject({ imported: 0, updated: 0, skipped: 3, failed: 1 });
  });

  it("a line that is not UTF-8 (a file saved as GBK) fails with its line number, nothing garbled stored", async () => {
    const f = path.join(dir, "gbk.jsonl");
    await writeFile(f, Buffer.concat([Buffer.from('{"sku":"G-1","name":"ok","category":"c","price":1}\n{"sku":"G-2","name":"'), Buffer.from([0xb1, 0xa3, 0xce, 0xc2, 0xb1, 0xad]), Buffer.from('","category":"c","price":1}\n')]));
    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 1, failed: 1 });
    expect(r.failures).toEqual([{ line: 2, message: "not valid UTF-8: save the file as UTF-8 and import it again" }]);
    expect(await prod("G-2")).toBeNull();
  });

  it("refuses a CSV header that is not plain field names, before any row (no prototype pollution)", async () => {
    const f = await file("evil.csv", ["orderNo,customerId,items,__proto__.status", "EV-1,c1,P-1:1:100,cancelled"]);
    await expect(runImport({ kind: "orders", file: f, ingest: app.services.ingest })).rejects.toThrow(/bad CSV header column "__proto__.status"/);
    const g = await file("evil2.csv", ["orderNo,customerId,items,constructor.prototype.status", "EV-2,c1,P-1:1:100,cancelled"]);
    await expect(runImport({ kind: "orders", file: g, ingest: app.services.ingest })).rejects.toThrow(/bad CSV header/);
    expect(({} as Record<string, unknown>).status).toBeUndefined();
    expect(await app.store.orders.countDocuments({ _id: { $in: ["EV-1", "EV-2"] } })).toBe(0);
  });

  it("imports inventory deltas from JSONL once, even when the file is re-run", async () => {
    const f = await file("stock.jsonl", [
      JSON.stringify({ sku: "P-1", delta: 10, reason: "PO-1" }),
      JSON.stringify({ sku: "P-1", delta: 10, reason: "PO-1" }), // the same change twice in the file: two changes
      "{bad json",
      "",
      JSON.stringify({ sku: "P-2", set: 20 }),
    ]);
    const r = await runImport({ kind: "inventory", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 4, updated: 3, failed: 1 });
    expect(r.failures[0]!.line).toBe(3);
    expect((await prod("P-1"))?.onHand).toBe(60);
    expect((await prod("P-2"))?.onHand).toBe(20);
    // Stock moves on after the import; re-running the file undoes nothing (its level line included).
    await app.services.stock.adjust({ sku: "P-2", delta: -5, reason: "sold", actor: "shell:admin", key: "after-import-1" });
    const again = await runImport({ kind: "inventory", file: f, ingest: app.services.ingest });
    expect(again).toMatchObject({ updated: 0, skipped: 3, failed: 1 });
    expect((await prod("P-1"))?.onHand).toBe(60);
    expect((await prod("P-2"))?.onHand).toBe(15);

    // The failed line fixed (and a blank line removed, so every later line moved up) and the file
    // run again: only the fixed line applies; the lines applied before are known by their text.
    const fixed = await file("stock.jsonl", [
      JSON.stringify({ sku: "P-1", delta: 10, reason: "PO-1" }),
      JSON.stringify({ sku: "P-1", delta: 10, reason: "PO-1" }),
      JSON.stringify({ sku: "P-2", delta: 4, reason: "PO-2" }),
      JSON.stringify({ sku: "P-2", set: 20 }),
    ]);
    expect(await runImport({ kind: "inventory", file: fixed, ingest: app.services.ingest })).toMatchObject({ updated: 1, skipped: 3, failed: 0 });
    expect([(await prod("P-1"))?.onHand, (await prod("P-2"))?.onHand]).toEqual([60, 19]);
    // A third copy of a line is a third change.
    const more = await file("stock.jsonl", [...Array.from({ length: 3 }, () => JSON.stringify({ sku: "P-1", delta: 10, reason: "PO-1" }))]);
    expect(await runImport({ kind: "inventory", file: more, ingest: app.services.ingest })).toMatchObject({ updated: 1, skipped: 2 });
    expect((await prod("P-1"))?.onHand).toBe(70);
    await app.services.stock.adjust({ sku: "P-1", delta: -10, reason: "back to the stock the next test starts from", actor: "shell:admin", key: "test-undo-1" });
  });

  it("imports orders from CSV with their effects once, updates on later lines applied in file order", async () => {
    const f = await file("orders.csv", [
      "orderNo,status,customerId,createdAt,paidAt,items,couponCode,shipment.carrier,shipment.trackingNo",
      "O-1,paid,c1,2026-11-20T02:00:00Z,2026-11-20T03:00:00Z,P-1:2:1500;P-2:1:4500,SPRING,,",
      "O-2,pending,c2,2026-11-21T02:00:00Z,,P-1:1:1500,,,",
      "O-1,shipped,,,,,,SF,SF1",
      "O-3,pending,c3,2026-11-21T02:00:00Z,,P-404:1:1,,,",
      "O-4,paid,c4,,,P-1:1",
    ]);
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 5, imported: 2, updated: 1, failed: 2 });
    expect(r.failures.map((x) => x.line)).toEqual([5, 6]);
    expect(r.failures[0]!.message).toMatch(/unknown SKU\(s\): P-404/);
    expect(r.failures[1]!.message).toMatch(/expected 9 columns/);
    const o1 = await app.store.orders.findById("O-1").lean<OrderDoc>();
    expect(o1).toMatchObject({ status: "shipped", couponCode: "SPRING", paidDay: "2026-11-20", shipment: { carrier: "SF", trackingNo: "SF1" } });
    // P-1: 60 on hand; O-1 shipped 2 (decremented), O-2 reserves 1.
    expect(await prod("P-1")).toMatchObject({ onHand: 58, reserved: 1, available: 57 });
    const again = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(again).toMatchObject({ imported: 0, updated: 0, skipped: 3, failed: 2 });
    expect(await prod("P-1")).toMatchObject({ onHand: 58, reserved: 1, available: 57 });
  });

  it("a large order file goes in concurrent batches, yet an order's later lines apply after its earlier ones", async () => {
    // 260 lines: batches of 100 run side by side; X-1 is created at the end of the first
    // batch and paid, shipped and delivered in the second and third.
    const lines: string[] = [];
    const line = (i: number) => JSON.stringify({ orderNo: `BULK-${i}`, status: "paid", customerId: `c${i}`, createdAt: "2026-11-22T02:00:00Z", paidAt: "2026-11-22T02:10:00Z", items: [{ sku: "P-2", qty: 1, unitPrice: 4500 }] });
    for (let i = 0; i < 99; i++) lines.push(line(i));
    lines.push(JSON.stringify({ orderNo: "X-1", status: "pending", customerId: "cx", createdAt: "2026-11-22T01:00:00Z", items: [{ sku: "P-1", qty: 3, unitPrice: 1500 }] }));
    lines.push(JSON.stringify({ orderNo: "X-1", status: "paid", paidAt: "2026-11-22T01:30:00Z" }));
    for (let i = 99; i < 200; i++) lines.push(line(i));
    lines.push(JSON.stringify({ orderNo: "X-1", status: "shipped", shipment: { carrier: "SF", trackingNo: "SF9" } }));
    for (let i = 200; i < 256; i++) lines.push(line(i));
    lines.push(JSON.stringify({ orderNo: "X-1", status: "delivered" }));
    const f = await file("bulk.jsonl", lines);
    const [p1, p2] = [await prod("P-1"), await prod("P-2")];
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 260, imported: 257, updated: 3, parked: 0, failed: 0 });
    expect(await app.store.orders.findById("X-1").lean<OrderDoc>()).toMatchObject({ status: "delivered", paidDay: "2026-11-22", shipment: { trackingNo: "SF9" } });
    // X-1 shipped 3 of P-1; the 256 paid orders reserve one P-2 each.
    expect(await prod("P-1")).toMatchObject({ onHand: p1!.onHand - 3, reserved: p1!.reserved });
    expect(await prod("P-2")).toMatchObject({ reserved: p2!.reserved + 256, available: p2!.available - 256 });
    expect((await app.store.salesDays.findById("2026-11-22|CNY").lean())?.orders).toBe(257);
  });

  it("imports complaints from JSONL with npm run import, reporting on stdout", async () => {
    const f = await file("complaints.jsonl", [
      JSON.stringify({ externalId: "ZD-1", customerId: "c1", orderNo: "O-1", severity: "urgent", text: "Wrong item" }),
      JSON.stringify({ externalId: "ZD-2", customerId: "c2", text: "" }),
    ]);
    const run = await runScript("src/import.ts", ["complaints", f], { MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai" });
    expect(run.stdout).toContain("imported: 1");
    expect(run.stdout).toMatch(/line 2: text: /);
    expect(run.stderr).toMatch(/\[#+-*\] 100\.0% 2 lines .* ETA/);
    expect(run.code).toBe(1);
    expect(await app.store.complaints.countDocuments({ severity: "urgent", createdBy: "import:complaints.jsonl" })).toBe(1);
    // The run is audited: who ran it, what, and the result (a line failed: partial).
    expect(await app.store.audit.findOne({ command: "import complaints" }).lean()).toMatchObject({
      actor: shellIdentity(),
      platform: "shell",
      outcome: "user_error",
      code: "partial",
      args: "complaints.jsonl: 2 lines; imported 1, updated 0, skipped 0, parked 0, failed 1",
      message: "lines failed: 2",
    });
  });
});
