import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, localDay } from "../src/core/format.js";
import type { InvocationResult } from "../src/core/core.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** salesByDay with `perDay` units on each of the 28 days before the test clock's shop day. */
function sales(perDay: number): Map<string, number> {
  const today = localDay(app.clock.now(), app.config.timeZone);
  const m = new Map<string, number>();
  for (let i = 1; i <= 28; i++) m.set(addDays(today, -i), perDay);
  return m;
}

function order(no: string, code: string | undefined, total: number, discount: number, status = "delivered", customerId = "CUST-1"): Record<string, unknown> {
  const at = new Date("2026-11-20T02:00:00Z");
  return { _id: no, items: [{ sku: "SKU-A1", qty: 1, unitPrice: total + discount }], subtotal: total + discount, discount, shipping: 0, total, currency: "CNY", status, channel: "web", customerId, createdAt: at, day: "2026-11-20", ...(code ? { couponCode: code } : {}) };
}

function fields(r: InvocationResult): Record<string, string> {
  return Object.fromEntries((r.reply.fields ?? []).map((f) => [f.label, f.value]));
}

/** Runs a launch and returns its Confirm and Cancel button commands. */
async function launch(line: string, who = "shell:max"): Promise<{ r: InvocationResult; confirm: string; cancel: string }> {
  const r = await app.run(who, `coupon launch ${line}`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return { r, confirm: r.reply.actions![0]!.id, cancel: r.reply.actions![1]!.id };
}

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany([
    // Apparel: healthy margins, plenty of stock, slow sales.
    product("SKU-A1", { category: "Apparel", price: 10_000, cost: 4_000, onHand: 500, salesByDay: sales(1) }),
    product("SKU-A2", { category: "Apparel", price: 20_000, cost: 8_000, onHand: 500 }),
    // Electronics: thin margin on E1, fast seller E2 with little stock.
    product("SKU-E1", { name: "Thin Margin Phone", category: "Electronics", price: 10_000, cost: 8_000, onHand: 500 }),
    product("SKU-E2", { name: "Hot Earbuds", category: "Electronics", price: 30_000, cost: 10_000, onHand: 20, salesByDay: sales(10) }),
    product("SKU-B1", { category: "Beauty", price: 5_000, cost: 1_000, onHand: 300 }),
  ]);
  await app.store.orders.insertMany([
    order("O-1", "SUMMER10", 9_000, 1_000, "delivered", "CUST-1"),
    order("O-2", "summer10", 18_000, 2_000, "shipped", "CUST-2"),
    order("O-3", "SUMMER10", 4_500, 500, "paid", "CUST-1"),
    order("O-4", "SUMMER10", 9_000, 1_000, "pending", "CUST-3"),
    order("O-5", "SUMMER10", 9_000, 1_000, "cancelled", "CUST-3"),
    order("O-6", undefined, 9_000, 0),
  ]);
});
afterAll(() => app.close());

