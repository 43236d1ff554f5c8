/**
 * A Discord option given after an optional one left empty (`/complaint list and:overdue`, no
 * `which:`) reaches the core: it was dropped, so the member got the open list, not the overdue one
 * they asked for. Real database, fixed clock; the command line as the Discord adapter builds it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet, commandLine } from "../adapters/discord/commands.js";
import { commandsOnce } from "../src/app.js";
import { makeTestApp, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sue": "support" });
});
afterAll(() => app.close());

describe("a Discord option after an empty optional one", () => {
  it("/complaint list and:overdue lists the overdue complaints, not every open one", async () => {
    expect((await app.run("shell:sue", "complaint new lid arrived cracked")).outcome).toBe("ok"); // open, not overdue
    const set = buildCommandSet(await commandsOnce());
    const line = commandLine(set.routes.get("complaint list")!, new Map([["and", "overdue"]]));
    expect(line).toBe("complaint list and=overdue");
    const r = await app.run("shell:sue", line);
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe("No complaint is overdue.");
    expect(r.reply.table).toBeUndefined();
    // With the first one given, the words go in order as before.
    expect(commandLine(set.routes.get("complaint list")!, new Map([["which", "mine"], ["and", "overdue"]]))).toBe("complaint list mine overdue");
  });
});
