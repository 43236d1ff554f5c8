import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/core/logger.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

describe("apikey commands", () => {
  it("creates a key shown once to the admin, stored only as its sha256", async () => {
    const r = await app.run("shell:admin", "apikey create storefront scopes=orders,inventory");
    expect(r.outcome).toBe("ok");
    expect(r.reply.visibility).toBe("ephemeral");
    const token = /shopops_k[0-9A-Z]{10}_[A-Za-z0-9_-]{43}/.exec(r.reply.text!)?.[0];
    expect(token).toBeDefined();
    const id = token!.split("_")[1]!;
    const doc = await app.store.apiKeys.findById(id).lean();
    expect(doc).toMatchObject({ label: "storefront", scopes: ["orders", "inventory"], createdBy: "shell:admin" });
    expect(doc!.hash).toBe(createHash("sha256").update(token!).digest("hex"));
    // The secret is base64url, so it may itself hold "_": everything after the id.
    const secret = token!.slice(`shopops_${id}_`.length);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(doc)).not.toContain(secret);
    // The audit trail records the command, never the token.
    const audit = await app.store.audit.findById(r.ref).lean();
    expect(audit).toMatchObject({ command: "apikey create", outcome: "ok" });
    expect(JSON.stringify(audit)).not.toContain(token!);
    expect(await app.services.apiKeys.authenticate(token!)).toMatchObject({ id, label: "storefront" });

    const list = await app.run("shell:admin", "apikey list");
    expect(list.reply.table!.rows[0]!.slice(0, 3)).toEqual([id, "storefront", "orders,inventory"]);
    expect(JSON.stringify(list.reply)).not.toContain(token!);

    const revoked = await app.run("shell:admin", `apikey revoke ${id}`);
    expect(revoked.reply.text).toBe(`API key ${id} is revoked; requests with it now get 401.`);
    expect(await app.services.apiKeys.authenticate(token!)).toBeNull();
    expect((await app.run("shell:admin", `apikey revoke ${id}`)).reply.text).toMatch(/already revoked/);
    expect((await app.run("shell:admin", "apikey list")).reply.table!.rows[0]![5]).toMatch(/^revoked/);
  });

  it("a created token's secret never reaches a log line (message, fields, errors)", async () => {
    const r = await app.run("shell:admin", "apikey create logged scopes=orders");
    const token = /shopops_k[0-9A-Z]{10}_[A-Za-z0-9_-]{43}/.exec(r.reply.text!)![0];
    const id = token.split("_")[1]!;
    const secret = token.slice(`shopops_${id}_`.length);
    const lines: string[] = [];
    const log = createLogger("debug", {}, (l) => lines.push(l)).child({ component: "test" });
    log.debug(`reply sent: ${r.reply.text!}`, { reply: r.reply, nested: { list: [token] } });
    log.error("delivery failed", { error: new Error(`could not post ${token}`) });
    const all = lines.join("\n");
    expect(all).not.toContain(secret);
    expect(all).toContain(`shopops_${id}_[redacted]`);
  });

  it("takes scopes separated as a Chinese keyboard types them, and a key id typed full-width or in another case", async () => {
    for (const [label, scopes] of [["客服系统", "orders，complaints"], ["仓库", "orders、inventory"], ["ERP", "ORDERS,Ｐroducts"]] as const) {
      const r = await app.run("shell:admin", `apikey create ${label} scopes=${scopes}`);
      expect(r.outcome, r.reply.text).toBe("ok");
    }
    expect((await app.store.apiKeys.findOne({ label: "客服系统" }).lean())!.scopes).toEqual(["orders", "complaints"]);
    expect((await app.store.apiKeys.findOne({ label: "仓库" }).lean())!.scopes).toEqual(["orders", "inventory"]);
    expect((await app.store.apiKeys.findOne({ label: "ERP" }).lean())!.scopes).toEqual(["orders", "products"]);
    const zh = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "apikey create 工单 scopes=complaints、refunds", locale: "zh-CN" });
    expect(zh.reply.text).toContain("complaints、refunds");
    const id = (await app.store.apiKeys.findOne({ label: "仓库" }).lean())!._id;
    const wide = id.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const revoked = await app.run("shell:admin", `apikey revoke ${wide}`);
    expect(revoked.reply.text).toBe(`API key ${id} is revoked; requests with it now get 401.`);
    expect((await app.run("shell:admin", `apikey revoke ${id.toUpperCase()}`)).reply.text).toBe(`API key ${id} was already revoked, on 2026-11-25 12:00 GMT+8 by shell:admin; nothing changed.`);
    // Not an id: says what one looks like and where to find it.
    const bad = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "apikey revoke 仓库", locale: "zh-CN" });
    expect(bad.reply.text).toContain("\"仓库\" 不是 API 密钥编号：k 加 10 个字母或数字，例如 k7M2Q9XH4RA。`apikey list` 可查看编号。");
    expect((await app.run("shell:admin", "apikey revoke k123")).reply.text).toContain('"k123" is not an API key id: a k and 10 letters or digits, e.g. k7M2Q9XH4RA. `apikey list` shows the ids.');
  });

  it("refuses unknown scopes and non-admins, and changes nothing", async () => {
    const bad = await app.run("shell:admin", "apikey create helpdesk scopes=orders,everything");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toMatch(/"everything" is not a scope/);
    const denied = await app.run("shell:mia", "apikey create helpdesk scopes=complaints");
    expect(denied.outcome).toBe("denied");
    expect(await app.store.apiKeys.countDocuments({ label: "helpdesk" })).toBe(0);
    expect((await app.run("shell:admin", "apikey revoke kZZZZZZZZZZ")).code).toBe("unknown_key");
  });

  it("names the key made or revoked in the audit trail, so audit subject=<key id> ties a key to who made it", async () => {
    const made = await app.run("shell:admin", "apikey create dup scopes=orders");
    const id = /shopops_(k[0-9A-Z]{10})_/.exec(made.reply.text!)![1]!;
    await app.run("shell:admin", "apikey create dup scopes=orders");
    await app.run("shell:admin", `apikey revoke ${id.toLowerCase()}`);
    const rows = (await app.run("shell:admin", `audit subject=${id}`)).reply.table!.rows.map((r) => r[2]);
    expect(rows).toHaveLength(2);
    expect(rows.join("\n")).toMatch(/apikey revoke/);
    expect(rows.join("\n")).toMatch(new RegExp(`apikey create ${id} · dup`));
  });

  it("takes a label typed decomposed (as pasted text often is) or with marks, stored composed", async () => {
    const r = await app.run("shell:admin", "apikey create \"Cafe\u0301 webhook\" scopes=orders");
    expect(r.outcome).toBe("ok");
    expect(await app.store.apiKeys.countDocuments({ label: "Café webhook" })).toBe(1);
    expect((await app.run("shell:admin", "apikey create हिंदी scopes=orders")).outcome).toBe("ok");
  });

  it("a pasted key as a line is not echoed back in the unknown-command reply", async () => {
    const r = await app.run("shell:admin", "shopops_kJWZESCZEB0_qQxH1yUQ1dc-YKJIpvszoFb4puoDBqEpeYe_Tjlacmw");
    expect(r.code).toBe("unknown_command");
    expect(r.reply.text).not.toContain("qQxH1y");
    expect(r.reply.text).toContain("[redacted]");
  });
});
