import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import { refundCard } from "../src/services/refund.view.js";

const HOUR = 3_600_000;

/**
 * Refunds, every few minutes (REFUND_EXPIRY_CRON): pending requests past their
 * deadline expire (the requester is told, by RefundService.expireDue); approvers
 * get one reminder (route `refunds`) per request pending longer than
 * REFUND_REMIND_HOURS; approved requests whose execution was interrupted are finished,
 * outcome notices a stopped process did not queue are queued, and balance holds no open
 * request stands behind are given back.
 */
export default defineJob({
  id: "refund-expiry",
  description: "Expire overdue refund requests, remind approvers once, finish interrupted refunds",
  schedule: (config) => config.refundExpiryCron,
  timeout: 120_000,
  async handler({ services, clock, config }) {
    const now = clock.now();
    const t = translator(config.locale);
    const fmt = new Formatter(config.locale, config.timeZone, config.currency);
    const { expired } = await services.refund.expireDue(now);
    const send = services.alerts.sender();
    // The card says who may approve: support below the policy's limit, else managers.
    const policy = await services.refund.policy();
    const { reminded } = await services.refund.remindDue(now, new Date(now.getTime() - config.refundRemindHours * HOUR), async (r) => {
      const hours = Math.floor((now.getTime() - r.requestedAt.getTime()) / HOUR);
      // The key is per request: a retried run queues nothing twice.
      await send({ type: "refunds", key: `refund-remind:${r._id}`, reply: refundCard(r, { t, fmt, now, policy, title: t("notify.refund.remind.title", { id: r._id, hours }), status: "warning" }) });
    });
    const { finished, failed, notified, reheld, released } = await services.refund.repair();
    return `${expired.length} expired, ${reminded.length} reminded, ${finished.length} finished, ${failed.length} failed${notified.length ? `, ${notified.length} late notices queued` : ""}${reheld.length ? `, ${reheld.length} requests held again` : ""}${released.length ? `, ${released.length} stale holds released` : ""}`;
  },
});
