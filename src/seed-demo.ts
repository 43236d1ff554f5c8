/**
 * `npm run seed:demo [-- [--reset] [--yes]] [--seed N] [--end-day YYYY-MM-DD]`
 *
 * Loads the deterministic demo shop (products and 90 days of orders) into the configured database:
 * MONGODB_URI when set, else the embedded database under SHOPOPS_DATA_DIR. A shop's database
 * (MONGODB_URI, or SHOPOPS_DEMO=false) takes it only with --yes, from an admin, audited.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { isDay, localDay } from "./core/format.js";
import { createLogger } from "./core/logger.js";
import { systemClock } from "./core/clock.js";
import { shellIdentity } from "./core/identity.js";
import { shortId } from "./core/ids.js";
import { translator } from "./core/messages.js";
import { DatabaseStartupError, DatabaseUnavailableError, openDatabase, reachServer, uriProblem, uriSelectionTimeoutMs } from "./store/db-server.js";
import { connect } from "./store/models.js";
import { createBackend } from "./app.js";
import { DemoDataExistsError, RESET_DELETES, describeResetCounts, seedDemo } from "./seed/demo-data.js";

const USAGE = `Usage: npm run seed:demo -- [--reset] [--yes] [--seed N] [--end-day YYYY-MM-DD]
  --reset               delete ${RESET_DELETES} first
  --yes                 confirm loading (and --reset) on a shop's database (MONGODB_URI, or SHOPOPS_DEMO=false)
  --seed N              PRNG seed (default DEMO_SEED, 42)
  --end-day YYYY-MM-DD  last day of order history (default: today in SHOP_TIMEZONE)`;

/** What a seed writes besides the orders, in words (the --yes message). */
const SEED_LOADS = "the demo's products, 90 days of orders, complaints, refund requests and coupons, and the support role for its agents (shell:demo-*)";

/** Exit codes as the bot's: a wrong option (64, with the usage), a configuration or start-up problem (78), anything else 1. */
const EX_USAGE = 64;
const EX_CONFIG = 78;

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
  process.exit(code);
}

