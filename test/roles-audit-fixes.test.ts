/**
 * Roles and the audit trail as a user meets them: an admin typing at the terminal as another
 * admin (--as) cannot demote or unlink themselves; `audit subject=` finds an API key however its
 * id is typed, a record typed with a pasted invisible character, and a complaint filed in chat
 * by its order; refused attempts name the key or order typed; the audit table reads in Chinese.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1001")]);
  await app.store.orders.insertMany([paidOrder("ORD-1", 10_000)]);
  for (const admin of ["shell:root", "shell:bob", "shell:eve"]) await app.services.identity.grant(admin, "admin", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
});
afterAll(() => app?.close());

/** Runs a line as `identity`, typed at the terminal by `via` (the shell's --as). */
const as = (identity: string, via: string, text: string, locale?: "zh-CN") => app.core.invoke({ identity, via, platform: "shell", text, ...(locale ? { locale } : {}) });
const entry = (ref: string) => app.store.audit.findById(ref).lean();
/** The rows `audit subject=<s>` shows a manager, each as one line. */
const rowsAbout = async (s: string) => ((await app.run("shell:mia", `audit subject=${s} limit=100`)).reply.table?.rows ?? []).map((r) => r.join(" "));

describe("an admin acting as another admin (--as)", () => {
  it("cannot revoke or lower their own admin role: denied self_demote, the role kept", async () => {
    const revoke = await as("shell:bob", "shell:root", "role revoke shell:root");
    expect([revoke.outcome, revoke.code, revoke.reply.text]).toEqual(["denied", "self_demote", "You cannot remove your own admin role; ask another admin."]);
    const lower = await as("shell:bob", "shell:root", "role grant shell:root support");
    expect([lower.outcome, lower.code]).toEqual(["denied", "self_demote"]);
    expect(await app.services.identity.roleOf("shell:root")).toBe("admin");
    expect(await entry(revoke.ref)).toMatchObject({ command: "role revoke", actor: "shell:bob", via: "shell:root", outcome: "denied", code: "self_demote" });
    // Another admin's role may still be changed that way.
    await app.services.identity.grant("shell:tmp", "admin", "shell:admin");
    expect((await as("shell:bob", "shell:root", "role revoke shell:tmp")).outcome).toBe("ok");
  });

  it("cannot demote an admin identity linked with theirs, but may give a linked identity that is no admin its role", async () => {
    expect((await app.run("shell:bob", "role link shell:eve slack:T1:U9")).outcome).toBe("ok");
    const linkedAdmin = await app.run("shell:eve", "role revoke shell:eve");
    expect(linkedAdmin.code).toBe("self_demote");
    // From the linked identity (an admin by the platform, say): still themselves.
    await app.services.identity.grant("slack:T1:U9", "admin", "shell:admin");
    const fromOther = await app.run("slack:T1:U9", "role grant shell:eve manager");
    expect([fromOther.outcome, fromOther.code]).toEqual(["denied", "self_demote"]);
    expect(await app.services.identity.roleOf("shell:eve")).toBe("admin");
    // A linked identity that is no admin is given its own role.
    expect((await app.run("shell:bob", "role link shell:eve discord:123456789012345678")).outcome).toBe("ok");
    expect((await app.run("shell:eve", "role grant discord:123456789012345678 manager")).outcome).toBe("ok");
    expect(await app.services.identity.roleOf("discord:123456789012345678")).toBe("manager");
  });

  it("cannot unlink the identities of the person at the terminal: denied self_unlink, the link kept", async () => {
    expect((await app.run("shell:admin", "role link shell:root discord:223456789012345678")).outcome).toBe("ok");
    const unlink = await as("shell:bob", "shell:root", "role unlink discord:223456789012345678");
    expect([unlink.outcome, unlink.code, unlink.reply.text]).toEqual(["denied", "self_unlink", "You cannot unlink your own identities; ask another admin."]);
    expect(await app.services.identity.linked("shell:root")).toEqual(["discord:223456789012345678", "shell:root"]);
  });
});

