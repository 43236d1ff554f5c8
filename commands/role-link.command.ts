import { z } from "zod";
import { identityArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";


export default defineCommand({
  name: "role link",
  description: "cmd.role_link",
  positional: ["identity", "other"],
  args: z.object({ identity: identityArg, other: identityArg }),
  examples: ["role link slack:T0123:U0456 discord:123456789012345678", "role link shell:max slack:T0123:U0456"],
  permission: "admin",
  mutates: true,
  // Both identities linked (a refused attempt: the first typed), so `audit subject=` on either shows the link.
  typedSubject: { arg: "identity", spelling: (s) => s },
  async handler({ args, services, actor, t, subject }) {
    subject([...new Set([args.identity, args.other])]);
    const r = await services.identity.link(args.identity, args.other, actor.identity);
    const p = { identity: args.identity, other: args.other };
    if (r.kind === "self") return { status: "error", code: "self_link", text: t("role.link.self", { identity: args.identity }), visibility: "ephemeral" };
    if (r.kind === "too_many") return { status: "error", code: "too_many_identities", text: t("role.link.too_many", { max: r.max }), visibility: "ephemeral" };
    if (r.kind === "already") return { status: "info", code: "already_linked", text: t("role.link.already", { ...p, identities: r.person.identities.join(t("text.list_sep")) }), visibility: "ephemeral" };
    return { status: "ok", text: t("role.linked", { ...p, identities: r.person.identities.join(t("text.list_sep")) }), visibility: "public" };
  },
});
