/**
 * `npm run seed:demo [-- --reset [--yes]] [--seed N] [--end-day YYYY-MM-DD]`
 *
 * Loads the deterministic demo shop (products and 90 days of orders) into the configured database:
 * MONGODB_URI when set, else the embedded database under SHOPOPS_DATA_DIR.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { isDay, localDay } from "./core/format.js";
import { createLogger } from "./core/logger.js";
import { DatabaseStartupError, DatabaseUnavailableError, openDatabase } from "./store/db-server.js";
import { connect, createStore, ensureIndexes } from "./store/models.js";
import { DemoDataExistsError, RESET_DELETES, seedDemo } from "./seed/demo-data.js";

const USAGE = `Usage: npm run seed:demo -- [--reset [--yes]] [--seed N] [--end-day YYYY-MM-DD]
  --reset               delete ${RESET_DELETES} first
  --yes                 confirm --reset on a shop's database (MONGODB_URI, or SHOPOPS_DEMO=false)
  --seed N              PRNG seed (default DEMO_SEED, 42)
  --end-day YYYY-MM-DD  last day of order history (default: today in SHOP_TIMEZONE)`;

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

  // A shop's database (not the embedded demo's): --reset deletes its data for good, so it is
  // confirmed with --yes; refused before the database is opened.
  if (values.reset && !values.yes && (config.mongodbUri || !config.demo)) {
    const which = config.mongodbUri ? "the database of MONGODB_URI" : "your own shop's embedded database (SHOPOPS_DEMO=false)";
    fail(
      `--reset would delete ${RESET_DELETES} in ${which}, a shop's database, not the demo's. ` +
        "Nothing was changed. If that is what you want, add --yes (npm run seed:demo -- --reset --yes); to rebuild only the embedded demo shop, unset MONGODB_URI and SHOPOPS_DEMO.",
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
  const { uri, server, where, dbName } = opened;

  const started = performance.now();
  let exitCode = 0;
  const conn = await connect(uri, dbName);
  try {
    const store = createStore(conn);
    await ensureIndexes(store);
    const r = await seedDemo(store, {
      seed,
      endDay,
      timeZone: config.timeZone,
      currency: config.currency,
      // Nothing after the present: when endDay is today, the history stops now.
      until: now,
      ...(values.reset ? { reset: true } : {}),
    });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `Seeded demo data: ${r.products} products, ${r.orders} orders (seed ${seed}, 90 days to ${endDay}, ${config.timeZone}, ${config.currency}) ` +
        `into ${conn.name} on ${where} in ${secs} s.\n`,
    );
  } catch (e) {
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
