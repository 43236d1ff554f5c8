/**
 * Three small leftovers (issues #2, #4, #6's area): on Discord the refusal of a delta that is no
 * quantity change shows the line recording a count as a member types it (`set:<n>`, not `set=<n>`);
 * `audit before=`'s refusal lists the days without a year it takes (11/24, 11月24日); and a page of
 * `role list` cut to fit a chat platform's message names, in its Linked line, only the people it
 * shows. Real database; Discord through the local peer (test/peers/discord-peer.ts) and discord.js.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBlocks, type Block } from "../adapters/slack/blocks.js";
import type { App } from "../src/app.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import type { DiscordPeer } from "./peers/discord-peer.js";

const ops = discordRole("Ops", "staff");
const sam = ops.member("Sam");
const li = ops.member("Li", "zh-CN");

let bot: DiscordHarness;
let peer: DiscordPeer;
let app: App;
let shell: TestApp;

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("LFT-1", { onHand: 12 })]);
  ({ peer, app } = bot = await discordHarness({ role: ops, seed, start: true }));
  shell = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await seed(shell);
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await shell?.close();
});

const answer = (id: string) => bot.answer(id);

const zhShell = (identity: string, text: string) => shell.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

describe("stock adjust with a delta that is no quantity change", () => {
  it("on Discord, shows the line recording a count as a member types it, set:<n> (en, zh), changing nothing", async () => {
    const abc = (await answer(peer.slash(sam, "stock adjust", { sku: "lft-1", delta: "abc", reason: "x" }).id)).embeds[0].description;
    expect(abc).toBe(
      "Invalid arguments for `/stock adjust`:\n• delta: \"abc\" is not a quantity change. Use a signed whole number other than zero, e.g. +5 or -2; a counted level is its own option: `/stock adjust sku:LFT-1 set:<n> reason:x`. Nothing changed.",
    );
    const zero = (await answer(peer.slash(li, "stock adjust", { sku: "LFT-1", delta: "+0", reason: "盘点" }).id)).embeds[0].description;
    expect(zero).toContain("• delta: \"+0\" 不是有效的数量变化。请使用非零的带符号整数，例如 +5 或 -2；盘点得到的库存水平是单独的选项：`/stock adjust sku:LFT-1 set:<n> reason:盘点`。未做任何更改。");
    for (const text of [abc, zero]) expect(text).not.toMatch(/set=/);
    expect(await app.store.products.findById("LFT-1").lean()).toMatchObject({ onHand: 12 });
    expect(await app.store.ledger.countDocuments({ sku: "LFT-1" })).toBe(0);
    expect(await app.store.audit.countDocuments({ command: "stock adjust", outcome: "user_error", subject: "LFT-1" })).toBe(2);
  });

  it("in the shell, shows it in the shell's syntax (en, zh)", async () => {
    const r = await shell.run("shell:sam", "stock adjust LFT-1 lots reason=x");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toContain("• <delta>: \"lots\" is not a quantity change. Use a signed whole number other than zero, e.g. +5 or -2; a counted level is its own option: `stock adjust LFT-1 set=<n> reason=x`. Nothing changed.");
    const z = await zhShell("shell:sam", "stock adjust lft-1 +0 reason=盘点");
    expect(z.reply.text).toContain("`stock adjust LFT-1 set=<n> reason=盘点`");
    // A change too large keeps its own refusal.
    expect((await shell.run("shell:sam", "stock adjust LFT-1 +99999999 reason=x")).reply.text).toContain("is too large a change");
    expect(await shell.store.products.findById("LFT-1").lean()).toMatchObject({ onHand: 12 });
  });
});

describe("audit before= that is neither a Ref nor a date", () => {
  it("is refused listing the days without a year before= takes, which it does take (en, zh)", async () => {
    // Entries on 2026-11-24 and on 2026-11-25 (the clock's day, Asia/Shanghai).
    shell.clock.set(new Date("2026-11-24T02:00:00Z"));
    await shell.run("shell:admin", "stock LFT-1");
    await shell.run("shell:sam", "stock adjust LFT-1 +1 reason=older");
    shell.clock.set(new Date("2026-11-25T04:00:00Z"));
    await shell.run("shell:sam", "stock adjust LFT-1 +1 reason=newer");
    const subjects = async (text: string) => {
      const r = await shell.run("shell:admin", text);
      expect(r.outcome).toBe("ok");
      return r.reply.table!.rows.map((row) => row.join(" ")).filter((row) => /reason=(older|newer)/.test(row));
    };
    for (const day of ["11/25", "11月25日"]) {
      const rows = await subjects(`audit command=stock before=${day}`);
      expect(rows.join("\n")).toContain("reason=older");
      expect(rows.join("\n")).not.toContain("reason=newer");
    }

    const bad = await shell.run("shell:admin", "audit before=25/11");
    expect([bad.outcome, bad.code]).toEqual(["user_error", "bad_before"]);
    expect(bad.reply.text).toContain("or without a year as month/day, 11/24 or 11月24日 (the latest such day, today or before)");
    const z = await zhShell("shell:admin", "audit before=下周");
    expect(z.code).toBe("bad_before");
    expect(z.reply.text).toContain("不带年份的 11月24日、11/24（月/日，按今天或之前最近的这一天读取）");
  });
});

describe("a page of role list cut to fit one chat message", () => {
  /** A wide table: long identities, granted by an admin with a long name too. */
  const granter = `shell:${"head-of-warehouse-operations-".repeat(3)}`.slice(0, 70);
  const who = (i: number) => `shell:${"night-shift-picker-".repeat(3)}${String(i).padStart(3, "0")}`;

  beforeAll(async () => {
    await shell.store.roles.insertMany(Array.from({ length: 98 }, (_, i) => ({ _id: who(i + 1), role: "staff", grantedBy: granter, grantedAt: new Date("2026-11-20T02:00:00Z") })));
    // One person among the first rows, another among the last.
    expect((await shell.services.identity.link(who(2), who(3), "shell:admin")).kind).toBe("linked");
    expect((await shell.services.identity.link(who(97), who(98), "shell:admin")).kind).toBe("linked");
  });

  /** The Slack message a one-message answer holds (as a button's outcome): context lines and table rows. */
  const oneMessage = (reply: Parameters<typeof renderBlocks>[0]) => {
    const blocks = renderBlocks(reply, { followUps: 0 }).blocks as Block[];
    const context = blocks.filter((b) => b.type === "context").flatMap((b) => (b.elements as { text: string }[]).map((e) => e.text));
    const rows = blocks.filter((b) => b.type === "section").flatMap((b) => (b.text as { text: string }).text.split("\n")).filter((l) => l.includes("night-shift-picker"));
    return { context, rows };
  };

  it("names in its Linked line only the people among the rows shown (en, zh)", async () => {
    const r = await shell.run("shell:admin", "role list limit=100");
    expect(r.reply.table!.rows).toHaveLength(100); // shell:admin, the 98 pickers, shell:sam
    // The whole page (the shell) names both people, as the only page.
    expect(r.reply.context![0]).toBe(`Linked (one person each): ${who(2)} = ${who(3)}; ${who(97)} = ${who(98)}`);

    const { context, rows } = oneMessage(r.reply);
    const k = rows.length + 1; // shell:admin's row too
    expect(k).toBeGreaterThan(10);
    expect(k).toBeLessThan(98); // pickers 97 and 98 (rows 98, 99) are not shown
    expect(context).toEqual([
      `Linked, of the identities on this page (one person each): ${who(2)} = ${who(3)}`,
      `Rows 1–${k} of 100: bootstrap admins first, then by identity.`,
      `Next page: \`role list limit=${k} page=2\``,
    ]);

    const z = oneMessage((await zhShell("shell:admin", "role list limit=100")).reply);
    expect(z.context[0]).toBe(`本页身份中已关联的（每组为同一人）：${who(2)} = ${who(3)}`);
    expect(z.context.join("\n")).not.toContain(who(97));
  });

  it("says none when no one among the rows shown is linked, the next page naming its own", async () => {
    await shell.services.identity.unlink(who(3), "shell:admin");
    const { context, rows } = oneMessage((await shell.run("shell:admin", "role list limit=100")).reply);
    const k = rows.length + 1;
    expect(k).toBeLessThan(97);
    expect(context).toEqual([`Rows 1–${k} of 100: bootstrap admins first, then by identity.`, `Next page: \`role list limit=${k} page=2\``]);
    // Its next page shows the other person.
    const next = await shell.run("shell:admin", `role list limit=${k} page=2`);
    expect(next.reply.context![0]).toBe(`Linked, of the identities on this page (one person each): ${who(97)} = ${who(98)}`);
  });
});
