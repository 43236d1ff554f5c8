import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { complaintCard, complaintIdArg } from "./complaint.view.js";

export default defineCommand({
  name: "complaint show",
  description: "cmd.complaint_show",
  positional: ["id"],
  args: z.object({ id: complaintIdArg }),
  examples: ["complaint show C-7K2M9Q"],
  permission: "support",
  mutates: false,
  async handler(ctx) {
    const { args, services, t } = ctx;
    const c = await services.complaints.get(args.id);
    if (!c) return { status: "error", code: "unknown_complaint", text: t("complaint.unknown", { id: ComplaintService.normalizeId(args.id) }), visibility: "ephemeral" };
    return complaintCard(c, services, ctx);
  },
});
