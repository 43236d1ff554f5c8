import { randomUUID } from "node:crypto";
import { scrubText } from "../core/logger.js";
import { rowsAfter, type AuditDoc, type Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";
import { escapeRegex } from "../core/text.js";
import { shortId } from "../core/ids.js";
import { roleAtLeast, type Role } from "../core/roles.js";
import { systemClock, type Clock } from "../core/clock.js";

/** One audit entry to record. */
export interface AuditRecord {
  ref: string;
  at: Date;
  actor: string;
  platform: string;
  command: string;
  args: string;
  outcome: "ok" | "user_error" | "denied" | "error";
  code?: string;
  message?: string;
  /** Who really typed it, when acting as another identity (the shell's `--as`). */
  via?: string;
  /** The record it was about, as stored (C-…, R-…, an order number), or the records. */
  subject?: string | readonly string[];
}

/** Filters for {@link AuditService.query}. */
export interface AuditQuery {
  actor?: string;
  command?: string;
  since?: Date;
  /** Any of these spellings (see the audit command), or an identity in any case (a pattern). */
  subject?: string[] | RegExp;
  /** Only entries with this outcome (`denied`: the refusals). */
  outcome?: AuditRecord["outcome"];
  /**
   * The other identities of `actor`'s person (`role link`): their entries too, as the actor or
   * as the one typing with `--as`, matched as stored.
   */
  linked?: readonly string[];
  /** Only entries made before this instant. */
  before?: Date;
  /**
   * Only entries listed after this one (older, or as old with a smaller ref): a page that goes on
   * exactly where the one ending with it did, whatever was written since.
   */
  after?: { at: Date; ref: string };
  limit: number;
  /** Entries to pass over first (the pages before), newest first. */
  skip?: number;
}

/** The audit trail: who did what, when, from where, with what result. */
export class AuditService {
  /** `clock` stamps the entries this service writes itself ({@link AuditService.refusedBelow}); the app's, so they sort with the rest. */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Records one entry whose ref is idempotent on purpose (`exec-<request id>`, an import run):
   * its ref is its _id, so recording twice keeps the first. Refs drawn at random go through
   * {@link AuditService.add}, which never drops an entry on a collision.
   */
  async record(r: AuditRecord): Promise<void> {
    await this.store.audit.updateOne({ _id: r.ref }, { $setOnInsert: scrubbed(r) }, { upsert: true });
  }

  /**
   * Records one new entry under a random ref (an invocation's, a request's). An upsert would
   * silently keep the older entry when two refs collide; this inserts, and on a duplicate key
   * stores the entry under `<ref>~<uuid>` instead, so no entry is lost. Returns the ref stored.
   */
  async add(r: AuditRecord): Promise<string> {
    const { ref, ...rest } = scrubbed(r);
    try {
      await this.store.audit.create({ _id: ref, ...rest });
      return ref;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const other = `${ref}~${randomUUID()}`;
      await this.store.audit.create({ _id: other, ...rest });
      return other;
    }
  }

  /**
   * The terminal's own permission check (a start with `--as`, a seed, an import, a change of the
   * shop's settings), where no core checks it: when `role`, the operator's, is below `need`,
   * records the attempt as `denied` (as `actor`, typed by `operator`, when they differ) and
   * returns true; the caller then says so and changes nothing.
   */
  async refusedBelow(need: Role, role: Role, who: { operator: string; actor?: string }, what: { command: string; args: string; subject?: string }): Promise<boolean> {
    if (roleAtLeast(role, need)) return false;
    const actor = who.actor ?? who.operator;
    await this.add({
      ref: shortId(10),
      at: this.clock.now(),
      actor,
      ...(actor !== who.operator ? { via: who.operator } : {}),
      platform: "shell",
      ...what,
      outcome: "denied",
      code: "permission_denied",
      message: `needs ${need}; ${who.operator} is ${role}`,
    });
    return true;
  }

  /** The entry stored under one of these refs (a ref typed in another case: both spellings), if any. */
  async entry(refs: readonly string[]): Promise<{ _id: string; at: Date } | null> {
    return this.store.audit.findOne({ _id: { $in: [...new Set(refs)] } }).select({ at: 1 }).lean<{ _id: string; at: Date }>();
  }

  /** The whole entry stored under one of these refs (a ref typed in another case: both spellings), if any. */
  async get(refs: readonly string[]): Promise<AuditDoc | null> {
    return this.store.audit.findOne({ _id: { $in: [...new Set(refs)] } }).lean<AuditDoc>();
  }

  /** Latest entries matching the filters, newest first, with the total count. */
  async query(q: AuditQuery): Promise<{ entries: AuditDoc[]; total: number }> {
    const filter: Record<string, unknown> = {};
    // API keys are recorded as `api:<label>#<key id>` (labels need not be unique): a bare
    // `api:<label>` finds every key of that label.
    // A person at the terminal acting as someone else (--as) finds what they did that way too.
    // The spelling typed when the trail holds it; else in any case (`SHELL:ROOT`, `slack:t1:u2`
    // for slack:T1:U2): a filter naming no stored spelling would find nothing, and say so as if
    // that identity had done nothing. Not both: shell:Bob and shell:bob are two people.
    // Conditions that are each an $or, combined with $and (one filter cannot hold two $or keys).
    const all: Record<string, unknown>[] = [];
    if (q.actor) {
      const typed = escapeRegex(q.actor);
      const byActor = (flags: string): Record<string, unknown>[] =>
        /^api:[^#]*$/i.test(q.actor!) ? [{ actor: new RegExp(`^${typed}(#|$)`, flags) }] : [{ actor: new RegExp(`^${typed}$`, flags) }, { via: new RegExp(`^${typed}$`, flags) }];
      const exact = byActor("");
      const own = (await this.store.audit.exists({ $or: exact })) ? exact : byActor("i");
      // One person's identities (`role link`): everything that person did, under any of them.
      const others = q.linked?.length ? [{ actor: { $in: q.linked } }, { via: { $in: q.linked } }] : [];
      all.push({ $or: [...own, ...others] });
    }
    // `command=stock` matches `stock` and `stock adjust`.
    if (q.command) filter.command = new RegExp(`^${escapeRegex(q.command)}( |$)`);
    if (q.since || q.before) filter.at = { ...(q.since ? { $gte: q.since } : {}), ...(q.before ? { $lt: q.before } : {}) };
    // In the table's order (newest first, then by ref): what comes after the entry a page ended with.
    if (q.after) all.push(rowsAfter("at", q.after.at, q.after.ref));
    if (q.subject instanceof RegExp) filter.subject = q.subject;
    else if (q.subject?.length) filter.subject = { $in: q.subject };
    if (q.outcome) filter.outcome = q.outcome;
    if (all.length === 1) Object.assign(filter, all[0]);
    else if (all.length > 1) filter.$and = all;
    const [entries, total] = await Promise.all([
      this.store.audit.find(filter).sort({ at: -1, _id: -1 }).skip(q.skip ?? 0).limit(q.limit).lean<AuditDoc[]>(),
      this.store.audit.countDocuments(filter),
    ]);
    return { entries, total };
  }
}

/**
 * `r` with every API key secret in the text people typed or sent (arguments, message, subject)
 * cut as the logs cut it (`shopops_k<key id>_[redacted]`): a token pasted by mistake (`apikey
 * revoke shopops_k…`) is refused, and must not be kept in clear for every manager to read.
 */
function scrubbed(r: AuditRecord): AuditRecord {
  const subject = r.subject === undefined ? undefined : typeof r.subject === "string" ? scrubText(r.subject) : r.subject.map(scrubText);
  return {
    ...r,
    args: scrubText(r.args),
    ...(r.message !== undefined ? { message: scrubText(r.message) } : {}),
    ...(subject !== undefined ? { subject } : {}),
  };
}

