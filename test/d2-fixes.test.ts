/**
 * SHOPOPS_SEED_DEMO on a shop's database is `npm run seed:demo -- --yes`: from a terminal an
 * admin's only (a viewer is refused, nothing loaded), audited as seed:demo; a bot started without
 * a terminal seeds as `system`; and start-up does not call the seeded shop empty.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { createStore, type Store } from "../src/store/models.js";
import { cleanEnv, runCli } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

/** Each test here starts the bot as a process (a Node start with TypeScript compiled on the fly) and seeds the demo shop. */
const SPAWNS_TIMEOUT = 300_000;
const me = shellIdentity();

describe("SHOPOPS_SEED_DEMO on a configured database", () => {
  let db: TestDb;
  let store: Store;
  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
  });
  afterAll(() => db?.close());

  it("from a terminal a viewer is refused (1): nothing loaded or run, the attempt audited as seed:demo denied", async () => {
    const env = { MONGODB_URI: db.processUri, LOG_LEVEL: "error", SHOPOPS_SEED_DEMO: "true" };
    const r = await runCli(["shell", "-c", "role list"], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`SHOPOPS_SEED_DEMO: loading the demo shop (products, 90 days of orders, complaints, refund requests, coupons, and the support role for shell:demo-*) into this shop's database needs the admin role; you (${me}) are viewer. Nothing was loaded or run.`);
    expect(r.stderr).not.toContain("seeded demo data");
    expect(r.stdout).toBe("");
    expect(await store.products.countDocuments()).toBe(0);
    expect(await store.orders.countDocuments()).toBe(0);
    expect(await store.roles.countDocuments()).toBe(0);
    const zh = await runCli(["shell", "-c", "role list"], { ...env, SHOP_LOCALE: "zh-CN" });
    expect(zh.code, zh.stderr).toBe(1);
    expect(zh.stderr).toContain("SHOPOPS_SEED_DEMO：向此店铺数据库载入演示店铺");
    const denied = await store.audit.find({ command: "seed:demo" }).lean();
    expect(denied).toHaveLength(2);
    expect(denied[0]).toMatchObject({ actor: me, platform: "shell", outcome: "denied", code: "permission_denied", message: `needs admin; ${me} is viewer` });
    expect(denied[0]!.args).toMatch(/^SHOPOPS_SEED_DEMO=true \(seed 42, to \d{4}-\d{2}-\d{2}, /);
  }, SPAWNS_TIMEOUT);

  it("a bot started without a terminal (HTTP, no shell) seeds as `system`, audited as seed:demo", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv("HTTP_", "JOBS_", "SLACK_", "DISCORD_"), MONGODB_URI: db.processUri, LOG_LEVEL: "error", HTTP_PORT: "0", JOBS_ENABLED: "false", SHOPOPS_SEED_DEMO: "true" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      let entry = null;
      for (let i = 0; i < 1200 && !entry && child.exitCode === null; i++) {
        entry = await store.audit.findOne({ command: "seed:demo", actor: "system", outcome: "ok" }).lean();
        if (!entry) await sleep(100);
      }
      expect(entry, stderr).toMatchObject({ actor: "system", platform: "system", outcome: "ok" });
      expect(entry!.code).toBeUndefined();
      expect(entry!.args).toMatch(new RegExp(`^loaded \\d+ products, \\d+ orders \\(seed 42, to \\d{4}-\\d{2}-\\d{2}, .*\\) \\(SHOPOPS_SEED_DEMO at a start without a terminal, OS user ${me.slice(6)}\\)$`));
      expect(await store.products.countDocuments()).toBeGreaterThan(0);
      expect(await store.audit.countDocuments({ command: "seed:demo", outcome: { $ne: "denied" } })).toBe(1);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, SPAWNS_TIMEOUT);
});

describe("SHOPOPS_SEED_DEMO on your own shop's embedded database (SHOPOPS_DEMO=false)", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-d2-test-"));
  });
  afterAll(async () => {
    if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it("a viewer is refused and nothing is loaded; an admin's seed is audited and the start-up line no longer says the shop is empty", async () => {
    const local = { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", SHOPOPS_SEED_DEMO: "true", LOG_LEVEL: "error" };
    const viewer = await runCli(["shell", "-c", "role list"], local);
    expect(viewer.code, viewer.stderr).toBe(1);
    expect(viewer.stderr).toContain(`needs the admin role; you (${me}) are viewer. Nothing was loaded or run.`);
    expect(viewer.stderr).not.toContain("seeded demo data");
    expect(viewer.stdout).toBe("");

    const admin = await runCli(["shell", "-c", "audit command=seed:demo"], { ...local, SHOPOPS_ADMINS: me });
    expect(admin.code, admin.stderr).toBe(0);
    expect(admin.stderr).toMatch(/seeded demo data: \d+ products, \d+ orders/);
    expect(admin.stderr).toContain("your own shop (SHOPOPS_DEMO=false), filled with the demo shop's data (SHOPOPS_SEED_DEMO=true, on the audit trail as seed:demo)");
    expect(admin.stderr).not.toContain("empty until your data comes in");
    // The trail shows the refusal and the load, each by the person at the terminal.
    expect(admin.stdout).toContain("denied");
    expect(admin.stdout).toMatch(/loaded \d+ products/);
    expect(admin.stdout).toContain(me);
  }, SPAWNS_TIMEOUT);
});
