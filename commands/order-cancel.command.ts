import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg } from "./order.command.js";
import { transitionDone, transitionProblem } from "./order.view.js";
import { OrderService } from "../src/services/order.service.js";

export default defineCommand({
  name: "order cancel",
  description: "cmd.order_cancel",
  positional: ["orderNo"],
  usage: { en: "<orderNo> reason=<text>", zh: "<orderNo> reason=<原因>" },
  args: z.object({ orderNo: orderNoArg, reason: text(200) }),
  examples: [{ en: 'order cancel ORD-100001 reason="customer changed their mind"', zh: "order cancel ORD-100001 reason=客户改主意了" }],
  // Cancelling is final (no un-cancel) and may void a paid order: managers decide.
  permission: "manager",
  mutates: true,
  // Refusals before the handler runs name the order typed: `audit subject=ORD-…` finds them.
  typedSubject: { arg: "orderNo", spelling: (s) => OrderService.normalizeOrderNo(s) },
  async handler(ctx) {
    const { args, services, actor, t, fmt } = ctx;
    const r = await services.orders.transition(args.orderNo, "cancelled", { by: actor.identity, note: args.reason });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "cancelled", ctx);
    const wasPaid = r.order.paidAt !== undefined && r.order.paidAt !== null;
    const paid = wasPaid ? " " + t("order.cancelled.paid", { amount: fmt.money(r.order.total, r.order.currency) }) : "";
    return transitionDone(r, "cancelled", (orderNo) => t("order.cancelled", { orderNo, reason: args.reason }) + paid, wasPaid ? "warning" : "ok", ctx);
  },
});
