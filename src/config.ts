import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { validate } from "./core/validate.js";
import { isRole, ROLES, type Role } from "./core/roles.js";
import { parseIdentity } from "./core/identity.js";
import { nextSlot, parseCron } from "./core/cron.js";
import { isCurrency } from "./core/format.js";
import { SEVERITIES } from "./store/models.js";

/** The problem with a cron expression, or null when it parses. */
function checkCron(expr: string, tz: string): string | null {
  try {
    // A schedule that parses but names no real day (30 2: February 30) would start fine and never run.
    // nextSlot looks 5 years ahead, so a leap day (29 2) still counts.
    if (!nextSlot(parseCron(expr, tz), new Date())) return `"${expr}" never matches a date (e.g. February 30): give a day of the month that exists in the month(s) named, or a day of the week`;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Project root (one level above src/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * IANA names without an area that name one zone (links such as PRC → Asia/Shanghai). Any other
 * name without a "/" that ICU takes is an abbreviation ("CST": Chicago to ICU, China to many).
 */
const AREALESS_ZONES = new Set([
  ...["utc", "gmt", "uct", "universal", "zulu", "greenwich", "gmt0", "gmt+0", "gmt-0"],
  ...["prc", "roc", "rok", "singapore", "japan", "hongkong", "israel", "iran", "egypt", "eire", "iceland", "jamaica", "libya", "navajo", "poland", "portugal", "turkey", "cuba", "gb", "gb-eire", "nz", "nz-chat", "w-su", "kwajalein"],
  // Zones named by their rules (the US time zones' with daylight saving), not abbreviations.
  ...["est5edt", "cst6cdt", "mst7mdt", "pst8pdt"],
]);

/** ICU's id of a zone (its own, sometimes older, spelling: Asia/Kolkata is Asia/Calcutta), or null. */
function icuZone(tz: string): string | null {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * A time zone as the shop gave it, or null when it is not one. The name is kept (Asia/Kolkata
 * stays, though ICU calls it Asia/Calcutta), in its proper case when typed otherwise
 * (america/new_york); abbreviations are refused although ICU takes them.
 */
function shopTimeZone(tz: string): string | null {
  if (!tz.includes("/") && !AREALESS_ZONES.has(tz.toLowerCase())) return null;
  const id = icuZone(tz);
  if (id === null) return null;
  return id.toLowerCase() === tz.toLowerCase() ? id : tz;
}

/** True when two zone names are the same zone (US/Eastern and America/New_York; Asia/Kolkata and Asia/Calcutta). */
export function sameTimeZone(a: string, b: string): boolean {
  const x = icuZone(a);
  return x !== null && x === icuZone(b);
}


/** A comma-separated list of ids (blanks dropped), each matching `re`, else `error`. */
const idList = (re: RegExp, error: string) =>
  z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((l) => l.every((id) => re.test(id)), { error });

/**
 * What an identity in SHOPOPS_ADMINS probably meant, for its error: the same in the case
 * identities take (Shell:Alice, slack:t01:u02), with its platform (alice), or separated by commas
 * (shell:alice;shell:bob). Empty when nothing close is one.
 */
function adminHint(a: string): string {
  const cased = a.replace(/^(shell|slack|discord):/i, (p) => p.toLowerCase()).replace(/^slack:(.*)$/, (_, ids: string) => `slack:${ids.toUpperCase()}`);
  if (parseIdentity(cased)) return ` (did you mean ${cased}?)`;
  if (!a.includes(":") && parseIdentity(`shell:${a}`)) return ` (did you mean shell:${a}? an identity names its platform: shell:, slack: or discord:)`;
  const parts = a.split(/[;\s]+/).filter(Boolean);
  if (parts.length > 1 && parts.every((p) => parseIdentity(p))) return " (separate identities with commas)";
  if (/^slack:[^:]+$/i.test(a)) return " (a Slack identity names the workspace and the user: slack:T0123:U0456)";
  return "";
}

/**
 * What is wrong with how a MONGODB_URI is written, in words that never repeat its credentials, or
 * null. The driver only says "Invalid connection string" (or reads `p@ss@host` as host `ss@host`):
 * a password holding `@`, `:` or `/` must be percent-encoded, and in .env a `#` cuts the value short.
 */
function uriSpellingProblem(uri: string): string | null {
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) return null; // said by the check of the scheme
  const rest = uri.replace(/^mongodb(\+srv)?:\/\//, "");
  const q = rest.indexOf("?");
  const head = q < 0 ? rest : rest.slice(0, q);
  const at = head.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = head.slice(0, at);
    if (/[@/]/.test(userinfo) || userinfo.split(":").length > 2 || /%(?![0-9A-Fa-f]{2})/.test(userinfo)) {
      return "MONGODB_URI: the user name or password holds a character that must be percent-encoded (@ as %40, : as %3A, / as %2F, # as %23, % as %25), e.g. mongodb://shop:p%40ss@db.example.com/shopops";
    }
    return null;
  }
  // No @: a host followed by something that is no port is most likely user:password cut at a #.
  const hosts = head.split("/")[0]!;
  if (hosts.split(",").some((h) => /^[^:]*:(?!\d+$)/.test(h.replace(/^\[[^\]]*\]/, "")))) {
    return "MONGODB_URI: a host's port is not a number. If that is user:password, the host follows it after an @ (mongodb://user:password@host/db); in .env a # starts a comment, so quote a value holding one (MONGODB_URI=\"mongodb://shop:pa#ss@db.example.com/shopops\")";
  }
  return null;
}

/** A value as typed, quoted for an error message (cut short when long). */
const shown = (v: string) => JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);

const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

/** A switch: true or false in any case (TRUE, False); 1/0 and yes/no are taken too. */
const bool = (name: string) =>
  z.string().transform((v, ctx) => {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
    ctx.addIssue({ code: "custom", message: `${name}: ${shown(v)} is not true or false; expected true or false (in any case; 1/0 and yes/no also work)` });
    return z.NEVER;
  });

/**
 * A whole number written in plain digits, from min to max. Number() would also read 0x1F90,
 * 8080.0 and 1e3 (as 8080 and 1000): those are refused, as chat refuses them.
 */
const wholeNumber = (name: string, min: number, max: number, what = "a whole number") =>
  z.string().transform((v, ctx) => {
    const digits = v.trim();
    if (!/^\d+$/.test(digits)) {
      ctx.addIssue({ code: "custom", message: `${name}: ${shown(v)} is not a whole number in plain digits (not 1e3, 0x10 or 10.0); expected ${what} from ${min} to ${max}` });
      return z.NEVER;
    }
    const n = Number(digits);
    if (n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `${name}: expected ${what} from ${min} to ${max}; got ${shown(v)}` });
      return z.NEVER;
    }
    return n;
  });

