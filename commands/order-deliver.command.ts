import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg } from "./order.command.js";
import { statusName, transitionProblem } from "./order.view.js";

export default defineCommand({
  name: "order deliver",
  description: "cmd.order_deliver",
  positional: ["orderNo"],
  args: z.object({ orderNo: orderNoArg }),
  examples: ["order deliver ORD-100001"],
  permission: "staff",
  mutates: true,
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const r = await services.orders.transition(args.orderNo, "delivered", { by: actor.identity });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "delivered", ctx);
    // The number as the shop stored it (`1001` stays `1001`).
    const orderNo = r.order._id;
    return {
      title: t("order.transition.title", { orderNo, from: statusName(r.from, t), to: statusName("delivered", t) }),
      text: t("order.delivered", { orderNo }),
      status: "ok",
      ...(r.effectsPending ? { context: [t("order.effects_pending")] } : {}),
      visibility: "public",
    };
  },
});
