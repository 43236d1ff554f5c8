import { z } from "zod";
import { plainTyped, ungrouped } from "../src/core/args.js";
import { defineCommand, type CommandContext } from "../src/core/command.js";
import type { Translate } from "../src/core/messages.js";
import { clip, type Reply, type ReplyStatus } from "../src/core/reply.js";
import type { Formatter } from "../src/core/format.js";
import { coverText, velocityText, type StockStatus, type StockView } from "../src/services/stock.service.js";

/** Characters a stock card's title may take: Slack's 150 for a header, less its longest status icon (17). */
const TITLE_ROOM = 130;

const STATUS: Record<StockStatus, ReplyStatus> = { ok: "ok", low: "warning", cover: "warning", out: "critical", inactive: "info" };

/** The days velocity and cover are over, as the card words them: the last N days, yesterday, or new today. */
function windowKey(v: StockView): "" | "_yesterday" | "_today" {
  return v.newToday ? "_today" : v.velocityDays === 1 ? "_yesterday" : "";
}

/** The stock card of one product, with its low-stock hold (snooze or PO) when one is running. */
async function stockCard(v: StockView, { t, fmt, services }: Pick<CommandContext<unknown>, "t" | "fmt" | "services">): Promise<Reply> {
  const h = services.lowStock.holdOf(await services.lowStock.state(v.sku), v);
  let hold: string | null = null;
  if (h) {
    const po = h.kind === "snooze" ? null : { eta: h.po.eta, qty: h.po.qty ? t("lowstock.po.qty", { qty: fmt.number(h.po.qty) }) : "", by: h.po.by ?? "" };
    const until = h.kind === "po_overdue" ? "" : fmt.dateTime(h.until);
    hold =
      h.kind === "snooze"
        ? t("stock.hold.snooze", { until, by: h.by })
        : h.kind === "snooze_po"
          ? t("stock.hold.snooze_po", { until, eta: po!.eta, qty: po!.qty, by: h.by, poBy: po!.by })
          : h.kind === "po"
            ? t("stock.hold.po", { until, ...po! })
            : t("stock.hold.po_overdue", { sku: v.sku, ...po! });
  }
  const cover = coverText(v, fmt);
  const days = windowKey(v);
  // The title keeps the SKU on every platform (Slack cuts a header at 150 characters, its status
  // icon included): a long name is cut instead, and then shown whole in a field of its own.
  const name = clip(v.name, Math.max(20, TITLE_ROOM - t("stock.title", { name: "", sku: v.sku }).length));
  return {
    title: t("stock.title", { name, sku: v.sku }),
    status: STATUS[v.status],
    fields: [
      { label: t("stock.available"), value: fmt.number(v.available), inline: true },
      { label: t("stock.on_hand"), value: fmt.number(v.onHand), inline: true },
      { label: t("stock.reserved"), value: fmt.number(v.reserved), inline: true },
      { label: t("stock.reorder_point"), value: fmt.number(v.reorderPoint), inline: true },
      // Velocity and cover over the product's own days (fewer than the window for a new product).
      { label: t("stock.velocity"), value: t(`stock.velocity.value${days}`, { perDay: velocityText(v.velocity, fmt), days: v.velocityDays }), inline: true },
      { label: t("stock.cover"), value: cover === null ? t(`stock.cover.none${days}`, { days: v.velocityDays }) : t("stock.cover.value", { days: cover }), inline: true },
      { label: t("stock.lead_time"), value: t("stock.lead_time.value", { days: v.leadTimeDays }), inline: true },
      // Sent by the shop's systems: shown as written, never as markup (a `[link](…)` stays text).
      { label: t("stock.supplier"), value: v.supplier || "—", inline: true, plain: true },
      { label: t("stock.category"), value: v.category, inline: true, plain: true },
      { label: t("stock.price"), value: fmt.money(v.price, v.currency), inline: true },
      { label: t("stock.status"), value: t(`stock.status.${v.status}`) },
      ...(name !== v.name ? [{ label: t("stock.col.name"), value: v.name, plain: true }] : []),
      ...(hold ? [{ label: t("stock.hold"), value: hold }] : []),
    ],
    visibility: "ephemeral",
  };
}

