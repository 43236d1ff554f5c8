import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { withoutInvisible } from "../src/core/text.js";
import { couponFields } from "../src/services/coupon.view.js";

export default defineCommand({
  name: "coupon confirm",
  description: "cmd.coupon_confirm",
  positional: ["draft"],
  // A mistyped check is refused saying nothing was launched, as every refusal of a Confirm does.
  args: z.object({ draft: z.string().trim().min(1).max(20), h: z.string().trim().regex(/^[0-9a-fA-F]{8}$/, "coupon.confirm.bad_hash") }),
  examples: ["coupon confirm D-7K2M9Q h=1a2b3c4d"],
  permission: "manager",
  // A staff member pressing Confirm is told nothing was launched, and who can confirm.
  deniedNote: "coupon.confirm.denied",
  // Without h= (typed by hand): nothing was launched, and the whole line to type, for the caller's own preview.
  async explainArgs(typed, services, t, actor) {
    const named = Object.keys(typed.named);
    const given = typed.words.length === 1 && named.length === 0 ? typed.words[0] : typed.words.length === 0 && named.length === 1 ? typed.named.draft : undefined;
    if (given === undefined || typed.named.h !== undefined) return null;
    const id = withoutInvisible(given.normalize("NFKC")).trim();
    const found = id.length > 0 && id.length <= 20 ? await services.coupon.draftOf(id) : null;
    const d = found?.draft;
    const text =
      d && found.usable && d.createdBy === actor?.identity
        ? t("coupon.confirm.no_hash", { id: d._id, code: d.code, line: `coupon confirm ${d._id} h=${d.hash}` })
        : d?.status === "confirmed"
          ? t("coupon.confirm.no_hash_launched", { id: d._id, code: d.code })
          : t("coupon.confirm.no_hash_again", { id });
    return { error: new UserError("missing_hash", text), ...(d ? { subject: d.code } : {}) };
  },
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
