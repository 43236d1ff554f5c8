import { z } from "zod";
import { quote } from "../src/core/parser.js";
import { pageArg, pastSinceToSecond, pinnedSince, since, sinceClockNote } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { translator, type MessageKey } from "../src/core/messages.js";
import { splitList, trimInvisible } from "../src/core/text.js";
import { ORDER_STATUSES } from "../src/store/models.js";
import type { OrderStatus } from "../src/services/order-status.js";
import { OrderService } from "../src/services/order.service.js";
import { orderNoArg } from "./order.command.js";
import { statusName } from "./order.view.js";

const PAGE_SIZE = 10;

/** The day words and span units of a since= as Chinese teams type them (normalizeDateInput reads them back). */
const ZH_SINCE: Readonly<Record<string, string>> = { today: "今天", yesterday: "昨天", now: "现在", d: "天", h: "小时", "this week": "本周", "last week": "上周", "this month": "本月", "last month": "上个月" };

/**
 * A since= as the "no match" line repeats it, in the reader's language: the filter was read
 * into English words (今天 10:00 is `today 10:00`), which a Chinese reader did not type, so
 * there it reads 今天 10:00, 昨天, 7天 again (each runs as typed). A time with a day, in the
 * case next-page lines write one (2026-11-19T10:00).
 */
function sinceShown(value: string, zh: boolean): string {
  const v = /^(\d{4}-)?\d{2}-\d{2}[t ]/.test(value) ? value.toUpperCase() : value;
  if (!zh) return v;
  const period = ZH_SINCE[v];
  if (period && / /.test(v)) return period;
  return v.replace(/^(today|yesterday|now)(?= |$)/, (w) => ZH_SINCE[w]!).replace(/^(\d+)([dh])$/, (_, n: string, u: string) => `${n}${ZH_SINCE[u]!}`);
}

/** The status names the cards and tables show, in both languages (已付款, "Pending payment"), read as the statuses they name. */
const SHOWN_STATUS: Readonly<Record<string, OrderStatus>> = (() => {
  const names = (locale: "en" | "zh-CN") => {
    const t = translator(locale);
    return ORDER_STATUSES.map((s) => [t(`order.status.${s}` as MessageKey).toLowerCase(), s] as const);
  };
  // And as Chinese shop back-offices list them: 待发货 (paid, awaiting shipment), 待收货 (shipped, awaiting receipt).
  return Object.fromEntries([...names("en"), ...names("zh-CN"), ["待发货", "paid"], ["待收货", "shipped"]]);
})();

/**
 * Statuses, comma-separated (，、 too): each in any case or width, or by the name the table shows (已付款, "pending payment").
 * The error names the whole value as typed.
 */
const statusList = z
  .string()
  .transform((s) => splitList(s.normalize("NFKC")).map((x) => SHOWN_STATUS[x.toLowerCase()] ?? x.toLowerCase()))
  .refine((xs) => xs.length > 0 && xs.every((x) => (ORDER_STATUSES as readonly string[]).includes(x)), { error: "order.search.bad_status" })
  .transform((xs) => [...new Set(xs)] as OrderStatus[]);

