/**
 * Benchmark runner: `npm run bench [-- name ...]` (`-- --help` lists the benchmarks and settings).
 *
 * Runs every `bench/*.bench.ts` in sequence (or only the ones named), prints each one's summary
 * and writes its full result as JSON to `.cache/bench/<name>.json`.
 *
 * A benchmark module's default export is a {@link Bench}.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** Progress line (stderr, so stdout holds the summaries). */
  log(line: string): void;
}

/** What a benchmark returns: human summary lines plus any data worth keeping. */
export interface BenchResult {
  /** One line naming the database server the numbers come from. */
  server: string;
  /** Lines printed after the run. */
  summary: string[];
  [key: string]: unknown;
}

/** A benchmark module's default export. */
export interface Bench {
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/**
 * `description` with the server's product and version from `buildInfo` in place of a bare
 * "MongoDB at …" (a connection string does not say whether it is MongoDB or FerretDB).
 */
export async function labelServer(description: string, db: { admin(): { command(c: object): Promise<Record<string, unknown>> } }): Promise<string> {
  try {
    const info = await db.admin().command({ buildInfo: 1 });
    const product = info.ferretdbVersion ? `FerretDB ${String(info.ferretdbVersion)} (MongoDB ${String(info.version)} wire)` : `MongoDB ${String(info.version)}`;
    return description.replace(/^MongoDB at /, `${product} at `);
  } catch {
    return description;
  }
}

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(BENCH_DIR, "..", ".cache", "bench");
const SUFFIX = ".bench.ts";

/** Exit codes, as in the README: a wrong command line 64 (usage printed), a bad setting 78. */
const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;

/** One line per benchmark for the usage (what it measures, in short). */
const MEASURES: Record<string, string> = {
  approvals: "concurrent refund approvals: throughput, p99 and exact counts",
  digest: "the daily digest of a large day vs the cheapest query reading that day",
  discord: "Discord slash commands through discord.js and the adapter vs the core alone",
  ingest: "order ingest over HTTP vs bare insertMany; bulk import speed and memory",
  "low-stock": "the low-stock scan vs one bare indexed query; memory over a simulated week",
  slack: "concurrent signed /stock requests to the Slack HTTP receiver vs the core alone",
  "stock-lookup": "stock lookup by SKU through the core vs a bare findOne",
};

/** A `BENCH_*` setting: the benchmarks that read it, what it takes, and whether a value fits (checked here before anything runs, the one place its limits are kept: the benchmarks read it as given). */
interface BenchVar {
  name: string;
  benches: readonly string[];
  takes: (names: readonly string[]) => string;
  ok: (value: number, names: readonly string[]) => boolean;
  /** An empty value means the default (the benchmark reads it that way). */
  emptyIsDefault?: boolean;
}

const whole = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: number) => Number.isInteger(v) && v >= min && v <= max;
const SCALE_BENCHES = ["digest", "ingest", "low-stock", "stock-lookup"];
// digest runs at most at full size; the others can be scaled up to 10×.
const maxScale = (names: readonly string[]) => (names.includes("digest") ? 1 : 10);

const BENCH_VARS: readonly BenchVar[] = [
  { name: "BENCH_SCALE", benches: SCALE_BENCHES, emptyIsDefault: true, takes: (names) => `a fraction of full size above 0, such as 0.1: at most ${names.includes("digest") && names.length > 1 ? "1 for digest, 10 for the others" : maxScale(names)}`, ok: (v, names) => v > 0 && v <= maxScale(names) },
  { name: "BENCH_APPROVALS", benches: ["approvals"], takes: () => "a whole number from 2 to 100000 (default 200)", ok: whole(2, 100_000) },
  { name: "BENCH_RUNS", benches: ["digest"], takes: () => "a whole number of measured runs, at least 1 (default 10; 3 on FerretDB)", ok: whole(1) },
  { name: "BENCH_INTERACTIONS", benches: ["discord"], takes: () => "a whole number from 1 to 5000 (default 100)", ok: whole(1, 5000) },
  { name: "BENCH_IMPORT_LINES", benches: ["ingest"], emptyIsDefault: true, takes: () => "a whole number of import lines, at least 1", ok: whole(1) },
  { name: "BENCH_DRYRUN_LINES", benches: ["ingest"], takes: () => "a whole number of dry-run lines, 0 to skip the dry run (default 1000000)", ok: whole(0) },
  { name: "BENCH_SCANS", benches: ["low-stock"], takes: () => "a whole number of measured scans, at least 1 (default 10)", ok: whole(1) },
  { name: "BENCH_WEEK_DAYS", benches: ["low-stock"], takes: () => "a whole number of simulated days, at least 1 (default 7)", ok: whole(1) },
  { name: "BENCH_SLACK_REQUESTS", benches: ["slack"], takes: () => "a whole number of requests, at least 1 (default 100)", ok: whole(1) },
  { name: "BENCH_LOOKUPS", benches: ["stock-lookup"], takes: () => "a whole number of measured lookups, at least 1 (default 200)", ok: whole(1) },
];

