import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { localDay } from "../core/format.js";
import { shortId } from "../core/ids.js";
import { roleAtLeast, type Role } from "../core/roles.js";
import type { SlaTable } from "../config.js";
import type { COMPLAINT_STATUSES, ComplaintDoc, OrderDoc, SEVERITIES, Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";
import { withoutInvisible } from "../core/text.js";
import type { IdentityService } from "./identity.service.js";
import { customerIdFilters, findOrder, OrderService } from "./order.service.js";

/** A complaint severity. */
export type Severity = (typeof SEVERITIES)[number];
/** A complaint status. */
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];

/** Complaint categories offered to staff (the model stores any string; commands validate these). */
export const COMPLAINT_CATEGORIES = ["delivery", "damaged", "wrong_item", "missing_item", "quality", "refund", "billing", "service", "other"] as const;
/**
 * The short words people type for a category (`category=物流`, `shipping`, `质量`), each read as
 * the category stored: by `complaint new` and by the ingestion API and import alike.
 */
export const COMPLAINT_CATEGORY_WORDS: Readonly<Record<string, (typeof COMPLAINT_CATEGORIES)[number]>> = {
  logistics: "delivery", shipping: "delivery", shipment: "delivery", courier: "delivery", 物流: "delivery", 配送: "delivery", 快递: "delivery", 运输: "delivery",
  damage: "damaged", broken: "damaged", 损坏: "damaged", 破损: "damaged",
  wrong: "wrong_item", 发错: "wrong_item", 错发: "wrong_item",
  missing: "missing_item", 少件: "missing_item", 漏发: "missing_item", 缺件: "missing_item",
  质量: "quality",
  payment: "billing", invoice: "billing", 账单: "billing", 支付: "billing", 付款: "billing",
  服务: "service", 客服: "service", 态度: "service",
  其它: "other",
};
/** Where a complaint came from. */
export const COMPLAINT_SOURCES = ["chat", "email", "phone", "marketplace", "social", "slack", "discord", "api", "other"] as const;

/** Customer id stored when a complaint names neither an order nor a customer. */
export const UNKNOWN_CUSTOMER = "unknown";

/**
 * Longest complaint text kept: what the ingestion API takes (`text`, 4,000 characters) and what a
 * complaint filed from a chat message keeps (the Slack reaction carries the message beside the
 * command line, so it is not held to the 900 characters `complaint new` takes typed).
 */
export const COMPLAINT_TEXT_MAX = 4000;

/** Lists of {@link ComplaintService.list}. */
/**
 * `escalated`: open and escalated; `resolved`: closed ones, latest resolved first; `all`: any
 * status (open ones first, most urgent first, then the resolved ones, latest first).
 */
export const COMPLAINT_LISTS = ["open", "mine", "overdue", "unassigned", "escalated", "resolved", "all"] as const;
export type ComplaintList = (typeof COMPLAINT_LISTS)[number];

/** One SLA clock of a complaint as seen at some instant. */
export interface SlaClock {
  dueAt: Date;
  /** When the clock stopped (first response, resolution), if it did. */
  doneAt?: Date;
  /** running: not done, not due; overdue: not done, past due; met / missed: done on time / late. */
  state: "running" | "overdue" | "met" | "missed";
  /** Milliseconds from now to the due time (negative when overdue); for running and overdue clocks. */
  leftMs?: number;
}

/** What {@link ComplaintService.create} needs. */
export interface NewComplaint {
  text: string;
  by: string;
  severity?: Severity;
  category?: string;
  source?: string;
  orderNo?: string;
  customerId?: string;
  permalink?: string;
  /** Fixed id (idempotent filing); a random `C-…` otherwise. */
  id?: string;
  /** Who filed it, when `by` is someone else (a chat message's author): the history names both. */
  filedBy?: string;
}

/**
 * An argument of a repeated filing that differs from the stored complaint and was not applied:
 * `value` as given, `kept` what the complaint has (undefined: nothing, e.g. no order).
 */
export interface IgnoredArg {
  arg: "severity" | "category" | "order" | "customer";
  value: string;
  kept?: string;
}

/** Outcome of creating a complaint. */
export type CreateResult =
  | { kind: "created"; complaint: ComplaintDoc }
  /**
   * The same message was filed before (same id): nothing new was created. `ignored`: the
   * arguments of this filing that differ from the stored complaint (none were applied).
   */
  | { kind: "duplicate"; complaint: ComplaintDoc; ignored: IgnoredArg[] }
  | { kind: "unknown_order"; orderNo: string }
  | { kind: "customer_mismatch"; orderNo: string; orderCustomer: string };

/**
 * Why a change was refused. `permission_denied`: the complaint is escalated and the actor is
 * below {@link ESCALATED_ROLE} (a refusal of the role, audited as denied like the core's own).
 */
/**
 * `taken_meanwhile`: someone took it between the read and the write of an assignment, which would
 * have overridden them unseen. `held_by_other`: an assignment that would take it from its holder,
 * or an escalation that would take it off them, by someone below {@link ESCALATED_ROLE} who is
 * not the holder (a refusal of the role).
 */
export type RefusalReason = "claimed_by_other" | "resolved" | "not_resolved" | "permission_denied" | "taken_meanwhile" | "held_by_other";

/**
 * Who acts on a complaint: the identity recorded in history, and the role the core granted it.
 * `identities`: every identity of its person (`role link`), itself included, when read (see
 * {@link ComplaintService.person}): holder checks go by person, not by identity.
 */
export interface ComplaintActor {
  identity: string;
  role: Role;
  identities?: readonly string[];
}

/**
 * True when `by`'s person holds `c`: its assignee is `by`'s identity or one linked to it. The
 * assignee stays the identity that took it; someone linked acts on it as its holder.
 */
