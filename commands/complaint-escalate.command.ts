import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { ComplaintService, escalateBlock } from "../src/services/complaint.service.js";
import { changeReply, complaintIdArg, promptForText } from "./complaint.view.js";

export default defineCommand({
  name: "complaint escalate",
  description: "cmd.complaint_escalate",
  positional: ["id"],
  usage: { en: "<id> reason=<why>", zh: "<id> reason=<原因>" },
  // Required to escalate; optional in the schema so the card's Escalate button gets a prompt.
  args: z.object({ id: complaintIdArg, reason: text(300).optional() }),
  examples: [{ en: 'complaint escalate C-7K2M9Q reason="customer threatens chargeback"', zh: "complaint escalate C-7K2M9Q reason=客户威胁要发起拒付" }],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the complaint typed: `audit subject=C-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => ComplaintService.normalizeId(s) },
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    if (!args.reason) {
      // Already escalated (for this person), or resolved: say so now rather than ask for a reason first.
      const c = await services.complaints.get(id);
      const block = c && escalateBlock(c, actor.role);
      if (c && block) return changeReply(block === "already" ? { kind: "already", complaint: c } : { kind: "refused", reason: block, complaint: c }, id, "escalate", "", services, ctx);
      return promptForText(id, "reason_required", services, t, c);
    }
    const r = await services.complaints.escalate(id, actor, args.reason);
    return changeReply(r, id, "escalate", t("complaint.escalated", { id, reason: args.reason }), services, ctx);
  },
});
