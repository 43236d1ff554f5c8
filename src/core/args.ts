import { TZDate, tzOffset } from "@date-fns/tz";
import { format as fmtDate } from "date-fns";
import { z } from "zod";
import { UserError } from "./errors.js";
import { RESERVED_KEY_PREFIX } from "./ids.js";
import { addDays, dayFirst, dayStart, daysInMonth, isDay, localDay, normalizeDateInput, periodDay, readDateInput } from "./format.js";
import { canonicalIdentity, parseIdentity, SLACK_MENTION } from "./identity.js";
import { translator, type MessageKey, type Translate } from "./messages.js";
import { tokenize } from "./parser.js";
import { editDistance, foldWidth, trimInvisible, withoutInvisible } from "./text.js";

// Shared argument schemas. Error messages are catalog keys; the core translates
// them and fills {value} with what the user typed.

/**
 * Free text such as a reason: trimmed, 1–300 characters. Text that is nothing but invisible
 * characters (a zero-width space) counts as empty: refused as a missing value, like "".
 * Kept as typed otherwise (a joiner inside an emoji stays).
 */
export const text = (max = 300) =>
  z
    .string()
    .trim()
    // The length stays on the string schema typed into (Discord's option takes it as its limit).
    .max(max)
    .transform((s) => (trimInvisible(s) ? s : ""))
    .pipe(z.string().min(1));

/**
 * A number, amount or duration as typed on any keyboard, in one form: full-width digits, signs
 * and commas made plain (`－２` is `-2`, `１，２００` is `1,200`: {@link foldWidth}), invisible
 * characters (a zero-width space pasted with it) removed, a leading minus sign (U+2212, as the bot
 * itself prints changes, or a dash) read as `-`, trimmed. Not for free text. Only the width is
 * folded, not all NFKC reads as digits: superscripts and circled digits (`1²`, `⑤⓪`) stay, so
 * the checks after it refuse them as not a number rather than read `1²` as 12.
 */
export function plainTyped(s: string): string {
  return withoutInvisible(foldWidth(s)).trim().replace(/^[\u2212\u2013\u2014\uFE63]/, "-");
}

/**
 * A whole number as typed, read by {@link plainTyped}: digits with an optional sign (commas between
 * thousands too: {@link ungrouped}), nothing else;
 * NaN for anything else (1e3, 0x10, 0b11), but `decimal` for a decimal (2.5, 1.0: not whole,
 * said so by the checks after it, rather than read as 2 or 1).
 */
function typedWhole(s: string, decimal: number): number {
  const p = ungrouped(plainTyped(s));
  return /^[+-]?\d+$/.test(p) ? Number(p) : /^[+-]?\d+\.\d+$/.test(p) ? decimal : NaN;
}

/**
 * A whole number typed with commas between thousands (`1,000`, `+12,500`; `１，０００` once made
 * plain), as the bot prints figures: its digits alone; anything else as it is. `1,00` or `10,0000`
 * (commas not between thousands) stays, for {@link misgrouped} to refuse, never read as 100.
 */
export function ungrouped(p: string): string {
  return /^[+-]?[1-9]\d{0,2}(,\d{3})+$/.test(p) ? p.replace(/,/g, "") : p;
}

/** Digits with commas that are not between thousands (`1,00`, `10,0000`, `0,500`, `1,,000`), read by {@link plainTyped}. */
export function misgrouped(typed: string): boolean {
  const p = plainTyped(typed);
  return p.includes(",") && /^[+-]?[\d,]*\d[\d,]*$/.test(p) && ungrouped(p) === p;
}

/** A string schema that reads what was typed by {@link plainTyped} first. */
export function plain<T extends z.ZodType<unknown, string>>(schema: T) {
  return z.string().transform(plainTyped).pipe(schema);
}

/**
 * A whole number from `min` to `max` (limit=20), full-width digits too. The number schema stays
 * first, so Discord offers an integer option (and its numbers pass as they are); text is read
 * by {@link typedWhole}: digits only (commas between thousands too, `1,000`; `1,00` is refused
 * saying how to write it), so `1e3`, `0x10` or `0b11` is refused as not a number, and
 * `1.0` as not a whole number, rather than read as another one. Then checked, with `error` (a
 * catalog key) or the generic messages. The catch drops the first schema's issues; the pipe
 * stops at its first failed check, so a wrong number is reported once.
 */
