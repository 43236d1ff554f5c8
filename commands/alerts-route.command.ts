import { z } from "zod";
import { ALERT_PLATFORMS, ALERT_TYPES, channelFits, routeChannel, SLACK_CHANNEL_ID } from "../src/config.js";
import { oneOf } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import type { Translate } from "../src/core/messages.js";
import type { RouteChange } from "../src/services/alert.service.js";

/** The change for its audit entry, which the typed arguments do not show: the channels before → after (`off` for none). */
function fromTo(previous: readonly string[], now: readonly string[]): string {
  const side = (cs: readonly string[]) => (cs.length ? cs.join(",") : "off");
  return `${side(previous)} → ${side(now)}`;
}

/** What became of the alerts still waiting for the old channel(s), appended to the reply: said, so nobody looks for them there. */
function followed(change: RouteChange, to: string, t: Translate): string {
  const channels = change.channels.join(", ");
  let text = "";
  if (change.withdrawn) text += " " + t("alerts.route_withdrawn", { count: change.withdrawn, channels });
  if (change.moved) text += " " + t("alerts.route_moved", { count: change.moved, channels, channel: to });
  return text;
}

/**
 * The channel as alerts are sent to it: a Slack id in upper case (Slack's own; `c0123abcd` matches
 * no channel, so its alerts would retry until they give up), else as given; null for something
 * that is not a Slack channel id (a `#name` or a bare name, `dev2` too: renamed channels keep
 * their id, and an image upload takes the id only).
 */
function channelOn(platform: string, channel: string): string | null {
  if (platform !== "slack" || channel === "off") return channel;
  return SLACK_CHANNEL_ID.test(channel) ? routeChannel(platform, channel) : null;
}

export default defineCommand({
  name: "alerts route",
  description: "cmd.alerts_route",
  positional: ["type", "platform", "channel"],
  usage: { en: "<type> <platform> <channel|off|default>", zh: "<类型> <平台> <频道|off|default>" },
  args: z.object({
    // In any case or width, as every choice is read (`Slack`, `LOW_STOCK`, `low-stock`); a typo
    // (`low_stok`, `slak`) is refused naming the one meant.
    type: oneOf(ALERT_TYPES, "alerts.bad_type", {}, "alerts.bad_type.near"),
    platform: oneOf(ALERT_PLATFORMS, "alerts.bad_platform", {}, "alerts.bad_platform.near"),
    // `off` in any case turns the route off (`OFF` was taken for a channel of that name), and
    // `default` in any case drops the admin's route: the configuration applies again.
    // A channel picked in a Slack message (`@shopops … #ops`) arrives as Slack's markup, `<#C0123ABCD|ops>`: its id is the channel.
    channel: z
      .string()
      .transform((c) => /^<#([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(c)?.[1] ?? c)
      .pipe(z.string().regex(/^[A-Za-z0-9_.#-]{1,80}$/, { error: "alerts.bad_channel" }))
      .transform((c) => (["off", "default"].includes(c.toLowerCase()) ? c.toLowerCase() : c)),
  }),
  examples: ["alerts route low_stock slack C0123ABCD", "alerts route digest discord 123456789012345678", "alerts route low_stock shell off", "alerts route low_stock shell default"],
  permission: "admin",
  mutates: true,
  async handler({ args, services, actor, t }) {
    const where = { type: args.type, platform: args.platform };
    if (args.channel === "default") {
      const r = await services.alerts.resetRoute(where);
      const channels = r.configured.join(t("text.list_sep"));
      const none = r.configured.length === 0;
      if (r.unchanged) return { status: "info", code: "already_default", text: t(none ? "alerts.default_already_none" : "alerts.default_already", { ...where, channels }), visibility: "ephemeral" };
      const idle = services.alerts.idleWarning(r.configured.map((channel) => ({ ...where, channel })), t);
      const done = t(none ? "alerts.default_none" : "alerts.default", { ...where, channels }) + followed(r, channels, t);
      return { status: "ok", text: idle ? `${done}\n${idle}` : done, visibility: "public", auditDetail: fromTo(r.previous, r.configured) };
    }
    // Checked before anything is stored: a route every alert would die on is refused.
    if (!channelFits(args.platform, args.channel)) return { status: "error", code: "bad_channel", text: t("alerts.bad_discord_channel", { value: args.channel }), visibility: "ephemeral" };
    const channel = channelOn(args.platform, args.channel);
    if (channel === null) return { status: "error", code: "bad_channel", text: t("alerts.bad_slack_channel", { value: args.channel }), visibility: "ephemeral" };
    const change = await services.alerts.setRoute({ ...where, channel, by: actor.identity });
    const off = channel === "off";
    // Set all the same, but said now (as at start-up): alerts to a platform this process does not run wait undelivered.
    const idle = off ? null : services.alerts.idleWarning([{ ...where, channel }], t);
    if (change.unchanged) {
      const by = change.unchanged.by;
      const key = off ? (by ? "alerts.already_off.admin" : "alerts.already_off.none") : by ? "alerts.already_routed.admin" : "alerts.already_routed.config";
      const text = t(key, { ...where, channel, by: by ?? "" });
      return { status: "info", code: "already_routed", text: idle ? `${text}\n${idle}` : text, visibility: "ephemeral" };
    }
    const done = (off ? t("alerts.silenced", where) : t("alerts.routed", { ...where, channel })) + followed(change, channel, t);
    return {
      status: "ok",
      text: idle ? `${done}\n${idle}` : done,
      visibility: "public",
      auditDetail: fromTo(change.previous, off ? [] : [channel]),
    };
  },
});
