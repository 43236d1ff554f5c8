/**
 * The audit trail and the role list as a compliance officer reads them: refused reads are on the
 * trail (least privilege), `role list` reads every binding page by page, and an entry the table
 * cuts is shown in full by `audit ref=`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/core/logger.js";
import type { Locale } from "../src/core/messages.js";
import { SlackPeer } from "./peers/slack-peer.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
// After the app: the adapter's imports load the services in the order the app does.
import { SlackAdapter } from "../adapters/slack/slack.adapter.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" as Locale });
const entry = (ref: string) => app.store.audit.findById(ref).lean();

describe("refused reads on the audit trail", () => {
  it("a read refused for who the caller is is recorded (who, what, when, platform, result); a read that runs or fails otherwise is not", async () => {
    const audit = await app.run("shell:vic", "audit since=7d");
    const digest = await app.run("shell:sam", "digest");
    const roles = await app.core.invoke({ identity: "slack:T1:U9", platform: "slack", text: "role list" });
    for (const r of [audit, digest, roles]) expect(r.outcome).toBe("denied");
    expect(await entry(audit.ref)).toMatchObject({ actor: "shell:vic", platform: "shell", command: "audit", args: "since=7d", outcome: "denied", code: "permission_denied", at: app.clock.now() });
    expect(await entry(digest.ref)).toMatchObject({ actor: "shell:sam", command: "digest", outcome: "denied", code: "permission_denied" });
    expect(await entry(roles.ref)).toMatchObject({ actor: "slack:T1:U9", platform: "slack", command: "role list", outcome: "denied" });
    // Reads that ran, and a read's own input error, stay off the trail: it is kept for changes.
    const ran = [await app.run("shell:sam", "whoami"), await app.run("shell:mia", "audit"), await app.run("shell:mia", "audit limit=abc")];
    expect(ran.map((r) => r.outcome)).toEqual(["ok", "ok", "user_error"]);
    for (const r of ran) expect(await entry(r.ref)).toBeNull();
    // A manager finds them among the refusals.
    const denied = (await app.run("shell:mia", "audit outcome=denied limit=100")).reply.table!.rows.map((r) => r[4]);
    expect(denied).toEqual(expect.arrayContaining([audit.ref, digest.ref, roles.ref]));
  });

  it("command= naming a read says only refused attempts at it are on the trail (en, zh), and lists them", async () => {
    const none = await app.run("shell:mia", "audit command=whoami");
    expect([none.code, none.reply.text]).toEqual(["not_audited", "`whoami` changes nothing, so it is on the audit trail only when refused (outcome=denied); no refused attempt matches."]);
    expect((await zh("shell:mia", "audit command=whoami")).reply.text).toBe("`whoami` 不会更改任何内容，只有被拒绝的尝试（outcome=denied）才会记入审计记录；没有符合条件的被拒绝尝试。");
    const tried = await app.run("shell:sam", "role list");
    const found = await app.run("shell:mia", 'audit command="role list"');
    expect(found.reply.table!.rows.map((r) => r[4])).toContain(tried.ref);
    expect(found.reply.context).toContain("`role list` changes nothing: only refused attempts at it are on the audit trail.");
    expect((await zh("shell:mia", 'audit command="role list"')).reply.context).toContain("`role list` 不会更改任何内容：审计记录中只有对它的被拒绝尝试。");
  });
});

describe("Slack App Home", () => {
  it("opening Home as a viewer shows what they may see and puts no refused attempt on the trail", async () => {
    const peer = await new SlackPeer("T0E15").start();
    peer.users.set("U0VIEW", { id: "U0VIEW", name: "viewer" });
    const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", SLACK_BOT_TOKEN: "xoxb-e15", SLACK_SIGNING_SECRET: "e15-secret" });
    const slack = new SlackAdapter({ services: app.services, logger: silentLogger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, core: app.core, config, listen: "shared" });
    try {
      await slack.publishHome("T0E15", "U0VIEW");
      expect(JSON.stringify(peer.callsOf("views.publish").at(-1)!.args.view)).toContain("You are slack:T0E15:U0VIEW, role viewer.");
      // Home's sections a viewer may not run (refund list, complaint list, digest) are skipped, not tried.
      expect(await app.store.audit.countDocuments({ actor: "slack:T0E15:U0VIEW" })).toBe(0);
    } finally {
      await slack.stop();
      await peer.stop();
    }
  });
});

describe("role list past 500 bindings", () => {
  it("pages every binding, saying which rows of how many and naming the next page; role= lists one role", async () => {
    const at = new Date("2026-11-01T00:00:00Z");
    const many = Array.from({ length: 501 }, (_, i) => ({ _id: `shell:r${String(i).padStart(3, "0")}`, role: "staff", grantedBy: "shell:admin", grantedAt: at }));
    await app.store.roles.insertMany(many);
    // shell:admin (bootstrap), then shell:mia, shell:r000 … shell:r500, shell:sam: 504 rows.
    const first = await app.run("shell:admin", "role list");
    expect(first.reply.table!.rows.map((r) => r[0]).slice(0, 3)).toEqual(["shell:admin", "shell:mia", "shell:r000"]);
    expect(first.reply.table!.rows).toHaveLength(50);
    expect(first.reply.context).toEqual(["Rows 1–50 of 504: bootstrap admins first, then by identity.", "Next page: `role list page=2`"]);
    const last = await app.run("shell:admin", "role list limit=100 page=6");
    expect(last.reply.table!.rows.map((r) => r[0])).toEqual(["shell:r498", "shell:r499", "shell:r500", "shell:sam"]);
    expect(last.reply.context).toEqual(["Rows 501–504 of 504: bootstrap admins first, then by identity."]);
    const beyond = await app.run("shell:admin", "role list limit=100 page=7");
    expect([beyond.code, beyond.reply.text]).toEqual(["page_out_of_range", "Page 7 is past the last page (6) of 504 role bindings. Run `role list` for the first page."]);
    // One role: who may change everything, or who manages (by the name the table shows, in Chinese too).
    expect((await app.run("shell:admin", "role list role=admin")).reply.table!.rows.map((r) => r[0])).toEqual(["shell:admin"]);
    expect((await zh("shell:admin", "role list role=经理")).reply.table!.rows.map((r) => r.slice(0, 2))).toEqual([["shell:mia", "经理（manager）"]]);
    expect((await app.run("shell:admin", "role list role=support")).reply.text).toBe("No identity holds the support role.");
    const zhPage = await zh("shell:admin", "role list role=staff limit=500");
    expect(zhPage.code).toBe("invalid_args");
    expect((await zh("shell:admin", "role list role=staff page=2")).reply.context).toEqual(["第 51–100 条，共 502 条：先列初始管理员，再按身份排序。", "下一页：`role list role=staff page=3`"]);
  });
});

describe("an audit entry the table cuts", () => {
  it("the table says which entry was cut and `audit ref=` shows it whole (en, zh); a wrong ref or a filter beside it is refused", async () => {
    const args = "sla slack C0NEWROUTE01 (C0OLDROUTE01, C0OLDROUTE02 → C0NEWROUTE01)";
    const ref = await app.services.audit.add({ ref: "E15LONG001", at: new Date(app.clock.now().getTime() + 60_000), actor: "shell:admin", platform: "shell", command: "alerts route", args, outcome: "ok" });
    const table = await app.run("shell:mia", "audit command=alerts");
    const row = table.reply.table!.rows.find((r) => r[4] === ref)!;
    expect(row[2]).toBe(`alerts route ${args}`.slice(0, 59) + "…");
    expect(table.reply.context).toContain("A row cut short (…) is shown whole by its Ref: `audit ref=E15LONG001`.");
    // Typed as the table shows it, or in lower case.
    const whole = await app.run("shell:mia", "audit ref=e15long001");
    expect(whole.reply).toMatchObject({ title: "Audit entry E15LONG001", text: `alerts route ${args}`, plainText: true });
    expect(whole.reply.fields!.map((f) => [f.label, f.value])).toEqual([
      ["When", expect.any(String)],
      ["Actor", "shell:admin"],
      ["Platform", "shell"],
      ["Outcome", "ok"],
    ]);
    // A refusal's whole reason, and the record it named.
    const denied = await app.run("shell:sam", "order cancel ORD-77 reason=duplicate");
    // Its reason is cut in the table (80 characters): the table names the Ref that shows it whole.
    expect((await app.run("shell:mia", "audit subject=ORD-77")).reply.context).toEqual([`A row cut short (…) is shown whole by its Ref: \`audit ref=${denied.ref}\`.`]);
    const d = await zh("shell:mia", `audit ref=${denied.ref}`);
    expect(d.reply.title).toBe(`审计记录 ${denied.ref}`);
    expect(d.reply.fields!.map((f) => [f.label, f.value])).toEqual(expect.arrayContaining([["结果", "被拒绝（permission_denied）"], ["对象", "ORD-77"], ["原因", denied.reply.text]]));
    const unknown = await app.run("shell:mia", "audit ref=NOPE000000");
    expect([unknown.code, unknown.reply.text]).toEqual(["unknown_ref", 'No audit entry has the Ref "NOPE000000". ref= takes a Ref from the table\'s Ref column (`audit` lists them).']);
    const beside = await app.run("shell:mia", "audit ref=E15LONG001 actor=shell:admin");
    expect(beside.code).toBe("ref_alone");
    expect(await entry(unknown.ref)).toBeNull();
  });
});
