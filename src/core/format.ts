import { TZDate } from "@date-fns/tz";
import { format as fmtDate } from "date-fns";
import type { Locale } from "./messages.js";
import { foldWidth, withoutInvisible } from "./text.js";

// Intl.NumberFormat objects are costly to build: one per currency (and locale) for the process.
const factors = new Map<string, number>();
const moneyFormats = new Map<string, Intl.NumberFormat>();

const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** True for an ISO 4217 currency code in capitals that this runtime knows (USD, CNY, EUR…; not XYZ). */
export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && CURRENCIES.has(code);
}

/** Decimals of a currency's major unit (2 for USD, 0 for JPY, 3 for KWD). */
export function minorUnitDigits(currency: string): number {
  return Math.round(Math.log10(minorUnitFactor(currency)));
}

/**
 * An amount in minor units as machines and the audit trail write it: major units and the
 * currency code (`5.00 USD`, `1500 JPY`), as the API takes amounts back.
 */
export function majorUnits(amount: number, currency: string): string {
  return `${(amount / minorUnitFactor(currency)).toFixed(minorUnitDigits(currency))} ${currency}`;
}

/** Number of minor units per major unit of a currency (100 for USD, 1 for JPY). */
export function minorUnitFactor(currency: string): number {
  let factor = factors.get(currency);
  if (factor === undefined) {
    const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    factor = 10 ** digits;
    factors.set(currency, factor);
  }
  return factor;
}

/** The currency format of an Intl locale. */
function moneyFormat(intlLocale: string, currency: string): Intl.NumberFormat {
  const key = `${intlLocale}|${currency}`;
  let f = moneyFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(intlLocale, { style: "currency", currency });
    moneyFormats.set(key, f);
  }
  return f;
}

/** Formats money, dates and numbers for one locale, currency and shop time zone. */
export class Formatter {
  private readonly intlLocale: string;

  constructor(
    readonly locale: Locale,
    readonly timeZone: string,
    readonly currency: string,
  ) {
    this.intlLocale = locale === "zh-CN" ? "zh-CN" : "en-US";
  }

  /** Formats an amount in minor units (cents, fen) with its currency. */
  money(minor: number, currency: string = this.currency): string {
    return moneyFormat(this.intlLocale, currency).format(minor / minorUnitFactor(currency));
  }

  /** {@link money} with a negative amount's minus sign as the digests print it (U+2212: −¥4,300.00, as their changes read). */
  figure(minor: number, currency: string = this.currency): string {
    return this.money(minor, currency).replace("-", "\u2212");
  }

