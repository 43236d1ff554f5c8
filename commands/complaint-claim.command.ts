import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { changeReply, complaintIdArg } from "./complaint.view.js";

export default defineCommand({
  name: "complaint claim",
  description: "cmd.complaint_claim",
  positional: ["id"],
  args: z.object({ id: complaintIdArg }),
  examples: ["complaint claim C-7K2M9Q"],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the complaint typed: `audit subject=C-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => ComplaintService.normalizeId(s) },
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const r = await services.complaints.claim(args.id, actor);
    // A refusal may name who assigned it: with the caller's linked identities, "by you" when it was them.
    const rctx = r.kind === "refused" ? { ...ctx, actor: await services.complaints.person(actor) } : ctx;
    return changeReply(r, args.id, "claim", t("complaint.claimed", { id: ComplaintService.normalizeId(args.id) }), services, rctx);
  },
});
