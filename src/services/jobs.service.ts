import type { Clock } from "../core/clock.js";
import type { JobRunDoc, Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";

/** Statuses that count as failures in `jobs`. */
export const FAILED_STATUSES = ["failed", "timeout", "lost"] as const;

/** The scheduler's own reasons for a failed run (its error's text is ours, so `jobs` words it in its reader's language). */
export type RunErrorCode = "timeout" | "shutdown" | "shutdown_before_start";

/** How a run ended. */
export type RunOutcome =
  | { status: "ok"; summary?: string }
  | { status: "failed" | "timeout"; error: string; retryAt?: Date; interrupted?: boolean; code?: RunErrorCode; timeoutMs?: number };

/** Why a run is given up: too many attempts, its shop day over, or a later slot due. */
export interface GiveUp {
  code: "spent" | "day_over" | "superseded";
  /** What befell its last attempt. */
  what: "holder_lost" | "failed" | "timeout";
  attempts?: number;
  day?: string;
}

/** How a timed-out run's handler ended after all. */
export type LateOutcome = { status: "ok"; summary?: string } | { status: "failed"; error: string };

/** Attempts of a run that count against the limit: those a clean shutdown cut short do not. */
export function countedAttempts(run: Pick<JobRunDoc, "attempt" | "interruptions">): number {
  return run.attempt - (run.interruptions ?? 0);
}

/** The key of a job slot: unique per job and slot, so inserting it is the claim. */
export function slotKey(jobId: string, slot: Date): string {
  return `${jobId}@${slot.toISOString()}`;
}

/**
 * Job slot claims and run records in MongoDB. Every step is one
 * single-document write with its guard in the filter, so several bot
 * instances can share one database: exactly one runs each slot.
 */
export class JobsService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Claims a slot by inserting its run record; null when another instance has it. */
  async claim(input: { job: string; slot: Date; holder: string; leaseMs: number; catchUp: boolean }): Promise<JobRunDoc | null> {
    const now = this.clock.now();
    const doc = {
      _id: slotKey(input.job, input.slot),
      job: input.job,
      slot: input.slot,
      status: "running" as const,
      holder: input.holder,
      attempt: 1,
      leaseUntil: new Date(now.getTime() + input.leaseMs),
      catchUp: input.catchUp,
      startedAt: now,
    };
    try {
      await this.store.jobRuns.create(doc);
      return doc as JobRunDoc;
    } catch (e) {
      if (isDuplicateKey(e)) return null;
      throw e;
    }
  }

  /**
   * Runs of these jobs due for another attempt: running ones whose holder's lease has run out
   * (crashed or stuck holders), and failed or timed-out ones whose `retryAt` has come.
   */
  async expired(jobs: readonly string[]): Promise<JobRunDoc[]> {
    const now = this.clock.now();
    const [lost, failed] = await Promise.all([
      this.store.jobRuns.find({ status: "running", leaseUntil: { $lt: now }, job: { $in: jobs } }).lean<JobRunDoc[]>(),
      this.store.jobRuns.find({ retryAt: { $lte: now }, status: { $in: ["failed", "timeout"] }, job: { $in: jobs } }).lean<JobRunDoc[]>(),
    ]);
    return [...lost, ...failed];
  }

  /**
   * Takes over an expired run, or retries a failed one: one guarded update on the state and
   * attempt we saw, so of several instances trying, one gets it. Null if someone else did.
   */
  async takeOver(run: JobRunDoc, holder: string, leaseMs: number): Promise<JobRunDoc | null> {
    const now = this.clock.now();
    const due = run.status === "running" ? { leaseUntil: { $lt: now } } : { retryAt: { $lte: now } };
    return this.store.jobRuns
      .findOneAndUpdate(
        { _id: run._id, status: run.status, attempt: run.attempt, ...due },
        { $set: { status: "running", holder, leaseUntil: new Date(now.getTime() + leaseMs), startedAt: now }, $unset: { retryAt: 1, endedAt: 1 }, $inc: { attempt: 1 } },
        { returnDocument: "after" },
      )
      .lean<JobRunDoc>();
  }

  /**
   * Gives up a run that will not be tried again (a later slot superseded it, or too many
   * attempts): an expired running one becomes lost; a failed one keeps its status and error.
   */
  async abandon(run: JobRunDoc, error: string, why?: GiveUp): Promise<boolean> {
    const now = this.clock.now();
    // The reason as data too, with the error it had: `jobs` words it in its reader's language.
    const notRetried = why ? { notRetried: { ...why, ...(run.status !== "running" && run.error ? { cause: run.error.slice(0, 500) } : {}) } } : {};
    if (run.status !== "running") {
      const r = await this.store.jobRuns.updateOne(
        { _id: run._id, status: run.status, attempt: run.attempt, retryAt: { $lte: now } },
        { $set: { error: `${run.error ?? run.status}; not retried: ${error}`.slice(0, 500), ...notRetried }, $unset: { retryAt: 1 } },
      );
      return r.modifiedCount === 1;
    }
    const r = await this.store.jobRuns.updateOne(
      { _id: run._id, status: "running", attempt: run.attempt, leaseUntil: { $lt: now } },
      { $set: { status: "lost", endedAt: now, error, ...notRetried } },
    );
    return r.modifiedCount === 1;
  }

  /** Records the outcome; only the current holder's attempt may (a late, taken-over holder changes nothing). */
  async finish(run: Pick<JobRunDoc, "_id" | "holder" | "attempt">, outcome: RunOutcome): Promise<boolean> {
    const set: Record<string, unknown> = { status: outcome.status, endedAt: this.clock.now() };
    const unset: Record<string, 1> = {};
    if (outcome.status === "ok") {
      if (outcome.summary) set.summary = outcome.summary.slice(0, 300);
      unset.error = 1; // an earlier attempt's failure is history once the slot succeeded
      unset.errorCode = 1;
      unset.timeoutMs = 1;
    } else {
      set.error = outcome.error.slice(0, 500);
      if (outcome.retryAt) set.retryAt = outcome.retryAt;
      // An earlier attempt's code must not word this attempt's error.
      if (outcome.code) set.errorCode = outcome.code;
      else unset.errorCode = 1;
      if (outcome.timeoutMs !== undefined) set.timeoutMs = outcome.timeoutMs;
      else unset.timeoutMs = 1;
    }
    const inc = outcome.status !== "ok" && outcome.interrupted ? { $inc: { interruptions: 1 } } : {};
    const r = await this.store.jobRuns.updateOne({ _id: run._id, status: "running", holder: run.holder, attempt: run.attempt }, { $set: set, ...inc, ...(Object.keys(unset).length ? { $unset: unset } : {}) });
    return r.modifiedCount === 1;
  }

  /**
   * Records how a timed-out run's handler ended after all (it went on past its timeout): once,
   * on the holder's attempt still `timeout`. The run stays `timeout`, so it counts as one failure.
   */
  async finishLate(run: Pick<JobRunDoc, "_id" | "holder" | "attempt">, outcome: LateOutcome): Promise<boolean> {
    const late = { status: outcome.status, at: this.clock.now(), ...(outcome.status === "ok" ? (outcome.summary ? { summary: outcome.summary.slice(0, 300) } : {}) : { error: outcome.error.slice(0, 500) }) };
    const r = await this.store.jobRuns.updateOne({ _id: run._id, status: "timeout", holder: run.holder, attempt: run.attempt, "late.at": { $exists: false } }, { $set: { late } });
    return r.modifiedCount === 1;
  }

  /** Last run, failures since `since`, and the latest failure of a job. */
  async summary(job: string, since: Date): Promise<{ last: JobRunDoc | null; failures: number; lastFailure: JobRunDoc | null }> {
    const [last, failures, lastFailure] = await Promise.all([
      this.store.jobRuns.findOne({ job }).sort({ slot: -1 }).lean<JobRunDoc>(),
      this.store.jobRuns.countDocuments({ job, status: { $in: FAILED_STATUSES }, slot: { $gte: since } }),
      this.store.jobRuns.findOne({ job, status: { $in: FAILED_STATUSES } }).sort({ slot: -1 }).lean<JobRunDoc>(),
    ]);
    return { last, failures, lastFailure };
  }

  /** The latest run of `job` that finished ok for a slot before `before`, or null. */
  async lastOk(job: string, before: Date): Promise<JobRunDoc | null> {
    return this.store.jobRuns.findOne({ job, status: "ok", slot: { $lt: before } }).sort({ slot: -1 }).lean<JobRunDoc>();
  }

  /** Recent runs of a job, newest first. */
  async runs(job: string, limit = 20): Promise<JobRunDoc[]> {
    return this.store.jobRuns.find({ job }).sort({ slot: -1 }).limit(limit).lean<JobRunDoc[]>();
  }
}
