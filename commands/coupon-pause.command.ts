import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { couponTransition } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon pause",
  description: "cmd.coupon_pause",
  positional: ["code"],
  args: z.object({ code: typedId(z.string().min(1).max(40)) }),
  examples: ["coupon pause SPRING15"],
  permission: "manager",
  mutates: true,
  handler: (ctx) => couponTransition(ctx, "pause"),
});
