import { z } from "zod";
import { defineCommand } from "../src/core/command.js";

export default defineCommand({
  name: "alerts list",
  description: "cmd.alerts_list",
  args: z.object({}),
  examples: ["alerts list"],
  permission: "manager",
  mutates: false,
  async handler({ services, t, config }) {
    const routes = await services.alerts.list();
    const quiet = config.quietHours ? [t("alerts.quiet", { start: config.quietHours.start, end: config.quietHours.end, tz: config.timeZone })] : [];
    if (routes.length === 0) return { status: "warning", text: t("alerts.none"), ...(quiet.length ? { context: quiet } : {}), visibility: "ephemeral" };
    return {
      title: t("alerts.list.title"),
      status: "info",
      table: {
        columns: [t("alerts.col.type"), t("alerts.col.platform"), t("alerts.col.channel"), t("alerts.col.source")],
        rows: routes.map((r) => [r.type, r.platform, r.off ? `${r.channel} (${t("alerts.off")})` : r.channel, t(r.source === "admin" ? "alerts.source.admin" : "alerts.source.config")]),
      },
      ...(quiet.length ? { context: quiet } : {}),
      visibility: "ephemeral",
    };
  },
});
