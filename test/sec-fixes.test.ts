/**
 * Who may change or wipe a shop's database from a terminal, and what the trail and the logs keep:
 * `seed:demo --reset` and SHOP_SETTINGS_CHANGE need an admin and are audited; seed:demo names an
 * unreachable database as a start-up problem; refused API keys show at the default log level.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer } from "../adapters/http/http.server.js";
import { createApp } from "../src/app.js";
import { loadConfig, PROJECT_ROOT } from "../src/config.js";
import { systemClock } from "../src/core/clock.js";
import { shellIdentity } from "../src/core/identity.js";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { createStore, type Store } from "../src/store/models.js";
import { seedDemo } from "../src/seed/demo-data.js";
import { makeTestApp, paidOrder, product } from "./helpers/app.js";
import { cleanEnv, runCli, runScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

/** Each test here starts the bot or a script as a process (a Node start with TypeScript compiled on the fly). */
const SPAWNS_TIMEOUT = 240_000;
const me = shellIdentity();

describe("seed:demo on a shop's database", () => {
  let db: TestDb;
  let store: Store;
  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
    await store.products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 30 })]);
    await store.orders.collection.insertOne(paidOrder("ORD-1", 1500) as never);
  });
  afterAll(() => db?.close());

  it("--reset --yes by a viewer at the terminal is refused (1), audited as denied, and deletes nothing", async () => {
    const r = await runScript("src/seed-demo.ts", ["--reset", "--yes"], { MONGODB_URI: db.processUri, LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`seed:demo --reset on a shop's database needs the admin role (SHOPOPS_ADMINS, or granted with role grant); you (${me}) are viewer. Nothing was deleted.`);
    expect(await store.products.countDocuments()).toBe(1);
    expect(await store.orders.countDocuments()).toBe(1);
    const denied = await store.audit.find({ command: "seed:demo --reset" }).lean();
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actor: me, platform: "shell", outcome: "denied", code: "permission_denied" });
  }, SPAWNS_TIMEOUT);

  it("--reset --yes by an admin is done and audited once: who, from the shell, what it deleted", async () => {
    const r = await runScript("src/seed-demo.ts", ["--reset", "--yes", "--end-day", "2026-11-20"], { MONGODB_URI: db.processUri, LOG_LEVEL: "error", SHOPOPS_ADMINS: me });
    expect(r.code, r.stderr).toBe(0);
    expect(await store.orders.exists({ _id: "ORD-1" })).toBeNull();
    const entries = await store.audit.find({ command: "seed:demo --reset", outcome: { $ne: "denied" } }).lean();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: me, platform: "shell", outcome: "ok" });
    expect(entries[0]!.code).toBeUndefined();
    expect(entries[0]!.args).toMatch(/^deleted 1 products, 1 orders, 0 stock ledger entries, 0 complaints, 0 refund requests, 0 coupons, 0 coupon drafts, 0 daily sales rollups; loaded \d+ products, \d+ orders \(seed 42, to 2026-11-20, /);
  }, SPAWNS_TIMEOUT);

  it("the reset's hook runs before anything is deleted (the audit entry is written there), and a failing one deletes nothing", async () => {
    const small = { seed: 7, endDay: "2026-11-20", timeZone: "UTC", currency: "USD", products: 5, days: 2, ordersPerDay: 2, reset: true } as const;
    const other = await connectTestDb();
    try {
      const s2 = createStore(other.conn);
      await s2.products.insertMany([product("SKU-OLD")]);
      await expect(seedDemo(s2, { ...small, onReset: async () => Promise.reject(new Error("audit store down")) })).rejects.toThrow("audit store down");
      expect(await s2.products.exists({ _id: "SKU-OLD" })).not.toBeNull();
      let seen: unknown;
      const r = await seedDemo(s2, { ...small, onReset: async (toDelete) => void (seen = { toDelete, stillThere: await s2.products.countDocuments() }) });
      expect(seen).toMatchObject({ toDelete: { products: 1, orders: 0 }, stillThere: 1 });
      expect(r.deleted).toMatchObject({ products: 1, orders: 0 });
      expect(await s2.products.exists({ _id: "SKU-OLD" })).toBeNull();
    } finally {
      await other.close();
    }
  });

  it("an unreachable MONGODB_URI is a start-up problem (78) naming the address, never its password", async () => {
    const r = await runScript("src/seed-demo.ts", ["--yes"], { MONGODB_URI: "mongodb://ops:s3cretpw@127.0.0.1:9/shopops?serverSelectionTimeoutMS=500", LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain("MONGODB_URI: cannot use ");
    expect(r.stderr).toContain("127.0.0.1:9");
    // No answer (a closed port): said as start-up says it, with the time waited and the setting.
    expect(r.stderr).toContain("no answer within 0.5 s");
    expect(r.stderr).toContain("Check the host, port and network");
    expect(r.stderr).toContain("MONGODB_CONNECT_TIMEOUT_SECONDS");
    expect(r.stderr).not.toContain("s3cretpw");
    expect(r.stderr).not.toContain("seed:demo failed");
  }, SPAWNS_TIMEOUT);
});

