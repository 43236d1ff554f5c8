/**
 * The Slack app manifest, generated from the command registry:
 * `npm run -s slack:manifest` prints it as YAML (Socket Mode by default;
 * `-- --http https://bot.example.com` for HTTP mode with that public URL; `-- --out <file>` writes
 * the file itself; `-- --help` says so).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { readProcessEnv } from "../../src/config.js";
import type { Command } from "../../src/core/command.js";
import { t, type Locale } from "../../src/core/messages.js";
import { usageOf } from "../../src/core/registry.js";
import { clip } from "../../src/core/reply.js";

/**
 * Top-level names reached only through the umbrella `/ops`: generic words
 * another app (or Slack) may well use as a slash command in the same workspace.
 */
export const UMBRELLA_ONLY: readonly string[] = ["help", "whoami", "role", "audit"];

/**
 * Bot scopes the adapter uses, each with the calls that need it: the manifest
 * asks for these and nothing more.
 */
export const BOT_SCOPES: readonly { scope: string; why: string }[] = [
  { scope: "commands", why: "slash commands" },
  { scope: "chat:write", why: "chat.postMessage, chat.postEphemeral, chat.update (answers in threads, alerts)" },
  { scope: "chat:write.public", why: "alerts to public channels the bot was not invited to" },
  { scope: "im:write", why: "conversations.open (direct messages)" },
  { scope: "users:read", why: "users.info (display names)" },
  { scope: "files:write", why: "files.uploadV2 (charts and images)" },
  { scope: "app_mentions:read", why: "the app_mention event (@shopops <command>)" },
  { scope: "reactions:read", why: "the reaction_added event (complaint emoji)" },
  { scope: "channels:history", why: "conversations.history/replies of the reacted-to message (public channels)" },
  { scope: "groups:history", why: "the same in private support channels" },
];

/** Bot events subscribed. */
export const BOT_EVENTS: readonly string[] = ["app_mention", "reaction_added", "app_home_opened"];

/** Options of {@link buildManifest}. */
export interface ManifestOptions {
  commands: readonly Command[];
  /** Socket Mode (no public URL) or HTTP mode with this public base URL. */
  mode: { socket: true } | { socket: false; publicUrl: string };
  locale?: Locale;
  name?: string;
}

/** The top-level command names of the registry (`stock`, `refund`, …), sorted. */
export function topLevelNames(commands: readonly Command[]): string[] {
  return [...new Set(commands.map((c) => c.name.split(" ")[0]!))].sort();
}

/** Builds the manifest object (the YAML printed by the script). */
export function buildManifest(opts: ManifestOptions): Record<string, unknown> {
  const locale = opts.locale ?? "en";
  const name = opts.name ?? "shopops";
  const url = opts.mode.socket ? undefined : opts.mode.publicUrl.replace(/\/+$/, "") + "/slack/events";
  const withUrl = url ? { url } : {};
  const slash: Record<string, unknown>[] = [
    { command: "/ops", ...withUrl, description: t(locale, "slack.manifest.ops"), usage_hint: t(locale, "slack.manifest.ops.hint"), should_escape: false },
  ];
  for (const top of topLevelNames(opts.commands)) {
    if (UMBRELLA_ONLY.includes(top)) continue;
    const own = opts.commands.find((c) => c.name === top);
    const subs = opts.commands.filter((c) => c.name.startsWith(top + " ")).map((c) => c.name.slice(top.length + 1));
    const description = own ? t(locale, own.description) : t(locale, "slack.manifest.group", { name: top, subcommands: subs.join(t(locale, "text.list_sep")) });
    const hint = [own ? usageOf(own, locale).slice(top.length + 1) : "", ...subs.map((s) => `${s} …`)].filter(Boolean).join(" | ");
    slash.push({ command: `/${top}`, ...withUrl, description: clip(description, 2000), usage_hint: clip(hint, 1000), should_escape: false });
  }
  return {
    display_information: { name, description: clip(t(locale, "slack.manifest.description"), 140), background_color: "#1d3557" },
    features: {
      app_home: { home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: false },
      bot_user: { display_name: name, always_online: true },
      slash_commands: slash,
    },
    oauth_config: { scopes: { bot: BOT_SCOPES.map((s) => s.scope) } },
    settings: {
      event_subscriptions: { ...(url ? { request_url: url } : {}), bot_events: [...BOT_EVENTS] },
      interactivity: { is_enabled: true, ...(url ? { request_url: url } : {}) },
      org_deploy_enabled: false,
      socket_mode_enabled: opts.mode.socket,
      token_rotation_enabled: false,
    },
  };
}

