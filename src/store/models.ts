import mongoose, { Schema, type Connection, type InferSchemaType, type Model } from "mongoose";
import { couponDraftSchema, couponSchema, type CouponDoc, type CouponDraftDoc } from "./coupon.model.js";
import { refundRequestSchema, type RefundRequestDoc } from "./refund.model.js";
import { apiKeySchema, parkedOrderUpdateSchema, type ApiKeyDoc, type ParkedOrderUpdateDoc } from "./ingest.model.js";
import { alertRouteSchema, jobRunSchema, stockAlertSchema, type AlertRouteDoc, type JobRunDoc, type StockAlertDoc } from "./jobs.model.js";

// Money is always integer minor units (cents, fen) with the currency beside it:
// no floats, no Decimal128 (see docs on the test database).

const productSchema = new Schema(
  {
    /** SKU: the natural key is the _id, so lookups by sku need no other index. */
    _id: { type: String, required: true },
    name: { type: String, required: true },
    category: { type: String, required: true },
    price: { type: Number, required: true },
    cost: { type: Number, required: true },
    currency: { type: String, required: true },
    onHand: { type: Number, required: true, default: 0 },
    reserved: { type: Number, required: true, default: 0 },
    /**
     * onHand − reserved, kept in the same single-document updates as both, so
     * a guard like `available ≥ n` fits in a filter (no $expr needed).
     */
    available: { type: Number, required: true, default: 0 },
    reorderPoint: { type: Number, required: true, default: 0 },
    leadTimeDays: { type: Number, required: true, default: 7 },
    supplier: { type: String, default: "" },
    active: { type: Boolean, required: true, default: true },
    /** Units sold per shop-local day (YYYY-MM-DD → units), recent days only: the velocity source. */
    salesByDay: { type: Map, of: Number, default: () => new Map() },
    /** Idempotency keys of the latest order effects applied to this product (bounded: `o:<orderNo>:<tag>`). */
    appliedKeys: { type: [String], default: [] },
    /**
     * Keys of the latest keyed stock changes and counts applied to this product (bounded), apart
     * from the order effects' keys, which a selling product pushes by the hundred a day: a
     * change's key must stay here until housekeeping settles its ledger entry. (Older data
     * holds them in `appliedKeys`; both are read.)
     */
    ledgerKeys: { type: [String], default: undefined },
    /**
     * Low-stock threshold in units (see LowStockService): low when available ≤ lowAt.
     * Derived from reorder point, velocity and lead time; refreshed by the low-stock job.
     */
    lowAt: { type: Number },
    /** available − lowAt when last refreshed: the low-stock scan is one indexed query on it. */
    lowGap: { type: Number },
    /** Shop day lowAt was computed for (velocity changes by day). */
    lowDay: { type: String },
  },
  { timestamps: true, versionKey: false },
);
productSchema.index({ category: 1 });
productSchema.index({ active: 1, available: 1 });
productSchema.index({ active: 1, lowGap: 1 });
productSchema.index({ lowDay: 1 });
productSchema.index({ updatedAt: 1 });

const ledgerSchema = new Schema(
  {
    /** The idempotency key: unique by construction. */
    _id: { type: String, required: true },
    sku: { type: String, required: true },
    delta: { type: Number, required: true },
    reason: { type: String, required: true },
    actor: { type: String, required: true },
    /** pending: intent recorded, product not yet known to be changed; applied: done. */
    status: { type: String, enum: ["pending", "applied"], required: true },
    onHandAfter: { type: Number },
    /** A stock level set under a key (count, import): what was asked, so a reuse of the key for another level is told apart from a retry. */
    level: { type: Number },
    at: { type: Date, required: true },
    /**
     * Attempts working on a pending entry (the one that wrote it, and retries of the same key
     * that joined it): only the last to give up withdraws it, so one attempt's refusal never
     * deletes the entry of another that is about to land (see `LedgerIntents`).
     */
    active: { type: Number },
    /** When an attempt last wrote or joined the pending entry. */
    heldAt: { type: Date },
  },
  { versionKey: false },
);
ledgerSchema.index({ sku: 1, at: -1 });

