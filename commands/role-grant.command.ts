import { z } from "zod";
import { identityArg, oneOf, zhChoiceNames } from "../src/core/args.js";
import { translator } from "../src/core/messages.js";
import { defineCommand, type Actor } from "../src/core/command.js";
import { roleAtLeast, ROLES } from "../src/core/roles.js";
import type { Services } from "../src/services/services.js";

const zh = translator("zh-CN");
/** 经理（manager）, read as oneOf reads what is typed (NFKC: full-width brackets become ASCII ones). */
const fullZhNames = Object.fromEntries(ROLES.map((r) => [zh(`role.name.${r}`).normalize("NFKC").toLowerCase(), r]));

/**
 * True when taking admin from `target` would demote the caller themselves: their own identity,
 * or an admin identity of theirs, the person at the terminal (`via`, the shell's --as, whom the
 * refund rules count as the caller too) or an identity linked with either. Another identity of
 * theirs that is no admin may be given its own role.
 */
export async function demotesSelf(target: string, actor: Actor, via: string | undefined, services: Services): Promise<boolean> {
  if (target === actor.identity) return true;
  const own = new Set([...(await services.identity.linked(actor.identity)), ...(via ? [via, ...(await services.identity.linked(via))] : [])]);
  return own.has(target) && (await services.identity.roleOf(target)) === "admin";
}

export default defineCommand({
  name: "role grant",
  description: "cmd.role_grant",
  positional: ["identity", "role"],
  args: z.object({
    identity: identityArg,
    // 经理 as Chinese teams say it, 经理（manager） as the replies write it, Manager in any case.
    role: oneOf(ROLES, "role.bad_role", { ...zhChoiceNames(ROLES, "role.name"), ...fullZhNames }, "role.bad_role.near"),
  }),
  examples: ["role grant slack:T0123:U0456 manager", "role grant shell:bob support"],
  permission: "admin",
  mutates: true,
  // The identity whose role it is, refused attempts too: `audit subject=shell:bob` shows who changed bob's role.
  typedSubject: { arg: "identity", spelling: (s) => s },
  async handler({ args, services, actor, via, t, subject }) {
    subject(args.identity);
    if (args.role !== "admin" && (await demotesSelf(args.identity, actor, via, services))) {
      // Refused for who the caller is: a denial on the audit trail.
      return { status: "error", code: "self_demote", text: t("role.self_demote"), visibility: "ephemeral", denied: true };
    }
    const r = await services.identity.grant(args.identity, args.role, actor.identity);
    if (r.kind === "bootstrap") return { status: "error", code: "bootstrap_admin", text: t(services.identity.isDemoAdmin(args.identity) ? "role.bootstrap.demo" : "role.bootstrap", { identity: args.identity }), visibility: "ephemeral" };
    if (r.kind === "busy") return { status: "error", code: "busy", text: t("role.busy"), visibility: "ephemeral" };
    if (r.kind === "last_admin") return { status: "error", code: "last_admin", text: t("role.last_admin", { identity: args.identity }), visibility: "ephemeral" };
    // The role it has already: nothing written, the grant keeps its grantor and time.
    if (r.kind === "unchanged") return { status: "info", code: "already_granted", text: t("role.grant.unchanged", { identity: args.identity, role: t(`role.name.${args.role}`) }), visibility: "ephemeral" };
    const previous = r.kind === "granted" ? r.previous : "viewer";
    // Below manager: digests queued for them by direct message (held by quiet hours) are withdrawn.
    if (!roleAtLeast(args.role, "manager")) await services.digest.withdrawDirect(args.identity);
    return { status: "ok", text: t("role.granted", { identity: args.identity, role: t(`role.name.${args.role}`), previous: t(`role.name.${previous}`) }), visibility: "public" };
  },
});

