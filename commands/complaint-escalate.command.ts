import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { Formatter } from "../src/core/format.js";
import { translator, type Translate } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { ComplaintService, complaintEscalationKey, escalateBlock } from "../src/services/complaint.service.js";
import type { ComplaintDoc } from "../src/store/models.js";
import { alreadyDone, changeReply, complaintCard, complaintIdArg, textApart, promptForText, severityName } from "./complaint.view.js";

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
  // `complaint escalate C-7K2M9Q <words>`: the words are the reason typed without reason=, said so with the line written right.
  explainArgs: textApart("complaint escalate", "reason"),
  async handler(ctx) {
    const { args, services, t, config, now, logger } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    // With the identities linked to the caller's: held under another of them, it is theirs.
    const actor = await services.complaints.person(ctx.actor);
    const rctx = { ...ctx, actor };
    if (!args.reason) {
      // Already escalated (for this person), resolved, or someone else's: say so now rather than ask for a reason first.
      const c = await services.complaints.get(id);
      const block = c && escalateBlock(c, actor);
      if (c && block) return block === "already" ? alreadyDone(changeReply({ kind: "already", complaint: c }, id, "escalate", "", services, rctx), c, actor, "escalate", undefined, ctx) : changeReply({ kind: "refused", reason: block, complaint: c }, id, "escalate", "", services, rctx);
      return promptForText(id, "reason_required", services, t, c);
    }
    const r = await services.complaints.escalate(id, actor, args.reason);
    // Escalated already (or meanwhile): by whom, when, why, and that this reason was dropped.
    if (r.kind === "already") return alreadyDone(changeReply(r, id, "escalate", "", services, rctx), r.complaint, actor, "escalate", args.reason, ctx);
    if (r.kind === "done") {
      // Only a manager may take it now: the managers' route hears of it at once (once per
      // escalation), in the shop's language, not at its SLA breach.
      const st = translator(config.locale);
      const fmt = new Formatter(config.locale, config.timeZone, config.currency);
      const c = r.complaint;
      try {
        await services.alerts.send({ type: "sla", key: complaintEscalationKey(c), reply: escalationAlert(c, actor.identity, args.reason, services, { t: st, fmt, now }), urgent: c.severity === "urgent" });
        // Recorded once queued: the complaint-alerts job queues it (same key) for an escalation not recorded.
        await services.complaints.markEscalationAlerted(c, now);
      } catch (error) {
        // The escalation is made: it is not reported as failed. Not recorded, the complaint-alerts
        // job's next run queues it under the same key (once).
        logger.error("escalation alert not queued", { id: c._id, error });
      }
    }
    // A reason that ends its own sentence ("… chargeback.", "客户要投诉。") gets no second full stop.
    const ended = /[.!?…。．！？]$/u.test(args.reason);
    return changeReply(r, id, "escalate", t(ended ? "complaint.escalated_ended" : "complaint.escalated", { id, reason: args.reason }), services, rctx);
  },
});

/**
 * The managers' alert for the latest escalation of `c`, by `by` for `reason`: the card with a short
 * title naming its severity (Slack cuts a header at 150 characters), the reason in a field of its
 * own, shown as typed (never as markup), and what happens next below it. Sent by the command at
 * once, and by the complaint-alerts job for an escalation whose alert was not recorded.
 */
export function escalationAlert(c: ComplaintDoc, by: string, reason: string, services: { complaints: ComplaintService }, ctx: { t: Translate; fmt: Formatter; now: Date }): Reply {
  const { t } = ctx;
  const card = complaintCard(c, services, ctx);
  const title = t("complaint.notify.escalated", { id: c._id, severity: severityName(c.severity, t), by });
  const fields = [...(card.fields ?? []), { label: t("complaint.notify.escalated_reason"), value: reason, plain: true }];
  const context = [...(card.context ?? []), t("complaint.notify.escalated_waits")];
  return { ...card, title, fields, context, status: "warning", visibility: "public" };
}
