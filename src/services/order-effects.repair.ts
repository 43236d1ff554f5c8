import type { RepairOptions } from "./order-effects.service.js";
import type { Services } from "./services.js";

const MIN = 60_000;
/** Orders changed this recently may still be settling in their writer: left to the job's next run. */
export const SETTLING_MS = 2 * MIN;
/** Looked back on the first run, or when no run finished ok before. */
const FIRST_LOOKBACK_MS = 24 * 60 * MIN;

/** Meta document: the instant (ms) before which every order's `changedAt` has been checked. */
const CHECKED_META = "order-effects:checked";

/**
 * Settles the orders changed since a little before what earlier passes checked (FIRST_LOOKBACK_MS
 * when none did) and until `settlingMs` before `now`. Progress is saved page by page, so a pass
 * stopped at its timeout is continued by the next, not started over with a wider window. Also
 * run by the bot at start-up, before it takes new orders: the keys that guard a crashed settle
 * then cannot have been pushed out of their targets' windows by later orders.
 */
export async function repairOrderEffects(
  services: Services,
  now: Date,
  before: Date,
  settlingMs: number,
  opts: Pick<RepairOptions, "signal" | "pageSize"> = {},
): Promise<{ since: Date; checked: number; repaired: string[]; stopped: boolean; drained: string[] } | null> {
  const meta = services.store.meta;
  const mark = await meta.findById(CHECKED_META).lean();
  const last = typeof mark?.value === "number" ? null : await services.jobs.lastOk("order-effects", before);
  // From a little before where the checks got to (room for writers' clock skew).
  const checked = typeof mark?.value === "number" ? mark.value : last ? last.startedAt.getTime() - SETTLING_MS : null;
  const since = checked !== null ? new Date(checked - MIN) : new Date(now.getTime() - FIRST_LOOKBACK_MS);
  const until = new Date(now.getTime() - settlingMs);
  if (since >= until) return null;
  // $max: two passes at once (start-up beside the job) never move the mark back.
  const save = (at: Date) => meta.updateOne({ _id: CHECKED_META }, { $max: { value: at.getTime() } }, { upsert: true }).then(() => undefined);
  const r = await services.effects.repair(since, until, { ...opts, onPage: save });
  if (!r.stopped) await save(until);
  // Updates parked for an order that arrived while its drain never ran (a crash in between).
  const drained = await services.ingest.drainOrphans(until);
  return { since, ...r, drained };
}
