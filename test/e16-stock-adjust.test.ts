import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet, commandLine } from "../adapters/discord/commands.js";
import { commandsOnce } from "../src/app.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await app.store.products.insertMany([
    product("CNT-1", { onHand: 12 }),
    product("CNT-2", { onHand: 12, reserved: 2 }),
    product("CNT-3", { onHand: 10, reserved: 6 }),
    product("CNT-4", { onHand: 50 }),
    product("CNT-5", { onHand: 7 }),
    product("CNT-OFF", { onHand: 9, active: false }),
  ]);
});
afterAll(() => app.close());

const onHand = async (sku: string) => (await app.store.products.findById(sku).lean())!.onHand;

describe("stock adjust with a number that has no sign", () => {
  it("is refused, saying +n adds, -n removes and how to set the count; nothing changes", async () => {
    for (const typed of ["5", "５"]) {
      const r = await app.run("shell:sam", `stock adjust cnt-1 ${typed} reason=count`);
      expect([r.outcome, r.code], typed).toEqual(["user_error", "invalid_args"]);
      expect(r.reply.text, typed).toContain(
        `"${typed}" has no sign, so it is not taken as a change: +5 adds 5 units to CNT-1, -5 removes 5. To record a count (on hand becomes 5): \`stock adjust CNT-1 set=5 reason=count\`. Nothing changed.`,
      );
      // The refusal is on the trail, under the product typed.
      expect(await app.store.audit.findById(r.ref).lean(), typed).toMatchObject({ command: "stock adjust", outcome: "user_error", subject: "CNT-1" });
    }
    expect(await app.store.products.findById("CNT-1").lean()).toMatchObject({ onHand: 12, available: 12 });
    expect(await app.store.ledger.countDocuments({ sku: "CNT-1" })).toBe(0);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "stock adjust CNT-1 5 reason=盘点", locale: "zh-CN" });
    expect(zh.reply.text).toContain("\"5\" 没有正负号，不会当作调整量：+5 表示为 CNT-1 增加 5 件，-5 表示减少 5 件。若要记录盘点结果（在库变为 5）：`stock adjust CNT-1 set=5 reason=盘点`。");
    // Signed, it is the change it always was.
    const plus = await app.run("shell:sam", "stock adjust CNT-1 +5 reason=restock");
    expect([plus.outcome, plus.reply.text]).toEqual(["ok", "CNT-1 +5: on hand 12 → 17, available 17."]);
  });
});

