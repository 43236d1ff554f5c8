import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { validate } from "./core/validate.js";
import { ROLES, type Role } from "./core/roles.js";
import { parseIdentity } from "./core/identity.js";
import { parseCron } from "./core/cron.js";

/** The problem with a cron expression, or null when it parses. */
function checkCron(expr: string, tz: string): string | null {
  try {
    parseCron(expr, tz);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Project root (one level above src/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const isCurrency = (c: string): boolean => {
  try {
    new Intl.NumberFormat("en", { style: "currency", currency: c });
    return /^[A-Z]{3}$/.test(c);
  } catch {
    return false;
  }
};

const bool = (name: string) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: `${name}: expected true or false` })
    .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (name: string, min: number, max: number, dflt: number) =>
  z
    .string()
    .default(String(dflt))
    .transform((v) => Number(v))
    .refine((n) => Number.isInteger(n) && n >= min && n <= max, {
      error: `${name}: expected a whole number from ${min} to ${max}`,
    });

/** Every alert type to a shell channel, so a fresh install shows its alerts in the terminal. */
const DEFAULT_ALERT_ROUTES = "low_stock:shell:ops,complaints:shell:support,sla:shell:managers,digest:shell:managers,refunds:shell:managers,coupons:shell:managers";

/** Schema of the environment: every variable shopops reads, with what it expects. */
const EnvSchema = z.object({
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, { error: "MONGODB_URI: expected a MongoDB connection string starting with mongodb:// or mongodb+srv://" })
    .optional(),
  SHOPOPS_DATA_DIR: z.string().min(1).default(".data"),
  SHOP_TIMEZONE: z
    .string()
    .default("UTC")
    .refine(isTimeZone, { error: "SHOP_TIMEZONE: expected an IANA time zone such as Asia/Shanghai or America/New_York" }),
  SHOP_CURRENCY: z
    .string()
    .default("USD")
    .refine(isCurrency, { error: "SHOP_CURRENCY: expected an ISO 4217 currency code in capitals such as USD, CNY or EUR" }),
  SHOP_LOCALE: z.enum(["en", "zh-CN"], { error: "SHOP_LOCALE: expected en or zh-CN" }).default("en"),
  SHOPOPS_ADMINS: z.string().default(""),
  SHOPOPS_SEED_DEMO: bool("SHOPOPS_SEED_DEMO").default(false),
  DEMO_SEED: int("DEMO_SEED", 1, 2 ** 31 - 1, 42),
  VELOCITY_WINDOW_DAYS: int("VELOCITY_WINDOW_DAYS", 1, 90, 28),
  MAX_INPUT_LENGTH: int("MAX_INPUT_LENGTH", 50, 10000, 1000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], { error: "LOG_LEVEL: expected debug, info, warn or error" }).default("info"),
  JOBS_ENABLED: bool("JOBS_ENABLED").default(true),
  JOBS_CATCH_UP: bool("JOBS_CATCH_UP").default(true),
  LOW_STOCK_CRON: z.string().default("*/5 * * * *"),
  LOW_STOCK_MARGIN_PCT: int("LOW_STOCK_MARGIN_PCT", 0, 500, 20),
  LOW_STOCK_SHOW: int("LOW_STOCK_SHOW", 1, 10, 5),
  SAFETY_STOCK_DAYS: int("SAFETY_STOCK_DAYS", 0, 90, 7),
  REORDER_COVER_DAYS: int("REORDER_COVER_DAYS", 1, 365, 30),
  ALERT_ROUTES: z.string().default(DEFAULT_ALERT_ROUTES),
  QUIET_HOURS: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, { error: "QUIET_HOURS: expected HH:MM-HH:MM in SHOP_TIMEZONE, e.g. 22:00-07:00" })
    .optional(),
});

/** Alert types that can be routed (ALERT_ROUTES, `alerts route`). */
export const ALERT_TYPES = ["low_stock", "complaints", "sla", "digest", "refunds", "coupons"] as const;
/** An alert type. */
export type AlertType = (typeof ALERT_TYPES)[number];
/** Platforms an alert can be routed to. */
export const ALERT_PLATFORMS = ["shell", "slack", "discord"] as const;
/** One configured route: alerts of `type` go to `channel` on `platform`. */
export interface AlertRoute {
  type: AlertType;
  platform: (typeof ALERT_PLATFORMS)[number];
  channel: string;
}


/** Parses ALERT_ROUTES (`type:platform:channel,…`); returns the routes or the bad items. */
export function parseAlertRoutes(text: string): { routes: AlertRoute[]; bad: string[] } {
  const routes: AlertRoute[] = [];
  const bad: string[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z_]+):([a-z]+):([A-Za-z0-9_.#-]{1,80})$/.exec(item);
    if (!m || !(ALERT_TYPES as readonly string[]).includes(m[1]!) || !(ALERT_PLATFORMS as readonly string[]).includes(m[2]!)) bad.push(item);
    else routes.push({ type: m[1] as AlertType, platform: m[2] as AlertRoute["platform"], channel: m[3]! });
  }
  return { routes, bad };
}

