/**
 * Deterministic demo complaints over the demo orders (see demo-data.ts).
 *
 * {@link generateDemoComplaints} is pure: the same orders and options give the same documents
 * (its own seeded PRNG, no clock). The demo seed inserts the result after the orders
 * (demo-extras.ts).
 */
import { DEFAULT_SLA_FIRST_RESPONSE, DEFAULT_SLA_RESOLUTION, parseSlaTable, type SlaTable } from "../config.js";
import { localDay } from "../core/format.js";
import { ID_ALPHABET } from "../core/ids.js";
import { slaDue } from "../services/complaint.service.js";
import { mulberry32 } from "./demo-data.js";

/** What the generator needs of an order. */
export interface DemoComplaintOrder {
  _id: string;
  customerId: string;
  createdAt: Date;
  status: string;
  paidAt?: Date;
}

/** Options of {@link generateDemoComplaints}. */
export interface DemoComplaintOptions {
  seed: number;
  /** The demo's "now": nothing happens after it; open complaints are judged against it. */
  now: Date;
  timeZone: string;
  /** SLA clocks (ms per severity); the configuration's defaults when left out. */
  sla?: { firstResponse: SlaTable; resolution: SlaTable };
  /** Share of paid orders that get a complaint (default 0.015). */
  rate?: number;
  /** Support identities who claim and resolve (default three demo agents). */
  agents?: readonly string[];
}

/** One history entry of a demo complaint. */
export interface DemoComplaintHistory {
  action: string;
  by: string;
  at: Date;
  from?: string;
  to?: string;
  note?: string;
}

/** A complaint document, ready for `store.complaints.insertMany`. */
export interface DemoComplaint {
  _id: string;
  customerId: string;
  orderNo?: string;
  source: string;
  category: string;
  severity: "low" | "normal" | "high" | "urgent";
  text: string;
  status: "new" | "claimed" | "resolved" | "escalated";
  assignee?: string;
  createdBy: string;
  createdAt: Date;
  day: string;
  firstResponseAt?: Date;
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
  resolvedAt?: Date;
  resolvedDay?: string;
  history: DemoComplaintHistory[];
}

const SEVERITY_WEIGHTS: [DemoComplaint["severity"], number][] = [
  ["low", 0.2],
  ["normal", 0.55],
  ["high", 0.18],
  ["urgent", 0.07],
];
const SOURCES: [string, number][] = [
  ["chat", 0.4],
  ["email", 0.25],
  ["marketplace", 0.2],
  ["phone", 0.1],
  ["social", 0.05],
];
const TEXTS: Record<string, string[]> = {
  delivery: ["Parcel has not arrived after a week", "Tracking has not moved for 4 days", "快递一直没有更新物流信息"],
  damaged: ["Box arrived crushed and the item is broken", "Glass cracked in transit", "收到时外包装破损，商品有划痕"],
  wrong_item: ["Received the wrong colour", "Got a different model from the one ordered", "发错货了，颜色不对"],
  missing_item: ["One item missing from the parcel", "Only half of the order arrived"],
  quality: ["Stopped working after two days", "Lid leaks", "质量很差，用了一次就坏了"],
  refund: ["Refund promised but not received", "Asked for a refund a week ago, no answer"],
  billing: ["Charged twice for one order", "Coupon was not applied at checkout"],
  service: ["Nobody answered my messages", "客服回复太慢"],
};
const CATEGORIES = Object.keys(TEXTS);
const H = 3_600_000;

/**
 * Complaints for a small share of the paid orders, filed 2–96 hours after payment (never after
 * `now`), plus their life so far: old ones mostly resolved, recent ones new, claimed or escalated,
 * some past their SLA. SLA due times follow the given clocks; customers follow the orders.
 */
export function generateDemoComplaints(orders: readonly DemoComplaintOrder[], opts: DemoComplaintOptions): DemoComplaint[] {
  const rnd = mulberry32(opts.seed ^ 0x5eed_c0de);
  const pick = <T>(weighted: [T, number][]): T => {
    let r = rnd();
    for (const [v, w] of weighted) if ((r -= w) < 0) return v;
    return weighted[weighted.length - 1]![0];
  };
  const sla = opts.sla ?? defaultSla();
  const agents = opts.agents ?? ["shell:demo-lin", "shell:demo-mei", "shell:demo-tom"];
  const rate = opts.rate ?? 0.015;
  const now = opts.now.getTime();
  const used = new Set<string>();
  const out: DemoComplaint[] = [];

  for (const o of orders) {
    if (!o.paidAt || rnd() >= rate) continue;
    const created = o.paidAt.getTime() + Math.floor((2 + rnd() * 94) * H);
    if (created > now) continue;
    const severity = pick(SEVERITY_WEIGHTS);
    const category = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)]!;
    const texts = TEXTS[category]!;
    let id: string;
    do {
      id = "C-" + Array.from({ length: 6 }, () => ID_ALPHABET[Math.floor(rnd() * 32)]).join("");
    } while (used.has(id));
    used.add(id);
    const agent = agents[Math.floor(rnd() * agents.length)]!;
    const filer = agents[Math.floor(rnd() * agents.length)]!;
    const createdAt = new Date(created);
    const c: DemoComplaint = {
      _id: id,
      customerId: o.customerId,
      orderNo: o._id,
      source: pick(SOURCES),
      category,
      severity,
      text: texts[Math.floor(rnd() * texts.length)]!,
      status: "new",
      createdBy: filer,
      createdAt,
      day: localDay(createdAt, opts.timeZone),
      ...slaDue(createdAt, severity, sla),
      history: [{ action: "created", by: filer, at: createdAt, to: "new" }],
    };
    // Its life so far: each step happens after the previous one and before now, or not at all.
    const firstResp = created + Math.floor(sla.firstResponse[severity] * (0.1 + rnd() * 1.3));
    if (firstResp <= now && rnd() < 0.93) {
      c.status = "claimed";
      c.assignee = agent;
      c.firstResponseAt = new Date(firstResp);
      c.history.push({ action: "claim", by: agent, at: c.firstResponseAt, from: "new", to: agent });
      const escalateAt = firstResp + Math.floor(rnd() * 6 * H);
      if (rnd() < 0.08 && escalateAt <= now) {
        c.status = "escalated";
        delete c.assignee;
        c.history.push({ action: "escalate", by: agent, at: new Date(escalateAt), from: "claimed", to: "escalated", note: "customer asks for a manager" });
      }
      const resolveAt = Math.max(firstResp, c.status === "escalated" ? escalateAt : 0) + Math.floor(sla.resolution[severity] * (0.1 + rnd() * 1.1));
      if (resolveAt <= now && rnd() < 0.9) {
        const from = c.status;
        c.status = "resolved";
        c.assignee ??= agent;
        c.resolvedAt = new Date(resolveAt);
        c.resolvedDay = localDay(c.resolvedAt, opts.timeZone);
        c.history.push({ action: "resolve", by: c.assignee, at: c.resolvedAt, from, to: "resolved", note: "replacement or refund arranged" });
      }
    }
    out.push(c);
  }
  return out;
}

function defaultSla(): { firstResponse: SlaTable; resolution: SlaTable } {
  return {
    firstResponse: parseSlaTable("", DEFAULT_SLA_FIRST_RESPONSE) as SlaTable,
    resolution: parseSlaTable("", DEFAULT_SLA_RESOLUTION) as SlaTable,
  };
}
