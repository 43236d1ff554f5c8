/**
 * The bulk import's dry run writes nothing, the shop's settings neither (SHOP_SETTINGS_CHANGE is
 * not taken by it); a run still going or killed half-way is found by `audit subject=`.
 */
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkShopSettings } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { runImport } from "../src/import.js";
import type { IngestService } from "../src/services/ingest.service.js";
import type { AuditDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

const SPAWNS_TIMEOUT = 180_000;

let app: TestApp;
let dir: string;
beforeAll(async () => {
  app = await makeTestApp();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-d1-"));
  await app.store.products.insertMany([product("D1-1", { onHand: 10 })]);
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
  await app?.close();
});

const file = async (name: string, lines: string[]) => {
  const f = path.join(dir, name);
  await fsp.writeFile(f, lines.join("\n") + "\n");
  return f;
};
const productLine = (sku: string) => JSON.stringify({ sku, name: `Thing ${sku}`, category: "D1", price: 100, onHand: 5 });
const settings = async () => (await app.store.meta.findById("shop:settings").lean())?.value;
const setSettings = (value: { timeZone: string; currency: string } | null) =>
  value ? app.store.meta.updateOne({ _id: "shop:settings" }, { $set: { value } }, { upsert: true }) : app.store.meta.deleteOne({ _id: "shop:settings" });

describe("an import's dry run and the shop's settings", () => {
  it("npm run import --dry-run with SHOP_SETTINGS_CHANGE=true by an admin is refused and changes nothing, audits nothing", async () => {
    await setSettings({ timeZone: "Asia/Shanghai", currency: "USD" });
    const me = shellIdentity();
    const inv = await file("inv.jsonl", [JSON.stringify({ sku: "D1-1", delta: 1, reason: "x", key: "d1-inv-1" })]);
    const env = { MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Europe/Berlin", SHOP_CURRENCY: "USD", SHOP_SETTINGS_CHANGE: "true", SHOPOPS_ADMINS: me, LOG_LEVEL: "error" };
    const dry = await runScript("src/import.ts", ["inventory", inv, "--dry-run"], env);
    expect(dry.code, dry.stderr).toBe(78);
    expect(dry.stderr).toContain("this database's days and amounts are in Asia/Shanghai and USD, and a dry run does not change the shop's settings");
    expect(dry.stdout).toBe("");
    expect(await settings()).toEqual({ timeZone: "Asia/Shanghai", currency: "USD" });
    expect(await app.store.audit.countDocuments({ command: "shop-settings" })).toBe(0);
    // Someone without a role is told the same, not refused as a settings change they did not ask to make.
    const viewer = await runScript("src/import.ts", ["inventory", inv, "--dry-run"], { ...env, SHOPOPS_ADMINS: "shell:someone-else" });
    expect(viewer.code, viewer.stderr).toBe(78);
    expect(viewer.stderr).toContain("a dry run does not change the shop's settings");
    expect(await app.store.audit.countDocuments({})).toBe(0);
    expect((await app.store.products.findById("D1-1").lean())?.onHand).toBe(10);
  }, SPAWNS_TIMEOUT);

  it("read-only: the same settings pass, nothing stored stays so, a mismatch is refused", async () => {
    const before = await settings();
    try {
      await setSettings(null);
      expect(await checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "Europe/Berlin", SHOP_CURRENCY: "EUR" }), undefined, { readOnly: true })).toBe("unset");
      expect(await settings()).toBeUndefined();
      await setSettings({ timeZone: "Europe/Berlin", currency: "EUR" });
      expect(await checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "Europe/Berlin", SHOP_CURRENCY: "EUR" }), undefined, { readOnly: true })).toBe("same");
      await expect(checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "Asia/Tokyo", SHOP_CURRENCY: "EUR", SHOP_SETTINGS_CHANGE: "true", SHOPOPS_ADMINS: shellIdentity() }), undefined, { readOnly: true })).rejects.toThrow(
        /a dry run does not change the shop's settings/,
      );
      await expect(checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "Asia/Tokyo", SHOP_CURRENCY: "EUR" }), undefined, { readOnly: true })).rejects.toThrow(/days and amounts are in Europe\/Berlin and EUR/);
      expect(await settings()).toEqual({ timeZone: "Europe/Berlin", currency: "EUR" });
      expect(await app.store.audit.countDocuments({ command: "shop-settings" })).toBe(0);
    } finally {
      await setSettings((before as { timeZone: string; currency: string } | undefined) ?? null);
    }
  });
});

describe("a running import's audit entry", () => {
  it("names the subjects of the lines applied so far, so audit subject= finds a run still going (or killed)", async () => {
    const f = await file("slow.jsonl", [productLine("D1-S1"), productLine("D1-S2"), productLine("D1-S3")]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const real = app.services.ingest;
    // The third line waits: the run is under way, two products written.
    const ingest = { apply: async (...a: Parameters<IngestService["apply"]>) => (++calls === 3 && (await held), real.apply(...a)) } as unknown as IngestService;
    const audit = { service: app.services.audit, who: "shell:slow", store: app.store };
    const run = runImport({ kind: "products", file: f, ingest, audit });
    try {
      while (calls < 3) await new Promise((r) => setTimeout(r, 20));
      // Updated every few seconds while it runs.
      const deadline = Date.now() + 15_000;
      let during: AuditDoc[] = [];
      while (Date.now() < deadline) {
        during = await app.store.audit.find({ actor: "shell:slow", subject: "D1-S2" }).lean<AuditDoc[]>();
        if (during.length && (during[0]!.subject as string[]).includes("D1-S1")) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(during).toEqual([expect.objectContaining({ command: "import products", args: "slow.jsonl: running", code: "running" })]);
      // The held third line too: a line's records are on the entry before it is applied.
      expect([...(during[0]!.subject as string[])].sort()).toEqual(["D1-S1", "D1-S2", "D1-S3"]);
    } finally {
      release();
      await run;
    }
    const after = await app.store.audit.find({ actor: "shell:slow" }).lean<AuditDoc[]>();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ outcome: "ok", args: "slow.jsonl: 3 lines; imported 3, updated 0, skipped 0, parked 0, failed 0" });
    expect([...(after[0]!.subject as string[])].sort()).toEqual(["D1-S1", "D1-S2", "D1-S3"]);
  }, 30_000);
});
