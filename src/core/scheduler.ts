import { randomBytes } from "node:crypto";
import os from "node:os";
import cron, { type ScheduledTask } from "node-cron";
import { z } from "zod";
import type { Config } from "../config.js";
import { countedAttempts, type GiveUp, type JobsService, type RunOutcome } from "../services/jobs.service.js";
import type { Services } from "../services/services.js";
import type { JobRunDoc } from "../store/models.js";
import { settleWithin, type Clock } from "./clock.js";
import { latestSlot, nextSlot, parseCron, type CronSpec } from "./cron.js";
import { dayStart, localDay } from "./format.js";
import type { Job } from "./job.js";
import type { Logger } from "./logger.js";
import { PendingWrites } from "./pending-writes.js";
import { loadDefaults } from "./module-loader.js";

/** Raised when a job file is malformed: startup stops with this message. */
export class JobLoadError extends Error {
  constructor(file: string, problem: string) {
    super(`Cannot load job file ${file}: ${problem}. Fix the file (see jobs/README.md) and start again.`);
    this.name = "JobLoadError";
  }
}

const JobShape = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "id must be kebab-case"),
  description: z.string().min(1),
  schedule: z.union([z.string(), z.custom<(c: Config) => string>((v) => typeof v === "function")]),
  timeout: z.number().int().min(1000, "timeout is in milliseconds (at least 1000)"),
  catchUp: z.boolean().optional(),
  handler: z.custom<Job["handler"]>((v) => typeof v === "function", "handler must be a function"),
});

/** A job with its schedule resolved for a configuration. */
export interface LoadedJob {
  job: Job;
  spec: CronSpec;
}

/** Resolves and checks a job's schedule; throws {@link JobLoadError} naming the file. */
export function checkJob(value: unknown, file: string, config: Config): LoadedJob {
  const r = JobShape.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new JobLoadError(file, `${i.path.join(".") || "default export"}: ${i.message}`);
  }
  const job = value as Job;
  const expr = typeof job.schedule === "function" ? job.schedule(config) : job.schedule;
  try {
    return { job, spec: parseCron(expr, config.timeZone) };
  } catch (e) {
    throw new JobLoadError(file, `schedule: ${(e as Error).message}`);
  }
}

/** Loads every `*.job.ts` (or `.js`) in `dir`; a malformed file or a duplicate id stops startup. */
export async function loadJobs(dir: string, config: Config): Promise<LoadedJob[]> {
  return loadDefaults({
    dir,
    pattern: /\.job\.(ts|js)$/,
    check: (value, file) => checkJob(value, file, config),
    key: (j) => j.job.id,
    keyName: "id",
    fail: (file, problem) => new JobLoadError(file, problem),
  });
}

/** Extra time a claim lasts beyond the job's timeout before another instance may take it over. */
export const LEASE_GRACE_MS = 60_000;
/** A slot is run at most this many times in all, takeovers and retries of failures included (a job that kills its holder is not retried forever). */
export const MAX_ATTEMPTS = 3;
/** A failed run is tried again this long after it ended, times its attempt (unless its next slot comes first). */
export const RETRY_BACKOFF_MS = 2 * 60_000;
/** How long `stop()` waits for a tick's database steps under way (claims, takeovers) before it returns. */
export const TICK_SETTLE_MS = 5_000;
/**
 * How long `stop()` waits, once it has interrupted the runs still going, for their outcomes to be
 * written and their handlers (told to stop) to end, before it returns and the caller closes the
 * connection: a write queued behind a busy job's own (the embedded database serializes writes) is
 * otherwise cut off, and the outcome lost.
 */
export const INTERRUPT_SETTLE_MS = 5_000;

/** A run whose handler is still going on this instance (a timed-out one included). */
export interface ActiveRun {
  job: string;
  /** When its handler started (the scheduler's clock). */
  since: Date;
}

/** What `stop()` found: the jobs it interrupted (recorded as such, retried later), and those whose handlers still went on when it gave up waiting. */
export interface StopResult {
  interrupted: string[];
  stillRunning: string[];
}

