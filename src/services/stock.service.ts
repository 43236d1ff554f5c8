import type { Clock } from "../core/clock.js";
import { addDays, dayStart, localDay, type Formatter } from "../core/format.js";
import { editDistance, escapeRegex, widthInsensitive, withoutInvisible } from "../core/text.js";
import type { ProductDoc, Store } from "../store/models.js";
import { incAsDoubles, isDuplicateKey } from "../store/writes.js";

/** Stock status of a product. */
export type StockStatus = "ok" | "low" | "cover" | "out" | "inactive";

/** A product with the figures derived from it. */
export interface StockView {
  sku: string;
  name: string;
  category: string;
  price: number;
  currency: string;
  onHand: number;
  reserved: number;
  available: number;
  reorderPoint: number;
  leadTimeDays: number;
  supplier: string;
  active: boolean;
  /** Units sold per day over the velocity window (`sold` ÷ `velocityDays`). */
  velocity: number;
  /** Units sold (by paid day) in the window's days since the product's first day. */
  sold: number;
  /** Days the velocity is over: the window, or fewer for a product younger than it (at least 1). */
  velocityDays: number;
  /** Created today (no earlier sales): no full day is counted yet (velocityDays says 1, sold is 0). */
  newToday: boolean;
  /** available ÷ velocity (0 when none is available); null when nothing sold in the window. */
  coverDays: number | null;
  status: StockStatus;
}

/** Outcome of {@link StockService.adjust}. Expected outcomes are results, not exceptions. */
export type AdjustResult =
  | { kind: "applied"; before: number; after: number; available: number }
  | { kind: "replayed"; onHand: number }
  | { kind: "insufficient"; available: number; onHand: number; reserved: number }
  | { kind: "not_found" }
  | { kind: "inactive" }
  | { kind: "key_conflict"; other: string }
  /** The product kept changing under every attempt (heavy contention): nothing changed. */
  | { kind: "busy" };

/** How many guarded updates an adjustment tries while the product, read again, shows it fits. */
const ADJUST_RETRIES = 8;

/** What a keyed ledger entry says of the change it names (a delta's, or a level's). */
type IntentOf = { sku: string; delta: number } | { sku: string; level: number };

/** A ledger entry as {@link LedgerIntents} reads it. */
interface LedgerEntry {
  _id: string;
  sku: string;
  delta: number;
  level?: number | null;
  onHandAfter?: number | null;
  status: string;
}

/** How long a pending entry nobody joined may wait before it is taken for an attempt that died. */
const STALE_INTENT_MS = 3_600_000;

/** The change a ledger entry names, as key conflicts say it: "SKU-1 +5", "SKU-1 set 40". */
export function changeText(e: { sku: string; delta: number; level?: number | null; onHandAfter?: number | null }): string {
  return e.level !== undefined && e.level !== null ? `${e.sku} set ${e.level}` : `${e.sku} ${e.delta > 0 ? "+" : ""}${e.delta}`;
}

/** One attempt's hold on a keyed ledger entry (see {@link LedgerIntents}). */
export interface LedgerHold {
  /** The change landed (the product holds the key): the entry says so, written again if it was withdrawn meanwhile. */
  applied(set: { onHandAfter: number; delta?: number }): Promise<void>;
  /** This attempt changed nothing: let go, and withdraw the entry if nobody else holds it. */
  release(): Promise<void>;
}

/**
 * The ledger entries of keyed stock changes (`stock adjust key=`, API deltas and keyed levels),
 * written before the product changes so a retry finds them. Several attempts with one key may
 * run at once (a retried request): the first writes the pending entry, the others join it
 * (`active` counts them, `heldAt` says when one last did), whichever lands marks it applied,
 * and an attempt that changed nothing withdraws it only when no other attempt still holds it:
 * none counted, or only one that died (the entry over an hour old and nobody joined since).
 * Each step is one single-document update; a crash leaves a pending entry for the next retry,
 * or for {@link StockService.settlePending}, which leaves alone an entry joined within the hour.
 */
export class LedgerIntents {
  constructor(private readonly store: Store) {}

