import { z } from "zod";
import { oneOf, pageArg, pastSinceToDate, since } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { quote } from "../src/core/parser.js";
import { shownStatus } from "../src/services/refund.view.js";

/** Requests per page. */
const PAGE = 20;

/** The list asked for: in any case, or by its Chinese name (待审批, as the table shows a pending request). */
const whichArg = oneOf(["pending", "approvable", "mine", "all"], "refund.list.bad_which", { 待审批: "pending", 我可审批: "approvable", 可审批: "approvable", 我的: "mine", 全部: "all" });

export default defineCommand({
  name: "refund list",
  description: "cmd.refund_list",
  positional: ["which"],
  usage: { en: "[pending|approvable|mine|all] [since=<YYYY-MM-DD|today|7d>] [page=<n>]", zh: "[待审批|我可审批|我的|全部] [since=<YYYY-MM-DD|今天|7天>] [page=<页码>]" },
  args: z.object({
    which: whichArg.default("pending"),
    since: since.optional(),
    page: pageArg,
  }),
  examples: ["refund list", { en: "refund list approvable", zh: "refund list 我可审批" }, { en: "refund list mine since=7d", zh: "refund list 我的 since=7天" }, { en: "refund list all since=2026-11-01", zh: "refund list 全部 since=2026-11-01" }],
  permission: "staff",
  mutates: false,
  async handler({ args, services, actor, via, t, fmt, now, config }) {
    const { items, total } = await services.refund.list({
      which: args.which,
      actor: actor.identity,
      // The person at the terminal acting as someone else (--as): `approvable` leaves out what they asked or approved, as `refund approve` refuses it.
      ...(via ? { via } : {}),
      role: actor.role,
      ...(args.since ? { since: pastSinceToDate(args.since, now, config.timeZone, t) } : {}),
      limit: PAGE,
      skip: (args.page - 1) * PAGE,
    });
    if (total === 0) return { status: "info", text: t(`refund.list.empty.${args.which}`), visibility: "ephemeral" };
    const pages = Math.ceil(total / PAGE);
    if (items.length === 0) return { status: "error", code: "page_out_of_range", text: t("refund.list.beyond", { page: args.page, pages, total }), visibility: "ephemeral" };
    // Approvals counted against what each request needs under the policy in force; one the
    // caller's person approved and may now complete says so (as `approvable` lists it).
    const needs = { policy: await services.refund.policy(), currency: config.currency, you: await services.refund.person(actor.identity, via), yourRole: actor.role };
    const from = (args.page - 1) * PAGE + 1;
    const context = [t("refund.list.page", { from, to: from + items.length - 1, total })];
    // The next page as a command that runs: the same list and filter.
    if (args.page < pages) context.push(t("refund.list.next", { command: ["refund list", args.which, ...(args.since ? [`since=${quote(args.since)}`] : []), `page=${args.page + 1}`].join(" ") }));
    return {
      title: t(`refund.list.title.${args.which}`, { count: total }),
      status: "info",
      table: {
        columns: [t("refund.col.id"), t("refund.col.order"), t("refund.col.amount"), t("refund.col.status"), t("refund.col.requester"), t("refund.col.when")],
        rows: items.map((r) => [r._id, r.orderNo, fmt.money(r.amount, r.currency), shownStatus(r, now, t, needs), r.requester, fmt.dateTime(r.requestedAt)]),
        alignRight: [2],
      },
      ...(total > items.length ? { context } : {}),
      visibility: "ephemeral",
    };
  },
});
