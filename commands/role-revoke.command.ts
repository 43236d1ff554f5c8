import { z } from "zod";
import { identityArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { demotesSelf } from "./role-grant.command.js";

export default defineCommand({
  name: "role revoke",
  description: "cmd.role_revoke",
  positional: ["identity"],
  args: z.object({ identity: identityArg }),
  examples: ["role revoke shell:bob"],
  permission: "admin",
  mutates: true,
  // The identity whose role it is, refused attempts too (`audit subject=shell:bob`).
  typedSubject: { arg: "identity", spelling: (s) => s },
  async handler({ args, services, actor, via, t, subject }) {
    subject(args.identity);
    // Refused for who the caller is (through --as too): a denial on the audit trail.
    if (await demotesSelf(args.identity, actor, via, services)) return { status: "error", code: "self_demote", text: t("role.self_demote"), visibility: "ephemeral", denied: true };
    const r = await services.identity.revoke(args.identity);
    if (r.kind === "bootstrap") return { status: "error", code: "bootstrap_admin", text: t(services.identity.isDemoAdmin(args.identity) ? "role.bootstrap.demo" : "role.bootstrap", { identity: args.identity }), visibility: "ephemeral" };
    if (r.kind === "busy") return { status: "error", code: "busy", text: t("role.busy"), visibility: "ephemeral" };
    if (r.kind === "last_admin") return { status: "error", code: "last_admin", text: t("role.last_admin", { identity: args.identity }), visibility: "ephemeral" };
    if (r.kind === "none") return { status: "info", code: "no_role", text: t("role.revoke.none", { identity: args.identity }), visibility: "ephemeral" };
    const previous = r.kind === "revoked" ? r.previous : "viewer";
    // A binding `role grant <id> viewer` left: what they may do is unchanged, so not said as a
    // demotion ("was viewer") to the channel; `role grant` of viewer answers so too (already_granted).
    if (previous === "viewer") return { status: "info", code: "already_viewer", text: t("role.revoke.viewer", { identity: args.identity }), visibility: "ephemeral" };
    // No longer a manager: digests queued for them by direct message (held by quiet hours) are withdrawn.
    await services.digest.withdrawDirect(args.identity);
    return { status: "ok", text: t("role.revoked", { identity: args.identity, previous: t(`role.name.${previous}`) }), visibility: "public" };
  },
});