export function holds(c: Pick<ComplaintDoc, "assignee">, by: ComplaintActor): boolean {
  return !!c.assignee && (c.assignee === by.identity || (by.identities?.includes(c.assignee) ?? false));
}

/**
 * The latest `action` ("resolve", "escalate") in `c`'s history: who, when, with what note, and
 * whether it was `by`'s person (as this identity or one linked to it). For an "already" reply.
 */
export function lastDone(c: Pick<ComplaintDoc, "history">, action: string, by: ComplaintActor): { by: string; at?: Date; note?: string; you: boolean } | undefined {
  const h = [...(c.history ?? [])].reverse().find((e) => e.action === action);
  if (!h?.by) return undefined;
  return { by: h.by, ...(h.at ? { at: h.at } : {}), ...(h.note ? { note: h.note } : {}), you: h.by === by.identity || (by.identities?.includes(h.by) ?? false) };
}

/** True when `to` is another of `by`'s own identities (`role link`): giving it a complaint is `by`'s claim, made as it. */
export function ownOtherIdentity(by: ComplaintActor, to: string): boolean {
  return to !== by.identity && (by.identities?.includes(to) ?? false);
}

/**
 * The role that may claim, assign or resolve an escalated complaint: escalation hands a
 * complaint to someone senior, so support staff may not take it back (or close it) themselves.
 */
export const ESCALATED_ROLE: Role = "manager";

/** Outcome of a state change. Expected outcomes are results, not exceptions. */
export type ChangeResult =
  | { kind: "done"; complaint: ComplaintDoc; previous: ComplaintDoc }
  /** Already in the asked state (claimed by you, resolved, escalated, assigned to that person): nothing changed. */
  | { kind: "already"; complaint: ComplaintDoc }
  | { kind: "refused"; reason: RefusalReason; complaint: ComplaintDoc }
  | { kind: "not_found" };

/** A clock due for a reminder (see {@link ComplaintService.dueForReminder}). */
export interface ReminderDue {
  complaint: ComplaintDoc;
  clock: "first_response" | "resolution";
  state: "due_soon" | "overdue";
  dueAt: Date;
  /** Idempotency key for the outbox: one reminder per complaint, clock and state. */
  key: string;
  /** Who to remind: the assignee, or null for the support queue. */
  to: string | null;
}

/** A scheduled complaint alert (see {@link ComplaintService.alertsDue}). */
export type ComplaintAlertKind = "posted" | "firstResponseWarn" | "firstResponseBreach" | "resolutionWarn" | "resolutionBreach";

/** An alert due for a complaint; `skip`: record it without sending (superseded by a breach). */
export interface ComplaintAlertDue {
  complaint: ComplaintDoc;
  kind: ComplaintAlertKind;
  skip?: boolean;
}

/** A history entry appended after the action's own (same update). */
type ExtraEntry = { action: string; note?: string; from?: string; to?: string };

/**
 * A planned change computed from the current document. The history entry's `from` is the status
 * changed from, unless the plan gives another (a reassignment: the previous assignee).
 */
type Plan =
  | { kind: "change"; set: Record<string, unknown>; unset?: string[]; action: string; note?: string; from?: string; to?: string; extra?: ExtraEntry[] }
  | { kind: "already" }
  | { kind: "refused"; reason: RefusalReason };

const MAX_ATTEMPTS = 4;
const OPEN = { $ne: "resolved" as const };

/**
 * Complaint triage: filing, claiming, assignment, resolution, escalation, reopening, and
 * the two SLA clocks (first response, resolution) set by severity from configuration.
 * Every change is one guarded single-document update that appends to `history`.
 */