  /**
   * Holds `key` for the change `change`: `claimed` (written, or joined a pending entry for the
   * same change), `applied` (a finished entry for the same change), or `conflict` (the key
   * names another change).
   */
  async claim(key: string, change: IntentOf, rest: { reason: string; actor: string; at: Date }): Promise<{ kind: "claimed"; hold: LedgerHold } | { kind: "applied"; prior: LedgerEntry } | { kind: "conflict"; prior: LedgerEntry }> {
    const same = "level" in change ? { sku: change.sku, level: change.level } : { sku: change.sku, delta: change.delta };
    const fields = { delta: 0, ...change, ...rest };
    const hold = this.hold(key, fields, rest.at);
    for (let attempt = 0; attempt < ADJUST_RETRIES; attempt++) {
      try {
        await this.store.ledger.create({ _id: key, ...fields, status: "pending", active: 1, heldAt: rest.at });
        return { kind: "claimed", hold };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
      const joined = await this.store.ledger.findOneAndUpdate({ _id: key, status: "pending", ...same }, { $inc: { active: 1 }, $set: { heldAt: rest.at } }, { returnDocument: "after" }).lean();
      if (joined) return { kind: "claimed", hold };
      const prior = await this.store.ledger.findById(key).lean<LedgerEntry>();
      // Withdrawn between our insert and our join: write it again.
      if (!prior) continue;
      // A level's entries written before `level` was kept (`set:<key>`) hold it in onHandAfter;
      // a delta's entry holds its result there, not a level: a count reusing it is a conflict.
      const priorLevel = prior.level ?? (prior._id.startsWith("set:") ? prior.onHandAfter : null) ?? null;
      const matches = prior.sku === change.sku && ("level" in change ? priorLevel === change.level : prior.delta === change.delta && priorLevel === null);
      if (!matches) return { kind: "conflict", prior };
      // The same change, pending: joined on the next round; applied: done before.
      if (prior.status === "applied") return { kind: "applied", prior };
    }
    throw new Error(`ledger key ${key} kept changing`);
  }

  private hold(key: string, fields: Record<string, unknown>, heldAt: Date): LedgerHold {
    const ledger = this.store.ledger;
    return {
      async applied(set) {
        // Only a pending entry: the first attempt to land says what it did; later ones change nothing.
        const r = await ledger.updateOne({ _id: key, status: "pending" }, { $set: { status: "applied", ...set }, $unset: { active: "", heldAt: "" } });
        // Not pending: applied by another attempt (kept as it is), or withdrawn while this one landed (written again).
        if (r.matchedCount === 0) await ledger.updateOne({ _id: key }, { $setOnInsert: { ...fields, ...set, status: "applied" } }, { upsert: true });
      },
      async release() {
        await ledger.updateOne({ _id: key, status: "pending" }, { $inc: { active: -1 } });
        const died = new Date(heldAt.getTime() - STALE_INTENT_MS);
        await ledger.deleteOne({ _id: key, status: "pending", $or: [{ active: { $lte: 0 } }, { at: { $lt: died }, heldAt: { $lte: heldAt } }] });
      },
    };
  }
}

/** The filter part of a product that does not hold the stock change `key` yet (new keys in `ledgerKeys`, older ones in `appliedKeys`). */
export function notHolding(key: string): Record<string, unknown> {
  return { ledgerKeys: { $ne: key }, appliedKeys: { $ne: key } };
}

/** True when the product holds the stock change `key` (see {@link notHolding}). */
export function holds(p: Pick<ProductDoc, "appliedKeys"> & { ledgerKeys?: string[] | null }, key: string): boolean {
  return !!(p.ledgerKeys?.includes(key) || p.appliedKeys?.includes(key));
}

/** How many applied keys a product remembers (stock adjustments and order effects); older stock retries are caught by the ledger. */
export const PRODUCT_KEPT_KEYS = 200;

/** Days of daily sales a product keeps (more than the default window, so a longer one set later still has some history). */
const SALES_KEPT_DAYS = 90;

/** Meta document: wall time (ms) at which the low-stock job's last scan started. */
export const LOW_WATERMARK = "low-stock:watermark";
/**
 * Meta document: the velocity window and time zone the stored thresholds (lowAt, lowGap) were
 * computed with ("28d Asia/Shanghai"). A process started with others trusts none of them until
 * its first scan has computed them all again (see {@link StockService.lastScanSince}).
 */
export const LOW_BASIS = "low-stock:basis";
/** Products changed this long before a scan started are read again (clock skew between instances). */
const LOW_CHANGE_SLACK_MS = 5 * 60_000;

/**
 * The product fields {@link StockService.view} and the coupon warnings (cost) read: scans
 * over many products project to these, leaving out appliedKeys (up to 200 keys each).
 */
export const VIEW_FIELDS = {
  _id: 1,
  name: 1,
  category: 1,
  price: 1,
  cost: 1,
  currency: 1,
  onHand: 1,
  reserved: 1,
  available: 1,
  reorderPoint: 1,
  leadTimeDays: 1,
  supplier: 1,
  active: 1,
  salesByDay: 1,
  createdAt: 1,
} as const;

/** Product lookup, derived stock figures, and atomic, idempotent adjustments. */
export class StockService {
  /** The keyed changes' ledger entries (shared with keyed levels, see IngestService). */
  readonly intents: LedgerIntents;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: { timeZone: string; velocityWindowDays: number },
  ) {
    this.intents = new LedgerIntents(store);
  }

