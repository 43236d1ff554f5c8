import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg, splitOrderNo } from "./order.command.js";
import { pendingRequestsText, transitionDone, transitionProblem } from "./order.view.js";
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
  // `order cancel ORD 100001 …`: told the number has no spaces; `order cancel ORD-1 客户取消`: told
  // the words look like the reason; each with the line written right.
  explainArgs: splitOrderNo("order cancel", "reason"),
  async handler(ctx) {
    const { args, services, actor, t, fmt } = ctx;
    const r = await services.orders.transition(args.orderNo, "cancelled", { by: actor.identity, note: args.reason });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "cancelled", ctx);
    const o = r.order;
    const wasPaid = o.paidAt !== undefined && o.paidAt !== null;
    // What the customer is still owed: the total less what was refunded already (nothing: no sentence).
    const refunded = o.refundedTotal ?? 0;
    const left = wasPaid ? Math.max(0, o.total - refunded) : 0;
    let paid = "";
    // What no refund nor open request covers: said as the card says it, with the command that asks it.
    let owed = 0;
    if (left > 0) {
      const sep = t("text.sentence_sep");
      paid = sep + (refunded > 0
        ? t("order.cancelled.paid_left", { total: fmt.money(o.total, o.currency), refunded: fmt.money(refunded, o.currency), left: fmt.money(left, o.currency) })
        : t("order.cancelled.paid", { amount: fmt.money(o.total, o.currency) }));
      // Requests that may still refund part of it: named, so nobody asks for the same money twice.
      const pending = await services.orders.pendingRefundRequests(o._id);
      owed = left - pending.reduce((n, p) => n + (p.currency === o.currency ? p.amount : 0), 0);
      if (pending.length) {
        const requests = pendingRequestsText(pending, { t, fmt });
        paid += sep + t("order.cancelled.pending_refunds", { requests });
      }
    }
    // The message ends the sentence itself: a reason typed with its own full stop is not given a second ("了。。").
    const reason = args.reason.replace(/[.。．]+$/u, "") || args.reason;
    const reply = transitionDone(r, "cancelled", (orderNo) => t("order.cancelled", { orderNo, reason }) + paid, left > 0 ? "warning" : "ok", ctx);
    if (owed <= 0) return reply;
    return { ...reply, context: [...(reply.context ?? []), t("order.cancelled.owed", { amount: fmt.money(owed, o.currency), orderNo: o._id })] };
  },
});
