import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { ComplaintService, holds, resolveBlock } from "../src/services/complaint.service.js";
import { alreadyDone, changeReply, complaintIdArg, textApart, promptForText } from "./complaint.view.js";

export default defineCommand({
  name: "complaint resolve",
  description: "cmd.complaint_resolve",
  positional: ["id"],
  usage: { en: "<id> note=<what was done>", zh: "<id> note=<处理结果>" },
  // The note is required to resolve; it is optional here so the card's Resolve button
  // (which cannot ask for text) gets a prompt with the line to complete, not a usage error.
  args: z.object({ id: complaintIdArg, note: text(500).optional() }),
  examples: [{ en: 'complaint resolve C-7K2M9Q note="replacement sent, customer confirmed"', zh: "complaint resolve C-7K2M9Q note=已补发，客户已确认" }],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the complaint typed: `audit subject=C-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => ComplaintService.normalizeId(s) },
  // `complaint resolve C-7K2M9Q <words>`: the words are the note typed without note=, said so with the line written right.
  explainArgs: textApart("complaint resolve", "note"),
  async handler(ctx) {
    const { args, services, t } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    // With the identities linked to the caller's: an escalated one held under another of them is theirs to resolve.
    const actor = await services.complaints.person(ctx.actor);
    if (!args.note) {
      // Resolved already, or not this person's to resolve (escalated): said now, not after the note.
      const c = await services.complaints.get(id);
      const block = c && resolveBlock(c, actor);
      if (c && block) return block === "already" ? alreadyDone(changeReply({ kind: "already", complaint: c }, id, "resolve", "", services, ctx), c, actor, "resolve", undefined, ctx) : changeReply({ kind: "refused", reason: block, complaint: c }, id, "resolve", "", services, ctx);
      return promptForText(id, "note_required", services, t, c);
    }
    const r = await services.complaints.resolve(id, actor, args.note);
    // Resolved meanwhile (a colleague's simultaneous resolve): who, when, with what note, and that this note was dropped.
    if (r.kind === "already") return alreadyDone(changeReply(r, id, "resolve", "", services, ctx), r.complaint, actor, "resolve", args.note, ctx);
    // Someone else's (claimed or given to them): said, as its history says it.
    const holder = r.kind === "done" && r.previous.assignee && !holds(r.previous, actor) ? r.previous.assignee : undefined;
    return changeReply(r, id, "resolve", holder ? t("complaint.resolved_held", { id, holder }) : t("complaint.resolved", { id }), services, ctx);
  },
});
