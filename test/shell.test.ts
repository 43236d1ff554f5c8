import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { renderText } from "../adapters/shell/render.js";
import { ShellAdapter } from "../adapters/shell/shell.adapter.js";
import type { Core, InvocationResult } from "../src/core/core.js";
import { createLogger } from "../src/core/logger.js";
import type { OutboxService } from "../src/services/outbox.service.js";
import { createStore } from "../src/store/models.js";
import { spawn } from "node:child_process";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { cleanEnv, runCli, runScript } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { product } from "./helpers/app.js";

/**
 * Tests that start the bot or the import as processes several times (each a Node start with
 * TypeScript compiled on the fly): seconds each on a quiet machine, much more on a busy one.
 */
const SPAWNS_TIMEOUT = 180_000;

let db: TestDb;
let env: Record<string, string>;

beforeAll(async () => {
  db = await connectTestDb();
  const store = createStore(db.conn);
  await store.products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 30 }), product("SKU-1002", { name: "Desk Lamp" })]);
  // The person at the terminal is an admin too: `--as` on a shop's database is an admin's tool.
  env = { MONGODB_URI: db.processUri, SHOPOPS_ADMINS: `shell:ops,${shellIdentity()}`, LOG_LEVEL: "error" };
});
afterAll(() => db.close());

