import { z } from "zod";
import { jobsOnce } from "../src/app.js";
import { defineCommand } from "../src/core/command.js";
import { nextSlot } from "../src/core/cron.js";
import { localDay, type Formatter } from "../src/core/format.js";
import type { MessageKey, Translate } from "../src/core/messages.js";
import type { LoadedJob } from "../src/core/scheduler.js";
import type { JobRunDoc } from "../src/store/models.js";
import { formatDuration } from "./complaint.view.js";

/**
 * The last run's outcome as an admin needs it: whether it was a catch-up, how many attempts a
 * slot took, and when a failed one is tried again, as the scheduler decides it (src/core/scheduler.ts)
 * at its first tick at or after `retryAt` (ticks come each whole minute): not at all once the
 * job's next slot is due, nor, for a catch-up job, once the slot's shop day is over.
 */
function outcomeText(last: JobRunDoc, lj: LoadedJob, now: Date, t: Translate, fmt: Formatter, tz: string): string {
  let text = t(`jobs.status.${last.status}` as MessageKey);
  // Still "running" past its claim: its instance died (or lost the database) mid-run, and nothing
  // runs it now; said, so nobody waits on it. The next tick of a running bot retries or gives it up.
  if (last.status === "running" && last.leaseUntil.getTime() < now.getTime()) text += t("jobs.holder_lost", { at: fmt.dateTime(last.leaseUntil) });
  // A timed-out run whose handler finished after all: how, and when.
  if (last.status === "timeout" && last.late?.at) text += t(last.late.status === "ok" ? "jobs.late.ok" : "jobs.late.failed", { at: fmt.dateTime(last.late.at) });
  if (last.catchUp) text += " " + t("jobs.catch_up");
  if (last.attempt > 1) text += " " + t("jobs.attempt", { n: last.attempt });
  if (last.retryAt) {
    const tick = new Date(Math.ceil(last.retryAt.getTime() / 60_000) * 60_000);
    const next = nextSlot(lj.spec, last.slot);
    const day = localDay(last.slot, tz);
    // The retry messages bring their own separator. A later slot due by then supersedes the run: no retry to speak of.
    if (next && next.getTime() <= tick.getTime()) return text;
    if (lj.job.catchUp === true && localDay(tick, tz) !== day) text += t("jobs.retry_day_over", { day });
    else text += t("jobs.retry_at", { at: fmt.dateTime(tick) });
  }
  return text;
}

/**
 * A job's timeout as durations read elsewhere in the bot ("10m", "1h 30m"; `formatDuration`), with
 * the seconds it has besides ("1m 30s", "1s"; 1分钟30秒): not "600000 ms".
 */
function durationText(ms: number, t: Translate, fmt: Formatter): string {
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const parts = minutes ? [formatDuration(minutes * 60_000, t)] : [];
  if (seconds || !minutes) parts.push(t("jobs.dur.s", { n: fmt.number(seconds, 3) }));
  // Joined as formatDuration joins its units: "1h 30m 30s", and in Chinese with no space, "1小时30分钟30秒".
  return parts.join(t("complaint.dur.sep"));
}

/**
 * A failed run's error in the reader's language where the text is the scheduler's own (a timeout,
 * a shutdown, why it is not retried); a handler's own error as it was thrown. Runs recorded before
 * these codes existed show their stored text.
 */
function errorText(run: JobRunDoc, t: Translate, fmt: Formatter): string {
  const own = run.errorCode ? t(`jobs.error.${run.errorCode}` as MessageKey, { duration: durationText(run.timeoutMs ?? 0, t, fmt) }) : undefined;
  const gaveUp = run.notRetried?.code ? run.notRetried : undefined;
  let text: string;
  if (gaveUp) {
    const why = t(`jobs.give_up.${gaveUp.code}` as MessageKey, { what: t(`jobs.what.${gaveUp.what ?? "failed"}` as MessageKey), n: gaveUp.attempts ?? 0, day: gaveUp.day ?? "" });
    const before = own ?? gaveUp.cause;
    text = before ? t("jobs.not_retried", { error: before, why }) : why;
  } else text = own ?? run.error ?? "";
  if (run.late?.at) text += run.late.status === "ok" ? t("jobs.late.ok_context", { at: fmt.dateTime(run.late.at) }) : t("jobs.late.failed_error", { at: fmt.dateTime(run.late.at), error: run.late.error ?? "" });
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
      const outcome = s.last ? outcomeText(s.last, jobs[k]!, now, t, fmt, config.timeZone) : "—";
      rows.push([job.id, spec.expression, s.last ? fmt.dateTime(s.last.slot) : t("jobs.never"), outcome, next ? fmt.dateTime(next) : "—", String(s.failures)]);
      if (s.failures > 0) anyFailed = true;
      if (s.lastFailure) failures.push(t("jobs.last_failure", { job: job.id, at: fmt.dateTime(s.lastFailure.slot), error: errorText(s.lastFailure, t, fmt) }));
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
