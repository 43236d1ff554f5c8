import path from "node:path";
import type { Connection } from "mongoose";
import { ConfigError, PROJECT_ROOT, sameTimeZone, type Config } from "./config.js";
import { systemClock, type Clock } from "./core/clock.js";
import type { Command } from "./core/command.js";
import { Core } from "./core/core.js";
import type { Logger } from "./core/logger.js";
import { loadCommands } from "./core/registry.js";
import { loadJobs, type LoadedJob } from "./core/scheduler.js";
import { localDay } from "./core/format.js";
import { createServices, type Services } from "./services/services.js";
import { createStore, ensureIndexes, type Store } from "./store/models.js";
import { isDuplicateKey } from "./store/writes.js";
import { AuditService } from "./services/audit.service.js";
import { shellIdentity } from "./core/identity.js";
import { shortId } from "./core/ids.js";
import { isRole, type Role } from "./core/roles.js";

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

/** Meta document: the time zone and currency a shop's database is written in (days, amounts). */
const SHOP_SETTINGS = "shop:settings";

/**
 * SHOP_SETTINGS_CHANGE refused: the person at the terminal is not an admin. Nothing was changed;
 * the attempt is on the audit trail (`denied`). A configuration problem to a caller that knows no
 * better (the import: exit 78); the bot answers it as a refused permission (exit 1).
 */
export class ShopSettingsDeniedError extends ConfigError {
  constructor(
    readonly operator: string,
    readonly role: Role,
    /** The stored settings and this process's, as "zone, currency". */
    readonly from: string,
    readonly to: string,
  ) {
    super([`SHOP_SETTINGS_CHANGE: changing this shop's stored time zone and currency (${from} → ${to}) needs the admin role; ${operator} is ${role}. Nothing was changed. Set SHOP_TIMEZONE and SHOP_CURRENCY to the stored ${from}, or ask an admin to make the change.`]);
  }
}

/**
 * Who a SHOP_SETTINGS_CHANGE is made by: the person at the terminal (`shell:<OS user>`), who must
 * be an admin (SHOPOPS_ADMINS or a stored admin role), or `null` for a bot started without a
 * terminal (a deployment: its settings, like SHOPOPS_ADMINS, are the deployer's), recorded as `system`.
 */
export interface SettingsChanger {
  operator: string | null;
}

/**
 * Checks that this process writes the shop database in the time zone and currency it was set up
 * with (stored by the first process that used it): an instance missing SHOP_TIMEZONE would
 * otherwise file orders under UTC days next to the shop's, and the digest would mix calendars.
 * A mismatch stops start-up with what to set, unless SHOP_SETTINGS_CHANGE takes the new ones.
 * `readOnly` (an import's dry run): compares only, writing and auditing nothing: nothing stored
 * yet stays so (`"unset"`), and a mismatch is refused even with SHOP_SETTINGS_CHANGE.
 * `clock` (the app's) stamps its audit entries, so they sort with the rest of the trail.
 * Returns what happened.
 */
export async function checkShopSettings(
  store: Store,
  config: Config,
  by: SettingsChanger = { operator: shellIdentity() },
  { readOnly = false, clock = systemClock }: { readOnly?: boolean; clock?: Clock } = {},
): Promise<"set" | "same" | "changed" | "unset"> {
  const want = { timeZone: config.timeZone, currency: config.currency };
  type Settings = { timeZone?: string; currency?: string } | undefined;
  let have = (await store.meta.findById(SHOP_SETTINGS).lean())?.value as Settings;
  if (!have) {
    // Nothing stored yet, but orders may be (a database from before this check): their paid days
    // must read as this process's zone would file them, or it is not the shop's zone.
    const sample = await store.orders.find({ paidAt: { $type: "date" }, paidDay: { $type: "string" } }).select({ _id: 1, paidAt: 1, paidDay: 1 }).limit(20).lean<{ _id: string; paidAt: Date; paidDay: string }[]>();
    const off = sample.find((o) => localDay(o.paidAt, config.timeZone) !== o.paidDay);
    if (off) {
      throw new ConfigError([
        `SHOP_TIMEZONE=${config.timeZone}: this database's orders were filed in another time zone (order ${off._id}, paid ${off.paidAt.toISOString()}, is on ${off.paidDay}). Set SHOP_TIMEZONE to the shop's zone (and SHOP_CURRENCY to its currency); the first start stores them.`,
      ]);
    }
    // A read-only run leaves storing them to the first run that writes.
    if (readOnly) return "unset";
    try {
      await store.meta.create({ _id: SHOP_SETTINGS, value: want });
      return "set";
    } catch (e) {
      // Two first starts at once: the other one stored them.
      if (!isDuplicateKey(e)) throw e;
      have = (await store.meta.findById(SHOP_SETTINGS).lean())?.value as Settings;
    }
  }
  // Zones compared as zones: US/Eastern and America/New_York, Asia/Kolkata and Asia/Calcutta are one.
  if (have && sameTimeZone(have.timeZone ?? "", want.timeZone) && have.currency === want.currency) return "same";
  if (config.shopSettingsChange && readOnly) {
    throw new ConfigError([
      `SHOP_TIMEZONE=${want.timeZone} and SHOP_CURRENCY=${want.currency}, but this database's days and amounts are in ${have?.timeZone ?? "?"} and ${have?.currency ?? "?"}, and a dry run does not change the shop's settings (SHOP_SETTINGS_CHANGE is not taken; nothing was changed). ` +
        `Set SHOP_TIMEZONE and SHOP_CURRENCY to those to check the file; to change them for good, run without --dry-run (as an admin) with SHOP_SETTINGS_CHANGE=true.`,
    ]);
  }
  if (config.shopSettingsChange) {
    // A change of the shop's calendar and money for good: on the audit trail (old → new), and
    // made from a terminal only by an admin (anyone could otherwise start a shell with it).
    const from = `${have?.timeZone ?? "?"}, ${have?.currency ?? "?"}`;
    const to = `${want.timeZone}, ${want.currency}`;
    const entry = { command: "shop-settings", args: `${from} → ${to}`, subject: SHOP_SETTINGS };
    const audit = new AuditService(store, clock);
    if (by.operator) {
      const stored = config.bootstrapAdmins.includes(by.operator) ? undefined : (await store.roles.findById(by.operator).lean())?.role;
      const role: Role = config.bootstrapAdmins.includes(by.operator) ? "admin" : stored && isRole(stored) ? stored : "viewer";
      if (await audit.refusedBelow("admin", role, { operator: by.operator }, entry)) {
        throw new ShopSettingsDeniedError(by.operator, role, from, to);
      }
    }
    await store.meta.updateOne({ _id: SHOP_SETTINGS }, { $set: { value: want } });
    await audit.add({
      ref: shortId(10),
      at: clock.now(),
      ...entry,
      ...(by.operator ? { actor: by.operator, platform: "shell" } : { actor: "system", platform: "system", args: `${entry.args} (SHOP_SETTINGS_CHANGE at a start without a terminal, OS user ${shellIdentity().slice("shell:".length)})` }),
      outcome: "ok",
    });
    return "changed";
  }
  throw new ConfigError([
    `SHOP_TIMEZONE=${want.timeZone} and SHOP_CURRENCY=${want.currency}, but this database's days and amounts are in ${have?.timeZone ?? "?"} and ${have?.currency ?? "?"} (set by the first shopops that used it). ` +
      `Set SHOP_TIMEZONE and SHOP_CURRENCY to those; or, to change them for good, start once with SHOP_SETTINGS_CHANGE=true (days already stored keep the old zone: run \`digest rebuild\` for the days you need).`,
  ]);
}
