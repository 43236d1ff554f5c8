/**
 * A newcomer's first start and restart of `npm start` (the embedded demo shop), as processes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";

describe("restarting the embedded demo shop", () => {
  it("says the demo data is kept (changes included), the day its orders end, and how to load it afresh, in en and zh", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "shopops-e16-newcomer-"));
    const local = { SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" };
    try {
      const first = await runCli(["shell", "-c", "stock adjust SKU-1005 +3 reason=newcomer"], local);
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(/seeded demo data: \d+ products, \d+ orders/);
      expect(first.stderr).not.toContain("demo data kept");
      const today = new Date().toISOString().slice(0, 10); // SHOP_TIMEZONE is UTC here

      const second = await runCli(["shell", "-c", "whoami"], local);
      expect(second.code).toBe(0);
      expect(second.stderr).not.toContain("seeded demo data");
      expect(second.stderr).toMatch(/demo data kept from an earlier run, your changes included: 240 products, \d+ orders, the last on \d{4}-\d\d-\d\d\./);
      expect(second.stderr).toContain(`the last on ${today}`);
      expect(second.stderr).toContain("To load it afresh up to today (your changes lost): npm run seed:demo -- --reset");

      const zh = await runCli(["shell", "-c", "whoami"], { ...local, SHOP_LOCALE: "zh-CN" });
      expect(zh.code).toBe(0);
      expect(zh.stderr).toContain("沿用之前生成的演示数据（含你的改动）：240 个商品");
      expect(zh.stderr).toContain(`最后一个订单在 ${today}`);
      expect(zh.stderr).toContain("npm run seed:demo -- --reset");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
