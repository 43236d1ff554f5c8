/**
 * Platform limits and user text in the renderers, without a database: cuts never split an emoji,
 * Slack tables are cut by whole rows with a note, user text is literal on Discord, backticks in
 * a cell cannot close a table's code block, and logs keep their newest entries when cut.
 */
import { describe, expect, it } from "vitest";
import { renderReply, LIMITS } from "../adapters/discord/embeds.js";
import { renderText } from "../adapters/shell/render.js";
import { fallbackText, renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { complaintCard } from "../commands/complaint.view.js";
import { loadConfig } from "../src/config.js";
import type { Actor, CommandContext } from "../src/core/command.js";
import { Formatter } from "../src/core/format.js";
import { translator, type Locale } from "../src/core/messages.js";
import { loadCommands } from "../src/core/registry.js";
import { breakBacktickRuns, clip, clipOldest, clipStart, moreMarker, type Reply } from "../src/core/reply.js";
import type { ComplaintService } from "../src/services/complaint.service.js";
import type { ComplaintDoc } from "../src/store/models.js";

const fmt = new Formatter("en", "UTC", "USD");
const now = new Date("2026-11-25T12:00:00Z");
const t = translator("en");
const discord = (r: Reply, locale: Locale = "en") => renderReply(r, { fmt, now, t: translator(locale) }).embeds[0]!;

/** True when `s` holds no unpaired surrogate (what Discord cannot store). */
function wellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Every string in a rendered message. */
function strings(x: unknown): string[] {
  if (typeof x === "string") return [x];
  if (Array.isArray(x)) return x.flatMap(strings);
  if (x && typeof x === "object") return Object.values(x).flatMap(strings);
  return [];
}

/** The mrkdwn text of Slack's section blocks (not field sections). */
const sectionTexts = (blocks: Block[]) => blocks.filter((b) => b.type === "section" && b.text).map((b) => (b.text as { text: string }).text);

const ANGRY = "Package arrived crushed, very upset!!!😡😡 please help";

describe("cuts keep emoji whole", () => {
  it("clip never ends on half an emoji, whatever the limit", () => {
    for (let n = 1; n <= ANGRY.length + 1; n++) {
      const cut = clip(ANGRY, n);
      expect(cut.length, `n=${n}`).toBeLessThanOrEqual(n);
      expect(wellFormed(cut), `n=${n}: ${JSON.stringify(cut)}`).toBe(true);
    }
    // The reviewer's case: a 40-character cell whose emoji sits on code units 38–39.
    expect(clip(ANGRY, 40)).toBe("Package arrived crushed, very upset!!!…");
  });

  it("clipStart never starts on half an emoji, whatever the limit", () => {
    for (let n = 1; n <= ANGRY.length + 1; n++) {
      const cut = clipStart(ANGRY, n);
      expect(cut.length, `n=${n}`).toBeLessThanOrEqual(n);
      expect(wellFormed(cut), `n=${n}: ${JSON.stringify(cut)}`).toBe(true);
    }
  });

  it("an emoji on each Discord and Slack limit stays whole in the rendered message", () => {
    const at = (n: number) => "x".repeat(n - 2) + "😡" + "tail"; // the emoji on units n-1 and n
    const reply: Reply = {
      title: at(LIMITS.title),
      text: at(LIMITS.description),
      fields: [{ label: at(LIMITS.fieldName), value: at(LIMITS.fieldValue) }, { label: "slack", value: at(2000) }],
      actions: [{ id: "help", label: at(LIMITS.label) }, { id: "help", label: at(75) }],
      context: [at(LIMITS.footer)],
      visibility: "public",
    };
    const d = renderReply(reply, { fmt, now, t });
    const s = renderBlocks({ ...reply, title: at(150) });
    for (const str of [...strings(d), ...strings(s)]) expect(wellFormed(str), JSON.stringify(str.slice(-8))).toBe(true);
  });
});

describe("logs keep their newest entries", () => {
  const log = Array.from({ length: 40 }, (_, i) => `2026-11-${String(i % 28 + 1).padStart(2, "0")} 10:00 UTC agent${i}: entry number ${i}`).join("\n");

  it("clipOldest drops whole entries from the start and says how many", () => {
    const cut = clipOldest(log, 500);
    expect(cut.length).toBeLessThanOrEqual(500);
    const lines = cut.split("\n");
    expect(lines[0]).toBe(moreMarker(40 - (lines.length - 1)));
    expect(lines.at(-1)).toContain("entry number 39");
    expect(lines[1]).toMatch(/^2026-11-\d\d 10:00 UTC agent\d+: entry number \d+$/); // whole entries only
  });

  it("a complaint's long history shows its latest entries on Discord and on Slack", () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ at: new Date(now.getTime() - (30 - i) * 3_600_000), by: "slack:T1:U42", action: "assign", to: `agent${i}`, note: `handed over with a long explanation, part ${i}` }));
    history.push({ at: now, by: "slack:T1:U7", action: "resolve", to: "", note: "Resolved: refunded in full" } as (typeof history)[number]);
    const c = {
      _id: "C-7K2M9Q", severity: "high", status: "resolved", text: "Where is my parcel?", customerId: "cust-1", category: "delivery", source: "other",
      createdAt: new Date(now.getTime() - 40 * 3_600_000), createdBy: "api", history,
    } as unknown as ComplaintDoc;
    const clock = { dueAt: now, state: "met", doneAt: now } as const;
    const services = { complaints: { sla: () => ({ firstResponse: clock, resolution: clock }) } as unknown as ComplaintService };
    const card = complaintCard(c, services, { t, fmt, now });
    const field = (name: string) => discord(card).fields!.find((f) => f.name === name)!.value;
    const onDiscord = field(t("complaint.history"));
    expect(onDiscord.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(onDiscord).toContain("Resolved: refunded in full");
    expect(onDiscord.split("\n")[0]).toMatch(/^… \+\d+$/);
    expect(onDiscord).not.toContain("part 0\n");
    const slack = renderBlocks({ ...card, fields: card.fields!.map((f) => (f.newestLast ? { ...f, value: f.value + "\n" + f.value } : f)) });
    // The label in bold, then the history as typed (plain_text) in the section after it.
    const sections = slack.blocks.map((b) => (b.text as { type: string; text: string } | undefined));
    const label = sections.findIndex((x) => x?.text === `*${t("complaint.history")}*`);
    expect(sections[label + 1]!.type).toBe("plain_text");
    const onSlack = sections[label + 1]!.text;
    expect(onSlack.length).toBeLessThanOrEqual(2000);
    expect(onSlack.split("\n")[0]).toMatch(/^… \+\d+$/);
    expect(onSlack).toContain("Resolved: refunded in full");
  });

  it("Discord's fitAround shortens a long log from the start, so its newest entry stays", () => {
    const big = (i: number) => ({ label: `f${i}`, value: `${i}`.repeat(1000) });
    const reply: Reply = { fields: [big(1), big(2), big(3), big(4), { label: "History", value: log + "\n" + log, newestLast: true }], visibility: "public" };
    const e = discord(reply);
    const history = e.fields!.find((f) => f.name === "History")!.value;
    expect(e.fields!.reduce((s, f) => s + f.value.length, 0)).toBeLessThanOrEqual(LIMITS.total - 1200);
    expect(history.length).toBeLessThan(1000);
    expect(history.endsWith("entry number 39")).toBe(true);
  });
});