  /** Derives velocity, days of cover and status for a product. */
  view(p: ProductDoc): StockView {
    return derive(p, this.window());
  }

  /**
   * Days of a product's daily sales that nothing reads any more: older than
   * {@link SALES_KEPT_DAYS}, or than the window if it is longer.
   */
  staleSalesDays(p: Pick<ProductDoc, "salesByDay">, today: string): string[] {
    const keepFrom = addDays(today, -Math.max(SALES_KEPT_DAYS, this.opts.velocityWindowDays + 1));
    return Object.keys(toRecord(p.salesByDay)).filter((day) => day < keepFrom);
  }

  /** {@link view} of each product, with the velocity window worked out once for all of them. */
  views(docs: readonly ProductDoc[]): StockView[] {
    const w = this.window();
    return docs.map((d) => derive(d, w));
  }

  /**
   * The velocity window: the w full shop days before today, newest first (today's partial sales
   * would skew it), and the instant its oldest day starts.
   */
  private window(): Window {
    const today = localDay(this.clock.now(), this.opts.timeZone);
    const days = Array.from({ length: this.opts.velocityWindowDays }, (_, i) => addDays(today, -(i + 1)));
    return { days, timeZone: this.opts.timeZone, start: dayStart(days[days.length - 1]!, this.opts.timeZone) };
  }

  /** The product with this exact SKU (case-insensitive input). */
  async bySku(sku: string): Promise<StockView | null> {
    // Only what a view shows: not the product's applied keys (up to PRODUCT_KEPT_KEYS of them).
    const p = await this.store.products.findById(plainSku(sku)).select(VIEW_FIELDS).lean<ProductDoc>();
    return p ? this.view(p) : null;
  }

  /**
   * The SKU meant by one typed in a sentence: the punctuation after it (`SKU-1001.`,
   * `sku-1001,`, `SKU-1001。`) is not part of it, unless a product's SKU ends so. In the form
   * products are stored under ({@link plainSku}); else `typed` as it is (a product, or none: its
   * refusal quotes what was typed).
   */
  async skuAsMeant(typed: string): Promise<string> {
    const sku = plainSku(typed);
    const bare = sku.replace(/[.,;:!?。，；：！？、…]+$/, "");
    if (bare === sku || !bare || (await this.store.products.exists({ _id: sku }))) return typed;
    return (await this.store.products.exists({ _id: bare })) ? bare : typed;
  }

