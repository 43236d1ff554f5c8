import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

// Ingestion: what a key names, how text and codes are stored, what an order may total, and who
// a refused parked update is put down to on the audit trail.

let app: TestApp;
let http: RunningHttpServer;
let base: string;
let full: { id: string; token: string };

async function call(path: string, body: unknown, token = full.token) {
  const res = await fetch(base + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const paid = (no: string, over: Record<string, unknown> = {}) => ({
  orderNo: no,
  customerId: "cust-1",
  createdAt: "2026-11-24T02:00:00Z",
  status: "paid",
  paidAt: "2026-11-24T02:10:00Z",
  items: [{ sku: "FB-1", qty: 1, unitPrice: 1000 }],
  ...over,
});

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  base = `http://127.0.0.1:${http.port}`;
  full = await app.services.apiKeys.create("full", ["orders", "products", "inventory", "complaints", "refunds"], "shell:admin");
  await app.store.products.insertMany([product("FB-1", { onHand: 100 }), product("FB-3", { onHand: 5 }), product("FB-4", { onHand: 7 })]);
});
afterAll(async () => {
  await http.close();
  await app.close();
});

describe("inventory keys", () => {
  it("a count under a delta's key is a key_conflict naming the delta, not 'already applied'", async () => {
    expect((await call("/api/v1/inventory", { sku: "FB-3", delta: 2, key: "fb-kA" })).status).toBe(200);
    expect((await call("/api/v1/inventory", { sku: "FB-3", delta: 2, key: "fb-kB" })).status).toBe(200);
    // 5 → 7 → 9; a count of 7 under kA (whose delta left 7 on hand) is another change.
    const r = await call("/api/v1/inventory", { sku: "FB-3", set: 7, key: "fb-kA" });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ outcome: "rejected", code: "key_conflict", message: "key fb-kA was used for another change (FB-3 +2)" });
    expect((await app.store.products.findById("FB-3").lean<ProductDoc>())!.onHand).toBe(9);
    // A count under a key of its own applies.
    expect((await call("/api/v1/inventory", { sku: "FB-3", set: 7, key: "fb-kC" })).json).toMatchObject({ outcome: "updated", message: "on hand 9 → 7" });
  });

  it("a count's entry written before levels were kept (set:<key>, level in onHandAfter) still matches its retry", async () => {
    await app.store.ledger.collection.insertOne({ _id: "set:fb-old", sku: "FB-4", delta: 3, reason: "stock count", actor: "api:full", status: "applied", onHandAfter: 10, at: new Date() } as never);
    expect((await call("/api/v1/inventory", { sku: "FB-4", set: 10, key: "fb-old" })).json).toMatchObject({ status: 200, outcome: "unchanged", message: "key fb-old already applied" });
    expect((await call("/api/v1/inventory", { sku: "FB-4", set: 11, key: "fb-old" })).json).toMatchObject({ status: 409, code: "key_conflict", message: "key fb-old was used for another change (FB-4 +3)" });
    expect((await app.store.products.findById("FB-4").lean<ProductDoc>())!.onHand).toBe(7);
  });
});

