import type { AuditDoc, Store } from "../store/models.js";

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
}

/** Filters for {@link AuditService.query}. */
export interface AuditQuery {
  actor?: string;
  command?: string;
  since?: Date;
  limit: number;
}

/** The audit trail: who did what, when, from where, with what result. */
export class AuditService {
  constructor(private readonly store: Store) {}

  /** Records one entry; its ref is its _id, so recording twice keeps one. */
  async record(r: AuditRecord): Promise<void> {
    await this.store.audit.updateOne({ _id: r.ref }, { $setOnInsert: r }, { upsert: true });
  }

  /** Latest entries matching the filters, newest first, with the total count. */
  async query(q: AuditQuery): Promise<{ entries: AuditDoc[]; total: number }> {
    const filter: Record<string, unknown> = {};
    if (q.actor) filter.actor = q.actor;
    // `command=stock` matches `stock` and `stock adjust`.
    if (q.command) filter.command = new RegExp(`^${escapeRegex(q.command)}( |$)`);
    if (q.since) filter.at = { $gte: q.since };
    const [entries, total] = await Promise.all([
      this.store.audit.find(filter).sort({ at: -1 }).limit(q.limit).lean<AuditDoc[]>(),
      this.store.audit.countDocuments(filter),
    ]);
    return { entries, total };
  }
}

/** Escapes a string for use inside a RegExp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