  /** Products whose name contains every word, or whose SKU starts with the query. */
  async search(typed: string, limit = 10): Promise<{ matches: StockView[]; total: number }> {
    // Full-width letters and digits (ＳＫＵ－１００１, ５００ml) read as plain, as ids are in chat.
    const query = withoutInvisible(typed.normalize("NFKC")).trim();
    const words = query.split(/\s+/).filter(Boolean);
    const filter = {
      $or: [
        { _id: new RegExp(`^${escapeRegex(query.toUpperCase())}`) },
        // Names as the shop wrote them (`保温杯（大号）`, `ＡＢＣ Mug`): found by words typed in either width.
        { $and: words.map((w) => ({ name: new RegExp(widthInsensitive(w), "i") })) },
      ],
    };
    const [docs, total] = await Promise.all([
      this.store.products.find(filter).select(VIEW_FIELDS).sort({ _id: 1 }).limit(limit).lean<ProductDoc[]>(),
      this.store.products.countDocuments(filter),
    ]);
    return { matches: this.views(docs), total };
  }

  /** Up to `n` SKUs close to a query that matched nothing (typos, missing digits). */
  async suggest(typed: string, n = 3): Promise<string[]> {
    const query = withoutInvisible(typed.normalize("NFKC")).trim();
    const q = query.toUpperCase();
    // Letters typed for digits inside a number (`SKU-1O01`, `SKU-l001`: O for 0, l or I for 1) read as those digits.
    const qd = query.replace(/[0-9OolI]*\d[0-9OolI]*/g, (run) => run.replace(/[Oo]/g, "0").replace(/[lI]/g, "1")).toUpperCase();
    const cut = (s: string) => s.replace(/[^A-Z0-9_.:-]/g, "").slice(0, Math.max(1, Math.min(6, s.length - 2)));
    const prefixes = [...new Set([cut(q), cut(qd)].filter(Boolean))];
    const words = query.split(/\s+/).filter((w) => w.length >= 2);
    // The query's number (`1001` of `SKU1001`, `SUK-1001`, `SKU-1O01`): SKUs holding it are
    // candidates too, and SKUs are compared without their punctuation (`SKU1001` is `SKU-1001`).
    const digits = qd.replace(/\D/g, "");
    const bare = (s: string) => s.replace(/[^A-Z0-9]/g, "");
    const partials = words.map((w) => w.slice(0, Math.max(2, w.length - 1)).toLowerCase());
    const or = [
      ...prefixes.map((p) => ({ _id: new RegExp(`^${escapeRegex(p)}`) })),
      ...(digits.length >= 3 ? [{ _id: new RegExp(escapeRegex(digits)) }] : []),
      ...partials.map((w) => ({ name: new RegExp(widthInsensitive(w), "i") })),
    ];
    if (!or.length) return [];
    const docs = await this.store.products
      .find({ $or: or })
      .select({ _id: 1, name: 1 })
      .limit(500)
      .lean<{ _id: string; name: string }[]>();
    return docs
      // A name holding most of a typed word (`保温` of `保温怀`) is as close as a one-letter slip.
      // So is a SKU whose number is the typed number (`1001` of SKU-1001; not SKU-10010), ahead of names on a tie.
      .map((d) => ({
        sku: d._id,
        d: Math.min(
          editDistance(q, d._id),
          editDistance(bare(q), bare(d._id)),
          editDistance(qd, d._id),
          editDistance(bare(qd), bare(d._id)),
          digits.length >= 3 && d._id.replace(/\D/g, "") === digits ? 0.5 : Infinity,
          partials.some((w) => d.name.normalize("NFKC").toLowerCase().includes(w)) ? 1 : editDistance(query.toLowerCase(), d.name.normalize("NFKC").toLowerCase()),
        ),
      }))
      .sort((a, b) => a.d - b.d || a.sku.localeCompare(b.sku))
      .slice(0, n)
      .map((x) => x.sku);
  }

  /**
   * Active products below their reorder point or whose cover is below lead time, worst first.
   * Once the low-stock job has scanned, only the products it stored as low, or that it has not
   * seen as they are now (another day, changed since its last scan), are read; each is judged
   * from its current figures. Without a scan every active product is read.
   */
  async low(limit = 15, skip = 0): Promise<{ items: StockView[]; total: number }> {
    const since = await this.lastScanSince();
    const today = localDay(this.clock.now(), this.opts.timeZone);
    const filter = since ? { active: true, $or: [{ lowGap: { $lte: 0 } }, ...unscanned(today, since)] } : { active: true };
    const docs = await this.store.products.find(filter).select(VIEW_FIELDS).lean<ProductDoc[]>();
    const low = this.views(docs).filter(isLow).sort(byUrgency);
    return { items: low.slice(skip, skip + limit), total: low.length };
  }

