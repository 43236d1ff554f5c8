import { z } from "zod";
import { ALERT_PLATFORMS, ALERT_TYPES, channelFits } from "../src/config.js";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "alerts route",
  description: "cmd.alerts_route",
  positional: ["type", "platform", "channel"],
  args: z.object({
    type: z.enum(ALERT_TYPES, { error: "alerts.bad_type" }),
    platform: z.enum(ALERT_PLATFORMS, { error: "alerts.bad_platform" }),
    // `off` in any case turns the route off (`OFF` was taken for a channel of that name).
    channel: z.string().regex(/^[A-Za-z0-9_.#-]{1,80}$/, { error: "alerts.bad_channel" }).transform((c) => (c.toLowerCase() === "off" ? "off" : c)),
  }),
  examples: ["alerts route low_stock slack C0123ABCD", "alerts route digest discord 123456789012345678", "alerts route low_stock shell off"],
  permission: "admin",
  mutates: true,
  async handler({ args, services, actor, t }) {
    // Checked before anything is stored: a route every alert would die on is refused.
    if (!channelFits(args.platform, args.channel)) return { status: "error", code: "bad_channel", text: t("alerts.bad_discord_channel", { value: args.channel }), visibility: "ephemeral" };
    const change = await services.alerts.setRoute({ type: args.type, platform: args.platform, channel: args.channel, by: actor.identity });
    const off = args.channel === "off";
    let done = off ? t("alerts.silenced", { type: args.type, platform: args.platform }) : t("alerts.routed", { type: args.type, platform: args.platform, channel: args.channel });
    // Alerts that were still waiting for the old channel follow the change: said, so nobody looks for them there.
    const channels = change.channels.join(", ");
    if (change.withdrawn) done += " " + t("alerts.route_withdrawn", { count: change.withdrawn, channels });
    if (change.moved) done += " " + t("alerts.route_moved", { count: change.moved, channels, channel: args.channel });
    // Set all the same, but said now (as at start-up): alerts to a platform this process does not run wait undelivered.
    const idle = off ? null : services.alerts.idleWarning([{ type: args.type, platform: args.platform, channel: args.channel }], t);
    return {
      status: "ok",
      text: idle ? `${done}\n${idle}` : done,
      visibility: "public",
    };
  },
});
