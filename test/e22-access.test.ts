/**
 * Access and compliance pass (e22), as a Chinese shop's admin: API key scopes typed by their
 * Chinese names (`scopes=订单，商品`) make the key with those scopes, audited; a word that is
 * no scope is refused naming the Chinese names too, and no key is made. The Slack manifest's
 * descriptions (shown to everyone typing `/` in Slack) follow SHOP_LOCALE, as replies do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locale } from "../src/core/messages.js";
import { makeTestApp, withCast, USUAL_CAST, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

let app: TestApp;

beforeAll(async () => {
  app = await withCast(makeTestApp(), USUAL_CAST);
});

afterAll(async () => {
  await app?.close();
});

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" as Locale });

describe("apikey create with the scopes' Chinese names", () => {
  it("scopes=订单，商品 makes a key with orders and products, shown once and on the audit trail under its id", async () => {
    const r = await zh("shell:admin", "apikey create 官网商城 scopes=订单，商品");
    expect([r.outcome, r.code]).toEqual(["ok", undefined]);
    const id = /已创建 API 密钥 (k[0-9A-Z]{10})/.exec(r.reply.title ?? "")?.[1];
    expect(id).toBeDefined();
    expect(r.reply.text).toContain("标签 官网商城，权限范围 orders、products。");
    const list = await app.run("shell:admin", "apikey list");
    expect(list.reply.table?.rows.find((row) => row[0] === id)?.slice(1, 3)).toEqual(["官网商城", "orders,products"]);
    const trail = await app.run("shell:mia", `audit subject=${id}`);
    expect(trail.reply.table?.rows.map((row) => [row[1], row[3]])).toEqual([["shell:admin", "ok"]]);
    // In English as well, mixed with the English names, in any order.
    const en = await app.run("shell:admin", "apikey create helpdesk scopes=complaints,退款,库存");
    expect(en.outcome).toBe("ok");
    expect(en.reply.text).toContain("Label helpdesk, scopes complaints, refunds, inventory.");
  });

  it("a word that is no scope is refused naming the Chinese names too; no key is made", async () => {
    const before = (await app.run("shell:admin", "apikey list")).reply.table?.rows.length ?? 0;
    const r = await zh("shell:admin", "apikey create 店铺 scopes=订单,客户");
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toBe(
      '`apikey create` 的参数无效：\n• scopes=: "客户" 不是有效的权限范围（在 "订单,客户" 中）。可选：orders、products、inventory、complaints、refunds（用逗号分隔，例如 scopes=orders,products；也可写中文：订单、商品、库存、投诉、退款）。',
    );
    expect((await app.run("shell:admin", "apikey list")).reply.table?.rows.length ?? 0).toBe(before);
  });
});

describe("the Slack manifest follows SHOP_LOCALE", () => {
  const MANIFEST = "adapters/slack/manifest.ts";

  it("SHOP_LOCALE=zh-CN prints the app's and the commands' descriptions in Chinese; unset, in English", async () => {
    const cn = await runScript(MANIFEST, [], { SHOP_LOCALE: "zh-CN" });
    expect([cn.code, cn.stderr]).toEqual([0, ""]);
    expect(cn.stdout.split("\n")[0]).toBe("# shopops Slack app manifest, generated from commands/ (Socket Mode, descriptions in zh-CN from SHOP_LOCALE).");
    expect(cn.stdout).toContain('description: "电商运营的聊天运维：库存、订单、退款、优惠券、投诉与销售日报。"');
    expect(cn.stdout).toContain('description: "运行任意 shopops 命令（试试 /ops help）"');
    expect(cn.stdout).toContain('description: "apikey 相关命令：create、list、revoke"');
    const en = await runScript(MANIFEST, [], {});
    expect(en.code).toBe(0);
    expect(en.stdout).toContain('description: "Run any shopops command (try /ops help)"');
  }, 120_000);

  it("a SHOP_LOCALE the bot would refuse is refused (exit 78) naming the one meant; no manifest printed", async () => {
    const r = await runScript(MANIFEST, [], { SHOP_LOCALE: "zh_cn" });
    expect([r.code, r.stdout, r.stderr]).toEqual([78, "", 'slack:manifest: SHOP_LOCALE: expected en or zh-CN; got "zh_cn" (did you mean zh-CN?)\n']);
  }, 120_000);
});

describe("audit before=now", () => {
  it("lists the entries made this very instant, as its note says it leaves nothing out (en, zh)", async () => {
    // The test clock stands still: the grant is stamped with the instant `now` reads.
    await app.run("shell:admin", "role grant shell:lin support");
    const r = await app.run("shell:mia", "audit before=now subject=shell:lin");
    expect(r.reply.text).not.toBe("No audit entries match.");
    expect(r.reply.table?.rows.map((row) => [row[1], row[2], row[3]])).toEqual([["shell:admin", "role grant shell:lin support", "ok"]]);
    expect(r.reply.context).toEqual([expect.stringMatching(/^before=now is 2026-11-25 12:00 GMT\+8, not in the past .*it leaves nothing out, so every entry so far is listed/)]);
    const cn = await zh("shell:mia", "audit before=now subject=shell:lin");
    expect(cn.reply.table?.rows.map((row) => row[3])).toEqual(["成功"]);
    expect(cn.reply.context?.[0]).toContain("它不排除任何记录，因此列出至今的全部记录");
  });
});
