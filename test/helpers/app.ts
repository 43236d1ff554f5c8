import { createApp, type App } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { FixedClock } from "../../src/core/clock.js";
import type { InvocationResult } from "../../src/core/core.js";
import type { Platform } from "../../src/core/identity.js";
import type { Role } from "../../src/core/roles.js";
import { silentLogger } from "../../src/core/logger.js";
import { localDay } from "../../src/core/format.js";
import type { ProductDoc } from "../../src/store/models.js";
import { connectTestDb, type TestDb } from "./db.js";

/** An app over this test file's own database, with a fixed clock. */
export interface TestApp extends App {
  db: TestDb;
  clock: FixedClock;
  config: Config;
  /** Runs a command line as `identity` (shell platform unless it says otherwise). */
  run(identity: string, text: string): Promise<InvocationResult>;
  close(): Promise<void>;
}

/** Builds a {@link TestApp}. `shell:admin` is a bootstrap admin. */
export async function makeTestApp(env: Record<string, string> = {}, now = "2026-11-25T04:00:00Z"): Promise<TestApp> {
  const db = await connectTestDb();
  const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", ...env });
  const clock = new FixedClock(now);
  const app = await createApp({ config, conn: db.conn, clock, logger: silentLogger });
  return {
    ...app,
    db,
    clock,
    config,
    run: (identity, text) => app.core.invoke({ identity, platform: identity.split(":")[0] as Platform, text }),
    close: () => db.close(),
  };
}

/** The usual cast of a shop's people: a staff member, a support agent and two managers. */
export const USUAL_CAST = { "shell:sam": "staff", "shell:sue": "support", "shell:mia": "manager", "shell:max": "manager" } as const satisfies Record<string, Role>;

/**
 * A test file's cast: each identity granted its role by `shell:admin`, in the order written
 * (the trail's order). Takes the app or its promise: `app = await withCast(makeTestApp(), {...})`.
 */
export async function withCast<T extends TestApp>(app: T | Promise<T>, cast: Record<string, Role>): Promise<T> {
  const a = await app;
  try {
    for (const [identity, role] of Object.entries(cast)) await a.services.identity.grant(identity, role, "shell:admin");
  } catch (e) {
    await a.close(); // not handed back: the file's afterAll could not close it
    throw e;
  }
  return a;
}

/** A product document with sensible defaults; `available` follows onHand − reserved. */
export function product(sku: string, over: Partial<ProductDoc> = {}): Partial<ProductDoc> {
  const onHand = over.onHand ?? 50;
  const reserved = over.reserved ?? 0;
  return {
    _id: sku,
    name: `Product ${sku}`,
    category: "Home & Kitchen",
    price: 9900,
    cost: 4000,
    currency: "CNY",
    reorderPoint: 10,
    leadTimeDays: 7,
    supplier: "Acme",
    active: true,
    ...over,
    onHand,
    reserved,
    available: onHand - reserved,
  };
}

/**
 * A paid, delivered one-line order of `total` minor units (CNY), paid at `paidAt`; its days
 * are read in Asia/Shanghai, the test app's zone. `over` replaces any field.
 */
export function paidOrder(no: string, total: number, paidAt = "2026-11-20T02:00:00Z", over: Record<string, unknown> = {}): Record<string, unknown> {
  const at = new Date(paidAt);
  const day = localDay(at, "Asia/Shanghai");
  return {
    _id: no,
    items: [{ sku: "SKU-1", qty: 1, unitPrice: total }],
    subtotal: total,
    discount: 0,
    shipping: 0,
    total,
    currency: "CNY",
    status: "delivered",
    channel: "web",
    customerId: "CUST-1",
    createdAt: at,
    paidAt: at,
    day,
    paidDay: day,
    ...over,
  };
}

/** The value of the reply field labelled `label`, if any. */
export const field = (r: { reply: { fields?: { label: string; value: string }[] } }, label: string): string | undefined =>
  r.reply.fields?.find((f) => f.label === label)?.value;
