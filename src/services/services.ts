import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Config } from "../config.js";
import type { Store } from "../store/models.js";
import { clip } from "../core/reply.js";
import { ChartService } from "./chart.service.js";
import { DigestService } from "./digest.service.js";
import { CouponService } from "./coupon.service.js";
import { ApiKeyService } from "./apikey.service.js";
import { AlertService } from "./alert.service.js";
import { AuditService } from "./audit.service.js";
import { IngestService, orderResult } from "./ingest.service.js";
import { OrderEffects } from "./order-effects.service.js";
import { OrderIngestService, type ParkedRefusal } from "./order-ingest.service.js";
import { IdentityService } from "./identity.service.js";
import { MarkerService } from "./marker.service.js";
import { ComplaintService } from "./complaint.service.js";
import { OrderService } from "./order.service.js";
import { JobsService } from "./jobs.service.js";
import { LowStockService } from "./low-stock.service.js";
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
  /** What orders imply for stock and the daily rollup, applied once (and finished by the order-effects job). */
  effects: OrderEffects;
  complaints: ComplaintService;
  digest: DigestService;
  chart: ChartService;
  apiKeys: ApiKeyService;
  ingest: IngestService;
  jobs: JobsService;
  alerts: AlertService;
  lowStock: LowStockService;
}

/** Wires the services over a store. */
export function createServices(store: Store, clock: Clock, config: Config, logger: Logger): Services {
  const { timeZone, currency } = config;
  // Shared instances: several services record audit entries, queue messages or read stock.
  const audit = new AuditService(store, clock);
  const stock = new StockService(store, clock, { timeZone, velocityWindowDays: config.velocityWindowDays });
  const outbox = new OutboxService(store, clock, logger.child({ component: "outbox" }));
  const shop = { timeZone, currency };
  const effects = new OrderEffects(store);
  // Shared too: refund approvals and complaint holder checks ask it which identities are one person.
  const identity = new IdentityService(store, clock, config.bootstrapAdmins);
  const refund = new RefundService(store, clock, outbox, audit, { timeZone, currency, locale: config.locale, defaults: config.refundDefaults }, effects, identity);
  const alerts = new AlertService(store, clock, outbox, config, logger.child({ component: "alerts" }));
  const ingestLog = logger.child({ component: "ingest" });
  /**
   * A parked order update its order refused on arrival (answered 202 when it came): logged and
   * on the sender's audit trail (`audit subject=<orderNo>`), once per parked update: under the
   * sender's audit name kept with it (an API key's `api:<label>#<key id>`, as its requests), else
   * (an import; an update parked before that was kept) its actor as kept.
   */
  const refusedParked = async (r: ParkedRefusal): Promise<void> => {
    const why = orderResult(r.result).message ?? r.result.kind;
    const actor = r.auditActor ?? r.actor;
    ingestLog.warn("parked order update refused when its order arrived", { orderNo: r.orderNo, actor, parkedAt: r.parkedAt, code: r.result.kind, why });
    await audit.record({
      ref: `parked-${r.id}`,
      at: clock.now(),
      actor,
      platform: r.actor.startsWith("api:") ? "http" : "import",
      // Named as the way it came in: `audit command=import` finds an import's, `command=api` the API's.
      command: r.actor.startsWith("import:") ? "import orders" : "api orders",
      args: clip(`${r.orderNo}: update parked at ${r.parkedAt.toISOString()}, refused when the order arrived: ${JSON.stringify(r.payload)}`, 600),
      outcome: "user_error",
      code: r.result.kind,
      message: clip(why, 300),
      subject: r.orderNo,
    });
  };
  return {
    store,
    clock,
    identity,
    audit,
    stock,
    outbox,
    refund,
    coupon: new CouponService(store, clock, stock, { timeZone, currency, upliftPercent: config.couponUpliftPercent }),
    markers: new MarkerService(store, clock),
    orders: new OrderService(store, clock, { timeZone }, effects, logger),
    effects,
    complaints: new ComplaintService(store, clock, { timeZone, sla: config.complaintSla }, identity),
    digest: new DigestService(store, clock, stock, effects, { timeZone, currency }, logger.child({ component: "digest" })),
    chart: new ChartService(),
    apiKeys: new ApiKeyService(store, clock),
    ingest: new IngestService(store, clock, stock, new OrderIngestService(store, clock, effects, shop, refusedParked), { ...shop, sla: config.complaintSla }, refund, ingestLog),
    jobs: new JobsService(store, clock),
    alerts,
    lowStock: new LowStockService(store, clock, stock, alerts, lowStockOptions(config), logger.child({ component: "low-stock" })),
  };
}

function lowStockOptions(config: Config) {
  return { timeZone: config.timeZone, marginPct: config.lowStockMarginPct, safetyDays: config.safetyStockDays, coverDays: config.reorderCoverDays, show: config.lowStockShow };
}
