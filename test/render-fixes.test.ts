/**
 * Rendering fixes: long complaint texts whole on Slack, what people typed shown literally on
 * Slack, the SKU in a stock card's title whatever the name's length, digest lines that keep
 * their figures, tables aligned around emoji, thousands grouped on the chart's orders axis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS, renderReply } from "../adapters/discord/embeds.js";
import { renderTable } from "../adapters/shell/render.js";
import { renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { complaintCard } from "../commands/complaint.view.js";
import { renderDigest, type DigestRenderCtx } from "../commands/digest.command.js";
import { loadConfig } from "../src/config.js";
import { addDays, displayWidth, Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { ChartService, dailySpec } from "../src/services/chart.service.js";
import type { ComplaintService } from "../src/services/complaint.service.js";
import type { Digest, SalesFigures } from "../src/services/digest.service.js";
import type { StockView } from "../src/services/stock.service.js";
import type { ComplaintDoc } from "../src/store/models.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

const fmt = new Formatter("en", "UTC", "USD");
const now = new Date("2026-11-25T12:00:00Z");
const t = translator("en");

type TextObject = { type: "plain_text" | "mrkdwn"; text: string };
/** Every text object of Slack blocks: section texts and fields, context elements, headers. */
function textObjects(blocks: Block[]): TextObject[] {
  return blocks.flatMap((b) => [...(b.text ? [b.text as TextObject] : []), ...((b.fields ?? b.elements ?? []) as TextObject[]).filter((e) => e.type === "plain_text" || e.type === "mrkdwn")]);
}
/** What Slack shows of escaped text. */
const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** A complaint card, as `complaint show` draws it. */
function card(over: Partial<ComplaintDoc>): Reply {
  const c = {
    _id: "C-7K2M9Q", severity: "high", status: "new", text: "Where is my parcel?", customerId: "cust-1", orderNo: "ORD-1", category: "delivery", source: "other",
    createdAt: now, createdBy: "api", history: [{ at: now, by: "api", action: "created" }], ...over,
  } as unknown as ComplaintDoc;
  const clock = { dueAt: now, state: "running", leftMs: 3_600_000 } as const;
  const services = { complaints: { sla: () => ({ firstResponse: clock, resolution: clock }) } as unknown as ComplaintService };
  return complaintCard(c, services, { t, fmt, now });
}

