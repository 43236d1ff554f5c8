import { defineJob } from "../src/core/job.js";
import type { Services } from "../src/services/services.js";

const MIN = 60_000;
/** Orders changed this recently may still be settling in their writer: left to the next run. */
const SETTLING_MS = 2 * MIN;
/** Looked back on the first run, or when no run finished ok before. */
const FIRST_LOOKBACK_MS = 24 * 60 * MIN;

/**
 * Order effects (ORDER_EFFECTS_CRON, every 10 minutes): an order written by the bot whose
 * effects on stock and on the daily rollup were not all applied (the process died between the
 * order's write and its settle, and no retry came) is finished here. It reads the orders
 * changed since a little before the last good run started, so downtime leaves no gap, and
 * settles those missing effects; every step is guarded by its idempotency key, so running
 * beside live writers, or twice, applies nothing twice.
 */
export default defineJob({
  id: "order-effects",
  description: "Finish order effects (stock, daily rollup) a crashed writer left undone",
  schedule: (config) => config.orderEffectsCron,
  timeout: 300_000,
  async handler({ services, clock, slot }) {
    const r = await repairOrderEffects(services, clock.now(), slot, SETTLING_MS);
    if (!r) return "nothing to check yet";
    const { since, checked, repaired } = r;
    return `${checked} orders changed since ${since.toISOString()}, ${repaired.length} finished${repaired.length ? `: ${repaired.slice(0, 20).join(", ")}${repaired.length > 20 ? ", …" : ""}` : ""}`;
  },
});

/**
 * Settles the orders changed since a little before the last good run of this job started
 * (FIRST_LOOKBACK_MS when there is none) and until `settlingMs` before `now`. Also run by the bot
 * at start-up, before it takes new orders: the keys that guard a crashed settle then cannot
 * have been pushed out of their targets' windows by later orders.
 */
export async function repairOrderEffects(services: Services, now: Date, before: Date, settlingMs: number): Promise<{ since: Date; checked: number; repaired: string[] } | null> {
  const last = await services.jobs.lastOk("order-effects", before);
  // From before the last good run's window ended (its start minus the settling margin), with room to spare.
  const since = last ? new Date(last.startedAt.getTime() - SETTLING_MS - MIN) : new Date(now.getTime() - FIRST_LOOKBACK_MS);
  const until = new Date(now.getTime() - settlingMs);
  if (since >= until) return null;
  return { since, ...(await services.effects.repair(since, until)) };
}
