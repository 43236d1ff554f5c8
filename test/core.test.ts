import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { Core } from "../src/core/core.js";
import { silentLogger } from "../src/core/logger.js";
import { CommandLoadError, checkCommand, loadCommands } from "../src/core/registry.js";
import { checkShopSettings } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { t } from "../src/core/messages.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1001", { name: "Wireless Mouse" }), product("SKU-1002", { name: "不锈钢保温杯 500ml" })]);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

describe("command core", () => {
  it("suggests the nearest command for an unknown one", async () => {
    const r = await app.run("shell:admin", "stok SKU-1001");
    expect(r.outcome).toBe("user_error");
    expect(r.code).toBe("unknown_command");
    expect(r.reply.text).toContain("Did you mean `stock`");
  });

  it("refuses a command the caller's role does not allow, naming the role needed, and audits it", async () => {
    const r = await app.run("shell:nobody", "stock adjust SKU-1001 +5 reason=count");
    expect(r.outcome).toBe("denied");
    expect(r.reply.text).toContain("needs the staff role; you are viewer");
    expect((await app.store.products.findById("SKU-1001").lean())?.onHand).toBe(50);
    const entry = await app.store.audit.findById(r.ref).lean();
    expect(entry).toMatchObject({ actor: "shell:nobody", command: "stock adjust", outcome: "denied", platform: "shell" });
  });

  it("shows usage and an example when arguments are invalid", async () => {
    const r = await app.run("shell:sam", "stock adjust SKU-1001 lots reason=x");
    expect(r.code).toBe("invalid_args");
    expect(r.reply.text).toContain('"lots" is not a quantity change');
    expect(r.reply.fields?.map((f) => f.value).join(" ")).toContain("stock adjust <sku> (<+n|-n> | set=<n>) reason=<text>");
    expect(r.reply.fields?.map((f) => f.value).join(" ")).toContain("stock adjust SKU-1001 -2");
  });

  it("names a missing option and rejects unknown ones", async () => {
    const missing = await app.run("shell:sam", "stock adjust SKU-1001 +1");
    expect(missing.reply.text).toContain("missing reason=");
    const unknown = await app.run("shell:sam", "stock adjust SKU-1001 +1 reason=x colour=red");
    expect(unknown.reply.text).toContain('unknown option "colour"');
    expect((await app.store.products.findById("SKU-1001").lean())?.onHand).toBe(50);
  });

  it("a whole number beyond 2^53 is refused once, in a person's terms, naming the argument's own limit", async () => {
    const po = await app.run("shell:sam", "stock po SKU-1001 eta=+7d qty=9007199254740993");
    expect(po.code).toBe("invalid_args");
    expect(po.reply.text).toBe("Invalid arguments for `stock po`:\n• qty=: must be at most 1000000");
    const page = await app.run("shell:sam", "order search status=paid page=9007199254740993");
    expect(page.code).toBe("invalid_args");
    expect(page.reply.text!.match(/is not a page number/g)).toHaveLength(1);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "stock po SKU-1001 eta=+7d qty=9007199254740993", locale: "zh-CN" });
    expect(zh.reply.text).toContain("qty=: 不能大于 1000000");
    expect(zh.reply.text).not.toContain("9007199254740991");
    // Whatever the schema (a command of one's own, checks zod does not stop at): one message per
    // argument, the schema's own limit before the safe-integer bound, never zod's raw words.
    const core = new Core({
      commands: [
        defineCommand({
          name: "tally",
          description: "cmd.help",
          args: z.object({
            n: z.coerce.number().int().max(1000).optional(),
            big: z.coerce.number().int().optional(),
            page: z.coerce.number({ error: "arg.bad_page" }).int({ error: "arg.bad_page" }).max(10, { error: "arg.bad_page" }).optional(),
          }),
          examples: ["tally n=5"],
          permission: "viewer",
          mutates: false,
          handler: async () => ({ status: "ok", text: "counted", visibility: "ephemeral" }),
        }),
      ],
      services: app.services,
      config: app.config,
      clock: app.clock,
      logger: silentLogger,
    });
    const tally = await core.invoke({ identity: "shell:sam", platform: "shell", text: "tally n=9007199254740993 big=9007199254740993 page=9007199254740993" });
    expect(tally.reply.text).toBe(
      'Invalid arguments for `tally`:\n• n=: must be at most 1000\n• big=: must be at most 9007199254740991\n• page=: "9007199254740993" is not a page number from 1 to 10000, e.g. page=2.',
    );
  });

  it("rejects overlong input and control characters without running anything", async () => {
    const long = await app.run("shell:sam", "stock " + "x".repeat(2000));
    expect(long.code).toBe("input_too_long");
    expect(long.reply.text).toContain("limit is 1500");
    const ctl = await app.run("shell:sam", "stock adjust SKU-1001 -1 reason=\u001b[31mred");
    expect(ctl.code).toBe("control_chars");
    expect((await app.store.products.findById("SKU-1001").lean())?.onHand).toBe(50);
  });

  it("help lists only the commands the caller may run; help <command> shows usage and examples", async () => {
    // One field a group (first word), one line a command: `name` — what it does.
    const listed = (r: { reply: { fields?: { value: string }[] } }) => r.reply.fields!.map((f) => f.value).join("\n");
    const viewer = listed(await app.run("shell:nobody", "help"));
    expect(viewer).toContain("`stock low` — ");
    expect(viewer).not.toContain("`stock adjust`");
    expect(viewer).not.toContain("`role grant`");
    expect(listed(await app.run("shell:admin", "help"))).toContain("`role grant` — ");
    const one = await app.run("shell:sam", "help stock adjust");
    const text = one.reply.fields!.map((f) => f.value).join("\n");
    expect(text).toContain("stock adjust <sku> (<+n|-n> | set=<n>) reason=<text>");
    expect(text).toContain('stock adjust SKU-1001 -2 reason="damaged in transit"');
    // A group: one field per command, so all of them fit (Discord shows at most 25 fields).
    const group = await app.run("shell:admin", "help complaint");
    const labels = group.reply.fields!.map((f) => f.label);
    expect(labels.length).toBeGreaterThanOrEqual(8);
    expect(labels).toContain("complaint reopen (support)");
    expect(group.reply.fields!.length).toBeLessThanOrEqual(25);
    // No line twice: an example that is the usage itself (no arguments) is shown once.
    for (const f of (await app.run("shell:admin", "help digest")).reply.fields!) {
      const lines = f.value.split("\n");
      expect(lines, f.label).toEqual([...new Set(lines)]);
    }
    // A command the caller may not run: its help, saying the role it needs and who grants it.
    const denied = await app.run("shell:nobody", "help role grant");
    expect(denied.reply.context).toEqual(["`role grant` needs the admin role; you are viewer. Ask an admin (`role grant`) if you need it."]);
  });

  it("a positional argument may be given by name: `stock query=low` searches instead of running `stock low`", async () => {
    const r = await app.run("shell:sam", "stock query=low");
    expect(r.command).toBe("stock");
    expect(r.reply.text ?? "").toContain('"low"');
    const both = await app.run("shell:sam", "stock SKU-1001 query=SKU-1002");
    expect(both.outcome).toBe("user_error");
    expect(both.reply.text).toContain("<query> is given twice, by position and as query=; give it once");
  });

  it("a person flooding from chat is refused after the burst, unaudited; the shell is not limited", async () => {
    const limited = await makeTestApp({ CHAT_RATE_BURST: "3", CHAT_RATE_PER_MIN: "6" });
    try {
      const inv = (identity: string, platform: "slack" | "shell") => limited.core.invoke({ identity, platform, text: "role grant slack:T1:U9 manager" });
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await inv("slack:T1:UFLOOD", "slack"));
      expect(runs.map((r) => r.code)).toEqual(["permission_denied", "permission_denied", "permission_denied", "rate_limited", "rate_limited"]);
      expect(runs[3]!.reply.text).toMatch(/^Too many commands in a short time\. Wait \d+ s and try again\.$/);
      expect(await limited.store.audit.countDocuments({ actor: "slack:T1:UFLOOD" })).toBe(3);
      // Another person is not held back by the first.
      expect((await inv("slack:T1:UOTHER", "slack")).code).toBe("permission_denied");
      for (let i = 0; i < 5; i++) expect((await inv("shell:script", "shell")).code).toBe("permission_denied");
    } finally {
      await limited.close();
    }
  });

  it("answers in Chinese when the locale is zh-CN", async () => {
    const r = await app.core.invoke({ identity: "shell:nobody", platform: "shell", text: "stock adjust SKU-1001 +1 reason=x", locale: "zh-CN" });
    expect(r.reply.text).toContain("需要员工（staff）角色；你当前是查看者（viewer）。");
  });

  it("shows a Chinese reader the usage and example in Chinese, option names and ids as typed; help too", async () => {
    const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
    const values = (r: { reply: { fields?: { value: string }[] } }) => r.reply.fields!.map((f) => f.value).join("\n");
    // An argument error: the usage's words and the example's free text in Chinese.
    const missing = await zh("shell:mia", "order cancel ORD-100001");
    expect(missing.code).toBe("invalid_args");
    expect(missing.reply.text).toContain("缺少 reason=");
    expect(values(missing)).toContain("`order cancel <订单号> reason=<原因>`");
    expect(values(missing)).toContain("`order cancel ORD-100001 reason=客户改主意了`");
    expect(values(missing)).not.toContain("customer changed their mind");
    const bad = await zh("shell:sam", "stock adjust SKU-1001 lots reason=x");
    expect(values(bad)).toContain("`stock adjust <SKU> (<+n|-n> | set=<n>) reason=<原因> [key=<幂等键>]`");
    expect(values(bad)).toContain("`stock adjust SKU-1001 -2 reason=运输途中损坏`");
    // An English reader is shown what they were shown before.
    const en = await app.run("shell:mia", "order cancel ORD-100001");
    expect(values(en)).toContain("`order cancel <orderNo> reason=<text>`");
    expect(values(en)).toContain('`order cancel ORD-100001 reason="customer changed their mind"`');
    // `help <command>`: usage and every example in Chinese.
    const help = values(await zh("shell:sam", "help stock adjust"));
    expect(help).toContain("stock adjust <SKU> (<+n|-n> | set=<n>) reason=<原因> [key=<幂等键>]");
    expect(help).toContain("`stock adjust SKU-1001 -2 reason=运输途中损坏`\n`stock adjust SKU-1001 +24 reason=采购到货 key=PO-7781`");
    expect(help).not.toMatch(/damaged in transit|restock|idempotency/);
    // A group: each command's usage and first examples in Chinese.
    const group = values(await zh("shell:admin", "help complaint"));
    expect(group).toContain("complaint reopen <编号> [note=<原因>]");
    expect(group).toContain("complaint reopen C-7K2M9Q note=客户说补发的也坏了");
    expect(group).toContain("complaint new order=ORD-100001 severity=高 category=商品损坏 外箱被压坏，杯子碎了");
    expect(group).not.toMatch(/customer says|box arrived crushed|<what was done>|<why>/);
    // The help shown in English is unchanged.
    expect(values(await app.run("shell:sam", "help stock adjust"))).toContain('`stock adjust SKU-1001 -2 reason="damaged in transit"`');
  });

  it("turns an unexpected failure into a generic reply with a reference id", async () => {
    // A handler failure the user cannot cause: the database connection is gone.
    const other = await makeTestApp();
    await other.db.conn.close();
    const r = await other.run("shell:admin", "stock SKU-1001");
    expect(r.outcome).toBe("error");
    expect(r.reply.text).toContain(`Reference: ${r.ref}`);
    expect(r.reply.text).not.toMatch(/MongoClient|Error/);
  });

  it("a mistyped subcommand suggests the group's command, never the text typed", async () => {
    const approve = await app.run("shell:admin", "refund aprove R-1");
    expect(approve.code).toBe("unknown_command");
    expect(approve.reply.text).toContain("Unknown command `refund aprove`. Did you mean `refund approve`?");
    // The group alone or with no close subcommand: its subcommands, not "did you mean `refund`".
    for (const line of ["refund", "refund R-1", "Refund"]) {
      const r = await app.run("shell:admin", line);
      expect(r.code, line).toBe("unknown_command");
      expect(r.reply.text, line).not.toContain("Did you mean");
      expect(r.reply.text, line).toContain("`refund` is followed by one of: approve, list, policy, reject, request, show.");
    }
    // Both words mistyped: the command both point to.
    expect((await app.run("shell:admin", "refnd aprove R-1")).reply.text).toContain("Did you mean `refund approve`?");
    expect((await app.run("shell:admin", "stok SKU-1001")).reply.text).toContain("Did you mean `stock`?");
    // A group with a bare form runs it (`stock` with "adjst"): when that fails, the subcommand is suggested.
    const adjust = await app.run("shell:sam", "stock adjst SKU-1001 +1 reason=x");
    expect(adjust.outcome).toBe("user_error");
    expect(adjust.reply.text).toContain("Did you mean `stock adjust`?");
    expect((await app.run("shell:sam", "stock lw")).reply.text).toContain("Did you mean `stock low`?");
    // A word cut short is read as the command it starts (`lo` is `low`, not `po` mistyped).
    expect((await app.run("shell:sam", "stock lo")).reply.text).toContain("Did you mean `stock low`?");
    expect((await app.run("shell:sam", "order shp ORD-1")).reply.text).toContain("Did you mean `order ship`?");
    // A search that is no typo gets no hint; nor does one that succeeds.
    expect((await app.run("shell:sam", "stock NOPE-1")).reply.text).not.toContain("Did you mean");
    expect((await app.run("shell:sam", "stock Wireless")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order show ORD-1")).reply.text).not.toContain("Did you mean");
    const zh = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "refund aprove R-1", locale: "zh-CN" });
    expect(zh.reply.text).toContain("你是不是想输入 `refund approve`？");
  });
});

