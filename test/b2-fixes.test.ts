/**
 * The bulk import as the shell is: a stuck database server is a start-up problem (78), the
 * terminal's person needs the role the same changes need in chat, and a run is on the audit
 * trail before its first write (a run killed half-way is not missing from it). Also: a time unit
 * typed apart is hinted only for durations, a grant that loses a race to another role's grant is
 * not said unchanged, and `help` quotes the words it did not understand as typed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { runImport } from "../src/import.js";
import type { IngestService } from "../src/services/ingest.service.js";
import type { AuditDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { cleanEnv, runScript } from "./helpers/cli.js";

/** Tests here start the import as a process (a Node start with TypeScript compiled on the fly). */
const SPAWNS_TIMEOUT = 180_000;

let app: TestApp;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  app = await makeTestApp();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-b2-"));
  await app.store.products.insertMany([product("B2-1", { onHand: 10 })]);
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await fsp.rm(dir, { recursive: true, force: true });
  await app?.close();
});

const file = async (name: string, lines: string[]) => {
  const f = path.join(dir, name);
  await fsp.writeFile(f, lines.join("\n") + "\n");
  return f;
};
const productLine = (sku: string) => JSON.stringify({ sku, name: `Thing ${sku}`, category: "B2", price: 100, onHand: 5 });

describe("npm run import on a stuck database server", () => {
  it("a recorded server that runs but does not answer is a start-up problem (78) with what to do, no stack trace, as the shell says it", async () => {
    const dataDir = await fsp.mkdtemp(path.join(dir, "data-"));
    // A process that looks like the runner (its command line names ferretdb-runner) but serves nothing.
    const fake = path.join(await fsp.mkdtemp(path.join(dir, "bin-")), "ferretdb-runner");
    await fsp.symlink(await fsp.realpath("/bin/sleep"), fake);
    const stuck = spawn(fake, ["120"]);
    children.push(stuck);
    await new Promise((r) => setTimeout(r, 200));
    await fsp.writeFile(path.join(dataDir, "server.json"), JSON.stringify({ uri: "mongodb://127.0.0.1:1/", pid: process.pid, kind: "ferretdb", serverPid: stuck.pid }));
    const f = await file("stuck.jsonl", [productLine("B2-STUCK")]);
    const r = await runScript("src/import.ts", ["products", f], { SHOPOPS_DATA_DIR: dataDir, LOG_LEVEL: "error" });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`the database server for ${dataDir} (pid ${stuck.pid}`);
    expect(r.stderr).not.toContain("import failed");
    expect(r.stderr).not.toContain("    at ");
  }, SPAWNS_TIMEOUT);
});

