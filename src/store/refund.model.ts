import { Schema, type InferSchemaType } from "mongoose";

/**
 * Refund request statuses.
 * - pending: waiting for approval (a two-manager request stays pending after its first approval);
 * - approved: decided; the refund is executed on the order once (`executedAt` set after);
 * - rejected, expired: decided, nothing moves;
 * - failed: approved, but the order could no longer take the refund (balance or status changed).
 */
export const REFUND_STATUSES = ["pending", "approved", "rejected", "expired", "failed"] as const;

export const refundRequestSchema = new Schema(
  {
    /** `R-` + short id. */
    _id: { type: String, required: true },
    orderNo: { type: String, required: true },
    customerId: { type: String, required: true },
    /** Minor units of `currency` (the order's). */
    amount: { type: Number, required: true },
    currency: { type: String, required: true },
    /** True when asked as `full` (the whole refundable balance at request time). */
    full: { type: Boolean, default: false },
    /** With `full`: the order's total when less than it was left (refunded, or asked in other requests): the card says this is the rest of it. */
    restOf: { type: Number },
    reason: { type: String, required: true },
    requester: { type: String, required: true },
    /** The person really typing when the request was made as `requester`: the shell's `--as`, or the person running the bulk import (`import:<file>`). Four eyes counts them too. */
    requestedVia: { type: String },
    requestedAt: { type: Date, required: true },
    /** Pending requests expire at this instant (policy at request time). */
    expiresAt: { type: Date, required: true },
    /** Approvals needed: 1, or 2 (different managers) above the top threshold. */
    requiredApprovals: { type: Number, required: true },
    /** Number of approvals so far: the guard of the approval steps (0 → 1 → 2). */
    approvalCount: { type: Number, required: true, default: 0 },
    approvals: {
      // `via`: the person really typing when approving as `by` (the shell's `--as`).
      type: [new Schema({ by: String, via: String, role: String, at: Date, note: String }, { _id: false })],
      default: [],
    },
    status: { type: String, enum: REFUND_STATUSES, required: true },
    decidedBy: { type: String },
    /**
     * Who typed the deciding approval: the person at the terminal acting as `decidedBy` (the
     * shell's `--as`), else `decidedBy` itself. Kept because a first approver's confirmation after
     * a policy change adds no approval to read it from; the `refund execute` entry names it.
     */
    decidedVia: { type: String },
    decidedAt: { type: Date },
    rejectReason: { type: String },
    /** Set once the order holds this refund (after `approved`): unset means "execution to finish". */
    executedAt: { type: Date },
    failReason: { type: String },
    /**
     * "pending" from the update that rejects, expires or fails a request until the requester's
     * notice is queued: a crash in between is finished by the refund-expiry job's repair.
     */
    notice: { type: String },
    /** Set once the approvers were reminded of this pending request (refund-expiry job): one reminder per request. */
    remindedAt: { type: Date },
  },
  { versionKey: false },
);
refundRequestSchema.index({ status: 1, expiresAt: 1 });
refundRequestSchema.index({ orderNo: 1 });
/** Requests that may still become refunds: pending and not expired, or approved and not executed. */
export function openRequests(now: Date): Record<string, unknown> {
  return { $or: [{ status: "pending", expiresAt: { $gt: now } }, { status: "approved", executedAt: { $exists: false } }] };
}

// The repair's `notice: "pending"` read: the mark lives only until the notice is queued.
refundRequestSchema.index({ notice: 1 }, { sparse: true });
refundRequestSchema.index({ requester: 1, requestedAt: -1 });

export type RefundRequestDoc = InferSchemaType<typeof refundRequestSchema> & { _id: string };