export class ComplaintService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: { timeZone: string; sla: { firstResponse: SlaTable; resolution: SlaTable } },
    /** Which identities are one person (`role link`); without it each identity is its own person. */
    private readonly identity?: Pick<IdentityService, "linked">,
  ) {}

  /** `by` with the identities of its person (read once; kept when given). */
  async person<A extends ComplaintActor>(by: A): Promise<A & { identities: readonly string[] }> {
    if (by.identities) return { ...by, identities: by.identities };
    return { ...by, identities: await this.linkedTo(by.identity) };
  }

  /** Every identity of `identity`'s person, itself included. */
  private async linkedTo(identity: string): Promise<string[]> {
    return this.identity ? this.identity.linked(identity) : [identity];
  }

  /**
   * A complaint id as written in a sentence, without the punctuation after it (`C-7K2M9Q.`,
   * `C-7K2M9Q，`) or the brackets around it (`(C-7K2M9Q)`): an id is letters and digits only.
   */
  static bareId(input: string): string {
    return input.replace(/^[([（【「]+/, "").replace(/[)\]）】」.,;:!?。，；：！？、…]+$/, "");
  }

  /** Normalizes a typed complaint id: upper case, `C-` added when missing. */
  static normalizeId(input: string): string {
    const s = ComplaintService.bareId(input.trim()).toUpperCase();
    return s.startsWith("C-") ? s : `C-${s}`;
  }

  /** The complaint, or null. */
  async get(id: string): Promise<ComplaintDoc | null> {
    return this.store.complaints.findById(ComplaintService.normalizeId(id)).lean<ComplaintDoc>();
  }

  /**
   * Files a complaint. With an order, the customer is the order's (a different customer= is
   * refused; case and width do not matter). Without one, the customer id is kept as typed
   * (trimmed), or as the shop spells it on its orders when it differs only in case or width
   * (full-width `ＣＵＳＴ－１０００５`). SLA due times are set
   * from the severity at filing.
   */
  async create(input: NewComplaint): Promise<CreateResult> {
    // Ids are the shop's own (ingestion takes any 1-100 characters and keeps them as sent):
    // never re-cased here, or cards and lookups would disagree with the orders.
    let customerId = input.customerId?.trim() || undefined;
    let orderNo: string | undefined;
    if (input.orderNo) {
      const order = await findOrder<Pick<OrderDoc, "_id" | "customerId">>(this.store, input.orderNo, { customerId: 1 });
      if (!order) return { kind: "unknown_order", orderNo: OrderService.normalizeOrderNo(input.orderNo) };
      orderNo = order._id;
      // The order's customer id as the shop sent it, whatever case it was typed in.
      if (customerId && !sameCustomer(customerId, order.customerId)) return { kind: "customer_mismatch", orderNo, orderCustomer: order.customerId };
      customerId = order.customerId;
    } else if (customerId && customerId !== UNKNOWN_CUSTOMER) {
      customerId = await this.shopSpelling(customerId);
    }
    const now = this.clock.now();
    const severity = input.severity ?? "normal";
    const base = {
      customerId: customerId ?? UNKNOWN_CUSTOMER,
      ...(orderNo ? { orderNo } : {}),
      source: input.source ?? "chat",
      category: input.category ?? "other",
      severity,
      text: input.text,
      status: "new" as const,
      createdBy: input.by,
      createdAt: now,
      day: localDay(now, this.opts.timeZone),
      ...slaDue(now, severity, this.opts.sla),
      ...(input.permalink ? { permalink: input.permalink } : {}),
      // Filed by someone from another's message: `from` names the message's author (the card says so in the reader's language).
      history: [{ action: "created", by: input.filedBy ?? input.by, at: now, to: "new", ...(input.filedBy && input.filedBy !== input.by ? { from: input.by } : {}) }],
    };
    for (let attempt = 0; ; attempt++) {
      const _id = input.id ?? `C-${shortId(6)}`;
      try {
        const doc = await this.store.complaints.create({ _id, ...base });
        return { kind: "created", complaint: doc.toObject() as ComplaintDoc };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        if (input.id) {
          const prior = await this.store.complaints.findById(_id).lean<ComplaintDoc>();
          if (prior) return { kind: "duplicate", complaint: prior, ignored: await this.ignoredArgs(prior, input) };
        }
        // A random id collided (rare): draw another.
        if (attempt >= 5) throw e;
      }
    }
  }

  /**
   * Files a complaint from a chat message (the Slack adapter's "file as complaint" action).
   * Idempotent per message: the id derives from the permalink, so filing the same message
   * twice returns the first complaint. An order number in the text (ORD-…) links the order
   * and its customer when the order exists and is the customer's given (if one is).
   */
  async fileFromMessage(msg: {
    text: string;
    author: string;
    permalink: string;
    source?: string;
    severity?: Severity;
    category?: string;
    /** Given by the filer: used instead of an order number found in the text. */
    orderNo?: string;
    customerId?: string;
    /** Who filed it (the one who reacted or typed the command), when known. */
    filedBy?: string;
  }): Promise<CreateResult> {
    const id = "C-M" + createHash("sha256").update(msg.permalink).digest("hex").slice(0, 8).toUpperCase();
    const found = orderNoInText(msg.text);
    const text = msg.text.trim().slice(0, COMPLAINT_TEXT_MAX) || msg.permalink;
    const common = {
      id,
      text,
      by: msg.author,
      ...(msg.filedBy ? { filedBy: msg.filedBy } : {}),
      source: msg.source ?? "slack",
      permalink: msg.permalink,
      ...(msg.severity ? { severity: msg.severity } : {}),
      ...(msg.category ? { category: msg.category } : {}),
      ...(msg.customerId ? { customerId: msg.customerId } : {}),
    };
    // Filed already: say so before validating the order or customer given this time (a
    // different order= must not turn "already filed" into "no such order").
    const prior = await this.store.complaints.findById(id).lean<ComplaintDoc>();
    if (prior) return { kind: "duplicate", complaint: prior, ignored: await this.ignoredArgs(prior, msg) };
    if (msg.orderNo) return this.create({ ...common, orderNo: msg.orderNo });
    if (found) {
      // A guess from the text links only an order that fits: one that does not exist, or is
      // another customer's than customer= names, is not the filer's mistake (they typed no
      // order=), so the complaint is filed without it.
      const r = await this.create({ ...common, orderNo: found });
      if (r.kind !== "unknown_order" && r.kind !== "customer_mismatch") return r;
    }
    return this.create(common);
  }

  /**
   * Files a complaint typed in chat (`complaint new` without a message link): without `orderNo`,
   * an order number in the text (`ORD-…`) links that order when it exists and is the customer's
   * given (if any), as a complaint filed from a chat message does; otherwise it is filed without one.
   */
  async fileTyped(input: NewComplaint): Promise<CreateResult> {
    const found = input.orderNo ? undefined : orderNoInText(input.text);
    if (found) {
      const r = await this.create({ ...input, orderNo: found });
      // A guess from the text: not the filer's mistake when it does not fit.
      if (r.kind !== "unknown_order" && r.kind !== "customer_mismatch") return r;
    }
    return this.create(input);
  }

  /**
   * A page of complaints: `open` (not resolved), `mine` (open and assigned to `identity` or an
   * identity linked to it),
   * `overdue` (open and past either due time still running), `unassigned` (open, nobody on it);
   * `escalated` (open and escalated), `resolved` (latest resolved first), `all` (any status: the
   * open ones as listed here, then the resolved ones);
   * given several, those in all of them (`mine` and `unassigned` together: none).
   * Most urgent first: by the next clock to run out (the reply clock while nobody has answered,
   * else resolution; the list's "Next due" column), then resolution due time.
   */
  async list(which: ComplaintList | readonly ComplaintList[], identity: string, page = 1, pageSize = 10): Promise<{ complaints: ComplaintDoc[]; total: number }> {
    const now = this.clock.now();
    // Several lists at once are all of them (`mine overdue`: my overdue ones), in one filter.
    const lists = new Set<ComplaintList>(typeof which === "string" ? [which] : which);
    const filter: Record<string, unknown> = { status: lists.has("resolved") ? "resolved" : lists.has("escalated") ? "escalated" : OPEN };
    // `all`: any status, unless another list names open ones only (`all overdue` is `overdue`).
    const openOnly = ["overdue", "unassigned", "escalated"].some((w) => lists.has(w as ComplaintList));
    if (lists.has("all") && !openOnly && !lists.has("resolved")) delete filter.status;
    // The person's: a complaint claimed on Slack is theirs on Discord too (the assignee stays as claimed).
    if (lists.has("mine")) filter.assignee = { $in: await this.linkedTo(identity) };
    if (lists.has("unassigned")) filter.assignee = lists.has("mine") ? { $in: [] } : { $exists: false };
    if (lists.has("overdue")) filter.$or = overdueOr(now);
    const upTo = page * pageSize;
    // Resolved ones, latest resolved first: a lead's review of what was closed.
    const resolvedPart = async (f: Record<string, unknown>, skip: number, limit: number) =>
      limit > 0 ? this.store.complaints.find(f).sort({ resolvedAt: -1, _id: 1 }).skip(skip).limit(limit).lean<ComplaintDoc[]>() : [];
    if (filter.status === "resolved") {
      const total = await this.store.complaints.countDocuments(filter);
      if (upTo - pageSize >= total) return { complaints: [], total };
      return { complaints: await resolvedPart(filter, upTo - pageSize, pageSize), total };
    }
    if (!("status" in filter)) {
      // Every complaint: the open ones as `open` lists them, then the resolved ones.
      const [open, closed] = await Promise.all([this.list([...lists].filter((w) => w !== "all"), identity, page, pageSize), this.store.complaints.countDocuments({ ...filter, status: "resolved" })]);
      const total = open.total + closed;
      if (upTo - pageSize >= total) return { complaints: [], total };
      const from = Math.max(0, upTo - pageSize - open.total);
      return { complaints: [...open.complaints, ...(await resolvedPart({ ...filter, status: "resolved" }, from, pageSize - open.complaints.length))], total };
    }
    const total = await this.store.complaints.countDocuments(filter);
    if (upTo - pageSize >= total) return { complaints: [], total };
    // Sorted by a due time that depends on the first response, without `$expr` (FerretDB v1):
    // the unanswered ones by their reply clock and the answered ones by resolution, each the
    // first `upTo`, merged here (the page's rows are among them).
    const [unanswered, answered] = await Promise.all([
      this.store.complaints
        .find({ ...filter, firstResponseAt: { $exists: false } })
        .sort({ firstResponseDueAt: 1, resolutionDueAt: 1, _id: 1 })
        .limit(upTo)
        .lean<ComplaintDoc[]>(),
      this.store.complaints
        .find({ ...filter, firstResponseAt: { $exists: true } })
        .sort({ resolutionDueAt: 1, _id: 1 })
        .limit(upTo)
        .lean<ComplaintDoc[]>(),
    ]);
    const nextDue = (c: ComplaintDoc) => (c.firstResponseAt ? c.resolutionDueAt : c.firstResponseDueAt).getTime();
    const complaints = [...unanswered, ...answered].sort(
      (a, b) => nextDue(a) - nextDue(b) || a.resolutionDueAt.getTime() - b.resolutionDueAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0),
    );
    return { complaints: complaints.slice(upTo - pageSize, upTo), total };
  }

  /**
   * Takes an unassigned complaint. Exactly one of several simultaneous claims wins; the others
   * learn who has it. An escalated one needs {@link ESCALATED_ROLE} or above.
   */
  async claim(id: string, actor: ComplaintActor): Promise<ChangeResult> {
    const by = await this.person(actor);
    return this.change(id, by.identity, (c) => {
      if (c.status === "resolved") return { kind: "refused", reason: "resolved" };
      // Held by this person under another identity: theirs already (not "claimed by" themselves).
      if (holds(c, by)) return { kind: "already" };
      if (c.status === "escalated" && !roleAtLeast(by.role, ESCALATED_ROLE)) return { kind: "refused", reason: "permission_denied" };
      if (c.assignee) return { kind: "refused", reason: "claimed_by_other" };
      return { kind: "change", set: { assignee: by.identity, status: c.status === "new" ? "claimed" : c.status }, action: "claim", to: by.identity };
    });
  }

  /**
   * Gives a complaint to `to` (who must be support staff: the command checks); to the caller, or
   * another of their linked identities, it is recorded as their claim (made as `to`). Assigning an
   * escalated one needs {@link ESCALATED_ROLE} or above; so does taking one from its holder,
   * unless the holder is the one handing it on (support may assign unassigned ones).
   */
  async assign(id: string, to: string, actor: ComplaintActor): Promise<ChangeResult> {
    const by = await this.person(actor);
    return this.change(id, by.identity, (c, seen) => {
      const block = assignBlock(c, to, by);
      if (block) return block === "already" ? { kind: "already" } : { kind: "refused", reason: block };
      // Claimed by someone while this assignment was being made: they were told it is theirs;
      // overriding them unseen would leave both believing it. The assigner is told instead.
      if (c.assignee && c.assignee !== seen.assignee) return { kind: "refused", reason: "taken_meanwhile" };
      // A reassignment's history `from` names whom it was taken from, not the status (a reassignment keeps the status).
      const from = c.assignee ? { from: c.assignee } : {};
      // To the caller, or another of their own identities (`role link`): their claim, made as that
      // identity, not an assignment by someone else (the card reads "Claimed", not "Assigned").
      const action = to === by.identity || ownOtherIdentity(by, to) ? "claim" : "assign";
      return { kind: "change", set: { assignee: to, status: c.status === "new" ? "claimed" : c.status }, action, to, ...from };
    });
  }

  /**
   * Resolves a complaint with a note; an unassigned one is credited to the resolver, one someone
   * else holds stays theirs and its history says who resolved it while they held it. An
   * escalated one needs {@link ESCALATED_ROLE} or above, or being its assignee (only a manager
   * can have given it to them: escalation unassigns, and claiming or assigning it needs one).
   */
  async resolve(id: string, actor: ComplaintActor, note: string): Promise<ChangeResult> {
    const by = await this.person(actor);
    return this.change(id, by.identity, (c) => {
      const block = resolveBlock(c, by);
      if (block) return block === "already" ? { kind: "already" } : { kind: "refused", reason: block };
      const now = this.clock.now();
      // Someone else's (claimed or given to them): allowed, and said in the history beside the
      // resolution (`resolve_held`, from: its holder), so a resolution nobody holding it made is not hidden.
      const held = c.assignee && !holds(c, by) ? [{ action: "resolve_held", from: c.assignee }] : [];
      return {
        kind: "change",
        set: { status: "resolved", resolvedAt: now, resolvedDay: localDay(now, this.opts.timeZone), ...(c.assignee ? {} : { assignee: by.identity }) },
        action: "resolve",
        note,
        ...(held.length ? { extra: held } : {}),
      };
    });
  }

  /**
   * Escalates a complaint: it leaves its assignee and waits, unassigned, for someone senior
   * to claim it (`complaint list unassigned`). Already escalated: nothing changes (`already`),
   * except that {@link ESCALATED_ROLE} or above may send one a manager holds (or gave to
   * someone) back to the queue. Someone else's is escalated by its holder or {@link ESCALATED_ROLE}
   * or above only (`held_by_other`). A bare identity (no role) is treated as support.
   */
  async escalate(id: string, by: ComplaintActor | string, reason: string): Promise<ChangeResult> {
    const actor = await this.person(typeof by === "string" ? { identity: by, role: "support" as Role } : by);
    return this.change(id, actor.identity, (c) => {
      const block = escalateBlock(c, actor);
      if (block) return block === "already" ? { kind: "already" } : { kind: "refused", reason: block };
      // Its managers' alert is not queued yet: the command queues it, or else the complaint-alerts job.
      return { kind: "change", set: { status: "escalated" }, unset: ["assignee", "alerted.escalated"], action: "escalate", note: reason };
    });
  }

  /**
   * Reopens a resolved complaint: escalated again if it was escalated when resolved (so it still
   * needs {@link ESCALATED_ROLE}), else claimed by its assignee, or new if it had none. The
   * resolution clock restarts from now by severity (the reopening is new work; the first
   * resolution's timing stays in the history), noted in the history as `clock_restart`
   * (from: the old due time, to: the new one), and its SLA alerts are armed again.
   */
  async reopen(id: string, by: string, note?: string): Promise<ChangeResult> {
    return this.change(id, by, (c, seen) => {
      // Resolved when read, open now: reopened by someone else at the same moment.
      if (c.status !== "resolved") return seen.status === "resolved" ? { kind: "already" } : { kind: "refused", reason: "not_resolved" };
      // The status it was resolved from, by the latest resolution in the history.
      const resolvedFrom = [...(c.history ?? [])].reverse().find((h) => h.action === "resolve")?.from;
      const status = resolvedFrom === "escalated" ? "escalated" : c.assignee ? "claimed" : "new";
      const dueAt = new Date(this.clock.now().getTime() + this.opts.sla.resolution[c.severity]);
      return {
        kind: "change",
        set: { status, resolutionDueAt: dueAt },
        // The resolution alerts of the first round, or the alert job would skip this complaint
        // (a breach is a clock's last alert). The first-response clock stopped for good.
        unset: ["resolvedAt", "resolvedDay", "alerted.resolutionWarn", "alerted.resolutionBreach"],
        action: "reopen",
        ...(note ? { note } : {}),
        extra: [{ action: "clock_restart", from: c.resolutionDueAt.toISOString(), to: dueAt.toISOString() }],
      };
    });
  }

  /** Both SLA clocks of a complaint as of `now`. */
  sla(c: ComplaintDoc, now: Date = this.clock.now()): { firstResponse: SlaClock; resolution: SlaClock } {
    return { firstResponse: clockOf(c.firstResponseDueAt, c.firstResponseAt ?? undefined, now), resolution: clockOf(c.resolutionDueAt, c.resolvedAt ?? undefined, now) };
  }

  /**
   * Open complaints with a running clock that is overdue or due within `dueSoonMs`: what the
   * scheduled reminder job sends. Each item carries an outbox key, so running the job again
   * does not repeat a reminder (one "due soon" and one "overdue" per clock).
   */
  async dueForReminder(now: Date, opts: { dueSoonMs?: number; limit?: number } = {}): Promise<ReminderDue[]> {
    const horizon = new Date(now.getTime() + (opts.dueSoonMs ?? 30 * 60_000));
    const docs = await this.store.complaints
      .find({ status: OPEN, $or: [{ firstResponseAt: { $exists: false }, firstResponseDueAt: { $lte: horizon } }, { resolutionDueAt: { $lte: horizon } }] })
      .sort({ resolutionDueAt: 1 })
      .limit(opts.limit ?? 500)
      .lean<ComplaintDoc[]>();
    const out: ReminderDue[] = [];
    for (const c of docs) {
      const clocks: [ReminderDue["clock"], Date, boolean][] = [
        ["first_response", c.firstResponseDueAt, !c.firstResponseAt],
        ["resolution", c.resolutionDueAt, true],
      ];
      for (const [clock, dueAt, running] of clocks) {
        if (!running || dueAt > horizon) continue;
        const state = isOverdue(dueAt, now) ? "overdue" : "due_soon";
        out.push({ complaint: c, clock, state, dueAt, key: `complaint:${c._id}:${clock}:${state}${roundSuffix(c)}`, to: c.assignee ?? null });
      }
    }
    return out;
  }

  /**
   * The scheduled alerts due now (complaint-alerts job), each not yet recorded in `alerted`:
   * `posted` for open complaints filed since `postSince` (as `skip` for one resolved before it
   * was posted: reopened, it is not news of a new complaint; and for one escalated before it was
   * posted: the managers' escalation alert was its post); for each running SLA clock, `Warn` at
   * `warnPct` of its span (filing, or the latest reopening for resolution → due) and `Breach`
   * once due. A breach makes the clock's
   * warning moot: it is listed as `skip` so it is recorded without a message; so is a breach
   * due before `postSince`.
   */
  async alertsDue(now: Date, opts: { postSince: Date; warnPct: number; limit?: number }): Promise<ComplaintAlertDue[]> {
    const limit = opts.limit ?? 500;
    // Per SLA clock, the open complaints whose clock runs out first and has not breached yet
    // (a breach is its last alert), and apart from them the new ones not posted yet. Sorting by
    // due time, not filing time, keeps a backlog of old low-severity complaints with week-long
    // clocks from crowding out a new urgent one.
    const [firstResponse, resolution, unposted] = await Promise.all([
      this.store.complaints
        .find({ status: OPEN, firstResponseAt: { $exists: false }, "alerted.firstResponseBreach": { $exists: false } })
        .sort({ firstResponseDueAt: 1 })
        .limit(limit)
        .lean<ComplaintDoc[]>(),
      this.store.complaints.find({ status: OPEN, "alerted.resolutionBreach": { $exists: false } }).sort({ resolutionDueAt: 1 }).limit(limit).lean<ComplaintDoc[]>(),
      // By arrival (the first history entry), not `createdAt`: the API may date a complaint back.
      this.store.complaints.find({ status: OPEN, "alerted.posted": { $exists: false }, "history.0.at": { $gte: opts.postSince } }).sort({ createdAt: 1 }).limit(limit).lean<ComplaintDoc[]>(),
    ]);
    const docs = [...new Map([...firstResponse, ...resolution, ...unposted].map((c) => [c._id, c])).values()];
    const out: ComplaintAlertDue[] = [];
    for (const c of docs) {
      const done = c.alerted ?? {};
      // When the shop learnt of it: the API may send a complaint dated days back (`createdAt`),
      // which is news now all the same; one that arrived before the window is not posted.
      const arrived = arrivalOf(c);
      // Resolved before it was posted (at once, or during quiet hours) and reopened since: it is
      // no new complaint, so it is recorded without the "New complaint" post. Escalated before it
      // was posted: the managers' escalation alert (the card, sent at once) was its first post, and
      // a "New complaint" card after it would tell them twice.
      const moot = c.history?.some((h) => h.action === "resolve" || h.action === "escalate");
      if (!done.posted && arrived >= opts.postSince) out.push({ complaint: c, kind: "posted", ...(moot ? { skip: true } : {}) });
      const clocks: ["firstResponse" | "resolution", Date, boolean][] = [
        ["firstResponse", c.firstResponseDueAt, !c.firstResponseAt],
        ["resolution", c.resolutionDueAt, true],
      ];
      for (const [clock, dueAt, running] of clocks) {
        if (!running) continue;
        // A reopened complaint's resolution clock runs from the reopening, not the filing.
        const start = (clock === "resolution" ? resolutionClockStart(c) : c.createdAt).getTime();
        const span = dueAt.getTime() - start;
        const warnAt = start + (span * opts.warnPct) / 100;
        if (isOverdue(dueAt, now)) {
          if (!done[`${clock}Warn`]) out.push({ complaint: c, kind: `${clock}Warn`, skip: true });
          // A breach older than the posting window when first seen (first deployment, an import
          // of open history, long downtime) is recorded without a message: `complaint list
          // overdue` shows it, and the SLA channel is not flooded with news from days ago. Seen:
          // due, and arrived (a complaint the API dates back is news when it arrives).
          const stale = dueAt < opts.postSince && arrived < opts.postSince;
          if (!done[`${clock}Breach`]) out.push({ complaint: c, kind: `${clock}Breach`, ...(stale ? { skip: true } : {}) });
        } else if (now.getTime() >= warnAt && !done[`${clock}Warn`]) out.push({ complaint: c, kind: `${clock}Warn` });
      }
    }
    return out;
  }

  /**
   * Records that alert `kind` of a complaint went out: one guarded update; false if it already
   * was. `dueAt`: the due time of the alert's clock as the caller read it; when the clock has
   * changed since (resolved and reopened meanwhile: a new round, its markers cleared), nothing is
   * recorded, so the new round still gets its own alert.
   */
  async markAlerted(id: string, kind: ComplaintAlertKind, now: Date, dueAt?: Date): Promise<boolean> {
    const guard: Record<string, unknown> = { _id: id, [`alerted.${kind}`]: { $exists: false } };
    if (dueAt && kind !== "posted") guard[kind.startsWith("firstResponse") ? "firstResponseDueAt" : "resolutionDueAt"] = dueAt;
    const r = await this.store.complaints.updateOne(guard, { $set: { [`alerted.${kind}`]: now } });
    return r.modifiedCount === 1;
  }

  /**
   * Escalated complaints whose latest escalation's managers' alert is not recorded as queued
   * (`complaint escalate` failed to queue it): the complaint-alerts job queues it, or records it
   * without a message when it is moot (see {@link markEscalationAlerted}).
   */
  async escalationAlertsDue(limit = 500): Promise<ComplaintDoc[]> {
    return this.store.complaints.find({ status: "escalated", "alerted.escalated": { $exists: false } }).sort({ resolutionDueAt: 1 }).limit(limit).lean<ComplaintDoc[]>();
  }

  /**
   * Records that the managers' alert of the latest escalation of `c` (as read) was queued: one
   * guarded update; false if it already was, or if the complaint changed since it was read (its
   * history grew: claimed, or escalated again), when the next complaint-alerts run decides anew.
   */
  async markEscalationAlerted(c: Pick<ComplaintDoc, "_id" | "history">, now: Date): Promise<boolean> {
    const r = await this.store.complaints.updateOne(
      { _id: c._id, status: "escalated", "alerted.escalated": { $exists: false }, history: { $size: (c.history ?? []).length } },
      { $set: { "alerted.escalated": now } },
    );
    return r.modifiedCount === 1;
  }

  /**
   * A customer id as the shop spells it on its orders, when the typed one differs only in case
   * or width (`ＣＵＳＴ－１０００５` for CUST-10005; one distinct spelling found); else as typed.
   */
  private async shopSpelling(typed: string): Promise<string> {
    const plain = plainCustomer(typed);
    const { exact, loose } = customerIdFilters(typed);
    let spellings = (await this.store.orders.distinct("customerId", { customerId: exact })) as string[];
    if (!spellings.length) spellings = (await this.store.orders.distinct("customerId", { customerId: loose })) as string[];
    if (spellings.includes(typed)) return typed;
    if (spellings.length === 1) return spellings[0]!;
    // Two spellings that differ only in case (`Cust-1`, `CUST-1`): the one typed, made plain, if it is one of them.
    return spellings.includes(plain) ? plain : typed;
  }

  /** The arguments of a repeated filing that differ from the complaint filed first. */
  private async ignoredArgs(prior: ComplaintDoc, given: { severity?: string; category?: string; orderNo?: string; customerId?: string }): Promise<IgnoredArg[]> {
    const out: IgnoredArg[] = [];
    if (given.severity && given.severity !== prior.severity) out.push({ arg: "severity", value: given.severity, kept: prior.severity });
    if (given.category && given.category !== prior.category) out.push({ arg: "category", value: given.category, kept: prior.category });
    if (given.orderNo) {
      const order = await findOrder<Pick<OrderDoc, "_id">>(this.store, given.orderNo, { _id: 1 });
      if (order?._id !== prior.orderNo) out.push({ arg: "order", value: order?._id ?? OrderService.normalizeOrderNo(given.orderNo), ...(prior.orderNo ? { kept: prior.orderNo } : {}) });
    }
    const customer = given.customerId?.trim();
    if (customer && !sameCustomer(customer, prior.customerId)) {
      out.push({ arg: "customer", value: customer, ...(prior.customerId !== UNKNOWN_CUSTOMER ? { kept: prior.customerId } : {}) });
    }
    return out;
  }

  /**
   * Applies `plan` to the current document with ONE guarded update whose filter pins what the
   * plan was computed from (status, assignee, first response). When another change got there
   * first the filter misses and the plan is computed again from the new state, so a losing
   * claim is told who won.
   */
  private async change(rawId: string, by: string, plan: (c: ComplaintDoc, seen: ComplaintDoc) => Plan): Promise<ChangeResult> {
    const id = ComplaintService.normalizeId(rawId);
    // The complaint as first read: what the person acting saw, for plans that must not override
    // a change made meanwhile.
    let seen: ComplaintDoc | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const c = await this.store.complaints.findById(id).lean<ComplaintDoc>();
      if (!c) return { kind: "not_found" };
      seen ??= c;
      const p = plan(c, seen);
      if (p.kind === "already") return { kind: "already", complaint: c };
      if (p.kind === "refused") return { kind: "refused", reason: p.reason, complaint: c };
      const now = this.clock.now();
      const set = { ...p.set };
      // Any action by staff is the first response.
      if (!c.firstResponseAt) set.firstResponseAt = now;
      const entry = {
        action: p.action,
        by,
        at: now,
        from: p.from ?? c.status,
        to: p.to ?? (typeof set.status === "string" ? set.status : c.status),
        ...(p.note ? { note: p.note } : {}),
      };
      const filter = {
        _id: id,
        status: c.status,
        assignee: c.assignee ? c.assignee : { $exists: false },
        firstResponseAt: c.firstResponseAt ? c.firstResponseAt : { $exists: false },
      };
      const extra = (p.extra ?? []).map((e) => ({ ...e, by, at: now }));
      const update: Record<string, unknown> = { $set: set, $push: { history: extra.length ? { $each: [entry, ...extra] } : entry } };
      if (p.unset?.length) update.$unset = Object.fromEntries(p.unset.map((k) => [k, ""]));
      const after = await this.store.complaints.findOneAndUpdate(filter, update, { returnDocument: "after" }).lean<ComplaintDoc>();
      if (after) return { kind: "done", complaint: after, previous: c };
    }
    // Still contended after several attempts: report the state as it is now.
    const c = await this.store.complaints.findById(id).lean<ComplaintDoc>();
    if (!c) return { kind: "not_found" };
    const p = plan(c, seen ?? c);
    return p.kind === "refused" ? { kind: "refused", reason: p.reason, complaint: c } : { kind: "already", complaint: c };
  }
}

