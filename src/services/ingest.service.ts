import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import type { Config } from "../config.js";
import { localDay, majorUnits } from "../core/format.js";
import { inKeyOrder } from "../core/grouped.js";
import { base32, shortId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { ProductDoc, Store } from "../store/models.js";
import { parseItem, type ComplaintInput, type IngestInput, type FieldError, type IngestKind, type InventoryInput, type OrderInput, type ProductInput, type RefundRequestInput } from "./ingest-schemas.js";
import { slaDue } from "./complaint.service.js";
import { parseAmount, type RefundService } from "./refund.service.js";
import { shippedAndCancelled, type DroppedTime, type OrderIngestResult, type OrderIngestService } from "./order-ingest.service.js";
import { changeText, holds, notHolding, PRODUCT_KEPT_KEYS, type LedgerHold, type LedgerIntents, type StockService } from "./stock.service.js";
import { isDuplicateKey } from "../store/writes.js";
import { ORDER_TRANSITIONS, type OrderStatus } from "./order-status.js";

/** What happened to one item: an HTTP-like status, an outcome word, and why when it failed. */
export interface ItemResult {
  /** 200 updated/unchanged, 201 created, 202 parked, 400 invalid, 409 conflict, 422 unknown reference. */
  status: number;
  outcome: "created" | "updated" | "unchanged" | "parked" | "invalid" | "rejected";
  /** The item's natural key (orderNo, sku, complaint id) when known. */
  id?: string;
  /** Stable code of a refusal, e.g. `invalid_transition`. */
  code?: string;
  message?: string;
  errors?: FieldError[];
  /**
   * Fields the item gives otherwise than what is stored, which it does not change (an existing
   * order's items), or does not hold at all (an order's `deliveredAt` beside status `pending`):
   * the message says which and why.
   */
  ignored?: string[];
  /**
   * Those of `ignored` that the order does not hold at all (a time its status contradicts): the
   * line applied otherwise, nothing differs from what is stored (the import counts it as applied).
   */
  notTaken?: string[];
  /** Applied, with something to look at (`below_reserved`: a count below what open orders hold): the message says what. */
  warning?: string;
}

/** What {@link IngestService.setLevel} read: on hand and reserved before the level, or the change holding the key. */
export interface LevelSeen {
  before?: number;
  reserved?: number;
  other?: string;
}

/** True when an item was not applied (invalid or refused): what batches count as failed. */
export function isFailedItem(r: Pick<ItemResult, "outcome">): boolean {
  return r.outcome === "invalid" || r.outcome === "rejected";
}


/** How many times a stock level is re-read when another change lands between read and write. */
const SET_RETRIES = 8;
/** Ids of a batch applied side by side (kinds other than orders). */
const BATCH_CONCURRENCY = 8;

/**
 * Validates and applies items of the ingestion API and the bulk import (one code path for
 * both): orders (through {@link OrderIngestService}), products, inventory and complaints.
 * Every item is idempotent: applying it again changes nothing.
 */
export class IngestService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly stock: StockService,
    private readonly orders: OrderIngestService,
    private readonly opts: { timeZone: string; currency: string; sla: Config["complaintSla"] },
    private readonly refunds: RefundService,
    private readonly log: Logger,
  ) {}

  /** Keyed levels' ledger entries: under the key itself, as keyed deltas', held the same way. */
  private get intents(): LedgerIntents {
    return this.stock.intents;
  }

  /** Applies parked order updates whose order exists, kept before `before` (see {@link OrderIngestService.drainOrphans}). */
  drainOrphans(before: Date): Promise<string[]> {
    return this.orders.drainOrphans(before);
  }

  /** The SKUs of the catalog, read once for dry runs (at most every five minutes, and at each run's start). */
  private catalog: { at: number; skus: Promise<Set<string>> } | undefined;

  /** Makes the next dry-run item read the catalog afresh (an import's dry run starts with it). */
  refreshCatalog(): void {
    this.catalog = undefined;
  }

  /**
   * What a dry run can tell without writing: the item's own checks, and the ones the import
   * would refuse it for against the database as it is (SKUs with no product: an order or a
   * stock change is refused for them, so the dry run names those lines too).
   */
  private async dryRun(kind: IngestKind, v: unknown): Promise<ItemResult> {
    const id = itemId(kind, v);
    let skus: string[] = [];
    if (kind === "orders") {
      const m = v as OrderInput;
      if (shippedAndCancelled(m)) return orderResult({ kind: "shipped_and_cancelled", orderNo: m.orderNo });
      if (m.items && m.customerId) skus = m.items.map((i) => i.sku);
    } else if (kind === "inventory") skus = [(v as InventoryInput).sku];
    if (skus.length) {
      const now = this.clock.now().getTime();
      if (!this.catalog || now - this.catalog.at > 5 * 60_000) {
        const read = this.store.products.find({}).select({ _id: 1 }).lean<{ _id: string }[]>().then((ps) => new Set(ps.map((x) => x._id)));
        this.catalog = { at: now, skus: read };
        read.catch(() => (this.catalog = undefined));
      }
      const known = await this.catalog.skus;
      const missing = [...new Set(skus)].filter((s) => !known.has(s));
      if (missing.length && kind === "orders") return orderResult({ kind: "unknown_sku", orderNo: (v as OrderInput).orderNo, skus: missing });
      if (missing.length) return { status: 422, outcome: "rejected", id, code: "unknown_sku", message: `unknown SKU ${id}` };
    }
    const differs = kind === "orders" ? amountsDiffer(v as OrderInput, true) : null;
    return { status: 200, outcome: "unchanged", id, message: differs ? `valid (dry run); ${differs}` : "valid (dry run)", ...(differs ? { warning: "amounts_differ" } : {}) };
  }

  /**
   * Validates one raw item of `kind` and applies it as `actor`; `dryRun` validates only.
   * `auditActor`: the sender as the audit trail names it, where that is not `actor` (an API
   * key's `api:<label>#<key id>`): an order update parked for later keeps it (see OrderIngestService).
   * `via`: the person at the terminal running the bulk import as `actor` (`import:<file>`): a
   * refund request filed so is theirs too, so they may not approve it (see RefundService.approve).
   */
  async apply(kind: IngestKind, raw: unknown, actor: string, dryRun = false, auditActor?: string, via?: string): Promise<ItemResult> {
    const p = this.validate(kind, raw);
    if (!p.ok) return p.result;
    if (dryRun) return this.dryRun(kind, p.value);
    switch (kind) {
      case "orders":
        return this.order(p.value as never, actor, auditActor);
      case "products":
        return this.product(p.value as ProductInput);
      case "inventory":
        return this.inventory(p.value as InventoryInput, actor);
      case "complaints":
        return this.complaint(p.value as ComplaintInput, actor);
      case "refund-requests":
        return this.refundRequest(p.value as RefundRequestInput, actor, via);
    }
  }

  /**
   * A refund request from another system, checked like `refund request` (paid order, amount
   * within the refundable balance). Its id derives from `externalId`, so a retry creates
   * nothing new; approvals then happen in chat, never by `via` (the person who imported it).
   */
  private async refundRequest(r: RefundRequestInput, actor: string, via?: string): Promise<ItemResult> {
    const id = `R-X${base32(createHash("sha256").update(r.externalId).digest()).slice(0, 9)}`;
    const res = await this.refunds.request({ id, orderNo: r.orderNo, amount: String(r.amount), reason: r.reason, requester: actor, ...(via ? { via } : {}), exactOrderNo: true });
    switch (res.kind) {
      case "created":
        return { status: 201, outcome: "created", id };
      case "exists": {
        // A retry is the same request; the id reused for another one would be lost silently.
        const q = res.request;
        const amount = String(r.amount).toLowerCase();
        const same = q.orderNo === r.orderNo && (amount === "full" ? q.full === true : !q.full && parseAmount(amount, q.currency) === q.amount);
        // A retry giving another reason is still that request (its reason is kept as first
        // recorded): said, with the reason on record, as /inventory says it for a key's reason.
        if (same && q.reason !== r.reason) {
          return { status: 200, outcome: "unchanged", id, ignored: ["reason"], message: `externalId ${r.externalId} already recorded as ${id}, with reason "${q.reason}": not changed: reason (this retry gives "${r.reason}"; an externalId names one request, kept as first recorded; another request takes another externalId)` };
        }
        if (same) return { status: 200, outcome: "unchanged", id };
        const was = `order ${q.orderNo}, ${q.full ? "full" : majorUnits(q.amount, q.currency)}`;
        return { status: 409, outcome: "rejected", id, code: "key_conflict", message: `externalId ${r.externalId} was used for another refund request (${was})` };
      }
      case "not_found":
        return { status: 422, outcome: "rejected", id, code: "unknown_order", message: `unknown order ${r.orderNo}; send the order first` };
      case "not_paid":
        return { status: 409, outcome: "rejected", id, code: "order_not_paid", message: `order ${r.orderNo} is ${res.status}; only paid orders can be refunded` };
      case "already_refunded":
        return { status: 409, outcome: "rejected", id, code: "already_refunded", message: `order ${r.orderNo} is refunded already; nothing is left to refund` };
      case "bad_amount": {
        const example = `"${(25).toFixed(res.decimals)}"`;
        const expected =
          (res.problem === "zero"
            ? `an amount above 0, such as ${example}`
            : res.problem === "format"
              ? `a positive amount in major units such as ${example}, at most 12 digits before the point, or "full"`
              : res.decimals
                ? `a positive amount in ${res.currency} with at most ${res.decimals} decimals, such as ${example}`
                : `a positive whole amount (${res.currency} has no decimals), such as ${example}`);
        // Named by the caller's id, as an invalid item the schema caught is: no request was made.
        return { status: 400, outcome: "invalid", id: r.externalId, code: "invalid", message: `amount: expected ${expected}`, errors: [{ field: "amount", expected }] };
      }
      case "over_balance":
        return { status: 409, outcome: "rejected", id, code: "over_balance", message: `amount over the refundable balance of order ${r.orderNo}: at most ${majorUnits(res.refundable, res.currency)} is left` };
    }
  }

  /**
   * Validates one raw item: its schema, then its times. A time ahead of ours (beyond clock
   * skew) is a typo or a wrong zone: a payment "in 2030" would sit on no digest day and in no
   * velocity window. One check for single items and batches alike.
   */
  private validate<K extends IngestKind>(kind: K, raw: unknown): { ok: true; value: IngestInput<K> } | { ok: false; result: ItemResult } {
    const p = parseItem(kind, raw);
    if (!p.ok) return { ok: false, result: invalid(kind, raw, p.errors) };
    const now = this.clock.now();
    const ahead = datesAfter(p.value, now.getTime() + FUTURE_SKEW_MS);
    if (ahead.length) return { ok: false, result: invalid(kind, raw, ahead.map((field) => ({ field, expected: `a time not in the future (it is now ${now.toISOString()})` }))) };
    return p;
  }

  /**
   * Validates and applies a batch of raw items of `kind`, results in input order. Orders go
   * through the batch path ({@link OrderIngestService.ingestMany}: a few round trips for the
   * whole batch); other kinds item by item, items with the same id in order and different
   * ids side by side. An item that fails inside gets a 500 result; the others still apply.
   */
  async applyMany(kind: IngestKind, raws: unknown[], actor: string, auditActor?: string): Promise<ItemResult[]> {
    const results = new Array<ItemResult>(raws.length);
    if (kind === "orders") {
      const valid: { i: number; m: OrderInput }[] = [];
      raws.forEach((raw, i) => {
        const p = this.validate("orders", raw);
        if (p.ok) valid.push({ i, m: p.value });
        else results[i] = p.result;
      });
      try {
        const rs = await this.orders.ingestMany(valid.map((v) => v.m), actor, auditActor);
        valid.forEach((v, k) => (results[v.i] = orderItemResult(rs[k]!, v.m)));
        await this.closeRequestsOfEnded(rs);
        return results;
      } catch (e) {
        // Isolate the failure: every step is idempotent, so the items are applied again one by one.
        this.log.warn("order batch failed; applying its items one by one", { items: valid.length, err: e });
        for (const v of valid) results[v.i] = await this.safely(() => this.order(v.m, actor, auditActor));
        return results;
      }
    }
    const idAt = (i: number) => sequenceKey(kind, raws[i]) ?? `#${i}`;
    await inKeyOrder(raws.map((_, i) => i), idAt, BATCH_CONCURRENCY, async (i) => {
      results[i] = await this.safely(() => this.apply(kind, raws[i], actor, false, auditActor));
    });
    return results;
  }

  private async safely(f: () => Promise<ItemResult>): Promise<ItemResult> {
    try {
      return await f();
    } catch (e) {
      const ref = shortId();
      this.log.error("ingest item failed", { ref, err: e });
      return { status: 500, outcome: "rejected", code: "internal", message: `internal error; reference ${ref}` };
    }
  }

  private async order(m: OrderInput, actor: string, auditActor?: string): Promise<ItemResult> {
    const r = await this.orders.ingest(m, actor, auditActor);
    await this.closeRequestsOfEnded([r]);
    return orderItemResult(r, m);
  }

  /**
   * After an order message that leaves the order refunded or cancelled: its pending refund
   * requests that can no longer be paid (the shop refunded it in full) are closed, so nobody is
   * asked to approve what can only fail. Its own failure is logged, not the item's: such a
   * request still fails, clearly, when approved, and expires.
   */
  private async closeRequestsOfEnded(rs: OrderIngestResult[]): Promise<void> {
    const ended = rs.flatMap((r) => ("status" in r && (r.status === "refunded" || r.status === "cancelled") ? [r.orderNo] : []));
    if (!ended.length) return;
    try {
      // One read for a whole batch (an imported history is mostly ended orders): those with a pending request.
      const open = (await this.store.refundRequests.distinct("orderNo", { orderNo: { $in: [...new Set(ended)] }, status: "pending" })) as string[];
      for (const no of open) await this.refunds.closeExhausted(no);
    } catch (e) {
      this.log.warn("closing the refund requests of a refunded order failed", { orders: ended.slice(0, 20), err: e });
    }
  }

  /** Upsert by sku; only fields that differ are written, so a replay changes nothing. */
  private async product(p: ProductInput): Promise<ItemResult> {
    const id = p.sku;
    const cur = await this.store.products.findById(id).lean<ProductDoc>();
    if (!cur) {
      const onHand = p.onHand ?? 0;
      try {
        await this.store.products.create({
          _id: id,
          name: p.name,
          category: p.category,
          price: p.price,
          cost: p.cost ?? 0,
          currency: p.currency ?? this.opts.currency,
          onHand,
          reserved: 0,
          available: onHand,
          reorderPoint: p.reorderPoint ?? 0,
          leadTimeDays: p.leadTimeDays ?? 7,
          supplier: p.supplier ?? "",
          active: p.active ?? true,
        });
        return { status: 201, outcome: "created", id };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        return this.product(p);
      }
    }
    const set: Record<string, unknown> = {};
    for (const k of ["name", "category", "price", "cost", "currency", "reorderPoint", "leadTimeDays", "supplier", "active"] as const) {
      if (p[k] !== undefined && p[k] !== cur[k]) set[k] = p[k];
    }
    // onHand sets a new product's stock only: a count goes through the ledger (inventory `set`).
    const stock = p.onHand !== undefined && p.onHand !== cur.onHand ? { ignored: ["onHand"], message: `not changed on an existing product: onHand (${cur.onHand} on hand; send a count to /api/v1/inventory as {sku, set})` } : {};
    if (!Object.keys(set).length) return { status: 200, outcome: "unchanged", id, ...stock };
    await this.store.products.updateOne({ _id: id }, { $set: set });
    return { status: 200, outcome: "updated", id, ...stock };
  }

  private async inventory(i: InventoryInput, actor: string): Promise<ItemResult> {
    const id = i.sku;
    if ("delta" in i) {
      const r = await this.stock.adjust({ sku: i.sku, delta: i.delta, reason: i.reason ?? "ingest", actor, key: i.key });
      switch (r.kind) {
        case "applied":
          return { status: 200, outcome: "updated", id, message: `on hand ${r.before} → ${r.after}` };
        case "replayed":
          return this.replayed(id, i.key, i.key, i.reason);
        case "insufficient":
          return {
            status: 409,
            outcome: "rejected",
            id,
            code: "insufficient_stock",
            message: `${i.delta} would take available below zero: on hand ${r.onHand}, reserved by open orders ${r.reserved}, available ${r.available}; a change never goes below zero available, while a count ({sku, set}) is recorded as counted`,
          };
        case "inactive":
          return inactiveResult(id);
        case "key_conflict":
          return { status: 409, outcome: "rejected", id, code: "key_conflict", message: `key ${i.key} was used for another change (${r.other})` };
        case "busy":
          return { status: 409, outcome: "rejected", id, code: "conflict", message: `stock of ${id} kept changing; nothing changed; retry` };
        case "not_found":
          return { status: 422, outcome: "rejected", id, code: "unknown_sku", message: `unknown SKU ${id}` };
      }
    }
    return this.setLevel(i.sku, i.set, actor, i.reason ?? "stock count", i.key, i.reason);
  }

  /**
   * The answer to a keyed change whose key was applied already (the same change: SKU and delta
   * or level, checked by the key's claim): unchanged. A key names the change, not its note, so a
   * retry giving another `reason` is still that change (chat's `stock adjust key=` and a retry
   * over the API share keys); the answer says the reason it gave is not recorded, and which is,
   * rather than a plain "already applied" as if it had been.
   */
  private async replayed(sku: string, key: string, ledgerId: string, reason: string | undefined): Promise<ItemResult> {
    const done: ItemResult = { status: 200, outcome: "unchanged", id: sku, message: `key ${key} already applied` };
    if (reason === undefined) return done;
    const prior = await this.store.ledger.findById(ledgerId).select({ reason: 1 }).lean<{ reason?: string }>();
    if (prior?.reason === undefined || prior.reason === reason) return done;
    return { ...done, ignored: ["reason"], message: `key ${key} already applied, with reason "${prior.reason}": not changed: reason (this retry gives "${reason}"; a key names one change, kept as first recorded; another change takes another key)` };
  }

  /**
   * Sets on hand to `level`: a compare-and-set on the product (filter: on hand and reserved as
   * read), retried when another change lands in between. With a key, exactly once, as
   * {@link StockService.adjust}: the ledger entry under the key is written first (pending, with the
   * level asked), so a retry, or a re-run of yesterday's count after today's movements, finds it
   * and changes nothing; a level already right is recorded too (a confirmed count, delta 0).
   * The same key for another SKU or level is a conflict. Chat's `stock adjust <sku> set <n>`
   * calls it too, reading the figures it applied on from `seen`.
   */
  async setLevel(sku: string, level: number, actor: string, reason: string, key: string | undefined, givenReason?: string, seen?: LevelSeen): Promise<ItemResult> {
    // A key names one change, delta or level: a level's entry is the key itself, as a delta's
    // is, so the unique id decides between them. A level's entry written before was `set:<key>`.
    const legacy = key ? await this.store.ledger.exists({ _id: `set:${key}` }) : null;
    const ledgerId = key ? (legacy ? `set:${key}` : key) : undefined;
    const at = this.clock.now();
    let hold: LedgerHold | undefined;
    if (ledgerId) {
      const c = await this.intents.claim(ledgerId, { sku, level }, { reason, actor, at });
      if (c.kind === "conflict") {
        if (seen) seen.other = changeText(c.prior);
        return { status: 409, outcome: "rejected", id: sku, code: "key_conflict", message: `key ${key} was used for another change (${changeText(c.prior)})` };
      }
      if (c.kind === "applied") return this.replayed(sku, key!, ledgerId, givenReason);
      hold = c.hold;
    }
    /** Nothing changed: give the intent up (withdrawn once no attempt holds it), so the key can be used again once the problem is fixed. */
    const refuse = async (r: ItemResult): Promise<ItemResult> => {
      await hold?.release();
      return r;
    };
    // Called by the attempt whose guarded product write landed (one per key: the write holds the
    // key): its delta is the change made, whatever another attempt with the key wrote on the
    // pending entry, or marked applied, meanwhile (it read the product before this change).
    const done = async (delta: number): Promise<void> => {
      if (ledgerId) await this.store.ledger.updateOne({ _id: ledgerId }, { $set: { delta } });
      await hold?.applied({ delta, onHandAfter: level });
    };
    for (let attempt = 0; attempt < SET_RETRIES; attempt++) {
      const p = await this.store.products.findById(sku).lean<ProductDoc>();
      if (!p) return refuse({ status: 422, outcome: "rejected", id: sku, code: "unknown_sku", message: `unknown SKU ${sku}` });
      if (ledgerId && holds(p, ledgerId)) {
        // Applied by an earlier attempt that stopped before marking its ledger entry, or by another running now.
        await hold?.applied({ onHandAfter: level });
        return this.replayed(sku, key!, ledgerId, givenReason);
      }
      // An inactive product's stock does not move, by a count as by a change (`stock adjust`, a delta).
      if (!p.active) return refuse(inactiveResult(sku));
      // What the attempt that landed read: chat's reply says from → to.
      const landed = () => seen && Object.assign(seen, { before: p.onHand, reserved: p.reserved });
      if (p.onHand === level) {
        // A confirmed count holds its key on the product too (one guarded update, as a change
        // does): a retry running at the same time, or after later sales, then finds it applied.
        if (ledgerId) {
          const r = await this.store.products.updateOne({ _id: sku, onHand: level, active: true, ...notHolding(ledgerId) }, { $push: { ledgerKeys: { $each: [ledgerId], $slice: -PRODUCT_KEPT_KEYS } } });
          if (r.modifiedCount !== 1) continue; // on hand moved, or another attempt recorded it: read again
        }
        await done(0);
        landed();
        return { status: 200, outcome: "unchanged", id: sku, message: `on hand is already ${level}` };
      }
      const delta = level - p.onHand;
      // The change this attempt makes, on the pending entry before the product changes: an
      // interrupted attempt settled later (by a retry or housekeeping) keeps its real delta.
      if (ledgerId) await this.store.ledger.updateOne({ _id: ledgerId, status: "pending" }, { $set: { delta } });
      const push: Record<string, unknown> = ledgerId ? { $push: { ledgerKeys: { $each: [ledgerId], $slice: -PRODUCT_KEPT_KEYS } } } : {};
      // Still active (deactivated in between: read again, and refused).
      const filter: Record<string, unknown> = { _id: sku, onHand: p.onHand, reserved: p.reserved, active: true };
      if (ledgerId) Object.assign(filter, notHolding(ledgerId));
      const r = await this.store.products.updateOne(filter, { $set: { onHand: level, available: level - p.reserved }, ...push });
      if (r.modifiedCount === 1) {
        landed();
        if (ledgerId) await done(delta);
        else await this.store.ledger.create({ _id: `set:${sku}:${at.getTime()}:${Math.random().toString(36).slice(2, 10)}`, sku, delta, level, reason, actor, status: "applied", onHandAfter: level, at });
        // A count below what open orders reserve is the truth, recorded as such: available goes
        // negative (out of stock, announced), where refusing would keep selling units that are gone.
        const short = level < p.reserved ? `; ${p.reserved} ${p.reserved === 1 ? "is" : "are"} reserved by open orders: ${p.reserved - level} short` : "";
        return { status: 200, outcome: "updated", id: sku, message: `on hand ${p.onHand} → ${level}${short}`, ...(short ? { warning: "below_reserved" } : {}) };
      }
    }
    return refuse({ status: 409, outcome: "rejected", id: sku, code: "conflict", message: `stock of ${sku} kept changing; retry` });
  }

  /**
   * Records a complaint once: its id comes from the caller's `externalId` (or its content),
   * so a retried delivery finds it. Due dates follow the configured SLA (COMPLAINT_SLA_*).
   * Kept small so it can later call the complaint service instead.
   */
  private async complaint(c: ComplaintInput, actor: string): Promise<ItemResult> {
    const imported = actor.startsWith("import:");
    // Where it came from, when the sender does not say: the API, or for an import (no source of
    // its own among COMPLAINT_SOURCES) `other`, with "import" in its history note.
    const source = c.source ?? (imported ? "other" : "api");
    // Its id as before (a source not given counts as `api`): re-running an import run earlier, or
    // migrating tickets the API sent, finds the same complaint.
    const basis = c.externalId ? `${c.source ?? "api"}:${c.externalId}` : JSON.stringify([c.customerId, c.orderNo ?? "", c.text, c.createdAt?.toISOString() ?? ""]);
    const idOf = (b: string) => `C-${base32(createHash("sha256").update(b).digest()).slice(0, 10)}`;
    let id = idOf(basis);
    // An imported ticket without a source is stored as `other` but keyed as `api` (above): the
    // same ticket imported with source `other` is the same complaint, in either order. Its own id
    // first (an import re-run, an API ticket); else the other spelling's, when that one is an
    // `other` complaint: keyed `other` (any sender), or keyed `api` by an import that gave no
    // source (its history note `import <externalId>`).
    if (imported && c.externalId && source === "other") {
      const twin = idOf(`${c.source ? "api" : "other"}:${c.externalId}`);
      const found = await this.store.complaints
        .find({ _id: { $in: [id, twin] } })
        .select({ source: 1, history: 1 })
        .lean<{ _id: string; source?: string; history?: { note?: string }[] }[]>();
      const other = found.find((f) => f._id === twin);
      const fromDefault = (f: { source?: string; history?: { note?: string }[] }) => f.source === "other" && (!c.source || f.history?.[0]?.note === `import ${c.externalId}`);
      if (!found.some((f) => f._id === id) && other && fromDefault(other)) id = twin;
    }
    const severity = c.severity ?? "normal";
    const now = this.clock.now();
    const createdAt = c.createdAt ?? now;
    try {
      await this.store.complaints.create({
        _id: id,
        customerId: c.customerId,
        ...(c.orderNo ? { orderNo: c.orderNo } : {}),
        source,
        category: c.category ?? "other",
        severity,
        text: c.text,
        status: "new",
        createdBy: actor,
        createdAt,
        day: localDay(createdAt, this.opts.timeZone),
        ...slaDue(createdAt, severity, this.opts.sla),
        // Its arrival, which the SLA alerts measure news by: now for a complaint the API sends (a
        // helpdesk's ticket dated back is news when it comes); its own time for an import of
        // history (open tickets migrated are not posted or escalated as if they were new).
        history: [{ action: "created", by: actor, at: imported ? createdAt : now, note: [c.source ?? (imported ? "import" : "api"), c.externalId].filter(Boolean).join(" ") }],
      });
      return { status: 201, outcome: "created", id };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      // A retry is the same complaint; the id reused for another one would be lost silently.
      const prior = await this.store.complaints.findById(id).select({ customerId: 1, orderNo: 1, text: 1, severity: 1, category: 1 }).lean();
      const differs = prior ? (["customerId", "orderNo", "text"] as const).filter((k) => (prior[k] ?? undefined) !== c[k]) : [];
      if (!differs.length) {
        // The same complaint sent again with another severity or category (the helpdesk's triage
        // moved on): a retry changes nothing, and says so rather than answering a plain unchanged.
        const ignored = prior ? (["severity", "category"] as const).filter((k) => c[k] !== undefined && c[k] !== prior[k]) : [];
        if (!ignored.length) return { status: 200, outcome: "unchanged", id };
        return { status: 200, outcome: "unchanged", id, ignored: [...ignored], message: `not changed on an existing complaint: ${ignored.join(", ")} (a complaint is triaged in chat once filed: complaint escalate, or file it anew)` };
      }
      return { status: 409, outcome: "rejected", id, code: "key_conflict", message: `externalId ${c.externalId ?? ""} was used for another complaint (${id}): its ${differs.join(", ")} differ${differs.length > 1 ? "" : "s"}` };
    }
  }
}


