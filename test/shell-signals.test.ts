/**
 * A script stopped by a signal while one of its commands is writing: the command finishes and
 * is reported (it may be a write that lands either way), then the script exits 130; a second
 * signal stops it at once. The command is held mid-write by a TCP relay in front of the
 * database that stops passing the bot's bytes once it sees the command's write.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { createStore, type Store } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { cleanEnv } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { holdingRelay } from "./helpers/relay.js";

const SPAWNS_TIMEOUT = 180_000;

let db: TestDb;
let store: Store;
beforeAll(async () => {
  db = await connectTestDb();
  store = createStore(db.conn);
  await store.products.insertMany([product("SKU-7001", { name: "Tea Cup", onHand: 10 }), product("SKU-7002", { name: "Tea Pot", onHand: 10 })]);
});
afterAll(() => db.close());

function run(uri: string, command: string): { child: ChildProcess; out: () => string; code: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell", "-c", command], {
    cwd: PROJECT_ROOT,
    env: { ...cleanEnv(), MONGODB_URI: uri, SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  return { child, out: () => out, code };
}

describe("a script stopped by a signal", () => {
  it("lets the command under way finish and report, then exits 130; one Ctrl-C delivered twice (npm) counts once", { timeout: SPAWNS_TIMEOUT }, async () => {
    const relay = await holdingRelay(db.processUri, "sig-test-one", { every: true });
    try {
      const bot = run(relay.uri, "stock adjust SKU-7001 +5 reason=sig-test-one");
      await relay.seen; // the adjustment is on its way to the database
      bot.child.kill("SIGINT");
      // npm forwards the terminal's Ctrl-C to a process that got it already: the same key press.
      await new Promise((r) => setTimeout(r, 50));
      bot.child.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 500));
      expect(bot.child.exitCode).toBeNull(); // still waiting for its command
      relay.release();
      expect(await bot.code).toBe(130);
      expect(bot.out()).toContain("on hand 10 → 15"); // the user is told what happened
      expect((await store.products.findById("SKU-7001").lean())!.onHand).toBe(15);
    } finally {
      relay.close();
    }
  });

  it("a second signal stops it at once", { timeout: SPAWNS_TIMEOUT }, async () => {
    const relay = await holdingRelay(db.processUri, "sig-test-two", { every: true });
    try {
      const bot = run(relay.uri, "stock adjust SKU-7002 +5 reason=sig-test-two");
      await relay.seen;
      bot.child.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 1_500)); // a second key press, not the same one twice
      bot.child.kill("SIGINT");
      const started = Date.now();
      expect(await bot.code).toBe(130);
      // Behaviour, not speed: without the second signal it would wait for its command up to 10 s.
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(bot.out()).not.toContain("Stock adjusted");
    } finally {
      relay.close();
    }
  });
});
