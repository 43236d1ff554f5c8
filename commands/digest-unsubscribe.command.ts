import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "digest unsubscribe",
  description: "cmd.digest_unsubscribe",
  args: z.object({}),
  examples: ["digest unsubscribe"],
  // Anyone may stop their own direct messages: a manager demoted since subscribing too (the
  // job no longer sends to them, but they should not be told they need the manager role).
  permission: "viewer",
  mutates: true,
  async handler({ services, actor, t }) {
    const removed = await services.digest.unsubscribe(actor.identity);
    if (!removed) return { status: "info", code: "not_subscribed", text: t("notify.digest.not_subscribed"), visibility: "ephemeral" };
    return { status: "ok", text: t("notify.digest.unsubscribed"), visibility: "ephemeral" };
  },
});
