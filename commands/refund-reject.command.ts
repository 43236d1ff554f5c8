import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { normalizeId } from "../src/services/refund.service.js";
import { alreadyRejectedText, refundCard, settledReply, shownStatus, unknownRefund } from "../src/services/refund.view.js";

export default defineCommand({
  name: "refund reject",
  description: "cmd.refund_reject",
  positional: ["id"],
  args: z.object({ id: z.string().trim().min(1).max(20), reason: text(300) }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "<id> reason=<reason>", zh: "<id> reason=<原因>" },
  examples: [{ en: 'refund reject R-7K2M9Q reason="outside the return window"', zh: "refund reject R-7K2M9Q reason=已超出退货期限" }],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the request typed: `audit subject=R-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => normalizeId(s) },
  async handler({ args, services, actor, t, fmt, now, subject }) {
    const r = await services.refund.reject({ id: args.id, actor: actor.identity, reason: args.reason });
    // The request and its order: `audit subject=ORD-…` lists what was asked and decided on it.
    if ("request" in r) subject([r.request._id, r.request.orderNo]);
    switch (r.kind) {
      case "not_found": {
        // An order number typed for the request's id: its requests awaiting a decision, named.
        const of = await services.refund.ofOrder(args.id);
        if (of) subject(of.orderNo);
        return unknownRefund(args.id, of, "reject", { t, fmt, now });
      }
      // Nothing left to decide on it: a card's buttons pressed for it go (Reply.settled).
      case "expired":
        return settledReply({ status: "error", code: "refund_expired", text: t("refund.expired", { id: r.request._id, at: fmt.dateTime(r.request.expiresAt) }), visibility: "ephemeral" }, r.request, now, t);
      case "decided":
        return settledReply({ status: "error", code: "already_decided", text: t("refund.already_decided", { id: r.request._id, status: shownStatus(r.request, now, t) }), visibility: "ephemeral" }, r.request, now, t);
      case "already_rejected":
        return settledReply({ status: "info", code: "already_rejected", text: alreadyRejectedText(r.request, t, fmt), visibility: "ephemeral" }, r.request, now, t);
      case "rejected":
        return refundCard(r.request, { t, fmt, now, title: t("refund.rejected.title", { id: r.request._id }) });
    }
  },
});
