import { TZDate } from "@date-fns/tz";

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

/** The first slot strictly after `after`, or null if none within 5 years. */
export function nextSlot(spec: CronSpec, after: Date): Date | null {
  const local = new TZDate(after.getTime(), spec.timeZone);
  // A schedule over every hour (*/5 * * * *) keeps running through the hour that repeats when
  // clocks go back; one at fixed hours (0 9 * * *) runs once, at the first occurrence.
  const everyHour = spec.hours.length === 24;
  // Walk local calendar days; within a matching day, try its hours and minutes in order.
  const start = Date.UTC(local.getFullYear(), local.getMonth(), local.getDate());
  for (let i = 0; i < 366 * 5; i++) {
    const day = new Date(start + i * 86_400_000);
    const y = day.getUTCFullYear();
    const m = day.getUTCMonth() + 1;
    const d = day.getUTCDate();
    if (!dayMatches(spec, y, m, d)) continue;
    for (const h of spec.hours) {
      // On the first day, hours before the current local hour are past (saves work).
      if (i === 0 && h < local.getHours()) continue;
      const firsts: Date[] = [];
      for (const mi of spec.minutes) {
        const at = new TZDate(y, m - 1, d, h, mi, 0, spec.timeZone);
        // A time that does not exist locally (DST gap) lands elsewhere. Every-hour schedules
        // skip it; a fixed-hour one runs at the first local time after the gap.
        if (at.getHours() !== h || at.getMinutes() !== mi || at.getDate() !== d) {
          if (everyHour) continue;
          const jumped = new TZDate(y, m - 1, d, h + 1, 0, 0, spec.timeZone);
          if (jumped.getHours() === h + 1 && jumped.getMinutes() === 0 && jumped.getDate() === d && jumped.getTime() > after.getTime()) return new Date(jumped.getTime());
          continue;
        }
        if (at.getTime() > after.getTime()) return new Date(at.getTime());
        if (everyHour) firsts.push(at);
      }
      // The hour again, when it repeats (clocks went back): its minutes an hour later, in order.
      for (const at of firsts) {
        const again = new TZDate(at.getTime() + 3_600_000, spec.timeZone);
        if (again.getHours() === h && again.getMinutes() === at.getMinutes() && again.getDate() === d && again.getTime() > after.getTime()) return new Date(again.getTime());
      }
    }
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
