/**
 * Issue #8, a fresh pass as a storefront integrator and as an adopter importing history: a CSV as
 * Excel and Sheets export it (a cell's line breaks inside quotes), a spreadsheet's headings, a JSONL
 * line that is no JSON, and the API's answer to a null field and a currency code in lower case.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { formatReport, runImport } from "../src/import.js";
import type { ComplaintDoc, ProductDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

let app: TestApp;
let http: RunningHttpServer;
let key: string;
let dir: string;

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  await app.store.products.insertMany([product("SKU-1", { onHand: 100 })]);
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  const made = await app.run("shell:admin", "apikey create storefront scopes=orders,products");
  key = /shopops_[A-Za-z0-9_-]+/.exec(made.reply.text ?? "")![0];
  dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e22-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await http.close();
  await app.close();
});

const fileOf = async (name: string, content: string) => {
  const f = path.join(dir, name);
  await writeFile(f, content);
  return f;
};
const prod = (sku: string) => app.store.products.findById(sku).lean<ProductDoc>();

describe("a CSV file as Excel and Google Sheets export it", () => {
  // Byte-order mark, CRLF line ends, quoted cells holding commas, quotes and line breaks (Excel
  // writes a cell's break as LF or CRLF inside the quotes), Chinese text, a trailing empty line.
  const excel = [
    "\uFEFFsku,name,category,price,supplier",
    'XL-1,"Mug, large",Kitchen,1999,Acme',
    'XL-2,"保温杯（大号）\r\n500 ml",厨房,2999,"上海, 某某"',
    'XL-3,"The ""best""\nteapot",Kitchen,500,Acme',
    "XL-4,Plain,Kitchen,-1,Acme",
    "XL-5,Last,Kitchen,100,Acme",
    "",
  ].join("\r\n");

  it("reads a quoted cell's line breaks as part of its cell; the report's line numbers are the file's lines", async () => {
    const f = await fileOf("catalogue.csv", excel);
    const dry = await runImport({ kind: "products", file: f, dryRun: true, ingest: app.services.ingest });
    // Line 5 (XL-3) starts after XL-2's two lines; XL-4 is line 7, after XL-3's two.
    expect(dry).toMatchObject({ lines: 5, skipped: 4, failed: 1, failures: [{ line: 7, message: "price: expected an amount of 0 or more minor units (e.g. 1999 for 19.99)" }] });
    expect(await prod("XL-2")).toBeNull();
    const r = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 5, imported: 4, failed: 1, failures: [{ line: 7 }] });
    expect(formatReport(r)).toContain("line 7: price: expected an amount of 0 or more minor units");
    expect(await prod("XL-1")).toMatchObject({ name: "Mug, large", category: "Kitchen", price: 1999 });
    expect(await prod("XL-2")).toMatchObject({ name: "保温杯（大号）\n500 ml", category: "厨房", supplier: "上海, 某某" });
    expect(await prod("XL-3")).toMatchObject({ name: 'The "best"\nteapot' });
    expect(await prod("XL-5")).toMatchObject({ name: "Last", price: 100 });
    // The same file again: nothing changes.
    const again = await runImport({ kind: "products", file: f, ingest: app.services.ingest });
    expect(again).toMatchObject({ imported: 0, updated: 0, skipped: 4, failed: 1, failures: [{ line: 7 }] });
  });

  it("imports a complaint whose text has line breaks, once; an inventory line with one re-runs as the same change", async () => {
    const c = await fileOf("tickets.csv", ["\uFEFFexternalId,customerId,text,severity", 'T-1,c-1,"Box arrived crushed,\r\nmug broken.\r\n\r\nPlease refund.",HIGH', "T-2,c-2,包装破损，杯子碎了,高", ""].join("\r\n"));
    expect(await runImport({ kind: "complaints", file: c, ingest: app.services.ingest })).toMatchObject({ lines: 2, imported: 2, failed: 0 });
    expect(await runImport({ kind: "complaints", file: c, ingest: app.services.ingest })).toMatchObject({ lines: 2, imported: 0, skipped: 2, failed: 0 });
    const t1 = await app.store.complaints.find({ customerId: "c-1" }).lean<ComplaintDoc[]>();
    expect(t1.map((x) => [x.text, x.severity])).toEqual([["Box arrived crushed,\nmug broken.\n\nPlease refund.", "high"]]);
    const inv = await fileOf("counts.csv", ["sku,delta,reason", 'SKU-1,2,"PO 7\nshelf B"', 'SKU-1,2,"PO 7\nshelf B"', ""].join("\n"));
    expect(await runImport({ kind: "inventory", file: inv, ingest: app.services.ingest })).toMatchObject({ lines: 2, updated: 2, failed: 0 });
    expect(await runImport({ kind: "inventory", file: inv, ingest: app.services.ingest })).toMatchObject({ lines: 2, updated: 0, skipped: 2, failed: 0 });
    expect((await prod("SKU-1"))!.onHand).toBe(104);
  });

  it("a quote left open fails its record naming the lines it took in, never applying them", async () => {
    // A stray quote on line 2 runs to the quote on line 4: one record of three lines (its columns wrong).
    const stray = await fileOf("stray.csv", ["sku,name,category,price", 'ST-1,"Mug,Kitchen,100', "ST-2,Cup,Kitchen,100", 'ST-3,Pot",Kitchen,100,9', "ST-4,Bowl,Kitchen,100", 'ST-5,"Open,Kitchen,100', "ST-6,Jar,Kitchen,100", ""].join("\n"));
    const r = await runImport({ kind: "products", file: stray, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 3, imported: 1, failed: 2 });
    expect(r.failures).toEqual([
      { line: 2, message: "expected 4 columns (as the header), got 5 (the record on lines 2–4: a quoted field in it spans lines)" },
      { line: 6, message: 'unclosed quote: the quoted field opened on line 6 is not closed by the end of the file: close it with a quote (") and write a quote inside a field as two ("") (the record on lines 6–7: a quoted field in it spans lines)' },
    ]);
    expect(await app.store.products.countDocuments({ _id: /^ST-/ })).toBe(1);
    expect(await prod("ST-4")).toMatchObject({ name: "Bowl" });
  });

  it("a heading with spaces gets the column it means and the kind's columns, before any line is read", async () => {
    const f = await fileOf("sheet.csv", ["Order No,customerId,items,unit-price,Ship Date", "H-1,c1,SKU-1:1:100,1,2026-11-20"].join("\n"));
    const err = await runImport({ kind: "orders", file: f, ingest: app.services.ingest }).then(() => null, (e: Error) => e.message);
    expect(err).toMatch(/^bad CSV header columns "Order No" \(did you mean "orderNo"\?\), "unit-price", "Ship Date": the columns of orders are: orderNo, status, items, /);
    expect(err).toContain("Fix the header line and run the import again (nothing was imported).");
    expect(await app.store.orders.countDocuments({ _id: "H-1" })).toBe(0);
    const zh = await runScript("src/import.ts", ["orders", f], { LOG_LEVEL: "error", SHOP_LOCALE: "zh-CN", MONGODB_URI: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300" });
    expect(zh.code).toBe(64);
    expect(zh.stderr).toMatch(/^import: \S+sheet\.csv: CSV 表头中的列名无效："Order No"（是否应为 "orderNo"？）, "unit-price", "Ship Date"。orders 的列为：orderNo, status, items, /);
  });
});

describe("a JSONL line that is not JSON", () => {
  it("fails its line saying it is not JSON and what a line holds; the lines around it apply", async () => {
    const f = await fileOf("moves.jsonl", [JSON.stringify({ sku: "SKU-1", delta: 1, key: "j-1" }), "{sku: SKU-1, delta: 1}", JSON.stringify({ sku: "SKU-1", delta: 1, key: "j-3" }), ""].join("\n"));
    const r = await runImport({ kind: "inventory", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ updated: 2, failed: 1 });
    expect(r.failures).toEqual([{ line: 2, message: expect.stringMatching(/^not valid JSON \(a \.jsonl file holds one JSON object per line\): Expected property name/) }]);
  });
});

describe("the API's answer to what a storefront's serializer sends", () => {
  const post = async (body: unknown) => {
    const r = await fetch(`http://127.0.0.1:${http.port}/api/v1/orders`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  const order = (no: string, over: Record<string, unknown>) => ({ orderNo: no, customerId: "c-1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1250 }], ...over });

  it("a field sent as null is told so, and how to give no value; nothing stored", async () => {
    const r = await post(order("N-1", { note: null, couponCode: null }));
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([
      { field: "couponCode", expected: "a string; got null: to give no value, leave the field out" },
      { field: "note", expected: "a string; got null: to give no value, leave the field out" },
    ]);
    // Inside items a field is required, whatever `items` is.
    const q = await post(order("N-2", { items: [{ sku: "SKU-1", qty: null, unitPrice: 1250 }] }));
    expect(q.json.errors).toEqual([{ field: "items.0.qty", expected: "a number; got null: the field is required" }]);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["N-1", "N-2"] } })).toBe(0);
  });

  it("an amount sent as the storefront shows it (\"12.50\") is told it is in major units, with the minor units to send", async () => {
    const r = await post(order("AM-1", { items: [{ sku: "SKU-1", qty: 1, unitPrice: "12.50" }] }));
    expect([r.status, r.json.message]).toEqual([400, 'items.0.unitPrice: expected a whole number of minor units (e.g. 1999 for 19.99); got the text "12.50", an amount in major units: send it in minor units, as a number (1250 for 12.50 in a currency with 2 decimals)']);
    expect(await app.store.orders.countDocuments({ _id: "AM-1" })).toBe(0);
  });

  it("a currency code in lower case is told the spelling to send; nothing stored", async () => {
    const r = await post(order("CUR-1", { currency: "cny" }));
    expect([r.status, r.json.message]).toEqual([400, 'currency: expected an ISO 4217 currency code in capitals such as USD, CNY or EUR; got "cny": send "CNY"']);
    expect(await app.store.orders.countDocuments({ _id: "CUR-1" })).toBe(0);
    expect((await post(order("CUR-1", { currency: "CNY" }))).status).toBe(201);
  });
});
