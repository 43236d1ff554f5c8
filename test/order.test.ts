import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { field, makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

const H = 3_600_000;
/** The test clock: 2026-11-25 12:00 in Shanghai. */
const NOW = Date.parse("2026-11-25T04:00:00Z");

/** An order document: one line of SKU-1 ×2 at ¥50 unless overridden. */
function order(no: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const items = (over.items as { sku: string; qty: number; unitPrice: number }[] | undefined) ?? [{ sku: "SKU-1", qty: 2, unitPrice: 5000 }];
  const subtotal = items.reduce((s, i) => s + i.qty * i.unitPrice, 0);
  const discount = (over.discount as number | undefined) ?? 0;
  const shipping = (over.shipping as number | undefined) ?? 0;
  const createdAt = over.createdAt ?? new Date(NOW - 48 * H);
  return {
    _id: no,
    items,
    subtotal,
    discount,
    shipping,
    total: subtotal - discount + shipping,
    currency: "CNY",
    status: "pending",
    channel: "web",
    customerId: "CUST-1",
    createdAt,
    day: "2026-11-23",
    refundedTotal: 0,
    ...over,
  };
}


beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:max", "manager", "shell:admin");
  await app.store.products.insertMany([
    product("SKU-1", { name: "Ceramic Mug" }),
    product("SKU-2", { name: "不锈钢保温杯 500ml" }),
  ]);
  const paidAt = new Date(NOW - 47 * H);
  await app.store.orders.insertMany([
    order("ORD-100001", {
      items: [
        { sku: "SKU-1", qty: 2, unitPrice: 5000 },
        { sku: "SKU-2", qty: 1, unitPrice: 12900 },
        { sku: "SKU-GONE", qty: 1, unitPrice: 100 },
      ],
      discount: 2300,
      shipping: 800,
      couponCode: "WELCOME10",
      status: "delivered",
      paidAt,
      paidDay: "2026-11-23",
      shipment: { carrier: "SF Express", trackingNo: "SF123456789", shippedAt: new Date(NOW - 30 * H) },
      deliveredAt: new Date(NOW - 6 * H),
      refundedTotal: 1500,
      refunds: [{ requestId: "R-ABC123", amount: 1500, at: new Date(NOW - 2 * H), day: "2026-11-25" }],
      history: [
        { status: "paid", at: paidAt, by: "ingest:web" },
        { status: "shipped", at: new Date(NOW - 30 * H), by: "shell:sam" },
        { status: "delivered", at: new Date(NOW - 6 * H), by: "shell:sam" },
      ],
    }),
    order("ORD-100002", { status: "pending" }),
    order("ORD-100003", { status: "paid", paidAt, paidDay: "2026-11-23", customerId: "CUST-2" }),
    order("ORD-100004", { status: "paid", paidAt, paidDay: "2026-11-23" }),
    order("ORD-100005", { status: "cancelled", cancelledAt: new Date(NOW - 40 * H) }),
    order("ORD-100006", { status: "paid", paidAt, paidDay: "2026-11-23" }),
    order("ORD-100007", { status: "paid", paidAt, paidDay: "2026-11-23" }),
    // Numbers as a shop sends them through the ingestion API: kept as they are.
    order("1001", { status: "paid", paidAt, paidDay: "2026-11-23", customerId: "CUST-3" }),
    order("web-77", { status: "paid", paidAt, paidDay: "2026-11-23", customerId: "CUST-3" }),
    order("web-78", { status: "paid", paidAt, paidDay: "2026-11-23", customerId: "alice@example.com" }),
    // 23 orders of one customer, one every 5 hours back from now: the newest is ORD-200023.
    ...Array.from({ length: 23 }, (_, i) =>
      order(`ORD-2000${String(i + 1).padStart(2, "0")}`, {
        customerId: "CUST-9",
        createdAt: new Date(NOW - (23 - i) * 5 * H),
        status: i % 3 === 0 ? "pending" : "paid",
      }),
    ),
  ]);
  await app.store.complaints.create({
    _id: "C-LINKED",
    customerId: "CUST-1",
    orderNo: "ORD-100001",
    text: "Lid of the flask was scratched",
    severity: "high",
    category: "damaged",
    createdBy: "shell:sue",
    createdAt: new Date(NOW - H),
    day: "2026-11-25",
    firstResponseDueAt: new Date(NOW + 3 * H),
    resolutionDueAt: new Date(NOW + 23 * H),
  });
});
afterAll(() => app.close());

