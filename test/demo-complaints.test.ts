import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDay } from "../src/core/format.js";
import { generateDemoComplaints } from "../src/seed/demo-complaints.js";
import { generateDemo } from "../src/seed/demo-data.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

const TZ = "Asia/Shanghai";
const NOW = new Date("2026-11-25T04:00:00Z");
const { orders } = generateDemo({ seed: 7, endDay: "2026-11-25", timeZone: TZ, currency: "CNY", products: 30, days: 30, ordersPerDay: 30, until: NOW });
const opts = { seed: 7, now: NOW, timeZone: TZ, rate: 0.05 };

describe("generateDemoComplaints", () => {
  it("is deterministic and consistent with the orders, the clock and the SLA", () => {
    const a = generateDemoComplaints(orders, opts);
    expect(generateDemoComplaints(orders, opts)).toEqual(a);
    expect(generateDemoComplaints(orders, { ...opts, seed: 8 })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(10);
    expect(new Set(a.map((c) => c._id)).size).toBe(a.length);
    const byNo = new Map(orders.map((o) => [o._id, o]));
    const firstH = { urgent: 1, high: 4, normal: 24, low: 72 };
    for (const c of a) {
      const o = byNo.get(c.orderNo!)!;
      expect(c.customerId).toBe(o.customerId);
      expect(c.createdAt.getTime()).toBeGreaterThan(o.paidAt!.getTime());
      expect(c.createdAt <= NOW).toBe(true);
      expect(c.day).toBe(localDay(c.createdAt, TZ));
      expect(c.firstResponseDueAt.getTime() - c.createdAt.getTime()).toBe(firstH[c.severity] * 3_600_000);
      const times = c.history.map((h) => h.at.getTime());
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(times.at(-1)! <= NOW.getTime()).toBe(true);
      expect(c.history.at(-1)!.to === c.status || c.history.at(-1)!.action === "claim").toBe(true);
      if (c.status === "resolved") expect(c.resolvedDay).toBe(localDay(c.resolvedAt!, TZ));
      else expect(c.resolvedAt).toBeUndefined();
      if (c.status === "claimed") expect(c.assignee).toBeDefined();
    }
    // A realistic mix: some open, some resolved, some overdue.
    const statuses = new Set(a.map((c) => c.status));
    expect(statuses.has("resolved") && statuses.has("claimed")).toBe(true);
    expect(a.some((c) => c.status !== "resolved" && c.resolutionDueAt < NOW)).toBe(true);
  });
});

describe("demo complaints in a store", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await makeTestApp({}, NOW.toISOString());
  });
  afterAll(() => app.close());

  it("insert as they are and work with the complaint commands", async () => {
    const list = generateDemoComplaints(orders, opts);
    await app.store.complaints.insertMany(list);
    const open = list.filter((c) => c.status !== "resolved");
    const r = await app.run("shell:admin", "complaint list");
    expect(r.reply.title).toBe(`Open complaints: ${open.length}`);
    const one = open.find((c) => !c.assignee)!;
    const claim = await app.run("shell:admin", `complaint claim ${one._id}`);
    expect(claim.outcome).toBe("ok");
  });
});
