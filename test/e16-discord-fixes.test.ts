/**
 * A pass over the Discord adapter as a server admin and its users, through the local Discord
 * (test/peers/discord-peer.ts) and the real discord.js client: `/stock adjust`'s `delta` and `set`
 * options say which to fill, and giving neither explains both (in slash form) instead of "missing
 * <delta>"; a zh-TW member sees the command picker in Chinese, as the replies are; and an alert
 * refused for a missing channel permission tells the admin, in `alerts list`, what to grant where.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import type { App } from "../src/app.js";
import { FixedClock } from "../src/core/clock.js";
import { translator } from "../src/core/messages.js";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { product } from "./helpers/app.js";
import { nextId, type DiscordPeer } from "./peers/discord-peer.js";

const APP_ID = nextId();
const ops = discordRole("Ops", "staff");
const sam = ops.member("Sam");
const li = ops.member("Li", "zh-CN");

let bot: DiscordHarness;
let peer: DiscordPeer;
let app: App;
let adapter: DiscordAdapter;
const clock = new FixedClock("2026-11-25T04:00:00Z");

beforeAll(async () => {
  const seed = (a: App) => a.store.products.insertMany([product("SKU-2", { onHand: 3 }), product("SKU-3", { onHand: 2 })]);
  ({ peer, app, adapter } = bot = await discordHarness({ applicationId: APP_ID, role: ops, clock, seed, start: true }));
});

afterAll(() => bot?.stop());

type Opt = { name: string; description: string; description_localizations?: Record<string, string>; options?: Opt[]; choices?: { name: string; name_localizations?: Record<string, string> }[] };

/** The options registered at start-up (the bulk PUT the peer received), by `command sub option` path. */
function registered(): Map<string, Opt> {
  const put = peer.find("PUT", new RegExp(`^/applications/${APP_ID}/guilds/${peer.guildId}/commands$`))[0]!;
  const all = new Map<string, Opt>();
  const walk = (o: Opt, path: string) => {
    all.set(path, o);
    for (const c of o.options ?? []) walk(c, `${path} ${c.name}`);
  };
  for (const d of put.body as Opt[]) walk(d, d.name);
  return all;
}

const answer = (id: string) => bot.answer(id);

describe("/stock adjust on Discord: delta or set", () => {
  it("registers delta and set with hints that say to fill one or the other, in English and Chinese", () => {
    const opts = registered();
    const delta = opts.get("stock adjust delta")!;
    const set = opts.get("stock adjust set")!;
    expect(delta.description).toBe("delta: +n adds, -n removes (to record a count, leave it empty and fill set), e.g. -2");
    expect(set.description).toBe("set: the counted level, on hand becomes it (fill it instead of delta), e.g. 40");
    expect(delta.description_localizations!["zh-CN"]).toBe("库存变动数量（+n 增加，-n 减少；记录盘点结果请留空并改填 set），例如 -2");
    expect(set.description_localizations!["zh-CN"]).toBe("盘点得到的在库数量，在库设为此数（与 delta 二选一），例如 40");
  });

  it("with neither, explains the change and the count as a member types them, with the reason given, and changes nothing", async () => {
    const en = await answer(peer.slash(sam, "stock adjust", { sku: "SKU-2", reason: "count" }).id);
    expect(en.flags & 64).toBe(64);
    expect(en.embeds[0].description).toBe(
      "Invalid arguments for `/stock adjust`:\n• delta: Give a change or a counted level: `/stock adjust sku:SKU-2 delta:+5 reason:count` adds 5 (-5 removes 5); `/stock adjust sku:SKU-2 set:40 reason:count` makes on hand 40. Nothing changed.",
    );
    const zh = await answer(peer.slash(li, "stock adjust", { sku: "SKU-2", reason: "盘点" }).id);
    expect(zh.embeds[0].description).toBe(
      "`/stock adjust` 的参数无效：\n• delta: 请给出调整量或盘点得到的库存水平：`/stock adjust sku:SKU-2 delta:+5 reason:盘点` 表示增加 5 件（-5 表示减少 5 件）；`/stock adjust sku:SKU-2 set:40 reason:盘点` 表示在库变为 40。未做任何更改。",
    );
    // Both at once: refused, saying to give one.
    const both = await answer(peer.slash(sam, "stock adjust", { sku: "SKU-2", delta: "+2", set: 40, reason: "count" }).id);
    expect(both.embeds[0].description).toContain("• set: A change (+2) and a counted level (40) at once: give one.");
    expect(await app.store.products.findById("SKU-2").lean()).toMatchObject({ onHand: 3 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-2" })).toBe(0);
    // Each refusal is on the trail, under the product.
    expect(await app.store.audit.countDocuments({ command: "stock adjust", outcome: "user_error", subject: "SKU-2" })).toBe(3);
    // Either one alone does it.
    const counted = await answer(peer.slash(sam, "stock adjust", { sku: "SKU-2", set: 5, reason: "count" }).id);
    expect(counted.embeds[0].description).toBe("SKU-2 set to 5: on hand 3 → 5, available 5.");
  });
});

describe("a member whose Discord is in Traditional Chinese (zh-TW)", () => {
  it("sees the command picker in Chinese, as the replies answer them: descriptions and choices", () => {
    const opts = registered();
    for (const path of ["stock", "stock adjust", "stock adjust delta", "refund request amount"]) {
      const o = opts.get(path)!;
      expect(o.description_localizations!["zh-TW"], path).toBe(o.description_localizations!["zh-CN"]);
    }
    const withChoices = [...opts].find(([, o]) => o.choices?.some((c) => c.name_localizations?.["zh-CN"]))!;
    for (const c of withChoices[1].choices!) expect(c.name_localizations?.["zh-TW"], withChoices[0]).toBe(c.name_localizations?.["zh-CN"]);
  });
});

describe("an alert channel where the bot may not post", () => {
  it("tells the admin in `alerts list` which permissions to give the bot in which channel", async () => {
    peer.failNext(/^POST \/channels\/\d+\/messages$/, 403, { message: "Missing Permissions", code: 50013 });
    await app.services.outbox.enqueue({ key: "alert:low:e16", kind: "alert", dest: { kind: "channel", platform: "discord", channel: peer.channelId }, reply: { text: "SKU-3 is low", visibility: "public" } });
    expect(await adapter.dispatchOutbox()).toEqual({ sent: 0, failed: 1 });
    // Still retried: an admin may fix it meanwhile.
    expect((await app.store.outbox.findById("alert:low:e16").lean())!.status).toBe("pending");
    clock.advance(30 * 60_000);
    const list = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "alerts list" });
    const stuck = JSON.stringify(list.reply.fields);
    expect(stuck).toContain(
      `Discord refused to post in channel ${peer.channelId} (Missing Permissions, 50013): in that channel's settings → Permissions, allow the bot View Channel, Send Messages, Embed Links and Attach Files (or ask a server admin to).`,
    );
    // In the shop's language.
    expect(translator("zh-CN")("discord.channel_permissions", { channel: "1", error: "x" })).toContain("查看频道、发送消息、嵌入链接 和 附加文件");
  });
});