  /**
   * A little before the low-stock job's last scan started (`slackMs` for clock skew between
   * instances): products changed since then are not yet seen by it. Null before any scan, and
   * while the stored thresholds were computed with another velocity window or time zone (a
   * restart with new settings): then none of them is trusted, as before any scan.
   */
  async lastScanSince(slackMs = LOW_CHANGE_SLACK_MS): Promise<Date | null> {
    const s = await this.lowScanState(slackMs);
    return s.basisChanged ? null : s.since;
  }

  /**
   * What the low-stock scan starts from, read in one query: whether the stored thresholds were
   * computed with another window or time zone than this process's ({@link LOW_BASIS}), and
   * {@link lastScanSince}'s watermark as stored (null before any scan).
   */
  async lowScanState(slackMs = LOW_CHANGE_SLACK_MS): Promise<{ basisChanged: boolean; since: Date | null }> {
    const marks = await this.store.meta.find({ _id: { $in: [LOW_WATERMARK, LOW_BASIS] } }).lean();
    const mark = marks.find((m) => m._id === LOW_WATERMARK);
    return {
      basisChanged: basisDiffers(marks.find((m) => m._id === LOW_BASIS)?.value, this.lowBasis()),
      since: typeof mark?.value === "number" ? new Date(mark.value - slackMs) : null,
    };
  }

  /** What the stored thresholds depend on besides each product (stored as {@link LOW_BASIS}). */
  lowBasis(): string {
    return `${this.opts.velocityWindowDays}d ${this.opts.timeZone}`;
  }

  /**
   * Changes on-hand stock by `delta`, exactly once per `key`:
   * 1. record the intent in the ledger under the key (unique _id: a replay finds it), or join
   *    a pending one for the same change (a concurrent retry): {@link LedgerIntents.claim};
   * 2. one guarded update of the product (available ≥ −delta, key not yet applied), tried again
   *    while the product read afterwards shows the change fits (another change landed between);
   * 3. mark the ledger entry applied, or give the intent up (withdrawn once no attempt holds it).
   * A crash after 1 or 2 leaves a pending entry that a retry with the same key finishes.
   */
  async adjust(input: { sku: string; delta: number; reason: string; actor: string; key: string }): Promise<AdjustResult> {
    const sku = input.sku.toUpperCase();
    const { delta, key } = input;
    const claim = await this.intents.claim(key, { sku, delta }, { reason: input.reason, actor: input.actor, at: this.clock.now() });
    if (claim.kind === "conflict") return { kind: "key_conflict", other: changeText(claim.prior) };
    if (claim.kind === "applied") {
      const p = await this.store.products.findById(sku).lean<ProductDoc>();
      return { kind: "replayed", onHand: p?.onHand ?? 0 };
    }
    const { hold } = claim;
    // A key names one change: a level shares the key's entry, except one written before levels
    // did (`set:<key>`), looked at here.
    const level = await this.store.ledger.findById(`set:${key}`).select({ sku: 1, level: 1, onHandAfter: 1 }).lean<{ sku: string; level?: number | null; onHandAfter?: number | null }>();
    if (level) {
      await hold.release();
      return { kind: "key_conflict", other: changeText({ sku: level.sku, delta: 0, level: level.level ?? level.onHandAfter }) };
    }
    const guard: Record<string, unknown> = { _id: sku, active: true, ...notHolding(key) };
    if (delta < 0) guard.available = { $gte: -delta };
    for (let attempt = 0; attempt < ADJUST_RETRIES; attempt++) {
      // Sent as it is, the amounts as doubles (see incAsDoubles); updatedAt as mongoose would set it,
      // wall time and not this.clock: a change marker compared with the low-stock scan's wall-time
      // watermark (lastScanSince); a clock behind the wall would hide this change from `stock low`.
      const after = (await this.store.products.collection.findOneAndUpdate(
        guard as never,
        { $inc: incAsDoubles({ onHand: delta, available: delta }), $push: { ledgerKeys: { $each: [key], $slice: -PRODUCT_KEPT_KEYS } } as never, $set: { updatedAt: new Date() } },
        { returnDocument: "after" },
      )) as ProductDoc | null;
      if (after) {
        await hold.applied({ onHandAfter: after.onHand });
        return { kind: "applied", before: after.onHand - delta, after: after.onHand, available: after.available };
      }
      const p = await this.store.products.findById(sku).lean<ProductDoc>();
      if (p && holds(p, key)) {
        // Applied by a concurrent or earlier attempt with the same key.
        await hold.applied({ onHandAfter: p.onHand });
        return { kind: "replayed", onHand: p.onHand };
      }
      // It fits as the product stands now: another change landed between the update and the read.
      if (p && p.active && (delta >= 0 || p.available >= -delta)) continue;
      // Nothing changed: give the intent up, so the ledger holds only real changes.
      await hold.release();
      if (!p) return { kind: "not_found" };
      if (!p.active) return { kind: "inactive" };
      return { kind: "insufficient", available: p.available, onHand: p.onHand, reserved: p.reserved };
    }
    await hold.release();
    return { kind: "busy" };
  }

