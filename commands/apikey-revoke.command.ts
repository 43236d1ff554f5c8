import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";

/** A key id as stored (kH1JAVKD7ZE), however typed; anything else as typed. */
const keyId = (s: string) => (/^k[0-9A-Z]{10}$/i.test(s) ? `k${s.slice(1).toUpperCase()}` : s);

export default defineCommand({
  name: "apikey revoke",
  description: "cmd.apikey_revoke",
  positional: ["id"],
  // As `apikey list` shows it (k7M2Q9XH4RA), in any case, full-width characters too.
  args: z.object({ id: typedId(z.string().regex(/^k[0-9A-Z]{10}$/i, { error: "apikey.bad_id" })) }),
  examples: ["apikey revoke k7M2Q9XH4RA"],
  permission: "admin",
  mutates: true,
  // A refusal (not an admin, a malformed id) names the key typed, so `audit subject=<key id>` finds it.
  typedSubject: { arg: "id", spelling: keyId },
  async handler({ args, services, actor, t, fmt, subject }) {
    const id = keyId(args.id);
    subject(id);
    const r = await services.apiKeys.revoke(id, actor.identity);
    if (r === "not_found") return { status: "error", code: "unknown_key", text: t("apikey.revoke.unknown", { id }), visibility: "ephemeral" };
    if (r !== "revoked") {
      // Who revoked it and when, as `apikey list` shows: a second revoke is often a second admin's.
      const text = r.revokedAt && r.revokedBy ? t("apikey.revoke.already_by", { id, at: fmt.dateTime(r.revokedAt), by: r.revokedBy }) : t("apikey.revoke.already", { id });
      return { status: "info", code: "already_revoked", text, visibility: "ephemeral" };
    }
    return { status: "ok", text: t("apikey.revoked", { id }), visibility: "public" };
  },
});
