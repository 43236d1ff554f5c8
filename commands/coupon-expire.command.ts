import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { CouponService } from "../src/services/coupon.service.js";
import { couponTransition } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon expire",
  description: "cmd.coupon_expire",
  positional: ["code"],
  args: z.object({ code: typedId(z.string().min(1).max(40)) }),
  examples: ["coupon expire WELCOME15"],
  permission: "manager",
  mutates: true,
  // Its audit entry names the code as stored (`audit subject=SPRING15`): typed, when refused before the handler ran; an unknown code is no record.
  typedSubject: { arg: "code", spelling: (s) => CouponService.normalizeCode(s) },
  handler: (ctx) => couponTransition(ctx, "expire"),
});
