/**
 * A newcomer following the README: the first `npm start`, a typo in .env, a piped script ending
 * with `exit` (as processes, through the real command line).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { createStore } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { runCli } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";

describe("the first start of the embedded demo shop", () => {
  it("says it is loading the demo data before the long silent load, then the database line, in en and zh", async () => {
    const dirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), "shopops-e20-newcomer-"))));
    try {
      const [en, zh] = await Promise.all([
        runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dirs[0]!, LOG_LEVEL: "error" }),
        runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dirs[1]!, LOG_LEVEL: "error", SHOP_LOCALE: "zh-CN" }),
      ]);
      expect(en.code).toBe(0);
      const notice = en.stderr.indexOf("shopops: loading the demo shop's data into the new database (products and 90 days of orders): up to a minute or two, once…");
      expect(notice).toBeGreaterThanOrEqual(0);
      expect(notice).toBeLessThan(en.stderr.indexOf("shopops: database: embedded"));
      expect(en.stderr).toMatch(/seeded demo data: 240 products, \d+ orders/);
      expect(zh.code).toBe(0);
      const zhNotice = zh.stderr.indexOf("shopops: 正在向新数据库载入演示店铺数据（商品和 90 天的订单）：仅此一次，需要一两分钟……");
      expect(zhNotice).toBeGreaterThanOrEqual(0);
      expect(zhNotice).toBeLessThan(zh.stderr.indexOf("shopops: 数据库：内置"));

      // A restart loads nothing: nothing to wait for, nothing said about loading.
      const again = await runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dirs[0]!, LOG_LEVEL: "error" });
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain("loading the demo shop");
    } finally {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  }, 360_000);
});

describe("a number out of range in .env", () => {
  it("is refused naming the value given beside the range, as the README promises", () => {
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(problem({ VELOCITY_WINDOW_DAYS: "91" })).toContain('VELOCITY_WINDOW_DAYS: expected a whole number from 1 to 90; got "91"');
    expect(problem({ HTTP_PORT: "99999" })).toContain('HTTP_PORT: expected a port number from 0 to 65535; got "99999"');
    expect(problem({ MONGODB_CONNECT_TIMEOUT_SECONDS: "0" })).toContain('MONGODB_CONNECT_TIMEOUT_SECONDS: expected a whole number from 1 to 300; got "0"');
    expect(problem({ REFUND_SUPPORT_LIMIT: "500", REFUND_MANAGER_LIMIT: "300" })).toContain("REFUND_SUPPORT_LIMIT: expected at most REFUND_MANAGER_LIMIT (support approves less than a manager); got 500 and 300");
  });
});

describe("a piped script ending with exit", () => {
  let db: TestDb;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await connectTestDb();
    await createStore(db.conn).products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 30 })]);
    env = { MONGODB_URI: db.processUri, SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" };
  });
  afterAll(() => db.close());

  it("stops at `exit` (or `quit`) as sh does: no unknown-command error, no later line run, exit 0", async () => {
    for (const word of ["exit", "quit"]) {
      const r = await runCli(["shell"], env, `stock SKU-1001\n${word}\nstock adjust SKU-1001 +1 reason=after\n`);
      expect(r.stdout).not.toContain("Unknown command");
      expect(r.stdout).toContain("Wireless Mouse (SKU-1001)");
      expect(r.stdout).not.toContain("Stock adjusted");
      expect(r.code).toBe(0);
    }
    const store = createStore(db.conn);
    expect((await store.products.findById("SKU-1001").lean())?.onHand).toBe(30);
  }, 180_000);
});