/** The SLA due times of a complaint of `severity` filed at `createdAt`: filing time plus the severity's clock. */
export function slaDue(createdAt: Date, severity: Severity, sla: { readonly firstResponse: SlaTable; readonly resolution: SlaTable }): { firstResponseDueAt: Date; resolutionDueAt: Date } {
  return {
    firstResponseDueAt: new Date(createdAt.getTime() + sla.firstResponse[severity]),
    resolutionDueAt: new Date(createdAt.getTime() + sla.resolution[severity]),
  };
}

/**
 * True when escalating `c` would change nothing for someone of `role`: it waits unassigned
 * already, or it is escalated and held (by a manager, or someone a manager chose) and `role` is
 * below {@link ESCALATED_ROLE}, who alone may send it back to the queue.
 */
export function isEscalationNoop(c: Pick<ComplaintDoc, "status" | "assignee">, role: Role): boolean {
  return c.status === "escalated" && (!c.assignee || !roleAtLeast(role, ESCALATED_ROLE));
}

/**
 * Why `by` cannot resolve `c` as it stands (`already`: it is resolved), or null. Also asked
 * before a bare Resolve press prompts for its note, so nobody writes one only to be refused.
 * Here and in the other checks, `by` holds `c` by person ({@link holds}: give `by.identities`).
 */
