import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { couponTransition } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon pause",
  description: "cmd.coupon_pause",
  positional: ["code"],
  args: z.object({ code: z.string().trim().min(1).max(40) }),
  examples: ["coupon pause SPRING15"],
  permission: "manager",
  mutates: true,
  handler: (ctx) => couponTransition(ctx, "pause"),
});