  /**
   * Settles ledger entries left pending before `before` by an attempt that stopped between its
   * steps (a crash, a lost connection) and was never retried, as a chat adjustment never is:
   * marked applied when the product holds the key, else withdrawn (the change never landed).
   */
  async settlePending(before: Date): Promise<{ applied: number; withdrawn: number }> {
    const pending = await this.store.ledger.find({ status: "pending", at: { $lt: before } }).select({ _id: 1, sku: 1 }).limit(500).lean();
    let applied = 0;
    let withdrawn = 0;
    for (const e of pending) {
      const landed = await this.store.products.exists({ _id: e.sku, $or: [{ ledgerKeys: e._id }, { appliedKeys: e._id }] });
      if (landed) applied += (await this.store.ledger.updateOne({ _id: e._id, status: "pending" }, { $set: { status: "applied" } })).modifiedCount;
      // Not one an attempt joined within the hour (a retry working on it now).
      else withdrawn += (await this.store.ledger.deleteOne({ _id: e._id, status: "pending", $or: [{ heldAt: { $lt: before } }, { heldAt: { $exists: false } }] })).deletedCount;
    }
    return { applied, withdrawn };
  }
}

/**
 * A stored basis other than `current`. None stored (a new database, or one from before the basis
 * was kept) is not a change: its thresholds are refreshed as before, a day at a time, rather than
 * all at once (a full recompute is one guarded write per product).
 */
function basisDiffers(stored: unknown, current: string): boolean {
  return stored !== undefined && stored !== null && stored !== current;
}

/** Filter terms of products the low-stock scan has not seen as they are now: of another shop day, or changed since `changedSince`. */
export function unscanned(today: string, changedSince: Date | null): Record<string, unknown>[] {
  return [{ lowDay: { $ne: today } }, ...(changedSince ? [{ updatedAt: { $gt: changedSince } }] : [])];
}

/** A low product: out of stock, at or below its reorder point, or with cover below its lead time. */
export function isLow(v: StockView): boolean {
  return v.status === "out" || v.status === "low" || v.status === "cover";
}

/**
 * Out of stock first (the fastest sellers first: they lose the most sales), then the fewest days
 * of cover, then (no sales) the furthest below the reorder point; SKU breaks ties.
 */
export function byUrgency(a: StockView, b: StockView): number {
  const out = a.available <= 0 && b.available <= 0 ? b.velocity - a.velocity : 0;
  return urgency(a) - urgency(b) || out || a.sku.localeCompare(b.sku);
}

function urgency(v: StockView): number {
  if (v.available <= 0) return -1;
  if (v.coverDays !== null) return v.coverDays;
  // No sales: rank by how far below the reorder point, after everything with a cover figure.
  return 1e6 + v.available - v.reorderPoint;
}

