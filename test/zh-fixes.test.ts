/**
 * A Chinese-speaking shop's keyboard and terminal: ids and order numbers typed full-width, the
 * shell's Reject hint, a closed pipe, and the start-up line in the shop's language.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderText } from "../adapters/shell/render.js";
import { ShellAdapter } from "../adapters/shell/shell.adapter.js";
import { PROJECT_ROOT } from "../src/config.js";
import type { Core, InvocationResult } from "../src/core/core.js";
import { shellIdentity } from "../src/core/identity.js";
import { cleanEnv, runCli } from "./helpers/cli.js";
import { field, makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

const SPAWNS_TIMEOUT = 180_000;

let app: TestApp;
const zh = (text: string) => app.core.invoke({ identity: "shell:sue", platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.store.orders.insertMany([
    paidOrder("ORD-105061", 10_000, undefined, { customerId: "CUST-10005" }),
    paidOrder("ORD-105062", 10_000, undefined, { customerId: "Cust-Mixed" }),
  ]);
});
afterAll(() => app.close());

describe("customer ids typed full-width (complaint new)", () => {
  it("with order=, a full-width spelling of the order's customer is that customer, not a mismatch", async () => {
    const r = await zh("complaint new order=ORD-105061 customer=ＣＵＳＴ－１０００５ 杯子碎了");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(field(r, "客户")).toBe("CUST-10005");
    expect(field(r, "订单")).toBe("ORD-105061");
  });

  it("without order=, it is filed under the shop's own spelling (also in another case), not a new customer", async () => {
    const r = await zh("complaint new customer=ＣＵＳＴ－１０００５ 发票一直没收到");
    expect(r.outcome, r.reply.text).toBe("ok");
    const id = /C-[0-9A-Z]+/.exec(r.reply.title!)![0];
    expect((await app.store.complaints.findById(id).lean())?.customerId).toBe("CUST-10005");
    const mixed = await zh("complaint new customer=ｃｕｓｔ－ｍｉｘｅｄ 发票一直没收到");
    expect(field(mixed, "客户")).toBe("Cust-Mixed");
    // Another customer's order is still refused, in either width.
    const other = await zh("complaint new order=ORD-105061 customer=ＣＵＳＴ－１０００６ 杯子碎了");
    expect([other.outcome, other.reply.code]).toEqual(["user_error", "customer_mismatch"]);
  });
});

describe("an order number typed full-width in a filed message", () => {
  it("links the order, and the text is kept as written", async () => {
    const text = "订单ＯＲＤ－１０５０６１的杯子碎了";
    const r = await zh(`complaint new link=https://x.slack.com/archives/C1/p1700000500000777 author=slack:T1:U2 ${text}`);
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(field(r, "订单")).toBe("ORD-105061");
    const id = /C-[0-9A-Z]+/.exec(r.reply.title!)![0];
    const stored = await app.store.complaints.findById(id).lean();
    expect(stored).toMatchObject({ orderNo: "ORD-105061", customerId: "CUST-10005", text });
  });
});

describe("shell: the refund card's Reject button", () => {
  it("shows a reason to fill in, in the card's language, not the button's fixed English reason", async () => {
    const r = await zh("refund request ORD-105061 １０．５ reason=测试");
    expect(r.outcome, r.reply.text).toBe("ok");
    const id = /R-[0-9A-Z]{6}/.exec(r.reply.title!)![0];
    const text = renderText(r.reply);
    expect(text).toContain(`→ 拒绝：refund reject ${id} reason=<原因>`);
    expect(text).not.toContain("rejected from button");
    // The button itself (Slack, Discord) is unchanged.
    expect(r.reply.actions!.find((a) => a.style === "danger")!.id).toBe(`refund reject ${id} reason="rejected from button"`);
    const en = await app.core.invoke({ identity: "shell:sue", platform: "shell", text: `refund show ${id}`, locale: "en" });
    expect(renderText(en.reply)).toContain(`→ Reject: refund reject ${id} reason=<reason>`);
  });
});

describe("shell: output closed by its reader", () => {
  /** A core that records the lines it runs and answers each with a long reply. */
  const recordingCore = (lines: string[]): Core =>
    ({
      invoke: async ({ text }: { text: string }): Promise<InvocationResult> => {
        lines.push(text);
        return { outcome: "ok", reply: { text: "x".repeat(100), visibility: "ephemeral" } } as InvocationResult;
      },
    }) as unknown as Core;

  /** An output whose reader has gone: every write fails with EPIPE, as stdout does after `| head -1` exits. */
  function closedPipe(): PassThrough {
    const out = new PassThrough();
    out._write = (_chunk, _enc, cb) => cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32, syscall: "write" }));
    return out;
  }

  it("ends a script quietly with 141 and runs no further line", async () => {
    const lines: string[] = [];
    const input = new PassThrough();
    input.end("help\nstock adjust SKU-1 +1 key=k1\nstock adjust SKU-1 +1 key=k2\n");
    const shell = new ShellAdapter({ core: recordingCore(lines), identity: "shell:ops", outDir: "/tmp", input, output: closedPipe(), interactive: false });
    expect(await shell.runLines()).toBe(141);
    expect(lines).toEqual(["help"]);
  });

  it("a real `shell -c … | head -1`: no stack trace, exit 141", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell", "-c", "help"], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv(), MONGODB_URI: app.db.processUri, SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader is gone before the reply is written
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(141);
  }, SPAWNS_TIMEOUT);
});

