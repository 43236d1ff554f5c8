import { z } from "zod";
import { identityArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { roleAtLeast, ROLES } from "../src/core/roles.js";

export default defineCommand({
  name: "role grant",
  description: "cmd.role_grant",
  positional: ["identity", "role"],
  args: z.object({
    identity: identityArg,
    role: z.enum(ROLES, { error: "role.bad_role" }),
  }),
  examples: ["role grant slack:T0123:U0456 manager", "role grant shell:bob support"],
  permission: "admin",
  mutates: true,
  async handler({ args, services, actor, t }) {
    if (args.identity === actor.identity && args.role !== "admin") {
      return { status: "error", code: "self_demote", text: t("role.self_demote"), visibility: "ephemeral" };
    }
    const r = await services.identity.grant(args.identity, args.role, actor.identity);
    if (r.kind === "bootstrap") return { status: "error", code: "bootstrap_admin", text: t(services.identity.isDemoAdmin(args.identity) ? "role.bootstrap.demo" : "role.bootstrap", { identity: args.identity }), visibility: "ephemeral" };
    if (r.kind === "last_admin") return { status: "error", code: "last_admin", text: t("role.last_admin", { identity: args.identity }), visibility: "ephemeral" };
    const previous = r.kind === "granted" ? r.previous : "viewer";
    // Below manager: digests queued for them by direct message (held by quiet hours) are withdrawn.
    if (!roleAtLeast(args.role, "manager")) await services.digest.withdrawDirect(args.identity);
    return { status: "ok", text: t("role.granted", { identity: args.identity, role: args.role, previous }), visibility: "public" };
  },
});