/** `npm run bench -- --help`. */
function benchUsage(available: readonly string[]): string {
  const width = Math.max(...available.map((n) => n.length), 4);
  const vars = BENCH_VARS.map((v) => `  ${v.name.padEnd(21)} ${v.benches.join(", ")}: ${v.takes(v.benches)}`);
  return [
    "Usage: npm run bench [-- <benchmark> ...]   (no name: all of them, in this order)",
    "",
    "Benchmarks:",
    ...available.map((n) => `  ${n.padEnd(width)}  ${MEASURES[n] ?? "(see bench/" + n + SUFFIX + ")"}`),
    "",
    "Settings (environment; a bad value is refused before anything runs, exit 78):",
    ...vars,
    "  MONGODB_URI / SHOPOPS_TEST_MONGODB_URI  run against that server instead of the test FerretDB",
    "",
    "Each summary goes to standard output, its full result to .cache/bench/<benchmark>.json.",
    "",
  ].join("\n");
}

/** The first `BENCH_*` setting the benchmarks `names` read whose value does not fit, as one line. */
function badBenchSetting(env: Record<string, string | undefined>, names: readonly string[]): string | undefined {
  for (const v of BENCH_VARS) {
    const users = v.benches.filter((b) => names.includes(b));
    const raw = env[v.name];
    if (!users.length || raw === undefined || (raw === "" && v.emptyIsDefault)) continue;
    const value = raw.trim() === "" ? NaN : Number(raw);
    if (!v.ok(value, users)) return `${v.name}=${JSON.stringify(raw)}: expected ${v.takes(users)} (read by ${users.join(", ")})`;
  }
  return undefined;
}

async function main(): Promise<number> {
  const available = (await readdir(BENCH_DIR))
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(benchUsage(available));
    return 0;
  }
  const option = argv.find((a) => a.startsWith("-"));
  if (option !== undefined) {
    process.stderr.write(`bench: unknown option "${option}"\n\n${benchUsage(available)}`);
    return EXIT_USAGE;
  }
  const asked = argv.map((a) => path.basename(a).replace(/\.bench\.ts$/, ""));
  const unknown = asked.filter((a) => !available.includes(a));
  if (unknown.length) {
    process.stderr.write(`bench: unknown benchmark${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}\n\n${benchUsage(available)}`);
    return EXIT_USAGE;
  }
  const names = asked.length ? asked : available;
  const bad = badBenchSetting(process.env, names);
  if (bad) {
    process.stderr.write(`bench: ${bad}\n`);
    return EXIT_CONFIG;
  }
  await mkdir(RESULTS_DIR, { recursive: true });

  let failed = 0;
  for (const name of names) {
    const mod = (await import(pathToFileURL(path.join(BENCH_DIR, name + SUFFIX)).href)) as { default?: Bench };
    const bench = mod.default;
    if (!bench || typeof bench.run !== "function") {
      process.stderr.write(`bench/${name}${SUFFIX}: its default export is not a Bench ({ description, run(ctx) })\n`);
      failed++;
      continue;
    }
    process.stdout.write(`\n== ${name}: ${bench.description}\n`);
    const startedAt = new Date();
    const t0 = process.hrtime.bigint();
    try {
      const result = await bench.run({ log: (line) => process.stderr.write(`[${name}] ${line}\n`) });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      for (const line of result.summary) process.stdout.write(`  ${line}\n`);
      const file = path.join(RESULTS_DIR, `${name}.json`);
      const record = {
        name,
        description: bench.description,
        startedAt: startedAt.toISOString(),
        seconds: Math.round(seconds * 10) / 10,
        node: process.version,
        platform: `${os.platform()} ${os.arch()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}`,
        ...result,
      };
      await writeFile(file, JSON.stringify(record, null, 2) + "\n");
      process.stdout.write(`  (${record.seconds} s; result in ${path.relative(process.cwd(), file)})\n`);
    } catch (e) {
      failed++;
      process.stderr.write(`bench ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench runner failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