describe("the start-up line in Chinese", () => {
  it("describes the embedded database in Chinese, also when joining another process's server; English unchanged", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "shopops-zh-startup-"));
    // One's own (empty) shop: no demo seeding.
    const env = { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" };
    // A first process that keeps the server (a script whose input stays open).
    const holder = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell"], { cwd: PROJECT_ROOT, env: { ...cleanEnv(), ...env, SHOP_LOCALE: "zh-CN" }, stdio: ["pipe", "ignore", "pipe"] });
    let held = "";
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stderr.on("data", (d: Buffer) => {
          held += d.toString();
          if (held.includes("\n")) resolve();
        });
        holder.on("close", () => reject(new Error(`the first process ended: ${held}`)));
      });
      const server = /^(FerretDB v1\.24\.2（SQLite，写入串行化中继）|mongod.*（mongodb-memory-server）)，地址 127\.0\.0\.1:\d+，数据目录 /;
      const first = /数据库：内置 (.*)：你自己的店铺/.exec(held)?.[1];
      expect(first, held).toMatch(server);
      expect(first).toMatch(/，数据库 shop$/);
      for (const english of ["write-serializing", " at ", "data in", "database shop"]) expect(first).not.toContain(english);

      const joined = await runCli(["shell", "-c", "whoami"], { ...env, SHOP_LOCALE: "zh-CN" });
      const line = /数据库：内置 (.*)：你自己的店铺/.exec(joined.stderr)?.[1];
      expect(line, joined.stderr).toMatch(server);
      expect(line).toMatch(new RegExp(`（由进程 ${holder.pid} 运行），数据库 shop$`));
      expect(line).not.toContain("run by process");

      const en = await runCli(["shell", "-c", "whoami"], env);
      expect(en.stderr).toMatch(
        new RegExp(`database: embedded (FerretDB v1\\.24\\.2 \\(SQLite, write-serializing relay\\)|mongod.* \\(mongodb-memory-server\\)) at 127\\.0\\.0\\.1:\\d+, data in ${dataDir}/\\w+ \\(run by process ${holder.pid}\\), database shop: your own shop`),
      );
    } finally {
      holder.stdin.end();
      await new Promise((resolve) => (holder.exitCode !== null ? resolve(null) : holder.on("close", resolve)));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, SPAWNS_TIMEOUT);
});
