/**
 * Bulk import: `npm run import -- <orders|products|inventory|complaints> <file.csv|file.jsonl> [--dry-run]`.
 *
 * Streams the file line by line (files larger than memory work), applies each item through
 * the same validation and services as the ingestion API, shows progress with rate and ETA on
 * stderr, and ends with a report on stdout. Every item is idempotent, so re-running a file
 * changes nothing. Exit code: 0 all good, 1 some lines failed, 78 configuration problem.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { checkShopSettings, createBackend } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { systemClock } from "./core/clock.js";
import { shellIdentity } from "./core/identity.js";
import { createLogger } from "./core/logger.js";
import type { AuditService } from "./services/audit.service.js";
import { INGEST_KINDS, type IngestKind } from "./services/ingest-schemas.js";
import { isFailedItem, itemId, type IngestService, type ItemResult } from "./services/ingest.service.js";
import { DatabaseUnavailableError, openDatabase } from "./store/db-server.js";
import { connect } from "./store/models.js";

/** The outcome of an import. */
export interface ImportReport {
  kind: IngestKind;
  file: string;
  dryRun: boolean;
  lines: number;
  imported: number;
  updated: number;
  skipped: number;
  /** Updates kept until their order arrives (orders only). */
  parked: number;
  failed: number;
  /** Failed lines (the first {@link MAX_FAILURES_KEPT}), with why. */
  failures: { line: number; message: string }[];
  seconds: number;
}

/** Failed lines remembered for the report; the rest are only counted (memory stays flat). */
export const MAX_FAILURES_KEPT = 1000;
/** Items applied at the same time; lines about the same id are applied in file order. */
const CONCURRENCY = 16;
/** Order lines per batch. */
const CHUNK = 100;
/** Order batches applied at the same time. */
const CHUNKS_IN_FLIGHT = 4;

// Columns read as numbers or booleans in CSV files (JSON lines carry their own types).
const NUMERIC = new Set(["price", "cost", "reorderPoint", "leadTimeDays", "onHand", "delta", "set", "subtotal", "discount", "shipping", "total", "qty", "unitPrice"]);
const BOOLEAN = new Set(["active"]);

/** Options of {@link runImport}. */
export interface ImportOptions {
  kind: IngestKind;
  file: string;
  dryRun?: boolean;
  ingest: IngestService;
  /** Progress output (stderr in the CLI); omitted: silent. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where the run is audited, and who ran it (the CLI: the shell user); a dry run is not. */
  audit?: { service: AuditService; who: string };
}

/** Imports one file; resolves with the report. */
export async function runImport(o: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const report: ImportReport = { kind: o.kind, file: o.file, dryRun: !!o.dryRun, lines: 0, imported: 0, updated: 0, skipped: 0, parked: 0, failed: 0, failures: [], seconds: 0 };
  let error: unknown;
  try {
    await importInto(o, report, started);
    return report;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    // Audited however it ends: a run that stopped half-way has written what it counted.
    if (o.audit && !o.dryRun) {
      await auditRun(o.audit, o, report, started, error).catch((e: unknown) => {
        if (error === undefined) throw e; // else the run's own error is the one to report
      });
    }
  }
}

async function auditRun(audit: NonNullable<ImportOptions["audit"]>, o: ImportOptions, r: ImportReport, started: number, error: unknown): Promise<void> {
  const counts = `${path.basename(o.file)}: ${r.lines} lines; imported ${r.imported}, updated ${r.updated}, skipped ${r.skipped}, parked ${r.parked}, failed ${r.failed}`;
  await audit.service.record({
    ref: `import-${createHash("sha256").update(`${o.file}|${started}`).digest("hex").slice(0, 12)}`,
    at: new Date(started),
    actor: audit.who,
    platform: "shell",
    command: `import ${o.kind}`,
    args: error === undefined ? counts : `${counts} (stopped)`,
    ...(error !== undefined
      ? { outcome: "error" as const, code: "stopped", message: String((error as Error)?.message ?? error).slice(0, 300) }
      : r.failed
        ? { outcome: "user_error" as const, code: "partial", message: `lines failed: ${r.failures.slice(0, 10).map((f) => f.line).join(", ")}${r.failed > 10 ? ", …" : ""}` }
        : { outcome: "ok" as const }),
  });
}

