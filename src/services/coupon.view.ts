import { Formatter } from "../core/format.js";
import { isMessageKey, translator, type Translate } from "../core/messages.js";
import type { CommandContext } from "../core/command.js";
import type { Reply, ReplyField } from "../core/reply.js";
import type { CouponDoc } from "../store/models.js";
import { CouponService, couponRoi, neverRanFrom, type CouponState, type Problem, type Redemptions, type Warning } from "./coupon.service.js";

/** What describes a coupon or a draft on screen. */
interface CouponLike {
  type: string;
  value: number;
  currency: string;
  minSpend: number;
  startsAt: Date;
  endsAt?: Date | null;
  limit?: number | null;
  perCustomer?: number | null;
  skus: string[];
  categories: string[];
}

/** "15% off" / "CN¥20.00 off", with the minimum spend. */
export function discountText(c: CouponLike, t: Translate, fmt: Formatter): string {
  // Chinese says a percentage off as the share paid too: 15% off is 8.5 折 (85% of the price).
  const off = c.type === "percent" ? t("coupon.off.percent", { value: c.value, zhe: zheText(c.value) }) : t("coupon.off.fixed", { amount: fmt.money(c.value, c.currency) });
  return c.minSpend > 0 ? t("coupon.off.min", { off, min: fmt.money(c.minSpend, c.currency) }) : off;
}

/** The 折 of a percentage off: the tenths of the price paid (10% off → 9, 15% off → 8.5, 5% off → 9.5). */
export function zheText(percentOff: number): string {
  return String(Math.round((100 - percentOff) * 10) / 100);
}

/** Whole shop, SKUs or categories (listed as the language separates them: "A, B" or "A、B"). */
export function targetText(c: CouponLike, t: Translate): string {
  if (c.skus.length) return t("coupon.target.skus", { skus: c.skus.join(t("text.list_sep")) });
  if (c.categories.length) return t("coupon.target.categories", { categories: c.categories.join(t("text.list_sep")) });
  return t("coupon.target.all");
}

/**
 * A coupon's end as people read it: an end at the very start of a shop-local day (`end=2026-12-31`
 * is stored as 2027-01-01 00:00) is the end of the day before, "2026-12-31 (end of day)", as
 * `coupon list` shows it; any other end is its date and time.
 */
export function endText(end: Date, t: Translate, fmt: Formatter): string {
  const before = new Date(end.getTime() - 1);
  return fmt.day(before) !== fmt.day(end) ? t("coupon.ends.end_of_day", { day: fmt.day(before) }) : fmt.dateTime(end);
}

/**
 * The fields describing a coupon: discount, targets, window, limits. `startsOnConfirm`: a
 * preview whose start is "at once", shown as "when confirmed" (its time is taken at Confirm).
 * `neverRanFrom`: a coupon ended before its start (see neverRanFrom), whose start was this.
 */
export function couponFields(c: CouponLike, t: Translate, fmt: Formatter, opts: { startsOnConfirm?: boolean; neverRanFrom?: Date } = {}): ReplyField[] {
  const starts = opts.startsOnConfirm
    ? t("coupon.start.on_confirm")
    : opts.neverRanFrom
      ? t("coupon.start.never", { planned: fmt.dateTime(opts.neverRanFrom) })
      : fmt.dateTime(c.startsAt);
  return [
    { label: t("coupon.field.discount"), value: discountText(c, t, fmt), inline: true },
    { label: t("coupon.field.applies"), value: targetText(c, t), inline: true },
    { label: t("coupon.field.starts"), value: starts, inline: true },
    { label: t("coupon.field.ends"), value: c.endsAt ? endText(c.endsAt, t, fmt) : t("coupon.no_end"), inline: true },
    { label: t("coupon.field.limit"), value: c.limit ? fmt.number(c.limit) : t("coupon.unlimited"), inline: true },
    { label: t("coupon.field.per_customer"), value: c.perCustomer ? fmt.number(c.perCustomer) : t("coupon.unlimited"), inline: true },
  ];
}

/**
 * The refusal of a code no coupon or order has (`coupon show`, `pause`, `resume`, `expire`), with
 * the nearest existing codes when there are some (a typo: `XMAS52` for XMAS25).
 */
