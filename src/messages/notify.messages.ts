/** Messages of the scheduled alert jobs: refund expiry, complaint alerts, daily digest, coupon schedule (see src/core/messages.ts). */
export const en = {
  "notify.refund.remind.title": "Refund request {id} has been waiting {hours} h for approval",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "notify.refund.remind.title": "退款申请 {id} 已等待审批 {hours} 小时",
};
