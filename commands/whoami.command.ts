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
    const text = t("role.whoami", { identity: actor.identity, role: t(`role.name.${actor.role}`) }) + (others.length ? t("text.sentence_sep") + t("role.whoami.linked", { identities: others.join(t("text.list_sep")) }) : "");
    return { text, status: "info", visibility: "ephemeral" };
  },
});