describe("SHOP_SETTINGS_CHANGE", () => {
  let db: TestDb;
  let store: Store;
  const stored = async () => (await store.meta.findById("shop:settings").lean())?.value as { timeZone: string; currency: string } | undefined;
  beforeAll(async () => {
    db = await connectTestDb();
    store = createStore(db.conn);
    await store.meta.create({ _id: "shop:settings", value: { timeZone: "UTC", currency: "USD" } });
  });
  afterAll(() => db?.close());

  it("from a terminal needs an admin: a viewer is refused (1), nothing changed or run, the attempt audited; an admin's change is audited old → new", async () => {
    const env = { MONGODB_URI: db.processUri, LOG_LEVEL: "error", SHOP_CURRENCY: "EUR", SHOP_SETTINGS_CHANGE: "true" };
    const viewer = await runCli(["shell", "-c", "whoami"], env);
    expect(viewer.code, viewer.stderr).toBe(1);
    expect(viewer.stderr).toContain(`SHOP_SETTINGS_CHANGE: changing this shop's stored time zone and currency (UTC, USD → UTC, EUR) needs the admin role; you (${me}) are viewer. Nothing was changed or run.`);
    expect(viewer.stdout).toBe("");
    expect(await stored()).toEqual({ timeZone: "UTC", currency: "USD" });
    const zh = await runCli(["shell", "-c", "whoami"], { ...env, SHOP_LOCALE: "zh-CN" });
    expect(zh.code, zh.stderr).toBe(1);
    expect(zh.stderr).toContain("SHOP_SETTINGS_CHANGE：修改此店铺保存的时区和币种（UTC, USD → UTC, EUR）需要管理员（admin）角色");
    const denied = await store.audit.find({ command: "shop-settings" }).lean();
    expect(denied).toHaveLength(2);
    expect(denied[0]).toMatchObject({ actor: me, platform: "shell", outcome: "denied", code: "permission_denied", args: "UTC, USD → UTC, EUR" });

    // An admin (a stored role will do, as for --as) changes them, on the trail.
    await store.roles.create({ _id: me, role: "admin", grantedBy: "test", grantedAt: new Date() });
    const admin = await runCli(["shell", "-c", "whoami"], env);
    expect(admin.code, admin.stderr).toBe(0);
    expect(await stored()).toEqual({ timeZone: "UTC", currency: "EUR" });
    const ok = await store.audit.find({ command: "shop-settings", outcome: "ok" }).lean();
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ actor: me, platform: "shell", args: "UTC, USD → UTC, EUR", subject: "shop:settings" });
    await store.roles.deleteOne({ _id: me });
    // An admin finds both on the trail, by command or by the settings' record.
    const app = await createApp({ config: loadConfig({ SHOPOPS_ADMINS: "shell:admin" }), conn: db.conn, clock: systemClock, logger: silentLogger });
    for (const q of ["audit command=shop-settings", "audit subject=shop:settings"]) {
      const r = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: q });
      expect(r.reply.status, q).not.toBe("error");
      expect(JSON.stringify(r.reply), q).toContain("shop-settings shop:settings · UTC, USD → UTC, EUR");
      expect(JSON.stringify(r.reply), q).toContain("denied");
    }
  }, SPAWNS_TIMEOUT);

  it("a bot started without a terminal (HTTP, no shell) makes the change as `system`, audited", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv("HTTP_", "JOBS_", "SLACK_", "DISCORD_"), MONGODB_URI: db.processUri, LOG_LEVEL: "error", HTTP_PORT: "0", JOBS_ENABLED: "false", SHOP_CURRENCY: "JPY", SHOP_SETTINGS_CHANGE: "true" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      let entry = null;
      for (let i = 0; i < 600 && !entry && child.exitCode === null; i++) {
        entry = await store.audit.findOne({ command: "shop-settings", actor: "system" }).lean();
        if (!entry) await sleep(100);
      }
      expect(entry, stderr).toMatchObject({ actor: "system", platform: "system", outcome: "ok" });
      expect(entry!.args).toBe(`UTC, EUR → UTC, JPY (SHOP_SETTINGS_CHANGE at a start without a terminal, OS user ${me.slice(6)})`);
      expect(await stored()).toEqual({ timeZone: "UTC", currency: "JPY" });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, SPAWNS_TIMEOUT);
});

describe("refused API keys in the log", () => {
  it("are logged at warn (seen at LOG_LEVEL=info) once a minute per key id and address, naming the key id and address, never the secret", async () => {
    const app = await makeTestApp();
    const lines: string[] = [];
    const http = await startHttpServer({ services: app.services, config: app.config, logger: createLogger("info", {}, (l) => lines.push(l)) }, 0, "127.0.0.1");
    try {
      const { id, token } = await app.services.apiKeys.create("old storefront", ["orders"], "shell:admin");
      expect(await app.services.apiKeys.revoke(id, "shell:admin")).toBe("revoked");
      const post = (key: string) =>
        fetch(`http://127.0.0.1:${http.port}/api/v1/orders`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" }).then((r) => r.status);
      for (let i = 0; i < 3; i++) expect(await post(token)).toBe(401);
      const wrong = `shopops_kZZZZZZZZZZ_${"s".repeat(43)}`; // an unknown key, well formed
      expect(await post(wrong)).toBe(401);
      expect(await post("hunter2-not-a-key")).toBe(401);
      const warns = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.level === "warn");
      const revoked = warns.filter((e) => e.key === id);
      expect(revoked).toHaveLength(1); // three refusals, one line
      expect(revoked[0]).toMatchObject({ msg: "API request refused: invalid or revoked API key", component: "http" });
      expect(String(revoked[0]!.remote)).toMatch(/127\.0\.0\.1/);
      expect(warns.filter((e) => e.key === "kZZZZZZZZZZ")).toHaveLength(1);
      expect(warns.filter((e) => e.key === "(malformed, no key id)")).toHaveLength(1);
      const all = lines.join("\n");
      expect(all).not.toContain(token.slice(`shopops_${id}_`.length));
      expect(all).not.toContain("s".repeat(43));
      expect(all).not.toContain("hunter2");
    } finally {
      await http.close();
      await app.close();
    }
  });
});
