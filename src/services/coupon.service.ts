import { createHash } from "node:crypto";
import { TZDate } from "@date-fns/tz";
import type { Clock } from "../core/clock.js";
import { format as fmtDate } from "date-fns";
import { addDays, dayStart, daysInMonth, isDay, localDay, minorUnitDigits, missingLeapDay, readDateInput } from "../core/format.js";
import { addLocalDays, localTime, plainTyped, type LocalTime } from "../core/args.js";
import type { Translate } from "../core/messages.js";
import { shortId } from "../core/ids.js";
import { editDistance, escapeRegex, splitList, withoutInvisible } from "../core/text.js";
import { kebab, quote } from "../core/parser.js";
import type { CouponDoc, CouponDraftDoc, OrderDoc, ProductDoc, Store } from "../store/models.js";
import { PAID_STATUSES } from "./order-status.js";
import { namesCurrency, parseAmount, withoutCurrencySign } from "./refund.service.js";
import { VIEW_FIELDS, type StockService } from "./stock.service.js";
import { isDuplicateKey } from "../store/writes.js";

/** Options of the coupon service. */
export interface CouponOptions {
  timeZone: string;
  currency: string;
  /** Expected sales uplift while a coupon runs, percent. */
  upliftPercent: number;
}

/** How long a preview can be confirmed. */
export const DRAFT_TTL_MS = 30 * 60_000;
/**
 * How long a Confirm may take between claiming its draft and inserting the coupon. A draft still
 * `confirming` this long after its preview expired (a claim is only taken before that) was left by
 * a Confirm that died, not one under way.
 */
export const CONFIRM_STUCK_MS = 10 * 60_000;
/** Days of sales assumed for the stock warning of a coupon without an end. */
export const OPEN_ENDED_DAYS = 14;
/** How far ahead a coupon may start or end, in years. */
export const MAX_AHEAD_YEARS = 5;
/**
 * Transitions older than this when first seen (first deployment, long downtime) are not announced
 * by the coupon-schedule job; nor, at its resume, the start of a coupon that was not paused then.
 */
export const NOTICE_WINDOW_MS = 24 * 3_600_000;
/** Coupons {@link CouponService.list} reads at most. */
export const LIST_MAX = 500;
/** Coupon codes: letters, digits, - and _, 3–20 characters (stored upper-case). */
export const CODE_RE = /^[A-Z0-9][A-Z0-9_-]{2,19}$/;

/** The options of `coupon launch`, in the order a line writes them. */
export const LAUNCH_OPTIONS = ["code", "type", "value", "min", "start", "end", "limit", "perCustomer", "skus", "categories"] as const;
export type LaunchOption = (typeof LAUNCH_OPTIONS)[number];

/**
 * A whole `coupon launch` line with the options given (`code=SAVE10 type=percent value=10`), in
 * the order {@link LAUNCH_OPTIONS} writes them, each value quoted when it needs it: a line the
 * adapters show as their users type it (Slack `/ops coupon launch …`, Discord `/coupon launch value:10 …`).
 */
export function launchLine(options: Partial<Record<LaunchOption, string | undefined>>): string {
  return ["coupon launch", ...LAUNCH_OPTIONS.filter((k) => options[k] !== undefined).map((k) => `${kebab(k)}=${quote(options[k]!)}`)].join(" ");
}

/** What `coupon launch` was given, as typed. */
export interface LaunchInput {
  code: string;
  type: "percent" | "fixed";
  value: string;
  min?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
  limit?: string | undefined;
  perCustomer?: string | undefined;
  skus?: string | undefined;
  categories?: string | undefined;
  actor: string;
}

/** The checked parameters of a coupon. */
export interface CouponParams {
  code: string;
  type: "percent" | "fixed";
  value: number;
  currency: string;
  minSpend: number;
  startsAt: Date;
  endsAt?: Date;
  limit?: number;
  perCustomer?: number;
  skus: string[];
  categories: string[];
}

/**
 * A typed local time that a clock change skips (`gap`: taken as the instant the clocks jump to,
 * `taken`) or repeats (`repeated`: taken as its first occurrence, at UTC offset `offset`).
 */
export interface TimeNote {
  field: "start" | "end";
  kind: "gap" | "repeated";
  /** The local day (YYYY-MM-DD) and time (HH:mm) as asked. */
  day: string;
  time: string;
  taken: string;
  zone: string;
  offset: string;
}

/** A {@link TimeNote} as a sentence for the preview. */
export function timeNoteText(n: TimeNote, t: Translate): string {
  return t(`coupon.problem.time_${n.kind}`, noteParams(n));
}

/** The message parameters of a {@link TimeNote}. */
const noteParams = (n: TimeNote) => ({ field: n.field, time: n.time, day: n.day, zone: n.zone, taken: n.taken, offset: n.offset });

/** A guardrail that stops the launch; `code` is stable, params fill the message. */
export interface Problem {
  code: string;
  /** The message (`coupon.problem.<message>`) when it is more specific than the code's own. */
  message?: string;
  /** A list (unknown SKUs) is joined in the reader's language by {@link problemText}. */
  params: Record<string, string | number | readonly string[]>;
}

/** A warning shown in the preview (the launch may still be confirmed). */
export type Warning =
  | { kind: "overlap"; codes: string[]; states: CouponState[] }
  | { kind: "below_cost"; count: number; worst: { sku: string; name: string; price: number; priceAfter: number; cost: number; marginPct: number } }
  | { kind: "stock"; count: number; items: { sku: string; available: number; expected: number }[] }
  /** Paid orders already carrying the code, placed before the coupon's start (not its uses): `last` is the latest one's time. */
  | { kind: "used_before"; code: string; count: number; last: Date };

/** Outcome of {@link CouponService.preview}. */
export type PreviewResult =
  | { kind: "invalid"; problems: Problem[] }
  | { kind: "preview"; draft: CouponDraftDoc; params: CouponParams; warnings: Warning[]; targets: number; notes: TimeNote[] };

/** Outcome of {@link CouponService.confirm}. */
export type ConfirmResult =
  | { kind: "confirmed"; coupon: CouponDoc }
  | { kind: "already_confirmed"; coupon: CouponDoc }
  | { kind: "not_found" }
  | { kind: "stale"; why: "edited" | "superseded" | "expired" | "cancelled" | "ended"; code: string }
  | { kind: "code_taken"; code: string };

/** Shown state of a coupon at an instant. */
export type CouponState = "active" | "scheduled" | "paused" | "expired";

/**
 * A transition for the coupon-schedule job to announce: new (`claim` unset: claim it first), or
 * claimed before and not finished (`claim`: by a run or command that stopped before queuing it,
 * or one still under way), taken over by its attempt; `stale` when the coupon has ended since
 * (a "live" claim), so the claim is released instead.
 */
export interface ScheduleDue {
  coupon: CouponDoc;
  kind: "live" | "expired";
  /** The claim as read: its time and attempt (0: a claim from before attempts were counted). */
  claim?: { at: Date; attempt: number };
  stale?: true;
}

/** Redemption figures of a code (from paid orders carrying it). */
export interface Redemptions {
  uses: number;
  customers: number;
  /** Totals and discounts of the uses in the shop currency (`currency`). */
  revenue: number;
  discount: number;
  currency: string;
  /** Uses in another currency: counted in `uses`, left out of revenue and discount. */
  otherCurrency: number;
  /** Refunds executed on those orders (shop currency): revenue − refunded is their net. */
  refunded: number;
  /** Paid orders carrying the code but placed outside the coupon's dates: not counted above. */
  outside: number;
  /**
   * Paid orders carrying the code, placed within its dates but while it was paused in shopops
   * (see {@link pausedSpans}): not counted above. shopops does not reach the storefront, which
   * may have kept accepting the code.
   */
  paused: number;
  /**
   * Customers whose counted uses exceed the coupon's per-customer limit, most uses first: the
   * storefront enforces limits, shopops reports an overrun (empty without a per-customer limit).
   */
  overPerCustomer: { customer: string; uses: number }[];
}

/**
 * The return on a coupon's discount, as a fraction: (net − discount) ÷ discount, where net is
 * the revenue of its uses (paid orders, after the discount) minus the refunds on them, in the
 * shop currency: the figures `coupon show` gives. No cost of goods and no incrementality (the
 * bot knows neither). Undefined when no discount was given (no uses, or a 0 discount).
 */
