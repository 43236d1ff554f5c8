/**
 * Bulk import: `npm run import -- <orders|products|inventory|complaints> <file.csv|file.jsonl> [--dry-run]`.
 *
 * Streams the file line by line (files larger than memory work), applies each item through
 * the same validation and services as the ingestion API, shows progress with rate and ETA on
 * stderr, and ends with a report on stdout. Every item is idempotent, so re-running a file
 * changes nothing. Exit code: 0 all good, 1 some lines failed or were not applied (or, on a shop's
 * database, the person at the terminal lacks the kind's role: IMPORT_ROLES), 64 a wrong
 * command line or a CSV header that does not fit the kind, 78 configuration problem, 130/143
 * stopped by Ctrl-C / SIGTERM (after the lines in progress, with the report).
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { checkShopSettings, createBackend, ShopSettingsDeniedError } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { systemClock } from "./core/clock.js";
import { shellIdentity } from "./core/identity.js";
import { createLogger, scrubText } from "./core/logger.js";
import { translator, type Translate } from "./core/messages.js";
import type { Role } from "./core/roles.js";
import type { AuditRecord, AuditService } from "./services/audit.service.js";
import { complaintInput, INGEST_KINDS, inventoryInput, orderInput, productInput, refundRequestInput, type IngestKind } from "./services/ingest-schemas.js";
import { isFailedItem, itemId, itemSubjects, MAX_AUDIT_SUBJECTS, sequenceKey, type IngestService, type ItemResult } from "./services/ingest.service.js";
import { DatabaseStartupError, DatabaseUnavailableError, openDatabase, reachServer, uriProblem, uriSelectionTimeoutMs } from "./store/db-server.js";
import { connect, type Store } from "./store/models.js";
import { duplicateKeys } from "./core/json-keys.js";

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
  /**
   * Lines that say something else than what is stored, which was not applied (an existing
   * order's items or amounts: fixed when it was created). Not counted as updated or skipped.
   */
  differs: number;
  /** Those lines (the first {@link MAX_FAILURES_KEPT}); `partly`: the line's other fields (a status) were applied. */
  differences: { line: number; message: string; partly: boolean }[];
  /**
   * Existing products whose `onHand` in the file differs from their stock: counted as updated or
   * skipped (a catalogue re-imported after sales is no failure), their stock left as it is.
   */
  stockKept?: number;
  /**
   * Lines applied with something to look at (a count below what open orders reserve: the product
   * is short of them), the first {@link MAX_FAILURES_KEPT}: counted as applied too.
   */
  warnings?: { line: number; message: string }[];
  /** How many lines those are (all of them, past the ones kept). */
  warned?: number;
  /**
   * Lines applied (counted as imported, updated or skipped) with a step time the order's status
   * contradicts (a `deliveredAt` beside status `pending`), which the order does not hold: not
   * stored, said, and no failure (nothing differs from what is stored; a re-run says it again).
   */
  timesNotTaken?: number;
  /** Those lines (the first {@link MAX_FAILURES_KEPT}), with which times and why. */
  timesNotTakenLines?: { line: number; message: string }[];
  /** Set when the run was stopped (Ctrl-C, SIGTERM): every line up to `afterLine` is done, no later line was read. */
  interrupted?: { afterLine: number; by?: string };
  /**
   * Set when a stop signal came after every line was read (the last lines still being written):
   * nothing was left unread and the run finished; the signal's name (`"SIGINT"`) when known.
   */
  stopAfterEnd?: { by?: string };
  seconds: number;
}

/**
 * The role an import of each kind needs on a shop's database (README "Bulk import"): what the
 * same change needs in chat. Inventory: `stock adjust` (staff); refund requests: `refund request`
 * (staff); complaints: `complaint new` (support); orders: a line may cancel an order, `order
 * cancel` (manager); products: a line sets prices and takes products off sale, which no chat
 * command lets below a manager do (manager).
 */
export const IMPORT_ROLES: Readonly<Record<IngestKind, Role>> = { inventory: "staff", "refund-requests": "staff", complaints: "support", orders: "manager", products: "manager" };

/** Failed lines remembered for the report; the rest are only counted (memory stays flat). */
export const MAX_FAILURES_KEPT = 1000;
/** Items applied at the same time; lines about the same id are applied in file order. */
const CONCURRENCY = 16;
/** Order lines per batch. */
const CHUNK = 100;
/** Order batches applied at the same time. */
const CHUNKS_IN_FLIGHT = 4;
/** How often the progress line is redrawn: on a terminal, and in a log (a file, a pipe). */
const PROGRESS_TTY_MS = 1000;
const PROGRESS_LOG_MS = 10_000;
/** The longest CSV record a quoted field may make of several lines (characters): past it, the quote is taken for a stray one. */
const MAX_RECORD_CHARS = 256 * 1024;

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
  /**
   * Where the run is audited, and who ran it (the CLI: the shell user); a dry run is not. With
   * `store` (the CLI), its entry is written before the first line is applied (`error`, code
   * `running`: a run killed half-way leaves it so) and completed when the run ends; without, it is
   * written when the run ends.
   */
  audit?: { service: AuditService; who: string; store?: Pick<Store, "audit"> };
  /**
   * Stops the run (the CLI: on SIGINT/SIGTERM): no further line is read, the lines in progress
   * finish, and the report says after which line it stopped (its `interrupted`). A string
   * reason (`"SIGINT"`) is named in the report.
   */
  signal?: AbortSignal;
}

/** Imports one file; resolves with the report (also when stopped by `signal`: see its `interrupted`). */
export async function runImport(o: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const report: ImportReport = { kind: o.kind, file: o.file, dryRun: !!o.dryRun, lines: 0, imported: 0, updated: 0, skipped: 0, parked: 0, failed: 0, failures: [], differs: 0, differences: [], seconds: 0 };
  let error: unknown;
  // The records the run was about, for its audit entry (`audit subject=`): the first
  // MAX_AUDIT_SUBJECTS, as an API batch's; a bounded set, so memory stays flat whatever the file.
  const subjects = new Set<string>();
  // A dry run checks SKUs against the catalog as it is when the run starts.
  if (o.dryRun) o.ingest.refreshCatalog();
  // On the trail before anything is written: a run killed half-way (kill -9, a crash) leaves its
  // changes with this entry, not with none.
  if (o.audit?.store && !o.dryRun) await o.audit.service.record(runningEntry(o.audit, o, started));
  // While it runs, the entry names the subjects of the lines done so far (every few seconds), so
  // `audit subject=` finds a run still going or killed half-way, and when it was last seen alive
  // (so housekeeping never takes a long run for lost; see subjectFlusher).
  const alive = o.audit ? aliveFields(runningEntry(o.audit, o, started)) : undefined;
  const flusher = o.audit?.store && alive && !o.dryRun ? subjectFlusher(o.audit.store, runRef(o, started), subjects, alive) : undefined;
  // And before a line is applied, the records it names (as far as its text says: an order
  // number, a SKU, an external id) are on the entry: a run killed at any moment, its first
  // seconds too, leaves no change that `audit subject=` cannot trace to it.
  const ahead = o.audit?.store && alive && !o.dryRun ? subjectsAhead(o.audit.store, runRef(o, started), subjects, alive) : undefined;
  try {
    await importInto(o, report, started, subjects, ahead);
    return report;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    // The last update lands before the end's, which then sets the whole list.
    await flusher?.stop();
    // Audited however it ends: a run that stopped half-way has written what it counted.
    if (o.audit && !o.dryRun) {
      await auditRun(o.audit, o, report, started, error, [...subjects]).catch((e: unknown) => {
        if (error === undefined) throw e; // else the run's own error is the one to report
      });
    }
  }
}