describe("coupon launch preview", () => {
  it("previews with Confirm/Cancel buttons; nothing is live until confirmed; times are shop time", async () => {
    const { r, confirm, cancel } = await launch("code=apparel15 type=percent value=15 start=2026-12-01 end=2026-12-07 limit=500 per-customer=1 categories=apparel");
    expect(r.reply.title).toBe("Coupon preview: APPAREL15 (nothing is recorded until confirmed)");
    expect(fields(r)).toMatchObject({
      Discount: "15% off",
      "Applies to": "categories Apparel",
      Starts: "2026-12-01 00:00 GMT+8",
      // end=2026-12-07 (stored as 2026-12-08 00:00): the day it ends, as `coupon list` says it (e21).
      Ends: "2026-12-07 (end of day)",
      "Total uses": "500",
      "Per customer": "1",
    });
    expect(r.reply.text).toBe("No warnings: no overlapping coupon, no price below cost, stock covers the expected uplift.");
    expect(confirm).toMatch(/^coupon confirm D-[0-9A-Z]{6} h=[0-9a-f]{8}$/);
    expect(cancel).toMatch(/^coupon cancel D-[0-9A-Z]{6}$/);
    expect(await app.store.coupons.countDocuments()).toBe(0);
    const draft = await app.store.couponDrafts.findById(confirm.split(" ")[2]).lean();
    expect(draft!.startsAt.toISOString()).toBe("2026-11-30T16:00:00.000Z");
    expect((await app.run("shell:max", cancel)).reply.text).toContain("cancelled; nothing was recorded");
    expect((await app.run("shell:max", confirm)).code).toBe("stale_preview");
  });

  it("states every guardrail plainly and changes nothing", async () => {
    const before = await app.store.couponDrafts.countDocuments();
    const cases: [string, string, RegExp][] = [
      ["code=X! type=percent value=10", "bad_code", /use 3–20 letters/],
      ["code=OK10 type=percent value=0", "bad_percent", /from 1 to 90/],
      ["code=OK10 type=percent value=91", "bad_percent", /from 1 to 90/],
      ["code=OK10 type=percent value=-5", "bad_percent", /from 1 to 90/],
      ["code=OK10 type=fixed value=1.234 min=50", "bad_fixed", /use a positive amount in the shop currency, e\.g\. 20 or 19\.90/],
      ["code=OK10 type=fixed value=50 min=50", "fixed_not_below_min", /must be below the minimum spend/],
      ["code=OK10 type=fixed value=50", "fixed_needs_min", /needs a minimum spend above it, or orders could be free: add min=, e\.g\. min=200\./],
      ["code=OK10 type=percent value=10 start=2026-12-05 end=2026-12-01", "end_before_start", /must be after the start/],
      ["code=OK10 type=percent value=10 end=2026-11-01", "end_in_past", /already past/],
      // The test clock is 2026-11-25 12:00 in Shanghai: earlier that day is past too.
      ["code=OK10 type=percent value=10 start=2026-01-01", "start_in_past", /start \(2026-01-01\) is already past\. Leave start out/],
      ["code=OK10 type=percent value=10 start=\"2026-11-25 09:00\"", "start_in_past", /already past/],
      ["code=OK10 type=percent value=10 start=2026-13-45", "bad_date", /start="2026-13-45" is not a time/],
      ["code=OK10 type=percent value=10 start=2026/2/30", "bad_date", /start="2026\/2\/30" is no day of the calendar: 2026-02 has 28 days/],
      ["code=OK10 type=percent value=10 end=soon", "bad_date", /end="soon" is not a time/],
      ["code=OK10 type=percent value=10 skus=SKU-A1,SKU-NOPE", "unknown_skus", /Unknown SKUs: SKU-NOPE/],
      ["code=OK10 type=percent value=10 categories=Garden", "unknown_categories", /Unknown categories: Garden\. Known: Apparel, Beauty, Electronics/],
      ["code=OK10 type=percent value=10 limit=5 per-customer=6", "per_customer_over_limit", /cannot exceed the total limit/],
      ["code=OK10 type=percent value=10 limit=0", "bad_count", /at least 1/],
      ["code=OK10 type=percent value=10 skus=SKU-A1 categories=Apparel", "skus_and_categories", /not both/],
    ];
    for (const [line, code, text] of cases) {
      const r = await app.run("shell:max", `coupon launch ${line}`);
      expect(r.code, line).toBe(code);
      expect(r.reply.text, line).toMatch(text);
    }
    const many = await app.run("shell:max", "coupon launch code=a type=percent value=95 end=yesterday-ish");
    expect(many.code).toBe("coupon_invalid");
    expect(many.reply.text!.split("\n").filter((l) => l.startsWith("•"))).toHaveLength(3);
    expect((await app.run("shell:max", "coupon launch code=OK10 type=half value=10")).code).toBe("invalid_args");
    expect(await app.store.couponDrafts.countDocuments()).toBe(before);
    expect(await app.store.coupons.countDocuments()).toBe(0);
  });

  it("warns about prices below cost with the worst margin, and stock that would not cover the uplift", async () => {
    const { r } = await launch("code=ELEC30 type=percent value=30 end=+7d categories=electronics");
    expect(r.reply.status).toBe("warning");
    // E1: 100.00 − 30% = 70.00 against a cost of 80.00: margin (70 − 80) / 70 = −14.3%.
    expect(r.reply.text).toContain("⚠ 1 targeted product would sell below cost; worst: SKU-E1 Thin Margin Phone at CN¥70.00 against a cost of CN¥80.00 (margin −14.3%).");
    // E2 sells 10/day: 7 days × 10 × 1.3 = 91 expected against 20 available.
    expect(r.reply.text).toContain("⚠ 1 targeted product may run out: stock would not cover usual sales plus the expected uplift (SKU-E2: 20 available, about 91 expected).");
    const fixed = await launch("code=TENOFF type=fixed value=30 min=40 skus=SKU-B1,SKU-A1");
    // B1 50.00 in a 50.00 basket: 30.00 off → 20.00 ≥ cost 10.00; A1 100.00: 30% off → 70.00 ≥ 40.00.
    expect(fixed.r.reply.text).not.toContain("would sell below cost");
  });

  it("lists take Chinese full-width commas and the ideographic comma as separators", async () => {
    const cats = await launch("code=LISTS1 type=percent value=5 categories=apparel，beauty");
    expect(fields(cats.r)["Applies to"]).toBe("categories Apparel, Beauty");
    const skus = await launch("code=LISTS2 type=percent value=5 skus=SKU-A1、SKU-B1，sku-a2");
    expect(fields(skus.r)["Applies to"]).toBe("SKUs SKU-A1, SKU-A2, SKU-B1");
    const zh = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon launch code=LISTS3 type=percent value=5 categories=家居，厨房", locale: "zh-CN" });
    expect(zh.code).toBe("unknown_categories");
    expect(zh.reply.text).toContain("未知类目：家居、厨房。");
    // A category whose own name holds a separator stays one category.
    await app.store.products.insertMany([product("SKU-Z1", { category: "母婴、玩具", price: 5_000, cost: 1_000, onHand: 300 })]);
    try {
      const named = await launch("code=LISTS4 type=percent value=5 categories=母婴、玩具、Beauty");
      expect(fields(named.r)["Applies to"]).toBe("categories Beauty, 母婴、玩具");
      await app.run("shell:max", named.cancel);
    } finally {
      await app.store.products.deleteOne({ _id: "SKU-Z1" });
    }
    for (const l of [cats, skus]) await app.run("shell:max", l.cancel);
  });

  it("numbers typed on a Chinese keyboard (full-width) read as their plain spelling: percent, amounts, limits", async () => {
    const wide = await launch("code=ＷＩＤＥ1 type=percent value=１５ limit=５００ per-customer=１ min=１，０００ skus=ＳＫＵ-A1");
    const plain = await launch("code=WIDE2 type=percent value=15 limit=500 per-customer=1 min=1,000 skus=SKU-A1");
    const shown = (r: InvocationResult) => Object.entries(fields(r)).filter(([k]) => k !== "Code");
    expect(wide.r.outcome).toBe("ok");
    expect(wide.r.reply.title).toContain("WIDE1");
    // Confirmed, it is found by the code typed full-width again.
    expect((await app.run("shell:max", wide.confirm)).outcome).toBe("ok");
    expect((await app.run("shell:sam", "coupon show ＷＩＤＥ1")).reply.title).toContain("WIDE1");
    expect((await app.run("shell:max", "coupon pause ＷＩＤＥ1")).outcome).toBe("ok");
    await app.store.coupons.deleteOne({ _id: "WIDE1" }); // not part of the later tests' lists
    expect(shown(wide.r)).toEqual(shown(plain.r));
    for (const l of [wide, plain]) await app.run("shell:max", l.cancel);
  });

  it("a fixed discount's share of the minimum basket below cost is flagged", async () => {
    const { r } = await launch("code=BIGCUT type=fixed value=90 min=100 skus=SKU-A2");
    // A2 200.00: 90 × 200 / 200 = 90.00 off → 110.00 ≥ cost 80.00: no warning; now a cut that goes under.
    expect(r.reply.text).not.toContain("would sell below cost");
    const deep = await launch("code=DEEPCUT type=fixed value=190 min=200 skus=SKU-A2");
    expect(deep.r.reply.text).toContain("SKU-A2");
    expect(deep.r.reply.text).toContain("at CN¥10.00 against a cost of CN¥80.00");
  });
});