/** A stock change or count refused because the product is inactive (as `stock adjust` refuses it). */
function inactiveResult(sku: string): ItemResult {
  return {
    status: 409,
    outcome: "rejected",
    id: sku,
    code: "inactive_product",
    message: `${sku} is inactive; reactivate it (send the product with "active": true to /api/v1/products or in a products import) before changing its stock`,
  };
}

/** How many records an audit entry of a batch or an import run names (`audit subject=` finds them). */
export const MAX_AUDIT_SUBJECTS = 1000;

/** How long an import's audit entry may say `running` without a sign of life before housekeeping takes the run for lost. */
export const IMPORT_LOST_AFTER_MS = 24 * 3_600_000;

/**
 * Marks the audit entries of imports (`npm run import`) that still say `running` and were last
 * seen alive before `before` as `lost`: killed or crashed without recording their end, so the
 * trail no longer says they run. A running import refreshes its entry's `seenAt` every few
 * seconds, so a long run is never taken for lost; an entry written before runs did so (no
 * `seenAt`) goes by its start. Each one guarded by its `running` code and its age (one update per
 * entry; there are few). A run wrongly marked puts its entry back with its next refresh, and
 * records its result over it when it ends. Returns how many.
 */
export async function markLostImports(store: Pick<Store, "audit">, before: Date): Promise<number> {
  const quiet = { code: "running", command: { $regex: "^import " }, $or: [{ seenAt: { $lt: before } }, { seenAt: { $exists: false }, at: { $lt: before } }] };
  const stuck = await store.audit.find(quiet).select({ args: 1, at: 1, seenAt: 1 }).lean<{ _id: string; args?: string; at: Date; seenAt?: Date | null }[]>();
  let n = 0;
  for (const e of stuck) {
    const message =
      `started ${e.at.toISOString()}${e.seenAt ? `, last seen running ${e.seenAt.toISOString()},` : ""} and never recorded its end: killed or crashed (taken for lost after ${IMPORT_LOST_AFTER_MS / 3_600_000} hours without a sign of it). ` +
      "Its subjects name the records it reached; running the same file again finishes it (lines already done are skipped).";
    // The same guard again: a refresh landing since the find keeps it running.
    const r = await store.audit.updateOne({ _id: e._id, ...quiet }, { $set: { code: "lost", args: (e.args ?? "").replace(/: running$/, ": not finished"), message } });
    n += r.modifiedCount;
  }
  return n;
}

