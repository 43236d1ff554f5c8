import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Connection } from "mongoose";
import { DiscordAdapter } from "../adapters/discord/discord.adapter.js";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { ShellAdapter } from "../adapters/shell/shell.adapter.js";
import { startSlack, type RunningSlack } from "../adapters/slack/slack.adapter.js";
import { repairOrderEffects } from "./services/order-effects.repair.js";
import { checkShopSettings, createApp, jobsOnce, ShopSettingsDeniedError } from "./app.js";
import type { OutboxService } from "./services/outbox.service.js";
import { ConfigError, loadConfig } from "./config.js";
import { systemClock } from "./core/clock.js";
import { parseIdentity, shellIdentity } from "./core/identity.js";
import { createLogger, type Logger } from "./core/logger.js";
import { translator, type Translate } from "./core/messages.js";
import { CommandLoadError } from "./core/registry.js";
import { JobLoadError, Scheduler } from "./core/scheduler.js";
import { localDay } from "./core/format.js";
import { seedDemo } from "./seed/demo-data.js";
import { DatabaseStartupError, DatabaseUnavailableError, openDatabase, reachServer, uriProblem, uriSelectionTimeoutMs } from "./store/db-server.js";
import { connect, type Store } from "./store/models.js";
import { clip } from "./core/reply.js";
import { shortId } from "./core/ids.js";

/** Command-line options of `npm start` / `npm run shell`. */
interface Cli {
  shell: boolean;
  command?: string;
  as?: string;
}

const USAGE = 'Usage: npm start | npm run shell -- [-c "<command>"] [--as <identity>]\n';

/** A wrong command-line option: its message and the usage, exit 64 (EX_USAGE), no stack. */
class UsageError extends Error {}

/** Signals this close together are one: npm forwards the terminal's Ctrl-C to a process that got it already. */
const DOUBLE_SIGNAL_MS = 1_000;
/** How long a stopping bot lets running jobs finish before it interrupts them (within a 30 s SIGTERM grace period). */
const JOB_GRACE_MS = 10_000;

function parseCli(argv: string[]): Cli {
  const cli: Cli = { shell: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "shell") cli.shell = true;
    else if (a === "-c" || a === "--command") {
      const v = argv[++i];
      if (v === undefined || !v.trim()) throw new UsageError(`${a} needs a command, e.g. -c "stock SKU-1001"`);
      if (cli.command !== undefined) throw new UsageError(`${a} is given twice; give one command (or pipe several, one a line)`);
      cli.command = v;
    } else if (a === "--as") {
      const v = argv[++i];
      if (v === undefined || !parseIdentity(v)) throw new UsageError(`--as needs an identity such as shell:bob, slack:T0123:U0456 or discord:123456789${v === undefined ? "" : ` (got "${v}")`}`);
      if (cli.as !== undefined) throw new UsageError(`--as is given twice; act as one identity`);
      cli.as = v;
    } else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE + "  no -c and a terminal: interactive prompt; no -c and piped input: runs each line in order.\n");
      process.exit(0);
    } else throw new UsageError(`unknown option ${a}`);
  }
  return cli;
}

/**
 * A chat platform's start that failed for another reason than a refused token (already a
 * {@link ConfigError}): a network that does not reach it, as a start-up problem (exit 78) that
 * names where it was reached and what to check; the stack goes to the log only.
 */
function unreachable(e: unknown, platform: string, url: string, variable: string, logger: Logger): Error {
  if (e instanceof ConfigError) return e;
  logger.error(`${platform} start failed`, { error: e });
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const why = [(e as Error)?.message?.split("\n")[0], cause?.code ?? cause?.message].filter(Boolean).join(": ");
  return new ConfigError([`${platform}: cannot reach ${url} (${why || String(e)}). Check the network, a proxy or firewall, and ${variable} if it is set; the bot did not start.`]);
}

