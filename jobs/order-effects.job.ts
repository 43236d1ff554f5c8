import { defineJob } from "../src/core/job.js";
import { repairOrderEffects, SETTLING_MS } from "../src/services/order-effects.repair.js";

/**
 * Order effects (ORDER_EFFECTS_CRON, every 10 minutes): an order written by the bot whose
 * effects on stock and on the daily rollup were not all applied (the process died between the
 * order's write and its settle, and no retry came) is finished here. It reads the orders
 * changed since a little before what earlier passes checked, so downtime leaves no gap, and
 * settles those missing effects; every step is guarded by its idempotency key, so running
 * beside live writers, or twice, applies nothing twice. Updates parked for an order that has
 * arrived since (its drain never ran) are applied too.
 */
export default defineJob({
  id: "order-effects",
  description: "Finish order effects (stock, daily rollup) a crashed writer left undone",
  schedule: (config) => config.orderEffectsCron,
  timeout: 300_000,
  async handler({ services, clock, slot, signal }) {
    const r = await repairOrderEffects(services, clock.now(), slot, SETTLING_MS, { signal });
    if (!r) return "nothing to check yet";
    const { since, checked, repaired, stopped, drained } = r;
    const parked = drained.length ? `; parked updates applied to ${drained.slice(0, 20).join(", ")}${drained.length > 20 ? ", …" : ""}` : "";
    return `${checked} orders changed since ${since.toISOString()}, ${repaired.length} finished${repaired.length ? `: ${repaired.slice(0, 20).join(", ")}${repaired.length > 20 ? ", …" : ""}` : ""}${parked}${stopped ? " (stopped at its timeout; the next run goes on from there)" : ""}`;
  },
});
