import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// Orders as a demanding ops team meets them: paging through a search while orders keep
// arriving, a number typed with a space, and money on the card printed as on every other card.

let app: TestApp;
const NOW = "2026-11-25T04:00:00Z";
const H = 3_600_000;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
/** The order numbers of a search reply's rows. */
const rows = (r: { reply: { table?: { rows: string[][] } } }) => r.reply.table?.rows.map((row) => row[0]) ?? [];
/** The command a reply's next-page line gives. */
const nextCommand = (r: { reply: { context?: string[] } }) => /`(order search [^`]*)`/.exec(r.reply.context?.find((c) => c.startsWith("Next page")) ?? "")?.[1];

beforeAll(async () => {
  app = await makeTestApp({}, NOW);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order search pages stay put while orders arrive", () => {
  // P-01 … P-25, one an hour back from an hour ago; P-25, the oldest, 30 minutes inside `since=7d`.
  const seeded = Array.from({ length: 25 }, (_, i) => `P-${String(i + 1).padStart(2, "0")}`);
  const at = (i: number) => (i === 24 ? new Date(Date.parse(NOW) - 7 * 24 * H + 30 * 60_000) : new Date(Date.parse(NOW) - (i + 1) * H));

  beforeAll(async () => {
    await app.store.orders.insertMany(seeded.map((no, i) => paidOrder(no, 1000, at(i).toISOString(), { customerId: "PAGE-1" })));
  });

  it("the next-page line pins the window and continues right after the last row, whatever arrives or time passes meanwhile", async () => {
    app.clock.set(NOW);
    const first = await app.run("shell:sam", "order search customer=PAGE-1 since=7d");
    expect(rows(first)).toEqual(seeded.slice(0, 10));
    expect(first.reply.context).toEqual(["Page 1 of 3, newest first.", "Next page: `order search customer=PAGE-1 since=2026-11-18T04:00:00Z before=P-10 page=2`"]);
    // Meanwhile: three orders arrive (one backdated by the shop, between rows of page 2) and an hour passes.
    await app.store.orders.insertMany([
      paidOrder("N-1", 1000, new Date(Date.parse(NOW) + 10 * 60_000).toISOString(), { customerId: "PAGE-1" }),
      paidOrder("N-2", 1000, new Date(Date.parse(NOW) + 20 * 60_000).toISOString(), { customerId: "PAGE-1" }),
      paidOrder("N-3", 1000, new Date(Date.parse(NOW) - 30 * 60_000).toISOString(), { customerId: "PAGE-1" }),
    ]);
    app.clock.set(new Date(Date.parse(NOW) + H));
    const second = await app.run("shell:sam", nextCommand(first)!);
    expect(rows(second)).toEqual(seeded.slice(10, 20));
    expect(second.reply.context).toEqual(["Page 2 of 3, newest first.", "Next page: `order search customer=PAGE-1 since=2026-11-18T04:00:00Z before=P-20 page=3`"]);
    const third = await app.run("shell:sam", nextCommand(second)!);
    // P-25, no longer within 7 days of the later now, is still in the window page 1 was read over.
    expect(rows(third)).toEqual(seeded.slice(20));
    expect(nextCommand(third)).toBeUndefined();
    await app.store.orders.deleteMany({ _id: { $in: ["N-1", "N-2", "N-3"] } });
    app.clock.set(NOW);
  });

  it("relative and dated input still work; a bad time or an unknown order to continue after is told how to write it, in Chinese too", async () => {
    expect(rows(await app.run("shell:sam", "order search customer=PAGE-1 since=7天 page=3"))).toEqual(seeded.slice(20));
    // A clock with milliseconds: the window is pinned to the second, as the line reads.
    app.clock.set(new Date(Date.parse(NOW) + 123));
    expect(nextCommand(await app.run("shell:sam", "order search customer=PAGE-1 since=7d"))).toBe("order search customer=PAGE-1 since=2026-11-18T04:00:00Z before=P-10 page=2");
    app.clock.set(NOW);
    expect((await app.run("shell:sam", "order search customer=PAGE-1 since=2026-11-18T04:30:00Z")).reply.title).toBe("Orders: 25 match");
    expect((await app.run("shell:sam", "order search customer=PAGE-1 since=2026-11-18T12:30:00+08:00")).reply.title).toBe("Orders: 25 match");
    const badTime = await app.run("shell:sam", "order search customer=PAGE-1 since=2026-11-18T25:00:00Z");
    expect(badTime.outcome).toBe("user_error");
    expect(badTime.reply.text).toContain(
      'since=: "2026-11-18T25:00:00Z" is not a time. Write one in shop time, "2026-11-19 10:00" (in quotes: it has a space) or 2026-11-19T10:00; or as next-page lines do, in UTC (2026-11-19T14:05:00Z) or with its offset (2026-11-19T22:05:00+08:00); or give a day, YYYY-MM-DD.',
    );
    const unknown = await app.run("shell:sam", "order search customer=PAGE-1 before=P-99");
    expect([unknown.code, unknown.reply.text]).toEqual(["unknown_order", "No order P-99 to continue after: before= takes the last order number of the page before, as the next-page line writes it."]);
    expect((await zh("shell:sam", "order search customer=PAGE-1 before=P-99")).reply.text).toBe("没有订单 P-99，无法从它之后继续：before= 应为上一页最后一个订单号，照“下一页”提示的写法即可。");
    const end = await app.run("shell:sam", "order search customer=PAGE-1 before=P-25");
    expect([end.code, end.reply.text]).toEqual(["no_match", "No more matching orders after P-25: it was the last one."]);
  });
});

describe("an order number typed with a space", () => {
  it("`order ORD 100001` says the number has a space and how to write it (en and zh), as does a second number", async () => {
    for (const line of ["order ORD 100001", "order 100001 100002", 'order "ORD 100001"']) {
      const r = await app.run("shell:sam", line);
      expect(r.outcome, line).toBe("user_error");
      const typed = line.slice(6).replace(/"/g, "");
      expect(r.reply.text, line).toBe(
        `Invalid arguments for \`order\`:\n• <orderNo>: "${typed}" is not one order number: an order number has no spaces. Write it as one word, with its hyphen, e.g. ORD-100001 or 100001 (not ORD 100001), and give one order at a time (\`order search\` lists several).`,
      );
    }
    const r = await zh("shell:sam", "order ORD 100001");
    expect(r.reply.text).toContain("\"ORD 100001\" 不是一个订单号：订单号中不能有空格。请连写成一个词（含连字符），例如 ORD-100001 或 100001（不要写成 ORD 100001），且每次只给一个订单号（多个订单请用 `order search` 列出）。");
  });
});

