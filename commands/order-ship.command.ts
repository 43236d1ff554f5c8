import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { orderNoArg } from "./order.command.js";
import { trackingArg, transitionDone, transitionProblem } from "./order.view.js";
import { OrderService } from "../src/services/order.service.js";

export default defineCommand({
  name: "order ship",
  description: "cmd.order_ship",
  positional: ["orderNo"],
  usage: { en: "<orderNo> carrier=<carrier> tracking=<tracking no.>", zh: "<orderNo> carrier=<快递公司> tracking=<运单号>" },
  args: z.object({
    orderNo: orderNoArg,
    carrier: text(60),
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
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const r = await services.orders.transition(args.orderNo, "shipped", { by: actor.identity, carrier: args.carrier, trackingNo: args.tracking });
    if (r.kind !== "done") return transitionProblem(r, args.orderNo, "shipped", ctx);
    return transitionDone(r, "shipped", (orderNo) => t("order.shipped", { orderNo, carrier: args.carrier, tracking: args.tracking }), "ok", ctx);
  },
});
