/**
 * Loading the demo into a shop's database needs --yes and an admin, and is audited; the import
 * refuses SHOP_SETTINGS_CHANGE to a non-admin as a permission (exit 1); an imported complaint
 * without a source is the same complaint as one imported with source `other`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellIdentity } from "../src/core/identity.js";
import { createStore, type Store } from "../src/store/models.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

/** Each of these tests starts a script as a process (a Node start with TypeScript compiled on the fly). */
const SPAWNS_TIMEOUT = 240_000;
const me = shellIdentity();

describe("seed:demo without --reset on a shop's database", () => {
  let db: TestDb;
  let store: Store;
  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
  });
  afterAll(() => db?.close());

  it("needs --yes (64, nothing written), then an admin (a viewer is refused with 1, audited as denied); an admin's seed is audited", async () => {
    const env = { MONGODB_URI: db.processUri, LOG_LEVEL: "error" };
    const written = async () => ({ products: await store.products.countDocuments(), orders: await store.orders.countDocuments(), roles: await store.roles.countDocuments() });
    const none = { products: 0, orders: 0, roles: 0 };

    const asked = await runScript("src/seed-demo.ts", [], env);
    expect(asked.code, asked.stderr).toBe(64);
    expect(asked.stderr).toContain("seed:demo would load the demo's products, 90 days of orders, complaints, refund requests and coupons, and the support role for its agents (shell:demo-*) into the database of MONGODB_URI, a shop's database, not the demo's. Nothing was changed. If that is what you want, add --yes (npm run seed:demo -- --yes)");
    expect(await written()).toEqual(none);
    expect(await store.audit.countDocuments()).toBe(0);
    // Your own shop's embedded database too, refused before any database is opened.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "shopops-c2-"));
    try {
      const own = await runScript("src/seed-demo.ts", [], { SHOPOPS_DEMO: "false", SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" });
      expect(own.code, own.stderr).toBe(64);
      expect(own.stderr).toContain("into your own shop's embedded database (SHOPOPS_DEMO=false), a shop's database, not the demo's. Nothing was changed.");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }

    const viewer = await runScript("src/seed-demo.ts", ["--yes"], env);
    expect(viewer.code, viewer.stderr).toBe(1);
    expect(viewer.stderr).toContain(`seed:demo on a shop's database needs the admin role (SHOPOPS_ADMINS, or granted with role grant); you (${me}) are viewer. Nothing was changed.`);
    expect(await written()).toEqual(none);
    const denied = await store.audit.find({ command: "seed:demo" }).lean();
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actor: me, platform: "shell", outcome: "denied", code: "permission_denied" });

    const admin = await runScript("src/seed-demo.ts", ["--yes", "--end-day", "2026-11-20"], { ...env, SHOPOPS_ADMINS: me });
    expect(admin.code, admin.stderr).toBe(0);
    const after = await written();
    expect(after.products).toBeGreaterThan(0);
    expect(after.orders).toBeGreaterThan(0);
    const ok = await store.audit.find({ command: "seed:demo", outcome: "ok" }).lean();
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ actor: me, platform: "shell", args: expect.stringMatching(new RegExp(`^loaded ${after.products} products, ${after.orders} orders \\(seed 42, to 2026-11-20, `)) });
    expect(ok[0]!.code).toBeUndefined();
  }, SPAWNS_TIMEOUT);
});

describe("import with SHOP_SETTINGS_CHANGE by someone not an admin", () => {
  let db: TestDb;
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
    await store.meta.create({ _id: "shop:settings", value: { timeZone: "UTC", currency: "USD" } });
    dir = await mkdtemp(path.join(os.tmpdir(), "shopops-c2-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await db?.close();
  });

  it("is refused as a permission (1, as the shell refuses it), not as an invalid configuration; nothing changed or imported", async () => {
    const f = path.join(dir, "complaints.jsonl");
    await writeFile(f, '{"externalId":"T-9","customerId":"CUST-9","text":"broken"}\n');
    const r = await runScript("src/import.ts", ["complaints", f], { MONGODB_URI: db.processUri, LOG_LEVEL: "error", SHOP_CURRENCY: "EUR", SHOP_SETTINGS_CHANGE: "true" });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`import: SHOP_SETTINGS_CHANGE: changing this shop's stored time zone and currency (UTC, USD → UTC, EUR) needs the admin role; ${me} is viewer. Nothing was changed.`);
    expect(r.stderr).not.toContain("the configuration is invalid");
    expect((await store.meta.findById("shop:settings").lean())?.value).toEqual({ timeZone: "UTC", currency: "USD" });
    expect(await store.complaints.countDocuments()).toBe(0);
    expect(await store.audit.find({ command: "shop-settings", outcome: "denied" }).lean()).toHaveLength(1);
  }, SPAWNS_TIMEOUT);
});

describe("an imported complaint without a source", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp();
  });
  afterAll(() => app.close());

  const ticket = (externalId: string, source?: string) => ({ externalId, customerId: "CUST-1", text: "broken", ...(source ? { source } : {}) });

  it("is the same complaint as the ticket imported with source other, imported first or second", async () => {
    // Without a source first, then with source other.
    const a = await app.services.ingest.apply("complaints", ticket("T-1"), "import:a.csv");
    expect(a.outcome).toBe("created");
    expect(await app.store.complaints.findById(a.id).lean()).toMatchObject({ source: "other" });
    const b = await app.services.ingest.apply("complaints", ticket("T-1", "other"), "import:b.csv");
    expect(b).toMatchObject({ outcome: "unchanged", id: a.id });
    // Re-running the first file still finds it.
    expect(await app.services.ingest.apply("complaints", ticket("T-1"), "import:a.csv")).toMatchObject({ outcome: "unchanged", id: a.id });

    // With source other first, then without a source.
    const c = await app.services.ingest.apply("complaints", ticket("T-2", "other"), "import:c.csv");
    expect(c.outcome).toBe("created");
    const d = await app.services.ingest.apply("complaints", ticket("T-2"), "import:d.csv");
    expect(d).toMatchObject({ outcome: "unchanged", id: c.id });

    // Another text under the same ticket is still a conflict, not a second complaint.
    expect(await app.services.ingest.apply("complaints", { ...ticket("T-1", "other"), text: "lost" }, "import:e.csv")).toMatchObject({ outcome: "rejected", code: "key_conflict", id: a.id });
    expect(await app.store.complaints.countDocuments({ customerId: "CUST-1" })).toBe(2);
  });

  it("keeps the API's tickets apart: an API ticket without a source is `api`, not the import's `other`", async () => {
    const api = await app.services.ingest.apply("complaints", ticket("T-3"), "api:helpdesk#k1");
    expect(api.outcome).toBe("created");
    // Imported without a source: keyed as the API's ticket (a migration of what the API sent finds it).
    expect(await app.services.ingest.apply("complaints", ticket("T-3"), "import:f.csv")).toMatchObject({ outcome: "unchanged", id: api.id });
    // Imported with source other: another source's ticket 3.
    const other = await app.services.ingest.apply("complaints", ticket("T-3", "other"), "import:g.csv");
    expect(other.outcome).toBe("created");
    expect(other.id).not.toBe(api.id);
  });
});
