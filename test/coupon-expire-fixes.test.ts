/** `coupon expire` (ending a coupon by hand) is announced to the coupons route once, with its final tally, like a coupon reaching its end date. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

const at = (ms: number) => new Date(ms).toISOString();
const notices = async (code: string) => (await app.store.outbox.find({ kind: "coupons", _id: new RegExp(`^coupon-expired:${code}:`) }).lean()).map((d) => ({ id: String(d._id), reply: reviveReply(d.reply) as Reply }));
const coupon = async (code: string) => (await app.store.coupons.findById(code).lean())!;

/** Launches `code` at the current test time (starting at once) with the given options. */
async function launch(a: TestApp, code: string, opts: { limit?: string; perCustomer?: string; end?: string } = {}): Promise<void> {
  const r = await a.services.coupon.launchNow({ code, type: "percent", value: "5", actor: "shell:max", ...opts });
  expect(r.kind).toBe("launched");
}

/** Makes the next alert send fail, as a process stopping right after the expire would. */
function failNextSend(a: TestApp): void {
  const alerts = a.services.alerts;
  const send = alerts.send;
  alerts.send = async () => {
    alerts.send = send;
    throw new Error("stopped before sending");
  };
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  jobs = await jobStepper(app, "coupon-schedule", T0);
});
afterAll(() => app.close());

describe("coupon expire: announced once, with its tally", () => {
  it("the reviewer's repro: limit 2, per-customer 1, three orders (two from C1), one while paused; expired by hand", async () => {
    await launch(app, "SPRING5", { limit: "2", perCustomer: "1" });
    await app.store.orders.insertMany([
      paidOrder("ORD-S1", 10_000, at(T0 + 1 * MIN), { couponCode: "SPRING5", discount: 500, customerId: "C1" }),
      paidOrder("ORD-S2", 20_000, at(T0 + 2 * MIN), { couponCode: "spring5", discount: 1_000, customerId: "C1" }),
      paidOrder("ORD-S3", 10_000, at(T0 + 3 * MIN), { couponCode: "SPRING5", discount: 500, customerId: "C2" }),
      // Placed while it was paused (from +4 to +6 min): counted apart.
      paidOrder("ORD-S4", 10_000, at(T0 + 5 * MIN), { couponCode: "SPRING5", discount: 500, customerId: "C3" }),
    ]);
    await jobs.step(4 * MIN);
    expect((await app.run("shell:max", "coupon pause SPRING5")).outcome).toBe("ok");
    await jobs.step(2 * MIN);
    expect((await app.run("shell:max", "coupon resume SPRING5")).outcome).toBe("ok");
    await jobs.step(4 * MIN);

    const r = await app.run("shell:max", "coupon expire SPRING5");
    expect(r.outcome, r.reply.text).toBe("ok");
    const tally = [
      "Used 3 times by 2 customers: CN¥400.00 of orders, CN¥20.00 of discounts.",
      "ROI +1,900.0% on the discount: (CN¥400.00 net − CN¥20.00 of discounts) ÷ CN¥20.00.",
      "1 use over its total limit of 2.",
      "1 paid order with the code was placed while it was paused in shopops: not counted above.",
      "Customers over the per-customer limit (1), with their uses: C1 (2). The storefront enforces limits; shopops only reports them.",
    ];
    // The actor sees the final tally.
    expect(r.reply.text).toMatch(/^Coupon SPRING5 ended in shopops, for good/);
    expect(r.reply.context).toEqual(tally);
    // The coupons route is told at once, under the key a coupon reaching its end date gets.
    let sent = await notices("SPRING5");
    expect(sent.map((n) => n.id)).toEqual(["coupon-expired:SPRING5:shell:managers"]);
    expect(sent[0]!.reply.title).toBe("Coupon SPRING5 has expired");
    expect(sent[0]!.reply.context).toEqual([tally[0], "Ended in shopops; check that the storefront no longer accepts the code.", ...tally.slice(1)]);
    const c = await coupon("SPRING5");
    expect(c.notified?.expired).toEqual(new Date(jobs.t));
    expect(c.notified?.claimed?.expired ?? undefined).toBeUndefined();

    // More job ticks announce nothing more, and a second expire changes nothing.
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    expect((await app.run("shell:max", "coupon expire SPRING5")).reply.code).toBe("already_expired");
    for (let i = 0; i < 2; i++) await jobs.step(MIN);
    sent = await notices("SPRING5");
    expect(sent).toHaveLength(1);
    expect(await app.store.outbox.countDocuments({ kind: "coupons" })).toBe(1);
  });

  it("an expire stopped before its announcement was queued is announced by the next job run, once, with its tally", async () => {
    await launch(app, "CRASH5", { limit: "1" });
    await app.store.orders.insertMany([
      paidOrder("ORD-C1", 10_000, at(jobs.t + 1 * MIN), { couponCode: "CRASH5", discount: 500, customerId: "C1" }),
      paidOrder("ORD-C2", 10_000, at(jobs.t + 2 * MIN), { couponCode: "CRASH5", discount: 500, customerId: "C2" }),
    ]);
    await jobs.step(3 * MIN);
    failNextSend(app);
    const r = await app.run("shell:max", "coupon expire CRASH5");
    // The coupon is ended all the same, and the actor told so with its tally.
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.context).toEqual(["Used 2 times by 2 customers: CN¥200.00 of orders, CN¥10.00 of discounts.", "ROI +1,900.0% on the discount: (CN¥200.00 net − CN¥10.00 of discounts) ÷ CN¥10.00.", "1 use over its total limit of 1."]);
    expect(await notices("CRASH5")).toEqual([]);
    const claimed = new Date(jobs.t);
    expect((await coupon("CRASH5")).notified).toMatchObject({ expired: claimed, claimed: { expired: claimed } });

    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    const sent = await notices("CRASH5");
    expect(sent.map((n) => n.id)).toEqual(["coupon-expired:CRASH5:shell:managers"]);
    expect(sent[0]!.reply.context).toEqual([
      "Used 2 times by 2 customers: CN¥200.00 of orders, CN¥10.00 of discounts.",
      "Ended in shopops; check that the storefront no longer accepts the code.",
      "ROI +1,900.0% on the discount: (CN¥200.00 net − CN¥10.00 of discounts) ÷ CN¥10.00.",
      "1 use over its total limit of 1.",
    ]);
    expect((await coupon("CRASH5")).notified?.claimed?.expired ?? undefined).toBeUndefined();
  });

  it("a coupon reaching its end date is still announced once, with the same tally", async () => {
    await launch(app, "FLASH", { limit: "1", end: "+1h" });
    await app.store.orders.insertMany([
      paidOrder("ORD-F1", 5_000, at(jobs.t + 1 * MIN), { couponCode: "FLASH", discount: 250, customerId: "C1" }),
      paidOrder("ORD-F2", 5_000, at(jobs.t + 2 * MIN), { couponCode: "FLASH", discount: 250, customerId: "C2" }),
    ]);
    for (let i = 0; i < 4; i++) await jobs.step(20 * MIN);
    const sent = await notices("FLASH");
    expect(sent.map((n) => n.id)).toEqual(["coupon-expired:FLASH:shell:managers"]);
    expect(sent[0]!.reply.title).toBe("Coupon FLASH has expired");
    expect(sent[0]!.reply.context).toEqual([
      "Used 2 times by 2 customers: CN¥100.00 of orders, CN¥5.00 of discounts.",
      "Ended in shopops; check that the storefront no longer accepts the code.",
      "ROI +1,900.0% on the discount: (CN¥100.00 net − CN¥5.00 of discounts) ÷ CN¥5.00.",
      "1 use over its total limit of 1.",
    ]);
    for (let i = 0; i < 3; i++) await jobs.step(MIN);
    expect(await notices("FLASH")).toHaveLength(1);
  });

  it("a coupon expired before its start is announced once as one that never ran, without a tally in the reply", async () => {
    const r0 = await app.services.coupon.launchNow({ code: "LATER", type: "percent", value: "5", start: "+1d", actor: "shell:max" });
    expect(r0.kind).toBe("launched");
    await jobs.step(MIN);
    const r = await app.run("shell:max", "coupon expire LATER");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.text).toMatch(/never went live/);
    expect(r.reply.context).toBeUndefined();
    for (let i = 0; i < 2; i++) await jobs.step(MIN);
    const sent = await notices("LATER");
    expect(sent.map((n) => n.id)).toEqual(["coupon-expired:LATER:shell:managers"]);
    expect(sent[0]!.reply.fields?.find((f) => f.label === "Starts")?.value).toMatch(/^never \(was to start /);
  });
});

