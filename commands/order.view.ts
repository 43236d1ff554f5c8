import { z } from "zod";
import { text } from "../src/core/args.js";
import { trackingNoInput } from "../src/services/ingest-schemas.js";
import type { CommandContext } from "../src/core/command.js";
import { CONTROL_CHARS } from "../src/core/text.js";
import { INGESTED_NOTE, SHOP_REFUND } from "../src/services/order-ingest.service.js";
import type { MessageKey } from "../src/core/messages.js";
import { clip, type Reply, type ReplyAction, type ReplyField, type ReplyStatus } from "../src/core/reply.js";
import { OrderService, type OrderDetail, type ParkedUpdates, type PendingRefundRequest, type TimelineEvent, type TransitionResult } from "../src/services/order.service.js";
import type { OrderStatus } from "../src/services/order-status.js";
import { complaintStatus, severityName } from "./complaint.view.js";

// Rendering of orders shared by the order commands (not a command: no `.command.ts` suffix).

type Ctx = Pick<CommandContext<unknown>, "t" | "fmt"> & Partial<Pick<CommandContext<unknown>, "subject">>;

const STATUS_COLOUR: Record<OrderStatus, ReplyStatus> = {
  pending: "warning",
  paid: "info",
  shipped: "info",
  delivered: "ok",
  cancelled: "warning",
  refunded: "warning",
};

/** Statuses in which an order has certainly not left the warehouse. */
const NOT_SHIPPED: readonly string[] = ["pending", "paid", "cancelled"];

/** The translated name of an order status. */
export function statusName(status: string, t: Ctx["t"]): string {
  return t(`order.status.${status}` as MessageKey);
}

/** The order card: status, payment, totals, shipping, items, timeline, refunds, complaints. */
export function orderCard(d: OrderDetail, { t, fmt }: Ctx): Reply {
  const o = d.order;
  const money = (n: number) => fmt.money(n, o.currency);
  const fields: ReplyField[] = [
    { label: t("order.status"), value: statusName(o.status, t), inline: true },
    {
      label: t("order.payment"),
      value: o.paidAt ? t("order.payment.paid", { amount: money(o.total), at: fmt.dateTime(o.paidAt) }) : t("order.payment.unpaid"),
      inline: true,
    },
    { label: t("order.customer"), value: o.customerId, inline: true, plain: true },
    { label: t("order.channel"), value: o.channel, inline: true, plain: true },
    { label: t("order.subtotal"), value: money(o.subtotal), inline: true },
    {
      label: t("order.discount"),
      // No "−$0.00" for a coupon that gave no discount (free shipping, say). Its minus as other
      // money taken off prints it (U+2212, fmt.figure), not a hyphen.
      value: o.discount > 0 || o.couponCode
        ? o.couponCode
          ? t("order.discount.coupon", { amount: o.discount > 0 ? fmt.figure(-o.discount, o.currency) : money(0), code: o.couponCode })
          : fmt.figure(-o.discount, o.currency)
        : t("order.discount.none"),
      inline: true,
    },
    { label: t("order.shipping_fee"), value: money(o.shipping), inline: true },
    { label: t("order.total"), value: money(o.total), inline: true },
  ];
  if (o.refundedTotal > 0) {
    fields.push({ label: t("order.refunded"), value: money(o.refundedTotal), inline: true });
    fields.push({ label: t("order.net"), value: money(o.total - o.refundedTotal), inline: true });
  }
  fields.push(
    // Imported orders may be shipped without shipment details: say "not shipped" only when true.
    {
      label: t("order.carrier"),
      // A carrier the shop's messages gave ahead of shipment (the order still paid): said not shipped, not read as on its way.
      value: o.shipment?.carrier
        ? !o.shipment.shippedAt && NOT_SHIPPED.includes(o.status) ? t("order.carrier.not_shipped", { carrier: o.shipment.carrier }) : o.shipment.carrier
        : NOT_SHIPPED.includes(o.status) ? t("order.not_shipped") : "—",
      inline: true,
      plain: true,
    },
    { label: t("order.tracking"), value: o.shipment?.trackingNo ?? "—", inline: true, plain: true },
    // Oldest first, with people's notes: cut from the start, so the latest event stays in view.
    { label: t("order.timeline"), value: d.timeline.map((e) => timelineLine(e, o.currency, { t, fmt })).join("\n"), plain: true, newestLast: true },
    {
      label: t("order.refunds"),
      value: (o.refunds ?? []).length
        ? (o.refunds ?? [])
            .map((r) => t("order.refund.line", { amount: money(r.amount ?? 0), at: r.at ? fmt.dateTime(r.at) : "—", id: r.requestId === SHOP_REFUND ? t("order.refund.by_shop") : (r.requestId ?? "—") }))
            .join("\n")
        : t("order.none"),
      newestLast: true,
    },
  );
  if (d.pendingRefunds.length) {
    fields.push({
      label: t("order.pending_refunds"),
      value: d.pendingRefunds
        .map((r) => t("order.pending_refund.line", { id: r.id, amount: fmt.money(r.amount, r.currency), by: r.requestedBy, at: fmt.dateTime(r.requestedAt) }))
        .join("\n"),
      plain: true,
    });
  }
  fields.push({
    label: t("order.complaints"),
    value: d.complaints.length
      ? d.complaints
          .map((c) =>
            t("order.complaint.line", {
              id: c._id,
              severity: severityName(c.severity, t),
              // As complaint cards and lists say it: one a manager gave someone is "Assigned".
              status: complaintStatus(c, t),
              text: clip(c.text, 60),
            }),
          )
          .join("\n")
      : t("order.none"),
    plain: true,
  });
  const actions: ReplyAction[] = o.status === "shipped" ? [{ id: `order deliver ${o._id}`, label: t("order.action.deliver"), style: "primary" }] : [];
  // Cancelled yet paid (paid late, or cancelled by the shop after payment): money the customer is
  // owed that no refund or open request covers, said with the command that gives it back.
  const owed = o.status === "cancelled" && o.paidAt ? o.total - o.refundedTotal - d.pendingRefunds.reduce((n, r) => n + (r.currency === o.currency ? r.amount : 0), 0) : 0;
  const context = [...(owed > 0 ? [t("order.cancelled.owed", { amount: money(owed), orderNo: o._id })] : []), ...amountsDiffer(d, { t, fmt })];
  return {
    title: t("order.title", { orderNo: o._id }),
    status: STATUS_COLOUR[o.status as OrderStatus] ?? "info",
    ...(context.length ? { context } : {}),
    fields,
    table: {
      columns: [t("order.col.sku"), t("order.col.name"), t("order.col.qty"), t("order.col.unit"), t("order.col.line")],
      rows: d.lines.map((l) => [l.sku, l.name ?? t("order.unknown_product"), fmt.number(l.qty), money(l.unitPrice), money(l.lineTotal)]),
      alignRight: [2, 3, 4],
    },
    ...(actions.length ? { actions } : {}),
    visibility: "ephemeral",
  };
}