export async function unknownCoupon(typed: string, coupons: CouponService, t: Translate): Promise<Reply> {
  const near = await coupons.suggest(typed);
  const text = near.length ? t("coupon.unknown.suggest", { code: typed, suggestions: near.join(t("text.list_sep")) }) : t("coupon.unknown", { code: typed });
  return { status: "error", code: "unknown_coupon", text, visibility: "ephemeral" };
}

/** A guardrail problem as a sentence. */
export function problemText(p: Problem, t: Translate): string {
  const key = `coupon.problem.${p.message ?? p.code}`;
  if (!isMessageKey(key)) return p.code;
  const params = Object.fromEntries(Object.entries(p.params).map(([k, v]) => [k, typeof v === "object" ? v.join(t("text.list_sep")) : v]));
  return t(key, params);
}

/** A preview warning as a sentence. */
export function warningText(w: Warning, t: Translate, fmt: Formatter): string {
  switch (w.kind) {
    case "overlap":
      return t("coupon.warn.overlap", { codes: w.codes.map((c, i) => c + t("text.paren", { text: stateText(w.states[i]!, t) })).join(t("text.list_sep")) });
    case "below_cost":
      return t("coupon.warn.below_cost", {
        count: w.count,
        sku: w.worst.sku,
        name: w.worst.name,
        after: fmt.money(w.worst.priceAfter),
        cost: fmt.money(w.worst.cost),
        // The minus sign the bot prints elsewhere (U+2212): a margin below cost is negative.
        margin: fmt.number(w.worst.marginPct, 1).replace("-", "\u2212"),
      });
    case "stock":
      // Five are named: a longer list says they are the shortest of how many, not all of them.
      return t(w.count > w.items.length ? "coupon.warn.stock_some" : "coupon.warn.stock", {
        count: w.count,
        shown: w.items.length,
        items: w.items.map((i) => t("coupon.warn.stock.item", { sku: i.sku, available: i.available, expected: i.expected })).join(t("coupon.warn.stock.sep")),
      });
    case "used_before":
      return t("coupon.warn.used_before", { count: w.count, code: w.code, last: fmt.day(w.last) });
  }
}

/** The state of a coupon in words. */
export function stateText(s: CouponState, t: Translate): string {
  return t(`coupon.state.${s}`);
}

/**
 * The handler of `coupon pause|resume|expire`: one guarded transition. The reply says the change
 * is recorded in shopops only: nothing here reaches the storefront, which must be changed too.
 * A coupon already in the state asked for is told so as information (nothing to do); only a
 * change an ended coupon cannot take (pause or resume it) is refused.
 */
