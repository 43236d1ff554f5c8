/**
 * `npm start` with Discord settings: the bot process connects to the (local)
 * Discord, registers the commands, answers a slash command, keeps the token out
 * of its output, and stops cleanly on SIGTERM.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { createStore } from "../src/store/models.js";
import { cleanEnv } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { product } from "./helpers/app.js";
import { DiscordPeer, nextId } from "./peers/discord-peer.js";

const TOKEN = "ODg4ODg4ODg4ODg4ODg4ODg4.Gxyz12.start-test-secret-token-abcdef";
const APP_ID = nextId();
let peer: DiscordPeer;
let db: TestDb;

beforeAll(async () => {
  peer = new DiscordPeer({ token: TOKEN, applicationId: APP_ID });
  await peer.start();
  db = await connectTestDb();
  await createStore(db.conn).products.insertMany([product("SKU-1001", { name: "Wireless Mouse", onHand: 30 })]);
});
afterAll(async () => {
  await peer.stop();
  await db.close();
});

describe("npm start with Discord settings", () => {
  it("starts the Discord adapter, answers /stock, and exits 0 on Ctrl-C (delivered twice by npm) without printing the token", async () => {
    // node --import tsx (not the tsx binary): the signal reaches the bot itself, not a relaying wrapper
    // that gives up on a busy child after a few milliseconds.
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        ...cleanEnv("DISCORD_"),
        MONGODB_URI: db.processUri,
        LOG_LEVEL: "debug",
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: APP_ID,
        DISCORD_API_URL: peer.api,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.stdin.end(); // no terminal: the bot keeps running
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      // Global registration, since DISCORD_GUILD_ID is unset.
      await peer.waitFor("PUT", new RegExp(`^/applications/${APP_ID}/commands$`), 30_000);
      await new Promise<void>((resolve) => {
        const check = () => (output.includes("Discord: connected") ? resolve() : setTimeout(check, 50));
        check();
      });
      const ix = peer.slash({ id: nextId(), username: "Ann" }, "stock show", { query: "SKU-1001" });
      const cb = await peer.callback(ix.id);
      expect(cb.body.data.embeds[0].title).toBe("Wireless Mouse (SKU-1001)");
    } finally {
      // One Ctrl-C as `npm start` delivers it: to the bot and forwarded by npm, twice at once.
      child.kill("SIGINT");
      setTimeout(() => child.kill("SIGINT"), 30);
    }
    const code = await exited;
    expect({ code, tail: code === 0 ? "" : output.slice(-1500) }).toEqual({ code: 0, tail: "" });
    expect(output).toContain("application commands registered");
    expect(output).not.toContain(TOKEN);
  });

  it("a Discord it cannot reach is a start-up problem said plainly (78), not a stack trace, and the token is not printed", async () => {
    const dead = "http://127.0.0.1:1/api"; // port 1: nothing listens
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv("DISCORD_"), MONGODB_URI: db.processUri, DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: dead },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect({ code, said: output.includes(`Discord: cannot reach ${dead} (`) }, output.slice(-1500)).toEqual({ code: 78, said: true });
    expect(output).toContain("Check the network, a proxy or firewall, and DISCORD_API_URL if it is set");
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain(TOKEN);
  });
});
