import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { isRole } from "../src/core/roles.js";

export default defineCommand({
  name: "role list",
  description: "cmd.role_list",
  args: z.object({}),
  examples: ["role list"],
  permission: "admin",
  mutates: false,
  async handler({ services, t, fmt }) {
    const admins = services.identity.bootstrapAdmins();
    const rows = (await services.identity.list()).map((b) => [b.identity, (isRole(b.role) ? t(`role.name.${b.role}`) : b.role), b.grantedBy, fmt.dateTime(b.grantedAt)]);
    for (const a of admins) rows.unshift([a, t("role.name.admin"), services.identity.isDemoAdmin(a) ? t("role.by.demo") : "SHOPOPS_ADMINS", "—"]);
    // Linked identities, one line: each person's identities joined by " = ".
    const persons = await services.identity.links();
    const links = persons.length ? [t("role.list.links", { groups: persons.map((p) => p.identities.join(" = ")).join(t("role.list.links.sep")) })] : [];
    if (rows.length === 0) return { status: "info", text: t("role.list.empty", { admins: "—" }), ...(links.length ? { context: links } : {}), visibility: "ephemeral" };
    return {
      title: t("role.list.title"),
      table: { columns: [t("role.col.identity"), t("role.col.role"), t("role.col.by"), t("role.col.at")], rows },
      ...(links.length ? { context: links } : {}),
      status: "info",
      visibility: "ephemeral",
    };
  },
});
