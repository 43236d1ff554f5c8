/**
 * Orders and dates as demanding ops staff use them: a tracking number of punctuation only, what
 * was refunded on a search page, the shipment on the card's timeline, a partly refunded order
 * shipped, a 29 February ahead in a year without one, and an audit before= that is not past.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, withCast, type TestApp } from "./helpers/app.js";
import { renderText } from "../adapters/shell/render.js";

let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const paid = (no: string, over: Record<string, unknown> = {}) => paidOrder(no, 10000, "2026-11-20T02:00:00Z", { status: "paid", customerId: "CUST-E18", ...over });
const refunded = (amount: number) => ({ refundedTotal: amount, refunds: [{ requestId: "R-OLD", amount, at: new Date("2026-11-21T02:00:00Z"), by: "shell:mia" }] });

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:mia": "manager" });
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order ship with a tracking number of punctuation only", () => {
  it("is refused saying what a tracking number looks like, nothing changed (en and zh; order tracking too)", async () => {
    await app.store.orders.insertMany([paid("TP-1")]);
    for (const tracking of ["---", ".", "，", "-/-"]) {
      const r = await app.run("shell:sam", `order ship TP-1 carrier=SF tracking=${tracking}`);
      expect([r.outcome, r.reply.text], tracking).toEqual(["user_error", expect.stringContaining("is not a tracking number: it has no letter or digit. Type the number printed on the label")]);
    }
    const z = await zh("shell:sam", "order ship TP-1 carrier=SF tracking=---");
    expect(z.reply.text).toContain("\"---\" 不是有效的运单号：其中没有字母或数字。");
    expect((await app.store.orders.findById("TP-1").lean())?.status).toBe("paid");
    // A real number still ships, and order tracking refuses punctuation the same way.
    expect((await app.run("shell:sam", "order ship TP-1 carrier=SF tracking=SF-1")).outcome).toBe("ok");
    const fix = await app.run("shell:sam", "order tracking TP-1 carrier=SF tracking=... reason=typo");
    expect([fix.outcome, fix.reply.text]).toEqual(["user_error", expect.stringContaining("it has no letter or digit")]);
  });
});

describe("order ship with a carrier of punctuation only", () => {
  it("is refused saying what a carrier is, nothing changed (en and zh; order tracking too)", async () => {
    await app.store.orders.insertMany([paid("CP-1")]);
    const r = await app.run("shell:sam", "order ship CP-1 carrier=--- tracking=SF1");
    expect([r.outcome, r.reply.text]).toEqual(["user_error", expect.stringContaining("\"---\" is not a carrier: it has no letter or digit. Give the carrier's name as its label shows it")]);
    expect((await zh("shell:sam", "order ship CP-1 carrier=。 tracking=SF1")).reply.text).toContain("\"。\" 不是快递公司：其中没有文字、字母或数字。");
    expect((await app.store.orders.findById("CP-1").lean())?.status).toBe("paid");
    expect((await app.run("shell:sam", "order ship CP-1 carrier=顺丰 tracking=SF1")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order tracking CP-1 carrier=? tracking=SF2 reason=typo")).reply.text).toContain("is not a carrier");
  });
});

describe("order ship with the carrier and tracking number typed without their names", () => {
  it("is refused with the line written right, nothing changed (en and zh)", async () => {
    await app.store.orders.insertMany([paid("NA-1")]);
    const r = await app.run("shell:sam", "order ship na-1 SF SF123");
    expect([r.code, r.reply.text]).toEqual(["invalid_args", "Invalid arguments for `order ship`:\n• The carrier and tracking number are given by name, carrier= and tracking=: `order ship NA-1 carrier=SF tracking=SF123`"]);
    expect((await app.run("shell:sam", 'order ship NA-1 "China Post" tracking=CP1')).reply.text).toContain('`order ship NA-1 carrier="China Post" tracking=CP1`');
    expect((await zh("shell:sam", "order ship NA-1 顺丰 SF123")).reply.text).toContain("快递公司和运单号要写明选项名 carrier= 和 tracking=：`order ship NA-1 carrier=顺丰 tracking=SF123`");
    expect((await app.store.orders.findById("NA-1").lean())?.status).toBe("paid");
  });
});

describe("order search and refunds", () => {
  it("shows a Refunded column on a page with a refund (— on the others), and none on a page without (en and zh)", async () => {
    await app.store.orders.insertMany([
      paid("RS-1", { customerId: "CUST-RS", createdAt: new Date("2026-11-20T02:00:00Z") }),
      paid("RS-2", { customerId: "CUST-RS", createdAt: new Date("2026-11-20T03:00:00Z"), ...refunded(3000) }),
      paid("RS-3", { customerId: "CUST-NR" }),
    ]);
    const r = await app.run("shell:sam", "order search customer=CUST-RS");
    expect(r.reply.table?.columns).toEqual(["Order", "Created", "Customer", "Status", "Total", "Refunded"]);
    expect(r.reply.table?.rows.map((x) => [x[0], x[4], x[5]])).toEqual([["RS-2", "CN¥100.00", "CN¥30.00"], ["RS-1", "CN¥100.00", "—"]]);
    expect((await zh("shell:sam", "order search customer=CUST-RS")).reply.table?.columns.at(-1)).toBe("已退款");
    // The page still renders as one table, each row one line.
    expect(renderText(r.reply).split("\n").filter((l) => l.startsWith("RS-"))).toHaveLength(2);
    expect((await app.run("shell:sam", "order search customer=CUST-NR")).reply.table?.columns).toEqual(["Order", "Created", "Customer", "Status", "Total"]);
  });
});

describe("the shipped line of the order card's timeline", () => {
  it("names the carrier and tracking number it left with (en and zh), and after a correction what it left with", async () => {
    await app.store.orders.insertMany([paid("TL-1"), paid("TL-2")]);
    expect((await app.run("shell:sam", "order ship TL-1 carrier=SF tracking=SF111")).outcome).toBe("ok");
    expect(field(await app.run("shell:sam", "order TL-1"), "Timeline")).toContain("Shipped with SF, tracking SF111 (by shell:sam)");
    expect(field(await zh("shell:sam", "order TL-1"), "时间线")).toContain("由 SF 发货，运单号 SF111（操作人 shell:sam）");
    expect((await app.run("shell:sam", "order ship TL-2 carrier=SF tracking=SF222")).outcome).toBe("ok");
    app.clock.advance(60_000);
    const fix = await app.run("shell:sam", "order tracking TL-2 carrier=YTO tracking=YT9 reason=\"wrong label\"");
    expect([fix.outcome, fix.reply.text]).toEqual(["ok", expect.anything()]);
    const timeline = field(await app.run("shell:sam", "order TL-2"), "Timeline")!;
    expect(timeline).toContain("Shipped with SF, tracking SF222 (by shell:sam)");
    expect(timeline).toContain("SF SF222 → YTO YT9: wrong label");
  });
});

describe("order ship of an order partly refunded", () => {
  it("ships it, warning with the amount refunded and what is left (en and zh)", async () => {
    await app.store.orders.insertMany([paid("PR-1", refunded(3000)), paid("PR-2", refunded(2000))]);
    const r = await app.run("shell:sam", "order ship PR-1 carrier=SF tracking=SF333");
    expect([r.outcome, r.reply.status]).toEqual(["ok", "warning"]);
    expect(r.reply.context).toEqual(["CN¥30.00 of this order was refunded already (net CN¥70.00 of CN¥100.00): check the parcel holds only what was not refunded (`order PR-1` lists the refunds)."]);
    const z = await zh("shell:sam", "order ship PR-2 carrier=SF tracking=SF444");
    expect(z.reply.context).toEqual(["该订单已退款 ¥20.00（总额 ¥100.00，净额 ¥80.00）：请核对包裹中只有未退款的商品（`order PR-2` 列出各笔退款）。"]);
    expect((await app.store.orders.findById("PR-2").lean())?.status).toBe("shipped");
  });
});

describe("a 29 February ahead in a year without one", () => {
  it("stock po eta=2/29 says there is none in 2027 and which days to type (en and zh)", async () => {
    const r = await app.run("shell:sam", "stock po SKU-1 eta=2/29");
    expect([r.code, r.reply.text]).toEqual(["bad_eta", "\"2/29\": there is no 29 February in 2027. Type the day meant as YYYY-MM-DD: 2028-02-29 (the next 29 February), or 2027-02-28 or 2027-03-01."]);
    const z = await zh("shell:sam", "stock po SKU-1 eta=2月29日");
    expect(z.reply.text).toBe("\"2月29日\"：2027 年没有 2 月 29 日。请按 YYYY-MM-DD 写出要的日期：2028-02-29（下一个 2 月 29 日），或 2027-02-28、2027-03-01。");
  });

  it("coupon launch end=2/29 says the same for its end (en and zh)", async () => {
    const r = await app.run("shell:mia", "coupon launch code=LEAP29 type=percent value=10 end=2/29");
    expect(r.reply.text).toContain("• end=\"2/29\": there is no 29 February in 2027. Type the day meant as YYYY-MM-DD: 2028-02-29 (the next 29 February), or 2027-02-28 or 2027-03-01.");
    const z = await zh("shell:mia", "coupon launch code=LEAP29 type=percent value=10 end=2月29日");
    expect(z.reply.text).toContain("• end=\"2月29日\"：2027 年没有 2 月 29 日。");
  });
});

describe("audit before= a time not yet past", () => {
  it("lists every entry, saying that before= left nothing out (tomorrow, now; en and zh); a past before= says nothing", async () => {
    app.clock.advance(60_000);
    const r = await app.run("shell:admin", "audit before=tomorrow");
    expect(r.outcome).toBe("ok");
    expect(r.reply.context).toContain("before=tomorrow is 2026-11-26 00:00 GMT+8, not in the past (it is 2026-11-25 12:02 GMT+8 now): it leaves nothing out, so every entry so far is listed. To see the entries before a time, give one already past (before=today, before=\"2026-11-20 08:00\").");
    expect((await app.run("shell:admin", "audit before=now")).reply.context).toEqual(expect.arrayContaining([expect.stringMatching(/^before=now is 2026-11-25 12:02 GMT\+8, not in the past/)]));
    expect((await zh("shell:admin", "audit before=明天")).reply.context).toEqual(expect.arrayContaining([expect.stringMatching(/^before=明天 即 2026-11-26 00:00 GMT\+8，并非过去的时间/)]));
    expect((await app.run("shell:admin", "audit before=today")).reply.context?.join("\n") ?? "").not.toContain("not in the past");
  });
});
