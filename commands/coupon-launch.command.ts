import { z } from "zod";
import { oneOf, plainTyped } from "../src/core/args.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { normalizeDateInput } from "../src/core/format.js";
import { kebab } from "../src/core/parser.js";
import { CODE_RE, CouponService, fullReduction, LAUNCH_OPTIONS, launchLine, timeNoteText, zheOff, type LaunchOption } from "../src/services/coupon.service.js";
import { couponFields, problemText, warningText } from "../src/services/coupon.view.js";
import { namesCurrency } from "../src/services/refund.service.js";

const word = z.string().trim().min(1).max(40);

/**
 * Chinese names of the coupon types: an amount off (满减, 立减, 减) is `fixed`, a share off (折扣,
 * 打折, 折, 百分比) is `percent`. The first of each is what Discord shows.
 */
const TYPE_NAMES = {
  按百分比: "percent",
  减固定金额: "fixed",
  满减: "fixed",
  满减券: "fixed",
  立减: "fixed",
  立减券: "fixed",
  减: "fixed",
  折扣: "percent",
  折扣券: "percent",
  打折: "percent",
  折: "percent",
  百分比: "percent",
} as const;

/** The options of a launch, in the order a line writes them. */
const OPTIONS = LAUNCH_OPTIONS;
type Option = LaunchOption;

/** Other names people type for an option (`ends=2026-12-31`): answered with the option's own. */
const OTHER_NAMES: Readonly<Record<string, Option>> = { ends: "end", until: "end", expires: "end", starts: "start", begins: "start", discount: "value" };

/** A coupon type as typed (percent, FIXED, 满减, 折扣), or undefined. */
function typeOf(typed: string): "percent" | "fixed" | undefined {
  const w = plainTyped(typed).toLowerCase();
  return w === "percent" || w === "fixed" ? w : (TYPE_NAMES as Record<string, "percent" | "fixed">)[w];
}

/**
 * A value that says its coupon's type: a percent (10%), a 折 figure (9折: 10% off), a full
 * reduction (满100减20: 20 off from 100) or an amount with a currency sign (¥20, 20元); as the
 * options it is written with, and what it means when that is not plain.
 */
function valueOf(typed: string, t: Parameters<Command["handler"]>[0]["t"]): { type: "percent" | "fixed"; value: string; min?: string; note?: string } | undefined {
  const p = plainTyped(typed);
  const percent = /^(\d{1,3})%$/.exec(p);
  if (percent) return { type: "percent", value: percent[1]! };
  const off = zheOff(p);
  if (off !== undefined) return { type: "percent", value: String(off), note: t("coupon.launch.note.zhe", { typed: p, percent: off }) };
  const full = fullReduction(p);
  if (full) return { type: "fixed", value: full.off, min: full.min, note: t("coupon.launch.note.full", { typed: p, ...full }) };
  return /\d/.test(p) && namesCurrency(p) ? { type: "fixed", value: p } : undefined;
}

/**
 * A time of day typed as its own word after a date (`21:00`, `9:30`, `9pm`, 下午3点, 10点半), as
 * the line writes it (9pm as 21:00); undefined for any other word (10, 10%, 9折).
 */
function clockOf(typed: string): string | undefined {
  if (/^\d{1,2}:\d{2}$/.test(typed)) return typed;
  const clock = normalizeDateInput(typed);
  return /^\d{2}:\d{2}$/.test(clock) ? clock : undefined;
}

/** A code typed in another script (双十一, 春节): letters, none of them A–Z; refused, with an example in their place. */
const otherScript = (code: string) => /[^\p{ASCII}]/u.test(code) && /\p{L}/u.test(code) && !CODE_RE.test(CouponService.normalizeCode(code));

/** An example code for a line whose code cannot be one (双十一): SAVE and the discount's figure (SAVE50), else SAVE10. */
function exampleCode(value: string): string {
  const code = `SAVE${/\d+/.exec(plainTyped(value))?.[0] ?? ""}`;
  return CODE_RE.test(code) ? code : "SAVE10";
}

/**
 * A launch typed without its options' names, as people say a coupon (`coupon launch SAVE10 10%`,
 * `coupon launch code=SAVE10 9折`, `满100减20`), or with a value that says its type and no type=
 * (`value=10%`), or an option by another name (`ends=`; with a time after a date, `ends=2026-12-31
 * 23:59`): refused with the whole line written right (9折 as value=10, 满100减20 as value=20
 * min=100), so nothing is guessed and the line can be run as it is. Null when the words cannot be
 * read so (the core's refusal stands). A time after a date may be typed as people say it (`9pm`,
 * 下午3点: written `end="2026-12-31 21:00"`); a code in another script (`coupon launch 双十一
 * 满300减50`) is said to be A–Z and digits, the line given with an example code in its place.
 */
