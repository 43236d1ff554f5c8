/**
 * Compliance leftovers (e20), used as a demanding auditor would: another name for an audit
 * option (`user=`, `status=`, `target=`) refused naming the option meant with the line retyped,
 * nothing run; a Slack mention pasted as an identity read in the caller's workspace when typed in
 * Slack (real Bolt over HTTP against the local Slack peer), refused saying how to write it when
 * typed in the shell or Discord; a second `apikey revoke` told by the service when and by whom.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locale } from "../src/core/messages.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";

const TEAM = "T0E20";
const MAX = "UMAX20"; // the shop's admin in Slack
const SUE = "USUE20"; // a support agent in Slack
const DISCORD = "123456789012345678";

let app: TestApp;
let slack: SlackHarness;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "admin", "shell:admin");
  await app.services.identity.grant(`slack:${TEAM}:${SUE}`, "support", "shell:admin");
  await app.services.identity.grant(`discord:${DISCORD}`, "admin", "shell:admin");
  slack = await slackHarness(app, { team: TEAM, users: { [MAX]: "max" } });
});

afterAll(async () => {
  await slack?.stop();
  await app?.close();
});

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" as Locale });

/** `/ops <text>` typed in Slack by `user`: the texts of what it answers. */
async function slash(text: string, user = MAX): Promise<string[]> {
  return (await slack.slash(text, user)).map((r) => JSON.stringify(r.body));
}

describe("another name for an audit option", () => {
  it("user=, who=, by=, status=, result=, target= are refused naming the option meant with the line retyped (en, zh); nothing is listed", async () => {
    const user = await app.run("shell:admin", "audit user=shell:sam since=7d");
    expect([user.outcome, user.code, user.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      "Invalid arguments for `audit`:\n• `user=` is not an option of `audit`: who did it is `actor=`\nDid you mean `audit actor=shell:sam since=7d`?",
    ]);
    expect(user.reply.table).toBeUndefined();
    expect((await app.run("shell:admin", "audit who=shell:sam")).reply.text).toContain("Did you mean `audit actor=shell:sam`?");
    expect((await app.run("shell:admin", "audit BY=shell:sam")).reply.text).toContain("• `by=` is not an option of `audit`: who did it is `actor=`");
    // Any spelling of the key; the values as typed, quotes and all.
    const two = await app.run("shell:admin", 'audit --Status=denied target="C-7K2M9Q" since=7d');
    expect(two.reply.text).toBe(
      "Invalid arguments for `audit`:\n• `status=` is not an option of `audit`: how it ended is `outcome=`\n• `target=` is not an option of `audit`: the record it was about is `subject=`\nDid you mean `audit outcome=denied subject=\"C-7K2M9Q\" since=7d`?",
    );
    expect((await app.run("shell:admin", "audit result=ok")).reply.text).toContain("Did you mean `audit outcome=ok`?");
    const cn = await zh("shell:admin", "audit user=shell:sam status=denied");
    expect(cn.reply.text).toBe(
      "`audit` 的参数无效：\n• `user=` 不是 `audit` 的选项：操作人请用 `actor=`\n• `status=` 不是 `audit` 的选项：结果请用 `outcome=`\n你是不是想输入 `audit actor=shell:sam outcome=denied`？",
    );
  });

  it("no line is offered that would still be refused: beside the option meant, two names for one option, or another unknown option", async () => {
    const beside = await app.run("shell:admin", "audit user=shell:sam actor=shell:sue");
    expect(beside.reply.text).toBe("Invalid arguments for `audit`:\n• `user=` is not an option of `audit`: who did it is `actor=`");
    expect((await app.run("shell:admin", "audit who=shell:sam by=shell:sue")).reply.text).not.toContain("Did you mean");
    const other = await app.run("shell:admin", "audit status=denied colour=red");
    expect(other.reply.text).toContain("• `status=` is not an option of `audit`: how it ended is `outcome=`\n• unknown option \"colour\" (this command takes: actor=");
    expect(other.reply.text).not.toContain("Did you mean");
  });
});