export async function couponTransition(ctx: CommandContext<{ code: string }>, action: "pause" | "resume" | "expire"): Promise<Reply> {
  const { args, services, actor, t, fmt } = ctx;
  const r = await services.coupon.transition(args.code, action, actor.identity);
  // Its audit entry names the coupon as stored (`audit subject=SPRING15`), however it was typed.
  if (r.kind !== "not_found") ctx.subject(CouponService.normalizeCode(args.code));
  const code = args.code.toUpperCase();
  if (r.kind === "done") {
    // Expired while paused since before its start: it never ran either, though its start passed.
    // (An end not after the start, an expire at the very instant of the start, reads as before.)
    const ran = r.coupon;
    const pausedThrough = action === "expire" && !r.neverStarted && ran.endsAt && ran.endsAt > ran.startsAt ? neverRanFrom(ran) : undefined;
    const text = r.neverStarted
      ? t("coupon.transition.expire_unstarted", { code, start: fmt.dateTime(r.neverStarted) })
      : pausedThrough
        ? t("coupon.transition.expire_paused_unstarted", { code, start: fmt.dateTime(pausedThrough) })
        : t(`coupon.transition.${action}`, { code });
    if (action === "resume") await announce(ctx, r.coupon, "live", (st, sfmt) => liveNotice(r.coupon, st, sfmt));
    if (action !== "expire") return { status: "ok", text, visibility: "public" };
    const c = r.coupon;
    const tally = await services.coupon.redemptions(c._id, c);
    // Its announcement to the coupons route, as one ending by its date gets: claimed in the
    // expire's own update (`notified.claimed.expired`), queued now under the same key, and the
    // claim ended. Not queued (an outbox error, a stop here), the claim stays: the next
    // coupon-schedule run queues it, once.
    await announce(ctx, c, "expired", (st, sfmt) => expiredNotice(c, tally, st, sfmt));
    // The actor sees the final tally too (a coupon that never ran has none).
    return { status: "ok", text, ...(r.neverStarted ? {} : { context: expiryTally(c, tally, t, fmt) }), visibility: "public" };
  }
  if (r.kind === "not_found") return unknownCoupon(args.code, services.coupon, t);
  const reached = action === "expire" ? r.state === "expired" : action === "pause" ? r.state === "paused" : r.state === "active" || r.state === "scheduled";
  if (reached) {
    // Already as asked (for resume: not paused, live or scheduled): information, not a refusal.
    const key = action === "resume" && r.state === "scheduled" ? "coupon.already.resume_scheduled" : (`coupon.already.${action}` as const);
    return { status: "info", code: `already_${action === "pause" ? "paused" : action === "resume" ? "active" : "expired"}`, text: t(key, { code }), visibility: "ephemeral" };
  }
  // A change between the guarded update and the read that followed it: nothing was done.
  if (r.state !== "expired") return { status: "error", code: "wrong_state", text: t("coupon.changed", { code, state: stateText(r.state, t) }), visibility: "ephemeral" };
  return { status: "error", code: "wrong_state", text: t("coupon.ended", { code, action: t(`coupon.action.${action}`) }), visibility: "ephemeral" };
}

/**
 * A coupon's announcement to the coupons route (`live` after a resume, `expired` after `coupon
 * expire`), when it holds a claim of it: claimed by the command's own update (a resume's start
 * never announced, an expire's end), or left by a coupon-schedule run that stopped. Queued under
 * its key, in the shop's language, and the claim ended. Not queued (an outbox error, a stop
 * here), the claim stays: the job's next run queues it, once.
 */
async function announce(ctx: CommandContext<{ code: string }>, c: CouponDoc, kind: "live" | "expired", notice: (t: Translate, fmt: Formatter) => Reply): Promise<void> {
  if (!c.notified?.claimed?.[kind]) return;
  const { services, config } = ctx;
  try {
    const fmt = new Formatter(config.locale, config.timeZone, config.currency);
    await services.alerts.send({ type: "coupons", key: couponNoticeKey(kind, c._id), reply: notice(translator(config.locale), fmt) });
    await services.coupon.finishNotice(c._id, kind, c.notified.attempt?.[kind] ?? 0);
  } catch (error) {
    ctx.logger.error(kind === "live" ? "coupon live announcement not queued" : "coupon expiry announcement not queued", { code: c._id, error });
  }
}

/**
 * The coupons route's announcement that `c` is live (its start passed, or it was resumed after a
 * start never announced). The state is shopops' record (the storefront follows its own
 * settings), so it says so.
 */
export function liveNotice(c: CouponDoc, t: Translate, fmt: Formatter): Reply {
  return { title: t("notify.coupon.live", { code: c._id }), status: "ok", fields: couponFields(c, t, fmt), context: [t("coupon.notify.live")], visibility: "public" };
}

/** The customers over a coupon's per-customer limit, as `coupon show` and the expiry alert say it (the first five named). */
export function perCustomerOverText(over: readonly { customer: string; uses: number }[], limit: number, t: Translate, fmt: Formatter): string {
  const named = over.slice(0, 5).map((o) => o.customer + t("text.paren", { text: fmt.number(o.uses) })).join(t("text.list_sep"));
  const list = over.length > 5 ? t("coupon.show.per_customer_more", { list: named, more: fmt.number(over.length - 5) }) : named;
  return t("coupon.show.per_customer_over", { limit: fmt.number(limit), list });
}

/**
 * Why a coupon's ROI cannot be given (no discount given, see {@link couponRoi}): no uses (yet,
 * while it can still be used), none in the shop currency, or uses without a discount on them.
 */
