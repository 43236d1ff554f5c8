// Seeded, deterministic randomized differential test of order ingestion (README "Ingestion API
// and bulk import", "Orders and what derives from them", "Digest figures").
//
// Per seed: three products (100 on hand), ten orders, each a storefront lifecycle of messages
// (created → paid → shipped → delivered, cancelled before or after payment, refunded by the shop
// before or after shipment). Every message is a snapshot of the order as the storefront knows it
// at that step (status and every timestamp so far, shipment details once shipped); some also
// carry the items (a create when they arrive first), the others are updates, parked when they
// arrive before the order. The messages of all orders are shuffled together, some are sent
// twice, and they go in waves: concurrent single items (Promise.all) or one batch (applyMany).
// Then partial refunds through refund requests, then full refunds reported by the shop (sent
// twice, side by side), then the order-effects repair. The final state is compared with a
// computation written from the README definitions (not from the code): each order's status and
// refunds, products' onHand/reserved/available, salesByDay (velocity), the daily rollup
// (sales_days), the digest's figures of every day involved, coupon redemptions.
//
// Each seed has its own products, coupon code, customers and days (seed k lives 12 days after
// seed k − 1), so a failing seed is reproducible alone: on failure the message says which seed
// and prints the messages of the orders involved, in the order sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderDoc, ProductDoc } from "../src/store/models.js";
import { mulberry32 as rng } from "../src/seed/demo-data.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { ORDER_LIFECYCLES, parseSeeds } from "./helpers/seeds.js";

let app: TestApp;
const TZ = "Asia/Shanghai";
const CUR = "CNY";
const H = 3_600_000;
/**
 * `INGEST_SEEDS=1-40` (or `7,9`) runs other seeds; seven by default (seeds 3 and 6 found the two
 * ordering bugs fixed with it; 17 and 18 a filled-in ship or payment time never corrected).
 */
const SEEDS = parseSeeds(process.env.INGEST_SEEDS ?? "1-4,6,17,18");
const ORDERS_PER_SEED = 10;
const START_STOCK = 100;
/** Seed 0's first day starts here (Shanghai midnight, 2026-08-01). */
const EPOCH = Date.parse("2026-07-31T16:00:00Z");
const PAID = new Set(["paid", "shipped", "delivered", "refunded"]);


/** The shop-local day of an instant, found with Intl (independent of the code's localDay). */
const dayFmt = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
const dayOf = (t: number) => dayFmt.format(new Date(t));
const iso = (t: number) => new Date(t).toISOString();

type Kind = "pending" | "paid" | "shipped" | "delivered" | "cancelBeforePay" | "cancelAfterPay" | "cancelThenRefund" | "refundBeforeShip" | "refundAfterShip";
const KINDS: Kind[] = ["pending", "paid", "shipped", "delivered", "cancelBeforePay", "cancelAfterPay", "cancelThenRefund", "refundBeforeShip", "refundAfterShip"];
const STEPS: Record<Kind, string[]> = {
  ...ORDER_LIFECYCLES,
  // Paid, cancelled, then the payment refunded by the shop: it stays cancelled (README: "a
  // payment for a cancelled order is recorded (it stays cancelled, out of GMV, and can be refunded)").
  cancelThenRefund: ["pending", "paid", "cancelled", "refunded"],
};

interface Line {
  sku: string;
  qty: number;
  unitPrice: number;
}

/** The truth about one order, as the storefront knows it. */
interface Plan {
  no: string;
  kind: Kind;
  customerId: string;
  items: Line[];
  discount: number;
  shipping: number;
  total: number;
  couponCode?: string;
  /** Index of the first step whose messages carry the coupon code. */
  couponFrom: number;
  createdAt: number;
  paidAt?: number;
  shippedAt?: number;
  deliveredAt?: number;
  cancelledAt?: number;
  refundedAt?: number;
  /** Refunds expected on the order: amount and local day. */
  refunds: { amount: number; day: string }[];
  status: string;
  /**
   * cancelThenRefund: the status its refund message names, `refunded` (with cancelledAt) or
   * `cancelled` (with refundedAt). README does not say which the storefront sends; both must end
   * cancelled, whatever the order of arrival.
   */
  refundAs?: "refunded" | "cancelled";
}