/**
 * The start-up line of one's own shop on the embedded server (SHOPOPS_DEMO=false), as it is:
 * empty; holding the demo shop's data an earlier SHOPOPS_SEED_DEMO or seed:demo loaded (when,
 * and how to start clean); or its products and orders.
 */
async function ownShopLine(store: Store, kind: string, timeZone: string, t: Translate): Promise<string> {
  const [products, orders, demo] = await Promise.all([store.products.estimatedDocumentCount(), store.orders.estimatedDocumentCount(), store.meta.findOne({ _id: "demo" }).lean()]);
  if (products === 0 && orders === 0) return t("startup.db.own", { kind });
  const seededAt = (demo?.value as { seededAt?: unknown } | undefined)?.seededAt;
  if (seededAt instanceof Date) return t("startup.db.own_demo", { kind, day: localDay(seededAt, timeZone), products, orders });
  return t("startup.db.own_data", { kind, products, orders });
}

/** The start-up line of the embedded demo shop seeded by an earlier run: kept, since when, and how to start afresh. */
async function demoKeptLine(store: Store, t: Translate): Promise<string> {
  const [products, orders, demo] = await Promise.all([store.products.estimatedDocumentCount(), store.orders.estimatedDocumentCount(), store.meta.findOne({ _id: "demo" }).lean()]);
  const endDay = (demo?.value as { endDay?: unknown } | undefined)?.endDay;
  return t(typeof endDay === "string" ? "startup.demo_kept" : "startup.demo_kept_undated", { products, orders, endDay: String(endDay) });
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  const config = loadConfig();
  // On a shop's database, the shell acts only as shell identities: posing as a Slack or Discord
  // user would put their name on the audit trail (which names the person at the terminal as
  // `via` anyway). A wrong option (exit 64, with the usage), said before any database is opened.
  if (cli.as && (config.mongodbUri || !config.demo) && parseIdentity(cli.as)!.platform !== "shell") {
    throw new UsageError(`--as ${cli.as}: on a shop's database (MONGODB_URI, or SHOPOPS_DEMO=false) the shell acts only as shell identities (shell:<name>); another platform's identity works only on the embedded demo database`);
  }
  const logger = createLogger(config.logLevel);
  const t = translator(config.locale);
  const say = (s: string) => process.stderr.write(`shopops: ${s}\n`);

  const db = await openDatabase(config, logger);
  let conn: Connection | undefined;
  const stopping = new AbortController();
  let slack: RunningSlack | undefined;
  let discord: DiscordAdapter | undefined;
  let http: RunningHttpServer | undefined;
  let scheduler: Scheduler | undefined;
  let stopDispatch: (() => void) | undefined;
  let outbox: OutboxService | undefined;
  const shutdown = async () => {
    // Not a silent wait: the jobs it waits for, how long they have run, and how to stop now.
    const now = Date.now();
    const runs = (scheduler?.running() ?? []).map((r) => t("jobs.shutdown.run", { job: r.job, seconds: Math.max(0, Math.round((now - r.since.getTime()) / 1000)) }));
    if (runs.length) say(t("jobs.shutdown.waiting", { jobs: runs.join(t("jobs.shutdown.sep")), seconds: JOB_GRACE_MS / 1000 }));
    await http?.close().catch(() => {});
    stopDispatch?.();
    // First no new claims, and the deliveries under way finished and recorded while the
    // adapters' clients still work (discord.js forgets its token once destroyed); then the
    // adapters; then running jobs finish or are interrupted and recorded, before the connection
    // closes (rather than redelivered or left to their leases).
    await outbox?.drain(5_000).catch(() => {});
    await slack?.stop().catch(() => {});
    await discord?.stop().catch(() => {});
    if (scheduler) {
      const stopped = await scheduler.stop(JOB_GRACE_MS).catch(() => undefined);
      if (stopped?.interrupted.length) say(t("jobs.shutdown.interrupted", { jobs: stopped.interrupted.join(t("jobs.shutdown.sep")) }));
    }
    await conn?.close().catch(() => {});
    await db.server?.stop().catch(() => {});
  };
  // A script of commands (-c, piped input) stopped by a signal did not finish: it exits 130
  // (SIGINT) or 143 (SIGTERM), so a caller checking $? knows, even during start-up; one that had
  // finished keeps its own code. A bot stopping is a clean exit.
  const script = cli.command !== undefined || (cli.shell && process.stdin.isTTY !== true);
  let finished = false;
  /** The script's run (its command under way), once it has started. */
  let running: Promise<unknown> | undefined;
  /** The first signal and when it came; a second one stops at once. */
  let first: { sig: string; at: number } | undefined;
  /** Ends the wait for the command under way (a second signal). */
  let stopWaiting: (() => void) | undefined;
  const onSignal = (sig: string) => {
    // The bot leaving after its input ended (Ctrl-D, `exit`), waiting for a job: a Ctrl-C stops it at once.
    if (!first && finished && !script) process.exit(sig === "SIGINT" ? 130 : 143);
    if (first) {
      // One Ctrl-C can arrive twice: from the terminal and forwarded by npm (`npm start`,
      // `npm run shell`). Within a second it is the same key press, not a second one.
      if (Date.now() - first.at < DOUBLE_SIGNAL_MS) return;
      // A second signal: no more waiting for the command under way, or for the shutdown.
      if (stopWaiting) return stopWaiting();
      process.exit(sig === "SIGINT" ? 130 : 143);
    }
    first = { sig, at: Date.now() };
    logger.info("shutting down", { signal: sig });
    stopping.abort(); // no further line of a script starts
    if (finished) return;
    // The command under way finishes first (it may be a write: cut off, it could land and be
    // reported failed), up to 10 s; a second signal stops at once.
    const waiting = script && running;
    const again = waiting ? new Promise<void>((resolve) => (stopWaiting = resolve)) : Promise.resolve();
    const current = waiting ? Promise.race([running!.then(() => undefined, () => undefined), again, sleep(10_000)]) : Promise.resolve();
    void current
      .then(() => (stopWaiting = undefined))
      .then(shutdown)
      .then(() => process.exit(script ? (sig === "SIGINT" ? 130 : 143) : 0));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));

  try {
    // MONGODB_URI's server is given MONGODB_CONNECT_TIMEOUT_SECONDS (or the URI's own
    // serverSelectionTimeoutMS) to answer: a mistyped host is said in seconds, not after the
    // driver's 30 s, with a line saying what it waits for meanwhile.
    const seconds = (uriSelectionTimeoutMs(db.uri) ?? config.mongodbConnectTimeoutMs) / 1000;
    try {
      if (!db.server) await reachServer(db.uri, { timeoutMs: config.mongodbConnectTimeoutMs, onSlow: () => say(t("startup.db.waiting", { where: db.where, seconds })) });
      conn = await connect(db.uri, db.dbName);
    } catch (e) {
      if (db.server) throw e;
      // MONGODB_URI set but unusable: a configuration problem, said plainly (the URI's
      // credentials are never repeated: `where` has none).
      throw new ConfigError([uriProblem(e, db.where, seconds)]);
    }
    const app = await createApp({ config, conn, clock: systemClock, logger });
    outbox = app.services.outbox;
    const operator = shellIdentity(); // the person at the terminal
    const me = cli.as ?? operator;
    // The embedded demo shop; else a shop's own database (MONGODB_URI, or embedded with SHOPOPS_DEMO=false).
    const embedded = db.demo;
    // A shop's database keeps one time zone and currency, whichever process writes to it. Changing
    // them (SHOP_SETTINGS_CHANGE) is audited; made by the person at a terminal (a shell, a script,
    // any start with a terminal) it needs an admin; a bot started without one (the chat or HTTP
    // adapters, no shell: a deployment) makes it as `system`, its settings being the deployer's.
    const headlessStart = !cli.shell && cli.command === undefined && process.stdin.isTTY !== true && (config.slack !== undefined || config.discord !== undefined || config.http.port !== undefined);
    try {
      if (!embedded && (await checkShopSettings(app.store, config, { operator: headlessStart ? null : operator })) === "changed") {
        logger.warn("SHOP_SETTINGS_CHANGE: the database's time zone and currency are now this process's", { timeZone: config.timeZone, currency: config.currency });
      }
    } catch (e) {
      if (!(e instanceof ShopSettingsDeniedError)) throw e;
      // Refused as a permission (exit 1, audited `denied`), as --as is.
      say(t("startup.settings_not_admin", { from: e.from, to: e.to, operator: e.operator, role: t(`role.name.${e.role}`) }));
      await shutdown();
      return 1;
    }
    // On a shop's database acting as someone else is an admin's tool: anyone at a terminal could
    // otherwise act as the shop's admins (and approve their own refunds as a manager). Refused as
    // a permission (exit 1), on the audit trail like any refusal.
    if (cli.as && cli.as !== operator && !embedded) {
      const role = await app.services.identity.roleOf(operator);
      // What was tried, as far as it is known before anything runs: the -c command (a piped
      // script is not read).
      const tried = cli.command !== undefined ? clip(cli.command.trim(), config.maxInputLength) : "(commands piped in: not read)";
      if (await app.services.audit.refusedBelow("admin", role, { operator, actor: cli.as }, { command: "--as", args: `${cli.as} ${tried}` })) {
        say(t("startup.as_not_admin", { identity: cli.as, operator, role: t(`role.name.${role}`) }));
        await shutdown();
        return 1;
      }
    }
    const lines = [embedded ? t("startup.db.embedded", { kind: db.where }) : db.server ? await ownShopLine(app.store, db.where, config.timeZone, t) : t("startup.db.uri", { where: db.where })];
    if (!embedded && db.server && config.bootstrapAdmins.length) lines.push(t("startup.admins_env"));
    if (embedded) {
      // A newcomer on the demo database can try every command.
      app.services.identity.addBootstrapAdmin(operator);
      if (!cli.as) lines.push(t("startup.admin", { identity: me }));
    }
    // An empty database (no products, no orders: a shop's orders may come in before its products).
    if ((embedded || config.seedDemo) && (await app.store.products.estimatedDocumentCount()) === 0 && !(await app.store.orders.exists({}))) {
      const endDay = localDay(new Date(), config.timeZone);
      // On a shop's database SHOPOPS_SEED_DEMO is `npm run seed:demo -- --yes` (src/seed-demo.ts):
      // from a terminal an admin's only, and audited; a bot started without one (a deployment)
      // seeds as `system`, its variables being the deployer's.
      const run = `(seed ${config.demoSeed}, to ${endDay}, ${db.whereEn})`;
      let auditRef: string | undefined;
      let note = "";
      if (!embedded) {
        const by = headlessStart
          ? { actor: "system", platform: "system", note: ` (SHOPOPS_SEED_DEMO at a start without a terminal, OS user ${operator.slice("shell:".length)})` }
          : { actor: operator, platform: "shell", note: "" };
        if (!headlessStart) {
          const role = await app.services.identity.roleOf(operator);
          if (await app.services.audit.refusedBelow("admin", role, { operator }, { command: "seed:demo", args: `SHOPOPS_SEED_DEMO=true ${run}` })) {
            say(t("startup.seed_not_admin", { operator, role: t(`role.name.${role}`) }));
            await shutdown();
            return 1;
          }
        }
        // Written before anything is loaded, completed when the seed ends (as seed:demo's entry).
        auditRef = `seed-${shortId(10)}`;
        await app.services.audit.record({
          ref: auditRef,
          at: new Date(),
          actor: by.actor,
          platform: by.platform,
          command: "seed:demo",
          args: `loading the demo shop ${run}${by.note}`,
          outcome: "error",
          code: "incomplete",
          message: "the seed started and did not finish (stopped or failed before its end was recorded): part of the demo data may be loaded",
        });
        note = by.note;
      }
      // Loading takes up to a minute or two on the embedded FerretDB: said first, so a first start is not silent meanwhile.
      say(t("startup.seeding"));
      try {
        const r = await seedDemo(app.store, { seed: config.demoSeed, endDay, timeZone: config.timeZone, currency: config.currency, until: new Date() });
        if (auditRef) {
          await app.store.audit.updateOne({ _id: auditRef }, { $set: { outcome: "ok", args: `loaded ${r.products} products, ${r.orders} orders ${run}${note}` }, $unset: { code: 1, message: 1 } });
          if (db.server) lines[0] = t("startup.db.own_seeded", { kind: db.where });
        }
        lines.push(t("startup.seeded", { products: r.products, orders: r.orders }));
      } catch (e) {
        if (auditRef) {
          await app.store.audit
            .updateOne({ _id: auditRef }, { $set: { outcome: "error", code: "failed", message: `failed: ${String((e as Error)?.message ?? e).split("\n")[0]!.slice(0, 250)}` } })
            .catch(() => {});
        }
        throw e;
      }
    } else if (embedded) {
      // A restart of the demo shop: its data, the changes made in it included, is kept. Said, with
      // the day its orders end (they do not grow by themselves) and how to load it afresh.
      lines.push(await demoKeptLine(app.store, t));
    }
    // Adapters run whenever their settings are present, except for one-shot shell runs
    // (-c, piped input), which must not open a second connection or port next to a running bot.
    const interactive = cli.command === undefined && process.stdin.isTTY === true;
    if (!script) {
      // Effects a crashed run left undone are finished before any new order can arrive.
      const now = new Date();
      const r = await repairOrderEffects(app.services, now, now, 0);
      if (r?.repaired.length) logger.warn("finished order effects left undone", { orders: r.repaired.slice(0, 50), count: r.repaired.length });
    }
    // Slack in HTTP mode on the HTTP server's port: one server, `/slack/events` handed to Bolt.
    const sharedSlack = config.slack !== undefined && !config.slack.appToken && config.http.port !== undefined && config.http.port === config.slack.port;
    if (config.slack && !script) {
      slack = await startSlack({ core: app.core, services: app.services, config, logger, ...(sharedSlack ? { listen: "shared" as const } : {}) }).catch((e: unknown) => {
        throw unreachable(e, "Slack", config.slack?.apiUrl ?? "https://slack.com/api/", "SLACK_API_URL", logger);
      });
    }
    // The HTTP server: ingestion API and health checks.
    if (config.http.port !== undefined && !script) {
      const slackListener = sharedSlack ? slack?.adapter.requestListener : undefined;
      http = await startHttpServer({ services: app.services, config, logger, ...(slackListener ? { slack: slackListener } : {}) }, config.http.port, config.http.host).catch((e: NodeJS.ErrnoException) => {
        // Another shopops (or program) on the port: said plainly, not as a stack trace.
        if (e.code === "EADDRINUSE") throw new ConfigError([`HTTP_PORT: ${config.http.host}:${config.http.port} is in use (is the bot already running there?). Choose another port, or run one command beside the bot with npm run shell -- -c "<command>".`]);
        throw e;
      });
      lines.push(t("ingest.startup.http", { host: config.http.host, port: http.port }));
    }
    say(lines.join(t("startup.sep")));
    // A shop's database nobody administers: no SHOPOPS_ADMINS, no stored admin, no Discord role
    // mapped to admin. Every role change would be refused ("ask an admin"): said now, with the fix.
    if (!embedded && !config.bootstrapAdmins.length && !Object.values(config.discord?.roleMap ?? {}).includes("admin") && !(await app.store.roles.exists({ role: "admin" }))) {
      say(t("startup.no_admin", { identity: operator }));
    }
    if (slack) {
      const port = sharedSlack ? http?.port : slack.port;
      say(port !== undefined ? t(sharedSlack ? "slack.startup.shared" : "slack.startup.http", { port }) : t("slack.startup.socket"));
    }
    if (config.discord && !script) {
      discord = new DiscordAdapter({ core: app.core, services: app.services, commands: app.commands, config, discord: config.discord, logger });
      const d = await discord.start().catch((e: unknown) => {
        throw unreachable(e, "Discord", config.discord?.apiUrl ?? "https://discord.com/api", "DISCORD_API_URL", logger);
      });
      say(t("discord.startup", { user: d.user, commands: t(`discord.startup.${d.registration}`) }));
    }
    // Without `npm run shell`, the adapters are the bot: no prompt (stdin is not read), so the
    // terminal is told, and alerts routed to the shell are not "running" here.
    const headless = (slack !== undefined || discord !== undefined || http !== undefined) && !cli.shell;
    const prompt = interactive && !headless;
    if (headless && interactive) say(t("startup.headless"));
    const shell = new ShellAdapter({
      core: app.core,
      identity: me,
      ...(cli.as && cli.as !== operator ? { via: operator } : {}),
      outDir: path.join(config.dataDir, "out"),
      database: conn.name, // in the charts' file names: the demo's and a shop's never share one
      input: process.stdin,
      output: process.stdout,
      interactive: prompt,
      locale: config.locale,
      logger,
      // Queued shell notifications and alerts are for the operator at the prompt (or the bot):
      // a script (-c, piped input) must not print them into its output and mark them sent.
      ...(script ? {} : { outbox: app.services.outbox }),
    });
    // A long-running bot (interactive shell or chat/HTTP adapters) runs the scheduled jobs;
    // `shell -c` one-shots and piped scripts do not.
    const jobs = await jobsOnce(config); // a malformed job file stops start-up, like a command file
    if (!script && config.jobsEnabled) {
      scheduler = new Scheduler({ jobs, services: app.services, runs: app.services.jobs, clock: systemClock, config, logger });
      scheduler.start();
    }
    if (prompt) {
      // Alerts routed to the shell are printed as they fall due.
      stopDispatch = app.services.outbox.startLoop(shell, 5_000);
    }
    if (!script) {
      // Routes to a platform this process does not run would queue alerts nobody receives.
      const running = new Set<string>([...(prompt ? ["shell"] : []), ...(slack ? ["slack"] : []), ...(discord ? ["discord"] : [])]);
      // `alerts route` to a platform not among these warns as this does.
      app.services.alerts.setRunning(running, http !== undefined);
      const routes = await app.services.alerts.list();
      const idle = routes.filter((r) => !r.off && !running.has(r.platform));
      if (idle.length) say(t("startup.idle_routes", { routes: idle.map((r) => `${r.type}:${r.platform}:${r.channel}`).join(", "), running: [...running].join(", ") || t(http ? "startup.no_chat" : "startup.no_platform") }));
      // Slack channels by name: accepted (text alerts arrive), but no digest chart, nor alerts after a rename.
      const named = await app.services.alerts.slackNameWarning(t, routes);
      if (named) say(named);
    }
    // Without `npm run shell`, the adapters are the bot: run until SIGINT/SIGTERM.
    if (headless) await new Promise<never>(() => {});

    running = cli.command !== undefined ? shell.runOne(cli.command) : shell.runLines(stopping.signal);
    const code = (await running) as number;
    if (stopping.signal.aborted) return new Promise<never>(() => {}); // the signal's shutdown sets the exit code
    finished = true;
    await shutdown();
    return code;
  } catch (e) {
    await shutdown();
    throw e;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`shopops: ${e.message}\n${USAGE}`);
      process.exit(64);
    }
    if (e instanceof ConfigError || e instanceof CommandLoadError || e instanceof JobLoadError || e instanceof DatabaseUnavailableError || e instanceof DatabaseStartupError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`shopops failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