describe("text as stored", () => {
  it("order coupon codes are stored in one form: coupon show counts what the digest counts", async () => {
    const codes = ["ＳＰＲＩＮＧ１５", "SPRING\u200b15", "\u200bspring15\u00a0", "spring15"];
    for (const [i, couponCode] of codes.entries()) expect((await call("/api/v1/orders", paid(`CP-${i}`, { couponCode }))).status).toBe(201);
    const stored = await app.store.orders.find({ _id: /^CP-/ }).sort({ _id: 1 }).lean<OrderDoc[]>();
    expect(stored.map((o) => o.couponCode)).toEqual(["SPRING15", "SPRING15", "spring15", "spring15"]);
    const show = await app.run("shell:admin", "coupon show SPRING15");
    expect(show.reply.fields?.find((f) => f.label === "Uses")?.value).toBe("4");
    // A code of invisible characters only is no code: refused, as an empty one.
    const blank = await call("/api/v1/orders", paid("CP-X", { couponCode: "\u200b\u2060" }));
    expect(blank.status).toBe(400);
    expect(blank.json.errors).toEqual([{ field: "couponCode", expected: "a non-empty text (spaces or invisible characters alone do not count)" }]);
  });

  it("product names sent decomposed or full-width are found by stock <words> in either width, kept as the shop wrote them; ids stay as sent", async () => {
    expect((await call("/api/v1/products", { sku: "FB-CAFE", name: "Cafe\u0301 Noir", category: "Cafe\u0301", price: 100 })).status).toBe(201);
    expect((await call("/api/v1/products", { sku: "FB-MUG", name: "ＡＢＣ Mug", category: "Home", price: 100 })).status).toBe(201);
    expect(await app.store.products.findById("FB-CAFE").lean<ProductDoc>()).toMatchObject({ name: "Café Noir", category: "Café" });
    // The shop's own spelling is kept (full-width letters, Chinese brackets), and found in either width.
    expect((await app.store.products.findById("FB-MUG").lean<ProductDoc>())!.name).toBe("ＡＢＣ Mug");
    expect((await call("/api/v1/products", { sku: "FB-CUP", name: "保温杯（大号）", category: "Home", price: 100 })).status).toBe(201);
    expect((await app.store.products.findById("FB-CUP").lean<ProductDoc>())!.name).toBe("保温杯（大号）");
    expect((await app.run("shell:admin", "stock café")).reply.title).toContain("FB-CAFE");
    expect((await app.run("shell:admin", "stock abc")).reply.title).toContain("FB-MUG");
    expect((await app.run("shell:admin", "stock ａｂｃ")).reply.title).toContain("FB-MUG");
    expect((await app.run("shell:admin", "stock 保温杯(大号)")).reply.title).toContain("FB-CUP");
    expect((await app.run("shell:admin", "stock 保温杯（大号）")).reply.title).toContain("FB-CUP");
    // A customer id is the shop's key: kept as sent (a full-width id is another customer's).
    expect((await call("/api/v1/orders", paid("FB-ID", { customerId: "ＣＵＳＴ-1" }))).status).toBe(201);
    expect((await app.store.orders.findById("FB-ID").lean<OrderDoc>())!.customerId).toBe("ＣＵＳＴ-1");
  });
});

describe("order amounts", () => {
  it("an order above 10^12 (items plus shipping) is refused naming shipping, nothing stored", async () => {
    const big = await call("/api/v1/orders", paid("BIG-1", { items: [{ sku: "FB-1", qty: 1, unitPrice: 1e12 }], shipping: 1e12 }));
    expect(big.status).toBe(400);
    expect(big.json.errors).toEqual([{ field: "shipping", expected: "the items' total + shipping of at most 1000000000000 minor units (an order above that is refused); got 2000000000000" }]);
    const given = await call("/api/v1/orders", paid("BIG-2", { items: [{ sku: "FB-1", qty: 1, unitPrice: 1000 }], subtotal: 1e12, shipping: 1 }));
    expect(given.json.errors).toEqual([{ field: "shipping", expected: "subtotal + shipping of at most 1000000000000 minor units (an order above that is refused); got 1000000000001" }]);
    expect(await app.store.orders.countDocuments({ _id: { $in: ["BIG-1", "BIG-2"] } })).toBe(0);
    // At the limit exactly: taken.
    expect((await call("/api/v1/orders", paid("BIG-3", { items: [{ sku: "FB-1", qty: 1, unitPrice: 1e12 - 1 }], shipping: 1 }))).status).toBe(201);
  });
});

