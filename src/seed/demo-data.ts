/**
 * Deterministic demo data: a catalogue of products and a few months of orders for a small shop.
 *
 * {@link generateDemo} is pure (same options → same documents; no Math.random, no clock), so tests
 * and benchmarks can reuse it; {@link seedDemo} writes its output to a store.
 */
import { addDays, dayStart, isDay, localDay, minorUnitFactor } from "../core/format.js";
import type { ORDER_STATUSES, Store } from "../store/models.js";
import { effectsDone, salesDayTotals } from "../services/order-effects.service.js";
import { generateDemoExtras } from "./demo-extras.js";

/** Options of {@link generateDemo}. */
export interface DemoOptions {
  /** PRNG seed: the same seed and options give the same documents. */
  seed: number;
  /** Last day of history (shop-local YYYY-MM-DD). */
  endDay: string;
  /** Shop time zone (IANA). */
  timeZone: string;
  /** ISO 4217 currency of every price and order. */
  currency: string;
  /** Number of products (default 240). */
  products?: number;
  /** Days of order history ending on endDay (default 90). */
  days?: number;
  /** Mean orders per day (default 60). */
  ordersPerDay?: number;
  /**
   * Optional cut-off instant: orders created after it are left out and payments after it are not
   * made (the order stays pending). Pass the current time when endDay is today.
   */
  until?: Date;
}

/** Options of {@link seedDemo}. */
export interface SeedDemoOptions extends DemoOptions {
  /** Delete everything {@link RESET_DELETES} names first instead of refusing a non-empty store. */
  reset?: boolean;
  /**
   * With `reset`: called with what is about to be deleted (documents per collection) once the
   * data is generated and just before anything is deleted (the CLI writes its audit entry there,
   * so a run cut short still leaves a trace). When it throws, nothing is deleted.
   */
  onReset?: (toDelete: ResetCounts) => Promise<void>;
}

/** Documents per collection a reset deletes (or is about to), in {@link RESET_DELETES}'s order. */
export interface ResetCounts {
  products: number;
  orders: number;
  ledger: number;
  complaints: number;
  refundRequests: number;
  coupons: number;
  couponDrafts: number;
  salesDays: number;
}

/** A reset's counts in words: "240 products, 5400 orders, 0 stock ledger entries, …". */
export function describeResetCounts(c: ResetCounts): string {
  return `${c.products} products, ${c.orders} orders, ${c.ledger} stock ledger entries, ${c.complaints} complaints, ${c.refundRequests} refund requests, ${c.coupons} coupons, ${c.couponDrafts} coupon drafts, ${c.salesDays} daily sales rollups`;
}

export type DemoOrderStatus = (typeof ORDER_STATUSES)[number];

export interface DemoProduct {
  _id: string;
  name: string;
  category: string;
  price: number;
  cost: number;
  currency: string;
  onHand: number;
  reserved: number;
  available: number;
  reorderPoint: number;
  leadTimeDays: number;
  supplier: string;
  active: boolean;
  /** Units per shop-local paid day over the last {@link SALES_HISTORY_DAYS} days. */
  salesByDay: Record<string, number>;
  appliedKeys: string[];
}

export interface DemoOrderItem {
  sku: string;
  qty: number;
  unitPrice: number;
}

export interface DemoOrder {
  _id: string;
  items: DemoOrderItem[];
  subtotal: number;
  discount: number;
  shipping: number;
  total: number;
  currency: string;
  status: DemoOrderStatus;
  channel: string;
  couponCode?: string;
  customerId: string;
  createdAt: Date;
  paidAt?: Date;
  day: string;
  paidDay?: string;
}

/** A promotion window: orders on these days may carry its coupon code. */
export interface DemoPromotion {
  code: string;
  percent: number;
  /** First and last shop-local day, inclusive. */
  from: string;
  to: string;
}

export interface DemoData {
  products: DemoProduct[];
  orders: DemoOrder[];
  promotions: DemoPromotion[];
}

/** Days of history kept in products' salesByDay (counted back from endDay, inclusive). */
export const SALES_HISTORY_DAYS = 60;

/** Velocity window the stock levels are designed against (the default VELOCITY_WINDOW_DAYS). */
const DESIGN_WINDOW_DAYS = 28;

