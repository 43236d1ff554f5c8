/**
 * Compliance and least privilege, used as a demanding admin and auditor would (issue #2):
 * identities typed as people paste them, typos in roles, scopes, alert types and outcomes
 * answered with the one meant (nothing changed), an audit window given backwards refused, an
 * identity found as a subject in any case, a second key of one label and a second revoke said.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locale } from "../src/core/messages.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
});
afterAll(() => app.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" as Locale });
const entry = (ref: string) => app.store.audit.findById(ref).lean();
const DISCORD = "123456789012345678";

describe("identities typed as people paste them", () => {
  it("a platform in any case, a Slack id in lower case and a Discord mention are the identity as stored; each change audited so", async () => {
    const slack = await app.run("shell:admin", "role grant Slack:t1:u2 manager");
    expect([slack.outcome, slack.reply.text]).toEqual(["ok", "slack:T1:U2 is now manager (was viewer)."]);
    const discord = await app.run("shell:admin", `role grant discord:<@${DISCORD}> staff`);
    expect([discord.outcome, discord.reply.text]).toEqual(["ok", `discord:${DISCORD} is now staff (was viewer).`]);
    expect((await app.run("shell:admin", `role grant Discord:<@!${DISCORD}> staff`)).code).toBe("already_granted");
    expect((await app.store.roles.find().sort({ _id: 1 }).lean()).map((r) => [r._id, r.role])).toEqual([
      [`discord:${DISCORD}`, "staff"],
      ["slack:T1:U2", "manager"],
    ]);
    const link = await app.run("shell:admin", `role link SLACK:T1:U2 discord:<@${DISCORD}>`);
    expect([link.outcome, link.reply.text]).toEqual(["ok", `slack:T1:U2 and discord:${DISCORD} are now one person: discord:${DISCORD}, slack:T1:U2. Refund approval rules treat them as one approver; roles stay per identity.`]);
    expect(await app.services.identity.linked("slack:T1:U2")).toEqual([`discord:${DISCORD}`, "slack:T1:U2"]);
    // Both ways: the link is there, however typed.
    expect((await app.run("shell:admin", `role link discord:${DISCORD} slack:t1:u2`)).code).toBe("already_linked");
    // The trail names the identity as stored: who changed slack:T1:U2's role and links.
    expect(await entry(slack.ref)).toMatchObject({ actor: "shell:admin", platform: "shell", command: "role grant", args: "Slack:t1:u2 manager", outcome: "ok", subject: "slack:T1:U2", at: app.clock.now() });
    expect(await entry(link.ref)).toMatchObject({ outcome: "ok", subject: ["slack:T1:U2", `discord:${DISCORD}`] });
    const unlink = await app.run("shell:admin", "role unlink SLACK:t1:U2");
    expect([unlink.outcome, unlink.reply.text]).toEqual(["ok", `slack:T1:U2 is its own person again; it is no longer linked to discord:${DISCORD}.`]);
    expect((await app.run("shell:admin", "role revoke slack:t1:u2")).reply.text).toBe("slack:T1:U2 no longer has a role; they are a viewer now (was manager).");
    // A shell name keeps its case: shell:Bob is not shell:bob.
    expect((await app.run("shell:admin", "role grant SHELL:Bob support")).reply.text).toBe("shell:Bob is now support (was viewer).");
  });

  it("a Slack user without its workspace is refused saying so (en, zh), nothing stored, the attempt audited naming it", async () => {
    const before = await app.store.roles.countDocuments();
    const r = await app.run("shell:admin", "role grant slack:U123 manager");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      "Invalid arguments for `role grant`:\n• <identity>: \"slack:U123\" names no Slack workspace: a Slack identity is slack:<TEAM>:<USER>, e.g. slack:T0123ABCD:U0456EFGH (`whoami` in Slack shows yours: the team id starts with T).",
    ]);
    expect((await zh("shell:admin", "role link Slack:u123 shell:bob")).reply.text).toContain(
      "\"Slack:u123\" 没有写明 Slack 工作区：Slack 身份的格式是 slack:<团队>:<用户>，例如 slack:T0123ABCD:U0456EFGH（在 Slack 中运行 `whoami` 可查看自己的身份：团队 ID 以 T 开头）。",
    );
    // Other malformed identities keep their message.
    expect((await app.run("shell:admin", "role grant bob manager")).reply.text).toContain('"bob" is not an identity.');
    expect(await app.store.roles.countDocuments()).toBe(before);
    expect(await entry(r.ref)).toMatchObject({ command: "role grant", args: "slack:U123 manager", outcome: "user_error", code: "invalid_args" });
  });
});

describe("typos answered with the value meant, nothing changed", () => {
  it("a role, an alert type or platform, an outcome a letter or two off names the one meant (en, zh)", async () => {
    const roles = await app.store.roles.countDocuments();
    const grant = await app.run("shell:admin", "role grant shell:mia mangaer");
    expect(grant.reply.text).toBe("Invalid arguments for `role grant`:\n• <role>: \"mangaer\" is not a role: did you mean manager? Roles: viewer, staff, support, manager, admin.");
    expect((await zh("shell:admin", "role grant shell:mia mangaer")).reply.text).toContain("\"mangaer\" 不是有效的角色：你是不是想输入 manager？");
    expect((await app.run("shell:admin", "role list role=admn")).reply.text).toContain("\"admn\" is not a role: did you mean admin?");
    // Nothing near: the list of roles, as before.
    expect((await app.run("shell:admin", "role grant shell:mia boss")).reply.text).toContain("\"boss\" is not a role. Roles:");
    expect(await app.store.roles.countDocuments()).toBe(roles);

    const routes = await app.store.alertRoutes.countDocuments();
    const route = await app.run("shell:admin", "alerts route low_stok slak C0123ABCD");
    expect(route.reply.text).toBe(
      "Invalid arguments for `alerts route`:\n• <type>: \"low_stok\" is not an alert type: did you mean low_stock? Types: low_stock, complaints, sla, digest, refunds, coupons.\n• <platform>: \"slak\" is not a platform alerts can go to: did you mean slack? Platforms: shell, slack or discord.",
    );
    expect((await zh("shell:admin", "alerts route lowstock slack off")).reply.text).toContain("\"lowstock\" 不是告警类型：你是不是想输入 low_stock？");
    expect(await app.store.alertRoutes.countDocuments()).toBe(routes);
    // A hyphen or a space for the underscore is the type.
    const hyphen = await app.run("shell:admin", "alerts route low-stock slack C0123ABCD");
    expect([hyphen.outcome, hyphen.reply.text]).toEqual(["ok", "low_stock alerts on slack now go to C0123ABCD."]);
    expect(await entry(hyphen.ref)).toMatchObject({ command: "alerts route", args: "low-stock slack C0123ABCD (off → C0123ABCD)", outcome: "ok" });

    expect((await app.run("shell:admin", "audit outcome=denid")).reply.text).toContain("\"denid\" is not an outcome: did you mean denied?");
    expect((await app.run("shell:admin", "audit outcome=user-error")).outcome).toBe("ok");
  });

  it("scopes=order names orders and the list written with it (en, zh); no key is made", async () => {
    const keys = await app.store.apiKeys.countDocuments();
    const r = await app.run("shell:admin", "apikey create storefront scopes=order");
    expect(r.reply.text).toBe(
      "Invalid arguments for `apikey create`:\n• scopes=: \"order\" is not a scope: did you mean orders (scopes=orders)? No key was created. Scopes: orders, products, inventory, complaints, refunds (comma-separated).",
    );
    expect((await zh("shell:admin", "apikey create 官网 scopes=order,products")).reply.text).toContain("\"order\" 不是有效的权限范围：你是不是想输入 orders（scopes=orders,products）？未创建密钥。");
    // Two unknown, or one with nothing near: named as before.
    expect((await app.run("shell:admin", "apikey create storefront scopes=orders,bogus")).reply.text).toContain('"bogus" is not a scope (in "orders,bogus")');
    expect(await app.store.apiKeys.countDocuments()).toBe(keys);
    expect(await entry(r.ref)).toMatchObject({ command: "apikey create", outcome: "user_error", code: "invalid_args" });
  });
});

describe("audit: a window given backwards, an identity in any case, a partial actor", () => {
  it("since= at or after before= is refused saying which is which (en, zh), not answered as nothing done", async () => {
    await app.run("shell:admin", "role grant shell:ann staff");
    const swapped = await app.run("shell:admin", "audit since=2026-11-25 before=2026-11-24");
    expect([swapped.outcome, swapped.code, swapped.reply.text]).toEqual([
      "user_error",
      "empty_window",
      "since= is 2026-11-25 00:00 GMT+8 and before= is 2026-11-24 00:00 GMT+8: no entry is made at or after the first and before the second, so none could match. since= starts the window and before= ends it: give before= the later time (since=yesterday before=today).",
    ]);
    expect((await zh("shell:admin", "audit since=今天 before=今天")).reply.text).toBe(
      "since= 是 2026-11-25 00:00 GMT+8，before= 是 2026-11-25 00:00 GMT+8：没有记录会在前者当时或之后、又在后者之前产生，因此不可能有符合条件的记录。since= 是时间段的开始，before= 是结束：请把较晚的时间给 before=（例如 since=昨天 before=今天）。",
    );
    // The right way round lists the day's entries.
    const day = await app.run("shell:admin", "audit since=2026-11-25 before=2026-11-26 command=role");
    expect(day.reply.table!.rows.length).toBeGreaterThan(0);
  });

  it("subject= finds an identity's role changes typed in any case; actor= of a bare name says what it takes", async () => {
    const grant = await app.run("shell:admin", "role grant shell:zoe staff");
    const denied = await app.run("shell:zoe", "role grant shell:zoe admin");
    expect(denied.outcome).toBe("denied");
    const any = await app.run("shell:admin", "audit subject=SHELL:ZOE");
    expect(any.reply.table!.rows.map((r) => r[4]).sort()).toEqual([denied.ref, grant.ref].sort());
    expect(any.reply.table!.rows.find((r) => r[4] === denied.ref)!.slice(1, 4)).toEqual(["shell:zoe", "role grant shell:zoe admin", "denied (permission_denied)"]);
    const partial = await app.run("shell:admin", "audit actor=zoe");
    expect([partial.reply.text, partial.reply.context]).toEqual([
      "No audit entries match.",
      ["actor= matches a whole identity, and \"zoe\" is none: give it with its platform (actor=shell:bob, actor=slack:T0123:U0456, actor=discord:123456789012345678), actor=api:<key label>, or actor=system. `role list` shows the identities."],
    ]);
    expect((await zh("shell:admin", "audit actor=zoe")).reply.context).toEqual([expect.stringContaining("actor= 需要完整的身份，\"zoe\" 不是")]);
    // A Discord mention as actor= finds that identity.
    await app.core.invoke({ identity: `discord:${DISCORD}`, platform: "discord", text: "apikey list" });
    const mention = await app.run("shell:admin", `audit actor=discord:<@${DISCORD}> outcome=denied`);
    expect(mention.reply.table!.rows[0]!.slice(1, 6)).toEqual([`discord:${DISCORD}`, "apikey list", "denied (permission_denied)", expect.any(String), "discord"]);
  });
});

describe("apikey: a second key of one label, a second revoke, the token once", () => {
  it("says which active keys share the label (en, zh) and who revoked a key already revoked", async () => {
    const first = await app.run("shell:admin", "apikey create helpdesk scopes=complaints");
    expect(first.reply.context).toBeUndefined();
    const second = await app.run("shell:admin", "apikey create helpdesk scopes=complaints");
    const idOf = (title?: string) => /k[0-9A-Z]{10}/.exec(title ?? "")![0];
    const [firstId, secondId] = [idOf(first.reply.title), idOf(second.reply.title)];
    expect((await app.store.apiKeys.find({ label: "helpdesk" }).lean()).map((k) => k._id).sort()).toEqual([firstId, secondId].sort());
    expect(second.reply.context).toEqual([
      `Another active key is labelled helpdesk too: ${firstId}. Their requests are told apart by key id on the audit trail (\`audit actor=api:helpdesk\` lists them all); if this key replaces it, revoke it with \`apikey revoke <id>\` once the new key is in use.`,
    ]);
    // The token: in the reply once, nowhere on the trail or in the list.
    const token = /shopops_k[0-9A-Z]{10}_[A-Za-z0-9_-]{43}/.exec(second.reply.text!)![0];
    expect(JSON.stringify(await entry(second.ref))).not.toContain(token.slice(-20));
    expect(JSON.stringify((await app.run("shell:admin", "apikey list")).reply)).not.toContain(token.slice(-20));
    expect((await app.run("shell:admin", `apikey revoke ${firstId}`)).outcome).toBe("ok");
    // A revoked key of the label is not named.
    const zh3 = await zh("shell:admin", "apikey create helpdesk scopes=complaints");
    expect(zh3.reply.context).toEqual([`另有有效密钥也使用标签 helpdesk：${secondId}。审计记录中按密钥编号区分它们的请求（\`audit actor=api:helpdesk\` 可列出全部）；如果新密钥是用来替换它们的，请在新密钥启用后用 \`apikey revoke <编号>\` 撤销旧密钥。`]);

    await app.services.identity.grant("shell:ops2", "admin", "shell:admin");
    const again = await app.run("shell:ops2", `apikey revoke ${firstId.toLowerCase()}`);
    expect([again.outcome, again.code, again.reply.text]).toEqual(["ok", "already_revoked", `API key ${firstId} was already revoked, on 2026-11-25 12:00 GMT+8 by shell:admin; nothing changed.`]);
    expect((await zh("shell:ops2", `apikey revoke ${firstId}`)).reply.text).toBe(`API 密钥 ${firstId} 已于 2026-11-25 12:00 GMT+8 由 shell:admin 撤销，未做任何更改。`);
    expect(await entry(again.ref)).toMatchObject({ actor: "shell:ops2", command: "apikey revoke", outcome: "ok", code: "already_revoked", subject: firstId });
    expect((await app.store.apiKeys.findById(firstId).lean())!.revokedBy).toBe("shell:admin");
  });
});
