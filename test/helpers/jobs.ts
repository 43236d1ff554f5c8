import { JOBS_DIR } from "../../src/app.js";
import { silentLogger } from "../../src/core/logger.js";
import { loadJobs, Scheduler } from "../../src/core/scheduler.js";
import type { TestApp } from "./app.js";

/** One job on a scheduler over a test app, driven by a controlled clock. */
export interface JobStepper {
  /** The simulated time (ms since the epoch). */
  t: number;
  sched: Scheduler;
  /** Moves the clock by `ms` and runs whatever slot of the job is then due. */
  step(ms: number): Promise<void>;
}

/** Loads the job `jobId` from jobs/ alone on a scheduler whose time starts at `start`. */
export async function jobStepper(app: TestApp, jobId: string, start: number): Promise<JobStepper> {
  const jobs = (await loadJobs(JOBS_DIR, app.config)).filter((j) => j.job.id === jobId);
  const sched = new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance: "T" });
  const s: JobStepper = {
    t: start,
    sched,
    async step(ms) {
      s.t += ms;
      app.clock.set(new Date(s.t));
      await sched.tick(new Date(s.t));
    },
  };
  return s;
}
