import { z } from "zod";
import { fromArg, pageArg, rowsBefore, wholeNumber } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { pageAfter, pageWords } from "../src/core/reply.js";
import { coverText } from "../src/services/stock.service.js";

export default defineCommand({
  name: "stock low",
  description: "cmd.stock_low",
  // from=: the row a page starts at (what a page a chat platform cut short names as its next); not beside page=.
  args: z.object({ limit: wholeNumber(1, 50).default(15), page: pageArg.unwrap().optional(), from: fromArg }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "[limit=<limit>] [page=<n>|from=<row>]", zh: "[limit=<条数>] [page=<页码>|from=<行号>]" },
  examples: ["stock low", "stock low limit=30", "stock low page=2"],
  permission: "viewer",
  mutates: false,
  async handler({ args, services, t, fmt }) {
    const page = args.page ?? 1;
    const skip = rowsBefore(args.page, args.from, args.limit, t);
    const { items, total } = await services.stock.low(args.limit, skip);
    // A shop with no products at all (nothing imported yet): said so, with how they get in.
    if (total === 0 && !(await services.store.products.exists({}))) return { status: "info", text: t("stock.low.no_products"), visibility: "ephemeral" };
    // Every product inactive (discontinued): none is checked, so "none is low" would mislead; said so, with how to reactivate.
    if (total === 0 && !(await services.store.products.exists({ active: true }))) {
      return { status: "info", text: t("stock.low.no_active", { count: fmt.number(await services.store.products.countDocuments({})) }), visibility: "ephemeral" };
    }
    if (total === 0) return { status: "ok", text: t("stock.low.none"), visibility: "ephemeral" };
    const pages = Math.ceil(total / args.limit);
    if (items.length === 0) return { status: "error", code: "page_out_of_range", text: args.from ? t("arg.from_beyond", { from: args.from, total }) : t("stock.low.beyond", { page, pages, count: total }), visibility: "ephemeral" };
    // What holds each one's alerts (a snooze, a PO on its way) or a PO overdue, as its card says.
    const states = await services.lowStock.states(items.map((i) => i.sku));
    const holdText = (i: (typeof items)[number]): string => {
      const h = services.lowStock.holdOf(states.get(i.sku), i);
      if (!h) return "—";
      if (h.kind === "snooze") return t("stock.low.hold.snooze", { until: fmt.dateTime(h.until) });
      if (h.kind === "po") return t("stock.low.hold.po", { eta: h.po.eta });
      if (h.kind === "snooze_po") return t("stock.low.hold.snooze_po", { until: fmt.dateTime(h.until), eta: h.po.eta });
      return t("stock.low.hold.po_overdue", { eta: h.po.eta });
    };
    /** The range line and next page's command of this page ending after its first `n` rows (the next page goes on after row `n`). */
    const pageLines = (n: number): string[] => {
      const next = pageAfter(skip, args.limit, items.length, n);
      if (total <= n) return [];
      // Ranked live (stock moves between pages): the next page as a command that runs.
      const command = ["stock low", ...pageWords(next, 15)].join(" ");
      return [t("stock.low.more", { from: skip + 1, to: skip + n, count: total }), ...(skip + n < total ? [t("stock.low.next", { command })] : [])];
    };
    const context = pageLines(items.length);
    return {
      title: t("stock.low.title", { count: total }),
      status: items.some((i) => i.status === "out") ? "critical" : "warning",
      table: {
        columns: [t("stock.col.sku"), t("stock.col.name"), t("stock.col.available"), t("stock.col.reorder"), t("stock.col.cover"), t("stock.col.lead"), t("stock.col.hold")],
        rows: items.map((i) => [
          i.sku,
          i.name,
          fmt.number(i.available),
          fmt.number(i.reorderPoint),
          coverText(i, fmt, { column: true }) ?? "—",
          String(i.leadTimeDays),
          holdText(i),
        ]),
        alignRight: [2, 3, 4, 5],
        // A page too long for a chat platform's messages ends where they do, its next page after it.
        pageLines: items.map((_, k) => pageLines(k + 1)),
      },
      ...(context.length ? { context } : {}),
      visibility: "ephemeral",
    };
  },
});
