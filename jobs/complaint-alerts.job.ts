import { escalationAlert } from "../commands/complaint-escalate.command.js";
import { complaintCard, severityName } from "../commands/complaint.view.js";
import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import type { Reply } from "../src/core/reply.js";
import { roleAtLeast } from "../src/core/roles.js";
import { complaintAlertKey, complaintEscalationKey } from "../src/services/complaint.service.js";

/** Share of an SLA's span after which the assignee (or the support channel) is reminded. */
const WARN_PCT = 80;
/** New complaints older than this when first seen (bot down, first deployment) are not posted. */
const POST_WINDOW_MS = 24 * 3_600_000;

/**
 * Complaints, every minute (COMPLAINT_ALERTS_CRON): a new complaint is posted to the
 * `complaints` route with Claim; at 80% of a running SLA clock the assignee gets a DM (the
 * `complaints` route when nobody claimed it, or when its assignee has no support role granted:
 * revoked, or only through Discord server roles, which a job cannot see). An escalated complaint
 * nobody holds is posted and reminded to the `sla` route instead (only a manager may take it);
 * one resolved before it was posted is not posted when reopened, and one escalated before it was
 * posted is not posted at all (the managers' escalation alert, the card, was its post). At breach the `sla` route gets
 * an urgent escalation. During quiet hours posts and warnings of
 * non-urgent complaints are not queued at all (nor recorded): the first run after them sends those
 * still due, from the complaint as it then is (claimed, resolved or breached meanwhile), instead of
 * a card held since the night. Each alert is queued under a key per complaint and alert, then recorded on the
 * complaint (`alerted.<kind>`, guarded by the clock's due time as read), so it is sent once per complaint state. Reopening a
 * complaint restarts its resolution clock and clears its resolution alerts: they come again, once,
 * under keys of their own (`…:reopen<n>`). An escalation whose managers' alert `complaint escalate`
 * could not queue (recorded as `alerted.escalated` once queued) is queued here under the same key
 * (`…:escalated:<n>`), with its reason; moot (a manager holds it already, or escalated more than a
 * day before it was first seen) it is recorded without a message.
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
    const postSince = new Date(now.getTime() - POST_WINDOW_MS);
    const due = await services.complaints.alertsDue(now, { postSince, warnPct: WARN_PCT });
    const send = services.alerts.sender();
    // Quiet hours as the alert service computes them (it would hold these until they end).
    const quiet = services.alerts.quietUntil(now) !== null;
    // Reminders go by DM only to assignees who may still work complaints (they carry customer
    // details); one read of the role bindings per run.
    const assignees = [...new Set(due.flatMap(({ complaint: c, kind }) => (kind.endsWith("Warn") && c.assignee ? [c.assignee] : [])))];
    const roles = assignees.length ? await services.identity.rolesOf(assignees) : new Map<string, never>();
    let sent = 0;
    for (const { complaint: c, kind, skip } of due) {
      const dueAt = kind.startsWith("firstResponse") ? c.firstResponseDueAt : c.resolutionDueAt;
      const urgent = c.severity === "urgent";
      // Held by quiet hours, a post or warning would be delivered when they end as the card was
      // now, even if the complaint was claimed or resolved meanwhile: left unqueued and unrecorded,
      // the first run after quiet hours decides again (a clock run out by then: the breach says it).
      if (quiet && !urgent && !skip && !kind.endsWith("Breach")) continue;
      if (!skip) {
        const title = t(`notify.complaint.${kind}`, { id: c._id, severity: severityName(c.severity, t), due: fmt.dateTime(dueAt) });
        const reply: Reply = { ...complaintCard(c, services, { t, fmt, now }), title, visibility: "public" };
        // Per round: a reopened complaint's alerts are keyed apart from its first ones.
        const key = complaintAlertKey(c, kind);
        // Escalated and nobody on it who may work it: only a manager may claim or resolve it, so
        // its post and reminders go to the managers' route, not to support (who would be refused).
        const queue = c.status === "escalated" ? "sla" : "complaints";
        if (kind === "posted") await send({ type: c.assignee ? "complaints" : queue, key, reply, urgent });
        else if (kind.endsWith("Breach")) await send({ type: "sla", key, reply: { ...reply, status: "critical" }, urgent: true });
        else if (c.assignee && roleAtLeast(roles.get(c.assignee) ?? "viewer", "support")) {
          await services.alerts.direct({ key: `${key}:${c.assignee}`, identity: c.assignee, reply: { ...reply, status: "warning" }, kind: "complaints", urgent });
        } else {
          // Nobody on it, or an assignee who lost the support role (`role revoke`): the support
          // channel, or the managers' when it is escalated.
          const context = c.assignee ? [t("notify.complaint.assignee_no_role", { assignee: c.assignee, id: c._id })] : [];
          await send({ type: queue, key, reply: { ...reply, status: "warning", ...(context.length ? { context: [...(reply.context ?? []), ...context] } : {}) }, urgent });
        }
      }
      // Guarded by the due time read: a clock restarted meanwhile (reopened) keeps its new round's alert.
      if ((await services.complaints.markAlerted(c._id, kind, now, kind === "posted" ? undefined : dueAt)) && !skip) sent++;
    }
    // The managers' alert of an escalation that `complaint escalate` could not queue (it sends at
    // once, then records it): the same alert under the same key, so one the command did queue is
    // not queued twice. Held by quiet hours like a post: decided after them, from the complaint as it is.
    for (const c of await services.complaints.escalationAlertsDue()) {
      const esc = [...(c.history ?? [])].reverse().find((h) => h.action === "escalate");
      const urgent = c.severity === "urgent";
      // Moot: claimed (or reopened with its resolver) meanwhile, escalated without an entry (an
      // import), or news from more than a day ago.
      const skip = !esc || !!c.assignee || (esc.at ?? c.createdAt) < postSince;
      if (quiet && !urgent && !skip) continue;
      if (esc && !skip) await send({ type: "sla", key: complaintEscalationKey(c), reply: escalationAlert(c, esc.by ?? "", esc.note ?? "", services, { t, fmt, now }), urgent });
      if ((await services.complaints.markEscalationAlerted(c, now)) && !skip) sent++;
    }
    return `${sent} alerts`;
  },
});
