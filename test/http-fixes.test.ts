import type { IncomingMessage, ServerResponse } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import type { OrderDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
let http: RunningHttpServer;
let key: string;

/** A request as fetch sends it: status and JSON body. */
async function post(port: number, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** Writes `text` over a raw socket and waits for the server to answer and close: the answer and how long it took. */
function stalled(port: number, text: string, waitMs = 10_000): Promise<{ status: number; head: string; body: string; ms: number; closed: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", body = ""] = data.split("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head: head.toLowerCase(), body, ms: Date.now() - t0, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (data += c));
    socket.on("error", () => undefined);
    socket.on("close", () => done(true));
  });
}

const order = (no: string, over: Record<string, unknown> = {}) => ({ orderNo: no, customerId: "cust-1", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1500 }], ...over });

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  key = (await app.services.apiKeys.create("fixes", ["orders", "products"], "shell:admin")).token;
  await app.store.products.insertMany([product("SKU-1", { onHand: 100 })]);
});
afterAll(async () => {
  await http.close();
  await app.close();
});

describe("HTTP protocol", () => {
  it("a request whose headers or body stall is answered 408 in JSON with a code soon after its limit, not up to 30 s late", async () => {
    const lines: string[] = [];
    const s = await startHttpServer({ services: app.services, config: app.config, logger: createLogger("debug", {}, (l) => lines.push(l)) }, 0, "127.0.0.1");
    // The limits as shipped (10 s for headers, 30 s for the whole request), shortened here so the test is quick.
    expect([s.server.headersTimeout, s.server.requestTimeout]).toEqual([10_000, 30_000]);
    s.server.headersTimeout = 1000;
    s.server.requestTimeout = 2000;
    try {
      const [headers, body] = await Promise.all([
        // Half a request line and a header, then nothing.
        stalled(s.port, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\n"),
        // Whole headers, then 5 of the 100 bytes announced.
        stalled(s.port, `POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ord`),
      ]);
      for (const r of [headers, body]) {
        expect(r).toMatchObject({ status: 408, closed: true });
        expect(r.head).toContain("content-type: application/json");
        expect(JSON.parse(r.body)).toMatchObject({ error: "request_timeout", code: "request_timeout", message: expect.stringMatching(/headers within 1 s, the whole request within 2 s/) });
      }
      // Node checks its timeouts every 30 s by default: these took up to 30 s longer than their limit.
      expect(headers.ms).toBeLessThan(1000 + 2500);
      expect(body.ms).toBeLessThan(2000 + 2500);
      // A client that was too slow is its own fault: no error in the log, and on the key's trail
      // as its mistake, not as a fault of ours; nothing applied.
      expect(lines.filter((l) => /"level":"(error|warn)"/.test(l))).toEqual([]);
      // (Written once the server has read the end of the connection, just after the client saw it.)
      await vi.waitFor(async () => expect(await app.store.audit.find({ command: "api orders", code: "incomplete" }).lean()).toMatchObject([{ outcome: "user_error" }]));
    } finally {
      await s.close();
    }
  }, 15_000);

  it("a request Node cannot parse is a 400 with a JSON body and a code", async () => {
    const r = await stalled(http.port, "HELLO THERE\r\n\r\n");
    expect(r).toMatchObject({ status: 400, closed: true });
    expect(JSON.parse(r.body)).toMatchObject({ error: "bad_request", code: "bad_request" });
    // Headers past Node's limit (16 KiB).
    const big = await stalled(http.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toMatchObject({ code: "headers_too_large" });
  });

  it("a JSON body said to be in a charset other than UTF-8 is a 415; UTF-8 in any spelling is read", async () => {
    for (const type of ["application/json; charset=utf-16", "application/json;charset=UTF-16LE", 'application/json; charset="iso-8859-1"']) {
      const r = await post(http.port, "/api/v1/orders", JSON.stringify(order("CS-1")), { "content-type": type });
      expect(r.status, type).toBe(415);
      expect(r.json, type).toMatchObject({ code: "unsupported_media_type", message: expect.stringMatching(/^charset .+ is not supported: send the JSON encoded as UTF-8/) });
    }
    expect(await app.store.orders.countDocuments({ _id: "CS-1" })).toBe(0);
    let n = 0;
    for (const type of ["application/json; charset=utf-8", "application/json; charset=UTF-8", 'Application/JSON; Charset="utf-8"', "application/json;charset=utf8", "application/json"]) {
      expect((await post(http.port, "/api/v1/orders", JSON.stringify(order(`CS-OK${++n}`)), { "content-type": type })).status, type).toBe(201);
    }
  });
});

describe("Slack on the API's port", () => {
  it("hands POST /slack/events to Slack with or without a trailing slash, and names it among the routes", async () => {
    const seen: string[] = [];
    const slack = (req: IncomingMessage, res: ServerResponse) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    };
    const s = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger, slack }, 0, "127.0.0.1");
    try {
      for (const path of ["/slack/events", "/slack/events/", "/slack/events/?ssl_check=1"]) {
        const r = await fetch(`http://127.0.0.1:${s.port}${path}`, { method: "POST", body: "token=x" });
        expect([r.status, await r.text()], path).toEqual([200, "ok"]);
      }
      // Slack's receiver matches its one path exactly: it gets that path.
      expect(seen).toEqual(["POST /slack/events", "POST /slack/events", "POST /slack/events?ssl_check=1"]);
      const get = await fetch(`http://127.0.0.1:${s.port}/slack/events/`);
      expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
      const nope = await post(s.port, "/slack/event", "{}");
      expect(nope.status).toBe(404);
      expect(nope.json.message).toMatch(/routes: .*POST .*\/api\/v1\/refund-requests, \/slack\/events$/);
      // Without Slack on the port, it is no route.
      expect((await post(http.port, "/slack/events", "{}")).json.message).not.toMatch(/\/slack\/events$/);
    } finally {
      await s.close();
    }
  });
});

