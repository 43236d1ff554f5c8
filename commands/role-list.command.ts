import { z } from "zod";
import { fromArg, oneOf, pageArg, rowsBefore, wholeNumber, zhChoiceNames } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { pageAfter, pageWords } from "../src/core/reply.js";
import { isRole, ROLES } from "../src/core/roles.js";

export default defineCommand({
  name: "role list",
  description: "cmd.role_list",
  args: z.object({
    // Who holds one role (`role=admin`: who may change everything), as `role grant` takes it.
    role: oneOf(ROLES, "role.bad_role", zhChoiceNames(ROLES, "role.name"), "role.bad_role.near").optional(),
    limit: wholeNumber(1, 100).default(50),
    // Pages of `limit` rows: every binding is read, however many there are.
    page: pageArg.unwrap().optional(),
    // Or the row the page starts at (what a page a chat platform cut short names as its next).
    from: fromArg,
  }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "[role=<role>] [limit=<count>] [page=<n>|from=<row>]", zh: "[role=<角色>] [limit=<条数>] [page=<页码>|from=<行号>]" },
  examples: ["role list", "role list role=admin", "role list page=2"],
  permission: "admin",
  mutates: false,
  async handler({ args, services, t, fmt }) {
    // The bootstrap admins (not stored) come first, then the stored bindings by identity.
    const admins = args.role && args.role !== "admin" ? [] : services.identity.bootstrapAdmins();
    const page = args.page ?? 1;
    const skip = rowsBefore(args.page, args.from, args.limit, t);
    const shownAdmins = admins.slice(skip, skip + args.limit);
    const { bindings, total: storedTotal } = await services.identity.list({
      ...(args.role ? { role: args.role } : {}),
      skip: Math.max(0, skip - admins.length),
      limit: args.limit - shownAdmins.length,
    });
    // One row per identity: a bootstrap admin with a stored binding (granted before it was
    // configured, or kept for when it is not) says both when they differ.
    const adminBindings = await services.identity.storedOf(shownAdmins);
    const rows = [
      ...shownAdmins.map((a) => {
        const source = services.identity.isDemoAdmin(a) ? t("role.by.demo") : "SHOPOPS_ADMINS";
        const b = adminBindings.get(a);
        if (!b || b.role === "admin") return [a, t("role.name.admin"), source, "—"];
        const storedRole = isRole(b.role) ? t(`role.name.${b.role}`) : b.role;
        return [a, t("role.list.configured", { role: t("role.name.admin"), stored: storedRole }), t("role.list.configured_by", { source, by: b.grantedBy }), fmt.dateTime(b.grantedAt)];
      }),
      ...bindings.map((b) => [b.identity, isRole(b.role) ? t(`role.name.${b.role}`) : b.role, b.grantedBy, fmt.dateTime(b.grantedAt)]),
    ];
    const total = admins.length + storedTotal;
    // Linked identities of the rows shown, one line: each person's identities joined by " = ".
    // Only this page's links are read, so the line is whole however many links there are.
    const persons = await services.identity.personsOf(rows.map((r) => r[0]!));
    const pages = Math.ceil(total / args.limit);
    /**
     * The Linked line of the page's first `n` rows (none when no person among them has another
     * identity): a page cut short to fit a chat platform names only the people it shows.
     */
    const linkedLines = (n: number): string[] => {
      const shown = new Set(rows.slice(0, n).map((r) => r[0]!));
      const among = persons.filter((p) => p.identities.some((i) => shown.has(i)));
      // "Of the identities on this page" once the list goes on past them (more pages, or this one cut).
      const key = total > n ? "role.list.links.page" : "role.list.links";
      return among.length ? [t(key, { groups: among.map((p) => p.identities.join(" = ")).join(t("role.list.links.sep")) })] : [];
    };
    if (total === 0) {
      const text = args.role ? t("role.list.none_with", { role: t(`role.name.${args.role}`) }) : t("role.list.empty", { admins: "—" });
      return { status: "info", text, visibility: "ephemeral" };
    }
    if (rows.length === 0) return { status: "error", code: "page_out_of_range", text: args.from ? t("arg.from_beyond", { from: args.from, total }) : t("role.list.beyond", { page, pages, total }), visibility: "ephemeral" };
    /**
     * The Linked line, page line and next page's command of this page ending after its first `n`
     * rows (the next page goes on after row `n`).
     */
    const pageLines = (n: number): string[] => {
      const next = pageAfter(skip, args.limit, rows.length, n);
      const lines = [...linkedLines(n), ...(total > n ? [t("role.list.page", { from: skip + 1, to: skip + n, total })] : [])];
      if (skip + n < total) {
        const command = ["role list", ...(args.role ? [`role=${args.role}`] : []), ...pageWords(next, 50)].join(" ");
        lines.push(t("role.list.next", { command }));
      }
      return lines;
    };
    const context = pageLines(rows.length);
    return {
      title: t("role.list.title"),
      // A page too long for a chat platform's messages ends where they do, its next page after it.
      table: { columns: [t("role.col.identity"), t("role.col.role"), t("role.col.by"), t("role.col.at")], rows, pageLines: rows.map((_, k) => pageLines(k + 1)) },
      ...(context.length ? { context } : {}),
      status: "info",
      visibility: "ephemeral",
    };
  },
});
