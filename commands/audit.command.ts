import { z } from "zod";
import { pageArg, pastSinceToDate, since, wholeNumber } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { quote } from "../src/core/parser.js";
import { clip } from "../src/core/reply.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { findOrder, OrderService } from "../src/services/order.service.js";

/** The stored spellings a typed subject may stand for: as typed, upper case, a complaint id (`7k2m9q`), an order number (`100001`). */
function subjectSpellings(typed: string): string[] {
  const s = typed.normalize("NFKC").trim();
  return [...new Set([s, s.toUpperCase(), ComplaintService.normalizeId(s), OrderService.normalizeOrderNo(s)])];
}

export default defineCommand({
  name: "audit",
  description: "cmd.audit",
  args: z.object({
    // Empty (`actor=`) is refused as subject= is, not read as no filter (the whole trail).
    actor: z.string().trim().min(1).max(100).optional(),
    command: z.string().trim().min(1).max(40).optional(),
    since: since.optional(),
    // The record an entry was about, as stored: C-7K2M9Q, R-…, an order number.
    subject: z.string().trim().min(1).max(100).optional(),
    limit: wholeNumber(1, 100).default(20),
    // Pages of `limit` entries, newest first: a long trail is read to its end, not only narrowed.
    page: pageArg,
  }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: {
    en: "[actor=<identity>] [command=<command>] [since=YYYY-MM-DD|7d|24h] [subject=<record id>] [limit=<count>] [page=<n>]",
    zh: "[actor=<身份>] [command=<命令>] [since=<日期|7天>] [subject=<记录编号>] [limit=<条数>] [page=<页码>]",
  },
  examples: ["audit", { en: "audit actor=shell:alice since=7d", zh: "audit actor=shell:alice since=7天" }, "audit command=stock since=2026-11-01", "audit subject=C-7K2M9Q"],
  permission: "manager",
  mutates: false,
  async handler({ args, services, t, fmt, now, config }) {
    // The typed spellings, and an order's number as stored when it is spelt otherwise (`web-1001` for Web-1001).
    const subjectsOf = async (typed: string) => {
      // A complaint or refund request id is no order number: no order lookup (its any-case
      // fallback reads the whole order index on a miss).
      const order = /^[CR]-/i.test(typed.normalize("NFKC").trim()) ? null : await findOrder<{ _id: string }>(services.store, typed.normalize("NFKC"), { _id: 1 });
      return [...new Set([...subjectSpellings(typed), ...(order ? [order._id] : [])])];
    };
    const { entries, total } = await services.audit.query({
      ...(args.actor ? { actor: args.actor } : {}),
      ...(args.command ? { command: args.command.toLowerCase() } : {}),
      ...(args.since ? { since: pastSinceToDate(args.since, now, config.timeZone, t) } : {}),
      ...(args.subject ? { subject: await subjectsOf(args.subject) } : {}),
      limit: args.limit,
      skip: (args.page - 1) * args.limit,
    });
    if (total === 0) return { status: "info", text: t("audit.empty"), visibility: "ephemeral" };
    const pages = Math.ceil(total / args.limit);
    if (entries.length === 0) return { status: "error", code: "page_out_of_range", text: t("audit.beyond", { page: args.page, pages, total }), visibility: "ephemeral" };
    const from = (args.page - 1) * args.limit + 1;
    const context = [t("audit.page", { from, to: from + entries.length - 1, total })];
    if (args.page < pages) {
      // The filters as given (quoted where they must be), so the next page runs as shown.
      const given = (["actor", "command", "since", "subject"] as const).flatMap((k) => (args[k] ? [`${k}=${quote(args[k])}`] : []));
      context.push(t("audit.next", { command: ["audit", ...given, ...(args.limit !== 20 ? [`limit=${args.limit}`] : []), `page=${args.page + 1}`].join(" ") }));
    }
    return {
      title: t("audit.title"),
      status: "info",
      table: {
        columns: [t("audit.col.when"), t("audit.col.actor"), t("audit.col.command"), t("audit.col.outcome"), t("audit.col.ref")],
        // The subject when the arguments do not show it as stored (a new complaint's id, `7k2m9q` typed).
        rows: entries.map((e) => [
          fmt.dateTime(e.at),
          e.via ? `${e.actor} (via ${e.via})` : e.actor,
          // Cut whole characters (half an emoji makes Discord refuse the message), marked with "…".
          clip((typeof e.subject === "string" && !e.args.includes(e.subject) ? `${e.command} ${e.subject} · ${e.args}` : `${e.command} ${e.args}`).trim(), 60),
          e.outcome + (e.code ? ` (${e.code})` : ""),
          e._id,
        ]),
      },
      ...(total > entries.length ? { context } : {}),
      visibility: "ephemeral",
    };
  },
});