describe("Slack shows a long complaint whole", () => {
  // 3,999 characters (the API takes 4,000), with characters to escape and no line breaks.
  const words = Array.from({ length: 500 }, (_, i) => `w${String(i).padStart(3, "0")}${i % 10 === 0 ? "&<>" : ""}`);
  const text = words.join(" ").padEnd(3999, ".");

  it("complaint show and the escalation card: the text over several sections, cut between words, nothing lost", () => {
    expect(text.length).toBe(3999);
    const show = card({ text });
    const escalation: Reply = { ...show, title: "Complaint C-7K2M9Q (high) escalated by slack:T1:U1", context: ["Reason: customer threatens chargeback", "It waits for a manager to claim it."], status: "warning", visibility: "public" };
    for (const reply of [show, escalation]) {
      const msg = renderBlocks(reply);
      expect(msg.blocks.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(msg.blocks).length).toBeLessThan(12_000);
      // The text's sections: between the header and the fields.
      const pieces = msg.blocks.slice(1).filter((b) => b.type === "section" && b.text && !String((b.text as TextObject).text).startsWith("*"));
      const texts = pieces.map((b) => (b.text as TextObject).text).filter((s) => s.includes("w0") || s.startsWith("w"));
      expect(texts.length).toBeGreaterThan(1);
      for (const s of texts) {
        expect(s.length).toBeLessThanOrEqual(3000);
        expect(s).not.toMatch(/&(?!amp;|lt;|gt;)/); // no entity cut in half
        expect(s).not.toContain("…");
      }
      // Every word whole, in order: the pieces joined at their cuts give the text back.
      expect(texts.map(unescape).join(" ")).toBe(text);
    }
  });

  it("a text with lines is cut at a line break", () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i}: ${"x".repeat(40)}`).join("\n");
    const texts = textObjects(renderBlocks(card({ text: lines })).blocks).filter((o) => o.text.startsWith("line "));
    expect(texts.length).toBe(2);
    expect(texts.map((o) => o.text).join("\n")).toBe(lines);
  });
});

describe("Slack shows what people typed literally", () => {
  const typed = "Used code *SAVE10* but _nothing_ applied ~twice~. See `ORD-1`\n```rest <!channel> <@U123> & <https://evil.example|click>";

  it("the complaint's text, customer and history notes are plain_text; labels stay bold; mentions stay inert", () => {
    const reply = card({ text: typed, customerId: "a_b_c*d*", history: [{ at: now, by: "api", action: "created", note: "with *bold* note" }] as ComplaintDoc["history"] });
    const objects = textObjects(renderBlocks(reply).blocks);
    const shown = (needle: string) => objects.filter((o) => unescape(o.text).includes(needle));
    for (const needle of ["*SAVE10*", "a_b_c*d*", "with *bold* note"]) {
      expect(shown(needle).length, needle).toBeGreaterThan(0);
      for (const o of shown(needle)) expect(o.type, needle).toBe("plain_text");
    }
    // The text's piece: as typed, with Slack's control characters escaped, so no mention or link is live.
    const text = shown("*SAVE10*")[0]!.text;
    expect(unescape(text)).toBe(typed);
    expect(text).toContain("&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(objects.some((o) => o.type === "mrkdwn" && /<!channel>|<@U123>/.test(o.text))).toBe(false);
    // Labels in bold beside them: the customer's and order's over their values, as the other fields.
    const fieldsSection = renderBlocks(reply).blocks.find((b) => (b.fields as TextObject[] | undefined)?.some((f) => f.text === "*Customer*"))!;
    const cells = (fieldsSection.fields as TextObject[]).map((f) => `${f.type}:${f.text}`);
    expect(cells).toEqual([
      "mrkdwn:*Status*\nNew",
      "mrkdwn:*Assignee*\nnobody",
      "mrkdwn:*Customer*",
      "mrkdwn:*Order*",
      "plain_text:a_b_c*d*",
      "plain_text:ORD-1",
      `mrkdwn:*Category*\n${t("complaint.category.delivery")}`,
      `mrkdwn:*Source*\n${t("complaint.source.other")}`,
    ]);
    const history = objects.findIndex((o) => o.text === "*History*");
    expect(objects[history]!.type).toBe("mrkdwn");
    expect(objects[history + 1]).toMatchObject({ type: "plain_text", text: expect.stringContaining("with *bold* note") });
  });

  it("the bot's own text and fields stay mrkdwn (code spans, bold on purpose)", () => {
    const objects = textObjects(renderBlocks({ text: "Type `help`", fields: [{ label: "Usage", value: "`stock low` *now*" }], visibility: "public" }).blocks);
    expect(objects.map((o) => o.type)).toEqual(["mrkdwn", "mrkdwn"]);
    expect(objects[1]!.text).toBe("*Usage*\n`stock low` *now*");
  });
});

describe("stock card with a long name", () => {
  let app: TestApp;
  const longName = "Ultra-Premium ".repeat(14) + "Thermos"; // 203 characters: cut to 200 by ingestion, here as stored
  const name = longName.slice(0, 200);
  const sku = "SKU-" + "L".repeat(60); // 64 characters, the longest a SKU may be

  beforeAll(async () => {
    app = await makeTestApp();
    await app.store.products.insertMany([product(sku, { name }), product("SKU-SHORT", { name: "Mug" }), product("SKU-LINK", { name: "Cup", supplier: "[sup](https://evil.example/s)", category: "[cat](https://evil.example/c)" })]);
  });
  afterAll(() => app.close());

  it("the SKU stays in the title on Slack and Discord, the name is cut there and shown whole in a field", async () => {
    const r = await app.run("shell:viewer", `stock ${sku}`);
    expect(r.outcome).toBe("ok");
    const header = renderBlocks(r.reply).blocks[0]!;
    const title = (header.text as TextObject).text;
    expect(title.length).toBeLessThanOrEqual(150);
    expect(title.endsWith(`(${sku})`)).toBe(true);
    expect(title).toContain("Ultra-Premium");
    const embed = renderReply(r.reply, { fmt, now, t }).embeds[0]!;
    expect(embed.title!.length).toBeLessThanOrEqual(LIMITS.title);
    expect(embed.title!.endsWith(`(${sku})`)).toBe(true);
    expect(r.reply.fields!.find((f) => f.label === "Name")).toMatchObject({ value: name, plain: true });
    // A short name as before: no extra field.
    const short = await app.run("shell:viewer", "stock SKU-SHORT");
    expect(short.reply.title).toBe("Mug (SKU-SHORT)");
    expect(short.reply.fields!.some((f) => f.label === "Name")).toBe(false);
  });

  it("a supplier or category sent by the shop's systems shows as written: a markdown link is no link on Discord", async () => {
    const r = await app.run("shell:viewer", "stock SKU-LINK");
    const fields = renderReply(r.reply, { fmt, now, t }).embeds[0]!.fields!;
    for (const label of ["Supplier", "Category"]) {
      const value = fields.find((f) => f.name === label)!.value;
      expect(value, label).not.toMatch(/(?<!\\)\[[a-z]+(?<!\\)\]\(https/);
      expect(value.replace(/\\/g, ""), label).toMatch(/^\[(sup|cat)\]\(https:\/\/evil\.example\/[sc]\)$/);
    }
  });
});

describe("digest with long product names", () => {
  const sales = (day: string): SalesFigures => ({
    day, gmv: 100000, orders: 10, units: 20, aov: 10000, refunds: 0, refundCount: 0, refundRate: 0, net: 100000, discount: 0, couponUses: 0, newCustomers: 5, returningCustomers: 5,
    bySku: new Map(), byChannel: new Map(), otherCurrency: 0, otherCurrencyRefunds: 0,
  });
  const sku = (i: number) => `SKU-${i}-${"X".repeat(50)}`;
  const longName = (i: number) => `Product ${i} ` + "with a very long descriptive name ".repeat(6);

  it("every product of the top 5 and of the low-stock list keeps its line and figures on Discord and Slack", async () => {
    const day = "2026-11-24";
    const products = [1, 2, 3, 4, 5].map((i) => ({ sku: sku(i), name: longName(i).slice(0, 200), revenue: 123456 * i, units: 1000 + i }));
    const worst = [1, 2, 3, 4, 5].map((i) => ({ sku: sku(i), name: longName(i).slice(0, 200), available: 1234 + i, sold: 100, velocityDays: 28, coverDays: 3 }) as unknown as StockView);
    const d: Digest = {
      day, partial: false, currency: "USD",
      sales: { day: sales(day), prev: sales(addDays(day, -1)), week: sales(addDays(day, -7)) },
      complaints: { day: { opened: 0, resolved: 0, overdue: 0 }, prev: { opened: 0, resolved: 0, overdue: 0 }, week: { opened: 0, resolved: 0, overdue: 0 } } as unknown as Digest["complaints"],
      topByRevenue: products,
      topByUnits: products,
      byCategory: [{ key: "Home", revenue: 1000 }],
      byChannel: [{ key: "web", revenue: 1000 }],
      lowStock: { count: 40, worst },
      series: Array.from({ length: 14 }, (_, i) => ({ day: addDays(day, i - 13), gmv: 0, orders: 0 })),
    };
    const ctx = { t, fmt, config: loadConfig({}), locale: "en", services: { chart: { dailyPng: async () => new Uint8Array([137]) } } };
    const reply = await renderDigest(d, true, ctx as unknown as DigestRenderCtx);
    const embed = renderReply(reply, { fmt, now, t }).embeds[0]!;
    const field = (label: string) => embed.fields!.find((f) => f.name.startsWith(label))!.value;
    for (const label of ["Top 5 by revenue", "Top 5 by units"]) {
      const lines = field(label).split("\n");
      expect(lines, label).toHaveLength(5);
      products.forEach((p, i) => {
        expect(lines.find((l) => l.startsWith(p.sku + " ")), `${label} ${i}`).toMatch(new RegExp(`: ${fmt.figure(p.revenue, "USD").replace(/[$.]/g, "\\$&")}, ${fmt.number(p.units)} units$`));
      });
    }
    const low = field("Low-stock products").split("\n");
    expect(low).toHaveLength(5);
    worst.forEach((v) => expect(low.find((l) => l.startsWith(v.sku + " "))).toMatch(new RegExp(`: ${fmt.number(v.available)} available, \\d+(\\.\\d)? days of cover$`)));
    // Slack: the same lines, whole.
    const slack = textObjects(renderBlocks(reply).blocks).map((o) => unescape(o.text)).join("\n");
    for (const p of products) expect(slack).toContain(`${fmt.number(p.units)} units`);
  });
});

describe("tables align around emoji", () => {
  it("an emoji takes two cells, joined emoji and accents count once, CJK stays wide", () => {
    expect(displayWidth("🎁 Gift box")).toBe(11);
    expect(displayWidth("Family 👨‍👩‍👧 pack")).toBe(14);
    expect(displayWidth("Café ❤️ mug")).toBe(11);
    expect(displayWidth("Cafe\u0301")).toBe(4);
    expect(displayWidth("🇨🇳 1️⃣ 👍🏽")).toBe(8);
    expect(displayWidth("保温杯（大号）")).toBe(14);
    expect(displayWidth("a\u200bb © ❤")).toBe(6); // text-style symbols: one cell
  });

  it("stock low's columns after the name line up", () => {
    const rows = [["SKU-1", "🎁 Gift box", "3"], ["SKU-4", "Family 👨‍👩‍👧 pack", "7"], ["SKU-5", "Plain name", "9"]];
    expect(renderTable(["sku", "name", "qty"], rows, [2]).split("\n")).toEqual([
      "sku    name            qty",
      "─────  ──────────────  ───",
      "SKU-1  🎁 Gift box       3",
      "SKU-4  Family 👨‍👩‍👧 pack    7",
      "SKU-5  Plain name        9",
    ]);
  });
});

describe("daily chart", () => {
  it("the paid-orders axis groups thousands, as the GMV axis does", async () => {
    const points = Array.from({ length: 14 }, (_, i) => ({ day: addDays("2026-11-25", i - 13), gmv: 1000 * i, orders: 100_000 * i }));
    const svg = await new ChartService().svg(dailySpec(points, { title: "t", gmv: "GMV", orders: "Orders", day: "Day" }));
    expect(svg).toMatch(/>1,200,000<\/text>/);
    expect(svg).not.toMatch(/>1200000<\/text>/);
  });
});
