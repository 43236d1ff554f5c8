import { Formatter } from "../src/core/format.js";
import { defineJob } from "../src/core/job.js";
import { translator } from "../src/core/messages.js";
import { forShutdown } from "../src/core/scheduler.js";

/**
 * Low stock, every few minutes (LOW_STOCK_CRON): products at or below their
 * reorder point or with cover below lead time, one alert per crossing, in one
 * batched message routed as `low_stock`. See LowStockService.
 */
export default defineJob({
  id: "low-stock",
  description: "Alert products that crossed their low-stock threshold (one alert per crossing)",
  schedule: (config) => config.lowStockCron,
  timeout: 120_000,
  async handler({ services, config, slot, signal }) {
    // A shutdown stops it between its writes (the run recorded as interrupted, retried). Its
    // timeout does not: a whole recompute of thresholds cut there would start over at every run.
    const r = await services.lowStock.scan({
      slot,
      signal: forShutdown(signal),
      t: translator(config.locale),
      fmt: new Formatter(config.locale, config.timeZone, config.currency),
    });
    // Crossings found in quiet hours wait for the first run after them (which alerts those still low).
    return `${r.low} low, ${r.alerted.length} alerted, ${r.recovered.length} re-armed${r.deferred ? `, ${r.deferred} left for after quiet hours` : ""}`;
  },
});