/**
 * One of `values`, exactly. A near miss (another case, `zh_CN`, `zh`) is refused naming the value
 * given and the right spelling, so a typo in .env is seen, not guessed at.
 */
const oneOf = <T extends string>(name: string, values: readonly T[], expected: string) =>
  z.string().transform((v, ctx): T => {
    if ((values as readonly string[]).includes(v)) return v as T;
    const norm = (x: string) => x.trim().toLowerCase().replace(/_/g, "-");
    const near = values.find((x) => norm(x) === norm(v) || (norm(v).length > 0 && norm(x).startsWith(norm(v) + "-")));
    ctx.addIssue({ code: "custom", message: `${name}: expected ${expected}; got ${shown(v)}${near ? ` (did you mean ${near}?)` : ""}` });
    return z.NEVER;
  });

const int = (name: string, min: number, max: number, dflt: number) => z.string().default(String(dflt)).pipe(wholeNumber(name, min, max));

/** Time allowed per complaint severity, in milliseconds. */
export type SlaTable = Readonly<Record<(typeof SEVERITIES)[number], number>>;

/** Default first-response clock per severity. */
export const DEFAULT_SLA_FIRST_RESPONSE = "urgent:1h,high:4h,normal:24h,low:72h";
/** Default resolution clock per severity. */
export const DEFAULT_SLA_RESOLUTION = "urgent:8h,high:24h,normal:72h,low:168h";

const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `severity:duration` pairs (`urgent:1h,high:30m,low:3d`); severities left out keep the
 * default. Returns the table, or the problem in words.
 */
export function parseSlaTable(spec: string, defaults: string): SlaTable | string {
  const table: Record<string, number> = {};
  for (const part of (defaults + "," + spec).split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*:\s*(\d{1,5})\s*([mhd])$/i.exec(part);
    if (!m) return `"${part}" is not severity:duration (durations like 30m, 4h or 3d)`;
    const sev = m[1]!.toLowerCase();
    if (!(SEVERITIES as readonly string[]).includes(sev)) return `"${m[1]}" is not a severity (${SEVERITIES.join(", ")})`;
    const ms = Number(m[2]) * DURATION_MS[m[3]!.toLowerCase()]!;
    if (ms <= 0) return `"${part}": the duration must be more than zero`;
    table[sev] = ms;
  }
  return Object.freeze(table) as SlaTable;
}

const slaSpec = (name: string, defaults: string) =>
  z
    .string()
    .default(defaults)
    .transform((v, ctx) => {
      const r = parseSlaTable(v, defaults);
      if (typeof r === "string") {
        ctx.addIssue({ code: "custom", message: `${name}: ${r}; expected e.g. ${defaults}` });
        return z.NEVER;
      }
      return r;
    });
// Discord ids are numeric snowflakes.
const SNOWFLAKE = /^\d{5,25}$/;
/** Every alert type to a shell channel, so a fresh install shows its alerts in the terminal. */
const DEFAULT_ALERT_ROUTES = "low_stock:shell:ops,complaints:shell:support,sla:shell:managers,digest:shell:managers,refunds:shell:managers,coupons:shell:managers";

