import { incAsDoubles, isDuplicateKey } from "../store/writes.js";
import { plainTyped } from "../core/args.js";
import { withoutInvisible } from "../core/text.js";
import { parseIdentity } from "../core/identity.js";
import type { Clock } from "../core/clock.js";
import { Formatter, localDay, majorUnits, minorUnitDigits, minorUnitFactor } from "../core/format.js";
import { shortId } from "../core/ids.js";
import { translator, type Locale, type Translate } from "../core/messages.js";
import type { Reply } from "../core/reply.js";
import { roleAtLeast, type Role } from "../core/roles.js";
import { rowsAfter, type OrderDoc, type RefundRequestDoc, type Store } from "../store/models.js";
import type { AuditService } from "./audit.service.js";
import type { IdentityService } from "./identity.service.js";
import { canTransition, PAID_STATUSES, type OrderStatus } from "./order-status.js";
import { openRequests } from "../store/refund.model.js";
import { findOrder } from "./order.service.js";
import type { OutboxService } from "./outbox.service.js";
import type { OrderEffects } from "./order-effects.service.js";

/** The refund policy. Limits are minor units of the shop currency. */
export interface RefundPolicy {
  /** Highest amount support may approve alone. */
  supportLimit: number;
  /** Highest amount a manager may approve alone; above it two different managers (people, not identities) must approve. */
  managerLimit: number;
  /** Hours a request stays pending before it expires. */
  pendingHours: number;
  updatedBy?: string;
  updatedAt?: Date;
}

/** Options of the refund service. */
export interface RefundOptions {
  timeZone: string;
  currency: string;
  locale: Locale;
  /** Defaults from the configuration, whole currency units and hours. */
  defaults: { supportLimit: number; managerLimit: number; pendingHours: number };
}

/** The meta document holding the policy. */
export const POLICY_ID = "refund_policy";

/** One balance hold on an order. */
type Hold = { id?: string | null; hid?: string | null; amount?: number | null; at?: Date | null };

/** How many of the pending requests holding an order's whole balance a refused request names. */
export const ASKING_SHOWN = 5;

/** Page size of the repair's scans. */
const PAGE = 1000;

/**
 * Orders a refund may be taken from: paid and not refunded in full, including a paid order that
 * was cancelled afterwards (cancelling it tells the manager to refund the customer; it stays
 * cancelled, and its refunds stay out of the digest's refund figures like its sale).
 */
function mayRefund(o: Pick<OrderDoc, "status" | "paidAt">): boolean {
  return REFUNDABLE_STATUSES.includes(o.status as OrderStatus) || (o.status === "cancelled" && !!o.paidAt);
}

/** Paid statuses with something left to refund. */
const REFUNDABLE_STATUSES: readonly OrderStatus[] = PAID_STATUSES.filter((s) => s !== "refunded");

/** {@link mayRefund} as a filter. */
const REFUNDABLE: Record<string, unknown> = { $or: [{ status: { $in: REFUNDABLE_STATUSES } }, { status: "cancelled", paidAt: { $exists: true, $ne: null } }] };

/** Text of the Reject button's command: a rejection needs a reason, so the button gives a fixed one. */
export const BUTTON_REJECT_REASON = "rejected from button";

/** A rejection's reason as shown: the Reject button's fixed reason in the team's language. */
export function rejectReasonText(reason: string | null | undefined, t: Translate): string {
  if (reason === SHOP_REFUNDED_REASON) return t("refund.reject.shop_refunded");
  return reason === BUTTON_REJECT_REASON ? t("refund.reject.by_button") : (reason ?? "");
}

/** What `refund request` reads as "all that is left" (the amount): `full`, and as Chinese teams say it (with a space too: `全额 退款`). */
export const FULL_WORDS: readonly string[] = ["full", "全额", "全额退款", "全部", "全部退款", "全退", "全额 退款", "全部 退款"];

/** `rejectReason` of a request closed because the shop refunded its order in full (see {@link RefundService.closeExhausted}). */
export const SHOP_REFUNDED_REASON = "order refunded by the shop";
/** `decidedBy` of a request the bot closed itself. */
export const SYSTEM_DECIDER = "system";

/** How long a hold may wait for its request's insert before the repair gives it back. */
export const HOLD_GRACE_MS = 10 * 60_000;

/** Outcome of {@link RefundService.request}. */
export type RequestResult =
  | { kind: "created"; request: RefundRequestDoc; order: OrderDoc; policy: RefundPolicy }
  | { kind: "not_found" }
  | { kind: "not_paid"; orderNo: string; status: string }
  /** Marked refunded already (by the bot, or by the shop through ingestion). */
  | { kind: "already_refunded"; orderNo: string }
  /** `problem`: not an amount at all (format, too many digits), more decimals than the currency has, zero, or written with another currency's sign. */
  | { kind: "bad_amount"; orderNo: string; decimals: number; currency: string; problem: "format" | "decimals" | "zero" | "currency"; digits?: string }
  /** `asking`: when nothing is left, the pending requests holding the balance (oldest first, at most {@link ASKING_SHOWN} + 1, so a reply can say there are more). */
  | { kind: "over_balance"; orderNo: string; refundable: number; paid: number; refunded: number; pending: number; currency: string; asking: string[] }
  /** A request with the caller's id already exists (a retried delivery): nothing new was created. */
  | { kind: "exists"; request: RefundRequestDoc };

/** Outcome of an execution attempt. */
export type ExecResult = { kind: "executed"; order: OrderDoc | null; now: boolean } | { kind: "failed"; reason: string };

/** Outcome of {@link RefundService.approve}. */
export type ApproveResult =
  | { kind: "not_found" }
  /** The caller's person requested it; `as`: under which identity (the caller's, or one linked to it). */
  | { kind: "self_approval"; request: RefundRequestDoc; as: string; atTerminal?: boolean }
  | { kind: "expired"; request: RefundRequestDoc }
  | { kind: "decided"; request: RefundRequestDoc }
  /** Still pending after every retry lost its guarded update to someone else's: nothing recorded. */
  | { kind: "busy"; request: RefundRequestDoc }
  | { kind: "needs_role"; request: RefundRequestDoc; required: Role; limit: number; two: boolean; foreign: boolean }
  | { kind: "already_approved"; request: RefundRequestDoc; finished: boolean }
  /** `byYou`: the caller's person gave the first approval, `as` that identity. */
  | { kind: "waiting_second"; request: RefundRequestDoc; byYou: boolean; as?: string }
  | { kind: "approved"; request: RefundRequestDoc; order: OrderDoc | null }
  | { kind: "failed"; request: RefundRequestDoc; reason: string };

/**
 * What `refund approve` answers a caller about a request before it writes anything (see
 * {@link RefundService.approvalCheck}). `closed`: decided, or past its deadline. `may`: they may
 * approve it; `confirm` when it is their person's earlier approval, enough under the policy in
 * force, that approving again completes.
 */
export type ApproveCheck =
  | { kind: "self_approval"; as: string; atTerminal?: boolean }
  | { kind: "closed" }
  | { kind: "needs_role"; required: Role; limit: number; two: boolean; foreign: boolean }
  | { kind: "waiting_second"; as: string }
  | { kind: "may"; confirm: boolean; required: 1 | 2 };

/** Outcome of {@link RefundService.reject}. */
export type RejectResult =
  | { kind: "not_found" }
  | { kind: "expired"; request: RefundRequestDoc }
  | { kind: "decided"; request: RefundRequestDoc }
  | { kind: "already_rejected"; request: RefundRequestDoc }
  | { kind: "rejected"; request: RefundRequestDoc };

/**
 * Parses an amount typed in major units ("12.5", "1,200") into minor units of
 * `currency`. Returns null for anything that is not a plain positive-or-zero
 * number, or `{decimals}` when it has more decimals than the currency allows.
 */
export function parseAmount(typed: string, currency: string): number | { decimals: number } | null {
  // Full-width digits and commas (１，２００．５０), as Chinese keyboards type them, read as plain.
  const text = plainTyped(typed);
  // Commas only as thousands separators (1,200.50): "12,50" is refused, never read as 1250.
  if (!/^(\d{1,12}|[1-9]\d{0,2}(,\d{3}){1,3})(\.\d+)?$/.test(text)) return null;
  const s = text.replace(/,/g, "");
  const factor = minorUnitFactor(currency);
  const digits = minorUnitDigits(currency);
  const [whole, frac = ""] = s.split(".");
  if (frac.length > digits) return { decimals: digits };
  return Number(whole) * factor + Number((frac + "0".repeat(digits)).slice(0, digits) || "0");
}

