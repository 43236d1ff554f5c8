import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { couponFields, couponNoticeKey, expiredNotice } from "../src/services/coupon.view.js";

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
 * send harmless) or, when the coupon left that state meanwhile, releases. A coupon ended by
 * `coupon expire` is claimed by the expire's own update and announced by the command; one it
 * did not queue (stopped in between) is left claimed, and queued here.
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
      // The state is shopops' record: the storefront follows its own settings, so say so.
      const reply: Reply =
        kind === "expired"
          ? expiredNotice(c, uses.get(c._id.toUpperCase())!, t, fmt)
          : { title: t("notify.coupon.live", { code: c._id }), status: "ok", fields: couponFields(c, t, fmt), context: [t("coupon.notify.live")], visibility: "public" };
      await send({ type: "coupons", key: couponNoticeKey(kind, c._id), reply });
      await services.coupon.finishNotice(c._id, kind, claim);
      sent++;
    }
    return `${sent} announced`;
  },
});
