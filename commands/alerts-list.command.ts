import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import type { Translate } from "../src/core/messages.js";
import type { ListedRoute } from "../src/services/alert.service.js";

/** The channel column: a configured channel an admin turned off as `ops (off)`; an admin's `off` where nothing is configured as `off`. */
function offText(r: ListedRoute, t: Translate): string {
  if (!r.off) return r.channel;
  return r.channel === "off" ? t("alerts.off") : `${r.channel} (${t("alerts.off")})`;
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
        rows: routes.map((r) => [r.type, r.platform, offText(r, t), t(r.source === "admin" ? "alerts.source.admin" : "alerts.source.config")]),
      },
      ...(quiet.length ? { context: quiet } : {}),
      visibility: "ephemeral",
    };
  },
});
