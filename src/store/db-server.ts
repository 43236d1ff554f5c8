/**
 * Finds or starts the MongoDB-wire server shopops talks to when no `MONGODB_URI` is given.
 *
 * Resolution order (see docs in shared notes "test-database"):
 *  1. a `mongod` that mongodb-memory-server can start without downloading
 *     (`MONGOMS_SYSTEM_BINARY`, or a binary already in its cache);
 *  2. the FerretDB runner (`tools/ferretdb-runner`, FerretDB v1 on SQLite behind a relay that
 *     serializes write commands), built with Go on first use and cached under `.cache/`;
 *  3. mongodb-memory-server with download (needs internet; offline it fails after ~7 s).
 *
 * Embedded mode keeps its data under one directory and shares a running server between
 * processes through `<dataDir>/server.json`, so two processes never open the same files.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { DryMongoBinary, MongoMemoryServer } from "mongodb-memory-server";
import { ConfigError, PROJECT_ROOT, type Config } from "../config.js";
import type { Logger } from "../core/logger.js";
import { translator, type Translate } from "../core/messages.js";

/** Where the database comes from: a given connection string, a local mongod, or the FerretDB runner. */
export type DatabaseKind = "uri" | "mongod" | "ferretdb";

/** A database server shopops can connect to. */
export interface DatabaseServer {
  /** Connection string (no database name in the path). */
  uri: string;
  kind: DatabaseKind;
  /** one human line: which server, where data lives (English: logs, the test suite) */
  description: string;
  /** The same line in a language (the start-up line); `description` is it in English. Unset: `description` in every language. */
  describe?: (t: Translate) => string;
  /** Directory holding the data, when this module knows it. */
  dataDir?: string;
  /** true when this process started it (and stop() stops it) */
  owned: boolean;
  /** Stops the server if owned (idempotent); does nothing otherwise. */
  stop(): Promise<void>;
}

/** Thrown when no way of getting a database worked; the message lists every way to provide one. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";

  constructor(attempts: string[], options?: { cause?: unknown }) {
    super(
      [
        "No database available. Tried:",
        ...attempts.map((a) => `  - ${a}`),
        "Provide one of:",
        "  - set MONGODB_URI to a running MongoDB (e.g. mongodb://127.0.0.1:27017/shopops);",
        "  - install Go (https://go.dev/dl/, or the Debian package golang-go) so the FerretDB runner in",
        "    tools/ferretdb-runner can be built (first build downloads Go modules, about a minute);",
        "  - give this machine internet access so mongodb-memory-server can download mongod;",
        "  - set MONGOMS_SYSTEM_BINARY to the path of an installed mongod binary.",
      ].join("\n"),
      options,
    );
  }
}

/**
 * Thrown when the embedded database cannot start for a reason outside the configuration: another
 * process holds its start lock too long, or the server recorded in server.json does not answer.
 * The message names what to do; a start-up problem (exit 78), without a stack trace.
 */
export class DatabaseStartupError extends Error {
  override name = "DatabaseStartupError";
}

/** FerretDB version embedded by tools/ferretdb-runner (keep in sync with its go.mod). */
export const FERRETDB_VERSION = "v1.24.2";
/** What the FerretDB runner is, in server descriptions. */
const ferretdbName = (t: Translate) => t("startup.db.ferretdb", { version: FERRETDB_VERSION });

/**
 * A server's description in a language: what it is, its address, where its data lives, and the
 * process running it when joined (`FerretDB v1.24.2 (SQLite, write-serializing relay) at
 * 127.0.0.1:33501, data in /…/ferretdb (run by process 42)`).
 */
