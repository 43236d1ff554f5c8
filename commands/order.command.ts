import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { OrderService } from "../src/services/order.service.js";
import { orderCard } from "./order.view.js";

/**
 * An order number as typed: `ORD-100001`, or just `100001`, full-width characters too
 * (`ＯＲＤ－１００１`), and with the `#` shop admin pages print before it (`#1001` is `1001`).
 */
// As long as ingestion accepts (64), so every stored order can be reached from chat. A space in
// it (`ORD 100001`, or two numbers) is told as such, with how to write one, before the form is.
export const orderNoArg = typedId(
  z
    .string()
    .refine((s) => !/\s/.test(s), { error: "order.no_spaces", abort: true })
    .overwrite(OrderService.withoutHash)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "order.bad_no" }),
);

export default defineCommand({
  name: "order",
  description: "cmd.order",
  // The rest of the line: `order ORD 100001` is refused as a number with a space, not as an extra argument.
  positional: ["...orderNo"],
  usage: "<orderNo>",
  args: z.object({ orderNo: orderNoArg }),
  examples: ["order ORD-100001", "order 100001"],
  permission: "staff",
  mutates: false,
  async handler(ctx) {
    const { args, services, t } = ctx;
    const d = await services.orders.detail(args.orderNo);
    if (!d) {
      // Updates that came before the order itself (kept until it arrives) say it is on its way.
      // Read as orders are (findOrder): the first spelling that has some, else any case when one order number is spelt so.
      const parked = await services.orders.parkedUpdates(args.orderNo);
      if (parked) return { status: "info", code: "order_pending_arrival", text: t("order.parked", { orderNo: parked.orderNo, count: parked.count }), visibility: "ephemeral" };
      return { status: "error", code: "unknown_order", text: t("order.unknown", { orderNo: OrderService.normalizeOrderNo(args.orderNo) }), visibility: "ephemeral" };
    }
    return orderCard(d, ctx);
  },
});
