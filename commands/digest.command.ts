import { z } from "zod";
import { defineCommand, type CommandContext } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { minorUnitFactor } from "../src/core/format.js";
import type { MessageKey } from "../src/core/messages.js";
import type { Reply, ReplyField } from "../src/core/reply.js";
import { roleAtLeast } from "../src/core/roles.js";
import { change, changeText, parseDigestDay, type Digest, type SalesFigures } from "../src/services/digest.service.js";

type Ctx = CommandContext<{ day?: string | undefined }>;

/** One row of the figures table: its value on the day, the day before and a week before. */
interface Row {
  key: MessageKey;
  values: [number | null, number | null, number | null];
  show: (n: number) => string;
  /**
   * How a partial day (today) compares: a sum so far is judged only when it already rose past
   * its base's whole day; a figure measured now (complaints overdue) is judged as on any day.
   * Unset: a sum over the day.
   */
  now?: boolean;
}


/** Lines of a revenue-by-category (or channel) list: the largest, then the rest in one. */
const SHARE_LINES = 8;
export default defineCommand({
  name: "digest",
  description: "cmd.digest",
  positional: ["day"],
  usage: "[today|yesterday|YYYY-MM-DD]",
  args: z.object({ day: z.string().trim().max(20).optional() }),
  examples: ["digest", "digest yesterday", "digest 2026-11-24"],
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
  const money = (n: number) => fmt.money(n, d.currency);
  const num = (n: number) => fmt.number(n);
  const pct = (n: number) => fmt.number(n * 100, 1) + "%";
  const tri = (f: (x: SalesFigures) => number | null): Row["values"] => [f(s.day), f(s.prev), f(s.week)];
  const rows: Row[] = [
    { key: "digest.row.gmv", values: tri((x) => x.gmv), show: money },
    { key: "digest.row.orders", values: tri((x) => x.orders), show: num },
    { key: "digest.row.units", values: tri((x) => x.units), show: num },
  ];
  if (full) {
    rows.push(
      { key: "digest.row.aov", values: tri((x) => x.aov), show: money },
      { key: "digest.row.refunds", values: tri((x) => x.refunds), show: money },
      { key: "digest.row.refund_rate", values: tri((x) => x.refundRate), show: pct },
      { key: "digest.row.net", values: tri((x) => x.net), show: money },
      { key: "digest.row.discount", values: tri((x) => x.discount), show: money },
      { key: "digest.row.coupons", values: tri((x) => x.couponUses), show: num },
      { key: "digest.row.new_customers", values: tri((x) => x.newCustomers), show: num },
      { key: "digest.row.returning_customers", values: tri((x) => x.returningCustomers), show: num },
      { key: "digest.row.complaints_opened", values: [c.day.opened, c.prev.opened, c.week.opened], show: num },
      { key: "digest.row.complaints_resolved", values: [c.day.resolved, c.prev.resolved, c.week.resolved], show: num },
      { key: "digest.row.complaints_overdue", values: [c.day.overdue, c.prev.overdue, c.week.overdue], show: num, now: true },
    );
  }
  const threshold = config.digestAnomalyPct / 100;
  const anomalies: string[] = [];
  const cell = (row: Row, base: number | null, baseKey: MessageKey): string => {
    const v = row.values[0];
    if (v === null || base === null) return "—";
    const ch = change(v, base);
    const text = changeText(v, base, t, fmt);
    if (ch === null) return text;
    // A partial day (today) always looks low against whole days: of its sums only a rise is
    // judged (it can only grow), and ratios (AOV, refund rate) not at all (a few orders so far
    // swing them); overdue is measured now, as on any day.
    const ratio = row.key === "digest.row.aov" || row.key === "digest.row.refund_rate";
    const judged = !d.partial || row.now === true || (!ratio && ch > 0);
    if (judged && Math.abs(ch) >= threshold) {
      anomalies.push(t("digest.anomaly.item", { figure: t(row.key), change: text, base: t(baseKey) }));
      return `${text} ${t("digest.anomaly.mark")}`;
    }
    return text;
  };
  const tableRows = rows.map((r) => [
    t(r.key),
    r.values[0] === null ? "—" : r.show(r.values[0]),
    cell(r, r.values[1], "digest.base.prev"),
    cell(r, r.values[2], "digest.base.week"),
  ]);
  const weekday = new Intl.DateTimeFormat(locale === "zh-CN" ? "zh-CN" : "en-US", { weekday: "short", timeZone: "UTC" }).format(
    new Date(`${d.day}T12:00:00Z`),
  );

  const fields: ReplyField[] = [];
  if (full) {
    const none = t("digest.none");
    const lines = (xs: string[]) => (xs.length ? xs.join("\n") : none);
    const top = (xs: Digest["topByRevenue"]) =>
      lines(xs.map((p) => t("digest.top.line", { sku: p.sku, name: p.name, revenue: money(p.revenue), units: num(p.units) })));
    const shares = (all: Digest["byChannel"]) => {
      const total = all.reduce((a, x) => a + x.revenue, 0);
      // The largest 7 and the rest in one line: a shop with 40 categories still gets a digest that fits.
      const xs = all.length > SHARE_LINES ? [...all.slice(0, SHARE_LINES - 1), { key: t("digest.share.others", { n: all.length - SHARE_LINES + 1 }), revenue: all.slice(SHARE_LINES - 1).reduce((a, x) => a + x.revenue, 0) }] : all;
      return lines(xs.map((x) => t("digest.share.line", { key: x.key, revenue: money(x.revenue), share: total ? pct(x.revenue / total) : "—" })));
    };
    fields.push(
      { label: t("digest.top_revenue"), value: top(d.topByRevenue) },
      { label: t("digest.top_units"), value: top(d.topByUnits) },
      { label: t("digest.by_category"), value: shares(d.byCategory), inline: true },
      { label: t("digest.by_channel"), value: shares(d.byChannel), inline: true },
      {
        label: t("digest.low_stock", { count: d.lowStock.count }),
        value: lines(
          d.lowStock.worst.map((v) =>
            t("digest.low_stock.line", {
              sku: v.sku,
              name: v.name,
              available: num(v.available),
              cover: v.coverDays === null ? t("digest.low_stock.no_sales") : t("digest.low_stock.cover", { days: fmt.number(v.coverDays, 1) }),
            }),
          ),
        ),
      },
    );
  }

  const context: string[] = [];
  if (d.partial) context.push(t("digest.partial"));
  if (anomalies.length) context.push(t("digest.anomalies", { pct: config.digestAnomalyPct, list: anomalies.join("; ") }));
  if (s.day.otherCurrency > 0) context.push(t("digest.other_currency", { count: s.day.otherCurrency, currency: d.currency }));
  context.push(t("digest.definitions", { tz: config.timeZone }));

  return chart(d, ctx).then((image) => ({
    title: t(full ? (d.partial ? "digest.title.partial" : "digest.title") : d.partial ? "digest.title.staff.partial" : "digest.title.staff", { day: d.day }),
    status: anomalies.length ? "warning" : "info",
    table: {
      columns: [t("digest.col.figure"), t("digest.col.value"), t("digest.col.prev"), t("digest.col.week", { weekday })],
      rows: tableRows,
      alignRight: [1, 2, 3],
    },
    ...(fields.length ? { fields } : {}),
    context,
    image,
    visibility: "ephemeral",
  }));
}

async function chart(d: Digest, { services, t }: DigestRenderCtx): Promise<NonNullable<Reply["image"]>> {
  const factor = minorUnitFactor(d.currency);
  const data = await services.chart.dailyPng(
    d.series.map((p) => ({ day: p.day, gmv: p.gmv / factor, orders: p.orders })),
    {
      title: t("digest.chart.title", { day: d.day }),
      gmv: t("digest.chart.gmv", { currency: d.currency }),
      orders: t("digest.chart.orders"),
      day: t("digest.chart.day"),
    },
  );
  return {
    filename: `digest-${d.day}.png`,
    data,
    alt: t("digest.chart.alt", { from: d.series[0]!.day, to: d.day }),
  };
}