describe("the order card's money", () => {
  beforeAll(async () => {
    await app.store.orders.insertMany([
      paidOrder("D-1", 9000, "2026-11-24T02:00:00Z", { items: [{ sku: "SKU-1", qty: 1, unitPrice: 10000 }], subtotal: 10000, discount: 1000, total: 9000 }),
      // Sent by a shop whose amounts do not add up (stored as sent; its sender was warned).
      paidOrder("D-2", 1500, "2026-11-24T02:00:00Z", { items: [{ sku: "SKU-1", qty: 2, unitPrice: 1000 }], subtotal: 1500, shipping: 200, total: 1500 }),
    ]);
  });

  it("a discount reads with the minus sign other money taken off has (−, not a hyphen), in both languages", async () => {
    expect(field(await app.run("shell:sam", "order D-1"), "Discount")).toBe("−CN¥10.00");
    expect(field(await zh("shell:sam", "order D-1"), "优惠")).toBe("−¥10.00");
  });

  it("amounts that do not add up are said on the card, not only to the API's caller", async () => {
    expect((await app.run("shell:sam", "order D-1")).reply.context).toBeUndefined();
    const r = await app.run("shell:sam", "order D-2");
    expect(r.reply.context).toEqual([
      "The amounts the shop sent do not add up: subtotal CN¥15.00, but the lines add up to CN¥20.00; total CN¥15.00, but subtotal − discount + shipping is CN¥17.00. They are kept as sent (GMV counts the total).",
    ]);
    expect((await zh("shell:sam", "order D-2")).reply.context).toEqual(["店铺发来的金额对不上：小计 ¥15.00，但各行合计为 ¥20.00；总额 ¥15.00，但小计 − 优惠 + 运费为 ¥17.00。已按原样保存（GMV 按总额计）。"]);
  });
});
