import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { addDays, dayStart, localDay, type Formatter } from "../core/format.js";
import type { Logger } from "../core/logger.js";
import type { Translate } from "../core/messages.js";
import type { Reply } from "../core/reply.js";
import type { ProductDoc, StockAlertDoc, Store } from "../store/models.js";
import type { AlertService } from "./alert.service.js";
import { byUrgency, coverText, isLow, LOW_BASIS, LOW_WATERMARK, unscanned, VIEW_FIELDS, type StockService, type StockView } from "./stock.service.js";
import { isDuplicateKey } from "../store/writes.js";

/** Options of the low-stock alerts (from configuration). */
export interface LowStockOptions {
  timeZone: string;
  /** Hysteresis: alert again only after available exceeds the threshold by this percentage (at least 1 unit). */
  marginPct: number;
  safetyDays: number;
  coverDays: number;
  /** Products listed with buttons in one message. */
  show: number;
  /** Products changed this long before the previous scan started are refreshed again (clock skew between instances; default 5 min). */
  changeSlackMs?: number;
}

/** A low product in an alert, with its suggested reorder quantity. */
export interface LowItem {
  view: StockView;
  threshold: number;
  reorderQty: number;
  /** The PO on record for it: on its way (it sold out meanwhile), or overdue (its hold ended with the product still low). */
  po?: { eta: string; qty?: number; by?: string };
}

/** What one scan did. */
export interface ScanResult {
  low: number;
  alerted: LowItem[];
  recovered: string[];
  queued: number;
  heldUntil?: Date;
  /** Crossings (not sell-outs) found in quiet hours: not queued; the first scan after them alerts those still low. */
  deferred: number;
}

/**
 * Outcome of a snooze or PO: held until `until` (a snooze longer than a running PO keeps that PO
 * on record: `po`; a PO whose hold ends before a running snooze keeps that snooze: `snoozedBy`);
 * or not, because a PO holds longer (`po_holds`) or the SKU is unknown. `sellout`: a sell-out
 * during the hold is still announced (the product is in stock now). `replaced`: the PO on record
 * that a new PO replaced (another date or quantity), so the reply can name it.
 */
export type SnoozeResult =
  | { kind: "ok"; until: Date; sellout: boolean; po?: { eta: string; qty?: number; by?: string }; snoozedBy?: string; replaced?: PoInfo }
  | { kind: "po_holds"; until: Date; eta: string }
  /** The same PO (date and quantity) is on record already, its hold running: nothing changed, whoever recorded it stays named. */
  | { kind: "po_on_record"; until: Date; po: PoInfo }
  /** A colleague's snooze runs longer (with the PO on record beside it, if any): nothing changed. */
  | { kind: "snooze_holds"; until: Date; by: string; po?: { eta: string; qty?: number; by?: string } }
  /** The product is inactive (discontinued): it gets no low-stock alerts to hold. */
  | { kind: "inactive" }
  /** The alert state kept changing under every attempt: nothing changed. */
  | { kind: "busy" }
  | { kind: "not_found" };

/**
 * Outcome of ending a hold: what it was (a snooze, by whom, and/or a PO), or an overdue PO
 * dropped (it held nothing any more), or nothing held, or an unknown SKU.
 */
export type UnsnoozeResult =
  | { kind: "ended"; until: Date; snoozedBy?: string; po?: { eta: string; qty?: number; by?: string } }
  | { kind: "po_dropped"; po: { eta: string; qty?: number; by?: string } }
  | { kind: "none" }
  | { kind: "not_found" };

/** A PO as the alert state records it. */
export interface PoInfo {
  eta: string;
  qty?: number;
  by?: string;
}

/**
 * What holds a product's low-stock alerts now (a snooze, a PO, a snooze outlasting a PO), or a
 * PO whose hold ended with the product still low (overdue): as the card and `stock low` show it.
 */
export type Hold =
  | { kind: "snooze"; until: Date; by: string }
  | { kind: "po"; until: Date; po: PoInfo }
  | { kind: "snooze_po"; until: Date; by: string; po: PoInfo }
  | { kind: "po_overdue"; po: PoInfo };

/** A low-stock scan told to stop (shutdown, timeout) before its end: what it did is kept, the next run does the rest. */
export class ScanStoppedError extends Error {
  constructor() {
    super("low-stock scan stopped before its end (told to stop); the next run does the rest");
    this.name = "ScanStoppedError";
  }
}

