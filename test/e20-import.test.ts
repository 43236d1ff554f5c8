/**
 * `npm run import` in the shop's language to the end (e20): with SHOP_LOCALE=zh-CN, what Ctrl-C
 * (or SIGTERM) says, once and a second time, and the file errors only reachable when the file
 * changes after it was checked (its header gone, or no longer UTF-8), are said in Chinese as the
 * rest of the run is. Real child processes; the run is held on its way to the database by a TCP
 * relay in front of the test database, so the signal or the file change comes mid-run.
 */
import type { ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { shellIdentity } from "../src/core/identity.js";
import { createStore } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { startScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { holdingRelay } from "./helpers/relay.js";

const SPAWNS_TIMEOUT = 180_000;

let db: TestDb;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  db = await connectTestDb();
  await createStore(db.conn).products.insertMany([product("E20-A", { onHand: 100 })]);
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-e20-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await db.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** `npm run import -- <args>` as the shop's admin at the terminal, in Chinese, over `uri`. */
function importRun(args: string[], uri: string) {
  const env = { LOG_LEVEL: "error", MONGODB_URI: uri, SHOPOPS_ADMINS: shellIdentity(), SHOP_LOCALE: "zh-CN" };
  const run = startScript("src/import.ts", args, env);
  children.push(run.child);
  return run;
}

/** Waits until `text()` contains `s` (output, not time, decides). */
const waitFor = (text: () => string, s: string) => vi.waitFor(() => expect(text()).toContain(s), { timeout: 60_000, interval: 100 });

describe("a signal to an import run with SHOP_LOCALE=zh-CN", () => {
  for (const [sig, first, code] of [
    ["SIGINT", "import: SIGINT：处理完正在进行的行后停止（再按一次 Ctrl-C 立即停止）", 130],
    ["SIGTERM", "import: SIGTERM：处理完正在进行的行后停止（再发送一次 SIGTERM 立即停止）", 143],
  ] as const) {
    it(`${sig}: what it does is said in Chinese, and so is a second ${sig} that stops it at once`, { timeout: SPAWNS_TIMEOUT }, async () => {
      const no = `E20-${sig}`;
      const file = path.join(dir, `orders-${sig}.jsonl`);
      await fsp.writeFile(file, JSON.stringify({ orderNo: no, customerId: "c20", status: "paid", paidAt: "2026-11-24T03:00:00Z", items: [{ sku: "E20-A", qty: 1, unitPrice: 700 }] }) + "\n");
      const relay = await holdingRelay(db.processUri, no); // the line on its way to the database
      try {
        const run = importRun(["orders", file], relay.uri);
        await relay.seen;
        run.child.kill(sig);
        await waitFor(run.err, first);
        // Not the same signal delivered twice (npm and tsx relay one): a second one, later.
        await sleep(700);
        run.child.kill(sig);
        expect(await run.code).toBe(code);
        expect(run.err()).toContain(`import: 再次收到 ${sig}：已立即停止；正在进行的行可能已应用，也可能未应用，请重新运行该文件以完成导入`);
        expect(run.err()).not.toMatch(/stopping after|stopped at once/);
      } finally {
        relay.close();
      }
    });
  }
});

describe("a CSV file changed after it was checked, with SHOP_LOCALE=zh-CN", () => {
  for (const [what, changed, said] of [
    ["its header no longer UTF-8 (saved again as GBK)", Buffer.from([0xc9, 0xcc, 0xc6, 0xb7, 0x0a]), "第 1 行（CSV 表头）不是有效的 UTF-8：请将文件另存为 UTF-8 后重新导入"],
    ["emptied", Buffer.alloc(0), "文件没有表头：CSV 文件的第一行应是表头（字段名）。products 的列为："],
  ] as const) {
    it(`${what}: refused in Chinese, naming the file, exit 64`, { timeout: SPAWNS_TIMEOUT }, async () => {
      const file = path.join(dir, `e20-${changed.length}-products.csv`);
      await fsp.writeFile(file, "sku,name,category,price\nE20-NEW,Lid,Home,990\n");
      // Held on the run's first write (its audit entry, before it reads the file), the file is changed.
      const relay = await holdingRelay(db.processUri, `${path.basename(file)}: running`);
      try {
        const run = importRun(["products", file], relay.uri);
        await relay.seen;
        await fsp.writeFile(file, changed);
        relay.release();
        expect(await run.code).toBe(64);
        expect(run.err()).toContain(`import: ${file}: ${said}`);
        expect(run.err()).not.toMatch(/not valid UTF-8|has no header/);
      } finally {
        relay.close();
      }
    });
  }
});
