/**
 * Leftovers (e22): a complaint card's Reopen pressed after the complaint was reopened elsewhere,
 * the ingestion API's and the import's complaint category read as `complaint new` reads it, and a
 * Chinese role name cut short or mistyped answered with the one meant (en, zh).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import type { Block } from "../adapters/slack/blocks.js";
import { Formatter } from "../src/core/format.js";
import { silentLogger } from "../src/core/logger.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { runImport } from "../src/import.js";
import type { ComplaintDoc } from "../src/store/models.js";
import { makeTestApp, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot } from "./peers/slack-peer.js";
import { changeReply } from "../commands/complaint.view.js";

let app: TestApp | undefined;
let h: SlackHarness | undefined;
let d: DiscordHarness | undefined;
let http: RunningHttpServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.stop();
  await d?.stop();
  await http?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  h = d = http = app = dir = undefined;
});

const idOf = (s: string | undefined) => /C-[0-9A-Z]{6}/.exec(s ?? "")![0];

function slackButtons(blocks: readonly Block[]): { value: string; action_id: string; block_id: string }[] {
  return blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { value: string; action_id: string }[]).map((e) => ({ ...e, block_id: String(b.block_id) })));
}

describe("a complaint card's Reopen, the complaint reopened elsewhere", () => {
  it("Slack: Reopen on a resolved card reopened meanwhile takes the stale button away saying the status; the presser is told", async () => {
    app = await withCast(makeTestApp(), USUAL_CAST);
    h = await slackHarness(app, { team: "T0PEER", users: { UKIM: "kim" } });
    await app.services.identity.grant("slack:T0PEER:UKIM", "support", "shell:admin");
    const made = await app.run("shell:sue", 'complaint new "lid cracked"');
    const id = idOf(made.reply.title ?? made.reply.text);
    // Resolved from Slack: the card posted for it has one button, Reopen.
    const card = (await h.slash(`complaint resolve ${id} note="sent a new lid"`, "UKIM"))[0]!.body.blocks as Block[];
    expect(slackButtons(card).map((b) => b.value)).toEqual([`complaint reopen ${id}`]);
    // Reopened by command meanwhile (back to claimed: the resolver had it).
    expect((await app.run("shell:sue", `complaint reopen ${id}`)).outcome).toBe("ok");
    const b = slackButtons(card)[0]!;
    const responseUrl = h.peer.responseUrl();
    const payload = buttonPayload({ user: "UKIM", team: "T0PEER", messageTs: "1700000900.000100", blockId: b.block_id, actionId: b.action_id, value: b.value, responseUrl, blocks: card });
    expect((await postToBot(h.eventsUrl, { secret: h.secret, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() })).status).toBe(200);
    await h.peer.waitForResponse(responseUrl);
    await h.slack.idle();
    const [updated, told] = h.peer.responsesTo(responseUrl).map((p) => p.body as { text: string; blocks: Block[]; replace_original: boolean; response_type?: string });
    expect(updated).toMatchObject({ replace_original: true });
    expect(slackButtons(updated!.blocks)).toEqual([]);
    expect(JSON.stringify(updated!.blocks)).toContain(`Complaint ${id} is claimed now; its buttons here no longer apply.`);
    expect(told).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(told!.text).toContain(`${id} is claimed, not resolved: only a resolved complaint can be reopened.`);
    // Reopened once only.
    expect((await app.services.complaints.get(id))!.history!.filter((x) => x.action === "reopen")).toHaveLength(1);
  });

  it("Discord: Reopen on a card reopened meanwhile is disabled with a line saying its status (zh)", async () => {
    const desk = discordRole("Desk", "support");
    const kim = desk.member("Kim", "zh-CN");
    d = await discordHarness({
      role: desk,
      start: true,
      seed: async (a) => {
        for (const [who, role] of Object.entries(USUAL_CAST)) await a.services.identity.grant(who, role, "shell:admin");
      },
    });
    const invoke = (text: string) => d!.app.core.invoke({ identity: "shell:sue", platform: "shell", text });
    const id = idOf((await invoke("complaint new 包裹压坏了")).reply.title);
    // Resolved from Discord: the card posted for it has one button, Reopen.
    const shown = await d.answer(d.peer.slash(kim, "complaint resolve", { id, note: "已补发" }).id);
    const message = d.peer.message(d.peer.channelId, shown);
    expect((await invoke(`complaint reopen ${id}`)).outcome).toBe("ok");
    const press = d.peer.press(kim, message, `complaint reopen ${id}`);
    const cb = (await d.peer.callback(press.id)).body;
    expect(cb.type).toBe(7);
    expect(cb.data.components[0].components.map((b: { disabled: boolean }) => b.disabled)).toEqual([true]);
    expect(cb.data.embeds.at(-1).description).toBe(`投诉 ${id} 当前为“已认领”，此处的按钮已不再适用。`);
    const told = await d.peer.waitFor("POST", new RegExp(`^/webhooks/[^/]+/itoken-${press.id}$`));
    expect(told.body.flags & 64).toBe(64);
    expect(told.body.embeds[0].description).toContain(`${id} 当前为已认领，尚未结案`);
  });
});

describe("the answer to a reopening that finds the complaint open", () => {
  it("reopened by someone else at the same moment (already open): the answer marks the card's Reopen as settled too (en, zh)", async () => {
    app = await withCast(makeTestApp(), USUAL_CAST);
    const id = idOf((await app.run("shell:sue", 'complaint new "lid cracked"')).reply.title);
    expect((await app.run("shell:sue", `complaint claim ${id}`)).outcome).toBe("ok");
    const open = (await app.services.complaints.get(id))!;
    const said = (locale: "en" | "zh-CN") => {
      const ctx = { t: translator(locale), fmt: new Formatter(locale, app!.config.timeZone, app!.config.currency), now: new Date("2026-11-25T04:00:00Z") };
      return changeReply({ kind: "already", complaint: open }, id, "reopen", "", app!.services, ctx) as Reply;
    };
    expect(said("en")).toMatchObject({ code: "already_reopen", text: `${id} is already open; nothing changed.`, settled: `Complaint ${id} is claimed now; its buttons here no longer apply.` });
    expect(said("zh-CN").settled).toBe(`投诉 ${id} 当前为“已认领”，此处的按钮已不再适用。`);
  });
});

describe("the complaint category the API and the import take", () => {
  it("POST /api/v1/complaints takes the short words complaint new reads (物流, shipping, 质量), stored as the category they name", async () => {
    app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" });
    http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
    const key = (await app.services.apiKeys.create("helpdesk", ["complaints"], "shell:admin")).token;
    const post = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${http!.port}/api/v1/complaints`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as { id?: string; message?: string; errors?: unknown } };
    };
    const stored = async (category: string, n: number) => {
      const r = await post({ externalId: `T-${n}`, customerId: "cust-1", category, text: `complaint ${n}` });
      expect(r.status).toBe(201);
      return (await app!.store.complaints.findById(r.json.id).lean<ComplaintDoc>())!.category;
    };
    expect(await stored("物流", 1)).toBe("delivery");
    expect(await stored("Shipping", 2)).toBe("delivery");
    expect(await stored("质量", 3)).toBe("quality");
    expect(await stored("破损", 4)).toBe("damaged");
    // Any other word is still refused, listing the categories, and nothing is stored.
    const bad = await post({ externalId: "T-5", customerId: "cust-1", category: "parcel", text: "complaint 5" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("one of delivery, damaged, wrong_item, missing_item, quality, refund, billing, service, other");
    expect(await app.store.complaints.countDocuments({ customerId: "cust-1" })).toBe(4);
  });

  it("an import's complaints take them too", async () => {
    app = await makeTestApp();
    dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e22l-"));
    const f = path.join(dir, "complaints.csv");
    await writeFile(f, ["externalId,customerId,category,text", "IM-1,cust-2,物流,parcel late", "IM-2,cust-2,少件,one cup missing", ""].join("\n"));
    const r = await runImport({ kind: "complaints", file: f, ingest: app.services.ingest });
    expect(r).toMatchObject({ failed: 0 });
    const cats = (await app.store.complaints.find({ customerId: "cust-2" }).lean<ComplaintDoc[]>()).map((c) => c.category).sort();
    expect(cats).toEqual(["delivery", "missing_item"]);
  });
});

describe("a Chinese role name cut short or mistyped", () => {
  it("role grant shell:sue 管理 / 经历: did you mean 管理员 / 经理 (en, zh); nothing changes", async () => {
    app = await withCast(makeTestApp(), { ...USUAL_CAST, "shell:ada": "admin" });
    const zh = (text: string) => app!.core.invoke({ identity: "shell:ada", platform: "shell", text, locale: "zh-CN" });
    const cut = await app.run("shell:ada", "role grant shell:sue 管理");
    expect(cut.outcome).toBe("user_error");
    expect(cut.reply.text).toContain('"管理" is not a role: did you mean 管理员?');
    expect((await zh("role grant shell:sue 管理")).reply.text).toContain('"管理" 不是有效的角色：你是不是想输入 管理员？');
    expect((await app.run("shell:ada", "role grant shell:sue 经历")).reply.text).toContain('"经历" is not a role: did you mean 经理?');
    expect((await zh("role grant shell:sue 经历")).reply.text).toContain('"经历" 不是有效的角色：你是不是想输入 经理？');
    // English near-misses as before.
    expect((await app.run("shell:ada", "role grant shell:sue mangaer")).reply.text).toContain("did you mean manager?");
    expect(await app.services.identity.roleOf("shell:sue")).toBe("support");
  });
});
