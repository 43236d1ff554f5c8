/** The Discord adapter's pure parts: settings, command lines rebuilt from options, embeds; and platform roles in the core. */
import { describe, expect, it, afterAll, beforeAll } from "vitest";
import { suggest } from "../adapters/discord/autocomplete.js";
import { buildCommandSet, commandLine, slashLine } from "../adapters/discord/commands.js";
import { actionRows, renderReply } from "../adapters/discord/embeds.js";
import { commandsOnce } from "../src/app.js";
import { usageOf } from "../src/core/registry.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { parseArgs, quote } from "../src/core/parser.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

describe("Discord settings", () => {
  it("are off without a token, and read with the role map when given", () => {
    expect(loadConfig({}).discord).toBeUndefined();
    const c = loadConfig({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_ROLE_MAP: "111111:manager, 222222:support" });
    expect(c.discord).toMatchObject({ applicationId: "123456789012", guildId: undefined, roleMap: { "111111": "manager", "222222": "support" } });
  });

  it("allow the servers of DISCORD_GUILD_IDS, else DISCORD_GUILD_ID alone, else any", () => {
    const base = { DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012" };
    expect(loadConfig(base).discord!.guildIds).toEqual([]);
    expect(loadConfig({ ...base, DISCORD_GUILD_ID: "555555555555" }).discord!.guildIds).toEqual(["555555555555"]);
    expect(loadConfig({ ...base, DISCORD_GUILD_IDS: "555555555555, 666666666666" }).discord!.guildIds).toEqual(["555555555555", "666666666666"]);
    expect(loadConfig({ ...base, DISCORD_GUILD_ID: "666666666666", DISCORD_GUILD_IDS: "555555555555,666666666666" }).discord).toMatchObject({ guildId: "666666666666", guildIds: ["555555555555", "666666666666"] });
  });

  it("name the variable and what it expects when wrong", () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad({ DISCORD_TOKEN: "x".repeat(40) })).toMatch(/DISCORD_APPLICATION_ID: required/);
    expect(bad({ DISCORD_APPLICATION_ID: "123456789012" })).toMatch(/DISCORD_TOKEN: required/);
    expect(bad({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "abc" })).toMatch(/DISCORD_APPLICATION_ID: expected the numeric application id/);
    expect(bad({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_ROLE_MAP: "111111:boss" })).toMatch(/DISCORD_ROLE_MAP: "111111:boss" is not roleId:role/);
    expect(bad({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_GUILD_IDS: "555555555555,my-server" })).toMatch(/DISCORD_GUILD_IDS: expected comma-separated numeric server ids/);
    expect(bad({ DISCORD_TOKEN: "x".repeat(40), DISCORD_APPLICATION_ID: "123456789012", DISCORD_GUILD_ID: "666666666666", DISCORD_GUILD_IDS: "555555555555" })).toMatch(/DISCORD_GUILD_IDS: does not include DISCORD_GUILD_ID \(666666666666\)/);
    expect(bad({ DISCORD_GUILD_IDS: "555555555555" })).toMatch(/DISCORD_TOKEN: required/);
  });
});

