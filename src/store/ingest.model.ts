import { Schema, type InferSchemaType } from "mongoose";

/** API key scopes: which ingestion routes a key may call. */
export const API_SCOPES = ["orders", "products", "inventory", "complaints", "refunds"] as const;

/**
 * An API key of the ingestion API. Only the sha256 of the token is stored; the token
 * (`shopops_<id>_<secret>`) is shown once at creation.
 */
export const apiKeySchema = new Schema(
  {
    /** Short public id (`k…`), part of the token so a lookup is by `_id`. */
    _id: { type: String, required: true },
    label: { type: String, required: true },
    /** sha256 (hex) of the whole token. */
    hash: { type: String, required: true },
    scopes: { type: [String], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date },
    revokedBy: { type: String },
    lastUsedAt: { type: Date },
  },
  { versionKey: false },
);

/**
 * An order update that arrived before its order (no items to create it from): parked
 * until the order exists, then applied and deleted. `_id` = orderNo + hash of the payload,
 * so a retried delivery parks once.
 */
export const parkedOrderUpdateSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderNo: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    actor: { type: String, required: true },
    /**
     * Who sent it as the audit trail names the sender (`api:<label>#<key id>`), where that is
     * not `actor`: a refusal when its order arrives is recorded under it. Absent on updates
     * parked before it was kept (and for senders whose audit name is `actor`).
     */
    auditActor: { type: String },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
parkedOrderUpdateSchema.index({ orderNo: 1 });

export type ApiKeyDoc = InferSchemaType<typeof apiKeySchema> & { _id: string };
export type ParkedOrderUpdateDoc = InferSchemaType<typeof parkedOrderUpdateSchema> & { _id: string; payload: Record<string, unknown> };