/**
 * Ways of writing a currency beside an amount that Intl does not print: the yuan's 元, RMB and
 * 人民币, and 块 (块钱) as it is said colloquially (`20块`); the yen's 円. Another shop's currency
 * refuses them as a foreign sign.
 */
const EXTRA_SIGNS: Record<string, readonly string[]> = { CNY: ["元", "圆", "RMB", "人民币", "块钱", "块"], JPY: ["円"] };

/** Every currency code Intl knows, for telling `5USD` (another currency) from `5abc` (not an amount). */
const CURRENCY_CODES = new Set(Intl.supportedValuesOf("currency"));

/** Upper-cased signs of `currency` as the bot prints amounts in en and zh (`CN¥`, `¥`, `US$`, `$`), its code, and {@link EXTRA_SIGNS}. */
function currencySigns(currency: string): Set<string> {
  const signs = new Set([currency.toUpperCase(), ...(EXTRA_SIGNS[currency] ?? [])]);
  for (const locale of ["en-US", "zh-CN"]) {
    for (const currencyDisplay of ["symbol", "narrowSymbol"] as const) {
      const sign = new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay }).formatToParts(1).find((p) => p.type === "currency")?.value;
      if (sign) signs.add(sign.toUpperCase());
    }
  }
  return signs;
}

/**
 * `written` (upper-cased) as a run of `signs`, spaces between allowed (`RMB¥`, `人民币`, `RMB ¥`),
 * longest sign first; what is left once no sign of the run matches (empty: all of it was signs).
 */
function afterSigns(written: string, signs: ReadonlySet<string>): string {
  const bySize = [...signs].sort((a, b) => b.length - a.length);
  let rest = written.trim();
  for (let sign = bySize.find((x) => rest.startsWith(x)); rest && sign; sign = bySize.find((x) => rest.startsWith(x))) rest = rest.slice(sign.length).trimStart();
  return rest;
}

/**
 * A typed amount without the currency sign or code written beside it, as people copy it from a
 * card (`CN¥1,200.50`, `¥25`, `￥25`, `25元`, `$25`) or type a yuan amount (`RMB￥25`,
 * `人民币25元`, `￥25元`: several signs, each the order's): the number's text when every sign is
 * `currency`'s (the order's); `foreign` when one names another currency (never read as this
 * one's); else the text as typed, for {@link parseAmount} to refuse.
 */
export function withoutCurrencySign(typed: string, currency: string): string | { foreign: true } {
  // The full-width yen sign (U+FFE5), as Chinese keyboards type it, is the yen/yuan sign.
  const text = plainTyped(typed).replace(/\uFFE5/g, "¥");
  const m = /^([^\d.,+-]*?)\s*(\d[\d.,]*)\s*([^\d.,+-]*)$/u.exec(text);
  if (!m || (!m[1] && !m[3])) return typed;
  const signs = currencySigns(currency);
  // What is left of each side once the order's own signs are read off it: nothing, when all were its.
  const left = [m[1]!, m[3]!].map((x) => afterSigns(x.toUpperCase(), signs)).filter(Boolean);
  if (!left.length) return m[2]!;
  // Another currency's sign or code left (`RMB$`: `$`; `US$`, `5USD`): refused as such, not as no amount.
  const otherSign = (x: string) => /\p{Sc}/u.test(x) || CURRENCY_CODES.has(x) || Object.values(EXTRA_SIGNS).some((e) => e.includes(x));
  return left.some(otherSign) ? { foreign: true } : typed;
}

/**
 * A yuan amount said as people say it, `12块5` (12.50), `12元5角`, `12块5毛6` (12.56), `¥12块5`:
 * the number ("12.5", "12.56") with what was typed before it (a sign, for {@link withoutCurrencySign});
 * `foreign` for a shop currency other than the yuan; undefined when `typed` is not so written.
 */
export function colloquialYuan(typed: string, currency: string): string | { foreign: true } | undefined {
  const m = /^(\D*?)(\d[\d,]*)(?:块|元)(\d)(?:(?:毛|角)(?:(\d)分?)?)?$/u.exec(plainTyped(typed).trim());
  if (!m) return undefined;
  if (currency !== "CNY") return { foreign: true };
  return `${m[1]}${m[2]}.${m[3]}${m[4] ?? ""}`;
}

const ZH_DIGITS: Readonly<Record<string, number>> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const ZH_UNITS: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };

/** A number written in Chinese numerals (`十二`, `一百五十`, `两千`, `三万五千`) as digits ("12"), or undefined. */
function zhNumeral(run: string): string | undefined {
  const section = (part: string): number | undefined => {
    let total = 0;
    let digit: number | undefined;
    for (const ch of part) {
      if (ch in ZH_DIGITS) digit = ZH_DIGITS[ch];
      else if (ch in ZH_UNITS) {
        total += (digit ?? 1) * ZH_UNITS[ch]!;
        digit = undefined;
      } else return undefined;
    }
    return total + (digit ?? 0);
  };
  const parts = run.split("万");
  if (parts.length > 2 || run === "万") return undefined;
  const [high, low] = parts.length === 2 ? [section(parts[0] || "一"), section(parts[1]!)] : [0, section(parts[0]!)];
  return high === undefined || low === undefined ? undefined : String(high * 10_000 + low);
}

/**
 * An amount refused as typed but clear in digits: Chinese numerals (`十二块` as `12块`, `一百` as
 * `100`) or the Chinese full stop for the point (`12。5` as `12.5`). The way to write it, for the
 * refusal to name; undefined when there is none.
 */
export function amountInDigits(typed: string): string | undefined {
  const out = typed.replace(/[零〇一二两三四五六七八九十百千万]+/gu, (run) => zhNumeral(run) ?? run).replace(/。/gu, ".");
  return out !== typed && /\d/.test(out) ? out : undefined;
}

/** True when `typed` is an amount with a currency's sign or code beside it (`RMB 25`, `25 元`, `$25`), whichever currency. */
export function namesCurrency(typed: string): boolean {
  const r = withoutCurrencySign(typed, "XTS");
  return typeof r === "object" || r !== typed;
}

/** What a request needs under a policy: approvals, the least role, and whether it is in another currency. */
export interface ApprovalNeed {
  required: 1 | 2;
  role: Role;
  foreign: boolean;
}

/**
 * What a request needs under `policy` (the one in force: a change of its limits applies at once
 * to pending requests, so the card, the status, the approvable list and `refund approve` all ask
 * this, never the `requiredApprovals` stored when it was asked). The limits are in the shop
 * currency (`shopCurrency`), so a request in another currency cannot be measured against them:
 * it needs two managers.
 */
export function need(r: { amount: number; currency: string }, policy: Pick<RefundPolicy, "supportLimit" | "managerLimit">, shopCurrency: string): ApprovalNeed {
  const foreign = r.currency !== shopCurrency;
  // Above the manager limit: two managers; within the support limit: support may approve alone.
  if (foreign || r.amount > policy.managerLimit) return { required: 2, role: "manager", foreign };
  return { required: 1, role: r.amount <= policy.supportLimit ? "support" : "manager", foreign };
}

/**
 * The filter part matching the requests {@link need} lets `role` approve under `policy`: the
 * same rule as a query, so the approvable list is counted and paged by the database. A manager
 * or above may approve any (as one of two where two are needed); support only those in the shop
 * currency within both limits; anyone below, none.
 */
export function approvableByRole(role: Role, policy: Pick<RefundPolicy, "supportLimit" | "managerLimit">, shopCurrency: string): Record<string, unknown> | null {
  if (roleAtLeast(role, "manager")) return {};
  if (roleAtLeast(role, "support")) return { currency: shopCurrency, amount: { $lte: Math.min(policy.supportLimit, policy.managerLimit) } };
  return null;
}

/**
 * The approval of `r` given by a person (`me`: their identities, see {@link RefundService.person}),
 * as `by` or as the person at the terminal acting as someone else (`via`); none when they gave none.
 */
export function approvalBy(r: Pick<RefundRequestDoc, "approvals">, me: readonly string[]): RefundRequestDoc["approvals"][number] | undefined {
  return r.approvals.find((a) => me.includes(a.by ?? "") || me.includes(a.via ?? ""));
}

/** Who approved a request, as its notices name them: every approver in order (a two-manager refund has two), else who decided it. */
export function approversText(r: Pick<RefundRequestDoc, "approvals" | "decidedBy">, t: Translate): string {
  const by = [...new Set((r.approvals ?? []).flatMap((a) => (a.by ? [a.by] : [])))];
  return by.length ? by.join(t("refund.approvers.join")) : (r.decidedBy ?? "");
}

