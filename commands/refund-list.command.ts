import { z } from "zod";
import { oneOf, pageArg, pastSinceToSecond, pinnedSince, since, sinceClockNote } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { quote } from "../src/core/parser.js";
import { normalizeId } from "../src/services/refund.service.js";
import { shownStatus } from "../src/services/refund.view.js";

/** Requests per page. */
const PAGE = 20;

/** The list asked for: in any case, or by its Chinese name (待审批, as the table shows a pending request). */
const whichArg = oneOf(["pending", "approvable", "mine", "all"], "refund.list.bad_which", { 待审批: "pending", 我可审批: "approvable", 可审批: "approvable", 我的: "mine", 全部: "all" });

export default defineCommand({
  name: "refund list",
  description: "cmd.refund_list",
  positional: ["which"],
  usage: {
    en: "[pending|approvable|mine|all] [since=<YYYY-MM-DD|today|7d|time>] [before=<request id>] [page=<n>]",
    zh: "[待审批|我可审批|我的|全部] [since=<YYYY-MM-DD|今天|7天|时间>] [before=<申请编号>] [page=<页码>]",
  },
  args: z.object({
    which: whichArg.default("pending"),
    since: since.optional(),
    // The last request of the page before: the next page continues after it (the next-page line gives it).
    before: z.string().trim().min(1).max(20).optional(),
    page: pageArg,
  }),
  examples: ["refund list", { en: "refund list approvable", zh: "refund list 我可审批" }, { en: "refund list mine since=7d", zh: "refund list 我的 since=7天" }, { en: "refund list all since=2026-11-01", zh: "refund list 全部 since=2026-11-01" }, "refund list all since=2026-11-18T04:00:00Z before=R-7K2M9Q page=2"],
  permission: "staff",
  mutates: false,
  async handler({ args, services, actor, via, t, fmt, now, config }) {
    // To the second (7d from now has milliseconds): the next-page line then pins it as it reads, 2026-11-18T04:00:00Z.
    const sinceAt = args.since ? pastSinceToSecond(args.since, now, config.timeZone, t) : undefined;
    // A time the clocks skip or repeat that night: which instant was read, said (as in order search).
    const clockNote = args.since ? sinceClockNote(args.since, now, config.timeZone, t) : undefined;
    // Found whatever its status now (approved or expired since that page): only its place in the list counts.
    const after = args.before ? await services.refund.get(args.before) : undefined;
    if (args.before && !after) {
      return { status: "error", code: "unknown_refund", text: t("refund.list.bad_before", { id: normalizeId(args.before) }), visibility: "ephemeral" };
    }
    const passed = (args.page - 1) * PAGE;
    const { items, total: found, rest } = await services.refund.list({
      which: args.which,
      actor: actor.identity,
      // The person at the terminal acting as someone else (--as): `approvable` leaves out what they asked or approved, as `refund approve` refuses it.
      ...(via ? { via } : {}),
      role: actor.role,
      ...(sinceAt ? { since: sinceAt } : {}),
      ...(after ? { after } : {}),
      limit: PAGE,
      skip: passed,
    });
    if (found === 0) {
      // With since=, "none" is only of that window: said, so nobody takes it for the whole list.
      const window = sinceAt ? { context: [...(clockNote ? [clockNote] : []), t("refund.list.empty_since", { at: fmt.dateTime(sinceAt), which: args.which })] } : {};
      return { status: "info", text: t(`refund.list.empty.${args.which}`), ...window, visibility: "ephemeral" };
    }
    // After `before=`, the rows right after that request, counted as the pages before it left off
    // (page= only numbers them): requests asked since then are on page 1 again, not in this count.
    const total = after ? passed + rest : found;
    const pages = Math.ceil(total / PAGE);
    if (items.length === 0 && after) return { status: "info", code: "no_match", text: t("refund.list.end", { id: after._id }), visibility: "ephemeral" };
    if (items.length === 0) return { status: "error", code: "page_out_of_range", text: t("refund.list.beyond", { page: args.page, pages, total }), visibility: "ephemeral" };
    // Approvals counted against what each request needs under the policy in force; one the
    // caller's person approved and may now complete says so (as `approvable` lists it).
    const needs = { policy: await services.refund.policy(), currency: config.currency, you: await services.refund.person(actor.identity, via), yourRole: actor.role };
    const from = passed + 1;
    const context = [...(clockNote ? [clockNote] : []), t("refund.list.page", { from, to: from + items.length - 1, total })];
    // The next page as a command that runs: the same list with its window pinned (a since read
    // against now as the instant it meant) and this page's last row as the cursor, so it goes on
    // right after this one, whatever is requested, decided or expires meanwhile.
    if (args.page < pages) {
      const pinned = [...(args.since && sinceAt ? [`since=${quote(pinnedSince(args.since, sinceAt))}`] : []), `before=${items.at(-1)!._id}`, `page=${args.page + 1}`];
      context.push(t("refund.list.next", { command: ["refund list", args.which, ...pinned].join(" ") }));
    }
    return {
      // The window read (since=7d as the instant it meant), so the count is not taken for the whole list.
      title: t(`refund.list.title.${args.which}`, { count: total }) + (sinceAt ? t("text.paren", { text: t("refund.list.since", { at: fmt.dateTime(sinceAt) }) }) : ""),
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
