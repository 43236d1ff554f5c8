import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { CouponService, neverRanFrom } from "../src/services/coupon.service.js";
import { couponFields, perCustomerOverText, roiValue, stateText, unknownCoupon } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon show",
  description: "cmd.coupon_show",
  positional: ["code"],
  args: z.object({ code: typedId(z.string().min(1).max(40)) }),
  examples: ["coupon show WELCOME15"],
  permission: "staff",
  mutates: false,
  async handler({ args, services, t, fmt, now }) {
    const code = args.code.normalize("NFKC").toUpperCase();
    const c = await services.coupon.get(code);
    const r = await services.coupon.redemptions(code, c);
    // A typo (XMAS52 for XMAS25) is answered with the nearest codes.
    if (!c && r.uses === 0) return unknownCoupon(args.code, services.coupon, t);
    // Ended (expired, past its end, or ended before its start): no uses remain, nor are any to come.
    const ended = !!c && CouponService.state(c, now) === "expired";
    // Never used: said in words, not as rows of zeros (0 orders, 0 customers, CN¥0.00…); the ROI says why it has none.
    const figures = !r.uses ? [
      { label: t("coupon.field.uses"), value: t(ended ? "coupon.uses.none" : "coupon.uses.none_yet"), inline: true },
      { label: t("coupon.field.roi"), value: roiValue(r, t, fmt, ended), inline: true },
    ] : [
      { label: t("coupon.field.uses"), value: fmt.number(r.uses), inline: true },
      { label: t("coupon.field.orders"), value: t("coupon.orders.value", { orders: fmt.number(r.uses), customers: fmt.number(r.customers) }), inline: true },
      { label: t("coupon.field.revenue"), value: fmt.money(r.revenue, r.currency), inline: true },
      { label: t("coupon.field.discount_given"), value: fmt.money(r.discount, r.currency), inline: true },
      { label: t("coupon.field.refunded"), value: t("coupon.refunded.value", { refunded: fmt.money(r.refunded, r.currency), net: fmt.money(r.revenue - r.refunded, r.currency) }), inline: true },
      // From the figures above: (net − discount given) ÷ discount given.
      { label: t("coupon.field.roi"), value: roiValue(r, t, fmt, ended), inline: true },
    ];
    const context = [
      ...(r.otherCurrency ? [t("coupon.show.other_currency", { n: fmt.number(r.otherCurrency), currency: r.currency })] : []),
      ...(r.outside ? [t("coupon.show.outside", { n: fmt.number(r.outside) })] : []),
      ...(r.paused ? [t("coupon.show.paused_orders", { n: fmt.number(r.paused) })] : []),
      // Ended, remaining uses are not shown: an overrun of the limit is said as its expiry tally says it.
      ...(ended && c?.limit && r.uses > c.limit ? [t("coupon.notify.over_limit", { n: fmt.number(r.uses - c.limit), limit: fmt.number(c.limit) })] : []),
      ...(c?.perCustomer && r.overPerCustomer.length ? [perCustomerOverText(r.overPerCustomer, c.perCustomer, t, fmt)] : []),
      // "paused" in the title is shopops' record, not the storefront's state.
      ...(c && CouponService.state(c, now) === "paused" ? [t("coupon.show.paused_now")] : []),
    ];
    if (!c) return { title: code, fields: figures, text: t("coupon.show.untracked", { code }), status: "info", ...(context.length ? { context } : {}), visibility: "ephemeral" };
    return {
      title: t("coupon.show.title", { code: c._id, state: stateText(CouponService.state(c, now), t) }),
      fields: [
        ...couponFields(c, t, fmt, { neverRanFrom: neverRanFrom(c, now) }),
        ...figures,
        // Only while it can still be used (a paused coupon can be resumed): an ended one has none to remain.
        ...(ended
          ? []
          : [
              {
                label: t("coupon.field.remaining"),
                // The storefront enforces the limit, not the bot: an overrun is shown, never hidden as 0.
                value: !c.limit ? t("coupon.unlimited") : r.uses > c.limit ? t("coupon.over_limit", { n: fmt.number(r.uses - c.limit) }) : fmt.number(c.limit - r.uses),
                inline: true,
              },
            ]),
        { label: t("coupon.field.launched"), value: `${c.confirmedBy} · ${fmt.dateTime(c.createdAt)}`, inline: true },
      ],
      ...(context.length ? { context } : {}),
      status: "info",
      visibility: "ephemeral",
    };
  },
});