describe("order card", () => {
  it("shows status, payment, items with names, totals, discount and coupon, carrier and tracking", async () => {
    const r = await app.run("shell:sam", "order ORD-100001");
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe("Order ORD-100001");
    expect(field(r, "Status")).toBe("Delivered");
    expect(field(r, "Payment")).toBe("Paid CN¥215.00 on 2026-11-23 13:00 GMT+8");
    expect(field(r, "Customer")).toBe("CUST-1");
    expect(field(r, "Subtotal")).toBe("CN¥230.00");
    expect(field(r, "Discount")).toBe("−CN¥23.00 (coupon WELCOME10)");
    expect(field(r, "Shipping fee")).toBe("CN¥8.00");
    expect(field(r, "Total")).toBe("CN¥215.00");
    expect(field(r, "Refunded")).toBe("CN¥15.00");
    expect(field(r, "Net after refunds")).toBe("CN¥200.00");
    expect(field(r, "Carrier")).toBe("SF Express");
    expect(field(r, "Tracking no.")).toBe("SF123456789");
    expect(r.reply.table!.rows).toEqual([
      ["SKU-1", "Ceramic Mug", "2", "CN¥50.00", "CN¥100.00"],
      ["SKU-2", "不锈钢保温杯 500ml", "1", "CN¥129.00", "CN¥129.00"],
      ["SKU-GONE", "(no longer in the catalogue)", "1", "CN¥1.00", "CN¥1.00"],
    ]);
  });

  it("has a timeline from created to refunded, the executed refunds and the linked complaints", async () => {
    const r = await app.run("shell:sam", "order 100001");
    expect(field(r, "Timeline")!.split("\n")).toEqual([
      "2026-11-23 12:00 GMT+8  Created",
      "2026-11-23 13:00 GMT+8  Paid (by ingest:web)",
      "2026-11-24 06:00 GMT+8  Shipped with SF Express, tracking SF123456789 (by shell:sam)",
      "2026-11-25 06:00 GMT+8  Delivered (by shell:sam)",
      "2026-11-25 10:00 GMT+8  Refunded CN¥15.00: R-ABC123",
    ]);
    expect(field(r, "Refunds executed")).toBe("CN¥15.00 on 2026-11-25 10:00 GMT+8 (R-ABC123)");
    // In Chinese, with Chinese brackets and colons.
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "order 100001", locale: "zh-CN" });
    expect(field(zh, "时间线")!.split("\n")).toEqual([
      "2026-11-23 12:00 GMT+8  下单",
      "2026-11-23 13:00 GMT+8  付款（操作人 ingest:web）",
      "2026-11-24 06:00 GMT+8  由 SF Express 发货，运单号 SF123456789（操作人 shell:sam）",
      "2026-11-25 06:00 GMT+8  签收（操作人 shell:sam）",
      "2026-11-25 10:00 GMT+8  退款 ¥15.00：R-ABC123",
    ]);
    expect(field(r, "Complaints")).toBe("C-LINKED · high · New: Lid of the flask was scratched");
    const other = await app.run("shell:sam", "order ORD-100002");
    expect(field(other, "Payment")).toBe("Not paid");
    expect(field(other, "Carrier")).toBe("not shipped");
    expect(field(other, "Complaints")).toBe("none");
    expect(field(other, "Refunds executed")).toBe("none");
    // Delivered, imported without shipment details: unknown carrier, not "not shipped".
    await app.store.orders.create(order("ORD-100008", { status: "delivered", paidAt: new Date(NOW - 47 * H), paidDay: "2026-11-23" }));
    const imported = await app.run("shell:sam", "order ORD-100008");
    expect(field(imported, "Carrier")).toBe("—");
  });

  it("lists refund requests awaiting a decision", async () => {
    const none = await app.run("shell:sam", "order ORD-100001");
    expect(none.reply.fields!.some((f) => f.label === "Refund requests awaiting a decision")).toBe(false);
    await app.store.refundRequests.create({
      _id: "R-PEND01", orderNo: "ORD-100001", customerId: "CUST-1", amount: 2500, currency: "CNY", reason: "scratched lid",
      requester: "shell:sue", requestedAt: new Date(NOW - H), expiresAt: new Date(NOW + 48 * H), requiredApprovals: 1, status: "pending",
    });
    await app.store.refundRequests.create({
      _id: "R-DONE01", orderNo: "ORD-100001", customerId: "CUST-1", amount: 100, currency: "CNY", reason: "x",
      requester: "shell:sue", requestedAt: new Date(NOW - 2 * H), expiresAt: new Date(NOW + 48 * H), requiredApprovals: 1, status: "rejected",
    });
    // Expired but not yet marked by the job: no longer awaiting anything.
    await app.store.refundRequests.create({
      _id: "R-OLD001", orderNo: "ORD-100001", customerId: "CUST-1", amount: 300, currency: "CNY", reason: "x",
      requester: "shell:sue", requestedAt: new Date(NOW - 80 * H), expiresAt: new Date(NOW - 8 * H), requiredApprovals: 1, status: "pending",
    });
    const r = await app.run("shell:sam", "order ORD-100001");
    expect(field(r, "Refund requests awaiting a decision")).toBe("R-PEND01: CN¥25.00, requested by shell:sue on 2026-11-25 11:00 GMT+8");
    await app.store.refundRequests.deleteOne({ _id: "R-OLD001" });
  });

  it("in Chinese", async () => {
    const r = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "order ORD-100001", locale: "zh-CN" });
    expect(r.reply.title).toBe("订单 ORD-100001");
    expect(field(r, "状态")).toBe("已签收");
    expect(field(r, "优惠")).toBe("−¥23.00（优惠券 WELCOME10）");
  });

  it("an unknown order or a malformed number is a clear error; viewers may not look", async () => {
    const r = await app.run("shell:sam", "order ORD-999999");
    expect(r.code).toBe("unknown_order");
    expect(r.reply.text).toBe("No order ORD-999999. Check the number (the shop's own, or ORD-100001 in the demo); `order search customer=…` finds a customer's orders.");
    // One whose updates came before it is said to be on its way.
    await app.services.ingest.apply("orders", { orderNo: "S-20005", status: "paid" }, "api:test");
    const waiting = await app.run("shell:sam", "order S-20005");
    expect([waiting.code, waiting.reply.text]).toEqual(["order_pending_arrival", "Order S-20005 has not arrived yet: 1 update for it came first and wait for the order itself (its items and customer), then apply."]);
    const bad = await app.run("shell:sam", "order ORD/1;drop");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toContain("is not an order number");
    const viewer = await app.run("shell:nobody", "order ORD-100001");
    expect(viewer.code).toBe("permission_denied");
  });

  it("the timeline of an ingested order refunded by the shop says so in the reader's words, with no internal notes", async () => {
    const sent = { orderNo: "SHOP-TL1", customerId: "c-tl", status: "paid", createdAt: new Date(NOW - 5 * H).toISOString(), paidAt: new Date(NOW - 4 * H).toISOString(), items: [{ sku: "SKU-1", qty: 1, unitPrice: 5000 }] };
    expect((await app.services.ingest.apply("orders", sent, "api:storefront")).outcome).toBe("created");
    expect((await app.services.ingest.apply("orders", { orderNo: "SHOP-TL1", status: "refunded", refundedAt: new Date(NOW - H).toISOString() }, "api:storefront")).outcome).toBe("updated");
    const timeline = async (locale?: "zh-CN") => {
      const r = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "order SHOP-TL1", ...(locale ? { locale } : {}) });
      return r.reply.fields!.find((f) => f.label === (locale ? "时间线" : "Timeline"))!.value;
    };
    const en = await timeline();
    expect(en).toMatch(/Refunded CN¥50\.00 \(by api:storefront\)$/m);
    expect(en).not.toMatch(/: (shop|ingested)$/m);
    const zh = await timeline("zh-CN");
    expect(zh).toMatch(/（操作人 api:storefront）$/m);
    expect(zh).not.toMatch(/：(shop|ingested)$/m);
  });

  it("a shop's own number and customer id in mixed case are found however they are typed", async () => {
    await app.store.orders.create(order("Web-1001", { customerId: "Cust-Mixed" }));
    for (const typed of ["web-1001", "WEB-1001", "Web-1001", "wEB-1001"]) expect((await app.run("shell:sam", `order ${typed}`)).reply.title, typed).toContain("Web-1001");
    for (const typed of ["cust-mixed", "CUST-MIXED", "Cust-Mixed"]) expect((await app.run("shell:sam", `order search customer=${typed}`)).reply.table?.rows.map((r) => r[0]), typed).toEqual(["Web-1001"]);
    // A complaint filed for the customer takes the spelling the shop's orders use.
    await app.services.identity.grant("shell:sue", "support", "shell:admin");
    const c = await app.run("shell:sue", "complaint new customer=cust-mixed lid broken");
    const id = /C-[0-9A-Z]+/.exec(c.reply.title ?? "")![0];
    expect((await app.store.complaints.findById(id).lean())!.customerId).toBe("Cust-Mixed");
    // The audit trail finds what was done to it however the number is typed.
    await app.services.identity.grant("shell:mgr-aud", "manager", "shell:admin");
    expect((await app.run("shell:mgr-aud", 'order cancel web-1001 reason="customer asked"')).outcome).toBe("ok");
    for (const typed of ["web-1001", "WEB-1001"]) expect((await app.run("shell:mgr-aud", `audit subject=${typed}`)).reply.table?.rows.map((r) => r[2]!.split(" ").slice(0, 2).join(" ")), typed).toEqual(["order cancel"]);
    // Two numbers that differ only in case: neither is guessed for a third spelling.
    await app.store.orders.create(order("Mix-7"));
    await app.store.orders.create(order("mIX-7"));
    expect((await app.run("shell:sam", "order MiX-7")).code).toBe("unknown_order");
  });
});

