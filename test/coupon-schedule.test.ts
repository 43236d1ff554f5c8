import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

/** A confirmed coupon with dates relative to T0 (minutes). */
function coupon(code: string, created: number, starts: number, ends: number | null, status = "active") {
  return {
    _id: code,
    type: "percent",
    value: 10,
    currency: "CNY",
    minSpend: 0,
    startsAt: new Date(T0 + starts * MIN),
    ...(ends === null ? {} : { endsAt: new Date(T0 + ends * MIN) }),
    status,
    draftId: `D-${code}`,
    createdBy: "shell:max",
    confirmedBy: "shell:max",
    createdAt: new Date(T0 + created * MIN),
  };
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.coupons.insertMany([
    coupon("SPRING", 0, 30, 120), // scheduled: live at +30 min, expires at +2 h
    { ...coupon("NOW10", 0, 0, 60), perCustomer: 1 }, // live at once (its launch said so): only its expiry is announced
    coupon("OLD", -14_400, -14_400, -7_200), // expired days ago: nothing
    coupon("HELD", 0, 10, 180, "paused"), // paused before its start: no "live", expiry announced
    coupon("FOREVER", 0, 45, null), // scheduled, no end
  ]);
  // NOW10 used three times: twice in the shop currency by one customer (over its per-customer limit of 1), once in USD.
  await app.store.orders.insertMany([
    paidOrder("ORD-N1", 4500, new Date(T0 + 10 * MIN).toISOString(), { couponCode: "NOW10", discount: 500, customerId: "CUST-1" }),
    paidOrder("ORD-N3", 4500, new Date(T0 + 15 * MIN).toISOString(), { couponCode: "NOW10", discount: 500, customerId: "CUST-1" }),
    paidOrder("ORD-N2", 3000, new Date(T0 + 20 * MIN).toISOString(), { couponCode: "NOW10", currency: "USD", customerId: "CUST-2" }),
  ]);
  jobs = await jobStepper(app, "coupon-schedule", T0);
});
afterAll(() => app.close());

async function runJob(ms: number): Promise<void> {
  await jobs.step(ms);
}

const announced = async () => (await app.store.outbox.find({ kind: "coupons" }).sort({ createdAt: 1, _id: 1 }).lean()).map((d) => d._id);

describe("coupon-schedule job", () => {
  it("tells the managers' channel once when a scheduled coupon goes live and once when a coupon expires", async () => {
    await runJob(5 * MIN);
    expect(await announced()).toEqual([]);
    expect((await app.run("shell:admin", "coupon show SPRING")).reply.fields?.length).toBeGreaterThan(0);

    for (let i = 0; i < 6; i++) await runJob(5 * MIN); // +35 min
    expect(await announced()).toEqual(["coupon-live:SPRING:shell:managers"]);
    const live = await app.store.outbox.findById("coupon-live:SPRING:shell:managers").lean();
    expect(live!.dest).toEqual({ kind: "channel", platform: "shell", channel: "managers" });
    expect(reviveReply(live!.reply).title).toBe("Coupon SPRING is live");
    // shopops does not reach the storefront: the announcement says the state is its own record.
    expect(reviveReply(live!.reply).context).toEqual(["Live in shopops from now; the storefront applies the code only if it is set up there."]);

    for (let i = 0; i < 45; i++) await runJob(5 * MIN); // +4 h
    const ids = await announced();
    expect([...ids].sort()).toEqual(
      ["coupon-live:SPRING", "coupon-live:FOREVER", "coupon-expired:NOW10", "coupon-expired:SPRING", "coupon-expired:HELD"].map((k) => `${k}:shell:managers`).sort(),
    );
    const expired = reviveReply((await app.store.outbox.findById("coupon-expired:SPRING:shell:managers").lean())!.reply);
    expect(expired.title).toBe("Coupon SPRING has expired");
    expect(expired.context![0]).toBe("Never used: no paid order carrying the code was placed while it ran.");
    expect(expired.context![1]).toBe("Ended in shopops; check that the storefront no longer accepts the code.");
    // The expiry says what coupon show says of uses in another currency.
    const now10 = reviveReply((await app.store.outbox.findById("coupon-expired:NOW10:shell:managers").lean())!.reply);
    expect(now10.context).toContain("Uses in another currency than CNY: 1 (counted in uses, left out of revenue and discount).");
    // And, as coupon show says it, the customer past the per-customer limit.
    expect(now10.context).toContain("Customers over the per-customer limit (1), with their uses: CUST-1 (2). The storefront enforces limits; shopops only reports them.");
    const spring = await app.store.coupons.findById("SPRING").lean();
    expect(spring!.notified).toMatchObject({ live: expect.any(Date), expired: expect.any(Date) });

    for (let i = 0; i < 5; i++) await runJob(60 * MIN);
    expect(await announced()).toHaveLength(5);
  });
});