type Msg = Record<string, unknown>;

/** The message of step `j` of an order: a snapshot of what the storefront knows then. */
function message(p: Plan, j: number, withItems: boolean): Msg {
  const steps = STEPS[p.kind];
  const status = steps[j] === "refunded" && p.refundAs ? p.refundAs : steps[j]!;
  const m: Msg = { orderNo: p.no, status };
  const done = new Set(steps.slice(0, j + 1));
  if (withItems) Object.assign(m, { customerId: p.customerId, items: p.items, discount: p.discount, shipping: p.shipping, createdAt: iso(p.createdAt) });
  if (p.couponCode && j >= p.couponFrom) m.couponCode = p.couponCode;
  if (done.has("paid")) m.paidAt = iso(p.paidAt!);
  if (done.has("shipped")) m.shipment = { carrier: "SF Express", trackingNo: `SF${p.no.replace(/\D/g, "")}`, shippedAt: iso(p.shippedAt!) };
  if (done.has("delivered")) m.deliveredAt = iso(p.deliveredAt!);
  if (done.has("cancelled")) m.cancelledAt = iso(p.cancelledAt!);
  if (done.has("refunded")) m.refundedAt = iso(p.refundedAt!);
  return m;
}

interface World {
  seed: number;
  skus: string[];
  code: string;
  plans: Plan[];
  /** Clock of the message phase, of the partial refunds, and of the shop's late full refunds. */
  t1: number;
  t2: number;
  waves: { mode: "concurrent" | "batch"; msgs: Msg[] }[];
  /** Orders refunded in part through refund requests (phase 2), and then in full by the shop (phase 3). */
  partial: string[];
  shopFull: { no: string; refundedAt: number }[];
  /** Partial refund requests approved only after the shop's full refund (they must fail: nothing is left). */
  lateApproval: string[];
  /** Of `partial`, those whose request is for the full amount. */
  botFull: string[];
}