const asLine: NonNullable<Command["explainArgs"]> = async (typed, _services, t) => {
  const named: Partial<Record<Option, string>> = {};
  const notes: string[] = [];
  let changed = typed.words.length > 0;
  for (const [k, v] of Object.entries(typed.named)) {
    const key = (OPTIONS as readonly string[]).includes(k) ? (k as Option) : OTHER_NAMES[k];
    if (!key || named[key] !== undefined) return null;
    if (key !== k) {
      notes.push(t("coupon.launch.note.name", { typed: `${kebab(k)}=`, option: `${kebab(key)}=` }));
      changed = true;
    }
    named[key] = v;
  }
  // The words typed without a name: a time (after a date option), a type, a value, a code.
  let time: string | undefined;
  for (const w of typed.words) {
    const p = plainTyped(w);
    const clock = time === undefined ? clockOf(p) : undefined;
    if (clock !== undefined) time = clock;
    else if (named.type === undefined && typeOf(p)) named.type = p;
    else if (named.value === undefined && (valueOf(p, t) || /^\d+(?:\.\d+)?$/.test(p))) named.value = p;
    else if (named.code === undefined && ((/[A-Za-z]/.test(p) && CODE_RE.test(CouponService.normalizeCode(p))) || otherScript(p))) named.code = p;
    else return null;
  }
  if (named.value !== undefined) {
    const v = valueOf(named.value, t);
    if (v) {
      // A type given that the value contradicts (type=fixed value=10%): the preview says what is wrong.
      if (named.type !== undefined && typeOf(named.type) !== v.type) return null;
      if (v.min !== undefined && named.min !== undefined && plainTyped(named.min) !== v.min) return null;
      if (named.type === undefined || v.value !== named.value || v.min !== undefined) changed = true;
      named.type ??= v.type;
      named.value = v.value;
      if (v.min !== undefined) named.min = v.min;
      if (v.note) notes.push(v.note);
    }
  }
  if (time !== undefined) {
    // The time belongs to the one date typed without a time (start= or end=).
    const dated = (["start", "end"] as const).filter((k) => named[k] !== undefined && !/\d:\d/.test(named[k]!));
    if (dated.length !== 1) return null;
    named[dated[0]!] = `${named[dated[0]!]} ${time}`;
  }
  if (!changed || named.code === undefined || named.type === undefined || named.value === undefined) return null;
  // The audit entry names the code typed, when it is one (never the example put in its place).
  const code = CouponService.normalizeCode(named.code);
  if (otherScript(named.code)) {
    // 双十一 cannot be a code: the rest of the line written right, with an example code to replace.
    const example = exampleCode(named.value);
    notes.push(t("coupon.launch.note.code", { typed: named.code, example }));
    named.code = example;
  }
  const line = launchLine(named);
  const text = `${t("error.invalid_args", { command: "coupon launch" })}\n• ${t("coupon.launch.as_line", { notes: notes.map((n) => t("coupon.launch.note_sep") + n).join(""), line })}`;
  return { error: new UserError("invalid_args", text), ...(CODE_RE.test(code) ? { subject: code } : {}) };
};

export default defineCommand({
  name: "coupon launch",
  description: "cmd.coupon_launch",
  usage: {
    en: "code=<CODE> type=<percent|fixed> value=<n> [min=<spend>, required with fixed] [start=<when>] [end=<when>] [limit=<total uses>] [per-customer=<n>] [skus=<a,b>|categories=<a,b>]",
    zh: "code=<券码> type=<percent|fixed> value=<数值> [min=<最低消费>，fixed 必填] [start=<开始时间>] [end=<结束时间>] [limit=<总次数>] [per-customer=<每人次数>] [skus=<a,b>|categories=<a,b>]",
  },
  args: z.object({
    code: word,
    // In any case or width (PERCENT, Fixed), as every other choice is read; a wrong one is quoted back.
    // Also as Chinese marketers name the two kinds (满减券, 折扣券) and as Discord shows them (its names first).
    type: oneOf(["percent", "fixed"], "coupon.bad_type", TYPE_NAMES),
    value: word,
    min: word.optional(),
    start: word.optional(),
    end: word.optional(),
    limit: word.optional(),
    perCustomer: word.optional(),
    skus: z.string().trim().max(400).optional(),
    categories: z.string().trim().max(400).optional(),
  }),
  examples: [
    "coupon launch code=SPRING15 type=percent value=15 start=2026-12-01 end=2026-12-07 limit=500 per-customer=1",
    'coupon launch code=SAVE20 type=fixed value=20 min=150 categories="Home & Kitchen"',
  ],
  permission: "manager",
  mutates: true,
  // `coupon launch SAVE10 10%`, `value=9折` without type=, `ends=`: the line written right.
  explainArgs: asLine,
  // Its audit entry names the code (as stored), so `audit subject=SPRING15` finds the launch, refused or not.
  typedSubject: { arg: "code", spelling: (s) => CouponService.normalizeCode(s) },
  async handler({ args, services, actor, t, fmt, subject }) {
    const code = CouponService.normalizeCode(args.code);
    if (CODE_RE.test(code)) subject(code);
    const r = await services.coupon.preview({ ...args, actor: actor.identity });
    if (r.kind === "invalid") {
      return {
        status: "error",
        code: r.problems.length === 1 ? r.problems[0]!.code : "coupon_invalid",
        text: [t("coupon.invalid", { code: args.code }), ...r.problems.map((p) => `• ${problemText(p, t)}`)].join("\n"),
        visibility: "ephemeral",
      };
    }
    const d = r.draft;
    return {
      title: t("coupon.preview.title", { code: d.code }),
      fields: couponFields(d, t, fmt, { startsOnConfirm: CouponService.startsOnConfirm(d) }),
      // A start or end the clocks skip or repeat comes first, with the time taken for it.
      text: [...r.notes.map((n) => `ℹ ${timeNoteText(n, t)}`), ...(r.warnings.length ? r.warnings.map((w) => `⚠ ${warningText(w, t, fmt)}`) : [t("coupon.preview.no_warnings")])].join("\n"),
      status: r.warnings.length ? "warning" : "info",
      // shopops does not reach the storefront: the preview says so before anyone confirms.
      context: [t("coupon.preview.targets", { count: r.targets }), t("coupon.preview.expires", { at: fmt.dateTime(d.expiresAt) }), t("coupon.storefront.launch")],
      actions: [
        { id: `coupon confirm ${d._id} h=${d.hash}`, label: t("coupon.button.confirm"), style: "primary" },
        { id: `coupon cancel ${d._id}`, label: t("coupon.button.cancel"), style: "default" },
      ],
      visibility: "ephemeral",
    };
  },
});
