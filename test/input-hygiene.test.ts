import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

// Chat arguments that were dropped, doubled or answered misleadingly; each refusal changes nothing.

let app: TestApp;
const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-H1", { category: "Home", price: 10_000, cost: 4_000 })]);
});
afterAll(async () => {
  await app.close();
});

describe("complaint new", () => {
  it("refuses author= without link= instead of filing the complaint as the caller", async () => {
    const r = await app.run("shell:admin", "complaint new customer=HYG-1 author=shell:x hello");
    expect(r).toMatchObject({ outcome: "user_error", code: "invalid_args" });
    expect(r.reply.text).toBe("author= goes with link=: give the message's link, or leave author= out.");
    expect((await zh("complaint new customer=HYG-1 author=shell:x 你好")).reply.text).toBe("author= 需与 link= 一起使用：请给出该消息的链接，或去掉 author=。");
    expect(await app.store.complaints.countDocuments({ customerId: "HYG-1" })).toBe(0);
    // With its link, author= is who filed it, as before.
    const ok = await app.run("shell:admin", "complaint new customer=HYG-1 link=https://shop.slack.com/archives/C1/p1 author=shell:x hello");
    expect(ok.outcome, ok.reply.text).toBe("ok");
    expect(await app.store.complaints.countDocuments({ customerId: "HYG-1" })).toBe(1);
  });
});

describe("audit", () => {
  it("refuses an empty actor= or command= as it refuses an empty subject=, rather than showing the whole trail", async () => {
    await app.run("shell:admin", "whoami");
    for (const key of ["actor", "command", "subject"]) {
      const r = await app.run("shell:admin", `audit ${key}=`);
      expect(r, key).toMatchObject({ outcome: "user_error", code: "invalid_args" });
      expect(r.reply.text, key).toContain(`${key}=: cannot be empty`);
      expect(r.reply.table, key).toBeUndefined();
    }
    expect((await app.run("shell:admin", "audit actor=shell:admin")).reply.table?.rows.length).toBeGreaterThan(0);
  });
});

describe("apikey create", () => {
  it("stores and shows a scope given twice once", async () => {
    const r = await app.run("shell:admin", "apikey create twice scopes=orders,ORDERS，orders,products");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.text).toMatch(/orders, products/);
    expect(r.reply.text).not.toMatch(/orders, orders/);
    expect((await app.store.apiKeys.findOne({ label: "twice" }).lean())!.scopes).toEqual(["orders", "products"]);
  });
});

describe("coupon launch", () => {
  it("reads type= in any case, and quotes a wrong one back", async () => {
    for (const type of ["PERCENT", "Percent", "ｐｅｒｃｅｎｔ"]) {
      const r = await app.run("shell:admin", `coupon launch code=CASE1 type=${type} value=10`);
      expect(r.outcome, `${type}: ${r.reply.text}`).toBe("ok");
    }
    expect((await app.run("shell:admin", "coupon launch code=CASE2 type=FIXED value=10 min=100")).outcome).toBe("ok");
    const bad = await app.run("shell:admin", "coupon launch code=CASE3 type=percentage value=10");
    expect(bad).toMatchObject({ outcome: "user_error", code: "invalid_args" });
    expect(bad.reply.text).toContain('type=: "percentage" is not a coupon type: use percent (a % off) or fixed (an amount off).');
    expect((await zh("coupon launch code=CASE3 type=百分 value=10")).reply.text).toContain('"百分" 不是优惠券类型');
  });

  it("a minimum spend that is no amount is told once, without a follow-on about the discount being above it", async () => {
    const r = await app.run("shell:admin", "coupon launch code=MINBAD type=fixed value=10 min=-1");
    expect(r).toMatchObject({ outcome: "user_error", code: "bad_min" });
    expect(r.reply.text).toContain('Minimum spend "-1": use an amount');
    expect(r.reply.text).not.toContain("below the minimum spend");
    // A real minimum the discount is not below is still told.
    const above = await app.run("shell:admin", "coupon launch code=MINLOW type=fixed value=10 min=5");
    expect(above).toMatchObject({ outcome: "user_error", code: "fixed_not_below_min" });
  });
});

describe("quotes, help and digest days", () => {
  it("an unclosed quote says how to put a quote inside a value (the other kind of quote), and that way works", async () => {
    // The parser has no escape character: \" ends the quote, and the last " opens one never closed.
    const r = await app.run("shell:admin", 'refund reject R-1 reason="a\\"b"');
    expect(r).toMatchObject({ outcome: "user_error", code: "unclosed_quote" });
    expect(r.reply.text).toContain("wrap it in the other kind: reason='said \"no\"'");
    expect((await zh('complaint new customer=HYG-2 "a\\"b"')).reply.text).toContain("用另一种引号括起来");
    const ok = await app.run("shell:admin", `complaint new customer=HYG-2 'lid said "no"'`);
    expect(ok.outcome, ok.reply.text).toBe("ok");
    expect(await app.store.complaints.findOne({ customerId: "HYG-2" }).lean()).toMatchObject({ text: 'lid said "no"' });
  });

  it("help with a pasted paragraph echoes 40 characters of it, as an unknown command does", async () => {
    const long = "x".repeat(1400);
    const r = await app.run("shell:admin", `help ${long}`);
    expect(r.code).toBe("unknown_command");
    expect(r.reply.text).toBe(`No command \`${"x".repeat(40)}…\` that you can run. Type \`help\` for the list.`);
    expect((await app.run("shell:admin", `${long}`)).reply.text).toContain(`${"x".repeat(40)}…`);
  });

  it("a digest day before 1970 is told as the earliest day taken, not as 'not a day'", async () => {
    for (const line of ["digest 1900-01-01", "digest rebuild 1900-01-01"]) {
      const r = await app.run("shell:admin", line);
      expect(r, line).toMatchObject({ outcome: "user_error", code: "bad_day" });
      expect(r.reply.text, line).toBe('"1900-01-01" is not a day the digest covers. Use today, yesterday, a date from 1970-01-01 on as YYYY-MM-DD (e.g. 2026-11-24), or a day without a year as month/day, 11/24 or 11月24日 (the latest such day, today or before). A weekday reads too: friday or fri, the latest one, today or before.');
    }
    expect((await zh("digest 1900-01-01")).reply.text).toContain("1970-01-01 起的日期");
    expect((await app.run("shell:admin", "digest 1970-01-01")).outcome).toBe("ok");
  });
});
