import { z } from "zod";
import { oneOf, pageArg, pastSinceToDate, since, wholeNumber, zhChoiceNames } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { parseIdentity } from "../src/core/identity.js";
import { quote } from "../src/core/parser.js";
import { clip } from "../src/core/reply.js";
import { withoutControls, withoutInvisible } from "../src/core/text.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { findOrder, OrderService } from "../src/services/order.service.js";

/** A typed filter as stored: full-width made plain, without invisible characters (a pasted zero-width space) and spaces at its ends. */
const plainFilter = (s: string) => withoutInvisible(s.normalize("NFKC")).trim();

/**
 * The stored spellings a typed subject may stand for: as typed, upper case, a complaint id
 * (`7k2m9q`), an order number (`100001`), an API key id (`kh1javkd7ze` for kH1JAVKD7ZE).
 */
function subjectSpellings(typed: string): string[] {
  const s = plainFilter(typed);
  const key = /^k[0-9A-Z]{10}$/i.test(s) ? [`k${s.slice(1).toUpperCase()}`] : [];
  return [...new Set([s, s.toUpperCase(), ComplaintService.normalizeId(s), OrderService.normalizeOrderNo(s), ...key])];
}

/** The records an entry names that its arguments do not show as stored: one, or a record and its order; none of a batch's. */
function unshown(e: { subject?: string | readonly string[] | null; args: string }): string[] {
  const named = typeof e.subject === "string" ? [e.subject] : e.subject && e.subject.length <= 2 ? e.subject : [];
  return named.filter((s) => !e.args.includes(s));
}

/**
 * Why an entry was refused or failed, on one line, for the table: the message as stored (in the
 * language of whoever was refused). Not an internal error's: that is an exception's own text,
 * kept out of chat as the reply to it was (the logs have it under the entry's ref).
 */
function reasonOf(e: { outcome: string; code?: string | null; message?: string | null }): string {
  if (e.outcome === "ok" || e.code === "internal" || !e.message) return "";
  return clip(withoutControls(e.message.replace(/\s+/g, " ")).trim(), 80);
}

const OUTCOME_LIST = ["ok", "denied", "user_error", "error"] as const;
type Outcome = (typeof OUTCOME_LIST)[number];
const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(OUTCOME_LIST);

export default defineCommand({
  name: "audit",
  description: "cmd.audit",
  args: z.object({
    // Empty (`actor=`) is refused as subject= is, not read as no filter (the whole trail).
    // As stored: without an invisible character pasted with it.
    actor: z.string().overwrite(plainFilter).min(1).max(100).optional(),
    command: z.string().overwrite(plainFilter).min(1).max(40).optional(),
    since: since.optional(),
    // The record an entry was about, as stored: C-7K2M9Q, R-…, an order number.
    subject: z.string().overwrite(plainFilter).min(1).max(100).optional(),
    // As stored, or as the table shows it in Chinese (被拒绝): `outcome=denied` lists the refusals.
    outcome: oneOf(OUTCOME_LIST, "audit.bad_outcome", zhChoiceNames(OUTCOME_LIST, "audit.outcome")).optional(),
    limit: wholeNumber(1, 100).default(20),
    // Pages of `limit` entries, newest first: a long trail is read to its end, not only narrowed.
    page: pageArg,
  }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: {
    en: "[actor=<identity>] [command=<command>] [since=YYYY-MM-DD|7d|24h] [subject=<record id>] [outcome=ok|denied|user_error|error] [limit=<count>] [page=<n>]",
    zh: "[actor=<身份>] [command=<命令>] [since=<日期|7天>] [subject=<记录编号>] [outcome=<结果>] [limit=<条数>] [page=<页码>]",
  },
  examples: ["audit", { en: "audit actor=shell:alice since=7d", zh: "audit actor=shell:alice since=7天" }, "audit command=stock since=2026-11-01", "audit subject=C-7K2M9Q", "audit outcome=denied since=7d"],
  permission: "manager",
  mutates: false,
  async handler({ args, services, t, fmt, now, config }) {
    // The typed spellings, and an order's number as stored when it is spelt otherwise (`web-1001` for Web-1001).
    const subjectsOf = async (typed: string) => {
      // A complaint or refund request id is no order number: no order lookup (its any-case
      // fallback reads the whole order index on a miss).
      // Nor is an identity (a role change names the identity: `subject=shell:bob`).
      const order = /^[CR]-/i.test(plainFilter(typed)) || parseIdentity(plainFilter(typed)) ? null : await findOrder<{ _id: string }>(services.store, plainFilter(typed), { _id: 1 });
      return [...new Set([...subjectSpellings(typed), ...(order ? [order._id] : [])])];
    };
    const outcomeName = (o: string) => (OUTCOMES.has(o) ? t(`audit.outcome.${o as Outcome}`) : o);
    const { entries, total } = await services.audit.query({
      ...(args.actor ? { actor: args.actor } : {}),
      ...(args.command ? { command: args.command.toLowerCase() } : {}),
      ...(args.since ? { since: pastSinceToDate(args.since, now, config.timeZone, t) } : {}),
      ...(args.subject ? { subject: await subjectsOf(args.subject) } : {}),
      ...(args.outcome ? { outcome: args.outcome } : {}),
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
      const given = (["actor", "command", "since", "subject", "outcome"] as const).flatMap((k) => (args[k] ? [`${k}=${quote(args[k])}`] : []));
      context.push(t("audit.next", { command: ["audit", ...given, ...(args.limit !== 20 ? [`limit=${args.limit}`] : []), `page=${args.page + 1}`].join(" ") }));
    }
    return {
      title: t("audit.title"),
      status: "info",
      table: {
        // After the first five (read by position): the platform as stored (as `alerts list` shows
        // it), and the reason last, where a row without one takes no room.
        columns: [t("audit.col.when"), t("audit.col.actor"), t("audit.col.command"), t("audit.col.outcome"), t("audit.col.ref"), t("audit.col.platform"), t("audit.col.reason")],
        // The subject when the arguments do not show it as stored (a new complaint's id, `7k2m9q`
        // typed), with the order it names (`complaint new` filed in chat); not a batch's many.
        rows: entries.map((e) => [
          fmt.dateTime(e.at),
          e.via ? t("audit.via", { actor: e.actor, via: e.via }) : e.actor,
          // Cut whole characters (half an emoji makes Discord refuse the message), marked with "…".
          clip((unshown(e).length ? `${e.command} ${unshown(e).join(" ")} · ${e.args}` : `${e.command} ${e.args}`).trim(), 60),
          // In the reader's language; the code as stored (what `audit` and the logs are searched by).
          e.code ? t("audit.outcome.code", { outcome: outcomeName(e.outcome), code: e.code }) : outcomeName(e.outcome),
          e._id,
          e.platform,
          reasonOf(e),
        ]),
      },
      ...(total > entries.length ? { context } : {}),
      visibility: "ephemeral",
    };
  },
});