export function couponRoi(r: Pick<Redemptions, "revenue" | "refunded" | "discount">): number | undefined {
  return r.discount > 0 ? (r.revenue - r.refunded - r.discount) / r.discount : undefined;
}

/**
 * One entry of a coupon's history, as far as counting its uses needs it. Actions: launched,
 * pause, resume, expire, and start_cancelled (written with an expire before the start; `at` is
 * the start it was to have, see {@link neverRanFrom}).
 */
export interface CouponHistoryEntry {
  action?: string | null;
  at?: Date | null;
}

/**
 * A coupon's dates, for counting its uses: orders placed in [startsAt, endsAt), and, when its
 * history is given, not while it was paused.
 */
export type CouponWindow = Pick<CouponDoc, "_id" | "startsAt" | "endsAt"> & { history?: readonly CouponHistoryEntry[] | null; perCustomer?: number | null };

/** A span of time [from, to); no `to`: still open. */
export interface Span {
  from: Date;
  to?: Date;
}

/**
 * Coupon launches (preview → confirm) and their life cycle. A preview stores a
 * draft with a hash of its parameters; Confirm carries the draft id and hash,
 * so a stale or edited preview is refused. The coupon's _id is its upper-case
 * code, which makes codes unique case-insensitively and a replayed confirm
 * harmless.
 */
