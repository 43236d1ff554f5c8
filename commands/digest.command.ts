import { z } from "zod";
import { defineCommand, type CommandContext } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { minorUnitFactor } from "../src/core/format.js";
import type { MessageKey, Translate } from "../src/core/messages.js";
import { clip, type Reply, type ReplyField } from "../src/core/reply.js";
import { roleAtLeast } from "../src/core/roles.js";
import { change, changeText, isAnomaly, parseDigestDay, type Digest, type SalesFigures } from "../src/services/digest.service.js";
import { coverText } from "../src/services/stock.service.js";

type Ctx = CommandContext<{ day?: string | undefined }>;

type Triple = [number | null, number | null, number | null];

/** One row of the figures table: its value on the day, the day before and a week before. */
interface Row {
  key: MessageKey;
  values: Triple;
  show: (n: number) => string;
  /**
   * The way a move is bad, the only one flagged: "down" for sales (GMV, orders, customers…),
   * "up" for refunds and complaints. Unset: never flagged (discount and coupon uses follow the
   * promotions the shop runs, complaints resolved follow complaints opened).
   */
  bad?: "down" | "up";
  /**
   * The count behind the figure on each day (paid orders behind GMV, refunds behind refunds):
   * a move is judged only when it is at least DIGEST_ANOMALY_MIN_COUNT on the day or on its
   * base, so +300% on a base of 1 is not flagged. Unset: the figure itself (a count).
   */
  counts?: Triple;
  /** A ratio of two sums (AOV, refund rate): a few orders so far today swing it, so not judged on today. */
  ratio?: boolean;
  /**
   * A rate shown as a percentage (refund rate): its change reads in percentage points (2.0% →
   * 3.0% is "+1.0 pp", not "+50.0%"); whether it is flagged is still judged on the relative change.
   */
  points?: boolean;
  /**
   * How a partial day (today) compares: a sum so far is judged only when it already rose past
   * its base's whole day; a figure measured now (complaints overdue) is judged as on any day.
   * Unset: a sum over the day.
   */
  now?: boolean;
  /** What the day's value reads when it has none, instead of a bare "—" (a refund rate without sales: why). */
  none?: string;
  /** A figure of the complaints, which are not sales data: its days before the shop's first sale are days like any other. */
  complaints?: boolean;
}

/**
 * Characters of a product's name in a digest line: five lines with a 64-character SKU and their
 * figures stay within Discord's 1,024 a field, so no line loses its figures and no product is left out.
 */
const LINE_NAME_MAX = 60;

/** Lines of a revenue-by-category (or channel) list: the largest, then the rest in one. */
const SHARE_LINES = 8;
export default defineCommand({
  name: "digest",
  description: "cmd.digest",
  // Rest of the line: a day may be two words (`last friday`).
  positional: ["...day"],
  usage: { en: "[today|yesterday|YYYY-MM-DD|MM/DD|friday]", zh: "[今天|昨天|YYYY-MM-DD|MM/DD|上周五]" },
  args: z.object({ day: z.string().trim().max(20).optional() }),
  examples: ["digest", { en: "digest yesterday", zh: "digest 昨天" }, "digest 2026-11-24", { en: "digest last friday", zh: "digest 上周五" }],
  // Managers; staff too when DIGEST_STAFF=true, for the reduced digest.
  permission: "manager",
  permissionFor: (config) => (config.digestStaff ? "staff" : "manager"),
  mutates: false,
  async handler(ctx) {
    const { args, services, t, actor, config } = ctx;
    const full = roleAtLeast(actor.role, "manager");
    const today = services.digest.today();
    const parsed = parseDigestDay(args.day, today);
    if (!parsed.ok) {
      if (parsed.reason === "future") throw new UserError("future_day", t("digest.future", { day: parsed.day, today, tz: config.timeZone }));
      if (parsed.reason === "day_first") throw new UserError("bad_day", t("digest.day_first", { value: args.day ?? "", month_day: parsed.month_day }));
      // A week is no day: what to type for a day of it, and where the weekly summary is.
      if (parsed.reason === "week") throw new UserError("bad_day", t("digest.week", { value: args.day ?? "" }));
      if (parsed.reason === "no_such_day") throw new UserError("bad_day", t("digest.no_such_day", { value: args.day ?? "", month: parsed.month, days: parsed.days }));
      throw new UserError("bad_day", t("digest.bad_day", { value: args.day ?? "" }));
    }
    const d = await services.digest.digest(parsed.day);
    return renderDigest(d, full, ctx);
  },
});

