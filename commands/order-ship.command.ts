import { z } from "zod";
import { defineCommand, type Command } from "../src/core/command.js";
import { orderNoArg, splitOrderNo } from "./order.command.js";
import { carrierArg, pendingRequestsText, statusName, trackingArg, transitionDone, transitionProblem } from "./order.view.js";
import { OrderService, sameCarrier } from "../src/services/order.service.js";
import { normalizeTracking } from "../src/core/text.js";
import { quote } from "../src/core/parser.js";
import type { OrderDoc } from "../src/store/models.js";
import { UserError } from "../src/core/errors.js";
import type { Translate } from "../src/core/messages.js";

/**
 * Whether a shipped order's stored shipment is the one given again: the same tracking number
 * (in its one spelling) and carrier (in any case or width). Anything else is another shipment,
 * which `order ship` must not call done.
 */
function sameShipment(order: OrderDoc, carrier: string, trackingNo: string): boolean {
  return normalizeTracking(order.shipment?.trackingNo ?? "") === normalizeTracking(trackingNo) && sameCarrier(order.shipment?.carrier ?? "", carrier);
}

/**
 * `order ship ORD-1 SF SF123`: the carrier and tracking number typed without their names (as many
 * words as options missing, in the usage's order), told so with the line written right; else null.
 */
function shipApart(typed: Parameters<NonNullable<Command["explainArgs"]>>[0], t: Translate): { error: UserError; subject: string } | null {
  const [first, ...extra] = typed.words;
  const missing = (["carrier", "tracking"] as const).filter((k) => !(k in typed.named));
  const no = first === undefined ? null : orderNoArg.safeParse(first);
  if (!no?.success || !extra.length || extra.length !== missing.length) return null;
  const orderNo = OrderService.normalizeOrderNo(no.data);
  const given = { ...typed.named, ...Object.fromEntries(missing.map((k, i) => [k, extra[i]!])) };
  const command = ["order ship", orderNo, ...["carrier", "tracking"].map((k) => `${k}=${quote(given[k]!)}`)].join(" ");
  return { error: new UserError("invalid_args", `${t("error.invalid_args", { command: "order ship" })}\n• ${t("order.ship.options_apart", { command })}`), subject: orderNo };
}

export default defineCommand({
  name: "order ship",
  description: "cmd.order_ship",
  positional: ["orderNo"],
  usage: { en: "<orderNo> carrier=<carrier> tracking=<tracking no.>", zh: "<orderNo> carrier=<快递公司> tracking=<运单号>" },
  args: z.object({
    orderNo: orderNoArg,
    carrier: carrierArg,
    tracking: trackingArg,
  }),
  examples: [
    { en: "order ship ORD-100001 carrier=SF tracking=SF1234567890", zh: "order ship ORD-100001 carrier=顺丰 tracking=SF1234567890" },
    { en: 'order ship ORD-100002 carrier="China Post" tracking=CP998877', zh: "order ship ORD-100002 carrier=中国邮政 tracking=CP998877" },
  ],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the order typed: `audit subject=ORD-…` finds them.
  typedSubject: { arg: "orderNo", spelling: (s) => OrderService.normalizeOrderNo(s) },
  // `order ship ORD 100001 …`: told the number has no spaces, with the line written right.
  explainArgs: async (typed, services, t) => (await splitOrderNo("order ship")(typed, services, t)) ?? shipApart(typed, t),
  async handler(ctx) {
    const { args, services, actor, t, fmt, subject } = ctx;
    const r = await services.orders.transition(args.orderNo, "shipped", { by: actor.identity, carrier: args.carrier, trackingNo: args.tracking });
    // Shipped already, but with another carrier or tracking number: the shipment typed is not
    // recorded, so it is no success ("already" only when it is the shipment stored).
    if (r.kind === "already" && !sameShipment(r.order, args.carrier, args.tracking)) {
      const orderNo = r.order._id;
      subject(orderNo);
      const command = `order tracking ${quote(orderNo)} carrier=${quote(args.carrier)} tracking=${quote(args.tracking)} reason=…`;
      // Shipped with no carrier nor tracking number recorded: nothing stands that differs, only nothing to compare.
      const none = !r.order.shipment?.carrier && !r.order.shipment?.trackingNo;
      return {
        status: "error",
        code: "tracking_differs",
        text: none ? t("order.ship.no_details", { orderNo, command }) : t("order.ship.tracking_differs", { orderNo, carrier: r.order.shipment?.carrier || "—", tracking: r.order.shipment?.trackingNo || "—", givenCarrier: args.carrier, givenTracking: args.tracking, command }),
        visibility: "ephemeral",
      };
    }
    // Shipped with this very shipment, and delivered (or refunded) since: a retry of the same
    // `order ship`, answered as done already, not as a refused transition.
    if (r.kind === "refused" && (r.current === "delivered" || r.current === "refunded")) {
      const o = await services.orders.byNo(r.orderNo);
      if (o?.shipment?.shippedAt && sameShipment(o, args.carrier, args.tracking)) {
        subject(o._id);
        const text = t("order.ship.already_since", { orderNo: o._id, carrier: o.shipment.carrier || "—", tracking: o.shipment.trackingNo || "—", status: statusName(o.status, t) });
        return { status: "info", code: "already_in_status", text, visibility: "ephemeral" };
      }
      // Delivered with another carrier or tracking number: refused as `tracking_differs` is for a
      // shipped one, naming what it went with and the `order tracking` line that corrects it.
      const went = o?.shipment?.shippedAt && r.current === "delivered" && (o.shipment.carrier || o.shipment.trackingNo) ? o : null;
      if (went) {
        subject(went._id);
        const command = `order tracking ${quote(went._id)} carrier=${quote(args.carrier)} tracking=${quote(args.tracking)} reason=…`;
        const text = t("order.ship.tracking_differs_delivered", { orderNo: went._id, carrier: went.shipment?.carrier || "—", tracking: went.shipment?.trackingNo || "—", status: statusName(went.status, t), givenCarrier: args.carrier, givenTracking: args.tracking, command });
        return { status: "error", code: "tracking_differs", text, visibility: "ephemeral" };
      }
    }
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "shipped", ctx);
    // As stored: the shop's own spelling of this carrier, given before shipment, stays (`SF` for `sf`).
    const shipped = { carrier: r.order.shipment?.carrier || args.carrier, tracking: r.order.shipment?.trackingNo || args.tracking };
    // Refund requests still open on it (a full refund asked, say): named, so the parcel does not
    // leave unseen for an order whose money may be going back.
    const pending = await services.orders.pendingRefundRequests(r.order._id);
    // Part of it refunded already (an item given back before it left): said, so the parcel is packed for what is left.
    const o = r.order;
    const refunded = o.refundedTotal > 0 ? [t("order.shipped.refunded", { refunded: fmt.money(o.refundedTotal, o.currency), net: fmt.money(o.total - o.refundedTotal, o.currency), total: fmt.money(o.total, o.currency), orderNo: o._id })] : [];
    const reply = transitionDone(r, "shipped", (orderNo) => t("order.shipped", { orderNo, ...shipped }), pending.length || refunded.length ? "warning" : "ok", ctx);
    const requests = pending.length ? [t("order.shipped.pending_refunds", { requests: pendingRequestsText(pending, { t, fmt }), id: pending[0]!.id })] : [];
    if (!refunded.length && !requests.length) return reply;
    return { ...reply, context: [...(reply.context ?? []), ...refunded, ...requests] };
  },
});
