import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { approversText, failKey, normalizeId } from "../src/services/refund.service.js";
import type { Reply } from "../src/core/reply.js";
import type { RefundRequestDoc } from "../src/store/models.js";
import { alreadyRejectedText, approveRefusalText, refundCard, settledReply, shownStatus, unknownRefund } from "../src/services/refund.view.js";

export default defineCommand({
  name: "refund approve",
  description: "cmd.refund_approve",
  positional: ["id"],
  args: z.object({ id: z.string().trim().min(1).max(20), note: text(300).optional() }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "<id> [note=<note>]", zh: "<id> [note=<备注>]" },
  examples: ["refund approve R-7K2M9Q", { en: 'refund approve R-7K2M9Q note="photo checked"', zh: "refund approve R-7K2M9Q note=照片已核实" }],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the request typed: `audit subject=R-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => normalizeId(s) },
  async handler({ args, services, actor, via, t, fmt, now, subject }) {
    const r = await services.refund.approve({ id: args.id, actor: actor.identity, role: actor.role, ...(args.note ? { note: args.note } : {}), ...(via ? { via } : {}) });
    // The request and its order: `audit subject=ORD-…` lists what was asked and decided on it.
    if ("request" in r) subject([r.request._id, r.request.orderNo]);
    const err = (code: string, message: string) => ({ status: "error" as const, code, text: message, visibility: "ephemeral" as const });
    // Refused for who the caller is (their own request, above their role's limit): a denial on the audit trail.
    const denial = (code: string, message: string) => ({ ...err(code, message), denied: true });
    // As `refund show` explains a missing Approve button.
    const why = { t, fmt, identity: actor.identity, role: actor.role };
    // An answer that records no approval of the caller's drops their note with it: said, not silently.
    // Nothing left to decide on it: a card's buttons pressed for it go (Reply.settled).
    const settled = <R extends Reply>(reply: R, request: RefundRequestDoc) => settledReply(reply, request, now, t);
    const noteLost = (text: string, id: string) => (args.note ? `${text}\n${t("refund.note_not_recorded", { id })}` : text);
    switch (r.kind) {
      case "not_found": {
        // An order number typed for the request's id: its requests awaiting a decision, named.
        const of = await services.refund.ofOrder(args.id);
        if (of) subject(of.orderNo);
        return unknownRefund(args.id, of, "approve", { t, fmt, now });
      }
      case "self_approval":
        return denial("self_approval", approveRefusalText(r, r.request, why));
      case "expired":
        return settled(err("refund_expired", t("refund.expired", { id: r.request._id, at: fmt.dateTime(r.request.expiresAt) })), r.request);
      case "decided":
        // A rejected one says who rejected it, when and why, as `refund reject` on it does.
        if (r.request.status === "rejected") return settled(err("already_decided", alreadyRejectedText(r.request, t, fmt)), r.request);
        return settled(err("already_decided", t("refund.already_decided", { id: r.request._id, status: shownStatus(r.request, now, t) })), r.request);
      case "busy":
        return err("refund_busy", t("refund.busy", { id: r.request._id }));
      case "needs_role":
        return denial("approval_limit", approveRefusalText(r, r.request, why));
      case "already_approved":
        // Either way the approval was someone's earlier click; `finished` says this call
        // completed its execution (after a crash, or racing the approver's own call).
        return settled({
          status: "info",
          code: "already_approved",
          // Every approver of a two-manager refund, not only the one whose approval completed it.
          text: noteLost(t("refund.already_approved", { id: r.request._id, by: approversText(r.request, t) }) + (r.finished ? " " + t("refund.finished") : ""), r.request._id),
          visibility: "ephemeral",
        }, r.request);
      case "waiting_second": {
        if (r.byYou) {
          return {
            status: "info",
            code: "awaiting_second_approval",
            text: noteLost(approveRefusalText({ kind: "waiting_second", as: r.as ?? actor.identity }, r.request, why), r.request._id),
            visibility: "ephemeral",
          };
        }
        // The request as it is now: a second manager may have approved (or someone rejected) it since
        // this approval landed, and a card still asking for a second approval would mislead.
        const cur = (await services.refund.get(r.request._id)) ?? r.request;
        if (cur.status === "approved" && cur.executedAt) {
          const title = t("refund.first_then_approved.title", { id: cur._id, by: cur.decidedBy ?? "", amount: fmt.money(cur.amount, cur.currency), orderNo: cur.orderNo });
          return refundCard(cur, { t, fmt, now, title, status: "ok" });
        }
        if (cur.status !== "pending") return refundCard(cur, { t, fmt, now, title: t("refund.first_then_decided.title", { id: cur._id, status: shownStatus(cur, now, t) }) });
        // What it still needs under the policy in force, as `refund approve` decides it.
        return refundCard(cur, { t, fmt, now, policy: await services.refund.policy(), title: t("refund.first_approval.title", { id: cur._id }) });
      }
      case "approved": {
        const card = refundCard(r.request, { t, fmt, now, title: t("refund.approved.title", { id: r.request._id, amount: fmt.money(r.request.amount, r.request.currency), orderNo: r.request.orderNo }), status: "ok" });
        // Completed by confirming the caller's earlier approval (the policy changed since): no new approval, so no new note.
        if (args.note && !r.request.approvals.some((a) => a.by === actor.identity && a.note === args.note)) card.context = [...(card.context ?? []), t("refund.note_not_recorded", { id: r.request._id })];
        return card;
      }
      case "failed":
        return settled(err("refund_failed", t("refund.failed", { id: r.request._id, reason: t(failKey(r.reason)) })), r.request);
    }
  },
});