/** What rendering a digest needs from a command context (the daily-digest job builds one too). */
export type DigestRenderCtx = Pick<Ctx, "t" | "fmt" | "config" | "locale" | "services">;

/** The digest reply with its chart: the full one for managers, the reduced one for staff. */
export function renderDigest(d: Digest, full: boolean, ctx: DigestRenderCtx): Promise<Reply> {
  const { t, fmt, config, locale } = ctx;
  const s = d.sales;
  const c = d.complaints;
  // One minus sign, as in the changes: "Net revenue −$260.94", not "-$260.94".
  const money = (n: number) => fmt.figure(n, d.currency);
  const num = (n: number) => fmt.number(n);
  const pct = (n: number) => fmt.percent(n);
  // A rate that is not 0 never reads "0.0%" (¥40 refunded on ¥100,000 is "<0.1%", not as if nothing was).
  const rate = (n: number) => (n > 0 && n < 0.0005 ? `<${pct(0.001)}` : pct(n));
  const tri = (f: (x: SalesFigures) => number | null): Triple => [f(s.day), f(s.prev), f(s.week)];
  const orders = tri((x) => x.orders);
  const rows: Row[] = [
    { key: "digest.row.gmv", values: tri((x) => x.gmv), show: money, bad: "down", counts: orders },
    { key: "digest.row.orders", values: orders, show: num, bad: "down" },
    // Units are a sum over the paid orders, as GMV is: judged on those orders, so one bulk order
    // of 50 the day before does not flag a quiet day's 2 units.
    { key: "digest.row.units", values: tri((x) => x.units), show: num, bad: "down", counts: orders },
  ];
  if (full) {
    const refunds = tri((x) => x.refundCount);
    rows.push(
      { key: "digest.row.aov", values: tri((x) => x.aov), show: money, bad: "down", counts: orders, ratio: true },
      { key: "digest.row.refunds", values: tri((x) => x.refunds), show: money, bad: "up", counts: refunds },
      {
        key: "digest.row.refund_rate",
        values: tri((x) => x.refundRate),
        show: rate,
        bad: "up",
        counts: refunds,
        ratio: true,
        points: true,
        // Refunds on a day without sales have no rate (÷ GMV 0): said why, not a bare dash.
        ...(s.day.refundRate === null && s.day.refunds !== 0 ? { none: t(d.partial ? "digest.no_rate.partial" : "digest.no_rate") } : {}),
      },
      { key: "digest.row.net", values: tri((x) => x.net), show: money, bad: "down", counts: orders },
      { key: "digest.row.discount", values: tri((x) => x.discount), show: money },
      { key: "digest.row.coupons", values: tri((x) => x.couponUses), show: num },
      { key: "digest.row.new_customers", values: tri((x) => x.newCustomers), show: num, bad: "down" },
      // Customers are judged on their own count, not the orders (as units are): each is one person
      // behind one or more orders, so the orders would only judge smaller swings (4 → 2 on a busy day).
      { key: "digest.row.returning_customers", values: tri((x) => x.returningCustomers), show: num, bad: "down" },
      { key: "digest.row.complaints_opened", values: [c.day.opened, c.prev.opened, c.week.opened], show: num, bad: "up", complaints: true },
      { key: "digest.row.complaints_resolved", values: [c.day.resolved, c.prev.resolved, c.week.resolved], show: num, complaints: true },
      { key: "digest.row.complaints_overdue", values: [c.day.overdue, c.prev.overdue, c.week.overdue], show: num, bad: "up", now: true, complaints: true },
    );
  }
  // Per figure, its flagged changes ("+100.0% vs previous day"): a figure flagged against both
  // days is named once, "Complaints opened +100.0% vs previous day, +50.0% vs a week before".
  const flags = new Map<MessageKey, string[]>();
  /** True when the move of `row` against its base `i` (1: the day before, 2: a week before) is an anomaly. */
  const flagged = (row: Row, i: 1 | 2, ch: number): boolean => {
    if (!row.bad) return false;
    // A partial day (today) always looks low against whole days: of its sums only a rise is
    // judged (it can only grow), so only those bad when they rise; ratios (AOV, refund rate) not
    // at all (a few orders so far swing them); overdue is measured now, as on any day.
    if (d.partial && row.now !== true && (row.ratio === true || row.bad === "down")) return false;
    const counts = row.counts ?? row.values;
    return isAnomaly(ch, row.bad, [counts[0] ?? 0, counts[i] ?? 0], { pct: config.digestAnomalyPct, minCount: config.digestAnomalyMinCount });
  };
  // A day before the shop's first paid order has no sales data: a day with sales compared with
  // it reads "— (no data yet)", not "— (was 0)" as if nothing sold that day.
  const first = typeof d.firstPaidDay === "string" && d.firstPaidDay <= d.day ? d.firstPaidDay : null;
  const cell = (row: Row, i: 1 | 2, baseKey: MessageKey): string => {
    if (first !== null && !row.complaints && row.values[0] !== null && (i === 1 ? s.prev : s.week).day < first) return t("digest.change.no_data");
    const v = row.values[0];
    const base = row.values[i];
    if (v === null || base === null) return "—";
    const ch = change(v, base);
    const text = row.points ? pointsText(v, base, t, fmt) : changeText(v, base, t, fmt);
    // From a base of 0 ("new", or "—" when both are 0): never an anomaly.
    if (ch === null || !flagged(row, i, ch)) return text;
    flags.set(row.key, [...(flags.get(row.key) ?? []), t("digest.anomaly.change", { change: text, base: t(baseKey) })]);
    return `${text} ${t("digest.anomaly.mark")}`;
  };
  const tableRows = rows.map((r) => [
    t(r.key),
    r.values[0] === null ? (r.none ?? "—") : r.show(r.values[0]),
    cell(r, 1, "digest.base.prev"),
    cell(r, 2, "digest.base.week"),
  ]);
  const anomalies = [...flags].map(([key, changes]) => t("digest.anomaly.figure", { figure: t(key), changes: changes.join(t("digest.anomaly.change_sep")) }));
  const weekday = new Intl.DateTimeFormat(locale === "zh-CN" ? "zh-CN" : "en-US", { weekday: "short", timeZone: "UTC" }).format(
    new Date(`${d.day}T12:00:00Z`),
  );

  const fields: ReplyField[] = [];
  if (full) {
    const none = t("digest.none");
    const lines = (xs: string[]) => (xs.length ? xs.join("\n") : none);
    const top = (xs: Digest["topByRevenue"]) =>
      lines(xs.map((p) => t("digest.top.line", { sku: p.sku, name: p.name === null ? t("digest.not_in_catalog") : clip(p.name, LINE_NAME_MAX), revenue: money(p.revenue), units: num(p.units) })));
    // A share that is not 0 (or not all) never reads "0.0%" (or "100.0%"): "<0.1%", ">99.9%".
    const share = (x: number, total: number) => {
      if (!total) return "—";
      const f = x / total;
      if (x > 0 && f < 0.0005) return `<${pct(0.001)}`;
      if (x < total && f >= 0.9995) return `>${pct(0.999)}`;
      return pct(f);
    };
    const shares = (all: Digest["byCategory"]) => {
      const total = all.reduce((a, x) => a + x.revenue, 0);
      // The largest 7 and the rest in one line: a shop with 40 categories still gets a digest that fits.
      const xs = all.length > SHARE_LINES ? [...all.slice(0, SHARE_LINES - 1), { key: t("digest.share.others", { n: all.length - SHARE_LINES + 1 }), revenue: all.slice(SHARE_LINES - 1).reduce((a, x) => a + x.revenue, 0) }] : all;
      return lines(xs.map((x) => t("digest.share.line", { key: x.key ?? t("digest.not_in_catalog"), revenue: money(x.revenue), share: share(x.revenue, total) })));
    };
    fields.push(
      { label: t("digest.top_revenue"), value: top(d.topByRevenue) },
      { label: t("digest.top_units"), value: top(d.topByUnits) },
      { label: t("digest.by_category"), value: shares(d.byCategory), inline: true },
      { label: t("digest.by_channel"), value: shares(d.byChannel), inline: true },
      {
        label: t("digest.low_stock", { count: d.lowStock.count }),
        value: lines(
          d.lowStock.worst.map((v) => {
            const name = clip(v.name, LINE_NAME_MAX);
            // Nothing to sell: said so, not "0 available, 0 days of cover".
            if (v.available <= 0) return t("digest.low_stock.out", { sku: v.sku, name });
            // Cover shown as the stock card shows it (rounded down: never the lead time when below it).
            const cover = v.coverDays === null ? t("digest.low_stock.no_sales") : t("digest.low_stock.cover", { days: coverText(v, fmt) ?? "" });
            return t("digest.low_stock.line", { sku: v.sku, name, available: num(v.available), cover });
          }),
        ),
      },
    );
  }

  // The anomalies are the news: the body text, above the table (not the small print, which
  // Discord puts in a footer cut at 2,048 characters and Slack in grey at the end).
  const text = anomalies.length ? t("digest.anomalies", { pct: config.digestAnomalyPct, list: anomalies.join(t("digest.anomaly.sep")) }) : undefined;
  const context: string[] = [];
  // Staff see no complaints: their note names only what they see.
  if (d.partial) context.push(t(full ? "digest.partial" : "digest.partial.staff"));
  // A day before the shop's data began reads as such, not as a day without sales.
  if (d.firstPaidDay === null) context.push(t("digest.no_sales_yet"));
  else if (d.firstPaidDay !== undefined && d.firstPaidDay > d.day) context.push(t("digest.before_first_sale", { day: d.day, first: d.firstPaidDay }));
  if (s.day.otherCurrency > 0) context.push(t("digest.other_currency", { count: num(s.day.otherCurrency), currency: d.currency }));
  // Refunds are manager figures: the staff digest does not count them even in its small print.
  if (full && s.day.otherCurrencyRefunds > 0) context.push(t("digest.other_currency_refunds", { count: num(s.day.otherCurrencyRefunds), currency: d.currency }));
  context.push(t("digest.definitions", { tz: config.timeZone }));

  return chart(d, ctx).then((image) => ({
    title: t(full ? (d.partial ? "digest.title.partial" : "digest.title") : d.partial ? "digest.title.staff.partial" : "digest.title.staff", { day: d.day }),
    status: anomalies.length ? "warning" : "info",
    ...(text ? { text } : {}),
    table: {
      columns: [t("digest.col.figure"), t("digest.col.value"), t("digest.col.prev"), t("digest.col.week", { weekday })],
      rows: tableRows,
      alignRight: [1, 2, 3],
    },
    // The headline figures first on every platform, then the lists.
    tableFirst: true,
    ...(fields.length ? { fields } : {}),
    context,
    image,
    visibility: "ephemeral",
  }));
}