/** Streams the file into `report` (see {@link runImport}). */
async function importInto(o: ImportOptions, report: ImportReport, started: number): Promise<void> {
  const format = formatOf(o.file);
  const size = (await stat(o.file)).size;
  const base = path.basename(o.file);
  // Inventory changes without a key get one from the file's name and the line's text (the how-many-th
  // such line it is), not its position: re-running a file changes nothing, and neither does
  // re-running it after fixing, adding or removing failed lines; only new lines apply.
  const fileTag = createHash("sha256").update(base).digest("hex").slice(0, 12);
  const seen = new Map<string, number>();
  const actor = `import:${base}`.slice(0, 100);
  const fail = (line: number, message: string) => {
    report.failed++;
    if (report.failures.length < MAX_FAILURES_KEPT) report.failures.push({ line, message });
  };

  const stream = createReadStream(o.file, { highWaterMark: 64 * 1024 });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const bar = new Progress(size, o.progress);
  let header: string[] | null = null;
  let lineNo = 0;
  const inFlight = new Set<Promise<void>>();
  const tails = new Map<string, Promise<void>>();

  const record = (n: number, r: ItemResult) => {
    if (isFailedItem(r)) fail(n, r.message ?? r.code ?? "rejected");
    else if (o.dryRun) report.skipped++;
    else if (r.outcome === "created") report.imported++;
    else if (r.outcome === "updated") report.updated++;
    else if (r.outcome === "parked") report.parked++;
    else report.skipped++;
  };
  // Orders go in chunks through the batch path (a few round trips per chunk, not per line),
  // a few chunks at a time so they share the order effects' flushes. A line about an order
  // that an in-flight chunk holds waits for that chunk: lines about one order apply in file order.
  const batched = o.kind === "orders" && !o.dryRun;
  let chunk: { n: number; raw: unknown }[] = [];
  let chunkNos = new Set<string>();
  const running = new Set<Promise<void>>();
  const holding = new Map<string, Promise<void>>();
  const launch = () => {
    if (!chunk.length) return;
    const items = chunk;
    const nos = chunkNos;
    chunk = [];
    chunkNos = new Set();
    const p: Promise<void> = o.ingest.applyMany("orders", items.map((c) => c.raw), actor).then(
      (rs) => items.forEach((c, k) => record(c.n, rs[k]!)),
      (e: Error) => items.forEach((c) => fail(c.n, `internal error: ${e.message}`)),
    );
    running.add(p);
    for (const no of nos) holding.set(no, p);
    void p.finally(() => {
      running.delete(p);
      for (const no of nos) if (holding.get(no) === p) holding.delete(no);
    });
  };
  const addToChunk = async (n: number, raw: unknown) => {
    const no = itemId("orders", raw)?.toUpperCase();
    const busy = no && !chunkNos.has(no) ? holding.get(no) : undefined;
    if (busy) await busy;
    chunk.push({ n, raw });
    if (no) chunkNos.add(no);
    if (chunk.length >= CHUNK) launch();
    while (running.size >= CHUNKS_IN_FLIGHT) await Promise.race(running);
  };

  // Position by the lines handed out, not the bytes read: readline reads well ahead.
  let consumed = 0;
  for await (const line of rl) {
    lineNo++;
    consumed += Buffer.byteLength(line) + 1;
    bar.update(consumed, lineNo);
    if (!line.trim()) continue;
    if (line.includes("\uFFFD")) {
      // Bytes the UTF-8 decoder could not read (a file saved as GBK, say): the line is refused, never stored garbled.
      report.lines++;
      fail(lineNo, "not valid UTF-8: save the file as UTF-8 and import it again");
      continue;
    }
    let raw: unknown;
    try {
      if (format === "csv") {
        const cells = parseCsvLine(line);
        if (!header) {
          header = checkHeader(cells.map((c) => c.trim()));
          continue;
        }
        raw = csvRecord(o.kind, header, cells);
      } else {
        raw = JSON.parse(line) as unknown;
      }
    } catch (e) {
      if (e instanceof ImportFileError) throw e;
      report.lines++;
      fail(lineNo, (e as Error).message);
      continue;
    }
    report.lines++;
    // A change (delta or level) without a key gets one (see fileTag), so a re-run applies it
    // once: re-running yesterday's count must not undo today's movements.
    if (o.kind === "inventory" && raw && typeof raw === "object" && ("delta" in raw || "set" in raw) && !("key" in raw)) {
      const text = createHash("sha256").update(line.trim()).digest("hex").slice(0, 16);
      const nth = (seen.get(text) ?? 0) + 1;
      seen.set(text, nth);
      (raw as Record<string, unknown>).key = `imp:${fileTag}:${text}:${nth}`;
    }
    const n = lineNo;
    if (batched) {
      await addToChunk(n, raw);
      continue;
    }
    const id = itemId(o.kind, raw)?.toUpperCase() ?? `#${n}`;
    const prev = tails.get(id) ?? Promise.resolve();
    const p: Promise<void> = prev.then(async () => {
      try {
        record(n, await o.ingest.apply(o.kind, raw, actor, o.dryRun));
      } catch (e) {
        fail(n, `internal error: ${(e as Error).message}`);
      }
    });
    tails.set(id, p);
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      if (tails.get(id) === p) tails.delete(id);
    });
    // Backpressure: the reader waits while enough items are in flight.
    while (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
  }
  launch();
  await Promise.all([...inFlight, ...running]);
  bar.done(size, lineNo);
  report.failures.sort((a, b) => a.line - b.line);
  report.seconds = (Date.now() - started) / 1000;
}