describe("audit subject= for an API key", () => {
  it("finds a key's entries by its id in any case or width, and a refused revoke names the key typed", async () => {
    const made = await app.run("shell:admin", "apikey create probe scopes=orders");
    const id = /shopops_(k[0-9A-Z]{10})_/.exec(made.reply.text!)![1]!;
    // Refused before the handler ran: not an admin, and a line with an unknown option.
    const denied = await app.run("shell:mia", `apikey revoke ${id.toLowerCase()}`);
    expect(denied.outcome).toBe("denied");
    const bad = await app.run("shell:admin", `apikey revoke ${id} extra=1`);
    expect(bad.code).toBe("invalid_args");
    expect(await entry(denied.ref)).toMatchObject({ subject: id });
    expect(await entry(bad.ref)).toMatchObject({ subject: id });
    const fullWidth = id.replace(/[0-9A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    for (const typed of [id, id.toLowerCase(), id.toUpperCase(), fullWidth]) {
      const rows = await rowsAbout(typed);
      expect(rows, typed).toHaveLength(3);
      expect(rows.join("\n"), typed).toContain(made.ref);
      expect(rows.join("\n"), typed).toContain(denied.ref);
    }
  });
});

describe("audit filters with a pasted invisible character", () => {
  it("subject=, actor= and command= find what they name", async () => {
    const adjust = await app.run("shell:sue", "stock adjust SKU-1001 +2 reason=recount");
    expect(adjust.outcome).toBe("ok");
    for (const line of ["subject=SKU-1001\u200b", "subject=\u200bsku-1001", "actor=shell:sue\u200b", "actor=\u2060shell:sue command=stock\u200b"]) {
      const rows = ((await app.run("shell:mia", `audit ${line}`)).reply.table?.rows ?? []).map((r) => r.join(" "));
      expect(rows.join("\n"), line).toContain(adjust.ref);
    }
    // Nothing but the invisible character is no filter: refused as an empty one is.
    expect((await app.run("shell:mia", "audit subject=\u200b")).code).toBe("invalid_args");
  });
});

describe("a complaint filed in chat", () => {
  it("is found by audit subject=<order>, as the API's is; a refusal names the order typed", async () => {
    const filed = await app.run("shell:sue", "complaint new order=ord-1 severity=high mug broken");
    expect(filed.outcome, filed.reply.text).toBe("ok");
    const id = /C-[0-9A-Z]+/.exec(filed.reply.title!)![0];
    expect(await entry(filed.ref)).toMatchObject({ subject: [id, "ORD-1"] });
    // The row names the new complaint and its order as stored.
    expect((await rowsAbout("ORD-1")).find((r) => r.includes(filed.ref))).toContain(`complaint new ${id} ORD-1 · order=ord-1 severity=high`);
    expect((await rowsAbout("1")).join("\n")).toContain(filed.ref);
    expect((await rowsAbout(id)).join("\n")).toContain(filed.ref);

    const unknown = await app.run("shell:sue", "complaint new order=ord-999999 where is it");
    expect(unknown.code).toBe("unknown_order");
    const denied = await app.run("shell:nobody", "complaint new order=ORD-999999 where is it");
    expect(denied.outcome).toBe("denied");
    expect(await entry(unknown.ref)).toMatchObject({ subject: "ORD-999999" });
    expect(await entry(denied.ref)).toMatchObject({ subject: "ORD-999999" });
    const rows = (await rowsAbout("ORD-999999")).join("\n");
    expect(rows).toContain(unknown.ref);
    expect(rows).toContain(denied.ref);
  });
});

describe("the audit table in Chinese", () => {
  it("names outcomes and --as in Chinese, codes as stored; English unchanged", async () => {
    const ok = await as("shell:sue", "shell:you", "stock adjust SKU-1001 -1 reason=x");
    const denied = await app.run("shell:nobody", "stock adjust SKU-1001 +1 reason=x");
    const bad = await app.run("shell:sue", "stock adjust SKU-1001 -999 reason=x");
    expect([ok.outcome, denied.outcome, bad.outcome]).toEqual(["ok", "denied", "user_error"]);
    const rowOf = async (ref: string, locale: "en" | "zh-CN") =>
      (await app.core.invoke({ identity: "shell:mia", platform: "shell", text: "audit subject=SKU-1001 limit=100", locale })).reply.table!.rows.find((r) => r[4] === ref)!;
    expect((await rowOf(ok.ref, "zh-CN")).slice(1, 4).concat([(await rowOf(denied.ref, "zh-CN"))[3]!, (await rowOf(bad.ref, "zh-CN"))[3]!])).toEqual([
      "shell:sue（经 shell:you）",
      "stock adjust SKU-1001 -1 reason=x",
      "成功",
      "被拒绝（permission_denied）",
      `输入有误（${bad.code}）`,
    ]);
    expect([(await rowOf(ok.ref, "en"))[1], (await rowOf(ok.ref, "en"))[3], (await rowOf(denied.ref, "en"))[3], (await rowOf(bad.ref, "en"))[3]]).toEqual([
      "shell:sue (via shell:you)",
      "ok",
      "denied (permission_denied)",
      `user_error (${bad.code})`,
    ]);
  });
});

describe("refund policy set below admin", () => {
  it("is refused naming refund policy set and the admin role, before its values are read: denied, nothing changed", async () => {
    await app.services.identity.grant("shell:sam", "staff", "shell:admin");
    const before = await app.store.meta.findById("refund_policy").lean();
    const viewer = await app.run("shell:nobody", "refund policy set support=1");
    expect([viewer.outcome, viewer.code, viewer.reply.text]).toEqual(["denied", "permission_denied", "`refund policy set` needs the admin role; you are viewer. Ask an admin (`role grant`) if you need it."]);
    for (const line of ["refund policy set support=abc", "refund policy set expiry=0", "refund policy SET support=1", "refund policy action=set manager=10"]) {
      const staff = await app.run("shell:sam", line);
      expect([staff.outcome, staff.code, staff.reply.text], line).toEqual(["denied", "permission_denied", "`refund policy set` needs the admin role; you are staff. Ask an admin (`role grant`) if you need it."]);
      expect(await entry(staff.ref), line).toMatchObject({ command: "refund policy", outcome: "denied", code: "permission_denied" });
    }
    const zh = await app.core.invoke({ identity: "shell:nobody", platform: "shell", text: "refund policy set support=1", locale: "zh-CN" });
    expect(zh.reply.text).toMatch(/^`refund policy set` 需要管理员（admin）角色；你当前是查看者（viewer）。/);
    expect(await app.store.meta.findById("refund_policy").lean()).toEqual(before);
    // Reading stays for staff; a viewer reading is told staff.
    expect((await app.run("shell:sam", "refund policy")).outcome).toBe("ok");
    expect((await app.run("shell:nobody", "refund policy")).reply.text).toMatch(/^`refund policy` needs the staff role; you are viewer/);
    // An admin's bad value is an argument error still.
    expect((await app.run("shell:admin", "refund policy set support=abc")).code).toBe("invalid_args");
  });
});