function describer(d: { what: (t: Translate) => string; address: string; dir?: string; runBy?: number }): (t: Translate) => string {
  return (t) => {
    const server = d.dir ? t("startup.db.server", { what: d.what(t), address: d.address, dir: d.dir }) : t("startup.db.server_temp", { what: d.what(t), address: d.address });
    return d.runBy === undefined ? server : t("startup.db.joined", { server, pid: d.runBy });
  };
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** How long a shared runner is given to stop by itself (no other process connected: about 1 s) before the processes still using it are looked for. */
const LINGER_CHECK_MS = 2_500;
/** Where processes that joined a shared embedded server list themselves while they use it (`<pid>-<id>.json`, under the data directory). */
const JOINED_DIR = "joined";
const LOCK_WAIT_MS = 180_000;
const STALE_LOCK_MS = 300_000;
const STDERR_TAIL_CHARS = 4_000;

const RUNNER_SRC_DIR = path.join(PROJECT_ROOT, "tools", "ferretdb-runner");
const RUNNER_SRC_FILES = ["main.go", "relay.go", "go.mod", "go.sum"];
const RUNNER_CACHE_DIR = path.join(PROJECT_ROOT, ".cache", "ferretdb-runner");
const RUNNER_EXE = process.platform === "win32" ? "ferretdb-runner.exe" : "ferretdb-runner";

// ---------------------------------------------------------------------------------------------
// Public helpers

/**
 * A password-free, query-free description of a connection string, safe for logs and chat:
 * `mongodb://user:pw@h1:1,h2:2/shop?authSource=admin` → `MongoDB at mongodb://h1:1,h2:2/shop`.
 */
export function describeUri(uri: string): string {
  const scheme = /^(mongodb(?:\+srv)?):\/\//i.exec(uri.trim());
  if (!scheme) return "MongoDB at an unparseable connection string";
  // Everything up to the last `@` is credentials: a password with an unescaped `/`, `?`, `#` or
  // `@` (which the driver then refuses, and the refusal is printed) must not show through.
  const rest = uri.trim().slice(scheme[0].length);
  const after = rest.slice(rest.lastIndexOf("@") + 1);
  const m = /^([^/?#]*)(\/[^?#]*)?/.exec(after)!;
  const db = m[2] && m[2] !== "/" ? m[2] : "";
  return `MongoDB at ${scheme[1]}://${m[1]}${db}`;
}

/** After this long without an answer, start-up says what it is waiting for. */
export const SLOW_CONNECT_MS = 3_000;

/** The milliseconds a connection string's own `serverSelectionTimeoutMS` allows, if it sets one. */
export function uriSelectionTimeoutMs(uri: string): number | undefined {
  const m = /[?&]serverSelectionTimeoutMS=(\d+)/i.exec(uri);
  return m ? Number(m[1]) : undefined;
}

/**
 * Waits for the server of a connection string (`MONGODB_URI`) to answer a ping, as the first
 * connection of a start: at most `timeoutMs` (the string's own serverSelectionTimeoutMS wins),
 * rather than the driver's 30 s, so a mistyped host is said in seconds; `onSlow` is called once
 * after {@link SLOW_CONNECT_MS} without an answer. Later connections keep the driver's patience.
 *
 * @throws the driver's error (server selection timed out, authentication failed…).
 */
export async function reachServer(uri: string, o: { timeoutMs: number; onSlow?: () => void; refusedMs?: number }): Promise<void> {
  const client = new MongoClient(uri, uriSelectionTimeoutMs(uri) === undefined ? { serverSelectionTimeoutMS: o.timeoutMs } : {});
  const slow = o.onSlow ? setTimeout(o.onSlow, SLOW_CONNECT_MS) : undefined;
  const done = new AbortController();
  const ping = client.db("admin").command({ ping: 1 });
  ping.catch(() => {}); // a refusal may settle first; the ping's own failure is then not the answer
  try {
    // Nothing listening (connection refused) is said in seconds, not after the whole timeout.
    await Promise.race([ping, refusedEverywhere(uri, o.refusedMs ?? REFUSED_GIVE_UP_MS, done.signal)]);
  } finally {
    done.abort();
    clearTimeout(slow);
    await client.close().catch(() => {});
  }
}

/**
 * How long every host of a connection string may refuse connections before start-up gives up
 * on it: a server still starting (a container started beside the bot) opens its port within this.
 */
export const REFUSED_GIVE_UP_MS = 2_500;

/** Every host of a connection string refused the connection (nothing listens there): said at once rather than after the whole timeout. */
export class ConnectionRefusedError extends Error {
  constructor(readonly hosts: readonly string[]) {
    super(`nothing answers at ${hosts.join(", ")} (connection refused)`);
    this.name = "ConnectionRefusedError";
  }
}

/**
 * The `host:port` seeds of a `mongodb://` connection string (credentials left out), or null when
 * they cannot be probed directly (`mongodb+srv://`, found through DNS; a Unix socket).
 */
export function uriHosts(uri: string): string[] | null {
  const m = /^mongodb:\/\/(.*)$/i.exec(uri.trim());
  if (!m) return null;
  const after = m[1]!.slice(m[1]!.lastIndexOf("@") + 1);
  const list = /^[^/?#]*/.exec(after)![0];
  if (!list || list.includes("%2F") || list.includes("%2f")) return null;
  return list.split(",").map((h) => (/^\[.*\]$|^[^:]*$/.test(h) ? `${h}:27017` : h));
}

/**
 * Resolves never; rejects with {@link ConnectionRefusedError} once every seed host has refused
 * TCP connections for `ms` in a row (probed every 250 ms). Any other outcome (a host accepts, a
 * time-out, a DNS failure) stops the probing: the driver's own wait decides then.
 */
async function refusedEverywhere(uri: string, ms: number, stop: AbortSignal): Promise<never> {
  const hosts = uriHosts(uri);
  const forever = new Promise<never>(() => {});
  if (!hosts) return forever;
  const started = Date.now();
  while (!stop.aborted) {
    const results = await Promise.all(hosts.map(probe));
    if (stop.aborted || !results.every((r) => r === "refused")) return forever;
    if (Date.now() - started >= ms) throw new ConnectionRefusedError(hosts);
    await sleep(250);
  }
  return forever;
}

/** One TCP connection attempt to `host:port`: accepted, refused, or anything else (within 2 s). */
function probe(hostPort: string): Promise<"open" | "refused" | "other"> {
  const at = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 });
    const end = (r: "open" | "refused" | "other") => {
      socket.destroy();
      resolve(r);
    };
    socket.once("connect", () => end("open"));
    socket.once("timeout", () => end("other"));
    socket.once("error", (e: NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] }) => {
      // Several addresses of one name (localhost: ::1 and 127.0.0.1) all refusing is a refusal too.
      const refused = e.code === "ECONNREFUSED" || (e.errors?.length && e.errors.every((x) => x.code === "ECONNREFUSED"));
      end(refused ? "refused" : "other");
    });
  });
}

