/**
 * A page of `audit`, `stock low` or `role list` cut short by Slack or Discord (too long for their
 * messages) named its next page by `limit=`/`page=` alone, so it could only end where pages of the
 * rows shown would: page 2 of `audit limit=97` (rows 98–194) had to end at row 98 (pages of one
 * row from there), and page 2 of 90 at row 135 (pages of 45). A cut later page now ends at the
 * last row that fits and names `from=<the next row>` with the page size kept, so the next page
 * goes on right after it, full pages from there; on the shell, Slack and Discord alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet, commandLine, slashLine } from "../adapters/discord/commands.js";
import { MORE_MESSAGES, renderReply } from "../adapters/discord/embeds.js";
import { renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { Formatter } from "../src/core/format.js";
import { translator, type Locale } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
/** The Refs of the trail, newest first (as `audit` lists them). */
const refs: string[] = [];
const TOTAL = 300;

beforeAll(async () => {
  app = await makeTestApp({ SHOPOPS_ADMINS: "shell:admin" });
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  // 300 wide entries (a long actor, command and reason): a page of 97 is longer than Slack's or Discord's messages hold.
  const actor = `shell:${"warehouse-night-shift-lead.".repeat(3)}`.slice(0, 70);
  const start = app.clock.now().getTime() - TOTAL * 60_000;
  for (let i = 0; i < TOTAL; i++) {
    const ref = `E20P${String(i).padStart(4, "0")}`;
    await app.services.audit.add({
      ref,
      at: new Date(start + i * 60_000),
      actor,
      platform: "shell",
      command: "stock adjust",
      args: `SKU-${"&<>".repeat(10)}${String(i).padStart(3, "0")} +1 reason="recount & <check> & recount"`,
      outcome: "user_error",
      code: "unknown_sku",
      message: `No product SKU-${"&<>".repeat(10)}${String(i).padStart(3, "0")}: check the SKU (a long reason & <more>)`,
    });
    refs.unshift(ref);
  }
}, 120_000);
afterAll(() => app.close());

const run = async (text: string, locale: Locale = "en") => (await app.core.invoke({ identity: "shell:mia", platform: "shell", text, locale })).reply;

/** The Refs a rendered text shows, in order. */
const refsIn = (text: string) => [...text.matchAll(/E20P\d{4}/g)].map((m) => m[0]);

/** A reply as Slack shows it (the message and its follow-ups): its rows' Refs and its context lines. */
function slack(reply: Reply): { rows: string[]; context: string } {
  const { more = [], ...first } = renderBlocks(reply);
  const blocks = [first, ...more].flatMap((m) => m.blocks as Block[]);
  const sections = blocks.filter((b) => b.type === "section").map((b) => (b.text as { text: string }).text).join("\n");
  return { rows: refsIn(sections), context: JSON.stringify(blocks.filter((b) => b.type === "context")) };
}

/** A reply as Discord shows it (the message and its follow-ups): its rows' Refs and its footer. */
function discord(reply: Reply, locale: Locale = "en"): { rows: string[]; footer: string } {
  const set = buildCommandSet(app.commands);
  const fmt = new Formatter(locale, app.config.timeZone, app.config.currency);
  const { more = [], ...first } = renderReply(reply, { fmt, now: app.clock.now(), t: translator(locale), slash: (line) => slashLine(set, line), followUps: MORE_MESSAGES });
  const embeds = [first, ...more].flatMap((m) => m.embeds ?? []);
  return { rows: refsIn(embeds.map((e) => e.description ?? "").join("\n")), footer: embeds[0]!.footer!.text };
}

describe("a later page cut short by the platform goes on right after its last row, full pages from there", () => {
  it("Slack: page 2 of `audit limit=97` shows as many rows as fit and names `from=` the next row, limit kept; every row is seen once", async () => {
    const page = await run("audit limit=97 page=2");
    expect(page.table!.rows.map((r) => r[4])).toEqual(refs.slice(97, 194));
    const shown = slack(page);
    const k = shown.rows.length;
    expect(k).toBeGreaterThan(20); // not cut to a row or a few: as many as the messages hold
    expect(k).toBeLessThan(97);
    expect(shown.rows).toEqual(refs.slice(97, 97 + k));
    expect(shown.context).toContain(`Entries 98–${97 + k} of ${TOTAL}`);
    expect(shown.context).toContain(`audit before=${refs[96 + k]} limit=97 from=${98 + k}`);

    // The next page, as the context names it: from the row after the last shown, numbered so.
    const next = await run(`audit before=${refs[96 + k]} limit=97 from=${98 + k}`);
    expect(next.table!.rows.map((r) => r[4])).toEqual(refs.slice(97 + k, 97 + k + 97));
    expect(next.context).toContain(`Entries ${98 + k}–${97 + k + 97} of ${TOTAL}, newest first. Narrow with actor=, command=, since=, subject= or outcome=.`);
    const after = slack(next);
    expect(after.rows).toEqual(refs.slice(97 + k, 97 + k + after.rows.length));
    expect(after.context).toContain(`limit=97 from=${98 + k + after.rows.length}`);
  });

  it("Discord: page 2 of `/audit limit:90` ends at the last row its messages hold (not at row 135), naming `/audit … limit:90 from:<next>`", async () => {
    const page = await run("audit limit=90 page=2");
    const shown = discord(page);
    const k = shown.rows.length;
    expect(k).toBeGreaterThan(45); // more than the 45 that pages of their own size allowed
    expect(k).toBeLessThan(90);
    expect(shown.rows).toEqual(refs.slice(90, 90 + k));
    expect(shown.footer).toContain(`Entries 91–${90 + k} of ${TOTAL}`);
    expect(shown.footer).toContain(`/audit before:${refs[89 + k]} limit:90 from:${91 + k}`);
    const next = discord(await run(`audit before=${refs[89 + k]} limit=90 from=${91 + k}`));
    expect(next.rows[0]).toBe(refs[90 + k]);
    expect(next.footer).toContain(`Entries ${91 + k}–`);
  });
});

