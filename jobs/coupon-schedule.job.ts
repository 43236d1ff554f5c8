import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { NOTICE_WINDOW_MS } from "../src/services/coupon.service.js";
import { couponNoticeKey, expiredNotice, liveNotice } from "../src/services/coupon.view.js";

/**
 * Coupons, every minute (COUPON_SCHEDULE_CRON). A coupon's state follows its dates (it is live
 * from `startsAt`, expired from `endsAt`); this job tells the `coupons` route when a scheduled
 * coupon goes live and when one expires, once per transition. Claim first, send second: the
 * transition is recorded on the coupon (`notified.<kind>`) by an update guarded on its state, so
 * a coupon paused (or resumed) since the read is not announced; then it is queued under a key
 * per coupon and transition, and the claim (`notified.claimed.<kind>`) ends. A run stopped
 * between claim and send leaves the claim, which the next run takes over and finishes (the key
 * makes a second send harmless), holds while the coupon is paused (it is announced live when
 * resumed, never while paused) or, when the coupon ended meanwhile, releases. Every claim and
 * takeover counts up `notified.attempt.<kind>`, and each step is guarded on the attempt its run
 * holds or read: a run overlapping an earlier one still sending (past its timeout) never ends or
 * drops a claim that moved under it. A coupon ended by `coupon expire` (or resumed after a start
 * never announced) is claimed by the command's own update and announced by the command; one it
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
    const due = await services.coupon.scheduleDue(now, new Date(now.getTime() - NOTICE_WINDOW_MS));
    const uses = await services.coupon.redemptionsOf(due.filter((d) => d.kind === "expired" && !d.stale).map((d) => d.coupon));
    const send = services.alerts.sender();
    let sent = 0;
    for (const { coupon: c, kind, claim: seen, stale } of due) {
      if (stale) {
        // Only the attempt read: a claim taken over since is not dropped.
        await services.coupon.finishNotice(c._id, kind, seen!.attempt);
        continue;
      }
      // Paused, resumed or ended since the read, or claimed (or taken over) by another run: not announced here.
      const attempt = seen ? await services.coupon.takeOverNotice(c._id, kind, seen.attempt, now) : await services.coupon.claimNotice(c._id, kind, now);
      if (attempt === null) continue;
      const reply: Reply = kind === "expired" ? expiredNotice(c, uses.get(c._id.toUpperCase())!, t, fmt) : liveNotice(c, t, fmt);
      await send({ type: "coupons", key: couponNoticeKey(kind, c._id), reply });
      await services.coupon.finishNotice(c._id, kind, attempt);
      sent++;
    }
    return `${sent} announced`;
  },
});