const INSERT_BATCH = 5000;

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: a small, fast, seedable 32-bit PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Index drawn with the given (non-negative) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

// ---------------------------------------------------------------------------------------------
// Catalogue

interface CategorySpec {
  name: string;
  brands: string[];
  variants: string[];
  /** [item, min price, max price] in major units of a dollar-like currency. */
  items: [string, number, number][];
  /** [supplier, typical lead time in days]. */
  suppliers: [string, number][];
  /** A product with a Chinese name, to exercise Chinese search. */
  chinese: [string, number];
}

const CATEGORIES: CategorySpec[] = [
  {
    name: "Electronics",
    brands: ["Voltix", "Nordcell", "Auralis", "Kestrel", "Lumina"],
    variants: ["Black", "White", "Graphite", "Silver", "Midnight Blue"],
    items: [
      ["Wireless Mouse", 15, 45],
      ["Mechanical Keyboard", 55, 160],
      ["USB-C Charger 65W", 25, 55],
      ["Bluetooth Speaker", 30, 130],
      ["Noise-Cancelling Headphones", 90, 350],
      ["Smart Watch", 120, 400],
      ["Power Bank 20000mAh", 25, 65],
      ["HDMI Cable 2m", 8, 22],
      ["Webcam 1080p", 35, 95],
      ["Wireless Earbuds", 35, 220],
      ["Portable SSD 1TB", 85, 160],
      ["Smart Plug", 12, 30],
    ],
    suppliers: [
      ["Shenzhen Voltix Electronics Co.", 21],
      ["Pacific Components Ltd", 14],
      ["BrightWave Distribution", 7],
    ],
    chinese: ["无线蓝牙耳机 降噪版", 79],
  },
  {
    name: "Home & Kitchen",
    brands: ["Hearth & Co", "Maison Lane", "Copperleaf", "Oakridge", "Nestwell"],
    variants: ["Charcoal", "White", "Sage Green", "Stainless", "Natural Oak"],
    items: [
      ["Cast Iron Skillet 26cm", 25, 60],
      ["Chef's Knife 20cm", 30, 120],
      ["French Press 1L", 20, 45],
      ["Bamboo Cutting Board", 12, 35],
      ["Glass Storage Set 10pc", 22, 50],
      ["Electric Kettle 1.7L", 25, 80],
      ["Non-Stick Saucepan 18cm", 20, 55],
      ["Cotton Bath Towel", 10, 30],
      ["Scented Candle", 8, 28],
      ["Ceramic Dinner Plate Set", 30, 90],
      ["Vacuum Insulated Bottle 750ml", 15, 40],
      ["Silicone Baking Mat", 8, 20],
    ],
    suppliers: [
      ["Ningbo Homeware Trading", 25],
      ["Copperleaf Kitchen Supply", 10],
      ["Northgate Housewares", 6],
    ],
    chinese: ["不锈钢保温杯 500ml", 29],
  },
  {
    name: "Apparel",
    brands: ["Urban Thread", "Coastline", "Everyday Basics", "Trailmark", "Linen & Loom"],
    variants: ["Black S", "Black M", "Navy M", "Navy L", "Heather Grey M", "White S", "White L", "Olive M", "Sand L"],
    items: [
      ["Organic Cotton T-Shirt", 12, 35],
      ["Slim Fit Chinos", 35, 80],
      ["Merino Crew Sweater", 60, 130],
      ["Hooded Sweatshirt", 35, 75],
      ["Rain Jacket", 60, 160],
      ["Running Socks 3-Pack", 10, 22],
      ["Denim Jacket", 55, 120],
      ["Linen Shirt", 35, 85],
      ["Puffer Vest", 45, 110],
      ["Canvas Sneakers", 40, 90],
    ],
    suppliers: [
      ["Dhaka Garment Partners", 30],
      ["Coastline Apparel Group", 14],
      ["Everyday Basics Wholesale", 8],
    ],
    chinese: ["纯棉圆领T恤 白色 L", 19],
  },
  {
    name: "Beauty",
    brands: ["Glowlab", "Petal & Pine", "Dermaviva", "Aurelle", "Pure Ritual"],
    variants: ["30 ml", "50 ml", "100 ml", "200 ml", "Travel Size", "Value Pack"],
    items: [
      ["Hydrating Face Serum", 18, 60],
      ["Daily Moisturizer SPF 30", 15, 45],
      ["Gentle Foaming Cleanser", 10, 28],
      ["Vitamin C Brightening Cream", 20, 65],
      ["Argan Hair Oil", 12, 35],
      ["Clay Face Mask", 10, 30],
      ["Lip Balm Set", 6, 18],
      ["Micellar Water", 8, 20],
      ["Body Lotion", 8, 25],
      ["Eye Cream", 18, 55],
    ],
    suppliers: [
      ["Seoul Cosmetics Export", 18],
      ["Glowlab Laboratories", 9],
      ["Pure Ritual Naturals", 5],
    ],
    chinese: ["玻尿酸保湿面膜 10片装", 25],
  },
  {
    name: "Sports",
    brands: ["Peakform", "Stridewell", "Summit Gear", "Aquaflex", "Ironclad"],
    variants: ["Black", "Red", "Ocean Blue", "Forest Green", "Sunset Orange"],
    items: [
      ["Yoga Mat 6mm", 20, 60],
      ["Adjustable Dumbbell 10kg", 45, 140],
      ["Resistance Band Set", 12, 35],
      ["Insulated Water Bottle 1L", 15, 40],
      ["Trail Running Backpack 12L", 45, 110],
      ["Foam Roller", 15, 40],
      ["Jump Rope", 8, 25],
      ["Cycling Gloves", 15, 40],
      ["Swim Goggles", 10, 35],
      ["Camping Headlamp", 15, 50],
    ],
    suppliers: [
      ["Xiamen Outdoor Manufacturing", 24],
      ["Summit Gear Distribution", 12],
      ["Ironclad Fitness Supply", 6],
    ],
    chinese: ["加厚瑜伽垫 10mm", 35],
  },
  {
    name: "Toys",
    brands: ["Brightblock", "Wonderwood", "Little Explorer", "PlayNest", "Starlit"],
    variants: ["Ages 3+", "Ages 5+", "Ages 8+", "Deluxe Set", "Mini Edition"],
    items: [
      ["Wooden Building Blocks 100pc", 25, 55],
      ["Magnetic Tiles Set", 35, 90],
      ["Plush Bear", 12, 35],
      ["Remote Control Car", 30, 85],
      ["Jigsaw Puzzle 1000pc", 15, 30],
      ["Kids Art Easel", 40, 90],
      ["Board Game Classic", 20, 45],
      ["Science Experiment Kit", 25, 60],
      ["Toy Train Set", 35, 95],
      ["Stacking Rings", 8, 20],
    ],
    suppliers: [
      ["Shantou Toy Works", 28],
      ["Wonderwood Toys Ltd", 12],
      ["PlayNest Distribution", 7],
    ],
    chinese: ["益智拼装积木 500粒", 39],
  },
  {
    name: "Office",
    brands: ["Paperline", "Deskcraft", "Inkwell", "Ledgerly", "Studio Nine"],
    variants: ["Black", "Blue", "Pack of 6", "Pack of 12", "A5", "A4"],
    items: [
      ["Gel Pens 0.5mm", 4, 14],
      ["Hardcover Notebook", 8, 25],
      ["Ergonomic Desk Chair", 140, 380],
      ["Monitor Stand", 25, 70],
      ["Desk Organizer", 12, 35],
      ["Sticky Notes", 3, 10],
      ["LED Desk Lamp", 25, 75],
      ["Document Shredder", 45, 140],
      ["Whiteboard 90x60cm", 30, 80],
      ["Label Maker", 25, 65],
    ],
    suppliers: [
      ["Guangzhou Stationery Group", 20],
      ["Deskcraft Office Supply", 8],
      ["Inkwell Paper Co.", 4],
    ],
    chinese: ["中性笔 0.5mm 12支装", 9],
  },
  {
    name: "Grocery",
    brands: ["Harvest Table", "Green Valley", "Daily Pantry", "Mountain Bean", "Seaside Farms"],
    variants: ["250g", "500g", "1kg", "6-Pack", "12-Pack"],
    items: [
      ["Arabica Coffee Beans", 9, 28],
      ["Organic Green Tea", 6, 20],
      ["Extra Virgin Olive Oil", 10, 30],
      ["Raw Wildflower Honey", 8, 22],
      ["Roasted Almonds", 7, 20],
      ["Dark Chocolate 70%", 3, 12],
      ["Sparkling Water", 5, 15],
      ["Granola Clusters", 5, 14],
      ["Basmati Rice", 4, 15],
      ["Dried Mango Slices", 4, 12],
    ],
    suppliers: [
      ["Green Valley Foods", 7],
      ["Harvest Table Importers", 16],
      ["Daily Pantry Wholesale", 3],
    ],
    chinese: ["西湖龙井茶 250g", 45],
  },
];

