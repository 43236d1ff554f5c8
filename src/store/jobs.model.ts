import { Schema, type InferSchemaType } from "mongoose";

/**
 * One document per claimed job slot: `_id` is `<jobId>@<slot ISO>`, so
 * inserting it is the claim (E11000 = another instance has it). It is also
 * the run record: start, end, outcome, error.
 */
export const jobRunSchema = new Schema(
  {
    _id: { type: String, required: true },
    job: { type: String, required: true },
    slot: { type: Date, required: true },
    /**
     * running → ok | failed | timeout; lost when a holder vanished and a later slot superseded it.
     * failed | timeout → running again when retried (see `retryAt`).
     */
    status: { type: String, enum: ["running", "ok", "failed", "timeout", "lost"], required: true },
    /** Instance holding the claim. */
    holder: { type: String, required: true },
    /** 1 for the first holder, +1 per takeover; the finishing write checks it. */
    attempt: { type: Number, required: true, default: 1 },
    /** The claim expires then: another instance may take the slot over. */
    leaseUntil: { type: Date, required: true },
    catchUp: { type: Boolean, default: false },
    startedAt: { type: Date, required: true },
    endedAt: { type: Date },
    summary: { type: String },
    error: { type: String },
    /** A failed or timed-out run is tried again from then (by any instance), unless a later slot is due first. */
    retryAt: { type: Date },
    /** Attempts cut short by a clean shutdown: not the job's failures, so not counted against MAX_ATTEMPTS. */
    interruptions: { type: Number },
    /** Set when `error` is the scheduler's own text (timeout, shutdown), so `jobs` words it in its reader's language; `timeoutMs` with a timeout. */
    errorCode: { type: String, enum: ["timeout", "shutdown", "shutdown_before_start"] },
    timeoutMs: { type: Number },
    /** Why a run is not tried again (what `error` says after "not retried:"), and the error it had before, for `jobs` in its reader's language. */
    notRetried: { code: String, what: String, attempts: Number, day: String, cause: String },
    /** A timed-out run whose handler finished after all: when, and how (it stays `timeout`, counted once). */
    late: { status: String, at: Date, summary: String, error: String },
  },
  { versionKey: false },
);
jobRunSchema.index({ job: 1, slot: -1 });
jobRunSchema.index({ retryAt: 1 }, { sparse: true });
jobRunSchema.index({ status: 1, leaseUntil: 1 });

/** An admin's alert route: `_id` `<type>:<platform>`; overrides ALERT_ROUTES for that pair. */
export const alertRouteSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, required: true },
    platform: { type: String, required: true },
    /** Channel id, or "off" to silence the configured route. */
    channel: { type: String, required: true },
    setBy: { type: String, required: true },
    setAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * Low-stock alert state of one product (`_id` = sku). armed → alerted (one
 * alert per crossing) → armed again once stock recovers above the threshold
 * plus a margin; snoozed (snooze or PO placed) until `snoozedUntil`.
 */
export const stockAlertSchema = new Schema(
  {
    _id: { type: String, required: true },
    state: { type: String, enum: ["armed", "alerted", "snoozed"], required: true },
    /** How many times this product has crossed its threshold (alerts sent). */
    crossings: { type: Number, required: true, default: 0 },
    alertedAt: { type: Date },
    /** The job slot whose run alerted it: a takeover of that run re-sends the same batch. */
    alertSlot: { type: String },
    /** Set with `alerted`, cleared once its message is queued: a run that failed in between leaves it for a later scan to send. */
    unsent: { type: Boolean },
    /** When this crossing was announced as out of stock (urgent); cleared when the product re-arms. */
    outAt: { type: Date },
    /** Alerted as low while not out of stock: selling out later is announced once more (then cleared). */
    lowOnly: { type: Boolean },
    snoozedUntil: { type: Date },
    snoozedBy: { type: String },
    /** Snoozed (or PO placed) while well stocked: the scan's re-arm on recovery does not end this hold, as there was nothing to recover from. */
    heldAbove: { type: Boolean },
    recoveredAt: { type: Date },
    po: { eta: String, qty: Number, by: String, at: Date },
  },
  { versionKey: false },
);
stockAlertSchema.index({ state: 1 });
stockAlertSchema.index({ alertSlot: 1 });

export type JobRunDoc = InferSchemaType<typeof jobRunSchema> & { _id: string };
export type AlertRouteDoc = InferSchemaType<typeof alertRouteSchema> & { _id: string };
export type StockAlertDoc = InferSchemaType<typeof stockAlertSchema> & { _id: string };