/** Serializes plain data (objects, arrays, strings, numbers, booleans) as block YAML. */
export function toYaml(value: unknown, indent = 0): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((v) => {
        if (v !== null && typeof v === "object") {
          const inner = toYaml(v, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(v)}\n`;
      })
      .join("");
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => {
        if (v !== null && typeof v === "object" && (!Array.isArray(v) || v.length > 0)) return `${pad}${k}:\n${toYaml(v, indent + 2)}`;
        return `${pad}${k}: ${Array.isArray(v) ? "[]" : scalar(v)}\n`;
      })
      .join("");
  }
  return `${pad}${scalar(value)}\n`;
}

// Strings are always double-quoted JSON strings, which YAML reads as the same string.
function scalar(v: unknown): string {
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  return JSON.stringify(String(v));
}

/** Exit codes, as in the README: a wrong command line is 64 (usage printed), a bad variable 78. */
const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;

/** SHOP_LOCALE as the bot reads it (the environment, then `.env`; `en` when unset), or what is wrong with it. */
export function shopLocale(env: Record<string, string | undefined> = readProcessEnv()): Locale | { error: string } {
  const v = env.SHOP_LOCALE;
  if (v === undefined || v === "") return "en";
  if (v === "en" || v === "zh-CN") return v;
  const near = (["en", "zh-CN"] as const).find((l) => l.toLowerCase() === v.trim().toLowerCase().replace(/_/g, "-"));
  return { error: `SHOP_LOCALE: expected en or zh-CN; got "${v}"${near ? ` (did you mean ${near}?)` : ""}` };
}

/** `npm run slack:manifest -- --help`. */
export const MANIFEST_USAGE = `Usage: npm run -s slack:manifest [-- [--http <https URL>] [--out <file>]]

Prints the Slack app manifest (YAML), generated from the commands in commands/.
  --http <https URL>  HTTP mode: Slack posts to <URL>/slack/events (the bot's public base URL,
                      https only, e.g. https://shopops.example.com). Without it: Socket Mode.
  --out <file>        write the manifest to <file> instead of standard output.
  -h, --help          this text.
Use npm's -s when redirecting standard output (npm run -s slack:manifest > slack-manifest.yaml):
without it npm prints its own lines first and the file is not valid YAML.
`;

/** What the command line asks for, or what is wrong with it. */
export type ManifestArgs = { help: true } | { help: false; publicUrl?: string; out?: string } | { error: string };

/** Parses the script's arguments (`--http <url>`, `--out <file>`, `--help`); nothing else is accepted. */
export function parseManifestArgs(argv: readonly string[]): ManifestArgs {
  let publicUrl: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { help: true };
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== "--http" && name !== "--out") {
      return { error: arg.startsWith("-") ? `unknown option "${arg}"` : `unexpected argument "${arg}" (options only)` };
    }
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) value = argv[++i];
    if (name === "--http") {
      if (publicUrl !== undefined) return { error: "--http given twice" };
      if (!value) return { error: "--http needs the bot's public base URL, e.g. --http https://shopops.example.com (Slack will post to <URL>/slack/events)" };
      const problem = urlProblem(value);
      if (problem) return { error: `--http ${value}: ${problem}` };
      publicUrl = value;
    } else {
      if (out !== undefined) return { error: "--out given twice" };
      if (!value) return { error: "--out needs a file name, e.g. --out slack-manifest.yaml" };
      out = value;
    }
  }
  return { help: false, ...(publicUrl ? { publicUrl } : {}), ...(out ? { out } : {}) };
}

/** Why `value` cannot be the bot's public base URL for Slack, or undefined when it can. */
function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL; give the bot's public base URL, e.g. https://shopops.example.com";
  }
  if (url.protocol !== "https:") return `Slack needs an https URL (it does not post to ${url.protocol.replace(/:$/, "")}://); give the HTTPS address of your proxy, e.g. https://shopops.example.com`;
  if (!url.hostname) return "the URL has no host name, e.g. https://shopops.example.com";
  if (url.search || url.hash || /[?#]/.test(value)) return "give the base URL only, without ? or # (Slack will post to <URL>/slack/events)";
  if (/\s/.test(value)) return "the URL contains spaces";
  return undefined;
}

async function main(): Promise<number> {
  const args = parseManifestArgs(process.argv.slice(2));
  if ("error" in args) {
    process.stderr.write(`slack:manifest: ${args.error}\n\n${MANIFEST_USAGE}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    process.stdout.write(MANIFEST_USAGE);
    return 0;
  }
  const { publicUrl, out } = args;
  // Slack shows the commands' descriptions and hints to everyone typing `/`: in the shop's
  // language, as its replies are (SHOP_LOCALE, from the environment or .env as the bot reads it).
  const locale = shopLocale();
  if (typeof locale !== "string") {
    process.stderr.write(`slack:manifest: ${locale.error}\n`);
    return EXIT_CONFIG;
  }
  const { commandsOnce } = await import("../../src/app.js");
  const manifest = buildManifest({ commands: await commandsOnce(), mode: publicUrl ? { socket: false, publicUrl } : { socket: true }, locale });
  const mode = publicUrl ? "HTTP mode" : "Socket Mode";
  const text =
    `# shopops Slack app manifest, generated from commands/ (${mode}${locale === "en" ? "" : `, descriptions in ${locale} from SHOP_LOCALE`}).\n` +
    "# Paste it at https://api.slack.com/apps → Create New App → From a manifest.\n" +
    toYaml(manifest);
  if (out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(out, text);
  } catch (e) {
    process.stderr.write(`slack:manifest: cannot write ${out}: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
  process.stderr.write(
    `slack:manifest: wrote ${path.resolve(out)} (${mode}${publicUrl ? `, Slack posts to ${publicUrl.replace(/\/+$/, "")}/slack/events` : ""}). ` +
      "Paste it at https://api.slack.com/apps → Create New App → From a manifest.\n",
  );
  return 0;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  // The reader went (`… | head`): nothing more to say, as for a program ended by SIGPIPE.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 141 : 1));
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`slack:manifest failed: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

