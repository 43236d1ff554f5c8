import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../src/core/logger.js";
import { describeUri, startEmbeddedDatabase, type DatabaseServer } from "../src/store/db-server.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { cleanEnv } from "./helpers/cli.js";
import { PROJECT_ROOT } from "../src/config.js";

describe("suite database (relay)", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await connectTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("gives single-document atomicity to concurrent guarded updates", async () => {
    const products = db.conn.db!.collection<{ _id: string; onHand: number }>("products");
    await products.insertOne({ _id: "SKU", onHand: 20 });

    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        products.findOneAndUpdate({ _id: "SKU", onHand: { $gte: 1 } }, { $inc: { onHand: -1 } }, { returnDocument: "after" }),
      ),
    );

    expect(results.filter((r) => r !== null)).toHaveLength(20);
    expect((await products.findOne({ _id: "SKU" }))?.onHand).toBe(0);
  });

  it("keeps serving writes after a write fails (the lock is released on error replies)", async () => {
    const coll = db.conn.db!.collection<{ _id: string }>("dupes");
    await coll.insertOne({ _id: "a" });
    await expect(coll.insertOne({ _id: "a" })).rejects.toMatchObject({ code: 11000 });
    await coll.insertOne({ _id: "b" });
    expect(await coll.countDocuments()).toBe(2);
  });
});

