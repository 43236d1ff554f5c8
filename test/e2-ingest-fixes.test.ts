import { spawn, type ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import housekeeping from "../jobs/housekeeping.job.js";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { silentLogger } from "../src/core/logger.js";
import { formatReport, runImport } from "../src/import.js";
import { markLostImports, type IngestService } from "../src/services/ingest.service.js";
import type { AuditDoc, OrderDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { cleanEnv } from "./helpers/cli.js";

// Ingestion API and bulk import: times an order does not take are named, amounts too large are
// said so, a running import's audit entry names its records from the start, and API audit
// entries are dated by the app's clock.

let app: TestApp;
let http: RunningHttpServer;
let base: string;
let key: string;
let dir: string;
const children: ChildProcess[] = [];
const NOW = "2026-11-25T04:00:00Z";
const items = [{ sku: "E2-A", qty: 1, unitPrice: 700 }];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
async function post(route: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${base}/api/v1/${route}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
const order = async (no: string) => (await app.store.orders.findById(no).lean<OrderDoc>())!;
const file = async (name: string, lines: string[]) => {
  const f = path.join(dir, name);
  await fsp.writeFile(f, lines.join("\n") + "\n");
  return f;
};

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" }, NOW);
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  base = `http://127.0.0.1:${http.port}`;
  key = (await app.services.apiKeys.create("e2shop", ["orders", "products"], "shell:admin")).token;
  await app.store.products.insertMany([product("E2-A", { onHand: 1000 })]);
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-e2-"));
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await http.close();
  await app.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

const CONTRADICTS = (status: string) => `the order is ${status}: a step's time is kept with its status only; send the status it belongs to, or no status (the times then say it)`;

describe("a time the order's status contradicts is named in ignored, with why", () => {
  it("a deliveredAt beside status pending: created pending, the deliveredAt named (also on a retry)", async () => {
    const msg = { orderNo: "E2-P1", customerId: "c1", status: "pending", deliveredAt: "2026-11-24T03:00:00Z", items };
    const r = await post("orders", msg);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ outcome: "created", ignored: ["deliveredAt"], message: `not taken: deliveredAt (${CONTRADICTS("pending")})` });
    // Told apart from a field that differs from what is stored (which the import does not apply).
    expect(r.json.notTaken).toEqual(["deliveredAt"]);
    const o = await order("E2-P1");
    expect(o.status).toBe("pending");
    expect(o.deliveredAt ?? undefined).toBeUndefined();
    expect((await post("orders", msg)).json).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["deliveredAt"] });
    // Sent with the status it belongs to, it is taken, and nothing is named.
    const ok = await post("orders", { orderNo: "E2-P1", status: "delivered", deliveredAt: "2026-11-24T03:00:00Z" });
    expect(ok.json).toMatchObject({ status: 200, outcome: "updated" });
    expect(ok.json.ignored).toBeUndefined();
    expect(ok.json.notTaken).toBeUndefined();
    expect((await order("E2-P1")).deliveredAt).toEqual(new Date("2026-11-24T03:00:00Z"));
  });

  it("a payment and a refund time beside status pending, a ship time beside status paid", async () => {
    const pending = await post("orders", { orderNo: "E2-P2", customerId: "c1", status: "pending", paidAt: "2026-11-23T03:00:00Z", refundedAt: "2026-11-24T03:00:00Z", items });
    expect(pending.json).toMatchObject({
      status: 201,
      ignored: ["paidAt", "refundedAt"],
      message: `not taken: paidAt (${CONTRADICTS("pending")}); not taken: refundedAt (the order is pending and was never paid: there is nothing to refund)`,
    });
    const paid = await post("orders", { orderNo: "E2-P3", customerId: "c1", status: "paid", shipment: { carrier: "SF", shippedAt: "2026-11-24T03:00:00Z" }, items });
    expect(paid.json).toMatchObject({ status: 201, ignored: ["shipment.shippedAt"], message: `not taken: shipment.shippedAt (${CONTRADICTS("paid")})` });
    expect((await order("E2-P3")).shipment).toMatchObject({ carrier: "SF" });
    expect((await order("E2-P3")).shipment?.shippedAt ?? undefined).toBeUndefined();
  });

  it("an update with a status behind the order, and a cancel time beside a shipped order's refund", async () => {
    await post("orders", { orderNo: "E2-U1", customerId: "c1", status: "paid", paidAt: "2026-11-22T03:00:00Z", items });
    const late = await post("orders", { orderNo: "E2-U1", status: "pending", deliveredAt: "2026-11-24T03:00:00Z" });
    expect(late.json).toMatchObject({ status: 200, outcome: "unchanged", ignored: ["deliveredAt"], message: `not taken: deliveredAt (${CONTRADICTS("paid")})` });
    const refund = await post("orders", { orderNo: "E2-U2", customerId: "c1", status: "refunded", deliveredAt: "2026-11-23T03:00:00Z", cancelledAt: "2026-11-24T03:00:00Z", items });
    expect(refund.json).toMatchObject({ status: 201, ignored: ["cancelledAt"], message: "not taken: cancelledAt (the order shipped and is refunded: a shipped order is refunded, not cancelled)" });
    expect((await order("E2-U2")).status).toBe("refunded");
  });

  it("a batch's new orders say so too", async () => {
    const r = await post("orders", [
      { orderNo: "E2-B1", customerId: "c1", status: "pending", deliveredAt: "2026-11-24T03:00:00Z", items },
      { orderNo: "E2-B2", customerId: "c1", status: "delivered", deliveredAt: "2026-11-24T03:00:00Z", items },
    ]);
    expect(r.json.results[0]).toMatchObject({ status: 201, ignored: ["deliveredAt"] });
    expect(r.json.results[1].ignored).toBeUndefined();
  });

  it("the import counts such a line as imported, lists the time not taken, and does not fail the run (nor its re-run)", async () => {
    const f = await file("contradicts.jsonl", [JSON.stringify({ orderNo: "E2-I1", customerId: "c1", status: "pending", deliveredAt: "2026-11-24T03:00:00Z", items })]);
    const audit = { service: app.services.audit, who: "shell:e2times", store: app.store };
    const notTaken = [{ line: 1, message: `not taken: deliveredAt (${CONTRADICTS("pending")})` }];
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest, audit });
    // Not "not applied": the order exists as the line says, nothing differs from what is stored.
    expect(r).toMatchObject({ lines: 1, imported: 1, differs: 0, failed: 0, timesNotTaken: 1, timesNotTakenLines: notTaken });
    expect(formatReport(r)).toContain(`  applied, with a time its status contradicts not taken (see each line; send the status it belongs to): 1\n    line 1: not taken: deliveredAt (${CONTRADICTS("pending")})`);
    expect(formatReport(r)).not.toContain("not applied");
    expect((await order("E2-I1")).status).toBe("pending");
    // A re-run (a nightly script's): skipped, the time said again, still no failure.
    const again = await runImport({ kind: "orders", file: f, ingest: app.services.ingest, audit });
    expect(again).toMatchObject({ skipped: 1, differs: 0, failed: 0, timesNotTaken: 1, timesNotTakenLines: notTaken });
    const entries = await app.store.audit.find({ actor: "shell:e2times" }).sort({ at: 1 }).lean<AuditDoc[]>();
    expect(entries.map((e) => [e.outcome, e.args])).toEqual([
      ["ok", "contradicts.jsonl: 1 lines; imported 1, updated 0, skipped 0, parked 0, failed 0, times not taken 1 (lines 1)"],
      ["ok", "contradicts.jsonl: 1 lines; imported 0, updated 0, skipped 1, parked 0, failed 0, times not taken 1 (lines 1)"],
    ]);
  });

  it("in the import, an existing order's line with such a time is counted as applied; one with other items is still not applied", async () => {
    await post("orders", { orderNo: "E2-I2", customerId: "c1", status: "paid", paidAt: "2026-11-22T03:00:00Z", items });
    const f = await file("contradicts-existing.jsonl", [
      JSON.stringify({ orderNo: "E2-I2", status: "pending", deliveredAt: "2026-11-24T03:00:00Z" }),
      JSON.stringify({ orderNo: "E2-I2", customerId: "c1", items: [{ sku: "E2-A", qty: 2, unitPrice: 700 }] }),
    ]);
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ lines: 2, skipped: 1, timesNotTaken: 1, timesNotTakenLines: [{ line: 1, message: `not taken: deliveredAt (${CONTRADICTS("paid")})` }], differs: 1, differences: [{ line: 2 }] });
  });
});