/**
 * Why MONGODB_URI's server could not be used, as start-up says it (a {@link ConfigError} problem
 * line): no answer within `seconds` (and how to give it longer), or the driver's first line.
 * `where` is the address without credentials.
 */
export function uriProblem(e: unknown, where: string, seconds: number): string {
  const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  if (e instanceof ConnectionRefusedError) {
    return `MONGODB_URI: cannot use ${where}: ${e.message}. Check that the database server is running and listens on that host and port (a mistyped port?); a server still starting: start shopops once it is up (or unset MONGODB_URI to use the embedded database).`;
  }
  if ((e as Error | undefined)?.name === "MongoServerSelectionError") {
    return `MONGODB_URI: cannot use ${where}: no answer within ${seconds} s (${why}). Check the host, port and network (a firewall, Atlas's IP access list), or give a slow server longer with MONGODB_CONNECT_TIMEOUT_SECONDS (or unset MONGODB_URI to use the embedded database).`;
  }
  return `MONGODB_URI: cannot use ${where}: ${why}. Check the host, port, credentials and network (or unset MONGODB_URI to use the embedded database).`;
}

/** The database of a configuration: its connection string, the embedded server (when not MONGODB_URI), and where it is in words. */
export interface OpenDatabase {
  uri: string;
  /** The embedded server, or null with MONGODB_URI. */
  server: DatabaseServer | null;
  /** `describeUri(MONGODB_URI)`, or the embedded server's description in the process's language (the start-up line). */
  where: string;
  /** `where` in English (the audit trail, logs). */
  whereEn: string;
  /** The database to use on it: the URI's (unset), or on the embedded server the demo's or, with SHOPOPS_DEMO=false, the shop's own. */
  dbName?: string;
  /** True for the embedded demo shop (seeded, its terminal's person an admin, its settings unchecked). */
  demo: boolean;
}

/** The embedded server's database for a shop of one's own (SHOPOPS_DEMO=false), beside the demo's. */
const OWN_SHOP_DB = "shop";

/**
 * The configured database: MONGODB_URI when set, else the embedded server under the data
 * directory (started or joined; stop() it when done, which does nothing when not owned).
 *
 * @throws DatabaseUnavailableError when no embedded server can be started.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  if (config.mongodbUri) {
    const where = describeUri(config.mongodbUri);
    return { uri: config.mongodbUri, server: null, where, whereEn: where, demo: false };
  }
  const server = await startEmbeddedDatabase({ dataDir: config.dataDir, logger });
  // In the process's language: it is said in the start-up line.
  const whereIn = (t: Translate) => {
    const s = server.describe?.(t) ?? server.description;
    return config.demo ? s : t("startup.db.own_database", { server: s, name: OWN_SHOP_DB });
  };
  const where = whereIn(translator(config.locale));
  const whereEn = whereIn(translator("en"));
  return config.demo ? { uri: server.uri, server, where, whereEn, demo: true } : { uri: server.uri, server, where, whereEn, dbName: OWN_SHOP_DB, demo: false };
}

/**
 * Starts (or joins) the embedded database for `dataDir`.
 *
 * If another live process already serves this directory (`<dataDir>/server.json` with a live pid
 * and a server answering ping), returns that server with `owned: false`. Otherwise starts one
 * (mongod in `<dataDir>/mongod` or FerretDB in `<dataDir>/ferretdb`), records it in server.json and
 * returns it with `owned: true`; its stop() stops the server and deletes server.json.
 *
 * @throws DatabaseUnavailableError when no server can be started.
 */
