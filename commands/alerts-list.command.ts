import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import type { Formatter } from "../src/core/format.js";
import type { Translate } from "../src/core/messages.js";
import type { ListedRoute } from "../src/services/alert.service.js";

/** The channel column: a configured channel an admin turned off as `ops (off)`; an admin's `off` where nothing is configured as `off`. */
function offText(r: ListedRoute, t: Translate): string {
  if (!r.off) return r.channel;
  return r.channel === "off" ? t("alerts.off") : `${r.channel} (${t("alerts.off")})`;
}

/** The "Set by" column: the configuration, or the admin who stored the route and when (both are stored with it). */
function sourceText(r: ListedRoute, t: Translate, fmt: Formatter): string {
  if (r.source !== "admin") return t("alerts.source.config");
  return r.setBy && r.setAt ? t("alerts.source.admin_by", { by: r.setBy, at: fmt.dateTime(r.setAt) }) : t("alerts.source.admin");
}

export default defineCommand({
  name: "alerts list",
  description: "cmd.alerts_list",
  args: z.object({}),
  examples: ["alerts list"],
  permission: "manager",
  mutates: false,
  async handler({ services, t, config, fmt }) {
    const [routes, stuck] = await Promise.all([services.alerts.list(), services.outbox.undelivered()]);
    const quiet = config.quietHours ? [t("alerts.quiet", { start: config.quietHours.start, end: config.quietHours.end, tz: config.timeZone })] : [];
    // Messages that are not getting through, so nobody has to read the logs to find out.
    const fields = stuck.dead + stuck.late
      ? [
          {
            label: t("alerts.undelivered", { dead: stuck.dead, late: stuck.late }),
            value: stuck.newest
              .map((m) => {
                const d = m.dest as { identity?: string; channel?: string };
                return t("alerts.undelivered.line", { at: fmt.dateTime(m.createdAt), kind: m.kind, platform: m.platform, dest: d.channel ?? d.identity ?? "?", status: t(m.status === "dead" ? "alerts.status.dead" : "alerts.status.pending"), error: m.lastError ?? "—" });
              })
              .join("\n"),
            plain: true,
          },
        ]
      : [];
    if (routes.length === 0) return { status: "warning", text: t("alerts.none"), ...(fields.length ? { fields } : {}), ...(quiet.length ? { context: quiet } : {}), visibility: "ephemeral" };
    return {
      title: t("alerts.list.title"),
      status: stuck.dead + stuck.late ? "warning" : "info",
      ...(fields.length ? { fields } : {}),
      table: {
        columns: [t("alerts.col.type"), t("alerts.col.platform"), t("alerts.col.channel"), t("alerts.col.source")],
        rows: routes.map((r) => [r.type, r.platform, offText(r, t), sourceText(r, t, fmt)]),
      },
      ...(quiet.length ? { context: quiet } : {}),
      visibility: "ephemeral",
    };
  },
});