describe("stock low and role list: a later page cut short goes on with from=", () => {
  it("Discord: page 2 of `/stock low limit:45` of long names ends at the last row shown and names `from:`; that page starts right after it", async () => {
    const skus = Array.from({ length: 120 }, (_, i) => `SKU-E20-${String(i).padStart(3, "0")}`);
    await app.store.products.insertMany(skus.map((sku) => product(sku, { name: `${sku} ${"保温杯".repeat(200)}`, onHand: 0, reorderPoint: 10 })));
    const ranked = (await run("stock low limit=50 page=1")).table!.rows.map((r) => r[0]!);
    ranked.push(...(await run("stock low limit=50 page=2")).table!.rows.map((r) => r[0]!), ...(await run("stock low limit=50 page=3")).table!.rows.map((r) => r[0]!));
    expect(ranked).toHaveLength(120);
    const skusIn = (text: string) => [...text.matchAll(/^(SKU-E20-\d{3})/gm)].map((m) => m[1]!);

    const set = buildCommandSet(app.commands);
    const fmt = new Formatter("en", app.config.timeZone, app.config.currency);
    const render = (r: Reply) => {
      const { more = [], ...first } = renderReply(r, { fmt, now: app.clock.now(), t: translator("en"), slash: (line) => slashLine(set, line), followUps: MORE_MESSAGES });
      const embeds = [first, ...more].flatMap((m) => m.embeds ?? []);
      return { rows: skusIn(embeds.map((e) => e.description ?? "").join("\n")), footer: embeds[0]!.footer!.text };
    };
    const shown = render(await run("stock low limit=45 page=2"));
    const k = shown.rows.length;
    expect(k).toBeGreaterThan(1);
    expect(k).toBeLessThan(45);
    expect(45 % k).not.toBe(0); // an offset the rows shown do not divide: pages of k could not go on from here
    expect(shown.rows).toEqual(ranked.slice(45, 45 + k));
    expect(shown.footer).toContain(`Showing 46–${45 + k} of 120`);
    expect(shown.footer).toContain(`/stock low limit:45 from:${46 + k}`);
    // The option as Discord sends it runs the page that goes on right after the last row shown.
    const line = commandLine(set.routes.get("stock low")!, new Map<string, number>([["limit", 45], ["from", 46 + k]]));
    expect(line).toBe(`stock low limit=45 from=${46 + k}`);
    const next = await run(line);
    expect(next.table!.rows.map((r) => r[0])).toEqual(ranked.slice(45 + k, 90 + k));
    expect(next.context![0]).toBe(`Showing ${46 + k}–${90 + k} of 120, most urgent first.`);
  });

  it("Slack: page 2 of `role list limit=97` of wide rows ends at the last row shown and names `from=`; that page starts right after it", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `shell:${String(i).padStart(3, "0")}-${"regional-fulfilment-supervisor-".repeat(3)}`.slice(0, 98));
    await app.store.roles.insertMany(ids.map((id) => ({ _id: id, role: "staff", grantedBy: `shell:${"a&b<c>".repeat(60)}`, grantedAt: new Date("2026-11-01T00:00:00Z") })));
    const roles = async (text: string) => (await app.run("shell:admin", text)).reply.table!.rows.map((r) => r[0]!);
    const all = [...(await roles("role list limit=100 page=1")), ...(await roles("role list limit=100 page=2")), ...(await roles("role list limit=100 page=3"))];
    expect(all).toHaveLength(252); // shell:admin, shell:mia and the 250

    const posts = renderBlocks((await app.run("shell:admin", "role list limit=97 page=2")).reply);
    const blocks = [posts, ...(posts.more ?? [])].flatMap((m) => m.blocks as Block[]);
    const text = blocks.filter((b) => b.type === "section").map((b) => (b.text as { text: string }).text).join("\n");
    const rows = all.filter((id) => text.includes(id));
    const k = rows.length;
    expect(k).toBeGreaterThan(1);
    expect(k).toBeLessThan(97);
    expect(rows).toEqual(all.slice(97, 97 + k));
    const context = JSON.stringify(blocks.filter((b) => b.type === "context"));
    expect(context).toContain(`Rows 98–${97 + k} of 252`);
    expect(context).toContain(`role list limit=97 from=${98 + k}`);
    const next = await app.run("shell:admin", `role list limit=97 from=${98 + k}`);
    expect(next.reply.table!.rows.map((r) => r[0])).toEqual(all.slice(97 + k, 194 + k));
    expect(next.reply.context).toContain(`Rows ${98 + k}–${194 + k} of 252: bootstrap admins first, then by identity.`);
  });
});

