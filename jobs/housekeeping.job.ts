import { defineJob } from "../src/core/job.js";
import { IMPORT_LOST_AFTER_MS, markLostImports } from "../src/services/ingest.service.js";

/**
 * Daily clean-up (HOUSEKEEPING_CRON): event markers (button presses, replayed events),
 * delivered outbox messages and finished job runs older than RETENTION_DAYS. This is what a
 * TTL index would do; a plain job works on every MongoDB-compatible server. Undelivered
 * ("pending", "dead") messages are never deleted: they stay visible until someone looks.
 * Stock ledger entries left pending for an hour by an interrupted change are settled; coupon
 * previews a dead Confirm left `confirming` past their end are closed as never launched.
 * Caught up (catchUp): a bot that is not running at HOUSEKEEPING_CRON's time runs it when it
 * starts later that shop day (a daytime-only bot every morning).
 */
export default defineJob({
  id: "housekeeping",
  description: "Delete old event markers, delivered messages and job runs; settle interrupted stock changes",
  schedule: (config) => config.housekeepingCron,
  timeout: 300_000,
  // Idempotent, and the only clean-up there is: a bot not up at 03:30 runs it when it starts, the same shop day.
  catchUp: true,
  async handler({ services, clock, config }) {
    const cutoff = new Date(clock.now().getTime() - config.retentionDays * 86_400_000);
    const { store } = services;
    const [markers, messages, runs] = await Promise.all([
      store.markers.deleteMany({ at: { $lt: cutoff } }),
      store.outbox.deleteMany({ status: "sent", sentAt: { $lt: cutoff } }),
      store.jobRuns.deleteMany({ slot: { $lt: cutoff }, endedAt: { $exists: true } }),
    ]);
    const ledger = await services.stock.settlePending(new Date(clock.now().getTime() - 3_600_000));
    // Imports killed without recording their end: their audit entries stop saying `running`.
    const lost = await markLostImports(store, new Date(clock.now().getTime() - IMPORT_LOST_AFTER_MS));
    // Coupon previews a dead Confirm left confirming past their end: closed as never launched.
    const drafts = await services.coupon.settleStuckDrafts(clock.now());
    return `deleted ${markers.deletedCount} markers, ${messages.deletedCount} messages, ${runs.deletedCount} job runs older than ${config.retentionDays} days; settled ${ledger.applied + ledger.withdrawn} pending stock changes (${ledger.applied} applied, ${ledger.withdrawn} withdrawn)${lost ? `; marked ${lost} unfinished import${lost > 1 ? "s" : ""} lost` : ""}${drafts ? `; closed ${drafts} coupon preview${drafts > 1 ? "s" : ""} left confirming past ${drafts > 1 ? "their" : "its"} end` : ""}`;
  },
});
