import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "apikey revoke",
  description: "cmd.apikey_revoke",
  positional: ["id"],
  // As `apikey list` shows it (k7M2Q9XH4RA), in any case, full-width characters too.
  args: z.object({ id: typedId(z.string().regex(/^k[0-9A-Z]{10}$/i, { error: "apikey.bad_id" })) }),
  examples: ["apikey revoke k7M2Q9XH4RA"],
  permission: "admin",
  mutates: true,
  async handler({ args, services, actor, t, subject }) {
    const id = `k${args.id.slice(1).toUpperCase()}`;
    subject(id);
    const r = await services.apiKeys.revoke(id, actor.identity);
    if (r === "not_found") return { status: "error", code: "unknown_key", text: t("apikey.revoke.unknown", { id }), visibility: "ephemeral" };
    if (r === "already") return { status: "info", code: "already_revoked", text: t("apikey.revoke.already", { id }), visibility: "ephemeral" };
    return { status: "ok", text: t("apikey.revoked", { id }), visibility: "public" };
  },
});
