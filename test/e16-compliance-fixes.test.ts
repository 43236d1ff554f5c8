/**
 * Compliance leftovers (issue #2): `audit ref=` refuses paging beside it, `role list` shows a
 * bootstrap admin with a stored role once (saying both) and counts its rows right, and its
 * "Linked" line reads the links of the page's identities, whole however many links there are.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locale } from "../src/core/messages.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  // shell:boss is a configured admin who also has a stored role (granted before it was configured).
  app = await makeTestApp({ SHOPOPS_ADMINS: "shell:admin,shell:boss" });
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.store.roles.create({ _id: "shell:boss", role: "manager", grantedBy: "shell:mia", grantedAt: new Date("2026-11-01T00:00:00Z") });
  await app.store.roles.create({ _id: "shell:admin", role: "admin", grantedBy: "shell:admin", grantedAt: new Date("2026-11-01T00:00:00Z") });
});
afterAll(() => app.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" as Locale });

describe("audit ref= with paging beside it", () => {
  it("limit= or page= beside ref= is refused, naming them, as a filter is; nothing is recorded", async () => {
    const ref = await app.services.audit.add({ ref: "E16REF0001", at: app.clock.now(), actor: "shell:admin", platform: "shell", command: "stock adjust", args: "SKU-1 +1 reason=x", outcome: "ok" });
    await app.services.audit.add({ ref: "E16REF0000", at: new Date(app.clock.now().getTime() - 60_000), actor: "shell:admin", platform: "shell", command: "stock adjust", args: "SKU-1 -1 reason=x", outcome: "ok" });
    const before = await app.store.audit.countDocuments();
    const limit = await app.run("shell:mia", `audit ref=${ref} limit=5`);
    expect([limit.code, limit.outcome, limit.reply.text]).toEqual([
      "ref_alone",
      "user_error",
      "ref= shows one entry whole and takes no filter, limit=, page= or from= beside it; drop limit=, or list entries with the filters and no ref=.",
    ]);
    const both = await app.run("shell:mia", `audit ref=${ref} page=2 limit=20`);
    expect([both.code, both.reply.text]).toEqual(["ref_alone", expect.stringContaining("drop limit=, page=")]);
    expect((await zh("shell:mia", `audit ref=${ref} page=1`)).reply.text).toBe("ref= 完整显示一条记录，不能同时使用其他筛选条件、limit=、page= 或 from=；请去掉 page=，或不带 ref= 按条件列出记录。");
    expect(await app.store.audit.countDocuments()).toBe(before);
    // Alone it shows the entry; without ref= the paging is as before.
    expect((await app.run("shell:mia", `audit ref=${ref}`)).reply.title).toBe(`Audit entry ${ref}`);
    expect((await app.run("shell:mia", "audit limit=1")).reply.context).toEqual(expect.arrayContaining(["Next page: `audit before=E16REF0001 limit=1 page=2`"]));
  });
});

describe("role list: a configured admin with a stored role", () => {
  it("is one row saying both (en, zh), and the rows are counted once", async () => {
    const list = await app.run("shell:admin", "role list");
    const rows = list.reply.table!.rows;
    expect(rows.map((r) => r[0])).toEqual(["shell:admin", "shell:boss", "shell:mia"]);
    expect(rows[0]!.slice(1)).toEqual(["admin", "SHOPOPS_ADMINS", "—"]);
    expect(rows[1]!.slice(1, 3)).toEqual(["admin (configured; stored: manager)", "SHOPOPS_ADMINS; stored by shell:mia"]);
    expect((await zh("shell:admin", "role list")).reply.table!.rows[1]!.slice(1, 3)).toEqual(["管理员（admin），来自配置；存储的角色：经理（manager）", "SHOPOPS_ADMINS；存储的角色由 shell:mia 授予"]);
    // Paged: three rows in all, not five.
    const page = await app.run("shell:admin", "role list limit=2");
    expect(page.reply.table!.rows.map((r) => r[0])).toEqual(["shell:admin", "shell:boss"]);
    expect(page.reply.context).toEqual(["Rows 1–2 of 3: bootstrap admins first, then by identity.", "Next page: `role list limit=2 page=2`"]);
    const second = await app.run("shell:admin", "role list limit=2 page=2");
    expect(second.reply.table!.rows.map((r) => r[0])).toEqual(["shell:mia"]);
    expect(second.reply.context).toEqual(["Rows 3–3 of 3: bootstrap admins first, then by identity."]);
    // By role: a configured admin is an admin, listed once, not among the managers.
    expect((await app.run("shell:admin", "role list role=admin")).reply.table!.rows.map((r) => r[0])).toEqual(["shell:admin", "shell:boss"]);
    expect((await app.run("shell:admin", "role list role=manager")).reply.table!.rows.map((r) => r[0])).toEqual(["shell:mia"]);
  });
});

describe("role list: linked identities past 5,000 links", () => {
  it("names the links of the identities on the page however many links there are", async () => {
    const at = new Date("2026-11-01T00:00:00Z");
    // 5,100 links of other people (pairs), all sorting before the page's.
    const others = Array.from({ length: 5100 }, (_, i) => ({ _id: `shell:a${String(i).padStart(5, "0")}`, person: `shell:a${String(i - (i % 2)).padStart(5, "0")}`, linkedBy: "shell:admin", linkedAt: at }));
    await app.store.identityLinks.insertMany(others);
    expect((await app.run("shell:admin", "role link shell:mia slack:T1:UMIA")).outcome).toBe("ok");
    const list = await app.run("shell:admin", "role list");
    expect(list.reply.context).toEqual(["Linked (one person each): shell:mia = slack:T1:UMIA"]);
    // Paged: the line says it is the page's.
    expect((await app.run("shell:admin", "role list limit=2 page=2")).reply.context).toEqual([
      "Linked, of the identities on this page (one person each): shell:mia = slack:T1:UMIA",
      "Rows 3–3 of 3: bootstrap admins first, then by identity.",
    ]);
    expect((await app.run("shell:admin", "role list limit=2")).reply.context).toEqual(["Rows 1–2 of 3: bootstrap admins first, then by identity.", "Next page: `role list limit=2 page=2`"]);
  });
});
