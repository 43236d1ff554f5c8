import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { OrderService } from "../src/services/order.service.js";
import { orderNoArg, splitOrderNo } from "./order.command.js";
import { carrierArg, orderNotFound, statusName, trackingArg } from "./order.view.js";

export default defineCommand({
  name: "order tracking",
  description: "cmd.order_tracking",
  positional: ["orderNo"],
  usage: { en: "<orderNo> tracking=<tracking no.> [carrier=<carrier>] reason=<why>", zh: "<orderNo> tracking=<运单号> [carrier=<快递公司>] reason=<原因>" },
  args: z.object({ orderNo: orderNoArg, tracking: trackingArg, carrier: carrierArg.optional(), reason: text(200) }),
  examples: [
    { en: 'order tracking ORD-100001 tracking=SF1234567891 reason="typo in the last digit"', zh: "order tracking ORD-100001 tracking=SF1234567891 reason=最后一位输错了" },
    { en: 'order tracking ORD-100002 carrier=JD tracking=JD0012345678 reason="sent with JD instead"', zh: "order tracking ORD-100002 carrier=京东 tracking=JD0012345678 reason=改由京东发货" },
  ],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the order typed: `audit subject=ORD-…` finds them.
  typedSubject: { arg: "orderNo", spelling: (s) => OrderService.normalizeOrderNo(s) },
  // `order tracking ORD 100001 …`: told the number has no spaces, with the line written right.
  explainArgs: splitOrderNo("order tracking", "reason"),
  async handler({ args, services, actor, t, subject }) {
    const r = await services.orders.correctShipment(args.orderNo, { trackingNo: args.tracking, ...(args.carrier ? { carrier: args.carrier } : {}), by: actor.identity, reason: args.reason });
    if ("order" in r) subject(r.order._id);
    switch (r.kind) {
      case "not_found":
        return orderNotFound(r, OrderService.normalizeOrderNo(args.orderNo), { t, subject });
      case "closed":
        return { status: "error", code: "shipment_closed", text: t("order.tracking.closed", { orderNo: r.order._id, status: statusName(r.order.status, t) }), visibility: "ephemeral" };
      case "final": {
        // Cancelled (or refunded) before it shipped: `order ship` would be refused too, so it is not offered.
        const status = statusName(r.order.status, t);
        return { status: "error", code: "invalid_transition", text: t("order.tracking.final", { orderNo: r.order._id, status }), visibility: "ephemeral" };
      }
      case "not_shipped":
        // Not paid yet: `order ship` would be refused now, so it is offered for once it is paid.
        if (r.order.status === "pending") return { status: "error", code: "not_shipped", text: t("order.tracking.not_paid", { orderNo: r.order._id, status: statusName(r.order.status, t) }), visibility: "ephemeral" };
        return { status: "error", code: "not_shipped", text: t("order.tracking.not_shipped", { orderNo: r.order._id }), visibility: "ephemeral" };
      case "unchanged": {
        const stored = { orderNo: r.order._id, carrier: r.order.shipment?.carrier || "—", tracking: r.order.shipment?.trackingNo || "—" };
        // Typed in another case or width (`sf` for SF): said to be the same shipment, not silently taken as typed.
        const respelt = (args.carrier !== undefined && args.carrier !== r.order.shipment?.carrier) || args.tracking !== r.order.shipment?.trackingNo;
        const given = [args.carrier ?? "", args.tracking].filter(Boolean).join(" ");
        // Said in the order's state: a delivered parcel "was delivered with", not "is shipped with".
        const delivered = r.order.status === "delivered";
        const key = delivered ? (respelt ? "order.tracking.unchanged_delivered_case" : "order.tracking.unchanged_delivered") : respelt ? "order.tracking.unchanged_case" : "order.tracking.unchanged";
        return { status: "info", code: "unchanged", text: t(key, respelt ? { ...stored, given } : stored), visibility: "ephemeral" };
      }
      case "busy":
        return { status: "error", code: "busy", text: t("order.tracking.busy", { orderNo: OrderService.normalizeOrderNo(args.orderNo) }), visibility: "ephemeral" };
      case "done":
        return {
          status: "ok",
          // Shipped with no carrier nor tracking number recorded (the shop's messages gave none): given now, not "corrected from — —".
          text: !r.old.carrier && !r.old.trackingNo
            ? t("order.tracking.added", { orderNo: r.order._id, carrier: r.order.shipment?.carrier || "—", tracking: r.order.shipment?.trackingNo || "—" })
            : t("order.tracking.done", { orderNo: r.order._id, oldCarrier: r.old.carrier || "—", oldTracking: r.old.trackingNo || "—", carrier: r.order.shipment?.carrier || "—", tracking: r.order.shipment?.trackingNo || "—" }),
          visibility: "public",
        };
    }
  },
});