function formatOf(file: string): "csv" | "jsonl" {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  throw new Error(`${file}: expected a .csv or .jsonl file`);
}

/** Splits one CSV line (RFC 4180 quoting; a field cannot span lines). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (quoted) throw new Error("unclosed quote (a CSV field cannot span lines)");
  out.push(cur);
  return out;
}

/** A CSV import that cannot start (a bad header): its message says what to fix. */
export class ImportFileError extends Error {}

/** The header's column names, each a dotted path of plain field names (`shipment.carrier`). */
export function checkHeader(names: string[]): string[] {
  const bad = names.filter((n) => !n.split(".").every((p) => /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(p) && p !== "constructor" && p !== "prototype"));
  if (bad.length) {
    throw new ImportFileError(`bad CSV header column${bad.length > 1 ? "s" : ""} ${bad.map((b) => JSON.stringify(b)).join(", ")}: use field names such as sku, onHand or shipment.carrier (letters, digits, _; parts joined by .)`);
  }
  return names;
}

/**
 * One CSV row as an item: empty cells are left out, `a.b` headers nest (shipment.carrier),
 * and an orders `items` cell reads `SKU:qty:unitPrice;SKU:qty:unitPrice`.
 */
export function csvRecord(kind: IngestKind, header: string[], cells: string[]): Record<string, unknown> {
  if (cells.length !== header.length) throw new Error(`expected ${header.length} columns (as the header), got ${cells.length}`);
  // No prototype: a name such as `constructor` can only ever be a key of this record.
  const rec: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  header.forEach((name, i) => {
    const cell = cells[i]!.trim();
    if (cell === "") return;
    let value: unknown = cell;
    if (NUMERIC.has(name) && /^[+-]?\d+$/.test(cell)) value = Number(cell);
    else if (BOOLEAN.has(name) && /^(true|false)$/i.test(cell)) value = cell.toLowerCase() === "true";
    else if (kind === "orders" && name === "items") {
      value = cell.split(";").map((part) => {
        const [sku, qty, unitPrice] = part.split(":").map((s) => s.trim());
        return { sku, qty: Number(qty), unitPrice: Number(unitPrice) };
      });
    }
    const parts = name.split(".");
    let obj = rec;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= Object.create(null)) as Record<string, unknown>;
    obj[parts.at(-1)!] = value;
  });
  return rec;
}

