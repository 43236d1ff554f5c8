/**
 * `npm run seed:demo [-- --reset] [--seed N] [--end-day YYYY-MM-DD]`
 *
 * Loads the deterministic demo shop (products and 90 days of orders) into the configured database:
 * MONGODB_URI when set, else the embedded database under SHOPOPS_DATA_DIR.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { isDay, localDay } from "./core/format.js";
import { createLogger } from "./core/logger.js";
import { openDatabase } from "./store/db-server.js";
import { connect, createStore, ensureIndexes } from "./store/models.js";
import { DemoDataExistsError, seedDemo } from "./seed/demo-data.js";

const USAGE = `Usage: npm run seed:demo -- [--reset] [--seed N] [--end-day YYYY-MM-DD]
  --reset               delete products, orders and the stock ledger first
  --seed N              PRNG seed (default DEMO_SEED, 42)
  --end-day YYYY-MM-DD  last day of order history (default: today in SHOP_TIMEZONE)`;

function fail(message: string): never {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
  process.exit(1);
}

async function main(): Promise<void> {
  let values: { reset?: boolean; seed?: string; "end-day"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        reset: { type: "boolean" },
        seed: { type: "string" },
        "end-day": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);

  const seed = values.seed === undefined ? config.demoSeed : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 1 || seed > 2 ** 31 - 1) fail(`--seed: expected a whole number from 1 to ${2 ** 31 - 1}, got "${values.seed}"\n${USAGE}`);
  const now = new Date();
  const endDay = values["end-day"] ?? localDay(now, config.timeZone);
  if (!isDay(endDay)) fail(`--end-day: expected a day as YYYY-MM-DD, got "${endDay}"\n${USAGE}`);

  const { uri, server, where, dbName } = await openDatabase(config, logger);

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