const lineList = (xs: { line: number }[], total: number) => `${xs.slice(0, 10).map((f) => f.line).join(", ")}${total > 10 ? ", …" : ""}`;

/** The audit entry's ref of a run: one per file and start time, so the end updates the entry the start wrote. */
const runRef = (o: ImportOptions, started: number) => `import-${createHash("sha256").update(`${o.file}|${started}`).digest("hex").slice(0, 12)}`;

/** A run's entry as its start writes it: said to be running, or killed if it stays so. */
function runningEntry(audit: NonNullable<ImportOptions["audit"]>, o: ImportOptions, started: number): AuditRecord {
  return {
    ref: runRef(o, started),
    at: new Date(started),
    actor: audit.who,
    platform: "shell",
    command: `import ${o.kind}`,
    args: `${path.basename(o.file)}: running`,
    outcome: "error",
    code: "running",
    message:
      "started and not finished: still running, or stopped without recording its end (killed, a crash; housekeeping marks it lost 24 hours after it was last seen running). Lines it applied are not counted here; its subjects name the records it reached. " +
      "Running the same file again finishes it (lines already done are skipped).",
  };
}

/** How often a running import adds the subjects of its lines done since to its audit entry, and says it is alive. */
const SUBJECTS_FLUSH_MS = 2_000;

/** What a running import's writes to its entry match: `running`, or `lost` when housekeeping took it for dead while it ran. */
const RUNNING_OR_LOST = { $in: ["running", "lost"] };

/** The fields that say a run is going (its start entry's), which its writes put back on an entry wrongly marked lost. */
function aliveFields(e: AuditRecord): { code: string; args: string; message: string } {
  return { code: "running", args: scrubText(e.args ?? ""), message: scrubText(e.message ?? "") };
}

/**
 * Adds the subjects collected since the last update to the running entry `ref`, every
 * SUBJECTS_FLUSH_MS, one update each ($addToSet: the set is capped at MAX_AUDIT_SUBJECTS, so is
 * the entry), with the time as its `seenAt` (a heartbeat, sent when there are no new subjects too:
 * housekeeping takes an entry without a recent one for lost). An entry marked lost meanwhile is
 * put back to `running` (`alive`). A failed update is tried again with the next; `stop` ends it
 * after the one in flight.
 */
function subjectFlusher(store: Pick<Store, "audit">, ref: string, subjects: Set<string>, alive: ReturnType<typeof aliveFields>): { stop: () => Promise<void> } {
  let sent = 0;
  let busy: Promise<void> | undefined;
  const flush = () => {
    if (busy) return;
    const add = [...subjects].slice(sent).map(scrubText);
    const upto = subjects.size;
    busy = store.audit
      .updateOne({ _id: ref, code: RUNNING_OR_LOST }, { $set: { ...alive, seenAt: new Date() }, ...(add.length ? { $addToSet: { subject: { $each: add } } } : {}) })
      .then(
        () => void (sent = upto),
        () => {},
      )
      .finally(() => (busy = undefined));
  };
  const timer = setInterval(flush, SUBJECTS_FLUSH_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await busy;
    },
  };
}

/**
 * The records a line names as they are stored, known before it is applied: an order's number (of
 * an order line, or the order a refund request or complaint is about), a product's SKU (in
 * capitals, as stored). Ids the bot derives (a complaint's C-…, a refund request's R-X…) follow
 * once the line is applied, with the run's periodic update.
 */
function namedRecords(kind: IngestKind, raw: unknown): string[] {
  if (!raw || typeof raw !== "object") return [];
  const r = raw as Record<string, unknown>;
  const bySku = kind === "products" || kind === "inventory";
  const v = bySku ? r.sku : r.orderNo;
  return typeof v === "string" && v.length > 0 && v.length <= 100 ? [bySku ? v.toUpperCase() : v] : [];
}

/**
 * Write-ahead of a running import's subjects: `add(raw subjects)` resolves once they are on the
 * running entry `ref` (the set capped at MAX_AUDIT_SUBJECTS; beyond it, at once). Subjects added
 * while a write is in flight go together in the next one, so a file's first lines cost a few
 * writes, not one each. A failed write is not retried here (the periodic flush sends them again)
 * and holds up no line: the line's own write would meet the same database. An entry marked lost
 * meanwhile is put back to `running` (`alive`), as the flusher does.
 */
function subjectsAhead(store: Pick<Store, "audit">, ref: string, subjects: Set<string>, alive: ReturnType<typeof aliveFields>): (subjs: string[]) => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let next: string[] | null = null; // the write not started yet, which new subjects join
  return (subjs) => {
    const fresh = subjs.filter((x) => !subjects.has(x));
    for (const x of fresh) {
      if (subjects.size >= MAX_AUDIT_SUBJECTS) break;
      subjects.add(x);
      if (next) next.push(x);
      else {
        const mine = (next = [x]);
        tail = tail.then(async () => {
          next = null;
          await store.audit.updateOne({ _id: ref, code: RUNNING_OR_LOST }, { $set: alive, $addToSet: { subject: { $each: mine.map(scrubText) } } }).catch(() => {});
        });
      }
    }
    return tail;
  };
}

