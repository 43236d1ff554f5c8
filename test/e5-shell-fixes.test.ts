/**
 * Shell adapter fixes: a digest chart's file is named by its day, database and language, and a
 * chart never replaces another one's file (two databases, two languages, two sessions), while
 * the path printed is always the file holding that reply's chart.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShellAdapter } from "../adapters/shell/shell.adapter.js";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import type { Locale } from "../src/core/messages.js";
import { shellIdentity } from "../src/core/identity.js";
import { silentLogger } from "../src/core/logger.js";
import { runCli } from "./helpers/cli.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

const DAY = "2026-11-24";

let shop: TestApp;
let other: TestApp;
/** A second app over `shop`'s database whose shop language is Chinese. */
let shopZh: App;
let outDir: string;

beforeAll(async () => {
  shop = await makeTestApp();
  other = await makeTestApp();
  shopZh = await createApp({ config: loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", SHOP_LOCALE: "zh-CN" }), conn: shop.db.conn, clock: shop.clock, logger: silentLogger });
  for (const app of [shop, other]) await app.store.products.insertMany([product("SKU-1", { onHand: 40 })]);
  // The two databases hold different sales, so their charts differ.
  await shop.store.orders.insertMany([paidOrder("ORD-1", 12_000, "2026-11-23T02:00:00Z"), paidOrder("ORD-2", 30_000, "2026-11-24T02:00:00Z")]);
  await other.store.orders.insertMany([paidOrder("ORD-9", 99_000, "2026-11-22T02:00:00Z")]);
  for (const app of [shop, other]) expect((await app.run("shell:admin", "digest rebuild 2026-11-10 2026-11-25")).outcome).toBe("ok");
  outDir = await mkdtemp(path.join(tmpdir(), "shopops-e5-out-"));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
  await other?.close();
  await shop?.close();
});

/** A shell session over `app` (the database named `database`, replies in `locale`) whose output is collected. */
function session(app: App, database: string, locale: Locale, dir = outDir) {
  const output = new PassThrough();
  let text = "";
  output.on("data", (d: Buffer) => (text += d.toString()));
  const shell = new ShellAdapter({ core: app.core, identity: "shell:admin", outDir: dir, database, locale, input: new PassThrough(), output, interactive: false });
  return {
    /** Runs a command line and returns the path of the image its reply printed. */
    async image(line: string): Promise<string> {
      text = "";
      expect(await shell.runOne(line)).toBe(0);
      const m = /\[image\] (\S+\.png) \(/.exec(text);
      expect(m, text).not.toBeNull();
      return m![1]!;
    },
  };
}

/** The chart's bytes as the command draws them now (the chart is the same for the same figures). */
const chartOf = async (app: App, line: string) => Buffer.from((await app.core.invoke({ identity: "shell:admin", platform: "shell", text: line })).reply.image!.data);

describe("digest charts in the shell", () => {
  it("are named by day, database and language: the demo's and a shop's, or two languages, never share a file", async () => {
    const en = await session(shop, shop.db.dbName, "en").image(`digest ${DAY}`);
    const zh = await session(shopZh, shop.db.dbName, "zh-CN").image(`digest ${DAY}`);
    const elsewhere = await session(other, other.db.dbName, "en").image(`digest ${DAY}`);
    expect(en).toBe(path.join(outDir, `digest-${DAY}-${shop.db.dbName}-en.png`));
    expect(zh).toBe(path.join(outDir, `digest-${DAY}-${shop.db.dbName}-zh-CN.png`));
    expect(elsewhere).toBe(path.join(outDir, `digest-${DAY}-${other.db.dbName}-en.png`));
    // Each printed path holds its own reply's chart, after the others were written.
    expect(await readFile(en)).toEqual(await chartOf(shop, `digest ${DAY}`));
    expect(await readFile(zh)).toEqual(await chartOf(shopZh, `digest ${DAY}`));
    expect(await readFile(elsewhere)).toEqual(await chartOf(other, `digest ${DAY}`));
    expect(await readFile(en)).not.toEqual(await readFile(zh));
    expect(await readFile(en)).not.toEqual(await readFile(elsewhere));
  });

  it("never replace another session's chart, but a session's own chart drawn again replaces its file: one file per session, however often it is drawn", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shopops-e5-sessions-"));
    /** An order paid since: today's chart is different now. */
    const sale = async (orderNo: string, amount: number) => {
      await shop.store.orders.insertMany([paidOrder(orderNo, amount, "2026-11-25T01:00:00Z")]);
      expect((await shop.run("shell:admin", "digest rebuild 2026-11-25")).outcome).toBe("ok");
    };
    try {
      const a = session(shop, "shop", "en", dir);
      const b = session(shop, "shop", "en", dir);
      const first = await a.image("digest today");
      const before = await readFile(first);
      await sale("ORD-3", 55_000);
      const second = await b.image("digest today");
      expect(first).toBe(path.join(dir, "digest-2026-11-25-shop-en.png"));
      expect(second).toBe(path.join(dir, "digest-2026-11-25-shop-en-2.png"));
      expect(await readFile(first)).toEqual(before); // the first session's path still shows its chart
      expect(await readFile(second)).toEqual(await chartOf(shop, "digest today"));
      expect(await readFile(second)).not.toEqual(before);
      // The same chart asked again from the session that wrote it: its file, no third one.
      expect(await b.image("digest today")).toBe(second);
      // Each session draws today's chart again, with new figures each time: each replaces the file
      // it wrote itself (the digest run all day is one file per session, not one per run).
      for (const [i, amount] of [21_000, 34_000, 8_000].entries()) {
        await sale(`ORD-4${i}`, amount);
        const now = await chartOf(shop, "digest today");
        expect(await a.image("digest today")).toBe(first);
        expect(await readFile(first)).toEqual(now);
        expect(await readFile(second)).not.toEqual(now); // b's file is b's: a never writes it
        expect(await b.image("digest today")).toBe(second);
        expect(await readFile(second)).toEqual(now);
      }
      expect((await readdir(dir)).sort()).toEqual(["digest-2026-11-25-shop-en-2.png", "digest-2026-11-25-shop-en.png"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads no earlier file whose size differs from the new chart's (a file that cannot be read to its end is passed over)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shopops-e5-sizes-"));
    try {
      // Named like today's chart but not one: a pipe, which a read would wait on for ever.
      execFileSync("mkfifo", [path.join(dir, "digest-2026-11-25-shop-en.png")]);
      const file = await session(shop, "shop", "en", dir).image("digest today");
      expect(file).toBe(path.join(dir, "digest-2026-11-25-shop-en-2.png"));
      expect(await readFile(file)).toEqual(await chartOf(shop, "digest today"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 15_000);

  it("npm run shell writes the chart under the data directory, named with the database it runs on, and prints that path", async () => {
    const data = await mkdtemp(path.join(tmpdir(), "shopops-e5-data-"));
    try {
      const r = await runCli(["shell", "-c", `digest ${DAY}`], {
        MONGODB_URI: shop.db.processUri,
        SHOPOPS_DATA_DIR: data,
        SHOPOPS_ADMINS: `shell:admin,${shellIdentity()}`,
        SHOP_TIMEZONE: "Asia/Shanghai",
        SHOP_CURRENCY: "CNY",
        LOG_LEVEL: "error",
      });
      expect(r.code, r.stderr).toBe(0);
      const file = path.join(data, "out", `digest-${DAY}-${shop.db.dbName}-en.png`);
      expect(r.stdout).toContain(`[image] ${file} (`);
      expect(await readFile(file)).toEqual(await chartOf(shop, `digest ${DAY}`));
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);
});