describe("startEmbeddedDatabase", () => {
  const dirs: string[] = [];
  const started: DatabaseServer[] = [];
  const tempDir = async (): Promise<string> => {
    const d = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-embedded-test-"));
    dirs.push(d);
    return d;
  };
  const start = async (dataDir: string): Promise<DatabaseServer> => {
    const s = await startEmbeddedDatabase({ dataDir, logger: silentLogger });
    started.push(s);
    return s;
  };
  const withClient = async <T>(uri: string, fn: (c: MongoClient) => Promise<T>): Promise<T> => {
    const c = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  };

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
  });

  it("persists data across a stop and a restart on the same directory", async () => {
    const dataDir = await tempDir();

    const first = await start(dataDir);
    expect(first.owned).toBe(true);
    expect(["ferretdb", "mongod"]).toContain(first.kind);
    await withClient(first.uri, (c) => c.db("persist").collection("notes").insertOne({ _id: "n1" as never, text: "kept" }));
    await first.stop();
    await expect(fsp.access(path.join(dataDir, "server.json"))).rejects.toThrow();

    const second = await start(dataDir);
    expect(second.owned).toBe(true);
    const doc = await withClient(second.uri, (c) => c.db("persist").collection("notes").findOne({ _id: "n1" as never }));
    expect(doc?.text).toBe("kept");
    await second.stop();
  });

  it("joins the running server instead of starting a second one on the same directory", async () => {
    const dataDir = await tempDir();

    const owner = await start(dataDir);
    const info = JSON.parse(await fsp.readFile(path.join(dataDir, "server.json"), "utf8"));
    expect(info).toMatchObject({ uri: owner.uri, pid: process.pid, kind: owner.kind });

    const guest = await start(dataDir);
    expect(guest.owned).toBe(false);
    expect(guest.uri).toBe(owner.uri);
    expect(guest.kind).toBe(owner.kind);

    await guest.stop(); // does nothing: the owner's server keeps running
    const pong = await withClient(owner.uri, (c) => c.db("admin").command({ ping: 1 }));
    expect(pong.ok).toBe(1);

    await owner.stop();
    await expect(fsp.access(path.join(dataDir, "server.json"))).rejects.toThrow();
  });

  it("a process that joined keeps the database when the one that started it stops; it stops after the last one", async () => {
    const dataDir = await tempDir();
    const owner = await start(dataDir);
    if (owner.kind !== "ferretdb") return; // a mongod (mongodb-memory-server) stops with its process
    const infoPath = path.join(dataDir, "server.json");
    const { serverPid } = JSON.parse(await fsp.readFile(infoPath, "utf8")) as { serverPid: number };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Another process's connection (a second shell that joined), open while the first one quits.
    const guest = new MongoClient(owner.uri, { serverSelectionTimeoutMS: 5_000 });
    await guest.db("admin").command({ ping: 1 });
    await owner.stop();
    expect((await guest.db("shared").collection("notes").insertOne({ _id: "after" as never })).acknowledged).toBe(true);
    expect(alive(serverPid)).toBe(true);
    // Still found by a process starting now: it joins, it does not start a second server on the files.
    const late = await start(dataDir);
    expect([late.owned, late.uri]).toEqual([false, owner.uri]);
    // The last one out: the server stops and removes its info file.
    await guest.close();
    for (let i = 0; i < 40 && alive(serverPid); i++) await new Promise((r) => setTimeout(r, 250));
    expect(alive(serverPid)).toBe(false);
    await expect(fsp.access(infoPath)).rejects.toThrow();
  });

  it("a stale server.json whose server pid another program now has does not block the start", async () => {
    const dataDir = await tempDir();
    const other = spawn("sleep", ["60"]); // a live pid that is no database server
    try {
      await fsp.writeFile(path.join(dataDir, "server.json"), JSON.stringify({ uri: "mongodb://127.0.0.1:1/", pid: 2 ** 22 + 7, kind: "ferretdb", serverPid: other.pid }));
      const s = await start(dataDir);
      expect(s.owned).toBe(true);
      await s.stop();
    } finally {
      other.kill();
    }
  }, 30_000);

  it("a server left to the processes that joined it survives logging after its starter's process is gone", async () => {
    const dataDir = await tempDir();
    // The starter is another process: it starts the database, waits, stops as the bot does, exits.
    const script = `import { startEmbeddedDatabase } from "./src/store/db-server.ts"; import { silentLogger } from "./src/core/logger.ts";
      const s = await startEmbeddedDatabase({ dataDir: ${JSON.stringify(dataDir)}, logger: silentLogger });
      process.stdout.write(s.kind + " " + s.uri + "\\n");
      process.stdin.resume(); process.stdin.on("end", async () => { await s.stop(); process.exit(0); });`;
    const starter = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: PROJECT_ROOT, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise((resolve) => starter.on("exit", resolve));
    let err = "";
    starter.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      starter.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.trim());
      });
      starter.on("exit", () => reject(new Error(`the starter exited before its database was up: ${err.slice(-500)}`)));
    });
    const [kind, uri] = line.split(" ") as [string, string];
    const guest = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      await guest.db("admin").command({ ping: 1 });
      starter.stdin.end();
      await exited;
      if (kind !== "ferretdb") return; // a mongod stops with its process
      // A malformed message makes the relay log a warning on its stderr, a pipe nobody reads now.
      const { port, hostname } = new URL(uri);
      await new Promise<void>((resolve) => {
        const s = net.connect(Number(port), hostname, () => s.end(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
        s.on("close", () => resolve());
        s.on("error", () => resolve());
      });
      await new Promise((r) => setTimeout(r, 300));
      expect((await guest.db("admin").command({ ping: 1 })).ok).toBe(1);
    } finally {
      await guest.close();
      starter.kill();
    }
  });
});

describe("describeUri", () => {
  it("never shows credentials or query options", () => {
    const d = describeUri("mongodb+srv://shop:s3cret@cluster0.example.net/shopops?authSource=admin&appName=x");
    expect(d).toBe("MongoDB at mongodb+srv://cluster0.example.net/shopops");
    expect(describeUri("mongodb://u:p@h1:1,h2:2/?replicaSet=rs")).toBe("MongoDB at mongodb://h1:1,h2:2");
    // Passwords with unescaped separators (which the driver refuses, and the refusal is shown).
    for (const bad of ["mongodb://u:pa/ss@h/db", "mongodb://u:p@ss@h/db", "mongodb://u:p?a#s@h:27017/db"]) {
      const d = describeUri(bad);
      expect(d, bad).not.toMatch(/pa|ss|p\?a/);
      expect(d).toMatch(/^MongoDB at mongodb:\/\/h(:27017)?\/db$/);
    }
  });
});
