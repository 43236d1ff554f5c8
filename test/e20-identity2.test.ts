/**
 * Identity mentions and refund words (e20): `audit subject=<@U…>` typed in Slack read in the
 * caller's workspace as `actor=` is (real Bolt over HTTP against the local Slack peer), refused
 * saying how to write it outside Slack; a bare Discord mention (`<@123…>`, `<@!123…>`) read as
 * `discord:<id>` wherever typed (on Discord itself: e20-identity2-discord.test.ts);
 * `refund request ORD-1 全额退款` (全退, 全部退款) asks a full refund as `full` does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locale } from "../src/core/messages.js";
import { makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";

const TEAM = "T0E21";
const MAX = "UMAX21"; // the shop's admin in Slack
const DISCORD = "223456789012345678"; // a Discord member named by mention
const DISCORD_ADMIN = "323456789012345678";

let app: TestApp;
let slack: SlackHarness;

beforeAll(async () => {
  app = await withCast(makeTestApp(), USUAL_CAST);
  await app.services.identity.grant(`slack:${TEAM}:${MAX}`, "admin", "shell:admin");
  await app.services.identity.grant(`discord:${DISCORD_ADMIN}`, "admin", "shell:admin");
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

describe("audit subject= with a Slack mention", () => {
  it("typed in Slack lists what was done to that user of the caller's workspace, as actor= reads a mention", async () => {
    await slash("role grant <@UBOB21|bob> staff");
    const [trail] = await slash("audit subject=<@UBOB21|bob>");
    expect(trail).toContain("role grant");
    // The entry names the identity as stored, and the mention as typed.
    expect(trail).toContain(`role grant slack:${TEAM}:UBOB21 · &lt;@UBOB21|bob&gt; staff`);
    expect(trail).not.toContain("No audit entries");
  });

  it("typed in the shell is refused saying a Slack identity needs its team (en, zh), not answered as nothing done", async () => {
    const r = await app.run("shell:admin", "audit subject=<@UBOB21>");
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "user_error",
      "invalid_args",
      expect.stringContaining('• subject=: "<@UBOB21>" is a Slack mention, which names no workspace outside Slack: write the Slack identity with its team, slack:<TEAM>:UBOB21'),
    ]);
    expect((await zh("shell:admin", "audit subject=<@UBOB21>")).reply.text).toContain('"<@UBOB21>" 是 Slack 提及，在 Slack 之外无法确定其工作区');
    // A record id is still read as one.
    expect((await app.run("shell:admin", "audit subject=C-7K2M9Q")).outcome).toBe("ok");
  });
});

describe("a bare Discord mention as an identity", () => {
  it("is discord:<id> in role grant / revoke / link / unlink, complaint assign and audit actor=, subject= (typed anywhere)", async () => {
    const granted = await app.run("shell:admin", `role grant <@${DISCORD}> support`);
    expect([granted.outcome, granted.reply.text]).toEqual(["ok", expect.stringContaining(`discord:${DISCORD} is now support (was viewer).`)]);
    expect((await app.store.roles.findById(`discord:${DISCORD}`).lean())?.role).toBe("support");

    const linked = await app.run("shell:admin", `role link <@!${DISCORD}> shell:dan`);
    expect(linked.reply.text).toContain(`discord:${DISCORD} and shell:dan are now one person`);
    expect((await app.run("shell:admin", "role unlink <@!" + DISCORD + ">")).outcome).toBe("ok");
    expect(await app.services.identity.linked(`discord:${DISCORD}`)).toEqual([`discord:${DISCORD}`]);

    const filed = await app.run("shell:admin", 'complaint new "lid arrived cracked"');
    const id = /C-[A-Z0-9]+/.exec(filed.reply.title ?? "")![0];
    const assigned = await zh("shell:admin", `complaint assign ${id} <@${DISCORD}>`);
    expect(assigned.outcome).toBe("ok");
    expect((await app.store.complaints.findById(id).lean())?.assignee).toBe(`discord:${DISCORD}`);

    // The Discord admin's own changes, asked for by their mention; and what was done to the member.
    await app.core.invoke({ identity: `discord:${DISCORD_ADMIN}`, platform: "discord", text: `role revoke <@${DISCORD}>` });
    expect(await app.store.roles.findById(`discord:${DISCORD}`).lean()).toBeNull();
    // Rows read "<command> <subject as stored> · <as typed>": the part before the ·.
    const commands = (r: Awaited<ReturnType<TestApp["run"]>>) => r.reply.table?.rows.map((row) => String(row[2]).split(" · ")[0]);
    const mine = await app.run("shell:admin", `audit actor=<@${DISCORD_ADMIN}>`);
    expect(commands(mine)).toEqual([`role revoke discord:${DISCORD}`]);
    const about = await app.run("shell:admin", `audit subject=<@!${DISCORD}> command=role`);
    // (All at the test clock's one instant: in no particular order.)
    expect(commands(about)?.sort()).toEqual([`role grant discord:${DISCORD}`, `role link discord:${DISCORD}`, `role revoke discord:${DISCORD}`, `role unlink discord:${DISCORD}`]);
  });
});

describe("a full refund in Chinese words", () => {
  it("全额退款, 全部退款 and 全退 ask what is left of the order, as full and 全额 do", async () => {
    await app.store.orders.insertMany([paidOrder("ORD-71", 30_000), paidOrder("ORD-72", 10_000), paidOrder("ORD-73", 5_000)]);
    for (const [orderNo, word, amount] of [
      ["ORD-71", "全额退款", 30_000],
      ["ORD-72", "全退", 10_000],
      ["ORD-73", "全部退款", 5_000],
    ] as const) {
      const r = await zh("shell:sam", `refund request ${orderNo} ${word} reason=客户拒收`);
      expect([r.outcome, r.reply.title]).toEqual(["ok", expect.stringMatching(/R-[0-9A-Z]{6}/)]);
      expect(await app.store.refundRequests.findOne({ orderNo }).lean()).toMatchObject({ amount, full: true, status: "pending" });
    }
  });
});