export async function startEmbeddedDatabase(opts: { dataDir: string; logger: Logger }): Promise<DatabaseServer> {
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.logger.child({ component: "db-server" });
  // The shop's data: readable by this user only (a directory created here; one that exists keeps its mode).
  await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw dataDirError(dataDir, err);
  });

  const infoPath = path.join(dataDir, "server.json");
  const lockPath = path.join(dataDir, "server.lock");
  const deadline = Date.now() + LOCK_WAIT_MS;

  for (;;) {
    const joined = await tryJoin(infoPath, dataDir, log);
    if (joined) return joined;

    if (await tryLock(lockPath, log).catch((err: unknown) => Promise.reject(dataDirError(dataDir, err)))) break;
    if (Date.now() > deadline) {
      throw new DatabaseStartupError(
        `shopops cannot start: timed out after ${LOCK_WAIT_MS / 1000} s waiting for another process to start the database in ${dataDir} (lock ${lockPath}). ` +
          `If no other shopops process is starting on this data directory, delete ${lockPath} and try again.`,
      );
    }
    await sleep(250);
  }

  let server: DatabaseServer;
  try {
    // Re-check under the lock: someone may have finished starting between our check and the lock.
    const joined = await tryJoin(infoPath, dataDir, log);
    if (joined) return joined;
    await fsp.rm(infoPath, { force: true });

    server = await startOwned({ dataDir, embedded: true, log, infoPath });

    const info: ServerInfo = { uri: server.uri, pid: process.pid, kind: server.kind, serverPid: serverPidOf(server) };
    await writeJsonAtomic(infoPath, info);

    const innerStop = server.stop;
    server.stop = once(async () => {
      await innerStop();
      // A FerretDB runner still serving processes that joined it keeps the info file (they, and
      // any process starting now, find it by it); it removes the file when it stops.
      const serverPid = info.serverPid;
      if (server.kind !== "ferretdb" || serverPid === undefined || !pidAlive(serverPid)) await removeIfMine(infoPath, info);
    });
  } finally {
    await fsp.rm(lockPath, { force: true });
  }
  return server;
}

/**
 * A database for the test suite. `SHOPOPS_TEST_MONGODB_URI` or `MONGODB_URI`, if set, is used as is
 * (kind "uri", not owned). Otherwise a server is started as in {@link startEmbeddedDatabase}, with its
 * data in a fresh temporary directory removed by stop().
 */
export async function startTestDatabase(opts: { logger: Logger }): Promise<DatabaseServer> {
  const log = opts.logger.child({ component: "db-server" });
  const envUri = process.env.SHOPOPS_TEST_MONGODB_URI || process.env.MONGODB_URI;
  if (envUri) {
    const from = process.env.SHOPOPS_TEST_MONGODB_URI ? "SHOPOPS_TEST_MONGODB_URI" : "MONGODB_URI";
    return {
      uri: envUri,
      kind: "uri",
      description: `${describeUri(envUri)} (from ${from})`,
      owned: false,
      stop: async () => {},
    };
  }

  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-testdb-"));
  let server: DatabaseServer;
  try {
    server = await startOwned({ dataDir: tmp, embedded: false, log });
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const innerStop = server.stop;
  server.stop = once(async () => {
    try {
      await innerStop();
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true, maxRetries: 3 });
    }
  });
  return server;
}

/**
 * Path of the FerretDB runner binary for the current sources of tools/ferretdb-runner, building it
 * with Go if it is not cached yet (`.cache/ferretdb-runner/<hash>/`). Returns null when Go is not
 * installed and no cached binary exists. Concurrent builds are safe (temp name, then rename).
 *
 * @throws if Go is present but the build fails (the error carries the end of go's output).
 */
export async function ensureRunnerBinary(logger: Logger): Promise<string | null> {
  const hash = await runnerSourceHash();
  const dir = path.join(RUNNER_CACHE_DIR, hash);
  const exe = path.join(dir, RUNNER_EXE);
  if (await isFile(exe)) return exe;

  const go = await findGo();
  if (!go) return null;

  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${RUNNER_EXE}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const started = Date.now();
  logger.info("building the FerretDB runner (first build downloads Go modules, about a minute)", { go, out: exe });
  try {
    await run(go, ["build", "-buildvcs=false", "-trimpath", "-o", tmp, "."], {
      cwd: RUNNER_SRC_DIR,
      env: { ...process.env, CGO_ENABLED: "0" },
      timeoutMs: 15 * 60_000,
    });
    await fsp.rename(tmp, exe);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw new Error(`building the FerretDB runner failed: ${errorMessage(err)}`, { cause: err });
  }
  logger.info("built the FerretDB runner", { ms: Date.now() - started });
  await removeOldBuilds(hash);
  return exe;
}

// ---------------------------------------------------------------------------------------------
// Starting servers

interface ServerInfo {
  uri: string;
  /** pid of the owning (shopops) process */
  pid: number;
  kind: DatabaseKind;
  /** pid of the server process itself, when known */
  serverPid?: number;
}

/** pids of server processes, kept out of the public interface. */
const serverPids = new WeakMap<DatabaseServer, number>();
function serverPidOf(s: DatabaseServer): number | undefined {
  return serverPids.get(s);
}

