import type { Formatter } from "../core/format.js";
import type { Translate } from "../core/messages.js";
import type { Reply, ReplyAction, ReplyField } from "../core/reply.js";
import { roleAtLeast, type Role } from "../core/roles.js";
import type { RefundRequestDoc } from "../store/models.js";
import { approvalBy, ASKING_SHOWN, BUTTON_REJECT_REASON, failKey, need, rejectReasonText, type ApprovalNeed, type ApproveCheck, type RefundPolicy } from "./refund.service.js";

/** The Approve / Reject buttons of a pending request. */
export function refundActions(id: string, t: Translate): ReplyAction[] {
  return [
    { id: `refund approve ${id}`, label: t("refund.button.approve"), style: "primary" },
    { id: `refund reject ${id} reason="${BUTTON_REJECT_REASON}"`, label: t("refund.button.reject"), style: "danger" },
  ];
}

/**
 * A refusal or notice about a request with nothing left to decide (decided or expired), marked
 * so that a card's Approve / Reject buttons pressed for it go, saying its status (Reply.settled).
 */
export function settledReply<R extends Reply>(reply: R, r: RefundRequestDoc, now: Date, t: Translate): R {
  return { ...reply, settled: t("refund.card.settled", { id: r._id, status: shownStatus(r, now, t) }) };
}

/**
 * A pressed button's line as its reader sees it named (Slack's "ran `…`" line): the Reject
 * button's fixed reason in the reader's language (`reason="通过“拒绝”按钮拒绝"`), not the English
 * the button carries; any other line as it is.
 */
export function shownButtonLine(line: string, t: Translate): string {
  const button = ` reason="${BUTTON_REJECT_REASON}"`;
  return line.startsWith("refund reject ") && line.endsWith(button) ? `${line.slice(0, -button.length)} reason="${t("refund.reject.by_button")}"` : line;
}

/**
 * What a pending request needs under the policy in force (`policy`, in the shop currency
 * `fmt.currency`), as `refund approve` decides it; without a policy, what was stored at its last
 * change.
 */
function needOf(r: RefundRequestDoc, policy: RefundPolicy | undefined, shopCurrency: string): Pick<ApprovalNeed, "required"> & { role?: ApprovalNeed["role"] } {
  return policy ? need(r, policy, shopCurrency) : { required: r.requiredApprovals >= 2 ? 2 : 1 };
}

/**
 * The status of a request as shown (a pending request past its expiry shows as expired). With
 * `policy` (the one in force), a pending request's approvals are counted against what it needs
 * now, as `refund approve` counts them; with `you` (the reader's identities, as one person: see
 * RefundService.person), a request whose approval by them is enough now says it is theirs to
 * confirm, as `refund list approvable` offers it to them (`yourRole`: when their role allows it).
 */
export function shownStatus(r: RefundRequestDoc, now: Date, t: Translate, policy?: { policy: RefundPolicy; currency: string; you?: readonly string[]; yourRole?: Role }): string {
  if (r.status === "pending" && r.expiresAt <= now) return t("refund.status.expired");
  if (r.status === "pending" && r.approvalCount > 0) {
    const required = policy ? need(r, policy.policy, policy.currency).required : r.requiredApprovals;
    // Approved once under a stricter policy, enough under today's: the next approval completes it,
    // the first approver's again too (see RefundService.approve).
    // Theirs to confirm only if their role may approve it now (`yourRole`: one demoted since may not).
    if (r.approvalCount >= required) {
      const yours = policy?.you && approvalBy(r, policy.you) && (!policy.yourRole || roleAtLeast(policy.yourRole, need(r, policy.policy, policy.currency).role));
      return t(yours ? "refund.status.pending_yours" : "refund.status.pending_enough", { count: r.approvalCount });
    }
    return t("refund.status.pending_second", { count: r.approvalCount, required });
  }
  if (r.status === "approved" && !r.executedAt) return t("refund.status.approved_unexecuted");
  if (r.status === "approved") return t("refund.status.refunded");
  if (r.status === "rejected") return t("refund.status.rejected");
  if (r.status === "expired") return t("refund.status.expired");
  if (r.status === "failed") return t("refund.status.failed", { reason: t(failKey(r.failReason)) });
  return t("refund.status.pending");
}

