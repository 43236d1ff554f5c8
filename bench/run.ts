/**
 * Benchmark runner: `npm run bench [-- name ...]`.
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

async function main(): Promise<number> {
  const available = (await readdir(BENCH_DIR))
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
  const asked = process.argv.slice(2).map((a) => path.basename(a).replace(/\.bench\.ts$/, ""));
  const unknown = asked.filter((a) => !available.includes(a));
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(", ")}. Available: ${available.join(", ") || "(none)"}\n`);
    return 2;
  }
  const names = asked.length ? asked : available;
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