describe("order search", () => {
  it("lists a page of a customer's orders, newest first, with the next page to ask for", async () => {
    const r = await app.run("shell:sam", "order search customer=cust-9");
    expect(r.reply.title).toBe("Orders: 23 match");
    const ids = r.reply.table!.rows.map((x) => x[0]);
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `ORD-2000${String(23 - i).padStart(2, "0")}`));
    // The next page repeats the filter as typed (any case finds the customer).
    expect(r.reply.context).toEqual(["Page 1 of 3, newest first.", "Next page: `order search customer=cust-9 before=ORD-200014 page=2`"]);
    const p3 = await app.run("shell:sam", "order search customer=CUST-9 page=3");
    expect(p3.reply.table!.rows.map((x) => x[0])).toEqual(["ORD-200003", "ORD-200002", "ORD-200001"]);
    expect(p3.reply.context).toEqual(["Page 3 of 3, newest first."]);
    const p4 = await app.run("shell:sam", "order search customer=CUST-9 page=4");
    expect(p4.code).toBe("page_out_of_range");
  });

  it("filters by since and status together", async () => {
    // Since 24h ago: CUST-9's orders created 5, 10, 15 and 20 hours ago; of those, the paid ones.
    const r = await app.run("shell:sam", "order search since=24h status=paid");
    expect(r.reply.table!.rows.map((x) => x[0])).toEqual(["ORD-200023", "ORD-200021", "ORD-200020"]);
    const both = await app.run("shell:sam", "order search since=24h status=paid,pending");
    expect(both.reply.table!.rows.map((x) => x[0])).toEqual(["ORD-200023", "ORD-200022", "ORD-200021", "ORD-200020"]);
    // Typed with a Chinese input method: "，" or "、" between statuses.
    for (const sep of ["，", "、"]) expect((await app.run("shell:sam", `order search since=24h status=paid${sep}pending`)).reply.table!.rows).toEqual(both.reply.table!.rows);
    const today = await app.run("shell:sam", "order search since=today customer=CUST-9");
    // Shanghai day started 12 hours before the clock: orders 5 and 10 hours old.
    expect(today.reply.table!.rows.map((x) => x[0])).toEqual(["ORD-200023", "ORD-200022"]);    expect((await app.run("shell:sam", "order search since=今天 customer=CUST-9")).reply.table!.rows).toEqual(today.reply.table!.rows);
    expect((await app.run("shell:sam", "order search since=2026/11/25 customer=CUST-9")).reply.table!.rows).toEqual(today.reply.table!.rows);
  });

  it("reads what a Chinese team types: statuses as the table names them, 前天, 11月23日, 7天, 24小时, page=２", async () => {
    const zh = (text: string) => app.core.invoke({ identity: "shell:sam", platform: "shell", text, locale: "zh-CN" });
    const same = async (line: string, as: string) => {
      const [a, b] = [await app.run("shell:sam", line), await app.run("shell:sam", as)];
      expect([a.outcome, a.reply.title ?? a.reply.text, a.reply.table?.rows], line).toEqual([b.outcome, b.reply.title ?? b.reply.text, b.reply.table?.rows]);
    };
    // Statuses by the names the table shows (已付款), in any case or width, however separated.
    for (const status of ["已付款", "PAID", "Paid", "ｐａｉｄ"]) await same(`order search customer=CUST-9 status=${status}`, "order search customer=CUST-9 status=paid");
    for (const status of ["已付款、待付款", "已付款，pending", "Paid,待付款", '"paid,Pending payment"']) await same(`order search customer=CUST-9 status=${status}`, "order search customer=CUST-9 status=paid,pending");
    expect((await zh("order search customer=CUST-9 status=已付款")).reply.table!.rows[0]![3]).toBe("已付款");
    const bad = await zh("order search status=已寄出");
    expect(bad.reply.text).toContain("\"已寄出\" 不是订单状态。请使用 待付款（pending）、已付款（paid）、已发货（shipped）、已签收（delivered）、已取消（cancelled）或已退款（refunded）；多个状态用逗号或顿号分隔。");
    // The day before yesterday, and a day without a year (this year's, in the shop's time zone).
    const day = await app.run("shell:sam", "order search customer=CUST-9 since=2026-11-23");
    expect(day.reply.title).toBe("Orders: 12 match");
    for (const typed of ["前天", "11月23日", "11月23号", "１１月２３日"]) await same(`order search customer=CUST-9 since=${typed}`, "order search customer=CUST-9 since=2026-11-23");
    // Spans as 7d and 24h are typed in Chinese.
    for (const [typed, en] of [["7天", "7d"], ["24小时", "24h"], ['"24 小时"', "24h"], ["３小时", "3h"], ["24个小时", "24h"]]) await same(`order search customer=CUST-9 since=${typed}`, `order search customer=CUST-9 since=${en}`);
    // 1 December is ahead this year: last year's, the latest one (as `digest 12月1日`); 29 February the latest there was (2024's).
    await same("order search customer=CUST-9 since=12月1日", "order search customer=CUST-9 since=2025-12-01");
    await same("order search customer=CUST-9 since=2月29日", "order search customer=CUST-9 since=2024-02-29");
    expect((await app.run("shell:sam", "order search since=2月30日")).reply.text).toContain('"2月30日" is not a date');
    // A page typed with a Chinese keyboard; a page that is no page number says what one is.
    await same("order search customer=CUST-9 page=２", "order search customer=CUST-9 page=2");
    for (const page of ["0", "abc", "1.5", "10001"]) {
      const r = await app.run("shell:sam", `order search customer=CUST-9 page=${page}`);
      expect(r.reply.text, page).toContain(`page=: "${page}" is not a page number from 1 to 10000, e.g. page=2.`);
    }
  });

  it("refuses no filter, a bad status, an unparsable or future date; no match is said plainly", async () => {
    expect((await app.run("shell:sam", "order search")).code).toBe("missing_filter");
    const bad = await app.run("shell:sam", "order search status=lost");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toContain('"lost" is not an order status');
    expect((await app.run("shell:sam", "order search since=2026-13-45")).reply.text).toContain("is not a date");
    // A day that does not exist is refused, not rolled over into March: saying its month is shorter.
    expect((await app.run("shell:sam", "order search since=2026-02-30")).reply.text).toContain('"2026-02-30" is no day of the calendar: 2026-02 has 28 days');
    // Chinese spellings are read as dates; a wrong one is quoted as typed.
    expect((await app.run("shell:sam", "order search since=2026/02/30")).reply.text).toContain('"2026/02/30" is no day of the calendar: 2026-02 has 28 days');
    expect((await app.run("shell:sam", "order search since=2026年12月1日")).code).toBe("future_date");
    for (const tomorrow of ["tomorrow", "明天"]) expect((await app.run("shell:sam", `order search since=${tomorrow}`)).code).toBe("future_date");
    // One problem, said once: a span past its limit is named as too long, not as no date.
    const long = (await app.run("shell:sam", "order search since=99999d")).reply.text!;
    expect([long.split("too long a span").length, long.includes("is not a date")]).toEqual([2, false]);
    const future = await app.run("shell:sam", "order search since=2026-12-01");
    expect(future.code).toBe("future_date");
    expect(future.reply.text).toBe("2026-12-01 is in the future; since= must be today or earlier.");
    // Every since= filter says so, instead of "none found".
    for (const cmd of ["audit since=2030-01-01", "refund list mine since=2030-01-01"]) expect((await app.run("shell:max", cmd)).code).toBe("future_date");
    const none = await app.run("shell:sam", "order search customer=CUST-404");
    expect(none.reply.text).toBe("No orders match (customer=CUST-404).");
  });
});

