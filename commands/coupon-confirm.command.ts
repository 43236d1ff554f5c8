import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { couponFields } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon confirm",
  description: "cmd.coupon_confirm",
  positional: ["draft"],
  // A mistyped check is refused saying nothing was launched, as every refusal of a Confirm does.
  args: z.object({ draft: z.string().trim().min(1).max(20), h: z.string().trim().regex(/^[0-9a-fA-F]{8}$/, "coupon.confirm.bad_hash") }),
  examples: ["coupon confirm D-7K2M9Q h=1a2b3c4d"],
  permission: "manager",
  mutates: true,
  async handler({ args, services, actor, t, fmt, subject }) {
    const r = await services.coupon.confirm({ draftId: args.draft, hash: args.h, actor: actor.identity });
    // Its audit entry names the coupon's code, so `audit subject=SPRING15` finds the confirm (or its refusal).
    if (r.kind === "confirmed" || r.kind === "already_confirmed") subject(r.coupon._id);
    else if (r.kind !== "not_found") subject(r.code);
    switch (r.kind) {
      case "confirmed":
        // Recorded here only: the storefront needs the same code set up by hand.
        return { title: t("coupon.confirmed.title", { code: r.coupon._id }), fields: couponFields(r.coupon, t, fmt), text: t("coupon.storefront.launch"), status: "ok", visibility: "public" };
      case "already_confirmed":
        return { status: "info", code: "already_confirmed", text: t("coupon.already_confirmed", { code: r.coupon._id }), visibility: "ephemeral" };
      case "not_found":
        return { status: "error", code: "unknown_preview", text: t("coupon.confirm.unknown", { id: args.draft }), visibility: "ephemeral" };
      case "stale":
        return { status: "error", code: "stale_preview", text: t(`coupon.stale.${r.why}`), visibility: "ephemeral" };
      case "code_taken":
        return { status: "error", code: "code_taken", text: t("coupon.code_taken_now", { code: r.code }), visibility: "ephemeral" };
    }
  },
});