  /** Formats a number with grouping and at most `digits` decimals. */
  number(n: number, digits = 0): string {
    return new Intl.NumberFormat(this.intlLocale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
  }

  /**
   * A fraction as a percentage with exactly one decimal (0.14 → "14.0%", 0 → "0.0%"), so a
   * column of percentages lines up; `signed`: a change, "+12.5%", "−3.0%" (U+2212), "±0.0%".
   */
  percent(fraction: number, opts: { signed?: boolean } = {}): string {
    const p = Math.abs(fraction) * 100;
    const text = new Intl.NumberFormat(this.intlLocale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(p) + "%";
    // The sign of what is shown: −0.04% reads ±0.0%, not −0.0%.
    const shown = Math.round(p * 10) === 0 ? 0 : Math.sign(fraction);
    if (opts.signed) return (shown > 0 ? "+" : shown < 0 ? "\u2212" : "±") + text;
    return (shown < 0 ? "\u2212" : "") + text;
  }

  /**
   * A date and time in the shop time zone with its UTC offset, e.g. 2026-11-25 14:03 GMT+8: the
   * offset tells apart the two 01:30s of a night the clocks go back (GMT-4, then GMT-5 in New York).
   */
  dateTime(d: Date): string {
    return fmtDate(new TZDate(d, this.timeZone), "yyyy-MM-dd HH:mm zzz");
  }

  /** The shop-local day (YYYY-MM-DD) of an instant. */
  day(d: Date): string {
    return localDay(d, this.timeZone);
  }
}

/** The local calendar day (YYYY-MM-DD) of `d` in time zone `tz`. */
export function localDay(d: Date, tz: string): string {
  return fmtDate(new TZDate(d, tz), "yyyy-MM-dd");
}

/** Adds `n` days to a YYYY-MM-DD day string (calendar arithmetic, no time zone). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return t.toISOString().slice(0, 10);
}

/** Chinese day words, as the English ones the date parsers take. */
const DAY_WORDS: Readonly<Record<string, string>> = { 今天: "today", 今日: "today", 昨天: "yesterday", 昨日: "yesterday", 明天: "tomorrow", 明日: "tomorrow", 现在: "now" };

/** The day before yesterday as typed (前天): kept so by {@link normalizeDateInput}, read as a day once today is known. */
const DAY_BEFORE_YESTERDAY = "前天";

/**
 * Words for a day, week or month that need today, as typed in either language, in the one spelling
 * {@link normalizeDateInput} gives them ({@link readDateInput} and `since=` read them once today is known):
 * 后天 the day after tomorrow; 月底 the last day of this month; weeks and months for `since=`.
 */
const RELATIVE_WORDS: Readonly<Record<string, string>> = {
  后天: "后天", "day after tomorrow": "后天", "the day after tomorrow": "后天",
  月底: "月底", 月末: "月底", 本月底: "月底", 这个月底: "月底", "end of month": "月底", "end of the month": "月底", "month end": "月底",
  本周: "this week", 这周: "this week", 本星期: "this week", 这星期: "this week", 这个星期: "this week", 本礼拜: "this week", 这礼拜: "this week",
  上周: "last week", 上星期: "last week", 上个星期: "last week", 上礼拜: "last week", 上个礼拜: "last week",
  本月: "this month", 这个月: "this month", 这月: "this month", 上个月: "last month", 上月: "last month",
};

/**
 * A time of day as people type it, as HH:mm: `9pm`, `9:30 pm`, `12am` (00:00), 10点, 10点半,
 * 10点30分, 10时, 下午3点 (15:00), 晚上8点, 中午12点; with `head` what comes before it (a day, or
 * nothing). Only a time that says it is one (点/时, am/pm, or 上午/下午…) is read; null otherwise.
 */
function typedClock(v: string): { head: string; time: string } | null {
  const m = /^(.*?)\s*(上午|早上|早晨|凌晨|中午|下午|晚上|傍晚|夜里)?\s*(\d{1,2})(?:(点半)|(?:点|时)(?:(\d{1,2})分?)?|:(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(v);
  if (!m || (!m[2] && !m[4] && !/[点时]/.test(v.slice(m[1]!.length)) && !m[7])) return null;
  let h = Number(m[3]);
  const min = m[4] ? 30 : Number(m[5] ?? m[6] ?? 0);
  const pm = m[7]?.startsWith("p") || /下午|晚上|傍晚|夜里/.test(m[2] ?? "") || (m[2] === "中午" && h < 11);
  const am = m[7]?.startsWith("a") || /上午|早上|早晨|凌晨/.test(m[2] ?? "");
  // 12am is midnight, 12pm noon; a 12-hour clock has no 13pm (left as typed, for the parser to refuse).
  if (m[7] && (h < 1 || h > 12)) return null;
  if (pm && h < 12) h += 12;
  else if (am && h === 12) h = 0;
  if (h > 23 || min > 59) return null;
  return { head: m[1]!.trim(), time: `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}` };
}

/**
 * A date as typed, in the spelling the date parsers take: full-width digits and signs made
 * plain ({@link foldWidth}; not NFKC, which reads ² or ⑤ as digits), invisible characters (a
 * zero-width space pasted with it) removed, lower case, 今天 / 昨天 / 明天 / 现在 as today /
 * yesterday / tomorrow / now, and 2026/11/24, 2026.11.24, 2026-1-5, 2026年11月24日 or
 * 2026年11月24号 as 2026-11-24 (a time after it is kept, also written right after 日/号:
 * 12月12日10:00); spans as Chinese teams type them, 7天 and 3小时 (+7天 too), as 7d and 3h.
 * Two need today, which this does not know: 前天 is kept, and a day without a year (11月24日,
 * 11月24号, or month/day 11/24) is written MM-DD (11-24); {@link readDateInput} reads both as days.
 * Anything else is returned trimmed, for the parser to refuse.
 */
export function normalizeDateInput(s: string): string {
  const typed = withoutInvisible(foldWidth(s)).trim().toLowerCase().replace(/\s+/g, " ");
  // A time said so (下午3点, 9pm, 12月1日10点) as HH:mm, after its day: 12月1日 10:00, "明天 15:00", or 15:00 alone.
  const clock = typedClock(typed);
  const v = clock ? (clock.head ? `${normalizeDateInput(clock.head)} ${clock.time}` : clock.time) : typed;
  const word = DAY_WORDS[v] ?? RELATIVE_WORDS[v];
  if (word) return word;
  const span = /^(\+?\d+) ?(天|小时|个小时)$/.exec(v);
  if (span) return `${span[1]}${span[2] === "天" ? "d" : "h"}`;
  // Weeks as days: 1w, 2周, 1个星期 (+1w ahead) as 7d, 14d, 7d (+7d).
  const weeks = /^(\+?)(\d{1,4}) ?(w|周|星期|个星期|礼拜|个礼拜)$/.exec(v);
  if (weeks) return `${weeks[1]}${Number(weeks[2]) * 7}d`;
  // What follows the day: nothing, a time after a space or T, or one right after 日/号 (given a space).
  const rest = (from: number) => v.slice(from).replace(/^(?=\d)/, " ");
  const m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?:[日号](?=\d)|[日号]?(?=$|[t ]))/.exec(v);
  if (m) return `${m[1]}-${m[2]!.padStart(2, "0")}-${m[3]!.padStart(2, "0")}${rest(m[0].length)}`;
  // A day of the month without a year: with 月 and 日/号, or month/day (11/24), as both the shop's
  // locales write it (en as en-US, zh-CN); 24/11 is left as typed, for the parser to refuse.
  const md = /^(\d{1,2})月(\d{1,2})[日号](?=$|[t ]|\d)/.exec(v) ?? /^(0?[1-9]|1[0-2])\/(\d{1,2})(?=$|[t ])/.exec(v);
  if (md) return `${md[1]!.padStart(2, "0")}-${md[2]!.padStart(2, "0")}${rest(md[0].length)}`;
  return v;
}

/**
 * A day typed day/month (24/11; with `whole` false, also with a time after it: 24/11 10:00):
 * its first number is no month, while a day without a year reads month/day
 * ({@link normalizeDateInput}). That day written month/day (11/24), for the refusal to show; else null.
 */
export function dayFirst(s: string, whole = false): string | null {
  const m = (whole ? /^(1[3-9]|2\d|3[01])\/(0?[1-9]|1[0-2])$/ : /^(1[3-9]|2\d|3[01])\/(0?[1-9]|1[0-2])(?=$|[t ])/).exec(s);
  return m ? `${m[2]}/${m[1]}` : null;
}

/**
 * {@link normalizeDateInput}, with the days that need today read against `today` (the shop-local
 * day, YYYY-MM-DD): 前天 as two days before it, and a day without a year (11月24日, or 11-24)
 * in the year of `today` (with `next`: the next such day, today or later, for dates ahead; with
 * `last`: the most recent one, today or earlier, for days looked back at: 02-29 the latest real
 * one, however many years back), as YYYY-MM-DD (a time after it is kept). That day is not
 * checked otherwise: 02-29 in a year without one gives 2026-02-29, for the parser to refuse.
 */
export function readDateInput(s: string, today: string, yearless: "this_year" | "next" | "last" = "this_year"): string {
  const v = normalizeDateInput(s);
  if (v === DAY_BEFORE_YESTERDAY) return addDays(today, -2);
  if (v === "后天") return addDays(today, 2);
  // The end of this month: its last day (an end= on it runs to the end of that day).
  if (v === "月底") return addDays(`${monthStart(today, 1)}`, -1);
  if (!/^\d{2}-\d{2}(?=$|[t ])/.test(v)) return v;
  const year = Number(today.slice(0, 4));
  // For a date ahead (an arrival, a coupon's end), a day already past this year is next year's.
  const next = yearless === "next" && `${year}-${v.slice(0, 5)}` < today;
  // For a day looked back at (a digest, since=), one still ahead this year is last year's (12-31 in January).
  const last = yearless === "last" && `${year}-${v.slice(0, 5)}` > today;
  let y = next ? year + 1 : last ? year - 1 : year;
  // 02-29 looked back at is the latest real one (2024-02-29 in January 2027), not a missing day of the year before.
  if (yearless === "last" && v.startsWith("02-29")) while (!isDay(`${y}-02-29`)) y--;
  return `${y}-${v}`;
}

/** A 29 February typed for a year that has none, and the days to type instead: see {@link missingLeapDay}. */
export interface MissingLeapDay {
  /** The year typed, or the one a day without a year was read in (2027). */
  year: number;
  /** The next 29 February there is (2028-02-29). */
  leap: string;
  /** The days either side in that year (2027-02-28, 2027-03-01). */
  before: string;
  after: string;
}

/**
 * A date ahead read as {@link readDateInput} with `next` reads it (2月29日, 2/29, or 2027-02-29,
 * a time after it too) that falls on a 29 February its year lacks: the year, the next real one
 * and the days either side, for a refusal that says which day to type; null for any other value.
 */
export function missingLeapDay(s: string, today: string): MissingLeapDay | null {
  const v = readDateInput(s, today, "next").slice(0, 10);
  if (!/^\d{4}-02-29$/.test(v) || isDay(v)) return null;
  const year = Number(v.slice(0, 4));
  let y = year + 1;
  while (!(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) y++;
  return { year, leap: `${y}-02-29`, before: `${year}-02-28`, after: `${year}-03-01` };
}

/** The first day of the month `n` months after (before, when negative) the month of `day` (YYYY-MM-DD). */
function monthStart(day: string, n: number): string {
  const [y, m] = day.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 10);
}

const EN_WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const ZH_WEEKDAYS = "日一二三四五六";

/**
 * A weekday as people name a day, read against `today` (YYYY-MM-DD): `friday`/`fri`,
 * 周五/星期五/礼拜五 (周日 or 周天 for Sunday) are the latest such day, today or before, as a day
 * without a year is; `last friday` the latest before today (on a Friday, a week ago, where
 * `friday` is today); 上周五 is the Friday of last week and 本周五 (这周五) this week's, weeks
 * starting on Monday as Chinese calendars count them. Null: no weekday. (`digest` and `since=`.)
 */
export function weekdayDay(value: string, today: string): string | null {
  const v = value.trim().toLowerCase().replace(/\s+/g, " ");
  const dow = new Date(`${today}T12:00:00Z`).getUTCDay();
  const last = /^last (\S+)$/.exec(v);
  const word = last ? last[1]! : v;
  const en = EN_WEEKDAYS.findIndex((w) => word === w || word === w.slice(0, 3));
  // `last friday` is never today: a week back when today is one.
  if (en >= 0) return addDays(today, -((dow - en + 7) % 7 || (last ? 7 : 0)));
  const zh = /^(上|本|这)?(?:周|星期|礼拜)([一二三四五六日天])$/.exec(v);
  if (!zh) return null;
  const target = ZH_WEEKDAYS.indexOf(zh[2] === "天" ? "日" : zh[2]!);
  if (!zh[1]) return addDays(today, -((dow - target + 7) % 7));
  // Monday-based: Monday 0 … Sunday 6.
  return addDays(mondayOf(today), (zh[1] === "上" ? -7 : 0) + ((target + 6) % 7));
}

/** The Monday of the week of `day` (YYYY-MM-DD), weeks starting on Monday. */
function mondayOf(day: string): string {
  return addDays(day, -((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7));
}

/**
 * The day a `since=` week, month or weekday word means, read against `today` (YYYY-MM-DD), as
 * calendar days in the shop's time zone, weeks starting on Monday (as Chinese calendars count them,
 * and as `digest 上周五` does): `this week` (本周) its Monday, `last week` (上周) the Monday before,
 * `this month` (本月) its 1st, `last month` (上个月) the 1st of the month before; a weekday as
 * `digest` reads it ({@link weekdayDay}). Null: none of these.
 */
export function periodDay(value: string, today: string): string | null {
  const v = value.trim().toLowerCase().replace(/\s+/g, " ");
  if (v === "this week") return mondayOf(today);
  if (v === "last week") return addDays(mondayOf(today), -7);
  if (v === "this month") return monthStart(today, 0);
  if (v === "last month") return monthStart(today, -1);
  return weekdayDay(v, today);
}

/** The days month `month` (1–12) of `year` has: 28 to 31. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True for a calendar day written YYYY-MM-DD that exists (2026-02-30 does not). */
export function isDay(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && addDays(s, 0) === s;
}

/** The instant a shop-local day starts (midnight in `tz`; DST-safe). */
export function dayStart(day: string, tz: string): Date {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(new TZDate(y, m - 1, d, 0, 0, 0, tz).getTime());
}

/** Graphemes (user-perceived characters): an emoji sequence or a letter with its accents is one. */
const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** An emoji drawn as one: emoji by default, or made one by U+FE0F (❤️, 1️⃣), with a skin tone or joined (👨‍👩‍👧). */
const EMOJI_PRESENTATION = /\p{Emoji_Presentation}|\p{Emoji}\uFE0F|\p{Emoji_Modifier}|\p{Extended_Pictographic}\u200D/u;

/** Cells a code point takes by itself: CJK and full-width 2, marks, joiners and other invisible ones 0, the rest 1. */
function codePointWidth(c: number): number {
  // Combining marks, zero-width space/joiners, word joiner, variation selectors, BOM.
  if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || c === 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff) return 0;
  return (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x20000 && c <= 0x3fffd)
    ? 2
    : 1;
}

/**
 * Display width of a string in a monospace terminal or code block, by grapheme: CJK characters
 * and emoji (🎁, ❤️, a joined family 👨‍👩‍👧 or a flag) take two cells, whatever code points they
 * are made of; accents, joiners, variation selectors and zero-width spaces (which break backtick
 * runs in table cells) none; the rest one.
 */
export function displayWidth(s: string): number {
  // Printable ASCII: one cell a character.
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let w = 0;
  for (const { segment } of GRAPHEMES.segment(s)) {
    if (EMOJI_PRESENTATION.test(segment)) {
      w += 2;
      continue;
    }
    // A grapheme is as wide as its base (its first visible code point): marks and joiners take no cell.
    for (const ch of segment) {
      const cw = codePointWidth(ch.codePointAt(0) ?? 0);
      if (cw > 0) {
        w += cw;
        break;
      }
    }
  }
  return w;
}
