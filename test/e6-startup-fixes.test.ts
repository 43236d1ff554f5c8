/**
 * Start-up and shutdown as a user sees them: the start-up line of one's own shop after a demo
 * seed, an unreachable MONGODB_URI said in seconds, and the embedded database's shutdown line
 * only when another process really uses it. Each test starts the bot as a real process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, PROJECT_ROOT } from "../src/config.js";
import { localDay } from "../src/core/format.js";
import { shellIdentity } from "../src/core/identity.js";
import { silentLogger } from "../src/core/logger.js";
import { startEmbeddedDatabase } from "../src/store/db-server.js";
import { connect, createStore } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { cleanEnv, runCli } from "./helpers/cli.js";

/** Each test here starts the bot as a process (a Node start with TypeScript compiled on the fly). */
const SPAWNS_TIMEOUT = 240_000;

const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-e6-startup-"));
  dirs.push(d);
  return d;
};
const children: ChildProcessWithoutNullStreams[] = [];
/** Runner pids a test stopped (SIGSTOP): continued whatever happens. */
const paused: number[] = [];
afterAll(async () => {
  for (const pid of paused) signal(pid, "SIGCONT");
  for (const c of children) if (c.exitCode === null) c.kill();
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A bot started as `npm run shell` with its input piped and kept open: it runs lines until the input ends. */
interface Bot {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  /** Resolves when stderr holds `text` (rejects if the process ends first, or after `ms`). */
  said: (text: string, ms?: number) => Promise<void>;
  exited: Promise<number | null>;
}

function startBot(env: Record<string, string>): Bot {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "shell"], { cwd: PROJECT_ROOT, env: { ...cleanEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const said = (text: string, ms = 150_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!err.includes(text)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no "${text}" on stderr within ${ms} ms: ${err.slice(-1500)}`));
      }, ms);
      waiters.add(check);
      void exited.then(() => {
        if (!waiters.has(check)) return;
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`exited without "${text}" on stderr: ${err.slice(-1500)}`));
      });
      check();
    });
  return { child, out: () => out, err: () => err, said, exited };
}

/** The embedded server's own pid, from server.json. */
async function serverPidIn(dataDir: string): Promise<number> {
  const info = JSON.parse(await fsp.readFile(path.join(dataDir, "server.json"), "utf8")) as { serverPid?: number };
  expect(info.serverPid).toBeTypeOf("number");
  return info.serverPid!;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (await cond()) return true;
  return cond();
}

describe("your own shop's start-up line (SHOPOPS_DEMO=false)", () => {
  it("after SHOPOPS_SEED_DEMO loaded the demo, a later start says the shop holds the demo's data, since when, and how to start clean", async () => {
    const dataDir = await tempDir();
    const env = { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" };
    const before = localDay(new Date(), "UTC");
    const seeded = await runCli(["shell", "-c", "whoami"], { ...env, SHOPOPS_SEED_DEMO: "true" });
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stderr).toContain("filled with the demo shop's data");

    const later = await runCli(["shell", "-c", "whoami"], env);
    const after = localDay(new Date(), "UTC");
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).not.toContain("empty until your data comes in");
    const line = /your own shop \(SHOPOPS_DEMO=false\), holding the demo shop's data loaded on (\d{4}-\d{2}-\d{2}) \((\d+) product\(s\), (\d+) order\(s\) now/.exec(later.stderr);
    expect(line, later.stderr).not.toBeNull();
    expect([before, after]).toContain(line![1]);
    expect(Number(line![2])).toBeGreaterThan(0);
    expect(Number(line![3])).toBeGreaterThan(0);
    expect(later.stderr).toContain("To start clean, set SHOPOPS_DATA_DIR to a new directory (this one keeps its data)");
  }, SPAWNS_TIMEOUT);

  it("a shop holding its own data (no demo seed) is not called empty: the line counts its products and orders", async () => {
    const dataDir = await tempDir();
    const server = await startEmbeddedDatabase({ dataDir, logger: silentLogger });
    try {
      const conn = await connect(server.uri, "shop");
      try {
        await createStore(conn).products.insertMany([product("SKU-1", { name: "Mug", onHand: 3 }), product("SKU-2", { name: "Cup", onHand: 5 })]);
      } finally {
        await conn.close();
      }
    } finally {
      await server.stop();
    }
    const r = await runCli(["shell", "-c", "whoami"], { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("your own shop (SHOPOPS_DEMO=false), holding 2 product(s) and 0 order(s)");
    expect(r.stderr).not.toContain("empty until your data comes in");
    expect(r.stderr).not.toContain("demo shop's data");
  }, SPAWNS_TIMEOUT);
});

describe("an unreachable MONGODB_URI", () => {
  /** A local port nothing listens on. */
  const closedPort = () =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });

  it("stops start-up after MONGODB_CONNECT_TIMEOUT_SECONDS (78) naming the address and the setting, not after the driver's 30 s", async () => {
    const port = await closedPort();
    const where = `MongoDB at mongodb://127.0.0.1:${port}/shop`;
    const startedAt = Date.now();
    const r = await runCli(["shell", "-c", "whoami"], { MONGODB_URI: `mongodb://127.0.0.1:${port}/shop`, MONGODB_CONNECT_TIMEOUT_SECONDS: "1", LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`MONGODB_URI: cannot use ${where}: no answer within 1 s`);
    expect(r.stderr).toContain("give a slow server longer with MONGODB_CONNECT_TIMEOUT_SECONDS");
    expect(r.stderr).not.toContain("    at ");
    // Given up before the progress line (due after 3 s of waiting): the driver's 30 s were not waited.
    expect(r.stderr).not.toContain("waiting for");
    expect(Date.now() - startedAt).toBeLessThan(60_000); // generous: a loaded machine's Node start included

    // The connection string's own serverSelectionTimeoutMS wins, and is the one named.
    const own = await runCli(["shell", "-c", "whoami"], { MONGODB_URI: `mongodb://127.0.0.1:${port}/shop?serverSelectionTimeoutMS=1500`, LOG_LEVEL: "error" });
    expect(own.code, own.stderr).toBe(78);
    expect(own.stderr).toContain(`MONGODB_URI: cannot use ${where}: no answer within 1.5 s`);
  }, SPAWNS_TIMEOUT);

  it("says what it waits for when the answer is slow, then gives up (78)", async () => {
    // A server that takes connections and never answers (a refused port is said at once instead).
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runCli(["shell", "-c", "whoami"], { MONGODB_URI: `mongodb://127.0.0.1:${port}/shop`, MONGODB_CONNECT_TIMEOUT_SECONDS: "8", LOG_LEVEL: "error" }).finally(() => silent.close());
    expect(r.code, r.stderr).toBe(78);
    const waiting = r.stderr.indexOf(`shopops: waiting for MongoDB at mongodb://127.0.0.1:${port}/shop (MONGODB_URI) to answer; giving up after 8 s (MONGODB_CONNECT_TIMEOUT_SECONDS)`);
    expect(waiting, r.stderr).toBeGreaterThanOrEqual(0);
    expect(r.stderr.indexOf("no answer within 8 s")).toBeGreaterThan(waiting);
  }, SPAWNS_TIMEOUT);

  it("MONGODB_CONNECT_TIMEOUT_SECONDS takes whole seconds from 1 to 300 (default 10)", () => {
    expect(loadConfig({}).mongodbConnectTimeoutMs).toBe(10_000);
    expect(loadConfig({ MONGODB_CONNECT_TIMEOUT_SECONDS: "45" }).mongodbConnectTimeoutMs).toBe(45_000);
    for (const bad of ["0", "301", "1.5", "ten"]) {
      expect(() => loadConfig({ MONGODB_CONNECT_TIMEOUT_SECONDS: bad }), bad).toThrow(ConfigError);
      try {
        loadConfig({ MONGODB_CONNECT_TIMEOUT_SECONDS: bad });
      } catch (e) {
        expect((e as Error).message).toContain("MONGODB_CONNECT_TIMEOUT_SECONDS:");
        expect((e as Error).message).toContain("from 1 to 300");
      }
    }
  });
});

describe("the embedded database's shutdown line", () => {
  const KEEPS = "the embedded database keeps running for the other shopops processes using it";

  it("is not said when no other process uses it, though the server is slow to stop", async () => {
    const dataDir = await tempDir();
    const bot = startBot({ SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", LOG_LEVEL: "debug" });
    await bot.said("shopops: database: embedded");
    const serverPid = await serverPidIn(dataDir);
    bot.child.stdin.end(); // the script ends: the bot closes its connections and stops the server
    // A server slow to stop (FerretDB finishing a query a closed connection left running, a busy
    // machine): held still past the starter's short wait for it, then let go.
    await bot.said("stopping the embedded database", 60_000);
    signal(serverPid, "SIGSTOP");
    paused.push(serverPid);
    await new Promise((r) => setTimeout(r, 4_000));
    signal(serverPid, "SIGCONT");
    expect(await bot.exited, bot.err()).toBe(0);
    expect(bot.err()).not.toContain(KEEPS);
    // Nobody else uses it: it stops, and removes its info file.
    expect(await until(() => !alive(serverPid), 30_000)).toBe(true);
    await expect(fsp.access(path.join(dataDir, "server.json"))).rejects.toThrow();
  }, SPAWNS_TIMEOUT);

  it("is said, naming the process, when another shopops process joined and still uses it; the server stops after it", async () => {
    const dataDir = await tempDir();
    const env = { SHOPOPS_DATA_DIR: dataDir, SHOPOPS_DEMO: "false", LOG_LEVEL: "info" };
    const owner = startBot(env);
    await owner.said("shopops: database: embedded");
    const serverPid = await serverPidIn(dataDir);
    const guest = startBot(env);
    await guest.said(`(run by process ${owner.child.pid})`);
    owner.child.stdin.end();
    expect(await owner.exited, owner.err()).toBe(0);
    const line = owner.err().split("\n").find((l) => l.includes(KEEPS));
    expect(line, owner.err()).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ processes: [guest.child.pid] });
    // The guest still works on it, and when it ends the server stops after it.
    expect(alive(serverPid)).toBe(true);
    guest.child.stdin.end("whoami\n");
    expect(await guest.exited, guest.err()).toBe(0);
    expect(guest.out()).toContain("You are");
    expect(await until(() => !alive(serverPid), 30_000)).toBe(true);
    await expect(fsp.access(path.join(dataDir, "server.json"))).rejects.toThrow();
  }, SPAWNS_TIMEOUT);
});