/**
 * The records one item was about, as stored, for `audit subject=`: its id (an order number, a
 * C-… or R-… id, a SKU), and the order a refund request or complaint names.
 */
export function itemSubjects(raw: unknown, r: Pick<ItemResult, "id">): string[] {
  const out = r.id ? [r.id] : [];
  const no = (raw as { orderNo?: unknown } | null | undefined)?.orderNo;
  if (typeof no === "string" && no.length <= 100 && no !== r.id) out.push(no);
  return out;
}

/** The step times an order keeps once it holds them for real (see OrderIngestService). */
const KEPT_TIMES = new Set(["paidAt", "shipment.shippedAt", "deliveredAt", "cancelledAt"]);

/**
 * Why the fields an order message gave were not taken: an order's fixed contents, a step's time
 * it holds already, a note with no status change, or a shipment's details for an order that
 * ended unshipped.
 */
function ignoredMessage(fields: string[], dropped: DroppedTime[] = []): string {
  // Times the order does not hold (its status contradicts them), grouped by why.
  const why = new Map<string, string[]>();
  for (const d of dropped) why.set(d.reason, [...(why.get(d.reason) ?? []), d.field]);
  const times = fields.filter((f) => KEPT_TIMES.has(f));
  const shipment = fields.filter((f) => f.startsWith("shipment.") && !KEPT_TIMES.has(f));
  const fixed = fields.filter((f) => !f.startsWith("shipment.") && !KEPT_TIMES.has(f) && f !== "note");
  return [
    ...(fixed.length ? [`not changed on an existing order: ${fixed.join(", ")} (an order's contents are fixed when it is created; cancel it and send a new order number to change them)`] : []),
    ...(times.length ? [`not changed: ${times.join(", ")} (the order holds the time given before, or set in chat; only a time the bot estimated is replaced)`] : []),
    ...(shipment.length ? [`not taken: ${shipment.join(", ")} (the order was cancelled or refunded before it shipped)`] : []),
    ...(fields.includes("note") ? ["not kept: note (a note is kept on the order's timeline with the status change its message brings; this message changes no status)"] : []),
    ...[...why].map(([reason, fs]) => `not taken: ${fs.join(", ")} (${reason})`),
  ].join("; ");
}

