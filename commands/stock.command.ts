import { z } from "zod";
import { defineCommand, type CommandContext } from "../src/core/command.js";
import type { Translate } from "../src/core/messages.js";
import type { Reply, ReplyStatus } from "../src/core/reply.js";
import type { StockStatus, StockView } from "../src/services/stock.service.js";

const STATUS: Record<StockStatus, ReplyStatus> = { ok: "ok", low: "warning", cover: "warning", out: "critical", inactive: "info" };

/** The stock card of one product, with its low-stock hold (snooze or PO) when one is running. */
async function stockCard(v: StockView, { t, fmt, config, services, now }: Pick<CommandContext<unknown>, "t" | "fmt" | "config" | "services" | "now">): Promise<Reply> {
  const w = config.velocityWindowDays;
  const alert = await services.lowStock.state(v.sku);
  const held = alert?.state === "snoozed" && alert.snoozedUntil && alert.snoozedUntil > now ? alert : null;
  const hold = held
    ? held.po?.eta
      ? t("stock.hold.po", { until: fmt.dateTime(held.snoozedUntil!), eta: held.po.eta, qty: held.po.qty ? t("lowstock.po.qty", { qty: held.po.qty }) : "", by: held.po.by ?? "" })
      : t("stock.hold.snooze", { until: fmt.dateTime(held.snoozedUntil!), by: held.snoozedBy ?? "" })
    : null;
  return {
    title: t("stock.title", { name: v.name, sku: v.sku }),
    status: STATUS[v.status],
    fields: [
      { label: t("stock.available"), value: fmt.number(v.available), inline: true },
      { label: t("stock.on_hand"), value: fmt.number(v.onHand), inline: true },
      { label: t("stock.reserved"), value: fmt.number(v.reserved), inline: true },
      { label: t("stock.reorder_point"), value: fmt.number(v.reorderPoint), inline: true },
      { label: t("stock.velocity"), value: t("stock.velocity.value", { perDay: fmt.number(v.velocity, 1), days: v.velocityDays }), inline: true },
      {
        label: t("stock.cover"),
        value: v.coverDays === null ? t("stock.cover.none", { days: w }) : t("stock.cover.value", { days: fmt.number(v.coverDays, 1) }),
        inline: true,
      },
      { label: t("stock.lead_time"), value: t("stock.lead_time.value", { days: v.leadTimeDays }), inline: true },
      { label: t("stock.supplier"), value: v.supplier || "—", inline: true },
      { label: t("stock.category"), value: v.category, inline: true },
      { label: t("stock.price"), value: fmt.money(v.price, v.currency), inline: true },
      { label: t("stock.status"), value: t(`stock.status.${v.status}`) },
      ...(hold ? [{ label: t("stock.hold"), value: hold }] : []),
    ],
    visibility: "ephemeral",
  };
}

/** No product matches `query`: the error, with close SKUs when there are some (shared with `stock adjust`). */
export function unknownSku(query: string, suggestions: string[], t: Translate): Reply {
  return {
    status: "error",
    code: "unknown_sku",
    text: suggestions.length ? t("stock.unknown.suggest", { query, suggestions: suggestions.join(", ") }) : t("stock.unknown", { query }),
    visibility: "ephemeral",
  };
}

export default defineCommand({
  name: "stock",
  description: "cmd.stock",
  positional: ["...query"],
  usage: { en: "<sku | words>", zh: "<sku | 商品名关键词>" },
  args: z.object({ query: z.string().trim().min(1).max(100) }),
  examples: ["stock SKU-1001", { en: "stock wireless mouse", zh: "stock 保温杯" }, { en: "stock 保温杯", zh: "stock 不锈钢 500ml" }],
  permission: "viewer",
  mutates: false,
  async handler(ctx) {
    const { args, services, t } = ctx;
    const exact = await services.stock.bySku(args.query);
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
        rows: matches.map((m) => [m.sku, m.name, String(m.available), String(m.reorderPoint)]),
        alignRight: [2, 3],
      },
      context: [t("stock.matches.more", { shown: matches.length, count: total, sku: matches[0]!.sku })],
      visibility: "ephemeral",
    };
  },
});