export function wholeNumber(min: number, max: number, error?: string) {
  const e = error ? { error } : {};
  return z
    .number()
    .int()
    .min(min)
    .max(max)
    // A decimal is read as one in range that is not whole, so it is refused as not a whole number.
    // Commas not between thousands (`1,00`) go on as typed: refused below saying how to write it.
    .catch((ctx) => (typeof ctx.value === "string" ? (misgrouped(ctx.value) ? (ctx.value as unknown as number) : typedWhole(ctx.value, min + 0.5)) : typeof ctx.value === "number" ? ctx.value : NaN))
    // One issue at most: a huge number (20 digits) is both over `max` and not a safe integer;
    // the range is checked first, so its message names the range.
    .pipe(z.number({ error: (iss) => (typeof iss.input === "string" ? "arg.bad_grouping" : error) }).min(min, { ...e, abort: true }).max(max, { ...e, abort: true }).int(e));
}

/** A signed, non-zero whole-number change: `+5`, `-2`, `7` (`−2`, `－２` too), at most 9,999,999 either way. */
export const signedDelta = plain(z
  .string()
  // Commas between thousands (`+1,000`) read as the number; elsewhere (`+1,00`) refused saying how to write it.
  .refine((s) => !misgrouped(s), { error: "arg.bad_grouping", abort: true })
  .transform(ungrouped)
  .pipe(z
    .string()
    .regex(/^[+-]?\d+$/, { error: "stock.adjust.bad_delta", abort: true })
    // A change too large is refused as such, naming the limit (not as "not a quantity change").
    .refine((s) => Number(s) >= -9_999_999 && Number(s) <= 9_999_999, { error: "stock.adjust.delta_too_large", abort: true })
    .transform(Number)
    .refine((n) => n !== 0, { error: "stock.adjust.bad_delta" })));

/**
 * An id as typed, read in one form first: full-width characters made plain (NFKC), invisible
 * characters (a zero-width space pasted with it) removed, trimmed; then checked by `id`.
 */
export function typedId(id: z.ZodString) {
  return z
    .string()
    .transform((s) => withoutInvisible(s.normalize("NFKC")).trim())
    .pipe(id);
}

/**
 * The one of `values` a typo was probably meant as (`mangaer` for manager, `slak` for slack): the
 * nearest by edit distance, within a third of its length (at least 1); none when two are as near.
 */
export function closestChoice(typed: string, values: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(typed.length / 3));
  const near = values.map((v) => ({ v, d: editDistance(typed, v) })).filter((x) => x.d <= limit);
  const best = Math.min(...near.map((x) => x.d));
  const at = near.filter((x) => x.d === best);
  return at.length === 1 ? at[0]!.v : undefined;
}

/**
 * One of `values`, however typed: any case or width (`URGENT`, full-width), `-` or a space for
 * `_` (`low-stock`), or by a name in `names` (the Chinese 紧急 for urgent). An error names the
 * value as typed; with `near`, a typo close to one value is refused with that message instead,
 * its `{suggestion}` the value meant (`"mangaer" is not a role: did you mean manager?`), or the
 * name meant when one of `names` was cut short or mistyped (`管理`, `经历`: 管理员, 经理).
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, error: string, names: Readonly<Record<string, T[number]>> = {}, near?: MessageKey) {
  const choices = z.enum(values, { error });
  const named: Record<string, string> = {};
  for (const [name, v] of Object.entries(names)) named[v] ??= name;
  CHOICE_NAMES.set(choices, named);
  const read = (s: string): string => {
    const v = s.normalize("NFKC").trim().toLowerCase();
    const underscored = v.replace(/[-\s]/g, "_");
    return names[v] ?? ((values as readonly string[]).includes(underscored) ? underscored : v);
  };
  return z
    .string({ error })
    .check((ctx) => {
      if (!near || (values as readonly string[]).includes(read(ctx.value))) return;
      const typed = read(ctx.value);
      // Or a Chinese name cut short (管理 for 管理员) or mistyped (经历 for 经理): that name.
      const zhNames = Object.values(named);
      const cut = typed ? zhNames.filter((n) => n.startsWith(typed)) : [];
      const suggestion = closestChoice(typed, values) ?? (cut.length === 1 ? cut[0] : closestChoice(typed, zhNames));
      if (suggestion) ctx.issues.push({ code: "custom", input: ctx.value, message: near, params: { suggestion } });
    })
    .transform(read)
    .pipe(choices);
}

/**
 * The Chinese names cards show for `values` (紧急, 商品损坏: the catalog's `<prefix>.<value>` in
 * zh-CN, without a trailing note in brackets), read back as the values they name; so are the
 * names as cards write them, note included (商品损坏（damaged）, or with ASCII brackets), read
 * as {@link oneOf} reads what is typed (NFKC: full-width brackets become ASCII ones). The name
 * without its note comes first for each value (the one Discord shows).
 */