function makeWorld(seed: number): World {
  const r = rng(seed * 7919 + 17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const start = EPOCH + seed * 12 * 24 * H;
  const t1 = start + 9 * 24 * H + 4 * H;
  const t2 = t1 + 30 * H;
  const skus = [1, 2, 3].map((i) => `RS${seed}-${i}`);
  const code = `SAVE${seed}`;
  const plans: Plan[] = [];
  for (let i = 0; i < ORDERS_PER_SEED; i++) {
    // Every kind at least once over the first nine orders, then at random.
    const kind = i < KINDS.length ? KINDS[(i + seed) % KINDS.length]! : pick(KINDS);
    const lines = int(1, 2);
    const chosen = [...skus].sort(() => r() - 0.5).slice(0, lines);
    const items = chosen.map((sku) => ({ sku, qty: int(1, 3), unitPrice: pick([1990, 4500, 12900]) }));
    const subtotal = items.reduce((s, it) => s + it.qty * it.unitPrice, 0);
    const discount = r() < 0.4 ? 500 : 0;
    const shipping = r() < 0.5 ? 800 : 0;
    const createdAt = start + int(0, 60) * H + int(0, 59) * 60_000;
    const p: Plan = {
      no: `RO${seed}-${String(i).padStart(2, "0")}`,
      kind,
      customerId: `c${seed}-${int(1, 4)}`,
      items,
      discount,
      shipping,
      total: subtotal - discount + shipping,
      couponCode: r() < 0.5 ? code : undefined,
      couponFrom: 0,
      createdAt,
      refunds: [],
      status: kind === "cancelThenRefund" ? "cancelled" : STEPS[kind].at(-1)!,
    };
    const steps = STEPS[kind];
    // The code on every message, or only from a later step (added to the order later).
    if (p.couponCode && r() < 0.3) p.couponFrom = int(0, steps.length - 1);
    if (kind === "cancelThenRefund") p.refundAs = r() < 0.5 ? "refunded" : "cancelled";
    let t = createdAt;
    for (const s of steps.slice(1)) {
      t += int(1, 26) * H + int(0, 59) * 60_000;
      if (s === "paid") p.paidAt = t;
      if (s === "shipped") p.shippedAt = t;
      if (s === "delivered") p.deliveredAt = t;
      if (s === "cancelled") p.cancelledAt = t;
      if (s === "refunded") {
        p.refundedAt = t;
        p.refunds.push({ amount: p.total, day: dayOf(t) });
      }
    }
    if (t > t1) throw new Error(`seed ${seed}: a time after the clock`);
    plans.push(p);
  }
  // All messages of all orders, each order's first with its items, the others with them 40% of
  // the time (a storefront that sends the whole order), some twice; shuffled together.
  const all: Msg[] = [];
  for (const p of plans) {
    STEPS[p.kind].forEach((s, j) => {
      const m = message(p, j, j === 0 || r() < 0.4);
      // Some shipment and delivery messages give only their own time (a storefront that sends
      // the event, not the whole order): the bot fills in the rest, and the step's own message
      // corrects it whenever it comes, so the end is the same.
      if ((s === "shipped" || s === "delivered") && r() < 0.35) {
        delete m.paidAt;
        if (s === "delivered") m.shipment = { ...(m.shipment as Msg), shippedAt: undefined };
      }
      // Some storefronts name their fulfilment status beside the refund or cancellation time (a
      // refunded order still "shipped", a cancelled one still "paid"): the time says what happened.
      if ((s === "refunded" || s === "cancelled") && p.kind !== "cancelThenRefund" && j > 0 && r() < 0.35) m.status = STEPS[p.kind][j - 1];
      all.push(m);
      if (r() < 0.3) all.push(structuredClone(m));
    });
  }
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const waves: World["waves"] = [];
  for (let i = 0; i < all.length; ) {
    const n = int(1, 4);
    waves.push({ mode: r() < 0.35 ? "batch" : "concurrent", msgs: all.slice(i, i + n) });
    i += n;
  }
  // Phase 2: a refund request of some orders that are paid and stay in a paid status: 10.00, or
  // "full"; phase 3: the shop refunds some of those in full (what is left), reported by a message.
  const partial: string[] = [];
  const shopFull: World["shopFull"] = [];
  const lateApproval: string[] = [];
  const botFull: string[] = [];
  for (const p of plans) {
    if (!["paid", "shipped", "delivered"].includes(p.kind) || r() < 0.3) continue;
    partial.push(p.no);
    if (r() < 0.25) {
      // Refunded in full through a request ("full"); the shop may report the same refund later,
      // which must add nothing.
      botFull.push(p.no);
      p.refunds.push({ amount: p.total, day: dayOf(t1) });
      p.status = "refunded";
      if (r() < 0.5) shopFull.push({ no: p.no, refundedAt: t1 + int(2, 28) * H });
      continue;
    }
    const full = r() < 0.6;
    const late = full && r() < 0.4;
    if (late) lateApproval.push(p.no);
    else p.refunds.push({ amount: 1000, day: dayOf(t1) });
    if (full) {
      const refundedAt = t1 + int(2, 28) * H;
      shopFull.push({ no: p.no, refundedAt });
      // What the bot had not refunded yet (a held, unapproved request is not refunded).
      p.refunds.push({ amount: late ? p.total : p.total - 1000, day: dayOf(refundedAt) });
      p.status = "refunded";
    }
  }
  return { seed, skus, code, plans, t1, t2, waves, partial, shopFull, lateApproval, botFull };
}

/** What the README says the world must look like. */
function expected(w: World) {
  const shipped = (p: Plan) => p.shippedAt !== undefined;
  const products = new Map(w.skus.map((s) => [s, { onHand: START_STOCK, reserved: 0, salesByDay: new Map<string, number>() }]));
  const days = new Map<string, { gmv: number; orders: number; units: number; discount: number; refunds: number; couponUses: number }>();
  const day = (d: string) => {
    let x = days.get(d);
    if (!x) days.set(d, (x = { gmv: 0, orders: 0, units: 0, discount: 0, refunds: 0, couponUses: 0 }));
    return x;
  };
  let uses = 0;
  let couponRevenue = 0;
  let couponRefunded = 0;
  for (const p of w.plans) {
    const isPaid = PAID.has(p.status);
    for (const it of p.items) {
      const pr = products.get(it.sku)!;
      // Reserved at creation; out of stock at shipment; released at cancellation or a full refund before shipment.
      if (shipped(p)) pr.onHand -= it.qty;
      else if (p.status === "pending" || p.status === "paid") pr.reserved += it.qty;
      if (isPaid && p.paidAt !== undefined) pr.salesByDay.set(dayOf(p.paidAt), (pr.salesByDay.get(dayOf(p.paidAt)) ?? 0) + it.qty);
    }
    if (isPaid && p.paidAt !== undefined) {
      const d = day(dayOf(p.paidAt));
      d.gmv += p.total;
      d.orders++;
      d.units += p.items.reduce((s, it) => s + it.qty, 0);
      d.discount += p.discount;
      if (p.couponCode) d.couponUses++;
      if (p.couponCode) {
        uses++;
        couponRevenue += p.total;
        couponRefunded += p.refunds.reduce((s, x) => s + x.amount, 0);
      }
    }
    // Refunds of cancelled orders are in no figure (README: "cancelled orders aside").
    if (p.status !== "cancelled") for (const x of p.refunds) day(x.day).refunds += x.amount;
  }
  return { products, days, coupon: { uses, revenue: couponRevenue, refunded: couponRefunded } };
}

/** Every day of a seed: the day before its first to the day of its last clock. */
function seedDays(w: World): string[] {
  const out: string[] = [];
  for (let t = EPOCH + w.seed * 12 * 24 * H - 24 * H; dayOf(t) <= dayOf(w.t2); t += 24 * H) out.push(dayOf(t));
  return out;
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany(SEEDS.flatMap((s) => [1, 2, 3].map((i) => product(`RS${s}-${i}`, { onHand: START_STOCK }))));
});
afterAll(async () => {
  await app?.close();
});