/** Platforms whose people can be sent a notice (the outbox has deliverers for them). */
const CHAT_PLATFORMS = ["shell", "slack", "discord"];

/**
 * Refund requests and their approval state machine. Every transition is one
 * guarded single-document update:
 *
 *   pending ─approve (count 0→1)→ pending (two-manager requests) ─approve (1→2)→ approved
 *   pending ─approve→ approved ─execute (order update)→ approved + executedAt
 *   pending (approved once, and the policy now needs one) ─that approver again→ approved
 *   pending ─reject→ rejected;  pending ─expire→ expired;  approved ─order can't take it→ failed
 *
 * Execution is one guarded update of the order (`refunds.requestId ≠ id`), so a
 * crash after `approved` leaves a request the next approve, {@link finish} or
 * {@link repair} completes without refunding twice.
 *
 * The four-eyes rules compare people, not platform identities: identities linked as one person
 * (see {@link IdentityService.link}) neither approve their own request nor give both approvals
 * of a two-manager request.
 */
export class RefundService {
  private readonly t: Translate;
  private readonly fmt: Formatter;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly opts: RefundOptions,
    private readonly effects: OrderEffects,
    private readonly identity: IdentityService,
  ) {
    this.t = translator(opts.locale);
    this.fmt = new Formatter(opts.locale, opts.timeZone, opts.currency);
  }

  /** The policy in force: the saved one, else the configured defaults. */
  async policy(): Promise<RefundPolicy> {
    return this.policyFrom(await this.policyDoc());
  }

  /** The stored policy document (its value and revision), or null. */
  private policyDoc(): Promise<{ value?: unknown; rev?: number } | null> {
    return this.store.meta.collection.findOne<{ value?: unknown; rev?: number }>({ _id: POLICY_ID as never });
  }

  /** The policy a stored meta document holds, with the configured defaults for what it lacks. */
  private policyFrom(doc: { value?: unknown; rev?: number } | null): RefundPolicy {
    const f = minorUnitFactor(this.opts.currency);
    const d = this.opts.defaults;
    const saved = (doc?.value ?? {}) as Partial<RefundPolicy>;
    return {
      supportLimit: saved.supportLimit ?? d.supportLimit * f,
      managerLimit: saved.managerLimit ?? d.managerLimit * f,
      pendingHours: saved.pendingHours ?? d.pendingHours,
      ...(saved.updatedBy ? { updatedBy: saved.updatedBy, updatedAt: saved.updatedAt } : {}),
    };
  }

  /**
   * Changes some of the policy. Refuses a support limit above the manager limit. The write is
   * guarded by the revision it was merged onto (`rev`), so two admins changing different limits
   * at once both keep their change: the one that loses the race merges again.
   */
  async setPolicy(
    change: Partial<Pick<RefundPolicy, "supportLimit" | "managerLimit" | "pendingHours">>,
    by: string,
  ): Promise<{ kind: "set"; policy: RefundPolicy; before: RefundPolicy; keptExpiry: number } | { kind: "inconsistent"; policy: RefundPolicy }> {
    for (let attempt = 0; ; attempt++) {
      const doc = await this.policyDoc();
      const rev = doc?.rev;
      const before = this.policyFrom(doc);
      const next: RefundPolicy = {
        supportLimit: change.supportLimit ?? before.supportLimit,
        managerLimit: change.managerLimit ?? before.managerLimit,
        pendingHours: change.pendingHours ?? before.pendingHours,
        updatedBy: by,
        updatedAt: this.clock.now(),
      };
      if (next.supportLimit > next.managerLimit) return { kind: "inconsistent", policy: next };
      try {
        const r = await this.store.meta.collection.updateOne({ _id: POLICY_ID as never, rev: rev ?? { $exists: false } }, { $set: { value: next }, $inc: { rev: 1 } }, { upsert: true });
        if (r.modifiedCount + r.upsertedCount === 1) return { kind: "set", policy: next, before, keptExpiry: await this.keptExpiry(before, next) };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e; // another first write won the insert: merge again
      }
      if (attempt >= 8) throw new Error("refund policy kept changing; try again");
    }
  }

  /**
   * How many pending requests keep the deadline they were given across an expiry change: a
   * request's `expiresAt` is fixed when it is asked (its card and reminder said it), so a new
   * expiry applies to requests asked from then on. None when the expiry did not change.
   */
  private async keptExpiry(before: RefundPolicy, next: RefundPolicy): Promise<number> {
    if (before.pendingHours === next.pendingHours) return 0;
    return this.store.refundRequests.countDocuments({ status: "pending", expiresAt: { $gt: this.clock.now() } });
  }

  /** {@link need} in the shop currency. */
  private need(r: { amount: number; currency: string }, policy: RefundPolicy): ApprovalNeed {
    return need(r, policy, this.opts.currency);
  }

  /** Sum of requests on an order that may still become refunds (pending, or approved and not executed). */
  private async outstanding(orderNo: string, now: Date): Promise<number> {
    const docs = await this.store.refundRequests.find({ orderNo, ...openRequests(now) }).select({ amount: 1 }).lean<Pick<RefundRequestDoc, "amount">[]>();
    return docs.reduce((s, d) => s + d.amount, 0);
  }

  /**
   * Creates a pending request after checking the order (`exactOrderNo`: by its stored number
   * only, for other systems; else as a person types it, see findOrder): it exists, is paid, and
   * the amount is at most paid − refunded − outstanding requests. `amount` is
   * the typed text (major units) or "full".
   *
   * The amount is first held on the order by one guarded update (see {@link hold}), then the
   * request is inserted; two people asking at once cannot together ask for more than is left.
   * A crash between the two leaves a hold without a request, which {@link repair} releases.
   */
  async request(input: { orderNo: string; amount: string; reason: string; requester: string; via?: string; id?: string; exactOrderNo?: boolean }): Promise<RequestResult> {
    const now = this.clock.now();
    if (input.id) {
      const prior = await this.store.refundRequests.findById(input.id).lean<RefundRequestDoc>();
      if (prior) return { kind: "exists", request: prior };
    }
    // People type order numbers loosely (`100001`, lower case); another system names its order
    // exactly, and must never land on a look-alike (`1002` is not `ORD-1002`).
    let order = input.exactOrderNo ? await this.store.orders.findById(input.orderNo).lean<OrderDoc>() : await findOrder(this.store, input.orderNo);
    if (!order) return { kind: "not_found" };
    // Requests past their deadline give their holds back before the balance is measured.
    if (await this.expireDueOf(order._id, now)) order = await this.store.orders.findById(order._id).lean<OrderDoc>();
    const id = input.id ?? `R-${shortId(6)}`;
    // "full" in any case or width, or as Chinese teams say it (全额, 全额退款, 全部, 全部退款, 全退).
    const full = FULL_WORDS.includes(plainTyped(input.amount).toLowerCase().replace(/\s+/g, " "));
    for (let attempt = 0; order; attempt++) {
      // Refunded in full, whatever refundedTotal says (an order the shop refunded and sent as
      // `refunded` carries no refund entries here), or refunded up to its total while it keeps
      // another status (a cancelled order): nothing is left to refund, said as such.
      if (order.status === "refunded" || (mayRefund(order) && order.total > 0 && (order.refundedTotal ?? 0) >= order.total)) return { kind: "already_refunded", orderNo: order._id };
      if (!mayRefund(order)) return { kind: "not_paid", orderNo: order._id, status: order.status };
      const mine = order.refundHolds?.find((h) => h.id === id);
      if (mine) {
        // A retry of a caller id whose first delivery held and then stopped (or is inserting now).
        const prior = await this.store.refundRequests.findById(id).lean<RefundRequestDoc>();
        if (prior) return { kind: "exists", request: prior };
        // A young hold is a delivery inserting now: share it. An old one may be given back by
        // the repair at any moment: give it back here and hold afresh.
        if (now.getTime() - (mine.at ?? now).getTime() < HOLD_GRACE_MS / 2) return this.insert(input, id, order, mine.amount ?? 0, full, now);
        await this.pullHoldOn(order._id, mine);
        order = await this.store.orders.findById(order._id).lean<OrderDoc>();
        continue;
      }
      // Requests from before holds existed count too: the stricter of the two applies.
      const pending = Math.max(order.heldTotal ?? 0, await this.outstanding(order._id, now));
      const refunded = order.refundedTotal ?? 0;
      const refundable = order.total - refunded - pending;
      // Nothing left: the pending requests holding it are named, since rejecting one frees its amount.
      const asking = refundable <= 0 ? await this.asking(order._id, now) : [];
      const over = { kind: "over_balance" as const, orderNo: order._id, refundable: Math.max(0, refundable), paid: order.total, refunded, pending, currency: order.currency, asking };
      let amount: number;
      if (full) {
        if (refundable <= 0) return over;
        amount = refundable;
      } else {
        const decimals = minorUnitDigits(order.currency);
        const { _id: orderNo, currency } = order;
        // Names the order, so the refused ask is on its audit trail (`audit subject=ORD-…`).
        const bad = (problem: "format" | "decimals" | "zero" | "currency") => ({ kind: "bad_amount" as const, orderNo, decimals, currency, problem });
        // The order's own sign, as its card prints the amount, is read; another currency's is refused, not converted.
        // `12块5`, `12元5角`: said as people say a yuan amount, read as 12.50.
        const said = colloquialYuan(input.amount, order.currency);
        const typed = typeof said === "object" ? said : withoutCurrencySign(said ?? input.amount, order.currency);
        if (typeof typed === "object") return bad("currency");
        const parsed = parseAmount(typed, order.currency);
        if (parsed === null) {
          // `十二块`, `12。5`: said how to write it in digits, when that reads.
          const digits = amountInDigits(input.amount);
          const again = digits === undefined ? undefined : (colloquialYuan(digits, currency) ?? withoutCurrencySign(digits, currency));
          const reads = typeof again === "string" && typeof parseAmount(again, currency) === "number";
          return { ...bad("format"), ...(reads ? { digits } : {}) };
        }
        if (typeof parsed === "object") return bad("decimals");
        if (parsed <= 0) return bad("zero");
        if (parsed > refundable) return over;
        amount = parsed;
      }
      if (await this.hold(order, id, amount, now)) return this.insert(input, id, order, amount, full, now);
      // The order moved under us (another request, a refund, a status change): measure again.
      if (attempt >= 20) throw new Error(`refund request on ${order._id}: the order kept changing; try again`);
      order = await this.store.orders.findById(order._id).lean<OrderDoc>();
    }
    return { kind: "not_found" };
  }

  /** The ids of an order's pending, unexpired requests, oldest first: {@link ASKING_SHOWN}, and one more if there are more. */
  private async asking(orderNo: string, now: Date): Promise<string[]> {
    const docs = await this.store.refundRequests
      .find({ orderNo, status: "pending", expiresAt: { $gt: now } })
      .sort({ requestedAt: 1, _id: 1 })
      .limit(ASKING_SHOWN + 1)
      .select({ _id: 1 })
      .lean<{ _id: string }[]>();
    return docs.map((d) => d._id);
  }

  /**
   * Holds `amount` of `order`'s balance for request `id`: one update guarded by the refunded
   * total read and the bound `heldTotal ≤ total − refunded − amount`, so concurrent holds never
   * exceed the balance. False when the order changed since it was read.
   */
  private async hold(order: OrderDoc, id: string, amount: number, now: Date): Promise<boolean> {
    const refunded = order.refundedTotal ?? 0;
    // Sent as it is, the amount as a double (see incAsDoubles: a 32-bit sum wraps on the embedded database).
    const r = await this.store.orders.collection.updateOne(
      {
        _id: order._id as never,
        refundedTotal: order.refundedTotal ?? null,
        ...lacking(["refundHolds.id", id]),
        $and: [REFUNDABLE, { $or: [{ heldTotal: { $lte: order.total - refunded - amount } }, { heldTotal: { $exists: false } }] }],
      },
      { $inc: incAsDoubles({ heldTotal: amount }), $push: { refundHolds: newHold(id, amount, now) } as never },
    );
    return r.modifiedCount === 1;
  }

  /** Gives back the hold of request `id` on order `orderNo`, if it has one (one guarded update; repeatable). */
  private async release(orderNo: string, id: string): Promise<void> {
    const o = await this.store.orders.findOne({ _id: orderNo, "refundHolds.id": id }).select({ refundHolds: 1 }).lean<Pick<OrderDoc, "refundHolds">>();
    const hold = o?.refundHolds?.find((h) => h.id === id);
    if (hold) await this.pullHoldOn(orderNo, hold);
  }

  /** Removes this very hold from an order (one guarded update; false when it was gone already). */
  private async pullHoldOn(orderNo: string, hold: Hold): Promise<boolean> {
    return (await this.store.orders.collection.updateOne({ _id: orderNo as never, ...holdFilter(hold) }, pullHold(hold) as never)).modifiedCount === 1;
  }

  /** Inserts the request whose amount is held. */
  private async insert(input: { reason: string; requester: string; via?: string; id?: string }, id: string, order: OrderDoc, amount: number, full: boolean, now: Date): Promise<RequestResult> {
    const policy = await this.policy();
    const doc = {
      _id: id,
      orderNo: order._id,
      customerId: order.customerId,
      amount,
      currency: order.currency,
      full,
      // "Full" that is less than the order: said on the card, so nobody reads it as the whole order.
      ...(full && amount < order.total ? { restOf: order.total } : {}),
      reason: input.reason,
      requester: input.requester,
      ...(input.via && input.via !== input.requester ? { requestedVia: input.via } : {}),
      requestedAt: now,
      expiresAt: new Date(now.getTime() + policy.pendingHours * 3_600_000),
      requiredApprovals: this.need({ amount, currency: order.currency }, policy).required,
      approvalCount: 0,
      approvals: [],
      status: "pending" as const,
    };
    try {
      const request = (await this.store.refundRequests.create(doc)).toObject() as RefundRequestDoc;
      // The shop's full refund may have landed between the hold and this insert: its closing of
      // the order's requests ran before this one existed, so close it now rather than leave a
      // request nobody can pay.
      const now2 = await this.store.orders.findById(order._id).select({ total: 1, refundedTotal: 1 }).lean<Pick<OrderDoc, "total" | "refundedTotal">>();
      if (now2 && (now2.refundedTotal ?? 0) >= now2.total && (await this.closeExhausted(order._id)).includes(id)) return { kind: "already_refunded", orderNo: order._id };
      return { kind: "created", request, order, policy };
    } catch (e) {
      // Two deliveries of one caller id at once: the unique _id lets one in, and the hold is its.
      if (input.id && isDuplicateKey(e)) return { kind: "exists", request: (await this.store.refundRequests.findById(input.id).lean<RefundRequestDoc>())! };
      // A failed insert may still have landed (a timeout), and a caller id's hold may be shared
      // with a delivery inserting now: give the hold back only when it is surely ours and
      // nothing was inserted; otherwise the repair decides, after the grace.
      if (!input.id && !(await this.store.refundRequests.exists({ _id: id }).catch(() => true))) await this.release(order._id, id).catch(() => undefined);
      throw e;
    }
  }

  /**
   * The identities that count as one person for the four-eyes rules: every identity linked to
   * `actor`'s, and to that of the person at the terminal acting as them (`via`, the shell's --as).
   */
  async person(actor: string, via?: string): Promise<string[]> {
    return (await this.people(actor, via)).me;
  }

  /** {@link person} (`me`), and apart from it the identities linked to `actor`'s alone (`callers`). */
  private async people(actor: string, via?: string): Promise<{ callers: string[]; me: string[] }> {
    const callers = await this.identity.linked(actor);
    return { callers, me: [...new Set([...callers, ...(via ? await this.identity.linked(via) : [])])] };
  }

  /** One request by id (case-insensitive; its `R-` may be left out, as `complaint` takes `7K2M` for C-7K2M and Discord suggests it). */
  async get(id: string): Promise<RefundRequestDoc | null> {
    const typed = normalizeId(id);
    const found = await this.store.refundRequests.findById(typed).lean<RefundRequestDoc>();
    if (found || typed.startsWith("R-") || !/^[0-9A-Z]{6,10}$/.test(typed)) return found;
    return this.store.refundRequests.findById(`R-${typed}`).lean<RefundRequestDoc>();
  }

  /**
   * For an id that names no request: the order it names instead (`refund show ORD-1`, read as
   * `order` reads a number), with its requests newest first (at most {@link ASKING_SHOWN} + 1, so
   * a reply can say there are more), and those still awaiting a decision. Null when it names no order.
   */
  async ofOrder(typed: string): Promise<{ orderNo: string; requests: RefundRequestDoc[]; open: RefundRequestDoc[] } | null> {
    const order = await findOrder<Pick<OrderDoc, "_id">>(this.store, typed, { _id: 1 });
    if (!order) return null;
    const newest = (filter: Record<string, unknown>) =>
      this.store.refundRequests.find({ orderNo: order._id, ...filter }).sort({ requestedAt: -1, _id: -1 }).limit(ASKING_SHOWN + 1).lean<RefundRequestDoc[]>();
    const [requests, open] = await Promise.all([newest({}), newest({ status: "pending", expiresAt: { $gt: this.clock.now() } })]);
    return { orderNo: order._id, requests, open };
  }

  /**
   * Requests, newest first: pending (not yet expired), mine (requested by `actor`'s person, under
   * any linked identity, or imported by them), approvable (what `actor` may approve now, as {@link approve} decides
   * it: `via`, the person at the terminal acting as `actor`, counts as the caller too; this includes a
   * request they approved once that the policy in force lets that approval complete, for them to
   * confirm) or all.
   * Every list is counted and paged by the database, however long. After `q.after` (the last row
   * a page showed), the rows right after it in the list's order (older, or as old with a smaller
   * id), so requests arriving or leaving meanwhile neither repeat nor skip rows of the next page;
   * `skip` is then not applied, and `rest` counts the rows after it (else it is the total).
   */
  async list(q: {
    which: "pending" | "mine" | "all" | "approvable";
    actor: string;
    via?: string;
    role?: Role;
    since?: Date;
    after?: Pick<RefundRequestDoc, "_id" | "requestedAt">;
    limit?: number;
    skip?: number;
  }): Promise<{ items: RefundRequestDoc[]; total: number; rest: number }> {
    const skip = q.skip ?? 0;
    const filter: Record<string, unknown> = {};
    if (q.which === "pending") Object.assign(filter, { status: "pending", expiresAt: { $gt: this.clock.now() } });
    if (q.which === "approvable") {
      // Pending ones `actor` may approve now: not their person's own (nor the person's at the terminal:
      // see approve), within their role under the policy in force; not approved by their person
      // already, unless one approval is enough now (in the shop currency, within the manager
      // limit: see need): then approving again completes it, as approve does, and it is listed.
      const policy = await this.policy();
      const byRole = approvableByRole(q.role ?? "viewer", policy, this.opts.currency);
      if (!byRole) return { items: [], total: 0, rest: 0 };
      const me = await this.person(q.actor, q.via);
      const oneEnough = { currency: this.opts.currency, amount: { $lte: policy.managerLimit } };
      Object.assign(filter, { status: "pending", expiresAt: { $gt: this.clock.now() }, ...notAskedBy(me), $or: [notApprovedBy(me), oneEnough], ...byRole });
    }
    if (q.which === "mine") {
      // Also the requests they imported (requester `import:<file>`, they the person at the terminal).
      const me = await this.identity.linked(q.actor);
      filter.$or = [{ requester: { $in: me } }, { requester: /^import:/, requestedVia: { $in: me } }];
    }
    if (q.since) filter.requestedAt = { $gte: q.since };
    // After a row, in the sort's order (requestedAt, then _id, both descending); with $and, as
    // `approvable` and `mine` hold an $or of their own.
    const after = q.after && rowsAfter("requestedAt", q.after.requestedAt, q.after._id);
    const page = after ? { $and: [filter, after] } : filter;
    const [items, total, rest] = await Promise.all([
      this.store.refundRequests.find(page).sort({ requestedAt: -1, _id: -1 }).skip(after ? 0 : skip).limit(q.limit ?? 20).lean<RefundRequestDoc[]>(),
      this.store.refundRequests.countDocuments(filter),
      after ? this.store.refundRequests.countDocuments(page) : undefined,
    ]);
    return { items, total, rest: rest ?? total };
  }

  /**
   * Approves a request as `actor` with `role`: one guarded update from the
   * approval count seen (0 → 1, or 1 → 2 for two-manager requests), then the
   * execution. Concurrent and replayed approvals find the guard closed and
   * report what happened instead. The caller's person (every identity linked to
   * theirs) may neither have requested it nor have approved it already; a retry
   * reads the request and the links afresh.
   */
  async approve(input: { id: string; actor: string; role: Role; note?: string; via?: string }, attempt = 0): Promise<ApproveResult> {
    const now = this.clock.now();
    const req = await this.get(input.id);
    if (!req) return { kind: "not_found" };
    const { me, check } = await this.decide(req, input, now);
    if (check.kind === "self_approval") return { ...check, request: req };
    if (check.kind === "closed") {
      if (req.status === "approved") {
        const finished = !req.executedAt;
        const r = await this.finish(req);
        const latest = (await this.get(req._id)) ?? req;
        if (r.kind === "failed") return { kind: "failed", request: latest, reason: r.reason };
        return { kind: "already_approved", request: latest, finished: finished && r.now };
      }
      // Expired (by the job, before this call or while it tried: its guarded update missed): said as
      // such, with when, as a late approval of a request not yet marked is, and as reject says it.
      if (req.status === "expired") return { kind: "expired", request: req };
      if (req.status !== "pending") return { kind: "decided", request: req };
      return { kind: "expired", request: (await this.expireOne(req._id, now)) ?? req };
    }
    if (check.kind === "needs_role") return { ...check, request: req };
    if (check.kind === "waiting_second") return { kind: "waiting_second", request: req, byYou: true, as: check.as };

    const { required } = check;
    const count = req.approvalCount;
    // Who typed the deciding approval, for the `refund execute` entry (see recordExecution): the
    // person at the terminal acting as the caller (--as), else the caller.
    const decidedVia = input.via ?? input.actor;
    if (check.confirm) {
      // A person counts once. Their earlier approval may be enough now (the policy changed since
      // it was given: a two-manager request now within one manager's limit): it completes the
      // request, by one guarded update from this very state, so it happens once however many click.
      const done = await this.store.refundRequests
        .findOneAndUpdate(
          { _id: req._id, status: "pending", approvalCount: count, expiresAt: { $gt: now }, ...notAskedBy(me) },
          { $set: { status: "approved", decidedBy: input.actor, decidedVia, decidedAt: now, requiredApprovals: required } },
          { returnDocument: "after" },
        )
        .lean<RefundRequestDoc>();
      if (!done) {
        if (attempt < 3) return this.approve(input, attempt + 1);
        return this.lostRaces(req, now);
      }
      return this.executed(done);
    }

    const final = count + 1 >= required;
    const approval = { by: input.actor, ...(input.via && input.via !== input.actor ? { via: input.via } : {}), role: input.role, at: now, ...(input.note ? { note: input.note } : {}) };
    const after = await this.store.refundRequests
      .findOneAndUpdate(
        { _id: req._id, status: "pending", approvalCount: count, expiresAt: { $gt: now }, ...notBy(me) },
        {
          $inc: { approvalCount: 1 },
          $push: { approvals: approval },
          $set: final ? { status: "approved", decidedBy: input.actor, decidedVia, decidedAt: now, requiredApprovals: required } : { requiredApprovals: required },
        },
        { returnDocument: "after" },
      )
      .lean<RefundRequestDoc>();
    if (!after) {
      // Someone else moved it first (or it just expired): report from the new state.
      if (attempt < 3) return this.approve(input, attempt + 1);
      return this.lostRaces(req, now);
    }
    if (!final) return { kind: "waiting_second", request: after, byYou: false };
    return this.executed(after);
  }

  /**
   * How an approval that lost its guarded update on every try ends, from the request as it is now:
   * decided or expired meanwhile, said as such; still pending (others kept changing it), `busy`:
   * nothing was recorded, and "already pending" would read as a decision.
   */
  private async lostRaces(req: RefundRequestDoc, now: Date): Promise<ApproveResult> {
    const latest = (await this.get(req._id)) ?? req;
    if (latest.status === "expired") return { kind: "expired", request: latest };
    if (latest.status !== "pending") return { kind: "decided", request: latest };
    if (latest.expiresAt <= now) return { kind: "expired", request: (await this.expireOne(latest._id, now)) ?? latest };
    return { kind: "busy", request: latest };
  }

  /**
   * What `refund approve` would answer `caller` about `req` before writing anything (see
   * {@link ApproveCheck}): the same rules, in the same order, as {@link approve} applies, so a
   * view shown to one person (`refund show`) offers the Approve button only to whom it may take.
   */
  async approvalCheck(req: RefundRequestDoc, caller: { actor: string; via?: string; role: Role }): Promise<ApproveCheck> {
    return (await this.decide(req, caller, this.clock.now())).check;
  }

  /** {@link approvalCheck}, with the caller's person (`me`, see {@link person}) for {@link approve}'s guards. */
  private async decide(req: RefundRequestDoc, caller: { actor: string; via?: string; role: Role }, now: Date): Promise<{ me: string[]; check: ApproveCheck }> {
    // Four eyes means two people: each identity linked to the caller's counts as the caller, and
    // so does the person at the terminal acting as someone else (the shell's --as).
    const { callers, me } = await this.people(caller.actor, caller.via);
    const verdict = (check: ApproveCheck) => ({ me, check });
    if (me.includes(req.requester) || (req.requestedVia && me.includes(req.requestedVia))) {
      // Filed through the bulk import (requester `import:<file>`) by the caller's person: theirs, as typed in chat.
      if (!parseIdentity(req.requester) && req.requestedVia && callers.includes(req.requestedVia)) return verdict({ kind: "self_approval", as: req.requestedVia });
      // `atTerminal`: it is one person only through the shell's --as (not by identity links).
      return verdict({ kind: "self_approval", as: req.requester, atTerminal: !callers.includes(req.requester) });
    }
    if (req.status !== "pending" || req.expiresAt <= now) return verdict({ kind: "closed" });
    const policy = await this.policy();
    const { required, role: needed, foreign } = this.need(req, policy);
    if (!roleAtLeast(caller.role, needed)) {
      // The limit shown is the caller's own (what they may approve), or the two-manager threshold.
      const own = roleAtLeast(caller.role, "manager") || required === 2 ? policy.managerLimit : roleAtLeast(caller.role, "support") ? policy.supportLimit : 0;
      return verdict({ kind: "needs_role", required: needed, limit: own, two: required === 2, foreign });
    }
    const mine = approvalBy(req, me)?.by;
    // A person counts once: approved by them already, theirs only to confirm, when that one approval is enough now.
    if (mine && req.approvalCount < required) return verdict({ kind: "waiting_second", as: mine });
    return verdict({ kind: "may", confirm: !!mine, required });
  }

  /** Executes a request just approved, and says how it ended. */
  private async executed(after: RefundRequestDoc): Promise<ApproveResult> {
    const r = await this.finish(after);
    const latest = (await this.get(after._id)) ?? after;
    if (r.kind === "failed") return { kind: "failed", request: latest, reason: r.reason };
    return { kind: "approved", request: latest, order: r.order };
  }

  /**
   * Finishes an approved request: executes the refund on the order (one guarded
   * update; idempotent), records it, and queues the requester's notification.
   * Safe to call any number of times, concurrently too.
   */
  async finish(req: RefundRequestDoc): Promise<ExecResult> {
    if (req.status !== "approved") return { kind: "failed", reason: req.failReason ?? req.status };
    if (req.executedAt) {
      // executedAt is set only after the notification was queued (see markExecuted).
      return { kind: "executed", order: await this.store.orders.findById(req.orderNo).lean<OrderDoc>(), now: false };
    }
    for (let i = 0; i < 5; i++) {
      const now = this.clock.now();
      const order = await this.store.orders.findById(req.orderNo).lean<OrderDoc>();
      if (!order) return this.fail(req, "order_missing");
      const prior = order.refunds?.find((r) => r.requestId === req._id);
      if (prior) {
        // Executed earlier, but what followed the order update (settle, this entry, the notice)
        // may not have happened: the entry again under its fixed ref (the first one kept), as
        // the execution wrote it, then the notice.
        const at = prior.at ?? now;
        await this.recordExecution(req, at);
        await this.markExecuted(req, at);
        return { kind: "executed", order, now: false };
      }
      const status = order.status as OrderStatus;
      if (!mayRefund(order)) return this.fail(req, "order_status");
      const refunded = order.refundedTotal ?? 0;
      if (req.amount > order.total - refunded) return this.fail(req, "balance");
      const toFull = refunded + req.amount === order.total && canTransition(status, "refunded");
      const approvers = req.approvals.flatMap((a) => (a.by ? [a.by] : []));
      const entry = { requestId: req._id, amount: req.amount, at: now, day: localDay(now, this.opts.timeZone), ...(approvers.length ? { by: approvers.join(" + ") } : {}) };
      // The guard: this refund not yet on the order, and the balance still covers it
      // (total never changes, so `refundedTotal ≤ total − amount` is a constant bound).
      const absent: [string, string][] = [["refunds.requestId", req._id]];
      const filter: Record<string, unknown> = { _id: order._id };
      const update: Record<string, unknown> = { $inc: incAsDoubles({ refundedTotal: req.amount }), $set: { changedAt: now } };
      // The request's hold becomes the refund in the same update (requests from before holds have none).
      const hold = order.refundHolds?.find((h) => h.id === req._id);
      if (hold) {
        Object.assign(filter, holdFilter(hold));
        const pull = pullHold(hold);
        update.$inc = { ...incAsDoubles({ refundedTotal: req.amount }), ...pull.$inc };
        update.$pull = pull.$pull;
      } else {
        absent.push(["refundHolds.id", req._id]);
      }
      Object.assign(filter, lacking(...absent));
      if (toFull) {
        Object.assign(filter, { status, refundedTotal: refunded });
        Object.assign(update.$set as object, { status: "refunded" });
        update.$push = { refunds: entry, history: { status: "refunded", at: now, by: req.decidedBy ?? "", note: req._id } };
      } else {
        // The status as read: a paid order cancelled meanwhile is still refundable, anything else
        // is looked at again. An order that may become `refunded` must stay short of its total:
        // a refund landing meanwhile turns this one into the one that reaches it (toFull, on the
        // next read), which moves the status; `≤` would refund it in full and leave it `paid`.
        const bound = order.total - req.amount;
        Object.assign(filter, { status, refundedTotal: canTransition(status, "refunded") ? { $lt: bound } : { $lte: bound } });
        update.$push = { refunds: entry };
      }
      // Sent as it is (the amounts as doubles): see incAsDoubles.
      const after = (await this.store.orders.collection.findOneAndUpdate(filter as never, update as never, { returnDocument: "after" })) as OrderDoc | null;
      if (after) {
        // A full refund before shipment releases the reserved stock (once; see OrderEffects).
        await this.effects.settle(after);
        await this.recordExecution(req, now);
        await this.markExecuted(req, now);
        return { kind: "executed", order: after, now: true };
      }
      // The order changed under us (another refund, a status move): look again.
    }
    return { kind: "failed", reason: "contention" };
  }

  /**
   * The `refund execute` audit entry of a request executed at `at`, under the fixed ref
   * `exec-<id>` (record keeps the first: writing it again, after a failure past the order
   * update, changes nothing). As the deciding approval's entry reads: who decided, and the person
   * at the terminal acting as them (--as), whose platform it was typed on. That is `decidedVia`,
   * also when the decision was a first approver's confirmation after a policy change (which adds
   * no approval); a request decided before it was kept: the deciding approval's `via`.
   */
  private async recordExecution(req: RefundRequestDoc, at: Date): Promise<void> {
    const typed = req.decidedVia ?? (req.decidedBy && [...req.approvals].reverse().find((a) => a.by === req.decidedBy)?.via);
    const via = typed && typed !== req.decidedBy ? typed : undefined;
    await this.audit.record({
      ref: `exec-${req._id}`,
      at,
      actor: req.decidedBy ?? "system",
      ...(via ? { via } : {}),
      platform: (via ?? req.decidedBy ?? "system:").split(":")[0]!,
      command: "refund execute",
      // The amount as people read it: major units of the request's currency (`5.00 USD`).
      args: `${req._id} ${req.orderNo} ${majorUnits(req.amount, req.currency)}`,
      outcome: "ok",
      subject: [req._id, req.orderNo],
    });
  }

  // Notify first, then set executedAt: a crash in between leaves executedAt unset, so the
  // next finish queues the notification again (under the same key: once) and sets it.
  private async markExecuted(req: RefundRequestDoc, at: Date): Promise<void> {
    await this.notifyOutcome({ ...req, executedAt: at });
    await this.store.refundRequests.updateOne({ _id: req._id, status: "approved", executedAt: { $exists: false } }, { $set: { executedAt: at } });
  }

  private async fail(req: RefundRequestDoc, reason: string): Promise<ExecResult> {
    const after = await this.store.refundRequests
      .findOneAndUpdate({ _id: req._id, status: "approved", executedAt: { $exists: false } }, { $set: { status: "failed", failReason: reason, notice: "pending" } }, { returnDocument: "after" })
      .lean<RefundRequestDoc>();
    if (after) await this.closed(after);
    return { kind: "failed", reason };
  }

  /** Rejects a pending request (one guarded update) and tells the requester. */
  async reject(input: { id: string; actor: string; reason: string }): Promise<RejectResult> {
    const now = this.clock.now();
    const req = await this.get(input.id);
    if (!req) return { kind: "not_found" };
    if (req.status === "rejected") return { kind: "already_rejected", request: req };
    if (req.status === "expired") return { kind: "expired", request: req };
    if (req.status !== "pending") return { kind: "decided", request: req };
    if (req.expiresAt <= now) return { kind: "expired", request: (await this.expireOne(req._id, now)) ?? req };
    const after = await this.store.refundRequests
      .findOneAndUpdate(
        { _id: req._id, status: "pending", expiresAt: { $gt: now } },
        { $set: { status: "rejected", decidedBy: input.actor, decidedAt: now, rejectReason: input.reason, notice: "pending" } },
        { returnDocument: "after" },
      )
      .lean<RefundRequestDoc>();
    if (!after) {
      const latest = (await this.get(req._id)) ?? req;
      if (latest.status === "rejected") return { kind: "already_rejected", request: latest };
      if (latest.status === "expired") return { kind: "expired", request: latest };
      return { kind: "decided", request: latest };
    }
    await this.closed(after);
    return { kind: "rejected", request: after };
  }

  /**
   * Closes the pending requests of an order with nothing left to refund (the shop refunded it in
   * full): each one guarded update pending → rejected (by `system`, reason: the shop's refund),
   * then its hold is given back and its requester told, as for any rejection. Ids closed.
   */
  async closeExhausted(orderNo: string): Promise<string[]> {
    const open = await this.store.refundRequests.find({ orderNo, status: "pending" }).select({ _id: 1 }).lean<{ _id: string }[]>();
    if (!open.length) return [];
    const order = await this.store.orders.findById(orderNo).select({ total: 1, refundedTotal: 1 }).lean<Pick<OrderDoc, "total" | "refundedTotal">>();
    if (!order || (order.refundedTotal ?? 0) < order.total) return [];
    const now = this.clock.now();
    const closed: string[] = [];
    for (const { _id } of open) {
      const after = await this.store.refundRequests
        .findOneAndUpdate({ _id, status: "pending" }, { $set: { status: "rejected", decidedBy: SYSTEM_DECIDER, decidedAt: now, rejectReason: SHOP_REFUNDED_REASON, notice: "pending" } }, { returnDocument: "after" })
        .lean<RefundRequestDoc>();
      if (!after) continue;
      await this.closed(after);
      closed.push(_id);
    }
    return closed;
  }

  /** Marks one pending request expired if it is due (guarded), and tells the requester; the request as it is now. */
  private async expireOne(id: string, now: Date): Promise<RefundRequestDoc | null> {
    return (await this.tryExpire(id, now)) ?? (await this.get(id));
  }

  /** One guarded update pending → expired of a due request; when it lands, the requester is told. Null when it did not. */
  private async tryExpire(id: string, now: Date): Promise<RefundRequestDoc | null> {
    const after = await this.store.refundRequests
      .findOneAndUpdate({ _id: id, status: "pending", expiresAt: { $lte: now } }, { $set: { status: "expired", decidedAt: now, notice: "pending" } }, { returnDocument: "after" })
      .lean<RefundRequestDoc>();
    if (after) await this.closed(after);
    return after;
  }

  /**
   * The audit entry of a request the bot closed itself (expired by time, rejected as the shop
   * refunded the order): nobody typed it, yet it changed a person's request. Its ref is fixed
   * per request and change, so a repeat (a crash before the notice) records it once.
   */
  private async systemAudit(req: RefundRequestDoc, command: "refund expire" | "refund reject", detail: string): Promise<void> {
    await this.audit.record({
      ref: `${command === "refund expire" ? "expire" : "close"}-${req._id}`,
      at: req.decidedAt ?? this.clock.now(),
      actor: SYSTEM_DECIDER,
      platform: "system",
      command,
      args: `${req._id} ${req.orderNo} ${detail}`,
      outcome: "ok",
      subject: [req._id, req.orderNo],
    });
  }

  /**
   * Expires every pending request whose time has come (for the expiry job).
   * Each is one guarded update; running it twice or concurrently expires each once.
   */
  async expireDue(now: Date = this.clock.now()): Promise<{ expired: string[] }> {
    const due = await this.store.refundRequests.find({ status: "pending", expiresAt: { $lte: now } }).select({ _id: 1 }).limit(1000).lean<{ _id: string }[]>();
    const expired: string[] = [];
    for (const d of due) {
      const after = await this.tryExpire(d._id, now);
      if (after) expired.push(after._id);
    }
    return { expired };
  }

  /** Expires the due pending requests of one order, so their holds are given back; how many there were. */
  private async expireDueOf(orderNo: string, now: Date): Promise<number> {
    const due = await this.store.refundRequests.find({ orderNo, status: "pending", expiresAt: { $lte: now } }).select({ _id: 1 }).lean<{ _id: string }[]>();
    for (const d of due) await this.tryExpire(d._id, now);
    return due.length;
  }

  /**
   * Approver reminders (for the expiry job): every pending, unexpired request
   * waiting since before `olderThan` and not yet reminded is passed to `send`,
   * then marked by one guarded update (`remindedAt` unset → set). `send` must be
   * idempotent (an outbox key per request): a crash between the two re-sends
   * nothing, and a marked request is never offered again.
   */
  async remindDue(now: Date, olderThan: Date, send: (req: RefundRequestDoc) => Promise<void>): Promise<{ reminded: string[] }> {
    const due = await this.store.refundRequests
      .find({ status: "pending", expiresAt: { $gt: now }, requestedAt: { $lte: olderThan }, remindedAt: { $exists: false } })
      .limit(1000)
      .lean<RefundRequestDoc[]>();
    const reminded: string[] = [];
    for (const r of due) {
      await send(r);
      const after = await this.store.refundRequests
        .findOneAndUpdate({ _id: r._id, status: "pending", remindedAt: { $exists: false } }, { $set: { remindedAt: now } }, { returnDocument: "after" })
        .lean<RefundRequestDoc>();
      if (after) reminded.push(r._id);
    }
    return { reminded };
  }

  /**
   * Finishes approved requests whose execution was interrupted, and queues the notices of
   * requests rejected, expired or failed by a process that stopped before queuing them (for a
   * repair job). The notice's outbox key makes a repeat harmless.
   */
  async repair(): Promise<{ finished: string[]; failed: string[]; notified: string[]; reheld: string[]; released: string[] }> {
    const stuck = await this.store.refundRequests.find({ status: "approved", executedAt: { $exists: false } }).limit(1000).lean<RefundRequestDoc[]>();
    const finished: string[] = [];
    const failed: string[] = [];
    for (const r of stuck) ((await this.finish(r)).kind === "executed" ? finished : failed).push(r._id);
    const unnoticed = await this.store.refundRequests.find({ notice: "pending" }).limit(1000).lean<RefundRequestDoc[]>();
    for (const r of unnoticed) await this.closed(r);
    const reheld = await this.holdOpen();
    return { finished, failed, notified: unnoticed.map((r) => r._id), reheld, released: await this.releaseStale() };
  }

  /**
   * Gives every open request (pending and unexpired, or approved and not executed) a hold on its
   * order if it has none: requests from before holds existed, and a hold given back while its
   * request still stood (a repair racing a late insert). Not bounded by the balance: the request
   * stands already. Never after its execution (`refunds.requestId`), which took the hold.
   */
  private async holdOpen(): Promise<string[]> {
    const now = this.clock.now();
    const reheld: string[] = [];
    const open = openRequests(now);
    for (let after = ""; ; ) {
      const reqs = await this.store.refundRequests
        .find({ ...open, _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(PAGE)
        .select({ orderNo: 1, amount: 1 })
        .lean<Pick<RefundRequestDoc, "_id" | "orderNo" | "amount">[]>();
      if (!reqs.length) return reheld;
      after = reqs[reqs.length - 1]!._id;
      const orders = await this.store.orders
        .find({ _id: { $in: [...new Set(reqs.map((r) => r.orderNo))] } })
        .select({ refundHolds: 1 })
        .lean<Pick<OrderDoc, "_id" | "refundHolds">[]>();
      const held = new Set(orders.flatMap((o) => (o.refundHolds ?? []).map((h) => `${o._id}\n${h.id}`)));
      for (const r of reqs) {
        if (held.has(`${r.orderNo}\n${r._id}`)) continue;
        const u = await this.store.orders.collection.updateOne(
          { _id: r.orderNo as never, ...lacking(["refundHolds.id", r._id], ["refunds.requestId", r._id]) },
          { $inc: incAsDoubles({ heldTotal: r.amount }), $push: { refundHolds: newHold(r._id, r.amount, now) } as never },
        );
        if (u.modifiedCount === 1) reheld.push(r._id);
      }
    }
  }

  /**
   * Gives back holds no open request stands behind: the request closed (or was executed)
   * before its hold was released, or it was never inserted (a crash between hold and insert;
   * only holds older than {@link HOLD_GRACE_MS}, so an insert in flight keeps its hold).
   */
  private async releaseStale(): Promise<string[]> {
    const now = this.clock.now();
    const released: string[] = [];
    for (let after = ""; ; ) {
      const orders = await this.store.orders
        .find({ heldTotal: { $gt: 0 }, _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(PAGE)
        .select({ refundHolds: 1 })
        .lean<Pick<OrderDoc, "_id" | "refundHolds">[]>();
      if (!orders.length) return released;
      after = orders[orders.length - 1]!._id;
      const holds = orders.flatMap((o) => (o.refundHolds ?? []).map((h) => ({ orderNo: o._id, hold: h, id: h.id ?? "", at: h.at ?? now })));
      const reqs = await this.store.refundRequests
        .find({ _id: { $in: holds.map((h) => h.id) } })
        .select({ orderNo: 1, status: 1, executedAt: 1 })
        .lean<Pick<RefundRequestDoc, "_id" | "orderNo" | "status" | "executedAt">[]>();
      const byId = new Map(reqs.map((r) => [r._id, r]));
      for (const h of holds) {
        // A request of that id on another order (a caller id retried with a different order) does not stand behind this hold.
        const r = byId.get(h.id);
        const stands = r && r.orderNo === h.orderNo;
        const open = stands ? r.status === "pending" || (r.status === "approved" && !r.executedAt) : now.getTime() - h.at.getTime() < HOLD_GRACE_MS;
        if (open) continue;
        if (await this.pullHoldOn(h.orderNo, h.hold)) released.push(h.id);
      }
    }
  }

  /**
   * After a request closed without a refund (rejected, expired, failed; marked `notice:
   * "pending"` in that same update): gives its hold back, then queues the requester's notice. A
   * crash before either is finished by {@link repair}.
   */
  private async closed(req: RefundRequestDoc): Promise<void> {
    // Closed by the bot itself (and by the repair of a crash in between: the entry is recorded once).
    if (req.status === "expired") await this.systemAudit(req, "refund expire", `expired at ${req.expiresAt.toISOString()}`);
    else if (req.status === "rejected" && req.decidedBy === SYSTEM_DECIDER) await this.systemAudit(req, "refund reject", `reason="${req.rejectReason ?? SHOP_REFUNDED_REASON}"`);
    await this.release(req.orderNo, req._id);
    await this.notifyPending(req);
  }

  /** Queues the outcome notice of a request marked `notice: "pending"`, then clears the mark. */
  private async notifyPending(req: RefundRequestDoc): Promise<void> {
    await this.notifyOutcome(req);
    await this.store.refundRequests.updateOne({ _id: req._id, notice: "pending" }, { $unset: { notice: "" } });
  }

  /** Queues the requester's notification of a final outcome, once per request and outcome. */
  private async notifyOutcome(req: RefundRequestDoc): Promise<void> {
    const outcome = req.status === "approved" ? (req.executedAt ? "approved" : null) : req.status === "pending" ? null : req.status;
    if (!outcome) return;
    // A request filed by another system (`api:<key>`, `import:<file>`) has nobody in chat to
    // tell: a notice there would wait for a deliverer that never comes, a false failure in `alerts list`.
    if (!CHAT_PLATFORMS.includes(req.requester.slice(0, req.requester.indexOf(":")))) return;
    // Every approver of a two-manager refund, not only the second (as the order's timeline says).
    const by = outcome === "approved" ? approversText(req, this.t) : (req.decidedBy ?? "");
    const p = { id: req._id, orderNo: req.orderNo, amount: this.fmt.money(req.amount, req.currency), by, reason: rejectReasonText(req.rejectReason, this.t) };
    const text =
      outcome === "approved"
        ? this.t("refund.notify.approved", p)
        : outcome === "rejected"
          ? // The Reject button gives no reason: said so, not "rejected by X: rejected with the Reject button".
            this.t(req.rejectReason === BUTTON_REJECT_REASON ? "refund.notify.rejected_button" : "refund.notify.rejected", p)
          : outcome === "expired"
            ? // Approved once (a two-manager request, or one awaiting its approver's confirmation): said, not "no decision".
              this.t(req.approvals?.length ? "refund.notify.expired_approved" : "refund.notify.expired", { ...p, by: approversText(req, this.t) })
            : this.t("refund.notify.failed", { ...p, reason: this.t(failKey(req.failReason)) });
    const reply: Reply = {
      title: this.t("refund.notify.title", { id: req._id }),
      text,
      status: outcome === "approved" ? "ok" : outcome === "failed" ? "error" : "info",
      visibility: "ephemeral",
    };
    // A notice answering a person's decision just now (an approval, a rejection, a refund that failed
    // as it was approved) goes at once. One the bot queues on its own (an expiry, a rejection because
    // the shop refunded the order, a late notice from the refund-expiry job's repair) is a
    // non-urgent direct message: held by quiet hours like any other.
    const now = this.clock.now().getTime();
    const answersPerson = outcome !== "expired" && !!req.decidedBy && req.decidedBy !== SYSTEM_DECIDER && !!req.decidedAt && now - new Date(req.decidedAt).getTime() < 10 * 60_000;
    await this.outbox.enqueue({ key: `refund:${req._id}:${outcome}`, dest: { kind: "user", identity: req.requester }, reply, kind: "refund", quiet: !answersPerson });
  }
}

/**
 * The update removing one hold: the element as stored (FerretDB v1 pulls only elements equal to
 * the whole value given, where MongoDB also takes `{id}` as a condition; the stored element
 * matches on both), and its amount off `heldTotal`.
 */
function pullHold(hold: Hold): { $pull: Record<string, unknown>; $inc: Record<string, unknown> } {
  return { $pull: { refundHolds: hold }, $inc: incAsDoubles({ heldTotal: -(hold.amount ?? 0) }) };
}

/**
 * The filter part leaving out requests made or approved by any of `identities` (one person).
 * `$nor` of `$in`, not `$nin` or `$ne`: FerretDB v1 answers those wrongly on the field of an
 * array of several subdocuments (`approvals.by`), matching documents that hold the value.
 */
function notBy(identities: readonly string[]): { $nor: Record<string, unknown>[] } {
  return { $nor: [...notAskedBy(identities).$nor, ...notApprovedBy(identities).$nor] };
}

/** The filter part leaving out requests made by any of `identities` (one person; see {@link notBy}). */
function notAskedBy(identities: readonly string[]): { $nor: Record<string, unknown>[] } {
  return { $nor: [{ requester: { $in: identities } }, { requestedVia: { $in: identities } }] };
}

/** The filter part leaving out requests approved by any of `identities` (one person; see {@link notBy}). */
function notApprovedBy(identities: readonly string[]): { $nor: Record<string, unknown>[] } {
  return { $nor: [{ "approvals.by": { $in: identities } }, { "approvals.via": { $in: identities } }] };
}

/**
 * The filter part matching documents whose array field `path` (e.g. `refunds.requestId`) holds
 * none of the values: `$nor` of `$in`, as in {@link notBy}. `{path: {$ne: v}}` is right on
 * MongoDB, but FerretDB v1 (the embedded database) matches a document holding `v` once its
 * array has two or more subdocuments: a second execution of one refund would pass its guard.
 */
function lacking(...pairs: [path: string, value: string][]): { $nor: Record<string, unknown>[] } {
  return { $nor: pairs.map(([path, value]) => ({ [path]: { $in: [value] } })) };
}

/** The filter part matching this very hold (its `hid`), never a later hold of the same request id. */
function holdFilter(hold: Hold): Record<string, string> {
  return hold.hid ? { "refundHolds.hid": hold.hid } : { "refundHolds.id": hold.id ?? "" };
}

/** A new hold of `amount` for request `id`. */
function newHold(id: string, amount: number, at: Date): Hold {
  return { id, hid: `${id}:${shortId(8)}`, amount, at };
}

/** Catalog key explaining a failed execution. */
export function failKey(reason: string | null | undefined): "refund.fail.balance" | "refund.fail.order_status" | "refund.fail.order_missing" | "refund.fail.other" {
  if (reason === "balance") return "refund.fail.balance";
  if (reason === "order_status") return "refund.fail.order_status";
  if (reason === "order_missing") return "refund.fail.order_missing";
  return "refund.fail.other";
}

/** `r-abc123` → `R-ABC123` (full-width characters plain, invisible ones such as a pasted U+200B gone). */
export function normalizeId(id: string): string {
  return withoutInvisible(id.normalize("NFKC")).trim().toUpperCase();
}
