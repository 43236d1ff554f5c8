import { z } from "zod";
import { oneOf, pageArg, wholeNumber, zhChoiceNames } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { isRole, ROLES } from "../src/core/roles.js";

export default defineCommand({
  name: "role list",
  description: "cmd.role_list",
  args: z.object({
    // Who holds one role (`role=admin`: who may change everything), as `role grant` takes it.
    role: oneOf(ROLES, "role.bad_role", zhChoiceNames(ROLES, "role.name")).optional(),
    limit: wholeNumber(1, 100).default(50),
    // Pages of `limit` rows: every binding is read, however many there are.
    page: pageArg,
  }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "[role=<role>] [limit=<count>] [page=<n>]", zh: "[role=<角色>] [limit=<条数>] [page=<页码>]" },
  examples: ["role list", "role list role=admin", "role list page=2"],
  permission: "admin",
  mutates: false,
  async handler({ args, services, t, fmt }) {
    // The bootstrap admins (not stored) come first, then the stored bindings by identity.
    const admins = args.role && args.role !== "admin" ? [] : services.identity.bootstrapAdmins();
    const skip = (args.page - 1) * args.limit;
    const shownAdmins = admins.slice(skip, skip + args.limit);
    const { bindings, total: stored } = await services.identity.list({
      ...(args.role ? { role: args.role } : {}),
      skip: Math.max(0, skip - admins.length),
      limit: args.limit - shownAdmins.length,
    });
    const rows = [
      ...shownAdmins.map((a) => [a, t("role.name.admin"), services.identity.isDemoAdmin(a) ? t("role.by.demo") : "SHOPOPS_ADMINS", "—"]),
      ...bindings.map((b) => [b.identity, isRole(b.role) ? t(`role.name.${b.role}`) : b.role, b.grantedBy, fmt.dateTime(b.grantedAt)]),
    ];
    const total = admins.length + stored;
    // Linked identities, one line: each person's identities joined by " = ".
    const persons = await services.identity.links();
    const context = persons.length ? [t("role.list.links", { groups: persons.map((p) => p.identities.join(" = ")).join(t("role.list.links.sep")) })] : [];
    if (total === 0) {
      const text = args.role ? t("role.list.none_with", { role: t(`role.name.${args.role}`) }) : t("role.list.empty", { admins: "—" });
      return { status: "info", text, ...(context.length ? { context } : {}), visibility: "ephemeral" };
    }
    const pages = Math.ceil(total / args.limit);
    if (rows.length === 0) return { status: "error", code: "page_out_of_range", text: t("role.list.beyond", { page: args.page, pages, total }), visibility: "ephemeral" };
    if (total > rows.length) context.push(t("role.list.page", { from: skip + 1, to: skip + rows.length, total }));
    if (args.page < pages) {
      const next = ["role list", ...(args.role ? [`role=${args.role}`] : []), ...(args.limit !== 50 ? [`limit=${args.limit}`] : []), `page=${args.page + 1}`].join(" ");
      context.push(t("role.list.next", { command: next }));
    }
    return {
      title: t("role.list.title"),
      table: { columns: [t("role.col.identity"), t("role.col.role"), t("role.col.by"), t("role.col.at")], rows },
      ...(context.length ? { context } : {}),
      status: "info",
      visibility: "ephemeral",
    };
  },
});
