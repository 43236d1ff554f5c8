import { z } from "zod";
import { pageArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { clip } from "../src/core/reply.js";
import type { ComplaintList } from "../src/services/complaint.service.js";
import type { MessageKey } from "../src/core/messages.js";
import { complaintStatus, formatDuration, listArg, severityName } from "./complaint.view.js";

const PAGE_SIZE = 10;

export default defineCommand({
  name: "complaint list",
  description: "cmd.complaint_list",
  positional: ["which"],
  usage: { en: "[open|mine|overdue|unassigned] [page=<n>]", zh: "[未结|我的|已超时|未分配] [page=<页码>]" },
  args: z.object({
    which: listArg.default("open"),
    page: pageArg,
  }),
  examples: [
    "complaint list",
    { en: "complaint list mine", zh: "complaint list 我的" },
    { en: "complaint list overdue", zh: "complaint list 已超时" },
    { en: "complaint list unassigned page=2", zh: "complaint list 未分配 page=2" },
  ],
  permission: "support",
  mutates: false,
  async handler({ args, services, actor, t, now }) {
    const which: ComplaintList = args.which;
    const { complaints, total } = await services.complaints.list(which, actor.identity, args.page, PAGE_SIZE);
    if (total === 0) return { status: "info", text: t(`complaint.list.empty.${which}` as MessageKey), visibility: "ephemeral" };
    const pages = Math.ceil(total / PAGE_SIZE);
    if (complaints.length === 0) {
      // How to reach the last page (by the list's English name, which every locale takes).
      const last = `complaint list ${which}${pages > 1 ? ` page=${pages}` : ""}`;
      return { status: "error", code: "page_out_of_range", text: t("complaint.list.beyond", { page: args.page, pages, total, command: last }), visibility: "ephemeral" };
    }
    const rows = complaints.map((c) => {
      const sla = services.complaints.sla(c, now);
      // The next running clock: first response while nobody has answered, then resolution.
      const [key, clock] = sla.firstResponse.state === "running" || sla.firstResponse.state === "overdue"
        ? (["complaint.due.first", sla.firstResponse] as const)
        : (["complaint.due.resolution", sla.resolution] as const);
      const left = clock.leftMs ?? 0;
      // The clock's own state (overdue strictly after the due time), as the card and the overdue list say.
      const value = clock.state === "overdue" ? t("complaint.due.over", { over: formatDuration(left, t) }) : t("complaint.due.in", { left: formatDuration(left, t, "left") });
      return [
        c._id,
        severityName(c.severity, t),
        complaintStatus(c, t),
        c.assignee ?? "—",
        t(key, { value }),
        clip(c.text, 40),
      ];
    });
    const context = [t("complaint.list.page", { page: args.page, pages })];
    if (args.page < pages) context.push(t("complaint.list.next", { command: `complaint list ${which} page=${args.page + 1}` }));
    return {
      title: t(`complaint.list.${which}` as MessageKey, { total }),
      status: which === "overdue" ? "warning" : "info",
      table: {
        columns: [t("complaint.col.id"), t("complaint.col.severity"), t("complaint.col.status"), t("complaint.col.assignee"), t("complaint.col.due"), t("complaint.col.text")],
        rows,
      },
      context,
      visibility: "ephemeral",
    };
  },
});