/** Throws {@link ScanStoppedError} once `signal` is aborted: checked between a scan's writes. */
function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ScanStoppedError();
}

/** An alerted product whose message was never queued is sent by a later scan once its marking is this old (a run still going has finished by then). */
const UNSENT_AFTER_MS = 10 * 60_000;

/** Active products whose stored gap says low (indexed): what the scan reads besides the products due a refresh. */
const LOW_BY_GAP = { active: true, lowGap: { $lte: 0 } };

/**
 * Low-stock detection and alert state.
 *
 * Threshold: a product is low when available ≤ lowAt, with
 * lowAt = max(reorderPoint, ⌈velocity × leadTimeDays⌉ − 1): at or below the
 * reorder point, or days of cover (available ÷ velocity) below the lead time.
 * It is stored on the product with lowGap = available − lowAt, so a scan is one
 * indexed query (`active, lowGap ≤ 0`). lowAt changes with the shop day
 * (velocity) and lowGap with stock: each scan first refreshes products of
 * another day or changed since the previous scan (by `updatedAt`).
 *
 * Hysteresis: after an alert a product re-arms only when available >
 * lowAt + max(1, ⌈lowAt × marginPct / 100⌉).
 *
 * Suggested reorder quantity:
 * max(⌈velocity × (leadTime + coverDays + safetyDays)⌉, re-arm level + 1) − available:
 * what sells during the lead time and the cover period, plus safety stock of
 * `safetyDays` of sales, and at least enough to clear the alert.
 */