describe("npm run import checks the role of the person at the terminal on a shop's database", () => {
  const me = shellIdentity();
  const env = () => ({ MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", LOG_LEVEL: "error" });
  const denials = () => app.store.audit.find({ actor: me, outcome: "denied" }).lean<AuditDoc[]>();

  it("a viewer is refused (1) before anything is written, on the trail as denied naming the kind; a dry run is allowed; staff may import inventory, not products", async () => {
    const inv = await file("inv.jsonl", [JSON.stringify({ sku: "B2-1", delta: 100, reason: "x", key: "b2-inv-1" })]);
    const refused = await runScript("src/import.ts", ["inventory", inv], env());
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`import: importing inventory into a shop's database needs the staff role (as the same changes do in chat); you (${me}) are viewer. Nothing was imported. Ask an admin to run \`role grant ${me} staff\``);
    expect(refused.stdout).toBe("");
    expect((await app.store.products.findById("B2-1").lean())?.onHand).toBe(10);
    expect(await denials()).toEqual([expect.objectContaining({ command: "import inventory", platform: "shell", args: "inv.jsonl", code: "permission_denied", message: `needs staff; ${me} is viewer` })]);
    expect(await app.store.audit.countDocuments({ command: "import inventory", outcome: { $ne: "denied" } })).toBe(0);

    // A dry run writes nothing: anyone may check a file.
    const dry = await runScript("src/import.ts", ["inventory", inv, "--dry-run"], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("Dry run (nothing written) of inventory");

    // Staff may count stock, as `stock adjust` lets them; products (prices, the catalogue) need a manager.
    await app.services.identity.grant(me, "staff", "shell:admin");
    try {
      const ok = await runScript("src/import.ts", ["inventory", inv], env());
      expect(ok.code, ok.stderr).toBe(0);
      expect((await app.store.products.findById("B2-1").lean())?.onHand).toBe(110);
      const prods = await file("prods.jsonl", [productLine("B2-NEW")]);
      const noProducts = await runScript("src/import.ts", ["products", prods], env());
      expect(noProducts.code).toBe(1);
      expect(noProducts.stderr).toContain(`needs the manager role (as the same changes do in chat); you (${me}) are staff.`);
      expect(await app.store.products.findById("B2-NEW").lean()).toBeNull();
      expect((await denials()).map((d) => [d.command, d.message])).toEqual([
        ["import inventory", `needs staff; ${me} is viewer`],
        ["import products", `needs manager; ${me} is staff`],
      ]);
    } finally {
      await app.services.identity.revoke(me);
    }
  }, SPAWNS_TIMEOUT);
});

describe("an import run is on the audit trail before its first write", () => {
  it("in progress it shows as running; at the end the same entry has the counts and the result", async () => {
    const f = await file("slow.jsonl", [productLine("B2-S1"), productLine("B2-S2"), productLine("B2-S3")]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const real = app.services.ingest;
    // The third line waits: the run is under way, two products written.
    const ingest = { apply: async (...a: Parameters<IngestService["apply"]>) => (++calls === 3 && (await held), real.apply(...a)) } as unknown as IngestService;
    const audit = { service: app.services.audit, who: "shell:slow", store: app.store };
    const run = runImport({ kind: "products", file: f, ingest, audit });
    while (calls < 3) await new Promise((r) => setTimeout(r, 20));
    const during = await app.store.audit.find({ actor: "shell:slow" }).lean<AuditDoc[]>();
    expect(during).toEqual([expect.objectContaining({ command: "import products", platform: "shell", args: "slow.jsonl: running", outcome: "error", code: "running", message: expect.stringContaining("still running, or stopped without recording its end") })]);
    release();
    await run;
    const after = await app.store.audit.find({ actor: "shell:slow" }).lean<AuditDoc[]>();
    expect(after).toHaveLength(1);
    expect(after[0]!._id).toBe(during[0]!._id);
    expect(after[0]).toMatchObject({ outcome: "ok", args: "slow.jsonl: 3 lines; imported 3, updated 0, skipped 0, parked 0, failed 0" });
    expect([...(after[0]!.subject as string[])].sort()).toEqual(["B2-S1", "B2-S2", "B2-S3"]);
    expect(after[0]).not.toHaveProperty("code");
    expect(after[0]).not.toHaveProperty("message");
  });

  it("npm run import killed (kill -9) half-way leaves its running entry beside the products it wrote", async () => {
    const f = await file("killed.jsonl", Array.from({ length: 400 }, (_, i) => productLine(`B2-K${i + 1}`)));
    const child = spawn(process.execPath, ["--import", "tsx", "src/import.ts", "products", f], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv(), ...{ MONGODB_URI: app.db.processUri, SHOP_TIMEZONE: "Asia/Shanghai", SHOPOPS_ADMINS: shellIdentity(), LOG_LEVEL: "error" } },
      stdio: "ignore",
    });
    children.push(child);
    const exited = new Promise((r) => child.on("exit", r));
    const deadline = Date.now() + 120_000;
    while ((await app.store.products.countDocuments({ _id: /^B2-K/ })) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await exited;
    const written = await app.store.products.countDocuments({ _id: /^B2-K/ });
    expect(written).toBeGreaterThanOrEqual(5);
    expect(written).toBeLessThan(400);
    expect(await app.store.audit.find({ command: "import products", args: /^killed\.jsonl/ }).lean<AuditDoc[]>()).toEqual([
      expect.objectContaining({ actor: shellIdentity(), args: "killed.jsonl: running", outcome: "error", code: "running" }),
    ]);
  }, SPAWNS_TIMEOUT);
});

describe("a time unit typed apart is hinted for durations only", () => {
  it("an id or free text followed by d, m or 天 is an extra argument, not 'write 12345d'", async () => {
    await app.services.identity.grant("shell:b2staff", "staff", "shell:admin");
    for (const [line, command, word] of [
      ["order search customer=12345 d", "order search", "d"],
      ["coupon show 10 d", "coupon show", "d"],
      ["order search customer=7 天", "order search", "天"],
    ] as const) {
      const r = await app.run("shell:b2staff", line);
      expect([r.code, r.reply.text], line).toEqual(["invalid_args", `Invalid arguments for \`${command}\`:\n• unexpected extra argument "${word}"`]);
    }
    // `order` reads the rest of its line as the number: one with a space is told so (no "write 12345m").
    expect((await app.run("shell:b2staff", "order 12345 m")).reply.text).toContain('"12345 m" is not one order number: an order number has no spaces.');
    // A duration still gets the hint.
    const since = await app.run("shell:b2staff", "order search since=7 d");
    expect(since.reply.text).toBe('Invalid arguments for `order search`:\n• unexpected extra argument "d": write since=7d without the space');
  });
});

describe("role grant racing another grant", () => {
  it("a grant whose insert collides with another role's binding made meanwhile is made, not said unchanged", async () => {
    // MongoDB without the lease (SHOPOPS_ADMINS set): another admin's grant of staff inserts the
    // binding between this grant's match (no binding) and its insert, which then collides on
    // _id. The test server serialises writes, so the collision is staged as MongoDB gives it:
    // the other grant's insert, then this one's, refused with the server's own E11000.
    const roles = app.store.roles;
    const original = roles.findOneAndUpdate.bind(roles);
    let staged = false;
    roles.findOneAndUpdate = ((...a: Parameters<typeof original>) => {
      if (staged) return original(...a);
      staged = true;
      return {
        lean: async () => {
          const doc = { _id: "shell:racer", role: "staff", grantedBy: "shell:ad2", grantedAt: new Date() };
          await roles.collection.insertOne(doc as never);
          await roles.collection.insertOne(doc as never); // throws E11000, as the losing upsert does
          return null;
        },
      };
    }) as unknown as typeof roles.findOneAndUpdate;
    try {
      const r = await app.run("shell:admin", "role grant shell:racer manager");
      expect([r.outcome, r.reply.text]).toEqual(["ok", "shell:racer is now manager (was staff)."]);
      expect(staged).toBe(true);
      expect((await roles.findById("shell:racer").lean())?.role).toBe("manager");
    } finally {
      roles.findOneAndUpdate = original;
    }
  });
});

describe("help with words it does not understand", () => {
  it("quotes them as typed", async () => {
    const r = await app.run("shell:admin", "help stock SKU-1001");
    expect(r.reply.context).toEqual(['Showing help for `stock`: "SKU-1001" after it was not understood.']);
    expect((await app.run("shell:admin", "help Nothing Here")).reply.text).toBe("No command `Nothing Here` that you can run. Type `help` for the list.");
  });
});