describe("order messages", () => {
  it("an order message with nothing but its orderNo is a 400, stored nowhere (unknown order, existing order, in a batch)", async () => {
    const expected = { field: "(item)", expected: "at least one field to create or update the order (status, items, …)" };
    const unknown = await post(http.port, "/api/v1/orders", JSON.stringify({ orderNo: "Z-1" }));
    expect(unknown).toMatchObject({ status: 400, json: { outcome: "invalid", id: "Z-1", code: "invalid", errors: [expected] } });
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "Z-1" })).toBe(0);
    expect((await post(http.port, "/api/v1/orders", JSON.stringify(order("Z-2")))).status).toBe(201);
    const before = await app.store.orders.findById("Z-2").lean<OrderDoc>();
    expect(await post(http.port, "/api/v1/orders", JSON.stringify({ orderNo: "Z-2" }))).toMatchObject({ status: 400, json: { errors: [expected] } });
    const batch = await post(http.port, "/api/v1/orders", JSON.stringify([{ orderNo: "Z-3" }, { orderNo: "Z-2", status: "paid" }, { orderNo: "Z-2" }]));
    expect(batch.json.summary).toMatchObject({ updated: 1, failed: 2, parked: 0 });
    expect(batch.json.results.map((r: { status: number }) => r.status)).toEqual([400, 200, 400]);
    expect(batch.json.results[2].errors).toEqual([expected]);
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "Z-3" })).toBe(0);
    expect((await app.store.orders.findById("Z-2").lean<OrderDoc>())!.history.length).toBe(before!.history.length + 1);
  });

  it("errors say what was expected in one form: `expected` without the word, the message \"field: expected …\"", async () => {
    const r = await post(http.port, "/api/v1/orders", JSON.stringify(order("E-1", { items: [{ sku: "SKU-1", qty: "two", unitPrice: 1500 }], shipment: "DHL" })));
    expect(r.json.errors).toEqual([
      { field: "items.0.qty", expected: "a number" },
      { field: "shipment", expected: "an object" },
    ]);
    expect(r.json.message).toBe("items.0.qty: expected a number; shipment: expected an object");
    const late = await post(http.port, "/api/v1/orders", JSON.stringify(order("E-2", { createdAt: "2030-01-01T00:00:00Z" })));
    expect(late.json.errors).toEqual([{ field: "createdAt", expected: expect.stringMatching(/^a time not in the future/) }]);
    expect(late.json.message).toMatch(/^createdAt: expected a time not in the future/);
    const noCustomer = await post(http.port, "/api/v1/orders", JSON.stringify({ orderNo: "E-3", items: [{ sku: "SKU-1", qty: 1, unitPrice: 1 }] }));
    expect(noCustomer.json).toMatchObject({ message: "customerId: expected a value (required to create an order)", errors: [{ field: "customerId", expected: "a value (required to create an order)" }] });
    const products = await post(http.port, "/api/v1/products", JSON.stringify({ sku: "E-4", name: " ", category: "c", price: 1.5 }));
    expect(products.json.errors).toEqual([
      { field: "name", expected: "a non-empty text (spaces or invisible characters alone do not count)" },
      { field: "price", expected: "a whole number of minor units (e.g. 1999 for 19.99)" },
    ]);
    // None of the server's and the schemas' answers starts with the word.
    for (const x of [...r.json.errors, ...late.json.errors, ...noCustomer.json.errors, ...products.json.errors]) expect(x.expected).not.toMatch(/^expected /);
  });

  it("an order created refunded with no times, then given an earlier payment: the estimated creation is pulled back to it", async () => {
    const created = await post(http.port, "/api/v1/orders", JSON.stringify(order("RF-1", { status: "refunded" })));
    expect(created.status).toBe(201);
    const o = await app.store.orders.findById("RF-1").lean<OrderDoc>();
    expect(o).toMatchObject({ createdAt: app.clock.now(), paidAt: app.clock.now(), filled: { createdAt: true, paidAt: true } });
    const paidAt = "2026-11-20T02:00:00Z";
    expect((await post(http.port, "/api/v1/orders", JSON.stringify({ orderNo: "RF-1", paidAt }))).status).toBe(200);
    const after = await app.store.orders.findById("RF-1").lean<OrderDoc>();
    expect(after!.paidAt).toEqual(new Date(paidAt));
    expect(after!.createdAt.getTime()).toBeLessThanOrEqual(new Date(paidAt).getTime());
    expect(after!.day).toBe("2026-11-20");
  });
});
