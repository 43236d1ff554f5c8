import { z } from "zod";
import type { Command, CommandContext, HandlerReply } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { quote } from "../src/core/parser.js";
import { oneOf, typedId, zhChoiceNames } from "../src/core/args.js";
import { type MessageKey, type Translate } from "../src/core/messages.js";
import { clip, type Reply, type ReplyAction, type ReplyStatus } from "../src/core/reply.js";
import { COMPLAINT_CATEGORIES, COMPLAINT_CATEGORY_WORDS, COMPLAINT_LISTS, COMPLAINT_SOURCES, ComplaintService, holds, lastDone, UNKNOWN_CUSTOMER, type ChangeResult, type ComplaintActor, type SlaClock } from "../src/services/complaint.service.js";
import { COMPLAINT_STATUSES, SEVERITIES, type ComplaintDoc } from "../src/store/models.js";

// Rendering of complaints shared by the complaint commands (not a command: no `.command.ts` suffix).

/** `actor` with its `identities` (ComplaintService.person): "you have it" goes by person. */
type Ctx = Pick<CommandContext<unknown>, "t" | "fmt" | "now"> & Partial<Pick<CommandContext<unknown>, "subject">> & { actor?: ComplaintActor };

/**
 * A complaint id as typed: `C-7K2M9Q` or `7k2m9q`, full-width characters too (`Ｃ－７Ｋ２…`), and
 * as written in a sentence: the punctuation after it (`C-7K2M9Q.`, `C-7K2M9Q，`) or brackets around
 * it (`(C-7K2M9Q)`) is not part of it (an id is letters and digits only).
 */
export const complaintIdArg = typedId(
  z
    .string()
    .overwrite(ComplaintService.bareId)
    .regex(/^(C-)?[A-Za-z0-9]{4,12}$/i, { error: "complaint.bad_id" }),
);

/**
 * `complaint resolve C-7K2M9Q fixed it`: a complaint id, words after it and no `<option>=` (the
 * command's text option: note, reason): the words are that text typed without its name, said so
 * with the line written right, as `order cancel ORD-1 客户取消` is (an unknown complaint is said
 * as such; null otherwise: the core's error).
 */
export function textApart(name: string, option: "note" | "reason"): NonNullable<Command["explainArgs"]> {
  return async (typed, services, t) => {
    const [first, ...rest] = typed.words;
    if (first === undefined || !rest.length || option in typed.named) return null;
    // `note:"…"`, an option typed with a colon: the core's message says how to write it.
    if (rest.some((w) => /^[A-Za-z_]+[:：]/.test(w))) return null;
    const id = complaintIdArg.safeParse(first);
    if (!id.success) return null;
    const cid = ComplaintService.normalizeId(id.data);
    // No such complaint: said first, rather than a line that would only be refused for it.
    if (!(await services.complaints.get(cid))) return { error: new UserError("unknown_complaint", t("complaint.unknown", { id: cid })), subject: cid };
    const value = rest.join(" ");
    const options = Object.entries(typed.named).map(([k, v]) => `${k}=${quote(v)}`);
    const command = [name, cid, ...options, `${option}=${quote(value, true)}`].join(" ");
    const text = `${t("error.invalid_args", { command: name })}\n• ${t("complaint.text_apart", { value, option, command, what: t(`complaint.text_apart.${option}`) })}`;
    return { error: new UserError("invalid_args", text), subject: cid };
  };
}

/**
 * Severity, category, source and list arguments: in any case, or by their Chinese names; a
 * category also by the short words people type (after the cards' names, so Discord still offers those).
 */
export const severityArg = oneOf(SEVERITIES, "complaint.bad_severity", zhChoiceNames(SEVERITIES, "complaint.severity"));
export const categoryArg = oneOf(COMPLAINT_CATEGORIES, "complaint.bad_category", { ...zhChoiceNames(COMPLAINT_CATEGORIES, "complaint.category"), ...COMPLAINT_CATEGORY_WORDS });
export const sourceArg = oneOf(COMPLAINT_SOURCES, "complaint.bad_source", zhChoiceNames(COMPLAINT_SOURCES, "complaint.source"));
export const listArg = oneOf(COMPLAINT_LISTS, "complaint.bad_list", {
  未结: "open",
  未结案: "open",
  我的: "mine",
  已超时: "overdue",
  超时: "overdue",
  已逾期: "overdue",
  逾期: "overdue",
  未分配: "unassigned",
  已升级: "escalated",
  升级: "escalated",
  已解决: "resolved",
  已结: "resolved",
  已结案: "resolved",
  全部: "all",
  所有: "all",
});