/** The API's answer for an order outcome. */
/**
 * Where an order's amounts do not add up as given: a subtotal that is not its lines' sum, a
 * total that is not subtotal − discount + shipping. Null when they do (or were left to default).
 */
export function amountsDiffer(m: OrderInput, dryRun = false): string | null {
  const out: string[] = [];
  const lines = m.items?.reduce((sum, i) => sum + i.qty * i.unitPrice, 0);
  if (lines !== undefined && m.subtotal !== undefined && m.subtotal !== lines) out.push(`subtotal ${m.subtotal} is not the lines' sum ${lines}`);
  const subtotal = m.subtotal ?? lines;
  if (m.total !== undefined && subtotal !== undefined) {
    const expected = subtotal - (m.discount ?? 0) + (m.shipping ?? 0);
    if (m.total !== expected) out.push(`total ${m.total} is not subtotal − discount + shipping (${expected})`);
  }
  if (!out.length) return null;
  // A dry run reads no orders: a new one would be stored so, one already stored is left as it is.
  return `${dryRun ? "if new, would be stored as sent" : "stored as sent"}, but ${out.join(" and ")} (minor units)`;
}

/**
 * An order message's result, with a warning when the order it created has amounts that do not
 * add up: stored as sent (a shop's line discounts may explain it), but said, since GMV and AOV
 * use the total and product revenue the lines, which then disagree.
 */