describe("a second, different refundedAt", () => {
  it("is named for an order refunded already; the same one again, or one before the payment, is not", async () => {
    const first = { orderNo: "E2-R1", customerId: "c1", status: "refunded", paidAt: "2026-11-20T03:00:00Z", refundedAt: "2026-11-22T03:00:00Z", items };
    expect((await post("orders", first)).json).toMatchObject({ status: 201 });
    const other = await post("orders", { orderNo: "E2-R1", refundedAt: "2026-11-23T03:00:00Z" });
    expect(other.json).toMatchObject({
      status: 200,
      outcome: "unchanged",
      ignored: ["refundedAt"],
      message: "not taken: refundedAt (the order was refunded in full already, dated 2026-11-22T03:00:00.000Z; a refund's time is not changed)",
    });
    expect((await order("E2-R1")).refunds).toMatchObject([{ requestId: "shop", at: new Date("2026-11-22T03:00:00Z") }]);
    expect((await post("orders", first)).json.ignored).toBeUndefined();
    // A refund dated before the payment the shop gave is kept at the payment (a wrong clock): taken, not named.
    const early = { orderNo: "E2-R2", customerId: "c1", status: "refunded", paidAt: "2026-11-21T03:00:00Z", refundedAt: "2026-11-20T03:00:00Z", items };
    expect((await post("orders", early)).json.ignored).toBeUndefined();
    expect((await post("orders", early)).json).toMatchObject({ outcome: "unchanged" });
    expect((await post("orders", early)).json.ignored).toBeUndefined();
  });
});