/** Tries each way of starting a server in order; throws DatabaseUnavailableError if none works. */
async function startOwned(o: { dataDir: string; embedded: boolean; log: Logger; infoPath?: string }): Promise<DatabaseServer> {
  const attempts: string[] = [];
  let lastError: unknown;

  const mongodBinary = await locateMongodWithoutDownload(o.log, attempts);
  const ferretDir = path.join(o.dataDir, "ferretdb");
  const mongodDir = path.join(o.dataDir, "mongod");

  // In embedded mode, stay with the server whose data is already there.
  let preferFerret = false;
  if (o.embedded && mongodBinary) {
    const [hasFerret, hasMongod] = await Promise.all([hasEntries(ferretDir), hasEntries(mongodDir)]);
    if (hasFerret && !hasMongod) {
      preferFerret = true;
      o.log.warn("a mongod is available but the existing data is FerretDB's; using FerretDB", { dataDir: o.dataDir });
    }
  }

  const tryMongod = async (): Promise<DatabaseServer | null> => {
    if (!mongodBinary) return null;
    try {
      return await startMongod({ binary: mongodBinary, dbPath: o.embedded ? mongodDir : undefined, log: o.log });
    } catch (err) {
      lastError = err;
      attempts.push(`mongod at ${mongodBinary}: ${errorMessage(err)}`);
      o.log.warn("could not start mongod", { binary: mongodBinary, error: err });
      return null;
    }
  };

  const tryFerret = async (): Promise<DatabaseServer | null> => {
    let exe: string | null;
    try {
      exe = await ensureRunnerBinary(o.log);
    } catch (err) {
      lastError = err;
      attempts.push(`FerretDB runner: ${errorMessage(err)}`);
      o.log.warn("could not build the FerretDB runner", { error: err });
      return null;
    }
    if (!exe) {
      attempts.push("FerretDB runner: Go is not installed and no runner binary is cached");
      return null;
    }
    try {
      return await startFerretRunner({ exe, dataDir: ferretDir, log: o.log, ...(o.infoPath ? { infoPath: o.infoPath } : {}) });
    } catch (err) {
      lastError = err;
      attempts.push(`FerretDB runner: ${errorMessage(err)}`);
      o.log.warn("could not start the FerretDB runner", { error: err });
      return null;
    }
  };

  const order = preferFerret ? [tryFerret, tryMongod] : [tryMongod, tryFerret];
  for (const attempt of order) {
    const s = await attempt();
    if (s) return s;
  }

  // Last: let mongodb-memory-server download mongod (works on machines with internet).
  try {
    o.log.info("trying mongodb-memory-server with download (needs internet)");
    return await startMongod({ binary: undefined, dbPath: o.embedded ? mongodDir : undefined, log: o.log });
  } catch (err) {
    lastError = err;
    attempts.push(`mongodb-memory-server download: ${oneLine(errorMessage(err))}`);
  }
  throw new DatabaseUnavailableError(attempts, { cause: lastError });
}

/** A mongod that mongodb-memory-server can start without downloading, or null. */
async function locateMongodWithoutDownload(log: Logger, attempts: string[]): Promise<string | null> {
  try {
    const found = await DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
    if (found) return found;
    attempts.push("mongod: MONGOMS_SYSTEM_BINARY is not set and mongodb-memory-server has no cached binary");
  } catch (err) {
    attempts.push(`mongod: ${errorMessage(err)}`);
    log.warn("MONGOMS_SYSTEM_BINARY does not point at a usable mongod", { error: err });
  }
  return null;
}

/** Starts mongod via mongodb-memory-server; `binary` undefined lets it download. */
async function startMongod(o: { binary: string | undefined; dbPath: string | undefined; log: Logger }): Promise<DatabaseServer> {
  if (o.dbPath) await fsp.mkdir(o.dbPath, { recursive: true, mode: 0o700 });
  const mms = await MongoMemoryServer.create({
    ...(o.binary ? { binary: { systemBinary: o.binary } } : {}),
    instance: {
      ip: "127.0.0.1",
      ...(o.dbPath ? { dbPath: o.dbPath, storageEngine: "wiredTiger" as const } : {}),
    },
  });
  const uri = mms.getUri();
  const address = hostOf(uri);
  const version = await serverVersion(uri).catch(() => null);
  const describe = describer({ what: (t) => t("startup.db.mongod", { name: `mongod${version ? ` ${version}` : ""}` }), address, ...(o.dbPath ? { dir: o.dbPath } : {}) });
  const server: DatabaseServer = {
    uri,
    kind: "mongod",
    description: describe(translator("en")),
    describe,
    ...(o.dbPath ? { dataDir: o.dbPath } : {}),
    owned: true,
    stop: once(async () => {
      // With our own dbPath, never let mongodb-memory-server clean up (it would keep it anyway).
      await mms.stop({ doCleanup: !o.dbPath, force: false });
    }),
  };
  const pid = mms.instanceInfo?.instance.mongodProcess?.pid;
  if (pid) serverPids.set(server, pid);
  o.log.debug("started mongod", { address, dbPath: o.dbPath ?? "(temporary)" });
  return server;
}