describe("coupon confirm", () => {
  it("confirm launches once, even when clicks race; codes are unique case-insensitively", async () => {
    const { confirm } = await launch("code=Winter20 type=percent value=20 end=2026-12-31 skus=SKU-A1");
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => app.run(i % 2 ? "shell:max" : "shell:mia", confirm)));
    expect(runs.filter((r) => r.reply.title === "Coupon WINTER20 launched in shopops")).toHaveLength(1);
    expect(runs.filter((r) => r.code === "already_confirmed")).toHaveLength(9);
    const c = await app.store.coupons.findById("WINTER20").lean();
    expect(c).toMatchObject({ type: "percent", value: 20, status: "active", skus: ["SKU-A1"], createdBy: "shell:max" });
    expect(await app.store.coupons.countDocuments({ _id: /WINTER20/i })).toBe(1);
    const dup = await app.run("shell:max", "coupon launch code=winter20 type=percent value=10");
    expect(dup.code).toBe("code_taken");
    expect(dup.reply.text).toContain("Code WINTER20 already exists");
  });

  it("refuses an edited, superseded or expired preview", async () => {
    const first = await launch("code=FALL5 type=percent value=5");
    const edited = first.confirm.replace(/h=([0-9a-f]{8})/, (_, h: string) => `h=${h.startsWith("0") ? "1" : "0"}${h.slice(1)}`);
    const e = await app.run("shell:max", edited);
    expect(e.code).toBe("stale_preview");
    expect(e.reply.text).toContain("does not match its preview");
    const second = await launch("code=FALL5 type=percent value=50");
    const old = await app.run("shell:max", first.confirm);
    expect(old.code).toBe("stale_preview");
    expect(old.reply.text).toContain("replaced by a newer one");
    app.clock.advance(31 * 60_000);
    try {
      const late = await app.run("shell:max", second.confirm);
      expect(late.reply.text).toContain("more than 30 minutes old");
    } finally {
      app.clock.advance(-31 * 60_000);
    }
    expect(await app.store.coupons.exists({ _id: "FALL5" })).toBeNull();
    expect((await app.run("shell:max", "coupon confirm D-NOPE00 h=12345678")).code).toBe("unknown_preview");
  });

  it("warns when a new coupon overlaps an active one on the same products", async () => {
    const { r } = await launch("code=SHOES5 type=percent value=5 skus=SKU-A1,SKU-B1");
    expect(r.reply.text).toContain("⚠ Overlaps other coupons on the same products: WINTER20 (active).");
    // A paused one overlaps too, and is named as paused, not active.
    await app.store.coupons.updateOne({ _id: "WINTER20" }, { $set: { status: "paused" } });
    expect((await launch("code=SHOES6 type=percent value=5 skus=SKU-A1")).r.reply.text).toContain("⚠ Overlaps other coupons on the same products: WINTER20 (paused).");
    await app.store.coupons.updateOne({ _id: "WINTER20" }, { $set: { status: "active" } });
    const whole = await launch("code=ALL5 type=percent value=5");
    expect(whole.r.reply.text).toContain("WINTER20");
    const other = await launch("code=BEAUTY5 type=percent value=5 categories=Beauty");
    expect(other.r.reply.text).not.toContain("Overlaps");
  });

  it("staff cannot launch, confirm or pause", async () => {
    expect((await app.run("shell:sam", "coupon launch code=NOPE1 type=percent value=5")).code).toBe("permission_denied");
    expect((await app.run("shell:sam", "coupon pause WINTER20")).code).toBe("permission_denied");
  });
});

