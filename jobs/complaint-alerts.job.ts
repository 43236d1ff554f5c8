import { complaintCard, severityName } from "../commands/complaint.view.js";
import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { complaintAlertKey } from "../src/services/complaint.service.js";

/** Share of an SLA's span after which the assignee (or the support channel) is reminded. */
const WARN_PCT = 80;
/** New complaints older than this when first seen (bot down, first deployment) are not posted. */
const POST_WINDOW_MS = 24 * 3_600_000;

/**
 * Complaints, every minute (COMPLAINT_ALERTS_CRON): a new complaint is posted to the
 * `complaints` route with Claim; at 80% of a running SLA clock the assignee gets a DM (the
 * `complaints` route when nobody claimed it); at breach the `sla` route gets an urgent
 * escalation. Quiet hours hold posts and warnings, direct ones too, except for urgent
 * complaints; a warning they would hold past its due time is dropped for the breach alert. Each alert is queued under a key per complaint and alert, then recorded on the
 * complaint (`alerted.<kind>`, guarded), so it is sent once per complaint state. Reopening a
 * complaint restarts its resolution clock and clears its resolution alerts: they come again, once,
 * under keys of their own (`…:reopen<n>`).
 */
export default defineJob({
  id: "complaint-alerts",
  description: "Post new complaints, remind at 80% of an SLA, escalate breaches (once each)",
  schedule: (config) => config.complaintAlertsCron,
  timeout: 60_000,
  async handler({ services, clock, config }) {
    const now = clock.now();
    const t = translator(config.locale);
    const fmt = new Formatter(config.locale, config.timeZone, config.currency);
    const due = await services.complaints.alertsDue(now, { postSince: new Date(now.getTime() - POST_WINDOW_MS), warnPct: WARN_PCT });
    const send = services.alerts.sender();
    const quietUntil = services.alerts.quietUntil(now);
    let sent = 0;
    for (const { complaint: c, kind, skip } of due) {
      const dueAt = kind.startsWith("firstResponse") ? c.firstResponseDueAt : c.resolutionDueAt;
      const urgent = c.severity === "urgent";
      // A warning that quiet hours would hold past its clock's due time would arrive after the
      // breach alert (urgent, sent at once): it is recorded without a message, like a warning
      // the breach overtook.
      const moot = kind.endsWith("Warn") && !urgent && quietUntil !== null && quietUntil >= dueAt;
      if (!skip && !moot) {
        const title = t(`notify.complaint.${kind}`, { id: c._id, severity: severityName(c.severity, t), due: fmt.dateTime(dueAt) });
        const reply: Reply = { ...complaintCard(c, services, { t, fmt, now }), title, visibility: "public" };
        // Per round: a reopened complaint's alerts are keyed apart from its first ones.
        const key = complaintAlertKey(c, kind);
        if (kind === "posted") await send({ type: "complaints", key, reply, urgent });
        else if (kind.endsWith("Breach")) await send({ type: "sla", key, reply: { ...reply, status: "critical" }, urgent: true });
        else if (c.assignee) await services.alerts.direct({ key: `${key}:${c.assignee}`, identity: c.assignee, reply: { ...reply, status: "warning" }, kind: "complaints", urgent });
        else await send({ type: "complaints", key, reply: { ...reply, status: "warning" }, urgent });
      }
      if ((await services.complaints.markAlerted(c._id, kind, now)) && !skip && !moot) sent++;
    }
    return `${sent} alerts`;
  },
});
