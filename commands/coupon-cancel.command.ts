import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "coupon cancel",
  description: "cmd.coupon_cancel",
  positional: ["draft"],
  args: z.object({ draft: z.string().trim().min(1).max(20) }),
  examples: ["coupon cancel D-7K2M9Q"],
  permission: "manager",
  // A staff member pressing Cancel is told the preview stays open, and who can close it.
  deniedNote: "coupon.cancel.denied",
  mutates: true,
  async handler({ args, services, t, subject }) {
    const id = args.draft.toUpperCase();
    const r = await services.coupon.cancel(id);
    // Its audit entry names the preview's coupon code (`audit subject=SPRING15`).
    if (r.kind !== "not_found") subject(r.code);
    if (r.kind === "cancelled") return { status: "ok", text: t("coupon.cancelled", { id }), visibility: "ephemeral" };
    if (r.kind === "not_open") {
      // Cancel pressed after Confirm: the coupon is live in shopops, and only `coupon expire` ends it.
      const text = r.status === "confirmed" ? t("coupon.cancel.confirmed", { id, code: r.code }) : t("coupon.cancel.not_open", { id });
      return { status: "info", code: "preview_closed", text, visibility: "ephemeral" };
    }
    return { status: "error", code: "unknown_preview", text: t("coupon.draft.unknown", { id: args.draft }), visibility: "ephemeral" };
  },
});
