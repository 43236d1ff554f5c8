import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// Numbers, identities, blank text and dates as typed: each is read as written, or refused
// with a message that says so, and a refusal changes nothing. The clock is 2026-11-25 12:00 in
// Asia/Shanghai.

const ZWSP = "\u200b";
let app: TestApp;
const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });
const onHand = async (sku: string) => (await app.store.products.findById(sku).lean())!.onHand;
const po = async (sku: string) => (await app.store.stockAlerts.findById(sku).lean())?.po;

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-A1", { onHand: 50 }), product("SKU-A2", { onHand: 50 })]);
  await app.store.orders.insertMany([paidOrder("ORD-A1", 10_000)]);
});
afterAll(() => app.close());

describe("whole numbers", () => {
  it("refuses 0x10, 1e3, 0b11 and 1.0 as not a number instead of reading them as other numbers", async () => {
    for (const [qty, says] of [["0x10", "a number"], ["1e3", "a number"], ["0b11", "a number"], ["1.0", "a whole number"], ["２.０", "a whole number"]]) {
      const r = await app.run("shell:admin", `stock po SKU-A1 eta=+10d qty=${qty}`);
      expect(r, qty).toMatchObject({ outcome: "user_error", code: "invalid_args" });
      expect(r.reply.text, qty).toContain(`qty=: "${qty}" is not ${says}`);
    }
    expect(await po("SKU-A1")).toBeUndefined();
    const page = await app.run("shell:admin", "refund list all page=1e1");
    expect(page.code).toBe("invalid_args");
    expect(page.reply.text).toContain('"1e1" is not a page number from 1 to 10000');
    const limit = await app.run("shell:admin", "audit limit=0x05");
    expect(limit.code).toBe("invalid_args");
    expect(limit.reply.text).toContain('limit=: "0x05" is not a number');
    // Digits, full-width ones and a sign still read.
    expect((await app.run("shell:admin", "stock po SKU-A1 eta=+10d qty=２０")).reply.text).toMatch(/^PO recorded for SKU-A1 \(20 units\)/);
    expect((await po("SKU-A1"))?.qty).toBe(20);
    expect((await app.run("shell:admin", "audit limit=+3")).reply.table?.rows.length).toBe(3);
  });

  it("(zh) refuses superscript and circled digits rather than reading +1² as +12 or ⑤⓪ as 50", async () => {
    const sup = await zh("stock adjust SKU-A2 +1² reason=上标");
    expect(sup.code).toBe("invalid_args");
    expect(sup.reply.text).toContain('"+1²" 不是');
    const circled = await zh("refund request ORD-A1 ⑤⓪ reason=x");
    expect(circled).toMatchObject({ outcome: "user_error", code: "bad_amount" });
    expect(circled.reply.text).toContain('"⑤⓪"');
    const count = await zh("coupon launch code=SUP1 type=percent value=1⁰");
    expect(count.outcome).not.toBe("ok");
    expect(await onHand("SKU-A2")).toBe(50);
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-A1" })).toBe(0);
    expect(await app.store.couponDrafts.countDocuments({ code: "SUP1" })).toBe(0);
    // Full-width digits and signs still read.
    expect((await zh("stock adjust SKU-A2 ＋２ reason=全角")).outcome).toBe("ok");
    expect(await onHand("SKU-A2")).toBe(52);
  });
});

describe("identities", () => {
  it("reads an identity with a pasted zero-width space or spaces around it, in role and complaint commands alike", async () => {
    const r = await app.run("shell:admin", `role grant shell:bob${ZWSP} support`);
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(await app.services.identity.roleOf("shell:bob")).toBe("support");
    const spaced = await app.run("shell:admin", 'role grant " shell:carl " support');
    expect(spaced.outcome, spaced.reply.text).toBe("ok");
    expect(await app.services.identity.roleOf("shell:carl")).toBe("support");
    expect((await app.run("shell:admin", "complaint new customer=CUST-1 parcel late")).outcome).toBe("ok");
    const c = (await app.store.complaints.findOne({ customerId: "CUST-1" }).lean())!;
    const a = await app.run("shell:admin", `complaint assign ${c._id} shell:bob${ZWSP}`);
    expect(a.outcome, a.reply.text).toBe("ok");
    expect((await app.store.complaints.findById(c._id).lean())!.assignee).toBe("shell:bob");
    // Still refused when it is no identity, nothing stored.
    const bad = await app.run("shell:admin", "complaint assign " + c._id + " bob");
    expect(bad.reply.text).toContain('"bob" is not an identity');
  });
});

