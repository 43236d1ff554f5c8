/**
 * Compliance leftovers as a compliance officer meets them: a mistyped `audit command=` is refused
 * naming the command meant (not answered "nothing happened"); paging `audit since=7d` goes on
 * exactly where the last page ended, whatever was written meanwhile; `audit actor=` shows all
 * one person did, under each of their linked identities; `apikey create` names the scope it does
 * not know; and `role revoke` of an identity that is a viewer already is not announced as a demotion.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany(["TYPO-1", "PAGE-0", "PAGE-1", "PAGE-2", "PAGE-3", "PAGE-4", "PAGE-NEW", "LINK-1", "LINK-2", "LINK-3", "LINK-4"].map((sku) => product(sku)));
});
afterAll(() => app?.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
/** Runs a line a minute after the last one, so the trail's order is the order typed. */
const later = (identity: string, text: string) => {
  app.clock.advance(60_000);
  return app.run(identity, text);
};
/** The command line of the next-page hint in a reply's context, if any. */
const nextOf = (r: { reply: { context?: string[] } }) => /`(audit [^`]+)`/.exec((r.reply.context ?? []).join("\n"))?.[1];

describe("audit command=<a name no command has>", () => {
  it("is refused naming the closest commands, in English and Chinese, rather than listed as nothing done", async () => {
    expect((await later("shell:sam", "stock adjust TYPO-1 +1 reason=count")).outcome).toBe("ok");
    const r = await app.run("shell:mia", "audit command=stok");
    expect([r.outcome, r.code]).toEqual(["user_error", "unknown_command_filter"]);
    expect(r.reply.text).toBe(
      'No command is named "stok", so no audit entry could match it. Did you mean `command=stock`? command= takes a command\'s name or its first word (command=stock, command="refund approve"); `help` lists the commands.',
    );
    expect((await zh("shell:mia", "audit command=stok")).reply.text).toContain("没有名为 \"stok\" 的命令，不会有审计记录与之匹配。你是不是想输入 `command=stock`？");
    // A mistyped subcommand names the command; a word near nothing says so, without a guess.
    expect((await app.run("shell:mia", 'audit command="refund aprove"')).reply.text).toContain('Did you mean `command="refund approve"`?');
    const none = await app.run("shell:mia", "audit command=qwertyuiop");
    expect([none.code, none.reply.text]).toEqual(["unknown_command_filter", expect.not.stringContaining("Did you mean")]);
    // The names that are right still list (or find nothing, said so), the bot's own ones too.
    expect((await app.run("shell:mia", "audit command=stock")).reply.table?.rows).toHaveLength(1);
    expect((await app.run("shell:mia", "audit command=STOCK")).reply.table?.rows).toHaveLength(1);
    for (const line of ["audit command=coupon", 'audit command="api orders"', "audit command=import", 'audit command="refund execute"', "audit command=shop-settings"]) {
      expect([line, (await app.run("shell:mia", line)).reply.text]).toEqual([line, "No audit entries match."]);
    }
    // A name on the trail is listed, also when no command has it now (renamed since).
    await app.store.audit.insertMany([{ _id: "LEGACY0001", at: new Date("2026-10-01T00:00:00Z"), actor: "shell:sam", platform: "shell", command: "stock recount", args: "SKU-1", outcome: "ok" }]);
    expect((await app.run("shell:mia", 'audit command="stock recount"')).reply.table?.rows.map((row) => row[4])).toEqual(["LEGACY0001"]);
    // A command that changes nothing is known, and said to be on the trail only when refused.
    const whoami = await app.run("shell:mia", "audit command=whoami");
    expect([whoami.outcome, whoami.code, whoami.reply.text]).toEqual(["ok", "not_audited", "`whoami` changes nothing, so it is on the audit trail only when refused (outcome=denied); no refused attempt matches."]);
  });
});

describe("audit paging", () => {
  it("the next-page hint pins the window: page 2 goes on exactly after page 1's last row, whatever is written meanwhile", async () => {
    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await later("shell:sam", `stock adjust PAGE-${i} +1 reason=count`);
      expect(r.outcome).toBe("ok");
      refs.unshift(r.ref);
    }
    const first = await app.run("shell:mia", "audit actor=shell:sam since=7d limit=2");
    const rows = first.reply.table!.rows.map((r) => r[4]);
    expect(rows).toEqual(refs.slice(0, 2));
    expect(first.reply.context?.[0]).toBe("Entries 1–2 of 6, newest first. Narrow with actor=, command=, since=, subject= or outcome=.");
    // 7d as the instant it meant (a week before now, 04:05 UTC), and the last row's ref.
    expect(nextOf(first)).toBe(`audit actor=shell:sam since=2026-11-18T04:06:00Z before=${refs[1]} limit=2 page=2`);

    // Meanwhile: new entries on top, and the days go on (a re-read 7d would drop the oldest).
    await later("shell:sam", "stock adjust PAGE-NEW +1 reason=count");
    await later("shell:sam", "stock adjust PAGE-NEW +1 reason=count");
    app.clock.advance(6 * 86_400_000);
    const seen = [...rows];
    let line = nextOf(first);
    const contexts: string[] = [];
    while (line) {
      const r = await app.run("shell:mia", line);
      expect(r.outcome).toBe("ok");
      seen.push(...r.reply.table!.rows.map((row) => row[4]));
      contexts.push(r.reply.context![0]!);
      line = nextOf(r);
    }
    // Every entry of the first page's window once, in order: the 5 adjustments, then sam's earlier one.
    expect(seen.slice(0, 5)).toEqual(refs);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(contexts).toEqual([
      "Entries 3–4 of 6, newest first. Narrow with actor=, command=, since=, subject= or outcome=.",
      "Entries 5–6 of 6, newest first. Narrow with actor=, command=, since=, subject= or outcome=.",
    ]);
  });

  it("pages entries made at the same instant in the table's order, none twice, also when one more is listed above meanwhile", async () => {
    const at = new Date("2026-10-01T00:00:00Z");
    const entry = (_id: string) => ({ _id, at, actor: "shell:tie", platform: "shell", command: "stock adjust", args: "X +1 reason=x", outcome: "ok" });
    const ids = ["TIE00A", "TIE00B", "TIE00C", "TIE00D", "TIE00E"];
    await app.store.audit.insertMany(ids.map(entry));
    const first = await app.run("shell:mia", "audit actor=shell:tie limit=2");
    const seen = first.reply.table!.rows.map((row) => row[4]!);
    // Listed above the first page's rows (same instant, a larger ref): not on the pages after it.
    await app.store.audit.insertMany([entry("TIE00Z")]);
    for (let line = nextOf(first); line; ) {
      const r = await app.run("shell:mia", line);
      seen.push(...r.reply.table!.rows.map((row) => row[4]!));
      line = nextOf(r);
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it("before= takes a date (entries made before it) or a ref; anything else is refused saying what it takes", async () => {
    await app.store.audit.insertMany([
      { _id: "OLD0000001", at: new Date("2026-09-01T00:00:00Z"), actor: "shell:old", platform: "shell", command: "stock adjust", args: "A +1 reason=x", outcome: "ok" },
      { _id: "OLD0000002", at: new Date("2026-09-10T00:00:00Z"), actor: "shell:old", platform: "shell", command: "stock adjust", args: "B +1 reason=x", outcome: "ok" },
    ]);
    const refsOf = async (line: string) => (await app.run("shell:mia", line)).reply.table?.rows.map((r) => r[4]);
    expect(await refsOf("audit actor=shell:old before=2026-09-05")).toEqual(["OLD0000001"]);
    expect(await refsOf("audit actor=shell:old before=2026-09-10T00:00:00.001Z")).toEqual(["OLD0000002", "OLD0000001"]);
    expect(await refsOf("audit actor=shell:old since=2026-09-05T00:00:00+08:00")).toEqual(["OLD0000002"]);
    // A ref typed in lower case.
    expect(await refsOf("audit actor=shell:old before=old0000002")).toEqual(["OLD0000001"]);
    const bad = await app.run("shell:mia", "audit before=NOSUCHREF1");
    expect([bad.outcome, bad.code]).toEqual(["user_error", "bad_before"]);
    expect(bad.reply.text).toContain('"NOSUCHREF1" is neither the Ref of an audit entry nor a date. before= takes a Ref');
    expect((await zh("shell:mia", "audit before=NOSUCHREF1")).reply.text).toContain('"NOSUCHREF1" 既不是审计记录的编号，也不是日期');
    // An instant that does not exist, or one still to come, is refused as a since= day is.
    expect((await app.run("shell:mia", "audit since=2026-02-30T00:00:00Z")).code).toBe("invalid_args");
    expect((await app.run("shell:mia", "audit since=2030-01-01T00:00:00Z")).code).toBe("future_date");
    const help = await app.run("shell:mia", "help audit");
    expect(help.reply.fields?.find((f) => f.label === "Usage")?.value).toContain("[before=<ref>|<date>]");
  });
});

describe("audit actor=<identity of a person with linked identities>", () => {
  it("includes what the person did under each linked identity, and says which identities it covers", async () => {
    expect((await later("shell:admin", "role link shell:max slack:T1:U2")).outcome).toBe("ok");
    await app.services.identity.grant("slack:T1:U2", "staff", "shell:admin");
    await app.services.identity.grant("shell:max", "staff", "shell:admin");
    await app.services.identity.grant("shell:bob", "staff", "shell:admin");
    app.clock.advance(60_000);
    const bySlack = await app.core.invoke({ identity: "slack:T1:U2", platform: "slack", text: "stock adjust LINK-1 +1 reason=count" });
    const byMax = await later("shell:max", "stock adjust LINK-2 +1 reason=count");
    app.clock.advance(60_000);
    // Typed by the Slack identity at the terminal, acting as bob (--as).
    const viaSlack = await app.core.invoke({ identity: "shell:bob", platform: "shell", text: "stock adjust LINK-3 +1 reason=count", via: "slack:T1:U2" });
    await later("shell:bob", "stock adjust LINK-4 +1 reason=count");
    const r = await app.run("shell:mia", "audit actor=shell:max");
    expect(r.reply.table?.rows.map((row) => row[4])).toEqual([viaSlack.ref, byMax.ref, bySlack.ref]);
    expect(r.reply.context).toEqual(["actor=shell:max includes the identities linked to it (one person, see `role link`): slack:T1:U2."]);
    expect((await zh("shell:mia", "audit actor=shell:max")).reply.context).toEqual(["actor=shell:max 包含与其关联的身份（同一人，见 `role link`）：slack:T1:U2。"]);
    // From the other identity the same.
    expect((await app.run("shell:mia", "audit actor=slack:T1:U2 command=stock")).reply.table?.rows.map((row) => row[4])).toEqual([viaSlack.ref, byMax.ref, bySlack.ref]);
  });
});

describe("apikey create scopes=<a list with an unknown scope>", () => {
  it("names the scope that is unknown, and the valid ones, in English and Chinese; no key is made", async () => {
    const one = await app.run("shell:admin", "apikey create shop scopes=orders,bogus");
    expect([one.outcome, one.code]).toEqual(["user_error", "invalid_args"]);
    expect(one.reply.text).toContain('scopes=: "bogus" is not a scope (in "orders,bogus"). Scopes: orders, products, inventory, complaints, refunds');
    const two = await app.run("shell:admin", "apikey create shop scopes=orders,Bogus，nope");
    expect(two.reply.text).toContain('scopes=: bogus, nope are not scopes (in "orders,Bogus，nope").');
    expect((await zh("shell:admin", "apikey create shop scopes=orders,bogus")).reply.text).toContain('"bogus" 不是有效的权限范围（在 "orders,bogus" 中）。可选：orders、products');
    expect((await zh("shell:admin", "apikey create shop scopes=bogus,nope")).reply.text).toContain("bogus、nope 不是有效的权限范围");
    // An empty list is still refused as one.
    expect((await app.run("shell:admin", "apikey create shop scopes=,")).reply.text).toContain('"," is not a list of scopes');
    expect(await app.store.apiKeys.countDocuments()).toBe(0);
  });
});

describe("role revoke of an identity made a viewer with role grant", () => {
  it("says they were a viewer already, privately, with its own code on the trail; not 'was viewer' to the channel", async () => {
    await app.services.identity.grant("shell:vic", "manager", "shell:admin");
    const grant = await later("shell:admin", "role grant shell:vic viewer");
    expect([grant.outcome, grant.reply.text]).toEqual(["ok", "shell:vic is now viewer (was manager)."]);
    const revoke = await later("shell:admin", "role revoke shell:vic");
    expect([revoke.outcome, revoke.code, revoke.reply.visibility]).toEqual(["ok", "already_viewer", "ephemeral"]);
    expect(revoke.reply.text).toBe("shell:vic was a viewer already; their viewer grant is removed from `role list`, and what they may do is unchanged.");
    expect((await app.store.audit.findById(revoke.ref).lean())?.code).toBe("already_viewer");
    expect((await app.run("shell:admin", "role list")).reply.table?.rows.some((row) => row[0] === "shell:vic")).toBe(false);
    await app.services.identity.grant("shell:vic", "manager", "shell:admin");
    await app.services.identity.grant("shell:vic", "viewer", "shell:admin");
    expect((await zh("shell:admin", "role revoke shell:vic")).reply.text).toBe("shell:vic 原本就是查看者（viewer）；已从 `role list` 中移除其查看者记录，其权限没有变化。");
    // A revoke that demotes is announced as before.
    await app.services.identity.grant("shell:vic", "support", "shell:admin");
    expect((await later("shell:admin", "role revoke shell:vic")).reply.text).toBe("shell:vic no longer has a role; they are a viewer now (was support).");
  });
});
