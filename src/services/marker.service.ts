import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.js";
import type { MarkerDoc, Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";

/** Outcome of {@link MarkerService.claim}. */
export type MarkerClaim = { claimed: true } | { claimed: false; prior: MarkerDoc | null };

/** Outcome of {@link MarkerService.once}: what the work returned, or the earlier claim when it did not run. */
export type MarkerOnce<T> = { claimed: true; result: T } | { claimed: false; prior: MarkerDoc | null };

/** The first `length` hex digits of the SHA-256 of `text`: a short stable part of a marker key. */
export function markerHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

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

  /**
   * Claims `key` for `by` and runs `run` once: when the key was claimed
   * before, `run` is not called and the earlier claim is returned. The claim
   * is given back when `keep(result)` is false (nothing was done, a retry may
   * run it) and, with `releaseOnThrow`, when `run` throws; otherwise a throw
   * keeps the claim (the work may have been done). With `unclaimed`, a claim that cannot be
   * written (the database unreachable) does not stop the work: `unclaimed` is told, and `run`
   * runs without the once-only check (so a person is still answered; a replay is not caught).
   */
  async once<T>(
    key: string,
    by: string,
    what: string | undefined,
    run: () => Promise<T>,
    keep: (result: T) => boolean,
    opts: { releaseOnThrow?: boolean; unclaimed?: (error: unknown) => void } = {},
  ): Promise<MarkerOnce<T>> {
    let claim: MarkerClaim;
    try {
      claim = await this.claim(key, by, what);
    } catch (e) {
      if (!opts.unclaimed) throw e;
      opts.unclaimed(e);
      return { claimed: true, result: await run() };
    }
    if (!claim.claimed) return claim;
    try {
      const result = await run();
      if (!keep(result)) await this.release(key, by);
      return { claimed: true, result };
    } catch (e) {
      if (opts.releaseOnThrow) await this.release(key, by);
      throw e;
    }
  }
}