function orderItemResult(r: OrderIngestResult, m: OrderInput): ItemResult {
  const result = orderResult(r);
  const differs = r.kind === "created" ? amountsDiffer(m) : null;
  return differs ? { ...result, warning: "amounts_differ", message: [result.message, differs].filter(Boolean).join("; ") } : result;
}

export function orderResult(r: OrderIngestResult): ItemResult {
  const id = r.orderNo;
  switch (r.kind) {
    case "created":
    case "updated":
    case "unchanged":
      return {
        status: r.kind === "created" ? 201 : 200,
        outcome: r.kind,
        id,
        ...(r.ignored || r.dropped ? { ignored: [...(r.ignored ?? []), ...(r.dropped ?? []).map((d) => d.field)], message: ignoredMessage(r.ignored ?? [], r.dropped) } : {}),
        ...(r.dropped?.length ? { notTaken: r.dropped.map((d) => d.field) } : {}),
      };
    case "missing_customer":
      return { status: 400, outcome: "invalid", id, code: "invalid", message: "customerId: expected a value (required to create an order)", errors: [{ field: "customerId", expected: "a value (required to create an order)" }] };
    case "parked":
      return { status: 202, outcome: "parked", id, message: "order not known yet: the update is kept and applied when the order arrives" };
    case "invalid_transition":
      return { status: 409, outcome: "rejected", id, code: "invalid_transition", message: `order ${id} is ${r.from}; it cannot become ${r.to} (${transitionHint(r.from, r.to)})` };
    case "shipped_and_cancelled":
      return { status: 409, outcome: "rejected", id, code: "invalid_transition", message: `order ${id}: the message gives a ship or delivery time and cancels the order; an order is not cancelled once it has shipped (send a refund for a shipped order)` };
    case "unknown_sku":
      return { status: 422, outcome: "rejected", id, code: "unknown_sku", message: `unknown SKU(s): ${r.skus.join(", ")}; send the products first` };
    case "conflict":
      return { status: 409, outcome: "rejected", id, code: "conflict", message: `order ${id} kept changing; retry` };
  }
}

