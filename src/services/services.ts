import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Config } from "../config.js";
import type { Store } from "../store/models.js";
import { ChartService } from "./chart.service.js";
import { DigestService } from "./digest.service.js";
import { AuditService } from "./audit.service.js";
import { CouponService } from "./coupon.service.js";
import { IdentityService } from "./identity.service.js";
import { MarkerService } from "./marker.service.js";
import { ComplaintService } from "./complaint.service.js";
import { OrderService } from "./order.service.js";
import { OutboxService } from "./outbox.service.js";
import { RefundService } from "./refund.service.js";
import { StockService } from "./stock.service.js";

/** The services handlers use; built once per process (or per test). */
export interface Services {
  store: Store;
  clock: Clock;
  identity: IdentityService;
  audit: AuditService;
  stock: StockService;
  outbox: OutboxService;
  refund: RefundService;
  coupon: CouponService;
  markers: MarkerService;
  orders: OrderService;
  complaints: ComplaintService;
  digest: DigestService;
  chart: ChartService;
}

/** Wires the services over a store. */
export function createServices(store: Store, clock: Clock, config: Config, logger: Logger): Services {
  return {
    store,
    clock,
    identity: new IdentityService(store, clock, config.bootstrapAdmins),
    audit: new AuditService(store),
    stock: new StockService(store, clock, { timeZone: config.timeZone, velocityWindowDays: config.velocityWindowDays }),
    outbox: new OutboxService(store, clock, logger.child({ component: "outbox" })),
    // Audit and outbox services are stateless wrappers over the store: a second instance is the same.
    refund: new RefundService(store, clock, new OutboxService(store, clock, logger.child({ component: "outbox" })), new AuditService(store), {
      timeZone: config.timeZone,
      currency: config.currency,
      locale: config.locale,
      defaults: config.refundDefaults,
    }),
    coupon: new CouponService(store, clock, new StockService(store, clock, { timeZone: config.timeZone, velocityWindowDays: config.velocityWindowDays }), {
      timeZone: config.timeZone,
      currency: config.currency,
      upliftPercent: config.couponUpliftPercent,
    }),
    markers: new MarkerService(store, clock),
    orders: new OrderService(store, clock, { timeZone: config.timeZone }),
    complaints: new ComplaintService(store, clock, { timeZone: config.timeZone, sla: config.complaintSla }),
    digest: new DigestService(store, clock, new StockService(store, clock, { timeZone: config.timeZone, velocityWindowDays: config.velocityWindowDays }), { timeZone: config.timeZone, currency: config.currency }),
    chart: new ChartService(),
  };
}
