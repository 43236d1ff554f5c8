/**
 * Stock adjust and complaint assign wording leftovers: the usage line shows a change and a counted
 * level (shell, Slack and Discord help); the refusals of a number without a sign and of `set 40`
 * show the corrected line as a Discord member types it; the core labels an argument's problem by
 * Discord's option name there (`set`, not `set=:`); and `complaint assign <id> <me>` is a claim.
 * Real database; Discord through the local peer (test/peers/discord-peer.ts) and discord.js.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import type { DiscordPeer } from "./peers/discord-peer.js";

const ops = discordRole("Ops", "staff");
const sam = ops.member("Sam");
const li = ops.member("Li", "zh-CN");

let bot: DiscordHarness;
let peer: DiscordPeer;
let app: App;
let shell: TestApp;

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("WRD-1", { onHand: 12 })]);
  ({ peer, app } = bot = await discordHarness({ role: ops, seed, start: true }));
  shell = await withCast(makeTestApp(), { "shell:sam": "staff" });
  await seed(shell);
});

afterAll(async () => {
  await bot?.stop();
  await shell?.close();
});

const answer = (id: string) => bot.answer(id);

const zhShell = (text: string) => shell.core.invoke({ identity: "shell:sam", platform: "shell", text, locale: "zh-CN" });

describe("stock adjust's usage line", () => {
  it("shows a change or a counted level, in the shell (en, zh) and as a Discord member types it", async () => {
    const help = await shell.run("shell:sam", "help stock adjust");
    expect(field(help, "Usage")).toBe("`stock adjust <sku> (<+n|-n> | set=<n>) reason=<text> [key=<idempotency key>]`");
    expect(field(await zhShell("help stock adjust"), "用法")).toBe("`stock adjust <SKU> (<+n|-n> | set=<n>) reason=<原因> [key=<幂等键>]`");
    // A refused line shows it too.
    const bad = await shell.run("shell:sam", "stock adjust WRD-1 lots reason=x");
    expect(field(bad, "Usage")).toBe("`stock adjust <sku> (<+n|-n> | set=<n>) reason=<text> [key=<idempotency key>]`");
    const discord = await answer(peer.slash(sam, "help", { command: "stock adjust" }).id);
    const usage = discord.embeds[0].fields.find((f: { name: string }) => f.name === "Usage");
    expect(usage.value).toBe("`/stock adjust sku:<sku> (delta:<+n|-n> | set:<n>) reason:<text> [key:<idempotency key>]`");
  });
});

describe("the refusals of a number without a sign and of set apart from its level", () => {
  it("show the corrected line in the shell's syntax to the shell (en, zh)", async () => {
    const unsigned = await shell.run("shell:sam", "stock adjust WRD-1 5 reason=count");
    expect(unsigned.reply.text).toContain("To record a count (on hand becomes 5): `stock adjust WRD-1 set=5 reason=count`. Nothing changed.");
    const apart = await shell.run("shell:sam", "stock adjust WRD-1 set 40 reason=count");
    expect(apart.reply.text).toContain('• "set 40": a counted level is its own option, written like this: `stock adjust WRD-1 set=40 reason=count`');
    const z = await zhShell("stock adjust WRD-1 set 40 reason=盘点");
    expect(z.reply.text).toContain('• "set 40"：盘点得到的库存水平是单独的选项，写法如下：`stock adjust WRD-1 set=40 reason=盘点`');
    expect(await shell.store.products.findById("WRD-1").lean()).toMatchObject({ onHand: 12 });
  });

  it("show it as a Discord member types it (en, zh), changing nothing", async () => {
    const unsigned = (await answer(peer.slash(sam, "stock adjust", { sku: "WRD-1", delta: "5", reason: "count" }).id)).embeds[0].description;
    expect(unsigned).toBe(
      "Invalid arguments for `/stock adjust`:\n• delta: \"5\" has no sign, so it is not taken as a change: +5 adds 5 units to WRD-1, -5 removes 5. To record a count (on hand becomes 5): `/stock adjust sku:WRD-1 set:5 reason:count`. Nothing changed.",
    );
    // `set 40` in the delta option: the level goes in set.
    const apart = (await answer(peer.slash(sam, "stock adjust", { sku: "WRD-1", delta: "set 40", reason: "recount" }).id)).embeds[0].description;
    expect(apart).toBe("Invalid arguments for `/stock adjust`:\n• \"set 40\": a counted level is its own option, written like this: `/stock adjust sku:WRD-1 set:40 reason:recount`");
    const bare = (await answer(peer.slash(sam, "stock adjust", { sku: "WRD-1", delta: "set", reason: "count" }).id)).embeds[0].description;
    expect(bare).toContain("• delta: A counted level is its own option, with its number: `/stock adjust sku:WRD-1 set:40 reason:count`.");
    const zh = (await answer(peer.slash(li, "stock adjust", { sku: "WRD-1", delta: "5", reason: "盘点" }).id)).embeds[0].description;
    expect(zh).toContain("若要记录盘点结果（在库变为 5）：`/stock adjust sku:WRD-1 set:5 reason:盘点`。未做任何更改。");
    for (const text of [unsigned, apart, bare, zh]) expect(text).not.toMatch(/set=/);
    expect(await app.store.products.findById("WRD-1").lean()).toMatchObject({ onHand: 12 });
    expect(await app.store.ledger.countDocuments({ sku: "WRD-1" })).toBe(0);
    expect(await app.store.audit.countDocuments({ command: "stock adjust", outcome: "user_error", subject: "WRD-1" })).toBe(4);
  });
});

describe("an argument's problem on Discord", () => {
  it("is labelled by the option a member fills (set, key), the shell keeping set=: and key=:", async () => {
    const both = (await answer(peer.slash(sam, "stock adjust", { sku: "WRD-1", delta: "+2", set: 40, reason: "count" }).id)).embeds[0].description;
    expect(both).toBe(
      "Invalid arguments for `/stock adjust`:\n• set: A change (+2) and a counted level (40) at once: give one. A change moves on hand by it; a counted level makes on hand the count.",
    );
    const key = (await answer(peer.slash(li, "stock adjust", { sku: "WRD-1", delta: "+2", reason: "补货", key: "o:1" }).id)).embeds[0].description;
    expect(key).toMatch(/\n• key: /);
    expect(key).not.toContain("key=:");
    // The shell as before.
    expect((await shell.run("shell:sam", "stock adjust WRD-1 +2 set=40 reason=count")).reply.text).toContain("• set=: A change (+2) and a counted level (40) at once: give one.");
    expect((await shell.run("shell:sam", "stock adjust WRD-1 +2 reason=count key=o:1")).reply.text).toMatch(/\n• key=: /);
    expect(await app.store.products.findById("WRD-1").lean()).toMatchObject({ onHand: 12 });
  });
});

describe("complaint assign to the caller's own identity", () => {
  const history = (r: Awaited<ReturnType<TestApp["run"]>>) => field(r, "History")!.split("\n");
  const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
  const file = async (text = "box crushed") => idOf(await shell.run("shell:sue", `complaint new ${text}`));

  beforeAll(async () => {
    for (const who of ["shell:lin", "shell:sue"]) await shell.services.identity.grant(who, "support", "shell:admin");
    await shell.services.identity.grant("shell:max", "manager", "shell:admin");
  });
  beforeEach(async () => {
    await shell.store.complaints.deleteMany({});
  });

  it("reads, is recorded and shows exactly as complaint claim does (en, zh), and again is already theirs", async () => {
    const claimed = await file("lid leaks");
    const claim = await shell.run("shell:lin", `complaint claim ${claimed}`);
    const id = await file();
    const r = await shell.run("shell:lin", `complaint assign ${id} shell:lin`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `You have ${id} now.`]);
    expect([field(r, "Status"), field(r, "Assignee")]).toEqual([field(claim, "Status"), "shell:lin"]);
    expect(history(r).at(-1)).toMatch(/shell:lin: claimed$/);
    expect(history(r).at(-1)!.replace(id, "")).toBe(history(claim).at(-1)!.replace(claimed, ""));
    expect((await shell.store.complaints.findById(id).lean())!.history!.at(-1)).toMatchObject({ action: "claim", by: "shell:lin", to: "shell:lin" });
    const again = await shell.run("shell:lin", `complaint assign ${id} shell:lin`);
    expect([again.outcome, again.code, again.reply.text]).toEqual(["ok", "already_claim", `${id} is already yours; nothing changed.`]);
    const other = await file("wrong colour");
    const z = await shell.core.invoke({ identity: "shell:lin", platform: "shell", text: `complaint assign ${other} shell:lin`, locale: "zh-CN" });
    expect(z.reply.title).toBe(`${other} 现在由你处理。`);
    expect(field(z, "处理记录")!.split("\n").at(-1)).toMatch(/shell:lin：认领$/);
  });

  it("a manager taking one from someone for themselves: a claim, saying whom it was taken from (en, zh)", async () => {
    const id = await file();
    expect((await shell.run("shell:lin", `complaint claim ${id}`)).outcome).toBe("ok");
    const r = await shell.run("shell:max", `complaint assign ${id} shell:max`);
    expect([r.outcome, r.reply.title, field(r, "Status")]).toEqual(["ok", `You have ${id} now, taken from shell:lin.`, "Claimed"]);
    expect(history(r).at(-1)).toMatch(/shell:max: claimed, taking it from shell:lin$/);
    const other = await file("scratched");
    await shell.run("shell:sue", `complaint claim ${other}`);
    const z = await shell.core.invoke({ identity: "shell:max", platform: "shell", text: `complaint assign ${other} shell:max`, locale: "zh-CN" });
    expect(z.reply.title).toBe(`${other} 现在由你处理，已从 shell:sue 处接手。`);
    expect(field(z, "处理记录")!.split("\n").at(-1)).toMatch(/shell:max：认领（从 shell:sue 处接手）$/);
    // To someone else it stays an assignment.
    const third = await file("late");
    expect((await shell.run("shell:max", `complaint assign ${third} shell:lin`)).reply.title).toBe(`${third} assigned to shell:lin.`);
  });
});
