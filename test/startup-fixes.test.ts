import { spawn, type ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "../src/core/logger.js";
import { shellIdentity } from "../src/core/identity.js";
import { startEmbeddedDatabase, DatabaseStartupError } from "../src/store/db-server.js";
import { createStore } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { runCli, runScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

/** Each test here starts the bot or a script as a process (a Node start with TypeScript compiled on the fly). */
const SPAWNS_TIMEOUT = 180_000;

const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-startup-test-"));
  dirs.push(d);
  return d;
};
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill();
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

describe("embedded database start-up problems", () => {
  it("a data directory that cannot be created is a configuration problem naming SHOPOPS_DATA_DIR (78), no stack trace", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "a-file");
    await fsp.writeFile(file, "x");
    for (const dataDir of [path.join(file, "data"), file]) {
      const r = await runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" });
      expect(r.code, r.stderr).toBe(78);
      expect(r.stderr).toContain(`SHOPOPS_DATA_DIR: cannot use ${dataDir} as the data directory`);
      expect(r.stderr).toContain("Set SHOPOPS_DATA_DIR to a directory this user can create and write");
      expect(r.stderr).not.toContain("    at ");
      expect(r.stderr).not.toContain("failed to start");
    }
  }, SPAWNS_TIMEOUT);

  it("a server.json whose server pid is now another program's is stale even while its owner pid lives", async () => {
    const dataDir = await tempDir();
    const other = spawn("sleep", ["60"]); // a live pid that is no database server
    children.push(other);
    // The owner pid is alive (this very process): before, the start waited for the address to
    // answer and then told the user to stop the unrelated process.
    await fsp.writeFile(path.join(dataDir, "server.json"), JSON.stringify({ uri: "mongodb://127.0.0.1:1/", pid: process.pid, kind: "ferretdb", serverPid: other.pid }));
    const startedAt = Date.now();
    const s = await startEmbeddedDatabase({ dataDir, logger: silentLogger });
    try {
      expect(s.owned).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(8_000); // not three unanswered pings
    } finally {
      await s.stop();
    }
  }, 60_000);

  it("a recorded database server that runs but does not answer stops start-up with what to do (78), no stack trace", async () => {
    const dataDir = await tempDir();
    // A process that looks like the runner (its command line names ferretdb-runner) but serves nothing.
    const fake = path.join(await tempDir(), "ferretdb-runner");
    await fsp.symlink((await fsp.realpath("/bin/sleep")) as string, fake);
    const stuck = spawn(fake, ["120"]);
    children.push(stuck);
    await new Promise((r) => setTimeout(r, 200));
    await fsp.writeFile(path.join(dataDir, "server.json"), JSON.stringify({ uri: "mongodb://127.0.0.1:1/", pid: process.pid, kind: "ferretdb", serverPid: stuck.pid }));
    await expect(startEmbeddedDatabase({ dataDir, logger: silentLogger })).rejects.toThrow(DatabaseStartupError);
    const r = await runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`the database server for ${dataDir} (pid ${stuck.pid}`);
    expect(r.stderr).toContain(`stop the database server (kill ${stuck.pid})`);
    expect(r.stderr).not.toContain("    at ");
  }, SPAWNS_TIMEOUT);

  it("your own shop on the embedded database: warns when nobody is admin, never claims SHOPOPS_ADMINS, and keeps its files private (600)", async () => {
    const dataDir = await tempDir();
    const local = { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", LOG_LEVEL: "error" };
    const r = await runCli(["shell", "-c", "whoami"], local);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("your own shop (SHOPOPS_DEMO=false)");
    expect(r.stderr).not.toContain("admins from SHOPOPS_ADMINS");
    expect(r.stderr).toContain(`warning: this shop's database has no admin (SHOPOPS_ADMINS is empty and no admin is stored), so nobody can grant roles. Set SHOPOPS_ADMINS=${shellIdentity()}`);
    // With SHOPOPS_ADMINS: said so, and no warning.
    const zh = await runCli(["shell", "-c", "whoami"], { ...local, SHOPOPS_ADMINS: shellIdentity(), SHOP_LOCALE: "zh-CN" });
    expect(zh.code, zh.stderr).toBe(0);
    expect(zh.stderr).toContain("管理员由 SHOPOPS_ADMINS 指定");
    expect(zh.stderr).not.toContain("没有管理员");
    // The database's files: this user's only, as README says (mode 600).
    const ferret = path.join(dataDir, "ferretdb");
    const files = await fsp.readdir(ferret, { withFileTypes: true }).catch(() => []);
    const sqlite = files.filter((f) => f.isFile());
    if (sqlite.length === 0) return; // a mongod (mongodb-memory-server) keeps its own files, 600 by itself
    for (const f of sqlite) expect(((await fsp.stat(path.join(ferret, f.name))).mode & 0o777).toString(8), f.name).toBe("600");
  }, SPAWNS_TIMEOUT);
});