describe("parked updates refused on arrival", () => {
  it("are on the trail under the sender's key (api:<label>#<key id>), as its requests are", async () => {
    expect((await call("/api/v1/orders", { orderNo: "Q-1", status: "cancelled" })).status).toBe(202);
    const shipped = { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF1", shippedAt: "2026-11-24T04:00:00Z" } };
    expect((await call("/api/v1/orders", paid("Q-1", shipped))).status).toBe(201);
    const actor = `api:full#${full.id}`;
    const refusal = await app.store.audit.findOne({ subject: "Q-1", code: "invalid_transition" }).lean();
    expect(refusal).toMatchObject({ actor, platform: "http", command: "api orders", outcome: "user_error" });
    const rows = (await app.run("shell:admin", `audit actor=${actor} subject=Q-1`)).reply.table!.rows.map((r) => r[3]);
    expect(rows).toContain("user_error (invalid_transition)");
  });

  it("of two keys sharing a label, the one that parked the update", async () => {
    const a = await app.services.apiKeys.create("twin", ["orders"], "shell:admin");
    const b = await app.services.apiKeys.create("twin", ["orders"], "shell:admin");
    expect((await call("/api/v1/orders", [{ orderNo: "Q-2", status: "cancelled" }], a.token)).json.summary).toMatchObject({ parked: 1 });
    const shipped = { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF2", shippedAt: "2026-11-24T04:00:00Z" } };
    expect((await call("/api/v1/orders", paid("Q-2", shipped), b.token)).status).toBe(201);
    expect(await app.store.audit.findOne({ subject: "Q-2", code: "invalid_transition" }).lean()).toMatchObject({ actor: `api:twin#${a.id}` });
  });

  it("of two keys sharing a label that both parked updates for the order, each under its own key; an applied one's author stays the label", async () => {
    const c = await app.services.apiKeys.create("pair", ["orders"], "shell:admin");
    const d = await app.services.apiKeys.create("pair", ["orders"], "shell:admin");
    // One in a batch, one alone: both paths keep the key.
    expect((await call("/api/v1/orders", [{ orderNo: "Q-3", status: "cancelled" }], c.token)).json.summary).toMatchObject({ parked: 1 });
    expect((await call("/api/v1/orders", { orderNo: "Q-3", status: "cancelled", note: "from d" }, d.token)).status).toBe(202);
    expect((await call("/api/v1/orders", { orderNo: "Q-3", status: "delivered", deliveredAt: "2026-11-24T06:00:00Z", note: "delivered, from d" }, d.token)).status).toBe(202);
    const shipped = { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF3", shippedAt: "2026-11-24T04:00:00Z" } };
    expect((await call("/api/v1/orders", paid("Q-3", shipped))).status).toBe(201);
    expect(await app.store.parkedOrderUpdates.countDocuments({ orderNo: "Q-3" })).toBe(0);
    const refusals = await app.store.audit.find({ subject: "Q-3", code: "invalid_transition" }).lean();
    const by = refusals.map((r) => [r.actor, r.args.includes("from d")]);
    expect(by).toHaveLength(2);
    expect(by).toEqual(
      expect.arrayContaining([
        [`api:pair#${c.id}`, false],
        [`api:pair#${d.id}`, true],
      ]),
    );
    // The applied one (delivered) is authored by the label on the order's timeline, as every API change.
    const o = await app.store.orders.findById("Q-3").lean<OrderDoc>();
    expect(o).toMatchObject({ status: "delivered" });
    expect(o!.history.find((h) => h.status === "delivered")).toMatchObject({ by: "api:pair", note: "delivered, from d" });
  });

  it("an update parked before the sender's key was kept with it is put down to its actor as kept", async () => {
    await app.store.parkedOrderUpdates.create({ _id: "Q-4:old", orderNo: "Q-4", payload: { orderNo: "Q-4", status: "cancelled" }, actor: "api:full", at: new Date() });
    const shipped = { status: "shipped", shipment: { carrier: "SF", trackingNo: "SF4", shippedAt: "2026-11-24T04:00:00Z" } };
    expect((await call("/api/v1/orders", paid("Q-4", shipped))).status).toBe(201);
    expect(await app.store.audit.findOne({ subject: "Q-4", code: "invalid_transition" }).lean()).toMatchObject({ actor: "api:full", platform: "http", command: "api orders" });
  });
});