/** Spawns the FerretDB runner and waits for its READY line. */
async function startFerretRunner(o: { exe: string; dataDir: string; log: Logger; infoPath?: string }): Promise<DatabaseServer> {
  await fsp.mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  // Shared (an info file other processes join by): when this process is done, the runner keeps
  // serving the processes that joined it and stops after the last one, removing the info file.
  const shared = o.infoPath ? ["-linger", "-info-file", o.infoPath] : [];
  // The files it creates (SQLite databases, their journals) are this user's only (600): the child
  // inherits the umask, set just for the (synchronous) spawn; files from before are fixed below.
  const umask = setUmask(0o077);
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(o.exe, ["-data", o.dataDir, "-listen", "127.0.0.1:0", "-exit-on-stdin-eof", ...shared], {
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
      // Its own process group: a Ctrl-C in the terminal reaches the bot or the import, which finish
      // their work and then stop the server (stop(), or stdin's end if they die), not the server
      // under them mid-write.
      detached: true,
    });
  } finally {
    if (umask !== null) setUmask(umask);
  }

  let stderrTail = "";
  const childLog = o.log.child({ source: "ferretdb-runner" });
  let stderrBuf = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    stderrBuf += chunk;
    let nl: number;
    while ((nl = stderrBuf.indexOf("\n")) >= 0) {
      const line = stderrBuf.slice(0, nl).trimEnd();
      stderrBuf = stderrBuf.slice(nl + 1);
      if (line) childLog.warn(line);
    }
  });
  // The runner exits on stdin EOF; a write error after it exited must not crash us.
  child.stdin.on("error", () => {});
  child.on("error", (err) => childLog.warn("runner process error", { error: err }));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });

  let uri: string;
  try {
    uri = await waitForReady(child, exited, () => stderrTail);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }

  await restrictFiles(o.dataDir, o.log);

  // From now on the child must not keep this process alive by itself: if this process ends,
  // the runner sees stdin EOF and exits too.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  child.stdout.resume();

  const address = hostOf(uri);
  const describe = describer({ what: ferretdbName, address, dir: o.dataDir });
  const server: DatabaseServer = {
    uri,
    kind: "ferretdb",
    description: describe(translator("en")),
    describe,
    dataDir: o.dataDir,
    owned: true,
    stop: once(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (o.infoPath) {
        // Shared: closing stdin lets it go once no other process is connected (this one closed
        // its connections first). Waited for briefly; still serving others, it is left to them.
        o.log.debug("stopping the embedded database (it keeps serving any other process still using it)", { pid: child.pid });
        child.stdin.end();
        const gone = await Promise.race([exited.then(() => true), sleep(LINGER_CHECK_MS).then(() => false)]);
        if (gone) return;
        // Still running is no proof of others: FerretDB may still be finishing a query this
        // process's closed connections left running, or the machine is busy. Said only when
        // another shopops process that joined it is alive.
        const others = await liveJoiners(path.dirname(o.infoPath), uri);
        if (others.length) o.log.info("the embedded database keeps running for the other shopops processes using it; it stops after the last one", { pid: child.pid, processes: others });
        else o.log.debug("the embedded database is still stopping; no other shopops process uses it", { pid: child.pid });
        return;
      }
      child.kill("SIGTERM");
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }),
  };
  if (child.pid) serverPids.set(server, child.pid);
  o.log.debug("started the FerretDB runner", { address, dataDir: o.dataDir, pid: child.pid });
  return server;
}

