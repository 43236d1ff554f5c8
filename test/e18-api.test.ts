import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { shellIdentity } from "../src/core/identity.js";
import { silentLogger } from "../src/core/logger.js";
import type { OrderDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

// Issue #8: a hands-on pass over the ingestion API as an integrator wiring a storefront.

let app: TestApp;
let http: RunningHttpServer;
let key: string;

/** A request as an integrator's client sends it (any headers, a raw or compressed body). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
function send(path: string, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`http://127.0.0.1:${http.port}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Record<string, any> }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const order = (no: string, over: Record<string, unknown> = {}) => ({ orderNo: no, customerId: "c-1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1500 }], ...over });
const stored = (no: string) => app.store.orders.findById(no).lean<OrderDoc>();

beforeAll(async () => {
  app = await makeTestApp({ HTTP_BODY_LIMIT: "4096", INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  // The key as an admin makes it in chat, copied from the reply.
  const made = await app.run("shell:admin", "apikey create storefront scopes=orders,products");
  key = /shopops_[A-Za-z0-9_-]+/.exec(made.reply.text ?? "")![0];
  await app.store.products.insertMany([product("SKU-1", { onHand: 100 })]);
});
afterAll(async () => {
  await http.close();
  await app.close();
});

describe("compressed bodies (Content-Encoding)", () => {
  it("a gzip or deflate body is read decompressed, as the same JSON sent plain", async () => {
    const gz = await send("/api/v1/orders", { "content-encoding": "gzip" }, gzipSync(JSON.stringify(order("GZ-1"))));
    expect(gz).toMatchObject({ status: 201, json: { outcome: "created", id: "GZ-1" } });
    const batch = await send("/api/v1/orders", { "content-encoding": "deflate" }, deflateSync(JSON.stringify([order("DF-1"), order("DF-2")])));
    expect(batch).toMatchObject({ status: 200, json: { summary: { created: 2 } } });
    expect((await stored("GZ-1"))?.customerId).toBe("c-1");
    expect(await app.store.orders.countDocuments({ _id: { $in: ["DF-1", "DF-2"] } })).toBe(2);
  });

  it("a coding it cannot read is a 415 naming the ones it can; a body that is not what its coding says is a 400; nothing applied", async () => {
    const br = await send("/api/v1/orders", { "content-encoding": "br" }, JSON.stringify(order("BR-1")));
    expect(br.status).toBe(415);
    expect(br.headers["accept-encoding"]).toBe("gzip, deflate");
    expect(br.json).toMatchObject({ code: "unsupported_media_type", message: "Content-Encoding br is not supported: send the body uncompressed, or compressed once with gzip or deflate" });
    const plain = await send("/api/v1/orders", { "content-encoding": "gzip" }, JSON.stringify(order("GZ-2")));
    expect(plain.status).toBe(400);
    expect(plain.json).toMatchObject({ code: "invalid", errors: [{ field: "(body)", expected: "gzip-compressed JSON" }] });
    expect(plain.json.message).toMatch(/^body is not valid gzip data, as its Content-Encoding says/);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["BR-1", "GZ-2"] } })).toBe(0);
  });

  it("the body limit holds for the decompressed body too (a small gzip body can inflate to gigabytes)", async () => {
    const big = JSON.stringify(order("GZ-3", { note: "x".repeat(5000) }));
    const zipped = gzipSync(big);
    expect(zipped.length).toBeLessThan(4096);
    const r = await send("/api/v1/orders", { "content-encoding": "gzip" }, zipped);
    expect(r.status).toBe(413);
    expect(r.json.message).toBe("body over the limit of 4096 bytes once decompressed (Content-Encoding: gzip)");
    expect(await stored("GZ-3")).toBeNull();
  });
});

describe("the Authorization header", () => {
  it("another scheme, or the key without Bearer, is told how to send the key, not that the key is invalid", async () => {
    const token = await send("/api/v1/orders", { authorization: `Token ${key}` }, JSON.stringify(order("AU-1")));
    expect(token.status).toBe(401);
    expect(token.json.message).toBe('malformed Authorization header (got the scheme "Token"): send Authorization: Bearer <key>, the key as apikey create showed it');
    const bare = await send("/api/v1/orders", { authorization: key }, JSON.stringify(order("AU-1")));
    expect(bare.json.message).toBe('malformed Authorization header (got the key without "Bearer " before it): send Authorization: Bearer <key>, the key as apikey create showed it');
    // Never the key in the answer.
    expect(JSON.stringify([token.json, bare.json])).not.toContain(key.slice(-20));
    expect(await stored("AU-1")).toBeNull();
    // The same key sent right works.
    expect((await send("/api/v1/orders", {}, JSON.stringify(order("AU-1")))).status).toBe(201);
  });
});

describe("times as RFC 3339 and common exporters write them", () => {
  it("a space for the T (Python's str(), PostgreSQL's +08), lowercase t and z are the same instant", async () => {
    const post = (no: string, createdAt: string) => send("/api/v1/orders", {}, JSON.stringify(order(no, { createdAt })));
    expect((await post("TM-1", "2026-11-24 08:00:00+08")).status).toBe(201);
    expect((await post("TM-2", "2026-11-24 00:00:00.5+00:00")).status).toBe(201);
    expect((await post("TM-3", "2026-11-24t00:00:00z")).status).toBe(201);
    expect((await stored("TM-1"))?.createdAt).toEqual(new Date("2026-11-24T00:00:00Z"));
    expect((await stored("TM-2"))?.createdAt).toEqual(new Date("2026-11-24T00:00:00.500Z"));
    expect((await stored("TM-3"))?.createdAt).toEqual(new Date("2026-11-24T00:00:00Z"));
    // Still no zone, no time: refused, saying so.
    const none = await post("TM-4", "2026-11-24 08:00:00");
    expect(none.json.errors[0].expected).toMatch(/names none, so it could be any zone's/);
    expect(await stored("TM-4")).toBeNull();
  });
});

describe("amounts", () => {
  it("a missing price is said to be required; 1e400 (JSON's Infinity) is said to be too large", async () => {
    const missing = await send("/api/v1/products", {}, JSON.stringify({ sku: "NP-1", name: "Mug", category: "Home" }));
    expect(missing.json.errors).toEqual([{ field: "price", expected: "a value (required): a whole number of minor units (e.g. 1999 for 19.99)" }]);
    const huge = await send("/api/v1/orders", {}, '{"orderNo":"HG-1","customerId":"c-1","items":[{"sku":"SKU-1","qty":1,"unitPrice":1e400}]}');
    expect(huge.json.errors).toEqual([{ field: "items.0.unitPrice", expected: "an amount of at most 1000000000000 minor units (10^12): the amount given is too large" }]);
    expect(await stored("HG-1")).toBeNull();
    expect(await app.store.products.countDocuments({ _id: "NP-1" })).toBe(0);
  });
});

describe("the import's report follows the shop's language", () => {
  it("with SHOP_LOCALE=zh-CN the operator reads the report in Chinese; each line's problem is the API's own words", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "e18-"));
    const file = path.join(dir, "orders.csv");
    writeFileSync(file, "\ufefforderNo,customerId,items,note\r\nIM-1,c-1,SKU-1:1:100,\"gift, wrapped\"\r\nIM-2,c-1,NOPE:1:100,\r\n");
    const env = { MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: shellIdentity(), INIT_CWD: dir };
    const zh = await runScript("src/import.ts", ["orders", "orders.csv"], { ...env, SHOP_LOCALE: "zh-CN" });
    expect(zh.code).toBe(1);
    expect(zh.stdout).toMatch(new RegExp(`^从 ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} 导入 orders：共 2 条，用时 \\d+\\.\\d 秒\\n`));
    expect(zh.stdout).toContain("  新导入：1\n  已更新：0\n  已跳过（已存在）：0\n  失败：1\n    第 3 行：unknown SKU(s): NOPE; send the products first\n");
    // The BOM, CRLF and the quoted comma read as Excel writes them.
    expect((await stored("IM-1"))?.customerId).toBe("c-1");
    // In English (the default) as before; a re-run skips the line already done.
    const en = await runScript("src/import.ts", ["orders", "orders.csv", "--dry-run", "--dry-run"], env);
    expect(en.stdout).toMatch(/^Dry run \(nothing written\) of orders from .*: 2 items in \d+\.\d s\n {2}valid: 1\n {2}failed: 1\n {4}line 3: unknown SKU\(s\): NOPE; send the products first\n$/);
  }, 120_000);
});