/**
 * A duration as "2d 3h", "4h 15m" or "12m" (two largest units: minutes, or hours from a day on;
 * in Chinese without a space between them: "2天3小时").
 * `left` (time left on a clock) rounds up to the unit shown, so a clock never reads "0m left" or
 * "59m" before it is due; `past` (overdue, late) rounds down, but says at least 1m once past.
 */
export function formatDuration(ms: number, t: Translate, round: "left" | "past" = "past"): string {
  const abs = Math.abs(ms);
  const r = round === "left" ? Math.ceil : Math.floor;
  let mins = r(abs / 60_000);
  // From a day on the minutes are not shown: round to whole hours, in the same direction.
  if (mins >= 1440) mins = r(abs / 3_600_000) * 60;
  if (round === "past" && abs > 0) mins = Math.max(mins, 1);
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const parts: string[] = [];
  if (d) parts.push(t("complaint.dur.d", { n: d }));
  if (h) parts.push(t("complaint.dur.h", { n: h }));
  if (m && !d) parts.push(t("complaint.dur.m", { n: m }));
  return parts.length ? parts.slice(0, 2).join(t("complaint.dur.sep")) : t("complaint.dur.m", { n: 0 });
}

/** One SLA clock in words: time left, how long overdue, or when it was met. */
export function slaText(c: SlaClock, { t, fmt }: Pick<Ctx, "t" | "fmt">): string {
  const due = fmt.dateTime(c.dueAt);
  switch (c.state) {
    case "running":
      return t("complaint.sla.left", { left: formatDuration(c.leftMs ?? 0, t, "left"), due });
    case "overdue":
      return t("complaint.sla.overdue", { over: formatDuration(c.leftMs ?? 0, t), due });
    case "met":
      return t("complaint.sla.met", { at: fmt.dateTime(c.doneAt!) });
    case "missed":
      return t("complaint.sla.missed", { at: fmt.dateTime(c.doneAt!), over: formatDuration(c.doneAt!.getTime() - c.dueAt.getTime(), t) });
  }
}

/** Translated severity (the status: {@link complaintStatus}). */
export const severityName = (s: string, t: Translate): string => t(`complaint.severity.${s}` as MessageKey);

/**
 * The history entry that gave `c` to its assignee: the latest claim or assignment to them since
 * it was last escalated (escalating unassigns), if any (a resolution credits an unassigned one to
 * the resolver without one).
 */
function holderEntry(c: Pick<ComplaintDoc, "assignee" | "history">): HistoryEntry | undefined {
  if (!c.assignee) return undefined;
  for (const h of [...(c.history ?? [])].reverse()) {
    if (h.action === "escalate") return undefined;
    if ((h.action === "claim" || h.action === "assign") && h.to === c.assignee) return h;
  }
  return undefined;
}

/** Who gave `c` to its assignee when someone else did (an assignment, not a claim), else undefined. */
export function assignedBy(c: Pick<ComplaintDoc, "assignee" | "history">): string | undefined {
  const h = holderEntry(c);
  return h?.action === "assign" && h.by && h.by !== h.to ? h.by : undefined;
}

/**
 * The status of `c` as cards, lists and replies show it: a complaint someone was given by another
 * is "Assigned", not "Claimed" (they claimed nothing). `inline`: the word inside a sentence.
 */
export function complaintStatus(c: Pick<ComplaintDoc, "status" | "assignee" | "history">, t: Translate, inline = false): string {
  const s = c.status === "claimed" && assignedBy(c) ? "assigned" : c.status;
  return t(`complaint.${inline ? "status_inline" : "status"}.${s}` as MessageKey);
}

/**
 * A severity, category or source by its name in the reader's language, without the value the
 * Chinese names add in brackets (商品损坏, not 商品损坏（damaged）): for a name inside a sentence.
 */
export const choiceName = (kind: "severity" | "category" | "source", v: string, t: Translate): string => t(`complaint.${kind}.${v}` as MessageKey).replace(/（[^（）]*）$/, "");