/** One approval as the card lists it: who, when, and their note. */
function approvalLine(a: RefundRequestDoc["approvals"][number], t: Translate, fmt: Formatter): string {
  const s = a.by + t("text.paren", { text: fmt.dateTime(a.at!) });
  return a.note ? t("text.note", { text: s, note: a.note }) : s;
}

/** A refusal of `refund approve` that is about who the caller is (see RefundService.approvalCheck). */
export type ApproveRefusal = Extract<ApproveCheck, { kind: "self_approval" | "needs_role" | "waiting_second" }>;

/**
 * Why `refund approve` refuses the caller (`identity`, `role`) request `r`, as it says it: their
 * own request (under which identity), beyond their role, or approved by their person already while
 * a second manager must approve. Below support, the role `refund approve` needs, as the core says it.
 */
export function approveRefusalText(c: ApproveRefusal, r: RefundRequestDoc, o: { t: Translate; fmt: Formatter; identity: string; role: Role }): string {
  const { t, fmt } = o;
  const role = t(`role.name.${o.role}`);
  switch (c.kind) {
    case "self_approval":
      // Under another identity of the caller's person: name it, or "you requested it" puzzles.
      if (c.atTerminal) return t("refund.self_approval_terminal", { id: r._id, as: c.as });
      return c.as === o.identity ? t("refund.self_approval", { id: r._id }) : t("refund.self_approval_as", { id: r._id, as: c.as });
    case "waiting_second":
      return c.as === o.identity ? t("refund.second_needed_you", { id: r._id }) : t("refund.second_needed_you_as", { id: r._id, as: c.as });
    case "needs_role":
      if (!roleAtLeast(o.role, "support")) return t("error.permission", { command: "refund approve", required: t("role.name.support"), role });
      if (c.foreign) return t("refund.needs_two_managers_foreign", { id: r._id, currency: r.currency, shop: fmt.currency, role });
      if (c.two) return t("refund.needs_two_managers", { id: r._id, amount: fmt.money(r.amount, r.currency), limit: fmt.money(c.limit, r.currency), role });
      return t("refund.over_limit", { id: r._id, amount: fmt.money(r.amount, r.currency), role, required: t(`role.name.${c.required}`), limit: fmt.money(c.limit, r.currency) });
  }
}

/** Who rejected a request, and why (the Reject button gives no reason: said so). */
export function rejectedText(r: Pick<RefundRequestDoc, "decidedBy" | "rejectReason">, t: Translate): string {
  const by = r.decidedBy ?? "";
  return r.rejectReason === BUTTON_REJECT_REASON ? t("refund.rejected.by_button", { by }) : t("refund.rejected.by", { by, reason: rejectReasonText(r.rejectReason, t) });
}

/**
 * Why a request cannot be rejected or approved any more, said when it was rejected already: who
 * rejected it, when and why (the Reject button gives no reason: said so), as its card says it.
 */
export function alreadyRejectedText(r: Pick<RefundRequestDoc, "_id" | "decidedBy" | "decidedAt" | "rejectReason">, t: Translate, fmt: Formatter): string {
  const p = { id: r._id, by: r.decidedBy ?? "", at: r.decidedAt ? fmt.dateTime(r.decidedAt) : "?" };
  return r.rejectReason === BUTTON_REJECT_REASON ? t("refund.already_rejected_button", p) : t("refund.already_rejected", { ...p, reason: rejectReasonText(r.rejectReason, t) });
}

/**
 * The card of a request: order, customer, amount, reason, requester, status; what it needs and
 * buttons while it may be approved. `you`: the reader's identities, for a card shown to them alone
 * (see {@link shownStatus}).
 */