export function resolveBlock(c: Pick<ComplaintDoc, "status" | "assignee">, by: ComplaintActor): "already" | RefusalReason | null {
  if (c.status === "resolved") return "already";
  if (c.status === "escalated" && !holds(c, by) && !roleAtLeast(by.role, ESCALATED_ROLE)) return "permission_denied";
  return null;
}

/**
 * Why `by` cannot assign `c` to `to` as it stands (`already`: it is theirs), or null. Also asked
 * by `complaint assign` before the assignee's role, so the complaint's own blocker is said first.
 */
export function assignBlock(c: Pick<ComplaintDoc, "status" | "assignee">, to: string, by: ComplaintActor): "already" | RefusalReason | null {
  if (c.status === "resolved") return "resolved";
  if (c.status === "escalated" && !roleAtLeast(by.role, ESCALATED_ROLE)) return "permission_denied";
  if (c.assignee === to) return "already";
  // Someone else's (claimed, or given to them, before or while this was typed): only a
  // manager takes it from them, as the claim refusal says.
  if (c.assignee && !holds(c, by) && !roleAtLeast(by.role, ESCALATED_ROLE)) return "held_by_other";
  return null;
}

/** Why `by` cannot escalate `c` as it stands (`already`: nothing to do), or null; asked before a bare Escalate press prompts too. */
export function escalateBlock(c: Pick<ComplaintDoc, "status" | "assignee">, by: ComplaintActor): "already" | RefusalReason | null {
  if (c.status === "resolved") return "resolved";
  if (isEscalationNoop(c, by.role)) return "already";
  // Escalating takes it off its holder: like handing it on (assign), theirs or a manager's to do.
  if (c.assignee && !holds(c, by) && !roleAtLeast(by.role, ESCALATED_ROLE)) return "held_by_other";
  return null;
}

