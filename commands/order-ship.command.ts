import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg } from "./order.command.js";
import { statusName, transitionProblem } from "./order.view.js";

export default defineCommand({
  name: "order ship",
  description: "cmd.order_ship",
  positional: ["orderNo"],
  usage: "<orderNo> carrier=<carrier> tracking=<tracking no.>",
  args: z.object({
    orderNo: orderNoArg,
    carrier: text(60),
    tracking: z.string().trim().regex(/^[A-Za-z0-9-]{3,40}$/),
  }),
  examples: ["order ship ORD-100001 carrier=SF tracking=SF1234567890", 'order ship ORD-100002 carrier="China Post" tracking=CP998877'],
  permission: "staff",
  mutates: true,
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const r = await services.orders.transition(args.orderNo, "shipped", { by: actor.identity, carrier: args.carrier, trackingNo: args.tracking });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "shipped", ctx);
    // The number as the shop stored it (`1001` stays `1001`).
    const orderNo = r.order._id;
    return {
      title: t("order.transition.title", { orderNo, from: statusName(r.from, t), to: statusName("shipped", t) }),
      text: t("order.shipped", { orderNo, carrier: args.carrier, tracking: args.tracking }),
      status: "ok",
      ...(r.effectsPending ? { context: [t("order.effects_pending")] } : {}),
      visibility: "public",
    };
  },
});
