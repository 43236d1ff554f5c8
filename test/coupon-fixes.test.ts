import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

const MIN = 60_000;
const T0 = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;
let jobs: JobStepper;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  jobs = await jobStepper(app, "coupon-schedule", T0);
});
afterAll(() => app.close());

/** Launches and confirms a coupon as shell:max; returns the two invocations. */
async function launched(line: string) {
  const preview = await app.run("shell:max", `coupon launch ${line}`);
  expect(preview.outcome, preview.reply.text).toBe("ok");
  const confirm = await app.run("shell:max", preview.reply.actions![0]!.id);
  expect(confirm.outcome, confirm.reply.text).toBe("ok");
  return { preview, confirm };
}

const announced = async () => (await app.store.outbox.find({ kind: "coupons" }).lean()).map((d) => String(d._id)).sort();

describe("coupon fixes", () => {
  it("a coupon paused through its start is announced live once, when resumed; one resumed before its start at its start", async () => {
    await launched('code=HELDX type=percent value=10 start="2026-11-25 12:20"');
    await launched('code=EARLYX type=percent value=10 start="2026-11-25 12:30"');
    expect((await app.run("shell:max", "coupon pause HELDX")).outcome).toBe("ok");
    expect((await app.run("shell:max", "coupon pause EARLYX")).outcome).toBe("ok");
    await jobs.step(10 * MIN); // 12:10: EARLYX resumed before its start
    expect((await app.run("shell:max", "coupon resume EARLYX")).outcome).toBe("ok");
    for (let i = 0; i < 6; i++) await jobs.step(5 * MIN); // 12:40: HELDX's start passed while paused
    expect(await announced()).toEqual(["coupon-live:EARLYX:shell:managers"]);
    const resumed = await app.run("shell:max", "coupon resume HELDX");
    expect(resumed.outcome).toBe("ok");
    expect(resumed.reply.text).toContain("Coupon HELDX resumed in shopops");
    for (let i = 0; i < 4; i++) await jobs.step(5 * MIN); // 13:00
    expect(await announced()).toEqual(["coupon-live:EARLYX:shell:managers", "coupon-live:HELDX:shell:managers"]);
    const held = await app.store.coupons.findById("HELDX").lean();
    expect(held!.status).toBe("active");
    expect(held!.notified?.live).toEqual(new Date(T0 + 40 * MIN));
    // A coupon announced live, then paused and resumed, keeps the time it was announced.
    const early = await app.store.coupons.findById("EARLYX").lean();
    const told = early!.notified!.live!;
    expect((await app.run("shell:max", "coupon pause EARLYX")).outcome).toBe("ok");
    expect((await app.run("shell:max", "coupon resume EARLYX")).outcome).toBe("ok");
    expect((await app.store.coupons.findById("EARLYX").lean())!.notified!.live).toEqual(told);
  });

  it("a fixed discount without min= asks for one instead of quoting a min=0 nobody typed", async () => {
    const before = await app.store.couponDrafts.countDocuments();
    const r = await app.run("shell:max", "coupon launch code=A17 type=fixed value=20");
    expect(r).toMatchObject({ outcome: "user_error", code: "fixed_needs_min" });
    expect(r.reply.text).toBe("Coupon A17 cannot be launched:\n• A fixed discount (20) needs a minimum spend above it, or orders could be free: add min=, e.g. min=100.");
    const zh = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon launch code=A17 type=fixed value=20", locale: "zh-CN" });
    expect(zh.reply.text).toContain("固定折扣（20）需要设置高于它的最低消费，否则订单可能免费：请加上 min=，例如 min=100。");
    expect(zh.reply.text).not.toContain("min=0");
    // A larger discount gets an example above it; a min= typed is quoted as typed.
    expect((await app.run("shell:max", "coupon launch code=A18 type=fixed value=150")).reply.text).toContain("e.g. min=500.");
    const low = await app.run("shell:max", "coupon launch code=A19 type=fixed value=50 min=30");
    expect(low).toMatchObject({ outcome: "user_error", code: "fixed_not_below_min" });
    expect(low.reply.text).toContain("A fixed discount (50) must be below the minimum spend (min=30)");
    expect(await app.store.couponDrafts.countDocuments()).toBe(before);
  });

  it("every change to a coupon is found by its code in the audit trail", async () => {
    const { preview, confirm } = await launched("code=spring15 type=percent value=15");
    const refs = [preview.ref, confirm.ref];
    for (const line of ["coupon pause Spring15", "coupon resume SPRING15", "coupon expire spring15"]) {
      const r = await app.run("shell:max", line);
      expect(r.outcome, r.reply.text).toBe("ok");
      refs.push(r.ref);
    }
    // Refused: already ended (the handler ran), and a denial before it ran.
    const again = await app.run("shell:max", "coupon pause spring15");
    expect(again.code).toBe("wrong_state");
    const denied = await app.run("shell:sam", "coupon resume spring15");
    expect(denied.outcome).toBe("denied");
    refs.push(again.ref, denied.ref);
    // A preview cancelled, and a refused launch of a taken code.
    const other = await app.run("shell:max", "coupon launch code=SPRING15X type=percent value=5");
    const cancel = await app.run("shell:max", other.reply.actions![1]!.id);
    expect(cancel.outcome).toBe("ok");
    const taken = await app.run("shell:max", "coupon launch code=Spring15 type=percent value=5");
    expect(taken.code).toBe("code_taken");
    refs.push(taken.ref);
    for (const ref of refs) expect((await app.store.audit.findById(ref).lean())?.subject, ref).toBe("SPRING15");
    expect((await app.store.audit.findById(other.ref).lean())?.subject).toBe("SPRING15X");
    expect((await app.store.audit.findById(cancel.ref).lean())?.subject).toBe("SPRING15X");
    const trail = await app.run("shell:max", "audit subject=SPRING15 limit=100");
    const shown = (trail.reply.table?.rows ?? []).map((r) => r.join(" ")).join("\n");
    for (const ref of refs) expect(shown).toContain(ref);
  });
});