export function zhChoiceNames<const T extends readonly string[]>(values: T, prefix: string): Record<string, T[number]> {
  const zh = translator("zh-CN");
  return Object.fromEntries(
    values.flatMap((v) => {
      const label = zh(`${prefix}.${v}` as MessageKey);
      return [
        [label.replace(/（.*）$/, "").toLowerCase(), v],
        [label.normalize("NFKC").toLowerCase(), v],
      ];
    }),
  );
}

/** The Chinese name of each value of a {@link oneOf} choice, for platforms that show choices (Discord's localized choice names). */
export const CHOICE_NAMES = new WeakMap<z.ZodType, Readonly<Record<string, string>>>();

/**
 * A Slack mention (`<@U123ABC>`) left as typed by {@link canonicalIdentity} (typed outside Slack:
 * no workspace to read it in), refused on `ctx` saying how to write the identity with its team
 * and where to find it; true when it was one.
 */
export function refuseSlackMention(ctx: z.core.ParsePayload<string>): boolean {
  const user = SLACK_MENTION.exec(ctx.value)?.[1];
  if (user === undefined) return false;
  ctx.issues.push({ code: "custom", input: ctx.value, message: "role.bad_identity.slack_mention", params: { user: user.toUpperCase() } });
  return true;
}

/**
 * A platform identity (`shell:bob`, `slack:T…:U…`, `discord:…`), as the role and complaint
 * commands take it: read as other ids are, invisible characters (a zero-width space pasted with
 * it) removed and trimmed, then as stored ({@link canonicalIdentity}: `Slack:t1:u2`,
 * `discord:<@123…>`, a Slack mention `<@U123…>` typed in Slack); no NFKC: an identity is matched
 * as stored. A Slack user without its team (`slack:U123`, a mention typed elsewhere) is refused
 * saying so.
 */
export const identityArg = z
  .string()
  .transform((s) => canonicalIdentity(withoutInvisible(s).trim()))
  .check((ctx) => {
    if (parseIdentity(ctx.value) !== null || refuseSlackMention(ctx)) return;
    ctx.issues.push({ code: "custom", input: ctx.value, message: /^slack:[A-Z0-9]{2,20}$/.test(ctx.value) ? "role.bad_identity.slack_team" : "role.bad_identity" });
  });

/**
 * Chinese words teams type for option names (`原因=破损` for `reason=`), by the option (the
 * schema's key) each means. Option names stay English (command.ts): the core refuses such a key,
 * naming the option meant where the command has it ({@link chineseOptionKey}); never taken for it.
 */
export const ZH_OPTION_WORDS: Readonly<Record<string, readonly string[]>> = {
  原因: ["reason"], 理由: ["reason"], 数量: ["qty"], 备注: ["note"], 说明: ["note"], 金额: ["amount"],
  承运商: ["carrier"], 快递: ["carrier"], 快递公司: ["carrier"], 单号: ["tracking"], 运单号: ["tracking"], 快递单号: ["tracking"],
  严重程度: ["severity"], 级别: ["severity"], 类别: ["category"], 分类: ["category"], 客户: ["customer"],
  订单: ["order", "orderNo"], 订单号: ["order", "orderNo"], 日期: ["date"], 到货日期: ["eta"], 预计到货: ["eta"],
  页: ["page"], 页码: ["page"], 状态: ["status"], 角色: ["role"], 来源: ["source"], 链接: ["link"],
};

/**
 * A word typed as `key=value` (`=` or `＝`) whose key is not ASCII (`原因=破损`, `数量＝50`): no
 * option's name, as option names are English. Its key as typed, its value, and `option`: the one of `keys`
 * (a command's schema keys) that {@link ZH_OPTION_WORDS} says the key means, if the command has it.
 */