/** Dependencies of a scheduler. */
export interface SchedulerDeps {
  jobs: readonly LoadedJob[];
  services: Services;
  runs: JobsService;
  clock: Clock;
  config: Config;
  logger: Logger;
  /** This instance's id (host:pid:random by default). */
  instance?: string;
}

/**
 * Runs jobs on their cron schedules, exactly once across instances: each due
 * slot is claimed by inserting `<jobId>@<slot>` in MongoDB; a claim whose
 * holder died is taken over when its lease ends. `tick(now)` does all the work
 * and is what node-cron calls once a minute (every schedule has minute
 * resolution), so a test can drive it with a controlled clock.
 */
export class Scheduler {
  readonly instance: string;
  /** Per job: slots up to this instant have been considered by this instance. */
  private readonly checked = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly tasks: ScheduledTask[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Ticks still claiming slots (their database steps, not the runs they start): `stop()` waits for them. */
  private readonly claiming = new Set<Promise<unknown>>();
  /** Stops a running run (its handler's signal aborted, its outcome "interrupted"): for a clean shutdown. */
  private readonly interrupters = new Set<(e: Error) => void>();
  /** Handlers still going here, until they end and any late outcome of theirs is recorded: `stop()` waits for them, so none writes after the connection closes. */
  private readonly active = new Map<symbol, ActiveRun & { settled: Promise<unknown>; timedOut?: true }>();
  /** Runs that succeeded here whose "ok" could not be written yet (by run id): written by later ticks, never run again. */
  private readonly unrecorded = new PendingWrites<{ run: JobRunDoc; outcome: RunOutcome }>(
    (_id, { run, outcome }) => this.deps.runs.finish(run, outcome).then(() => undefined),
    (id, error) => this.deps.logger.error("job succeeded but its outcome could not be recorded; recorded when the database answers, not run again", { run: id, error }),
  );
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.instance = deps.instance ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  }

  /**
   * Considers every job at `now`: runs the latest slot due since the last
   * tick (claiming it first), and takes over expired claims. On the first tick
   * a catch-up job looks back to the start of the shop day. Resolves when the
   * runs it started have finished.
   */
  async tick(now: Date = this.deps.clock.now()): Promise<void> {
    if (this.stopped) return;
    // The claiming part is kept so that stop() waits for it: the connection must not close
    // under a claim, and a claim that lands after stop() starts no run.
    const claiming = this.claim(now);
    const settled = claiming.catch(() => undefined);
    this.claiming.add(settled);
    void settled.finally(() => this.claiming.delete(settled));
    await Promise.all(await claiming);
  }

