import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";
import type { Logger as BoltLogger, RespondFn } from "@slack/bolt";
import { ConfigError, routeChannel, type Config, type SlackConfig } from "../../src/config.js";
import type { Core, InvocationResult } from "../../src/core/core.js";
import { Formatter } from "../../src/core/format.js";
import { scrubText, WarnThrottle, type Logger } from "../../src/core/logger.js";
import { translator, type Locale, type Translate } from "../../src/core/messages.js";
import { RetryAfterError, UndeliverableError, type Deliverer, type Destination } from "../../src/core/outbound.js";
import { parseIdentity } from "../../src/core/identity.js";
import { shortId } from "../../src/core/ids.js";
import { clip, isPrivate, type Reply } from "../../src/core/reply.js";
import { trimInvisible, withoutControls } from "../../src/core/text.js";
import { COMPLAINT_TEXT_MAX } from "../../src/services/complaint.service.js";
import { markerHash, type MarkerOnce } from "../../src/services/marker.service.js";
import { shownButtonLine } from "../../src/services/refund.view.js";
import type { Services } from "../../src/services/services.js";
import { ACTION_PREFIX, appendOutcome, noticeMessage, renderBlocks, type Block, type RenderOptions, type SlackMessage } from "./blocks.js";
import { BOT_SCOPES, topLevelNames } from "./manifest.js";

/** Retry policy of the Web API client (the outbox retries deliveries itself). */
export interface SlackRetryConfig {
  retries: number;
  factor?: number;
  minTimeout?: number;
  maxTimeout?: number;
}

/** What the Slack adapter needs. */
export interface SlackAdapterOptions {
  core: Core;
  services: Services;
  config: Config;
  logger: Logger;
  /** Web API base URL (tests point it at the local peer). Default SLACK_API_URL, else Slack's. */
  slackApiUrl?: string;
  /** Web API retries; default 2 (each retry waits seconds, never the user's ack). */
  retryConfig?: SlackRetryConfig;
  /**
   * HTTP mode: where to listen. Default all interfaces on SLACK_PORT. `"shared"`: no server of
   * its own; the bot's HTTP server passes `/slack/events` to {@link SlackAdapter.requestListener}.
   */
  listen?: { port: number; host?: string } | "shared";
  /** Least time between two messages to one channel (Slack allows about one per second). */
  channelGapMs?: number;
  /** How the pacer waits (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
  /** How long a user's name and language (users.info) are kept; default 10 minutes. */
  userCacheMs?: number;
}

/** What users.info tells about a Slack user; either may be missing. */
interface SlackProfile {
  name?: string;
  locale?: Locale;
}

/**
 * The shopops locale of a Slack user's language (users.info `locale`, e.g. `zh-CN`, `en-US`), or
 * undefined when it is not one shopops speaks (then the shop's SHOP_LOCALE applies). Any Chinese
 * (zh-TW, zh-HK, zh-Hant too) is answered in Simplified Chinese, as on Discord: shopops has no
 * Traditional Chinese, and a Traditional reader reads Simplified far better than English.
 */
function slackLocale(tag: string | undefined): Locale | undefined {
  if (!tag) return undefined;
  if (/^en(?:[-_]|$)/i.test(tag)) return "en";
  if (/^zh(?:[-_]|$)/i.test(tag)) return "zh-CN";
  return undefined;
}

/** A message a complaint is filed from (the reaction hook's input). */
export interface ComplaintSource {
  text: string;
  /** Identity of the message's author, `slack:<team>:<user>` (or the bot/app id for bot posts). */
  author: string;
  permalink: string;
  channel: string;
  ts: string;
}

/**
 * Sections of App Home, top to bottom: each runs a command as the user and
 * shows its reply. A section whose command is not installed, or that the user
 * may not run (the digest below manager unless DIGEST_STAFF), is left out.
 */
export const HOME_SECTIONS: readonly { command: string; line: string }[] = [
  // The user's identity and role.
  { command: "whoami", line: "whoami" },
  // Refund requests waiting for this user's approval (not their own, within their role's limit).
  { command: "refund list", line: "refund list approvable" },
  // Open complaints assigned to this user.
  { command: "complaint list", line: "complaint list mine" },
  // The latest complete day's digest (its chart is not shown in Home).
  { command: "digest", line: "digest yesterday" },
];

/**
 * How a complaint is filed from a Slack message: the command line `complaint new source=slack
 * link=… author=…` (its permalink: one complaint per message; its author's identity), and the
 * message's text carried beside it as the invocation's attached text, as written (line breaks,
 * spacing and every quote style kept), Slack's markup as a person reads it. Up to the complaint
 * limit the API has too ({@link COMPLAINT_TEXT_MAX}); a longer message is cut there, and
 * `cutFrom` gives its length, for the thread reply to say so.
 */
export function complaintInvocation(src: ComplaintSource): { line: string; text: string; cutFrom?: number } {
  const line = `complaint new source=slack link=${src.permalink} author=${src.author}`;
  const whole = unescapeSlack(slackMarkupAsText(src.text)).trim();
  const text = hasWords(whole) ? whole : src.permalink;
  return text.length > COMPLAINT_TEXT_MAX ? { line, text: clip(text, COMPLAINT_TEXT_MAX), cutFrom: text.length } : { line, text };
}

/**
 * Whether a message's text has anything to file once the core drops its control characters
 * (see `Core`: attached text loses them) and blank or invisible characters are set aside: text
 * made only of them (NUL, escape codes, a zero-width space) is no text, like an empty message.
 */
function hasWords(s: string): boolean {
  return trimInvisible(withoutControls(s)) !== "";
}