async function auditRun(audit: NonNullable<ImportOptions["audit"]>, o: ImportOptions, r: ImportReport, started: number, error: unknown, subjects: string[]): Promise<void> {
  const counts = `${path.basename(o.file)}: ${r.lines} lines; imported ${r.imported}, updated ${r.updated}, skipped ${r.skipped}, parked ${r.parked}, failed ${r.failed}${r.differs ? `, not applied ${r.differs}` : ""}${r.timesNotTaken ? `, times not taken ${r.timesNotTaken} (lines ${lineList(r.timesNotTakenLines ?? [], r.timesNotTaken)})` : ""}`;
  const stop = r.interrupted;
  const problems = [...(r.failed ? [`lines failed: ${lineList(r.failures, r.failed)}`] : []), ...(r.differs ? [`lines not applied (differ from what is stored): ${lineList(r.differences, r.differs)}`] : [])].join("; ");
  const entry: AuditRecord = {
    ref: runRef(o, started),
    at: new Date(started),
    actor: audit.who,
    platform: "shell",
    command: `import ${o.kind}`,
    args: error !== undefined ? `${counts} (stopped)` : stop ? `${counts} (interrupted ${stoppedWhere(stop.afterLine)})` : counts,
    ...(subjects.length ? { subject: subjects } : {}),
    ...(error !== undefined
      ? { outcome: "error" as const, code: "stopped", message: String((error as Error)?.message ?? error).slice(0, 300) }
      : stop
        ? { outcome: "error" as const, code: "interrupted", message: `interrupted${stop.by ? ` by ${stop.by}` : ""} ${stoppedWhere(stop.afterLine)}; the lines up to it are done, re-running the file finishes it${problems ? `; ${problems}` : ""}`.slice(0, 300) }
        : problems
          ? { outcome: "user_error" as const, code: "partial", message: problems }
          : { outcome: "ok" as const }),
  };
  if (!audit.store) return audit.service.record(entry);
  // The entry the start wrote, completed: the same ref, now with the run's counts and result
  // (fields the result has not, such as `running`'s code, removed).
  const { ref, ...fields } = entry;
  const set = { ...fields, args: scrubText(fields.args), ...(fields.message !== undefined ? { message: scrubText(fields.message) } : {}), ...(fields.subject !== undefined ? { subject: typeof fields.subject === "string" ? scrubText(fields.subject) : fields.subject.map(scrubText) } : {}) };
  const unset = Object.fromEntries((["code", "message", "subject"] as const).filter((k) => set[k] === undefined).map((k) => [k, 1]));
  await audit.store.audit.updateOne({ _id: ref }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) }, { upsert: true });
}

const stoppedWhere = (afterLine: number) => (afterLine ? `after line ${afterLine}` : "before line 1");

/** One line of the file: its text, or null when its bytes are not valid UTF-8; `bytes` with its line break. */
interface FileLine {
  no: number;
  text: string | null;
  bytes: number;
}

/**
 * The file's lines (breaks: \n, \r\n or \r, as readline), each checked to be UTF-8 on its own
 * (strictly: a U+FFFD written in the file is text like any other, while bytes that are not
 * UTF-8 make their line's text null). A byte-order mark before the first line is dropped.
 */
export async function* fileLines(file: string): AsyncGenerator<FileLine> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  let no = 0;
  let pending: Buffer[] = []; // the start of a line whose end is in a later chunk
  let pendingBytes = 0;
  let skipLF = false; // the last chunk ended with \r: a \n starting the next belongs to it
  let carry = 0; // that \n, counted with the next line
  const emit = (bytes: Buffer, brk: number): FileLine => {
    no++;
    let text = isUtf8(bytes) ? bytes.toString("utf8") : null;
    if (no === 1 && text?.startsWith("\uFEFF")) text = text.slice(1);
    const n = bytes.length + brk + carry;
    carry = 0;
    return { no, text, bytes: n };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    if (skipLF && chunk[0] === 10) {
      start = 1;
      carry = 1;
    }
    skipLF = false;
    let lf = -2;
    let cr = -2;
    while (start < chunk.length) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf(10, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(13, start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      let brk = 1;
      if (end === cr && chunk[end + 1] === 10) brk = 2;
      else if (end === cr && end === chunk.length - 1) skipLF = true;
      let bytes = chunk.subarray(start, end);
      if (pending.length) {
        bytes = Buffer.concat([...pending, bytes], pendingBytes + bytes.length);
        pending = [];
        pendingBytes = 0;
      }
      yield emit(bytes, brk);
      start = end + brk;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
    }
  }
  if (pendingBytes) yield emit(Buffer.concat(pending, pendingBytes), 0);
}

/**
 * How many times each line text was seen, kept as a 64-bit hash of the text in typed arrays
 * (open addressing): 12 bytes a slot, about 24 MB for a million different lines, where a map
 * of strings took hundreds.
 */
class OccurrenceCounts {
  private hi = new Int32Array(1024);
  private lo = new Int32Array(1024);
  private counts = new Uint32Array(1024);
  private size = 0;

  /** Counts one more occurrence of the text whose hash starts with `h` (8 bytes); returns its count. */
  next(h: Buffer): number {
    const a = h.readInt32BE(0);
    const b = h.readInt32BE(4);
    if ((this.size + 1) * 4 > this.counts.length * 3) this.grow();
    const mask = this.counts.length - 1;
    let i = b & mask;
    while (this.counts[i] !== 0) {
      if (this.hi[i] === a && this.lo[i] === b) return ++this.counts[i]!;
      i = (i + 1) & mask;
    }
    this.hi[i] = a;
    this.lo[i] = b;
    this.counts[i] = 1;
    this.size++;
    return 1;
  }