/**
 * What an order refused a status can become instead, so the sender knows what to send: the next
 * statuses ORDER_TRANSITIONS allows, or that its status is final; a shipped order is refunded, not cancelled.
 */
function transitionHint(from: OrderStatus, to: OrderStatus): string {
  const next = ORDER_TRANSITIONS[from];
  const allowed = next.length ? `from ${from} it can become ${next.join(" or ")}` : `${from} is final: nothing follows it`;
  const refund = to === "cancelled" && next.includes("refunded") ? `; to take back a ${from} order, send status refunded with its refundedAt` : "";
  return allowed + refund;
}

/** The 400 result of an item that does not validate. */
/** How far ahead of our clock a sender's timestamps may be (its clock runs fast). */
const FUTURE_SKEW_MS = 15 * 60_000;

/** Dotted paths of the Date values in a parsed item later than `limit` (ms). */
function datesAfter(v: unknown, limit: number, at = ""): string[] {
  if (v instanceof Date) return v.getTime() > limit ? [at] : [];
  if (!v || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, x]) => datesAfter(x, limit, at ? `${at}.${k}` : k));
}

function invalid(kind: IngestKind, raw: unknown, errors: FieldError[]): ItemResult {
  const id = itemId(kind, raw);
  return { status: 400, outcome: "invalid", ...(id ? { id } : {}), code: "invalid", message: errors.map((e) => `${e.field}: expected ${e.expected}`).join("; "), errors };
}

/**
 * The key under which items are applied one after another, in input order (batches and the
 * import run different keys side by side): the record they change. For refund requests that is
 * their order, not their own id: two requests on one order draw on one balance, so "3.00" then
 * "full" must ask for 3.00 and then the rest, never the other way round.
 */
export function sequenceKey(kind: IngestKind, raw: unknown): string | undefined {
  if (kind === "refund-requests" && raw && typeof raw === "object") {
    const no = (raw as Record<string, unknown>).orderNo;
    // Named exactly, as the API takes it (no look-alikes).
    if (typeof no === "string" && no.length <= 100) return `order:${no}`;
  }
  return itemId(kind, raw)?.toUpperCase();
}

/** The natural key of a raw item (orderNo, externalId, sku), when it is a plain string. */
export function itemId(kind: IngestKind, raw: unknown): string | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const v = kind === "orders" ? r.orderNo : kind === "complaints" || kind === "refund-requests" ? r.externalId : r.sku;
  return typeof v === "string" && v.length <= 100 ? v : undefined;
}