describe("a Slack mention pasted as an identity", () => {
  it("typed in Slack is the user of the caller's workspace: role grant, role link, complaint assign and audit actor= act on slack:<team>:<user>", async () => {
    const [granted] = await slash("role grant <@UBOB20|bob> staff");
    expect(granted).toContain(`slack:${TEAM}:UBOB20 is now staff (was viewer).`);
    expect((await app.store.roles.findById(`slack:${TEAM}:UBOB20`).lean())?.role).toBe("staff");
    // On the trail as typed, about the identity as stored: `audit subject=slack:…:UBOB20` finds it.
    expect(await app.store.audit.findOne({ command: "role grant", actor: `slack:${TEAM}:${MAX}` }).lean()).toMatchObject({ platform: "slack", args: "<@UBOB20|bob> staff", outcome: "ok", subject: `slack:${TEAM}:UBOB20` });
    const [linked] = await slash("role link <@UBOB20> shell:bob");
    expect(linked).toContain(`slack:${TEAM}:UBOB20 and shell:bob are now one person`);
    expect(await app.services.identity.linked("shell:bob")).toEqual(["shell:bob", `slack:${TEAM}:UBOB20`]);

    const filed = await app.run("shell:admin", 'complaint new "lid arrived cracked"');
    const id = /C-[A-Z0-9]+/.exec(filed.reply.title ?? "")![0];
    const [assigned] = await slash(`complaint assign ${id} <@${SUE}>`);
    expect(assigned).toContain(`${id} assigned to slack:${TEAM}:${SUE}.`);
    expect((await app.store.complaints.findById(id).lean())?.assignee).toBe(`slack:${TEAM}:${SUE}`);

    // The trail of the admin's own changes, asked for by their mention.
    const [trail] = await slash(`audit actor=<@${MAX}|max> command=role`);
    expect(trail).toContain("role grant");
    expect(trail).toContain("role link");
    expect(trail).toContain(`slack:${TEAM}:${MAX}`);
  });

  it("typed in the shell or Discord is refused saying a Slack identity needs its team, with an example and where to find it (en, zh); nothing changes", async () => {
    const roles = await app.store.roles.countDocuments();
    const grant = await app.run("shell:admin", "role grant <@U123ABC|bob> staff");
    expect([grant.outcome, grant.code, grant.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      'Invalid arguments for `role grant`:\n• <identity>: "<@U123ABC|bob>" is a Slack mention, which names no workspace outside Slack: write the Slack identity with its team, slack:<TEAM>:U123ABC, e.g. slack:T0123ABCD:U123ABC (`whoami` in Slack shows yours: the team id starts with T), or give the mention in Slack itself.',
    ]);
    expect((await zh("shell:admin", "role revoke <@U123ABC>")).reply.text).toContain(
      '"<@U123ABC>" 是 Slack 提及，在 Slack 之外无法确定其工作区：请写出带团队的 Slack 身份 slack:<团队>:U123ABC，例如 slack:T0123ABCD:U123ABC（在 Slack 中运行 `whoami` 可查看自己的身份：团队 ID 以 T 开头），或直接在 Slack 中使用提及。',
    );
    expect((await app.run("shell:admin", "role unlink <@U123ABC>")).reply.text).toContain("is a Slack mention, which names no workspace outside Slack");
    expect((await app.run("shell:admin", "complaint assign C-7K2M9Q <@U123ABC>")).reply.text).toContain('<identity>: "<@U123ABC>" is a Slack mention');
    const fromDiscord = await app.core.invoke({ identity: `discord:${DISCORD}`, platform: "discord", text: "role link <@U123ABC> shell:bob" });
    expect(fromDiscord.reply.text).toContain('"<@U123ABC>" is a Slack mention, which names no workspace outside Slack: write the Slack identity with its team, slack:<TEAM>:U123ABC');
    // audit actor= too: not answered "no entries" as if the mention did nothing.
    const audit = await app.run("shell:admin", "audit actor=<@U123ABC>");
    expect([audit.code, audit.reply.text]).toEqual(["invalid_args", expect.stringContaining('• actor=: "<@U123ABC>" is a Slack mention, which names no workspace outside Slack')]);
    expect(await app.store.roles.countDocuments()).toBe(roles);
  });
});

describe("apikey revoke of a key revoked before", () => {
  it("the service says when and by whom, and the reply names them", async () => {
    const { id } = await app.services.apiKeys.create("old storefront", ["orders"], "shell:admin");
    expect(await app.services.apiKeys.revoke(id, "shell:admin")).toBe("revoked");
    expect(await app.services.apiKeys.revoke(id, `slack:${TEAM}:${MAX}`)).toEqual({ already: true, revokedAt: app.clock.now(), revokedBy: "shell:admin" });
    const again = await app.run("shell:admin", `apikey revoke ${id}`);
    expect([again.code, again.reply.text]).toEqual(["already_revoked", `API key ${id} was already revoked, on 2026-11-25 12:00 GMT+8 by shell:admin; nothing changed.`]);
    expect(await app.services.apiKeys.revoke("kZZZZZZZZZZ", "shell:admin")).toBe("not_found");
  });
});
