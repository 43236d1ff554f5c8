import { Schema, type InferSchemaType } from "mongoose";

/** Stored coupon statuses; "scheduled" and time-based expiry are derived from the dates. */
export const COUPON_STATUSES = ["active", "paused", "expired"] as const;

/** The parameters of a coupon, shared by drafts and coupons. */
const couponFields = {
  type: { type: String, enum: ["percent", "fixed"], required: true },
  /** Percent (1–90) or minor units of `currency` for a fixed discount. */
  value: { type: Number, required: true },
  currency: { type: String, required: true },
  /** Minimum order subtotal, minor units (0: none). */
  minSpend: { type: Number, required: true, default: 0 },
  startsAt: { type: Date, required: true },
  endsAt: { type: Date },
  /** Total uses allowed (unset: unlimited). */
  limit: { type: Number },
  perCustomer: { type: Number },
  /** Targeted SKUs or categories; both empty: the whole shop. */
  skus: { type: [String], default: [] },
  categories: { type: [String], default: [] },
};

export const couponSchema = new Schema(
  {
    /** The code, upper-case: case-insensitive uniqueness comes from the _id. */
    _id: { type: String, required: true },
    ...couponFields,
    status: { type: String, enum: COUPON_STATUSES, required: true },
    /** The confirmed preview: a replayed confirm finds its coupon by this. */
    draftId: { type: String, required: true },
    createdBy: { type: String, required: true },
    confirmedBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    history: {
      type: [new Schema({ action: String, by: String, at: Date }, { _id: false })],
      default: [],
    },
    /**
     * When the managers' channel was told the coupon went live / expired (coupon-schedule job): set
     * once, guarded, when the job claims the announcement (or, for `coupon expire`, by the expire's
     * own update). `claimed.<kind>`: the claim's time, until the announcement is queued (a run or
     * command stopped in between leaves it for the next run to finish). `attempt.<kind>`: counts
     * the claims and takeovers of that announcement; each holder ends (or a later run releases)
     * only the claim of the attempt it holds or saw, so two overlapping runs never end each
     * other's claims by mistake.
     */
    notified: {
      live: { type: Date },
      expired: { type: Date },
      claimed: {
        live: { type: Date },
        expired: { type: Date },
      },
      attempt: {
        live: { type: Number },
        expired: { type: Number },
      },
    },
  },
  { versionKey: false },
);
couponSchema.index({ status: 1, startsAt: 1 });

/** A previewed launch waiting for Confirm: nothing is live until then. */
export const couponDraftSchema = new Schema(
  {
    /** `D-` + short id. */
    _id: { type: String, required: true },
    code: { type: String, required: true },
    ...couponFields,
    /** Hash of the parameters, carried by the Confirm button. */
    hash: { type: String, required: true },
    /**
     * open → confirming (claimed by a Confirm) → confirmed; open → cancelled | superseded (a newer
     * preview of the same code). A crash while confirming is finished by the next Confirm; once
     * the draft's end has passed it cannot be, and it is closed: confirming → ended (nothing was
     * launched; see CouponService.settleStuckDrafts).
     */
    status: { type: String, enum: ["open", "confirming", "confirmed", "cancelled", "superseded", "ended"], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
couponDraftSchema.index({ code: 1, status: 1 });

export type CouponDoc = InferSchemaType<typeof couponSchema> & { _id: string };
export type CouponDraftDoc = InferSchemaType<typeof couponDraftSchema> & { _id: string };