/** The command line of a slash command: `/ops <line>` as is, `/stock SKU-1` as `stock SKU-1`. */
export function slashCommandLine(command: string, text: string): string {
  const name = command.replace(/^\//, "").toLowerCase();
  const line = unescapeSlack(text);
  return name === "ops" ? line.trim() : `${name} ${line}`.trim();
}

/**
 * Slack's message markup as a person reads it, for text kept elsewhere (a complaint's): a link
 * `<https://x|order 1>` as `order 1 (https://x)`, a channel `<#C1|ops>` as `#ops`, a person
 * `<@U1>` as `@U1`, `<!here>` as `@here`. (Escaped `&lt;` text is not markup: undone after.)
 */
export function slackMarkupAsText(text: string): string {
  return text
    .replace(/<((?:https?|mailto):[^|>\s]+)\|([^>]+)>/g, "$2 ($1)")
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, "$1")
    .replace(/<#[A-Z0-9]+\|([^>]+)>/g, "#$1")
    .replace(/<#([A-Z0-9]+)>/g, "#$1")
    .replace(/<@([A-Z0-9]+)(?:\|[^>]+)?>/g, "@$1")
    .replace(/<!(here|channel|everyone)(?:\|[^>]+)?>/g, "@$1");
}

/** Slack's escaping of `&`, `<` and `>` in message and command text, undone (`A&amp;B` → `A&B`). */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** The shopops identity of a Slack user. */
export function slackIdentity(team: string, user: string): string {
  return `slack:${team}:${user}`;
}

// Token shapes Slack issues (bot, user, app-level, refresh, config) and the signing secret:
// these never reach a log line, whatever a library prints.
const TOKEN = /\b(?:xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)/g;
// Payload fields a debug log of Socket Mode would print: the legacy verification token, and
// response URLs (anyone holding one may post to the channel for a while).
const PAYLOAD_SECRET = /("(?:token|response_url)"\s*:\s*")[^"]*(")|(\b(?:token|response_url)=)[^&\s"]+/g;

/** Bolt's warning of a request to the events URL refused as unsigned, badly signed or unreadable. */
const REFUSED_REQUEST = /^Failed to (?:parse and verify the request data|parse the request body|verify authenticity)/;
/** At most one such warning per this many ms (as refused API keys: src adapters/http). */
const REFUSED_REQUEST_LOG_MS = 60_000;

/**
 * Bridges Bolt's and the Web API's logger to ours, scrubbing secrets from every line. Requests
 * refused at the events URL (unsigned, a wrong signature, a stale timestamp) are warned of at
 * most once a minute, with the refusals in between counted: anyone who can reach the port could
 * otherwise fill the log.
 */
export function boltLogger(log: Logger, secrets: readonly string[], now: () => number = Date.now): BoltLogger {
  let level = LogLevel.INFO;
  const refused = new WarnThrottle(REFUSED_REQUEST_LOG_MS, now);
  const warn = (line: string): void => {
    if (!REFUSED_REQUEST.test(line)) return log.warn(line);
    const since = refused.pass();
    if (since !== undefined) log.warn(since ? `${line} (${since} more refused since the last warning)` : line);
  };
  const scrub = (args: unknown[]): string => {
    let s = args
      .map((a) => (typeof a === "string" ? a : a instanceof Error ? (a.stack ?? a.message) : safeJson(a)))
      .join(" ")
      .replace(TOKEN, "[redacted]")
      .replace(PAYLOAD_SECRET, (_m, a?: string, b?: string, c?: string) => (a ? `${a}[redacted]${b}` : `${c}[redacted]`))
      .replace(/https:\/\/hooks\.slack\.com\/[^\s"'\\]+/g, "https://hooks.slack.com/[redacted]");
    for (const secret of secrets) if (secret) s = s.split(secret).join("[redacted]");
    // An `apikey create` reply carries a new API key, and the Web API logs request bodies at debug.
    return scrubText(s);
  };
  return {
    debug: (...a: unknown[]) => log.debug(scrub(a)),
    info: (...a: unknown[]) => log.info(scrub(a)),
    warn: (...a: unknown[]) => warn(scrub(a)),
    error: (...a: unknown[]) => log.error(scrub(a)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Body = Record<string, unknown>;
type ReplyImage = NonNullable<Reply["image"]>;

/**
 * Slack API errors that mean a message can never be delivered as addressed. Not
 * `channel_not_found` (also a private channel the bot was not invited to, which an admin may fix)
 * nor `account_inactive` (a token problem: every message would die).
 */
const SLACK_UNDELIVERABLE = new Set(["is_archived", "user_not_found", "user_disabled", "cannot_dm_bot"]);

/**
 * The Slack adapter: slash commands, buttons, @mentions, the complaint
 * reaction and App Home in; replies as Block Kit out; and the Slack
 * {@link Deliverer} for the outbox. It only translates: the core parses,
 * checks permissions, runs and audits.
 *
 * Every interaction is acknowledged first, before any database or Web API
 * call, so the 3-second limit never depends on what the user typed; the answer
 * follows through `response_url` (or the Web API for events).
 */

export class SlackAdapter implements Deliverer {
  readonly platform = "slack" as const;
  readonly app: App;
  private readonly slack: SlackConfig;
  private readonly log: Logger;
  private readonly t: Translate;
  private readonly fmt: Formatter;
  private readonly profiles = new Map<string, { until: number; profile: Promise<SlackProfile> }>();
  private readonly dms = new Map<string, string>();
  private readonly nextSlot = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly gapMs: number;
  private readonly pending = new Set<Promise<unknown>>();
  /** The registry's top-level command words: code spans starting with one are shown as `/ops …`. */
  private readonly commandWords: ReadonlySet<string>;
  /** The bot's own user id (auth.test at start-up): thread replies name commands as a mention of it. */
  private botUserId: string | undefined;

  constructor(private readonly opts: SlackAdapterOptions) {
    if (!opts.config.slack) throw new Error("Slack is not configured (SLACK_BOT_TOKEN)");
    this.slack = opts.config.slack;
    this.log = opts.logger.child({ component: "slack" });
    this.t = translator(opts.config.locale);
    this.fmt = new Formatter(opts.config.locale, opts.config.timeZone, opts.config.currency);
    this.sleep = opts.sleep ?? defaultSleep;
    this.gapMs = opts.channelGapMs ?? 1100;
    this.commandWords = new Set(topLevelNames(opts.core.commands));
    const secrets = [this.slack.botToken, this.slack.appToken ?? "", this.slack.signingSecret ?? ""];
    const common = {
      token: this.slack.botToken,
      logger: boltLogger(this.log, secrets),
      logLevel: opts.config.logLevel === "debug" ? LogLevel.DEBUG : LogLevel.INFO,
      deferInitialization: true,
      clientOptions: {
        ...((opts.slackApiUrl ?? this.slack.apiUrl) ? { slackApiUrl: opts.slackApiUrl ?? this.slack.apiUrl } : {}),
        retryConfig: opts.retryConfig ?? { retries: 2 },
        // A call that never returns would block this instance's deliveries for good. Three
        // tries of 15 s per call end well within the outbox's 5-minute hold, so another
        // instance does not post the message again meanwhile. (A timed-out call that Slack did
        // accept may still be posted twice: chat.postMessage has no idempotency key.)
        timeout: 15_000,
        // A 429 becomes an error at once: the outbox waits Retry-After, no message is lost.
        rejectRateLimitedCalls: true,
      },
    };
    if (this.slack.appToken) {
      this.app = new App({ ...common, socketMode: true, appToken: this.slack.appToken });
    } else {
      // Bolt's own HTTP receiver (signature and timestamp checks), kept to hand its listener
      // to the bot's HTTP server when they share a port.
      this.receiver = new HTTPReceiver({ signingSecret: this.slack.signingSecret!, logger: common.logger, logLevel: common.logLevel });
      this.app = new App({ ...common, receiver: this.receiver });
    }
    this.app.error(async (e) => this.log.error("slack listener failed", { error: e }));
    this.register();
  }

  private server: Server | undefined;
  private receiver: HTTPReceiver | undefined;

  /**
   * HTTP mode: Bolt's request listener (verifies Slack's signature, then dispatches), for a
   * server shared with the ingestion API (`listen: "shared"`).
   */
  get requestListener(): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
    return this.receiver?.requestListener;
  }

  /** The HTTP receiver's server once started in HTTP mode (for health checks and measurements). */
  get httpServer(): Server | undefined {
    return this.server;
  }

  /** "socket" or "http", from the configuration. */
  get mode(): "socket" | "http" {
    return this.slack.appToken ? "socket" : "http";
  }

  /** Verifies the token (auth.test) and connects (Socket Mode) or listens (HTTP). Returns the HTTP port. */
  async start(): Promise<{ port?: number }> {
    try {
      await this.app.init();
    } catch (e) {
      throw refusedToken(e, "SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-…) of the installed app") ?? e;
    }
    await this.warnMissingScopes();
    if (this.mode === "socket") {
      // The socket client retries a refused apps.connections.open for ever unless the token itself
      // is refused: an app-level token without connections:write would hang start-up, saying
      // nothing. Asked once first, so it stops start-up naming the variable and the scope.
      const probe = await this.app.client.apps.connections.open({ token: this.slack.appToken! }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (slackErrorCode(probe) === "missing_scope") {
        throw new ConfigError(["SLACK_APP_TOKEN: Slack refused it (missing_scope): the app-level token needs the connections:write scope; generate one with it at api.slack.com/apps → Basic Information → App-Level Tokens"]);
      }
      try {
        await this.app.start();
      } catch (e) {
        throw refusedToken(e, "SLACK_APP_TOKEN", "an app-level token (xapp-…) with the connections:write scope") ?? e;
      }
      return {};
    }
    const l = this.opts.listen ?? { port: this.slack.port };
    if (l === "shared") return {};
    const server = await this.app.start(l.host ? { port: l.port, host: l.host } : l.port);
    this.server = server;
    return { port: (server.address() as AddressInfo).port };
  }

  /**
   * Warns at start-up of the bot scopes the manifest asks for ({@link BOT_SCOPES}) that the token
   * lacks (an app created by hand, or installed before a scope was added): otherwise each is
   * found out later, one refused call at a time (a chart, a DM, a complaint reaction). Slack lists
   * a token's scopes in every answer's `x-oauth-scopes`; when it does not (a proxy), nothing is said.
   */
  private async warnMissingScopes(): Promise<void> {
    const r = await this.app.client.auth.test().catch(() => undefined);
    if (typeof r?.user_id === "string") this.botUserId = r.user_id;
    const granted = r?.response_metadata?.scopes;
    if (!granted?.length) return;
    const missing = BOT_SCOPES.filter((s) => !granted.includes(s.scope));
    if (!missing.length) return;
    this.log.warn(
      `SLACK_BOT_TOKEN lacks scopes the bot uses: ${missing.map((s) => `${s.scope} (${s.why})`).join("; ")}. ` +
        "Add them at api.slack.com/apps → OAuth & Permissions → Bot Token Scopes (or update the app from npm run -s slack:manifest), then reinstall the app.",
      { missing: missing.map((s) => s.scope) },
    );
  }

  /** Stops listening and waits for answers still in flight. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    // A shared receiver has no server of its own to stop (the HTTP server closes it).
    if (this.mode === "socket" || this.server) await this.app.stop();
  }

  /** A reply as Block Kit, its command lines as a Slack user types them (`/ops help`: see opsLine in blocks.ts). */
  private render(reply: Reply, opts: RenderOptions = {}): SlackMessage {
    return renderBlocks(reply, { ...opts, commandWords: this.commandWords });
  }

  /**
   * A reply for a thread, where Slack takes no slash commands: its command lines as a mention of
   * the bot and the line (`@shopops \`help\``, see threadLine in blocks.ts), as the mention handler reads them.
   */
  private renderInThread(reply: Reply, opts: RenderOptions = {}, botUserId = this.botUserId): SlackMessage {
    return this.render(reply, { ...opts, thread: botUserId ? { botUserId } : {} });
  }

  /** Waits until every answer started so far has been sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  // Work after an ack runs detached from Bolt's listener, tracked for idle()/stop().
  private background(what: string, work: () => Promise<unknown>): void {
    const p = work()
      .catch((e: unknown) => this.log.error(`slack ${what} failed`, { error: e }))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private register(): void {
    // With SLACK_TEAM_IDS, requests from people of other workspaces (Slack Connect, another
    // install) are acknowledged and dropped before anything runs: their users are not the shop's.
    const allowed = this.slack.teamIds;
    if (allowed.length) {
      this.app.use(async (args) => {
        const body = args.body as Body;
        const teams = [teamOf(body), (body.user as { team_id?: string } | undefined)?.team_id, (body.event as { user_team?: string } | undefined)?.user_team].filter((x): x is string => !!x);
        if (teams.length && teams.every((x) => allowed.includes(x))) return args.next();
        const what = body.command ? "command" : body.type === "block_actions" ? "button" : String((body.event as { type?: string } | undefined)?.type ?? body.type);
        this.log.warn("request from a workspace not in SLACK_TEAM_IDS dropped", { teams, what });
        const ack = (args as { ack?: (r?: string) => Promise<void> }).ack;
        if (ack) await ack(body.command ? this.t("slack.team_refused") : undefined);
        // A button pressed or a mention made there (a Slack Connect channel shared with them) is
        // refused in words too, as a slash command is: see tellRefused.
        const { respond, context } = args as { respond?: RespondFn; context?: { retryNum?: number } };
        if (!body.command) this.background("refusal", () => this.tellRefused(body, respond, context?.retryNum));
      });
    }
    this.app.command(/.*/, async ({ command, ack, respond }) => {
      await ack();
      this.background("command", async () => {
        const identity = slackIdentity(command.team_id, command.user_id);
        const line = slashCommandLine(command.command, command.text);
        // Once per slash command (its trigger_id): a redelivery, or a signed request captured and
        // sent again within the signature's 5 minutes, runs nothing a second time.
        const key = `slack:command:${command.team_id}:${command.trigger_id}`;
        const exec = () => this.invoke(identity, command.user_id, line);
        const run = command.trigger_id ? await this.once(key, identity, line, exec, (r) => r.outcome !== "error") : { claimed: true as const, result: await exec() };
        if (!run.claimed) {
          this.log.warn("slash command delivered again: not run twice", { command: command.command, user: command.user_id });
          return;
        }
        const r = run.result;
        // A table longer than one message goes on in follow-ups (response_url takes 5 posts).
        const { more = [], ...first } = this.render(r.reply);
        for (const msg of [first, ...more]) await respond({ ...msg, replace_original: false });
        if (r.reply.image) {
          const to = r.reply.visibility === "public" ? async () => command.channel_id : () => this.dmChannel(identity);
          await this.imageOrNote(r.reply.image, to, command.user_id, (msg) => respond({ ...msg, replace_original: false }));
        }
      });
    });

    this.app.action({ action_id: new RegExp(`^${ACTION_PREFIX.replace(/\./g, "\\.")}`) }, async ({ ack, body, action, respond }) => {
      await ack();
      this.background("action", () => this.onButton(body as unknown as Body, action as unknown as Body, respond));
    });

    this.app.event("app_mention", async ({ event, body, context }) => {
      this.background("mention", () => this.onMention(event as unknown as Body, body as unknown as Body, context.botUserId));
    });

    this.app.event("reaction_added", async ({ event, body }) => {
      this.background("reaction", () => this.onReaction(event as unknown as Body, body as unknown as Body));
    });

    this.app.event("app_home_opened", async ({ event, body }) => {
      const ev = event as unknown as { user: string; tab?: string };
      if (ev.tab !== undefined && ev.tab !== "home") return;
      this.background("home", () => this.publishHome(teamOf(body as unknown as Body), ev.user));
    });
  }

  /**
   * Tells someone of a workspace not in SLACK_TEAM_IDS that shopops is not for them, as a slash
   * command's ack does, through what Slack allows without a token of their workspace: a button's
   * `response_url` (ephemeral, the message left as it is); for a mention, an ephemeral message in
   * the thread with our bot token (the channel is one our bot is in, shared with them), which only
   * they see, rather than a log line only, which would leave them thinking the bot is down. Not
   * again for an event Slack retries; nothing else (a reaction, Home) is answered.
   */
  private async tellRefused(body: Body, respond: RespondFn | undefined, retryNum: number | undefined): Promise<void> {
    const ev = body.event as { type?: string; user?: string; channel?: string; ts?: string; thread_ts?: string } | undefined;
    if (body.type === "block_actions" && respond) {
      const user = (body.user as { id?: string } | undefined)?.id;
      const { t } = user ? await this.wordsFor(user) : { t: this.t };
      await respond({ ...noticeMessage(t("slack.team_refused")), response_type: "ephemeral", replace_original: false });
    } else if (ev?.type === "app_mention" && ev.user && ev.channel && !retryNum) {
      const { t } = await this.wordsFor(ev.user);
      await this.app.client.chat.postEphemeral({ channel: ev.channel, user: ev.user, thread_ts: String(ev.thread_ts ?? ev.ts), text: t("slack.team_refused") });
    }
  }

  /**
   * Runs an invocation once per delivery `key` (a marker in the database). When the marker cannot
   * be written (the database unreachable), it runs all the same, so the core answers it (an
   * internal error with its reference when the database is down) rather than the person seeing
   * nothing; a redelivery is then not caught.
   */
  private once(key: string, identity: string, what: string | undefined, run: () => Promise<InvocationResult>, keep: (r: InvocationResult) => boolean): Promise<MarkerOnce<InvocationResult>> {
    return this.opts.services.markers.once(key, identity, what, run, keep, {
      unclaimed: (error) => this.log.warn("delivery marker not written; answering without the redelivery check", { key, error }),
    });
  }

  /**
   * Runs a command line through the core as a Slack user, in their language when shopops speaks
   * it; `attachedText` (a message filed as a complaint) goes beside the line, as written.
   */
  private async invoke(identity: string, userId: string, text: string, attachedText?: string): Promise<InvocationResult> {
    const { name, locale } = await this.profile(userId);
    return this.opts.core.invoke({
      identity,
      platform: "slack",
      text,
      ...(name ? { displayName: name } : {}),
      ...(locale ? { locale } : {}),
      ...(attachedText !== undefined ? { attachedText } : {}),
    });
  }

  /**
   * A user's name and language from one users.info call (`include_locale`), kept for
   * `userCacheMs` (a changed name or language shows within minutes) and shared by concurrent
   * callers; empty if Slack will not say (asked again next time).
   */
  private profile(userId: string): Promise<SlackProfile> {
    const now = Date.now();
    const hit = this.profiles.get(userId);
    if (hit && hit.until > now) return hit.profile;
    if (this.profiles.size > 1000) for (const [k, v] of this.profiles) if (v.until <= now) this.profiles.delete(k);
    const profile: Promise<SlackProfile> = this.app.client.users.info({ user: userId, include_locale: true }).then(
      (r) => {
        const u = r.user as { name?: string; real_name?: string; locale?: string; profile?: { display_name?: string; real_name?: string } } | undefined;
        const name = u?.profile?.display_name || u?.profile?.real_name || u?.real_name || u?.name || undefined;
        const locale = slackLocale(u?.locale);
        return { ...(name ? { name } : {}), ...(locale ? { locale } : {}) };
      },
      (e: unknown) => {
        if (this.profiles.get(userId)?.profile === profile) this.profiles.delete(userId); // try again next time
        this.log.warn("users.info failed", { user: userId, error: e });
        return {};
      },
    );
    this.profiles.set(userId, { until: now + (this.opts.userCacheMs ?? 10 * 60_000), profile });
    return profile;
  }

  /** A user's display name (users.info, cached); undefined if Slack will not say. */
  async displayName(userId: string): Promise<string | undefined> {
    return (await this.profile(userId)).name;
  }

  /** The language shopops answers a user in: theirs (users.info, cached) when supported, else the shop's. */
  async userLocale(userId: string): Promise<Locale> {
    return (await this.profile(userId)).locale ?? this.opts.config.locale;
  }

  /** The adapter's own words and dates for a user, in their language. */
  private async wordsFor(userId: string): Promise<{ t: Translate; fmt: Formatter }> {
    const locale = await this.userLocale(userId);
    if (locale === this.opts.config.locale) return { t: this.t, fmt: this.fmt };
    return { t: translator(locale), fmt: new Formatter(locale, this.opts.config.timeZone, this.opts.config.currency) };
  }

  /**
   * A button press, run through the core as the presser. A refusal, or a private outcome (a
   * PO holds this product, a second manager is needed) on a message others see, goes to the
   * presser alone and the message stays as it is. A public outcome is appended to the message,
   * which keeps its other items and their buttons (see {@link appendOutcome}). A message only
   * the presser sees (ephemeral) shows any outcome in place; a press in App Home is answered by
   * DM and refreshes Home.
   */
  private async onButton(body: Body, action: Body, respond: RespondFn | undefined): Promise<void> {
    const line = String(action.value ?? "");
    if (!line) return;
    const user = body.user as { id: string; team_id?: string };
    const team = teamOf(body) ?? user.team_id ?? "T0";
    const identity = slackIdentity(team, user.id);
    const container = (body.container ?? {}) as { message_ts?: string; view_id?: string; channel_id?: string; is_ephemeral?: boolean };
    const where = container.message_ts ?? container.view_id ?? (body.view as { id?: string } | undefined)?.id ?? "-";
    const channel = (body.channel as { id?: string } | undefined)?.id ?? container.channel_id ?? "-";
    const { t, fmt } = await this.wordsFor(user.id);
    // One press per person per rendered button: the block_id carries a nonce fresh on every
    // render, so a double click, a retried request or a replayed payload finds the marker, while
    // another button (or the same command re-offered in an updated message) is a new key. The
    // user is part of it, as on Discord: a second manager's Approve on a two-manager refund is
    // judged by the core (whose guarded updates never apply anything twice), not swallowed.
    const key = `slack:action:${team}:${channel}:${where}:${String(action.block_id ?? "-")}:${user.id}:${markerHash(line, 16)}`;
    // Refused, bad input or failed: nothing changed, the claim is given back and the button
    // stays for someone who may press it.
    const press = await this.once(key, identity, line, () => this.invoke(identity, user.id, line), (r) => r.outcome === "ok");
    const toClicker = async ({ more = [], ...msg }: SlackMessage) => {
      for (const m of [msg, ...more]) {
        if (respond) await respond({ ...m, response_type: "ephemeral", replace_original: false });
        else await this.post(await this.dmChannel(identity), m);
      }
    };
    if (!press.claimed) {
      const when = press.prior ? fmt.dateTime(press.prior.at) : "";
      await toClicker(noticeMessage(t("slack.action.already", { when })));
      return;
    }
    const r = press.result;
    const onMessage = !!(respond && container.message_ts);
    // A button on a message in a thread (a mention's answer): its answers name commands as typed there.
    const inThread = !!(body.message as { thread_ts?: string } | undefined)?.thread_ts;
    const draw = (reply: Reply, o: RenderOptions = {}) => (inThread ? this.renderInThread(reply, o) : this.render(reply, o));
    if (r.outcome !== "ok" || (isPrivate(r.reply) && onMessage && !container.is_ephemeral)) {
      // A shared card whose subject was decided or expired meanwhile: its buttons about it go, with a line saying why, for everyone.
      const original = ((body.message as { blocks?: Block[] } | undefined)?.blocks ?? []).filter((b) => b && typeof b.type === "string");
      if (r.reply.settled !== undefined && respond && onMessage && !container.is_ephemeral && original.length) {
        await respond({ text: r.reply.settled, blocks: appendOutcome(original, noticeMessage(r.reply.settled).blocks, line), replace_original: true });
      }
      await toClicker(draw(r.reply));
      // An ephemeral answer cannot carry a file: a private chart goes to the presser's DM.
      if (r.reply.image) await this.imageOrNote(r.reply.image, () => this.dmChannel(identity), user.id, toClicker);
      return;
    }
    // The Reject button's fixed reason in the reader's language (shownButtonLine), not the English it carries.
    const done = t("slack.action.done", { user: `<@${user.id}>`, command: shownButtonLine(line, t), when: fmt.dateTime(this.opts.services.clock.now()) });
    // One message (added to the pressed one): a page of a list ends at the rows it holds, its next page after them.
    const outcome = draw(r.reply, { extraContext: [done], followUps: 0 });
    if (respond && onMessage) {
      // The message as Slack holds it now (absent for an ephemeral one): kept, with the outcome added.
      const original = ((body.message as { blocks?: Block[] } | undefined)?.blocks ?? []).filter((b) => b && typeof b.type === "string");
      const blocks = original.length ? appendOutcome(original, outcome.blocks, line) : outcome.blocks;
      await respond({ text: outcome.text, blocks, replace_original: true });
    } else {
      // A button in App Home: tell the user in a DM and refresh their Home.
      await this.post(await this.dmChannel(identity), outcome);
      await this.publishHome(team, user.id);
    }
    if (r.reply.image) await this.imageOrNote(r.reply.image, async () => (channel !== "-" && !isPrivate(r.reply) ? channel : await this.dmChannel(identity)), user.id, toClicker);
  }

  private async onMention(ev: Body, body: Body, botUserId: string | undefined): Promise<void> {
    const team = teamOf(body) ?? "T0";
    const user = String(ev.user ?? "");
    const channel = String(ev.channel ?? "");
    if (!user || !channel) return;
    const identity = slackIdentity(team, user);
    const key = `slack:event:${team}:${String(body.event_id ?? `${channel}:${String(ev.ts)}`)}`;
    // An internal error gives the claim back, so Slack's retry of the event may run it again.
    const handled = await this.once(key, identity, undefined, () => this.invoke(identity, user, mentionCommandLine(String(ev.text ?? ""), botUserId)), (r) => r.outcome !== "error");
    if (!handled.claimed) return; // Slack retried the event
    await this.answerInThread(channel, String(ev.thread_ts ?? ev.ts), user, identity, handled.result.reply, botUserId);
  }

  /**
   * Answers in a thread: a private reply (ephemeral, or an error) only to the person, since
   * it may hold what others must not see (a new API key, the audit trail); a public one in the
   * thread for everyone.
   */
  private async answerInThread(channel: string, threadTs: string, user: string, identity: string, reply: Reply, botUserId?: string): Promise<void> {
    const { more = [], ...msg } = this.renderInThread(reply, {}, botUserId ?? this.botUserId);
    if (isPrivate(reply)) {
      // A table longer than one message goes on in follow-ups.
      for (const m of [msg, ...more]) await this.app.client.chat.postEphemeral({ channel, user, thread_ts: threadTs, text: m.text, blocks: m.blocks });
      // An ephemeral message cannot carry a file: a private chart goes to the asker's DM, as for a slash command.
      if (reply.image) await this.imageOrNote(reply.image, () => this.dmChannel(identity), user, (m) => this.app.client.chat.postEphemeral({ channel, user, thread_ts: threadTs, text: m.text, blocks: m.blocks }));
      return;
    }
    try {
      await this.post(channel, msg, reply.image, threadTs);
    } catch (e) {
      if (!reply.image) throw e;
      // The text went with the refused upload (the app without files:write): it is posted alone,
      // saying why the chart is not attached, rather than the thread getting no answer.
      const note = await this.imageFailure(e, user);
      await this.post(channel, this.renderInThread(reply, { extraContext: [note] }, botUserId ?? this.botUserId), undefined, threadTs);
    }
    for (const m of more) await this.post(channel, m, undefined, threadTs);
  }

  private async onReaction(ev: Body, body: Body): Promise<void> {
    const item = (ev.item ?? {}) as { type?: string; channel?: string; ts?: string };
    if (ev.reaction !== this.slack.complaintEmoji || item.type !== "message" || !item.channel || !item.ts) return;
    if (!this.slack.supportChannels.includes(item.channel)) return;
    const team = teamOf(body) ?? "T0";
    const reactor = String(ev.user ?? "");
    const identity = slackIdentity(team, reactor);
    // One complaint per message, however many people react or how often Slack retries.
    const key = `slack:complaint:${team}:${item.channel}:${item.ts}`;
    const { channel, ts } = item;
    // Not filed (refused, bad input, failed) or not fetched: the claim is given back, so reacting
    // again may file it; the person who reacted is told it was not filed, and why.
    const filed = await this.opts.services.markers.once(
      key,
      identity,
      "complaint new",
      async () => {
        const msg = await this.fetchMessage(channel, ts);
        if (!msg) throw new MessageNotFoundError(channel, ts);
        const link = await this.app.client.chat.getPermalink({ channel, message_ts: ts });
        const author = msg.user ? slackIdentity(team, msg.user) : `slack:${team}:${msg.bot_id ?? "UNKNOWN"}`;
        return this.fileComplaintFromMessage({ text: msg.text ?? "", author, permalink: String(link.permalink ?? ""), channel, ts }, { identity, user: reactor });
      },
      (r) => r.outcome === "ok",
      { releaseOnThrow: true },
    ).catch(async (e: unknown) => {
      const { t } = await this.wordsFor(reactor);
      // The person is told why only in Slack's terms (its error code: not_in_channel,
      // channel_not_found…) or that the message is gone; anything else (the database, a bug) is
      // ours: the generic wording with a reference, the details in the log only.
      const why = e instanceof MessageNotFoundError ? t("slack.complaint.no_message") : slackErrorCode(e);
      let text: string;
      if (why) {
        this.log.warn("complaint from a reaction not filed", { channel, ts, error: e });
        text = t("slack.complaint.not_filed", { why: clip(why, 200) });
      } else {
        const ref = shortId(10);
        this.log.error("complaint from a reaction failed", { ref, channel, ts, error: e });
        text = t("slack.complaint.failed", { error: t("error.generic", { ref }) });
      }
      await this.app.client.chat.postEphemeral({ channel, user: reactor, thread_ts: ts, text }).catch(() => undefined);
      return null;
    });
    if (!filed) return;
    if (!filed.claimed) {
      const by = filed.prior ? mention(filed.prior.by) : "?";
      const { t } = await this.wordsFor(reactor);
      await this.app.client.chat.postEphemeral({ channel, user: reactor, thread_ts: ts, text: t("slack.complaint.already", { user: by }) });
    }
  }

  /**
   * The reacted-to message: top level (conversations.history) or in a thread (conversations.replies,
   * which lists the thread's parent first: not limited to one message, the reply is found by its
   * ts). A message with no text of its own (a helpdesk bot's) is read from its attachments.
   */
  private async fetchMessage(channel: string, ts: string): Promise<{ text?: string; user?: string; bot_id?: string } | undefined> {
    type Msg = { ts?: string; text?: string; user?: string; bot_id?: string; attachments?: { pretext?: string; title?: string; text?: string; fallback?: string }[] };
    const h = await this.app.client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
    let m = (h.messages as Msg[] | undefined)?.find((x) => x.ts === ts);
    if (!m) {
      const r = await this.app.client.conversations.replies({ channel, ts, latest: ts, inclusive: true });
      m = (r.messages as Msg[] | undefined)?.find((x) => x.ts === ts);
    }
    if (!m) return undefined;
    // An attachment's text with no words (control characters only) gives way to its fallback, as a missing one does.
    const attached = (m.attachments ?? []).flatMap((a) => [a.pretext, a.title, a.text && hasWords(a.text) ? a.text : a.fallback].filter((x): x is string => !!x && hasWords(x)));
    return { ...m, text: m.text && hasWords(m.text) ? m.text : attached.join("\n") };
  }

  /**
   * Files a complaint from a Slack message by running `complaint new
   * source=slack link=… author=…` through the core as the reacting user (so the
   * core checks the role and audits it), the message's text attached as written
   * (see {@link complaintInvocation}), and answers in the message's thread
   * (errors only to that user). A message cut to the limit is filed, and the
   * answer says so.
   */
  async fileComplaintFromMessage(src: ComplaintSource, reactor: { identity: string; user: string }): Promise<InvocationResult> {
    const { line, text, cutFrom } = complaintInvocation(src);
    let r = await this.invoke(reactor.identity, reactor.user, line, text);
    if (cutFrom !== undefined && r.outcome === "ok" && r.code !== "already_filed") {
      const { t, fmt } = await this.wordsFor(reactor.user);
      const note = t("slack.complaint.cut", { length: fmt.number(cutFrom), max: fmt.number(COMPLAINT_TEXT_MAX) });
      r = { ...r, reply: { ...r.reply, context: [...(r.reply.context ?? []), note] } };
    }
    try {
      await this.answerInThread(src.channel, src.ts, reactor.user, reactor.identity, r.reply);
    } catch (e) {
      // Filed all the same: the answer failing must not read as "not filed" (the message's claim
      // would be given back, and the next reaction file it twice). The reactor is told privately.
      this.log.warn("complaint filed; its answer in the thread failed", { channel: src.channel, ts: src.ts, error: e });
      const said = this.renderInThread(r.reply).text;
      await this.app.client.chat.postEphemeral({ channel: src.channel, user: reactor.user, thread_ts: src.ts, text: said }).catch(() => undefined);
    }
    return r;
  }

  /** Publishes App Home for a user: their role and the {@link HOME_SECTIONS} they may see. */
  async publishHome(team: string | undefined, user: string): Promise<void> {
    const identity = slackIdentity(team ?? "T0", user);
    const { t } = await this.wordsFor(user);
    const blocks: Record<string, unknown>[] = [{ type: "header", text: { type: "plain_text", text: t("slack.home.title") } }];
    for (const s of HOME_SECTIONS) {
      if (this.opts.core.resolve(s.line.split(/\s+/))?.cmd.name !== s.command) continue; // not installed yet
      // Not for this user's role: skipped, not tried (a refusal would be on the audit trail as theirs).
      if (!(await this.opts.core.mayRun({ identity }, s.command))) continue;
      const r = await this.invoke(identity, user, s.line);
      if (r.outcome !== "ok") continue; // not for this user's role
      blocks.push({ type: "divider" }, ...this.render(r.reply).blocks);
    }
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: t("slack.home.footer") }] });
    await this.app.client.views.publish({ user_id: user, view: { type: "home", blocks: blocks.slice(0, 100) as never } });
  }

  /**
   * Delivers an outbox message: to a channel, or to a user's DM
   * (conversations.open), with an image uploaded by files.uploadV2 in the
   * same message. Paced per channel; a 429 becomes a {@link RetryAfterError}.
   */
  async deliver(dest: Destination, reply: Reply): Promise<void> {
    try {
      // An alert queued for a Slack id stored in lower case by an older version (`c0123abcd`)
      // goes to the id as Slack writes it: as given, Slack would answer channel_not_found.
      const channel = dest.kind === "channel" ? routeChannel("slack", dest.channel) : await this.dmChannel(dest.identity);
      await this.post(channel, this.render(reply), reply.image);
    } catch (e) {
      // The channel or person cannot be reached as addressed: retrying cannot help.
      const error = (e as { data?: { error?: string } }).data?.error;
      if (error && SLACK_UNDELIVERABLE.has(error)) throw new UndeliverableError(`Slack error ${error}`);
      // The app's set-up (a scope, the bot's membership, its token): what to do goes with the
      // error, to the log and to `alerts list`, so the admin need not look the code up.
      const fix = setupFix(e, this.t);
      if (fix) throw new Error(`Slack error ${fix.code}: ${fix.fix}`, { cause: e });
      throw asRetryAfter(e) ?? e;
    }
  }

  /** Waits for the channel's next slot (about one message per second per channel). */
  private async pace(channel: string): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlot.get(channel) ?? 0);
    this.nextSlot.set(channel, at + this.gapMs);
    if (at > now) await this.sleep(at - now);
  }

  /**
   * Posts a message to a channel, paced: with an image, one files.uploadV2
   * that carries the message's blocks; else chat.postMessage. In a thread when
   * `threadTs` is given.
   */
  private async post(channel: string, msg: SlackMessage, image?: ReplyImage, threadTs?: string): Promise<void> {
    await this.pace(channel);
    if (image) await this.sendImage(image, channel, threadTs, msg);
    else await this.app.client.chat.postMessage({ channel, ...(threadTs !== undefined ? { thread_ts: threadTs } : {}), text: msg.text, blocks: msg.blocks });
  }

  /** The DM channel with a Slack identity (conversations.open, cached). */
  private async dmChannel(identity: string): Promise<string> {
    const cached = this.dms.get(identity);
    if (cached) return cached;
    const parsed = parseIdentity(identity);
    if (parsed?.platform !== "slack") throw new Error(`not a Slack identity: ${identity}`);
    const r = await this.app.client.conversations.open({ users: parsed.user });
    const id = r.channel?.id;
    if (!id) throw new Error(`conversations.open gave no channel for ${identity}`);
    this.dms.set(identity, id);
    return id;
  }

  /**
   * Sends a reply's image after its text (the chart of a digest asked for): when it cannot be
   * sent, the person is told (`tell`) rather than left to wonder where it went: what Slack refused
   * and how an admin fixes it (a scope the app lacks, a channel the bot is not in), or, for a
   * failure of ours, the usual reference to the log.
   */
  private async imageOrNote(img: ReplyImage, to: () => Promise<string>, userId: string, tell: (msg: SlackMessage) => Promise<unknown>): Promise<void> {
    try {
      await this.sendImage(img, await to());
    } catch (e) {
      await tell(noticeMessage(await this.imageFailure(e, userId)));
    }
  }

  /**
   * Why a reply's image was not sent, in the words of the person it was for (logged): what Slack
   * refused and how an admin fixes it, or, for a failure of ours, the usual reference to the log.
   */
  private async imageFailure(e: unknown, userId: string): Promise<string> {
    const { t } = await this.wordsFor(userId);
    const fix = setupFix(e, t);
    const ref = shortId(10);
    if (fix) this.log.warn("image not sent: Slack refused it", { ref, code: fix.code, fix: setupFix(e, this.t)?.fix, error: e });
    else this.log.error("image not sent", { ref, error: e });
    return fix ? t("slack.image.refused", { code: fix.code, fix: fix.fix }) : t("slack.image.failed", { error: t("error.generic", { ref }) });
  }

  /** Uploads a reply's image (files.uploadV2) into a channel, with the reply's blocks when given. */
  private async sendImage(img: ReplyImage, channel: string, threadTs?: string, msg?: SlackMessage): Promise<void> {
    await this.app.client.filesUploadV2({
      channel_id: channel,
      file: Buffer.from(img.data),
      filename: img.filename,
      title: img.alt || img.filename,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(msg ? { blocks: msg.blocks as never } : {}),
    } as never);
  }
}

