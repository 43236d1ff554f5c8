import { z } from "zod";
import { pastSinceToDate, since } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { shownStatus } from "../src/services/refund.view.js";

export default defineCommand({
  name: "refund list",
  description: "cmd.refund_list",
  positional: ["which"],
  usage: { en: "[pending|approvable|mine|all] [since=<YYYY-MM-DD|today|7d>]", zh: "[pending|approvable|mine|all] [since=<YYYY-MM-DD|今天|7天>]" },
  args: z.object({
    which: z.enum(["pending", "approvable", "mine", "all"], { error: "refund.list.bad_which" }).default("pending"),
    since: since.optional(),
  }),
  examples: ["refund list", "refund list approvable", { en: "refund list mine since=7d", zh: "refund list mine since=7天" }, "refund list all since=2026-11-01"],
  permission: "staff",
  mutates: false,
  async handler({ args, services, actor, t, fmt, now, config }) {
    const { items, total } = await services.refund.list({
      which: args.which,
      actor: actor.identity,
      role: actor.role,
      ...(args.since ? { since: pastSinceToDate(args.since, now, config.timeZone, t) } : {}),
    });
    if (total === 0) return { status: "info", text: t(`refund.list.empty.${args.which}`), visibility: "ephemeral" };
    return {
      title: t(`refund.list.title.${args.which}`, { count: total }),
      status: "info",
      table: {
        columns: [t("refund.col.id"), t("refund.col.order"), t("refund.col.amount"), t("refund.col.status"), t("refund.col.requester"), t("refund.col.when")],
        rows: items.map((r) => [r._id, r.orderNo, fmt.money(r.amount, r.currency), shownStatus(r, now, t), r.requester, fmt.dateTime(r.requestedAt)]),
        alignRight: [2],
      },
      ...(total > items.length ? { context: [t("refund.list.more", { shown: items.length, total })] } : {}),
      visibility: "ephemeral",
    };
  },
});