describe("roles and audit", () => {
  it("admins grant and revoke roles; the change takes effect and is audited", async () => {
    const denied = await app.run("shell:mia", "role grant shell:zed staff");
    expect(denied.outcome).toBe("denied");
    expect(denied.reply.text).toContain("needs the admin role");
    const bad = await app.run("shell:admin", "role grant zed staff");
    expect(bad.reply.text).toContain('"zed" is not an identity');
    const badRole = await app.run("shell:admin", "role grant shell:zed boss");
    expect(badRole.reply.text).toContain('"boss" is not a role');
    expect((await app.run("shell:admin", "role grant shell:zed staff")).outcome).toBe("ok");
    expect((await app.run("shell:zed", "whoami")).reply.text).toContain("role staff");
    const list = await app.run("shell:admin", "role list");
    expect(list.reply.table!.rows).toContainEqual(expect.arrayContaining(["shell:zed", "staff", "shell:admin"]));
    expect((await app.run("shell:admin", "role revoke shell:zed")).outcome).toBe("ok");
    expect((await app.run("shell:zed", "whoami")).reply.text).toContain("role viewer");
    const audit = await app.run("shell:mia", "audit command=role");
    const rows = audit.reply.table!.rows.map((r) => r.join(" "));
    expect(rows.some((r) => r.includes("role grant shell:zed staff") && r.includes("shell:admin") && r.includes("ok"))).toBe(true);
    expect(rows.some((r) => r.includes("role revoke shell:zed"))).toBe(true);
    expect(rows.some((r) => r.includes("shell:mia") && r.includes("denied"))).toBe(true);
  });

  it("a change asked for that changes nothing is audited so, not as a plain ok: an auditor tells it from a real change", async () => {
    const codeOf = async (line: string) => {
      const r = await app.run("shell:admin", line);
      return [r.outcome, (await app.store.audit.findById(r.ref).lean())?.code];
    };
    expect(await codeOf("role revoke shell:never-granted")).toEqual(["ok", "no_role"]);
    expect(await codeOf("role link shell:pair-a shell:pair-b")).toEqual(["ok", undefined]);
    expect(await codeOf("role link shell:pair-a shell:pair-b")).toEqual(["ok", "already_linked"]);
    expect(await codeOf("role unlink shell:never-linked")).toEqual(["ok", "not_linked"]);
    expect(await codeOf("role unlink shell:pair-b")).toEqual(["ok", undefined]);
  });

  it("audit needs manager and filters by actor and since", async () => {
    expect((await app.run("shell:sam", "audit")).outcome).toBe("denied");
    const r = await app.run("shell:mia", "audit actor=shell:nobody since=7d");
    expect(r.reply.table!.rows.every((row) => row[1] === "shell:nobody")).toBe(true);
    const bad = await app.run("shell:mia", "audit since=last-tuesday");
    expect(bad.reply.text).toContain('"last-tuesday" is not a date');
  });

  it("audit subject= finds a product's stock changes and an order's refused refund asks, as it finds the API's", async () => {
    await app.store.products.insertMany([product("SUBJ-1", { onHand: 10 })]);
    await app.store.orders.insertMany([paidOrder("ORD-SUBJ", 1_000, undefined, { status: "pending", paidAt: undefined, paidDay: undefined })]);
    await app.services.identity.grant("shell:subj", "staff", "shell:admin");
    for (const line of ["stock adjust SUBJ-1 +1 reason=count", "stock snooze SUBJ-1 1d", "stock po SUBJ-1 eta=+5d", "refund request ORD-SUBJ 1 reason=x"]) await app.run("shell:subj", line);
    const commands = async (s: string) => (await app.run("shell:mia", `audit subject=${s}`)).reply.table?.rows.map((r) => r[2]!.split(" ").slice(0, 2).join(" ")).sort();
    expect(await commands("subj-1")).toEqual(["stock adjust", "stock po", "stock snooze"]);
    expect(await commands("ORD-SUBJ")).toEqual(["refund request"]);
  });

  it("audit pages through a long trail to its end; each page names the next as a command that runs", async () => {
    const base = Date.parse("2026-11-20T00:00:00Z");
    await app.store.audit.insertMany(Array.from({ length: 7 }, (_, i) => ({ _id: `PAGE${i}`, at: new Date(base + i * 60_000), actor: "shell:pager", platform: "shell", command: "stock adjust", args: `SKU-${i} +1 reason=x`, outcome: "ok" })));
    const seen: string[] = [];
    let line: string | undefined = "audit actor=shell:pager limit=3";
    const contexts: string[][] = [];
    while (line) {
      const r = await app.run("shell:mia", line);
      seen.push(...r.reply.table!.rows.map((row) => row[4]!));
      contexts.push(r.reply.context ?? []);
      line = /`(audit [^`]+)`/.exec((r.reply.context ?? []).join("\n"))?.[1];
    }
    expect(seen).toEqual(["PAGE6", "PAGE5", "PAGE4", "PAGE3", "PAGE2", "PAGE1", "PAGE0"]);
    expect(contexts[0]).toEqual(["Entries 1–3 of 7, newest first. Narrow with actor=, command=, since=, subject= or outcome=.", "Next page: `audit actor=shell:pager before=PAGE4 limit=3 page=2`"]);
    expect(contexts[2]).toEqual(["Entries 7–7 of 7, newest first. Narrow with actor=, command=, since=, subject= or outcome=."]);
    const beyond = await app.run("shell:mia", "audit actor=shell:pager limit=3 page=4");
    expect([beyond.code, beyond.reply.text]).toEqual(["page_out_of_range", "Page 4 is past the last page (3) of 7 matching entries."]);
  });

  it("the demo database's shell user is listed as such, not as coming from SHOPOPS_ADMINS", async () => {
    app.services.identity.addBootstrapAdmin("shell:demo-root");
    const list = await app.run("shell:admin", "role list");
    expect(list.reply.table!.rows.find((r) => r[0] === "shell:demo-root")).toEqual(["shell:demo-root", "admin", "demo database (shell user)", "—"]);
    expect(list.reply.table!.rows.find((r) => r[0] === "shell:admin")?.[2]).toBe("SHOPOPS_ADMINS");
    const revoke = await app.run("shell:admin", "role revoke shell:demo-root");
    expect(revoke.reply.text).toContain("shell:demo-root is an admin as the shell user of the embedded demo database");
  });

  it("an empty default coupon list says what it covers and how to see past coupons", async () => {
    const r = await app.run("shell:sam", "coupon list");
    expect(r.reply.text).toBe("No coupons are live, scheduled or paused. Past ones: `coupon list expired` (or `coupon list all`).");
    expect((await app.run("shell:sam", "coupon list expired")).reply.text).toBe("No expired coupons. Every coupon: `coupon list all`.");
  });

  it("reading commands are not audited", async () => {
    const r = await app.run("shell:admin", "stock SKU-1001");
    expect(r.outcome).toBe("ok");
    expect(await app.store.audit.findById(r.ref).lean()).toBeNull();
  });
});

describe("linked identities", () => {
  const SLACK = "slack:T1:U1";
  const DISCORD = "discord:12345";
  const links = () => app.store.identityLinks.countDocuments();

  it("admins link identities of one person, transitively; refusals change nothing; whoami, role list and the audit show it", async () => {
    const denied = await app.run("shell:mia", `role link ${SLACK} ${DISCORD}`);
    expect(denied.outcome).toBe("denied");
    expect(denied.reply.text).toContain("needs the admin role");
    const bad = await app.run("shell:admin", `role link zed ${DISCORD}`);
    expect([bad.code, bad.reply.text]).toEqual(["invalid_args", expect.stringContaining('"zed" is not an identity')]);
    expect((await app.run("shell:admin", `role link ${SLACK} discord:12`)).reply.text).toContain('"discord:12" is not an identity');
    expect((await app.run("shell:admin", `role link ${SLACK}`)).code).toBe("invalid_args");
    const self = await app.run("shell:admin", `role link ${DISCORD} ${DISCORD}`);
    expect([self.code, self.outcome, self.reply.text]).toEqual(["self_link", "user_error", `Both identities are ${DISCORD}: give two different identities to link.`]);
    expect(await links()).toBe(0);
    expect(await app.services.identity.samePerson(SLACK, DISCORD)).toBe(false);

    const linked = await app.run("shell:admin", `role link ${SLACK} ${DISCORD}`);
    expect(linked.outcome).toBe("ok");
    expect(linked.reply.text).toContain(`${SLACK} and ${DISCORD} are now one person: ${DISCORD}, ${SLACK}.`);
    // Transitive: a third identity linked to one of them joins the person.
    expect((await app.run("shell:admin", `role link shell:zoe ${DISCORD}`)).outcome).toBe("ok");
    const all = [DISCORD, "shell:zoe", SLACK];
    for (const id of all) expect(await app.services.identity.person(id)).toEqual({ id: DISCORD, identities: all });
    expect(await app.services.identity.samePerson("shell:zoe", SLACK)).toBe(true);
    expect(await app.services.identity.personOf("shell:nobody")).toBe("shell:nobody");
    expect(await app.services.identity.linked("shell:nobody")).toEqual(["shell:nobody"]);
    const again = await app.run("shell:admin", `role link shell:zoe ${SLACK}`);
    expect([again.outcome, again.reply.text]).toEqual(["ok", `shell:zoe and ${SLACK} are one person already (${all.join(", ")}); nothing changed.`]);

    expect((await app.run("shell:zoe", "whoami")).reply.text).toBe(`You are shell:zoe, role viewer. Linked to you (one person, for the refund approval rules): ${DISCORD}, ${SLACK}.`);
    expect((await app.run("shell:sam", "whoami")).reply.text).toBe("You are shell:sam, role staff.");
    // role list names the links of the identities it lists (those holding a role).
    await app.services.identity.grant(SLACK, "support", "shell:admin");
    expect((await app.run("shell:admin", "role list")).reply.context).toEqual([`Linked (one person each): ${all.join(" = ")}`]);

    const audit = (await app.run("shell:mia", "audit command=role limit=100")).reply.table!.rows.map((r) => r.join(" "));
    expect(audit.some((r) => r.includes(`role link ${SLACK} ${DISCORD}`) && r.includes("shell:admin") && r.includes("ok"))).toBe(true);
    expect(audit.some((r) => r.includes(`role link ${DISCORD} ${DISCORD}`) && r.includes("self_link"))).toBe(true);
    expect(audit.some((r) => r.includes("role link") && r.includes("shell:mia") && r.includes("denied"))).toBe(true);
  });

  it("admins unlink an identity: it is its own person again, the rest stay linked; not their own, not by others", async () => {
    const before = await app.store.identityLinks.find().sort({ _id: 1 }).lean();
    expect((await app.run("shell:mia", `role unlink ${DISCORD}`)).outcome).toBe("denied");
    expect((await app.run("shell:admin", "role unlink bogus")).reply.text).toContain('"bogus" is not an identity');
    expect(await app.store.identityLinks.find().sort({ _id: 1 }).lean()).toEqual(before);

    // The person id itself leaves: the rest get a new one.
    const r = await app.run("shell:admin", `role unlink ${DISCORD}`);
    expect([r.outcome, r.reply.text]).toEqual(["ok", `${DISCORD} is its own person again; it is no longer linked to shell:zoe, ${SLACK}.`]);
    expect(await app.services.identity.person(DISCORD)).toEqual({ id: DISCORD, identities: [DISCORD] });
    expect(await app.services.identity.person(SLACK)).toEqual({ id: "shell:zoe", identities: ["shell:zoe", SLACK] });
    expect((await app.run("shell:admin", `role unlink ${DISCORD}`)).reply.text).toBe(`${DISCORD} is not linked to any other identity; nothing changed.`);
    expect((await app.run("shell:admin", `role unlink ${SLACK}`)).outcome).toBe("ok");
    expect(await links()).toBe(0);
    expect((await app.run("shell:admin", "role list")).reply.context).toBeUndefined();

    // An admin does not unlink their own identities (that would let them approve their own refunds).
    expect((await app.run("shell:admin", "role link shell:admin slack:T1:UADMIN")).outcome).toBe("ok");
    const own = await app.run("shell:admin", "role unlink slack:T1:UADMIN");
    expect([own.code, own.reply.text]).toEqual(["self_unlink", "You cannot unlink your own identities; ask another admin."]);
    expect(await app.services.identity.samePerson("shell:admin", "slack:T1:UADMIN")).toBe(true);
    const audit = (await app.run("shell:mia", "audit command=role limit=100")).reply.table!.rows.map((row) => row.join(" "));
    expect(audit.some((row) => row.includes(`role unlink ${DISCORD}`) && row.includes("ok"))).toBe(true);
    expect(audit.some((row) => row.includes("role unlink slack:T1:UADMIN") && row.includes("self_unlink"))).toBe(true);
  });

  it("a link or unlink cut short after any write leaves every group whole, and agreed on by all its members", async () => {
    const ids = ["shell:a1", "shell:a2", "shell:b1", "shell:b2", "shell:b3"];
    const svc = app.services.identity;
    /** Fails every write after the first `n` (a crash part way). */
    const crashAfter = (n: number) => {
      const up = app.store.identityLinks.updateOne.bind(app.store.identityLinks);
      const del = app.store.identityLinks.deleteOne.bind(app.store.identityLinks);
      const gate = () => {
        if (n-- <= 0) throw new Error("crash");
      };
      return [
        vi.spyOn(app.store.identityLinks, "updateOne").mockImplementation(((...a: Parameters<typeof up>) => (gate(), up(...a))) as never),
        vi.spyOn(app.store.identityLinks, "deleteOne").mockImplementation(((...a: Parameters<typeof del>) => (gate(), del(...a))) as never),
      ];
    };
    const groups = async () => new Map(await Promise.all(ids.map(async (i) => [i, (await svc.person(i)).identities.join(" ")] as const)));
    const setup = async () => {
      await app.store.identityLinks.deleteMany({ _id: { $in: ids } });
      await svc.link("shell:a1", "shell:a2", "shell:admin");
      await svc.link("shell:b1", "shell:b2", "shell:admin");
      await svc.link("shell:b3", "shell:b2", "shell:admin");
    };
    /** The b group as an earlier cut-short write may leave it: its root is not its smallest identity. */
    const skewed = async () => {
      await setup();
      const at = app.clock.now();
      for (const id of ["shell:b1", "shell:b2", "shell:b3"]) await app.store.identityLinks.updateOne({ _id: id }, { $set: { person: "shell:b3", linkedBy: "shell:admin", linkedAt: at } });
    };
    for (let n = 0; n < 12; n++) {
      for (const start of [setup, skewed]) {
        // Linking a2 with b1: the a group and the b group each stay whole, apart or together.
        await start();
        const spies = crashAfter(n);
        await svc.link("shell:a2", "shell:b1", "shell:admin").catch(() => undefined);
        for (const s of spies) s.mockRestore();
        const g = await groups();
        expect(new Set(["shell:a1", "shell:a2"].map((i) => g.get(i))).size, `link cut after ${n}`).toBe(1);
        expect(new Set(["shell:b1", "shell:b2", "shell:b3"].map((i) => g.get(i))).size, `link cut after ${n}`).toBe(1);
        for (const [i, members] of g) expect(members.split(" "), `link cut after ${n}`).toContain(i);
        await svc.link("shell:a2", "shell:b1", "shell:admin");
        expect(await svc.linked("shell:a1")).toEqual(ids);
      }

      // Unlinking b1 (the person id) from the b group: b2 and b3 stay one person.
      await setup();
      const spies2 = crashAfter(n);
      await svc.unlink("shell:b1", "shell:admin").catch(() => undefined);
      for (const s of spies2) s.mockRestore();
      const g = await groups();
      expect(g.get("shell:b2"), `unlink cut after ${n}`).toBe(g.get("shell:b3"));
      expect(g.get("shell:b2")!.split(" "), `unlink cut after ${n}`).toEqual(expect.arrayContaining(["shell:b2", "shell:b3"]));
      expect(g.get("shell:b1") === g.get("shell:b2") || g.get("shell:b1") === "shell:b1", `unlink cut after ${n}`).toBe(true);
      await svc.unlink("shell:b1", "shell:admin");
      expect(await svc.person("shell:b1")).toEqual({ id: "shell:b1", identities: ["shell:b1"] });
      expect(await svc.person("shell:b3")).toEqual({ id: "shell:b2", identities: ["shell:b2", "shell:b3"] });
    }
    await app.store.identityLinks.deleteMany({ _id: { $in: ids } });
  });
});

describe("messages", () => {
  it("English says 1 day, 1 product, 1 unit; other counts and Chinese as before", () => {
    expect(t("en", "stock.low.title", { count: 1 })).toBe("Low stock: 1 product");
    expect(t("en", "stock.low.title", { count: 3 })).toBe("Low stock: 3 products");
    expect(t("en", "lowstock.alert.title", { count: 1 })).toBe("Low stock: 1 product crossed its threshold");
    expect(t("en", "stock.cover.value", { days: "1" })).toBe("1 day");
    expect(t("en", "stock.cover.value", { days: "1.5" })).toBe("1.5 days");
    expect(t("en", "notify.coupon.uses", { uses: 1, customers: 1, revenue: "$5.00", discount: "$1.00" })).toBe("Used 1 time by 1 customer: $5.00 of orders, $1.00 of discounts.");
    expect(t("en", "digest.top.line", { sku: "SKU-1", name: "Mug", revenue: "$10.00", units: "1,000" })).toBe("SKU-1 Mug: $10.00, 1,000 units");
    expect(t("zh-CN", "stock.low.title", { count: 1 })).toBe(t("zh-CN", "stock.low.title", { count: 1 }).replace("{count}", "1"));
    expect(t("zh-CN", "stock.low.title", { count: 1 })).not.toMatch(/[{}|]/);
  });
});

describe("shop settings", () => {
  it("a database whose zone was stored under another name of the same zone (US/Eastern) starts with America/New_York", async () => {
    const before = await app.store.meta.findById("shop:settings").lean();
    try {
      await app.store.meta.updateOne({ _id: "shop:settings" }, { $set: { value: { timeZone: "US/Eastern", currency: "USD" } } }, { upsert: true });
      expect(await checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "America/New_York", SHOP_CURRENCY: "USD" }))).toBe("same");
      await expect(checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "America/Chicago", SHOP_CURRENCY: "USD" }))).rejects.toThrow(/days and amounts are in US\/Eastern/);
      // A zone's current name against the older one ICU uses.
      await app.store.meta.updateOne({ _id: "shop:settings" }, { $set: { value: { timeZone: "Asia/Calcutta", currency: "USD" } } });
      expect(await checkShopSettings(app.store, loadConfig({ SHOP_TIMEZONE: "Asia/Kolkata", SHOP_CURRENCY: "USD" }))).toBe("same");
    } finally {
      await app.store.meta.deleteOne({ _id: "shop:settings" });
      if (before) await app.store.meta.create(before);
    }
  });
});

describe("command loading", () => {
  it("stops startup on a malformed command file, naming the file and the problem", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "shopops-cmd-"));
    await writeFile(path.join(dir, "broken.command.ts"), 'export default { name: "Broken Name!", handler: 1 };\n');
    await expect(loadCommands(dir)).rejects.toThrow(CommandLoadError);
    await expect(loadCommands(dir)).rejects.toThrow(/broken\.command\.ts: name/);
  });

  it("takes a usage or example as a string or an { en, zh } pair; the Chinese must keep the command and option names", () => {
    const cmd = (over: Record<string, unknown>) => ({
      name: "note add",
      description: "cmd.help",
      positional: ["id"],
      args: z.object({ id: z.string(), reason: z.string(), urgent: z.boolean().optional() }),
      usage: { en: "<id> reason=<text> [--urgent]", zh: "<id> reason=<原因> [--urgent]" },
      examples: ["note add N-1 reason=x", { en: 'note add N-1 reason="typo" --urgent', zh: "note add N-1 reason=打错了 --urgent" }],
      permission: "viewer",
      mutates: false,
      handler: async () => ({ status: "ok" }),
      ...over,
    });
    expect(checkCommand(cmd({}), "note.command.ts").name).toBe("note add");
    const fails = (over: Record<string, unknown>) => () => checkCommand(cmd(over), "note.command.ts");
    // An option name translated, or dropped, in the Chinese.
    expect(fails({ examples: [{ en: "note add N-1 reason=typo", zh: "note add N-1 原因=打错了" }] })).toThrow(/note\.command\.ts: example "note add N-1 reason=typo" names options \(none\) in Chinese but reason= in English/);
    expect(fails({ examples: [{ en: "note add N-1 reason=typo --urgent", zh: "note add N-1 reason=打错了" }] })).toThrow(CommandLoadError);
    expect(fails({ usage: { en: "<id> reason=<text>", zh: "<id> 原因=<原因>" } })).toThrow(/usage names options/);
    // The command name is kept in the Chinese too.
    expect(fails({ examples: [{ en: "note add N-1 reason=typo", zh: "添加备注 N-1 reason=打错了" }] })).toThrow(/does not start with "note add"/);
    expect(fails({ examples: [{ en: "note add N-1 reason=typo" }] })).toThrow(/examples\.0/);
  });
});
