import { z } from "zod";
import { pageArg } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { clip } from "../src/core/reply.js";
import type { ComplaintList } from "../src/services/complaint.service.js";
import type { MessageKey } from "../src/core/messages.js";
import { complaintStatus, formatDuration, listArg, severityName, slaText } from "./complaint.view.js";

const PAGE_SIZE = 10;

export default defineCommand({
  name: "complaint list",
  description: "cmd.complaint_list",
  // The first list a choice (Discord offers them), more after it in any order: all at once.
  positional: ["which", "...and"],
  usage: { en: "[open|mine|overdue|unassigned|escalated|resolved|all …] [page=<n>]", zh: "[未结|我的|已超时|未分配|已升级|已解决|全部 …] [page=<页码>]" },
  args: z.object({
    which: listArg.default("open"),
    and: z.string().optional(),
    page: pageArg,
  }),
  examples: [
    "complaint list",
    { en: "complaint list mine", zh: "complaint list 我的" },
    { en: "complaint list overdue", zh: "complaint list 已超时" },
    { en: "complaint list mine overdue", zh: "complaint list 我的 已超时" },
    { en: "complaint list unassigned page=2", zh: "complaint list 未分配 page=2" },
    { en: "complaint list resolved", zh: "complaint list 已解决" },
  ],
  permission: "support",
  mutates: false,
  async handler({ args, services, actor, t, fmt, now }) {
    // Every list given, by its English name, once each, in the order typed (`mine overdue`).
    const typed: ComplaintList[] = [args.which];
    for (const word of (args.and ?? "").split(/\s+/).filter(Boolean)) {
      const r = listArg.safeParse(word);
      if (!r.success) throw new UserError("invalid_args", `${t("error.invalid_args", { command: "complaint list" })}\n• ${t("complaint.bad_list", { value: word })}`);
      if (!typed.includes(r.data)) typed.push(r.data);
    }
    const lists = new Set(typed);
    // Nothing is both (one of yours has someone on it: you): said so, with the line for each.
    if (lists.has("mine") && lists.has("unassigned")) {
      const others = typed.filter((w) => w !== "mine" && w !== "unassigned" && w !== "open");
      const line = (w: ComplaintList) => ["complaint list", w, ...others].join(" ");
      throw new UserError("contradictory_lists", t("complaint.list.contradiction", { mine: line("mine"), unassigned: line("unassigned") }));
    }
    // Resolved ones are not open: with a list of open ones, nothing is both.
    const openWord = typed.find((w) => w === "open" || w === "overdue" || w === "unassigned" || w === "escalated");
    if (lists.has("resolved") && openWord) {
      throw new UserError("contradictory_lists", t("complaint.list.contradiction_resolved", { word: openWord, open: `complaint list ${typed.filter((w) => w !== "resolved").join(" ")}`, resolved: `complaint list ${typed.filter((w) => w === "mine" || w === "resolved").join(" ")}` }));
    }
    // `open` with others adds nothing to the title, nor `all` with a list of open ones or `resolved`.
    const named = (["mine", "escalated", "overdue", "unassigned", "resolved"] as const).filter((w) => lists.has(w));
    if (lists.has("all") && named.every((w) => w === "mine")) named.push("all" as never);
    const which = named.length ? named.join("_") : "open";
    const all = typed.join(" ");
    const { complaints, total } = await services.complaints.list(typed, actor.identity, args.page, PAGE_SIZE);
    if (total === 0) return { status: "info", text: t(`complaint.list.empty.${which}` as MessageKey), visibility: "ephemeral" };
    const pages = Math.ceil(total / PAGE_SIZE);
    if (complaints.length === 0) {
      // How to reach the last page (by the lists' English names, which every locale takes).
      const last = `complaint list ${all}${pages > 1 ? ` page=${pages}` : ""}`;
      return { status: "error", code: "page_out_of_range", text: t("complaint.list.beyond", { page: args.page, pages, total, command: last }), visibility: "ephemeral" };
    }
    const rows = complaints.map((c) => {
      const sla = services.complaints.sla(c, now);
      // Closed: when, and whether on time (the card's resolution line).
      if (c.status === "resolved") return [c._id, severityName(c.severity, t), complaintStatus(c, t), c.assignee ?? "—", slaText(sla.resolution, { t, fmt }), clip(c.text, 40)];
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
    const order = lists.has("resolved") ? "complaint.list.page_resolved" : which.endsWith("all") ? "complaint.list.page_all" : "complaint.list.page";
    const context = [t(order, { page: args.page, pages })];
    if (args.page < pages) context.push(t("complaint.list.next", { command: `complaint list ${all} page=${args.page + 1}` }));
    return {
      title: t(`complaint.list.${which}` as MessageKey, { total }),
      status: lists.has("overdue") ? "warning" : "info",
      table: {
        columns: [t("complaint.col.id"), t("complaint.col.severity"), t("complaint.col.status"), t("complaint.col.assignee"), t(lists.has("resolved") ? "complaint.col.resolved" : "complaint.col.due"), t("complaint.col.text")],
        rows,
      },
      context,
      visibility: "ephemeral",
    };
  },
});
