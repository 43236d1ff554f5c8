import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { validate } from "./core/validate.js";
import { ROLES, type Role } from "./core/roles.js";
import { parseIdentity } from "./core/identity.js";

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
  HTTP_PORT: z
    .string()
    .transform((v) => Number(v))
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, { error: "HTTP_PORT: expected a port number from 0 to 65535" })
    .optional(),
  HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  HTTP_BODY_LIMIT: int("HTTP_BODY_LIMIT", 1024, 100 * 1024 * 1024, 1024 * 1024),
  INGEST_BATCH_MAX: int("INGEST_BATCH_MAX", 1, 10000, 500),
  INGEST_RATE_PER_SEC: int("INGEST_RATE_PER_SEC", 1, 100000, 50),
  INGEST_RATE_BURST: int("INGEST_RATE_BURST", 1, 100000, 100),
});

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
  /** HTTP server (ingestion API, health checks); off when the port is unset. */
  readonly http: {
    readonly port: number | undefined;
    readonly host: string;
    readonly bodyLimit: number;
    readonly batchMax: number;
    readonly ratePerSec: number;
    readonly rateBurst: number;
  };
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
    http: Object.freeze({
      port: v.HTTP_PORT,
      host: v.HTTP_HOST,
      bodyLimit: v.HTTP_BODY_LIMIT,
      batchMax: v.INGEST_BATCH_MAX,
      ratePerSec: v.INGEST_RATE_PER_SEC,
      rateBurst: v.INGEST_RATE_BURST,
    }),
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
