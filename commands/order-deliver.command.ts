import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg, splitOrderNo } from "./order.command.js";
import { transitionDone, transitionProblem } from "./order.view.js";
import { OrderService } from "../src/services/order.service.js";

export default defineCommand({
  name: "order deliver",
  description: "cmd.order_deliver",
  positional: ["orderNo"],
  args: z.object({ orderNo: orderNoArg }),
  examples: ["order deliver ORD-100001"],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the order typed: `audit subject=ORD-…` finds them.
  typedSubject: { arg: "orderNo", spelling: (s) => OrderService.normalizeOrderNo(s) },
  // `order deliver ORD 100001 …`: told the number has no spaces, with the line written right.
  explainArgs: splitOrderNo("order deliver"),
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const r = await services.orders.transition(args.orderNo, "delivered", { by: actor.identity });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "delivered", ctx);
    return transitionDone(r, "delivered", (orderNo) => t("order.delivered", { orderNo }), "ok", ctx);
  },
});
