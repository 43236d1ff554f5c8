import { z } from "zod";
import { fromArg, oneOf, pageArg, pastSinceToDate, rowsBefore, pinnedSince, refuseSlackMention, since, sinceClockNote, sinceToDate, wholeNumber, zhChoiceNames } from "../src/core/args.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import type { Translate } from "../src/core/messages.js";
import { canonicalIdentity, parseIdentity } from "../src/core/identity.js";
import { quote } from "../src/core/parser.js";
import { clip, pageAfter, pageWords } from "../src/core/reply.js";
import { editDistance, escapeRegex, withoutControls, withoutInvisible } from "../src/core/text.js";
import { ComplaintService } from "../src/services/complaint.service.js";
import { INGEST_KINDS } from "../src/services/ingest-schemas.js";
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
function reasonOf(e: { outcome: string; code?: string | null; message?: string | null }, max = REASON_COLUMN): string {
  if (e.outcome === "ok" || e.code === "internal" || !e.message) return "";
  return clip(withoutControls(e.message.replace(/\s+/g, " ")).trim(), max);
}

/** Characters of a reason the table shows (`audit ref=` shows it all). */
const REASON_COLUMN = 80;

/**
 * Commands on the audit trail that no chat command is: written by the bot itself (a refund
 * executed or expired), by the API (`api orders`), an import, a seed, a settings change, `--as`.
 */
const SYSTEM_COMMANDS = ["refund execute", "refund expire", "shop-settings", "seed:demo", "seed:demo --reset", "--as", "api", "import", ...INGEST_KINDS.flatMap((k) => [`api ${k}`, `import ${k}`])];

/**
 * What a `command=` filter names: a command on the trail, one that changes nothing (`whoami`:
 * on it only when refused), or none; for none, the error saying so with the closest names (a
 * typo: `stok` → `stock`), since a filter that matches nothing reads as "nothing happened".
 */
function commandNamed(typed: string, commands: readonly Command[], t: Translate): "audited" | "not_audited" | UserError {
  const audited = new Set(SYSTEM_COMMANDS);
  for (const c of commands.filter((c) => c.mutates)) audited.add(c.name).add(c.name.split(" ")[0]!);
  if (audited.has(typed)) return "audited";
  if (commands.some((c) => c.name === typed)) return "not_audited";
  // Any command may be on the trail (a read, refused): the closest of them all.
  const known = new Set([...audited, ...commands.map((c) => c.name)]);
  const limit = Math.max(2, Math.floor(typed.length / 3));
  const near = [...known].map((c) => ({ c, d: editDistance(typed, c) })).filter((x) => x.d <= limit);
  const best = Math.min(...near.map((x) => x.d));
  // The nearest (a few, a name that starts with what was typed first, then the shorter).
  const names = near
    .filter((x) => x.d === best)
    .sort((a, b) => Number(!a.c.startsWith(typed)) - Number(!b.c.startsWith(typed)) || a.c.length - b.c.length || (a.c < b.c ? -1 : 1))
    .slice(0, 3)
    .map((x) => `\`command=${quote(x.c)}\``);
  return new UserError(
    "unknown_command_filter",
    names.length ? t("audit.unknown_command", { value: typed, suggestions: names.join(t("text.list_sep")) }) : t("audit.unknown_command.none", { value: typed }),
  );
}

/** Characters of an entry's command and arguments the table shows (`audit ref=` shows them all). */
const COMMAND_COLUMN = 60;

const OUTCOME_LIST = ["ok", "denied", "user_error", "error"] as const;
type Outcome = (typeof OUTCOME_LIST)[number];
const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(OUTCOME_LIST);