describe("an amount above 10^12", () => {
  const TOO_LARGE = "an amount of at most 1000000000000 minor units (10^12): the amount given is too large";

  it("is told it is too large, with the limit, once, in the API", async () => {
    const r = await post("orders", { orderNo: "E2-BIG", customerId: "c1", items: [{ sku: "E2-A", qty: 1, unitPrice: 2e12 }] });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([{ field: "items.0.unitPrice", expected: TOO_LARGE }]);
    expect(r.json.message).toBe(`items.0.unitPrice: expected ${TOO_LARGE}`);
    // Past what a double holds exactly too: still too large, not "a whole number".
    expect((await post("orders", { orderNo: "E2-BIG", customerId: "c1", items: [{ sku: "E2-A", qty: 1, unitPrice: 1e22 }] })).json.errors).toEqual([{ field: "items.0.unitPrice", expected: TOO_LARGE }]);
    expect((await post("products", { sku: "E2-BIG", name: "Big", category: "c", price: 1e13 })).json.errors).toEqual([{ field: "price", expected: TOO_LARGE }]);
    // A fraction is still a format error.
    expect((await post("products", { sku: "E2-BIG", name: "Big", category: "c", price: 1.5 })).json.errors).toEqual([{ field: "price", expected: "a whole number of minor units (e.g. 1999 for 19.99)" }]);
    expect(await app.store.orders.exists({ _id: "E2-BIG" })).toBeNull();
  });

  it("and in the import", async () => {
    const f = await file("big.csv", ["orderNo,customerId,items,total", "E2-BIG2,c1,E2-A:1:700,20000000000000"]);
    const r = await runImport({ kind: "orders", file: f, ingest: app.services.ingest });
    expect(r.failures).toEqual([{ line: 2, message: `total: expected ${TOO_LARGE}` }]);
  });
});