describe("from= on the shell, and refused when wrong", () => {
  it("`audit limit=10 from=7` lists rows 7–16 and goes on at row 17, pages of 10; one landing on a page's start goes on by page=", async () => {
    const page = await run("audit limit=10 from=7");
    expect(page.table!.rows.map((r) => r[4])).toEqual(refs.slice(6, 16));
    expect(page.context).toEqual([
      `Entries 7–16 of ${TOTAL}, newest first. Narrow with actor=, command=, since=, subject= or outcome=.`,
      `Next page: \`audit before=${refs[15]} limit=10 from=17\``,
      expect.stringContaining("audit ref="),
    ]);
    const next = await run(`audit before=${refs[15]} limit=10 from=17`);
    expect(next.table!.rows.map((r) => r[4])).toEqual(refs.slice(16, 26));
    expect(next.context![1]).toBe(`Next page: \`audit before=${refs[25]} limit=10 from=27\``);
    // Rows 11–20 are page 2 of 10: the next is page 3.
    expect((await run("audit limit=10 from=11")).context![1]).toBe(`Next page: \`audit before=${refs[19]} limit=10 page=3\``);
    const zh = await run("stock low limit=10 from=7", "zh-CN");
    expect(zh.context).toEqual(["显示第 7–16 个，共 120 个，最紧急的在前。", "下一页：`stock low limit=10 from=17`"]);
  });

  it("a from= that is no row number, page= beside it, or a row past the end is refused, saying how to do it right (en, zh)", async () => {
    for (const typed of ["0", "-3", "abc", "1.5"]) {
      const r = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: `audit from=${typed}` });
      expect([r.outcome, r.reply.text]).toEqual(["user_error", `Invalid arguments for \`audit\`:\n• from=: "${typed}" is not a row number from 1 to 1000000 for the page to start at, e.g. from=41.`]);
    }
    expect((await run("stock low from=0", "zh-CN")).text).toBe('`stock low` 的参数无效：\n• from=: "0" 不是 1 到 1000000 之间的起始行号，例如 from=41。');
    const both = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: "stock low page=2 from=5" });
    expect([both.outcome, both.code, both.reply.text]).toEqual(["user_error", "page_and_from", "page=2 and from=5 both say where the page starts: give one of them (from=41 starts it at row 41)."]);
    expect((await run("audit page=2 from=5", "zh-CN")).text).toBe("page=2 和 from=5 都指定了本页从哪里开始：只能给出其中一个（from=41 表示从第 41 行开始）。");
    const past = await app.run("shell:admin", "role list from=1000");
    expect([past.outcome, past.code, past.reply.text]).toEqual(["user_error", "page_out_of_range", "from=1000 is past the last row: there are 252. Give a row from 1 to 252."]);
    expect((await run(`audit from=${TOTAL + 1}`, "zh-CN")).text).toBe(`from=${TOTAL + 1} 超出了最后一行：共 ${TOTAL} 行。请给出 1 到 ${TOTAL} 之间的行号。`);
    expect((await run("audit ref=E20P0001 from=3")).text).toContain("drop from=");
  });

  it("help and Discord name from= for the three lists (en, zh); on Discord it is a whole-number option", async () => {
    expect(JSON.stringify((await run("help audit")).fields)).toContain("[page=<n>|from=<row>]");
    expect(JSON.stringify((await run("help stock low", "zh-CN")).fields)).toContain("[page=<页码>|from=<行号>]");
    expect(JSON.stringify((await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "help role list" })).reply.fields)).toContain("[page=<n>|from=<row>]");
    const set = buildCommandSet(app.commands);
    type Opt = { name: string; type: number; min_value?: number; max_value?: number; description_localizations?: Record<string, string>; options?: Opt[] };
    const defs = set.definitions as unknown as Opt[];
    const sub = (top: string, name?: string) => (name ? defs.find((d) => d.name === top)!.options!.find((o) => o.name === name)! : defs.find((d) => d.name === top)!);
    for (const cmd of [sub("audit"), sub("stock", "low"), sub("role", "list")]) {
      const from = cmd.options!.find((o) => o.name === "from")!;
      expect([from.type, from.min_value, from.max_value, from.description_localizations!["zh-CN"]]).toEqual([4, 1, 1_000_000, "从第几行开始"]);
    }
  });
});
