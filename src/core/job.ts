import type { Config } from "../config.js";
import type { Services } from "../services/services.js";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";

/** What a job's handler receives. */
export interface JobContext {
  services: Services;
  /** The scheduler's clock (a controlled one in tests). */
  clock: Clock;
  logger: Logger;
  config: Config;
  /** The scheduled slot this run is for (an instant); idempotency keys derive from it. */
  slot: Date;
  /** True when the run is a catch-up after downtime. */
  catchUp: boolean;
  /** Aborted when the run exceeds its timeout or the bot shuts down (its reason says which: see `forShutdown`): stop early. */
  signal: AbortSignal;
}

/**
 * A scheduled job: one file in jobs/ exporting one of these as default.
 * The scheduler claims each slot in MongoDB so one instance runs it.
 */
export interface Job {
  /** Stable id in kebab-case: part of every slot key (`low-stock@2026-11-25T01:00:00.000Z`). */
  id: string;
  /** One line for `jobs`. */
  description: string;
  /** A 5-field cron expression in SHOP_TIMEZONE, or a function reading it from configuration. */
  schedule: string | ((config: Config) => string);
  /** Longest a run may take, in milliseconds; a run's claim lasts this long plus a grace period. */
  timeout: number;
  /**
   * Runs a slot missed while no instance was up, once, when the bot comes back
   * the same shop day (daily jobs); needs JOBS_CATCH_UP (default on).
   */
  catchUp?: boolean;
  /** Does the work; may return a short summary recorded with the run. */
  handler(ctx: JobContext): Promise<string | void>;
}

/** Declares a job (identity function for typing). */
export function defineJob(job: Job): Job {
  return job;
}