describe("Slack tables are cut by whole rows", () => {
  const rows = (n: number, cell = "") => Array.from({ length: n }, (_, i) => [`SKU-${1000 + i}`, `Product & name ${i}${cell}`.padEnd(60, "."), String(i)]);

  it("a table over 3,000 characters is split across sections between rows: every row is shown", () => {
    const table = { columns: ["sku", "name", "qty"], rows: rows(60) };
    const texts = sectionTexts(renderBlocks({ title: "T", table, visibility: "public" }).blocks);
    expect(texts.length).toBeGreaterThan(1);
    for (const s of texts) {
      expect(s.length).toBeLessThanOrEqual(3000);
      expect(s).toMatch(/^```[^`]*```$/);
    }
    const shown = texts.join("\n");
    for (const r of table.rows) expect(shown).toContain(r[0]! + "  " + r[1]!.replace("&", "&amp;"));
    expect(shown).not.toContain("… +");
  });

  it("rows that do not fit are left out whole, and a note says how many", () => {
    const table = { columns: ["sku", "name", "qty"], rows: rows(400) };
    const msg = renderBlocks({ title: "T", table, context: ["Showing 400"], visibility: "public" });
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    expect(msg.blocks.at(-1)!.type).toBe("context"); // the context line is kept
    const texts = sectionTexts(msg.blocks);
    expect(JSON.stringify(msg.blocks).length).toBeLessThan(13_000);
    const note = texts.at(-1)!.split("\n").at(-1)!;
    expect(note).toMatch(/^… \+\d+$/);
    const shownRows = texts.join("\n").split("\n").filter((l) => l.startsWith("SKU-") || l.startsWith("```SKU-"));
    expect(shownRows.length + Number(note.slice(3))).toBe(400);
    for (const l of shownRows) expect(l).toMatch(/\.{3,} +\d+(```)?$/); // no row cut in the middle
  });

  it("help as admin lists every command name on Slack and on Discord, in both languages", async () => {
    const commands = await loadCommands("commands");
    const help = commands.find((c) => c.name === "help")!;
    for (const locale of ["en", "zh-CN"] as const) {
      const actor: Actor = { identity: "slack:T1:U1", platform: "slack", role: "admin" };
      // With a configuration: the role `digest` needs follows DIGEST_STAFF.
      const ctx = { args: {}, actor, t: translator(locale), commands, config: loadConfig({}) } as unknown as CommandContext<{ command?: string }>;
      const reply = await help.handler(ctx as never);
      const slack = strings(renderBlocks(reply).blocks).join("\n");
      const d = renderReply(reply, { fmt, now, t: translator(locale) });
      const onDiscord = strings(d.embeds).join("\n");
      for (const c of commands) {
        expect(slack, `${locale} Slack: ${c.name}`).toContain("`" + c.name + "`");
        expect(onDiscord, `${locale} Discord: ${c.name}`).toContain("`" + c.name + "`");
      }
      expect(d.embeds[0]!.fields!.length).toBeLessThanOrEqual(LIMITS.fields);
    }
  });
});

describe("user text is literal", () => {
  const phish = "Refund me now [Verify your account](https://evil.example/login) **now**";
  const maskedLink = /(^|[^\\])\[[^\]]*\]\(/;

  it("Discord escapes markdown and masked links in plain text and plain fields, not in the bot's own", () => {
    const reply: Reply = {
      text: phish,
      plainText: true,
      fields: [
        { label: "Customer", value: phish, plain: true },
        { label: "Usage", value: "`stock low` — **bold** on purpose" },
      ],
      visibility: "public",
    };
    const e = discord(reply);
    expect(e.description).not.toMatch(maskedLink);
    expect(e.description).toContain("\\*\\*now\\*\\*");
    expect(e.fields![0]!.value).not.toMatch(maskedLink);
    expect(e.fields![1]!.value).toBe("`stock low` — **bold** on purpose");
    // Text not marked as typed by someone is the bot's (messages with `code`): left alone.
    expect(discord({ text: "Type `help`", visibility: "public" }).description).toBe("Type `help`");
  });

  it("a complaint card shows the customer's link literally on Discord", () => {
    const c = {
      _id: "C-1", severity: "normal", status: "new", text: phish, customerId: "[me](https://evil.example)", category: "other", source: "other",
      createdAt: now, createdBy: "api", history: [{ at: now, by: "api", action: "created", note: "[x](https://evil.example)" }],
    } as unknown as ComplaintDoc;
    const clock = { dueAt: now, state: "running", leftMs: 3_600_000 } as const;
    const services = { complaints: { sla: () => ({ firstResponse: clock, resolution: clock }) } as unknown as ComplaintService };
    const e = discord(complaintCard(c, services, { t, fmt, now }));
    for (const s of [e.description!, ...e.fields!.map((f) => f.value)]) expect(s).not.toMatch(maskedLink);
  });

  it("``` in a table cell cannot close the code block, on Slack or on Discord", () => {
    const reply: Reply = { table: { columns: ["id", "text"], rows: [["C-1", "```[Refund portal](https://x.co/a)```"], ["C-2", "fine"]] }, visibility: "public" };
    const d = discord(reply).description!;
    expect(d.match(/```/g)).toHaveLength(2); // the fence's own
    expect(d).toContain(breakBacktickRuns("```"));
    for (const s of sectionTexts(renderBlocks(reply).blocks)) expect(s.match(/```/g)).toHaveLength(2);
  });
});

describe("a table that comes first (the digest): title, text, table, then fields on every platform", () => {
  const reply: Reply = {
    title: "Daily digest: 2026-11-24",
    status: "warning",
    text: "⚠ Anomalies (moves of 30% or more the wrong way): GMV −50.0% vs previous day.",
    table: { columns: ["Figure", "Value"], rows: [["GMV", "$1,000.00"]] },
    tableFirst: true,
    fields: [
      { label: "Top 5 by revenue", value: "SKU-1 Mug: $10.00, 1 unit" },
      { label: "Revenue by channel", value: "web: $10.00 (100.0%)", inline: true },
    ],
    context: ["Definitions: README"],
    visibility: "public",
  };

  it("in the shell", () => {
    const order = (out: string) => ["Daily digest", "⚠ Anomalies", "Figure", "Top 5 by revenue", "Revenue by channel", "Definitions"].map((s) => out.indexOf(s));
    const first = order(renderText(reply));
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(first.every((i) => i >= 0)).toBe(true);
    // Unset: fields first (an order's details above its lines), as before.
    const plain = renderText({ ...reply, tableFirst: undefined });
    expect(plain.indexOf("Top 5 by revenue")).toBeLessThan(plain.indexOf("Figure"));
  });

  it("on Slack", () => {
    const kinds = (blocks: Block[]) =>
      blocks.map((b) => {
        if (b.type !== "section") return b.type;
        if (b.fields) return "fields";
        const text = (b.text as { text: string }).text;
        return text.startsWith("```") ? "table" : text.startsWith("*") ? "field" : "text";
      });
    expect(kinds(renderBlocks(reply).blocks)).toEqual(["header", "text", "table", "field", "fields", "context"]);
    expect(kinds(renderBlocks({ ...reply, tableFirst: undefined }).blocks)).toEqual(["header", "text", "field", "fields", "table", "context"]);
  });

  it("on Discord: the anomalies and the table in the description above the fields, the footer only small print", () => {
    const e = discord(reply);
    expect(e.description).toMatch(/^⚠ Anomalies .*\n```\nFigure/);
    expect(e.fields!.map((f) => f.name)).toEqual(["Top 5 by revenue", "Revenue by channel"]);
    expect(e.footer!.text).toBe(`Definitions: README · ${fmt.dateTime(now)}`);
  });

  it("on Discord the fields give way to a table that comes first, not the other way", () => {
    const rows = Array.from({ length: 14 }, (_, i) => [`Figure number ${i}`, "$123,456.78", "+12.5% ⚠", "−3.0%"]);
    const busy: Reply = {
      ...reply,
      text: "⚠ Anomalies: " + Array.from({ length: 20 }, (_, i) => `Figure number ${i} −50.0% vs previous day`).join("; "),
      table: { columns: ["Figure", "Value", "vs prev. day", "vs prev. Tue"], rows },
      fields: Array.from({ length: 5 }, (_, i) => ({ label: `List ${i}`, value: `line ${i} `.repeat(150) })),
    };
    const first = discord(busy);
    expect(first.description).not.toContain("table cut");
    for (const r of rows) expect(first.description).toContain(r[0]!);
    const size = (e: typeof first) => (e.title?.length ?? 0) + (e.description?.length ?? 0) + e.footer!.text.length + e.fields!.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(size(first)).toBeLessThanOrEqual(LIMITS.total);
    // Unset: the table gets what the fields leave (it is cut here).
    expect(discord({ ...busy, tableFirst: undefined }).description).toContain("table cut");
  });
});

describe("Slack notification text", () => {
  it("joins a title and its text readably: no colon after a sentence or a Chinese colon", () => {
    expect(fallbackText({ title: "You have C-5XNF2H now.", text: "parcel lost", visibility: "public" })).toBe("You have C-5XNF2H now. parcel lost");
    expect(fallbackText({ title: "销售日报：2026-11-24", text: "⚠ 异常波动", visibility: "public" })).toBe("销售日报：2026-11-24 — ⚠ 异常波动");
    expect(fallbackText({ title: "Daily digest: 2026-11-24", visibility: "public" })).toBe("Daily digest: 2026-11-24");
  });
});
