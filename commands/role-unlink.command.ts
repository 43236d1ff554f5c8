import { z } from "zod";
import { identityArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "role unlink",
  description: "cmd.role_unlink",
  positional: ["identity"],
  args: z.object({ identity: identityArg }),
  examples: ["role unlink discord:123456789012345678"],
  permission: "admin",
  mutates: true,
  // The identity taken out of its person, refused attempts too (`audit subject=shell:bob`).
  typedSubject: { arg: "identity", spelling: (s) => s },
  async handler({ args, services, actor, via, t, subject }) {
    subject(args.identity);
    const linked = await services.identity.linked(args.identity);
    // Unlinking is what would let one person approve their own refund: another admin does it.
    // Refused for who the caller is (the person at the terminal too, through --as): a denial on the audit trail.
    if (linked.length > 1 && (linked.includes(actor.identity) || (via !== undefined && linked.includes(via)))) return { status: "error", code: "self_unlink", text: t("role.unlink.self"), visibility: "ephemeral", denied: true };
    const r = await services.identity.unlink(args.identity, actor.identity);
    if (r.kind === "none") return { status: "info", code: "not_linked", text: t("role.unlink.none", { identity: args.identity }), visibility: "ephemeral" };
    return { status: "ok", text: t("role.unlinked", { identity: args.identity, others: r.from.join(t("text.list_sep")) }), visibility: "public" };
  },
});