/** Schema of the environment: every variable shopops reads, with what it expects. */
const EnvSchema = z.object({
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, { error: "MONGODB_URI: expected a MongoDB connection string starting with mongodb:// or mongodb+srv://" })
    .superRefine((uri, ctx) => {
      const problem = uriSpellingProblem(uri);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  MONGODB_CONNECT_TIMEOUT_SECONDS: int("MONGODB_CONNECT_TIMEOUT_SECONDS", 1, 300, 10),
  // Only spaces (a `SHOPOPS_DATA_DIR= ` line) would be a directory named by blanks, made wherever
  // the bot starts: refused, saying how to get the default.
  SHOPOPS_DATA_DIR: z
    .string()
    .refine((v) => v.trim() !== "", {
      error: (issue) => `SHOPOPS_DATA_DIR: got only spaces (${shown(String(issue.input))}); give a directory such as /var/lib/shopops, or leave it empty (SHOPOPS_DATA_DIR=) or remove the line for the default .data in the project`,
    })
    .default(".data"),
  SHOP_TIMEZONE: z
    .string()
    .default("UTC")
    .refine((tz) => shopTimeZone(tz) !== null, {
      // The value is said back: a typo (Asia/Shangai) is then seen at once. An abbreviation in any
      // case (cst, which ICU takes) gets the abbreviation's explanation.
      error: (issue) =>
        /^[A-Z]{2,5}$/.test(String(issue.input)) || (!String(issue.input).includes("/") && icuZone(String(issue.input)) !== null)
          ? `SHOP_TIMEZONE: "${String(issue.input)}" is an abbreviation, which can name several zones, or a fixed offset without daylight saving (CST is China or US Central time; EST never moves to summer time): give the zone by place, such as Asia/Shanghai, America/Chicago or America/New_York`
          : `SHOP_TIMEZONE: expected an IANA time zone such as Asia/Shanghai or America/New_York (Area/City, as in the tz database); got ${shown(String(issue.input))}`,
    })
    .transform((tz) => shopTimeZone(tz)!),
  SHOP_CURRENCY: z
    .string()
    .default("USD")
    .refine(isCurrency, {
      error: (issue) => {
        const v = String(issue.input);
        const hint = isCurrency(v.trim().toUpperCase()) ? ` (did you mean ${v.trim().toUpperCase()}?)` : /^[A-Z]{3}$/.test(v) ? ", which is not an ISO 4217 code" : "";
        return `SHOP_CURRENCY: expected an ISO 4217 currency code in capitals such as USD, CNY or EUR; got ${shown(v)}${hint}`;
      },
    }),
  SHOP_LOCALE: oneOf("SHOP_LOCALE", ["en", "zh-CN"], "en or zh-CN").default("en"),
  SHOP_SETTINGS_CHANGE: bool("SHOP_SETTINGS_CHANGE").default(false),
  SHOPOPS_ADMINS: z.string().default(""),
  SHOPOPS_SEED_DEMO: bool("SHOPOPS_SEED_DEMO").default(false),
  SHOPOPS_DEMO: bool("SHOPOPS_DEMO").default(true),
  DEMO_SEED: int("DEMO_SEED", 1, 2 ** 31 - 1, 42),
  VELOCITY_WINDOW_DAYS: int("VELOCITY_WINDOW_DAYS", 1, 90, 28),
  // Room for the longest command a form can build (a complaint's 900 characters with its link and options).
  MAX_INPUT_LENGTH: int("MAX_INPUT_LENGTH", 50, 10000, 1500),
  CHAT_RATE_PER_MIN: int("CHAT_RATE_PER_MIN", 1, 100000, 120),
  CHAT_RATE_BURST: int("CHAT_RATE_BURST", 1, 100000, 60),
  REFUND_SUPPORT_LIMIT: int("REFUND_SUPPORT_LIMIT", 0, 100_000_000, 200),
  REFUND_MANAGER_LIMIT: int("REFUND_MANAGER_LIMIT", 0, 100_000_000, 2000),
  REFUND_PENDING_HOURS: int("REFUND_PENDING_HOURS", 1, 24 * 90, 72),
  COUPON_EXPECTED_UPLIFT_PERCENT: int("COUPON_EXPECTED_UPLIFT_PERCENT", 0, 1000, 30),
  DIGEST_STAFF: bool("DIGEST_STAFF").default(false),
  DIGEST_ANOMALY_PCT: int("DIGEST_ANOMALY_PCT", 1, 1000, 30),
  DIGEST_ANOMALY_MIN_COUNT: int("DIGEST_ANOMALY_MIN_COUNT", 1, 1_000_000, 5),
  LOG_LEVEL: oneOf("LOG_LEVEL", ["debug", "info", "warn", "error"], "debug, info, warn or error").default("info"),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-\S+$/, { error: "SLACK_BOT_TOKEN: expected a bot token starting with xoxb- (Slack app → OAuth & Permissions)" }).optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-\S+$/, { error: "SLACK_APP_TOKEN: expected an app-level token starting with xapp- with the connections:write scope (Socket Mode)" }).optional(),
  SLACK_SIGNING_SECRET: z.string().regex(/^\S{8,}$/, { error: "SLACK_SIGNING_SECRET: expected the app's signing secret (Basic Information → App Credentials)" }).optional(),
  SLACK_PORT: z.string().default("3000").pipe(wholeNumber("SLACK_PORT", 0, 65535, "a port number")),
  SLACK_API_URL: z
    .string()
    .regex(/^https?:\/\/\S+\/$/, { error: "SLACK_API_URL: expected the Web API base URL ending in /, such as https://slack.com/api/" })
    .optional(),
  SLACK_COMPLAINT_EMOJI: z
    .string()
    .default("sos")
    .transform((v) => v.replace(/^:|:$/g, ""))
    .refine((v) => /^[a-z0-9_+'-]{1,100}$/.test(v), { error: "SLACK_COMPLAINT_EMOJI: expected an emoji name such as sos or :rotating_light:" }),
  SLACK_SUPPORT_CHANNELS: idList(/^[CG][A-Z0-9]{2,20}$/, "SLACK_SUPPORT_CHANNELS: expected comma-separated channel ids such as C0123ABCD,C0456EFGH"),
  SLACK_TEAM_IDS: idList(/^[TE][A-Z0-9]{2,20}$/, "SLACK_TEAM_IDS: expected comma-separated workspace ids such as T0123ABCD (Workspace settings → the id in the URL)"),
  COMPLAINT_SLA_FIRST_RESPONSE: slaSpec("COMPLAINT_SLA_FIRST_RESPONSE", DEFAULT_SLA_FIRST_RESPONSE),
  COMPLAINT_SLA_RESOLUTION: slaSpec("COMPLAINT_SLA_RESOLUTION", DEFAULT_SLA_RESOLUTION),
  DISCORD_TOKEN: z.string().regex(/^\S{20,200}$/, { error: "DISCORD_TOKEN: expected the bot token from the Developer Portal (Bot → Reset Token)" }).optional(),
  DISCORD_APPLICATION_ID: z.string().regex(SNOWFLAKE, { error: "DISCORD_APPLICATION_ID: expected the numeric application id (General Information → Application ID)" }).optional(),
  DISCORD_GUILD_ID: z.string().regex(SNOWFLAKE, { error: "DISCORD_GUILD_ID: expected a numeric server id (right-click the server → Copy Server ID)" }).optional(),
  DISCORD_GUILD_IDS: idList(SNOWFLAKE, "DISCORD_GUILD_IDS: expected comma-separated numeric server ids such as 123456789012345678,234567890123456789 (right-click a server → Copy Server ID)"),
  DISCORD_ROLE_MAP: z.string().optional(),
  DISCORD_API_URL: z.string().regex(/^https?:\/\/\S+$/, { error: "DISCORD_API_URL: expected an http(s) URL such as https://discord.com/api" }).optional(),
  HTTP_PORT: wholeNumber("HTTP_PORT", 0, 65535, "a port number").optional(),
  // A host name or address has no spaces: " " would fail only when the server listens (getaddrinfo ENOTFOUND).
  HTTP_HOST: z
    .string()
    .refine((v) => !/\s/.test(v), {
      error: (issue) =>
        `HTTP_HOST: expected an address or host name to listen on, such as 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface); got ${String(issue.input).trim() ? shown(String(issue.input)) + ", which holds a space" : `only spaces (${shown(String(issue.input))})`}. Remove the spaces, or leave it empty (HTTP_HOST=) for the default`,
    })
    .default("127.0.0.1"),
  HTTP_BODY_LIMIT: int("HTTP_BODY_LIMIT", 1024, 100 * 1024 * 1024, 1024 * 1024),
  INGEST_BATCH_MAX: int("INGEST_BATCH_MAX", 1, 10000, 500),
  INGEST_RATE_PER_SEC: int("INGEST_RATE_PER_SEC", 1, 100000, 50),
  INGEST_RATE_BURST: int("INGEST_RATE_BURST", 1, 100000, 100),
  JOBS_ENABLED: bool("JOBS_ENABLED").default(true),
  JOBS_CATCH_UP: bool("JOBS_CATCH_UP").default(true),
  LOW_STOCK_CRON: z.string().default("*/5 * * * *"),
  REFUND_EXPIRY_CRON: z.string().default("*/5 * * * *"),
  REFUND_REMIND_HOURS: int("REFUND_REMIND_HOURS", 1, 24 * 90, 24),
  COMPLAINT_ALERTS_CRON: z.string().default("* * * * *"),
  DIGEST_CRON: z.string().default("0 9 * * *"),
  COUPON_SCHEDULE_CRON: z.string().default("* * * * *"),
  HOUSEKEEPING_CRON: z.string().default("30 3 * * *"),
  ORDER_EFFECTS_CRON: z.string().default("*/10 * * * *"),
  RETENTION_DAYS: int("RETENTION_DAYS", 1, 3650, 30),
  LOW_STOCK_MARGIN_PCT: int("LOW_STOCK_MARGIN_PCT", 0, 500, 20),
  LOW_STOCK_SHOW: int("LOW_STOCK_SHOW", 1, 10, 5),
  SAFETY_STOCK_DAYS: int("SAFETY_STOCK_DAYS", 0, 90, 7),
  REORDER_COVER_DAYS: int("REORDER_COVER_DAYS", 1, 365, 30),
  ALERT_ROUTES: z.string().default(DEFAULT_ALERT_ROUTES),
  QUIET_HOURS: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, { error: "QUIET_HOURS: expected HH:MM-HH:MM in SHOP_TIMEZONE, e.g. 22:00-07:00" })
    .refine((v) => v.slice(0, 5) !== v.slice(6), { error: "QUIET_HOURS: start and end are the same time, which would hold every non-urgent alert all day; give two different times, e.g. 22:00-07:00, or leave it unset" })
    .optional(),
});