  /** Claims the due slots and expired runs at `now`, starting their runs; resolves with the runs, once no more database steps are under way. */
  private async claim(now: Date): Promise<Promise<void>[]> {
    // Successes this instance could not record are recorded first (the database is back).
    await this.unrecorded.flush();
    const work: Promise<void>[] = [];
    const { jobs } = this.deps;
    for (const lj of jobs) {
      if (this.stopped) return work;
      const id = lj.job.id;
      // A process asleep across days (a suspended laptop, a paused container) looks back no
      // further than one starting now: a catch-up job's missed slot of an earlier day is not
      // run on waking (yesterday's digest sent today as if new), as it is not on a restart.
      const checked = this.checked.get(id);
      // A daily-style job (catchUp) looks back no further than a process starting now would:
      // today's start when catching up, else its own missed-slot margin (the last 10 minutes,
      // wide enough for a slow tick, not for a night asleep).
      const floor = lj.job.catchUp !== true ? -Infinity : this.deps.config.jobsCatchUp ? this.firstLook(lj, now) : now.getTime() - 10 * 60_000;
      const from = checked === undefined ? this.firstLook(lj, now) : Math.max(checked, floor);
      const slot = latestSlot(lj.spec, new Date(from), now);
      const seen = Math.max(from, now.getTime());
      if (!slot || this.busy.has(id)) {
        this.checked.set(id, seen);
        continue;
      }
      const catchUp = now.getTime() - slot.getTime() > 60_000 && lj.job.catchUp === true;
      let claim: Awaited<ReturnType<SchedulerDeps["runs"]["claim"]>>;
      try {
        claim = await this.deps.runs.claim({ job: id, slot, holder: this.instance, leaseMs: lj.job.timeout + LEASE_GRACE_MS, catchUp });
      } catch (e) {
        // The slot stays due: the next tick tries it again (a database blip must not lose 09:00).
        this.deps.logger.error("job claim failed; retried next tick", { job: id, slot, error: e });
        continue;
      }
      this.checked.set(id, seen);
      if (claim && this.stopped) {
        await this.release(lj, claim);
        return work;
      }
      if (claim) work.push(this.track(this.execute(lj, claim)));
    }
    if (this.stopped) return work;
    for (const run of await this.deps.runs.expired(jobs.map((j) => j.job.id))) {
      if (this.stopped) return work;
      const lj = jobs.find((j) => j.job.id === run.job)!;
      if (this.busy.has(lj.job.id)) continue;
      // Succeeded here, its "ok" not yet written: neither run again nor given up.
      if (this.unrecorded.get(run._id)) continue;
      // Only the job's current slot is worth finishing; an older one was superseded.
      const next = nextSlot(lj.spec, run.slot);
      const what = run.status === "running" ? "holder lost" : `run ${run.status}`;
      const spent = countedAttempts(run) >= MAX_ATTEMPTS;
      // A catch-up (daily) job's slot runs on its own shop day only: yesterday's digest is not sent
      // today by a takeover or retry, as it is not by a restart.
      const tz = this.deps.config.timeZone;
      const day = localDay(new Date(run.slot), tz);
      const dayOver = lj.job.catchUp === true && day !== localDay(now, tz);
      if ((next && next.getTime() <= now.getTime()) || spent || dayOver) {
        const superseded = next !== null && next.getTime() <= now.getTime();
        const why: GiveUp = { code: spent ? "spent" : dayOver && !superseded ? "day_over" : "superseded", what: run.status === "running" ? "holder_lost" : run.status === "timeout" ? "timeout" : "failed", ...(spent ? { attempts: countedAttempts(run) } : {}), ...(dayOver ? { day } : {}) };
        await this.deps.runs.abandon(run, why.code === "spent" ? `${what} ${countedAttempts(run)} times; given up` : why.code === "day_over" ? `${what}; its shop day (${day}) is over` : `${what}; a later slot superseded it`, why);
        continue;
      }
      const taken = await this.deps.runs.takeOver(run, this.instance, lj.job.timeout + LEASE_GRACE_MS);
      if (taken && this.stopped) {
        await this.release(lj, taken);
        return work;
      }
      if (taken) {
        this.deps.logger.warn(run.status === "running" ? "job slot taken over" : "job slot retried after a failure", { job: run.job, slot: run.slot, from: run.holder, attempt: taken.attempt });
        work.push(this.track(this.execute(lj, taken)));
      }
    }
    return work;
  }

