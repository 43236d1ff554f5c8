import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "apikey list",
  description: "cmd.apikey_list",
  args: z.object({}),
  examples: ["apikey list"],
  permission: "admin",
  mutates: false,
  async handler({ services, t, fmt }) {
    const keys = await services.apiKeys.list();
    if (!keys.length) return { status: "info", text: t("apikey.list.empty"), visibility: "ephemeral" };
    return {
      title: t("apikey.list.title"),
      table: {
        columns: [t("apikey.col.id"), t("apikey.col.label"), t("apikey.col.scopes"), t("apikey.col.created"), t("apikey.col.last_used"), t("apikey.col.status")],
        rows: keys.map((k) => [
          k.id,
          k.label,
          k.scopes.join(","),
          `${fmt.dateTime(k.createdAt)} ${k.createdBy}`,
          k.lastUsedAt ? fmt.dateTime(k.lastUsedAt) : t("apikey.never"),
          // Who revoked it, as the created column names who made it.
          k.revokedAt ? (k.revokedBy ? t("apikey.status.revoked_by", { at: fmt.dateTime(k.revokedAt), by: k.revokedBy }) : t("apikey.status.revoked", { at: fmt.dateTime(k.revokedAt) })) : t("apikey.status.active"),
        ]),
      },
      status: "info",
      visibility: "ephemeral",
    };
  },
});
