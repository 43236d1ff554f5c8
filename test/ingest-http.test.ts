import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { loadConfig } from "../src/config.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { localDay } from "../src/core/format.js";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { repairOrderEffects } from "../src/services/order-effects.repair.js";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
let http: RunningHttpServer;
let base: string;
let all: string; // a key with every scope
let ordersOnly: string;

async function call(path: string, opts: { method?: string; key?: string | null; body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? all : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  const body = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  if (body !== undefined) headers["content-type"] = opts.type ?? "application/json";
  const res = await fetch(base + path, { method: opts.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** A request fetch cannot make (two Authorization lines, Expect: 100-continue): status, body, and whether the server said "continue". */
function rawCall(path: string, headers: OutgoingHttpHeaders, body?: string): Promise<{ status: number; text: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, continued }));
    });
    req.on("continue", () => {
      continued = true;
      req.end(body);
    });
    req.on("error", reject);
    if (!headers.expect) req.end(body);
  });
}

/**
 * Writes `text` as is over a raw socket (a request no HTTP client would send, or one announcing
 * a body it does not send); the answer, and whether the server closed the connection within `closeMs`.
 */
function rawSocket(port: number, text: string, closeMs = 3000): Promise<{ status: number; head: string; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = "";
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", body = ""] = data.split("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head: head.toLowerCase(), body, closed });
    };
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      data += c;
      // Once the whole answer is in, wait (at most closeMs) for the server to end the connection.
      if (!timer && /\r\n\r\n/.test(data)) timer = setTimeout(() => done(false), closeMs);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => done(true));
  });
}

const order = (no: string, over: Record<string, unknown> = {}) => ({
  orderNo: no,
  customerId: "cust-1",
  createdAt: "2026-11-24T02:00:00Z",
  items: [{ sku: "SKU-1", qty: 2, unitPrice: 1500 }],
  ...over,
});
const prod = (sku: string) => app.store.products.findById(sku).lean<ProductDoc>();
const sales = (p: ProductDoc | null, day: string) => Number((p?.salesByDay as unknown as Record<string, number>)?.[day] ?? 0);