  /**
   * A slot claimed (or taken over) just as stop() came: no run starts. The claim is given back
   * as interrupted by shutdown (not counted as an attempt) and due again at once, so the next
   * instance up runs it rather than waiting out its lease.
   */
  private async release(lj: LoadedJob, run: JobRunDoc): Promise<void> {
    this.deps.logger.info("job slot claimed as the scheduler stopped; not started, retried later", { job: lj.job.id, slot: run.slot });
    await this.deps.runs
      .finish(run, { status: "failed", error: "interrupted by shutdown before it started", code: "shutdown_before_start", retryAt: this.deps.clock.now(), interrupted: true })
      .catch((e: unknown) => this.deps.logger.error("could not record job outcome", { job: lj.job.id, slot: run.slot, error: e }));
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Where this instance starts looking for slots: the shop day's start for catch-up jobs, else a minute back (the minute tick fires a little after the slot). */
  private firstLook(lj: LoadedJob, now: Date): number {
    if (lj.job.catchUp && this.deps.config.jobsCatchUp) return dayStart(localDay(now, this.deps.config.timeZone), this.deps.config.timeZone).getTime() - 1;
    return now.getTime() - 60_000;
  }

  private async execute(lj: LoadedJob, run: JobRunDoc): Promise<void> {
    const { job } = lj;
    const logger = this.deps.logger.child({ job: job.id, slot: run.slot.toISOString(), instance: this.instance });
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let interrupt: ((e: Error) => void) | undefined;
    let summary: string | void;
    this.busy.add(job.id);
    const ctx = { services: this.deps.services, clock: this.deps.clock, logger, config: this.deps.config, slot: new Date(run.slot), catchUp: run.catchUp === true, signal: abort.signal };
    const handler = Promise.resolve().then(() => job.handler(ctx));
    const key = Symbol(run._id);
    const untrack = () => void this.active.delete(key);
    // A timed-out handler stays tracked until its late finish is recorded (below).
    const ended = () => void (this.active.get(key)?.timedOut ? undefined : untrack());
    this.active.set(key, { job: job.id, since: this.deps.clock.now(), settled: handler.then(ended, ended) });
    // A handler that ignores the abort keeps running after its timeout: this instance starts no
    // other run of the job until it has stopped, or until its claim would have run out anyway
    // (a handler hung for good must not stop the job on this instance for good).
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(stuck);
      this.busy.delete(job.id);
    };
    const stuck = setTimeout(() => {
      logger.warn("job handler still running past its timeout and lease; its job is free to run again here", { timeoutMs: job.timeout });
      release();
    }, job.timeout + LEASE_GRACE_MS);
    stuck.unref?.();
    void handler.catch(() => undefined).finally(release);
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = new TimeoutError(job.timeout);
          abort.abort(e); // the reason tells a handler a timeout from a shutdown (forShutdown)
          reject(e);
        }, job.timeout);
      });
      const interrupted = new Promise<never>((_, reject) => {
        interrupt = (e: Error) => {
          abort.abort(e);
          reject(e);
        };
        this.interrupters.add(interrupt);
      });
      summary = await Promise.race([handler, timeout, interrupted]);
    } catch (e) {
      const status = e instanceof TimeoutError ? "timeout" : "failed";
      const shutdown = e instanceof ShutdownError;
      if (shutdown) logger.info("job interrupted by shutdown; retried later", {});
      else logger.error("job failed", { error: e });
      // Every job's sends are keyed and its writes guarded, so a later attempt of the slot repeats
      // nothing. A timed-out run is not retried: its handler may still be going, and would
      // likely time out again.
      // An interruption by shutdown is not the job's failure: retried even on its last attempt.
      const retryAt = status === "failed" && (countedAttempts(run) < MAX_ATTEMPTS || shutdown) ? new Date(this.deps.clock.now().getTime() + RETRY_BACKOFF_MS * run.attempt) : undefined;
      // Our own reasons carry a code, so `jobs` words them in its reader's language (a handler's error is shown as it is).
      const code = status === "timeout" ? { code: "timeout" as const, timeoutMs: job.timeout } : shutdown ? { code: "shutdown" as const } : {};
      const recorded = await this.deps.runs
        .finish(run, { status, error: (e as Error)?.message ?? String(e), ...code, ...(retryAt ? { retryAt } : {}), ...(shutdown ? { interrupted: true } : {}) })
        .catch((err: unknown) => {
          logger.error("could not record job outcome", { error: err });
          return false;
        });
      // A handler that goes on past its timeout may still finish: how is recorded on the run (still
      // `timeout`, one failure), so `jobs` shows it rather than "timed out" for good.
      if (status === "timeout" && recorded) {
        const late = handler
          .then(
            (late) => this.deps.runs.finishLate(run, { status: "ok", ...(late ? { summary: late } : {}) }),
            (err: unknown) => this.deps.runs.finishLate(run, { status: "failed", error: (err as Error)?.message ?? String(err) }),
          )
          .then((done) => logger.info("timed-out job handler finished after all", { recorded: done }))
          .catch((err: unknown) => logger.error("could not record a timed-out job's late finish", { error: err }))
          .finally(untrack);
        // stop() waits for the late finish's record too (else a finish after stop() is lost).
        const entry = this.active.get(key);
        if (entry) Object.assign(entry, { settled: late, timedOut: true });
      }
      return;
    } finally {
      clearTimeout(timer);
      if (interrupt) this.interrupters.delete(interrupt);
    }
    // The handler succeeded: its work is done. Failing to write "ok" (a database blip) must not
    // turn it into a failure retried, or a claim taken over: the handler would run twice.
    await this.unrecorded.record(run._id, { run, outcome: { status: "ok", ...(summary ? { summary } : {}) } });
  }

  /**
   * Starts a node-cron task that ticks every minute: each tick runs every job's due slot and
   * takes over expired claims (schedules have minute resolution, so one task serves all jobs).
   */
  start(): void {
    const run = () => {
      this.tick(this.deps.clock.now()).catch((e: unknown) => this.deps.logger.error("scheduler tick failed", { error: e }));
    };
    this.tasks.push(cron.schedule("* * * * *", run, { name: "scheduler-tick" }));
    // Catch-up and any slot due right now.
    run();
  }

  /** The runs whose handlers are still going here, longest-running first: what a clean `stop()` waits for. */
  running(): ActiveRun[] {
    return [...this.active.values()].map(({ job, since }) => ({ job, since })).sort((a, b) => a.since.getTime() - b.since.getTime());
  }

  /**
   * Stops scheduling: a tick still claiming ends its database step under way (up to
   * {@link TICK_SETTLE_MS}) and starts no run. Then waits up to `graceMs` for running jobs to
   * finish (their outcomes recorded, a timed-out handler's late finish too); then (a clean
   * shutdown) interrupts the rest, recorded as failed and retried, and waits up to
   * {@link INTERRUPT_SETTLE_MS} for those records and for their handlers to stop. With no grace (a
   * process killed), a run cut short is taken over by another instance when its lease ends.
   */
  async stop(graceMs = 0): Promise<StopResult> {
    const result: StopResult = { interrupted: [], stillRunning: [] };
    this.stopped = true;
    for (const t of this.tasks.splice(0)) await t.destroy();
    // A tick still claiming (the one at start-up, say) ends its database step under way and
    // starts nothing more: the caller may close the connection once this resolves.
    if (this.claiming.size > 0) await settleWithin(this.claiming, TICK_SETTLE_MS);
    const pending = () => [...this.inFlight, ...[...this.active.values()].map((a) => a.settled)];
    if (graceMs > 0 && (this.inFlight.size > 0 || this.active.size > 0)) {
      await settleWithin(pending(), graceMs);
      // Still running: their handlers are told to stop (signal aborted) and the runs recorded as
      // interrupted, retried after the backoff by whichever instance is up, while the database
      // is still there to record it (rather than each waiting out its lease after the process is gone).
      result.interrupted = [...this.active.values()].filter((a) => !a.timedOut).map((a) => a.job);
      for (const stop of [...this.interrupters]) stop(new ShutdownError());
      await settleWithin(pending(), INTERRUPT_SETTLE_MS);
      // A handler that ignores its signal goes on: its writes after the connection closes fail
      // (each job's writes are guarded and its sends keyed, so the retry repeats nothing).
      result.stillRunning = [...this.active.values()].map((a) => a.job);
      if (result.stillRunning.length) this.deps.logger.warn("job handler still running at shutdown; the run is recorded as interrupted and retried later", { jobs: result.stillRunning });
    }
    // A last try at successes not yet recorded (else another instance runs them again after their lease).
    await this.unrecorded.flush();
    return result;
  }
}

/**
 * A signal aborted when a run's `signal` is aborted for a shutdown, not for its timeout: for work
 * that, cut at its timeout, would start over at every run and never end (the low-stock scan's
 * whole recompute of thresholds); past its timeout it goes on, and its late finish is recorded.
 */
export function forShutdown(signal: AbortSignal): AbortSignal {
  const stop = new AbortController();
  const pass = () => {
    if (!(signal.reason instanceof TimeoutError)) stop.abort(signal.reason);
  };
  if (signal.aborted) pass();
  else signal.addEventListener("abort", pass, { once: true });
  return stop.signal;
}

/** A run stopped by a clean shutdown: recorded as failed, so it is retried like one. */
class ShutdownError extends Error {
  constructor() {
    super("interrupted by shutdown");
    this.name = "ShutdownError";
  }
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}
