import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellIdentity } from "../src/core/identity.js";
import { formatReport, runImport } from "../src/import.js";
import type { IngestService } from "../src/services/ingest.service.js";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
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
    // The same catalogue after stock moved: its onHand is left as stored, said, and no line "not applied".
    await app.store.products.updateOne({ _id: "P-1" }, { $inc: { onHand: -3, available: -3 } });
    const later = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(later).toMatchObject({ skipped: 3, failed: 1, differs: 0, stockKept: 1 });
    expect(formatReport(later)).toContain("onHand left as stored on existing products: 1");
    expect((await prod("P-1"))?.onHand).toBe(37);
    await app.store.products.updateOne({ _id: "P-1" }, { $inc: { onHand: 3, available: 3 } });
  });

  it("a line that is not UTF-8 (a file saved as GBK) fails with its line number, nothing garbled stored", async () => {
    const f = path.join(dir, "gbk.jsonl");
    await writeFile(f, Buffer.concat([Buffer.from('{"sku":"G-1","name":"ok","category":"c","price":1}\n{"sku":"G-2","name":"'), Buffer.from([0xb1, 0xa3, 0xce, 0xc2, 0xb1, 0xad]), Buffer.from('","category":"c","price":1}\n')]));
    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 1, failed: 1 });
    expect(r.failures).toEqual([{ line: 2, message: "not valid UTF-8: save the file as UTF-8 and import it again" }]);
    expect(await prod("G-2")).toBeNull();
  });

  it("a JSONL line giving a field twice fails with its line number, as the API refuses it (JSON.parse would keep the last unsaid)", async () => {
    const f = await file("twice.jsonl", ['{"sku":"D-1","name":"Mug","category":"c","price":1}', '{"sku":"D-2","name":"Cup","category":"c","price":1,"price":9}']);
    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 1, failed: 1 });
    expect(r.failures).toEqual([{ line: 2, message: "field price is given more than once: give each field once" }]);
    expect(await prod("D-2")).toBeNull();
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

  it("a CSV cell broken over lines is one record (as spreadsheets write it), its continuation never read as a record; a SKU holding ':' in items is read from the right", async () => {
    const broken = await file("broken.csv", ["customerId,text", 'cu1,"Broken item.', 'Please refund, thanks"', "cu2,one line"]);
    const r = await runImport({ kind: "complaints", file: broken, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 2, failed: 0 });
    expect(await app.store.complaints.countDocuments({ customerId: "cu1", text: "Broken item.\nPlease refund, thanks" })).toBe(1);
    expect(await app.store.complaints.countDocuments({ customerId: "Please refund" })).toBe(0);
    await app.services.ingest.apply("products", { sku: "AB:12", name: "Colon", category: "c", price: 500, onHand: 5 }, "api:test");
    const colon = await file("colon.csv", ["orderNo,customerId,createdAt,items", "O-COLON,c1,2026-11-20T02:00:00Z,AB:12:1:500"]);
    expect(await runImport({ kind: "orders", file: colon, ingest: app.services.ingest })).toMatchObject({ imported: 1, failed: 0 });
    expect((await app.store.orders.findById("O-COLON").lean<OrderDoc>())!.items).toEqual([{ sku: "AB:12", qty: 1, unitPrice: 500 }]);
    // A database that cannot be reached is a configuration problem said plainly (78), not a stack trace.
    const down = await runScript("src/import.ts", ["complaints", broken, "--dry-run"], { MONGODB_URI: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300" });
    expect(down.code).toBe(78);
    expect(down.stderr).toContain("MONGODB_URI: cannot use");
    expect(down.stderr).not.toMatch(/\n\s+at /);
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
    // On a shop's database the person at the terminal needs a role for it (an admin here).
    const run = await runScript("src/import.ts", ["complaints", f], { MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", SHOPOPS_ADMINS: shellIdentity() });
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

describe("bulk import: stopping, edited lines, odd files", () => {
  /** The app's ingest service, calling `before(call number)` before each item or batch is applied. */
  const watched = (before: (calls: number) => void): IngestService => {
    let calls = 0;
    const real = app.services.ingest;
    return {
      apply: (...a: Parameters<IngestService["apply"]>) => (before(++calls), real.apply(...a)),
      applyMany: (...a: Parameters<IngestService["applyMany"]>) => (before(++calls), real.applyMany(...a)),
    } as unknown as IngestService;
  };
  const productLine = (sku: string) => JSON.stringify({ sku, name: `Thing ${sku}`, category: "Stop", price: 100, onHand: 5 });

  it("stopped (Ctrl-C): the lines in progress finish, the report and the audit say after which line, and a re-run finishes the file", async () => {
    const f = await file("stop.jsonl", Array.from({ length: 60 }, (_, i) => productLine(`STOP-${i + 1}`)));
    const stop = new AbortController();
    const r = await runImport({ kind: "products", file: f, ingest: watched((n) => n === 5 && stop.abort("SIGINT")), signal: stop.signal, audit: { service: app.services.audit, who: "shell:tester" } });
    const after = r.interrupted?.afterLine ?? 0;
    expect(r.interrupted).toEqual({ afterLine: after, by: "SIGINT" });
    // Every line up to it is done, none after it was read.
    expect(after).toBeGreaterThanOrEqual(5);
    expect(after).toBeLessThan(60);
    expect(r).toMatchObject({ lines: after, imported: after, failed: 0 });
    expect(await app.store.products.countDocuments({ category: "Stop" })).toBe(after);
    expect(await prod(`STOP-${after}`)).not.toBeNull();
    expect(await prod(`STOP-${after + 1}`)).toBeNull();
    const text = formatReport(r);
    expect(text).toContain(`, stopped by SIGINT after line ${after}: ${after} items`);
    expect(text).toContain(`Stopped after line ${after}: every line up to it is done, no later line was read. To finish, run the same command again: the lines already done are skipped.`);
    expect(await app.store.audit.findOne({ command: "import products", actor: "shell:tester" }).lean()).toMatchObject({
      outcome: "error",
      code: "interrupted",
      args: `stop.jsonl: ${after} lines; imported ${after}, updated 0, skipped 0, parked 0, failed 0 (interrupted after line ${after})`,
      message: expect.stringMatching(new RegExp(`^interrupted by SIGINT after line ${after}; `)),
    });
    const again = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(again).toMatchObject({ imported: 60 - after, skipped: after, failed: 0 });
    expect(again.interrupted).toBeUndefined();
  });

  it("stopped during an order import: the batch being filled is applied too, nothing after the last line read", async () => {
    const order = (i: number) => JSON.stringify({ orderNo: `STOPO-${i}`, status: "pending", customerId: "c1", createdAt: "2026-11-23T02:00:00Z", items: [{ sku: "P-4", qty: 1, unitPrice: 300 }] });
    const f = await file("stop-orders.jsonl", Array.from({ length: 150 }, (_, i) => order(i + 1)));
    const stop = new AbortController();
    // The first batch (lines 1-100) starts: the reader stops before line 101.
    const r = await runImport({ kind: "orders", file: f, ingest: watched(() => stop.abort("SIGTERM")), signal: stop.signal });
    expect(r).toMatchObject({ interrupted: { afterLine: 100, by: "SIGTERM" }, lines: 100, imported: 100 });
    expect(await app.store.orders.countDocuments({ _id: /^STOPO-/ })).toBe(100);
  });

  it("an edited order line on a re-run is reported as not applied (differs from what is stored), not as skipped", async () => {
    const o = (no: string, qty: number, extra: object = {}) => JSON.stringify({ orderNo: no, status: "pending", customerId: "c9", createdAt: "2026-11-23T03:00:00Z", items: [{ sku: "P-4", qty, unitPrice: 300 }], ...extra });
    const f = await file("edit.jsonl", [o("ED-1", 1), o("ED-2", 1), o("ED-3", 1)]);
    expect(await runImport({ kind: "orders", file: f, ingest: app.services.ingest })).toMatchObject({ imported: 3 });
    // ED-2's quantity edited; ED-3's too, along with a status that does apply.
    const g = await file("edit.jsonl", [o("ED-1", 1), o("ED-2", 2), o("ED-3", 2, { status: "cancelled" })]);
    const r = await runImport({ kind: "orders", file: g, ingest: app.services.ingest });
    expect(r).toMatchObject({ skipped: 1, updated: 0, differs: 2, failed: 0 });
    expect(r.differences).toEqual([
      { line: 2, partly: false, message: expect.stringMatching(/^not changed on an existing order: items /) },
      { line: 3, partly: true, message: expect.stringMatching(/^not changed on an existing order: items /) },
    ]);
    expect((await app.store.orders.findById("ED-3").lean<OrderDoc>())?.status).toBe("cancelled");
    const text = formatReport(r);
    expect(text).toContain("  skipped (already there): 1\n  not applied (differs from what is stored): 2\n    line 2: not changed on an existing order: items (");
    expect(text).toContain("    line 3 (its other fields applied): not changed on an existing order: items (");
  });

  it("a CSV file without its header (empty, or blank lines only) is refused, not imported as 0 items; standard input is said not to be read", async () => {
    for (const body of ["", "\n\n"]) {
      const f = path.join(dir, "empty.csv");
      await writeFile(f, body);
      await expect(runImport({ kind: "products", file: f, ingest: app.services.ingest })).rejects.toThrow("the file has no header: a CSV file starts with its header line (the field names). The columns of products are: sku, name, category, price");
    }
    // From the command line: exit 64, said before any database is opened (none is given here), and not audited.
    const empty = path.join(dir, "empty.csv");
    await writeFile(empty, "\uFEFF\n");
    const run = await runScript("src/import.ts", ["products", empty], { MONGODB_URI: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300" });
    expect([run.code, run.stderr.split("\n")[0]]).toEqual([64, expect.stringContaining(`import: ${empty}: the file has no header`)]);
    const dash = await runScript("src/import.ts", ["products", "-"], {});
    expect([dash.code, dash.stderr.split("\n")[0]]).toEqual([64, "import: standard input (-) is not read: save the data to a .csv or .jsonl file and give its path"]);
  });

  it("a UTF-8 byte-order mark before the first line is dropped (JSONL, and CSV with a quoted header)", async () => {
    const j = path.join(dir, "bom.jsonl");
    await writeFile(j, "\uFEFF" + productLine("BOM-1") + "\n" + productLine("BOM-2") + "\n");
    expect(await runImport({ kind: "products", file: j, ingest: app.services.ingest })).toMatchObject({ imported: 2, failed: 0 });
    const c = path.join(dir, "bom.csv");
    await writeFile(c, '\uFEFF"sku","name","category","price"\r\n"BOM-3","Bom","Stop","100"\r\n');
    expect(await runImport({ kind: "products", file: c, ingest: app.services.ingest })).toMatchObject({ imported: 1, failed: 0 });
    expect(await prod("BOM-3")).toMatchObject({ name: "Bom", price: 100 });
  });

  it("a dry run names the lines the import would refuse against the database: SKUs with no product, an order that ships and cancels", async () => {
    await app.store.products.insertMany([product("DRY-1", { onHand: 10 })]);
    const at = { createdAt: "2026-11-22T02:00:00Z", paidAt: "2026-11-22T02:10:00Z" };
    const orders = await file("dry-orders.jsonl", [
      JSON.stringify({ orderNo: "DRY-O1", status: "paid", customerId: "c1", ...at, items: [{ sku: "DRY-1", qty: 1, unitPrice: 100 }] }),
      JSON.stringify({ orderNo: "DRY-O2", status: "paid", customerId: "c2", ...at, items: [{ sku: "DRY-1", qty: 1, unitPrice: 100 }, { sku: "DRY-NONE", qty: 1, unitPrice: 100 }] }),
      JSON.stringify({ orderNo: "DRY-O3", status: "cancelled", customerId: "c3", ...at, cancelledAt: "2026-11-22T05:00:00Z", shipment: { shippedAt: "2026-11-22T04:00:00Z" }, items: [{ sku: "DRY-1", qty: 1, unitPrice: 100 }] }),
      // An update names no items: nothing to look up.
      JSON.stringify({ orderNo: "DRY-O1", status: "shipped", shipment: { shippedAt: "2026-11-22T06:00:00Z" } }),
    ]);
    const dry = await runImport({ kind: "orders", file: orders, dryRun: true, ingest: app.services.ingest });
    expect(dry.failures).toEqual([
      { line: 2, message: "unknown SKU(s): DRY-NONE; send the products first" },
      { line: 3, message: expect.stringContaining("an order is not cancelled once it has shipped") },
    ]);
    expect(await app.store.orders.countDocuments({ _id: /^DRY-/ })).toBe(0);
    // The real run refuses exactly those lines.
    const real = await runImport({ kind: "orders", file: orders, ingest: app.services.ingest });
    expect(real.failures).toEqual(dry.failures);
    const inv = await file("dry-inv.csv", ["sku,delta,reason", "DRY-1,+1,count", "DRY-NONE,+1,count"]);
    const dryInv = await runImport({ kind: "inventory", file: inv, dryRun: true, ingest: app.services.ingest });
    expect(dryInv.failures).toEqual([{ line: 3, message: "unknown SKU DRY-NONE" }]);
    expect((await runImport({ kind: "inventory", file: inv, ingest: app.services.ingest })).failures).toEqual(dryInv.failures);
  });

  it("a count below what open orders reserve is applied and listed in the report with its shortfall, as the API answers it", async () => {
    await app.store.products.insertMany([product("SHORT-1", { onHand: 20, reserved: 10 }), product("SHORT-2", { onHand: 20, reserved: 10 })]);
    const f = await file("short.csv", ["sku,set,reason", "SHORT-1,3,count", "SHORT-2,15,count"]);
    const r = await runImport({ kind: "inventory", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ updated: 2, failed: 0, warned: 1, warnings: [{ line: 2, message: "SHORT-1: on hand 20 → 3; 10 are reserved by open orders: 7 short" }] });
    expect(formatReport(r)).toContain("  applied, counted below what open orders reserve (short of their reservations): 1\n    line 2: SHORT-1: on hand 20 → 3; 10 are reserved by open orders: 7 short\n");
    expect((await prod("SHORT-1"))!.onHand).toBe(3);
    // One unit reserved reads in the singular.
    await app.store.products.insertMany([product("SHORT-3", { onHand: 4, reserved: 1 })]);
    const one = await runImport({ kind: "inventory", file: await file("short-one.csv", ["sku,set,reason", "SHORT-3,0,count"]), ingest: app.services.ingest });
    expect(one.warnings).toEqual([{ line: 2, message: "SHORT-3: on hand 4 → 0; 1 is reserved by open orders: 1 short" }]);
  });

  it("an order whose subtotal or total does not add up is stored as sent and listed in the report, as the API answers it", async () => {
    await app.store.products.insertMany([product("AMT-1", { onHand: 10 })]);
    const o = (orderNo: string, extra: object) => JSON.stringify({ orderNo, status: "paid", customerId: "c1", createdAt: "2026-11-22T02:00:00Z", paidAt: "2026-11-22T02:10:00Z", items: [{ sku: "AMT-1", qty: 2, unitPrice: 1000 }], ...extra });
    const f = await file("amounts.jsonl", [o("AMT-O1", { subtotal: 2000, shipping: 500, total: 2500 }), o("AMT-O2", { subtotal: 1800, total: 1800 }), o("AMT-O3", { total: 2600 })]);
    const dry = await runImport({ kind: "orders", file: f, dryRun: true, ingest: app.services.ingest });
    expect(dry.warned).toBe(2);
    expect(formatReport(dry)).toContain("  valid, with amounts that do not add up (a new order would be stored as sent; see each line): 2\n    line 2: AMT-O2: valid (dry run); if new, would be stored as sent, but subtotal 1800 is not the lines' sum 2000 (minor units)");
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 3, failed: 0, warned: 2 });
    expect(r.warnings).toEqual([
      { line: 2, message: "AMT-O2: stored as sent, but subtotal 1800 is not the lines' sum 2000 (minor units)" },
      { line: 3, message: "AMT-O3: stored as sent, but total 2600 is not subtotal − discount + shipping (2000) (minor units)" },
    ]);
    expect(formatReport(r)).toContain("  applied, with amounts that do not add up (stored as sent; see each line): 2\n");
    expect(await app.store.orders.findById("AMT-O2").lean()).toMatchObject({ subtotal: 1800, total: 1800 });
  });

  it("refund requests on one order are imported in file order: 3.00, then full for the rest", async () => {
    await app.store.products.insertMany([product("SEQ-1", { onHand: 10 })]);
    const orders = await file("seq-orders.jsonl", [JSON.stringify({ orderNo: "SEQ-O1", status: "paid", customerId: "c1", createdAt: "2026-11-22T02:00:00Z", paidAt: "2026-11-22T02:10:00Z", items: [{ sku: "SEQ-1", qty: 1, unitPrice: 1000 }] })]);
    expect((await runImport({ kind: "orders", file: orders, ingest: app.services.ingest })).failed).toBe(0);
    const requests = await file("seq-requests.jsonl", [
      JSON.stringify({ externalId: "SEQ-R1", orderNo: "SEQ-O1", amount: "3.00", reason: "a" }),
      JSON.stringify({ externalId: "SEQ-R2", orderNo: "SEQ-O1", amount: "full", reason: "b" }),
    ]);
    expect(await runImport({ kind: "refund-requests", file: requests, ingest: app.services.ingest })).toMatchObject({ imported: 2, failed: 0 });
    expect((await app.store.refundRequests.find({ orderNo: "SEQ-O1" }).lean()).map((r) => [r.reason, r.amount]).sort()).toEqual([["a", 300], ["b", 700]]);
  });

  it("refuses a CSV header that does not fit the kind before any write: case, duplicates, unknown and missing columns", async () => {
    const cases: [string[], RegExp][] = [
      [["SKU,Name,category,price", "HD-1,x,c,1"], /unknown column "SKU": did you mean "sku"\? \(names are case-sensitive\); unknown column "Name": did you mean "name"\?/],
      [["sku,name,category,price,price", "HD-2,x,c,1,2"], /column "price" is given twice \(columns 4 and 5\): keep one/],
      [["sku,name,category,price,colour", "HD-3,x,c,1,red"], /unknown column "colour"/],
      [["sku,name,price", "HD-4,x,1"], /missing column "category" \(required in every line\)/],
    ];
    // A column without a name (a comma left at the end of the header) is named by its place.
    const trailing = await file("header.csv", ["sku,name,category,price,", "HD-5,x,c,1,"]);
    await expect(runImport({ kind: "products", file: trailing, ingest: app.services.ingest })).rejects.toThrow(/column 5 of the CSV header has no name \(a comma at the end of the header line\?\)/);
    for (const [lines, says] of cases) {
      const f = await file("header.csv", lines);
      await expect(runImport({ kind: "products", file: f, ingest: app.services.ingest }), lines[0]).rejects.toThrow(says);
      await expect(runImport({ kind: "products", file: f, ingest: app.services.ingest })).rejects.toThrow(/The columns of products are: sku, name, category, price, .*Fix the header line and run the import again \(nothing was imported\)\.$/);
    }
    expect(await app.store.products.countDocuments({ _id: /^HD-/ })).toBe(0);
    // Nested columns, and inventory's two forms (its key is made when missing).
    const orders = await file("orders-ok.csv", ["orderNo,status,shipment.carrier,shipment.trackingNo", "HD-O1,shipped,SF,SF77"]);
    await expect(runImport({ kind: "orders", file: orders, dryRun: true, ingest: app.services.ingest })).resolves.toMatchObject({ skipped: 1 });
    const inv = await file("inv-bad.csv", ["sku,reason", "P-1,x"]);
    await expect(runImport({ kind: "inventory", file: inv, ingest: app.services.ingest })).rejects.toThrow(/missing column "delta" or "set"/);
    // From the command line: exit 64, said before any database is opened (none is given here).
    const f = await file("header.csv", ["sku,Name,category,price", "HD-5,x,c,1"]);
    const run = await runScript("src/import.ts", ["products", f], {});
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(`import: ${f}: the CSV header (the file's first line) does not fit products: unknown column "Name": did you mean "name"?`);
    expect(run.stderr).not.toContain("    at ");
  });

  it("reads UTF-8 strictly: a U+FFFD written in the file is text; bytes that are not UTF-8 fail their own line", async () => {
    const f = path.join(dir, "utf8.jsonl");
    await writeFile(
      f,
      Buffer.concat([
        Buffer.from(productLine("U8-1").replace("Thing U8-1", "Odd \uFFFD sign") + "\r\n"),
        Buffer.from('{"sku":"U8-2","name":"'),
        Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate (CESU-8): not UTF-8
        Buffer.from('","category":"c","price":1}\r\n\r\n'),
        Buffer.from(productLine("U8-3") + "\n"),
        Buffer.from('{"sku":"U8-4","name":"'),
        Buffer.from([0xc0, 0xaf]), // an overlong "/"
        Buffer.from('","category":"c","price":1}'),
      ]),
    );
    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ imported: 2, failed: 2 });
    expect(r.failures).toEqual([
      { line: 2, message: "not valid UTF-8: save the file as UTF-8 and import it again" },
      { line: 5, message: "not valid UTF-8: save the file as UTF-8 and import it again" },
    ]);
    expect((await prod("U8-1"))?.name).toBe("Odd \uFFFD sign");
    expect(await prod("U8-3")).not.toBeNull();
  });

  it("shows progress on a timer, counting finished lines (not lines read ahead); a terminal line is redrawn in place, a log gets plain lines", async () => {
    const f = await file("progress.jsonl", Array.from({ length: 20 }, (_, i) => productLine(`PG-${i + 1}`)));
    const writes: string[] = [];
    const tty = { isTTY: true, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    // Nothing finishes during the first 1.3 s, while the reader has handed out 16 lines.
    const hold = new Promise((res) => setTimeout(res, 1300));
    const slow = { apply: async (...a: Parameters<IngestService["apply"]>) => (await hold, app.services.ingest.apply(...a)) } as unknown as IngestService;
    await runImport({ kind: "products", file: f, ingest: slow, progress: tty });
    expect(writes[0]).toMatch(/^\r\[-{30}\] 0\.0% 0 lines done, 0 lines\/s, ETA \?\x1b\[K$/);
    expect(writes.at(-2)).toMatch(/^\r\[#{30}\] 100\.0% 20 lines done, \d+ lines\/s, ETA 0s\x1b\[K$/);
    expect(writes.at(-1)).toBe("\n");
    const log: string[] = [];
    const plain = { write: (s: string) => (log.push(s), true) } as unknown as NodeJS.WritableStream;
    await runImport({ kind: "products", file: f, ingest: app.services.ingest, progress: plain });
    expect(log).toEqual([expect.stringMatching(/^\[#{30}\] 100\.0% 20 lines done, \d+ lines\/s, ETA 0s\n$/)]);
  });

  it("npm run import: a relative path is taken from where the command was typed (INIT_CWD); a line not applied exits 1", async () => {
    const o = (qty: number) => JSON.stringify({ orderNo: "CWD-1", status: "pending", customerId: "c9", createdAt: "2026-11-23T03:00:00Z", items: [{ sku: "P-4", qty, unitPrice: 300 }] });
    await file("cwd.jsonl", [o(1)]);
    const env = { MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", SHOPOPS_ADMINS: shellIdentity(), INIT_CWD: dir };
    const first = await runScript("src/import.ts", ["orders", "cwd.jsonl"], env);
    expect(first.stdout).toContain(`Import of orders from ${path.join(dir, "cwd.jsonl")}: 1 item in`);
    expect(first.code).toBe(0);
    await file("cwd.jsonl", [o(3)]);
    const edited = await runScript("src/import.ts", ["orders", "cwd.jsonl"], env);
    expect(edited.stdout).toContain("not applied (differs from what is stored): 1\n    line 1: not changed on an existing order: items");
    expect(edited.code).toBe(1);
    expect(await app.store.audit.findOne({ command: "import orders", args: /not applied 1$/ }).lean()).toMatchObject({ outcome: "user_error", code: "partial", message: "lines not applied (differ from what is stored): 1" });
  });

  it("memory stays flat for inventory lines without a key (their occurrence counts are kept compactly)", async () => {
    const f = path.join(dir, "many.jsonl");
    const out = createWriteStream(f);
    for (let i = 0; i < 200_000; i++) out.write(JSON.stringify({ sku: `P-${i % 50}`, delta: 1, reason: `PO-${i}` }) + "\n");
    await new Promise((res) => out.end(res));
    // What is live (heap and array buffers) after a full collection, every 40k lines.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
    };
    const samples: number[] = [];
    let calls = 0;
    const sampling = {
      refreshCatalog: () => undefined,
      apply: async () => {
        if (++calls % 40_000 === 0) samples.push(live());
        return { status: 200, outcome: "unchanged" };
      },
    } as unknown as IngestService;
    expect(await runImport({ kind: "inventory", file: f, dryRun: true, ingest: sampling })).toMatchObject({ lines: 200_000, failed: 0 });
    // From line 40,000 to 200,000, a map with an entry per line grew by about 22 MB; the table of
    // 64-bit hashes by 5 (12 bytes a slot, doubled once).
    expect(samples.at(-1)! - samples[0]!).toBeLessThan(12);
  }, 60_000);

  it("an inventory line without a key gets the same key as before (files imported earlier stay imported)", async () => {
    const line = JSON.stringify({ sku: "P-1", delta: 1, reason: "key-format" });
    const f = await file("keyfmt.jsonl", [line, line]);
    expect(await runImport({ kind: "inventory", file: f, ingest: app.services.ingest })).toMatchObject({ updated: 2 });
    const h = (s: string, n: number) => createHash("sha256").update(s).digest("hex").slice(0, n);
    const key = (nth: number) => `imp:${h("keyfmt.jsonl", 12)}:${h(line, 16)}:${nth}`;
    expect(await app.store.ledger.countDocuments({ _id: { $in: [key(1), key(2)] } })).toBe(2);
    await app.services.stock.adjust({ sku: "P-1", delta: -2, reason: "back", actor: "shell:admin", key: "test-undo-keyfmt" });
  });
});
