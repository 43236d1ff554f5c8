import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg } from "./order.command.js";
import { statusName, transitionProblem } from "./order.view.js";

export default defineCommand({
  name: "order cancel",
  description: "cmd.order_cancel",
  positional: ["orderNo"],
  usage: "<orderNo> reason=<text>",
  args: z.object({ orderNo: orderNoArg, reason: text(200) }),
  examples: ['order cancel ORD-100001 reason="customer changed their mind"'],
  // Cancelling is final (no un-cancel) and may void a paid order: managers decide.
  permission: "manager",
  mutates: true,
  async handler(ctx) {
    const { args, services, actor, t, fmt } = ctx;
    const r = await services.orders.transition(args.orderNo, "cancelled", { by: actor.identity, note: args.reason });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "cancelled", ctx);
    // The number as the shop stored it (`1001` stays `1001`).
    const orderNo = r.order._id;
    const wasPaid = r.order.paidAt !== undefined && r.order.paidAt !== null;
    return {
      title: t("order.transition.title", { orderNo, from: statusName(r.from, t), to: statusName("cancelled", t) }),
      text: t("order.cancelled", { orderNo, reason: args.reason }) + (wasPaid ? " " + t("order.cancelled.paid", { amount: fmt.money(r.order.total, r.order.currency) }) : ""),
      status: wasPaid ? "warning" : "ok",
      ...(r.effectsPending ? { context: [t("order.effects_pending")] } : {}),
      visibility: "public",
    };
  },
});
