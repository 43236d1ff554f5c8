import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { OrderService } from "../src/services/order.service.js";
import { orderCard } from "./order.view.js";

/** An order number as typed: `ORD-100001`, or just `100001`. */
// As long as ingestion accepts (64), so every stored order can be reached from chat.
/** An order number as typed, full-width characters too (`ＯＲＤ－１００１`). */
export const orderNoArg = typedId(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "order.bad_no" }));

export default defineCommand({
  name: "order",
  description: "cmd.order",
  positional: ["orderNo"],
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
      const waiting = await services.store.parkedOrderUpdates.countDocuments({ orderNo: { $in: [args.orderNo, OrderService.normalizeOrderNo(args.orderNo)] } });
      if (waiting) return { status: "info", code: "order_pending_arrival", text: t("order.parked", { orderNo: args.orderNo, count: waiting }), visibility: "ephemeral" };
      return { status: "error", code: "unknown_order", text: t("order.unknown", { orderNo: OrderService.normalizeOrderNo(args.orderNo) }), visibility: "ephemeral" };
    }
    return orderCard(d, ctx);
  },
});
