import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { usageOf } from "../src/core/registry.js";
import { roleAtLeast } from "../src/core/roles.js";

export default defineCommand({
  name: "help",
  description: "cmd.help",
  positional: ["...command"],
  args: z.object({ command: z.string().optional() }),
  examples: ["help", "help stock adjust"],
  permission: "viewer",
  mutates: false,
  async handler({ args, actor, commands, t }) {
    const allowed = commands.filter((c) => roleAtLeast(actor.role, c.permission));
    if (args.command) {
      const q = args.command.toLowerCase().trim();
      const matches = allowed.filter((c) => c.name === q || c.name.startsWith(q + " "));
      if (matches.length === 0) {
        return { status: "error", code: "unknown_command", text: t("help.unknown", { name: q }), visibility: "ephemeral" };
      }
      // One command: its parts as fields. A group (`help complaint`, 8 commands): one field per
      // command, so all of them fit Discord's 25 fields.
      const fields =
        matches.length === 1
          ? matches.flatMap((c) => [
              { label: c.name, value: t(c.description) },
              { label: t("label.usage"), value: "`" + usageOf(c) + "`" },
              { label: t("label.examples"), value: c.examples.map((e) => "`" + e + "`").join("\n") },
              { label: t("help.permission"), value: c.permission, inline: true },
            ])
          : matches.map((c) => ({ label: `${c.name} (${c.permission})`, value: [t(c.description), "`" + usageOf(c) + "`", ...c.examples.slice(0, 2).map((e) => "`" + e + "`")].join("\n") }));
      return {
        title: matches.map((c) => c.name).join(", "),
        fields,
        status: "info",
        visibility: "ephemeral",
      };
    }
    return {
      title: t("help.title", { role: actor.role }),
      table: { columns: [t("help.col.command"), ""], rows: allowed.map((c) => [usageOf(c), t(c.description)]) },
      context: [t("help.footer")],
      status: "info",
      visibility: "ephemeral",
    };
  },
});