/**
 * The command line of a mention: the words after the bot's own mention
 * (`hey <@UBOT> stock SKU-1` → `stock SKU-1`), or after a leading mention.
 */
export function mentionCommandLine(text: string, botUserId: string | undefined): string {
  const own = botUserId ? new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`).exec(text) : null;
  const rest = own ? text.slice(own.index + own[0].length) : text.replace(/^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/, "");
  // After the mention is cut (its <@…> markup is Slack's own, not escaped text).
  return unescapeSlack(rest.replace(/^[\s:,]+/, "")).trim();
}

/** A start-up error meaning Slack refused a token, as a {@link ConfigError} naming the variable; else null. */
function refusedToken(e: unknown, variable: string, expected: string): ConfigError | null {
  const err = e as { data?: { error?: string }; original?: { data?: { error?: string } }; message?: string };
  const code = String(err?.data?.error ?? err?.original?.data?.error ?? "");
  if (!/invalid_auth|not_authed|account_inactive|token_revoked|token_expired|not_allowed_token_type/.test(`${code} ${String(err?.message)}`)) return null;
  return new ConfigError([`${variable}: Slack refused the token (${code || "invalid_auth"}); expected ${expected}`]);
}

function teamOf(body: Body): string | undefined {
  const t = body.team_id ?? (body.team as { id?: string } | undefined)?.id;
  return typeof t === "string" && t ? t : undefined;
}

/** `<@U…>` for a Slack identity, else the identity itself. */
function mention(identity: string): string {
  const id = parseIdentity(identity);
  return id?.platform === "slack" ? `<@${id.user}>` : identity;
}

/** The adapter's own error for a reacted-to message it cannot find (deleted, or out of its sight). */
class MessageNotFoundError extends Error {
  constructor(channel: string, ts: string) {
    super(`message ${channel}/${ts} not found`);
  }
}

/**
 * The error code of a Web API call Slack refused (`not_in_channel`, `channel_not_found`…), which
 * a person may be shown; undefined for any other error (ours, the network's), which may not.
 */
function slackErrorCode(e: unknown): string | undefined {
  const err = e as { code?: string; data?: { error?: unknown } } | null | undefined;
  const code = err?.code === "slack_webapi_platform_error" ? err.data?.error : undefined;
  return typeof code === "string" && /^[a-z0-9_]{1,100}$/.test(code) ? code : undefined;
}

/** Error codes of a bot token Slack no longer takes (revoked, the app uninstalled, a wrong token). */
const TOKEN_REFUSED = new Set(["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"]);

/**
 * What an admin does about a Web API refusal that comes from how the app is set up, not from the
 * message: a scope the installed app lacks (Slack names it, `needed`), a channel the bot is not
 * in or cannot see, a bot token Slack no longer takes. Undefined for any other error.
 */
function setupFix(e: unknown, t: Translate): { code: string; fix: string } | undefined {
  const code = slackErrorCode(e);
  if (!code) return undefined;
  if (code === "missing_scope") {
    const needed = (e as { data?: { needed?: unknown } }).data?.needed;
    return { code, fix: t("slack.fix.missing_scope", { scope: typeof needed === "string" && /^[a-z:._,-]{1,200}$/.test(needed) ? needed : "?" }) };
  }
  if (code === "not_in_channel" || code === "channel_not_found") return { code, fix: t(`slack.fix.${code}`) };
  if (TOKEN_REFUSED.has(code)) return { code, fix: t("slack.fix.token") };
  return undefined;
}

/** A Web API rate-limit error as a {@link RetryAfterError}, else null. */
function asRetryAfter(e: unknown): RetryAfterError | null {
  const err = e as { code?: string; retryAfter?: number };
  if (err?.code === "slack_webapi_rate_limited_error" && typeof err.retryAfter === "number") return new RetryAfterError(err.retryAfter * 1000);
  return null;
}

/** A running Slack adapter with its outbox dispatch loop. */
export interface RunningSlack {
  adapter: SlackAdapter;
  port?: number;
  stop(): Promise<void>;
}

/**
 * Starts the Slack adapter and a loop that delivers the outbox's Slack
 * messages every `everyMs` (one round at a time).
 */
export async function startSlack(opts: SlackAdapterOptions & { everyMs?: number }): Promise<RunningSlack> {
  const adapter = new SlackAdapter(opts);
  const { port } = await adapter.start();
  const stopLoop = opts.services.outbox.startLoop(adapter, opts.everyMs ?? 3000);
  return {
    adapter,
    ...(port !== undefined ? { port } : {}),
    stop: async () => {
      stopLoop();
      await adapter.stop();
    },
  };
}