describe("shell adapter, non-interactive", () => {
  it("-c runs one command, prints its reply and exits 0", async () => {
    const r = await runCli(["shell", "-c", "stock SKU-1001"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Wireless Mouse (SKU-1001)");
    expect(r.stdout).toMatch(/Available\s+30/);
    // The start-up line goes to stderr, so stdout holds only replies.
    expect(r.stderr).toContain("database: MongoDB at mongodb://127.0.0.1");
    expect(r.stdout).not.toContain("database:");
  });

  it("-c leaves queued shell alerts for the operator: none printed into its output, none marked sent", async () => {
    const store = createStore(db.conn);
    await store.outbox.create({ _id: "alert:ops:1", platform: "shell", dest: { kind: "channel", platform: "shell", channel: "ops" }, reply: { text: "2 products are low", visibility: "public" }, kind: "low_stock", status: "pending", attempts: 0, notBefore: new Date(0), createdAt: new Date() });
    const r = await runCli(["shell", "-c", "stock SKU-1001"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("2 products are low");
    expect(await store.outbox.findById("alert:ops:1").lean()).toMatchObject({ status: "pending" });
    await store.outbox.deleteOne({ _id: "alert:ops:1" });
  });

  it("-c exits non-zero on a user error", async () => {
    const r = await runCli(["shell", "-c", "stock NOPE-1"], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('No product with SKU or name matching "NOPE-1"');
  });

  it("--as acts as another identity, to try permissions", async () => {
    const denied = await runCli(["shell", "--as", "shell:guest", "-c", "stock adjust SKU-1002 +1 reason=test"], env);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain("needs the staff role; you are viewer");
    const ok = await runCli(["shell", "--as", "shell:ops", "-c", "stock adjust SKU-1002 +1 reason=test"], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("on hand 50 → 51");
    // The audit trail names the person at the terminal beside the identity acted as.
    const store = createStore(db.conn);
    const entry = await store.audit.findOne({ actor: "shell:ops", command: "stock adjust" }).sort({ at: -1 }).lean();
    expect(entry!.via).toMatch(/^shell:/);
    expect(entry!.via).not.toBe("shell:ops");
    // Another platform's identity only on the embedded demo database: nothing runs; a wrong
    // option (64, with the usage), said before the database is opened.
    const posing = await runCli(["shell", "--as", "slack:T0123:U0456", "-c", "stock adjust SKU-1002 +1 reason=test"], env);
    expect(posing.code).toBe(64);
    expect(posing.stderr).toContain("--as slack:T0123:U0456: on a shop's database (MONGODB_URI, or SHOPOPS_DEMO=false) the shell acts only as shell identities");
    expect(posing.stderr).toContain("Usage: npm start");
    expect((await store.products.findById("SKU-1002").lean())!.onHand).toBe(51);
  });

  it("--as on a shop's database needs the person at the terminal to be an admin: nobody acts as the shop's admins unasked", async () => {
    const notAdmin = { ...env, SHOPOPS_ADMINS: "shell:ops" };
    const r = await runCli(["shell", "--as", "shell:ops", "-c", "stock adjust SKU-1002 +1 reason=posing"], notAdmin);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--as shell:ops: acting as another identity on a shop's database needs the admin role; you (${shellIdentity()}) are viewer`);
    expect(r.stdout).toBe("");
    const store = createStore(db.conn);
    expect((await store.products.findById("SKU-1002").lean())!.onHand).toBe(51);
    expect(await store.audit.findOne({ command: "--as", actor: "shell:ops" }).lean()).toMatchObject({ outcome: "denied", via: shellIdentity(), args: "shell:ops stock adjust SKU-1002 +1 reason=posing" });
    const zh = await runCli(["shell", "--as", "shell:ops", "-c", "whoami"], { ...notAdmin, SHOP_LOCALE: "zh-CN" });
    expect(zh.code).toBe(1);
    expect(zh.stderr).toContain(`--as shell:ops：在店铺数据库上以其他身份操作需要管理员（admin）角色；你（${shellIdentity()}）当前是查看者（viewer）。`);
  });

  it("runs piped commands in order, one reply each, and exits non-zero if any failed", async () => {
    const r = await runCli(
      ["shell", "--as", "shell:ops"],
      env,
      "stock adjust SKU-1001 -5 reason=count\n# a comment\n\nstock SKU-1001\nstock adjust SKU-1001 -100 reason=count\nstock SKU-1001\n",
    );
    expect(r.code).toBe(1);
    const replies = r.stdout.trim().split(/\n\n/);
    expect(replies).toHaveLength(4);
    expect(replies[0]).toContain("on hand 30 → 25");
    expect(replies[1]).toMatch(/Available\s+25/);
    expect(replies[2]).toContain("only 25 available");
    expect(replies[3]).toMatch(/Available\s+25/);
  });

  it("a piped script stopped by SIGTERM before its input ended exits 143, not 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell"], { cwd: PROJECT_ROOT, env: { ...cleanEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    child.stdin.write("stock SKU-1001\n"); // more input may follow: the script has not ended
    for (let i = 0; i < 300 && !out.includes("SKU-1001"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain("SKU-1001");
    child.kill("SIGTERM");
    expect(await code).toBe(143);
  });

  it("a piped line that is not UTF-8 (a GBK script) is refused, not stored garbled", async () => {
    const gbk = Buffer.concat([Buffer.from('stock adjust SKU-1002 +1 reason="'), Buffer.from([0xb5, 0xc6, 0xb2, 0xbb]), Buffer.from('"\n')]).toString("latin1");
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell", "--as", "shell:ops"], { cwd: PROJECT_ROOT, env: { ...cleanEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    child.stdin.end(Buffer.concat([Buffer.from("whoami\n"), Buffer.from(gbk, "latin1")]));
    expect(await code).toBe(1);
    expect(out).toContain("Line 2: That input contains characters that could not be read");
    expect((await createStore(db.conn).ledger.countDocuments({ sku: "SKU-1002", reason: { $regex: "\uFFFD" } }))).toBe(0);
  });

  it("piped commands that all succeed exit 0", async () => {
    const r = await runCli(["shell"], env, "stock SKU-1002\nhelp\n");
    expect(r.code).toBe(0);
  });

  it("a bad configuration value stops start-up with a message naming it", async () => {
    const r = await runCli(["shell", "-c", "help"], { ...env, SHOP_TIMEZONE: "Nowhere/City" });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("SHOP_TIMEZONE: expected an IANA time zone");
  });

  it("a wrong command-line option says what is wrong and how to call it (64), without a stack trace", async () => {
    for (const [args, says] of [
      [["shell", "--as", "bob"], '--as needs an identity such as shell:bob, slack:T0123:U0456 or discord:123456789 (got "bob")'],
      [["shell", "-c"], '-c needs a command, e.g. -c "stock SKU-1001"'],
      [["shell", "--bogus"], "unknown option --bogus"],
      [["shell", "--as", "shell:bob", "--as", "shell:ops", "-c", "whoami"], "--as is given twice; act as one identity"],
    ] as const) {
      const r = await runCli([...args], env);
      expect(r.code).toBe(64);
      expect(r.stderr).toContain(`shopops: ${says}\nUsage: npm start | npm run shell -- [-c "<command>"] [--as <identity>]`);
      expect(r.stderr).not.toContain("    at ");
    }
    for (const [args, says] of [
      [["orders", "/tmp/shopops-no-such-file.jsonl"], "import: cannot read /tmp/shopops-no-such-file.jsonl: no such file"],
      [["order", "/tmp/x.csv"], 'import: "order" is not a kind of data: use orders, products, inventory, complaints, refund-requests'],
      [["orders", "/tmp/orders.txt"], "import: /tmp/orders.txt: expected a .csv or .jsonl file"],
      [["orders"], "import: give the orders file to import"],
    ] as const) {
      const r = await runScript("src/import.ts", [...args], env);
      expect(r.code, args.join(" ")).toBe(64);
      expect(r.stderr).toContain(`${says}\nUsage: npm run import -- `);
      expect(r.stderr).not.toContain("    at ");
    }
  }, SPAWNS_TIMEOUT);

  it("a process in another time zone or currency than the shop's database refuses to start, unless told to change them", async () => {
    const other = { ...env, SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY" };
    const refused = await runCli(["shell", "-c", "stock adjust SKU-1002 +1 reason=count"], other);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain("SHOP_TIMEZONE=Asia/Shanghai and SHOP_CURRENCY=CNY, but this database's days and amounts are in UTC and USD");
    expect(refused.stderr).toContain("SHOP_SETTINGS_CHANGE=true");
    expect(refused.stdout).toBe("");
    const changed = await runCli(["shell", "-c", "help"], { ...other, SHOP_SETTINGS_CHANGE: "true" });
    expect(changed.code).toBe(0);
    // Now the database is the shop's in Shanghai: the old settings are the ones refused.
    expect((await runCli(["shell", "-c", "help"], env)).code).toBe(78);
    expect((await runCli(["shell", "-c", "help"], { ...env, SHOP_SETTINGS_CHANGE: "true" })).code).toBe(0);

    // A database from before the check (nothing stored) whose orders were filed in Shanghai: a
    // process in UTC is refused rather than taken for the shop's zone.
    const store = createStore(db.conn);
    await store.meta.deleteOne({ _id: "shop:settings" });
    await store.orders.collection.insertOne({ _id: "O-TZ-1" as never, status: "paid", paidAt: new Date("2026-11-24T20:00:00Z"), paidDay: "2026-11-25" });
    try {
      const guessed = await runCli(["shell", "-c", "help"], env);
      expect(guessed.code).toBe(78);
      expect(guessed.stderr).toContain("SHOP_TIMEZONE=UTC: this database's orders were filed in another time zone (order O-TZ-1, paid 2026-11-24T20:00:00.000Z, is on 2026-11-25)");
      expect(await store.meta.exists({ _id: "shop:settings" })).toBeNull();
    } finally {
      await store.orders.deleteOne({ _id: "O-TZ-1" });
    }
  }, SPAWNS_TIMEOUT);

  it("an unreachable MONGODB_URI stops start-up with a message (78), never its password", async () => {
    const r = await runCli(["shell", "-c", "help"], { ...env, MONGODB_URI: "mongodb://ops:s3cretpw@127.0.0.1:9/shopops?serverSelectionTimeoutMS=500" });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("MONGODB_URI: cannot use MongoDB at mongodb://127.0.0.1:9/shopops");
    expect(r.stderr).not.toContain("s3cretpw");
    expect(r.stderr).not.toContain("    at "); // no stack trace
  });
});

describe("npm start with nothing configured", () => {
  it("starts the embedded database with demo data, says so, and keeps data across restarts", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "shopops-embedded-"));
    const local = { SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" };
    try {
      const first = await runCli(["shell", "-c", "stock adjust SKU-1005 +7 reason=restart-test key=restart-1"], local);
      expect(first.stderr).toMatch(/database: embedded .* data in .*shopops-embedded-/);
      expect(first.stderr).toContain("To use a real MongoDB, set MONGODB_URI");
      expect(first.stderr).toMatch(/you are shell:\S+, an admin on this demo database/);
      expect(first.stderr).toMatch(/seeded demo data: \d+ products, \d+ orders/);
      expect(first.code).toBe(0);
      // The shop's data is this user's only: the database's directory is not readable by others.
      const { readdir, stat } = await import("node:fs/promises");
      const dirs = (await readdir(dataDir, { withFileTypes: true })).filter((d) => d.isDirectory());
      expect(dirs.length).toBeGreaterThan(0);
      for (const d of dirs) expect(((await stat(path.join(dataDir, d.name))).mode & 0o777).toString(8), d.name).toBe("700");
      const before = Number(/on hand (\d+) → (\d+)/.exec(first.stdout)![2]);
      // A second process after the first exited: same data, no second seeding, key remembered.
      const second = await runCli(["shell"], local, "stock SKU-1005\nstock adjust SKU-1005 +7 reason=restart-test key=restart-1\n");
      expect(second.stderr).not.toContain("seeded demo data");
      expect(second.stdout).toMatch(new RegExp(`On hand\\s+${before}\\b`));
      expect(second.stdout).toContain("already applied");
      // SHOPOPS_DEMO=false: the same embedded server holds one's own shop beside the demo, empty.
      const own = await runCli(["shell", "--as", "shell:owner", "-c", "stock SKU-1005"], { ...local, SHOPOPS_DEMO: "false", SHOPOPS_ADMINS: `shell:owner,${shellIdentity()}` });
      expect(own.stderr).toContain("your own shop (SHOPOPS_DEMO=false), empty until your data comes in");
      expect(own.stderr).not.toContain("seeded demo data");
      expect([own.code, own.stdout]).toEqual([1, expect.stringContaining("SKU-1005")]);
      expect(own.stdout).not.toMatch(/On hand/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, SPAWNS_TIMEOUT);
});

describe("shell rendering", () => {
  it("never passes control sequences from stored text to the terminal", () => {
    // A complaint text sent through the API with an escape that would clear the screen and
    // a bidi override that would reorder what follows.
    const reply = { title: "Complaint C-1", text: "Lid broken\u001b[2J\u001b[H ok\u202e txt.exe", fields: [{ label: "Customer", value: "c1\u0007" }], visibility: "ephemeral" as const };
    const out = renderText(reply);
    expect(out).toBe("Complaint C-1\nLid broken[2J[H ok txt.exe\n  Customer  c1");
  });

  it("prints chat's inline code spans as plain text, so a command shown copies and runs as it is", () => {
    const reply = {
      title: "Orders `paid`",
      text: "Next page: `order search status=paid page=2`",
      fields: [{ label: "Usage", value: "`stock <sku | words>`\n`stock SKU-1001`" }],
      context: ["Type `help stock` for more."],
      table: { columns: ["Note"], rows: [["a `literal` cell"]] },
      visibility: "ephemeral" as const,
    };
    expect(renderText(reply)).toBe(
      "Orders `paid`\nNext page: order search status=paid page=2\n  Usage  stock <sku | words>\n         stock SKU-1001\nNote\n────────────────\na `literal` cell\n  Type help stock for more.",
    );
  });

  it("shows what people wrote as stored, backticks included: a title (a product's name), plain text and plain fields", () => {
    const reply = {
      title: "Mug `Pro` 2 (SKU-9)",
      text: "the `Pro` lid cracked; run `rm -rf` lol",
      plainText: true,
      fields: [{ label: "Reason", value: "box `crushed`", plain: true }],
      visibility: "ephemeral" as const,
    };
    expect(renderText(reply)).toBe("Mug `Pro` 2 (SKU-9)\nthe `Pro` lid cracked; run `rm -rf` lol\n  Reason  box `crushed`");
  });
});

/** A core that answers each line with "ran <line>" and the given outcome, keeping the lines it was given. */
function fakeCore(lines: string[], outcome: InvocationResult["outcome"] = "ok"): Core {
  const invoke = async (inv: { text: string }): Promise<InvocationResult> => {
    lines.push(inv.text);
    return { reply: { status: outcome === "ok" ? "ok" : "error", text: `ran ${inv.text}`, visibility: "ephemeral" }, outcome, ref: "r1" };
  };
  return { invoke } as unknown as Core;
}

/** A stream that says it is a terminal (80 columns), as process.stdin/stdout at a prompt. */
function tty(): PassThrough & { isTTY: boolean; columns: number } {
  return Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
}

/** Everything written to a stream, as it is written. */
function collect(s: PassThrough): { text: () => string } {
  let out = "";
  s.on("data", (d: Buffer) => (out += d.toString()));
  return { text: () => out };
}

/** Waits (by turns of the event loop, not by time) until `cond` holds; false if it never does. */
async function until(cond: () => boolean, turns = 10_000): Promise<boolean> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setImmediate(r));
  return cond();
}

describe("shell adapter at a prompt", () => {
  it("a failed delivery round after a command is logged; the reply is printed and the session goes on", async () => {
    const lines: string[] = [];
    const logs: string[] = [];
    const input = new PassThrough();
    const output = new PassThrough();
    const out = collect(output);
    const outbox = { dispatch: async () => Promise.reject(new Error("connection closed")) } as unknown as OutboxService;
    const shell = new ShellAdapter({ core: fakeCore(lines), identity: "shell:ops", outDir: "/tmp", input, output, interactive: true, outbox, logger: createLogger("error", {}, (l) => logs.push(l)) });
    input.end("stock SKU-1\nwhoami\n");
    await expect(shell.runLines()).resolves.toBe(0);
    expect(lines).toEqual(["stock SKU-1", "whoami"]);
    expect(out.text()).toContain("ran stock SKU-1");
    expect(out.text()).toContain("ran whoami");
    expect(logs.join("\n")).toContain("outbox round failed");
    expect(logs.join("\n")).toContain("connection closed");
  });

  it("leaving the prompt exits 0 after a failed command; a script keeps its exit code", async () => {
    const session = (interactive: boolean) => {
      const input = new PassThrough();
      input.end("stok SKU-1\nexit\n");
      return new ShellAdapter({ core: fakeCore([], "user_error"), identity: "shell:ops", outDir: "/tmp", input, output: new PassThrough(), interactive }).runLines();
    };
    expect(await session(true)).toBe(0);
    expect(await session(false)).toBe(1);
  });

  it("writes no terminal control codes when the output is not a terminal (npm run shell | tee log)", async () => {
    const input = tty();
    const output = new PassThrough();
    const out = collect(output);
    const shell = new ShellAdapter({ core: fakeCore([]), identity: "shell:ops", outDir: "/tmp", input, output, interactive: true });
    input.end("whoami\n");
    await shell.runLines();
    expect(out.text()).toBe("shopops> ✔ ran whoami\nshopops> ");
    expect(out.text()).not.toContain("\u001b");
  });

  it("an alert printed while the user types clears the prompt line and draws it again below, with what was typed", async () => {
    const input = tty();
    const output = tty();
    const out = collect(output);
    const lines: string[] = [];
    const shell = new ShellAdapter({ core: fakeCore(lines), identity: "shell:ops", outDir: "/tmp", input, output, interactive: true });
    const done = shell.runLines();
    input.write("stock SK");
    expect(await until(() => out.text().includes("stock SK"))).toBe(true);
    const before = out.text().length;
    await shell.deliver({ kind: "channel", platform: "shell", channel: "ops" }, { status: "warning", text: "2 products are low", visibility: "public" });
    const after = out.text().slice(before);
    // The prompt line is cleared (cursor to column 1, erase below), the alert printed, then the
    // prompt and the typed text again.
    expect(after).toMatch(/^(\u001b\[\d*[A-G])*\u001b\[0J\[→ #ops\]\n⚠ 2 products are low\n/);
    expect(after).toMatch(/shopops> stock SK(\u001b\[\d*G)?$/);
    input.write("U-1\r");
    expect(await until(() => lines.length === 1)).toBe(true);
    expect(lines).toEqual(["stock SKU-1"]);
    input.end();
    await done;
  });

  it("Ctrl-C clears a line with text for a new prompt; on an empty line it ends the session", async () => {
    const input = tty();
    const output = tty();
    const out = collect(output);
    const lines: string[] = [];
    const shell = new ShellAdapter({ core: fakeCore(lines), identity: "shell:ops", outDir: "/tmp", input, output, interactive: true });
    let ended = false;
    const done = shell.runLines().finally(() => (ended = true));
    input.write("refund aprove R-1\u0003");
    expect(await until(() => out.text().includes("^C"))).toBe(true);
    expect(ended).toBe(false);
    input.write("whoami\r");
    expect(await until(() => lines.length === 1)).toBe(true);
    expect(lines).toEqual(["whoami"]); // the cleared text is not run, nor kept in front of the next line
    expect(await until(() => /shopops> (\u001b\[\d+G)?$/.test(out.text()))).toBe(true);
    expect(ended).toBe(false);
    input.write("\u0003");
    expect(await done).toBe(0);
  });
});
