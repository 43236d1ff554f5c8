import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "whoami",
  description: "cmd.whoami",
  args: z.object({}),
  examples: ["whoami"],
  permission: "viewer",
  mutates: false,
  async handler({ actor, t }) {
    return { text: t("role.whoami", { identity: actor.identity, role: actor.role }), status: "info", visibility: "ephemeral" };
  },
});