export class CouponService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly stock: StockService,
    private readonly opts: CouponOptions,
  ) {}

  /**
   * Parses a point in time typed by a user, in the shop time zone. `end` dates mean the end of
   * that day; spans (`+7d`, `48h`) count from `from` (an end's from its start), days as calendar
   * days at the same local time (a DST change does not shift it by an hour). A start on today's
   * date is now. Chinese spellings (明天, 2026/12/01, 2026年12月1日, 12月1日) are read as their English ones.
   * A local time the clocks skip is taken as the instant they jump to, a repeated one as its
   * first occurrence ({@link localTime}, as jobs run): {@link readWhen} says when that happened.
   */
  parseWhen(s: string, now: Date, role: "start" | "end", from: Date = now): Date | null {
    return this.readWhen(s, now, role, from).at;
  }

  /** {@link parseWhen}, with a note when the local time was skipped or repeated by a clock change. */
  readWhen(s: string, now: Date, role: "start" | "end", from: Date = now): { at: Date | null; note?: TimeNote } {
    const tz = this.opts.timeZone;
    const today = localDay(now, tz);
    // 11月24日 without a year: the next such day (a coupon's dates are ahead). A time after a day
    // word (明天 10:00, tomorrow 9:30, 今天18:00) or with a one-digit hour (2026-12-01 9:00, 12月1日 9:00)
    // is that day's time, as `since=` reads it.
    const v = withDayTime(readDateInput(s, today, "next"), today);
    // The end of a day is the next day's start (for 9999-12-31, a day later than its start: no year 10000).
    const nextDayStart = (d: string) => (isDay(addDays(d, 1)) ? dayStart(addDays(d, 1), tz) : new Date(dayStart(d, tz).getTime() + 86_400_000));
    const day = (d: string) => (role === "end" ? nextDayStart(d) : d === today ? now : dayStart(d, tz));
    // An instant past what a Date holds is not a time.
    const finite = (at: Date) => (Number.isFinite(at.getTime()) ? at : null);
    const noted = (t: LocalTime, typed: string, dayTyped: string) => ({
      at: t.at,
      ...(t.kind === "exact" ? {} : { note: { field: role, kind: t.kind, day: dayTyped, time: typed, taken: t.local, zone: tz, offset: fmtDate(new TZDate(t.at, tz), "zzz") } }),
    });
    if (v === "now") return { at: now };
    if (v === "today") return { at: role === "start" ? now : day(today) };
    if (v === "tomorrow") return { at: day(addDays(today, 1)) };
    // A day, though past: the start or end is then refused as past (what to type instead), not as unreadable.
    if (v === "yesterday") return { at: day(addDays(today, -1)) };
    // A span back (-1d, −2h, -1天) is a time past too: refused as past, not as unreadable.
    const back = /^[-\u2212](\d{1,3}) ?(d|h|天|小时|个小时)$/.exec(v);
    if (back) {
      const n = Number(back[1]);
      return { at: back[2] === "d" || back[2] === "天" ? addLocalDays(from, -n, tz).at : new Date(from.getTime() - n * 3_600_000) };
    }
    // 1w and 2周 come as 7d and 14d (normalizeDateInput); a span too far is refused naming the limit.
    const span = /^\+?(\d{1,4})([dh])$/.exec(v);
    if (span) {
      const n = Number(span[1]);
      if (span[2] === "h") return { at: finite(new Date(from.getTime() + n * 3_600_000)) };
      // The local time of `from`, n calendar days on.
      return noted(addLocalDays(from, n, tz), fmtDate(new TZDate(from.getTime(), tz), "HH:mm"), addDays(localDay(from, tz), n));
    }
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2}))?$/.exec(v);
    if (!m) return { at: null };
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!isDay(`${m[1]}-${m[2]}-${m[3]}`)) return { at: null };
    if (m[4] === undefined) return { at: finite(day(`${m[1]}-${m[2]}-${m[3]}`)) };
    const [h, mi] = [Number(m[4]), Number(m[5])];
    if (h > 23 || mi > 59) return { at: null };
    // An end at 23:59 means through that day (its last minute included), as people write the end of a day: the end of that day.
    if (role === "end" && h === 23 && mi === 59) return { at: finite(day(`${m[1]}-${m[2]}-${m[3]}`)) };
    return noted(localTime(y, mo, d, h, mi, tz), `${m[4]}:${m[5]}`, `${m[1]}-${m[2]}-${m[3]}`);
  }

  /** The latest start or end a coupon may have: the end of the same day {@link MAX_AHEAD_YEARS} years from today. */
  latestWhen(now: Date): Date {
    const today = localDay(now, this.opts.timeZone);
    const ahead = `${Number(today.slice(0, 4)) + MAX_AHEAD_YEARS}${today.slice(4)}`;
    // From 29 February: the 28th.
    const last = isDay(ahead) ? ahead : addDays(ahead.replace(/-29$/, "-28"), 0);
    return dayStart(addDays(last, 1), this.opts.timeZone);
  }

  /** Checks a launch and, when it passes, stores a draft and computes the warnings. Nothing goes live. */
  async preview(input: LaunchInput): Promise<PreviewResult> {
    const now = this.clock.now();
    const problems: Problem[] = [];
    const cur = this.opts.currency;
    // The line typed with `fix` applied: a refusal that says how to write the coupon gives the
    // whole line, which each adapter shows as its users type it (not `value=20 min=100` alone).
    const line = (fix: Partial<Record<LaunchOption, string>>) => launchLine({ ...Object.fromEntries(LAUNCH_OPTIONS.map((k) => [k, input[k]])), ...fix });
    // Full-width letters and digits (ＳＰＲＩＮＧ１５) read as plain, as ids are in chat.
    const code = CouponService.normalizeCode(input.code);
    // A letter of another script (双十一, Ä) is said so: "letters" alone reads as allowing it.
    if (!CODE_RE.test(code)) problems.push({ code: "bad_code", ...(/[^\p{ASCII}]/u.test(code) && /\p{L}/u.test(code) ? { message: "bad_code_letters" } : {}), params: { value: input.code } });
    else {
      const taken = await this.store.coupons.findById(code).select({ status: 1, startsAt: 1, endsAt: 1 }).lean<Pick<CouponDoc, "_id" | "status" | "startsAt" | "endsAt">>();
      if (taken) problems.push(await this.codeTaken(taken, now));
    }

    let value = NaN;
    if (input.type === "percent") {
      // Full-width digits (１５) as typed on a Chinese keyboard read as plain; the message quotes what was typed.
      // A percent coupon's value may carry its sign (15%, １５％): type= already says it is a percentage.
      const typed = plainTyped(input.value).replace(/%$/, "");
      value = /^\d{1,3}$/.test(typed) ? Number(typed) : NaN;
      if (!(value >= 1 && value <= 90)) {
        // 8.5折 (the share paid, as Chinese price tags say it) is refused with the percent off it means.
        const off = zheOff(typed);
        // 满100减20 (an amount off from a minimum spend) is a fixed coupon: said so, with its options.
        const full = fullReduction(input.value);
        if (full) problems.push({ code: "bad_percent", message: "percent_full_reduction", params: { value: input.value, ...full, line: line({ type: "fixed", value: full.off, min: full.min }) } });
        else if (off !== undefined) problems.push({ code: "bad_percent", message: "percent_zhe", params: { value: input.value, percent: off } });
        // An amount (¥15, 15元, $15) where a percent is asked is said so, with the fixed coupon it would be.
        else if (namesCurrency(input.value)) {
          // The fixed coupon it would be, with the minimum spend typed or an example above the amount.
          const amount = /\d[\d.,]*/.exec(typed)?.[0] ?? "20";
          const read = parseAmount(amount, cur);
          const min = input.min ?? minExample(typeof read === "number" ? read : 20 * 10 ** minorUnitDigits(cur), cur);
          problems.push({ code: "bad_percent", message: "percent_amount", params: { value: input.value, amount, line: line({ type: "fixed", value: amount, min }) } });
        }
        else problems.push({ code: "bad_percent", params: { value: input.value } });
      }
    } else if (zheOff(plainTyped(input.value)) !== undefined) {
      // 8折 on a fixed coupon: a share of the price where an amount is asked, with the percent coupon it means.
      const digits = minorUnitDigits(cur);
      const percent = zheOff(plainTyped(input.value))!;
      problems.push({ code: "bad_fixed", message: "fixed_zhe", params: { value: input.value, percent, a: "20", b: digits ? (19.9).toFixed(digits) : "1500", line: line({ type: "percent", value: String(percent) }) } });
    } else if (fullReduction(input.value)) {
      // 满100减20 in value=: the discount and the minimum spend in one, written as the two options.
      const full = fullReduction(input.value)!;
      problems.push({ code: "bad_fixed", message: "fixed_full_reduction", params: { value: input.value, ...full, line: line({ value: full.off, min: full.min }) } });
    } else if (/^\d+(?:\.\d+)?%$/.test(plainTyped(input.value))) {
      // 15% on a fixed coupon: a percentage where an amount is asked, said so (not "use a positive amount").
      const digits = minorUnitDigits(cur);
      const percent = plainTyped(input.value);
      problems.push({ code: "bad_fixed", message: "fixed_percent", params: { value: input.value, percent, a: "20", b: digits ? (19.9).toFixed(digits) : "1500", line: line({ type: "percent", value: percent.replace(/%$/, "") }) } });
    } else {
      // The shop currency's sign or 元 as staff type amounts (¥20, 20元, RMB￥20), read as refund amounts are.
      const bare = withoutCurrencySign(input.value, cur);
      const v = typeof bare === "string" ? parseAmount(bare, cur) : null;
      value = typeof v === "number" ? v : NaN;
      // The example in the shop currency's decimals: "20 or 19.90", "20 or 19.900"; JPY has none.
      const digits = minorUnitDigits(cur);
      // More decimals than the currency has (19.999, ¥20.5) is said so: it is a positive amount.
      // Another currency's sign ($20 in a CNY shop) is refused naming the shop's, never read as it.
      const message = typeof bare === "object" ? { message: "fixed_currency" } : decimalsMessage(v, "fixed", digits);
      if (!(value > 0)) problems.push({ code: "bad_fixed", ...message, params: { value: input.value, a: "20", b: digits ? (19.9).toFixed(digits) : "1500", currency: cur, digits } });
    }
    let minSpend = 0;
    let minRead = true;
    if (input.min !== undefined) {
      const bare = withoutCurrencySign(input.min, cur);
      const v = typeof bare === "string" ? parseAmount(bare, cur) : null;
      if (typeof v === "number") minSpend = v;
      else {
        minRead = false;
        const digits = minorUnitDigits(cur);
        const message = typeof bare === "object" ? { message: "min_currency" } : decimalsMessage(v, "min", digits);
        problems.push({ code: "bad_min", ...message, params: { value: input.min, currency: cur, digits, b: (99.9).toFixed(digits) } });
      }
    }
    // A fixed discount needs a minimum spend above it, or orders could be free: none given is
    // asked for by name (not quoted back as a min=0 nobody typed). Against a minimum that could
    // not be read, "the discount must be below it" would be noise.
    if (input.type === "fixed" && value > 0) {
      if (input.min === undefined) problems.push({ code: "fixed_needs_min", params: { value: input.value, example: minExample(value, cur) } });
      else if (minRead && !(value < minSpend)) problems.push({ code: "fixed_not_below_min", params: { value: input.value, min: input.min } });
    }

    // Times the clocks skip or repeat are read by one rule and named in the preview.
    const notes: TimeNote[] = [];
    const latest = this.latestWhen(now);
    const when = (typed: string, role: "start" | "end", from?: Date): Date | null => {
      const r = this.readWhen(typed, now, role, from);
      if (r.note) notes.push(r.note);
      // Far ahead (end=9999-12-31 too): refused with the limit, not stored. The last day's end
      // is the next day's start: an end may be it, a start is on the next day.
      if (r.at && (role === "end" ? r.at > latest : r.at >= latest)) {
        problems.push({ code: "too_far", params: { field: role, value: typed, years: MAX_AHEAD_YEARS, latest: localDay(new Date(latest.getTime() - 1), this.opts.timeZone) } });
        return null;
      }
      // 2月29日 in a year without one: said so, with the days to type.
      const leap = r.at ? null : missingLeapDay(typed, localDay(now, this.opts.timeZone));
      // A day its month lacks (2026-02-30, 2月30日, 4/31): said so, with the days that month has, as `since=` says it.
      const lacking = r.at || leap ? null : missingDay(typed, localDay(now, this.opts.timeZone));
      if (!r.at)
        problems.push(
          leap
            ? { code: "bad_date", message: "no_feb29", params: { field: role, value: typed, ...leap } }
            : lacking
              ? { code: "bad_date", message: "no_such_date", params: { field: role, value: typed, ...lacking } }
              : { code: "bad_date", params: { field: role, value: typed } },
        );
      return r.at;
    };
    const startsAt = input.start !== undefined ? when(input.start, "start") : now;
    if (startsAt && startsAt.getTime() < now.getTime() - 60_000) problems.push({ code: "start_in_past", params: { start: input.start ?? "" } });
    const endsAt = input.end !== undefined ? when(input.end, "end", startsAt ?? now) : undefined;
    if (endsAt && endsAt <= now) problems.push({ code: "end_in_past", params: { end: input.end ?? "" } });
    else if (startsAt && endsAt && endsAt <= startsAt) problems.push({ code: "end_before_start", params: { start: input.start ?? "now", end: input.end ?? "" } });

    const count = (s: string | undefined, field: string): number | undefined => {
      if (s === undefined) return undefined;
      // Commas between thousands (limit=1,000), as amounts take them; "1,00" stays refused.
      // A count may carry the word Chinese staff type with it: 500次 (uses), 500张 (coupons).
      const typed = plainTyped(s)
        .replace(/(?<=\d)[次张]$/, "")
        .replace(/^([1-9]\d{0,2}(?:,\d{3})+)$/, (m) => m.replace(/,/g, ""));
      const n = /^\d{1,7}$/.test(typed) ? Number(typed) : NaN;
      if (!(n >= 1)) problems.push({ code: "bad_count", params: { field, value: s } });
      return n;
    };
    const limit = count(input.limit, "limit");
    const perCustomer = count(input.perCustomer, "per-customer");
    if (limit && perCustomer && perCustomer > limit) problems.push({ code: "per_customer_over_limit", params: { perCustomer, limit } });

    if (input.skus !== undefined && input.categories !== undefined) problems.push({ code: "skus_and_categories", params: {} });
    let targets: ProductDoc[] = [];
    const skus = splitList(input.skus).map((x) => x.normalize("NFKC").toUpperCase());
    let categories: string[] = [];
    if (skus.length) {
      targets = await this.store.products.find({ _id: { $in: skus } }).select(VIEW_FIELDS).lean<ProductDoc[]>();
      const missing = skus.filter((s) => !targets.some((p) => p._id === s));
      if (missing.length) problems.push({ code: "unknown_skus", params: { skus: missing } });
    } else if (splitList(input.categories).length) {
      const known = (await this.store.products.distinct("category")) as string[];
      // A category whose own name holds a separator ("母婴、玩具") is still one category.
      const asked = splitList(input.categories, known);
      const missing = asked.filter((c) => !known.some((k) => k.toLowerCase() === c.toLowerCase()));
      if (missing.length) problems.push({ code: "unknown_categories", params: { categories: missing, known: known.sort() } });
      categories = known.filter((k) => asked.some((c) => c.toLowerCase() === k.toLowerCase()));
      targets = await this.store.products.find({ category: { $in: categories }, active: true }).select(VIEW_FIELDS).lean<ProductDoc[]>();
    } else if (input.skus !== undefined || input.categories !== undefined) {
      problems.push({ code: "empty_targets", params: {} });
    }
    // A refusal names the times it took too (an end "before" a start can be two times the clocks skip).
    if (problems.length) return { kind: "invalid", problems: [...problems, ...notes.map((n) => ({ code: `time_${n.kind}`, params: noteParams(n) }))] };
    if (!skus.length && !categories.length) targets = await this.store.products.find({ active: true }).select(VIEW_FIELDS).lean<ProductDoc[]>();

    const params: CouponParams = {
      code,
      type: input.type,
      value,
      currency: cur,
      minSpend,
      startsAt: startsAt!,
      ...(endsAt ? { endsAt } : {}),
      ...(limit ? { limit } : {}),
      ...(perCustomer ? { perCustomer } : {}),
      skus: [...new Set(skus)].sort(),
      categories: categories.sort(),
    };
    const warnings = await this.warnings(params, targets, now);
    // A newer preview of the same code makes older ones stale.
    await this.store.couponDrafts.updateMany({ code, status: "open" }, { $set: { status: "superseded" } });
    const draft = {
      _id: `D-${shortId(6)}`,
      ...params,
      hash: hashParams(params),
      status: "open" as const,
      createdBy: input.actor,
      createdAt: now,
      expiresAt: new Date(now.getTime() + DRAFT_TTL_MS),
    };
    const created = await this.store.couponDrafts.create(draft);
    return { kind: "preview", draft: created.toObject() as CouponDraftDoc, params, warnings, targets: targets.length, notes };
  }

  /** Warnings: overlapping coupons on the same products, prices below cost, stock short of the uplift. */
  async warnings(p: CouponParams, targets: ProductDoc[], now: Date): Promise<Warning[]> {
    const out: Warning[] = [];
    const end = p.endsAt ?? new Date(8.64e15);
    const whole = !p.skus.length && !p.categories.length;
    const skuSet = new Set(targets.map((t) => t._id));
    const catSet = new Set(targets.map((t) => t.category));
    const others = await this.store.coupons.find({ status: { $in: ["active", "paused"] }, startsAt: { $lt: end } }).lean<CouponDoc[]>();
    const overlapping = others
      .filter((c) => !c.endsAt || (c.endsAt > p.startsAt && c.endsAt > now))
      .filter((c) => whole || (!c.skus.length && !c.categories.length) || c.skus.some((s) => skuSet.has(s)) || c.categories.some((x) => catSet.has(x)))
      .sort((a, b) => a._id.localeCompare(b._id));
    // Each named with its state: a paused or scheduled one is not "active", yet overlaps all the same.
    if (overlapping.length) out.push({ kind: "overlap", codes: overlapping.map((c) => c._id), states: overlapping.map((c) => CouponService.state(c, now)) });

    // Price after discount per unit: a percent off the price, or the fixed discount's
    // share of the smallest qualifying basket (value × price ÷ max(price, minimum spend)).
    let below = 0;
    let worst: Extract<Warning, { kind: "below_cost" }>["worst"] | null = null;
    for (const t of targets) {
      const priceAfter = p.type === "percent" ? Math.round((t.price * (100 - p.value)) / 100) : t.price - Math.round((p.value * t.price) / Math.max(t.price, p.minSpend));
      if (priceAfter >= t.cost) continue;
      below++;
      const marginPct = priceAfter > 0 ? Math.round(((priceAfter - t.cost) / priceAfter) * 1000) / 10 : -100;
      if (!worst || marginPct < worst.marginPct) worst = { sku: t._id, name: t.name, price: t.price, priceAfter, cost: t.cost, marginPct };
    }
    if (worst) out.push({ kind: "below_cost", count: below, worst });

    const days = (p.endsAt ? p.endsAt.getTime() - p.startsAt.getTime() : OPEN_ENDED_DAYS * 86_400_000) / 86_400_000;
    const short = this.stock
      .views(targets)
      .filter((v) => v.velocity > 0)
      .map((v) => ({ sku: v.sku, available: v.available, expected: Math.ceil(v.velocity * days * (1 + this.opts.upliftPercent / 100)) }))
      .filter((x) => x.available < x.expected)
      .sort((a, b) => a.available - a.expected - (b.available - b.expected) || a.sku.localeCompare(b.sku));
    if (short.length) out.push({ kind: "stock", count: short.length, items: short.slice(0, 5) });

    // A code the storefront already ran (last year's sale, another team's): its orders before
    // the start are not this coupon's uses, and `coupon show` would only list them apart later.
    const carried = { couponCode: new RegExp(`^${escapeRegex(p.code)}$`, "i"), status: { $in: PAID_STATUSES }, createdAt: { $lt: p.startsAt } };
    const before = await this.store.orders.countDocuments(carried);
    const last = before ? await this.store.orders.findOne(carried).sort({ createdAt: -1 }).select({ createdAt: 1 }).lean<Pick<OrderDoc, "createdAt">>() : null;
    if (last) out.push({ kind: "used_before", code: p.code, count: before, last: last.createdAt });
    return out;
  }

  /**
   * The refusal of a code an existing coupon holds, with that coupon's state and the next step:
   * resume a paused one, end a running or scheduled one before launching other terms, or (an
   * ended one) a free code to use instead (`CODE-2` … `CODE-9`, when one fits and is free).
   */
  private async codeTaken(c: Pick<CouponDoc, "_id" | "status" | "startsAt" | "endsAt">, now: Date): Promise<Problem> {
    const state = CouponService.state(c, now);
    const day = (at: Date) => localDay(at, this.opts.timeZone);
    if (state === "paused") return { code: "code_taken", message: "code_taken_paused", params: { code: c._id } };
    if (state === "active") return { code: "code_taken", message: "code_taken_active", params: { code: c._id } };
    if (state === "scheduled") return { code: "code_taken", message: "code_taken_scheduled", params: { code: c._id, day: day(c.startsAt) } };
    const candidates = [2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${c._id}-${n}`).filter((x) => CODE_RE.test(x));
    const used = new Set((await this.store.coupons.find({ _id: { $in: candidates } }).select({ _id: 1 }).lean<Pick<CouponDoc, "_id">[]>()).map((x) => x._id));
    const example = candidates.find((x) => !used.has(x));
    if (!c.endsAt || !example) return { code: "code_taken", params: { code: c._id } };
    // Its last day, as `coupon list` shows it (an end at midnight is the day before's end).
    return { code: "code_taken", message: "code_taken_expired", params: { code: c._id, day: day(new Date(c.endsAt.getTime() - 1)), example } };
  }

  /**
   * Confirms a preview: claims the draft (open → confirming, guarded by status,
   * hash and expiry), inserts the coupon under its code, marks the draft
   * confirmed. A replay or a crash in between is finished by the next confirm.
   */
  async confirm(input: { draftId: string; hash: string; actor: string }): Promise<ConfirmResult> {
    const now = this.clock.now();
    const id = input.draftId.trim().toUpperCase();
    const draft = await this.store.couponDrafts.findById(id).lean<CouponDraftDoc>();
    if (!draft) return { kind: "not_found" };
    if (draft.hash !== input.hash.trim().toLowerCase() || hashParams(draft) !== draft.hash) return { kind: "stale", why: "edited", code: draft.code };
    if (draft.status === "confirmed") {
      const c = await this.store.coupons.findById(draft.code).lean<CouponDoc>();
      if (c && c.draftId === draft._id) return { kind: "already_confirmed", coupon: c };
    }
    if (draft.status === "cancelled") return { kind: "stale", why: "cancelled", code: draft.code };
    if (draft.status === "superseded") return { kind: "stale", why: "superseded", code: draft.code };
    if (draft.status === "ended") return { kind: "stale", why: "ended", code: draft.code };
    // A coupon must not go live already over (a preview whose end passed before its Confirm). One
    // that a Confirm stopped after inserting did launch: it is finished below, not called "nothing launched".
    if (draft.status !== "confirmed" && draft.endsAt && draft.endsAt <= now) {
      const launched = draft.status === "confirming" && (await this.store.coupons.exists({ _id: draft.code, draftId: draft._id }));
      if (!launched) {
        // Left confirming by a Confirm that died before inserting: closed, so it stops reading as under way.
        if (draft.status === "confirming") await this.settleStuckDraft(id, now);
        return { kind: "stale", why: "ended", code: draft.code };
      }
    }
    if (draft.status === "open") {
      if (draft.expiresAt <= now) return { kind: "stale", why: "expired", code: draft.code };
      const claimed = await this.store.couponDrafts.findOneAndUpdate({ _id: id, status: "open", hash: draft.hash, expiresAt: { $gt: now } }, { $set: { status: "confirming" } }, { returnDocument: "after" }).lean();
      if (!claimed) return this.confirm(input); // moved under us: answer from its new state
    }
    // confirming (ours, a concurrent one, or one that crashed): insert the coupon once.
    // A start "at once" was the preview's time; the coupon did not exist until now, so it starts
    // now (orders in the gap, up to DRAFT_TTL_MS, are not its uses). A later start stays as typed.
    const startsAt = CouponService.startsOnConfirm(draft) && now > draft.startsAt ? now : draft.startsAt;
    const coupon = {
      _id: draft.code,
      type: draft.type,
      value: draft.value,
      currency: draft.currency,
      minSpend: draft.minSpend,
      startsAt,
      ...(draft.endsAt ? { endsAt: draft.endsAt } : {}),
      ...(draft.limit ? { limit: draft.limit } : {}),
      ...(draft.perCustomer ? { perCustomer: draft.perCustomer } : {}),
      skus: draft.skus,
      categories: draft.categories,
      status: "active" as const,
      draftId: draft._id,
      createdBy: draft.createdBy,
      confirmedBy: input.actor,
      createdAt: now,
      history: [{ action: "launched", by: input.actor, at: now }],
    };
    let fresh = true;
    try {
      await this.store.coupons.create(coupon);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      fresh = false;
    }
    const c = (await this.store.coupons.findById(draft.code).lean<CouponDoc>())!;
    if (c.draftId !== draft._id) {
      // The code was taken since the preview: this draft can never go live.
      await this.store.couponDrafts.updateOne({ _id: id, status: "confirming" }, { $set: { status: "superseded" } });
      return { kind: "code_taken", code: draft.code };
    }
    // "ended" too: a draft closed as never launched while this Confirm (stalled past
    // CONFIRM_STUCK_MS) was inserting its coupon did launch after all.
    await this.store.couponDrafts.updateOne({ _id: id, status: { $in: ["confirming", "ended"] } }, { $set: { status: "confirmed" } });
    return fresh ? { kind: "confirmed", coupon: c } : { kind: "already_confirmed", coupon: c };
  }

  /**
   * A preview by its id (any case), for a Confirm typed without its check: `usable` when its
   * Confirm could launch it now (open, not expired, its end not passed). Null when there is none.
   */
  async draftOf(draftId: string): Promise<{ draft: CouponDraftDoc; usable: boolean } | null> {
    const now = this.clock.now();
    const draft = await this.store.couponDrafts.findById(draftId.trim().toUpperCase()).lean<CouponDraftDoc>();
    if (!draft) return null;
    return { draft, usable: draft.status === "open" && draft.expiresAt > now && !(draft.endsAt && draft.endsAt <= now) };
  }

  /**
   * Preview and confirm in one call, for seeding demo data and scripts: the same
   * guardrails apply; warnings are returned but do not stop the launch.
   */
  async launchNow(input: LaunchInput): Promise<{ kind: "invalid"; problems: Problem[] } | { kind: "launched" | "exists"; coupon: CouponDoc; warnings: Warning[] }> {
    const p = await this.preview(input);
    if (p.kind === "invalid") return p;
    const c = await this.confirm({ draftId: p.draft._id, hash: p.draft.hash, actor: input.actor });
    if (c.kind === "confirmed") return { kind: "launched", coupon: c.coupon, warnings: p.warnings };
    if (c.kind === "already_confirmed") return { kind: "exists", coupon: c.coupon, warnings: p.warnings };
    return { kind: "invalid", problems: [{ code: c.kind, params: {} }] };
  }

  /**
   * Drafts left `confirming` (a Confirm died between claiming the draft and inserting its coupon)
   * whose end has passed, so no Confirm can launch them any more: closed as `ended` (nothing was
   * launched), by housekeeping and by a later Confirm press. The number closed.
   */
  async settleStuckDrafts(now: Date = this.clock.now()): Promise<number> {
    const stuck = await this.store.couponDrafts
      .find({ status: "confirming", endsAt: { $lte: now }, expiresAt: { $lte: new Date(now.getTime() - CONFIRM_STUCK_MS) } })
      .select({ _id: 1 })
      .limit(500)
      .lean<Pick<CouponDraftDoc, "_id">[]>();
    let n = 0;
    for (const d of stuck) if (await this.settleStuckDraft(d._id, now)) n++;
    return n;
  }

  /**
   * {@link settleStuckDrafts} for one draft: guarded on it still confirming, ended, and claimed
   * over CONFIRM_STUCK_MS ago (a Confirm still under way is left alone). Its coupon found
   * inserted after all (that Confirm was only slow), it is confirmed instead. Whether it was closed.
   */
  private async settleStuckDraft(id: string, now: Date): Promise<boolean> {
    const closed = await this.store.couponDrafts
      .findOneAndUpdate(
        { _id: id, status: "confirming", endsAt: { $lte: now }, expiresAt: { $lte: new Date(now.getTime() - CONFIRM_STUCK_MS) } },
        { $set: { status: "ended" } },
        { returnDocument: "after" },
      )
      .lean<CouponDraftDoc>();
    if (!closed) return false;
    // Checked after closing: an insert before this is seen here; one after it confirms the draft itself.
    if (await this.store.coupons.exists({ _id: closed.code, draftId: id })) {
      await this.store.couponDrafts.updateOne({ _id: id, status: "ended" }, { $set: { status: "confirmed" } });
      return false;
    }
    return true;
  }

  /** Cancels an open preview; `code` is the preview's coupon code, `status` that of a preview no longer open. */
  async cancel(draftId: string): Promise<{ kind: "cancelled"; code: string } | { kind: "not_open"; code: string; status: CouponDraftDoc["status"] } | { kind: "not_found" }> {
    const id = draftId.trim().toUpperCase();
    const r = await this.store.couponDrafts.findOneAndUpdate({ _id: id, status: "open" }, { $set: { status: "cancelled" } }, { returnDocument: "after" }).lean<CouponDraftDoc>();
    if (r) return { kind: "cancelled", code: r.code };
    const d = await this.store.couponDrafts.findById(id).select({ code: 1, status: 1 }).lean<Pick<CouponDraftDoc, "code" | "status">>();
    return d ? { kind: "not_open", code: d.code, status: d.status } : { kind: "not_found" };
  }

  /**
   * Whether a draft starts when it is confirmed: its start was "at once" (none given, `now`,
   * `today` or today's date), which the preview resolved to its own time. The draft has no field
   * for this (the schema is shared with coupons), so a start equal to the preview's time is the
   * mark: both come from the same clock reading in {@link preview}.
   */
  static startsOnConfirm(d: Pick<CouponDraftDoc, "startsAt" | "createdAt">): boolean {
    return new Date(d.startsAt).getTime() === new Date(d.createdAt).getTime();
  }

  /** The state of a coupon at `now`. */
  static state(c: Pick<CouponDoc, "status" | "startsAt" | "endsAt">, now: Date): CouponState {
    if (c.status === "expired" || (c.endsAt && c.endsAt <= now)) return "expired";
    if (c.status === "paused") return "paused";
    return c.startsAt > now ? "scheduled" : "active";
  }

  /**
   * Schedule transitions to announce (coupon-schedule job), not yet recorded in `notified`:
   * `live` for a coupon scheduled ahead (start after its creation) whose start passed, and
   * `expired` for one whose end passed (a paused one too; `coupon expire` claims its own, see
   * {@link transition}). Only transitions after `since` count, so old coupons stay quiet. Also the
   * announcements claimed but not finished (`notified.claimed.<kind>`: a run, or `coupon expire`
   * or `resume`, stopped between its claim and its send, or still under way), with `claim`. A
   * "live" claim of a coupon paused since is held (left out) until it is resumed, when it is
   * announced; one of a coupon ended since is `stale`: released, not announced.
   */
  async scheduleDue(now: Date, since: Date): Promise<ScheduleDue[]> {
    const docs = await this.store.coupons
      .find({
        $or: [
          { status: "active", startsAt: { $gt: since, $lte: now }, "notified.live": { $exists: false } },
          { status: { $ne: "expired" }, endsAt: { $gt: since, $lte: now }, "notified.expired": { $exists: false } },
          { "notified.claimed.live": { $exists: true } },
          { "notified.claimed.expired": { $exists: true } },
        ],
      })
      .sort({ startsAt: 1 })
      .limit(500)
      .lean<CouponDoc[]>();
    const out: ScheduleDue[] = [];
    for (const c of docs) {
      const state = CouponService.state(c, now);
      const claimed = c.notified?.claimed;
      for (const kind of ["live", "expired"] as const) {
        const at = claimed?.[kind];
        // Paused: never announced live while paused; the claim waits for the resume.
        if (!at || (kind === "live" && state === "paused")) continue;
        const claim = { at, attempt: c.notified?.attempt?.[kind] ?? 0 };
        out.push({ coupon: c, kind, claim, ...(kind === "live" && state === "expired" ? { stale: true as const } : {}) });
      }
      if (state === "active" && !c.notified?.live && c.startsAt > c.createdAt) out.push({ coupon: c, kind: "live" });
      if (state === "expired" && !c.notified?.expired && c.endsAt && c.endsAt > since) out.push({ coupon: c, kind: "expired" });
    }
    return out;
  }

  /**
   * Claims the announcement of transition `kind` before it is sent: one update, guarded on the
   * coupon still being in that state at `now` (live: active, started, not ended; expired: ended
   * by its date, not by `coupon expire`) and the transition not recorded yet, that records it
   * (`notified.<kind>`) and marks it claimed (`notified.claimed.<kind>`) until
   * {@link finishNotice}. A pause or resume landing after the job read the coupon makes the
   * guard fail, so nothing is announced. The claim's attempt (`notified.attempt.<kind>`, counted
   * up), or null when not claimed.
   */
  async claimNotice(code: string, kind: "live" | "expired", now: Date): Promise<number | null> {
    const inState: Record<string, unknown> =
      kind === "live" ? { status: "active", startsAt: { $lte: now }, ...notEnded(now) } : { status: { $ne: "expired" }, endsAt: { $lte: now } };
    return this.holdNotice({ _id: code, ...inState, [`notified.${kind}`]: { $exists: false } }, kind, { [`notified.${kind}`]: now, [`notified.claimed.${kind}`]: now });
  }

  /**
   * Takes over a claim of `kind` that another run or command took and has not finished (stopped,
   * or still under way past its time): one update guarded on the attempt read (`attempt`, 0 for a
   * claim from before attempts were counted) and, for "live", on the coupon being live at `now`
   * (a paused one keeps its claim for its resume). The new attempt, or null when the claim moved
   * meanwhile (finished, released or taken over by another) or the coupon is not live: then this
   * caller sends nothing. The holder it replaced ends nothing after (its attempt is gone); both
   * may queue the announcement, once under its key.
   */
  async takeOverNotice(code: string, kind: "live" | "expired", attempt: number, now: Date): Promise<number | null> {
    const inState = kind === "live" ? { status: "active", startsAt: { $lte: now }, ...notEnded(now) } : {};
    return this.holdNotice({ _id: code, ...inState, ...claimOf(kind, attempt) }, kind, { [`notified.claimed.${kind}`]: now });
  }

  /** One guarded update counting up `notified.attempt.<kind>`: the attempt now held, or null when the guard failed. */
  private async holdNotice(filter: Record<string, unknown>, kind: "live" | "expired", set: Record<string, unknown>): Promise<number | null> {
    const after = await this.store.coupons
      .findOneAndUpdate(filter, { $set: set, $inc: { [`notified.attempt.${kind}`]: 1 } }, { returnDocument: "after" })
      .lean<Pick<CouponDoc, "notified">>();
    return after?.notified?.attempt?.[kind] ?? null;
  }

  /**
   * Ends the claim of `kind` held as `attempt` (guarded on it, so a holder whose claim was taken
   * over ends nothing): after its announcement was queued, or (a stale claim, the attempt read)
   * when the coupon ended before it was. Its `notified.<kind>` stays: the transition is not
   * announced again.
   */
  async finishNotice(code: string, kind: "live" | "expired", attempt: number): Promise<void> {
    await this.store.coupons.updateOne({ _id: code, ...claimOf(kind, attempt) }, { $unset: { [`notified.claimed.${kind}`]: 1 } });
  }

  /**
   * A coupon code as stored (its _id), from the code as typed: full-width characters made plain,
   * invisible ones removed, trimmed, upper-cased. Also the `subject` of its audit entries.
   */
  static normalizeCode(code: string): string {
    return withoutInvisible(code.normalize("NFKC")).trim().toUpperCase();
  }

  /** One coupon by code (case-insensitive). */
  async get(code: string): Promise<CouponDoc | null> {
    return this.store.coupons.findById(CouponService.normalizeCode(code)).lean<CouponDoc>();
  }

  /**
   * Up to `n` codes close to one that matched nothing (`XMAS52` for XMAS25, `SPRNG15`): coupons
   * launched here and codes orders carry (which `coupon show` reports too), within one edit, two
   * for a code of 5 characters or more; nearest first, then alphabetically.
   */
  async suggest(typed: string, n = 3): Promise<string[]> {
    const q = CouponService.normalizeCode(typed);
    const [coupons, carried] = await Promise.all([
      this.store.coupons.find({}).select({ _id: 1 }).limit(5_000).lean<Pick<CouponDoc, "_id">[]>(),
      this.store.orders.distinct("couponCode") as Promise<unknown[]>,
    ]);
    const codes = new Set([...coupons.map((c) => c._id), ...carried.filter((c): c is string => typeof c === "string").map((c) => CouponService.normalizeCode(c))]);
    const most = q.length >= 5 ? 2 : 1;
    return [...codes]
      .filter((c) => c && c !== q && Math.abs(c.length - q.length) <= most)
      .map((c) => ({ c, d: editDistance(q, c) }))
      .filter((x) => x.d <= most)
      .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
      .slice(0, n)
      .map((x) => x.c);
  }

  /**
   * Coupons in a state (default: everything not expired), newest first, at most 500. The state
   * is in the query, so a long-running coupon is listed however many others started since.
   */
  async list(which: CouponState | "current" | "all", now: Date = this.clock.now()): Promise<CouponDoc[]> {
    return this.store.coupons.find(listFilter(which, now)).sort({ startsAt: -1 }).limit(LIST_MAX).lean<CouponDoc[]>();
  }

  /** How many coupons {@link list} matches, past its {@link LIST_MAX} too: a title counts them all. */
  async listCount(which: CouponState | "current" | "all", now: Date = this.clock.now()): Promise<number> {
    return this.store.coupons.countDocuments(listFilter(which, now));
  }

  /**
   * Uses, customers, revenue, discount and refunds of the paid orders carrying `code` (any case),
   * placed within the coupon's dates when it is one launched here (`coupon`).
   */
  async redemptions(code: string, coupon?: CouponWindow | null): Promise<Redemptions> {
    return (await this.redemptionsOf([coupon ?? code])).get(code.toUpperCase())!;
  }

  /**
   * {@link redemptions} of several codes in one read: the paid orders carrying any of them (any
   * case), grouped in memory. Keyed by upper-cased code; every code has an entry. For a coupon
   * (a code with dates), orders placed before its start or from its end on are counted apart
   * (`outside`): a code the storefront used last year, or one typed on an order by mistake,
   * does not eat into this coupon's limit or figures. So are orders placed while it was paused
   * here (`paused`, from the history the window carries): shopops cannot pause the code in the
   * storefront, so such orders are a sign the storefront kept taking it. No extra query: the
   * history comes with the coupon.
   */
  async redemptionsOf(items: readonly (string | CouponWindow)[]): Promise<Map<string, Redemptions>> {
    type Row = Pick<OrderDoc, "_id" | "total" | "discount" | "customerId" | "currency" | "couponCode" | "createdAt" | "refundedTotal">;
    const codes = items.map((i) => (typeof i === "string" ? i : i._id));
    const windows = new Map(items.filter((i): i is CouponWindow => typeof i !== "string").map((w) => [w._id.toUpperCase(), w]));
    const keys = [...new Set(codes.map((c) => c.toUpperCase()))];
    const groups = new Map<string, Row[]>(keys.map((k) => [k, []]));
    if (keys.length) {
      const orders = await this.store.orders
        .find({ couponCode: new RegExp(`^(?:${codes.map(escapeRegex).join("|")})$`, "i"), status: { $in: PAID_STATUSES } })
        .select({ total: 1, discount: 1, customerId: 1, currency: 1, couponCode: 1, createdAt: 1, refundedTotal: 1 })
        .lean<Row[]>();
      // Each order matched one of the codes. Coupon codes are ASCII (CODE_RE), where a
      // case-insensitive match is upper-case equality but for a few non-ASCII look-alikes (the
      // Kelvin sign matches K): an order whose upper-cased code is not a key is matched again.
      let folded: { key: string; re: RegExp }[] | undefined;
      const groupOf = (code: string): string | undefined => {
        if (keys.length === 1) return keys[0];
        if (groups.has(code.toUpperCase())) return code.toUpperCase();
        folded ??= codes.map((c) => ({ key: c.toUpperCase(), re: new RegExp(`^${escapeRegex(c)}$`, "iu") }));
        return folded.find((f) => f.re.test(code))?.key;
      };
      for (const o of orders) {
        const key = groupOf(o.couponCode ?? "");
        if (key !== undefined) groups.get(key)!.push(o);
      }
    }
    const cur = this.opts.currency;
    return new Map(
      [...groups].map(([key, all]) => {
        const w = windows.get(key);
        const dated = w ? all.filter((o) => o.createdAt >= w.startsAt && (!w.endsAt || o.createdAt < w.endsAt)) : all;
        const spans = w ? pausedSpans(w.history) : [];
        const orders = spans.length ? dated.filter((o) => !spans.some((p) => o.createdAt >= p.from && (!p.to || o.createdAt < p.to))) : dated;
        // Money in one currency only: amounts in others cannot be added to it.
        const shop = orders.filter((o) => o.currency === cur);
        const perCustomer = new Map<string, number>();
        for (const o of orders) perCustomer.set(o.customerId, (perCustomer.get(o.customerId) ?? 0) + 1);
        const cap = w?.perCustomer;
        const overPerCustomer = cap
          ? [...perCustomer].filter(([, n]) => n > cap).map(([customer, uses]) => ({ customer, uses })).sort((a, b) => b.uses - a.uses || a.customer.localeCompare(b.customer))
          : [];
        return [
          key,
          {
            uses: orders.length,
            customers: perCustomer.size,
            revenue: shop.reduce((s, o) => s + o.total, 0),
            discount: shop.reduce((s, o) => s + (o.discount ?? 0), 0),
            currency: cur,
            otherCurrency: orders.length - shop.length,
            refunded: shop.reduce((s, o) => s + (o.refundedTotal ?? 0), 0),
            outside: all.length - dated.length,
            paused: dated.length - orders.length,
            overPerCustomer,
          },
        ];
      }),
    );
  }

  /**
   * pause (active → paused), resume (paused → active), expire (active|paused →
   * expired): one guarded update each. Returns the coupon after, or why not (with the state it
   * is in). An expire before the start (a scheduled coupon) moves the start to the expiry time
   * too, so the coupon reads as never having run, and records the planned start in its history
   * (`start_cancelled`, at that start); `neverStarted` in the outcome is that start. A resume
   * after the start of a coupon scheduled ahead that was never announced live (paused over its
   * start, or paused and resumed before the job's next run) claims its "live" announcement in the
   * same update (`notified.live`, `notified.claimed.live`; see {@link claimNotice}): the command
   * queues it, or the job when the command stopped first. So it goes out once, when the coupon is
   * first live, never while paused. A start older than {@link NOTICE_WINDOW_MS} counts only when
   * the coupon was paused at it (a start the job missed stays unannounced). An expire claims its announcement to
   * the coupons route in the same update (`notified.expired` and `notified.claimed.expired`, at
   * the expiry time; see {@link claimNotice}): queued by the command, or by the coupon-schedule
   * job when the command stopped first.
   */
  async transition(
    code: string,
    action: "pause" | "resume" | "expire",
    actor: string,
  ): Promise<{ kind: "done"; coupon: CouponDoc; neverStarted?: Date } | { kind: "not_found" } | { kind: "wrong_state"; state: CouponState }> {
    const now = this.clock.now();
    const id = CouponService.normalizeCode(code);
    const from = action === "pause" ? ["active"] : action === "resume" ? ["paused"] : ["active", "paused"];
    const set: Record<string, unknown> = { status: action === "pause" ? "paused" : action === "resume" ? "active" : "expired" };
    // Time-expired coupons stay expired: no resuming, pausing or expiring past the end (an
    // expire then would claim an end that already happened by itself).
    const filter: Record<string, unknown> = { _id: id, status: { $in: from }, ...notEnded(now) };
    if (action === "resume") {
      // Started and never announced live: the same guarded update claims its announcement (the
      // read only decides whether to try; the filter checks what can have changed since).
      const c = await this.store.coupons.findById(id).lean<CouponDoc>();
      const unannounced =
        c?.status === "paused" &&
        !c.notified?.live &&
        c.startsAt <= now &&
        c.startsAt > c.createdAt &&
        (c.startsAt.getTime() > now.getTime() - NOTICE_WINDOW_MS || pausedSpans(c.history).some((p) => p.from <= c.startsAt && (!p.to || c.startsAt < p.to)));
      if (unannounced) {
        const claimed = await this.store.coupons
          .findOneAndUpdate(
            { ...filter, startsAt: c.startsAt, "notified.live": { $exists: false } },
            { $set: { ...set, "notified.live": now, "notified.claimed.live": now }, $inc: { "notified.attempt.live": 1 }, $push: { history: { action, by: actor, at: now } } },
            { returnDocument: "after" },
          )
          .lean<CouponDoc>();
        if (claimed) return { kind: "done", coupon: claimed };
      }
      const started = await this.store.coupons
        .findOneAndUpdate({ ...filter, startsAt: { $lte: now } }, { $set: set, $push: { history: { action, by: actor, at: now } } }, { returnDocument: "after" })
        .lean<CouponDoc>();
      if (started) return { kind: "done", coupon: started };
      // Not started yet (or not paused, or ended: the update below finds out): it goes live, and is announced, at its start.
      filter.startsAt = { $gt: now };
    }
    // Expiring also ends it now (an end already past stays): in the same update, so a crash
    // never leaves an expired coupon whose end is still ahead. This update expires only a
    // coupon that has started; one not started yet takes the guarded update below.
    if (action === "expire") {
      filter.startsAt = { $lte: now };
      // Its announcement to the coupons route is claimed in the same update (as the
      // coupon-schedule job claims one ending by its date): the command queues it and ends the
      // claim; stopped in between, the job's next run finds the claim and queues it.
      Object.assign(set, { "notified.expired": now, "notified.claimed.expired": now });
    }
    // The expire's claim counts as an attempt (see takeOverNotice).
    const inc = action === "expire" ? { $inc: { "notified.attempt.expired": 1 } } : {};
    const update = { $set: set, $push: { history: { action, by: actor, at: now } }, ...inc, ...(action === "expire" ? { $min: { endsAt: now } } : {}) };
    // The start of a coupon not started yet, as read: start and end both become now, in one
    // update guarded on that start.
    let planned: Date | undefined;
    const unstartedUpdate = (start: Date) => ({
      $set: { ...set, startsAt: now, endsAt: now },
      ...inc,
      $push: { history: { $each: [{ action, by: actor, at: now }, { action: "start_cancelled", by: actor, at: start }] } },
    });
    // A few rounds at most: each failed guard of an expire means another change landed between.
    for (let round = 0; round < 4; round++) {
      const after = await this.store.coupons
        .findOneAndUpdate(planned ? { ...filter, startsAt: planned } : filter, planned ? unstartedUpdate(planned) : update, { returnDocument: "after" })
        .lean<CouponDoc>();
      if (after) return { kind: "done", coupon: after, ...(planned ? { neverStarted: planned } : {}) };
      const c = await this.get(id);
      if (!c) return { kind: "not_found" };
      const state = CouponService.state(c, now);
      if (action !== "expire" || state === "expired" || round === 3) return { kind: "wrong_state", state };
      planned = c.startsAt > now ? c.startsAt : undefined;
    }
    return { kind: "not_found" }; // not reached: the last round returns
  }
}

/**
 * The start a coupon had planned when it ended without ever running, else undefined: ended
 * before its start (its end is not after its start; the planned start is the `start_cancelled`
 * entry of its history, from `coupon expire` before the start; a coupon ended that way before the
 * entry existed kept it as its start), or paused from its start (or before) to its end (`coupon
 * expire` while paused, or, given `now`, an end that passed while still paused): its start.
 */
export function neverRanFrom(c: Pick<CouponDoc, "startsAt" | "endsAt"> & { history?: readonly CouponHistoryEntry[] | null }, now?: Date): Date | undefined {
  if (!c.endsAt) return undefined;
  if (c.endsAt > c.startsAt) {
    const end = c.endsAt;
    const pausedThrough = pausedSpans(c.history).some((p) => p.from <= c.startsAt && (p.to ? p.to >= end : !!now && end <= now));
    return pausedThrough ? c.startsAt : undefined;
  }
  const planned = (c.history ?? []).find((h) => h.action === "start_cancelled" && h.at instanceof Date)?.at;
  return planned ?? c.startsAt;
}

/**
 * The spans a coupon was paused in shopops, from its history, oldest first: from each `pause` to
 * the next `resume` (or `expire`, which also ends its dates), open while it is still paused.
 */
function pausedSpans(history: readonly CouponHistoryEntry[] | null | undefined): Span[] {
  const events = (history ?? []).filter((h): h is CouponHistoryEntry & { at: Date } => h.at instanceof Date).sort((a, b) => a.at.getTime() - b.at.getTime());
  const out: Span[] = [];
  let open: Date | undefined;
  for (const h of events) {
    if (h.action === "pause") open ??= h.at;
    else if ((h.action === "resume" || h.action === "expire") && open) {
      out.push({ from: open, to: h.at });
      open = undefined;
    }
  }
  if (open) out.push({ from: open });
  return out;
}

/** Filter of a coupon whose announcement of `kind` is claimed as `attempt` (0: claimed before attempts were counted). */
function claimOf(kind: "live" | "expired", attempt: number): Record<string, unknown> {
  return { [`notified.claimed.${kind}`]: { $exists: true }, [`notified.attempt.${kind}`]: attempt ? attempt : { $exists: false } };
}

/** The filter of the coupons in a state at `now` (`current`: everything not expired). */
function listFilter(which: CouponState | "current" | "all", now: Date): Record<string, unknown> {
  const running = notEnded(now);
  return which === "all"
      ? {}
      : which === "expired"
        ? { $or: [{ status: "expired" }, { endsAt: { $lte: now } }] }
        : which === "paused"
          ? { status: "paused", ...running }
          : which === "active"
            ? { status: "active", startsAt: { $lte: now }, ...running }
            : which === "scheduled"
              ? { status: "active", startsAt: { $gt: now }, ...running }
              : { status: { $ne: "expired" }, ...running };
}

/** Filter of coupons whose end has not come (none set, or later than `now`). */
function notEnded(now: Date): { $or: Record<string, unknown>[] } {
  return { $or: [{ endsAt: { $exists: false } }, { endsAt: null }, { endsAt: { $gt: now } }] };
}

/**
 * A full-reduction offer as Chinese shops write it, 满100减20 (20 off orders of 100 or more; also
 * 满100元减20元, 满 100 减 20), as the options of the fixed coupon it is: `off` (value=) and `min`
 * (min=), as typed; undefined for anything else.
 */
export function fullReduction(typed: string): { off: string; min: string } | undefined {
  const m = /^满\s*(\d[\d,]*(?:\.\d+)?)\s*[元块]?\s*[减-]\s*(\d[\d,]*(?:\.\d+)?)\s*[元块]?$/.exec(plainTyped(typed));
  return m ? { off: m[2]!, min: m[1]! } : undefined;
}

/**
 * A day and a time as {@link readDateInput} left them, written as the parser of
 * {@link CouponService.readWhen} reads them (`YYYY-MM-DD HH:mm`): a day word before the time
 * (`tomorrow 10:00`, 明天 10:00, 今天18:00) as its date, a one-digit hour (`9:00`) with its zero.
 * Anything else is returned as given.
 */
function withDayTime(v: string, today: string): string {
  // A time alone (21:00, from 9pm or 晚上9点) is today's, as `since=` reads it.
  const alone = /^(\d{1,2}):(\d{2})$/.exec(v);
  if (alone) return `${today} ${alone[1]!.padStart(2, "0")}:${alone[2]}`;
  const m = /^(\S+?) ?(\d{1,2}):(\d{2})$/.exec(v);
  if (!m) return v;
  const head = readDateInput(m[1]!, today, "next");
  const offset = head === "today" ? 0 : head === "tomorrow" ? 1 : head === "yesterday" ? -1 : undefined;
  const day = offset !== undefined ? addDays(today, offset) : head;
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day} ${m[2]!.padStart(2, "0")}:${m[3]}` : v;
}

/**
 * A date ahead, read as {@link CouponService.readWhen} reads it (2026-02-30, 2月30日 as the next
 * such day, 2027-02-30; a time after it too), on a day its month does not have: the month
 * (YYYY-MM) and how many days it has; null for any other value.
 */
function missingDay(typed: string, today: string): { month: string; days: number } | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])-(\d{2})(?=$|[t ])/.exec(readDateInput(typed, today, "next"));
  if (!m || isDay(m[0])) return null;
  return { month: `${m[1]}-${m[2]}`, days: daysInMonth(Number(m[1]), Number(m[2])) };
}