async function chart(d: Digest, { services, t }: DigestRenderCtx): Promise<NonNullable<Reply["image"]>> {
  const factor = minorUnitFactor(d.currency);
  // Today's bar is lighter and labelled "so far": a day not over is no collapse.
  const partial = (day: string) => d.partial && day === d.day;
  // Days before the shop's first paid order are drawn empty and the subtitle says why, so a shop
  // with under 14 days of history does not show a week without sales it never had.
  const first = typeof d.firstPaidDay === "string" && d.firstPaidDay > d.series[0]!.day && d.firstPaidDay <= d.day ? d.firstPaidDay : null;
  const data = await services.chart.dailyPng(
    d.series.map((p) => ({
      day: p.day,
      gmv: p.gmv / factor,
      orders: p.orders,
      ...(partial(p.day) ? { partial: true, label: t("digest.chart.so_far", { day: p.day.slice(5) }) } : {}),
      ...(first !== null && p.day < first ? { noData: true } : {}),
    })),
    {
      title: t(d.partial ? "digest.chart.title.partial" : "digest.chart.title", { day: d.day }),
      ...(first !== null ? { subtitle: t("digest.chart.no_data", { first }) } : {}),
      gmv: t("digest.chart.gmv", { currency: d.currency }),
      orders: t("digest.chart.orders"),
      day: t("digest.chart.day"),
    },
  );
  return {
    filename: `digest-${d.day}.png`,
    data,
    alt: t(d.partial ? "digest.chart.alt.partial" : "digest.chart.alt", { from: d.series[0]!.day, to: d.day }),
  };
}

/**
 * The change of a rate in percentage points (2.0% → 3.0%: "+1.0 pp"): a relative change of a
 * percentage reads as nonsense ("0.7% → 364.6%: +49,489.7%"). "—" when both are 0.
 */
function pointsText(value: number, base: number, t: Translate, fmt: DigestRenderCtx["fmt"]): string {
  if (value === 0 && base === 0) return "—";
  // A move too small for one decimal is still a move: "+<0.1 pp", not "±0.0 pp" as if none.
  if (value !== base && Math.abs(value - base) < 0.0005) return t("digest.change.points", { change: `${value > base ? "+" : "\u2212"}<${fmt.percent(0.001).replace(/%$/, "")}` });
  return t("digest.change.points", { change: fmt.percent(value - base, { signed: true }).replace(/%$/, "") });
}