const orderItemSchema = new Schema(
  { sku: { type: String, required: true }, qty: { type: Number, required: true }, unitPrice: { type: Number, required: true } },
  { _id: false },
);

/** Order statuses, in the order an order normally moves through them. */
export const ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"] as const;

const orderSchema = new Schema(
  {
    /** orderNo is the _id. */
    _id: { type: String, required: true },
    items: { type: [orderItemSchema], required: true },
    subtotal: { type: Number, required: true },
    discount: { type: Number, required: true, default: 0 },
    shipping: { type: Number, required: true, default: 0 },
    total: { type: Number, required: true },
    currency: { type: String, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    channel: { type: String, required: true },
    couponCode: { type: String },
    customerId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    paidAt: { type: Date },
    /** Shop-local day (YYYY-MM-DD) of createdAt, in SHOP_TIMEZONE at the time of writing. */
    day: { type: String, required: true },
    /** Shop-local day of paidAt. */
    paidDay: { type: String },
    shipment: {
      carrier: { type: String },
      trackingNo: { type: String },
      shippedAt: { type: Date },
      /**
       * The carriers and tracking numbers the shop's messages gave (the latest 20): a resend of
       * one is not news (it must not undo a correction made in chat, nor the shop's own later
       * one); a value never given is the shop's correction.
       */
      shopCarriers: { type: [String], default: undefined },
      shopTrackingNos: { type: [String], default: undefined },
    },
    deliveredAt: { type: Date },
    cancelledAt: { type: Date },
    /** Sum of executed refunds (minor units); rises once per refund (see `refunds`). */
    refundedTotal: { type: Number, required: true, default: 0 },
    /**
     * Executed refunds. A refund is executed by one guarded update of the order:
     * filter `$nor: [{"refunds.requestId": {$in: [id]}}]` (not `$ne`: see `lacking` in the
     * refund service), then `$inc refundedTotal` and `$push` here,
     * so a retried execution changes nothing. `day` is the shop-local day of `at`.
     */
    refunds: {
      // `by`: who approved it (both managers of a two-approval refund), or the API key that reported the shop's own.
      type: [new Schema({ requestId: String, amount: Number, at: Date, day: String, by: String }, { _id: false })],
      default: [],
    },
    /**
     * Open refund requests' holds on the balance: a request is created only after one guarded
     * update here (`heldTotal` ≤ total − refundedTotal − amount, this id not yet held), so two
     * people asking at once cannot ask for more than is left. Execution moves a hold into
     * `refundedTotal` in its own update; rejection, expiry and failure pull it (see
     * RefundService). `hid` names one hold: a release matches it, never a later hold of the id.
     */
    refundHolds: {
      type: [new Schema({ id: String, hid: String, amount: Number, at: Date }, { _id: false })],
      default: undefined,
    },
    /** Sum of `refundHolds` amounts (minor units). */
    heldTotal: { type: Number },
    /** Status history, oldest first. */
    history: {
      type: [
        new Schema(
          {
            status: String,
            at: Date,
            by: String,
            note: String,
            /** A tracking correction (`status: "tracking"`): what changed; `note` is then its reason. */
            tracking: { type: new Schema({ fromCarrier: String, fromTrackingNo: String, toCarrier: String, toTrackingNo: String }, { _id: false }), default: undefined },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    /**
     * Effects of an ingested order on products, each set once it is applied (see
     * OrderIngestService): reserved at creation, shipped (reserved → decremented),
     * released (cancellation), sold (salesByDay on payment), unsold (paid then cancelled),
     * movedOut/movedIn (the sales moved to a corrected payment day).
     */
    effects: {
      reserved: { type: Boolean },
      shipped: { type: Boolean },
      released: { type: Boolean },
      sold: { type: Boolean },
      unsold: { type: Boolean },
      /** The sales taken off `paidMovedFrom` and added to `paidDay` (a payment time corrected). */
      movedOut: { type: Boolean },
      movedIn: { type: Boolean },
    },
    /**
     * Times the bot filled in because a message skipped a step and gave no time for it (pending
     * → shipped: when was it paid?). A later message that gives the real time replaces them.
     */
    filled: {
      /** Inferred as the earliest time the first message gave (or when it arrived). */
      createdAt: { type: Boolean },
      paidAt: { type: Boolean },
      shippedAt: { type: Boolean },
      deliveredAt: { type: Boolean },
      cancelledAt: { type: Boolean },
    },
    /**
     * The paid day the order's sales were counted on before its filled-in payment time was
     * corrected to another day; OrderEffects moves them (once) to `paidDay`.
     */
    paidMovedFrom: { type: String },
    /**
     * When a writer of the bot last changed the order's state (insert, status, refund), for the
     * order-effects job, which finishes effects a crashed writer left undone.
     */
    changedAt: { type: Date },
  },
  { versionKey: false },
);
orderSchema.index({ day: 1 });
orderSchema.index({ changedAt: 1 });
// The digest's day read, and its comparison days' light read, index-only on MongoDB.
orderSchema.index({ paidDay: 1, status: 1, currency: 1, customerId: 1, total: 1, couponCode: 1 });
orderSchema.index({ customerId: 1, createdAt: -1 });
orderSchema.index({ "refunds.day": 1 });
orderSchema.index({ couponCode: 1 });
// The refund repair's read of orders with holds (held once, so the field exists from then on).
orderSchema.index({ heldTotal: 1 }, { sparse: true });
// Cover the digest's first-paid-day lookup (an index-only read on MongoDB; currency: only payments
// in the shop currency make a customer returning). A database made before keeps its older
// three-field index too, unused: drop it at will (`db.orders.dropIndex("customerId_1_paidDay_1_status_1")`).
orderSchema.index({ customerId: 1, paidDay: 1, status: 1, currency: 1 });

/** Complaint severities, least to most severe. */
export const SEVERITIES = ["low", "normal", "high", "urgent"] as const;
/** Complaint statuses. */
export const COMPLAINT_STATUSES = ["new", "claimed", "resolved", "escalated"] as const;

const complaintSchema = new Schema(
  {
    /** Short id, `C-…`. */
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    orderNo: { type: String },
    source: { type: String, required: true, default: "chat" },
    category: { type: String, required: true, default: "other" },
    severity: { type: String, enum: SEVERITIES, required: true, default: "normal" },
    text: { type: String, required: true },
    status: { type: String, enum: COMPLAINT_STATUSES, required: true, default: "new" },
    assignee: { type: String },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    /** Shop-local day of createdAt. */
    day: { type: String, required: true },
    firstResponseAt: { type: Date },
    firstResponseDueAt: { type: Date, required: true },
    resolutionDueAt: { type: Date, required: true },
    resolvedAt: { type: Date },
    /** Shop-local day of resolvedAt. */
    resolvedDay: { type: String },
    /** Link to the chat message it was filed from (Slack permalink), when filed from one. */
    permalink: { type: String },
    /**
     * When each scheduled alert was sent (complaint-alerts job): `posted` (new complaint),
     * `<clock>Warn` (80% of an SLA), `<clock>Breach`. Set once by a guarded update, never resent.
     * `escalated`: the managers' alert of the latest escalation was queued (cleared by each escalation).
     */
    alerted: {
      posted: { type: Date },
      escalated: { type: Date },
      firstResponseWarn: { type: Date },
      firstResponseBreach: { type: Date },
      resolutionWarn: { type: Date },
      resolutionBreach: { type: Date },
    },
    history: {
      type: [new Schema({ action: String, by: String, at: Date, note: String, from: String, to: String }, { _id: false })],
      default: [],
    },
  },
  { versionKey: false },
);
complaintSchema.index({ status: 1, resolutionDueAt: 1 });
complaintSchema.index({ status: 1, firstResponseDueAt: 1 });
complaintSchema.index({ assignee: 1, status: 1 });
complaintSchema.index({ orderNo: 1 });
complaintSchema.index({ day: 1 });
complaintSchema.index({ resolvedDay: 1 });

const roleSchema = new Schema(
  {
    /** The identity (`shell:alice`, `slack:T1:U2`, `discord:123`). */
    _id: { type: String, required: true },
    role: { type: String, required: true },
    grantedBy: { type: String, required: true },
    grantedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * Identities of one person (`role link`), one document per linked identity: `person` names
 * another identity of the same person, usually the group's person id (its smallest identity,
 * whose own document points at itself). Identities with no document are their own person.
 *
 * Readers follow the pointers (see IdentityService), so each write of a link or an unlink is
 * one single-document write and a half-done one leaves every group either as it was or as
 * intended: a link first points one group's root into the other (that write alone joins them),
 * then points every member straight at the person id; an unlink repoints the rest of the group
 * first and removes the identity's own document last.
 */
const identityLinkSchema = new Schema(
  {
    /** The identity (`shell:alice`, `slack:T1:U2`, `discord:123`). */
    _id: { type: String, required: true },
    /** An identity of the same person; the person id itself when this is the group's root. */
    person: { type: String, required: true },
    linkedBy: { type: String, required: true },
    linkedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
identityLinkSchema.index({ person: 1 });

const auditSchema = new Schema(
  {
    /** The invocation's reference id. */
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    platform: { type: String, required: true },
    command: { type: String, required: true },
    /** The argument text as typed (after the command name). */
    args: { type: String, default: "" },
    outcome: { type: String, enum: ["ok", "user_error", "denied", "error"], required: true },
    code: { type: String },
    message: { type: String },
    /** Who really typed it, when acting as another identity (the shell's `--as`). */
    via: { type: String },
    /**
     * The record it was about, as stored (a new complaint's C-… id; an id typed as `7k2m9q`), or
     * the records (a refund request and its order; the items of an API batch): what
     * `audit subject=` finds. A string or an array of strings, as recorded.
     */
    subject: { type: Schema.Types.Mixed },
    /** A running import's last sign of life (refreshed every few seconds): housekeeping marks it lost when this is old. */
    seenAt: { type: Date },
  },
  { versionKey: false },
);
auditSchema.index({ at: -1 });
auditSchema.index({ actor: 1, at: -1 });
auditSchema.index({ command: 1, at: -1 });
auditSchema.index({ subject: 1, at: -1 });

const outboxSchema = new Schema(
  {
    /** Idempotency key of the message (e.g. `refund:R-1:decided:requester`): one message per event. */
    _id: { type: String, required: true },
    /** Platform the message is for (routes it to that adapter's deliverer). */
    platform: { type: String, required: true },
    dest: { type: Schema.Types.Mixed, required: true },
    /** The Reply to render (an image's bytes as binary). */
    reply: { type: Schema.Types.Mixed, required: true },
    /** Alert type for routing and quiet hours (e.g. "low_stock", "refund"). */
    kind: { type: String, required: true },
    status: { type: String, enum: ["pending", "sending", "sent", "dead"], required: true },
    attempts: { type: Number, required: true, default: 0 },
    /** Not before: retries back off; quiet hours hold messages. */
    notBefore: { type: Date, required: true },
    /** While sending: the claim expires then, so a crashed sender's message is retried. */
    leaseUntil: { type: Date },
    lastError: { type: String },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date },
    /** When it was given up (`dead`): what `alerts list` counts a recent failure by. */
    deadAt: { type: Date },
  },
  { versionKey: false },
);
outboxSchema.index({ platform: 1, status: 1, notBefore: 1 });

/**
 * Idempotency markers of adapters: one document per handled platform event
 * (a button press, a retried event). Inserting the marker is the claim; a
 * duplicate key (E11000) means "already handled".
 */
const markerSchema = new Schema(
  {
    /** The dedupe key, e.g. `slack:action:T1:C1:1700000000.000100:b1:3f2a…`. */
    _id: { type: String, required: true },
    /** Identity that caused it. */
    by: { type: String, required: true },
    at: { type: Date, required: true },
    /** What it was (the command line run). */
    what: { type: String },
  },
  { versionKey: false },
);

/**
 * The daily sales rollup: GMV, paid orders, units, discount and coupon uses of one shop-local
 * paid day in one currency,
 * kept exactly once by OrderEffects (order-effects.service.ts) as orders are paid and cancelled, so the digest's
 * 14-day series reads 14 small documents instead of two weeks of orders.
 */
const salesDaySchema = new Schema(
  {
    /** `<day>|<currency>`, e.g. `2026-11-24|USD`. */
    _id: { type: String, required: true },
    day: { type: String, required: true },
    currency: { type: String, required: true },
    /** Sum of `total` (minor units) of the orders paid on the day whose status is a paid status. */
    gmv: { type: Number, required: true, default: 0 },
    /** Number of those orders. */
    orders: { type: Number, required: true, default: 0 },
    /** Item quantities in those orders. */
    units: { type: Number, default: 0 },
    /** Sum of their `discount` (minor units). */
    discount: { type: Number, default: 0 },
    /** ROLLUP_VERSION of the fields; absent on documents older than units, discount and coupon uses. */
    v: { type: Number },
    /** Idempotency keys of the latest changes (`ord:<no>:sold|unsold`). */
    appliedKeys: { type: [String], default: [] },
  },
  { versionKey: false },
);
salesDaySchema.index({ day: 1 });

/** Managers who asked for the daily digest by DM (`digest subscribe`): one document per identity. */
const digestSubscriptionSchema = new Schema(
  {
    /** The identity (`slack:T1:U2`, `discord:123`, `shell:max`). */
    _id: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

const metaSchema = new Schema({ _id: { type: String, required: true }, value: { type: Schema.Types.Mixed } }, { versionKey: false });

export type ProductDoc = InferSchemaType<typeof productSchema> & { _id: string };
export type LedgerDoc = InferSchemaType<typeof ledgerSchema> & { _id: string };
export type OrderDoc = InferSchemaType<typeof orderSchema> & { _id: string };
export type ComplaintDoc = InferSchemaType<typeof complaintSchema> & { _id: string };
export type RoleDoc = InferSchemaType<typeof roleSchema> & { _id: string };
export type IdentityLinkDoc = InferSchemaType<typeof identityLinkSchema> & { _id: string };
export type AuditDoc = InferSchemaType<typeof auditSchema> & { _id: string };
export type OutboxDoc = InferSchemaType<typeof outboxSchema> & { _id: string };
export type MarkerDoc = InferSchemaType<typeof markerSchema> & { _id: string };
export type MetaDoc = { _id: string; value: unknown };
export type SalesDayDoc = InferSchemaType<typeof salesDaySchema> & { _id: string };
export type DigestSubscriptionDoc = InferSchemaType<typeof digestSubscriptionSchema> & { _id: string };
export type { CouponDoc, CouponDraftDoc, RefundRequestDoc, ApiKeyDoc, ParkedOrderUpdateDoc, AlertRouteDoc, JobRunDoc, StockAlertDoc };

/** The models of one connection. */
export interface Store {
  conn: Connection;
  products: Model<ProductDoc>;
  ledger: Model<LedgerDoc>;
  orders: Model<OrderDoc>;
  complaints: Model<ComplaintDoc>;
  roles: Model<RoleDoc>;
  /** Identities linked as one person (see identityLinkSchema). */
  identityLinks: Model<IdentityLinkDoc>;
  audit: Model<AuditDoc>;
  outbox: Model<OutboxDoc>;
  markers: Model<MarkerDoc>;
  meta: Model<MetaDoc>;
  refundRequests: Model<RefundRequestDoc>;
  coupons: Model<CouponDoc>;
  couponDrafts: Model<CouponDraftDoc>;
  apiKeys: Model<ApiKeyDoc>;
  parkedOrderUpdates: Model<ParkedOrderUpdateDoc>;
  jobRuns: Model<JobRunDoc>;
  alertRoutes: Model<AlertRouteDoc>;
  stockAlerts: Model<StockAlertDoc>;
  digestSubscriptions: Model<DigestSubscriptionDoc>;
  salesDays: Model<SalesDayDoc>;
}

/** Registers the models on a connection (each test file has its own). */
export function createStore(conn: Connection): Store {
  const m = <T>(name: string, schema: Schema, coll: string): Model<T> =>
    (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema as unknown as Schema<T>, coll);
  return {
    conn,
    products: m<ProductDoc>("Product", productSchema, "products"),
    ledger: m<LedgerDoc>("StockLedger", ledgerSchema, "stock_ledger"),
    orders: m<OrderDoc>("Order", orderSchema, "orders"),
    complaints: m<ComplaintDoc>("Complaint", complaintSchema, "complaints"),
    roles: m<RoleDoc>("RoleBinding", roleSchema, "role_bindings"),
    identityLinks: m<IdentityLinkDoc>("IdentityLink", identityLinkSchema, "identity_links"),
    audit: m<AuditDoc>("AuditEntry", auditSchema, "audit"),
    outbox: m<OutboxDoc>("OutboxMessage", outboxSchema, "outbox"),
    markers: m<MarkerDoc>("Marker", markerSchema, "markers"),
    meta: m<MetaDoc>("Meta", metaSchema, "meta"),
    refundRequests: m<RefundRequestDoc>("RefundRequest", refundRequestSchema, "refund_requests"),
    coupons: m<CouponDoc>("Coupon", couponSchema, "coupons"),
    couponDrafts: m<CouponDraftDoc>("CouponDraft", couponDraftSchema, "coupon_drafts"),
    apiKeys: m<ApiKeyDoc>("ApiKey", apiKeySchema, "api_keys"),
    parkedOrderUpdates: m<ParkedOrderUpdateDoc>("ParkedOrderUpdate", parkedOrderUpdateSchema, "parked_order_updates"),
    jobRuns: m<JobRunDoc>("JobRun", jobRunSchema, "job_runs"),
    alertRoutes: m<AlertRouteDoc>("AlertRoute", alertRouteSchema, "alert_routes"),
    stockAlerts: m<StockAlertDoc>("StockAlert", stockAlertSchema, "stock_alerts"),
    digestSubscriptions: m<DigestSubscriptionDoc>("DigestSubscription", digestSubscriptionSchema, "digest_subscriptions"),
    salesDays: m<SalesDayDoc>("SalesDay", salesDaySchema, "sales_days"),
  };
}

/** Creates the indexes of every model of the store (idempotent). */
export async function ensureIndexes(store: Store): Promise<void> {
  const { conn: _conn, ...models } = store;
  await Promise.all(Object.values(models).map((mdl) => mdl.createIndexes()));
}

/** Database used when the connection string names none (the embedded server's URI never does). */
export const DEFAULT_DB_NAME = "shopops";

/** The database named in a connection string's path, if any. */
export function dbNameIn(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]+)/i.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

/** Opens a connection to `uri`: database `dbName`, else the one the URI names, else "shopops". */
export async function connect(uri: string, dbName?: string): Promise<Connection> {
  const name = dbName ?? dbNameIn(uri) ?? DEFAULT_DB_NAME;
  // 30 s to find the server, unless the connection string says otherwise.
  const timeout = /[?&]serverSelectionTimeoutMS=/i.test(uri) ? {} : { serverSelectionTimeoutMS: 30000 };
  return mongoose.createConnection(uri, { dbName: name, autoIndex: false, ...timeout }).asPromise();
}

/**
 * The rows after one a page ended with, in a newest-first order by `field` then `_id` (both
 * descending): older, or as old with a smaller id. A next page built on it neither repeats nor
 * skips rows, whatever is written meanwhile (audit, order search, refund list).
 */
export function rowsAfter(field: string, at: Date, id: string): Record<string, unknown> {
  return { $or: [{ [field]: { $lt: at } }, { [field]: at, _id: { $lt: id } }] };
}
