import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { refundCard } from "../src/services/refund.view.js";

export default defineCommand({
  name: "refund show",
  description: "cmd.refund_show",
  positional: ["id"],
  args: z.object({ id: z.string().trim().min(1).max(20) }),
  examples: ["refund show R-7K2M9Q"],
  permission: "staff",
  mutates: false,
  async handler({ args, services, t, fmt, now }) {
    const r = await services.refund.get(args.id);
    if (!r) return { status: "error", code: "unknown_refund", text: t("refund.unknown", { id: args.id }), visibility: "ephemeral" };
    const card = refundCard(r, { t, fmt, now, policy: await services.refund.policy() });
    // An approval whose execution was interrupted: say so and how to finish it.
    if (r.status === "approved" && !r.executedAt) card.context = [t("refund.unexecuted_hint", { id: r._id })];
    return { ...card, visibility: "ephemeral" };
  },
});
