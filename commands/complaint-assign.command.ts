import { z } from "zod";
import { defineCommand, type HandlerReply } from "../src/core/command.js";
import { identityArg } from "../src/core/args.js";
import { parseIdentity } from "../src/core/identity.js";
import { roleAtLeast } from "../src/core/roles.js";
import { assignBlock, ComplaintService, holds, ownOtherIdentity, type ChangeResult } from "../src/services/complaint.service.js";
import { changeReply, complaintIdArg, unknownComplaint } from "./complaint.view.js";

export default defineCommand({
  name: "complaint assign",
  description: "cmd.complaint_assign",
  positional: ["id", "identity"],
  args: z.object({
    id: complaintIdArg,
    // Read as the role commands read it: trimmed, a pasted zero-width space dropped.
    identity: identityArg,
  }),
  examples: ["complaint assign C-7K2M9Q shell:lin", "complaint assign C-7K2M9Q slack:T0123:U0456"],
  permission: "support",
  mutates: true,
  // Refusals before the handler runs name the complaint typed: `audit subject=C-…` finds them.
  typedSubject: { arg: "id", spelling: (s) => ComplaintService.normalizeId(s) },
  async handler(ctx) {
    const { args, services, t, config } = ctx;
    const id = ComplaintService.normalizeId(args.id);
    // With the identities linked to the caller's: one held under another of them is theirs to hand on.
    const actor = await services.complaints.person(ctx.actor);
    // Replies know the caller's linked identities: "by you" when a refusal names one of them.
    const rctx = { ...ctx, actor };
    // To the caller themselves, or another of their own identities (`role link`): their claim,
    // replied, recorded and shown as one (`complaint claim`'s words; "taken from" when a manager
    // takes it from someone, which a claim cannot).
    const self = args.identity === actor.identity;
    const own = self || ownOtherIdentity(actor, args.identity);
    const reply = (r: ChangeResult): HandlerReply => {
      const from = r.kind === "done" ? r.previous.assignee : undefined;
      // Moved between the caller's own identities: nobody's taken from.
      const taken = from && !actor.identities.includes(from) ? from : undefined;
      const done = self
        ? taken
          ? t("complaint.claimed_from", { id, from: taken })
          : t("complaint.claimed", { id })
        : own
          ? taken
            ? t("complaint.claimed_as_from", { id, to: args.identity, from: taken })
            : t("complaint.claimed_as", { id, to: args.identity })
          : from
            ? t("complaint.reassigned", { id, from, to: args.identity })
            : t("complaint.assigned", { id, to: args.identity });
      // Already with that identity of theirs: "already yours", as a claim says it.
      if (own && r.kind === "already") return changeReply(r, id, "claim", done, services, rctx);
      const out = changeReply(r, id, "assign", done, services, rctx, { to: args.identity });
      // Escalated and already theirs (a manager gave it to them): not "ask a manager to hand it to you".
      if (r.kind === "refused" && r.reason === "permission_denied" && holds(r.complaint, actor)) {
        if (args.identity === r.complaint.assignee) return changeReply({ kind: "already", complaint: r.complaint }, id, own ? "claim" : "assign", done, services, rctx, { to: args.identity });
        return { ...out, text: t("complaint.refused.escalated_holder", { id, to: args.identity }) };
      }
      return out;
    };
    // An unknown complaint is said first: whom it may go to does not matter then.
    const c = await services.complaints.get(id);
    if (!c) return unknownComplaint(id, t);
    // So is what stops the caller whoever it goes to (resolved, escalated, someone else's): told
    // the assignee's role first, they would fix it only to be refused for the complaint next.
    const block = assignBlock(c, args.identity, actor);
    if (block && block !== "already") return reply({ kind: "refused", reason: block, complaint: c });
    // Only people who can work complaints may own one (checked before anything changes): the
    // card and SLA reminders, with the customer's details, go to the assignee.
    // Assigning to yourself: the role the core granted you (Discord roles included) is known.
    const role = args.identity === actor.identity ? actor.role : await services.identity.roleOf(args.identity);
    if (!roleAtLeast(role, "support")) {
      // Someone else's Discord roles (DISCORD_ROLE_MAP) are not visible here: "is viewer" may be
      // wrong, so say what cannot be checked and how to fix it, as `digest subscribe` does.
      if (parseIdentity(args.identity)?.platform === "discord" && Object.keys(config.discord?.roleMap ?? {}).length > 0) {
        return { status: "error", code: "role_not_stored", text: t("complaint.assignee_role_not_stored", { identity: args.identity, id }), visibility: "ephemeral" };
      }
      // No role granted (a viewer is anyone without one), maybe a typo (`shell:lynn` for `shell:lin`):
      // said so, and to check the spelling before granting a role to a name nobody has.
      if (role === "viewer") {
        return { status: "error", code: "assignee_not_support", text: t("complaint.assignee_no_role", { identity: args.identity }), visibility: "ephemeral" };
      }
      return { status: "error", code: "assignee_not_support", text: t("complaint.assignee_not_support", { identity: args.identity, role: t(`role.name.${role}`) }), visibility: "ephemeral" };
    }
    return reply(await services.complaints.assign(id, args.identity, actor));
  },
});
