import { z } from "zod";
import { oneOf } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { CODE_RE, CouponService, timeNoteText } from "../src/services/coupon.service.js";
import { couponFields, problemText, warningText } from "../src/services/coupon.view.js";

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
