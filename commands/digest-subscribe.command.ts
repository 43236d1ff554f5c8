import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { roleAtLeast } from "../src/core/roles.js";

export default defineCommand({
  name: "digest subscribe",
  description: "cmd.digest_subscribe",
  args: z.object({}),
  examples: ["digest subscribe"],
  permission: "manager",
  mutates: true,
  async handler({ services, actor, t, config }) {
    // The daily job sends only to stored managers: a manager by Discord role alone
    // (DISCORD_ROLE_MAP) would be subscribed and never get a message.
    if (!roleAtLeast(await services.identity.roleOf(actor.identity), "manager")) {
      return { status: "error", code: "role_not_stored", text: t("notify.digest.role_not_stored", { identity: actor.identity }), visibility: "ephemeral" };
    }
    const added = await services.digest.subscribe(actor.identity);
    if (!added) return { status: "info", code: "already_subscribed", text: t("notify.digest.already_subscribed"), visibility: "ephemeral" };
    return { status: "ok", text: t("notify.digest.subscribed", { time: config.digestCron, tz: config.timeZone }), visibility: "ephemeral" };
  },
});