/** The buttons that fit a complaint's state: Claim / Resolve / Escalate (not when escalated), or Reopen. */
export function complaintActions(c: ComplaintDoc, t: Translate): ReplyAction[] {
  if (c.status === "resolved") return [{ id: `complaint reopen ${c._id}`, label: t("complaint.btn.reopen") }];
  const actions: ReplyAction[] = [];
  if (!c.assignee) actions.push({ id: `complaint claim ${c._id}`, label: t("complaint.btn.claim"), style: "primary" });
  // Resolve and Escalate need a note / reason: pressed bare, they reply with the line to complete.
  actions.push({ id: `complaint resolve ${c._id}`, label: t("complaint.btn.resolve") });
  // Not on an escalated one: pressed by support it changes nothing (a manager may still type it).
  if (c.status !== "escalated") actions.push({ id: `complaint escalate ${c._id}`, label: t("complaint.btn.escalate"), style: "danger" });
  return actions;
}

function colour(c: ComplaintDoc, overdue: boolean): ReplyStatus {
  if (c.status === "resolved") return "ok";
  if (overdue) return "critical";
  return c.severity === "urgent" || c.status === "escalated" ? "warning" : "info";
}

type HistoryEntry = NonNullable<ComplaintDoc["history"]>[number];

/** The bot's own English notes of entries stored before the facts had fields: `from a message by <author>`, `from <assignee>`. */
const OLD_AUTHOR_NOTE = /^from a message by (\S+)$/;
const OLD_FROM_NOTE = /^from (\S+)$/;

/**
 * One history entry's action in words, and the note a person wrote with it (a resolution's, an
 * escalation's reason). Facts the bot recorded (whose message it was, whom it was reassigned
 * from) are worded in the reader's language, also from the English notes older entries hold.
 */
function historyAction(h: HistoryEntry, t: Translate, when: (iso: string | null | undefined) => string): { action: string; note?: string } {
  const note = h.note ?? undefined;
  switch (h.action) {
    case "clock_restart":
      return { action: t("complaint.action.clock_restart", { from: when(h.from), to: when(h.to) }) };
    case "created": {
      const author = h.from ?? (note ? OLD_AUTHOR_NOTE.exec(note)?.[1] : undefined);
      if (author) return { action: t("complaint.action.created_from_message", { author }) };
      return { action: t("complaint.action.created"), ...(note ? { note } : {}) };
    }
    case "claim": {
      // Taken from its holder by a manager's `complaint assign` to themselves: from whom.
      const taken = h.from && !(COMPLAINT_STATUSES as readonly string[]).includes(h.from) ? h.from : undefined;
      // Made as another of the claimer's linked identities (`complaint assign` to it): which one.
      if (h.to && h.by && h.to !== h.by) {
        return { action: taken ? t("complaint.action.claim_as_from", { to: h.to, from: taken }) : t("complaint.action.claim_as", { to: h.to }) };
      }
      return { action: taken ? t("complaint.action.claim_from", { from: taken }) : t("complaint.action.claim") };
    }
    case "resolve_held":
      return { action: t("complaint.action.resolve_held", { from: h.from ?? "—" }) };
    case "assign": {
      // `from` is the previous assignee on a reassignment; otherwise the status it was assigned in.
      const previous = h.from && !(COMPLAINT_STATUSES as readonly string[]).includes(h.from) ? h.from : note ? OLD_FROM_NOTE.exec(note)?.[1] : undefined;
      if (previous) return { action: t("complaint.action.reassign", { from: previous, to: h.to ?? "" }) };
      return { action: t("complaint.action.assign", { to: h.to ?? "" }), ...(note ? { note } : {}) };
    }
    default:
      return { action: t(`complaint.action.${h.action}` as MessageKey, { to: h.to ?? "" }), ...(note ? { note } : {}) };
  }
}

