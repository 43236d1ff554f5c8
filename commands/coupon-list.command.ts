import { z } from "zod";
import { oneOf, zhChoiceNames } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { CouponService, LIST_MAX, neverRanFrom } from "../src/services/coupon.service.js";
import { discountText, stateText } from "../src/services/coupon.view.js";

/** Coupons listed at most (latest start first, as the service sorts them); a line counts the rest. */
const SHOWN = 30;

const STATES = ["active", "scheduled", "paused", "expired"] as const;

/** The list asked for: in any case, or by the state names the table shows (已结束), or 全部. */
const whichArg = oneOf([...STATES, "all"], "coupon.list.bad_which", { ...zhChoiceNames(STATES, "coupon.state"), 全部: "all", 已排期: "scheduled", 已过期: "expired" });

export default defineCommand({
  name: "coupon list",
  description: "cmd.coupon_list",
  positional: ["which"],
  usage: { en: "[active|scheduled|paused|expired|all]", zh: "[生效中|待开始|已暂停|已结束|全部]" },
  args: z.object({ which: whichArg.optional() }),
  examples: ["coupon list", { en: "coupon list active", zh: "coupon list 生效中" }, { en: "coupon list expired", zh: "coupon list 已结束" }],
  permission: "staff",
  mutates: false,
  async handler({ args, services, t, fmt, now }) {
    const coupons = await services.coupon.list(args.which ?? "current", now);
    // The default lists what is not over: say so, or "none" reads as "no coupons at all".
    // Named by the state asked for ("No scheduled coupons"), not a bare "no match".
    if (!coupons.length) {
      const text = !args.which ? t("coupon.list.empty.current") : args.which === "all" ? t("coupon.list.empty") : t("coupon.list.empty.which", { state: stateText(args.which, t) });
      return { status: "info", text, visibility: "ephemeral" };
    }
    // The read stops at LIST_MAX: past it, the title and the "more" line count them all, not the read.
    const total = coupons.length < LIST_MAX ? coupons.length : await services.coupon.listCount(args.which ?? "current", now);
    const shown = coupons.slice(0, SHOWN);
    const uses = await services.coupon.redemptionsOf(shown);
    return {
      title: t("coupon.list.title", { count: total }),
      status: "info",
      table: {
        columns: [t("coupon.col.code"), t("coupon.col.discount"), t("coupon.col.state"), t("coupon.col.window"), t("coupon.col.uses")],
        rows: shown.map((c) => {
          const n = uses.get(c._id.toUpperCase())!.uses;
          return [
            c._id,
            discountText(c, t, fmt),
            stateText(CouponService.state(c, now), t),
            // The last day it applies: `end=2026-12-07` ends at the start of the 8th. One ended
            // before its start, or paused from its start to its end, never ran: no dates to run between.
            c.endsAt && neverRanFrom(c, now)
              ? t("coupon.window.never_ran", { day: fmt.day(c.endsAt) })
              : `${fmt.day(c.startsAt)} → ${c.endsAt ? fmt.day(new Date(c.endsAt.getTime() - 1)) : "…"}`,
            // Grouped as every other number the bot writes (1,234/5,000).
            c.limit ? `${fmt.number(n)}/${fmt.number(c.limit)}` : fmt.number(n),
          ];
        }),
        alignRight: [4],
      },
      // The title counts them all: say that the rest were left out, not just leave them out.
      ...(total > shown.length ? { context: [t("coupon.list.more", { shown: shown.length, total, rest: total - shown.length })] } : {}),
      visibility: "ephemeral",
    };
  },
});