/** Every environment variable shopops reads (each documented in .env.example and the README). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

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


/**
 * Whether `channel` can be a channel of `platform`: Discord addresses channels by numeric id only
 * (a name such as `general` would be accepted, then every alert to it would die); Slack takes an
 * id or a name; the shell any name. `off` turns a route off.
 */
export function channelFits(platform: string, channel: string): boolean {
  return platform !== "discord" || channel.toLowerCase() === "off" || SNOWFLAKE.test(channel);
}

/**
 * A Slack channel id (C…), private channel id (G…) or DM id (D…), holding a digit: as Slack writes
 * it, in upper case (no channel name can be: names are lower case), or in any case at an id's full
 * length, a letter and 8 or more (`c0123abcd`, as older versions stored it). A shorter lower-case
 * word is a name, even with a digit (`dev2`, `c2`), as are `general` and `growth`.
 */
export const SLACK_CHANNEL_ID = /^(?:[CGD](?=[A-Z]*\d)[A-Z0-9]{2,}|[CGDcgd](?=[A-Za-z]*\d)[A-Za-z0-9]{8,})$/;

/**
 * A route's channel as alerts are sent to it: a Slack channel id in upper case, as Slack writes it
 * (`c0123abcd`, typed so or stored so by older versions, matches no channel), else as given.
 */
