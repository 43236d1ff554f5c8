import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Config } from "../config.js";
import type { Store } from "../store/models.js";
import { AlertService } from "./alert.service.js";
import { AuditService } from "./audit.service.js";
import { IdentityService } from "./identity.service.js";
import { JobsService } from "./jobs.service.js";
import { LowStockService } from "./low-stock.service.js";
import { OutboxService } from "./outbox.service.js";
import { StockService } from "./stock.service.js";

/** The services handlers use; built once per process (or per test). */
export interface Services {
  store: Store;
  clock: Clock;
  identity: IdentityService;
  audit: AuditService;
  stock: StockService;
  outbox: OutboxService;
  jobs: JobsService;
  alerts: AlertService;
  lowStock: LowStockService;
}

/** Wires the services over a store. */
export function createServices(store: Store, clock: Clock, config: Config, logger: Logger): Services {
  const stock = new StockService(store, clock, { timeZone: config.timeZone, velocityWindowDays: config.velocityWindowDays });
  const outbox = new OutboxService(store, clock, logger.child({ component: "outbox" }));
  const alerts = new AlertService(store, clock, outbox, config, logger.child({ component: "alerts" }));
  return {
    store,
    clock,
    identity: new IdentityService(store, clock, config.bootstrapAdmins),
    audit: new AuditService(store),
    stock,
    outbox,
    jobs: new JobsService(store, clock),
    alerts,
    lowStock: new LowStockService(store, clock, stock, alerts, lowStockOptions(config), logger.child({ component: "low-stock" })),
  };
}

function lowStockOptions(config: Config) {
  return { timeZone: config.timeZone, marginPct: config.lowStockMarginPct, safetyDays: config.safetyStockDays, coverDays: config.reorderCoverDays, show: config.lowStockShow };
}