/**
 * The percent off a 折 figure means, as plain text (`8.5折` and `85折`: 15; `9折`: 10; `95折`: 5),
 * or undefined when `typed` is not one or means no whole percent from 1 to 90.
 */
export function zheOff(typed: string): number | undefined {
  // In Chinese numerals as price tags also write them: 八折 (8折), 八五折 (85折), 八点五折 (8.5折).
  const digits = typed.replace(/[一二三四五六七八九]/g, (c) => String("一二三四五六七八九".indexOf(c) + 1)).replace(/(?<=\d)点(?=\d)/, ".");
  const m = /^(?:([1-9])(?:\.([1-9]))?|([1-9][1-9]))折$/.exec(digits);
  if (!m) return undefined;
  const off = m[3] ? 100 - Number(m[3]) : 100 - Number(m[1]) * 10 - Number(m[2] ?? 0);
  return off >= 1 && off <= 90 ? off : undefined;
}

/**
 * The message of an amount refused for its decimals (`parseAmount` read it, with more decimals
 * than the currency has): `<field>_decimals`, or `<field>_whole` for a currency without any.
 */
function decimalsMessage(read: ReturnType<typeof parseAmount>, field: "fixed" | "min", digits: number): { message?: string } {
  if (read === null || typeof read === "number") return {};
  return { message: `${field}_${digits ? "decimals" : "whole"}` };
}

/**
 * A minimum spend to suggest for a fixed discount of `value` (minor units of `currency`), in
 * whole units: the first of 100, 200, 500, 1000, 2000… above twice the discount (20 → 100).
 */
function minExample(value: number, currency: string): string {
  const major = value / 10 ** minorUnitDigits(currency);
  for (let scale = 100; ; scale *= 10) for (const m of [1, 2, 5]) if (m * scale > 2 * major) return String(m * scale);
}

/** Short hash of a coupon's parameters (the Confirm button carries it). */
export function hashParams(p: Pick<CouponParams, "code" | "value" | "currency" | "minSpend" | "startsAt" | "skus" | "categories"> & { type: string; endsAt?: Date | null; limit?: number | null; perCustomer?: number | null }): string {
  const canonical = JSON.stringify([
    p.code,
    p.type,
    p.value,
    p.currency,
    p.minSpend,
    new Date(p.startsAt).toISOString(),
    p.endsAt ? new Date(p.endsAt).toISOString() : null,
    p.limit ?? null,
    p.perCustomer ?? null,
    [...p.skus],
    [...p.categories],
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 8);
}
