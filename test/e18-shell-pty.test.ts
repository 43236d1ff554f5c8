/**
 * The interactive shell as a person at a terminal uses it: the real `src/main.ts` in a
 * pseudo-terminal (util-linux `script`, part of every Debian system), keys typed as bytes.
 * Ctrl-D at the prompt leaves the session; while a job runs, the bot says which job it waits
 * for, and a Ctrl-C then (a real SIGINT from the terminal, readline no longer reading keys)
 * stops it at once with exit 130. Ctrl-C on a line with text only drops that line, also on a
 * TERM=dumb terminal, where readline reads fewer keys.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { shellIdentity } from "../src/core/identity.js";
import { LOW_WATERMARK } from "../src/services/stock.service.js";
import { createStore, type Store } from "../src/store/models.js";
import { product } from "./helpers/app.js";
import { cleanEnv } from "./helpers/cli.js";
import { connectTestDb, type TestDb } from "./helpers/db.js";
import { holdingRelay } from "./helpers/relay.js";

const SPAWNS_TIMEOUT = 180_000;
const CTRL_C = "\x03";
const CTRL_D = "\x04";

let db: TestDb;
let store: Store;
const children: ChildProcess[] = [];
beforeAll(async () => {
  db = await connectTestDb();
  store = createStore(db.conn);
  await store.products.insertMany([product("E18-A", { onHand: 100 }), product("E18-B", { onHand: 3 })]);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await db.close();
});

/** The daily jobs due on 1 January only and not caught up, so only what a test asks for runs. */
const QUIET = { JOBS_CATCH_UP: "false", DIGEST_CRON: "0 0 1 1 *", HOUSEKEEPING_CRON: "0 0 1 1 *", LOW_STOCK_CRON: "0 0 1 1 *" };

/**
 * `src/main.ts shell` on a pseudo-terminal (`script -qefc`: its exit code is the bot's) of type
 * `term`, as the shell's operator; `type` sends bytes as keys, `screen` is everything the terminal showed.
 */
function terminal(term: string, env: Record<string, string>) {
  const command = `'${process.execPath}' --import tsx src/main.ts shell`;
  const child = spawn("script", ["-qefc", command, "/dev/null"], {
    cwd: PROJECT_ROOT,
    env: { ...cleanEnv(), LOG_LEVEL: "error", SHOPOPS_ADMINS: shellIdentity(), TERM: term, ...QUIET, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  let screen = "";
  child.stdout!.on("data", (d: Buffer) => (screen += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (screen += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  return { child, screen: () => screen, type: (keys: string) => child.stdin!.write(keys), code };
}

/** Waits until the screen matches `re` (output, not time, decides). */
const waitFor = (text: () => string, re: RegExp) => vi.waitFor(() => expect(text()).toMatch(re), { timeout: 60_000, interval: 100 });

/** How many prompts the screen shows. */
const prompts = (screen: string) => screen.split("shopops> ").length - 1;

describe("the interactive shell in a terminal", () => {
  it("on a TERM=dumb terminal (Emacs, some consoles): runs a typed line; Ctrl-C on a line with text drops it for a new, empty prompt, and Enter then runs nothing; Ctrl-D leaves, exit 0", { timeout: SPAWNS_TIMEOUT }, async () => {
    const term = terminal("dumb", { MONGODB_URI: db.processUri });
    await waitFor(term.screen, /shopops> /);
    term.type("stock E18-B\r");
    await waitFor(term.screen, /Product E18-B[\s\S]*Available +3\s[\s\S]*shopops> /);
    const before = prompts(term.screen());
    term.type("stock E18-A" + CTRL_C);
    await vi.waitFor(() => expect(prompts(term.screen())).toBe(before + 1), { timeout: 30_000, interval: 100 });
    expect(term.screen()).toContain("^C");
    term.type("\r"); // an empty line: nothing runs
    await vi.waitFor(() => expect(prompts(term.screen())).toBe(before + 2), { timeout: 30_000, interval: 100 });
    term.type(CTRL_D);
    expect(await term.code).toBe(0);
    // The dropped line never ran: E18-A's card was not shown.
    expect(term.screen()).not.toContain("Product E18-A");
  });

  it("Ctrl-D while a job runs: the bot says which job it waits for and that Ctrl-C stops now; a Ctrl-C then stops it at once, exit 130", { timeout: SPAWNS_TIMEOUT }, async () => {
    const relay = await holdingRelay(db.processUri, LOW_WATERMARK); // the scan's first query reads the watermark
    try {
      const term = terminal("xterm-256color", { MONGODB_URI: relay.uri, LOW_STOCK_CRON: "* * * * *" });
      await relay.seen;
      await waitFor(term.screen, /shopops> /);
      term.type(CTRL_D);
      await waitFor(term.screen, /stopping: waiting for .*low-stock \(running \d+ s\).* to finish \(up to 10 s, then it is interrupted and run again later; Ctrl-C to stop now\)/);
      term.type(CTRL_C);
      expect(await term.code).toBe(130);
      expect(term.screen()).not.toContain("interrupted and recorded");
    } finally {
      relay.close();
    }
  });
});