/** When the resolution clock of `c` started: its latest reopening, else its filing. */
function resolutionClockStart(c: Pick<ComplaintDoc, "createdAt" | "history">): Date {
  const reopened = [...(c.history ?? [])].reverse().find((h) => h.action === "reopen")?.at;
  return reopened ?? c.createdAt;
}

/**
 * The outbox key of alert `kind` of complaint `c`. A reopened complaint's alerts are a new
 * round, keyed apart (`:reopen<n>`), or the outbox would take them for replays of the first.
 */
export function complaintAlertKey(c: Pick<ComplaintDoc, "_id" | "history">, kind: ComplaintAlertKind): string {
  return `complaint-alert:${c._id}:${kind}${roundSuffix(c)}`;
}

/**
 * The outbox key of the managers' alert for the latest escalation of `c` (`…:escalated:<n>` for
 * the n-th): one per escalation, so sending a complaint back to the queue alerts again.
 */
export function complaintEscalationKey(c: Pick<ComplaintDoc, "_id" | "history">): string {
  const n = (c.history ?? []).filter((h) => h.action === "escalate").length;
  return `complaint-alert:${c._id}:escalated:${n}`;
}

/** `:reopen<n>` after the n-th reopening, "" before any. */
function roundSuffix(c: Pick<ComplaintDoc, "history">): string {
  const n = (c.history ?? []).filter((h) => h.action === "reopen").length;
  return n ? `:reopen${n}` : "";
}