function waitForReady(
  child: ChildProcessWithoutNullStreams,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  tail: () => string,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buf = "";
    let settled = false;
    const finish = (err: Error | null, uri?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      if (err) reject(err);
      else resolve(uri as string);
    };
    const withTail = (msg: string): Error => {
      const t = tail().trim();
      return new Error(t ? `${msg}; its stderr ended with:\n${t}` : msg);
    };
    const onData = (chunk: Buffer | string): void => {
      buf += chunk.toString();
      const m = /^READY (mongodb:\/\/\S+)\s*$/m.exec(buf);
      if (m?.[1]) finish(null, m[1]);
    };
    const timer = setTimeout(
      () => finish(withTail(`the FerretDB runner did not report READY within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.on("data", onData);
    child.once("error", (err) => finish(withTail(`cannot run the FerretDB runner: ${err.message}`)));
    void exited.then(({ code, signal }) =>
      // Give stderr a moment to flush before reporting.
      setTimeout(() => finish(withTail(`the FerretDB runner exited before READY (code ${code}, signal ${signal})`)), 50),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Sharing one embedded server between processes

/** Returns the server recorded in server.json if it is alive and answers, else null. */
async function tryJoin(infoPath: string, dataDir: string, log: Logger): Promise<DatabaseServer | null> {
  const info = await readJson<ServerInfo>(infoPath);
  if (!info || typeof info.uri !== "string" || typeof info.pid !== "number") return null;
  // The process that started the server may be gone while the server serves others (a FerretDB
  // runner lingers for the processes that joined it): the server's own pid decides then.
  if (info.serverPid !== undefined ? !pidAlive(info.serverPid) : !pidAlive(info.pid)) return null;

  // A server pid that is now another program's (the pid reused after the server stopped without
  // removing the file, say after a reboot): a stale file, whether or not the owner pid lives.
  // Known where command lines can be read (Linux /proc); elsewhere the checks below decide.
  if (info.serverPid !== undefined && (await isOtherProgram(info.serverPid, info.kind ?? "ferretdb"))) {
    log.debug("ignoring a stale server.json: its server pid is another program's", { serverPid: info.serverPid });
    return null;
  }

  // The owner (and its server) look alive: never start a second server on the same files.
  for (let i = 0; i < 3; i++) {
    if (await ping(info.uri)) {
      const kind = info.kind ?? "ferretdb";
      const where = path.join(dataDir, kind === "mongod" ? "mongod" : "ferretdb");
      const describe = describer({ what: kind === "ferretdb" ? ferretdbName : () => kind, address: hostOf(info.uri), dir: where, runBy: info.pid });
      log.debug("joining the database server of another process", { pid: info.pid, address: hostOf(info.uri) });
      // Listed while it uses the server: its starter, stopping, tells then that it keeps running for others.
      const leave = await listJoined(dataDir, info.uri, log);
      return {
        uri: info.uri,
        kind,
        description: describe(translator("en")),
        describe,
        dataDir: where,
        owned: false,
        stop: leave,
      };
    }
    await sleep(1000);
  }
  if (info.serverPid !== undefined) {
    throw new DatabaseStartupError(
      `shopops cannot start: the database server for ${dataDir} (pid ${info.serverPid}, started by process ${info.pid}, at ${hostOf(info.uri)}) ` +
        `is running but does not answer. Wait a moment and try again; if it stays stuck, stop the database server (kill ${info.serverPid}) and try again.`,
    );
  }
  return null;
}

/** Takes the start lock; removes it if its holder is dead or it is very old. */
async function tryLock(lockPath: string, log: Logger): Promise<boolean> {
  try {
    const fh = await fsp.open(lockPath, "wx", 0o600);
    try {
      await fh.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const holder = await readJson<{ pid?: number }>(lockPath);
  const st = await fsp.stat(lockPath).catch(() => null);
  if (!st) return false; // just released; caller retries
  const age = Date.now() - st.mtimeMs;
  const dead =
    holder && typeof holder.pid === "number"
      ? !pidAlive(holder.pid) || age > STALE_LOCK_MS
      : age > 5_000; // unreadable or empty for a while: a writer died mid-write
  if (dead) {
    log.warn("removing a stale database start lock", { lockPath, holder: holder?.pid });
    await fsp.rm(lockPath, { force: true });
  }
  return false;
}

/**
 * Lists this process under `<dataDir>/joined/` as using the server at `uri`, until the returned
 * function (its stop()) removes the entry. Best effort: a listing that cannot be written only
 * leaves the starter's shutdown line unsaid.
 */
async function listJoined(dataDir: string, uri: string, log: Logger): Promise<() => Promise<void>> {
  const file = path.join(dataDir, JOINED_DIR, `${process.pid}-${randomBytes(4).toString("hex")}.json`);
  try {
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeJsonAtomic(file, { pid: process.pid, uri });
  } catch (err) {
    log.debug("could not list this process as using the embedded database", { file, error: err });
  }
  return once(() => fsp.rm(file, { force: true }));
}

/**
 * pids of the other live processes listed as using the server at `uri` (see {@link listJoined});
 * entries of processes gone, or of an earlier server, are removed.
 */
async function liveJoiners(dataDir: string, uri: string): Promise<number[]> {
  const dir = path.join(dataDir, JOINED_DIR);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    const entry = await readJson<{ pid?: unknown; uri?: unknown }>(path.join(dir, name));
    const pid = typeof entry?.pid === "number" ? entry.pid : undefined;
    if (pid !== undefined && entry?.uri === uri && pidAlive(pid)) {
      if (pid !== process.pid && !pids.includes(pid)) pids.push(pid);
    } else if (entry) await fsp.rm(path.join(dir, name), { force: true });
  }
  return pids;
}

async function removeIfMine(infoPath: string, mine: ServerInfo): Promise<void> {
  const cur = await readJson<ServerInfo>(infoPath);
  if (cur && cur.pid === mine.pid && cur.uri === mine.uri) await fsp.rm(infoPath, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Small utilities

async function ping(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2_000, connectTimeoutMS: 2_000, directConnection: true });
  try {
    await client.db("admin").command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

async function serverVersion(uri: string): Promise<string | null> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, directConnection: true });
  try {
    const info = await client.db("admin").command({ buildInfo: 1 });
    return typeof info.version === "string" ? info.version : null;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * True when `pid` is known to be a program other than the database server of `kind` (its command
 * line, read from Linux /proc, does not name it). False where command lines cannot be read.
 */
async function isOtherProgram(pid: number, kind: DatabaseKind): Promise<boolean> {
  const cmd = await commandLineOf(pid);
  if (cmd === null) return false;
  return !cmd.includes(kind === "mongod" ? "mongod" : "ferretdb-runner");
}

/** A data directory that cannot be created or written: a configuration problem naming SHOPOPS_DATA_DIR and the fix. */
function dataDirError(dataDir: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === "EACCES" || code === "EPERM" ? "permission denied"
    : code === "ENOTDIR" ? "a part of the path is a file, not a directory"
    : code === "EEXIST" ? "a file of that name exists"
    : code === "EROFS" ? "the file system is read-only"
    : errorMessage(err);
  return new ConfigError([
    `SHOPOPS_DATA_DIR: cannot use ${dataDir} as the data directory (${why}${code ? `, ${code}` : ""}). Set SHOPOPS_DATA_DIR to a directory this user can create and write, or fix that path's permissions.`,
  ]);
}

/** Sets the process umask, returning the previous one; null where it cannot be set (worker threads, Windows). */
function setUmask(mask: number): number | null {
  if (process.platform === "win32") return null;
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}

/** Makes the files directly in `dir` readable by this user only (600), as a runner started under an older umask may have left them. */
async function restrictFiles(dir: string, log: Logger): Promise<void> {
  if (process.platform === "win32") return;
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const p = path.join(dir, e.name);
    const st = await fsp.stat(p).catch(() => null);
    if (st && (st.mode & 0o077) !== 0) {
      await fsp.chmod(p, st.mode & 0o700).catch((err: unknown) => log.warn("could not make a database file private", { file: p, error: err }));
    }
  }
}