describe("coupon life cycle and figures", () => {
  it("shows uses, orders, revenue, discount given and remaining uses from paid orders", async () => {
    const { confirm } = await launch("code=SUMMER10 type=percent value=10 limit=100");
    expect((await app.run("shell:max", confirm)).outcome).toBe("ok");
    // The orders carrying the code were placed before the coupon existed (the storefront ran
    // the code on its own): they are not this coupon's uses, and the reply says so.
    const before = await app.run("shell:sam", "coupon show summer10");
    expect(fields(before)).toMatchObject({ Uses: "Not used yet", "Remaining uses": "100" });
    expect(before.reply.context).toEqual(["3 paid orders carry the code but were placed outside the coupon's dates: not counted here."]);
    await app.store.orders.updateMany({ _id: { $in: ["O-1", "O-2", "O-3", "O-4", "O-5"] } }, { $set: { createdAt: app.clock.now() } });
    const r = await app.run("shell:sam", "coupon show summer10");
    expect(r.reply.title).toBe("Coupon SUMMER10: active");
    // Paid statuses only (delivered, shipped, paid); the code matches in any case.
    expect(fields(r)).toMatchObject({
      Uses: "3",
      "Orders (customers)": "3 (2 customers)",
      "Revenue of those orders": "CN¥315.00",
      "Discount given": "CN¥35.00",
      "Refunded (net)": "CN¥0.00 (CN¥315.00 net)",
      "Remaining uses": "97",
    });
    expect(r.reply.context ?? []).toEqual([]);
    // A use in another currency counts as a use but is not added to CNY money.
    await app.store.orders.insertMany([{ ...order("O-7", "SUMMER10", 5_000, 500, "paid", "CUST-4"), currency: "USD", createdAt: app.clock.now() }]);
    const mixed = await app.run("shell:sam", "coupon show SUMMER10");
    expect(fields(mixed)).toMatchObject({ Uses: "4", "Revenue of those orders": "CN¥315.00", "Discount given": "CN¥35.00" });
    expect(mixed.reply.context).toEqual(["Uses in another currency than CNY: 1 (counted in uses, left out of revenue and discount)."]);
    await app.store.orders.deleteOne({ _id: "O-7" });
    // A partial refund shows in the net; past the limit, the overrun is shown, not hidden as 0.
    await app.store.orders.updateOne({ _id: "O-2" }, { $set: { refundedTotal: 8_000 } });
    expect(fields(await app.run("shell:sam", "coupon show SUMMER10"))["Refunded (net)"]).toBe("CN¥80.00 (CN¥235.00 net)");
    await app.store.orders.updateOne({ _id: "O-2" }, { $set: { refundedTotal: 0 } });
    await app.store.coupons.updateOne({ _id: "SUMMER10" }, { $set: { limit: 2 } });
    expect(fields(await app.run("shell:sam", "coupon show SUMMER10"))["Remaining uses"]).toBe("none: 1 over the limit");
    await app.store.coupons.updateOne({ _id: "SUMMER10" }, { $set: { limit: 100 } });
    // So is a customer past the per-customer limit: named, with their uses.
    const twice = [...(await app.store.orders.find({ couponCode: /^summer10$/i, status: { $in: ["paid", "shipped", "delivered"] } }).lean())]
      .reduce((m, o) => m.set(o.customerId, (m.get(o.customerId) ?? 0) + 1), new Map<string, number>());
    const [heavy] = [...twice].find(([, n]) => n === 2)!;
    await app.store.coupons.updateOne({ _id: "SUMMER10" }, { $set: { perCustomer: 1 } });
    expect((await app.run("shell:sam", "coupon show SUMMER10")).reply.context).toEqual([`Customers over the per-customer limit (1), with their uses: ${heavy} (2). The storefront enforces limits; shopops only reports them.`]);
    await app.store.coupons.updateOne({ _id: "SUMMER10" }, { $set: { perCustomer: 2 } });
    expect((await app.run("shell:sam", "coupon show SUMMER10")).reply.context ?? []).toEqual([]);
    await app.store.coupons.updateOne({ _id: "SUMMER10" }, { $unset: { perCustomer: 1 } });
    expect((await app.run("shell:sam", "coupon show NOSUCH")).code).toBe("unknown_coupon");
  });

  it("pause, resume and expire are guarded transitions; lists follow the state", async () => {
    const { confirm } = await launch("code=LATER10 type=percent value=10 start=2026-12-20 end=2026-12-24 skus=SKU-B1");
    await app.run("shell:max", confirm);
    const active = await app.run("shell:sam", "coupon list active");
    expect(active.reply.table!.rows.map((r) => r[0])).toEqual(expect.arrayContaining(["WINTER20", "SUMMER10"]));
    expect(active.reply.table!.rows.map((r) => r[0])).not.toContain("LATER10");
    const scheduled = await app.run("shell:sam", "coupon list scheduled");
    expect(scheduled.reply.table!.rows.map((r) => r[0])).toEqual(["LATER10"]);
    expect(scheduled.reply.table!.rows[0]![3]).toBe("2026-12-20 → 2026-12-24"); // end=2026-12-24 includes the 24th

    expect((await app.run("shell:max", "coupon pause winter20")).reply.text).toMatch(/^Coupon WINTER20 paused in shopops/);
    // Already as asked: information (exit 0), not an error.
    const again = await app.run("shell:max", "coupon pause WINTER20");
    expect([again.outcome, again.code, again.reply.status, again.reply.text]).toEqual(["ok", "already_paused", "info", "WINTER20 is already paused; nothing changed."]);
    const zhAgain = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon pause WINTER20", locale: "zh-CN" });
    expect([zhAgain.code, zhAgain.reply.text]).toEqual(["already_paused", "WINTER20 已处于暂停状态，未做任何更改。"]);
    expect((await app.run("shell:sam", "coupon show WINTER20")).reply.title).toBe("Coupon WINTER20: paused");
    const resumes = await Promise.all(Array.from({ length: 5 }, () => app.run("shell:max", "coupon resume WINTER20")));
    expect(resumes.filter((r) => r.reply.status === "ok")).toHaveLength(1);
    expect(resumes.filter((r) => r.code === "already_active" && r.reply.status === "info")).toHaveLength(4);
    expect(resumes.find((r) => r.code)!.reply.text).toBe("WINTER20 is already active; nothing changed.");
    const zhActive = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon resume WINTER20", locale: "zh-CN" });
    expect([zhActive.code, zhActive.reply.text]).toEqual(["already_active", "WINTER20 已在生效中，未做任何更改。"]);
    const notPaused = await app.run("shell:max", "coupon resume LATER10");
    expect([notPaused.outcome, notPaused.code, notPaused.reply.text]).toEqual(["ok", "already_active", "LATER10 is not paused: it is scheduled and goes live at its start; nothing changed."]);
    expect((await app.run("shell:max", "coupon expire WINTER20")).outcome).toBe("ok");
    // A real refusal stays an error, with its reason.
    const ended = await app.run("shell:max", "coupon resume WINTER20");
    expect([ended.outcome, ended.code, ended.reply.status]).toEqual(["user_error", "wrong_state", "error"]);
    expect(ended.reply.text).toBe("Coupon WINTER20 has ended; an ended coupon cannot be resumed. Nothing changed. To run it again, launch a new coupon.");
    const expired = await app.run("shell:sam", "coupon list expired");
    expect(expired.reply.table!.rows.map((r) => r[0])).toEqual(["WINTER20"]);
    const c = await app.store.coupons.findById("WINTER20").lean();
    expect(c!.history.map((h) => h.action)).toEqual(["launched", "pause", "resume", "expire"]);
    expect(c!.endsAt!.getTime()).toBe(app.clock.now().getTime());
    // One without an end gets its end now too, in the same update as the status.
    const { confirm: c2 } = await launch("code=NOEND5 type=percent value=5 skus=SKU-B1");
    await app.run("shell:max", c2);
    expect((await app.run("shell:max", "coupon expire NOEND5")).outcome).toBe("ok");
    expect(await app.store.coupons.findById("NOEND5").lean()).toMatchObject({ status: "expired", endsAt: app.clock.now() });
    expect((await app.run("shell:max", "coupon expire NOSUCH")).code).toBe("unknown_coupon");
    // Ended by its date: expire says so instead of claiming the end (nothing changes).
    const { confirm: c3 } = await launch("code=SHORT5 type=percent value=5 end=+2h skus=SKU-B1");
    await app.run("shell:max", c3);
    const start = app.clock.now();
    app.clock.set(new Date(start.getTime() + 3 * 3_600_000));
    try {
      const late = await app.run("shell:max", "coupon expire SHORT5");
      expect([late.outcome, late.code, late.reply.status, late.reply.text]).toEqual(["ok", "already_expired", "info", "SHORT5 has already ended; nothing changed."]);
      const zhLate = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon expire SHORT5", locale: "zh-CN" });
      expect([zhLate.code, zhLate.reply.text]).toEqual(["already_expired", "SHORT5 已经结束，未做任何更改。"]);
      const zh = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon pause SHORT5", locale: "zh-CN" });
      expect([zh.code, zh.reply.status]).toEqual(["wrong_state", "error"]);
      expect(zh.reply.text).toBe("优惠券 SHORT5 已结束，已结束的优惠券无法暂停。未做任何更改。如需再次使用，请发布新的优惠券。");
      expect((await app.store.coupons.findById("SHORT5").lean())!.history.map((h) => h.action)).toEqual(["launched"]);
    } finally {
      app.clock.set(start);
    }
    expect(await app.store.audit.countDocuments({ command: /^coupon (pause|resume|expire)$/ })).toBeGreaterThanOrEqual(9);
  });

  it("pause, resume and expire replies say the change is recorded in shopops only, not in the storefront", async () => {
    const { confirm } = await launch("code=HONEST5 type=percent value=5 skus=SKU-B1");
    const launched = await app.run("shell:max", confirm);
    expect(launched.reply.text).toContain("it does not set up discounts. Create the code in the storefront");
    const pause = await app.run("shell:max", "coupon pause HONEST5");
    expect(pause.reply.text).toBe(
      "Coupon HONEST5 paused in shopops (reports, `coupon show`, alerts). shopops does not reach the storefront: pause the code there too, or it keeps being accepted. Orders with the code placed while paused are shown apart in `coupon show`.",
    );
    expect(pause.reply.text).not.toContain("no longer applies");
    const resume = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon resume HONEST5", locale: "zh-CN" });
    expect(resume.reply.text).toBe("优惠券 HONEST5 已在 shopops 中恢复。如果在店铺后台暂停过，请也在那里恢复。");
    const zhPause = await app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon pause HONEST5", locale: "zh-CN" });
    expect(zhPause.reply.text).toContain("请也在店铺后台暂停该券码，否则店铺仍会接受它");
    await app.run("shell:max", "coupon resume HONEST5");
    const expire = await app.run("shell:max", "coupon expire HONEST5");
    expect(expire.reply.text).toBe("Coupon HONEST5 ended in shopops, for good (its end is now). shopops does not reach the storefront: end the code there too, or it keeps being accepted.");
  });

  it("orders placed while the coupon was paused in shopops are shown apart, not counted as uses", async () => {
    const t0 = app.clock.now();
    const at = (min: number) => new Date(t0.getTime() + min * 60_000);
    const { confirm } = await launch("code=LEAK20 type=percent value=20 skus=SKU-B1");
    await app.run("shell:max", confirm);
    try {
      // Paused from +60 to +120 min, paused again from +180 min on.
      app.clock.set(at(60));
      expect((await app.run("shell:max", "coupon pause LEAK20")).outcome).toBe("ok");
      app.clock.set(at(120));
      expect((await app.run("shell:max", "coupon resume LEAK20")).outcome).toBe("ok");
      app.clock.set(at(180));
      expect((await app.run("shell:max", "coupon pause LEAK20")).outcome).toBe("ok");
      app.clock.set(at(240));
      const placed: [string, number, string][] = [
        ["O-L1", 30, "CUST-1"], // active: a use
        ["O-L2", 60, "CUST-2"], // at the pause: apart
        ["O-L3", 90, "CUST-3"], // paused: apart
        ["O-L4", 120, "CUST-4"], // at the resume: a use
        ["O-L5", 200, "CUST-5"], // paused again, still paused: apart
      ];
      await app.store.orders.insertMany(placed.map(([no, min, cust]) => ({ ...order(no, "leak20", 4_000, 1_000, "paid", cust), createdAt: at(min) })));
      const r = await app.run("shell:sam", "coupon show LEAK20");
      expect(r.reply.title).toBe("Coupon LEAK20: paused");
      expect(fields(r)).toMatchObject({ Uses: "2", "Orders (customers)": "2 (2 customers)", "Revenue of those orders": "CN¥80.00", "Discount given": "CN¥20.00" });
      expect(r.reply.context).toEqual([
        "3 paid orders carry the code but were placed while the coupon was paused in shopops: not counted here (the storefront kept accepting the code).",
        "Paused in shopops only: the storefront accepts the code until it is paused there too.",
      ]);
      // The list's use count follows the same rule.
      const list = await app.run("shell:sam", "coupon list paused");
      expect(list.reply.table!.rows.find((row) => row[0] === "LEAK20")![4]).toBe("2");
      const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "coupon show LEAK20", locale: "zh-CN" });
      expect(zh.reply.context![0]).toBe("有 3 笔已付款订单带有该券码，但下单时优惠券在 shopops 中处于暂停状态：未计入此处（店铺仍接受了该券码）。");
      // Expiring while paused closes the pause; later orders are outside its dates.
      expect((await app.run("shell:max", "coupon expire LEAK20")).outcome).toBe("ok");
      await app.store.orders.insertMany([{ ...order("O-L6", "LEAK20", 4_000, 1_000, "paid", "CUST-6"), createdAt: at(300) }]);
      app.clock.set(at(360));
      const after = await app.run("shell:sam", "coupon show LEAK20");
      expect(fields(after).Uses).toBe("2");
      expect(after.reply.context).toEqual([
        "1 paid order carries the code but was placed outside the coupon's dates: not counted here.",
        "3 paid orders carry the code but were placed while the coupon was paused in shopops: not counted here (the storefront kept accepting the code).",
      ]);
    } finally {
      app.clock.set(t0);
      await app.store.orders.deleteMany({ _id: /^O-L/ });
    }
  });

  it("expiring a coupon before its start makes it one that never ran: start and end are the expiry time", async () => {
    const now = app.clock.now();
    const planned = new Date("2026-12-09T16:00:00Z"); // 2026-12-10 00:00 shop time
    for (const code of ["SCHED1", "SCHED2"]) await app.run("shell:max", (await launch(`code=${code} type=percent value=5 start=2026-12-10 end=2026-12-12 skus=SKU-B1`)).confirm);
    try {
      const r = await app.run("shell:max", "coupon expire SCHED1");
      expect([r.outcome, r.reply.status]).toEqual(["ok", "ok"]);
      expect(r.reply.text).toBe(
        "Coupon SCHED1 ended in shopops before its start (2026-12-10 00:00 GMT+8): it never went live. shopops does not reach the storefront: if the code is set up there, remove it too, or it is accepted from 2026-12-10 00:00 GMT+8.",
      );
      const c = (await app.store.coupons.findById("SCHED1").lean())!;
      expect([c.status, c.startsAt.getTime(), c.endsAt!.getTime()]).toEqual(["expired", now.getTime(), now.getTime()]);
      // The history keeps the start it was to have.
      expect(c.history.map((h) => [h.action, h.at!.getTime()])).toEqual([
        ["launched", now.getTime()],
        ["expire", now.getTime()],
        ["start_cancelled", planned.getTime()],
      ]);
      // A paused one not started yet too; concurrent expires end it once, the others are told.
      expect((await app.run("shell:max", "coupon pause SCHED2")).outcome).toBe("ok");
      const all = await Promise.all(Array.from({ length: 3 }, () => app.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon expire SCHED2", locale: "zh-CN" })));
      expect(all.filter((x) => x.reply.status === "ok").map((x) => x.reply.text)).toEqual([
        "优惠券 SCHED2 在开始时间（2026-12-10 00:00 GMT+8）之前已在 shopops 中结束：它从未生效。shopops 不会操作店铺：如果已在店铺后台设置了该券码，请也在那里删除，否则从 2026-12-10 00:00 GMT+8 起店铺仍会接受它。",
      ]);
      expect(all.filter((x) => x.code === "already_expired")).toHaveLength(2);
      const c2 = (await app.store.coupons.findById("SCHED2").lean())!;
      expect([c2.startsAt.getTime(), c2.endsAt!.getTime()]).toEqual([now.getTime(), now.getTime()]);
      expect(c2.history.map((h) => h.action)).toEqual(["launched", "pause", "expire", "start_cancelled"]);
      // Shown as never having run, not as a run that ends before it starts.
      const list = await app.run("shell:sam", "coupon list expired");
      const rows = list.reply.table!.rows.filter((row) => row[0]!.startsWith("SCHED"));
      expect(rows.map((row) => row[3])).toEqual(["never ran (ended 2026-11-25)", "never ran (ended 2026-11-25)"]);
      const show = await app.run("shell:sam", "coupon show SCHED1");
      expect(show.reply.title).toBe("Coupon SCHED1: expired");
      expect(fields(show)).toMatchObject({ Starts: "never (was to start 2026-12-10 00:00 GMT+8)", Ends: "2026-11-25 12:00 GMT+8", Uses: "Never used" });
      const zhShow = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "coupon show SCHED1", locale: "zh-CN" });
      expect(zhShow.reply.fields!.find((f) => f.label === "开始")!.value).toBe("从未开始（原定 2026-12-10 00:00 GMT+8）");
      // Its planned start passing announces nothing: it never goes live.
      expect((await app.services.coupon.scheduleDue(new Date("2026-12-11T00:00:00Z"), now)).map((d) => d.coupon._id)).not.toContain("SCHED1");
    } finally {
      await app.store.coupons.deleteMany({ _id: { $in: ["SCHED1", "SCHED2"] } });
    }
  });
});

