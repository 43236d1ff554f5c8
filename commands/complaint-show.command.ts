import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { complaintCard, complaintIdArg, unknownComplaint } from "./complaint.view.js";

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
    if (!c) return unknownComplaint(args.id, t);
    return complaintCard(c, services, ctx);
  },
});