describe("a running import's audit entry names a line's records before the line is applied", () => {
  const productLine = (sku: string) => JSON.stringify({ sku, name: `Thing ${sku}`, category: "E2", price: 100, onHand: 5 });

  it("a run stuck on its first line (products, one at a time) already names it", async () => {
    const f = await file("stuck.jsonl", [productLine("e2-s1")]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const real = app.services.ingest;
    const ingest = { apply: async (...a: Parameters<IngestService["apply"]>) => (++calls, await held, real.apply(...a)) } as unknown as IngestService;
    const run = runImport({ kind: "products", file: f, ingest, audit: { service: app.services.audit, who: "shell:e2stuck", store: app.store } });
    try {
      while (calls < 1) await new Promise((r) => setTimeout(r, 10));
      const during = await app.store.audit.find({ actor: "shell:e2stuck" }).lean<AuditDoc[]>();
      expect(during).toEqual([expect.objectContaining({ code: "running", subject: ["E2-S1"] })]);
    } finally {
      release();
      await run;
    }
    expect(await app.store.audit.find({ actor: "shell:e2stuck" }).lean<AuditDoc[]>()).toEqual([expect.objectContaining({ outcome: "ok", subject: ["E2-S1"] })]);
  });

  it("orders (in batches) too", async () => {
    const f = await file("stuck-orders.jsonl", [JSON.stringify({ orderNo: "E2-SO1", customerId: "c1", items }), JSON.stringify({ orderNo: "E2-SO2", customerId: "c1", items })]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const real = app.services.ingest;
    const ingest = { applyMany: async (...a: Parameters<IngestService["applyMany"]>) => (++calls, await held, real.applyMany(...a)) } as unknown as IngestService;
    const run = runImport({ kind: "orders", file: f, ingest, audit: { service: app.services.audit, who: "shell:e2orders", store: app.store } });
    try {
      while (calls < 1) await new Promise((r) => setTimeout(r, 10));
      const during = await app.store.audit.find({ actor: "shell:e2orders" }).lean<AuditDoc[]>();
      expect(during).toHaveLength(1);
      expect([...(during[0]!.subject as string[])].sort()).toEqual(["E2-SO1", "E2-SO2"]);
    } finally {
      release();
      await run;
    }
  });

  it("npm run import killed (kill -9) in its first second: every product it wrote is on its entry", async () => {
    const f = await file("killed-early.jsonl", Array.from({ length: 400 }, (_, i) => productLine(`E2-K${i + 1}`)));
    const child = spawn(process.execPath, ["--import", "tsx", "src/import.ts", "products", f], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv(), MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" },
      stdio: "ignore",
    });
    children.push(child);
    const exited = new Promise((r) => child.on("exit", r));
    const deadline = Date.now() + 120_000;
    while ((await app.store.products.countDocuments({ _id: /^E2-K/ })) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGKILL");
    await exited;
    const written = (await app.store.products.find({ _id: /^E2-K/ }).select({ _id: 1 }).lean<{ _id: string }[]>()).map((p) => p._id);
    expect(written.length).toBeGreaterThanOrEqual(1);
    const entries = await app.store.audit.find({ command: "import products", args: /^killed-early\.jsonl/ }).lean<AuditDoc[]>();
    expect(entries).toEqual([expect.objectContaining({ args: "killed-early.jsonl: running", code: "running" })]);
    expect(entries[0]!.subject).toEqual(expect.arrayContaining(written));
    // As `audit subject=` finds it.
    const found = await app.run("shell:admin", `audit subject=${written[0]}`);
    expect(JSON.stringify(found.reply.table?.rows)).toContain("import products");
  }, 180_000);
});

describe("an import entry left running", () => {
  it("is marked lost by housekeeping a day after it started; a younger one, and other entries, are left", async () => {
    const hours = (n: number) => new Date(app.clock.now().getTime() - n * 3_600_000);
    const entry = (id: string, at: Date, command = "import orders") => ({ _id: id, at, actor: "shell:e2", platform: "shell", command, args: `${id}.csv: running`, outcome: "error", code: "running", message: "started and not finished", subject: ["E2-X"] });
    await app.store.audit.insertMany([entry("e2-old", hours(25)), entry("e2-young", hours(2)), entry("e2-other", hours(25), "digest")]);
    const summary = await housekeeping.handler({ services: app.services, clock: app.clock, logger: silentLogger, config: app.config, slot: app.clock.now(), catchUp: false, signal: new AbortController().signal });
    expect(summary).toMatch(/; marked 1 unfinished import lost$/);
    expect(await app.store.audit.findById("e2-old").lean<AuditDoc>()).toMatchObject({
      args: "e2-old.csv: not finished",
      outcome: "error",
      code: "lost",
      message: expect.stringMatching(/^started 2026-11-24T03:00:00\.000Z and never recorded its end: killed or crashed/),
      subject: ["E2-X"],
    });
    expect(await app.store.audit.findById("e2-young").lean<AuditDoc>()).toMatchObject({ code: "running", args: "e2-young.csv: running" });
    expect(await app.store.audit.findById("e2-other").lean<AuditDoc>()).toMatchObject({ code: "running" });
  });
});

describe("a long import is not taken for lost", () => {
  it("housekeeping goes by the entry's last sign of life (seenAt), an entry without one by its start", async () => {
    const hours = (n: number) => new Date(app.clock.now().getTime() - n * 3_600_000);
    const entry = (id: string, at: Date, seenAt?: Date) => ({ _id: id, at, ...(seenAt ? { seenAt } : {}), actor: "shell:e2", platform: "shell", command: "import orders", args: `${id}.csv: running`, outcome: "error", code: "running", message: "started and not finished" });
    await app.store.audit.insertMany([entry("e2-alive", hours(30), hours(1)), entry("e2-quiet", hours(30), hours(25)), entry("e2-legacy", hours(26))]);
    const summary = await housekeeping.handler({ services: app.services, clock: app.clock, logger: silentLogger, config: app.config, slot: app.clock.now(), catchUp: false, signal: new AbortController().signal });
    expect(summary).toMatch(/; marked 2 unfinished imports lost$/);
    expect(await app.store.audit.findById("e2-alive").lean<AuditDoc>()).toMatchObject({ code: "running", args: "e2-alive.csv: running" });
    expect(await app.store.audit.findById("e2-quiet").lean<AuditDoc>()).toMatchObject({
      code: "lost",
      message: expect.stringMatching(/^started 2026-11-23T22:00:00\.000Z, last seen running 2026-11-24T03:00:00\.000Z, and never recorded its end: killed or crashed/),
    });
    expect(await app.store.audit.findById("e2-legacy").lean<AuditDoc>()).toMatchObject({ code: "lost", args: "e2-legacy.csv: not finished" });
  });

  it("a running import refreshes its entry's seenAt while a line takes long, and puts an entry wrongly marked lost back to running", async () => {
    const f = await file("slow.jsonl", [JSON.stringify({ sku: "E2-SLOW", name: "Slow", category: "E2", price: 100 })]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const real = app.services.ingest;
    const ingest = { apply: async (...a: Parameters<IngestService["apply"]>) => (++calls, await held, real.apply(...a)) } as unknown as IngestService;
    const run = runImport({ kind: "products", file: f, ingest, audit: { service: app.services.audit, who: "shell:e2slow", store: app.store } });
    const entry = async () => (await app.store.audit.findOne({ actor: "shell:e2slow" }).lean<AuditDoc>())!;
    const until = async (ok: (e: AuditDoc) => boolean) => {
      const deadline = Date.now() + 8_000;
      while (!ok(await entry()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return entry();
    };
    try {
      while (calls < 1) await new Promise((r) => setTimeout(r, 10));
      // No line done, no new subject: the heartbeat still comes (every 2 s).
      const beat = await until((e) => !!e.seenAt);
      expect(beat.seenAt).toBeInstanceOf(Date);
      // Housekeeping taking it for lost (as if a day had passed): its next write puts it back.
      await markLostImports(app.store, new Date(Date.now() + 48 * 3_600_000));
      expect(await entry()).toMatchObject({ code: "lost", args: "slow.jsonl: not finished" });
      const back = await until((e) => e.code === "running");
      expect(back).toMatchObject({ code: "running", args: "slow.jsonl: running", message: expect.stringMatching(/^started and not finished: still running/), subject: ["E2-SLOW"] });
      expect(back.seenAt!.getTime()).toBeGreaterThan(beat.seenAt!.getTime());
    } finally {
      release();
      await run;
    }
    expect(await entry()).toMatchObject({ outcome: "ok", subject: ["E2-SLOW"] });
    expect((await entry()).code ?? undefined).toBeUndefined();
  }, 30_000);
});

describe("API audit entries", () => {
  it("are dated by the app's clock", async () => {
    await post("products", { sku: "E2-CLK", name: "Clock", category: "c", price: 100 });
    const e = await app.store.audit.find({ platform: "http", subject: "E2-CLK" }).lean<AuditDoc[]>();
    expect(e.map((x) => x.at)).toEqual([new Date(NOW)]);
  });
});