beforeAll(async () => {
  app = await makeTestApp({ HTTP_BODY_LIMIT: "4096", INGEST_BATCH_MAX: "5", INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  base = `http://127.0.0.1:${http.port}`;
  all = (await app.services.apiKeys.create("storefront", ["orders", "products", "inventory", "complaints", "refunds"], "shell:admin")).token;
  ordersOnly = (await app.services.apiKeys.create("orders only", ["orders"], "shell:admin")).token;
  await app.store.products.insertMany(["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5", "SKU-6", "SKU-7", "SKU-8"].map((s) => product(s, { onHand: 100 })));
});
afterAll(async () => {
  await http.close();
  await app.close();
});

describe("health and protocol errors", () => {
  it("answers /healthz and /readyz (database ping)", async () => {
    expect(await call("/healthz", { key: null })).toMatchObject({ status: 200, json: { status: "ok" } });
    expect(await call("/readyz", { key: null })).toMatchObject({ status: 200, json: { status: "ready" } });
  });

  it("404 for an unknown route, 405 with Allow for a wrong method", async () => {
    const nope = await call("/api/v1/nope", { body: {} });
    expect(nope.status).toBe(404);
    // Protocol errors carry `code` as item answers do.
    expect(nope.json).toMatchObject({ error: "not_found", code: "not_found" });
    // The path as sent (a doubled slash is not read as a host name).
    expect((await call("//api/v1/orders", { body: {} })).json.message).toMatch(/^no route \/\/api\/v1\/orders;/);
    const r = await call("/api/v1/orders", { method: "GET" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST, OPTIONS");
    const h = await call("/healthz", { method: "POST", raw: "{}", key: null });
    expect(h.status).toBe(405);
    expect(h.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("401 without a key or with a bad one, 403 without the scope", async () => {
    const none = await call("/api/v1/orders", { key: null, body: order("A-401") });
    expect(none.status).toBe(401);
    expect(none.json.message).toMatch(/missing API key/);
    expect((await call("/api/v1/orders", { key: "shopops_kAAAAAAAAAA_" + "x".repeat(43), body: order("A-401") })).status).toBe(401);
    expect((await call("/api/v1/orders", { key: "not-a-key", body: order("A-401") })).status).toBe(401);
    const forbidden = await call("/api/v1/products", { key: ordersOnly, body: { sku: "X-1", name: "x", category: "c", price: 1 } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.message).toMatch(/"products" scope/);
    // Two keys in one request: refused whichever comes first, not the first one taken.
    const body = JSON.stringify(order("A-401"));
    for (const pair of [[`Bearer ${all}`, "Bearer not-a-key"], ["Bearer not-a-key", `Bearer ${all}`]]) {
      const two = await rawCall("/api/v1/orders", { Authorization: pair }, body);
      expect(two.status).toBe(400);
      expect(JSON.parse(two.text).message).toBe("more than one Authorization header: send one");
    }
    expect(await app.store.orders.countDocuments({ _id: "A-401" })).toBe(0);
  });

  it("415 for a body that is not JSON, 413 for a body over the limit", async () => {
    const r = await call("/api/v1/orders", { raw: "orderNo=1", type: "text/plain" });
    expect(r.status).toBe(415);
    const big = await call("/api/v1/orders", { body: order("A-413", { note: "x".repeat(5000) }) });
    expect(big.status).toBe(413);
    expect(await app.store.orders.countDocuments({ _id: "A-413" })).toBe(0);
    // A client that asks first is told 413 before it uploads, not "continue"; within the limit it continues.
    const asked = await rawCall("/api/v1/orders", { authorization: `Bearer ${all}`, expect: "100-continue", "content-length": 100_000 });
    expect(asked).toMatchObject({ status: 413, continued: false });
    // Asking first changes no other check: an unknown route, a missing key.
    expect((await rawCall("/api/v1/nope", { authorization: `Bearer ${all}`, expect: "100-continue", "content-length": 100_000 })).status).toBe(404);
    expect((await rawCall("/api/v1/orders", { expect: "100-continue", "content-length": 100_000 })).status).toBe(401);
    const small = JSON.stringify(order("A-414"));
    const fine = await rawCall("/api/v1/orders", { authorization: `Bearer ${all}`, expect: "100-continue", "content-length": Buffer.byteLength(small) }, small);
    expect(fine).toMatchObject({ status: 201, continued: true });
  });

  it("a malformed request target is a 400, not an internal error in the log", async () => {
    const lines: string[] = [];
    const s = await startHttpServer({ services: app.services, config: app.config, logger: createLogger("debug", {}, (l) => lines.push(l)) }, 0, "127.0.0.1");
    try {
      for (const line of ["GET http://[::1 HTTP/1.1", "POST http://a:99999/api/v1/orders HTTP/1.1"]) {
        const r = await rawSocket(s.port, `${line}\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        expect(r.status).toBe(400);
        expect(JSON.parse(r.body)).toMatchObject({ error: "invalid", code: "invalid", message: expect.stringMatching(/^bad request target/) });
      }
      expect(lines.filter((l) => /"level":"(error|warn)"/.test(l))).toEqual([]);
      expect(await app.store.audit.countDocuments({ args: /99999/ })).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("an answer given before an announced body arrives (401, 404, 403) closes the connection instead of reading on", async () => {
    const { id, token } = await app.services.apiKeys.create("body-close", ["orders"], "shell:admin");
    const big = (line: string, auth?: string) =>
      `${line} HTTP/1.1\r\nHost: a\r\n${auth ? `Authorization: Bearer ${auth}\r\n` : ""}Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{"orderNo":`;
    const unauthorized = await rawSocket(http.port, big("POST /api/v1/orders"));
    expect(unauthorized).toMatchObject({ status: 401, closed: true });
    expect(unauthorized.head).toContain("connection: close");
    expect(await rawSocket(http.port, big("POST /api/v1/nope", token))).toMatchObject({ status: 404, closed: true });
    expect(await rawSocket(http.port, big("POST /api/v1/products", token))).toMatchObject({ status: 403, closed: true });
    // The refusals of the known key are on its trail as before.
    expect(await app.store.audit.countDocuments({ actor: `api:body-close#${id}` })).toBe(2);
    // A request without a body keeps its connection for the next one.
    const kept = await rawSocket(http.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 300);
    expect(kept).toMatchObject({ status: 200, closed: false });
    // A stalled client is not waited for minutes (Node's defaults: 300 s for a request, 60 s for its headers).
    expect(http.server.requestTimeout).toBeLessThanOrEqual(30_000);
    expect(http.server.headersTimeout).toBeLessThanOrEqual(10_000);
  });

  it("400 names the field and what was expected; malformed JSON is 400 too", async () => {
    const r = await call("/api/v1/orders", { body: order("A-400", { items: [{ sku: "SKU-1", qty: 0, unitPrice: 1500 }], paidAt: "yesterday" }) });
    expect(r.status).toBe(400);
    const fields = (r.json.errors as { field: string; expected: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["items.0.qty", "paidAt"]));
    expect(r.json.errors.find((e: { field: string }) => e.field === "paidAt").expected).toMatch(/ISO 8601/);
    // In plain words, not zod's ("Too small: expected number to be >=1", "received NaN").
    expect(r.json.errors.find((e: { field: string }) => e.field === "items.0.qty").expected).toBe("at least 1");
    const typed = await call("/api/v1/products", { body: { sku: "X-9", name: "", category: "c", price: "12" } });
    expect(typed.json.errors).toEqual([
      { field: "name", expected: "a non-empty text (spaces or invisible characters alone do not count)" },
      { field: "price", expected: 'a whole number of minor units (e.g. 1999 for 19.99); got the text "12": send it as a JSON number, without quotes' },
    ]);
    expect((await call("/api/v1/products", { body: { sku: "X-9", category: "c", price: 12 } })).json.errors).toEqual([{ field: "name", expected: "a value (required)" }]);
    expect((await call("/api/v1/orders", { raw: "{not json" })).status).toBe(400);
    // A body in another encoding (GBK) is refused, not stored garbled.
    const gbkName = Buffer.concat([Buffer.from('{"sku":"X-3","name":"'), Buffer.from([0xb1, 0xa3, 0xce, 0xc2, 0xb1, 0xad]), Buffer.from('","category":"c","price":1}')]);
    const res = await fetch(base + "/api/v1/products", { method: "POST", headers: { authorization: `Bearer ${all}`, "content-type": "application/json" }, body: gbkName });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("not valid UTF-8");
    expect(await app.store.products.countDocuments({ _id: "X-3" })).toBe(0);
    const unknown = await call("/api/v1/products", { body: { sku: "X-2", name: "x", category: "c", price: 1, colour: "red" } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].field).toBe("colour");
    // Amounts that cannot go together: a discount past subtotal plus shipping (a negative
    // total, negative GMV), a line or an order past 10^12 minor units.
    const items = [{ sku: "SKU-1", qty: 2, unitPrice: 1500 }];
    expect((await call("/api/v1/orders", { body: order("A-405", { items, discount: 3600, shipping: 500 }) })).json.errors).toEqual([{ field: "discount", expected: "at most the subtotal plus shipping (3500 minor units)" }]);
    expect((await call("/api/v1/orders", { body: order("A-405", { items, subtotal: 1000, discount: 1001 }) })).json.errors).toEqual([{ field: "discount", expected: "at most the subtotal plus shipping (1000 minor units)" }]);
    const huge = await call("/api/v1/orders", { body: order("A-405", { items: [{ sku: "SKU-1", qty: 100_000, unitPrice: 1e12 }, { sku: "SKU-1", qty: 3, unitPrice: 1 }] }) });
    expect(huge.json.errors).toEqual([
      { field: "items.0", expected: "a line total (qty × unitPrice) of at most 1000000000000 minor units" },
      { field: "items", expected: "items totalling at most 1000000000000 minor units" },
    ]);
    // Half a character (a lone surrogate escape) is refused, not stored as U+FFFD; a year-1 date too.
    const half = await call("/api/v1/complaints", { raw: '{"customerId":"c-1","text":"broken \\ud800 lid"}' });
    expect(half.json.errors).toEqual([{ field: "text", expected: "text of whole characters (a lone \\uD800-\\uDFFF escape is half of one)" }]);
    expect((await call("/api/v1/orders", { body: order("A-405", { createdAt: "0001-01-01T00:00:00Z" }) })).json.errors).toEqual([{ field: "createdAt", expected: "a time from 2000-01-01 on" }]);
    expect(await app.store.complaints.countDocuments({ customerId: "c-1" })).toBe(0);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["A-400", "A-405"] } })).toBe(0);
    expect((await call("/api/v1/orders", { body: order("A-405", { items, discount: 3000 }) })).status).toBe(201);
  });

  it("400 for a time ahead of the shop's clock (past clock skew) and for a currency code that is none", async () => {
    const now = app.clock.now().getTime();
    const later = new Date(now + 20 * 60_000).toISOString();
    const ahead = await call("/api/v1/orders", { body: order("A-401", { paidAt: "2030-01-01T00:00:00Z", shipment: { carrier: "SF", shippedAt: later } }) });
    expect(ahead.status).toBe(400);
    expect(ahead.json.errors).toEqual([
      { field: "paidAt", expected: `a time not in the future (it is now ${new Date(now).toISOString()})` },
      { field: "shipment.shippedAt", expected: `a time not in the future (it is now ${new Date(now).toISOString()})` },
    ]);
    // In a batch too (orders take the batch path), and an update of an existing order as well.
    const batch = await call("/api/v1/orders", { body: [order("A-406", { paidAt: "2030-01-01T00:00:00Z" }), { orderNo: "A-100", status: "shipped", shipment: { shippedAt: later } }] });
    expect(batch.json.results.map((x: { status: number; errors?: { field: string }[] }) => [x.status, x.errors?.[0]?.field])).toEqual([[400, "paidAt"], [400, "shipment.shippedAt"]]);
    expect(await app.store.orders.countDocuments({ _id: "A-406" })).toBe(0);
    // A sender whose clock runs a few minutes fast is fine.
    expect((await call("/api/v1/orders", { body: order("A-402", { paidAt: new Date(now + 5 * 60_000).toISOString() }) })).status).toBe(201);
    // Without createdAt, an order is created no later than its payment (not "Created" after "Paid").
    const { createdAt: _none, ...bare } = order("A-407", { status: "paid", paidAt: new Date(now - 3_600_000).toISOString() });
    expect((await call("/api/v1/orders", { body: bare })).status).toBe(201);
    expect((await app.store.orders.findById("A-407").lean<OrderDoc>())!.createdAt.getTime()).toBe(now - 3_600_000);
    const xyz = await call("/api/v1/orders", { body: order("A-403", { currency: "XYZ" }) });
    expect(xyz.status).toBe(400);
    expect(xyz.json.errors).toEqual([{ field: "currency", expected: "an ISO 4217 currency code in capitals such as USD, CNY or EUR" }]);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["A-401", "A-403"] } })).toBe(0);
  });

  it("429 with Retry-After when a key exceeds its rate", async () => {
    const tight = loadConfig({ INGEST_RATE_BURST: "2", INGEST_RATE_PER_SEC: "1" });
    const s = await startHttpServer({ services: app.services, config: tight, logger: silentLogger }, 0, "127.0.0.1");
    try {
      const codes: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`http://127.0.0.1:${s.port}/api/v1/complaints`, {
          method: "POST",
          headers: { authorization: `Bearer ${all}`, "content-type": "application/json" },
          body: JSON.stringify({ customerId: "c-429", text: "late parcel", externalId: "T-429" }),
        });
        codes.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get("retry-after");
        await res.text();
      }
      expect(codes.slice(0, 2)).toEqual([201, 200]);
      expect(codes.slice(2)).toEqual([429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await s.close();
    }
  });

  it("a key's requests answered 404 or 405 take from its rate as well: past it they are 429, not audited", async () => {
    const tight = loadConfig({ INGEST_RATE_BURST: "3", INGEST_RATE_PER_SEC: "1" });
    const s = await startHttpServer({ services: app.services, config: tight, logger: silentLogger }, 0, "127.0.0.1");
    const { id, token } = await app.services.apiKeys.create("rate-404", ["orders"], "shell:admin");
    try {
      const answers: { status: number; retryAfter: string | null }[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`http://127.0.0.1:${s.port}${i % 2 ? "/api/v1/orders" : `/api/v1/x${i}`}`, { headers: { authorization: `Bearer ${token}` } });
        answers.push({ status: res.status, retryAfter: res.headers.get("retry-after") });
        await res.text();
      }
      // The burst of 3 first (refilled by at most a token a second), then 429 with Retry-After.
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([404, 405, 404]);
      const limited = answers.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      for (const a of limited) expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      // One audit entry per answered request; the 429s are not on the trail (a flood would flood it).
      expect(await app.store.audit.countDocuments({ actor: `api:rate-404#${id}` })).toBe(answers.length - limited.length);
      // The bucket is the key's: its POSTs are refused too until it refills.
      const post = await fetch(`http://127.0.0.1:${s.port}/api/v1/orders`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(order("RL-404")) });
      expect(post.status).toBe(429);
      expect(await app.store.orders.countDocuments({ _id: "RL-404" })).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("refund requests are checked against the order, created once per externalId, then approved in chat", async () => {
    await call("/api/v1/orders", { body: order("A-RF1", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    const item = { externalId: "ticket-77", orderNo: "A-RF1", amount: "20.00", reason: "arrived damaged" };
    const runs = await Promise.all(Array.from({ length: 5 }, () => call("/api/v1/refund-requests", { body: item })));
    expect(runs.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const id = runs[0]!.json.id as string;
    expect(id).toMatch(/^R-X/);
    const stored = await app.store.refundRequests.find({ orderNo: "A-RF1" }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ _id: id, amount: 2000, status: "pending", requester: "api:storefront", reason: "arrived damaged" });
    const over = await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-78", amount: "40.00" } });
    expect(over).toMatchObject({ status: 409, json: { code: "over_balance", message: "amount over the refundable balance of order A-RF1: at most 30.00 CNY is left" } });
    // Amounts as chat takes them (thousands commas); a wrong one is told what is expected, not a pattern.
    expect((await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-78b", amount: "1,000.00" } })).json.code).toBe("over_balance");
    const tooFine = await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-78c", amount: "1.234" } });
    expect([tooFine.status, tooFine.json.errors?.[0]?.expected]).toEqual([400, 'a positive amount in CNY with at most 2 decimals, such as "25.00"']);
    // A decimal comma is never a thousands separator, nor is a group led by a lone 0 ("0,005" is 5 fils, not 5 KD).
    for (const [externalId, amount] of [["ticket-78d", "12,50"], ["ticket-78e", "0,005"]]) {
      const notAmount = await call("/api/v1/refund-requests", { body: { ...item, externalId, amount } });
      expect([notAmount.status, notAmount.json.errors?.[0]?.expected], amount).toEqual([400, 'a positive amount in major units such as "25.00" or "1,200.50", or "full"']);
    }
    const unknown = await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-79", orderNo: "A-NOPE" } });
    expect(unknown).toMatchObject({ status: 422, json: { code: "unknown_order" } });
    // Another system's number is taken exactly: `a-rf1` is not A-RF1 (chat would find it).
    const lookalike = await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-81", orderNo: "a-rf1" } });
    expect(lookalike).toMatchObject({ status: 422, json: { code: "unknown_order" } });
    const bad = await call("/api/v1/refund-requests", { body: { ...item, externalId: "ticket-80", amount: "-3" } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].field).toBe("amount");
    // The same externalId for another request is a conflict, not "unchanged" (that one would be lost).
    expect((await call("/api/v1/refund-requests", { body: { ...item, amount: 20 } })).json.outcome).toBe("unchanged");
    const reused = await call("/api/v1/refund-requests", { body: { ...item, amount: "5.00" } });
    expect(reused).toMatchObject({ status: 409, json: { code: "key_conflict", message: "externalId ticket-77 was used for another refund request (order A-RF1, 20.00 CNY)" } });
    expect((await call("/api/v1/refund-requests", { body: { ...item, amount: "full" } })).json.code).toBe("key_conflict");
    expect(await app.store.refundRequests.countDocuments({ orderNo: "A-RF1" })).toBe(1);
    expect((await call("/api/v1/refund-requests", { key: ordersOnly, body: item })).status).toBe(403);
    // The request waits for a person: approving it in chat refunds the order once.
    await app.services.identity.grant("shell:mgr", "manager", "shell:admin");
    expect((await app.run("shell:mgr", `refund approve ${id}`)).outcome).toBe("ok");
    expect((await app.store.orders.findById("A-RF1").lean<OrderDoc>())?.refundedTotal).toBe(2000);
    // Nobody in chat asked: no notice waits for a deliverer that never comes (a false failure in `alerts list`).
    expect(await app.store.outbox.countDocuments({ _id: `refund:${id}:approved` })).toBe(0);
  });

  it("a refund amount with decimals its currency has not is told so, with an example in that currency (chat and API)", async () => {
    await call("/api/v1/orders", { body: order("A-JPY", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], currency: "JPY", status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    const chat = await app.run("shell:admin", "refund request A-JPY 100.5 reason=dented");
    expect([chat.code, chat.reply.text]).toEqual(["bad_amount", '"100.5" is not a refund amount: JPY has no decimals. Give a positive whole amount, e.g. 25, or full.']);
    const api = await call("/api/v1/refund-requests", { body: { externalId: "jpy-1", orderNo: "A-JPY", amount: "100.5", reason: "dented" } });
    expect(api.json.errors?.[0]?.expected).toBe('a positive whole amount (JPY has no decimals), such as "25"');
    // Named by the caller's id (no request was made), as an item the schema refuses is.
    expect(api.json.id).toBe("jpy-1");
    const zero = await call("/api/v1/refund-requests", { body: { externalId: "jpy-3", orderNo: "A-JPY", amount: 0, reason: "dented" } });
    expect(zero.json.errors?.[0]?.expected).toBe('an amount above 0, such as "25", or "full"');
    // Told before any lookup: a zero for an unknown order is the same 400, not a 422.
    expect((await call("/api/v1/refund-requests", { body: { externalId: "jpy-4", orderNo: "NOPE-1", amount: "0.00", reason: "x" } })).json).toMatchObject({ status: 400, id: "jpy-4" });
    const huge = await call("/api/v1/refund-requests", { body: { externalId: "jpy-2", orderNo: "A-JPY", amount: 12345678901234, reason: "dented" } });
    expect(huge.json.errors?.[0]?.expected).toBe('a positive amount in major units such as "25", at most 12 digits before the point, or "full"');
    expect(await app.store.refundRequests.countDocuments({ orderNo: "A-JPY" })).toBe(0);
  });

  it("the shop's full refund closes the order's pending refund requests: holds given back, requesters told, nothing left to approve", async () => {
    await call("/api/v1/orders", { body: order("A-SR1", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    await app.services.identity.grant("shell:sue", "support", "shell:admin");
    const asked = await app.run("shell:sue", "refund request A-SR1 20 reason=scratched");
    const id = /R-[A-Z0-9]+/.exec(asked.reply.title ?? "")![0];
    expect((await app.store.orders.findById("A-SR1").lean<OrderDoc>())!.heldTotal).toBe(2000);
    expect((await call("/api/v1/orders", { body: { orderNo: "A-SR1", status: "refunded", refundedAt: "2026-11-25T01:00:00Z" } })).json.outcome).toBe("updated");
    expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ status: "rejected", decidedBy: "system" });
    expect((await app.store.orders.findById("A-SR1").lean<OrderDoc>())!).toMatchObject({ refundedTotal: 5000, heldTotal: 0 });
    const notice = await app.store.outbox.findById(`refund:${id}:rejected`).lean<{ dest: { identity: string }; reply: { text: string } }>();
    expect(notice).toMatchObject({ dest: { identity: "shell:sue" } });
    expect(notice!.reply.text).toContain("rejected by system: the shop refunded the order in full, so nothing is left to refund");
    await app.services.identity.grant("shell:mgr", "manager", "shell:admin");
    const late = await app.run("shell:mgr", `refund approve ${id}`);
    expect([late.code, late.reply.text]).toEqual(["already_decided", `Refund request ${id} was already rejected by system at 2026-11-25 12:00 GMT+8 (reason: the shop refunded the order in full, so nothing is left to refund); nothing changed.`]);
  });

  it("a parked update its order refuses on arrival (a cancel for an order that comes shipped) is on the audit trail and in the log, not dropped unseen", async () => {
    await app.store.products.insertMany([product("PRK-1", { onHand: 10 })]);
    const parked = await call("/api/v1/orders", { body: { orderNo: "A-PRK1", status: "cancelled", cancelledAt: "2026-11-24T05:00:00Z" } });
    expect(parked.status).toBe(202);
    const created = await call("/api/v1/orders", { body: order("A-PRK1", { items: [{ sku: "PRK-1", qty: 1, unitPrice: 100 }], status: "shipped", paidAt: "2026-11-24T01:10:00Z", shipment: { carrier: "SF", trackingNo: "SF9", shippedAt: "2026-11-24T04:00:00Z" } }) });
    expect(created.status).toBe(201);
    expect(await app.store.orders.findById("A-PRK1").lean<OrderDoc>()).toMatchObject({ status: "shipped" });
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "A-PRK1" })).toBe(0);
    const rows = (await app.run("shell:admin", "audit subject=A-PRK1")).reply.table!.rows.map((r) => [r[1], r[3]]);
    // Under the sender's key, as its requests are (`api:<label>#<key id>`).
    expect(rows).toContainEqual([`api:storefront#${all.split("_")[1]}`, "user_error (invalid_transition)"]);
    const entry = await app.store.audit.findOne({ subject: "A-PRK1", code: "invalid_transition" }).lean();
    expect(entry!.message).toBe("order A-PRK1 is shipped; it cannot become cancelled (from shipped it can become delivered or refunded; to take back a shipped order, send status refunded with its refundedAt)");
  });

  it("refund requests on one order in a batch are taken in their order: 3.00 then full asks for 3.00 and the rest", async () => {
    await call("/api/v1/orders", { body: order("A-SEQ", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 1000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    await call("/api/v1/orders", { body: order("A-SEQ2", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 1000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    const batch = [
      { externalId: "seq-1", orderNo: "A-SEQ", amount: "3.00", reason: "a" },
      { externalId: "seq-x", orderNo: "A-SEQ2", amount: "full", reason: "other order, side by side" },
      { externalId: "seq-2", orderNo: "A-SEQ", amount: "full", reason: "b" },
      { externalId: "seq-3", orderNo: "A-SEQ", amount: "0.01", reason: "c" },
    ];
    const r = await call("/api/v1/refund-requests", { body: batch });
    expect(r.json.results.map((x: { status: number; code?: string }) => x.code ?? x.status)).toEqual([201, 201, 201, "over_balance"]);
    const held = await app.store.refundRequests.find({ orderNo: "A-SEQ" }).lean();
    expect(held.map((q) => q.amount).sort((a, b) => a - b)).toEqual([300, 700]);
  });

  it("a refund request whose balance was held the instant before the shop's full refund landed is closed, not left pending", async () => {
    await call("/api/v1/orders", { body: order("A-SR2", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    await app.services.identity.grant("shell:sue", "support", "shell:admin");
    // The interleaving, made certain: the shop's refund arrives between the request's hold and
    // its insert (so the refund's closing of the order's requests ran before this one existed).
    const requests = app.store.refundRequests as unknown as { create: (...a: unknown[]) => Promise<unknown> };
    const create = requests.create.bind(requests);
    requests.create = async (...a: unknown[]) => {
      requests.create = create;
      expect((await app.store.orders.findById("A-SR2").lean<OrderDoc>())!.heldTotal).toBe(2000);
      expect((await call("/api/v1/orders", { body: { orderNo: "A-SR2", status: "refunded", refundedAt: "2026-11-25T01:00:00Z" } })).json.outcome).toBe("updated");
      return create(...a);
    };
    const asked = await app.run("shell:sue", "refund request A-SR2 20 reason=scratched");
    expect(requests.create).toBe(create);
    expect(asked.code).toBe("already_refunded");
    const left = await app.store.refundRequests.find({ orderNo: "A-SR2" }).lean();
    expect(left.map((r) => [r.status, r.decidedBy])).toEqual([["rejected", "system"]]);
    expect((await app.store.orders.findById("A-SR2").lean<OrderDoc>())!).toMatchObject({ status: "refunded", refundedTotal: 5000, heldTotal: 0 });
  });

  it("rejects operator-shaped input and never queries with it", async () => {
    const r = await call("/api/v1/orders", { body: { orderNo: { $gt: "" }, status: "cancelled" } });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatchObject({ field: "orderNo.$gt", expected: expect.stringMatching(/no leading \$/) });
    const dotted = await call("/api/v1/inventory", { body: { sku: "SKU-1", set: 0, "onHand.x": 1 } });
    expect(dotted.status).toBe(400);
    expect(dotted.json.errors[0].field).toBe("onHand.x");
    const nested = await call("/api/v1/products", { body: { sku: "SKU-1", name: "n", category: "c", price: { $inc: 1 } } });
    expect(nested.status).toBe(400);
    // Nesting past any item's shape is refused as such, not as a bad field name.
    let deep: unknown = 1;
    for (let i = 0; i < 25; i++) deep = [deep];
    const tooDeep = await call("/api/v1/orders", { body: { orderNo: "A-DEEP", note: deep } });
    expect(tooDeep.json.errors).toEqual([{ field: `note${".0".repeat(20)}`, expected: "at most 20 levels of nesting" }]);
    expect((await prod("SKU-1"))?.onHand).toBe(100);
    expect((await prod("SKU-1"))?.price).toBe(9900);
  });
});

describe("orders", () => {
  it("an order whose amounts do not add up is created as sent, with a warning saying which (single and in a batch)", async () => {
    const one = await call("/api/v1/orders", { body: order("A-AMT1", { items: [{ sku: "SKU-8", qty: 2, unitPrice: 1000 }], subtotal: 1500, total: 1500 }) });
    expect(one.status).toBe(201);
    expect(one.json).toMatchObject({ outcome: "created", warning: "amounts_differ", message: "stored as sent, but subtotal 1500 is not the lines' sum 2000 (minor units)" });
    const batch = await call("/api/v1/orders", { body: [order("A-AMT2", { items: [{ sku: "SKU-8", qty: 1, unitPrice: 1000 }], shipping: 200, total: 1000 }), order("A-AMT3", { items: [{ sku: "SKU-8", qty: 1, unitPrice: 1000 }], shipping: 200, total: 1200 })] });
    expect(batch.json.results[0]).toMatchObject({ outcome: "created", warning: "amounts_differ", message: "stored as sent, but total 1000 is not subtotal − discount + shipping (1200) (minor units)" });
    expect(batch.json.results[1].warning).toBeUndefined();
    expect(await app.store.orders.findById("A-AMT1").lean()).toMatchObject({ subtotal: 1500, total: 1500 });
  });

  it("creates an order once, reserves stock once, and a resend changes nothing", async () => {
    const r = await call("/api/v1/orders", { body: order("A-100", { items: [{ sku: "SKU-2", qty: 3, unitPrice: 1000 }], couponCode: "WELCOME10" }) });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ outcome: "created", id: "A-100" });
    const again = await call("/api/v1/orders", { body: order("A-100", { items: [{ sku: "SKU-2", qty: 3, unitPrice: 1000 }], couponCode: "WELCOME10" }) });
    expect(again).toMatchObject({ status: 200, json: { outcome: "unchanged" } });
    expect(again.json.message).toBeUndefined();
    // A resend with other contents is not taken for a correction that landed: the answer names what was not changed.
    const edited = await call("/api/v1/orders", { body: order("A-100", { items: [{ sku: "SKU-2", qty: 5, unitPrice: 1000 }], total: 5000, customerId: "cust-2" }) });
    expect(edited).toMatchObject({ status: 200, json: { outcome: "unchanged", message: expect.stringMatching(/^not changed on an existing order: items, total, customerId \(an order's contents are fixed/) } });
    const o = await app.store.orders.findById("A-100").lean<OrderDoc>();
    expect(o).toMatchObject({ status: "pending", subtotal: 3000, total: 3000, currency: "CNY", couponCode: "WELCOME10", day: "2026-11-24" });
    expect(await prod("SKU-2")).toMatchObject({ onHand: 100, reserved: 3, available: 97 });
  });

  it("the same order sent 10 times at once leaves one order and one reservation", async () => {
    const body = order("A-200", { items: [{ sku: "SKU-3", qty: 4, unitPrice: 500 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" });
    const rs = await Promise.all(Array.from({ length: 10 }, () => call("/api/v1/orders", { body })));
    expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
    expect(rs.every((r) => r.status === 201 || r.status === 200)).toBe(true);
    expect(await app.store.orders.countDocuments({ _id: "A-200" })).toBe(1);
    const p = await prod("SKU-3");
    expect(p).toMatchObject({ onHand: 100, reserved: 4, available: 96 });
    expect(sales(p, "2026-11-24")).toBe(4);
  });

  it("moves through payment, shipment with tracking and delivery, applying each effect once", async () => {
    await call("/api/v1/orders", { body: order("A-300", { items: [{ sku: "SKU-4", qty: 5, unitPrice: 100 }] }) });
    const paid = await call("/api/v1/orders", { body: { orderNo: "A-300", status: "paid", paidAt: "2026-11-24T05:00:00Z" } });
    expect(paid).toMatchObject({ status: 200, json: { outcome: "updated" } });
    const shipped = { orderNo: "A-300", status: "shipped", shipment: { carrier: "SF", trackingNo: "SF123", shippedAt: "2026-11-25T01:00:00Z" } };
    expect((await call("/api/v1/orders", { body: shipped })).json.outcome).toBe("updated");
    expect((await call("/api/v1/orders", { body: shipped })).json.outcome).toBe("unchanged");
    expect((await call("/api/v1/orders", { body: { orderNo: "A-300", status: "delivered" } })).json.outcome).toBe("updated");
    const o = await app.store.orders.findById("A-300").lean<OrderDoc>();
    expect(o).toMatchObject({ status: "delivered", paidDay: "2026-11-24", shipment: { carrier: "SF", trackingNo: "SF123" } });
    expect(o!.history.map((h) => h.status)).toEqual(["pending", "paid", "shipped", "delivered"]);
    const p = await prod("SKU-4");
    expect(p).toMatchObject({ onHand: 95, reserved: 0, available: 95 });
    expect(sales(p, "2026-11-24")).toBe(5);
  });

  it("refuses an invalid transition with 409 and a clear message", async () => {
    await call("/api/v1/orders", { body: order("A-400S", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 100 }], status: "shipped" }) });
    const r = await call("/api/v1/orders", { body: { orderNo: "A-400S", status: "cancelled" } });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ code: "invalid_transition", message: "order A-400S is shipped; it cannot become cancelled (from shipped it can become delivered or refunded; to take back a shipped order, send status refunded with its refundedAt)" });
    expect((await app.store.orders.findById("A-400S").lean<OrderDoc>())?.status).toBe("shipped");
    expect(await prod("SKU-5")).toMatchObject({ onHand: 99, reserved: 0, available: 99 });
    // Created cancelled: reserved then released, nothing sold. A payment arriving then (sent
    // before the cancellation, or charged after it) is recorded so the order can be refunded;
    // it stays cancelled, and stock and velocity do not move.
    await call("/api/v1/orders", { body: order("A-400C", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 100 }], status: "cancelled" }) });
    const soldBefore = sales(await prod("SKU-5"), "2026-11-24");
    const paid = await call("/api/v1/orders", { body: { orderNo: "A-400C", status: "paid", paidAt: "2026-11-24T08:00:00Z" } });
    expect(paid.json.outcome).toBe("updated");
    expect(await app.store.orders.findById("A-400C").lean<OrderDoc>()).toMatchObject({ status: "cancelled", paidDay: "2026-11-24" });
    const p5 = await prod("SKU-5");
    expect(p5).toMatchObject({ onHand: 99, reserved: 0, available: 99 });
    expect(sales(p5, "2026-11-24")).toBe(soldBefore);
    expect((await app.store.orders.findById("A-400C").lean<OrderDoc>())!.effects).toMatchObject({ reserved: true, released: true, sold: true, unsold: true });
    expect((await call("/api/v1/orders", { body: { orderNo: "A-400C", status: "paid" } })).json.outcome).toBe("unchanged");
    // Refunded before shipment (stock released): a "shipped" message is news it cannot take.
    await call("/api/v1/orders", { body: order("A-400R", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 100 }], status: "paid", shipment: { carrier: "SF", shippedAt: "2026-11-24T09:00:00Z" } }) });
    expect((await app.store.orders.findById("A-400R").lean<OrderDoc>())!.shipment?.shippedAt).toBeUndefined(); // paid, not shipped: no ship date
    const refundsBefore = (await app.services.digest.digest("2026-11-24")).sales.day.refunds;
    expect((await call("/api/v1/orders", { body: { orderNo: "A-400R", status: "refunded", refundedAt: "2026-11-24T10:00:00Z" } })).json.outcome).toBe("updated");
    expect((await app.services.digest.digest("2026-11-24")).sales.day.refunds - refundsBefore).toBe(100);
    // Refunded by the shop: one refund entry of the whole total, on its day, so the digest's refunds see it.
    const r400 = (await app.store.orders.findById("A-400R").lean<OrderDoc>())!;
    expect({ refunded: r400.refundedTotal, refunds: r400.refunds.map((x) => ({ id: x.requestId, amount: x.amount, day: x.day })) }).toEqual({ refunded: 100, refunds: [{ id: "shop", amount: 100, day: "2026-11-24" }] });

    // A pending order cancelled with its payment in the same message keeps the payment; the
    // shop's refund of it later is recorded (it stays cancelled), so nobody refunds it twice.
    await call("/api/v1/orders", { body: order("A-400P", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 200 }] }) });
    expect((await call("/api/v1/orders", { body: { orderNo: "A-400P", status: "cancelled", paidAt: "2026-11-24T11:00:00Z" } })).json.outcome).toBe("updated");
    expect(await app.store.orders.findById("A-400P").lean<OrderDoc>()).toMatchObject({ status: "cancelled", paidDay: "2026-11-24" });
    expect((await call("/api/v1/orders", { body: { orderNo: "A-400P", status: "refunded", refundedAt: "2026-11-24T12:00:00Z" } })).json.outcome).toBe("updated");
    const p400 = (await app.store.orders.findById("A-400P").lean<OrderDoc>())!;
    expect({ status: p400.status, refunded: p400.refundedTotal, entries: p400.refunds.length }).toEqual({ status: "cancelled", refunded: 200, entries: 1 });
    expect((await app.run("shell:admin", "refund request A-400P full reason=again")).code).toBe("already_refunded");
    // Created refunded (an imported history): its refund is dated from the message, not the import.
    await call("/api/v1/orders", { body: order("A-400H", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 300 }], status: "refunded", paidAt: "2026-11-20T02:00:00Z", refundedAt: "2026-11-21T03:00:00Z" }) });
    expect((await app.store.orders.findById("A-400H").lean<OrderDoc>())!.refunds.map((x) => [x.amount, x.day])).toEqual([[300, "2026-11-21"]]);
    const late = await call("/api/v1/orders", { body: { orderNo: "A-400R", status: "shipped" } });
    expect([late.status, late.json.code]).toEqual([409, "invalid_transition"]);
    expect(await prod("SKU-5")).toMatchObject({ onHand: 99, reserved: 0, available: 99 });
    // Refunded later by the shop, sent as the full order (its old paid and delivered times, no
    // refundedAt): the refund is dated when the message arrived, not on the delivery day.
    await call("/api/v1/orders", { body: order("A-400D", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 400 }], status: "delivered", paidAt: "2026-11-02T02:00:00Z", deliveredAt: "2026-11-06T02:00:00Z" }) });
    await call("/api/v1/orders", { body: order("A-400D", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 400 }], status: "refunded", paidAt: "2026-11-02T02:00:00Z", deliveredAt: "2026-11-06T02:00:00Z" }) });
    const today = localDay(app.clock.now(), app.config.timeZone);
    expect((await app.store.orders.findById("A-400D").lean<OrderDoc>())!.refunds.map((x) => [x.amount, x.day])).toEqual([[400, today]]);
  });

  it("the same messages give the same order whatever their order of arrival: cancel-then-refund, refund-after-shipment, skipped steps' dates", async () => {
    const items = [{ sku: "SKU-8", qty: 2, unitPrice: 100 }];
    const before = await prod("SKU-8");
    // Cancelled, then refunded by the shop; the refund's message overtakes the cancel's. It was never a sale.
    await call("/api/v1/orders", { body: order("A-X1", { items }) });
    const times = { paidAt: "2026-11-20T03:00:00Z", cancelledAt: "2026-11-21T03:00:00Z" };
    expect((await call("/api/v1/orders", { body: { orderNo: "A-X1", status: "refunded", ...times, refundedAt: "2026-11-22T03:00:00Z" } })).json.outcome).toBe("updated");
    expect((await call("/api/v1/orders", { body: { orderNo: "A-X1", status: "cancelled", ...times } })).status).toBe(200);
    const x1 = (await app.store.orders.findById("A-X1").lean<OrderDoc>())!;
    expect({ status: x1.status, refunds: x1.refunds.map((r) => [r.amount, r.day]) }).toEqual({ status: "cancelled", refunds: [[200, "2026-11-22"]] });
    // Created that way (an imported history) too.
    await call("/api/v1/orders", { body: order("A-X2", { items, status: "refunded", ...times }) });
    expect((await app.store.orders.findById("A-X2").lean<OrderDoc>())!.status).toBe("cancelled");
    expect(await prod("SKU-8")).toMatchObject({ onHand: before!.onHand, reserved: before!.reserved });
    expect(sales(await prod("SKU-8"), "2026-11-20")).toBe(sales(before, "2026-11-20"));
    // Refunded after shipment; the refund's message overtakes "shipped": the goods left, the shipment is recorded.
    await call("/api/v1/orders", { body: order("A-X3", { items }) });
    const shipment = { carrier: "SF", trackingNo: "SF1", shippedAt: "2026-11-21T03:00:00Z" };
    expect((await call("/api/v1/orders", { body: { orderNo: "A-X3", status: "refunded", paidAt: "2026-11-20T03:00:00Z", shipment, refundedAt: "2026-11-23T03:00:00Z" } })).json.outcome).toBe("updated");
    expect((await call("/api/v1/orders", { body: { orderNo: "A-X3", status: "shipped", paidAt: "2026-11-20T03:00:00Z", shipment } })).status).toBe(200);
    expect((await app.store.orders.findById("A-X3").lean<OrderDoc>())!.shipment?.shippedAt?.toISOString()).toBe("2026-11-21T03:00:00.000Z");
    expect(await prod("SKU-8")).toMatchObject({ onHand: before!.onHand - 2, reserved: before!.reserved });
    // A step the message skips gets no date after the steps it gives: delivered on the 22nd was not shipped today.
    await call("/api/v1/orders", { body: order("A-X4", { items, status: "paid", createdAt: "2026-11-20T02:00:00Z", paidAt: "2026-11-20T03:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-X4", status: "delivered", deliveredAt: "2026-11-22T08:00:00Z" } });
    expect((await app.store.orders.findById("A-X4").lean<OrderDoc>())!.shipment?.shippedAt?.toISOString()).toBe("2026-11-22T08:00:00.000Z");
    // Nor before the steps before it, when the message's times contradict the order's: delivered "before" its payment.
    await call("/api/v1/orders", { body: order("A-X5", { items, status: "paid", createdAt: "2026-11-20T02:00:00Z", paidAt: "2026-11-21T12:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-X5", status: "delivered", deliveredAt: "2026-11-21T08:00:00Z" } });
    expect((await app.store.orders.findById("A-X5").lean<OrderDoc>())!.shipment?.shippedAt?.toISOString()).toBe("2026-11-21T12:00:00.000Z");
    // A refund after shipment that also carries a cancelledAt stays a refund of a shipped order (not refused as a cancel).
    await call("/api/v1/orders", { body: order("A-X6", { items, status: "shipped", createdAt: "2026-11-20T02:00:00Z", paidAt: "2026-11-20T03:00:00Z", shipment: { shippedAt: "2026-11-21T03:00:00Z" } }) });
    const refundCancel = await call("/api/v1/orders", { body: { orderNo: "A-X6", status: "refunded", cancelledAt: "2026-11-22T03:00:00Z", refundedAt: "2026-11-22T03:00:00Z" } });
    expect([refundCancel.status, (await app.store.orders.findById("A-X6").lean<OrderDoc>())!.status]).toEqual([200, "refunded"]);
    // Created already refunded after delivery, or updated so: the same shipment either way.
    await call("/api/v1/orders", { body: order("A-X7", { items, status: "refunded", createdAt: "2026-11-20T02:00:00Z", paidAt: "2026-11-20T03:00:00Z", deliveredAt: "2026-11-22T03:00:00Z", refundedAt: "2026-11-23T03:00:00Z" }) });
    expect((await app.store.orders.findById("A-X7").lean<OrderDoc>())!.shipment?.shippedAt).toBeInstanceOf(Date);
  });

  it("a time filled in for a skipped step gives way to the real one when it comes: the same order and sales day whatever the order of arrival, its sales moved once", async () => {
    const items = [{ sku: "SKU-7", qty: 3, unitPrice: 500 }];
    const before = await prod("SKU-7");
    const day = async (d: string) => (await app.store.salesDays.findById(`${d}|EUR`).lean<{ gmv: number; orders: number; units: number }>()) ?? { gmv: 0, orders: 0, units: 0 };
    const paid = { status: "paid", paidAt: "2026-11-20T03:00:00Z" };
    const shipped = { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF9", shippedAt: "2026-11-21T03:00:00Z" } };
    // In order: created, paid, shipped.
    await call("/api/v1/orders", { body: order("A-F1", { items, currency: "EUR", createdAt: "2026-11-19T02:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-F1", ...paid } });
    await call("/api/v1/orders", { body: { orderNo: "A-F1", ...shipped } });
    // The payment's message late: the shipment fills in a payment time (its ship time, the 21st), shown as estimated.
    await call("/api/v1/orders", { body: order("A-F2", { items, currency: "EUR", createdAt: "2026-11-19T02:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-F2", ...shipped } });
    expect((await app.store.orders.findById("A-F2").lean<OrderDoc>())!.paidDay).toBe("2026-11-21");
    expect([(await day("2026-11-20")).orders, (await day("2026-11-21")).orders]).toEqual([1, 1]);
    expect(field(await app.run("shell:admin", "order A-F2"), "Timeline")).toMatch(/Paid[^\n]*time estimated/);
    // Then the real one, delivered twice at once: the payment and its sales move to the 20th, once.
    const both = await Promise.all([0, 1].map(() => call("/api/v1/orders", { body: { orderNo: "A-F2", ...paid } })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    const [f1, f2] = (await Promise.all(["A-F1", "A-F2"].map((no) => app.store.orders.findById(no).lean<OrderDoc>()))) as [OrderDoc, OrderDoc];
    const facts = (o: OrderDoc) => ({ status: o.status, paidAt: o.paidAt?.toISOString(), paidDay: o.paidDay, shippedAt: o.shipment?.shippedAt?.toISOString() });
    expect(facts(f2)).toEqual(facts(f1));
    expect(facts(f2)).toMatchObject({ paidDay: "2026-11-20", paidAt: "2026-11-20T03:00:00.000Z" });
    expect([await day("2026-11-20"), await day("2026-11-21")]).toMatchObject([{ gmv: 3000, orders: 2, units: 6 }, { gmv: 0, orders: 0, units: 0 }]);
    const p = await prod("SKU-7");
    expect([sales(p, "2026-11-20") - sales(before, "2026-11-20"), sales(p, "2026-11-21") - sales(before, "2026-11-21")]).toEqual([6, 0]);
    expect(field(await app.run("shell:admin", "order A-F2"), "Timeline")).not.toMatch(/estimated/);
    // Said again: nothing more moves.
    expect((await call("/api/v1/orders", { body: { orderNo: "A-F2", ...paid } })).json.outcome).toBe("unchanged");
    expect([await day("2026-11-20"), await day("2026-11-21")]).toMatchObject([{ gmv: 3000, orders: 2 }, { gmv: 0, orders: 0 }]);
    // Created paid without a payment time (taken as its creation, the 19th), corrected, then cancelled: off every day.
    await call("/api/v1/orders", { body: order("A-F4", { items, currency: "EUR", createdAt: "2026-11-19T02:00:00Z", status: "paid" }) });
    expect((await day("2026-11-19")).orders).toBe(1);
    await call("/api/v1/orders", { body: { orderNo: "A-F4", ...paid } });
    expect([await day("2026-11-19"), await day("2026-11-20")]).toMatchObject([{ gmv: 0, orders: 0, units: 0 }, { gmv: 4500, orders: 3, units: 9 }]);
    expect((await call("/api/v1/orders", { body: { orderNo: "A-F4", status: "cancelled" } })).status).toBe(200);
    expect([await day("2026-11-19"), await day("2026-11-20")]).toMatchObject([{ gmv: 0, orders: 0, units: 0 }, { gmv: 3000, orders: 2, units: 6 }]);
    const q = await prod("SKU-7");
    expect(["2026-11-19", "2026-11-20", "2026-11-21"].map((d) => sales(q, d) - sales(before, d))).toEqual([0, 6, 0]);
    // A creation time inferred (the first message gave none) is pulled back by an earlier time given later.
    await call("/api/v1/orders", { body: { ...order("A-F5", { items, currency: "EUR", ...shipped }), createdAt: undefined } });
    expect(field(await app.run("shell:admin", "order A-F5"), "Timeline")).toMatch(/Created \(time estimated/);
    await call("/api/v1/orders", { body: { orderNo: "A-F5", ...paid } });
    const f5 = (await app.store.orders.findById("A-F5").lean<OrderDoc>())!;
    expect([f5.createdAt.toISOString(), f5.day, f5.paidAt?.toISOString()]).toEqual(["2026-11-20T03:00:00.000Z", "2026-11-20", "2026-11-20T03:00:00.000Z"]);
    // A ship time filled in by a delivery message is replaced by the shipment's own.
    await call("/api/v1/orders", { body: order("A-F3", { items, currency: "EUR", createdAt: "2026-11-19T02:00:00Z", status: "paid", paidAt: "2026-11-20T03:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-F3", status: "delivered", deliveredAt: "2026-11-23T03:00:00Z" } });
    await call("/api/v1/orders", { body: { orderNo: "A-F3", ...shipped } });
    expect(facts((await app.store.orders.findById("A-F3").lean<OrderDoc>())!)).toMatchObject({ status: "delivered", shippedAt: "2026-11-21T03:00:00.000Z" });
  });

  it("the shop's carrier and tracking: a resend does not undo a correction made in chat, a new number replaces it in the timeline, an order that ended unshipped takes none, nor a shipment (409)", async () => {
    const items = [{ sku: "SKU-4", qty: 1, unitPrice: 900 }];
    const shipped = { status: "shipped", paidAt: "2026-11-23T03:00:00Z", shipment: { carrier: "SF", trackingNo: "SF100", shippedAt: "2026-11-24T03:00:00Z" } };
    await call("/api/v1/orders", { body: order("A-T1", { items, ...shipped }) });
    expect((await app.run("shell:admin", 'order tracking A-T1 tracking=SF1000 reason="typo on the label"')).outcome).toBe("ok");
    // The storefront resends its snapshot (a delivery): the number it gave before is not news.
    expect((await call("/api/v1/orders", { body: { orderNo: "A-T1", ...shipped, status: "delivered", deliveredAt: "2026-11-25T01:00:00Z" } })).json.outcome).toBe("updated");
    expect((await app.store.orders.findById("A-T1").lean<OrderDoc>())!.shipment).toMatchObject({ carrier: "SF", trackingNo: "SF1000" });
    // A number it never gave is its correction: replaced, and said in the timeline.
    await call("/api/v1/orders", { body: { orderNo: "A-T1", status: "delivered", shipment: { trackingNo: "YT9" } } });
    expect((await app.store.orders.findById("A-T1").lean<OrderDoc>())!.shipment).toMatchObject({ carrier: "SF", trackingNo: "YT9" });
    expect(field(await app.run("shell:admin", "order A-T1"), "Timeline")).toMatch(/Tracking corrected \(by api:storefront\): SF SF1000 → SF YT9/);
    // The shop naming what chat recorded is no change.
    await call("/api/v1/orders", { body: order("A-T6", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    expect((await app.run("shell:admin", "order ship A-T6 carrier=SF tracking=SF600")).outcome).toBe("ok");
    expect((await call("/api/v1/orders", { body: { orderNo: "A-T6", status: "shipped", shipment: { carrier: "SF", trackingNo: "SF600" } } })).json.outcome).toBe("unchanged");
    // Any number the shop gave before is a resend, not only its last: a late retry of the first changes nothing.
    expect((await call("/api/v1/orders", { body: { orderNo: "A-T1", ...shipped, status: "delivered" } })).json.outcome).toBe("unchanged");
    expect((await app.store.orders.findById("A-T1").lean<OrderDoc>())!.shipment).toMatchObject({ trackingNo: "YT9" });
    // Cancelled in chat before it shipped: a tracking number is not taken (named), a shipment is refused.
    await call("/api/v1/orders", { body: order("A-T2", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    expect((await app.run("shell:admin", 'order cancel A-T2 reason="customer asked"')).outcome).toBe("ok");
    const before = await prod("SKU-4");
    const tracking = await call("/api/v1/orders", { body: { orderNo: "A-T2", status: "cancelled", shipment: { carrier: "YTO", trackingNo: "YT1" } } });
    expect(tracking.json).toMatchObject({ outcome: "unchanged", ignored: ["shipment.carrier", "shipment.trackingNo"] });
    const refundShipped = await call("/api/v1/orders", { body: { orderNo: "A-T2", status: "refunded", shipment: { carrier: "YTO", trackingNo: "YT1", shippedAt: "2026-11-24T03:00:00Z" }, refundedAt: "2026-11-25T01:00:00Z" } });
    expect([refundShipped.status, refundShipped.json.code]).toEqual([409, "invalid_transition"]);
    const t2 = (await app.store.orders.findById("A-T2").lean<OrderDoc>())!;
    expect([t2.status, t2.shipment?.trackingNo, t2.shipment?.shippedAt, t2.refunds.length]).toEqual(["cancelled", undefined, undefined, 0]);
    expect(await prod("SKU-4")).toMatchObject({ onHand: before!.onHand, reserved: before!.reserved });
    // One message that cancels and says it shipped: refused the first time and on every retry, created or updated.
    await call("/api/v1/orders", { body: order("A-T3", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    const both = { status: "cancelled", cancelledAt: "2026-11-24T05:00:00Z", shipment: { carrier: "SF", trackingNo: "SF9", shippedAt: "2026-11-24T03:00:00Z" } };
    for (let i = 0; i < 2; i++) expect((await call("/api/v1/orders", { body: { orderNo: "A-T3", ...both } })).status).toBe(409);
    expect((await call("/api/v1/orders", { body: order("A-T4", { items, ...both }) })).json).toMatchObject({ status: 409, code: "invalid_transition" });
    expect((await call("/api/v1/orders", { body: [order("A-T4", { items, ...both })] })).json.results[0]).toMatchObject({ status: 409, code: "invalid_transition" });
    expect(await app.store.orders.exists({ _id: "A-T4" })).toBeNull();
    expect((await app.store.orders.findById("A-T3").lean<OrderDoc>())!.status).toBe("paid");
    // Created cancelled with a label: no shipment kept, and the answer says so.
    const created = await call("/api/v1/orders", { body: order("A-T5", { items, status: "cancelled", shipment: { carrier: "SF", trackingNo: "SF5" } }) });
    expect(created.json).toMatchObject({ outcome: "created", ignored: ["shipment.carrier", "shipment.trackingNo"] });
    expect((await app.store.orders.findById("A-T5").lean<OrderDoc>())!.shipment?.trackingNo).toBeUndefined();
  });

  it("large sums do not wrap: a day's GMV and a product's stock past 2^31 minor units or units stay exact", async () => {
    await call("/api/v1/products", { body: { sku: "BIG-1", name: "Gold bar", category: "Valuables", price: 1_000_000_000, onHand: 10 } });
    for (const no of ["A-BIG1", "A-BIG2", "A-BIG3"]) {
      expect((await call("/api/v1/orders", { body: order(no, { items: [{ sku: "BIG-1", qty: 1, unitPrice: 1_000_000_000 }], currency: "CHF", status: "paid", paidAt: "2026-11-23T03:00:00Z" }) })).status).toBe(201);
    }
    expect(await app.store.salesDays.findById("2026-11-23|CHF").lean()).toMatchObject({ gmv: 3_000_000_000, orders: 3 });
    // Refund holds on a 30M order: two of 12M are held exactly, a third of 40M is over the balance.
    await call("/api/v1/orders", { body: order("A-BIG4", { items: [{ sku: "BIG-1", qty: 1, unitPrice: 3_000_000_000 }], status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    for (const id of ["big-r1", "big-r2"]) expect((await call("/api/v1/refund-requests", { body: { externalId: id, orderNo: "A-BIG4", amount: "12,000,000.00", reason: "x" } })).status).toBe(201);
    expect((await app.store.orders.findById("A-BIG4").lean<OrderDoc>())!.heldTotal).toBe(2_400_000_000);
    expect((await call("/api/v1/refund-requests", { body: { externalId: "big-r3", orderNo: "A-BIG4", amount: "40,000,000.00", reason: "x" } })).json.code).toBe("over_balance");
    // Stock just below 2^31 (one change moves at most 9,999,999 units), then changes across it.
    await app.store.products.updateOne({ _id: "BIG-1" }, { $set: { onHand: 2_147_483_000, available: 2_147_482_996 } });
    for (const key of ["BIG-K1", "BIG-K2", "BIG-K3"]) expect((await call("/api/v1/inventory", { body: { sku: "BIG-1", delta: 9_999_999, key } })).status).toBe(200);
    expect(await prod("BIG-1")).toMatchObject({ onHand: 2_177_482_997, reserved: 4, available: 2_177_482_993 });
  });

  it("a refund or cancellation time beside an earlier status is taken, not dropped unsaid; a cancellation beside a shipped status is a 409", async () => {
    const items = [{ sku: "SKU-3", qty: 1, unitPrice: 700 }];
    const o = async (no: string) => (await app.store.orders.findById(no).lean<OrderDoc>())!;
    // Created "paid" with the shop's refund time: refunded, the refund recorded for the digest.
    expect((await call("/api/v1/orders", { body: order("A-ST1", { items, status: "paid", paidAt: "2026-11-24T03:00:00Z", refundedAt: "2026-11-24T05:00:00Z" }) })).status).toBe(201);
    expect(await o("A-ST1")).toMatchObject({ status: "refunded", refundedTotal: 700, refunds: [{ amount: 700, day: "2026-11-24" }] });
    // A delivered order, then its status again with the refund time: refunded (was "unchanged").
    await call("/api/v1/orders", { body: order("A-ST2", { items, status: "delivered", paidAt: "2026-11-23T03:00:00Z", deliveredAt: "2026-11-24T03:00:00Z" }) });
    expect((await call("/api/v1/orders", { body: { orderNo: "A-ST2", status: "delivered", refundedAt: "2026-11-24T09:00:00Z" } })).json.outcome).toBe("updated");
    expect(await o("A-ST2")).toMatchObject({ status: "refunded", refundedTotal: 700 });
    // "paid" with a cancellation time: cancelled.
    await call("/api/v1/orders", { body: order("A-ST3", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    await call("/api/v1/orders", { body: { orderNo: "A-ST3", status: "paid", cancelledAt: "2026-11-24T09:00:00Z" } });
    expect((await o("A-ST3")).status).toBe("cancelled");
    // "shipped" or "delivered" with a cancellation time cannot both be: 409, created or updated.
    expect((await call("/api/v1/orders", { body: order("A-ST4", { items, status: "shipped", cancelledAt: "2026-11-24T09:00:00Z" }) })).status).toBe(409);
    await call("/api/v1/orders", { body: order("A-ST5", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    expect((await call("/api/v1/orders", { body: { orderNo: "A-ST5", status: "delivered", cancelledAt: "2026-11-24T09:00:00Z" } })).status).toBe(409);
    expect((await o("A-ST5")).status).toBe("paid");
    // "delivered" with a refund time: the goods went out, whatever arrives first; with a cancellation time too it stays a refund.
    const before = await prod("SKU-3");
    await call("/api/v1/orders", { body: order("A-ST8", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    await call("/api/v1/orders", { body: order("A-ST9", { items, status: "paid", paidAt: "2026-11-23T03:00:00Z" }) });
    const refundMsg = (no: string) => ({ orderNo: no, status: "delivered", refundedAt: "2026-11-24T09:00:00Z" });
    const deliveredMsg = (no: string) => ({ orderNo: no, status: "delivered", deliveredAt: "2026-11-24T05:00:00Z", shipment: { shippedAt: "2026-11-24T01:00:00Z" } });
    expect((await call("/api/v1/orders", { body: refundMsg("A-ST8") })).status).toBe(200);
    expect((await call("/api/v1/orders", { body: deliveredMsg("A-ST8") })).status).toBe(200);
    await call("/api/v1/orders", { body: deliveredMsg("A-ST9") });
    await call("/api/v1/orders", { body: refundMsg("A-ST9") });
    const [s8, s9] = [await o("A-ST8"), await o("A-ST9")];
    expect([s8.status, !!s8.shipment?.shippedAt, s8.history.map((h) => h.status)]).toEqual(["refunded", true, ["paid", "shipped", "delivered", "refunded"]]);
    expect([s9.status, !!s9.shipment?.shippedAt]).toEqual(["refunded", true]);
    expect((await prod("SKU-3"))!.onHand).toBe(before!.onHand - 2);
    await call("/api/v1/orders", { body: order("A-ST10", { items, status: "delivered", paidAt: "2026-11-23T03:00:00Z", refundedAt: "2026-11-24T09:00:00Z", cancelledAt: "2026-11-24T09:00:00Z" }) });
    expect([(await o("A-ST10")).status, !!(await o("A-ST10")).shipment?.shippedAt]).toEqual(["refunded", true]);
    // "paid" with a cancellation time for an order that shipped: refused, as a bare cancellation is (it was dropped).
    expect((await call("/api/v1/orders", { body: { orderNo: "A-ST9", status: "paid", cancelledAt: "2026-11-25T01:00:00Z" } })).status).toBe(409);
    // A shop refund dated before the order was paid or created (a wrong clock) falls on the day it was, at the earliest.
    await call("/api/v1/orders", { body: order("A-ST6", { items }) });
    await call("/api/v1/orders", { body: { orderNo: "A-ST6", status: "refunded", refundedAt: "2026-11-20T05:00:00Z" } });
    expect((await o("A-ST6")).refunds.map((r) => r.day)).toEqual(["2026-11-24"]);
    await call("/api/v1/orders", { body: order("A-ST7", { items, status: "refunded", paidAt: "2026-11-22T03:00:00Z", refundedAt: "2026-11-21T03:00:00Z" }) });
    expect((await o("A-ST7")).refunds.map((r) => r.day)).toEqual(["2026-11-22"]);
  });

  it("cancelling a paid order releases its stock and takes its units out of velocity", async () => {
    await call("/api/v1/orders", { body: order("A-500", { items: [{ sku: "SKU-6", qty: 2, unitPrice: 100 }], status: "paid", paidAt: "2026-11-24T06:00:00Z" }) });
    expect(sales(await prod("SKU-6"), "2026-11-24")).toBe(2);
    const r = await call("/api/v1/orders", { body: { orderNo: "A-500", status: "cancelled" } });
    expect(r.json.outcome).toBe("updated");
    const p = await prod("SKU-6");
    expect(p).toMatchObject({ onHand: 100, reserved: 0, available: 100 });
    expect(sales(p, "2026-11-24")).toBe(0);
  });

  it("updates that arrive before the order are kept and applied when it arrives", async () => {
    const before = await prod("SKU-1");
    // Sent as printed (full-width, spaces, lower case): stored in the one spelling chat uses.
    const shipped = await call("/api/v1/orders", { body: { orderNo: "A-600", status: "shipped", shipment: { trackingNo: "ｙｔ 9" } } });
    expect(shipped.status).toBe(202);
    const paid = await call("/api/v1/orders", { body: { orderNo: "A-600", status: "paid", paidAt: "2026-11-24T07:00:00Z" } });
    expect(paid).toMatchObject({ status: 202, json: { outcome: "parked" } });
    expect(await app.store.orders.countDocuments({ _id: "A-600" })).toBe(0);
    expect((await call("/api/v1/orders", { body: order("A-600") })).status).toBe(201);
    const o = await app.store.orders.findById("A-600").lean<OrderDoc>();
    expect(o).toMatchObject({ status: "shipped", paidDay: "2026-11-24", shipment: { trackingNo: "YT9" } });
    expect(o!.history.map((h) => h.status)).toEqual(["pending", "paid", "shipped"]);
    const p = await prod("SKU-1");
    expect(p).toMatchObject({ onHand: before!.onHand - 2, reserved: before!.reserved, available: before!.available - 2 });
    expect(sales(p, "2026-11-24") - sales(before, "2026-11-24")).toBe(2);
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "A-600" })).toBe(0);
    // Late deliveries of the earlier messages change nothing more.
    expect((await call("/api/v1/orders", { body: order("A-600") })).json.outcome).toBe("unchanged");
    expect((await call("/api/v1/orders", { body: { orderNo: "A-600", status: "paid" } })).json.outcome).toBe("unchanged");
    expect(await prod("SKU-1")).toMatchObject({ onHand: p!.onHand, reserved: p!.reserved });
  });

  it("parked updates left behind when the process stopped after the create are applied by the order's next message", async () => {
    expect((await call("/api/v1/orders", { body: { orderNo: "A-650", status: "paid", paidAt: "2026-11-24T07:00:00Z" } })).status).toBe(202);
    // As if the create landed and the process died before draining: the order exists, the update
    // is still parked. (Written without `effects`: untracked, so no stock moves in this test.)
    await app.store.orders.collection.insertOne({
      _id: "A-650", items: [{ sku: "SKU-1", qty: 2, unitPrice: 1500 }], subtotal: 3000, discount: 0, shipping: 0, total: 3000, currency: "CNY",
      status: "pending", channel: "api", customerId: "cust-1", createdAt: new Date("2026-11-24T02:00:00Z"), day: "2026-11-24", refundedTotal: 0, refunds: [], history: [],
    } as never);
    expect((await app.store.orders.findById("A-650").lean<OrderDoc>())?.status).toBe("pending");
    // A retry of the create (or any later message) finishes the job.
    expect((await call("/api/v1/orders", { body: order("A-650") })).status).toBe(200);
    expect((await app.store.orders.findById("A-650").lean<OrderDoc>())?.status).toBe("paid");
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "A-650" })).toBe(0);
    // With no later message (the sender gave up), the order-effects pass applies them.
    expect((await call("/api/v1/orders", { body: { orderNo: "A-651", status: "paid", paidAt: "2026-11-24T07:00:00Z" } })).status).toBe(202);
    await app.store.orders.collection.insertOne({
      _id: "A-651", items: [{ sku: "SKU-1", qty: 2, unitPrice: 1500 }], subtotal: 3000, discount: 0, shipping: 0, total: 3000, currency: "CNY",
      status: "pending", channel: "api", customerId: "cust-1", createdAt: new Date("2026-11-24T02:00:00Z"), day: "2026-11-24", refundedTotal: 0, refunds: [], history: [],
    } as never);
    const later = new Date(app.clock.now().getTime() + 3_600_000);
    expect((await repairOrderEffects(app.services, later, later, 0))?.drained).toEqual(["A-651"]);
    expect((await app.store.orders.findById("A-651").lean<OrderDoc>())?.status).toBe("paid");
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "A-651" })).toBe(0);
  });

  it("a full shipped snapshot before the create applies every effect once; the late create is stale", async () => {
    const before = await prod("SKU-2");
    const r = await call("/api/v1/orders", { body: order("A-700", { items: [{ sku: "SKU-2", qty: 1, unitPrice: 100 }], status: "shipped" }) });
    expect(r.status).toBe(201);
    expect((await call("/api/v1/orders", { body: order("A-700", { items: [{ sku: "SKU-2", qty: 1, unitPrice: 100 }] }) })).json.outcome).toBe("unchanged");
    expect((await app.store.orders.findById("A-700").lean<OrderDoc>())?.status).toBe("shipped");
    expect(await prod("SKU-2")).toMatchObject({ onHand: before!.onHand - 1, reserved: before!.reserved });
  });

  it("a delivery after a crash between the product update and the order's flag finishes without applying twice", async () => {
    const body = order("A-900", { items: [{ sku: "SKU-6", qty: 3, unitPrice: 100 }], status: "paid", paidAt: "2026-11-24T08:00:00Z" });
    await call("/api/v1/orders", { body });
    const after = await prod("SKU-6");
    // As if the process died after changing the product but before flagging the order.
    await app.store.orders.collection.updateOne({ _id: "A-900" as never }, { $set: { effects: {} } });
    expect((await call("/api/v1/orders", { body })).json.outcome).toBe("unchanged");
    expect(await prod("SKU-6")).toMatchObject({ reserved: after!.reserved, available: after!.available });
    expect(sales(await prod("SKU-6"), "2026-11-24")).toBe(sales(after, "2026-11-24"));
    expect((await app.store.orders.findById("A-900").lean<OrderDoc>())?.effects).toMatchObject({ reserved: true, sold: true });
    // As if it died after storing the order but before any product change: the next delivery applies them once.
    const o = await app.store.orders.findById("A-900").lean<OrderDoc>();
    await app.store.orders.collection.insertOne({ ...o!, _id: "A-901" as never, effects: {} } as never);
    await call("/api/v1/orders", { body: { ...body, orderNo: "A-901" } });
    await call("/api/v1/orders", { body: { ...body, orderNo: "A-901" } });
    expect(await prod("SKU-6")).toMatchObject({ reserved: after!.reserved + 3, available: after!.available - 3 });
    expect(sales(await prod("SKU-6"), "2026-11-24")).toBe(sales(after, "2026-11-24") + 3);
  });

  it("an order with an unknown SKU is refused (422) and stores nothing", async () => {
    const r = await call("/api/v1/orders", { body: order("A-800", { items: [{ sku: "NOPE-1", qty: 1, unitPrice: 1 }] }) });
    expect(r).toMatchObject({ status: 422, json: { code: "unknown_sku" } });
    expect(await app.store.orders.countDocuments({ _id: "A-800" })).toBe(0);
  });
});

describe("batches", () => {
  it("applies each valid item, reports each invalid one, and a retried batch changes nothing more", async () => {
    const batch = [
      order("B-1", { items: [{ sku: "SKU-5", qty: 1, unitPrice: 100 }] }),
      { orderNo: "B-2", status: "paid" }, // an update before its order → parked
      order("B-3", { items: [{ sku: "SKU-5", qty: "two", unitPrice: 100 }] }),
      order("B-4", { items: [{ sku: "SKU-5", qty: 2, unitPrice: 100 }], customerId: { $ne: null } }),
      order("B-5", { items: [{ sku: "SKU-5", qty: 3, unitPrice: 100 }] }),
    ];
    const before = await prod("SKU-5");
    const r = await call("/api/v1/orders", { body: batch });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: { status: number }) => x.status)).toEqual([201, 202, 400, 400, 201]);
    expect(r.json.results[2]).toMatchObject({ index: 2, id: "B-3", errors: [{ field: "items.0.qty" }] });
    expect(r.json.results[3].errors[0].field).toBe("customerId.$ne");
    expect(r.json.summary).toEqual({ created: 2, updated: 0, unchanged: 0, parked: 1, failed: 2 });
    const mid = await prod("SKU-5");
    expect(mid!.reserved - before!.reserved).toBe(4);

    const again = await call("/api/v1/orders", { body: batch });
    expect(again.json.summary).toEqual({ created: 0, updated: 0, unchanged: 2, parked: 1, failed: 2 });
    // The order itself (items) without its customer is a create that cannot be made: refused, not kept as an update.
    const noCustomer = await call("/api/v1/orders", { body: [{ orderNo: "B-6", items: [{ sku: "SKU-5", qty: 1, unitPrice: 100 }] }] });
    expect(noCustomer.json.results[0]).toMatchObject({ status: 400, id: "B-6", errors: [{ field: "customerId", expected: "a value (required to create an order)" }] });
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "B-6" })).toBe(0);
    expect(await prod("SKU-5")).toMatchObject({ reserved: mid!.reserved, available: mid!.available });
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "B-2" })).toBe(1);
  });

  it("four concurrent copies of a batch create each order once and apply its stock, sales and GMV once", async () => {
    const paid = { status: "paid", paidAt: "2026-11-22T03:00:00Z" }; // 11:00 on the 22nd in Shanghai
    const batch = [
      order("K-1", { items: [{ sku: "SKU-7", qty: 1, unitPrice: 700 }], ...paid }),
      order("K-2", { items: [{ sku: "SKU-7", qty: 2, unitPrice: 300 }, { sku: "SKU-8", qty: 1, unitPrice: 50 }] }),
      { orderNo: "K-2", ...paid }, // its payment, later in the same batch
      order("K-3", { items: [{ sku: "SKU-8", qty: 4, unitPrice: 100 }], ...paid }),
      order("K-1", { items: [{ sku: "SKU-7", qty: 1, unitPrice: 700 }], ...paid }), // a repeat
    ];
    const [s7, s8] = [await prod("SKU-7"), await prod("SKU-8")];
    const day = async () => (await app.store.salesDays.findById("2026-11-22|CNY").lean()) ?? { gmv: 0, orders: 0 };
    const gmvBefore = await day();
    const rs = await Promise.all(Array.from({ length: 4 }, () => call("/api/v1/orders", { body: batch })));
    for (const r of rs) {
      expect(r.status).toBe(200);
      expect(r.json.summary.failed).toBe(0);
    }
    // Each order was created by exactly one of the copies.
    expect(rs.reduce((n, r) => n + r.json.summary.created, 0)).toBe(3);
    expect((await app.store.orders.find({ _id: { $in: ["K-1", "K-2", "K-3"] } }).lean<OrderDoc[]>()).map((o) => `${o._id}:${o.status}`).sort()).toEqual(["K-1:paid", "K-2:paid", "K-3:paid"]);
    expect(await prod("SKU-7")).toMatchObject({ reserved: s7!.reserved + 3, available: s7!.available - 3 });
    expect(await prod("SKU-8")).toMatchObject({ reserved: s8!.reserved + 5, available: s8!.available - 5 });
    expect(sales(await prod("SKU-7"), "2026-11-22") - sales(s7, "2026-11-22")).toBe(3);
    expect(sales(await prod("SKU-8"), "2026-11-22") - sales(s8, "2026-11-22")).toBe(5);
    const after = await day();
    expect({ gmv: after.gmv - gmvBefore.gmv, orders: after.orders - gmvBefore.orders }).toEqual({ gmv: 700 + 650 + 400, orders: 3 });
  });

  it("audits each request of a known key: who, what, result; refusals of the key too, unknown callers not", async () => {
    const { id: keyId, token: shop } = await app.services.apiKeys.create("audit-shop", ["orders"], "shell:admin");
    const mixed = await call("/api/v1/orders", { key: shop, body: [order("AU-1"), order("AU-2", { items: [] })] });
    expect(mixed.json.summary).toMatchObject({ created: 1, failed: 1 });
    await call("/api/v1/orders", { key: shop, body: order("AU-3") });
    await call("/api/v1/products", { key: shop, body: { sku: "SKU-AU", name: "x", price: 100 } });
    await call("/api/v1/orders", { key: "shopops_kNOPE000000_" + "x".repeat(43), body: order("AU-4") });
    // The actor names the key, not only its label (labels need not be unique).
    const actor = `api:audit-shop#${keyId}`;
    const got = await app.store.audit.find({ actor }).sort({ at: 1 }).lean();
    expect(got.map((e) => [e.actor, e.platform, e.command, e.outcome, e.code ?? null])).toEqual([
      [actor, "http", "api orders", "user_error", "partial"],
      [actor, "http", "api orders", "ok", null],
      [actor, "http", "api products", "denied", "forbidden"],
    ]);
    expect(got[0]!.args).toMatch(/^POST \/api\/v1\/orders: batch of 2 \(created 1, .*failed 1\); ids AU-1, AU-2 \[key k[0-9A-Z]{10}\]$/);
    expect(got[1]!.args).toMatch(/^POST \/api\/v1\/orders: created AU-3 /);
    expect(await app.store.audit.countDocuments({ args: /AU-4/ })).toBe(0); // a bad key: no caller to name
    // The trail is readable in chat like any other; the bare label finds the key's entries.
    const r = await app.run("shell:admin", "audit actor=api:audit-shop");
    expect(r.reply.table!.rows).toHaveLength(3);
    expect(JSON.stringify(r.reply)).toContain("api orders");
    expect((await app.run("shell:admin", `audit actor=${actor}`)).reply.table!.rows).toHaveLength(3);
    // A known key answered 404 or 405 is on its trail too; the status stays what route and method say.
    expect((await call("/api/v1/orderz", { key: shop, body: order("AU-5") })).status).toBe(404);
    expect((await call("/api/v1/orders", { key: shop, method: "GET" })).status).toBe(405);
    expect((await call("/api/v1/orderz", { key: "shopops_kNOPE000000_" + "x".repeat(43), body: order("AU-6") })).status).toBe(404);
    const refused = await app.store.audit.find({ actor, code: { $in: ["not_found", "method_not_allowed"] } }).sort({ at: 1 }).lean();
    expect(refused.map((e) => [e.command, e.args.replace(/ \[key .*\]$/, ""), e.outcome, e.code])).toEqual([
      ["api", "POST /api/v1/orderz", "user_error", "not_found"],
      ["api orders", "GET /api/v1/orders", "user_error", "method_not_allowed"],
    ]);
  });

  it("audit subject= finds what the API did to a record, beside what chat and the bot did to it", async () => {
    await call("/api/v1/orders", { body: order("AS-1", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }], status: "paid", paidAt: "2026-11-24T03:00:00Z" }) });
    const complaint = await call("/api/v1/complaints", { body: { externalId: "as-c1", customerId: "c-1", orderNo: "AS-1", text: "lid cracked" } });
    const request = await call("/api/v1/refund-requests", { body: { externalId: "as-r1", orderNo: "AS-1", amount: "10.00", reason: "lid" } });
    await call("/api/v1/refund-requests", { body: [{ externalId: "as-r2", orderNo: "AS-1", amount: "5.00", reason: "batch" }] });
    await app.services.identity.grant("shell:as-mgr", "manager", "shell:admin");
    expect((await app.run("shell:as-mgr", `refund approve ${request.json.id}`)).outcome).toBe("ok");
    const commands = async (subject: string) => (await app.run("shell:admin", `audit subject=${subject}`)).reply.table?.rows.map((r) => r[2]!.split(" ").slice(0, 2).join(" ")) ?? [];
    expect((await commands(complaint.json.id)).sort()).toEqual(["api complaints"]);
    expect((await commands(request.json.id)).sort()).toEqual(["api refund-requests", "refund approve", "refund execute"]);
    expect((await commands("AS-1")).sort()).toEqual(["api complaints", "api orders", "api refund-requests", "api refund-requests", "refund approve", "refund execute"]);
    // A request the bot closes itself (expired by time) is on the trail too, once.
    const other = (await app.store.refundRequests.findOne({ orderNo: "AS-1", status: "pending" }).lean())!;
    app.clock.advance(100 * 3_600_000);
    await app.services.refund.expireDue();
    await app.services.refund.expireDue();
    expect(await app.store.audit.find({ subject: other._id }).lean()).toEqual(expect.arrayContaining([expect.objectContaining({ actor: "system", platform: "system", command: "refund expire", outcome: "ok" })]));
    expect(await app.store.audit.countDocuments({ subject: other._id, command: "refund expire" })).toBe(1);
  });

  it("two keys with one label are told apart in the trail", async () => {
    const a = await app.services.apiKeys.create("twin-shop", ["orders"], "shell:admin");
    const b = await app.services.apiKeys.create("twin-shop", ["orders"], "shell:admin");
    await call("/api/v1/orders", { key: a.token, body: order("TW-1") });
    await call("/api/v1/orders", { key: b.token, body: order("TW-2") });
    const got = await app.store.audit.find({ actor: /^api:twin-shop/ }).sort({ at: 1 }).lean();
    expect(got.map((e) => e.actor)).toEqual([`api:twin-shop#${a.id}`, `api:twin-shop#${b.id}`]);
  });

  it("gives each request its own collision-safe audit ref (a UUID), one entry per request", async () => {
    const { id, token } = await app.services.apiKeys.create("ref-shop", ["orders"], "shell:admin");
    await call("/api/v1/orders", { key: token, body: order("RF-1") });
    await call("/api/v1/orders", { key: token, body: order("RF-1") }); // the same item again: unchanged, still audited
    const got = await app.store.audit.find({ actor: `api:ref-shop#${id}` }).lean();
    expect(got).toHaveLength(2);
    for (const e of got) expect(e._id).toMatch(/^api-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(got[0]!._id).not.toBe(got[1]!._id);
  });

  it("a random ref that collides is stored beside the first entry, never dropped", async () => {
    const entry = { ref: "api-same", at: new Date(), actor: "api:x#k1", platform: "http", command: "api orders", args: "first", outcome: "ok" as const };
    expect(await app.services.audit.add(entry)).toBe("api-same");
    const second = await app.services.audit.add({ ...entry, args: "second" });
    expect(second).toMatch(/^api-same~[0-9a-f-]{36}$/);
    expect((await app.store.audit.find({ _id: /^api-same/ }).lean()).map((e) => e.args).sort()).toEqual(["first", "second"]);
  });

  it("audits a batch with an item that failed on our side (5xx) as an error, not as the caller's mistake", async () => {
    const { id, token } = await app.services.apiKeys.create("fault-shop", ["products"], "shell:admin");
    const apply = app.services.ingest.apply.bind(app.services.ingest);
    const spy = vi.spyOn(app.services.ingest, "apply").mockImplementation(async (kind, raw, actor) => {
      if ((raw as { sku?: string }).sku === "SKU-BOOM") throw new Error("disk on fire");
      return apply(kind, raw, actor);
    });
    try {
      const r = await call("/api/v1/products", { key: token, body: [{ sku: "SKU-F1", name: "fine", category: "c", price: 100 }, { sku: "SKU-BOOM", name: "boom", category: "c", price: 100 }] });
      expect(r.status).toBe(200);
      expect(r.json.summary).toMatchObject({ created: 1, failed: 1 });
      expect(r.json.results[1]).toMatchObject({ status: 500, code: "internal" });
    } finally {
      spy.mockRestore();
    }
    const [e] = await app.store.audit.find({ actor: `api:fault-shop#${id}` }).lean();
    expect(e).toMatchObject({ outcome: "error", code: "partial", message: "1 of 2 items failed (1 with an internal error)" });
  });

  it("refuses an empty batch and one over INGEST_BATCH_MAX", async () => {
    expect((await call("/api/v1/orders", { body: [] })).status).toBe(400);
    const big = await call("/api/v1/orders", { body: Array.from({ length: 6 }, (_, i) => order(`BB-${i}`)) });
    expect(big.status).toBe(400);
    expect(big.json.message).toMatch(/at most 5/);
  });
});

describe("products, inventory and complaints", () => {
  it("upserts products by sku: created, updated, unchanged", async () => {
    const p = { sku: "new-1", name: "Tea Cup", category: "Kitchen", price: 1200, onHand: 10 };
    expect((await call("/api/v1/products", { body: p })).status).toBe(201);
    expect((await call("/api/v1/products", { body: p })).json).toEqual({ status: 200, outcome: "unchanged", id: "NEW-1" });
    const moved = await call("/api/v1/products", { body: { ...p, price: 1300, onHand: 99 } });
    // Said, not silently dropped: the stock it gives is not applied to an existing product.
    expect(moved.json).toMatchObject({ outcome: "updated", ignored: ["onHand"], message: "not changed on an existing product: onHand (10 on hand; send a count to /api/v1/inventory as {sku, set})" });
    // onHand is the starting stock only: levels change through /inventory.
    expect(await prod("NEW-1")).toMatchObject({ name: "Tea Cup", price: 1300, onHand: 10, available: 10, currency: "CNY" });
  });

  it("applies a delta once per key and sets a level idempotently", async () => {
    const d = { sku: "NEW-1", delta: 5, key: "PO-1" };
    expect((await call("/api/v1/inventory", { body: d })).json).toMatchObject({ outcome: "updated", message: "on hand 10 → 15" });
    const rs = await Promise.all(Array.from({ length: 5 }, () => call("/api/v1/inventory", { body: d })));
    expect(rs.every((r) => r.json.outcome === "unchanged")).toBe(true);
    expect((await prod("NEW-1"))?.onHand).toBe(15);
    const noKey = await call("/api/v1/inventory", { body: { sku: "NEW-1", delta: 5 } });
    expect(noKey.status).toBe(400);
    // The field at fault is named, whichever kind of change the item is.
    expect((await call("/api/v1/inventory", { body: { sku: "NEW-1", set: 1.5 } })).json.errors).toEqual([{ field: "set", expected: "a stock level: a whole number from 0" }]);
    expect((await call("/api/v1/inventory", { body: { sku: "NEW-1", delta: "abc", key: "k-abc" } })).json.errors).toEqual([{ field: "delta", expected: "a non-zero whole number such as 5 or -2" }]);
    expect((await call("/api/v1/inventory", { body: { sku: "NEW-1", set: 40, key: "count-1" } })).json.outcome).toBe("updated");
    expect((await call("/api/v1/inventory", { body: { sku: "NEW-1", set: 40 } })).json.outcome).toBe("unchanged");
    await call("/api/v1/inventory", { body: { sku: "NEW-1", delta: -1, key: "sale-9" } });
    // A retried count with the same key does not undo the change made after it.
    expect((await call("/api/v1/inventory", { body: { sku: "NEW-1", set: 40, key: "count-1" } })).json.outcome).toBe("unchanged");
    expect(await prod("NEW-1")).toMatchObject({ onHand: 39, available: 39 });
    expect(await app.store.ledger.countDocuments({ sku: "NEW-1" })).toBe(3);
    const tooMuch = await call("/api/v1/inventory", { body: { sku: "NEW-1", delta: -100, key: "too-much" } });
    expect([tooMuch.status, tooMuch.json.message]).toEqual([409, "-100 would take available below zero: on hand 39, reserved by open orders 0, available 39; a change never goes below zero available, while a count ({sku, set}) is recorded as counted"]);
    // A caller's key cannot take the name of the bot's own ledger keys: an order's reservation
    // (o:<no>:r) would be answered "already applied", and so would a later count's (set:<key>).
    for (const key of ["o:ORD-9:r", "set:count-1", "adj:X"]) {
      const r = await call("/api/v1/inventory", { body: { sku: "NEW-1", delta: 1, key } });
      expect(r.status, key).toBe(400);
      expect(r.json.errors, key).toEqual([{ field: "key", expected: "a key not starting with o:, set: or adj: (kept for the bot's own stock changes)" }]);
    }
    expect(await prod("NEW-1")).toMatchObject({ onHand: 39, available: 39 });
  });

  it("a keyed count that found the level already right is recorded: its retry after later sales changes nothing; the key for another level is a conflict", async () => {
    await call("/api/v1/products", { body: { sku: "CNT-1", name: "Counted", category: "Kitchen", price: 500, onHand: 50 } });
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-1", set: 50, key: "count-7" } })).json).toMatchObject({ outcome: "unchanged", message: "on hand is already 50" });
    // The product holds the count's key, as it would a change's: a retry already running (it read
    // the ledger before this one was marked) then finds it applied, not a level to set again.
    expect((await prod("CNT-1"))!.ledgerKeys).toContain("count-7");
    await call("/api/v1/inventory", { body: { sku: "CNT-1", delta: -3, key: "ship-1" } });
    // The count's webhook retried (or yesterday's count file re-run): no 3 phantom units.
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-1", set: 50, key: "count-7" } })).json).toMatchObject({ outcome: "unchanged", message: "key count-7 already applied" });
    expect(await prod("CNT-1")).toMatchObject({ onHand: 47, available: 47 });
    const other = await call("/api/v1/inventory", { body: { sku: "CNT-1", set: 60, key: "count-7" } });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ code: "key_conflict", message: "key count-7 was used for another change (CNT-1 set 50)" });
    expect((await prod("CNT-1"))?.onHand).toBe(47);
    // A key names one change, delta or level: not a delta and then a level, nor the other way round.
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-1", delta: 1, key: "count-7" } })).json).toMatchObject({ status: 409, code: "key_conflict", message: "key count-7 was used for another change (CNT-1 set 50)" });
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-1", set: 40, key: "ship-1" } })).json).toMatchObject({ status: 409, code: "key_conflict", message: "key ship-1 was used for another change (CNT-1 -3)" });
    expect((await prod("CNT-1"))?.onHand).toBe(47);
    expect(await app.store.ledger.findById("ship-1").lean()).toMatchObject({ sku: "CNT-1", delta: -3 });
    // A refused count (an unknown SKU) leaves its key free for the corrected one.
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-X", set: 2, key: "count-8" } })).json.code).toBe("unknown_sku");
    expect(await app.store.ledger.exists({ _id: "count-8" })).toBeNull();
    // A count below what open orders reserve is recorded as counted, the shortfall said: the
    // product is out (available below zero), not left at units that are gone.
    await app.store.products.updateOne({ _id: "CNT-1" }, { $set: { reserved: 5, available: 42 } });
    expect((await call("/api/v1/inventory", { body: { sku: "CNT-1", set: 2, key: "count-8" } })).json).toMatchObject({ outcome: "updated", message: "on hand 47 → 2; 5 are reserved by open orders: 3 short" });
    expect(await prod("CNT-1")).toMatchObject({ onHand: 2, reserved: 5, available: -3 });
    expect((await app.services.stock.bySku("CNT-1"))!.status).toBe("out");
    // One key for a delta and a level in one batch: exactly one applies, the other names it.
    await call("/api/v1/products", { body: [{ sku: "CNT-2", name: "Counted too", category: "Kitchen", price: 500, onHand: 20 }, { sku: "CNT-3", name: "And this", category: "Kitchen", price: 500, onHand: 20 }] });
    const both = (await call("/api/v1/inventory", { body: [{ sku: "CNT-2", delta: 1, key: "K-both" }, { sku: "CNT-3", set: 10, key: "K-both" }] })).json.results as { status: number; message?: string }[];
    expect(both.map((x) => x.status).sort()).toEqual([200, 409]);
    const held = await app.store.ledger.findById("K-both").lean<{ sku: string }>();
    expect(both.find((x) => x.status === 409)!.message).toContain(held!.sku === "CNT-2" ? "(CNT-2 +1)" : "(CNT-3 set 10)");
    expect([(await prod("CNT-2"))!.onHand, (await prod("CNT-3"))!.onHand]).toEqual(held!.sku === "CNT-2" ? [21, 20] : [20, 10]);
  });

  it("records a complaint once with SLA due dates from its severity", async () => {
    const c = { externalId: "ZD-1", customerId: "cust-9", orderNo: "A-100", severity: "high", text: "Box arrived crushed", createdAt: "2026-11-25T02:00:00Z" };
    const r = await call("/api/v1/complaints", { body: c });
    expect(r.status).toBe(201);
    expect((await call("/api/v1/complaints", { body: c })).json).toMatchObject({ outcome: "unchanged", id: r.json.id });
    expect((await call("/api/v1/complaints", { body: c })).json.ignored).toBeUndefined();
    // Sent again with another severity or category: nothing changes, and the answer names them.
    const triaged = await call("/api/v1/complaints", { body: { ...c, severity: "URGENT", category: "damaged" } });
    expect(triaged).toMatchObject({ status: 200, json: { outcome: "unchanged", id: r.json.id, ignored: ["severity", "category"] } });
    expect(triaged.json.message).toMatch(/^not changed on an existing complaint: severity, category \(/);
    // The helpdesk's ticket id reused for another complaint is a conflict, not "unchanged".
    const reused = await call("/api/v1/complaints", { body: { ...c, text: "Wrong colour" } });
    expect(reused).toMatchObject({ status: 409, json: { code: "key_conflict", message: `externalId ZD-1 was used for another complaint (${r.json.id}): its text differs` } });
    const doc = await app.store.complaints.findById(r.json.id).lean();
    expect(doc).toMatchObject({ status: "new", severity: "high", orderNo: "A-100", createdBy: "api:storefront", day: "2026-11-25" });
    expect(doc!.firstResponseDueAt.toISOString()).toBe("2026-11-25T06:00:00.000Z");
    // The configured SLA clocks (defaults: high = 4 h first response, 24 h resolution), as for `complaint new`.
    expect(doc!.resolutionDueAt.toISOString()).toBe("2026-11-26T02:00:00.000Z");
    expect(await app.store.complaints.countDocuments({ customerId: "cust-9" })).toBe(1);
  });

  it("checks a complaint's source and category as chat does; one stored with values chat never takes still opens", async () => {
    const bad = await call("/api/v1/complaints", { body: { customerId: "c-7", text: "late", source: "fax", category: "weird" } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([
      { field: "source", expected: "one of chat, email, phone, marketplace, social, slack, discord, api, other" },
      { field: "category", expected: "one of delivery, damaged, wrong_item, missing_item, quality, refund, billing, service, other" },
    ]);
    // As chat takes them: any case or width, or the Chinese name a card shows (a helpdesk in Chinese).
    for (const [given, stored] of [
      [{ source: "EMAIL", category: "DAMAGED", severity: "High" }, { source: "email", category: "damaged", severity: "high" }],
      [{ source: "邮件", category: "商品损坏", severity: "紧急" }, { source: "email", category: "damaged", severity: "urgent" }],
    ] as const) {
      const r = await call("/api/v1/complaints", { body: { customerId: "c-8", text: `as typed ${given.severity}`, ...given } });
      expect(r.status, given.severity).toBe(201);
      expect(await app.store.complaints.findById(r.json.id).lean(), given.severity).toMatchObject(stored);
    }
    expect((await call("/api/v1/complaints", { body: { customerId: "c-8", text: "n", severity: 3 } })).json.errors).toEqual([{ field: "severity", expected: "one of low, normal, high, urgent" }]);
    const ok = await call("/api/v1/complaints", { body: { customerId: "c-7", text: "late" } });
    expect(ok.status).toBe(201);
    const card = await app.run("shell:admin", `complaint show ${ok.json.id}`);
    expect(card.outcome).toBe("ok");
    expect(card.reply.fields!.find((f) => f.label === "Source")?.value).toBe("API");
    // Written before these checks existed (or by another tool): shown as stored, not an internal error.
    await app.store.complaints.updateOne({ _id: ok.json.id }, { $set: { source: "zendesk", category: "weird" } });
    const old = await app.run("shell:admin", `complaint show ${ok.json.id}`);
    expect(old.outcome).toBe("ok");
    expect(old.reply.fields!.filter((f) => f.label === "Source" || f.label === "Category").map((f) => f.value)).toEqual(["weird", "zendesk"]);
  });
});

describe("input hygiene: invisible text, control characters, duplicate keys", () => {
  const countComplaints = (customerId: string) => app.store.complaints.countDocuments({ customerId });

  it("refuses a text of invisible characters only (zero-width space, word joiner, BOM…) and trims them off the ends", async () => {
    for (const blank of ["\u200b", " \u2060\ufeff ", "\u200c\u200d"]) {
      const r = await call("/api/v1/complaints", { body: { customerId: "inv-1", text: blank } });
      expect(r.status, JSON.stringify(blank)).toBe(400);
      expect(r.json.errors).toEqual([{ field: "text", expected: "a non-empty text (spaces or invisible characters alone do not count)" }]);
    }
    const name = await call("/api/v1/products", { body: { sku: "INV-1", name: "\u200b", category: "c", price: 100 } });
    expect(name.json.errors).toEqual([{ field: "name", expected: "a non-empty text (spaces or invisible characters alone do not count)" }]);
    expect(await countComplaints("inv-1")).toBe(0);
    expect(await app.store.products.countDocuments({ _id: "INV-1" })).toBe(0);
    // Visible text keeps what is inside it (a joined emoji), not the invisible ends.
    const ok = await call("/api/v1/complaints", { body: { customerId: "\u200binv-2\ufeff", text: "\u200bbroken 👩\u200d💻 lid\u2060" } });
    expect(ok.status).toBe(201);
    expect(await app.store.complaints.findById(ok.json.id).lean()).toMatchObject({ customerId: "inv-2", text: "broken 👩\u200d💻 lid" });
    // A text ending in a subdivision flag keeps it whole (its tag characters are not invisible padding).
    const scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    const flag = await call("/api/v1/complaints", { body: { customerId: "inv-3", text: `arrived soaked ${scotland}` } });
    expect((await app.store.complaints.findById(flag.json.id).lean())!.text).toBe(`arrived soaked ${scotland}`);
  });

  it("refuses control characters chat refuses (NUL, escape codes, bidi overrides), naming the field; tab and line breaks are text", async () => {
    const expected = "text without control characters (escape codes, NUL, bidi overrides such as \\u202E); tab and line breaks are fine";
    const esc = await call("/api/v1/complaints", { body: { customerId: "ctl-1\u0000\u001b[31m", text: "late" } });
    expect(esc).toMatchObject({ status: 400, json: { errors: [{ field: "customerId", expected }] } });
    const bidi = await call("/api/v1/orders", { body: order("CTL-1", { note: "a\u202eb" }) });
    expect(bidi).toMatchObject({ status: 400, json: { errors: [{ field: "note", expected }] } });
    const deep = await call("/api/v1/orders", { body: order("CTL-2", { shipment: { carrier: "UPS\u0007" } }) });
    expect(deep.json.errors).toEqual([{ field: "shipment.carrier", expected }]);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["CTL-1", "CTL-2"] } })).toBe(0);
    expect(await app.store.complaints.countDocuments({ customerId: /^ctl-1/ })).toBe(0);
    // In chat, the same characters are refused too.
    expect(await app.run("shell:admin", "complaint new customer=ctl-1 a\u202eb")).toMatchObject({ code: "control_chars" });
    // A helpdesk's text with tabs and Windows line breaks is taken as it is.
    const lines = await call("/api/v1/complaints", { body: { customerId: "ctl-3", text: "line 1\r\nline 2\tend" } });
    expect(lines.status).toBe(201);
    expect(await app.store.complaints.findById(lines.json.id).lean()).toMatchObject({ text: "line 1\r\nline 2\tend" });
  });

  it("refuses a body with a key given twice in one object (400 naming its path), where the last would silently win", async () => {
    const reserved = (await prod("SKU-2"))?.reserved;
    const twice = await call("/api/v1/orders", { raw: '{"orderNo":"API-D","orderNo":"API-E","customerId":"c","createdAt":"2026-11-24T02:00:00Z","items":[{"sku":"SKU-2","qty":1,"unitPrice":1}]}' });
    expect(twice).toMatchObject({ status: 400, json: { code: "invalid", errors: [{ field: "orderNo", expected: "the field once" }] } });
    expect(twice.json.message).toBe("field orderNo is given more than once: send each field once");
    const qty = await call("/api/v1/orders", { raw: '{"orderNo":"API-F","customerId":"c","createdAt":"2026-11-24T02:00:00Z","items":[{"sku":"SKU-2","qty":1,"unitPrice":1},{"sku":"SKU-2","qty":1,"qty":3,"unitPrice":1}]}' });
    expect(qty.json.errors).toEqual([{ field: "items.1.qty", expected: "the field once" }]);
    // The same key spelt with an escape is the same key; in a batch the path starts with the item's index.
    const batch = await call("/api/v1/orders", { raw: '[{"orderNo":"API-G","customerId":"c","items":[{"sku":"SKU-2","qty":1,"unitPrice":1}]},{"orderNo":"API-H","customerId":"c","\\u0063ustomerId":"d"}]' });
    expect(batch).toMatchObject({ status: 400, json: { errors: [{ field: "1.customerId", expected: "the field once" }] } });
    // Nothing of a refused body is applied.
    expect(await app.store.orders.countDocuments({ _id: { $in: ["API-D", "API-E", "API-F", "API-G", "API-H"] } })).toBe(0);
    expect((await prod("SKU-2"))?.reserved).toBe(reserved);
    // Same keys in different objects, and key-like text inside strings, are fine; so is deep nesting (refused for its depth, not a crash).
    const fine = await call("/api/v1/orders", { raw: '{"orderNo":"API-I","customerId":"c","note":"\\"orderNo\\":1, {\\"a\\"","createdAt":"2026-11-24T02:00:00Z","items":[{"sku":"SKU-2","qty":1,"unitPrice":1},{"sku":"SKU-3","qty":1,"unitPrice":1}]}' });
    expect(fine.status).toBe(201);
    const deep = await call("/api/v1/orders", { raw: '{"a":'.repeat(600) + "1" + "}".repeat(600) });
    expect(deep.status).toBe(400);
  });
});