describe("coupon expire in Chinese", () => {
  let zh: TestApp;
  beforeAll(async () => {
    zh = await makeTestApp({ SHOP_LOCALE: "zh-CN" });
    await zh.services.identity.grant("shell:wang", "manager", "shell:admin");
  });
  afterAll(() => zh.close());

  it("the reply and the announcement give the tally in Chinese", async () => {
    await launch(zh, "CHUN5", { limit: "1", perCustomer: "1" });
    await zh.store.orders.insertMany([
      paidOrder("ORD-Z1", 10_000, at(T0 + 1 * MIN), { couponCode: "CHUN5", discount: 500, customerId: "C1" }),
      paidOrder("ORD-Z2", 10_000, at(T0 + 2 * MIN), { couponCode: "CHUN5", discount: 500, customerId: "C1" }),
    ]);
    zh.clock.set(new Date(T0 + 5 * MIN));
    const r = await zh.run("shell:wang", "coupon expire CHUN5");
    expect(r.outcome, r.reply.text).toBe("ok");
    const tally = ["共被 1 位客户使用 2 次：订单金额 ¥200.00，优惠金额 ¥10.00。", "折扣回报率（ROI）+1,900.0%：（净额 ¥200.00 − 折扣 ¥10.00）÷ ¥10.00。", "超出总次数上限（1）1 次。", "超过每位客户次数限制（1）的客户及其使用次数：C1（2）。次数限制由店铺执行，shopops 只负责报告。"];
    expect(r.reply.context).toEqual(tally);
    const doc = await zh.store.outbox.findById("coupon-expired:CHUN5:shell:managers").lean();
    const notice = reviveReply(doc!.reply);
    expect(notice.title).toBe("优惠券 CHUN5 已结束");
    expect(notice.context).toEqual([tally[0], "已在 shopops 中结束；请确认店铺后台不再接受该券码。", ...tally.slice(1)]);
    expect(await zh.store.outbox.countDocuments({ kind: "coupons" })).toBe(1);
  });
});