async function main(): Promise<void> {
  let values: { reset?: boolean; yes?: boolean; seed?: string; "end-day"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        reset: { type: "boolean" },
        yes: { type: "boolean" },
        seed: { type: "string" },
        "end-day": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`, EX_USAGE);
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message, EX_CONFIG);
    throw e;
  }
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);

  const seed = values.seed === undefined ? config.demoSeed : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 1 || seed > 2 ** 31 - 1) fail(`--seed: expected a whole number from 1 to ${2 ** 31 - 1}, got "${values.seed}"\n${USAGE}`, EX_USAGE);
  const now = new Date();
  const endDay = values["end-day"] ?? localDay(now, config.timeZone);
  if (!isDay(endDay)) fail(`--end-day: expected a day as YYYY-MM-DD, got "${endDay}"\n${USAGE}`, EX_USAGE);

  // A shop's database (not the embedded demo's): --reset deletes its data for good, and a seed
  // fills it with a made-up shop (an empty one too), so either is confirmed with --yes; refused
  // before the database is opened.
  if (!values.yes && (config.mongodbUri || !config.demo)) {
    const which = config.mongodbUri ? "the database of MONGODB_URI" : "your own shop's embedded database (SHOPOPS_DEMO=false)";
    if (values.reset) {
      fail(
        `--reset would delete ${RESET_DELETES} in ${which}, a shop's database, not the demo's. ` +
          "Nothing was changed. If that is what you want, add --yes (npm run seed:demo -- --reset --yes); to rebuild only the embedded demo shop, unset MONGODB_URI and SHOPOPS_DEMO.",
        EX_USAGE,
      );
    }
    fail(
      `seed:demo would load ${SEED_LOADS} into ${which}, a shop's database, not the demo's. ` +
        "Nothing was changed. If that is what you want, add --yes (npm run seed:demo -- --yes); to build only the embedded demo shop, unset MONGODB_URI and SHOPOPS_DEMO.",
      EX_USAGE,
    );
  }

  let opened: Awaited<ReturnType<typeof openDatabase>>;
  try {
    opened = await openDatabase(config, logger);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DatabaseUnavailableError || e instanceof DatabaseStartupError) fail(e.message, EX_CONFIG);
    throw e;
  }
  const { uri, server, whereEn: where, dbName } = opened; // its lines and audit entries are in English

  const started = performance.now();
  let exitCode = 0;
  // As start-up (src/main.ts): MONGODB_URI's server is given MONGODB_CONNECT_TIMEOUT_SECONDS (or
  // the URI's own serverSelectionTimeoutMS) to answer, not the driver's 30 s, and after 3 s the
  // run says what it waits for.
  const seconds = (uriSelectionTimeoutMs(uri) ?? config.mongodbConnectTimeoutMs) / 1000;
  let conn: Awaited<ReturnType<typeof connect>>;
  try {
    if (!server) await reachServer(uri, { timeoutMs: config.mongodbConnectTimeoutMs, onSlow: () => process.stderr.write(`seed:demo: ${translator(config.locale)("startup.db.waiting", { where, seconds })}\n`) });
    conn = await connect(uri, dbName);
  } catch (e) {
    await server?.stop().catch(() => {});
    // As the bot and the import say it: a start-up problem (78) naming the address, never the
    // URI's credentials (`where` has none).
    const why = (e as Error)?.message?.split("\n")[0] ?? String(e);
    if (server) fail(`seed:demo: cannot connect to the embedded database (${where}): ${why}. Nothing was changed.`, EX_CONFIG);
    fail(new ConfigError([`${uriProblem(e, where, seconds)} Nothing was changed.`]).message, EX_CONFIG);
  }
  // A reset deletes a shop's data for good: it is audited (on any database). On a shop's database
  // any seed (a reset, or loading the demo into it) is an admin's at the terminal (SHOPOPS_ADMINS
  // or a stored admin role), as only an admin may act as someone else there (src/main.ts, --as),
  // and audited.
  const operator = shellIdentity();
  const command = values.reset ? "seed:demo --reset" : "seed:demo";
  // What the trail shows first (its table cuts the rest): the counts; then the data and the database.
  const run = `(seed ${seed}, to ${endDay}, ${where})`;
  let auditRef: string | undefined;
  try {
    const { store, services } = await createBackend({ config, conn, clock: systemClock, logger });
    if (!opened.demo) {
      const role = await services.identity.roleOf(operator);
      if (await services.audit.refusedBelow("admin", role, { operator }, { command, args: `${values.yes ? "--yes " : ""}${run}` })) {
        process.stderr.write(
          `${command} on a shop's database needs the admin role (SHOPOPS_ADMINS, or granted with role grant); you (${operator}) are ${role}. Nothing was ${values.reset ? "deleted" : "changed"}. Ask an admin to run it.\n`,
        );
        process.exitCode = 1;
        return; // the connection is closed below
      }
      if (!values.reset) {
        // Written before anything is loaded, completed when the run ends (as a reset's entry).
        auditRef = `seed-${shortId(10)}`;
        await services.audit.record({
          ref: auditRef,
          at: new Date(),
          actor: operator,
          platform: "shell",
          command,
          args: `loading the demo shop ${run}`,
          outcome: "error",
          code: "incomplete",
          message: "the seed started and did not finish (stopped or failed before its end was recorded): part of the demo data may be loaded",
        });
      }
    }
    const r = await seedDemo(store, {
      seed,
      endDay,
      timeZone: config.timeZone,
      currency: config.currency,
      // Nothing after the present: when endDay is today, the history stops now.
      until: now,
      ...(values.reset
        ? {
            reset: true,
            // Written before anything is deleted: a run cut short still leaves its trace
            // (outcome error, code incomplete); the result replaces it when the run ends.
            onReset: async (toDelete) => {
              auditRef = `seed-reset-${shortId(10)}`;
              await services.audit.record({
                ref: auditRef,
                at: new Date(),
                actor: operator,
                platform: "shell",
                command: "seed:demo --reset",
                args: `deleting ${describeResetCounts(toDelete)} ${run}`,
                outcome: "error",
                code: "incomplete",
                message: "the reset started and did not finish (stopped or failed before its end was recorded): data may be deleted and the demo data not loaded",
              });
            },
          }
        : {}),
    });
    if (auditRef) {
      const loaded = `loaded ${r.products} products, ${r.orders} orders ${run}`;
      await store.audit.updateOne(
        { _id: auditRef },
        { $set: { outcome: "ok", args: r.deleted ? `deleted ${describeResetCounts(r.deleted)}; ${loaded}` : loaded }, $unset: { code: 1, message: 1 } },
      );
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `Seeded demo data: ${r.products} products, ${r.orders} orders (seed ${seed}, 90 days to ${endDay}, ${config.timeZone}, ${config.currency}) ` +
        `into ${conn.name} on ${where} in ${secs} s.\n`,
    );
  } catch (e) {
    if (auditRef) {
      await conn
        .collection("audit")
        .updateOne({ _id: auditRef as never }, { $set: { outcome: "error", code: "failed", message: `failed: ${String((e as Error)?.message ?? e).split("\n")[0]!.slice(0, 250)}` } })
        .catch(() => {});
    }
    if (!(e instanceof DemoDataExistsError)) throw e;
    process.stderr.write(`${e.message}\n`);
    exitCode = 1;
  } finally {
    await conn.close().catch(() => {});
    await server?.stop(); // does nothing when another process runs the server
  }
  process.exitCode = exitCode;
}

main().catch((e: unknown) => {
  fail(`seed:demo failed: ${e instanceof Error ? e.message : String(e)}`);
});