/** The complaint card: details, both SLA clocks, history and the buttons. */
export function complaintCard(c: ComplaintDoc, services: { complaints: ComplaintService }, ctx: Ctx): Reply {
  const { t, fmt } = ctx;
  // The clocks as of the card's complaint: a command's `now` is taken when it starts, a few ms
  // before its own write stamps the complaint; measured from then, a clock just started would
  // read a minute (or, on day-long clocks, an hour) more than it has.
  const last = c.history?.at(-1)?.at;
  const now = last && last.getTime() > ctx.now.getTime() ? last : ctx.now;
  const sla = services.complaints.sla(c, now);
  const overdue = sla.firstResponse.state === "overdue" || sla.resolution.state === "overdue";
  // A clock restart keeps its due times as ISO strings in from/to: shown in the shop's time.
  const when = (iso: string | null | undefined) => (iso ? fmt.dateTime(new Date(iso)) : "—");
  const history = (c.history ?? []).map((h) => {
    const { action, note } = historyAction(h, t, when);
    return t("complaint.history.line", { at: h.at ? fmt.dateTime(h.at) : "—", by: h.by ?? "—", action: note ? t("text.note", { text: action, note }) : action });
  });
  return {
    title: t("complaint.title", { id: c._id, severity: severityName(c.severity, t) }),
    // The customer's words, shown literally (no live markdown or disguised links on Discord).
    text: c.text,
    plainText: true,
    status: colour(c, overdue),
    fields: [
      { label: t("complaint.status"), value: complaintStatus(c, t), inline: true },
      { label: t("complaint.assignee"), value: c.assignee ?? t("complaint.nobody"), inline: true },
      { label: t("complaint.customer"), value: c.customerId === UNKNOWN_CUSTOMER ? t("complaint.customer.unknown") : c.customerId, inline: true, plain: true },
      { label: t("complaint.order"), value: c.orderNo ?? "—", inline: true, plain: true },
      { label: t("complaint.category"), value: t(`complaint.category.${c.category}` as MessageKey), inline: true },
      { label: t("complaint.source"), value: t(`complaint.source.${c.source}` as MessageKey), inline: true },
      { label: t("complaint.filed"), value: t("complaint.filed.value", { at: fmt.dateTime(c.createdAt), by: c.createdBy }), plain: true },
      { label: t("complaint.sla.first_response"), value: slaText(sla.firstResponse, ctx) },
      { label: t("complaint.sla.resolution"), value: slaText(sla.resolution, ctx) },
      ...(c.permalink ? [{ label: t("complaint.message"), value: c.permalink }] : []),
      // Oldest first, with people's notes: cut from the start, so the latest action stays in view.
      { label: t("complaint.history"), value: history.join("\n") || "—", plain: true, newestLast: true },
    ],
    actions: complaintActions(c, t),
    visibility: "ephemeral",
  };
}

/** The reply for an id that matches no complaint. */
export function unknownComplaint(id: string, t: Translate): Reply {
  return { status: "error", code: "unknown_complaint", text: t("complaint.unknown", { id: ComplaintService.normalizeId(id) }), visibility: "ephemeral" };
}

/**
 * A Resolve / Escalate button pressed without its text: the line to complete (code `code`,
 * message `key`), or the unknown-complaint error. Changes nothing, so it is an error outcome:
 * audited as such, and a pressed button is given back (the card keeps it for the next person)
 * while the presser alone is asked for the text.
 */
export async function promptForText(
  id: string,
  code: "note_required" | "reason_required",
  services: { complaints: ComplaintService },
  t: Translate,
  /** The complaint when the caller has read it already (null: it does not exist). */
  known?: ComplaintDoc | null,
): Promise<Reply> {
  if (!(known === undefined ? await services.complaints.get(id) : known)) return unknownComplaint(id, t);
  return { status: "error", code, text: t(`complaint.${code}`, { id }), visibility: "ephemeral" };
}

/**
 * The mark of an answer about a resolved complaint: a card's Claim / Resolve / Escalate buttons
 * pressed for it are removed (Slack) or disabled (Discord), with a line saying its status
 * (Reply.settled); so is a card's Reopen pressed for one reopened meanwhile. Not for one claimed
 * by someone else: its Resolve and Escalate still apply.
 */
function settledComplaint(c: ComplaintDoc, t: Translate): Pick<Reply, "settled"> {
  return { settled: t("complaint.card.settled", { id: c._id, status: complaintStatus(c, t, true) }) };
}

