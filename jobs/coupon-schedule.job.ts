import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { couponFields, perCustomerOverText } from "../src/services/coupon.view.js";

/** Transitions older than this when first seen (first deployment, long downtime) are not announced. */
const WINDOW_MS = 24 * 3_600_000;

/**
 * Coupons, every minute (COUPON_SCHEDULE_CRON). A coupon's state follows its dates (it is live
 * from `startsAt`, expired from `endsAt`); this job tells the `coupons` route when a scheduled
 * coupon goes live and when one expires, once per transition. Claim first, send second: the
 * transition is recorded on the coupon (`notified.<kind>`) by an update guarded on its state, so
 * a coupon paused (or resumed) since the read is not announced; then it is queued under a key
 * per coupon and transition, and the claim (`notified.claimed.<kind>`) ends. A run stopped
 * between claim and send leaves the claim, which the next run finishes (the key makes a second
 * send harmless) or, when the coupon left that state meanwhile, releases.
 */
export default defineJob({
  id: "coupon-schedule",
  description: "Announce scheduled coupons going live and coupons expiring (once each)",
  schedule: (config) => config.couponScheduleCron,
  timeout: 60_000,
  async handler({ services, clock, config }) {
    const now = clock.now();
    const t = translator(config.locale);
    const fmt = new Formatter(config.locale, config.timeZone, config.currency);
    const due = await services.coupon.scheduleDue(now, new Date(now.getTime() - WINDOW_MS));
    const uses = await services.coupon.redemptionsOf(due.filter((d) => d.kind === "expired" && !d.stale).map((d) => d.coupon));
    const send = services.alerts.sender();
    let sent = 0;
    for (const { coupon: c, kind, claimedAt, stale } of due) {
      if (stale) {
        await services.coupon.finishNotice(c._id, kind, claimedAt!);
        continue;
      }
      // Paused, resumed or ended since the read, or claimed by another run: not announced here.
      const claim = claimedAt ?? (await services.coupon.claimNotice(c._id, kind, now));
      if (!claim) continue;
      const reply: Reply = { title: t(`notify.coupon.${kind}`, { code: c._id }), status: kind === "live" ? "ok" : "info", fields: couponFields(c, t, fmt), visibility: "public" };
      // The state is shopops' record: the storefront follows its own settings, so say so.
      reply.context = [t(`coupon.notify.${kind}`)];
      if (kind === "expired") {
        const r = uses.get(c._id.toUpperCase())!;
        reply.context.unshift(t("notify.coupon.uses", { uses: fmt.number(r.uses), customers: fmt.number(r.customers), revenue: fmt.money(r.revenue, r.currency), discount: fmt.money(r.discount, r.currency) }));
        if (r.paused) reply.context.push(t("coupon.notify.paused_orders", { n: fmt.number(r.paused) }));
        // As `coupon show` says it: uses in another currency are counted, their money is not.
        if (r.otherCurrency) reply.context.push(t("coupon.show.other_currency", { n: fmt.number(r.otherCurrency), currency: r.currency }));
        if (c.perCustomer && r.overPerCustomer.length) reply.context.push(perCustomerOverText(r.overPerCustomer, c.perCustomer, t, fmt));
      }
      await send({ type: "coupons", key: `coupon-${kind}:${c._id}`, reply });
      await services.coupon.finishNotice(c._id, kind, claim);
      sent++;
    }
    return `${sent} announced`;
  },
});
