import { renderDigest } from "../commands/digest.command.js";
import { addDays, Formatter, localDay } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { roleAtLeast } from "../src/core/roles.js";
import { change, changeText, isAnomaly } from "../src/services/digest.service.js";

/**
 * The daily digest (DIGEST_CRON, 09:00 in SHOP_TIMEZONE by default; caught up after
 * downtime the same day): yesterday's full digest with its chart to the `digest` route on
 * every platform and as a DM to subscribed managers (`digest subscribe`); on Mondays also a
 * weekly summary (the last 7 days against the 7 before). Keys are per day and recipient, so
 * a retried or caught-up run sends nothing twice.
 */
export default defineJob({
  id: "daily-digest",
  description: "Yesterday's digest with its chart to the digest channels and subscribers; weekly summary on Mondays",
  schedule: (config) => config.digestCron,
  timeout: 300_000,
  catchUp: true,
  async handler({ services, config, slot }) {
    const t = translator(config.locale);
    const fmt = new Formatter(config.locale, config.timeZone, config.currency);
    const today = localDay(slot, config.timeZone);
    const day = addDays(today, -1);
    const digest = await services.digest.digest(day);
    const daily: Reply = { ...(await renderDigest(digest, true, { t, fmt, config, locale: config.locale, services })), visibility: "public" };

    const messages: [string, Reply][] = [[`digest:${day}`, daily]];
    if (new Date(`${today}T12:00:00Z`).getUTCDay() === 1) messages.push([`digest-week:${day}`, await weekly(today, digest.firstPaidDay)]);

    // Subscribers still manager or above get DMs; one who lost the role gets none.
    const subscribed = await services.digest.subscribers();
    const roles = await services.identity.rolesOf(subscribed);
    const subscribers = subscribed.filter((id) => roleAtLeast(roles.get(id)!, "manager"));

    const send = services.alerts.sender();
    let queued = 0;
    for (const [key, reply] of messages) {
      queued += (await send({ type: "digest", key, reply })).queued;
      for (const id of subscribers) if (await services.alerts.direct({ key: `${key}:dm:${id}`, identity: id, reply, kind: "digest" })) queued++;
    }
    // Someone who unsubscribed or lost the manager role while this run was queuing had what was
    // held for them withdrawn before these were queued: read again, and theirs are withdrawn too.
    const still = new Set(await services.digest.subscribers());
    const rolesNow = subscribers.length ? await services.identity.rolesOf(subscribers) : new Map<string, never>();
    let withdrawn = 0;
    for (const id of subscribers) if (!still.has(id) || !roleAtLeast(rolesNow.get(id) ?? "viewer", "manager")) withdrawn += await services.digest.withdrawDirect(id);
    return `digest of ${day}${messages.length > 1 ? " + weekly" : ""}: ${queued} queued${withdrawn ? `, ${withdrawn} withdrawn (unsubscribed or no longer manager meanwhile)` : ""}`;

    /**
     * GMV, orders, refunds and net of the 7 days before `today` against the 7 before those.
     * `firstPaidDay` is the daily digest's: set when the first day of its chart (14 days ending
     * yesterday: the first day of the week before) had no paid order, so unset when the shop's
     * data covers both weeks.
     */
    async function weekly(today: string, firstPaidDay: string | null | undefined): Promise<Reply> {
      const span = (from: number) => Array.from({ length: 7 }, (_, i) => addDays(today, from + i));
      const [cur, prev] = await Promise.all([services.digest.totals(span(-7)), services.digest.totals(span(-14))]);
      // As the daily digest says of a day before the shop's first paid order: a week before it
      // has no data ("— (no data yet)", not "— (was 0)"); one it began in is compared as it is,
      // but is short of days, so only a fall against it is flagged.
      const first = typeof firstPaidDay === "string" ? firstPaidDay : null;
      // The shop's first paid order is today (a Monday) or later: neither week has sales data,
      // so neither is shown as a week of 0 ("CN¥0.00 vs CN¥0.00").
      const none = first !== null && first >= today;
      const noPrev = first !== null && first >= addDays(today, -7) && first < today;
      const partPrev = first !== null && first > addDays(today, -14) && first < addDays(today, -7);
      // Negative money with the minus sign the daily digest prints (−¥4,300.00, not -¥4,300.00).
      const money = (n: number) => fmt.figure(n, config.currency);
      // Changes read and flagged as in the daily digest ("new" from nothing; the same
      // threshold and minimum count: paid orders behind sales, refunds behind refunds).
      const anomalies: string[] = [];
      const orderCounts = [cur.orders, prev.orders] as const;
      const row = (label: string, a: number, b: number, show: (n: number) => string, bad: "down" | "up", counts: readonly [number, number]) => {
        if (none) return [label, "—", "—", t("digest.change.no_data")];
        if (noPrev) return [label, show(a), "—", t("digest.change.no_data")];
        const text = changeText(a, b, t, fmt);
        if ((partPrev && bad === "up") || !isAnomaly(change(a, b), bad, counts, { pct: config.digestAnomalyPct, minCount: config.digestAnomalyMinCount })) return [label, show(a), show(b), text];
        anomalies.push(t("digest.anomaly.item", { figure: label, change: text, base: t("notify.week.col.before") }));
        return [label, show(a), show(b), `${text} ${t("digest.anomaly.mark")}`];
      };
      const rows = [
        row(t("digest.row.gmv"), cur.gmv, prev.gmv, money, "down", orderCounts),
        row(t("digest.row.orders"), cur.orders, prev.orders, (n) => fmt.number(n), "down", orderCounts),
        row(t("digest.row.refunds"), cur.refunds, prev.refunds, money, "up", [cur.refundCount, prev.refundCount]),
        row(t("digest.row.net"), cur.net, prev.net, money, "down", orderCounts),
      ];
      const context: string[] = [];
      if (none) context.push(t("digest.week.no_data", { first: first! }));
      // No order ever paid: the zeros are the shop's figures, said so as the daily digest says it.
      if (firstPaidDay === null) context.push(t("digest.no_sales_yet"));
      if (noPrev || partPrev) context.push(t(noPrev ? "digest.week.no_data_before" : "digest.week.part_before", { first: first! }));
      if (cur.otherCurrency > 0) context.push(t("digest.other_currency", { count: fmt.number(cur.otherCurrency), currency: config.currency }));
      if (cur.otherCurrencyRefunds > 0) context.push(t("digest.other_currency_refunds", { count: fmt.number(cur.otherCurrencyRefunds), currency: config.currency }));
      context.push(t("digest.definitions", { tz: config.timeZone }));
      return {
        title: t("notify.week.title", { from: addDays(today, -7), to: addDays(today, -1) }),
        status: anomalies.length ? "warning" : "info",
        ...(anomalies.length ? { text: t("digest.anomalies", { pct: config.digestAnomalyPct, list: anomalies.join(t("digest.anomaly.sep")) }) } : {}),
        table: {
          columns: [t("digest.col.figure"), t("notify.week.col.this"), t("notify.week.col.before"), t("notify.week.col.change")],
          rows,
          alignRight: [1, 2, 3],
        },
        context,
        visibility: "public",
      };
    }
  },
});
