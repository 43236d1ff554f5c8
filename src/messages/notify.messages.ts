/** Messages of the scheduled alert jobs: refund expiry, complaint alerts, daily digest, coupon schedule (see src/core/messages.ts). */
export const en = {
  "notify.refund.remind.title": "Refund request {id} has been waiting {hours} h for approval",
  "notify.complaint.posted": "New complaint {id} ({severity})",
  "notify.complaint.firstResponseWarn": "Complaint {id}: first response due {due} (80% of its SLA used)",
  "notify.complaint.resolutionWarn": "Complaint {id}: resolution due {due} (80% of its SLA used)",
  "notify.complaint.firstResponseBreach": "SLA breached: complaint {id} had no first response by {due}",
  "notify.complaint.resolutionBreach": "SLA breached: complaint {id} was not resolved by {due}",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "notify.refund.remind.title": "退款申请 {id} 已等待审批 {hours} 小时",
  "notify.complaint.posted": "新投诉 {id}（{severity}）",
  "notify.complaint.firstResponseWarn": "投诉 {id}：首次响应截止 {due}（SLA 已用 80%）",
  "notify.complaint.resolutionWarn": "投诉 {id}：解决截止 {due}（SLA 已用 80%）",
  "notify.complaint.firstResponseBreach": "SLA 违约：投诉 {id} 在 {due} 前未首次响应",
  "notify.complaint.resolutionBreach": "SLA 违约：投诉 {id} 在 {due} 前未解决",
};