describe("command lines rebuilt from options", () => {
  it("read back through the core's parser as the same arguments", async () => {
    const set = buildCommandSet(await commandsOnce());
    const route = set.routes.get("stock adjust")!;
    const values = new Map<string, string | number | boolean>([["sku", "SKU-1"], ["delta", "-2"], ["reason", 'box "crushed" it\'s wet'], ["key", "k-1"]]);
    const line = commandLine(route, values);
    const p = parseArgs(line);
    expect(p.positional).toEqual(["stock", "adjust", "SKU-1", "-2"]);
    expect(p.named).toEqual({ reason: 'box "crushed" it\'s wet', key: "k-1" });
    // A base command's positionals go by name: `/stock show query:low` searches for "low".
    expect(commandLine(set.routes.get("stock show")!, new Map([["query", "wireless mouse"]]))).toBe('stock query="wireless mouse"');
    expect(commandLine(set.routes.get("stock show")!, new Map([["query", "low"]]))).toBe("stock query=low");
    expect(commandLine(set.routes.get("stock low")!, new Map([["limit", 5]]))).toBe("stock low limit=5");
  });

  it("hints in replies are shown as a Discord user types them; what is not a command line stays as it is", async () => {
    const set = buildCommandSet(await commandsOnce());
    const cases: [string, string | undefined][] = [
      ['stock adjust SKU-1 -2 reason="damaged in transit"', "/stock adjust sku:SKU-1 delta:-2 reason:damaged in transit"],
      ["stock SKU-1001", "/stock show query:SKU-1001"],
      ["stock low limit=5", "/stock low limit:5"],
      ["order ORD-1", "/order show order-no:ORD-1"],
      ["order search customer=CUST-9 status=paid,pending page=2", "/order search customer:CUST-9 status:paid,pending page:2"],
      ['complaint resolve C-7K2M9Q note="…"', '/complaint resolve id:C-7K2M9Q note:…'],
      ["complaint new order=ORD-1 lid broken on arrival", "/complaint new text:lid broken on arrival order:ORD-1"],
      // A usage line: its placeholders kept, options named as Discord names them.
      ["stock adjust <sku> (<+n|-n> | set=<n>) reason=<text> [key=<idempotency key>]", "/stock adjust sku:<sku> (delta:<+n|-n> | set:<n>) reason:<text> [key:<idempotency key>]"],
      ["complaint list [open|mine|overdue|unassigned] [page=<n>]", "/complaint list [which:open|mine|overdue|unassigned] [page:<n>]"],
      ["digest rebuild <from YYYY-MM-DD> [to YYYY-MM-DD]", "/digest rebuild from:<YYYY-MM-DD> [to:YYYY-MM-DD]"],
      ["coupon launch code=<CODE> type=<percent|fixed> value=<n> [skus=<a,b>|categories=<a,b>]", "/coupon launch code:<CODE> type:<percent|fixed> value:<n> [skus:<a,b>|categories:<a,b>]"],
      // Placeholders of several words, with | inside them.
      ["stock <sku | words>", "/stock show query:<sku | words>"],
      ["refund request <orderNo> <amount 金额|full 全额> reason=<原因>", "/refund request order-no:<orderNo> amount:<金额|full 全额> reason:<原因>"],
      // An unknown command, an option the command lacks: left for the reader.
      ["stock adjust <sku> colour=<red>", undefined],
      ["restock now", undefined],
      ["stock low colour=red", undefined],
      ['stock adjust "unclosed', undefined],
    ];
    for (const [line, want] of cases) expect(slashLine(set, line), line).toBe(want);
    // Every command's usage, in both languages, has its slash form.
    for (const locale of ["en", "zh-CN"] as const) for (const c of await commandsOnce()) expect(slashLine(set, usageOf(c, locale)), `${locale}: ${usageOf(c, locale)}`).toMatch(/^\//);
  });

  it("quote values that would otherwise split or look like options", () => {
    // `盖子 "坏了"…` holds every quote style, "…" '…' 「…」 『…』: it is kept exactly as typed.
    for (const v of ["a b", "a=b", "--all", "“引号”", "「x」 \"y\" 'z'", "保温杯 500ml", `盖子 "坏了" it's 「碎」『裂』`, '"', '""a""']) {
      const p = parseArgs(`x ${quote(v)}`);
      expect(p.positional.slice(1)).toEqual([v]);
      expect(p.named).toEqual({});
      expect(p.flags).toEqual({});
      // As an option's value too (`text=…`), as the Discord adapter sends it.
      expect(parseArgs(`x text=${quote(v)}`).named, v).toEqual({ text: v });
    }
  });
});

describe("generated application commands for refunds, coupons, orders, complaints and the digest", () => {
  type Opt = { name: string; type: number; required?: boolean; autocomplete?: boolean; choices?: { value: string }[]; options?: Opt[] };
  const defsOf = async () => buildCommandSet(await commandsOnce()).definitions as unknown as (Opt & { default_member_permissions: string | null; description_localizations: Record<string, string> })[];
  const sub = (top: Opt, name: string) => top.options!.find((o) => o.name === name)!;
  const shape = (o: Opt) => o.options!.map((x) => [x.name, x.required, x.autocomplete ?? false]);
  const choices = (o: Opt, name: string) => o.options!.find((x) => x.name === name)!.choices!.map((c) => c.value);

  it("have a subcommand per verb, required options first, record options with autocomplete, enums as choices", async () => {
    const defs = await defsOf();
    const top = (name: string) => defs.find((d) => d.name === name)!;
    const refund = top("refund");
    expect(refund.options!.map((o) => [o.name, o.type])).toEqual(["approve", "list", "policy", "reject", "request", "show"].map((n) => [n, 1]));
    expect(shape(sub(refund, "request"))).toEqual([["order-no", true, true], ["amount", true, false], ["reason", true, false]]);
    expect(shape(sub(refund, "approve"))).toEqual([["id", true, true], ["note", false, false]]);
    expect(choices(sub(refund, "list"), "which")).toEqual(["pending", "approvable", "mine", "all"]);
    const coupon = top("coupon");
    expect(coupon.options!.map((o) => o.name)).toEqual(["cancel", "confirm", "expire", "launch", "list", "pause", "resume", "show"]);
    expect(shape(sub(coupon, "show"))).toEqual([["code", true, true]]);
    expect(sub(coupon, "launch").options![0]).toMatchObject({ name: "code", required: true }); // a new code: no suggestions
    expect(sub(coupon, "launch").options![0]!.autocomplete).toBeUndefined();
    expect(choices(sub(coupon, "launch"), "type")).toEqual(["percent", "fixed"]);
    // Read leniently in chat (any case, Chinese names), still offered as choices here.
    expect(choices(sub(top("complaint"), "new"), "severity")).toEqual(["low", "normal", "high", "urgent"]);
    expect(choices(sub(top("complaint"), "list"), "which")).toEqual(["open", "mine", "overdue", "unassigned", "escalated", "resolved", "all"]);
    // Named in Chinese for Chinese members, as the cards name them.
    const severity = sub(top("complaint"), "new").options!.find((o) => o.name === "severity") as unknown as { choices: { value: string; name_localizations?: Record<string, string> }[] };
    expect(severity.choices.map((c) => c.name_localizations?.["zh-CN"])).toEqual(["低", "一般", "高", "紧急"]);
    const order = top("order");
    expect(order.options!.map((o) => o.name)).toEqual(["show", "cancel", "deliver", "search", "ship", "tracking"]);
    expect(shape(sub(order, "show"))).toEqual([["order-no", true, true]]);
    expect(shape(sub(order, "cancel"))).toEqual([["order-no", true, true], ["reason", true, false]]);
    const complaint = top("complaint");
    expect(shape(sub(complaint, "claim"))).toEqual([["id", true, true]]);
    const filed = sub(complaint, "new");
    expect(filed.options![0]).toMatchObject({ name: "text", required: true });
    expect(filed.options!.find((o) => o.name === "order")!.autocomplete).toBe(true);
    expect(choices(filed, "severity")).toEqual(["low", "normal", "high", "urgent"]);
    expect(choices(filed, "source")).toContain("discord");
    expect(choices(sub(complaint, "list"), "which")).toEqual(["open", "mine", "overdue", "unassigned", "escalated", "resolved", "all"]);
    // `digest` beside `digest subscribe|unsubscribe`: the base command becomes `/digest show`.
    const digest = top("digest");
    expect(digest.options!.map((o) => o.name).sort()).toEqual(["rebuild", "show", "subscribe", "unsubscribe"]);
    expect(sub(digest, "show").options!.map((o) => [o.name, o.type, o.required])).toEqual([["day", 3, false]]);
    expect(digest.description_localizations["zh-CN"]).toBeTruthy();
    // Staff reach every one of these; the core still checks each subcommand's role.
    for (const d of [refund, coupon, order, complaint, digest]) expect([d.name, d.default_member_permissions]).toEqual([d.name, null]);
  });
});

describe("option hints from the examples", () => {
  type Opt = { name: string; description: string; description_localizations?: Record<string, string>; required?: boolean; options?: Opt[]; choices?: { name: string; value: string | number; name_localizations?: Record<string, string> }[] };
  const walk = (o: Opt, path: string, out: [string, Opt][] = []): [string, Opt][] => {
    out.push([path, o]);
    for (const c of o.options ?? []) walk(c, `${path} ${c.name}`, out);
    return out;
  };

  it("are English in the descriptions and Chinese in the zh-CN localizations", async () => {
    const defs = buildCommandSet(await commandsOnce()).definitions as unknown as Opt[];
    const all = new Map(defs.flatMap((d) => walk(d, d.name)));
    const hint = (path: string) => [all.get(path)!.description, all.get(path)!.description_localizations!["zh-CN"]];
    // English as before; Chinese members see what to give in Chinese, with a Chinese sample.
    expect(hint("order cancel reason")).toEqual(["reason, e.g. customer changed their mind", "取消原因，例如 客户改主意了"]);
    expect(hint("order tracking reason")).toEqual(["reason, e.g. typo in the last digit", "更正原因，例如 最后一位输错了"]);
    expect(hint("complaint new text")).toEqual(["text, e.g. box arrived crushed, mug broken", "投诉内容，例如 外箱被压坏，杯子碎了"]);
    expect(hint("apikey create label")).toEqual(["label, e.g. storefront", "密钥名称，例如 官网商城"]);
    expect(hint("digest show day")).toEqual(["day, e.g. yesterday", "日期，例如 昨天"]);
    // Ids and SKUs are samples in both.
    expect(hint("stock adjust sku")).toEqual(["sku, e.g. SKU-1001", "SKU，例如 SKU-1001"]);
  });

  it("leave every definition within Discord's limits", async () => {
    const { definitions } = buildCommandSet(await commandsOnce());
    expect(definitions.length).toBeLessThanOrEqual(100);
    for (const d of definitions as unknown as Opt[]) {
      let chars = 0;
      for (const [path, o] of walk(d, d.name)) {
        expect(o.name, path).toMatch(/^[-_\p{Ll}\p{N}]{1,32}$/u);
        for (const text of [o.description, ...Object.values(o.description_localizations ?? {})]) {
          expect(text.length, `${path}: ${text}`).toBeGreaterThanOrEqual(1);
          expect(text.length, `${path}: ${text}`).toBeLessThanOrEqual(100);
        }
        expect((o.options ?? []).length, path).toBeLessThanOrEqual(25);
        const req = (o.options ?? []).map((x) => x.required ?? false);
        expect(req, `${path}: required options first`).toEqual([...req].sort((a, b) => Number(b) - Number(a)));
        for (const c of o.choices ?? []) expect([c.name, ...Object.values(c.name_localizations ?? {})].every((n) => n.length >= 1 && n.length <= 100), path).toBe(true);
        chars += o.name.length + Math.max(o.description.length, ...Object.values(o.description_localizations ?? {}).map((x) => x.length));
        for (const c of o.choices ?? []) chars += c.name.length + String(c.value).length;
      }
      expect(chars, d.name).toBeLessThanOrEqual(8000);
    }
  });
});

describe("embeds", () => {
  const opts = { fmt: new Formatter("en", "Asia/Shanghai", "CNY"), now: new Date("2026-11-25T04:00:00Z"), t: translator("en") };

  it("put buttons in rows of at most 5 and leave out ids longer than 100 characters", () => {
    const actions = Array.from({ length: 12 }, (_, i) => ({ id: `stock SKU-${i}`, label: `B${i}` }));
    const rows = actionRows([...actions, { id: "x".repeat(101), label: "too long" }]);
    expect(rows.map((r) => r.components.length)).toEqual([5, 5, 2]);
    expect(rows.flatMap((r) => r.components).every((b) => b.custom_id.length <= 100)).toBe(true);
  });

  it("render errors as ephemeral red embeds with the shop time in the footer, and tables in code blocks", () => {
    const err = renderReply({ status: "error", text: "No.", visibility: "public" }, opts);
    expect(err.ephemeral).toBe(true);
    expect(err.embeds[0]).toMatchObject({ color: 0xed4245, description: "No.", footer: { text: "2026-11-25 12:00 GMT+8" } });
    const rows = Array.from({ length: 400 }, (_, i) => [`SKU-${i}`, "A rather long product name for the table", String(i)]);
    const big = renderReply({ title: "Low", table: { columns: ["SKU", "Name", "Avail"], rows }, context: ["note"], visibility: "public" }, opts);
    expect(big.embeds[0]!.description!.length).toBeLessThanOrEqual(4096);
    expect(big.embeds[0]!.description).toMatch(/^```\nSKU/);
    expect(big.embeds[0]!.description).toMatch(/table cut to fit Discord: rows 1–\d+ of 400 shown/);
    expect(big.embeds[0]!.footer!.text).toBe("note · 2026-11-25 12:00 GMT+8");
    // A busy digest: a full table, many long fields and a long footer stay within Discord's
    // 6,000 characters for the whole embed (over it, Discord refuses the message).
    const fields = Array.from({ length: 8 }, (_, i) => ({ label: `Field ${i}`, value: `line ${i} `.repeat(200) }));
    const busy = renderReply({ title: "Daily digest", table: { columns: ["SKU", "Name", "Avail"], rows }, fields, context: ["flagged ".repeat(200)], visibility: "public" }, opts).embeds[0]!;
    const total = (busy.title?.length ?? 0) + (busy.description?.length ?? 0) + busy.footer!.text.length + busy.fields!.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(busy.fields).toHaveLength(8);
    expect(busy.description).toMatch(/^```\nSKU/);
    expect(busy.description).toMatch(/\n```\n\(table cut to fit Discord: rows 1–\d+ of 400 shown; [^)]*\)$/); // cut by whole rows, the block closed
    expect(busy.fields!.every((f) => f.value.length >= 64)).toBe(true);
  });
});

describe("autocomplete sources", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp();
    await app.store.products.insertMany([product("SKU-1", { name: "Mug" }), product("SKU-2", { name: "Green tea" }), product("SKU-3", { name: "保温杯（大号）" }), product("SKU-4", { name: "ＡＢＣ Tumbler" })]);
    // The order, coupon and complaint commands land on other branches: their collections are enough.
    await app.store.conn.collection("orders").insertMany([{ _id: "ORD-1001" }, { _id: "ORD-1002" }, { _id: "X-1" }] as never[]);
    await app.store.conn.collection("coupons").insertMany([{ _id: "SPRING10" }, { _id: "SUMMER5" }] as never[]);
    await app.store.conn.collection("complaints").insertMany([{ _id: "C-7", text: "Late delivery" }] as never[]);
    await app.store.conn.collection("refund_requests").insertMany([{ _id: "R-ABC123", orderNo: "ORD-1002" }] as never[]);
  });
  afterAll(() => app.close());

  it("suggest records by key prefix or label for sku, order, coupon and complaint arguments", async () => {
    expect(await suggest(app.store, "stock adjust", "sku", "tea")).toEqual([{ name: "SKU-2 · Green tea", value: "SKU-2" }]);
    // Orders latest (highest number) first.
    expect((await suggest(app.store, "order", "orderNo", "ord-")).map((c) => c.value)).toEqual(["ORD-1002", "ORD-1001"]);
    expect((await suggest(app.store, "coupon disable", "code", "sp")).map((c) => c.value)).toEqual(["SPRING10"]);
    expect(await suggest(app.store, "complaint claim", "id", "late")).toEqual([{ name: "C-7 · Late delivery", value: "C-7" }]);
    expect(await suggest(app.store, "refund approve", "id", "ord-1002")).toEqual([{ name: "R-ABC123 · ORD-1002", value: "R-ABC123" }]);
    // Typed as the commands take them: without the key's prefix, full-width.
    expect((await suggest(app.store, "order", "orderNo", "1002")).map((c) => c.value)).toEqual(["ORD-1002"]);
    expect((await suggest(app.store, "order", "orderNo", "１００")).map((c) => c.value)).toEqual(["ORD-1002", "ORD-1001"]);
    for (const typed of ["7", "ｃ－７", "c-7"]) expect((await suggest(app.store, "complaint claim", "id", typed)).map((c) => c.value), typed).toEqual(["C-7"]);
    expect(await suggest(app.store, "digest", "day", "2026")).toEqual([]); // no source: no suggestions
    // Names as the shop wrote them, found by the words typed in either width, as `stock <words>` finds them.
    expect((await suggest(app.store, "stock", "query", "保温杯(大号)")).map((c) => c.value)).toEqual(["SKU-3"]);
    expect((await suggest(app.store, "stock", "query", "abc tumbler")).map((c) => c.value)).toEqual(["SKU-4"]);
    expect((await suggest(app.store, "stock", "query", "tumbler ａｂｃ")).map((c) => c.value)).toEqual(["SKU-4"]);
    // A regex in what the user types is taken literally.
    expect(await suggest(app.store, "stock", "query", ".*")).toEqual([]);
  });
});

describe("platform roles in the core", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp();
    await app.store.products.insertMany([product("SKU-1")]);
    await app.services.identity.grant("discord:123456789", "manager", "shell:admin");
  });
  afterAll(() => app.close());

  it("grant the higher of the stored role and the platform's, and the core still decides", async () => {
    const run = (identity: string, platformRole?: "staff" | "viewer") =>
      app.core.invoke({ identity, platform: "discord", text: "stock adjust SKU-1 +1 reason=x", ...(platformRole ? { platformRole } : {}) });
    expect((await run("discord:987654321")).outcome).toBe("denied");
    expect((await run("discord:987654321", "staff")).outcome).toBe("ok");
    // A lower platform role never lowers a stored one.
    expect((await run("discord:123456789", "viewer")).outcome).toBe("ok");
    expect((await app.core.invoke({ identity: "discord:987654321", platform: "discord", text: "role list", platformRole: "staff" })).outcome).toBe("denied");
  });
});
