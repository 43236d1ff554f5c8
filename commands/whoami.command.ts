import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "whoami",
  description: "cmd.whoami",
  args: z.object({}),
  examples: ["whoami"],
  permission: "viewer",
  mutates: false,
  async handler({ actor, services, t }) {
    const others = (await services.identity.linked(actor.identity)).filter((i) => i !== actor.identity);
    const text = t("role.whoami", { identity: actor.identity, role: actor.role }) + (others.length ? " " + t("role.whoami.linked", { identities: others.join(", ") }) : "");
    return { text, status: "info", visibility: "ephemeral" };
  },
});