/** A process's command line (Linux /proc), or null where it cannot be read. */
async function commandLineOf(pid: number): Promise<string | null> {
  return fsp.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => null);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function runnerSourceHash(): Promise<string> {
  const h = createHash("sha256");
  for (const f of RUNNER_SRC_FILES) {
    h.update(f).update("\0");
    h.update(await fsp.readFile(path.join(RUNNER_SRC_DIR, f)));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

async function removeOldBuilds(keep: string): Promise<void> {
  const entries = await fsp.readdir(RUNNER_CACHE_DIR).catch(() => [] as string[]);
  for (const e of entries) {
    if (e !== keep && /^[0-9a-f]{16}$/.test(e)) {
      await fsp.rm(path.join(RUNNER_CACHE_DIR, e), { recursive: true, force: true }).catch(() => {});
    }
  }
}

async function findGo(): Promise<string | null> {
  const exe = process.platform === "win32" ? "go.exe" : "go";
  const candidates = [
    ...(process.env.GOROOT ? [path.join(process.env.GOROOT, "bin", exe)] : []),
    ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, exe)),
    "/usr/local/go/bin/go",
    "/usr/lib/go/bin/go",
    path.join(os.homedir(), "go", "bin", exe),
  ];
  for (const c of candidates) {
    if (!(await isFile(c))) continue;
    try {
      await run(c, ["version"], { timeoutMs: 30_000 });
      return c;
    } catch {
      // not a working go; keep looking
    }
  }
  return null;
}

function run(
  cmd: string,
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: o.cwd, env: o.env, timeout: o.timeoutMs, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const tail = String(stderr).trim().slice(-STDERR_TAIL_CHARS);
          reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}${tail ? `\n${tail}` : ""}`, { cause: err }));
        } else resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function isFile(p: string): Promise<boolean> {
  const st = await fsp.stat(p).catch(() => null);
  return !!st && st.isFile();
}

async function hasEntries(dir: string): Promise<boolean> {
  const entries = await fsp.readdir(dir).catch(() => [] as string[]);
  return entries.length > 0;
}

async function readJson<T>(p: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(p, "utf8")) as T;
  } catch {
    return null;
  }
}

async function writeJsonAtomic(p: string, value: unknown): Promise<void> {
  const tmp = `${p}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(value) + "\n", { mode: 0o600 });
  await fsp.rename(tmp, p);
}

function hostOf(uri: string): string {
  return /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri)?.[1] ?? uri;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