describe("start-up on a configured database", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await connectTestDb();
    await createStore(db.conn).products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 30 })]);
  });
  afterAll(() => db?.close());

  it("warns when no admin is stored and SHOPOPS_ADMINS is empty; not once an admin is stored", async () => {
    const env = { MONGODB_URI: db.processUri, LOG_LEVEL: "error" };
    const none = await runCli(["shell", "-c", "stock SKU-1001"], env);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain(`this shop's database has no admin`);
    await createStore(db.conn).roles.create({ _id: "shell:boss", role: "admin", grantedBy: "test", grantedAt: new Date() });
    const some = await runCli(["shell", "-c", "stock SKU-1001"], env);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stderr).not.toContain("has no admin");
  }, SPAWNS_TIMEOUT);

  it("piped input to npm start without chat or HTTP does not claim an HTTP server", async () => {
    const r = await runCli([], { MONGODB_URI: db.processUri, LOG_LEVEL: "error", JOBS_ENABLED: "false", SHOPOPS_ADMINS: "shell:ops" }, "help\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("but this process runs no chat platform and no HTTP server");
    expect(r.stderr).not.toContain("HTTP only");
  }, SPAWNS_TIMEOUT);

  it("seed:demo --reset on a shop's database asks for --yes (64) and deletes nothing; its usage names all it deletes; a wrong option is 64", async () => {
    const store = createStore(db.conn);
    const r = await runScript("src/seed-demo.ts", ["--reset"], { MONGODB_URI: db.processUri, LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toContain("--reset would delete all products, orders, the stock ledger, complaints, refund requests, coupons, coupon drafts and the daily sales rollups in the database of MONGODB_URI");
    expect(r.stderr).toContain("add --yes");
    expect(await store.products.countDocuments()).toBe(1);

    const help = await runScript("src/seed-demo.ts", ["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--reset               delete all products, orders, the stock ledger, complaints, refund requests, coupons, coupon drafts and the daily sales rollups first");
    expect(help.stdout).toContain("--yes");

    const wrong = await runScript("src/seed-demo.ts", ["--rest"], { MONGODB_URI: db.processUri });
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toContain("Usage: npm run seed:demo");
    const badSeed = await runScript("src/seed-demo.ts", ["--seed", "x"], { MONGODB_URI: db.processUri });
    expect(badSeed.code).toBe(64);
  }, SPAWNS_TIMEOUT);
});

describe("logger", () => {
  it("writes a date as its ISO time, not {}", () => {
    const lines: string[] = [];
    const log = createLogger("info", {}, (l) => lines.push(l));
    const slot = new Date("2025-03-04T05:06:07.089Z");
    log.warn("x", { slot, nested: { at: slot }, list: [slot], bad: new Date(Number.NaN) });
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ slot: "2025-03-04T05:06:07.089Z", nested: { at: "2025-03-04T05:06:07.089Z" }, list: ["2025-03-04T05:06:07.089Z"], bad: "Invalid Date" });
  });
});
