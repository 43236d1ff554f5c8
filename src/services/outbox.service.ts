import { settleWithin, type Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { PendingWrites } from "../core/pending-writes.js";
import { platformOf, RetryAfterError, UndeliverableError, type Deliverer, type Destination } from "../core/outbound.js";
import type { Reply } from "../core/reply.js";
import type { OutboxDoc, Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";

/**
 * How long a sender holds a claimed message before another may retry it: longer than the worst
 * delivery (a Slack chart is three API calls, each up to three tries of 15 s), so a slow but
 * live sender is never doubled by another instance.
 */
export const LEASE_MS = 5 * 60_000;
/** After this many failed attempts a message is marked dead (still listed, never dropped silently). */
export const MAX_ATTEMPTS = 8;

/** Exponential backoff: 5 s, 10 s, 20 s … capped at 10 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(600_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * A durable outbox for notifications and alerts. Producers enqueue under an
 * idempotency key (one message per event, however often the event is
 * replayed); adapters' deliverers send them; failures are retried with
 * backoff and recorded.
 */
export class OutboxService {
  /** Delivery rounds of {@link startLoop} in progress (awaited by {@link drain}). */
  private readonly rounds = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Called once for each message that went dead (given up: undeliverable, or out of attempts). */
  private readonly deadHandlers: ((msg: OutboxDoc, error: string) => Promise<void>)[] = [];

  /** Registers what to do when a message is given up (a reminder sent elsewhere instead). */
  onDead(handler: (msg: OutboxDoc, error: string) => Promise<void>): void {
    this.deadHandlers.push(handler);
  }

  /**
   * Messages that are not getting through: how many gave up (`dead`, in the last `deadDays`) or have waited more than
   * `lateMs` past their time (retrying, or for a platform no instance runs), and the newest
   * `limit` of them with their last error, for `alerts list`.
   */
  async undelivered(lateMs = 15 * 60_000, limit = 5, deadDays = 7): Promise<{ dead: number; late: number; newest: Pick<OutboxDoc, "_id" | "kind" | "platform" | "dest" | "status" | "lastError" | "createdAt">[] }> {
    const now = this.clock.now().getTime();
    // Waiting past its time, or claimed by a sender that stopped (its lease long run out).
    const lateFilter = { $or: [{ status: "pending" as const, notBefore: { $lt: new Date(now - lateMs) } }, { status: "sending" as const, leaseUntil: { $lt: new Date(now - lateMs) } }] };
    // Given up recently (by when it went dead; messages from before `deadAt` by their creation):
    // an old failure whose cause was fixed long ago is not news, a week-old message that died today is.
    const since = new Date(now - deadDays * 86_400_000);
    const deadFilter = { status: "dead" as const, $or: [{ deadAt: { $gte: since } }, { deadAt: { $exists: false }, createdAt: { $gte: since } }] };
    const either = { $or: [deadFilter, lateFilter] };
    const [dead, late, newest] = await Promise.all([
      this.store.outbox.countDocuments(deadFilter),
      this.store.outbox.countDocuments(lateFilter),
      this.store.outbox.find(either).select({ _id: 1, kind: 1, platform: 1, dest: 1, status: 1, lastError: 1, createdAt: 1 }).sort({ createdAt: -1 }).limit(limit).lean<OutboxDoc[]>(),
    ]);
    return { dead, late, newest };
  }

  /** The end of the quiet hours an instant falls in, or null (set by the alert service, which knows QUIET_HOURS). */
  private quietEnd: (at: Date) => Date | null = () => null;

  /** Sets how {@link enqueue} finds the end of quiet hours for messages queued with `quiet: true`. */
  setQuietHours(until: (at: Date) => Date | null): void {
    this.quietEnd = until;
  }

  /**
   * Queues `reply` for `dest` under `key`. Returns false if a message with
   * this key already exists (a replayed event): nothing is queued twice.
   * With `quiet: true` (a non-urgent message nobody is waiting for) it is held until quiet hours end.
   */
  async enqueue(input: { key: string; dest: Destination; reply: Reply; kind: string; notBefore?: Date; quiet?: boolean }): Promise<boolean> {
    const now = this.clock.now();
    const held = input.quiet ? this.quietEnd(now) : null;
    const notBefore = held && !(input.notBefore && input.notBefore >= held) ? held : (input.notBefore ?? now);
    try {
      await this.store.outbox.create({
        _id: input.key,
        platform: platformOf(input.dest),
        dest: input.dest,
        reply: storable(input.reply),
        kind: input.kind,
        status: "pending",
        attempts: 0,
        notBefore,
        createdAt: now,
      });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /**
   * Queues a copy of a waiting message under another key and destination (its alert route
   * changed): its attempts and last error start afresh. False when that key is queued already.
   */
  async requeue(msg: OutboxDoc, to: { id: string; dest: Destination; notBefore: Date }): Promise<boolean> {
    try {
      await this.store.outbox.create({ _id: to.id, platform: platformOf(to.dest), dest: to.dest, reply: msg.reply, kind: msg.kind, status: "pending", attempts: 0, notBefore: to.notBefore, createdAt: msg.createdAt });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  /** Takes back a message not sent yet (`pending`); false when a sender holds it, or it is gone. */
  async withdraw(id: string): Promise<boolean> {
    const r = await this.store.outbox.deleteOne({ _id: id, status: "pending" });
    return r.deletedCount === 1;
  }

  /** Claims one due message for `platform` (one atomic update), or null. */
  async claim(platform: string): Promise<OutboxDoc | null> {
    const now = this.clock.now();
    const lease = new Date(now.getTime() + LEASE_MS);
    const update = { $set: { status: "sending", leaseUntil: lease }, $inc: { attempts: 1 } };
    const due = await this.store.outbox
      .findOneAndUpdate({ platform, status: "pending", notBefore: { $lte: now } }, update, { returnDocument: "after", sort: { notBefore: 1 } })
      .lean<OutboxDoc>();
    if (due) return due;
    // A sender that crashed mid-send: its lease ran out, so the message is due again.
    return this.store.outbox
      .findOneAndUpdate({ platform, status: "sending", leaseUntil: { $lt: now } }, update, { returnDocument: "after" })
      .lean<OutboxDoc>();
  }

  /**
   * Delivers every due message for the deliverer's platform, one by one.
   * Returns how many were sent and how many failed this round.
   */
  async dispatch(deliverer: Deliverer, max = 100): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    // Deliveries this process could not record before are recorded first (the database is back).
    await this.unrecorded.flush();
    // Once draining, no new message is claimed: the one being sent is finished and recorded.
    for (let i = 0; i < max && !this.draining; i++) {
      const msg = await this.claim(deliverer.platform);
      if (!msg) break;
      const delivered = this.unrecorded.get(msg._id);
      if (delivered) {
        // Sent by this process already (its lease ran out while "sent" could not be written): recorded, never sent again.
        await this.unrecorded.record(msg._id, delivered, 1);
        continue;
      }
      let ok = false;
      try {
        await deliverer.deliver(msg.dest as Destination, reviveReply(msg.reply));
        ok = true;
      } catch (e) {
        failed++;
        // A rate limit is the platform asking to wait, not a failed attempt: it never uses one
        // up, and the round stops (the next messages would be refused the same way).
        const limited = e instanceof RetryAfterError;
        const attempts = msg.attempts ?? 1;
        const dead = e instanceof UndeliverableError || (!limited && attempts >= MAX_ATTEMPTS);
        const wait = limited ? e.retryAfterMs : backoffMs(attempts);
        this.logger.warn(limited ? "delivery rate-limited" : "delivery failed", { id: msg._id, platform: deliverer.platform, attempts, dead, error: e });
        await this.store.outbox.updateOne(
          { _id: msg._id, status: "sending" },
          {
            $set: {
              status: dead ? "dead" : "pending",
              ...(dead ? { deadAt: this.clock.now() } : {}),
              notBefore: new Date(this.clock.now().getTime() + wait),
              lastError: (e as Error)?.message?.slice(0, 500) ?? String(e),
            },
            $unset: { leaseUntil: 1 },
            ...(limited ? { $inc: { attempts: -1 } } : {}),
          },
        );
        if (dead) {
          for (const h of this.deadHandlers) await h(msg, (e as Error)?.message ?? String(e)).catch((err: unknown) => this.logger.error("dead-message handler failed", { id: msg._id, error: err }));
        }
        if (limited) break;
      }
      if (ok) {
        // Delivered: from here on it is never delivered again, whatever the database says.
        sent++;
        await this.unrecorded.record(msg._id, this.clock.now());
      }
    }
    return { sent, failed };
  }

  /**
   * Messages delivered by this process whose "sent" could not be written (the database failing),
   * with when they were sent. Written by the next round (or {@link drain}); until then a claim of
   * one of them (its lease run out) records it instead of sending it again.
   */
  private readonly unrecorded = new PendingWrites<Date>(
    async (id, sentAt) => {
      await this.store.outbox.updateOne({ _id: id, status: "sending" }, { $set: { status: "sent", sentAt }, $unset: { leaseUntil: 1 } });
    },
    (id, error) => this.logger.error("message delivered but not recorded as sent; recorded when the database answers, not sent again", { id, error }),
  );

  /**
   * Delivers the deliverer's due messages every `everyMs`, one round at a time (a slow round
   * is never overlapped by the next). Returns the function that stops the loop.
   */
  startLoop(deliverer: Deliverer, everyMs: number): () => void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.draining) return;
      busy = true;
      const round = this.dispatch(deliverer)
        .catch((e: unknown) => this.logger.error("outbox round failed", { platform: deliverer.platform, error: e }))
        .finally(() => {
          busy = false;
          this.rounds.delete(round);
        });
      this.rounds.add(round);
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * For a clean shutdown: claims nothing more and waits (up to `ms`) for the messages being sent
   * to be recorded, while the database is still open. A message whose send outlives this is
   * sent again after its lease (at most once more), never lost.
   */
  async drain(ms = 5_000): Promise<void> {
    this.draining = true;
    await settleWithin(this.rounds, ms);
    await this.unrecorded.flush().catch(() => undefined);
  }
}

// FerretDB v1 refuses nested arrays ("nested arrays are not supported"): a table's
// rows (string[][]) are stored as one JSON string and parsed back on delivery.
function storable(reply: Reply): unknown {
  if (!reply.table) return reply;
  const { rows, ...table } = reply.table;
  return { ...reply, table: { ...table, rowsJson: JSON.stringify(rows) } };
}

/** A stored Reply as adapters expect it (table rows parsed, image bytes as Uint8Array). */
export function reviveReply(stored: unknown): Reply {
  const r = stored as Reply & { image?: { data: unknown }; table?: { rowsJson?: string } };
  if (r.table && typeof r.table.rowsJson === "string") {
    const { rowsJson, ...table } = r.table;
    r.table = { ...(table as Omit<NonNullable<Reply["table"]>, "rows">), rows: JSON.parse(rowsJson) as string[][] };
  }
  if (r.image && r.image.data && !(r.image.data instanceof Uint8Array)) {
    const d = r.image.data as { buffer?: Uint8Array; value?: () => Uint8Array };
    r.image = { ...r.image, data: d.buffer instanceof Uint8Array ? d.buffer : new Uint8Array(d.value?.() ?? []) };
  }
  return r;
}
