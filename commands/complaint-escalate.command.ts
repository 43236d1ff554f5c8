import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { ComplaintService, complaintEscalationKey, escalateBlock } from "../src/services/complaint.service.js";
import { changeReply, complaintCard, complaintIdArg, promptForText, severityName } from "./complaint.view.js";

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
    const { args, services, actor, t, config, now, logger } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    if (!args.reason) {
      // Already escalated (for this person), or resolved: say so now rather than ask for a reason first.
      const c = await services.complaints.get(id);
      const block = c && escalateBlock(c, actor.role);
      if (c && block) return changeReply(block === "already" ? { kind: "already", complaint: c } : { kind: "refused", reason: block, complaint: c }, id, "escalate", "", services, ctx);
      return promptForText(id, "reason_required", services, t, c);
    }
    const r = await services.complaints.escalate(id, actor, args.reason);
    if (r.kind === "done") {
      // Only a manager may take it now: the managers' route hears of it at once (once per
      // escalation), in the shop's language, not at its SLA breach.
      const st = translator(config.locale);
      const fmt = new Formatter(config.locale, config.timeZone, config.currency);
      const c = r.complaint;
      // A short title with its severity, as the complaint's other alerts have (Slack cuts a
      // header at 150 characters); the reason in a field of its own, shown as typed (never as
      // markup), and what happens next below the card.
      try {
        const card = complaintCard(c, services, { t: st, fmt, now });
        const title = st("complaint.notify.escalated", { id: c._id, severity: severityName(c.severity, st), by: actor.identity });
        const fields = [...(card.fields ?? []), { label: st("complaint.notify.escalated_reason"), value: args.reason, plain: true }];
        const context = [...(card.context ?? []), st("complaint.notify.escalated_waits")];
        await services.alerts.send({ type: "sla", key: complaintEscalationKey(c), reply: { ...card, title, fields, context, status: "warning", visibility: "public" }, urgent: c.severity === "urgent" });
      } catch (error) {
        // The escalation is made: it is not reported as failed; its SLA alerts still reach the managers.
        logger.error("escalation alert not queued", { id: c._id, error });
      }
    }
    return changeReply(r, id, "escalate", t("complaint.escalated", { id, reason: args.reason }), services, ctx);
  },
});