/**
 * Where the amounts the shop sent do not add up (a subtotal that is not the lines' sum, a total
 * that is not subtotal − discount + shipping): kept as sent, and the API and the import warned
 * their sender (`amounts_differ`); said on the card too, where people read the order. One line, or none.
 */
function amountsDiffer(d: OrderDetail, { t, fmt }: Ctx): string[] {
  const o = d.order;
  const money = (n: number) => fmt.figure(n, o.currency);
  const lines = d.lines.reduce((n, l) => n + l.lineTotal, 0);
  const expected = o.subtotal - o.discount + o.shipping;
  const what = [
    ...(d.lines.length && lines !== o.subtotal ? [t("order.amounts_differ.subtotal", { subtotal: money(o.subtotal), lines: money(lines) })] : []),
    ...(expected !== o.total ? [t("order.amounts_differ.total", { total: money(o.total), expected: money(expected) })] : []),
  ];
  return what.length ? [t("order.amounts_differ", { what: what.join(t("order.amounts_differ.sep")) })] : [];
}

/**
 * A tracking number as printed on a label ("9400 1000 0000 0000 0000 00", "1z999aa1..."): what
 * the ingestion API takes for `shipment.trackingNo` (any text up to 100 characters, trimmed of
 * invisible characters at its ends), stored in its one spelling (`normalizeTracking`: spaces
 * dropped, upper case), so every number the shop's messages store can be typed in chat; one
 * with no letter or digit (`---`) is refused, being no number a carrier can look up.
 */
export const trackingArg = trackingNoInput.pipe(
  z
    .string()
    .min(1)
    .refine((s) => !CONTROL_CHARS.test(s), { error: "order.bad_tracking", abort: true })
    // Punctuation alone (`---`, `.`, `，`) is a placeholder, not a number a carrier can look up.
    .refine((s) => /[\p{L}\p{Nd}]/u.test(s), { error: "order.tracking_no_alnum" }),
);

/** A carrier as `order ship` and `order tracking` take it: a name with a letter or digit (`SF`, `顺丰`), not punctuation alone (`---`). */
export const carrierArg = text(60).refine((s) => /[\p{L}\p{Nd}]/u.test(s), { error: "order.carrier_no_alnum" });