export function routeChannel(platform: string, channel: string): string {
  return platform === "slack" && SLACK_CHANNEL_ID.test(channel) ? channel.toUpperCase() : channel;
}

/**
 * True for a Slack route's channel given by name (`#ops`, `general`) rather than by id. Accepted
 * in ALERT_ROUTES (chat.postMessage takes a name, so text alerts arrive) but warned about at
 * start-up: the digest's chart upload takes an id only, and a renamed channel loses its alerts.
 */
export function isSlackChannelName(platform: string, channel: string): boolean {
  return platform === "slack" && channel.toLowerCase() !== "off" && !SLACK_CHANNEL_ID.test(channel);
}

/**
 * Parses ALERT_ROUTES (`type:platform:channel,…`); returns the routes or the bad items. A Slack
 * channel id is kept in upper case, as Slack writes it and `alerts route` stores it (`c0123abcd`
 * matches no channel); a route given twice (`c0123abcd` and `C0123ABCD`) is one route.
 */
export function parseAlertRoutes(text: string): { routes: AlertRoute[]; bad: string[] } {
  const routes: AlertRoute[] = [];
  const bad: string[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z_]+):([a-z]+):([A-Za-z0-9_.#-]{1,80})$/.exec(item);
    if (!m || !(ALERT_TYPES as readonly string[]).includes(m[1]!) || !(ALERT_PLATFORMS as readonly string[]).includes(m[2]!) || !channelFits(m[2]!, m[3]!)) bad.push(item);
    else {
      const channel = routeChannel(m[2]!, m[3]!);
      if (!routes.some((r) => r.type === m[1] && r.platform === m[2] && r.channel === channel)) routes.push({ type: m[1] as AlertType, platform: m[2] as AlertRoute["platform"], channel });
    }
  }
  return { routes, bad };
}