/** A progress bar with rate and ETA (a line every 2 s when not a terminal). */
class Progress {
  private last = 0;
  private readonly t0 = Date.now();
  constructor(
    private readonly total: number,
    private readonly out?: NodeJS.WritableStream & { isTTY?: boolean },
  ) {}

  update(bytes: number, lines: number, force = false): void {
    if (!this.out) return;
    const now = Date.now();
    const every = this.out.isTTY ? 200 : 2000;
    if (!force && now - this.last < every) return;
    this.last = now;
    const frac = this.total ? Math.min(1, bytes / this.total) : 1;
    const secs = Math.max(0.001, (now - this.t0) / 1000);
    const rate = lines / secs;
    const eta = frac > 0 ? (secs / frac) * (1 - frac) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${lines} lines ${Math.round(rate)} lines/s ETA ${fmtSecs(eta)}`;
    this.out.write(this.out.isTTY ? `\r${line}` : `${line}\n`);
  }

  done(bytes: number, lines: number): void {
    this.update(bytes, lines, true);
    if (this.out?.isTTY) this.out.write("\n");
  }
}

function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}

/** The report as text lines. */
export function formatReport(r: ImportReport): string {
  const lines = [
    `${r.dryRun ? "Dry run (nothing written)" : "Import"} of ${r.kind} from ${r.file}: ${r.lines} items in ${r.seconds.toFixed(1)} s`,
    r.dryRun ? `  valid: ${r.skipped}` : `  imported: ${r.imported}\n  updated: ${r.updated}\n  skipped (already there): ${r.skipped}`,
  ];
  if (r.parked) lines.push(`  parked (waiting for their order): ${r.parked}`);
  lines.push(`  failed: ${r.failed}`);
  for (const f of r.failures) lines.push(`    line ${f.line}: ${f.message}`);
  if (r.failed > r.failures.length) lines.push(`    … and ${r.failed - r.failures.length} more`);
  return lines.join("\n") + "\n";
}

const USAGE = `Usage: npm run import -- <${INGEST_KINDS.join("|")}> <file.csv|file.jsonl> [--dry-run]\n`;

async function main(argv: string[]): Promise<number> {
  const dryRun = argv.includes("--dry-run");
  const rest = argv.filter((a) => a !== "--dry-run");
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Command-line mistakes are said plainly, before any database is opened: exit 64 (EX_USAGE).
  const usage = (problem: string) => {
    process.stderr.write(`import: ${problem}\n${USAGE}`);
    return 64;
  };
  const [kind, file, ...extra] = rest;
  const option = rest.find((a) => a.startsWith("-"));
  if (option) return usage(`unknown option ${option}`);
  if (!kind) return usage("give what to import and the file");
  if (!(INGEST_KINDS as readonly string[]).includes(kind)) return usage(`"${kind}" is not a kind of data: use ${INGEST_KINDS.join(", ")}`);
  if (!file) return usage(`give the ${kind} file to import`);
  if (extra.length) return usage(`one file at a time (also given: ${extra.join(" ")})`);
  try {
    formatOf(file);
  } catch (e) {
    return usage((e as Error).message);
  }
  const unreadable = await stat(file).then(
    (st) => (st.isFile() ? null : "not a file"),
    (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.message),
  );
  if (unreadable) return usage(`cannot read ${file}: ${unreadable}`);
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { uri, server } = await openDatabase(config, logger);
  const conn = await connect(uri);
  try {
    const { store, services } = await createBackend({ config, conn, clock: systemClock, logger });
    if (!server) await checkShopSettings(store, config);
    const report = await runImport({ kind: kind as IngestKind, file: path.resolve(file), dryRun, ingest: services.ingest, progress: process.stderr, audit: { service: services.audit, who: shellIdentity() } });
    process.stdout.write(formatReport(report));
    return report.failed ? 1 : 0;
  } finally {
    await conn.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof ConfigError || e instanceof DatabaseUnavailableError) {
        process.stderr.write(`${e.message}\n`);
        process.exit(78);
      }
      if (e instanceof ImportFileError) {
        process.stderr.write(`import: ${e.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`import failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