function roiMissing(r: Redemptions, t: Translate, ended: boolean): string {
  if (r.uses === 0) return t(ended ? "coupon.roi.no_uses" : "coupon.roi.no_uses_yet");
  if (r.uses === r.otherCurrency) return t("coupon.roi.no_uses_currency", { currency: r.currency });
  return t("coupon.roi.no_discount");
}

/** A coupon's ROI on its discount as `coupon show` gives it: "+412.5%", or "— (no uses yet)". */
export function roiValue(r: Redemptions, t: Translate, fmt: Formatter, ended: boolean): string {
  const roi = couponRoi(r);
  return roi === undefined ? t("coupon.roi.none", { reason: roiMissing(r, t, ended) }) : fmt.percent(roi, { signed: true });
}

/** The outbox key of a coupon's schedule announcement: one per coupon and transition, whoever queues it. */
export function couponNoticeKey(kind: "live" | "expired", code: string): string {
  return `coupon-${kind}:${code}`;
}

/**
 * The final tally of an ended coupon, as its expiry announcement and the `coupon expire` reply
 * say it: uses (customers, revenue, discount), refunds on those orders and the net (when any),
 * the ROI on the discount, the overrun of its total limit, paid orders placed while it was
 * paused, uses in another currency, the customers past the per-customer limit.
 */
export function expiryTally(c: Pick<CouponDoc, "limit" | "perCustomer">, r: Redemptions, t: Translate, fmt: Formatter): string[] {
  // Never used: said so, not as "Used 0 times by 0 customers: CN¥0.00 of orders…".
  const out = [
    r.uses
      ? t("notify.coupon.uses", { uses: fmt.number(r.uses), customers: fmt.number(r.customers), revenue: fmt.money(r.revenue, r.currency), discount: fmt.money(r.discount, r.currency) })
      : t("coupon.notify.unused"),
  ];
  // The revenue above counts orders refunded since: the net is what the coupon brought in, as `coupon show` gives it.
  if (r.refunded) out.push(t("coupon.notify.refunded", { refunded: fmt.money(r.refunded, r.currency), net: fmt.money(r.revenue - r.refunded, r.currency) }));
  // Its ROI with the figures it comes from, so a reader can check it by hand (none to give for a coupon never used).
  const roi = couponRoi(r);
  if (r.uses) out.push(
    roi === undefined
      ? t("coupon.notify.roi_none", { reason: roiMissing(r, t, true) })
      : t("coupon.notify.roi", { roi: fmt.percent(roi, { signed: true }), net: fmt.money(r.revenue - r.refunded, r.currency), discount: fmt.money(r.discount, r.currency) }),
  );
  if (c.limit && r.uses > c.limit) out.push(t("coupon.notify.over_limit", { n: fmt.number(r.uses - c.limit), limit: fmt.number(c.limit) }));
  if (r.paused) out.push(t("coupon.notify.paused_orders", { n: fmt.number(r.paused) }));
  // As `coupon show` says it: uses in another currency are counted, their money is not.
  if (r.otherCurrency) out.push(t("coupon.show.other_currency", { n: fmt.number(r.otherCurrency), currency: r.currency }));
  if (c.perCustomer && r.overPerCustomer.length) out.push(perCustomerOverText(r.overPerCustomer, c.perCustomer, t, fmt));
  return out;
}

/**
 * The coupons route's announcement that `c` has ended, by its date or by `coupon expire`, with
 * its final tally `r`: the same from the coupon-schedule job and from the expire command. The
 * state is shopops' record (the storefront follows its own settings), so it says so.
 */
export function expiredNotice(c: CouponDoc, r: Redemptions, t: Translate, fmt: Formatter): Reply {
  // Ended by its date while still paused (or expired while paused) since its start: it never ran.
  const never = neverRanFrom(c, c.endsAt ?? undefined);
  const [uses, ...rest] = expiryTally(c, r, t, fmt);
  return {
    title: t("notify.coupon.expired", { code: c._id }),
    status: "info",
    fields: couponFields(c, t, fmt, never ? { neverRanFrom: never } : {}),
    context: [uses!, t("coupon.notify.expired"), ...rest],
    visibility: "public",
  };
}