/**
 * The sentence a snooze or a PO reply ends with: whether selling out before `until` is still
 * announced (not for a product already out of stock), after the reply's own text.
 */
export function withSelloutNote(text: string, sellout: boolean, until: Date, t: Translate, fmt: Formatter): string {
  return text + t("text.sentence_sep") + t(sellout ? "lowstock.sellout.announced" : "lowstock.sellout.already_out", { until: fmt.dateTime(until) });
}

/** Words for single pieces a quantity may be typed with (`+5件`, `+5 pcs`): stock counts units, so the number alone is meant. Not a case or a box (箱, 盒), whose size the bot does not know. */
const PIECE_UNITS = /^(件|个|個|只|支|pcs?|pieces?|units?|ea)$/i;

/**
 * A quantity typed with a word for single pieces, attached (`+5件`, `-2pcs`, `100件`) or as the
 * next word (`unit`: `+5 pcs`): the number alone, as plain digits with its sign if it had one
 * (`+5`); null when it is not one.
 */
export function withoutPieceUnit(typed: string, unit?: string): string | null {
  // Commas between thousands too (`+1,000件`): the digits alone.
  const m = /^([+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+))\s*(\D*)$/.exec(plainTyped(typed));
  if (!m) return null;
  const word = unit === undefined ? m[2]! : m[2] ? "" : plainTyped(unit);
  return PIECE_UNITS.test(word) ? ungrouped(m[1]!) : null;
}

/** No product matches `query`: the error, with close SKUs when there are some (shared with `stock adjust`). */
export function unknownSku(query: string, suggestions: string[], t: Translate): Reply {
  return {
    status: "error",
    code: "unknown_sku",
    text: suggestions.length ? t("stock.unknown.suggest", { query, suggestions: suggestions.join(t("text.list_sep")) }) : t("stock.unknown", { query }),
    visibility: "ephemeral",
  };
}

export default defineCommand({
  name: "stock",
  description: "cmd.stock",
  positional: ["...query"],
  usage: { en: "<sku | words>", zh: "<SKU | 商品名关键词>" },
  args: z.object({ query: z.string().trim().min(1).max(100) }),
  examples: ["stock SKU-1001", { en: "stock wireless mouse", zh: "stock 保温杯" }, { en: "stock 保温杯", zh: "stock 不锈钢 500ml" }],
  permission: "viewer",
  mutates: false,
  async handler(ctx) {
    const { args, services, t, fmt } = ctx;
    // `stock SKU-1001.` (the SKU ended as in a sentence): that product.
    const exact = await services.stock.bySku(await services.stock.skuAsMeant(args.query));
    if (exact) return await stockCard(exact, ctx);
    const { matches, total } = await services.stock.search(args.query, 10);
    if (matches.length === 1 && total === 1) return await stockCard(matches[0]!, ctx);
    if (matches.length === 0) {
      return unknownSku(args.query, await services.stock.suggest(args.query), t);
    }
    return {
      title: t("stock.matches.title", { count: total, query: args.query }),
      status: "info",
      table: {
        columns: [t("stock.col.sku"), t("stock.col.name"), t("stock.col.available"), t("stock.col.reorder")],
        // An inactive (discontinued) product marked after its name, as its card's status says: a low
        // one is not a live one running out (`stock low` and the alerts leave it out).
        rows: matches.map((m) => [m.sku, m.active ? m.name : t("stock.matches.inactive", { name: m.name }), fmt.number(m.available), fmt.number(m.reorderPoint)]),
        alignRight: [2, 3],
      },
      context: [
        t("stock.matches.more", { shown: matches.length, count: total, sku: matches[0]!.sku }),
        ...(matches.some((m) => !m.active) ? [t("stock.matches.inactive_note")] : []),
      ],
      visibility: "ephemeral",
    };
  },
});