export class LowStockService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly stock: StockService,
    private readonly alerts: AlertService,
    private readonly opts: LowStockOptions,
    private readonly logger: Logger,
  ) {}

  /** The stored threshold of a product: low when available ≤ this. */
  threshold(v: Pick<StockView, "reorderPoint" | "sold" | "velocityDays" | "leadTimeDays">): number {
    // ⌈sold × lead ÷ days⌉ − 1 in whole numbers: the same boundary as the view's status.
    const byCover = v.sold > 0 ? Math.ceil((v.sold * v.leadTimeDays) / v.velocityDays) - 1 : 0;
    return Math.max(v.reorderPoint, byCover);
  }

  /** Available must exceed this before a product alerts again. */
  rearmLevel(threshold: number): number {
    return threshold + Math.max(1, Math.ceil((threshold * this.opts.marginPct) / 100));
  }

  /** Suggested reorder quantity (see the class comment). */
  reorderQty(v: StockView, threshold: number): number {
    const demand = Math.ceil(v.velocity * (v.leadTimeDays + this.opts.coverDays + this.opts.safetyDays) - 1e-9);
    return Math.max(1, Math.max(demand, this.rearmLevel(threshold) + 1) - v.available);
  }

  /**
   * Refreshes the stored thresholds (lowAt/lowGap) of products from another shop day or changed
   * since `changedSince` (wall time, as mongoose writes updatedAt; null: of another shop day
   * only; "all": every product, as with no scan yet or thresholds stored under another window or
   * time zone), and returns the low ones, from ONE read of the products: those due a refresh
   * together with those whose stored gap says low (indexed). Each one due is written (guarded by
   * the stock it was computed from) and judged by the threshold just computed; the others by
   * their stored gap; all confirmed from their figures. A product that changes after the read is
   * newer than this scan's watermark, so the next scan refreshes and judges it again.
   */
  async refreshCandidates(changedSince: Date | null | "all", signal?: AbortSignal): Promise<{ refreshed: number; low: StockView[] }> {
    const today = localDay(this.clock.now(), this.opts.timeZone);
    const filter = changedSince === "all" ? {} : { $or: [...unscanned(today, changedSince), LOW_BY_GAP] };
    const docs = await this.store.products.find(filter).select({ ...VIEW_FIELDS, lowDay: 1, lowGap: 1, updatedAt: 1 }).lean<ProductDoc[]>();
    const views = this.stock.views(docs);
    const low: StockView[] = [];
    let refreshed = 0;
    for (const [i, d] of docs.entries()) {
      const v = views[i]!;
      // The same test as unscanned(), in code: which of the products read are due a refresh.
      const due = changedSince === "all" || d.lowDay !== today || (changedSince !== null && !!d.updatedAt && d.updatedAt > changedSince);
      let gap = d.lowGap;
      if (due) {
        // A whole recompute can take minutes: a run told to stop (shutdown, timeout) stops between
        // products; each write is complete and guarded, so the next run refreshes the rest.
        stopIfAborted(signal);
        gap = await this.writeThreshold(d, v, today);
        refreshed++;
      }
      if (d.active && gap !== undefined && gap !== null && gap <= 0 && isLow(v)) low.push(v);
    }
    return { refreshed, low };
  }

  /**
   * Stores a product's threshold as computed from `d` (guarded by the stock it was computed
   * from: a product that changed meanwhile is left for the next scan). Returns the gap computed.
   */
  private async writeThreshold(d: ProductDoc, v: StockView, today: string): Promise<number> {
    const lowAt = this.threshold(v);
    // Daily sales no longer read are dropped as we pass: a document does not grow by a day forever.
    const old = this.stock.staleSalesDays(d, today);
    // One guarded updateOne per product, in turn (bulkWrite and parallel writes are far slower on the FerretDB test server).
    await this.store.products.updateOne(
      { _id: d._id, available: d.available, reorderPoint: d.reorderPoint, leadTimeDays: d.leadTimeDays },
      { $set: { lowAt, lowGap: d.available - lowAt, lowDay: today }, ...(old.length ? { $unset: Object.fromEntries(old.map((day) => [`salesByDay.${day}`, 1])) } : {}) },
      // Not a change of the product: keep updatedAt, which the next refresh reads.
      { timestamps: false },
    );
    return d.available - lowAt;
  }

  /**
   * One low-stock run for `slot`: refresh thresholds, re-arm recovered
   * products, alert each product that crossed its threshold (once per crossing)
   * in one batched message, worst first.
   */
  async scan(input: { slot: Date; t: Translate; fmt: Formatter; signal?: AbortSignal }): Promise<ScanResult> {
    const now = this.clock.now();
    const slotIso = input.slot.toISOString();
    const wallStart = Date.now();
    // Thresholds computed with another window or time zone (a restart with new settings): all recomputed now.
    const state = await this.stock.lowScanState(this.opts.changeSlackMs);
    // The refresh and the low candidates in one read of the products (each a full scan on a
    // server without indexes, so one read, not two).
    const { low } = await this.refreshCandidates(state.basisChanged ? "all" : state.since, input.signal);
    // Stopped during the refresh: neither the basis nor the watermark is written (the thresholds
    // are not all this process's yet), so the next run refreshes what this one left.
    stopIfAborted(input.signal);
    // Every threshold now follows this process's window and time zone: say so, so later scans and
    // `stock low` trust them again (a product changed during the refresh is newer than the watermark).
    await this.store.meta.updateOne({ _id: LOW_BASIS }, { $set: { value: this.stock.lowBasis() } }, { upsert: true });
    const lowSkus = new Set(low.map((v) => v.sku));

    // Re-arm products that recovered above their threshold plus the margin. A hold set while the
    // product was well stocked (a PO or snooze ahead of time) is not a recovery: it lasts until
    // its end, unless the product drops to its re-arm level meanwhile (then a restock re-arms it).
    const watched = await this.store.stockAlerts.find({ state: { $in: ["alerted", "snoozed"] } }).lean<StockAlertDoc[]>();
    const recovered: string[] = [];
    if (watched.length) {
      const watchedBySku = new Map(watched.map((w) => [w._id, w]));
      const prods = await this.store.products.find({ _id: { $in: [...watchedBySku.keys()] } }).select(VIEW_FIELDS).lean<ProductDoc[]>();
      for (const v of this.stock.views(prods)) {
        stopIfAborted(input.signal);
        const w = watchedBySku.get(v.sku)!;
        if (!v.active) continue;
        if (lowSkus.has(v.sku) || v.available <= this.rearmLevel(this.threshold(v))) {
          if (w.heldAbove) await this.store.stockAlerts.updateOne({ _id: v.sku, state: "snoozed", heldAbove: true }, { $unset: { heldAbove: 1 } });
          // No longer low once its PO's hold has ended: stock came in, so that PO is not overdue
          // (guarded by the state as read: a PO or snooze placed meanwhile is kept).
          const holdEnded = w.state === "alerted" || (w.state === "snoozed" && !!w.snoozedUntil && w.snoozedUntil <= now);
          if (!lowSkus.has(v.sku) && holdEnded && w.po?.eta) {
            await this.store.stockAlerts.updateOne({ _id: v.sku, state: w.state, snoozedUntil: w.snoozedUntil ?? null, "po.eta": w.po.eta }, { $unset: { po: 1 } });
          }
          continue;
        }
        if (w.state === "snoozed" && w.heldAbove && w.snoozedUntil && w.snoozedUntil > now) continue;
        // Guarded by the hold as read: a PO or snooze placed during this scan is not wiped.
        const r = await this.store.stockAlerts.updateOne(
          { _id: v.sku, state: w.state, snoozedUntil: w.snoozedUntil ?? null, heldAbove: w.heldAbove ?? null },
          { $set: { state: "armed", recoveredAt: now }, $unset: { snoozedUntil: 1, outAt: 1, lowOnly: 1, heldAbove: 1, po: 1 } },
        );
        if (r.modifiedCount === 1) recovered.push(v.sku);
      }
    }

    // The last point to stop: once crossings are marked, they are sent (a short loop over the low products).
    stopIfAborted(input.signal);
    // One alert per crossing: the armed → alerted transition is one guarded update (or the first insert).
    const states = new Map((await this.store.stockAlerts.find({ _id: { $in: [...lowSkus] } }).lean<StockAlertDoc[]>()).map((s) => [s._id, s]));
    const alertedSkus = new Set<string>();
    // Quiet hours: only sell-outs (urgent) are announced. A crossing queued now would wait until
    // morning and be stale by then (restocked, sold out, crossed again); it is left as it is, and
    // the first scan after quiet hours alerts it if it is still low, from the product as it then is.
    const quiet = this.alerts.quietUntil(now) !== null;
    let deferred = 0;
    for (const v of low) {
      const s = states.get(v.sku);
      if (quiet && v.available > 0) {
        const due = !s || s.state === "armed" || s.unsent || (s.state === "snoozed" && !!s.snoozedUntil && s.snoozedUntil <= now);
        if (due) deferred++;
        continue;
      }
      if (s?.alertSlot === slotIso && s.state === "alerted") {
        // Marked by an earlier attempt of this slot (taken over or retried): sent again only if
        // that attempt did not queue it.
        if (s.unsent) alertedSkus.add(v.sku);
        continue;
      }
      const out = v.available <= 0;
      if ((s?.state === "alerted" || s?.state === "snoozed") && out && s.lowOnly) {
        // Alerted as low, now out of stock: announced once more, urgently (quiet hours held the
        // first alert, or it sold out since; a snooze or a PO does not hold this one). A hold that
        // has ended by now ends here too: this is also the alert its end brings, not one more.
        const ended = s.state === "snoozed" && !!s.snoozedUntil && s.snoozedUntil <= now;
        const r = await this.store.stockAlerts.updateOne(
          ended ? { _id: v.sku, state: "snoozed", lowOnly: true, snoozedUntil: { $lte: now } } : { _id: v.sku, state: s.state, lowOnly: true },
          ended
            ? { $set: { state: "alerted", outAt: now, alertSlot: slotIso, alertedAt: now, unsent: true }, $inc: { crossings: 1 }, $unset: { lowOnly: 1, snoozedUntil: 1, heldAbove: 1 } }
            : { $set: { outAt: now, alertSlot: slotIso, alertedAt: now, unsent: true }, $unset: { lowOnly: 1 } },
        );
        if (r.modifiedCount === 1) alertedSkus.add(v.sku);
        continue;
      }
      if (s?.state === "alerted" && s.unsent && (s.alertedAt?.getTime() ?? 0) <= now.getTime() - UNSENT_AFTER_MS) {
        // Marked by a run that failed before queuing its message: this slot sends it (one guarded update claims it).
        const r = await this.store.stockAlerts.updateOne({ _id: v.sku, state: "alerted", unsent: true, alertSlot: s.alertSlot }, { $set: { alertSlot: slotIso, alertedAt: now } });
        if (r.modifiedCount === 1) alertedSkus.add(v.sku);
        continue;
      }
      if (!s) {
        try {
          await this.store.stockAlerts.create({ _id: v.sku, state: "alerted", crossings: 1, alertedAt: now, alertSlot: slotIso, unsent: true, ...(out ? { outAt: now } : { lowOnly: true }) });
          alertedSkus.add(v.sku);
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
        }
        continue;
      }
      // A PO whose hold ended stays on record, overdue: the alert and the card say so, until the
      // product re-arms or a new PO or snooze replaces it (an alerted product's PO holds nothing).
      const r = await this.store.stockAlerts.updateOne(
        { _id: v.sku, $or: [{ state: "armed" }, { state: "snoozed", snoozedUntil: { $lte: now } }] },
        { $set: { state: "alerted", alertedAt: now, alertSlot: slotIso, unsent: true, ...(out ? { outAt: now } : { lowOnly: true }) }, $inc: { crossings: 1 }, $unset: { snoozedUntil: 1, heldAbove: 1, ...(out ? { lowOnly: 1 } : { outAt: 1 }) } },
      );
      if (r.modifiedCount === 1) alertedSkus.add(v.sku);
    }
    await this.store.meta.updateOne({ _id: LOW_WATERMARK }, { $set: { value: wallStart } }, { upsert: true });

    const items = low
      .filter((v) => alertedSkus.has(v.sku))
      .sort(byUrgency)
      .map((view): LowItem => {
        const threshold = this.threshold(view);
        // Its PO as read before this run's update (kept by it, so a retried run reads it too).
        const po = states.get(view.sku)?.po;
        return { view, threshold, reorderQty: this.reorderQty(view, threshold), ...(po?.eta ? { po: { eta: po.eta, ...(po.qty ? { qty: po.qty } : {}), ...(po.by ? { by: po.by } : {}) } } : {}) };
      });
    const result: ScanResult = { low: low.length, alerted: items, recovered, queued: 0, deferred };
    if (items.length === 0) return result;
    const skus = items.map((i) => i.view.sku);
    const sent = await this.alerts.send({
      type: "low_stock",
      // The products are part of the key: a takeover that adds a crossing to an earlier
      // attempt's batch sends the new batch, where the slot alone would drop it as a repeat.
      key: `low_stock:${slotIso}:${createHash("sha1").update([...skus].sort().join("\n")).digest("hex").slice(0, 12)}`,
      reply: this.message(items, input.t, input.fmt),
      urgent: items.some((i) => i.view.available <= 0),
    });
    await this.store.stockAlerts.updateMany({ _id: { $in: skus }, alertSlot: slotIso }, { $unset: { unsent: 1 } });
    this.logger.debug("low-stock alert", { slot: slotIso, alerted: items.length, queued: sent.queued });
    return { ...result, queued: sent.queued, ...(sent.heldUntil ? { heldUntil: sent.heldUntil } : {}) };
  }

  /** The batched message: the worst first, a count of the rest, buttons per listed product. */
  message(items: LowItem[], t: Translate, fmt: Formatter): Reply {
    const shown = items.slice(0, this.opts.show);
    const today = localDay(this.clock.now(), this.opts.timeZone);
    const rest = items.length - shown.length;
    return {
      title: t("lowstock.alert.title", { count: items.length }),
      status: shown.some((i) => i.view.available <= 0) ? "critical" : "warning",
      table: {
        columns: [t("stock.col.sku"), t("stock.col.name"), t("stock.col.available"), t("lowstock.col.threshold"), t("stock.col.cover"), t("stock.col.lead"), t("lowstock.col.reorder")],
        rows: shown.map((i) => [
          i.view.sku,
          i.view.name,
          fmt.number(i.view.available),
          fmt.number(i.threshold),
          coverText(i.view, fmt, { column: true }) ?? "—",
          String(i.view.leadTimeDays),
          fmt.number(i.reorderQty),
        ]),
        alignRight: [2, 3, 4, 5, 6],
      },
      actions: shown.flatMap((i) => {
        const eta = addDays(today, i.view.leadTimeDays);
        return [
          { id: `stock snooze ${i.view.sku} 24h`, label: t("lowstock.button.snooze", { sku: i.view.sku }), style: "default" as const },
          { id: `stock po ${i.view.sku} eta=${eta} qty=${i.reorderQty}`, label: t("lowstock.button.po", { sku: i.view.sku, qty: fmt.number(i.reorderQty), eta }), style: "primary" as const },
        ];
      }),
      context: [
        // A PO on record: still on its way (sold out meanwhile), or due and the product still low.
        ...shown.flatMap((i) => {
          if (!i.po) return [];
          const vars = { sku: i.view.sku, eta: i.po.eta, qty: i.po.qty ? t("lowstock.po.qty", { qty: fmt.number(i.po.qty) }) : "", by: i.po.by ?? "" };
          return [t(this.poHoldEnd(i.po.eta) <= this.clock.now() ? "lowstock.alert.po_overdue" : "lowstock.alert.po_coming", vars)];
        }),
        ...(rest > 0 ? [t("lowstock.alert.more", { count: rest })] : []),
        // What the Threshold column is, beside `stock low`'s ROP: the two differ for a fast seller.
        t("lowstock.alert.threshold"),
        t("lowstock.alert.formula"),
      ],
      visibility: "public",
    };
  }

  /**
   * Holds alerts for a product until `until` (a snooze, or a PO with `po`); it alerts again then
   * if still low. A snooze never shortens the hold of a PO still on its way (`po_holds`, nothing
   * changes); one that holds longer keeps that PO on record (it is still on its way: the card
   * shows it), while a PO whose hold has ended is dropped. Nor does a snooze shorten a
   * colleague's longer one (`snooze_holds`, nothing changes: they end it with `off`); the same
   * person may shorten their own (not below a PO's hold). A new PO replaces the old one (the
   * supplier moved the date); a running snooze that outlasts the new PO's hold is kept (the
   * longer hold decides, as for a snooze over a PO: `snoozedBy`). Selling out during the hold is
   * still announced, once, unless the product was already out when held (`sellout`). An inactive
   * product is refused (`inactive`): it gets no alerts to hold.
   */
  async snooze(input: { sku: string; until: Date; by: string; po?: { eta: string; qty?: number }; view?: StockView }): Promise<SnoozeResult> {
    const sku = input.sku.toUpperCase();
    // The product as the caller read it (`stock po` reads it for its lead time), else read here.
    const doc = input.view ? null : await this.store.products.findById(sku).select(VIEW_FIELDS).lean<ProductDoc>();
    const v = input.view ?? (doc ? this.stock.view(doc) : null);
    if (!v) return { kind: "not_found" };
    // Discontinued: no alert to hold, and a hold recorded now would silence it if it came back.
    if (!v.active) return { kind: "inactive" };
    const now = this.clock.now();
    const set: Record<string, unknown> = { state: "snoozed", snoozedUntil: input.until, snoozedBy: input.by };
    const unset: Record<string, 1> = {};
    if (input.po) set.po = { eta: input.po.eta, ...(input.po.qty ? { qty: input.po.qty } : {}), by: input.by, at: now };
    // Held while well stocked: the scan must not take "above the re-arm level" for a recovery.
    if (v.available > this.rearmLevel(this.threshold(v))) set.heldAbove = true;
    else unset.heldAbove = 1;
    // In stock now: a sell-out during the hold is announced.
    const sellout = v.available > 0;
    if (sellout) set.lowOnly = true;
    else unset.lowOnly = 1;
    const withUnset = (u: Record<string, 1>) => ({ $set: set, ...(Object.keys(u).length ? { $unset: u } : {}) });
    const update = withUnset(unset);
    if (!input.po) {
      // One guarded update each: a PO still on its way that this snooze outlasts is kept (the
      // longer hold decides; the PO is still coming); otherwise any PO is dropped (none, or its
      // hold ended). Not while a PO, or a colleague's snooze, holds longer than this snooze would.
      // A product with no alert state yet gets one by insert (a PO racing in makes it a
      // duplicate: judged again).
      const dropPo = withUnset({ ...unset, po: 1 });
      for (let attempt = 0; attempt < 3; attempt++) {
        const kept = await this.store.stockAlerts
          .findOneAndUpdate({ _id: sku, state: "snoozed", "po.eta": { $exists: true }, snoozedUntil: { $gt: now, $lte: input.until } }, update, { returnDocument: "after" })
          .lean<StockAlertDoc>();
        if (kept) {
          const po = kept.po!;
          return { kind: "ok", until: input.until, sellout, po: { eta: po.eta!, ...(po.qty ? { qty: po.qty } : {}), ...(po.by ? { by: po.by } : {}) } };
        }
        // Nothing running, or a snooze with no PO that this one does not cut short (or the same
        // person's own: they may shorten it). The guard is in the filter: a longer snooze placed
        // meanwhile is not shortened.
        const r = await this.store.stockAlerts.updateOne(
          {
            _id: sku,
            $or: [
              { state: { $ne: "snoozed" } },
              { snoozedUntil: { $lte: now } },
              { "po.eta": { $exists: false }, snoozedUntil: { $lte: input.until } },
              { "po.eta": { $exists: false }, snoozedBy: input.by },
            ],
          },
          dropPo,
        );
        if (r.matchedCount === 1) return { kind: "ok", until: input.until, sellout };
        const s = await this.state(sku);
        if (!s) {
          if (await this.firstState(sku, set)) return { kind: "ok", until: input.until, sellout };
          continue;
        }
        if (s.state === "snoozed" && s.snoozedUntil && s.snoozedUntil > input.until && s.snoozedUntil > now) {
          const po = s.po?.eta ? { eta: s.po.eta, ...(s.po.qty ? { qty: s.po.qty } : {}), ...(s.po.by ? { by: s.po.by } : {}) } : undefined;
          const poEnd = po ? this.poHoldEnd(po.eta) : null;
          // The PO's own hold (no snooze beyond it): a snooze never shortens it.
          if (po && s.snoozedUntil <= poEnd!) return { kind: "po_holds", until: s.snoozedUntil, eta: po.eta };
          if ((s.snoozedBy ?? "") !== input.by) return { kind: "snooze_holds", until: s.snoozedUntil, by: s.snoozedBy ?? "", ...(po ? { po } : {}) };
          if (po) {
            // Their own snooze over a PO: shortened, but not below the PO's hold (kept on record).
            const until = input.until > poEnd! ? input.until : poEnd!;
            const own = await this.store.stockAlerts.updateOne(
              { _id: sku, state: "snoozed", snoozedUntil: s.snoozedUntil, snoozedBy: input.by, "po.eta": po.eta },
              { ...update, $set: { ...set, snoozedUntil: until } },
            );
            if (own.matchedCount === 1) return { kind: "ok", until, sellout, po };
          }
        }
        // Changed meanwhile: judged again.
      }
      return { kind: "busy" };
    } else {
      // A PO: one guarded update each, on the hold as read. A snooze running past this PO's hold
      // is kept (a PO never shortens a longer snooze), with this PO on record beside it; any other
      // hold is replaced (a PO's own hold: the supplier moved the date).
      const { snoozedUntil: _until, snoozedBy: _by, ...poOnly } = set;
      for (let attempt = 0; attempt < 3; attempt++) {
        const s = await this.state(sku);
        if (!s) {
          if (await this.firstState(sku, set)) return { kind: "ok", until: input.until, sellout };
          continue;
        }
        // The same PO on record, its hold running (a colleague pressing the alert's button after
        // another, or the line typed again): recorded already, so nothing changes and whoever
        // recorded it stays named, rather than a second "PO recorded" taking it over.
        if (s.state === "snoozed" && s.snoozedUntil && s.snoozedUntil > now && s.po?.eta === input.po.eta && (s.po.qty ?? 0) === (input.po.qty ?? 0)) {
          return { kind: "po_on_record", until: s.snoozedUntil, po: { eta: s.po.eta, ...(s.po.qty ? { qty: s.po.qty } : {}), by: s.po.by ?? "" } };
        }
        const guard = { _id: sku, state: s.state, snoozedUntil: s.snoozedUntil ?? null };
        const snoozeRuns = s.state === "snoozed" && !!s.snoozedUntil && s.snoozedUntil > input.until && !(s.po?.eta && s.snoozedUntil <= this.poHoldEnd(s.po.eta));
        const r = await this.store.stockAlerts.updateOne(guard, snoozeRuns ? { $set: poOnly, ...(Object.keys(unset).length ? { $unset: unset } : {}) } : update);
        // The PO it replaced, if another one (a second order is not added to the first): named in the reply.
        const old = s.po?.eta && (s.po.eta !== input.po.eta || (s.po.qty ?? 0) !== (input.po.qty ?? 0)) ? { eta: s.po.eta, ...(s.po.qty ? { qty: s.po.qty } : {}), by: s.po.by ?? "" } : null;
        const replaced = old ? { replaced: old } : {};
        if (r.matchedCount === 1) return snoozeRuns ? { kind: "ok", until: s.snoozedUntil!, sellout, snoozedBy: s.snoozedBy ?? "", ...replaced } : { kind: "ok", until: input.until, sellout, ...replaced };
      }
      // Lost every attempt: an unguarded write now could cut short a longer snooze placed
      // meanwhile, so nothing is written and the user is asked to try again (as a snooze is).
      return { kind: "busy" };
    }
  }

  /**
   * Ends a running snooze or PO hold now (`stock snooze <sku> off`: alerts are wanted again, or
   * the supplier cancelled the PO). One guarded update: the hold then reads as one that has just
   * ended, so the next scan alerts the product if it is still low (a sell-out too, once) and
   * re-arms it if not; the PO is dropped. With no hold running, an overdue PO on record is
   * dropped (`po_dropped`). `none`: nothing was holding its alerts, and no PO was on record.
   */
  async unsnooze(input: { sku: string }): Promise<UnsnoozeResult> {
    const sku = input.sku.toUpperCase();
    const now = this.clock.now();
    const before = await this.store.stockAlerts
      .findOneAndUpdate({ _id: sku, state: "snoozed", snoozedUntil: { $gt: now } }, { $set: { snoozedUntil: now }, $unset: { po: 1 } }, { returnDocument: "before" })
      .lean<StockAlertDoc>();
    if (before) {
      const po = before.po?.eta ? { eta: before.po.eta, ...(before.po.qty ? { qty: before.po.qty } : {}), ...(before.po.by ? { by: before.po.by } : {}) } : undefined;
      // A hold that is the PO's own (no snooze beyond it) was the PO alone.
      const snoozed = !po || before.snoozedUntil! > this.poHoldEnd(po.eta);
      return { kind: "ended", until: before.snoozedUntil!, ...(snoozed ? { snoozedBy: before.snoozedBy ?? "" } : {}), ...(po ? { po } : {}) };
    }
    // A PO whose hold has ended (overdue, kept on record by the scan): the supplier cancelled it.
    // Guarded on no hold running, so a PO or snooze placed meanwhile is left as it is.
    const overdue = await this.store.stockAlerts
      .findOneAndUpdate({ _id: sku, "po.eta": { $exists: true }, $or: [{ state: { $ne: "snoozed" } }, { snoozedUntil: { $lte: now } }] }, { $unset: { po: 1 } }, { returnDocument: "before" })
      .lean<StockAlertDoc>();
    if (overdue?.po?.eta) return { kind: "po_dropped", po: { eta: overdue.po.eta, ...(overdue.po.qty ? { qty: overdue.po.qty } : {}), ...(overdue.po.by ? { by: overdue.po.by } : {}) } };
    if (await this.state(sku)) return { kind: "none" };
    return (await this.store.products.exists({ _id: sku })) ? { kind: "none" } : { kind: "not_found" };
  }

  /** The end of a PO's own hold: the start of the day after its expected arrival. */
  poHoldEnd(eta: string): Date {
    return dayStart(addDays(eta, 1), this.opts.timeZone);
  }

  /** Records a purchase order: alerts wait until the day after its expected arrival (or a longer running snooze ends). */
  async placePo(input: { sku: string; eta: string; qty?: number; by: string; view?: StockView }): Promise<SnoozeResult> {
    const until = this.poHoldEnd(input.eta);
    return this.snooze({ sku: input.sku, until, by: input.by, po: { eta: input.eta, ...(input.qty ? { qty: input.qty } : {}) }, ...(input.view ? { view: input.view } : {}) });
  }

  /** The {@link Hold} of a product from its alert state (`alert`) and its figures now (`v`), or null. */
  holdOf(alert: StockAlertDoc | null | undefined, v: StockView): Hold | null {
    if (!alert) return null;
    const now = this.clock.now();
    const po: PoInfo | null = alert.po?.eta ? { eta: alert.po.eta, ...(alert.po.qty ? { qty: alert.po.qty } : {}), by: alert.po.by ?? "" } : null;
    if (alert.state === "snoozed" && alert.snoozedUntil && alert.snoozedUntil > now) {
      const until = alert.snoozedUntil;
      const by = alert.snoozedBy ?? "";
      if (!po) return { kind: "snooze", until, by };
      // A snooze longer than the PO's own hold (the day after its arrival) keeps the PO on record.
      return until > this.poHoldEnd(po.eta) ? { kind: "snooze_po", until, by, po } : { kind: "po", until, po };
    }
    // Its PO's hold has ended and the product is still low: the PO is overdue (kept until it re-arms).
    return po && this.poHoldEnd(po.eta) <= now && isLow(v) ? { kind: "po_overdue", po } : null;
  }

  /**
   * Inserts a product's first alert state with `set`; false when one was inserted meanwhile (a
   * hold racing in: the caller judges it again).
   */
  private async firstState(sku: string, set: Record<string, unknown>): Promise<boolean> {
    try {
      await this.store.stockAlerts.create({ _id: sku, crossings: 0, ...set });
      return true;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      return false;
    }
  }

  /** Alert states of these products, by SKU (one read). */
  async states(skus: readonly string[]): Promise<Map<string, StockAlertDoc>> {
    if (!skus.length) return new Map();
    const docs = await this.store.stockAlerts.find({ _id: { $in: [...skus] } }).lean<StockAlertDoc[]>();
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** Alert state of a product, if any. */
  async state(sku: string): Promise<StockAlertDoc | null> {
    return this.store.stockAlerts.findById(sku.toUpperCase()).lean<StockAlertDoc>();
  }
}
