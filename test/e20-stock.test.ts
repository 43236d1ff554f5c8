/**
 * A hands-on pass over stock as an ops team types it (e20), in English and Chinese, through the
 * core, Slack (real Bolt against the local peer) and Discord (real discord.js against the local
 * peer): a PO recorded again by a colleague is said to be on record already (it was taken over,
 * silently, before); a snooze typed in English words (`2 days`) is answered with the form to type;
 * a quantity typed with a word for pieces (`+5件`, `+5 pcs`, `qty=100件`) and the change typed
 * before the SKU are answered with the line written right, nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Block } from "../adapters/slack/blocks.js";
import type { SlackAdapter } from "../adapters/slack/slack.adapter.js";
import { Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { slackHarness, type SlackHarness } from "./helpers/slack.js";
import { buttonPayload, postToBot, type SlackPeer } from "./peers/slack-peer.js";

const SIGNING_SECRET = "signing-secret-e20-stock";
const TEAM = "T0PEER";
const ALICE = "UALICE"; // staff
const BOB = "UBOB"; // staff

let app: TestApp;
let harness: SlackHarness;
let peer: SlackPeer;
let slack: SlackAdapter;
let eventsUrl: string;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:mia": "manager", [`slack:${TEAM}:${ALICE}`]: "staff", [`slack:${TEAM}:${BOB}`]: "staff" });
  await app.store.products.insertMany([
    product("SKU-PO", { name: "Thermos", onHand: 4, reorderPoint: 10 }),
    product("SKU-SL", { name: "Goggles", onHand: 3, reorderPoint: 10 }),
    product("SKU-SN", { name: "Mug", onHand: 2, reorderPoint: 10 }),
    product("SKU-U", { name: "Towel", onHand: 12 }),
  ]);
  harness = await slackHarness(app, { team: TEAM, users: { [ALICE]: "alice", [BOB]: "bob" }, secret: SIGNING_SECRET });
  ({ peer, slack, eventsUrl } = harness);
});

afterAll(async () => {
  await harness?.stop();
  await app?.close();
});

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const textOf = (body: Record<string, unknown>) => JSON.stringify(body.blocks ?? []) + " " + String(body.text ?? "");
const buttonsOf = (blocks: Block[]) =>
  blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements as { action_id: string; value: string }[]).map((e) => ({ ...e, block_id: b.block_id as string })));

describe("the same PO recorded again (a colleague pressing the alert's button after another, the line typed again)", () => {
  it("says it is on record already and by whom, changes nothing and keeps its recorder; another date or quantity still replaces it", async () => {
    const first = await app.run("shell:sam", "stock po SKU-PO eta=2026-12-09 qty=40");
    expect([first.outcome, first.reply.text]).toEqual([
      "ok",
      "PO recorded for SKU-PO (40 units), arriving 2026-12-09. Low-stock alerts for it wait until 2026-12-10 00:00 GMT+8. Selling out before 2026-12-10 00:00 GMT+8 is still announced.",
    ]);
    const again = await app.run("shell:mia", "stock po sku-po eta=2026-12-09 qty=40");
    expect([again.outcome, again.code, again.reply.status, again.reply.visibility, again.reply.text]).toEqual([
      "ok",
      "po_on_record",
      "info",
      "ephemeral",
      "This PO for SKU-PO (40 units), arriving 2026-12-09, is already on record (recorded by shell:sam): nothing changed. Low-stock alerts for it wait until 2026-12-10 00:00 GMT+8. If the supplier gave another date or quantity, record the PO with them.",
    ]);
    const z = await zh("shell:mia", "stock po SKU-PO eta=12月9日 qty=40");
    expect(z.reply.text).toBe(
      "SKU-PO 预计 2026-12-09 到货的采购单（40 件）已有记录（由 shell:sam 记录）：未作更改。该商品的低库存提醒暂停至 2026-12-10 00:00 GMT+8。如供应商给了新的日期或数量，请按新的日期或数量记录采购单。",
    );
    expect((await app.services.lowStock.state("SKU-PO"))?.po).toMatchObject({ eta: "2026-12-09", qty: 40, by: "shell:sam" });
    // The card still names who recorded it.
    const card = await app.run("shell:mia", "stock SKU-PO");
    expect(card.reply.fields?.find((f) => f.label === "Low-stock alerts")?.value).toBe("Held until 2026-12-10 00:00 GMT+8: PO (40 units) arriving 2026-12-09, recorded by shell:sam");
    // On the trail as what it was.
    expect(await app.store.audit.findById(again.ref).lean()).toMatchObject({ command: "stock po", outcome: "ok", code: "po_on_record", subject: "SKU-PO" });
    // Another quantity is another PO: it replaces the one on record, naming it.
    const other = await app.run("shell:mia", "stock po SKU-PO eta=2026-12-09 qty=60");
    expect(other.reply.text).toContain("It replaces the PO (40 units) arriving 2026-12-09 recorded by shell:sam");
    expect((await app.services.lowStock.state("SKU-PO"))?.po).toMatchObject({ qty: 60, by: "shell:mia" });
  });

  it("on Slack, a second person's press of the alert's PO button is answered to them alone; the alert keeps the first outcome", async () => {
    const view = (await app.services.stock.bySku("SKU-SL"))!;
    const reply = app.services.lowStock.message([{ view, threshold: 10, reorderQty: 20 }], translator("en"), new Formatter("en", "Asia/Shanghai", "CNY"));
    await slack.deliver({ kind: "channel", platform: "slack", channel: "C0ALERTS" }, reply);
    const blocks = peer.callsOf("chat.postMessage").at(-1)!.args.blocks as Block[];
    const po = buttonsOf(blocks).find((b) => b.value.startsWith("stock po SKU-SL "))!;
    const pressAs = async (user: string) => {
      const responseUrl = peer.responseUrl();
      const p = buttonPayload({ user, team: TEAM, channel: "C0ALERTS", messageTs: "1700002000.000100", blockId: po.block_id, actionId: po.action_id, value: po.value, responseUrl, blocks });
      const r = await postToBot(eventsUrl, { secret: SIGNING_SECRET, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() });
      expect(r.status).toBe(200);
      const body = (await peer.waitForResponse(responseUrl)).body;
      await slack.idle();
      return { body, responseUrl };
    };
    const alice = await pressAs(ALICE);
    expect(alice.body.replace_original).toBe(true);
    expect(textOf(alice.body)).toContain("PO recorded for SKU-SL (20 units)");
    const bob = await pressAs(BOB);
    expect(bob.body).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(bob.body)).toContain(`is already on record (recorded by slack:${TEAM}:${ALICE}): nothing changed.`);
    expect(peer.responsesTo(bob.responseUrl)).toHaveLength(1); // the shared alert was not replaced
    expect((await app.services.lowStock.state("SKU-SL"))?.po).toMatchObject({ qty: 20, by: `slack:${TEAM}:${ALICE}` });
  });
});

describe("a snooze typed with an English word for its unit", () => {
  it("apart from its number (`2 days`) is answered with the form to type, nothing snoozed; written together it is taken", async () => {
    for (const [typed, form] of [
      ["2 days", "2d"],
      ["1 day", "1d"],
      ["24 hours", "24h"],
      ["30 min", "30m"],
    ] as const) {
      const r = await app.run("shell:sam", `stock snooze SKU-SN ${typed}`);
      expect([r.outcome, r.code], typed).toEqual(["user_error", "invalid_args"]);
      expect(r.reply.text, typed).toContain(`unexpected extra argument "${typed.split(" ")[1]}": write ${form} without the space`);
    }
    expect(await app.services.lowStock.state("SKU-SN")).toBeNull();
    // Chinese as before.
    expect((await zh("shell:sam", "stock snooze SKU-SN 3 天")).reply.text).toContain("多余的参数 \"天\"：请写成 3天，数字和单位之间不要空格");
    const days = await app.run("shell:sam", "stock snooze SKU-SN 2days");
    expect([days.outcome, days.reply.text]).toEqual(["ok", expect.stringMatching(/^Low-stock alerts for SKU-SN are snoozed until 2026-11-27 12:00 GMT\+8;/)]);
    const hours = await app.run("shell:sam", 'stock snooze SKU-SN "36 hours"');
    expect(hours.reply.text).toMatch(/snoozed until 2026-11-27 00:00 GMT\+8;/);
  });

  it("on Slack too: `/stock snooze SKU-SN 2 days` names the form to type", async () => {
    const body = (await harness.slash("snooze SKU-SN 2 days", ALICE, "/stock"))[0]!.body;
    expect(textOf(body)).toContain('unexpected extra argument \\"days\\": write 2d without the space');
  });
});

describe("a quantity typed with a word for pieces", () => {
  it("is answered with the line written with the number alone, in English and Chinese; nothing changes", async () => {
    const cases: [string, string, string][] = [
      ["stock adjust SKU-U +5件 reason=restock", '"+5件"', "`stock adjust SKU-U +5 reason=restock`"],
      ["stock adjust sku-u +5 pcs reason=restock", '"+5 pcs"', "`stock adjust SKU-U +5 reason=restock`"],
      ['stock adjust SKU-U -2pcs reason="box damaged"', '"-2pcs"', '`stock adjust SKU-U -2 reason="box damaged"`'],
      ["stock adjust SKU-U set=40件 reason=count", '"set=40件"', "`stock adjust SKU-U set=40 reason=count`"],
      ["stock adjust SKU-U set=40 pcs reason=count", '"set=40 pcs"', "`stock adjust SKU-U set=40 reason=count`"],
      ["stock po SKU-U eta=2026-12-09 qty=100件", '"qty=100件"', "`stock po SKU-U eta=2026-12-09 qty=100`"],
    ];
    for (const [line, typed, fixed] of cases) {
      const r = await app.run("shell:sam", line);
      expect([r.outcome, r.code], line).toEqual(["user_error", "invalid_args"]);
      expect(r.reply.text, line).toContain(`• ${typed}: stock is counted in units, so a quantity is the number alone, without a unit: ${fixed}. Nothing changed.`);
      expect((await app.store.audit.findById(r.ref).lean())?.subject, line).toBe("SKU-U");
    }
    const z = await zh("shell:sam", "stock adjust SKU-U ＋５件 reason=补货");
    expect(z.reply.text).toContain("• \"+5件\"：库存按件计数，数量只写数字、不带单位：`stock adjust SKU-U +5 reason=补货`。未做任何更改。");
    expect(await app.store.products.findById("SKU-U").lean()).toMatchObject({ onHand: 12, available: 12 });
    expect(await app.store.ledger.countDocuments({ sku: "SKU-U" })).toBe(0);
    expect(await app.services.lowStock.state("SKU-U")).toBeNull();
    // A case or a box is not a unit the bot can count: no line is guessed for it.
    expect((await app.run("shell:sam", "stock adjust SKU-U +5箱 reason=restock")).reply.text).toContain('"+5箱" is not a quantity change');
  });

  it("the change typed before the SKU is answered with the SKU first; nothing changes", async () => {
    const r = await app.run("shell:sam", 'stock adjust -2 sku-u reason="box damaged"');
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toContain('• "-2 sku-u": the SKU comes first, then the change: `stock adjust SKU-U -2 reason="box damaged"`. Nothing changed.');
    expect((await app.store.audit.findById(r.ref).lean())?.subject).toBe("SKU-U");
    expect((await zh("shell:sam", "stock adjust +5 SKU-U reason=补货")).reply.text).toContain("• \"+5 SKU-U\"：先写 SKU，再写调整量：`stock adjust SKU-U +5 reason=补货`。未做任何更改。");
    expect(await app.store.products.findById("SKU-U").lean()).toMatchObject({ onHand: 12 });
  });
});