/** Typed, frozen configuration. Read once by {@link loadConfig}. */
export interface Config {
  readonly mongodbUri: string | undefined;
  /** How long start-up waits for MONGODB_URI's server to answer before giving up (exit 78), in ms; the URI's own serverSelectionTimeoutMS wins. */
  readonly mongodbConnectTimeoutMs: number;
  readonly dataDir: string;
  readonly timeZone: string;
  readonly currency: string;
  /**
   * Take SHOP_TIMEZONE and SHOP_CURRENCY as the shop database's from now on, where they differ
   * from the ones it was set up with (otherwise start-up refuses: days and amounts would mix).
   */
  readonly shopSettingsChange: boolean;
  readonly locale: "en" | "zh-CN";
  /** Identities that are admins whatever the database says. */
  readonly bootstrapAdmins: readonly string[];
  readonly seedDemo: boolean;
  /**
   * The embedded database is the demo shop (seeded, the terminal's person an admin, settings
   * unchecked). False: it holds a shop of one's own (database `shop`, beside the demo's), kept
   * as a configured one is: empty until data comes in, admins from SHOPOPS_ADMINS.
   */
  readonly demo: boolean;
  readonly demoSeed: number;
  readonly velocityWindowDays: number;
  readonly maxInputLength: number;
  /** Commands per person from Slack and Discord (the shell is not limited): sustained per minute, and a burst. */
  readonly chatRate: { readonly perMin: number; readonly burst: number };
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Default refund policy (the database copy wins once set): whole units of SHOP_CURRENCY and hours. */
  readonly refundDefaults: { readonly supportLimit: number; readonly managerLimit: number; readonly pendingHours: number };
  /** Expected sales uplift of a coupon, percent (stock warning of `coupon launch`). */
  readonly couponUpliftPercent: number;
  /** Complaint SLA clocks per severity (ms): first response and resolution. */
  readonly complaintSla: { readonly firstResponse: SlaTable; readonly resolution: SlaTable };
  /** Staff may run a reduced digest (GMV, orders, units). */
  readonly digestStaff: boolean;
  /** A digest figure moving by at least this percentage is flagged as an anomaly. */
  readonly digestAnomalyPct: number;
  /**
   * A digest figure is flagged only when the count behind it (the figure itself for counts, the
   * paid orders or refunds behind money) is at least this on the day or on its base.
   */
  readonly digestAnomalyMinCount: number;
  /** Slack adapter settings; undefined when Slack is not configured. */
  readonly slack: SlackConfig | undefined;
  /** Discord adapter settings; undefined when DISCORD_TOKEN is unset. */
  readonly discord: DiscordConfig | undefined;
  /** HTTP server (ingestion API, health checks); off when the port is unset. */
  readonly http: {
    readonly port: number | undefined;
    readonly host: string;
    readonly bodyLimit: number;
    readonly batchMax: number;
    readonly ratePerSec: number;
    readonly rateBurst: number;
  };
  /** Run the scheduler in this process (long-running bot). */
  readonly jobsEnabled: boolean;
  /** Run a daily job missed during downtime when the bot comes back the same day. */
  readonly jobsCatchUp: boolean;
  /** Schedule of the low-stock job (cron, SHOP_TIMEZONE). */
  readonly lowStockCron: string;
  /** Schedule of the refund-expiry job (expiry, approver reminders, repair). */
  readonly refundExpiryCron: string;
  /** Approvers get one reminder for a request pending longer than this many hours. */
  readonly refundRemindHours: number;
  /** Schedule of the complaint-alerts job (new complaints, SLA reminders and escalations). */
  readonly complaintAlertsCron: string;
  /** Schedule of the daily digest (cron, SHOP_TIMEZONE); caught up after downtime the same day. */
  readonly digestCron: string;
  /** Schedule of the coupon-schedule job (coupons going live and expiring). */
  readonly couponScheduleCron: string;
  /** Housekeeping job (old markers, delivered messages, job runs): cron expression. */
  readonly housekeepingCron: string;
  /** Schedule of the order-effects job (effects a crashed writer left undone). */
  readonly orderEffectsCron: string;
  /** Days that delivered messages, event markers and job runs are kept. */
  readonly retentionDays: number;
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

/** Settings of the Slack adapter: Socket Mode when `appToken` is set, else HTTP mode. */
export interface SlackConfig {
  readonly botToken: string;
  readonly appToken: string | undefined;
  readonly signingSecret: string | undefined;
  /** Port of the HTTP receiver (HTTP mode); 0 picks a free one. */
  readonly port: number;
  /** Web API base URL (GovSlack, a proxy, or a local test peer); undefined for Slack's own. */
  readonly apiUrl: string | undefined;
  /** Reaction (emoji name without colons) that files a complaint from a message. */
  readonly complaintEmoji: string;
  /** Channel ids where that reaction files complaints. */
  readonly supportChannels: readonly string[];
  /** Workspaces whose people may use the bot (empty: any workspace the app is installed in). */
  readonly teamIds: readonly string[];
}

/** Settings of the Discord adapter. */
export interface DiscordConfig {
  readonly token: string;
  readonly applicationId: string;
  /** Commands are registered to this server (instant) instead of globally. */
  readonly guildId: string | undefined;
  /**
   * Servers whose interactions the bot answers (DISCORD_GUILD_IDS, else DISCORD_GUILD_ID alone);
   * empty: any server the bot is in. DMs carry no server and are always answered.
   */
  readonly guildIds: readonly string[];
  /** Discord role id → shopops role granted to members holding it. */
  readonly roleMap: Readonly<Record<string, Role>>;
  /** REST base URL (a REST proxy, or a local peer in tests); undefined means Discord's own. */
  readonly apiUrl: string | undefined;
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
  if (v.REFUND_SUPPORT_LIMIT > v.REFUND_MANAGER_LIMIT) {
    throw new ConfigError([`REFUND_SUPPORT_LIMIT: expected at most REFUND_MANAGER_LIMIT (support approves less than a manager); got ${v.REFUND_SUPPORT_LIMIT} and ${v.REFUND_MANAGER_LIMIT}`]);
  }
  const admins = v.SHOPOPS_ADMINS.split(",").map((s) => s.trim()).filter(Boolean);
  const badAdmins = admins.filter((a) => parseIdentity(a) === null);
  if (badAdmins.length > 0) {
    throw new ConfigError([
      `SHOPOPS_ADMINS: ${badAdmins.map((a) => `"${a}" is not an identity${adminHint(a)}`).join("; ")}; expected a comma-separated list like shell:alice,slack:T0123:U0456,discord:123456789`,
    ]);
  }
  const slackProblems: string[] = [];
  if (!v.SLACK_BOT_TOKEN && (v.SLACK_APP_TOKEN || v.SLACK_SIGNING_SECRET)) {
    slackProblems.push("SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set; expected a bot token starting with xoxb-");
  }
  if (v.SLACK_BOT_TOKEN && !v.SLACK_APP_TOKEN && !v.SLACK_SIGNING_SECRET) {
    slackProblems.push("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: one is required with SLACK_BOT_TOKEN (xapp- token for Socket Mode, or the signing secret for HTTP mode)");
  }
  if (slackProblems.length) throw new ConfigError(slackProblems);
  const slack: SlackConfig | undefined = v.SLACK_BOT_TOKEN
    ? Object.freeze({
        botToken: v.SLACK_BOT_TOKEN,
        appToken: v.SLACK_APP_TOKEN,
        signingSecret: v.SLACK_SIGNING_SECRET,
        port: v.SLACK_PORT,
        apiUrl: v.SLACK_API_URL,
        complaintEmoji: v.SLACK_COMPLAINT_EMOJI,
        supportChannels: Object.freeze(v.SLACK_SUPPORT_CHANNELS),
        teamIds: Object.freeze(v.SLACK_TEAM_IDS),
      })
    : undefined;
  const slaTooShort = SEVERITIES.filter((sev) => v.COMPLAINT_SLA_RESOLUTION[sev] < v.COMPLAINT_SLA_FIRST_RESPONSE[sev]);
  if (slaTooShort.length > 0) {
    throw new ConfigError([
      `COMPLAINT_SLA_RESOLUTION: shorter than COMPLAINT_SLA_FIRST_RESPONSE for ${slaTooShort.join(", ")}; a complaint cannot be due for resolution before its first response`,
    ]);
  }
  const discord = discordConfig(v);
  const routes = parseAlertRoutes(v.ALERT_ROUTES);
  if (routes.bad.length > 0) {
    // Nothing after the platform: most likely a Slack channel name cut at its # by .env, where # starts a comment.
    const cut = routes.bad.some((b) => b.endsWith(":"))
      ? `; nothing follows the platform: a # in .env starts a comment (low_stock:slack:#ops is read as low_stock:slack:), so give the channel by its id (low_stock:slack:C0123ABCD; click the channel's name at the top of the channel: the ID is at the bottom of the About tab), or quote the value (ALERT_ROUTES="low_stock:slack:#ops"), though a channel by name never gets the daily digest (its chart upload takes an id), nor any alert once renamed`
      : "";
    throw new ConfigError([
      `ALERT_ROUTES: "${routes.bad.join(", ")}" is not a route; expected type:platform:channel items separated by commas, types ${ALERT_TYPES.join("|")}, platforms ${ALERT_PLATFORMS.join("|")} (a Discord channel by its numeric id), e.g. low_stock:slack:C0123ABCD,digest:discord:123456789012345678${cut}`,
    ]);
  }
  const jobCrons = { LOW_STOCK_CRON: v.LOW_STOCK_CRON, REFUND_EXPIRY_CRON: v.REFUND_EXPIRY_CRON, COMPLAINT_ALERTS_CRON: v.COMPLAINT_ALERTS_CRON, DIGEST_CRON: v.DIGEST_CRON, COUPON_SCHEDULE_CRON: v.COUPON_SCHEDULE_CRON, HOUSEKEEPING_CRON: v.HOUSEKEEPING_CRON, ORDER_EFFECTS_CRON: v.ORDER_EFFECTS_CRON };
  const cronProblems = Object.entries(jobCrons).flatMap(([k, expr]) => {
    const p = checkCron(expr, v.SHOP_TIMEZONE);
    return p ? [`${k}: ${p}`] : [];
  });
  if (cronProblems.length) throw new ConfigError(cronProblems);
  return Object.freeze({
    slack,
    mongodbUri: v.MONGODB_URI,
    mongodbConnectTimeoutMs: v.MONGODB_CONNECT_TIMEOUT_SECONDS * 1000,
    dataDir: path.resolve(PROJECT_ROOT, v.SHOPOPS_DATA_DIR),
    timeZone: v.SHOP_TIMEZONE,
    currency: v.SHOP_CURRENCY,
    shopSettingsChange: v.SHOP_SETTINGS_CHANGE,
    locale: v.SHOP_LOCALE,
    bootstrapAdmins: Object.freeze(admins),
    seedDemo: v.SHOPOPS_SEED_DEMO,
    demo: v.SHOPOPS_DEMO,
    demoSeed: v.DEMO_SEED,
    velocityWindowDays: v.VELOCITY_WINDOW_DAYS,
    maxInputLength: v.MAX_INPUT_LENGTH,
    chatRate: Object.freeze({ perMin: v.CHAT_RATE_PER_MIN, burst: v.CHAT_RATE_BURST }),
    logLevel: v.LOG_LEVEL,
    refundDefaults: Object.freeze({ supportLimit: v.REFUND_SUPPORT_LIMIT, managerLimit: v.REFUND_MANAGER_LIMIT, pendingHours: v.REFUND_PENDING_HOURS }),
    couponUpliftPercent: v.COUPON_EXPECTED_UPLIFT_PERCENT,
    complaintSla: Object.freeze({ firstResponse: v.COMPLAINT_SLA_FIRST_RESPONSE, resolution: v.COMPLAINT_SLA_RESOLUTION }),
    digestStaff: v.DIGEST_STAFF,
    digestAnomalyPct: v.DIGEST_ANOMALY_PCT,
    digestAnomalyMinCount: v.DIGEST_ANOMALY_MIN_COUNT,
    discord,
    http: Object.freeze({
      port: v.HTTP_PORT,
      host: v.HTTP_HOST,
      bodyLimit: v.HTTP_BODY_LIMIT,
      batchMax: v.INGEST_BATCH_MAX,
      ratePerSec: v.INGEST_RATE_PER_SEC,
      rateBurst: v.INGEST_RATE_BURST,
    }),
    jobsEnabled: v.JOBS_ENABLED,
    jobsCatchUp: v.JOBS_CATCH_UP,
    lowStockCron: v.LOW_STOCK_CRON,
    lowStockMarginPct: v.LOW_STOCK_MARGIN_PCT,
    refundExpiryCron: v.REFUND_EXPIRY_CRON,
    refundRemindHours: v.REFUND_REMIND_HOURS,
    complaintAlertsCron: v.COMPLAINT_ALERTS_CRON,
    digestCron: v.DIGEST_CRON,
    couponScheduleCron: v.COUPON_SCHEDULE_CRON,
    housekeepingCron: v.HOUSEKEEPING_CRON,
    orderEffectsCron: v.ORDER_EFFECTS_CRON,
    retentionDays: v.RETENTION_DAYS,
    lowStockShow: v.LOW_STOCK_SHOW,
    safetyStockDays: v.SAFETY_STOCK_DAYS,
    reorderCoverDays: v.REORDER_COVER_DAYS,
    alertRoutes: Object.freeze(routes.routes),
    quietHours: v.QUIET_HOURS ? { start: v.QUIET_HOURS.slice(0, 5), end: v.QUIET_HOURS.slice(6) } : undefined,
  });
}

function discordConfig(v: z.output<typeof EnvSchema>): DiscordConfig | undefined {
  if (!v.DISCORD_TOKEN) {
    if (v.DISCORD_APPLICATION_ID || v.DISCORD_GUILD_ID || v.DISCORD_GUILD_IDS.length || v.DISCORD_ROLE_MAP || v.DISCORD_API_URL) {
      throw new ConfigError(["DISCORD_TOKEN: required when other DISCORD_* variables are set (the bot token from the Developer Portal)"]);
    }
    return undefined;
  }
  if (!v.DISCORD_APPLICATION_ID) throw new ConfigError(["DISCORD_APPLICATION_ID: required with DISCORD_TOKEN (General Information → Application ID)"]);
  const roleMap: Record<string, Role> = {};
  for (const pair of (v.DISCORD_ROLE_MAP ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [id, role, ...rest] = pair.split(":").map((s) => s.trim());
    if (!id || !SNOWFLAKE.test(id) || !role || !isRole(role) || rest.length) {
      throw new ConfigError([
        `DISCORD_ROLE_MAP: "${pair}" is not roleId:role; expected a comma-separated list like 123456789012345678:manager,234567890123456789:support (roles: ${ROLES.join(", ")})`,
      ]);
    }
    roleMap[id] = role;
  }
  // Commands registered to a server the bot then refuses would be a trap: say so at start.
  if (v.DISCORD_GUILD_ID && v.DISCORD_GUILD_IDS.length && !v.DISCORD_GUILD_IDS.includes(v.DISCORD_GUILD_ID)) {
    throw new ConfigError([`DISCORD_GUILD_IDS: does not include DISCORD_GUILD_ID (${v.DISCORD_GUILD_ID}), the server the commands are registered to; add it to the list, or unset one of them`]);
  }
  const guildIds = v.DISCORD_GUILD_IDS.length ? [...new Set(v.DISCORD_GUILD_IDS)] : v.DISCORD_GUILD_ID ? [v.DISCORD_GUILD_ID] : [];
  return Object.freeze({
    token: v.DISCORD_TOKEN,
    applicationId: v.DISCORD_APPLICATION_ID,
    guildId: v.DISCORD_GUILD_ID,
    guildIds: Object.freeze(guildIds),
    roleMap: Object.freeze(roleMap),
    apiUrl: v.DISCORD_API_URL,
  });
}

/** The process environment with `.env` read into it (as loadConfig reads it; for scripts that need one variable). */
export function readProcessEnv(): Record<string, string | undefined> {
  const envFile = path.join(PROJECT_ROOT, ".env");
  // loadEnvFile does not override variables already set in the environment.
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return process.env;
}
