import { TZDate, tzOffset } from "@date-fns/tz";

/**
 * A parsed 5-field cron expression (`minute hour day-of-month month day-of-week`),
 * evaluated in a time zone. node-cron only ticks the scheduler once a minute;
 * this computes each job's slots (next, latest due) so the scheduler can claim
 * them and a test can drive it with a controlled clock.
 *
 * Syntax: `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`,
 * month and day names (`JAN`, `MON`); day-of-week 0–7 with 0 and 7 Sunday.
 * As in Vixie cron, when both day-of-month and day-of-week are restricted a
 * day matches if either does; a field starting with `*` (`*`, `*\/2`) counts as unrestricted,
 * so `0 9 *\/2 * 1` runs on odd days that are Mondays (both must match). A local time skipped by a DST change runs when the clocks
 * have jumped (as in Vixie cron), for schedules at fixed hours: the day's 02:30 digest still
 * goes out in New York on the day clocks spring forward, at 03:00. Schedules over every hour
 * just have no slots in the gap. A repeated local time has one slot (its first occurrence),
 * except for schedules over every hour, which run through both.
 */
export interface CronSpec {
  readonly expression: string;
  readonly timeZone: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domAny: boolean;
  readonly dowAny: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** Raised for an expression that is not valid 5-field cron. */
export class CronError extends Error {
  constructor(expression: string, problem: string) {
    super(`"${expression}" is not a valid cron expression (minute hour day month weekday): ${problem}`);
    this.name = "CronError";
  }
}

function parseField(expr: string, field: string, min: number, max: number, names?: string[]): { values: number[]; any: boolean } {
  const out = new Set<number>();
  const value = (s: string): number => {
    const up = s.toUpperCase();
    const named = names?.indexOf(up) ?? -1;
    if (named >= 0) return named + (names === MONTHS ? 1 : 0);
    if (!/^\d+$/.test(s)) throw new CronError(expr, `${field}: "${s}" is not a number`);
    const n = Number(s);
    if (n < min || n > max) throw new CronError(expr, `${field}: ${n} is outside ${min}-${max}`);
    return n;
  };
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    if (range === undefined || range === "") throw new CronError(expr, `${field}: empty item`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(expr, `${field}: bad step "${stepText}"`);
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [min, max];
    else if (range.includes("-")) {
      const [a, b] = range.split("-");
      lo = value(a ?? "");
      hi = value(b ?? "");
      if (lo > hi) throw new CronError(expr, `${field}: range ${range} runs backwards`);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  // Vixie cron marks a day field starting with `*` (`*`, `*/2`) as unrestricted (DOM_STAR/DOW_STAR):
  // the two day fields are then ANDed, not ORed.
  return { values: [...out].sort((a, b) => a - b), any: field.startsWith("*") };
}

/** Parses a 5-field cron expression for a time zone; throws {@link CronError}. */
export function parseCron(expression: string, timeZone: string): CronSpec {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new CronError(expression, `expected 5 fields, got ${fields.length}`);
  const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
  // Day-of-week is checked first: with several bad fields, its problem is the one reported.
  const daysOfWeek = parseField(expression, dow, 0, 7, DAYS);
  const minutes = parseField(expression, mi, 0, 59);
  const hours = parseField(expression, h, 0, 23);
  const daysOfMonth = parseField(expression, dom, 1, 31);
  const months = parseField(expression, mo, 1, 12, MONTHS);
  return {
    expression,
    timeZone,
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: new Set(daysOfMonth.values),
    months: new Set(months.values),
    daysOfWeek: new Set(daysOfWeek.values.map((d) => d % 7)),
    domAny: daysOfMonth.any,
    dowAny: daysOfWeek.any,
  };
}

/** True when the day fields match every day, as {@link dayMatches} reads them (months aside). */
export function holdsEveryDay(spec: CronSpec): boolean {
  const allDom = spec.daysOfMonth.size === 31;
  const allDow = spec.daysOfWeek.size === 7;
  return spec.domAny || spec.dowAny ? allDom && allDow : allDom || allDow;
}

function dayMatches(spec: CronSpec, y: number, m: number, d: number): boolean {
  if (!spec.months.has(m)) return false;
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const domOk = spec.daysOfMonth.has(d);
  const dowOk = spec.daysOfWeek.has(dow);
  // Either field unrestricted (starting with `*`): both must match (a plain `*` holds every day);
  // both restricted: either may (Vixie cron).
  if (spec.domAny || spec.dowAny) return domOk && dowOk;
  return domOk || dowOk;
}

/** The zone's UTC offset at `ms`, in minutes east (Lord Howe's +10:30 is 630). */
function offsetAt(timeZone: string, ms: number): number {
  return tzOffset(timeZone, new Date(ms));
}

/**
 * The zone's offsets (minutes east) around the local day starting at `day` (its date as UTC
 * midnight), and the instant they change, if they do: the window is wide enough for the local
 * day in any zone (UTC−12 to UTC+14). Offsets are read from the zone, not from TZDate's reading
 * of a wall time, which picks the second of a repeated time in some zones (Sydney, London, Lord
 * Howe) and the first in others (New York).
 */
function dayOffsets(timeZone: string, day: number): { before: number; after: number; change: number } {
  let lo = day - 15 * 3_600_000;
  let hi = day + 37 * 3_600_000;
  const before = offsetAt(timeZone, lo);
  const after = offsetAt(timeZone, hi);
  if (before === after) return { before, after, change: hi };
  // Changes fall on whole minutes: the first minute on the new offset.
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (offsetAt(timeZone, mid) === after) hi = mid;
    else lo = mid;
  }
  return { before, after, change: hi };
}

/** The first slot strictly after `after`, or null if none within 5 years. */
export function nextSlot(spec: CronSpec, after: Date): Date | null {
  const local = new TZDate(after.getTime(), spec.timeZone);
  const floor = after.getTime();
  // A schedule over every hour (*/5 * * * *) keeps running through the time that repeats when
  // clocks go back; one at fixed hours (0 9 * * *) runs once, at the first occurrence.
  const everyHour = spec.hours.length === 24;
  const start = Date.UTC(local.getFullYear(), local.getMonth(), local.getDate());
  for (let i = 0; i < 366 * 5; i++) {
    const day = start + i * 86_400_000;
    const date = new Date(day);
    if (!dayMatches(spec, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())) continue;
    const { before, after: later, change } = dayOffsets(spec.timeZone, day);
    // The earliest slot of the day after `after`. A wall time read with the offset before the
    // change is valid before it, with the one after from it on: none in the gap when clocks
    // jump forward (by an hour, or half an hour on Lord Howe), both in the time they repeat.
    let best = Infinity;
    for (const h of spec.hours) {
      for (const mi of spec.minutes) {
        const wall = day + (h * 60 + mi) * 60_000;
        const first = wall - before * 60_000;
        const second = wall - later * 60_000;
        const at = [first < change ? first : NaN, second >= change ? second : NaN].filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
        // In the gap: a fixed-hour schedule runs when the clocks have jumped (its day's slot,
        // as in Vixie cron), unless they jump into the next day; an every-hour one has no slot there.
        const slots = at.length === 0 ? (everyHour || new TZDate(change, spec.timeZone).getDate() !== date.getUTCDate() ? [] : [change]) : everyHour ? at : at.slice(0, 1);
        for (const t of slots) if (t > floor && t < best) best = t;
      }
    }
    if (best !== Infinity) return new Date(best);
  }
  return null;
}

/** The latest slot in (`from`, `to`], or null. */
export function latestSlot(spec: CronSpec, from: Date, to: Date): Date | null {
  let last: Date | null = null;
  let cur = nextSlot(spec, from);
  while (cur && cur.getTime() <= to.getTime()) {
    last = cur;
    cur = nextSlot(spec, cur);
  }
  return last;
}
