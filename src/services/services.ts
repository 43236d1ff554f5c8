import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Config } from "../config.js";
import type { Store } from "../store/models.js";
import { ApiKeyService } from "./apikey.service.js";
import { AuditService } from "./audit.service.js";
import { IngestService } from "./ingest.service.js";
import { OrderIngestService } from "./order-ingest.service.js";
import { IdentityService } from "./identity.service.js";
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
  apiKeys: ApiKeyService;
  ingest: IngestService;
}

/** Wires the services over a store. */
export function createServices(store: Store, clock: Clock, config: Config, logger: Logger): Services {
  const stock = new StockService(store, clock, { timeZone: config.timeZone, velocityWindowDays: config.velocityWindowDays });
  const shop = { timeZone: config.timeZone, currency: config.currency };
  return {
    store,
    clock,
    identity: new IdentityService(store, clock, config.bootstrapAdmins),
    audit: new AuditService(store),
    stock,
    outbox: new OutboxService(store, clock, logger.child({ component: "outbox" })),
    apiKeys: new ApiKeyService(store, clock),
    ingest: new IngestService(store, clock, stock, new OrderIngestService(store, clock, shop), shop),
  };
}