  private grow(): void {
    const { hi, lo, counts } = this;
    const cap = counts.length * 2;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.counts = new Uint32Array(cap);
    const mask = cap - 1;
    for (let j = 0; j < counts.length; j++) {
      if (counts[j] === 0) continue;
      let i = lo[j]! & mask;
      while (this.counts[i] !== 0) i = (i + 1) & mask;
      this.hi[i] = hi[j]!;
      this.lo[i] = lo[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}

/** A CSV record read so far, whose quoted field goes on past its line (see importInto). */
interface OpenRecord {
  no: number;
  text: string;
  bytes: number;
  notUtf8?: number;
}

/** Streams the file into `report` (see {@link runImport}). */
async function importInto(o: ImportOptions, report: ImportReport, started: number, subjects: Set<string>, ahead?: (subjs: string[]) => Promise<void>): Promise<void> {
  const format = formatOf(o.file);
  const size = (await stat(o.file)).size;
  const base = path.basename(o.file);
  // Inventory changes without a key get one from the file's name and the line's text (the how-many-th
  // such line it is), not its position: re-running a file changes nothing, and neither does
  // re-running it after fixing, adding or removing failed lines; only new lines apply.
  const fileTag = createHash("sha256").update(base).digest("hex").slice(0, 12);
  const seen = new OccurrenceCounts();
  const actor = `import:${base}`.slice(0, 100);
  // Lines finished (applied, refused, blank, the header) and their bytes: what the progress shows.
  const done = { lines: 0, bytes: 0 };
  const finish = (bytes: number) => {
    done.lines++;
    done.bytes += bytes;
  };
  /** The last line of each record in progress that a quoted field spans (a cell's line break), by its first line. */
  const spans = new Map<number, number>();
  const fail = (line: number, bytes: number, message: string) => {
    finish(bytes);
    report.failed++;
    const to = spans.get(line);
    spans.delete(line);
    // Its lines named, so the lines it took in (a stray quote's, say) are not missed.
    const said = to === undefined ? message : `${message} (the record on lines ${line}–${to}: a quoted field in it spans lines)`;
    if (report.failures.length < MAX_FAILURES_KEPT) report.failures.push({ line, message: said });
  };

  const bar = new Progress(size, o.progress, () => done);
  let header: string[] | null = null;
  let lineNo = 0;
  let stopped = false;
  /** The line where a quoted CSV field was left open past MAX_RECORD_CHARS, while its continuation lines are skipped. */
  let openQuoteAt: number | null = null;
  /**
   * A CSV record whose quoted field goes on past its line (a spreadsheet's line break in a cell):
   * its first line, its text so far (the breaks as \n), its bytes, and a line of it that is not UTF-8.
   */
  let open: OpenRecord | null = null;
  let completed = false;
  const inFlight = new Set<Promise<void>>();
  const tails = new Map<string, Promise<void>>();

  const record = (n: number, bytes: number, raw: unknown, r: ItemResult) => {
    // The records the line was about, refused ones too (as the API's entries name them).
    if (!o.dryRun) for (const s of itemSubjects(raw, r)) if (subjects.size < MAX_AUDIT_SUBJECTS) subjects.add(s);
    if (isFailedItem(r)) return fail(n, bytes, r.message ?? r.code ?? "rejected");
    spans.delete(n);
    finish(bytes);
    if (r.warning && r.message) {
      report.warned = (report.warned ?? 0) + 1;
      report.warnings ??= [];
      if (report.warnings.length < MAX_FAILURES_KEPT) report.warnings.push({ line: n, message: `${r.id ? `${r.id}: ` : ""}${r.message}` });
    }
    if (o.dryRun) report.skipped++;
    // A product's onHand only starts its stock: stock moves through sales and counts since.
    else if (o.kind === "products" && r.ignored?.length) {
      report.stockKept = (report.stockKept ?? 0) + 1;
      if (r.outcome === "updated") report.updated++;
      else report.skipped++;
    } else if (r.ignored?.some((f) => f !== "shipment.carrier" && f !== "shipment.trackingNo" && !r.notTaken?.includes(f)) && r.message) {
      // An edited line about something that exists (an order's items): not applied, and said so
      // (its message names any time not taken too). (A cancelled order's carrier or tracking, not
      // taken, is no such edit: the line applied.)
      report.differs++;
      if (report.differences.length < MAX_FAILURES_KEPT) report.differences.push({ line: n, message: r.message, partly: r.outcome === "updated" || r.outcome === "created" });
    } else {
      // Applied; a time its status contradicts (a deliveredAt beside status pending) was not
      // stored, which is said beside its count: nothing differs from what is stored.
      if (r.notTaken?.length && r.message) {
        report.timesNotTaken = (report.timesNotTaken ?? 0) + 1;
        report.timesNotTakenLines ??= [];
        if (report.timesNotTakenLines.length < MAX_FAILURES_KEPT) report.timesNotTakenLines.push({ line: n, message: r.message });
      }
      if (r.outcome === "created") report.imported++;
      else if (r.outcome === "updated") report.updated++;
      else if (r.outcome === "parked") report.parked++;
      else report.skipped++;
    }
  };
  // Orders go in chunks through the batch path (a few round trips per chunk, not per line),
  // a few chunks at a time so they share the order effects' flushes. A line about an order
  // that an in-flight chunk holds waits for that chunk: lines about one order apply in file order.
  const batched = o.kind === "orders" && !o.dryRun;
  type Pending = { n: number; bytes: number; raw: unknown };
  let chunk: Pending[] = [];
  let chunkNos = new Set<string>();
  const running = new Set<Promise<void>>();
  const holding = new Map<string, Promise<void>>();
  const launch = () => {
    if (!chunk.length) return;
    const items = chunk;
    const nos = chunkNos;
    chunk = [];
    chunkNos = new Set();
    // Its orders on the run's audit entry first (see subjectsAhead).
    const ready = ahead?.(items.flatMap((c) => namedRecords("orders", c.raw))) ?? Promise.resolve();
    const p: Promise<void> = ready.then(() => o.ingest.applyMany("orders", items.map((c) => c.raw), actor)).then(
      (rs) => items.forEach((c, k) => record(c.n, c.bytes, c.raw, rs[k]!)),
      (e: Error) => items.forEach((c) => fail(c.n, c.bytes, `internal error: ${e.message}`)),
    );
    running.add(p);
    for (const no of nos) holding.set(no, p);
    void p.finally(() => {
      running.delete(p);
      for (const no of nos) if (holding.get(no) === p) holding.delete(no);
    });
  };
  const addToChunk = async (item: Pending) => {
    const no = itemId("orders", item.raw)?.toUpperCase();
    const busy = no && !chunkNos.has(no) ? holding.get(no) : undefined;
    if (busy) await busy;
    chunk.push(item);
    if (no) chunkNos.add(no);
    if (chunk.length >= CHUNK) launch();
    while (running.size >= CHUNKS_IN_FLIGHT) await Promise.race(running);
  };

  bar.start();
  try {
    for await (const l of fileLines(o.file)) {
      // A turn of the event loop now and then: a dry run's lines never wait on the database, and
      // a signal must be heard within milliseconds (a supervisor may kill what does not answer).
      if (l.no % 1000 === 0) await new Promise((r) => setImmediate(r));
      // Stopped: no further line is read; those handed out finish below.
      if (o.signal?.aborted) {
        stopped = true;
        // A record begun and not ended is not done: the report stops before it, and a re-run reads it whole.
        if (open) lineNo = open.no - 1;
        break;
      }
      lineNo = l.no;
      const line = l.text;
      if (line === null && open) {
        // Inside a quoted field: the record fails with it (said when the record ends).
        const o1: OpenRecord = open;
        open = { no: o1.no, text: `${o1.text}\n`, bytes: o1.bytes + l.bytes, notUtf8: o1.notUtf8 ?? l.no };
        continue;
      }
      if (line === null) {
        // Bytes that are not UTF-8 (a file saved as GBK, say): the line is refused, never stored garbled.
        if (format === "csv" && !header) throw new ImportFileError((t) => t("import.file.header_utf8", { line: l.no }));
        report.lines++;
        fail(l.no, l.bytes, "not valid UTF-8: save the file as UTF-8 and import it again");
        continue;
      }
      if (openQuoteAt !== null && format === "csv") {
        // The rest of a quoted field refused on an earlier line as too long (a stray quote, most
        // likely): failed with it, never read as records of their own.
        report.lines++;
        fail(l.no, l.bytes, `continues the quoted field opened on line ${openQuoteAt}, which is not closed within ${MAX_RECORD_CHARS / 1024} KiB: fix the quotes from that line on`);
        if ((line.match(/"/g)?.length ?? 0) % 2 === 1) openQuoteAt = null;
        continue;
      }
      if (!line.trim() && !open) {
        finish(l.bytes);
        continue;
      }
      // The record's text: this line, or the lines a quoted field spans so far and this one.
      let text = line;
      let n = l.no;
      let bytes = l.bytes;
      let raw: unknown;
      try {
        if (format === "csv") {
          if (!header) {
            header = readHeader(line, l.no, o.kind, path.basename(o.file, path.extname(o.file)) + ".jsonl");
            finish(l.bytes);
            continue;
          }
          if (open) {
            text = `${open.text}\n${line}`;
            n = open.no;
            bytes = open.bytes + l.bytes;
          }
          let cells: string[];
          try {
            cells = parseCsvLine(text);
          } catch (e) {
            if (!(e instanceof UnclosedQuote)) throw e;
            // A quoted field goes on to the next line, as a spreadsheet writes a cell's line break:
            // read on, up to a size no real cell reaches (a stray quote would take in the whole file).
            if (text.length <= MAX_RECORD_CHARS) {
              open = { no: n, text, bytes, ...(open?.notUtf8 ? { notUtf8: open.notUtf8 } : {}) };
              continue;
            }
            open = null;
            openQuoteAt = n;
            if (n !== l.no) spans.set(n, l.no);
            throw new Error(`unclosed quote: the quoted field opened on line ${n} is still open on line ${l.no}, past ${MAX_RECORD_CHARS / 1024} KiB: close it with a quote (") and write a quote inside a field as two ("")`, { cause: e });
          }
          const spanned = open;
          open = null;
          if (spanned) spans.set(n, l.no);
          if (spanned?.notUtf8) throw new Error(`line ${spanned.notUtf8} is not valid UTF-8: save the file as UTF-8 and import it again`);
          raw = csvRecord(o.kind, header, cells);
        } else {
          try {
            raw = JSON.parse(line) as unknown;
          } catch (e) {
            // Said as the API says a body that is no JSON, with what a line must hold.
            throw new Error(`not valid JSON (a .jsonl file holds one JSON object per line): ${(e as Error).message}`, { cause: e });
          }
          // JSON.parse keeps the last of two same keys: refused, as the API does, not read unsaid.
          const twice = duplicateKeys(line);
          if (twice.length) throw new Error(`field ${twice.join(", ")} is given more than once: give each field once`);
        }
      } catch (e) {
        if (e instanceof ImportFileError) throw e;
        report.lines++;
        fail(n, bytes, (e as Error).message);
        continue;
      }
      report.lines++;
      // A change (delta or level) without a key gets one (see fileTag), so a re-run applies it
      // once: re-running yesterday's count must not undo today's movements.
      if (o.kind === "inventory" && raw && typeof raw === "object" && ("delta" in raw || "set" in raw) && !("key" in raw)) {
        const hash = createHash("sha256").update(text.trim()).digest();
        const nth = seen.next(hash);
        (raw as Record<string, unknown>).key = `imp:${fileTag}:${hash.toString("hex", 0, 8)}:${nth}`;
      }
      if (batched) {
        await addToChunk({ n, bytes, raw });
        continue;
      }
      const id = sequenceKey(o.kind, raw) ?? `#${n}`;
      const prev = tails.get(id) ?? Promise.resolve();
      // The records it names on the run's audit entry before it is applied (see subjectsAhead).
      const ready = ahead?.(namedRecords(o.kind, raw));
      const p: Promise<void> = prev.then(async () => {
        try {
          await ready;
          // The person at the terminal (the run's audit actor) rides along: a refund request they import stays theirs for four eyes.
          record(n, bytes, raw, await o.ingest.apply(o.kind, raw, actor, o.dryRun, undefined, o.audit?.who));
        } catch (e) {
          fail(n, bytes, `internal error: ${(e as Error).message}`);
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
    // A quoted field the file ends in: its record fails, naming where the quote opened.
    if (open && !stopped) {
      const { no, bytes } = open;
      open = null;
      if (no !== lineNo) spans.set(no, lineNo);
      report.lines++;
      fail(no, bytes, `unclosed quote: the quoted field opened on line ${no} is not closed by the end of the file: close it with a quote (") and write a quote inside a field as two ("")`);
    }
    // Every line handed out finishes, also when stopped: the report then holds every line up to the last one read.
    launch();
    await Promise.all([...inFlight, ...running]);
    completed = !stopped;
    // A CSV file without even a header is a mistake (the wrong file, an export that failed), not "0 items".
    if (format === "csv" && !header && !stopped) throw new ImportFileError(noHeader(o.kind));
  } finally {
    bar.stop(completed);
  }
  const by = o.signal?.reason;
  if (stopped) report.interrupted = { afterLine: lineNo, ...(typeof by === "string" ? { by } : {}) };
  // Stopped after the last line was read: the lines in progress were the last ones, so the run is
  // complete. Said, since the user was told it was stopping and would otherwise not know.
  else if (o.signal?.aborted) report.stopAfterEnd = typeof by === "string" ? { by } : {};
  report.failures.sort((a, b) => a.line - b.line);
  report.differences.sort((a, b) => a.line - b.line);
  report.seconds = (Date.now() - started) / 1000;
}

function formatOf(file: string): "csv" | "jsonl" {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  throw new ImportFileError((t) => t("import.cli.bad_ext", { file }));
}

/**
 * Checks what can be checked of a file before anything is written (the CSV header against
 * the kind's fields): throws {@link ImportFileError} saying what to fix.
 */
async function checkFile(kind: IngestKind, file: string): Promise<void> {
  const format = formatOf(file);
  const other = (ext: string) => path.basename(file, path.extname(file)) + ext;
  for await (const l of fileLines(file)) {
    if (format === "jsonl") {
      // A CSV file named .jsonl would fail every line as bad JSON: said once, before anything is written.
      if (l.text !== null && l.text.trim() && looksLikeCsvHeader(l.text)) {
        const text = clipText(l.text.trim(), 60);
        throw new ImportFileError((t) => t("import.file.csv_in_jsonl", { line: l.no, text, renamed: other(".csv") }));
      }
      if (l.text === null || l.text.trim()) return;
      continue;
    }
    if (l.text === null) throw new ImportFileError((t) => t("import.file.header_utf8", { line: l.no }));
    if (!l.text.trim()) continue;
    readHeader(l.text, l.no, kind, other(".jsonl"));
    return;
  }
  if (format === "jsonl") return;
  // Empty, or blank lines only: refused before any database is opened, as a wrong header is.
  throw new ImportFileError(noHeader(kind));
}

/** True when a line is no JSON and reads as a CSV header: two or more field names, comma-separated. */
function looksLikeCsvHeader(line: string): boolean {
  try {
    JSON.parse(line);
    return false;
  } catch {
    // Not JSON: a header when split as CSV (below).
  }
  try {
    const cells = parseCsvLine(line).map((c) => c.trim());
    return cells.length >= 2 && cells.every((c) => /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(c));
  } catch {
    return false;
  }
}

/** At most `n` characters of `s` (an ellipsis when cut), for a message quoting a line. */
function clipText(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** What an empty CSV file is told: what its first line must hold. */
function noHeader(kind: IngestKind): (t: Translate) => string {
  return (t) => t("import.file.no_header", { kind, columns: columnsOf(kind).join(", ") });
}

/** The header line's column names, checked (see {@link checkHeader}). */
function readHeader(line: string, no: number, kind: IngestKind, asJsonl: string): string[] {
  // JSON lines named .csv would be read as a header of JSON fragments: said as what it is.
  if (/^\s*[{[]/.test(line)) {
    throw new ImportFileError((t) => t("import.file.json_in_csv", { line: no, renamed: asJsonl }));
  }
  let cells: string[];
  try {
    cells = parseCsvLine(line);
  } catch (e) {
    // An unclosed quote is all parseCsvLine refuses.
    if (e instanceof UnclosedQuote) throw new ImportFileError((t) => t("import.file.header_quote", { line: no }));
    throw e;
  }
  return checkHeader(
    cells.map((c) => c.trim()),
    kind,
  );
}

/** Splits one CSV record (RFC 4180 quoting; a quoted field may hold line breaks); throws {@link UnclosedQuote} when a quoted field is left open. */
function parseCsvLine(line: string): string[] {
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
  if (quoted) throw new UnclosedQuote("unclosed quote");
  out.push(cur);
  return out;
}

/**
 * An import that cannot start (a bad header, a file of the wrong kind): its message says what to
 * fix, in English (`message`) or worded in the shop's language by the command line (`say`).
 */
class ImportFileError extends Error {
  constructor(readonly say: (t: Translate) => string) {
    super(say(translator("en")));
  }
}

/** A CSV line that ends inside a quoted field: the lines after it, up to the closing quote, are its continuation. */
class UnclosedQuote extends Error {}

const SCHEMAS: Record<IngestKind, z.ZodType> = { orders: orderInput, products: productInput, inventory: inventoryInput, complaints: complaintInput, "refund-requests": refundRequestInput };

/** The dotted field paths of a schema: what a CSV column may name (`shipment.carrier`; an array such as `items` is one column). */
function fieldPaths(s: z.ZodType, prefix = ""): string[] {
  if (s instanceof z.ZodOptional) return fieldPaths(s.unwrap() as z.ZodType, prefix);
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap((x) => fieldPaths(x, prefix));
  if (s instanceof z.ZodObject) return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => fieldPaths(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

/** The columns a CSV file of `kind` may have, in the schema's order. */
function columnsOf(kind: IngestKind): string[] {
  return [...new Set(fieldPaths(SCHEMAS[kind]))];
}

/**
 * The fields every item must give, one list per form the kind takes (inventory: a change or a
 * level; its `key` is made by the import when missing).
 */
function requiredColumns(kind: IngestKind): string[][] {
  const s = SCHEMAS[kind];
  const forms = s instanceof z.ZodUnion ? (s.options as z.ZodType[]) : [s];
  return forms.map((f) =>
    f instanceof z.ZodObject
      ? Object.entries(f.shape as Record<string, z.ZodType>)
          .filter(([k, v]) => !(v instanceof z.ZodOptional) && !(kind === "inventory" && k === "key"))
          .map(([k]) => k)
      : [],
  );
}

/**
 * The header's column names, each a dotted path of plain field names (`shipment.carrier`);
 * with `kind`, also checked against its fields: no unknown column (a name that differs only
 * in case gets the right spelling), none twice, none of the required ones missing.
 */
function checkHeader(names: string[], kind?: IngestKind): string[] {
  const empty = names.findIndex((n) => n === "");
  if (empty >= 0) throw new ImportFileError((t) => t(empty === names.length - 1 ? "import.file.unnamed_last_column" : "import.file.unnamed_column", { column: empty + 1 }));
  const bad = names.filter((n) => !n.split(".").every((p) => /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(p) && p !== "constructor" && p !== "prototype"));
  if (bad.length && !kind) {
    throw new ImportFileError((t) => t("import.file.bad_columns", { n: bad.length, columns: bad.map((b) => JSON.stringify(b)).join(", ") }));
  }
  if (!kind) return names;
  const known = columnsOf(kind);
  if (bad.length) {
    // A spreadsheet's heading ("Order No", "unit-price"): the column it means, when one differs
    // only in case, spaces, _ or -, and the kind's columns, so the header can be fixed at once.
    const loose = (n: string) => n.toLowerCase().replace(/[\s_-]+/g, "");
    const said = (t: Translate) =>
      bad
        .map((b) => {
          const like = known.find((k) => loose(k) === loose(b));
          return like ? t("import.file.bad_column_like", { name: b, like }) : JSON.stringify(b);
        })
        .join(", ");
    throw new ImportFileError((t) => t("import.file.bad_columns_of", { n: bad.length, columns: said(t), kind, columns_known: known.join(", ") }));
  }
  // Each worded when said, in the reader's language.
  const problems: ((t: Translate) => string)[] = [];
  const firstAt = new Map<string, number>();
  names.forEach((n, i) => {
    const j = firstAt.get(n);
    if (j === undefined) firstAt.set(n, i);
    else problems.push((t) => t("import.file.column_twice", { name: n, first: j + 1, second: i + 1 }));
  });
  const present = new Set<string>();
  for (const n of firstAt.keys()) {
    if (known.includes(n)) {
      present.add(n);
      continue;
    }
    const like = known.find((k) => k.toLowerCase() === n.toLowerCase());
    if (like) present.add(like);
    problems.push((t) => (like ? t("import.file.column_unknown_like", { name: n, like }) : t("import.file.column_unknown", { name: n })));
  }
  const missing = requiredColumns(kind).map((form) => form.filter((k) => !present.has(k)));
  if (missing.every((m) => m.length)) {
    const fewest = Math.min(...missing.map((m) => m.length));
    const closest = missing.filter((m) => m.length === fewest).map((m) => m.map((k) => `"${k}"`).join(", "));
    problems.push((t) => t("import.file.columns_missing", { n: fewest, columns: closest.join(t("import.file.or")) }));
  }
  if (problems.length) {
    throw new ImportFileError((t) => t("import.file.misfit", { kind, problems: problems.map((p) => p(t)).join(t("import.file.misfit.sep")), columns: known.join(", ") }));
  }
  return names;
}

/** What an orders `items` cell must look like, for a cell whose item `k` (`part`) does not read so. */
function itemsCellProblem(cell: string, part: string, k: number): string {
  const which = !cell.includes(";") ? "it is not" : part.trim() ? `its item ${k + 1}, ${JSON.stringify(clipText(part.trim(), 60))}, is not` : `its item ${k + 1} is empty, not`;
  return (
    `items: the cell ${JSON.stringify(clipText(cell, 80))} cannot be read as items: ${which} SKU:qty:unitPrice. ` +
    "Write each item as SKU:qty:unitPrice (qty and unitPrice whole numbers, the price in minor units: 1999 for 19.99), items separated by ; (e.g. SKU-1:2:1999;SKU-2:1:500)"
  );
}

/**
 * One CSV row as an item: empty cells are left out (not given), `a.b` headers nest
 * (shipment.carrier), and an orders `items` cell reads `SKU:qty:unitPrice;SKU:qty:unitPrice`.
 */
function csvRecord(kind: IngestKind, header: string[], cells: string[]): Record<string, unknown> {
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
      // sku:qty:unitPrice, read from the right: a SKU may hold ":" itself (AB:12:1:500 is AB:12 × 1).
      value = cell.split(";").map((part, k) => {
        const p = part.split(":").map((s) => s.trim());
        // A part not of that form: the cell's format said, not "items.0.qty: expected a number"
        // (which names a field the cell never showed). A whole number, a SKU without a comma.
        const whole = p.length >= 3;
        const unitPrice = whole ? p.pop()! : "";
        const qty = whole ? p.pop()! : "";
        const sku = whole ? p.join(":") : "";
        if (!/^[+-]?\d+$/.test(qty) || !/^[+-]?\d+$/.test(unitPrice) || sku === "" || sku.includes(",")) throw new Error(itemsCellProblem(cell, part, k));
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

/**
 * A progress line with rate and ETA, counting finished lines, redrawn on a timer: every second
 * on a terminal (in place, `\r` … clear to end of line), every 10 s as plain lines otherwise.
 */
class Progress {
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  constructor(
    private readonly total: number,
    private readonly out: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined,
    private readonly state: () => { lines: number; bytes: number },
  ) {}

  start(): void {
    if (!this.out) return;
    this.timer = setInterval(() => this.draw(false), this.out.isTTY ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
    this.timer.unref();
  }

  private draw(finished: boolean): void {
    if (!this.out) return;
    const { lines, bytes } = this.state();
    const frac = finished || !this.total ? 1 : Math.min(1, bytes / this.total);
    const secs = Math.max(0.001, (Date.now() - this.t0) / 1000);
    const rate = lines / secs;
    const eta = frac > 0 ? (secs / frac) * (1 - frac) : Infinity;
    const width = 30;
    const filled = Math.round(frac * width);
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${lines} lines done, ${Math.round(rate)} lines/s, ETA ${fmtSecs(eta)}`;
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** The last line: 100% when `finished`, else where it stopped (or failed). */
  stop(finished: boolean): void {
    clearInterval(this.timer);
    if (!this.out) return;
    this.draw(finished);
    if (this.out.isTTY) this.out.write("\n");
  }
}

function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}

/**
 * The report as text lines, in the shop's language (`SHOP_LOCALE`, as the run's other messages):
 * the person at the console is one of the shop's team. Each line's own message (a field's
 * problem, a difference) is the API's, as it answers an integrator, quoted as is.
 */
export function formatReport(r: ImportReport, t: Translate = translator("en")): string {
  const stop = r.interrupted;
  const where = (afterLine: number) => (afterLine ? t("import.report.after_line", { line: afterLine }) : t("import.report.before_first"));
  const stopped = stop ? (stop.by ? t("import.report.stopped_by", { by: stop.by, where: where(stop.afterLine) }) : t("import.report.stopped", { where: where(stop.afterLine) })) : "";
  const csv = /\.csv$/i.test(r.file);
  const line = (d: { line: number; message: string; partly?: boolean }) => t(d.partly ? "import.report.line_partly" : "import.report.line", { line: d.line, message: d.message });
  const more = (n: number) => t("import.report.more", { n });
  const lines = [
    t(r.dryRun ? "import.report.title_dry" : "import.report.title", { kind: r.kind, file: r.file, stopped, n: r.lines, secs: r.seconds.toFixed(1) }),
    // An empty .jsonl, or a CSV with its header only: nothing to do (exit 0), but said, so the wrong file is noticed.
    ...(r.lines === 0 && !stop ? [t(csv ? (r.dryRun ? "import.report.empty_csv_dry" : "import.report.empty_csv") : r.dryRun ? "import.report.empty_jsonl_dry" : "import.report.empty_jsonl")] : []),
    r.dryRun ? t("import.report.valid", { n: r.skipped }) : t("import.report.counts", { imported: r.imported, updated: r.updated, skipped: r.skipped }),
  ];
  if (r.parked) lines.push(t("import.report.parked", { n: r.parked }));
  if (r.stockKept) lines.push(t("import.report.stock_kept", { n: r.stockKept }));
  if (r.differs) {
    lines.push(t("import.report.differs", { n: r.differs }));
    for (const d of r.differences) lines.push(line(d));
    if (r.differs > r.differences.length) lines.push(more(r.differs - r.differences.length));
  }
  if (r.timesNotTaken) {
    lines.push(t("import.report.times_not_taken", { n: r.timesNotTaken }));
    for (const d of r.timesNotTakenLines ?? []) lines.push(line(d));
    if (r.timesNotTaken > (r.timesNotTakenLines?.length ?? 0)) lines.push(more(r.timesNotTaken - (r.timesNotTakenLines?.length ?? 0)));
  }
  if (r.warned) {
    lines.push(t(r.kind === "orders" ? (r.dryRun ? "import.report.warned_orders_dry" : "import.report.warned_orders") : "import.report.warned_stock", { n: r.warned }));
    for (const w of r.warnings ?? []) lines.push(line(w));
    if (r.warned > (r.warnings?.length ?? 0)) lines.push(more(r.warned - (r.warnings?.length ?? 0)));
  }
  lines.push(t("import.report.failed", { n: r.failed }));
  for (const f of r.failures) lines.push(line(f));
  if (r.failed > r.failures.length) lines.push(more(r.failed - r.failures.length));
  if (r.stopAfterEnd) lines.push(r.stopAfterEnd.by ? t("import.report.after_end", { by: r.stopAfterEnd.by }) : t("import.report.after_end_signal"));
  if (stop) lines.push(t("import.report.stop_hint", { where: where(stop.afterLine) }));
  return lines.join("\n") + "\n";
}

/** The command line's form, in the reader's language. */
const usageLine = (t: Translate) => `${t("import.cli.usage", { kinds: INGEST_KINDS.join("|") })}\n`;
/** A second Ctrl-C within this time of the first is the same one delivered twice (npm and tsx relay it), not a second. */
const SIGNAL_ECHO_MS = 500;

async function main(argv: string[]): Promise<number> {
  // The configuration is read first, so what follows is said in the shop's language
  // (SHOP_LOCALE); a configuration problem is held until the command line has been checked: a
  // wrong command line is still said first (in English then, the language being unknown).
  let config: Config | undefined;
  let configError: unknown;
  try {
    config = loadConfig();
  } catch (e) {
    configError = e;
  }
  const t = translator(config?.locale ?? "en");
  const dryRun = argv.includes("--dry-run");
  const rest = argv.filter((a) => a !== "--dry-run");
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(usageLine(t));
    return 0;
  }
  // Command-line mistakes are said plainly, before any database is opened: exit 64 (EX_USAGE).
  const usage = (problem: string) => {
    process.stderr.write(`import: ${problem}\n${usageLine(t)}`);
    return 64;
  };
  const [kind, file, ...extra] = rest;
  const option = rest.find((a) => a.startsWith("-"));
  if (option === "-") return usage(t("import.cli.stdin"));
  if (option) return usage(t("import.cli.unknown_option", { option }));
  if (!kind) return usage(t("import.cli.give_kind"));
  if (!(INGEST_KINDS as readonly string[]).includes(kind)) return usage(t("import.cli.bad_kind", { kind, kinds: INGEST_KINDS.join(", ") }));
  if (!file) return usage(t("import.cli.give_file", { kind }));
  if (extra.length) return usage(t("import.cli.one_file", { extra: extra.join(" ") }));
  try {
    formatOf(file);
  } catch (e) {
    if (!(e instanceof ImportFileError)) throw e;
    return usage(e.say(t));
  }
  // A relative path is taken from where the user typed the command: `npm run` starts scripts in
  // the project's directory and says where it was run in INIT_CWD. Read here rather than in
  // src/config.ts: it locates the file named on this command line, it configures nothing.
  // eslint-disable-next-line no-restricted-properties
  const from = process.env.INIT_CWD || process.cwd();
  const abs = path.resolve(from, file);
  const unreadable = await stat(abs).then(
    (st) => (st.isFile() ? null : t("import.cli.not_a_file")),
    (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? t("import.cli.no_such_file") : e.code === "EACCES" ? t("import.cli.permission_denied") : e.message),
  );
  if (unreadable) return usage(t("import.cli.unreadable", { file: abs, why: unreadable }));
  // A header that does not fit the kind is said before any database is opened, too.
  try {
    await checkFile(kind as IngestKind, abs);
  } catch (e) {
    if (!(e instanceof ImportFileError)) throw e;
    process.stderr.write(`import: ${abs}: ${e.say(t)}\n`);
    return 64;
  }
  // Ctrl-C / SIGTERM: stop reading, let the lines in progress finish, report and audit what was
  // done (exit 130 / 143); another one stops at once.
  const stop = new AbortController();
  let firstSignal = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === "SIGTERM" ? 143 : 130;
    if (!stop.signal.aborted) {
      firstSignal = Date.now();
      const stopping = t(sig === "SIGINT" ? "import.signal.stopping_ctrl_c" : "import.signal.stopping", { signal: sig });
      process.stderr.write(`${process.stderr.isTTY ? "\n" : ""}import: ${stopping}\n`);
      stop.abort(sig);
    } else if (Date.now() - firstSignal >= SIGNAL_ECHO_MS) {
      process.stderr.write(`import: ${t("import.signal.again", { signal: sig })}\n`);
      process.exit(code);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A configuration problem, said as before (exit 78), now that the command line is right.
  if (!config) throw configError;
  const logger = createLogger(config.logLevel);
  const { uri, server, dbName, demo, whereEn: where } = await openDatabase(config, logger);
  // As start-up (src/main.ts): MONGODB_URI's server is given MONGODB_CONNECT_TIMEOUT_SECONDS (or
  // the URI's own serverSelectionTimeoutMS) to answer, not the driver's 30 s, and after 3 s the
  // run says what it waits for.
  const seconds = (uriSelectionTimeoutMs(uri) ?? config.mongodbConnectTimeoutMs) / 1000;
  let conn: Awaited<ReturnType<typeof connect>>;
  try {
    if (!server) await reachServer(uri, { timeoutMs: config.mongodbConnectTimeoutMs, onSlow: () => process.stderr.write(`import: ${translator(config.locale)("startup.db.waiting", { where, seconds })}\n`) });
    conn = await connect(uri, dbName);
  } catch (e) {
    await server?.stop().catch(() => {});
    if (server) throw e;
    // As the bot says it: a configuration problem in plain words, exit 78.
    throw new ConfigError([uriProblem(e, where, seconds)]);
  }
  try {
    const { store, services } = await createBackend({ config, conn, clock: systemClock, logger });
    // A dry run compares the settings without storing or changing them (SHOP_SETTINGS_CHANGE is not taken).
    if (!demo) await checkShopSettings(store, config, undefined, { readOnly: dryRun });
    const who = shellIdentity();
    // On a shop's database the person at the terminal needs the role the same changes need in
    // chat (IMPORT_ROLES), as the shell checks it; refused (exit 1) before any line is applied, on
    // the audit trail as `denied`. The demo's terminal user is its admin; a dry run writes nothing.
    if (!demo && !dryRun) {
      const need = IMPORT_ROLES[kind as IngestKind];
      const role = await services.identity.roleOf(who);
      if (await services.audit.refusedBelow(need, role, { operator: who }, { command: `import ${kind}`, args: path.basename(abs) })) {
        process.stderr.write(`import: ${t("import.denied", { kind, need: t(`role.name.${need}`), needRole: need, operator: who, role: t(`role.name.${role}`) })}\n`);
        return 1;
      }
    }
    let report: ImportReport;
    try {
      report = await runImport({ kind: kind as IngestKind, file: abs, dryRun, ingest: services.ingest, progress: process.stderr, audit: { service: services.audit, who, store }, signal: stop.signal });
    } catch (e) {
      // The file changed since it was checked (its header now missing or not UTF-8): said as that check says it, in the shop's language.
      if (!(e instanceof ImportFileError)) throw e;
      process.stderr.write(`import: ${abs}: ${e.say(t)}\n`);
      return 64;
    }
    process.stdout.write(formatReport(report, t));
    if (report.interrupted) return stop.signal.reason === "SIGTERM" ? 143 : 130;
    return report.failed || report.differs ? 1 : 0;
  } finally {
    await conn.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // SHOP_SETTINGS_CHANGE refused to a non-admin: a refused permission, as the bot answers it
      // (exit 1, audited as denied), said as itself rather than as an invalid configuration.
      if (e instanceof ShopSettingsDeniedError) {
        process.stderr.write(`import: ${e.problems.join(" ")}\n`);
        process.exit(1);
      }
      // As the bot and seed-demo say them: a configuration or start-up problem, exit 78, no stack.
      if (e instanceof ConfigError || e instanceof DatabaseUnavailableError || e instanceof DatabaseStartupError) {
        process.stderr.write(`${e.message}\n`);
        process.exit(78);
      }
      if (e instanceof ImportFileError) {
        process.stderr.write(`import: ${e.message}\n`);
        process.exit(64);
      }
      process.stderr.write(`import failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