describe("coupon dates", () => {
  it("a start on today's date starts now; end=+7d counts from the start, in calendar days", async () => {
    const today = await launch("code=TODAY5 type=percent value=5 start=2026-11-25 end=+7d skus=SKU-B1");
    const d = (await app.store.couponDrafts.findOne({ code: "TODAY5" }).lean())!;
    expect(d.startsAt.getTime()).toBe(app.clock.now().getTime());
    expect(d.endsAt!.getTime()).toBe(app.clock.now().getTime() + 7 * 86_400_000);
    await app.run("shell:max", today.cancel);
    await launch("code=LATER7 type=percent value=7 start=2026-12-01 end=+7d skus=SKU-B1");
    const later = (await app.store.couponDrafts.findOne({ code: "LATER7" }).lean())!;
    // 2026-12-01 00:00 in Shanghai, and 7 days after it.
    expect([later.startsAt.toISOString(), later.endsAt!.toISOString()]).toEqual(["2026-11-30T16:00:00.000Z", "2026-12-07T16:00:00.000Z"]);
  });

  it("without start=, the coupon starts when it is confirmed, not when it was previewed", async () => {
    const t0 = app.clock.now();
    const { r, confirm } = await launch("code=GAP10 type=percent value=10 end=2026-12-31 skus=SKU-B1");
    expect(fields(r).Starts).toBe("when confirmed");
    try {
      app.clock.set(new Date(t0.getTime() + 20 * 60_000));
      const c = await app.run("shell:max", confirm);
      expect(c.outcome).toBe("ok");
      expect(fields(c).Starts).toBe("2026-11-25 12:20 GMT+8");
      const stored = (await app.store.coupons.findById("GAP10").lean())!;
      expect(stored.startsAt.getTime()).toBe(t0.getTime() + 20 * 60_000);
      // An order with the code between preview and Confirm is not a use of the coupon.
      await app.store.orders.insertMany([{ ...order("O-G1", "GAP10", 4_000, 500, "paid"), createdAt: new Date(t0.getTime() + 10 * 60_000) }]);
      const show = await app.run("shell:sam", "coupon show GAP10");
      expect(fields(show).Uses).toBe("Not used yet");
      expect(show.reply.context).toEqual(["1 paid order carries the code but was placed outside the coupon's dates: not counted here."]);
      // start=now means the same; a later start stays as typed.
      app.clock.set(t0);
      const now = await launch("code=GAP11 type=percent value=10 start=now skus=SKU-B1");
      const later = await launch("code=GAP12 type=percent value=10 start=\"2026-11-25 12:10\" skus=SKU-B1");
      expect(fields(later.r).Starts).toBe("2026-11-25 12:10 GMT+8");
      app.clock.set(new Date(t0.getTime() + 20 * 60_000));
      await app.run("shell:max", now.confirm);
      await app.run("shell:max", later.confirm);
      expect((await app.store.coupons.findById("GAP11").lean())!.startsAt.getTime()).toBe(t0.getTime() + 20 * 60_000);
      expect((await app.store.coupons.findById("GAP12").lean())!.startsAt.getTime()).toBe(t0.getTime() + 10 * 60_000);
    } finally {
      app.clock.set(t0);
      await app.store.orders.deleteOne({ _id: "O-G1" });
      await app.store.coupons.deleteMany({ _id: { $in: ["GAP10", "GAP11", "GAP12"] } });
    }
  });

  it("a preview whose end passes before its Confirm launches nothing", async () => {
    const { confirm } = await launch("code=BRIEF3 type=percent value=3 end=+1h skus=SKU-B1");
    const start = app.clock.now();
    app.clock.set(new Date(start.getTime() + 61 * 60_000));
    try {
      const r = await app.run("shell:max", confirm);
      expect(r.code).toBe("stale_preview");
      expect(r.reply.text).toContain("end has passed since its preview");
      expect(await app.store.coupons.findById("BRIEF3").lean()).toBeNull();
    } finally {
      app.clock.set(start);
    }
  });
});

describe("coupon list", () => {
  it("past 30 coupons, a line says how many were left out (the title counts them all)", async () => {
    const template = (await app.store.coupons.findById("LATER10").lean())!;
    const before = (await app.run("shell:sam", "coupon list scheduled")).reply.table!.rows.length;
    const ids = Array.from({ length: 35 - before }, (_, i) => `MANY${String(i).padStart(2, "0")}`);
    await app.store.coupons.insertMany(ids.map((_id) => ({ ...template, _id })));
    try {
      const r = await app.run("shell:sam", "coupon list scheduled");
      expect(r.reply.title).toBe("Coupons: 35");
      expect(r.reply.table!.rows).toHaveLength(30);
      expect(r.reply.context).toEqual(["Showing 30 of 35; 5 more not shown. Narrow the list: `coupon list active`, `coupon list scheduled`, `coupon list paused` or `coupon list expired`."]);
    } finally {
      await app.store.coupons.deleteMany({ _id: { $in: ids } });
    }
  });
});