export default defineCommand({
  name: "audit",
  description: "cmd.audit",
  args: z.object({
    // Empty (`actor=`) is refused as subject= is, not read as no filter (the whole trail).
    // As stored: without an invisible character pasted with it.
    // An identity as role commands take it too (`Slack:t1:u2`, `discord:<@123…>`, a Slack mention typed in Slack).
    actor: z.string().overwrite((s) => canonicalIdentity(plainFilter(s))).min(1).max(100).check((ctx) => void refuseSlackMention(ctx)).optional(),
    command: z.string().overwrite(plainFilter).min(1).max(40).optional(),
    // As elsewhere: a day, a span back (7d), or an exact instant (what a next-page hint pins `since=7d` to).
    since: since.optional(),
    // The Ref of an entry (the rows listed after it: where a next-page hint goes on), or a time
    // (the entries made before it); read in the handler, which can look the ref up.
    before: z.string().overwrite(plainFilter).min(1).max(120).optional(),
    // One entry in full (its arguments whole, as the table's column cuts them): its Ref.
    ref: z.string().overwrite(plainFilter).min(1).max(120).optional(),
    // The record an entry was about, as stored: C-7K2M9Q, R-…, an order number; or an identity
    // (a role change's), a mention as actor= reads it (a Slack one in the caller's workspace,
    // refused outside Slack), here while the caller is known. Only a mention: a record id stays as typed.
    subject: z
      .string()
      .overwrite((s) => (/^(?:slack:|discord:)?<@/i.test(plainFilter(s)) ? canonicalIdentity(plainFilter(s)) : plainFilter(s)))
      .min(1)
      .max(100)
      .check((ctx) => void refuseSlackMention(ctx))
      .optional(),
    // As stored, or as the table shows it in Chinese (被拒绝): `outcome=denied` lists the refusals.
    outcome: oneOf(OUTCOME_LIST, "audit.bad_outcome", zhChoiceNames(OUTCOME_LIST, "audit.outcome"), "audit.bad_outcome.near").optional(),
    // Without defaults here: beside ref= a typed limit= or page= is refused, so it must show (20 and 1 in the handler).
    limit: wholeNumber(1, 100).optional(),
    // Pages of `limit` entries, newest first: a long trail is read to its end, not only narrowed.
    page: pageArg.unwrap().optional(),
    // Or the row the page starts at (what a page a chat platform cut short names as its next).
    from: fromArg,
  }),
  // Names an auditor may type for an option: refused naming the one meant (a filter read wrong is a wrong answer).
  optionSynonyms: {
    actor: { typed: ["who", "user", "by"], means: "audit.means.actor" },
    outcome: { typed: ["result", "status"], means: "audit.means.outcome" },
    subject: { typed: ["target"], means: "audit.means.subject" },
  },
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: {
    en: "[actor=<identity>] [command=<command>] [since=YYYY-MM-DD|7d|24h] [before=<ref>|<date>] [subject=<record id>] [outcome=ok|denied|user_error|error] [limit=<count>] [page=<n>|from=<row>] [ref=<ref>]",
    zh: "[actor=<身份>] [command=<命令>] [since=<日期|7天>] [before=<编号>|<日期>] [subject=<记录编号>] [outcome=<结果>] [limit=<条数>] [page=<页码>|from=<行号>] [ref=<编号>]",
  },
  examples: ["audit", { en: "audit actor=shell:alice since=7d", zh: "audit actor=shell:alice since=7天" }, "audit command=stock since=2026-11-01", "audit subject=C-7K2M9Q", "audit outcome=denied since=7d", "audit ref=K7M2Q9XH4R"],
  permission: "manager",
  mutates: false,
  async handler({ args, services, t, fmt, now, config, commands }) {
    // The typed spellings, and an order's number as stored when it is spelt otherwise (`web-1001` for Web-1001).
    const subjectsOf = async (typed: string) => {
      // A complaint or refund request id is no order number: no order lookup (its any-case
      // fallback reads the whole order index on a miss).
      // Nor is an identity (a role change names the identity: `subject=shell:bob`).
      const identity = canonicalIdentity(plainFilter(typed));
      const order = /^[CR]-/i.test(plainFilter(typed)) || parseIdentity(identity) ? null : await findOrder<{ _id: string }>(services.store, plainFilter(typed), { _id: 1 });
      const spellings = [...new Set([...subjectSpellings(typed), identity, ...(order ? [order._id] : [])])];
      // An identity as actor= takes it: the spelling typed when the trail holds it, else in any
      // case (`SHELL:BOB` for shell:bob), not both (shell:Bob and shell:bob are two people).
      if (!parseIdentity(identity) || (await services.store.audit.exists({ subject: { $in: spellings } }))) return spellings;
      return new RegExp(`^${escapeRegex(identity)}$`, "i");
    };
    const outcomeName = (o: string) => (OUTCOMES.has(o) ? t(`audit.outcome.${o as Outcome}`) : o);
    const outcomeText = (e: { outcome: string; code?: string | null }) => (e.code ? t("audit.outcome.code", { outcome: outcomeName(e.outcome), code: e.code }) : outcomeName(e.outcome));
    if (args.ref) {
      // One entry, whole: a filter beside it would be ignored, so it is refused.
      const beside = (["actor", "command", "since", "before", "subject", "outcome", "limit", "page", "from"] as const).filter((k) => args[k] !== undefined);
      if (beside.length) throw new UserError("ref_alone", t("audit.ref_alone", { options: beside.map((k) => `${k}=`).join(t("text.list_sep")) }));
      const e = await services.audit.get([args.ref, args.ref.toUpperCase()]);
      if (!e) throw new UserError("unknown_ref", t("audit.unknown_ref", { value: args.ref }));
      const subjects = typeof e.subject === "string" ? [e.subject] : (e.subject ?? []);
      const reason = e.outcome === "ok" || e.code === "internal" || !e.message ? "" : withoutControls(e.message);
      return {
        title: t("audit.entry.title", { ref: e._id }),
        status: "info",
        // The command and its arguments whole, as typed (shown literally: someone typed them).
        text: `${e.command} ${e.args}`.trim(),
        plainText: true,
        fields: [
          { label: t("audit.col.when"), value: fmt.dateTime(e.at), inline: true },
          { label: t("audit.col.actor"), value: e.via ? t("audit.via", { actor: e.actor, via: e.via }) : e.actor, inline: true, plain: true },
          { label: t("audit.col.platform"), value: e.platform, inline: true },
          { label: t("audit.col.outcome"), value: outcomeText(e), inline: true },
          // A batch names up to 1,000 records: as many as a field holds, and how many in all.
          ...(subjects.length ? [{ label: t("audit.col.subject"), value: clip(subjects.join(", "), 900) + (subjects.length > 1 ? ` (${subjects.length})` : ""), plain: true }] : []),
          ...(reason ? [{ label: t("audit.col.reason"), value: reason, plain: true }] : []),
        ],
        visibility: "ephemeral",
      };
    }
    const limit = args.limit ?? 20;
    const page = args.page ?? 1;
    // The rows before this page: page= pages of limit=, or up to from= (a page cut short went on there).
    const passed = rowsBefore(args.page, args.from, limit, t);
    const command = args.command?.toLowerCase().replace(/\s+/g, " ");
    // A name no command has would list nothing, as if nothing had happened: refused, naming the
    // closest; unless the trail has it (a command since renamed or removed).
    const named = command ? commandNamed(command, commands, t) : "audited";
    if (named instanceof UserError && (await services.audit.query({ command: command!, limit: 1 })).total === 0) throw named;
    const sinceAt = args.since ? pastSinceToDate(args.since, now, config.timeZone, t) : undefined;
    // before=: a time, or the Ref of the entry the rows go on after (in any case: refs are stored upper case).
    let before: Date | undefined;
    let after: { at: Date; ref: string } | undefined;
    if (args.before) {
      const time = since.safeParse(args.before);
      const at = time.success ? sinceToDate(time.data, now, config.timeZone) : null;
      const entry = at ? null : await services.audit.entry([args.before, args.before.toUpperCase()]);
      if (!at && !entry) throw new UserError("bad_before", t("audit.bad_before", { value: args.before }));
      if (at) before = at;
      else after = { at: entry!.at, ref: entry!._id };
    }
    // A window that ends where it starts, or before (since= and before= swapped): nothing could
    // match, and "no entries" would read as nothing done then. Refused, saying which is which.
    if (sinceAt && before && sinceAt.getTime() >= before.getTime()) {
      throw new UserError("empty_window", t("audit.empty_window", { sinceAt: fmt.dateTime(sinceAt), beforeAt: fmt.dateTime(before) }));
    }
    // Everything one person did: the identities linked to the one typed (`role link`) too.
    const linked = args.actor && parseIdentity(args.actor) ? (await services.identity.linked(args.actor)).filter((i) => i !== args.actor) : [];
    // After a Ref, the rows right after that entry: page= only numbers them (the hint gives both).
    const { entries, total: found } = await services.audit.query({
      ...(args.actor ? { actor: args.actor, linked } : {}),
      ...(command ? { command } : {}),
      ...(sinceAt ? { since: sinceAt } : {}),
      // A time not yet past (before=now, before=tomorrow) leaves nothing out, as the reply says: an
      // entry made this very instant (or stamped by a clock a little ahead) is listed too.
      ...(before && before.getTime() < now.getTime() ? { before } : {}),
      ...(after ? { after } : {}),
      ...(args.subject ? { subject: await subjectsOf(args.subject) } : {}),
      ...(args.outcome ? { outcome: args.outcome } : {}),
      limit,
      skip: after ? 0 : passed,
    });
    const context = linked.length ? [t("audit.linked", { actor: args.actor!, identities: linked.join(t("text.list_sep")) })] : [];
    // before=tomorrow, before=now: a time not yet past filters nothing out; said, so nobody takes the list for the window they meant.
    if (before && before.getTime() >= now.getTime()) context.push(t("audit.before_future", { value: quote(args.before!), at: fmt.dateTime(before), now: fmt.dateTime(now) }));
    // A since= the clocks skip or repeat that night: which instant was read, said (as in order search).
    const clockNote = args.since ? sinceClockNote(args.since, now, config.timeZone, t) : undefined;
    if (clockNote) context.push(clockNote);
    const total = after && found ? passed + found : found;
    // A read (`whoami`) is on the trail only as a refused attempt: said, whether any match or none.
    if (total === 0 && named === "not_audited") return { status: "info", code: "not_audited", text: t("audit.not_audited", { command: command! }), ...(context.length ? { context } : {}), visibility: "ephemeral" };
    if (named === "not_audited") context.unshift(t("audit.reads_refused", { command: command! }));
    // actor=bob matches no actor (identities are whole): said, so it does not read as "bob did nothing".
    if (total === 0 && args.actor && !parseIdentity(args.actor) && !/^(api:.|system$)/i.test(args.actor)) context.push(t("audit.actor_partial", { value: args.actor }));
    if (total === 0) return { status: "info", text: t("audit.empty"), ...(context.length ? { context } : {}), visibility: "ephemeral" };
    const pages = Math.ceil(total / limit);
    if (entries.length === 0) return { status: "error", code: "page_out_of_range", text: args.from ? t("arg.from_beyond", { from: args.from, total }) : t("audit.beyond", { page, pages, total }), visibility: "ephemeral" };
    const from = passed + 1;
    // The subject when the arguments do not show it as stored (a new complaint's id, `7k2m9q`
    // typed), with the order it names (`complaint new` filed in chat); not a batch's many.
    const commandOf = (e: (typeof entries)[number]) => (unshown(e).length ? `${e.command} ${unshown(e).join(" ")} · ${e.args}` : `${e.command} ${e.args}`).trim();
    // A column cut short keeps the table readable; `audit ref=` shows the entry whole.
    const cutAt = entries.findIndex((e) => commandOf(e).length > COMMAND_COLUMN || reasonOf(e, Infinity).length > REASON_COLUMN);
    /**
     * The page line, next page's command and cut-row line of this page ending after its first `n`
     * rows (its next page goes on right after row `n`: {@link pageAfter}).
     */
    const pageLines = (n: number): string[] => {
      const next = pageAfter(passed, limit, entries.length, n);
      const lines = total > n ? [t("audit.page", { from, to: from + n - 1, total })] : [];
      if (passed + n < total) {
        // The filters as given (quoted where they must be), with the window pinned so the next page
        // goes on exactly after row n, whatever is written meanwhile: `since=7d` as the instant it
        // meant now, and `before=` that row's ref.
        const pinned = sinceAt ? pinnedSince(args.since!, sinceAt) : undefined;
        const filters = { ...args, since: pinned, before: entries[n - 1]!._id };
        const given = (["actor", "command", "since", "before", "subject", "outcome"] as const).flatMap((k) => (filters[k] ? [`${k}=${quote(filters[k])}`] : []));
        lines.push(t("audit.next", { command: ["audit", ...given, ...pageWords(next, 20)].join(" ") }));
      }
      // The first cut row among those shown.
      if (cutAt >= 0 && cutAt < n) lines.push(t("audit.cut", { command: `audit ref=${entries[cutAt]!._id}` }));
      return lines;
    };
    context.push(...pageLines(entries.length));
    return {
      title: t("audit.title"),
      status: "info",
      table: {
        // After the first five (read by position): the platform as stored (as `alerts list` shows
        // it), and the reason last, where a row without one takes no room.
        columns: [t("audit.col.when"), t("audit.col.actor"), t("audit.col.command"), t("audit.col.outcome"), t("audit.col.ref"), t("audit.col.platform"), t("audit.col.reason")],
        rows: entries.map((e) => [
          fmt.dateTime(e.at),
          e.via ? t("audit.via", { actor: e.actor, via: e.via }) : e.actor,
          // Cut whole characters (half an emoji makes Discord refuse the message), marked with "…".
          clip(commandOf(e), COMMAND_COLUMN),
          // In the reader's language; the code as stored (what `audit` and the logs are searched by).
          outcomeText(e),
          e._id,
          e.platform,
          reasonOf(e),
        ]),
        // A page too long for a chat platform's messages ends where they do, its next page after it.
        pageLines: entries.map((_, k) => pageLines(k + 1)),
      },
      ...(context.length ? { context } : {}),
      visibility: "ephemeral",
    };
  },
});
