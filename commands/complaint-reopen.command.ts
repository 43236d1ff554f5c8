import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { changeReply, complaintIdArg, textApart } from "./complaint.view.js";

export default defineCommand({
  name: "complaint reopen",
  description: "cmd.complaint_reopen",
  positional: ["id"],
  usage: { en: "<id> [note=<why>]", zh: "<id> [note=<原因>]" },
  args: z.object({ id: complaintIdArg, note: text(300).optional() }),
  examples: ["complaint reopen C-7K2M9Q", { en: 'complaint reopen C-7K2M9Q note="customer says the replacement is broken too"', zh: "complaint reopen C-7K2M9Q note=客户说补发的也坏了" }],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the complaint typed: `audit subject=C-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => ComplaintService.normalizeId(s) },
  // `complaint reopen C-7K2M9Q <words>`: the words are the note typed without note=, said so with the line written right.
  explainArgs: textApart("complaint reopen", "note"),
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    const r = await services.complaints.reopen(id, actor.identity, args.note);
    // The title says where it went back to and when the restarted resolution clock runs out.
    // Escalated with an assignee a manager chose: that person may resolve it too (the core's rule).
    const key = r.kind !== "done" ? undefined : r.complaint.status !== "escalated" ? "complaint.reopened" : r.complaint.assignee ? "complaint.reopened_escalated_assigned" : "complaint.reopened_escalated";
    const done = r.kind === "done" && key ? t(key, { id, due: ctx.fmt.dateTime(r.complaint.resolutionDueAt), assignee: r.complaint.assignee ?? "" }) : "";
    return changeReply(r, id, "reopen", done, services, ctx);
  },
});
