import type { Clock } from "../core/clock.js";
import type { MarkerDoc, Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";

/** Outcome of {@link MarkerService.claim}. */
export type MarkerClaim = { claimed: true } | { claimed: false; prior: MarkerDoc | null };

/**
 * Exactly-once handling of platform events (button presses, retried or
 * replayed deliveries): the first insert of a key wins, every later one sees
 * the marker (E11000 on the unique `_id`) and changes nothing.
 */
export class MarkerService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Claims `key` for `by`; false (with the earlier claim) when it was claimed before. */
  async claim(key: string, by: string, what?: string): Promise<MarkerClaim> {
    try {
      await this.store.markers.create({ _id: key, by, at: this.clock.now(), ...(what ? { what } : {}) });
      return { claimed: true };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      return { claimed: false, prior: await this.store.markers.findById(key).lean<MarkerDoc>() };
    }
  }

  /** Gives a claim back (the work failed on our side, so a retry may run it). */
  async release(key: string, by: string): Promise<void> {
    await this.store.markers.deleteOne({ _id: key, by });
  }
}