/**
 * The first order number (`ORD-…`) in a complaint's text, read as chat reads what is typed (NFKC:
 * a full-width ＯＲＤ－１０５０６１ is ORD-105061), or undefined; the text itself is kept as written.
 */
export function orderNoInText(text: string): string | undefined {
  return /\bORD-\d+\b/i.exec(withoutInvisible(text.normalize("NFKC")))?.[0];
}

/** A customer id in one form: full-width characters plain (NFKC: `ＣＵＳＴ－１` is `CUST-1`), trimmed. */
function plainCustomer(s: string): string {
  return s.normalize("NFKC").trim();
}

/** Customer ids are the shop's; typed ones may differ in case or width only. */
function sameCustomer(a: string, b: string): boolean {
  return plainCustomer(a).toLowerCase() === plainCustomer(b).toLowerCase();
}

/**
 * The one rule for an SLA clock still running at `now`: overdue strictly after its due time (at
 * the due instant it is not yet; README: "still running past its due time"). Cards, lists,
 * `complaint list overdue`, reminders and the breach alert all follow it.
 */
export function isOverdue(dueAt: Date, now: Date): boolean {
  return dueAt.getTime() < now.getTime();
}

/** Filter terms of an overdue complaint (either running clock past due, as {@link isOverdue}). */
function overdueOr(now: Date): Record<string, unknown>[] {
  return [{ firstResponseAt: { $exists: false }, firstResponseDueAt: { $lt: now } }, { resolutionDueAt: { $lt: now } }];
}

function clockOf(dueAt: Date, doneAt: Date | undefined, now: Date): SlaClock {
  if (doneAt) return { dueAt, doneAt, state: doneAt <= dueAt ? "met" : "missed" };
  return { dueAt, state: isOverdue(dueAt, now) ? "overdue" : "running", leftMs: dueAt.getTime() - now.getTime() };
}

/** When a complaint reached the shop: its first history entry (the API may date `createdAt` back), else its filing. */
function arrivalOf(c: Pick<ComplaintDoc, "createdAt" | "history">): Date {
  return c.history?.[0]?.at ?? c.createdAt;
}
