import path from "node:path";
import type { Connection } from "mongoose";
import { PROJECT_ROOT, type Config } from "./config.js";
import type { Clock } from "./core/clock.js";
import type { Command } from "./core/command.js";
import { Core } from "./core/core.js";
import type { Logger } from "./core/logger.js";
import { loadCommands } from "./core/registry.js";
import { loadJobs, type LoadedJob } from "./core/scheduler.js";
import { createServices, type Services } from "./services/services.js";
import { createStore, ensureIndexes, type Store } from "./store/models.js";

/** The directory the commands are loaded from. */
export const COMMANDS_DIR = path.join(PROJECT_ROOT, "commands");

/** A wired application: store, services and the command core. */
export interface App {
  store: Store;
  services: Services;
  core: Core;
  commands: readonly Command[];
}

/** The directory the scheduled jobs are loaded from. */
export const JOBS_DIR = path.join(PROJECT_ROOT, "jobs");

let cachedCommands: Promise<Command[]> | undefined;
let cachedJobs: Promise<LoadedJob[]> | undefined;

/** Loads the jobs once per process (schedules resolved with the first configuration given). */
export function jobsOnce(config: Config, dir = JOBS_DIR): Promise<LoadedJob[]> {
  cachedJobs ??= loadJobs(dir, config);
  return cachedJobs;
}

/** Loads commands once per process (they are code, not data). */
export function commandsOnce(dir = COMMANDS_DIR): Promise<Command[]> {
  cachedCommands ??= loadCommands(dir);
  return cachedCommands;
}

/** Options of {@link createBackend} and {@link createApp}. */
export interface BackendOptions {
  config: Config;
  conn: Connection;
  clock: Clock;
  logger: Logger;
}

/** The store over an open connection (its indexes ensured) and the services over it. */
export async function createBackend(opts: BackendOptions): Promise<Pick<App, "store" | "services">> {
  const store = createStore(opts.conn);
  await ensureIndexes(store);
  return { store, services: createServices(store, opts.clock, opts.config, opts.logger) };
}

/** Builds the app over an open connection: indexes, services, commands, core. */
export async function createApp(opts: BackendOptions & { commands?: readonly Command[] }): Promise<App> {
  const { store, services } = await createBackend(opts);
  const commands = opts.commands ?? (await commandsOnce());
  const core = new Core({ commands, services, config: opts.config, clock: opts.clock, logger: opts.logger });
  return { store, services, core, commands };
}