describe("blank text", () => {
  it("refuses a reason made only of Hangul fillers, a blank braille pattern or tag characters, and keeps a flag", async () => {
    for (const blank of ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u{E0020}\u{E0041}", `\u3164${ZWSP}\u2800`]) {
      const r = await app.run("shell:admin", `stock adjust SKU-A2 +1 reason=${blank}`);
      expect(r.code, JSON.stringify(blank)).toBe("invalid_args");
      expect(r.reply.text).toContain("reason=: cannot be empty");
    }
    expect(await onHand("SKU-A2")).toBe(52);
    // A subdivision flag ends with tag characters: it is text.
    const flag = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    expect((await app.run("shell:admin", `complaint new customer=${flag} wrong flag printed`)).outcome).toBe("ok");
    expect(await app.store.complaints.countDocuments({ customerId: flag })).toBe(1);
  });
});

describe("dates", () => {
  it("reads 2026年11月25号 and a time right after 日, and ignores a pasted zero-width space", async () => {
    expect((await zh("stock po SKU-A1 eta=2026年11月30号")).outcome).toBe("ok");
    expect((await po("SKU-A1"))?.eta).toBe("2026-11-30");
    const start = await zh("coupon launch code=DT1 type=percent value=10 start=12月12日10:00 end=2026年12月13号");
    expect(start.outcome, start.reply.text).toBe("ok");
    const draft = (await app.store.couponDrafts.findOne({ code: "DT1" }).lean())!;
    expect(draft.startsAt?.toISOString()).toBe("2026-12-12T02:00:00.000Z");
    expect(draft.endsAt?.toISOString()).toBe("2026-12-13T16:00:00.000Z");
    expect((await app.run("shell:admin", `stock po SKU-A1 eta=+5d${ZWSP}`)).outcome).toBe("ok");
    expect((await po("SKU-A1"))?.eta).toBe("2026-11-30");
    expect((await app.run("shell:admin", `audit since=2026-11-24${ZWSP}`)).outcome).toBe("ok");
    const digest = await app.run("shell:admin", `digest 2026-11-24${ZWSP}`);
    expect(digest.outcome, digest.reply.text).toBe("ok");
    expect(digest.reply.title).toContain("2026-11-24");
  });

  it("(zh) names the Chinese forms a PO's arrival and a coupon's times take", async () => {
    const eta = await zh("stock po SKU-A2 eta=下周");
    expect(eta.code).toBe("invalid_args");
    expect(eta.reply.text).toMatch(/2026年12月5日.*12月5日.*\+10天/);
    const when = await zh("coupon launch code=DT2 type=percent value=10 start=下周");
    expect(when.outcome).toBe("user_error");
    expect(when.reply.text).toMatch(/2026年12月1日.*12月1日.*\+7天/);
    expect(await po("SKU-A2")).toBeUndefined();
    expect(await app.store.couponDrafts.countDocuments({ code: "DT2" })).toBe(0);
  });

  it("names the limit of a span too long, and refuses +1000d as too far ahead like +999d", async () => {
    const since = await app.run("shell:admin", "audit since=99999d");
    expect(since.code).toBe("invalid_args");
    expect(since.reply.text).toContain('"99999d" is too long a span: at most 9999 days (9999d) or 9999 hours (9999h)');
    expect((await zh("audit since=99999天")).reply.text).toContain("最多 9999 天");
    for (const span of ["+999d", "+1000d", "+99999999999d"]) {
      const r = await app.run("shell:admin", `stock po SKU-A2 eta=${span}`);
      expect(r.code, span).toBe("eta_too_far");
      expect(r.reply.text, span).toContain("is more than 180 days ahead");
    }
    expect(await po("SKU-A2")).toBeUndefined();
  });
});