export function chineseOptionKey(word: string, keys: readonly string[]): { key: string; value: string; option?: string } | undefined {
  const m = /^([^=＝\s]+)[=＝](.*)$/su.exec(word);
  const key = m ? withoutInvisible(m[1]!.normalize("NFKC")).trim() : "";
  if (!key || /^[\x20-\x7e]*$/.test(key)) return undefined;
  const option = ZH_OPTION_WORDS[key]?.find((o) => keys.includes(o));
  return { key, value: m![2]!, ...(option ? { option } : {}) };
}

/**
 * `line` with each word typed as a Chinese option name (`原因=破损`: {@link chineseOptionKey})
 * that `rename` names written with that name (`reason=破损`), its value as typed; all else as typed.
 */
export function renameChineseKeys(line: string, rename: (key: string) => string | undefined): string {
  let out = "";
  let at = 0;
  for (const tok of tokenize(line)) {
    const key = tok.quoted ? undefined : chineseOptionKey(tok.text, [])?.key;
    const name = key === undefined ? undefined : rename(key);
    if (name === undefined) continue;
    const raw = line.slice(tok.start, tok.end);
    out += `${line.slice(at, tok.start)}${name}=${raw.slice(/[=＝]/.exec(raw)!.index + 1)}`;
    at = tok.end;
  }
  return out + line.slice(at);
}

/** An idempotency key chosen by the caller. */
export const idemKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: "arg.bad_key" })
  .refine((s) => !RESERVED_KEY_PREFIX.test(s), { error: "arg.reserved_key" });

// tomorrow, 后天 and now are read so that they can be refused as the future, not as "not a date".
// 前天 and MM-DD (11月24日, a day without a year) are read once today is known ({@link sinceToDate}),
// as are weeks, months and weekdays (last week, 上周, this month, monday, 周一: {@link periodDay}).
const SINCE = /^(today|yesterday|tomorrow|now|前天|后天|\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{1,4}[dh])$/;

/** True for MM-DD that is a day in some year (02-29 included: whether this year has it is checked once the year is known). */
const isMonthDay = (s: string) => isDay(`2000-${s}`);

