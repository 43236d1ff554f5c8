import { z } from "zod";
import { jobsOnce } from "../src/app.js";
import { defineCommand } from "../src/core/command.js";
import { nextSlot } from "../src/core/cron.js";
import type { Formatter } from "../src/core/format.js";
import type { MessageKey, Translate } from "../src/core/messages.js";
import type { JobRunDoc } from "../src/store/models.js";

/**
 * The last run's outcome as an admin needs it: whether it was a catch-up, how many attempts a
 * slot took, and when a failed one is tried again (only if that comes before the next slot,
 * which would supersede it: see the scheduler).
 */
function outcomeText(last: JobRunDoc, next: Date | null, now: Date, t: Translate, fmt: Formatter): string {
  let text = t(`jobs.status.${last.status}` as MessageKey);
  // Still "running" past its claim: its instance died (or lost the database) mid-run, and nothing
  // runs it now; said, so nobody waits on it. The next tick of a running bot retries or gives it up.
  if (last.status === "running" && last.leaseUntil.getTime() < now.getTime()) text += t("jobs.holder_lost", { at: fmt.dateTime(last.leaseUntil) });
  if (last.catchUp) text += " " + t("jobs.catch_up");
  if (last.attempt > 1) text += " " + t("jobs.attempt", { n: last.attempt });
  // The retry message brings its own separator.
  if (last.retryAt && (!next || last.retryAt.getTime() < next.getTime())) text += t("jobs.retry_at", { at: fmt.dateTime(last.retryAt) });
  return text;
}

export default defineCommand({
  name: "jobs",
  description: "cmd.jobs",
  args: z.object({}),
  examples: ["jobs"],
  permission: "admin",
  mutates: false,
  async handler({ services, t, fmt, now, config }) {
    const jobs = await jobsOnce(config);
    if (jobs.length === 0) return { status: "info", text: t("jobs.none"), visibility: "ephemeral" };
    const since = new Date(now.getTime() - 7 * 86_400_000);
    const rows: string[][] = [];
    const failures: string[] = [];
    let anyFailed = false;
    // The summaries side by side; rows in the jobs' order.
    const sums = await Promise.all(jobs.map(({ job }) => services.jobs.summary(job.id, since)));
    for (const [k, { job, spec }] of jobs.entries()) {
      const s = sums[k]!;
      const next = nextSlot(spec, now);
      const outcome = s.last ? outcomeText(s.last, next, now, t, fmt) : "—";
      rows.push([job.id, spec.expression, s.last ? fmt.dateTime(s.last.slot) : t("jobs.never"), outcome, next ? fmt.dateTime(next) : "—", String(s.failures)]);
      if (s.failures > 0) anyFailed = true;
      if (s.lastFailure) failures.push(t("jobs.last_failure", { job: job.id, at: fmt.dateTime(s.lastFailure.slot), error: s.lastFailure.error ?? "" }));
    }
    return {
      title: t("jobs.title"),
      status: anyFailed ? "warning" : "ok",
      table: {
        columns: [t("jobs.col.job"), t("jobs.col.schedule"), t("jobs.col.last"), t("jobs.col.outcome"), t("jobs.col.next"), t("jobs.col.failures")],
        rows,
        alignRight: [5],
      },
      ...(failures.length ? { context: failures } : {}),
      visibility: "ephemeral",
    };
  },
});