export function refundCard(r: RefundRequestDoc, opts: { t: Translate; fmt: Formatter; now: Date; title?: string; policy?: RefundPolicy; status?: Reply["status"]; you?: readonly string[]; yourRole?: Role }): Reply {
  const { t, fmt, now } = opts;
  const open = r.status === "pending" && r.expiresAt > now;
  const fields: ReplyField[] = [
    { label: t("refund.field.order"), value: r.orderNo, inline: true },
    { label: t("refund.field.customer"), value: r.customerId, inline: true, plain: true },
    { label: t("refund.field.amount"), value: fmt.money(r.amount, r.currency) + (r.full ? t("text.paren", { text: r.restOf ? t("refund.full_rest", { total: fmt.money(r.restOf, r.currency) }) : t("refund.full") }) : ""), inline: true },
    { label: t("refund.field.reason"), value: r.reason, plain: true },
    { label: t("refund.field.requester"), value: `${r.requester} · ${fmt.dateTime(r.requestedAt)}`, plain: true },
    { label: t("refund.field.status"), value: shownStatus(r, now, t, opts.policy ? { policy: opts.policy, currency: fmt.currency, ...(opts.you ? { you: opts.you } : {}), ...(opts.yourRole ? { yourRole: opts.yourRole } : {}) } : undefined) },
  ];
  // Past its deadline nobody may approve it (refund approve refuses it), though the job has not marked it yet.
  if (open) {
    // Under the policy in force (a change applies at once), as `refund approve` decides.
    const n = needOf(r, opts.policy, fmt.currency);
    fields.push({ label: t("refund.field.needs"), value: n.required >= 2 ? t("refund.needs.two") : n.role === "support" ? t("refund.needs.support") : t("refund.needs.manager") });
    fields.push({ label: t("refund.field.expires"), value: fmt.dateTime(r.expiresAt) });
  }
  // Brackets and the note's colon as the language writes them: "shell:wang (…): ok" or "shell:wang（…）：同意".
  if (r.approvals.length) fields.push({ label: t("refund.field.approvals"), value: r.approvals.map((a) => approvalLine(a, t, fmt)).join("\n"), plain: true });
  if (r.status === "rejected") fields.push({ label: t("refund.field.rejected"), value: rejectedText(r, t), plain: true });
  // An expired request says when, and that nobody decided (as a rejected one says who did); one
  // approved once but never completed says that, its approvals listed above.
  if (r.status === "expired" || (r.status === "pending" && r.expiresAt <= now)) fields.push({ label: t("refund.field.expired"), value: t(r.approvals.length ? "refund.expired.at_approved" : "refund.expired.at", { at: fmt.dateTime(r.expiresAt) }) });
  if (r.executedAt) fields.push({ label: t("refund.field.executed"), value: fmt.dateTime(r.executedAt) });
  return {
    title: opts.title ?? t("refund.card.title", { id: r._id }),
    fields,
    status: opts.status ?? (open ? "info" : r.status === "approved" ? "ok" : r.status === "failed" ? "error" : "info"),
    ...(open ? { actions: refundActions(r._id, t) } : {}),
    visibility: "public",
  };
}

/**
 * The answer to `refund show|approve|reject <id>` when no request has that id: when it is an order
 * number (`of`, see RefundService.ofOrder), that order's requests (for `approve` and `reject`,
 * those awaiting a decision), with the line to type for the newest; else that no request has it.
 */
export function unknownRefund(typed: string, of: { orderNo: string; requests: RefundRequestDoc[]; open: RefundRequestDoc[] } | null, verb: "show" | "approve" | "reject", o: { t: Translate; fmt: Formatter; now: Date }): Reply {
  const { t, fmt, now } = o;
  const reply = (text: string): Reply => ({ status: "error", code: "unknown_refund", text, visibility: "ephemeral" });
  if (!of) return reply(t("refund.unknown", { id: typed }));
  const { orderNo } = of;
  if (!of.requests.length) return reply(t("refund.is_order_none", { orderNo }));
  const listed = (rs: RefundRequestDoc[]) =>
    [...rs.slice(0, ASKING_SHOWN).map((r) => t("refund.is_order.item", { id: r._id, amount: fmt.money(r.amount, r.currency), status: shownStatus(r, now, t) })), ...(rs.length > ASKING_SHOWN ? ["…"] : [])].join(t("text.list_sep"));
  const line = (id: string) => (verb === "reject" ? `refund reject ${id} ${t("refund.is_order.reason")}` : `refund ${verb} ${id}`);
  if (verb === "show") return reply(t("refund.is_order", { orderNo, list: listed(of.requests), command: line(of.requests[0]!._id) }));
  if (!of.open.length) return reply(t("refund.is_order_none_open", { orderNo, list: listed(of.requests) }));
  return reply(t("refund.is_order_open", { orderNo, list: listed(of.open), command: line(of.open[0]!._id) }));
}