export default defineCommand({
  name: "order search",
  description: "cmd.order_search",
  usage: {
    en: "[customer=<id>] [since=<date|7d|time>] [status=<status,…>] [before=<orderNo>] [page=<n>]",
    zh: "[customer=<客户编号>] [since=<日期|7天|时间>] [status=<状态,…>] [before=<订单号>] [page=<页码>]",
  },
  args: z.object({
    // As the API stores customer ids: trimmed of spaces and invisible characters (U+200B, U+FEFF…) at the ends.
    customer: z.string().overwrite(trimInvisible).min(1).max(100).optional(),
    since: since.optional(),
    status: statusList.optional(),
    // The last order of the page before: the next page continues after it (the next-page line gives it).
    before: orderNoArg.optional(),
    page: pageArg,
  }),
  examples: [
    "order search customer=CUST-10001",
    { en: "order search since=7d status=paid", zh: "order search since=7天 status=已付款" },
    { en: "order search status=pending,paid since=2026-11-01 page=2", zh: "order search status=待付款,已付款 since=2026-11-01 page=2" },
    "order search since=2026-11-18T04:00:00Z before=ORD-100231 page=2",
  ],
  permission: "staff",
  mutates: false,
  async handler({ args, services, t, fmt, now, config, locale }) {
    if (!args.customer && !args.since && !args.status) {
      return { status: "error", code: "missing_filter", text: t("order.search.need_filter"), visibility: "ephemeral" };
    }
    // To the second (7d from now has milliseconds): the next-page line then pins it as it reads, 2026-11-18T04:00:00Z.
    const sinceAt = args.since ? pastSinceToSecond(args.since, now, config.timeZone, t) : undefined;
    // A time the clocks skip or repeat that night: which instant was read, said (as coupons say it).
    const clockNote = args.since ? sinceClockNote(args.since, now, config.timeZone, t) : undefined;
    const noted = clockNote ? [clockNote] : [];
    const customerId = args.customer;
    const after = args.before ? await services.orders.byNo(args.before) : undefined;
    if (args.before && !after) {
      return { status: "error", code: "unknown_order", text: t("order.search.bad_before", { orderNo: OrderService.normalizeOrderNo(args.before) }), visibility: "ephemeral" };
    }
    const { orders, total, rest } = await services.orders.search({
      ...(customerId ? { customerId } : {}),
      ...(sinceAt ? { since: sinceAt } : {}),
      ...(args.status ? { statuses: args.status } : {}),
      ...(after ? { after } : {}),
      page: args.page,
      pageSize: PAGE_SIZE,
    });
    const filters = [
      // Quoted when it must be, so the next-page command runs as shown.
      ...(customerId ? [`customer=${quote(customerId)}`] : []),
      // As the reader would type it (今天 10:00 to a Chinese reader), quoted when it has a space.
      ...(args.since ? [`since=${quote(sinceShown(args.since, locale === "zh-CN"))}`] : []),
      ...(args.status ? [`status=${args.status.join(",")}`] : []),
    ];
    if (total === 0) return { status: "info", code: "no_match", text: t("order.search.none", { filters: filters.join(" ") }), ...(noted.length ? { context: noted } : {}), visibility: "ephemeral" };
    // After `before=`, the rows right after that order: page= only numbers them (the next-page line gives both).
    const pages = after ? args.page - 1 + Math.ceil(rest / PAGE_SIZE) : Math.ceil(total / PAGE_SIZE);
    if (orders.length === 0) {
      if (after) return { status: "info", code: "no_match", text: t("order.search.end", { orderNo: after._id }), visibility: "ephemeral" };
      return { status: "error", code: "page_out_of_range", text: t("order.search.beyond", { page: args.page, pages, total }), visibility: "ephemeral" };
    }
    const context = [...noted, t("order.search.page", { page: args.page, pages })];
    if (args.page < pages) {
      // The window pinned (a since read against now as the instant it meant) and the last row as
      // the cursor: the next page continues right after this one, whatever arrives meanwhile.
      const pinned = [
        ...(customerId ? [`customer=${quote(customerId)}`] : []),
        ...(args.since && sinceAt ? [`since=${pinnedSince(args.since, sinceAt)}`] : []),
        ...(args.status ? [`status=${args.status.join(",")}`] : []),
        `before=${orders.at(-1)!._id}`,
        `page=${args.page + 1}`,
      ];
      context.push(t("order.search.next", { command: ["order search", ...pinned].join(" ") }));
    }
    // What was given back, as the card's Refunded field: a column only on a page with a refund on
    // it, so the usual page keeps its width ("—" on the rows without one).
    const refunds = orders.some((o) => o.refundedTotal > 0);
    return {
      title: t("order.search.title", { total }),
      status: "info",
      table: {
        columns: [t("order.col.order"), t("order.col.created"), t("order.col.customer"), t("order.col.status"), t("order.col.total"), ...(refunds ? [t("order.col.refunded")] : [])],
        rows: orders.map((o) => [
          o._id,
          fmt.dateTime(o.createdAt),
          o.customerId,
          statusName(o.status, t),
          fmt.money(o.total, o.currency),
          ...(refunds ? [o.refundedTotal > 0 ? fmt.money(o.refundedTotal, o.currency) : "—"] : []),
        ]),
        alignRight: refunds ? [4, 5] : [4],
      },
      context,
      visibility: "ephemeral",
    };
  },
});
