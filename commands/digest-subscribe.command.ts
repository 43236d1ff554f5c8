import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "digest subscribe",
  description: "cmd.digest_subscribe",
  args: z.object({}),
  examples: ["digest subscribe"],
  permission: "manager",
  mutates: true,
  async handler({ services, actor, t, config }) {
    const added = await services.digest.subscribe(actor.identity);
    if (!added) return { status: "info", code: "already_subscribed", text: t("notify.digest.already_subscribed"), visibility: "ephemeral" };
    return { status: "ok", text: t("notify.digest.subscribed", { time: config.digestCron, tz: config.timeZone }), visibility: "ephemeral" };
  },
});