/** The reply to a claim, assignment, resolution, escalation or reopening. */
export function changeReply(
  r: ChangeResult,
  id: string,
  action: "claim" | "assign" | "resolve" | "escalate" | "reopen",
  done: string,
  services: { complaints: ComplaintService },
  ctx: Ctx,
  params: Record<string, string> = {},
): HandlerReply {
  const { t } = ctx;
  const cid = ComplaintService.normalizeId(id);
  if (r.kind !== "not_found") ctx.subject?.(r.complaint._id);
  switch (r.kind) {
    case "not_found":
      return unknownComplaint(cid, t);
    case "refused": {
      // Taken meanwhile by another's assignment, not a claim: say who gave it to whom.
      const last = r.complaint.history?.at(-1);
      // Given to its holder by someone else: "assigned to … by …", not "claimed by …".
      const giver = r.reason === "claimed_by_other" ? assignedBy(r.complaint) : undefined;
      const by = giver ?? last?.by;
      // The reader did it (as this identity or one linked to it): "by you", not their own name.
      const you = !!by && !!ctx.actor && (by === ctx.actor.identity || (ctx.actor.identities?.includes(by) ?? false));
      const key =
        r.reason === "taken_meanwhile" && last?.action === "assign"
          ? you
            ? "complaint.refused.taken_meanwhile_assigned_by_you"
            : "complaint.refused.taken_meanwhile_assigned"
          : giver
            ? you
              ? "complaint.refused.assigned_to_other_by_you"
              : "complaint.refused.assigned_to_other"
            : r.reason === "held_by_other" && action === "escalate"
              ? "complaint.refused.held_by_other_escalate"
              : // Escalated and someone has it (a manager, or whom one chose): say who, and that a manager cannot just claim it.
                r.reason === "permission_denied" && r.complaint.assignee
                ? "complaint.refused.permission_denied_held"
                : (`complaint.refused.${r.reason}` as const);
      return {
        status: "error",
        code: r.reason,
        text: t(key, { id: cid, assignee: r.complaint.assignee ?? "—", status: complaintStatus(r.complaint, t, true), by: by ?? "—", ...params }),
        visibility: "ephemeral",
        // Taking it off its holder (assign, escalate) needs a manager: a refusal of who the caller is, audited `denied`.
        ...(r.reason === "held_by_other" ? { denied: true } : {}),
        // Resolved elsewhere: a card's Claim / Escalate pressed for it go (Reply.settled). Reopened
        // elsewhere (not resolved): a card's Reopen goes too; a card with Reopen shows a resolved
        // complaint and has no other button about it, so none that still applies goes with it.
        ...(r.reason === "resolved" || r.reason === "not_resolved" ? settledComplaint(r.complaint, t) : {}),
      };
    }
    case "already":
      if (action === "escalate") {
        // Escalated and waiting, or escalated and held (by a manager or whom a manager chose).
        const held = r.complaint.assignee;
        // Held by the one asking (a manager gave it to them): "you have it", not their own name.
        const key = !held ? "complaint.already.escalate" : ctx.actor && holds(r.complaint, ctx.actor) ? "complaint.already.escalate_yours" : "complaint.already.escalate_held";
        const text = t(key, { id: cid, assignee: held ?? "—" });
        return { status: "info", code: "already_escalated", text, visibility: "ephemeral" };
      }
      // Resolved already: a card's Resolve pressed for it goes, with its other buttons; open
      // already (reopened at the same moment): a card's Reopen, its only button, goes (Reply.settled).
      return { status: "info", code: `already_${action}`, text: t(`complaint.already.${action}`, { id: cid, ...params }), visibility: "ephemeral", ...(action === "resolve" || action === "reopen" ? settledComplaint(r.complaint, t) : {}) };
    case "done": {
      const card = complaintCard(r.complaint, services, ctx);
      return { ...card, title: done, status: "ok", visibility: "public" };
    }
  }
}

/**
 * "Already resolved" / "already escalated" (`reply`), with who did it last, when (shop time) and
 * their note or reason (clipped), and, when the caller gave one (`given`), that it was not kept.
 */
export function alreadyDone(reply: HandlerReply, c: ComplaintDoc, actor: ComplaintActor, action: "resolve" | "escalate", given: string | undefined, ctx: Pick<Ctx, "t" | "fmt">): HandlerReply {
  const { t, fmt } = ctx;
  const last = lastDone(c, action, actor);
  const said = action === "resolve" ? ({ by: "complaint.already.resolved_by", you: "complaint.already.resolved_by_you", dropped: "complaint.already.note_dropped", field: "note" } as const) : ({ by: "complaint.already.escalated_by", you: "complaint.already.escalated_by_you", dropped: "complaint.already.reason_dropped", field: "reason" } as const);
  const parts = [
    reply.text ?? "",
    ...(last ? [t(last.you ? said.you : said.by, { by: last.by, at: last.at ? fmt.dateTime(last.at) : "—", [said.field]: clip(last.note ?? "—", 200) })] : []),
    ...(given ? [t(said.dropped)] : []),
  ];
  return { ...reply, text: parts.join(t("text.sentence_sep")) };
}