/**
 * Days of cover as shown (card, `stock low`, alerts): rounded down to a tenth of a day, so a
 * product below its lead time never shows the lead time (6.96 → 6.9, worked out in whole numbers
 * like the status); under a tenth with stock left is "<0.1" (0 means none available). Null when
 * nothing sold in the window. `column`: always one decimal ("7.0", "0.0"), so a table's Cover
 * column lines up ("7" beside "7.3" read as a rounder figure); the card says "7 days".
 */
export function coverText(v: Pick<StockView, "available" | "sold" | "velocityDays">, fmt: Formatter, opts: { column?: boolean } = {}): string | null {
  if (v.sold <= 0) return null;
  const tenths = v.available <= 0 ? 0 : Math.floor((v.available * v.velocityDays * 10) / v.sold);
  if (tenths === 0 && v.available > 0) return `<${fmt.number(0.1, 1)}`;
  // The tenths written out (both locales write a decimal point), the whole days grouped as numbers are.
  if (opts.column) return `${fmt.number(Math.floor(tenths / 10))}.${tenths % 10}`;
  return fmt.number(tenths / 10, 1);
}

/** Units a day as shown: one decimal from 1 a day, two significant digits below (1 in 28 days is 0.036, not 0). */
export function velocityText(velocity: number, fmt: Formatter): string {
  if (velocity <= 0 || velocity >= 1) return fmt.number(velocity, 1);
  return fmt.number(velocity, 1 - Math.floor(Math.log10(velocity)));
}

/** A SKU as typed, in the form products are stored under: full-width characters plain (NFKC), invisible ones (a pasted U+200B) gone, trimmed, upper case. */
export function plainSku(typed: string): string {
  return withoutInvisible(typed.normalize("NFKC")).trim().toUpperCase();
}

/** The velocity window of {@link StockService}. */
interface Window {
  /** Its shop days, newest (yesterday) first. */
  days: readonly string[];
  timeZone: string;
  /** When its oldest day starts: a product created before that has the whole window. */
  start: Date;
}

/**
 * Velocity, cover and status of a product over the window. A product younger than the window
 * (created within it, with no sales before) is judged over its days since its creation day:
 * 10 a day over its 4 days is 10 a day, not 40 ÷ 28. Comparisons are in whole numbers (available × days against sold × lead
 * time), so a product exactly at its lead time is judged alike here and by the low-stock job.
 */
function derive(p: ProductDoc, w: Window): StockView {
  const sales = toRecord(p.salesByDay);
  let first = "";
  if (p.createdAt && p.createdAt > w.start) {
    first = localDay(p.createdAt, w.timeZone);
    // Sales before the record was created (a catalog imported with its order history): the
    // product is older than its record, and its first sale says nothing about its age.
    for (const d of Object.keys(sales)) if (d < first && (sales[d] ?? 0) > 0) first = "";
  }
  let sold = 0;
  let days = 0;
  for (const d of w.days) {
    if (d < first) break;
    days++;
    sold += sales[d] ?? 0;
  }
  const newToday = days === 0;
  days = Math.max(1, days);
  const velocity = sold / days;
  const coverDays = sold > 0 ? Math.max(0, (p.available * days) / sold) : null;
  let status: StockStatus = "ok";
  if (!p.active) status = "inactive";
  else if (p.available <= 0) status = "out";
  else if (p.available <= p.reorderPoint) status = "low";
  else if (sold > 0 && p.available * days < sold * p.leadTimeDays) status = "cover";
  return {
    sku: p._id,
    name: p.name,
    category: p.category,
    price: p.price,
    currency: p.currency,
    onHand: p.onHand,
    reserved: p.reserved,
    available: p.available,
    reorderPoint: p.reorderPoint,
    leadTimeDays: p.leadTimeDays,
    supplier: p.supplier ?? "",
    active: p.active,
    velocity,
    sold,
    velocityDays: days,
    newToday,
    coverDays,
    status,
  };
}

function toRecord(m: unknown): Record<string, number> {
  if (!m) return {};
  if (m instanceof Map) return Object.fromEntries(m) as Record<string, number>;
  return m as Record<string, number>;
}