/** Runs a seed's world against the app; returns the problems found (empty when all agrees). */
async function run(w: World): Promise<{ problems: string[]; log: string[] }> {
  const problems: string[] = [];
  const log: string[] = [];
  const actor = "api:storefront";
  const ingest = app.services.ingest;
  // Phase 1: the messages, wave by wave.
  app.clock.set(new Date(w.t1));
  for (const [k, wave] of w.waves.entries()) {
    const results =
      wave.mode === "batch" ? await ingest.applyMany("orders", wave.msgs, actor) : await Promise.all(wave.msgs.map((m) => ingest.apply("orders", m, actor)));
    wave.msgs.forEach((m, i) => {
      const res = results[i]!;
      log.push(`wave ${k} ${wave.mode}: ${JSON.stringify(m)} → ${res.status} ${res.outcome}${res.code ? ` ${res.code}` : ""}`);
      if (res.status >= 300 && res.status !== 202) problems.push(`${String(m.orderNo)}: message ${String(m.status)} refused: ${res.status} ${res.code ?? ""} ${res.message ?? ""}`);
    });
  }
  // Phase 2: partial refunds through refund requests, approved by a manager (some only after phase 3).
  const later: { no: string; id: string }[] = [];
  for (const no of w.partial) {
    const req = await app.services.refund.request({ orderNo: no, amount: w.botFull.includes(no) ? "full" : "10.00", reason: "damaged box", requester: "shell:sam", exactOrderNo: true });
    log.push(`partial refund ${no}: ${req.kind}`);
    if (req.kind !== "created") {
      problems.push(`${no}: refund request ${req.kind}`);
      continue;
    }
    if (w.lateApproval.includes(no)) {
      later.push({ no, id: req.request._id });
      continue;
    }
    const ok = await app.services.refund.approve({ id: req.request._id, actor: "shell:max", role: "manager" });
    log.push(`approve ${req.request._id}: ${ok.kind}`);
    if (ok.kind !== "approved") problems.push(`${no}: approval ${ok.kind}`);
  }
  // Phase 3: the shop refunds some in full, reported twice side by side.
  app.clock.set(new Date(w.t2));
  for (const f of w.shopFull) {
    const m = { orderNo: f.no, status: "refunded", refundedAt: iso(f.refundedAt) };
    const rs = await Promise.all([ingest.apply("orders", m, actor), ingest.apply("orders", { ...m }, actor)]);
    log.push(`shop refund ×2 ${JSON.stringify(m)} → ${rs.map((x) => `${x.status} ${x.outcome}`).join(", ")}`);
    for (const x of rs) if (x.status >= 300) problems.push(`${f.no}: shop refund refused: ${x.status} ${x.code ?? ""}`);
  }
  for (const { no, id } of later) {
    const ok = await app.services.refund.approve({ id, actor: "shell:max", role: "manager" });
    log.push(`approve after the shop's full refund ${no} ${id}: ${ok.kind}`);
    if (ok.kind === "approved") problems.push(`${no}: a request approved after the shop's full refund was executed`);
  }
  // The repair the order-effects job runs; with no crash it has nothing to finish.
  const rep = await app.services.effects.repair(new Date(0), new Date(w.t2 + 24 * H));
  const ours = rep.repaired.filter((no) => no.startsWith(`RO${w.seed}-`));
  if (ours.length) problems.push(`repair had to finish the effects of ${ours.join(", ")} (a writer skipped its settle)`);

  const exp = expected(w);
  // Orders: one per number, final status, refunds, coupon code, nothing parked.
  const orders = await app.store.orders.find({ _id: { $in: w.plans.map((p) => p.no) } }).lean<OrderDoc[]>();
  if (orders.length !== w.plans.length) problems.push(`orders: ${orders.length} stored, ${w.plans.length} expected`);
  const parked = await app.store.parkedOrderUpdates.countDocuments({ orderNo: { $in: w.plans.map((p) => p.no) } });
  if (parked) problems.push(`${parked} parked updates left`);
  for (const p of w.plans) {
    const o = orders.find((x) => x._id === p.no);
    if (!o) continue;
    const tag = `${p.no} (${p.kind}${w.partial.includes(p.no) ? (w.botFull.includes(p.no) ? ", full refund request" : ", partial refund") : ""}${w.shopFull.some((f) => f.no === p.no) ? ", then shop full refund" : ""}${w.lateApproval.includes(p.no) ? ", approved after it" : ""}${p.refundAs ? `, refund sent as ${p.refundAs}` : ""})`;
    if (o.status !== p.status) problems.push(`${tag}: status ${o.status}, expected ${p.status}`);
    if (o.total !== p.total) problems.push(`${tag}: total ${o.total}, expected ${p.total}`);
    if ((o.couponCode ?? undefined) !== p.couponCode) problems.push(`${tag}: couponCode ${o.couponCode}, expected ${p.couponCode}`);
    const paidDay = p.paidAt !== undefined ? dayOf(p.paidAt) : undefined;
    if ((o.paidDay ?? undefined) !== paidDay) problems.push(`${tag}: paidDay ${o.paidDay}, expected ${paidDay}`);
    const gotShipped = o.shipment?.shippedAt ? iso(new Date(o.shipment.shippedAt).getTime()) : undefined;
    const wantShipped = p.shippedAt !== undefined ? iso(p.shippedAt) : undefined;
    if (gotShipped !== wantShipped) problems.push(`${tag}: shipment.shippedAt ${gotShipped}, expected ${wantShipped}`);
    const got = (o.refunds ?? []).map((x) => `${x.amount}@${x.day}`).sort();
    const want = p.refunds.map((x) => `${x.amount}@${x.day}`).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${tag}: refunds ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    const refunded = p.refunds.reduce((s, x) => s + x.amount, 0);
    if ((o.refundedTotal ?? 0) !== refunded) problems.push(`${tag}: refundedTotal ${o.refundedTotal}, expected ${refunded}`);
  }
  // Products: stock and velocity.
  const prods = await app.store.products.find({ _id: { $in: w.skus } }).lean<ProductDoc[]>();
  for (const sku of w.skus) {
    const pr = prods.find((x) => x._id === sku)!;
    const e = exp.products.get(sku)!;
    if (pr.onHand !== e.onHand) problems.push(`${sku}: onHand ${pr.onHand}, expected ${e.onHand}`);
    if (pr.reserved !== e.reserved) problems.push(`${sku}: reserved ${pr.reserved}, expected ${e.reserved}`);
    if (pr.available !== e.onHand - e.reserved) problems.push(`${sku}: available ${pr.available}, expected ${e.onHand - e.reserved}`);
    const sales = Object.entries((pr.salesByDay ?? {}) as unknown as Record<string, number>).filter(([, v]) => v !== 0).sort();
    const wantSales = [...e.salesByDay].filter(([, v]) => v !== 0).sort();
    if (JSON.stringify(sales) !== JSON.stringify(wantSales)) problems.push(`${sku}: salesByDay ${JSON.stringify(sales)}, expected ${JSON.stringify(wantSales)}`);
  }
  // The daily rollup and the digest's figures of every day of the seed.
  for (const d of seedDays(w)) {
    const e = exp.days.get(d) ?? { gmv: 0, orders: 0, units: 0, discount: 0, refunds: 0, couponUses: 0 };
    const roll = await app.store.salesDays.findById(`${d}|${CUR}`).lean<{ gmv?: number; orders?: number; units?: number; discount?: number }>();
    const r = { gmv: roll?.gmv ?? 0, orders: roll?.orders ?? 0, units: roll?.units ?? 0, discount: roll?.discount ?? 0 };
    const wantRoll = { gmv: e.gmv, orders: e.orders, units: e.units, discount: e.discount };
    if (JSON.stringify(r) !== JSON.stringify(wantRoll)) problems.push(`rollup ${d}: ${JSON.stringify(r)}, expected ${JSON.stringify(wantRoll)}`);
    const f = (await app.services.digest.digest(d)).sales.day;
    const got = { gmv: f.gmv, orders: f.orders, units: f.units, discount: f.discount, refunds: f.refunds, net: f.net, couponUses: f.couponUses };
    const want = { gmv: e.gmv, orders: e.orders, units: e.units, discount: e.discount, refunds: e.refunds, net: e.gmv - e.refunds, couponUses: e.couponUses };
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`digest ${d}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  // Coupon redemptions (a code only on orders: all its paid orders).
  const red = await app.services.coupon.redemptions(w.code);
  const gotCoupon = { uses: red.uses, revenue: red.revenue, refunded: red.refunded };
  if (JSON.stringify(gotCoupon) !== JSON.stringify(exp.coupon)) problems.push(`coupon ${w.code}: ${JSON.stringify(gotCoupon)}, expected ${JSON.stringify(exp.coupon)}`);
  return { problems, log };
}

describe("order ingestion, randomized (shuffled, duplicated, concurrent messages)", () => {
  it("builds the same worlds for the same seeds (deterministic)", () => {
    expect(JSON.stringify(makeWorld(3))).toBe(JSON.stringify(makeWorld(3)));
    // Every lifecycle appears in every seed.
    for (const s of SEEDS) expect(new Set(makeWorld(s).plans.map((p) => p.kind)).size).toBe(KINDS.length);
  });

  it.each(SEEDS)("seed %i: final state matches the README's definitions", async (seed) => {
    const w = makeWorld(seed);
    const { problems, log } = await run(w);
    // On failure: the problems, then the messages (in the order sent) of the orders involved.
    const involved = new Set(problems.map((p) => /RO\d+-\d+/.exec(p)?.[0]).filter(Boolean));
    const trace = log.filter((l) => involved.size === 0 || [...involved].some((no) => l.includes(`"${no}"`) || l.includes(` ${no}:`)));
    expect(problems, `seed ${seed}\n${problems.join("\n")}\n--- messages ---\n${trace.join("\n")}`).toEqual([]);
  });
});