describe("stock adjust <sku> set=<n>: a counted level from chat", () => {
  it("sets on hand to the count, saying from → to, in the ledger and the audit", async () => {
    const r = await app.run("shell:sam", "stock adjust cnt-2 set=40 reason=count");
    expect([r.outcome, r.reply.title, r.reply.text]).toEqual(["ok", "Stock counted: CNT-2", "CNT-2 set to 40: on hand 12 → 40, available 38."]);
    expect(await app.store.products.findById("CNT-2").lean()).toMatchObject({ onHand: 40, reserved: 2, available: 38 });
    expect(await app.store.ledger.find({ sku: "CNT-2" }).lean()).toEqual([
      expect.objectContaining({ delta: 28, level: 40, onHandAfter: 40, reason: "count", actor: "shell:sam", status: "applied" }),
    ]);
    expect(await app.store.audit.findById(r.ref).lean()).toMatchObject({ command: "stock adjust", outcome: "ok", subject: "CNT-2", args: "cnt-2 set=40 reason=count" });
    // A count that found the level right changes nothing, and says so.
    const same = await app.run("shell:sam", "stock adjust CNT-2 set=40 reason=recount");
    expect([same.outcome, same.reply.text]).toEqual(["ok", "CNT-2: on hand is already 40; the count matches, nothing changed."]);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "stock adjust CNT-2 set=39 reason=盘点", locale: "zh-CN" });
    expect(zh.reply.text).toBe("CNT-2 设为 39：在库 40 → 39，可用 37。");
    // On Discord: `/stock adjust sku:CNT-2 set:38 reason:count`, the same line.
    const route = buildCommandSet(await commandsOnce()).routes.get("stock adjust")!;
    const line = commandLine(route, new Map<string, string | number | boolean>([["sku", "CNT-2"], ["set", 38], ["reason", "count"]]));
    const discord = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: line });
    expect(discord.reply.text).toBe("CNT-2 set to 38: on hand 39 → 38, available 36.");
  });

  it("a count below what open orders reserve is recorded, as the API records it, with the shortfall said", async () => {
    const r = await app.run("shell:sam", "stock adjust CNT-3 set=4 reason=count");
    expect([r.outcome, r.reply.status, r.reply.text]).toEqual([
      "ok",
      "warning",
      "CNT-3 set to 4: on hand 10 → 4, available -2. 6 are reserved by open orders: 2 short, so CNT-3 shows out of stock.",
    ]);
    expect(await app.store.products.findById("CNT-3").lean()).toMatchObject({ onHand: 4, available: -2 });
  });

  it("with key=, applied once: a retry after later sales changes nothing; the key for another change is a conflict", async () => {
    expect((await app.run("shell:sam", "stock adjust CNT-4 set=40 reason=count key=SHELF-7")).reply.text).toBe("CNT-4 set to 40: on hand 50 → 40, available 40.");
    await app.run("shell:sam", "stock adjust CNT-4 -3 reason=sold");
    const again = await app.run("shell:sam", "stock adjust CNT-4 set=40 reason=count key=SHELF-7");
    expect([again.code, again.reply.text]).toEqual(["replayed", "This adjustment (key SHELF-7) was already applied; nothing changed. On hand is 37."]);
    for (const other of ["set=41", "+5"]) {
      const r = await app.run("shell:sam", `stock adjust CNT-4 ${other} reason=count key=SHELF-7`);
      expect([r.code, r.reply.text], other).toEqual(["key_conflict", "The idempotency key SHELF-7 was already used for a different change (CNT-4 set 40). Use a new key."]);
    }
    expect(await onHand("CNT-4")).toBe(37);
    // The API's level with the chat's key is the same change: applied already.
    const api = await app.services.ingest.setLevel("CNT-4", 40, "api:test", "count", "SHELF-7");
    expect(api.outcome).toBe("unchanged");
    expect(await onHand("CNT-4")).toBe(37);
  });

  it("refuses what is not a level, an inactive or unknown product, changing nothing", async () => {
    const cases: [string, string][] = [
      ["stock adjust CNT-5 set reason=count", "• <delta>: A counted level is its own option, with its number: `stock adjust CNT-5 set=40 reason=count`."],
      ["stock adjust CNT-5 set 40 reason=count", '• "set 40": a counted level is its own option, written like this: `stock adjust CNT-5 set=40 reason=count`'],
      ["stock adjust CNT-5 set=-3 reason=count", "• set=: must be at least 0"],
      ["stock adjust CNT-5 set=abc reason=count", '• set=: "abc" is not a number'],
      ["stock adjust CNT-5 +5 set=40 reason=count", "• set=: A change (+5) and a counted level (40) at once: give one."],
      ["stock adjust CNT-5 reason=count", "• <delta>: Give a change or a counted level: `stock adjust CNT-5 +5 reason=count` adds 5 (-5 removes 5); `stock adjust CNT-5 set=40 reason=count` makes on hand 40. Nothing changed."],
      ["stock adjust CNT-5 set=40", "• missing reason="],
      // A level is not a third word: words after a change stay extra words, an unquoted reason keeps its hint.
      ["stock adjust CNT-5 +5 40 reason=count", '• unexpected extra argument "40"'],
      ["stock adjust CNT-5 -1 reason=customer's return didn't count", `put a value with spaces in quotes: reason="customer's return didn't count"`],
    ];
    for (const [line, says] of cases) {
      const r = await app.run("shell:sam", line);
      expect(r.code, line).toBe("invalid_args");
      expect(r.reply.text, line).toContain(says);
    }
    expect((await app.run("shell:sam", "stock adjust CNT-OFF set=3 reason=count")).code).toBe("inactive_product");
    expect((await app.run("shell:sam", "stock adjust CNT-NOPE set=3 reason=count")).code).toBe("unknown_sku");
    // Removing more than is available: refused, saying nothing changed and how a count is recorded.
    const over = await app.run("shell:sam", "stock adjust CNT-5 -9 reason=count");
    expect([over.code, over.reply.text]).toEqual([
      "insufficient_stock",
      "Cannot remove 9 from CNT-5: only 7 available (on hand 7, reserved 0). Stock never goes below zero; nothing changed. A count that found fewer units is recorded as a level: `stock adjust CNT-5 set=<n> reason=count`.",
    ]);
    expect(await onHand("CNT-5")).toBe(7);
    expect(await onHand("CNT-OFF")).toBe(9);
    expect(await app.store.ledger.countDocuments({ sku: { $in: ["CNT-5", "CNT-OFF", "CNT-NOPE"] } })).toBe(0);
  });
});