describe("order status transitions", () => {
  it("ships a paid order with carrier and tracking, recorded in history", async () => {
    app.clock.set(new Date(NOW + H));
    // Typed as printed on the label: spaces and lower case are normalised.
    const r = await app.run("shell:sam", 'order ship ORD-100003 carrier="China Post" tracking="cp 998 877"');
    expect(r.outcome).toBe("ok");
    expect(r.reply.text).toBe("ORD-100003 shipped with China Post, tracking number CP998877.");
    const o = await app.store.orders.findById("ORD-100003").lean();
    expect(o).toMatchObject({ status: "shipped", shipment: { carrier: "China Post", trackingNo: "CP998877", shippedAt: new Date(NOW + H) } });
    expect(o!.history.at(-1)).toMatchObject({ status: "shipped", by: "shell:sam", at: new Date(NOW + H) });
    const d = await app.run("shell:sam", "order deliver ORD-100003");
    expect(d.reply.text).toBe("ORD-100003 delivered.");
    expect(await app.store.orders.findById("ORD-100003").lean()).toMatchObject({ status: "delivered", deliveredAt: new Date(NOW + H) });
    const card = await app.run("shell:sam", "order ORD-100003");
    expect(field(card, "Timeline")).toContain("2026-11-25 13:00 GMT+8  Shipped with China Post, tracking CP998877 (by shell:sam)");
    app.clock.set(new Date(NOW));
  });

  it("finds orders by the number the shop sent (1001, web-77) as well as ORD- numbers typed bare", async () => {
    expect(field(await app.run("shell:sam", "order 1001"), "Status")).toContain("Paid");
    expect((await app.run("shell:sam", "order web-77")).outcome).toBe("ok");
    expect((await app.run("shell:sam", "order WEB-77")).outcome).toBe("ok");
    const shipped = await app.run("shell:sam", "order ship 1001 carrier=SF tracking=SF1");
    expect(shipped.reply.text).toBe("1001 shipped with SF, tracking number SF1.");
    expect(await app.store.orders.findById("1001").lean()).toMatchObject({ status: "shipped" });
    // A second person shipping it is told which tracking number stands; a refusal names the stored number.
    const twice = await app.run("shell:sue", "order ship 1001 carrier=YTO tracking=YT2");
    expect([twice.code, twice.reply.text]).toEqual(["tracking_differs", "1001 is already shipped with SF, tracking SF1, not YTO YT2; nothing changed. If it went with YTO YT2, correct its tracking: `order tracking 1001 carrier=YTO tracking=YT2 reason=…`."]);
    // A typo in the number is corrected, old → new in the timeline; the same again changes nothing.
    const fix = await app.run("shell:sue", 'order tracking 1001 tracking="ｓｆ　１２" carrier=YTO reason="typo on the label"'); // typed full-width
    expect(fix.reply.text).toBe("1001: tracking corrected from SF SF1 to YTO SF12.");
    expect((await app.store.orders.findById("1001").lean())!.shipment).toMatchObject({ carrier: "YTO", trackingNo: "SF12" });
    expect(field(await app.run("shell:sam", "order 1001"), "Timeline")).toMatch(/Tracking corrected \(by shell:sue\): SF SF1 → YTO SF12: typo on the label/);
    expect((await app.run("shell:sue", "order tracking 1001 tracking=SF12 reason=again")).code).toBe("unchanged");
    expect((await app.run("shell:sue", "order tracking web-77 tracking=SF99 reason=x")).code).toBe("not_shipped");
    expect((await app.run("shell:sue", "order tracking 1001 tracking=SF13")).code).toBe("invalid_args"); // a reason is required
    expect((await app.store.orders.findById("1001").lean())!.shipment?.trackingNo).toBe("SF12");
    // Shipped, then refunded: not "has not shipped" with a hint that would fail.
    await app.store.orders.updateOne({ _id: "1001" }, { $set: { status: "refunded" } });
    const closed = await app.run("shell:sue", "order tracking 1001 tracking=SF14 reason=x");
    expect([closed.code, closed.reply.text]).toEqual(["shipment_closed", "1001 is Refunded: its shipment is closed, and tracking is corrected only while an order is shipped or delivered."]);
    await app.store.orders.updateOne({ _id: "1001" }, { $set: { status: "shipped" } });
    // An unknown number is named as the other order commands name it.
    expect((await app.run("shell:sue", "order tracking 999999 tracking=AB1 reason=x")).reply.text).toBe((await app.run("shell:sue", "order 999999")).reply.text);
    expect((await app.run("shell:max", "order cancel 1001 reason=x")).reply.text).toMatch(/^1001 is Shipped, so it cannot be marked Cancelled/);
    // Typed in another case, the refusal names the order as stored.
    expect((await app.run("shell:sam", "order deliver WEB-77")).reply.text).toMatch(/^web-77 is Paid, so it cannot be marked Delivered/);
    const refund = await app.run("shell:sam", 'refund request web-77 10 reason="lid scratched"');
    expect(refund.outcome).toBe("ok");
    expect(await app.store.refundRequests.findOne({ orderNo: "web-77" }).lean()).toMatchObject({ amount: 1000, status: "pending" });
    // A bare number still means the demo's ORD- number when no order is stored under it.
    expect((await app.run("shell:sam", 'refund request 100006 5 reason="late"')).outcome).toBe("ok");
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-100006" })).toBe(1);
    const c = await app.run("shell:sue", "complaint new order=WEB-77 the lid is scratched");
    expect(c.outcome).toBe("ok");
    expect(await app.store.complaints.findOne({ orderNo: "web-77" }).lean()).toMatchObject({ customerId: "CUST-3" });
  });

  it("finds a customer by the id the shop sent, in any case typed (order search, complaint on an order)", async () => {
    const r = await app.run("shell:sam", "order search customer=Alice@Example.com");
    expect(r.outcome).toBe("ok");
    expect(JSON.stringify(r.reply)).toContain("web-78");
    const c = await app.run("shell:sue", "complaint new order=web-78 customer=ALICE@EXAMPLE.COM parcel arrived wet");
    expect(c.outcome).toBe("ok");
    expect(await app.store.complaints.findOne({ orderNo: "web-78" }).lean()).toMatchObject({ customerId: "alice@example.com" });
    expect((await app.run("shell:sue", "complaint new order=web-78 customer=bob@example.com wrong customer")).code).toBe("customer_mismatch");
  });

  it("refuses to ship an unpaid order, naming the status and what is allowed; nothing changes", async () => {
    const r = await app.run("shell:sam", "order ship ORD-100002 carrier=SF tracking=SF000111");
    expect(r.code).toBe("invalid_transition");
    expect(r.reply.text).toBe("ORD-100002 is Pending payment, so it cannot be marked Shipped. From Pending payment it can only become: Paid, Cancelled.");
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "order ship ORD-100002 carrier=SF tracking=SF000111", locale: "zh-CN" });
    expect(zh.reply.text).toBe("ORD-100002 当前为待付款，不能标记为已发货。待付款的订单只能变为：已付款、已取消。");
    const o = await app.store.orders.findById("ORD-100002").lean();
    expect(o).toMatchObject({ status: "pending", history: [] });
    expect(o!.shipment?.carrier).toBeUndefined();
  });

  it("a tracking correction on an order cancelled or refunded before it shipped says the status is final, not `order ship`", async () => {
    const before = await app.store.orders.findById("ORD-100005").lean();
    const r = await app.run("shell:sam", "order tracking ORD-100005 tracking=SF1 reason=typo");
    // Said of what was asked (a tracking correction), not of a shipment nobody asked for.
    expect([r.code, r.reply.text]).toEqual(["invalid_transition", "ORD-100005 is Cancelled and never shipped: it has no shipment whose tracking could be corrected, and a Cancelled order does not ship (a final status)."]);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "order tracking ORD-100005 tracking=SF1 reason=typo", locale: "zh-CN" });
    expect(zh.reply.text).toBe("ORD-100005 当前为已取消，从未发货：没有可更正运单号的发货记录；“已取消”是最终状态，订单不会再发货。");
    expect(await app.store.orders.findById("ORD-100005").lean()).toEqual(before);
    await app.store.orders.create(order("ORD-100031", { status: "refunded", paidAt: new Date(NOW - 47 * H), paidDay: "2026-11-23" }));
    expect((await app.run("shell:sam", "order tracking ORD-100031 tracking=SF1 reason=typo")).reply.text).toBe("ORD-100031 is Refunded and never shipped: it has no shipment whose tracking could be corrected, and a Refunded order does not ship (a final status).");
  });

  it("never un-cancels: a cancelled order stays cancelled", async () => {
    const r = await app.run("shell:sam", "order ship ORD-100005 carrier=SF tracking=SF000222");
    expect(r.reply.text).toBe("ORD-100005 is Cancelled, a final status: it cannot be marked Shipped (nothing changes a Cancelled order).");
    expect((await app.run("shell:sam", "order deliver ORD-100005")).code).toBe("invalid_transition");
    expect(await app.store.orders.findById("ORD-100005").lean()).toMatchObject({ status: "cancelled" });
    expect((await app.services.orders.transition("ORD-100005", "paid", { by: "ingest:web" })).kind).toBe("refused");
  });

  it("cancels a paid order (managers only) with the reason, and says the money must be refunded", async () => {
    const denied = await app.run("shell:sam", "order cancel ORD-100004 reason=duplicate");
    expect(denied.code).toBe("permission_denied");
    const r = await app.run("shell:max", 'order cancel ORD-100004 reason="duplicate order"');
    expect(r.reply.text).toBe("ORD-100004 cancelled: duplicate order. It had been paid (CN¥100.00): refund the customer through a refund request.");
    const o = await app.store.orders.findById("ORD-100004").lean();
    expect(o).toMatchObject({ status: "cancelled", cancelledAt: new Date(NOW) });
    expect(o!.history.at(-1)).toMatchObject({ status: "cancelled", by: "shell:max", note: "duplicate order" });
    const again = await app.run("shell:max", "order cancel ORD-100004 reason=again");
    expect(again.code).toBe("already_in_status");
    expect((await app.store.orders.findById("ORD-100004").lean())!.history).toHaveLength(1);
    // A shipped order cannot be cancelled (it can be refunded).
    const shipped = await app.run("shell:max", "order cancel ORD-100003 reason=late");
    expect(shipped.code).toBe("invalid_transition");
  });

  it("payment recorded through the service sets paidAt and the shop-local paid day", async () => {
    const at = new Date("2026-11-24T17:30:00Z"); // 01:30 on the 25th in Shanghai
    const r = await app.services.orders.transition("ORD-100002", "paid", { by: "ingest:web", at });
    expect(r.kind).toBe("done");
    expect(await app.store.orders.findById("ORD-100002").lean()).toMatchObject({ status: "paid", paidAt: at, paidDay: "2026-11-25" });
  });

  it("a status change stands when its stock step fails: the reply says the stock will follow, the job finishes it", async () => {
    await app.store.orders.create(order("ORD-100020", { status: "paid", paidAt: new Date(NOW - 2 * H), paidDay: "2026-11-25", effects: { reserved: true, sold: true } }));
    // A database blip in the stock step, after the status update landed (fault injected in the effects step only).
    const spy = vi.spyOn(app.services.effects, "settle").mockRejectedValueOnce(new Error("connection reset"));
    try {
      const r = await app.run("shell:sam", "order ship ORD-100020 carrier=SF tracking=SF20");
      expect(r.outcome).toBe("ok");
      expect(r.reply.context).toEqual(["The stock change will follow within minutes (it could not be applied now; the order-effects job finishes it)."]);
    } finally {
      spy.mockRestore();
    }
    const o = (await app.store.orders.findById("ORD-100020").lean())!;
    expect(o.status).toBe("shipped");
    expect(o.effects?.shipped).toBeFalsy();
    await app.services.effects.repair(new Date(NOW - 24 * H), new Date(NOW + H));
    expect((await app.store.orders.findById("ORD-100020").lean())!.effects?.shipped).toBe(true);
  });

  it("concurrent conflicting transitions: exactly one wins and history has one entry", async () => {
    const runs = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => app.run("shell:sam", `order ship ORD-100006 carrier=SF tracking=SF00${i}999`)),
      ...Array.from({ length: 5 }, () => app.run("shell:max", "order cancel ORD-100006 reason=race")),
    ]);
    expect(runs.filter((r) => r.outcome === "ok" && r.reply.status !== "info")).toHaveLength(1);
    const o = await app.store.orders.findById("ORD-100006").lean();
    expect(o!.history).toHaveLength(1);
    expect(["shipped", "cancelled"]).toContain(o!.status);
  });

  it("bad input changes nothing and is audited", async () => {
    const before = await app.store.orders.findById("ORD-100007").lean();
    for (const line of ["order ship ORD-100007 carrier=SF", `order ship ORD-100007 tracking=${"X".repeat(101)} carrier=SF`, "order ship ORD-404 carrier=SF tracking=SF1234", "order cancel ORD-100007"]) {
      const r = await app.run("shell:max", line);
      expect(r.outcome, line).toBe("user_error");
    }
    expect(await app.store.orders.findById("ORD-100007").lean()).toEqual(before);
    expect(await app.store.audit.countDocuments({ command: "order ship", outcome: "user_error" })).toBeGreaterThanOrEqual(3);
  });
});
