/**
 * `npm start` with Slack configured: the real process starts the Slack adapter
 * (Socket Mode, against the local peer) instead of the shell, answers a slash
 * command, delivers the outbox, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { createStore, type Store } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { cleanEnv } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { createServer } from "node:net";
import { postToBot, SlackPeer, slashBody } from "./peers/slack-peer.js";

const BOT_TOKEN = "xoxb-9-9-MAINSECRETBOT";
const APP_TOKEN = "xapp-1-A0-9-MAINSECRETAPP";

let db: TestDb;
let store: Store;
let peer: SlackPeer;
let env: Record<string, string>;

beforeAll(async () => {
  db = await connectTestDb();
  store = createStore(db.conn);
  await store.products.insertMany([product("SKU-7", { name: "Teapot", onHand: 7 })]);
  peer = await new SlackPeer("T0MAIN").start();
  env = { ...cleanEnv("SLACK_"), MONGODB_URI: db.processUri, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: peer.apiUrl, LOG_LEVEL: "debug" };
});
afterAll(async () => {
  await peer?.stop();
  await db?.close();
});

function start(extra: Record<string, string> = {}, omit: string[] = []): { child: ChildProcess; out: { stderr: string }; exited: Promise<number | null> } {
  const childEnv: Record<string, string> = { ...env, ...extra };
  for (const k of omit) delete childEnv[k];
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: PROJECT_ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const out = { stderr: "" };
  child.stderr!.on("data", (d: Buffer) => (out.stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, out, exited };
}

describe("npm start with Slack configured", () => {
  it("runs the Slack adapter and its outbox loop, and shuts down on SIGTERM", async () => {
    const { child, out, exited } = await start();
    try {
      await peer.waitFor(() => out.stderr.includes("slack: connected in Socket Mode"), "the start-up line", 60_000);
      // The default routes go to the shell, which a bot without a terminal does not run: said at start.
      await peer.waitFor(() => out.stderr.includes("warning: alerts are routed to"), "the routes warning", 30_000);
      expect(out.stderr).toMatch(/alerts are routed to .*low_stock:shell:ops.*, but this process runs slack: they wait undelivered/);
      const responseUrl = peer.responseUrl();
      await peer.sendEnvelope("slash_commands", Object.fromEntries(new URLSearchParams(slashBody({ command: "/stock", text: "SKU-7", user: "UANY", team: "T0MAIN", responseUrl }))));
      expect(JSON.stringify((await peer.waitForResponse(responseUrl)).body.blocks)).toContain("Teapot (SKU-7)");
      const now = new Date();
      await store.outbox.create({ _id: "main:1", platform: "slack", dest: { kind: "channel", platform: "slack", channel: "C0MAIN" }, reply: { text: "from the outbox", visibility: "public" }, kind: "test", status: "pending", attempts: 0, notBefore: now, createdAt: now });
      await peer.waitFor(() => peer.callsOf("chat.postMessage").find((c) => c.args.channel === "C0MAIN"), "the outbox delivery", 30_000);
      await peer.waitFor(async () => (await store.outbox.findById("main:1").lean())?.status === "sent", "sent status");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(out.stderr).not.toContain("MAINSECRET");
  });

  it("in HTTP mode with HTTP_PORT = SLACK_PORT, serves Slack and the ingestion API on one port", async () => {
    const port = await freePort();
    const secret = "main-signing-secret-1234";
    const { child, out, exited } = start({ SLACK_SIGNING_SECRET: secret, SLACK_PORT: String(port), HTTP_PORT: String(port) }, ["SLACK_APP_TOKEN"]);
    try {
      await peer.waitFor(() => out.stderr.includes(`slack: on the HTTP server's port ${port}`), "the start-up line", 60_000);
      const responseUrl = peer.responseUrl();
      const ack = await postToBot(`http://127.0.0.1:${port}/slack/events`, { secret, body: slashBody({ command: "/stock", text: "SKU-7", user: "UANY", team: "T0MAIN", responseUrl }) });
      expect(ack.status).toBe(200);
      expect(JSON.stringify((await peer.waitForResponse(responseUrl)).body.blocks)).toContain("Teapot (SKU-7)");
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(out.stderr).not.toContain("MAINSECRET");
  });

  it("finishes the effects of an order a crashed run left undone before taking new orders", async () => {
    await store.products.insertMany([product("CR-7", { name: "Kettle", onHand: 9 })]);
    const now = new Date();
    await store.orders.collection.insertOne({
      _id: "O-CRASHED", items: [{ sku: "CR-7", qty: 2, unitPrice: 900 }], subtotal: 1800, discount: 0, shipping: 0, total: 1800, currency: "CNY",
      status: "pending", channel: "api", customerId: "CUST-1", createdAt: now, day: now.toISOString().slice(0, 10), refundedTotal: 0, refunds: [], history: [], effects: {}, changedAt: now,
    } as never);
    const { child, out, exited } = start();
    try {
      await peer.waitFor(() => out.stderr.includes("slack: connected in Socket Mode"), "the start-up line", 60_000);
      expect(await store.products.findById("CR-7").lean()).toMatchObject({ reserved: 2, available: 7 });
      expect((await store.orders.findById("O-CRASHED").lean())?.effects).toMatchObject({ reserved: true });
      expect(out.stderr).toContain("finished order effects left undone");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  it("stops with a message naming SLACK_BOT_TOKEN when Slack refuses the token", async () => {
    const { out, exited } = start({ SLACK_BOT_TOKEN: "xoxb-revoked-token" });
    expect(await exited).toBe(78);
    expect(out.stderr).toContain("SLACK_BOT_TOKEN: Slack refused the token");
  });

  it("a Slack it cannot reach is a start-up problem said plainly (78), not a stack trace", async () => {
    const port = await freePort(); // nothing listens there
    const { out, exited } = start({ SLACK_API_URL: `http://127.0.0.1:${port}/api/` });
    expect(await exited).toBe(78);
    expect(out.stderr).toContain(`Slack: cannot reach http://127.0.0.1:${port}/api/ (`);
    expect(out.stderr).toContain("Check the network, a proxy or firewall, and SLACK_API_URL if it is set");
    expect(out.stderr).not.toMatch(/^\s+at /m);
    expect(out.stderr).not.toContain("failed to start");
  });

  it("names SLACK_APP_TOKEN when Slack refuses the app-level token", async () => {
    const { out, exited } = start({ SLACK_APP_TOKEN: "xapp-1-revoked" });
    expect(await exited).toBe(78);
    expect(out.stderr).toContain("SLACK_APP_TOKEN: Slack refused the token");
  });
});

/** A TCP port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
