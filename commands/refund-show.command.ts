import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { roleAtLeast } from "../src/core/roles.js";
import { approveRefusalText, refundCard, unknownRefund } from "../src/services/refund.view.js";

export default defineCommand({
  name: "refund show",
  description: "cmd.refund_show",
  positional: ["id"],
  args: z.object({ id: z.string().trim().min(1).max(20) }),
  examples: ["refund show R-7K2M9Q"],
  permission: "staff",
  mutates: false,
  async handler({ args, services, actor, via, t, fmt, now }) {
    const r = await services.refund.get(args.id);
    // An order number typed for the request's id: that order's requests, named.
    if (!r) return unknownRefund(args.id, await services.refund.ofOrder(args.id), "show", { t, fmt, now });
    // Shown to the caller alone, so said for them: a request they approved once and may now
    // complete says so (as `refund list` does), and the Approve button is there only if `refund
    // approve` would take it from them (as `refund list approvable` lists it), else why not.
    const card = refundCard(r, { t, fmt, now, policy: await services.refund.policy(), you: await services.refund.person(actor.identity, via), yourRole: actor.role });
    if (card.actions) {
      const check = await services.refund.approvalCheck(r, { actor: actor.identity, ...(via ? { via } : {}), role: actor.role });
      if (check.kind === "self_approval" || check.kind === "needs_role" || check.kind === "waiting_second") {
        card.actions = card.actions.filter((a) => !a.id.startsWith("refund approve "));
        card.context = [approveRefusalText(check, r, { t, fmt, identity: actor.identity, role: actor.role })];
      }
      // Below support, `refund reject` is refused too: no Reject button that only answers "permission denied".
      if (!roleAtLeast(actor.role, "support")) {
        card.actions = card.actions.filter((a) => !a.id.startsWith("refund reject "));
        if (check.kind === "needs_role") card.context = [t("refund.show.below_support", { role: t(`role.name.${actor.role}`), required: t("role.name.support") })];
      }
      if (!card.actions.length) delete card.actions;
    }
    // An approval whose execution was interrupted: say so and how to finish it.
    if (r.status === "approved" && !r.executedAt) card.context = [t("refund.unexecuted_hint", { id: r._id })];
    return { ...card, visibility: "ephemeral" };
  },
});