/** Typed, frozen configuration. Read once by {@link loadConfig}. */
export interface Config {
  readonly mongodbUri: string | undefined;
  readonly dataDir: string;
  readonly timeZone: string;
  readonly currency: string;
  readonly locale: "en" | "zh-CN";
  /** Identities that are admins whatever the database says. */
  readonly bootstrapAdmins: readonly string[];
  readonly seedDemo: boolean;
  readonly demoSeed: number;
  readonly velocityWindowDays: number;
  readonly maxInputLength: number;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Run the scheduler in this process (long-running bot). */
  readonly jobsEnabled: boolean;
  /** Run a daily job missed during downtime when the bot comes back the same day. */
  readonly jobsCatchUp: boolean;
  /** Schedule of the low-stock job (cron, SHOP_TIMEZONE). */
  readonly lowStockCron: string;
  /** Hysteresis: a product alerts again only after available exceeds its threshold by this percentage. */
  readonly lowStockMarginPct: number;
  /** Products listed (with buttons) in one low-stock message; the rest are counted. */
  readonly lowStockShow: number;
  /** Safety stock, in days of sales, in the suggested reorder quantity. */
  readonly safetyStockDays: number;
  /** Days of sales a reorder should cover after it arrives. */
  readonly reorderCoverDays: number;
  /** Configured alert routes (stored `alerts route` entries override them). */
  readonly alertRoutes: readonly AlertRoute[];
  /** Quiet hours in SHOP_TIMEZONE (`{start: "22:00", end: "07:00"}`), if any. */
  readonly quietHours: { start: string; end: string } | undefined;
}

/** Raised when the environment holds a bad value; its message says how to fix it. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      "shopops cannot start: the configuration is invalid.\n" +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nFix the variable(s) above in your environment or in .env (see .env.example for every variable).",
    );
    this.name = "ConfigError";
  }
}

/**
 * Builds the configuration from an environment (process.env by default, after
 * loading `.env` when present). Throws {@link ConfigError} naming each bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = readProcessEnv()): Config {
  // Empty strings mean "unset": .env files often carry `NAME=` lines.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const r = validate(EnvSchema, cleaned);
  if (!r.ok) {
    throw new ConfigError(
      r.issues.map((i) => (i.message.includes(":") ? i.message : `${i.path}: ${i.message}`)),
    );
  }
  const v = r.value;
  const admins = v.SHOPOPS_ADMINS.split(",").map((s) => s.trim()).filter(Boolean);
  const badAdmins = admins.filter((a) => parseIdentity(a) === null);
  if (badAdmins.length > 0) {
    throw new ConfigError([
      `SHOPOPS_ADMINS: "${badAdmins.join(", ")}" is not an identity; expected a comma-separated list like shell:alice,slack:T0123:U0456,discord:123456789`,
    ]);
  }
  const routes = parseAlertRoutes(v.ALERT_ROUTES);
  if (routes.bad.length > 0) {
    throw new ConfigError([
      `ALERT_ROUTES: "${routes.bad.join(", ")}" is not a route; expected type:platform:channel items separated by commas, types ${ALERT_TYPES.join("|")}, platforms ${ALERT_PLATFORMS.join("|")}, e.g. low_stock:slack:C0123,digest:discord:456`,
    ]);
  }
  const cronProblem = checkCron(v.LOW_STOCK_CRON, v.SHOP_TIMEZONE);
  if (cronProblem) throw new ConfigError([`LOW_STOCK_CRON: ${cronProblem}`]);
  return Object.freeze({
    mongodbUri: v.MONGODB_URI,
    dataDir: path.resolve(PROJECT_ROOT, v.SHOPOPS_DATA_DIR),
    timeZone: v.SHOP_TIMEZONE,
    currency: v.SHOP_CURRENCY,
    locale: v.SHOP_LOCALE,
    bootstrapAdmins: Object.freeze(admins),
    seedDemo: v.SHOPOPS_SEED_DEMO,
    demoSeed: v.DEMO_SEED,
    velocityWindowDays: v.VELOCITY_WINDOW_DAYS,
    maxInputLength: v.MAX_INPUT_LENGTH,
    logLevel: v.LOG_LEVEL,
    jobsEnabled: v.JOBS_ENABLED,
    jobsCatchUp: v.JOBS_CATCH_UP,
    lowStockCron: v.LOW_STOCK_CRON,
    lowStockMarginPct: v.LOW_STOCK_MARGIN_PCT,
    lowStockShow: v.LOW_STOCK_SHOW,
    safetyStockDays: v.SAFETY_STOCK_DAYS,
    reorderCoverDays: v.REORDER_COVER_DAYS,
    alertRoutes: Object.freeze(routes.routes),
    quietHours: v.QUIET_HOURS ? { start: v.QUIET_HOURS.slice(0, 5), end: v.QUIET_HOURS.slice(6) } : undefined,
  });
}

function readProcessEnv(): Record<string, string | undefined> {
  const envFile = path.join(PROJECT_ROOT, ".env");
  // loadEnvFile does not override variables already set in the environment.
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return process.env;
}

/** Roles, re-exported for config consumers. */
export { ROLES, type Role };