function timelineLine(e: TimelineEvent, currency: string, { t, fmt }: Ctx): string {
  // The shipped line names what it left with (as stored: `order tracking` lines say what changed since).
  const what = e.shipment ? t("order.event.shipped_with", { carrier: e.shipment.carrier || "—", tracking: e.shipment.trackingNo || "—" }) : t(`order.event.${e.kind}` as MessageKey);
  let s = `${fmt.dateTime(e.at)}  ${what}`;
  if (e.amount !== undefined) s += ` ${fmt.money(e.amount, currency)}`;
  // Brackets and the note's colon as the language writes them: " (by …): note" or "（操作人 …）：note".
  if (e.by) s += t("text.paren", { text: t("order.event.by", { by: e.by }) });
  // Notes the bot wrote for itself are not shown: the shop's refund and an ingested step name
  // their sender already ("by api:storefront"; the refunds field says "by the shop").
  const note = e.note === SHOP_REFUND || e.note === INGESTED_NOTE ? undefined : e.note;
  if (e.tracking) {
    // A correction stored as fields: old → new, and its reason, in the reader's language.
    const { fromCarrier, fromTrackingNo, toCarrier, toTrackingNo } = e.tracking;
    // A side with neither (an order shipped without details, now given them) reads "—", not blank.
    const side = (carrier: string, no: string) => [carrier, no].filter(Boolean).join(" ") || "—";
    const change = t("order.event.tracking.change", { from: side(fromCarrier, fromTrackingNo), to: side(toCarrier, toTrackingNo) });
    s = t("text.note", { text: s, note: note ? t("order.event.tracking.reason", { change, reason: note }) : change });
  } else if (note) s = t("text.note", { text: s, note });
  if (e.estimated) s += t("text.paren", { text: t("order.event.estimated") });
  return s;
}

/** Refund requests still awaiting a decision, as `order cancel` and `order ship` name them: `R-1 (¥50.00), R-2 (¥20.00)`. */
export function pendingRequestsText(pending: readonly PendingRefundRequest[], { t, fmt }: Ctx): string {
  return pending.map((p) => p.id + t("text.paren", { text: fmt.money(p.amount, p.currency) })).join(t("text.list_sep"));
}

/**
 * The reply to an order status transition that happened: its title, the command's own `text`
 * (given the number as stored: `1001` stays `1001`) and status, and a line when its stock
 * effects are left to the order-effects job.
 */
export function transitionDone(r: Extract<TransitionResult, { kind: "done" }>, to: OrderStatus, text: (orderNo: string) => string, status: "ok" | "warning", { t, subject }: Ctx): Reply {
  const orderNo = r.order._id;
  subject?.(orderNo);
  return {
    title: t("order.transition.title", { orderNo, from: statusName(r.from, t), to: statusName(to, t) }),
    text: text(orderNo),
    status,
    ...(r.effectsPending ? { context: [t("order.effects_pending")] } : {}),
    visibility: "public",
  };
}

/**
 * The reply to a change asked of an order that does not exist (`orderNo`: the number typed,
 * normalized). One whose updates came first and wait for it is named as on its way, as `order`
 * says: not called unknown, and what was asked changes nothing.
 */
export function orderNotFound(r: { parked?: ParkedUpdates }, orderNo: string, { t, subject }: Pick<Ctx, "t" | "subject">): Reply {
  if (!r.parked) return { status: "error", code: "unknown_order", text: t("order.unknown", { orderNo }), visibility: "ephemeral" };
  subject?.(r.parked.orderNo);
  return { status: "error", code: "order_pending_arrival", text: t("order.parked.no_change", { orderNo: r.parked.orderNo, count: r.parked.count }), visibility: "ephemeral" };
}

/** The reply to an order status transition that did not happen. */
export function transitionProblem(r: Exclude<TransitionResult, { kind: "done" }>, typed: string, to: OrderStatus, { t, subject }: Ctx): Reply {
  // The number as typed, normalized (`100001` → `ORD-100001`): what was not found or refused.
  const orderNo = OrderService.normalizeOrderNo(typed);
  // An attempt on a known order is part of its trail too (as for complaints and refunds).
  if (r.kind === "already") subject?.(r.order._id);
  if (r.kind === "refused") subject?.(r.orderNo);
  switch (r.kind) {
    case "not_found":
      return orderNotFound(r, orderNo, { t, subject });
    case "already": {
      // Shipped already: say with what, so a second person sees which tracking number stands.
      const ship = r.order.status === "shipped" && r.order.shipment?.trackingNo ? r.order.shipment : null;
      const text = ship
        ? t("order.transition.already_shipped", { orderNo: r.order._id, carrier: ship.carrier ?? "—", tracking: ship.trackingNo ?? "—" })
        : t("order.transition.already", { orderNo: r.order._id, status: statusName(r.order.status, t) });
      return { status: "info", code: "already_in_status", text, visibility: "ephemeral" };
    }
    case "refused": {
      const params = { orderNo: r.orderNo, status: statusName(r.current, t), to: statusName(to, t), allowed: r.allowed.map((s) => statusName(s, t)).join(t("text.list_sep")) };
      return {
        status: "error",
        code: "invalid_transition",
        // Cancelling what has shipped: the way to give money back is a refund request, said with its command.
        text:
          (r.allowed.length ? t("order.transition.refused", params) : t("order.transition.final", params)) +
          (to === "cancelled" && (r.current === "shipped" || r.current === "delivered") ? t("text.sentence_sep") + t("order.cancel.shipped_refund", { orderNo: r.orderNo }) : "") +
          // Delivering what has not shipped: the step it misses, with its command.
          (to === "delivered" && r.current === "paid" ? t("text.sentence_sep") + t("order.deliver.ship_first", { orderNo: r.orderNo }) : ""),
        visibility: "ephemeral",
      };
    }
  }
}