/** Rough price level of a currency against a dollar-like one, so CNY or JPY prices look plausible. */
const PRICE_SCALE: Record<string, number> = {
  CNY: 7, HKD: 8, TWD: 30, JPY: 150, KRW: 1300, INR: 80, THB: 35, PHP: 55,
  SEK: 10, NOK: 10, DKK: 7, CZK: 22, PLN: 4, MXN: 18, BRL: 5, ZAR: 18, TRY: 35,
};

// ---------------------------------------------------------------------------------------------
// Orders

/** Relative order volume Sunday..Saturday (mean 1): weekends are busier. */
const WEEKDAY_WEIGHT = [1.3, 0.9, 0.88, 0.92, 0.97, 1.08, 1.4].map((w, _, all) => (w * all.length) / all.reduce((a, b) => a + b, 0));
/** Relative order volume per local hour. */
const HOUR_WEIGHT = [0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.5, 1, 1.5, 2, 2.4, 2.6, 2.8, 2.6, 2.4, 2.4, 2.5, 2.7, 3, 3.4, 3.6, 3.2, 2.2, 1.2];
const CHANNELS = ["web", "app", "marketplace", "pos"] as const;
const CHANNEL_WEIGHT = [0.45, 0.3, 0.18, 0.07];
const ITEM_COUNT_WEIGHT = [0.55, 0.27, 0.12, 0.06];
const QTY_WEIGHT = [0.8, 0.15, 0.05];
const RETURNING_SHARE = 0.15;
const COUPON_SHARE = 0.4;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Day of week (0 = Sunday) of a YYYY-MM-DD day. */
function weekday(day: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

function season(day: string): string {
  const month = Number(day.slice(5, 7));
  if (month >= 3 && month <= 5) return "SPRING";
  if (month >= 6 && month <= 8) return "SUMMER";
  if (month >= 9 && month <= 11) return "AUTUMN";
  return "WINTER";
}

function checkOptions(o: DemoOptions): Required<Omit<DemoOptions, "until">> & { until?: Date } {
  const products = o.products ?? 240;
  const days = o.days ?? 90;
  const ordersPerDay = o.ordersPerDay ?? 60;
  if (!Number.isInteger(o.seed)) throw new Error(`seedDemo: seed must be an integer, got ${o.seed}`);
  if (!isDay(o.endDay)) {
    throw new Error(`seedDemo: endDay must be a calendar day as YYYY-MM-DD, got "${o.endDay}"`);
  }
  try {
    new Intl.DateTimeFormat("en", { timeZone: o.timeZone });
  } catch {
    throw new Error(`seedDemo: unknown time zone "${o.timeZone}"`);
  }
  try {
    minorUnitFactor(o.currency);
  } catch {
    throw new Error(`seedDemo: unknown currency "${o.currency}"`);
  }
  if (!Number.isInteger(products) || products < 1 || products > 90_000) throw new Error(`seedDemo: products must be 1..90000, got ${products}`);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new Error(`seedDemo: days must be 1..3660, got ${days}`);
  if (!(ordersPerDay >= 0 && ordersPerDay <= 100_000)) throw new Error(`seedDemo: ordersPerDay must be 0..100000, got ${ordersPerDay}`);
  return { seed: o.seed, endDay: o.endDay, timeZone: o.timeZone, currency: o.currency, products, days, ordersPerDay, ...(o.until ? { until: o.until } : {}) };
}

/**
 * Generates the demo documents. Pure and deterministic: the same options always give the same
 * documents (product timestamps are left to the database layer).
 */
export function generateDemo(options: DemoOptions): DemoData {
  const o = checkOptions(options);
  const rng = new Rng(o.seed);
  const factor = minorUnitFactor(o.currency);
  const scale = PRICE_SCALE[o.currency] ?? 1;

  // Major units (dollar-like) → minor units of the shop currency, with shop-like price points.
  const priceOf = (major: number): number => {
    const m = major * scale;
    if (scale === 1) return factor >= 100 ? Math.max(1, Math.round(m) * factor - 1) : Math.max(1, Math.round(m) * factor);
    if (m >= 1000) return Math.round(m / 10) * 10 * factor;
    return Math.max(1, Math.round(m)) * factor;
  };

  // --- catalogue -------------------------------------------------------------------------------
  const catalogue: { name: string; category: string; price: number; cost: number; supplier: string; leadTimeDays: number }[] = [];
  const perCategory = CATEGORIES.map((_, i) => Math.floor(o.products / CATEGORIES.length) + (i < o.products % CATEGORIES.length ? 1 : 0));
  CATEGORIES.forEach((cat, ci) => {
    const count = perCategory[ci]!;
    const used = new Set<string>();
    const chineseAt = count >= 3 ? 2 : -1;
    for (let k = 0; k < count; k++) {
      let name: string;
      let major: number;
      if (k === chineseAt) {
        [name, major] = cat.chinese;
      } else {
        let item: [string, number, number];
        let tries = 0;
        do {
          item = rng.pick(cat.items);
          name = `${rng.pick(cat.brands)} ${item[0]}, ${rng.pick(cat.variants)}`;
          if (++tries > 200) name = `${name} #${k + 1}`;
        } while (used.has(name));
        major = item[1] + (item[2] - item[1]) * rng.float() ** 1.4;
      }
      used.add(name);
      const price = priceOf(major);
      const cost = Math.max(1, Math.round(price * (0.35 + 0.35 * rng.float())));
      const [supplier, lead] = rng.pick(cat.suppliers);
      const leadTimeDays = Math.min(30, Math.max(3, lead + rng.int(-3, 3)));
      catalogue.push({ name, category: cat.name, price, cost, supplier, leadTimeDays });
    }
  });
  const skus = catalogue.map((_, i) => `SKU-${1001 + i}`);

  // Popularity: Zipf-like weights over a random ranking; cumulative table for fast draws.
  const ranks = rng.shuffle(catalogue.map((_, i) => i));
  const popularity = new Array<number>(catalogue.length);
  ranks.forEach((p, r) => (popularity[p] = 1 / (r + 3) ** 0.9));
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of popularity) cumulative.push((acc += w));
  const drawProduct = (): number => {
    const r = rng.float() * acc;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  // --- promotions ------------------------------------------------------------------------------
  const firstDay = addDays(o.endDay, -(o.days - 1));
  const windows = o.days >= 45 ? [[0.12, 7], [0.5, 3], [0.82, 5]] : o.days >= 14 ? [[0.25, 5], [0.7, 3]] : [[0.5, 3]];
  const promotions: DemoPromotion[] = windows.map(([at, len], i) => {
    const length = Math.max(1, Math.min(len!, Math.floor(o.days / 4)));
    const startIdx = Math.min(o.days - length, Math.floor(o.days * at!));
    const from = addDays(firstDay, startIdx);
    const percent = [10, 20, 15][i]!;
    const code = i === 1 ? `FLASH${percent}` : `${season(from)}${percent}`;
    return { code, percent, from, to: addDays(from, length - 1) };
  });
  const promotionOn = (day: string): DemoPromotion | undefined => promotions.find((p) => p.from <= day && day <= p.to);

  // --- orders ----------------------------------------------------------------------------------
  const endInstant = dayStart(addDays(o.endDay, 1), o.timeZone).getTime();
  const cutoff = Math.min(endInstant, o.until ? o.until.getTime() : Infinity);
  const freeShippingFrom = priceOf(50);
  const shippingFee = priceOf(6);
  const customers: string[] = [];
  const orders: DemoOrder[] = [];

  for (let d = 0; d < o.days; d++) {
    const day = addDays(firstDay, d);
    const age = o.days - 1 - d;
    const promo = promotionOn(day);
    const trend = o.days > 1 ? 0.88 + (0.24 * d) / (o.days - 1) : 1;
    const mean = o.ordersPerDay * WEEKDAY_WEIGHT[weekday(day)]! * trend * (promo ? 1.3 : 1);
    const count = Math.max(0, Math.round(mean + rng.normal() * Math.sqrt(mean) * 0.8));
    const start = dayStart(day, o.timeZone).getTime();
    // 23, 24 or 25 hours: offsets within [start, start + length) always fall on this local day.
    const length = dayStart(addDays(day, 1), o.timeZone).getTime() - start;
    const todays: DemoOrder[] = [];

    for (let n = 0; n < count; n++) {
      const hour = rng.weighted(HOUR_WEIGHT);
      const createdMs = start + Math.floor(((hour + rng.float()) / 24) * length);

      let customerId: string;
      if (customers.length > 0 && rng.chance(RETURNING_SHARE)) {
        // Earlier customers come back more often: a loyal core.
        customerId = customers[Math.floor(rng.float() ** 2 * customers.length)]!;
      } else {
        customerId = `CUST-${String(10001 + customers.length)}`;
        customers.push(customerId);
      }
      const channel = CHANNELS[rng.weighted(CHANNEL_WEIGHT)]!;

      const lines = rng.weighted(ITEM_COUNT_WEIGHT) + 1;
      const items: DemoOrderItem[] = [];
      const seen = new Set<number>();
      for (let l = 0; l < lines; l++) {
        const p = drawProduct();
        if (seen.has(p)) continue;
        seen.add(p);
        items.push({ sku: skus[p]!, qty: rng.weighted(QTY_WEIGHT) + 1, unitPrice: catalogue[p]!.price });
      }
      const subtotal = items.reduce((s, it) => s + it.qty * it.unitPrice, 0);
      const coupon = promo && rng.chance(COUPON_SHARE) ? promo : undefined;
      const discount = coupon ? Math.round((subtotal * coupon.percent) / 100) : 0;
      const shipping = channel === "pos" || subtotal - discount >= freeShippingFrom ? 0 : shippingFee;

      // Status and payment.
      let status: DemoOrderStatus;
      let paid: boolean;
      const r = rng.float();
      if (r < 0.03) {
        status = "cancelled";
        paid = rng.chance(0.35); // some are cancelled after payment
      } else if (age >= 3 && r < 0.05) {
        status = "refunded";
        paid = true;
      } else if (rng.chance(age === 0 ? 0.12 : age === 1 ? 0.05 : 0)) {
        status = "pending";
        paid = false;
      } else {
        paid = true;
        const s = rng.float();
        if (age === 0) status = s < 0.9 ? "paid" : "shipped";
        else if (age === 1) status = s < 0.45 ? "paid" : "shipped";
        else if (age === 2) status = s < 0.1 ? "paid" : s < 0.8 ? "shipped" : "delivered";
        else if (age <= 5) status = s < 0.5 ? "shipped" : "delivered";
        else if (age <= 7) status = s < 0.15 ? "shipped" : "delivered";
        else status = "delivered";
      }
      let paidMs: number | undefined;
      if (paid) {
        const p = rng.float();
        const delay =
          p < 0.85 ? rng.int(1, 20) * MINUTE_MS + rng.int(0, 59_999) : p < 0.97 ? rng.int(1, 18) * HOUR_MS + rng.int(0, HOUR_MS - 1) : rng.int(18, 40) * HOUR_MS;
        paidMs = createdMs + delay;
        if (paidMs >= cutoff) {
          // Not paid yet at the end of the history.
          paidMs = undefined;
          if (status !== "cancelled") status = "pending";
        }
      }
      if (createdMs >= cutoff) continue;

      const createdAt = new Date(createdMs);
      const order: DemoOrder = {
        _id: "",
        items,
        subtotal,
        discount,
        shipping,
        total: subtotal - discount + shipping,
        currency: o.currency,
        status,
        channel,
        ...(coupon ? { couponCode: coupon.code } : {}),
        customerId,
        createdAt,
        ...(paidMs !== undefined ? { paidAt: new Date(paidMs) } : {}),
        day: localDay(createdAt, o.timeZone),
        ...(paidMs !== undefined ? { paidDay: localDay(new Date(paidMs), o.timeZone) } : {}),
      };
      todays.push(order);
    }
    todays.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    for (const ord of todays) {
      ord._id = `ORD-${100001 + orders.length}`;
      orders.push(ord);
    }
  }

  // --- sales history and stock -----------------------------------------------------------------
  const index = new Map(skus.map((s, i) => [s, i]));
  const salesByDay: Record<string, number>[] = catalogue.map(() => ({}));
  const reserved = new Array<number>(catalogue.length).fill(0);
  const historyFrom = addDays(o.endDay, -(SALES_HISTORY_DAYS - 1));
  for (const ord of orders) {
    const counts = ord.status !== "cancelled" && ord.paidAt !== undefined && ord.paidDay! >= historyFrom && ord.paidDay! <= o.endDay;
    const reserves = ord.status === "pending" || ord.status === "paid";
    for (const it of ord.items) {
      const i = index.get(it.sku)!;
      if (counts) salesByDay[i]![ord.paidDay!] = (salesByDay[i]![ord.paidDay!] ?? 0) + it.qty;
      if (reserves) reserved[i]! += it.qty;
    }
  }
  const windowFrom = addDays(o.endDay, -(DESIGN_WINDOW_DAYS - 1));
  const velocity = salesByDay.map((s) => {
    let units = 0;
    for (const [day, u] of Object.entries(s)) if (day >= windowFrom) units += u;
    return units / DESIGN_WINDOW_DAYS;
  });

  // Deliberate trouble: a few out of stock, some at or under their reorder point, and a few whose
  // reorder point is stale (set before demand grew) so days of cover is below lead time.
  const n = catalogue.length;
  const nOut = n >= 100 ? 3 : n >= 20 ? 2 : 1;
  const nLow = Math.min(12, Math.max(1, Math.round(n * 0.045)));
  const nCover = Math.min(4, Math.max(1, Math.round(n * 0.015)));
  const kind = new Array<"ok" | "out" | "low" | "cover">(n).fill("ok");
  const order = rng.shuffle(catalogue.map((_, i) => i));
  const assign = (k: "out" | "low" | "cover", want: number, fits: (i: number) => boolean): void => {
    for (const i of order) {
      if (want <= 0) break;
      if (kind[i] === "ok" && fits(i)) {
        kind[i] = k;
        want--;
      }
    }
  };
  assign("out", nOut, (i) => velocity[i]! > 0);
  assign("cover", nCover, (i) => velocity[i]! * catalogue[i]!.leadTimeDays >= 6);
  assign("low", nLow, () => true);

  const products: DemoProduct[] = catalogue.map((c, i) => {
    const v = velocity[i]!;
    const need = v * c.leadTimeDays;
    let reorderPoint: number;
    let available: number;
    switch (kind[i]) {
      case "out":
        reorderPoint = Math.max(3, Math.ceil(need * 1.3));
        available = 0;
        break;
      case "low":
        reorderPoint = Math.max(3, Math.ceil(need * 1.3));
        available = rng.int(1, reorderPoint);
        break;
      case "cover":
        reorderPoint = Math.max(1, Math.floor(need * 0.4));
        available = rng.int(reorderPoint + 1, Math.max(reorderPoint + 1, Math.ceil(need) - 1));
        break;
      default:
        reorderPoint = Math.max(3, Math.ceil(need * 1.3));
        available = reorderPoint + Math.ceil(v * rng.int(14, 60)) + rng.int(5, 40);
    }
    const onHand = available + reserved[i]!;
    return {
      _id: skus[i]!,
      name: c.name,
      category: c.category,
      price: c.price,
      cost: c.cost,
      currency: o.currency,
      onHand,
      reserved: reserved[i]!,
      available,
      reorderPoint,
      leadTimeDays: c.leadTimeDays,
      supplier: c.supplier,
      active: true,
      salesByDay: salesByDay[i]!,
      appliedKeys: [],
    };
  });

  return { products, orders, promotions };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** What `reset` deletes before loading the demo data, in words (usage lines and messages). */
export const RESET_DELETES = "all products, orders, the stock ledger, complaints, refund requests, coupons, coupon drafts and the daily sales rollups";

/** Thrown by {@link seedDemo} when the store already holds products or orders and reset was not asked. */
export class DemoDataExistsError extends Error {
  override name = "DemoDataExistsError";
  constructor(
    readonly products: number,
    readonly orders: number,
  ) {
    super(
      `The database already holds ${products} product(s) and ${orders} order(s); the demo data was not loaded. ` +
        `Reset to delete ${RESET_DELETES} first (npm run seed:demo -- --reset).`,
    );
  }
}

/**
 * Loads the demo data into a store. Refuses (throws {@link DemoDataExistsError}) when products or
 * orders exist, unless `reset` is set: then everything {@link RESET_DELETES} names is deleted first.
 * Records `{_id: "demo", value: {seed, endDay, seededAt, ...}}` in meta.
 */
export async function seedDemo(store: Store, opts: SeedDemoOptions): Promise<{ products: number; orders: number; deleted?: ResetCounts }> {
  const data = generateDemo(opts); // validates the options before anything is touched
  const now = opts.until ?? dayStart(addDays(opts.endDay, 1), opts.timeZone);
  const extras = generateDemoExtras(data, { seed: opts.seed, timeZone: opts.timeZone, currency: opts.currency, now });
  let deleted: ResetCounts | undefined;
  if (opts.reset) {
    type Deletable = { countDocuments(f: object): Promise<number>; deleteMany(f: object): Promise<{ deletedCount?: number }> };
    const models = { products: store.products, orders: store.orders, ledger: store.ledger, complaints: store.complaints, refundRequests: store.refundRequests, coupons: store.coupons, couponDrafts: store.couponDrafts, salesDays: store.salesDays } as unknown as Record<keyof ResetCounts, Deletable>;
    const keys = Object.keys(models) as (keyof ResetCounts)[];
    const count = async (f: (m: Deletable) => Promise<number>) => Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await f(models[k])] as const))) as unknown as ResetCounts;
    if (opts.onReset) await opts.onReset(await count((m) => m.countDocuments({})));
    deleted = await count(async (m) => (await m.deleteMany({})).deletedCount ?? 0);
  } else {
    const [hasProduct, hasOrder] = await Promise.all([store.products.exists({}), store.orders.exists({})]);
    if (hasProduct || hasOrder) {
      const [p, o] = await Promise.all([store.products.countDocuments({}), store.orders.countDocuments({})]);
      throw new DemoDataExistsError(p, o);
    }
  }
  for (let i = 0; i < data.products.length; i += INSERT_BATCH) {
    await store.products.insertMany(data.products.slice(i, i + INSERT_BATCH), { ordered: false });
  }
  // The generated stock already reflects every order: their effects are done, and the daily
  // rollup is their sum (OrderEffects keeps both from here on).
  const orders = extras.orders.map((o) => ({ ...o, effects: effectsDone(o as never) }));
  for (let i = 0; i < orders.length; i += INSERT_BATCH) {
    await store.orders.insertMany(orders.slice(i, i + INSERT_BATCH), { ordered: false });
  }
  const days = [...salesDayTotals(orders).values()];
  if (days.length) await store.salesDays.insertMany(days, { ordered: false });
  if (extras.complaints.length) await store.complaints.insertMany(extras.complaints, { ordered: false });
  // The demo's support agents hold the support role their complaints need (else the first alerts
  // a newcomer sees are warnings about the demo's own assignees); a role already granted is kept.
  const agents = [...new Set(extras.complaints.flatMap((c) => (c.assignee ? [c.assignee] : [])))];
  for (const agent of agents) await store.roles.updateOne({ _id: agent }, { $setOnInsert: { role: "support", grantedBy: "demo seed", grantedAt: now } }, { upsert: true });
  if (extras.refundRequests.length) await store.refundRequests.insertMany(extras.refundRequests, { ordered: false });
  await store.coupons.insertMany([...extras.coupons, extras.exampleCoupon], { ordered: false });
  const value = {
    seed: opts.seed,
    endDay: opts.endDay,
    seededAt: new Date(),
    timeZone: opts.timeZone,
    currency: opts.currency,
    products: data.products.length,
    orders: data.orders.length,
    complaints: extras.complaints.length,
    refundRequests: extras.refundRequests.length,
    coupons: extras.coupons.length + 1,
  };
  await store.meta.updateOne({ _id: "demo" }, { $set: { value } }, { upsert: true });
  return { products: data.products.length, orders: data.orders.length, ...(deleted ? { deleted } : {}) };
}