/** An instant as next-page lines write it, read lower-cased as {@link since} reads it: 2026-11-19t14:05:00z, an offset for z (+08:00), seconds optional. */
const INSTANT = /^(\d{4}-\d{2}-\d{2})t([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** True for an instant {@link INSTANT} writes on a day that exists (2026-02-30T… is not rolled over to March). */
const isInstant = (s: string) => {
  const m = INSTANT.exec(s.toLowerCase());
  return !!m && isDay(m[1]!);
};

/**
 * A shop-local time as typed, read lower-cased after {@link normalizeDateInput}: a day (or a day
 * without a year, 11-19 from 11月19日) and a time after a space or T, no zone (2026-11-19 10:00,
 * 2026-11-19t9:30, seconds optional), or a time alone (10:00: today's). The time of day is
 * checked by {@link isLocalTime}.
 */
const LOCAL = /^(?:((?:\d{4}-)?\d{2}-\d{2})[t ]|(today|yesterday|tomorrow|前天) )?(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** A day word and a time as typed (今天 10:00, 昨天18:00, yesterday 18:00): the word as {@link normalizeDateInput} reads it, then the time ("yesterday 18:00"). */
const WORD_TIME = /^(\S+?) ?(\d{1,2}:\d{2}(?::\d{2})?)$/;

/**
 * {@link normalizeDateInput}, with a day word before a time read too: 今天 10:00 is `today 10:00`,
 * 昨天 18:00 `yesterday 18:00` (前天 is kept, read once today is known: {@link sinceToDate}).
 */
function sinceInput(s: string): string {
  const v = normalizeDateInput(s);
  const m = WORD_TIME.exec(v);
  const word = m ? normalizeDateInput(m[1]!) : "";
  return /^(today|yesterday|tomorrow|前天)$/.test(word) ? `${word} ${m![2]}` : v;
}

/** True for a {@link LOCAL} time that exists on the calendar and the clock (2026-02-30 10:00 and 24:00 do not); whether the shop's clocks skip it is read later ({@link localTime}). */
const isLocalTime = (s: string) => {
  const m = LOCAL.exec(s);
  return !!m && Number(m[3]) <= 23 && Number(m[4]) <= 59 && Number(m[5] ?? 0) <= 59 && (m[1] === undefined || (m[1].length === 5 ? isMonthDay(m[1]) : isDay(m[1])));
};

/**
 * A point in time: YYYY-MM-DD (shop day), today, yesterday, or a span back like 7d / 24h; also
 * as Chinese teams type them (昨天, 前天, 2026/11/24, 2026年11月24日; 11月24日 or 11/24, month/day, the most recent such day,
 * 7天, 3小时: {@link normalizeDateInput}); a time on the shop's clock (2026-11-19 10:00,
 * 2026-11-19T10:00, 11月19日 10:00, a day word and a time, 今天 10:00 or yesterday 18:00, or 10:00
 * today: {@link sinceToDate}); or an instant as next-page lines pin a
 * window (2026-11-19T14:05:00Z, or with an offset: {@link pinnedSince}).
 */
export const since = z
  .string()
  .transform(sinceInput)
  .pipe(
    z
      .string()
      // Day/month (24/11): days are read month/day, as 11/24; refused saying so, not "not a date".
      .refine((s) => dayFirst(s) === null, { error: "arg.day_first", abort: true })
      // A span of more than 4 digits (99999d) is a span, only too long: refused naming the limit.
      .refine((s) => !/^\d{5,}[dh]$/.test(s), { error: "arg.span_too_long", abort: true })
      // A day with a time: on the shop's clock, or an instant as next-page lines write it; else told how.
      .refine((s) => !/^((\d{4}-)?\d{2}-\d{2}[t ]|(today|yesterday|tomorrow|前天) \d|\d{1,2}:)/.test(s) || isInstant(s) || isLocalTime(s), { error: "arg.bad_time", abort: true })
      // A full date its month does not have (2026-02-30): said so, with the days that month has, not "use YYYY-MM-DD".
      .check((ctx) => {
        const m = /^(\d{4})-(0[1-9]|1[0-2])-(\d{2})$/.exec(ctx.value);
        if (!m || isDay(ctx.value)) return;
        const days = daysInMonth(Number(m[1]), Number(m[2]));
        ctx.issues.push({ code: "custom", input: ctx.value, message: "arg.no_such_date", params: { month: `${m[1]}-${m[2]}`, days }, continue: false });
      })
      // One check, one message: a calendar day that exists (2026-02-30 is refused, not rolled over to 2 March).
      .refine((s) => isInstant(s) || isLocalTime(s) || periodDay(s, "2026-01-01") !== null || (SINCE.test(s) && (!/^\d{4}-/.test(s) || isDay(s)) && (!/^\d{2}-/.test(s) || isMonthDay(s))), { error: "arg.bad_date" }),
  );

/**
 * A local time as typed, read in a time zone, and how: `exact`; `gap`, a time the clocks skip
 * (02:30 on the night they spring forward), taken as the instant they jump to (03:00), as jobs
 * at fixed hours run (src/core/cron.ts); `repeated`, a time that happens twice (01:30 on the
 * night they fall back), taken as its first occurrence. `local` is the local time taken (HH:mm).
 */
export interface LocalTime {
  at: Date;
  kind: "exact" | "gap" | "repeated";
  local: string;
}

/** The local wall time of `at` in `tz` as HH:mm. */
const hhmm = (at: Date, tz: string) => {
  const l = new TZDate(at.getTime(), tz);
  return `${String(l.getHours()).padStart(2, "0")}:${String(l.getMinutes()).padStart(2, "0")}`;
};

/**
 * The instant of local time `y-mo-d h:mi` (month 1–12) in `tz`, by the rule in {@link LocalTime}.
 * Fields out of range roll over as Date.UTC does (day 32 is the 1st of the next month).
 */
export function localTime(y: number, mo: number, d: number, h: number, mi: number, tz: string): LocalTime {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  // The offsets a day and a half either side: around a clock change, the one before and after.
  const before = tzOffset(tz, new Date(wall - 129_600_000));
  const after = tzOffset(tz, new Date(wall + 129_600_000));
  const fits = [...new Set([before, after])].map((o) => wall - o * 60_000).filter((t) => tzOffset(tz, new Date(t)) * 60_000 === wall - t);
  if (fits.length) {
    const at = new Date(Math.min(...fits));
    return { at, kind: fits.length > 1 ? "repeated" : "exact", local: hhmm(at, tz) };
  }
  // In a gap: read with the offset after the change, the time is before it; with the one
  // before, after it. The change lies between: find it to the minute.
  let lo = wall - after * 60_000;
  let hi = wall - before * 60_000;
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (tzOffset(tz, new Date(mid)) === before) lo = mid;
    else hi = mid;
  }
  const at = new Date(hi);
  return { at, kind: "gap", local: hhmm(at, tz) };
}

/**
 * `n` calendar days after (before, when negative) `from`, at the same local time in `tz` (a
 * clock change between does not move it by an hour); a time that does not exist that day is
 * taken as the instant the clocks jump to, a repeated one as its first occurrence.
 */
export function addLocalDays(from: Date, n: number, tz: string): LocalTime {
  const l = new TZDate(from.getTime(), tz);
  const t = localTime(l.getFullYear(), l.getMonth() + 1, l.getDate() + n, l.getHours(), l.getMinutes(), tz);
  // Seconds and milliseconds kept (`now` has them).
  return { ...t, at: new Date(t.at.getTime() + (from.getTime() % 60_000 + 60_000) % 60_000) };
}

/**
 * Turns a {@link since} value into an instant, reading days in the shop time zone; 7d as calendar
 * days at the same local time ({@link addLocalDays}), 24h as elapsed hours (null: no such day this
 * year, 02-29). A time without a zone is the shop's clock: one the clocks skip (02:30 the night
 * they spring forward) is the instant they jump to, one they repeat (01:30 the night they fall
 * back) its first occurrence ({@link localTime}), so the window holds everything from that time on.
 */
export function sinceToDate(value: string, now: Date, timeZone: string): Date | null {
  return sinceToLocal(value, now, timeZone)?.at ?? null;
}

/**
 * A time a {@link since} names on the shop's clock that the clocks skip or repeat, and how it was
 * read ({@link localTime}): `day` and `time` as typed (2026-03-08, 02:30), `taken` the local time
 * used, `offset` the zone's offset then (GMT-4). Null for any other value: nothing to say.
 */
export interface SinceClockNote {
  kind: "gap" | "repeated";
  day: string;
  time: string;
  taken: string;
  offset: string;
}

/** {@link sinceToDate}, with the {@link SinceClockNote} of a time the clocks skip or repeat. */
export function sinceToLocal(value: string, now: Date, timeZone: string): { at: Date | null; note?: SinceClockNote } {
  const today = localDay(now, timeZone);
  if (isLocalTime(value)) {
    // A day word (yesterday 18:00) as its day; a day without a year (11-19 10:00) the most recent (12-31 in January: last year's),
    // 02-29 in a year without one: no such day. A time alone: today's.
    const word = /^(today|yesterday|tomorrow|前天) /.exec(value);
    const days = word ? { today: 0, yesterday: -1, tomorrow: 1, 前天: -2 }[word[1] as "today"] : 0;
    const typed = word ? `${addDays(today, days)} ${value.slice(word[0].length)}` : /^\d{1,2}:/.test(value) ? `${today} ${value}` : value;
    const m = LOCAL.exec(readDateInput(typed, today, "last"))!;
    if (!isDay(m[1]!)) return { at: null };
    const [y, mo, d] = m[1]!.split("-").map(Number) as [number, number, number];
    const l = localTime(y, mo, d, Number(m[3]), Number(m[4]), timeZone);
    const at = new Date(l.at.getTime() + Number(m[5] ?? 0) * 1000);
    if (l.kind === "exact") return { at };
    const time = `${m[3]!.padStart(2, "0")}:${m[4]}`;
    return { at, note: { kind: l.kind, day: m[1]!, time, taken: l.local, offset: fmtDate(new TZDate(l.at, timeZone), "zzz") } };
  }
  return { at: sinceDay(value, now, timeZone, today) };
}

/**
 * The line a list adds when its {@link since} names a time the shop's clocks skip or repeat, saying
 * which instant it was read as (as coupons say it for their start and end); undefined otherwise.
 */
export function sinceClockNote(value: string, now: Date, timeZone: string, t: Translate): string | undefined {
  const note = sinceToLocal(value, now, timeZone).note;
  if (!note) return undefined;
  const { kind, ...params } = note;
  return t(kind === "gap" ? "arg.since_gap" : "arg.since_repeated", { ...params, zone: timeZone });
}

/** {@link sinceToDate} for a value that is not a time on the shop's clock. */
function sinceDay(value: string, now: Date, timeZone: string, today: string): Date | null {
  if (value === "today") return dayStart(today, timeZone);
  if (value === "yesterday") return dayStart(addDays(today, -1), timeZone);
  if (value === "tomorrow") return dayStart(addDays(today, 1), timeZone);
  if (value === "now") return now;
  // A week, a month or a weekday: the start of that calendar day (this week: Monday 00:00), as yesterday is.
  const period = periodDay(value, today);
  if (period) return dayStart(period, timeZone);
  if (isInstant(value)) return new Date(value.toUpperCase());
  const span = /^(\d+)([dh])$/.exec(value);
  // 7d: calendar days back at the same local time (as coupon end=+7d counts ahead); 24h: elapsed hours.
  if (span) return span[2] === "d" ? addLocalDays(now, -Number(span[1]), timeZone).at : new Date(now.getTime() - Number(span[1]) * 3_600_000);
  // A day: 前天 and MM-DD (a day without a year: the most recent such day, in the shop's time zone) read against today.
  const day = readDateInput(value, today, "last");
  return isDay(day) ? dayStart(day, timeZone) : null;
}

/** A page number (page=2), full-width digits too (page=２): a whole number from 1 to 10,000; 1 when not given. */
export const pageArg = wholeNumber(1, 10_000, "arg.bad_page").default(1);

/**
 * Where a page starts as a row number (from=41: rows 41 on), what a page cut short by a chat
 * platform names as its next page; 1 to 1,000,000 (10,000 pages of 100), full-width digits too.
 */
export const fromArg = wholeNumber(1, 1_000_000, "arg.bad_from").optional();

/**
 * The rows a page passes over: those before row `from`, or the pages before `page` (of `limit`
 * rows); both given is refused (they say the same thing, and could differ).
 */
export function rowsBefore(page: number | undefined, from: number | undefined, limit: number, t: Translate): number {
  if (page !== undefined && from !== undefined) throw new UserError("page_and_from", t("arg.page_and_from", { page, from }));
  return from !== undefined ? from - 1 : ((page ?? 1) - 1) * limit;
}

/**
 * {@link sinceToDate} for a filter: a `since` after now would match nothing and read as "none
 * found" (no audit entries, no refund requests), so it is refused (code `future_date`).
 */
export function pastSinceToDate(value: string, now: Date, timeZone: string, t: Translate): Date {
  const at = sinceToDate(value, now, timeZone);
  if (!at) throw new UserError("bad_date", t("arg.no_such_day", { value, day: readDateInput(value, localDay(now, timeZone), "last").toUpperCase() }));
  // A time (later today, say) is set against the shop's clock now; a word (tomorrow, 明天 read as it) is named as the day it means.
  if (at > now && (isLocalTime(value) || isInstant(value))) {
    // Written as next-page lines write a time (2026-11-19T10:00); a day word (今天 13:00) as the day and time it means.
    throw new UserError("future_date", t("arg.future_since_time", { value: /^\d/.test(value) ? value.toUpperCase() : fmtDate(new TZDate(at, timeZone), "yyyy-MM-dd HH:mm"), now: fmtDate(new TZDate(now, timeZone), "yyyy-MM-dd HH:mm zzz") }));
  }
  if (at > now) throw new UserError("future_date", t("arg.future_since", { value: /^\d{4}-/.test(value) ? value.toUpperCase() : localDay(at, timeZone) }));
  return at;
}

/**
 * {@link pastSinceToDate} rounded down to the second: `7d` read against now has milliseconds, and
 * a list whose next-page line pins the window ({@link pinnedSince}) then writes it as it reads.
 */
export function pastSinceToSecond(value: string, now: Date, timeZone: string, t: Translate): Date {
  return new Date(Math.floor(pastSinceToDate(value, now, timeZone, t).getTime() / 1000) * 1000);
}

/**
 * A {@link since} as a next-page line writes it, so that page reads the same window whenever it
 * runs: a day or an instant as given, anything read against now (7d, 24h, today, 11-01) as the
 * instant `at` it meant, in UTC (2026-11-18T04:00:00Z; milliseconds only when it has some).
 */
export function pinnedSince(value: string, at: Date): string {
  return isDay(value) || isInstant(value) ? value.toUpperCase() : at.toISOString().replace(".000Z", "Z");
}
