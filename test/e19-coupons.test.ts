/**
 * Coupon and amount leftovers, as a marketer types them in English and Chinese: a Confirm typed
 * without its check (or by someone who may not confirm) says nothing was launched and what to do;
 * the coupon types by their Chinese names (满减, 折扣) and 折 figures in Chinese numerals (八折);
 * a start or end written as a span back (`-1d`); and 块 (块钱) as yuan, for coupons and refunds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

const run = (text: string, identity = "shell:max") => app.run(identity, text);
const zh = (text: string, identity = "shell:max") => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const coupons = () => app.store.coupons.countDocuments();

beforeAll(async () => {
  app = await withCast(makeTestApp({}, "2026-11-25T02:00:00Z"), { "shell:max": "manager", "shell:mia": "manager", "shell:sam": "staff" });
  await app.store.products.insertMany([product("SKU-1001", { price: 100_000, cost: 4_000, onHand: 100_000 })]);
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000), paidOrder("ORD-US", 5_000, undefined, { currency: "USD" })]);
});
afterAll(() => app.close());

/** A fresh preview of `code` by `identity`: its id, its check and the Confirm button's line. */
async function preview(code: string, identity = "shell:max"): Promise<{ id: string; hash: string; line: string }> {
  const r = await run(`coupon launch code=${code} type=percent value=10`, identity);
  expect(r.outcome).toBe("ok");
  const line = r.reply.actions![0]!.id;
  const [, id, hash] = /^coupon confirm (D-\S+) h=(\S+)$/.exec(line)!;
  return { id: id!, hash: hash!, line };
}

describe("coupon confirm without h=", () => {
  it("says nothing was launched and gives the caller's own preview's whole line (en and zh), launching nothing", async () => {
    const p = await preview("NOHASH1");
    const before = await coupons();
    const r = await run(`coupon confirm ${p.id}`);
    expect([r.outcome, r.code]).toEqual(["user_error", "missing_hash"]);
    expect(r.reply.text).toBe(`\`coupon confirm ${p.id}\` needs h=, the preview's check that its Confirm button carries; nothing was launched. To confirm preview ${p.id} (NOHASH1), press its Confirm button or type: \`${p.line}\``);
    const z = await zh(`coupon confirm ${p.id.toLowerCase()}`);
    expect(z.reply.text).toContain("未发布任何内容");
    expect(z.reply.text).toContain(`\`${p.line}\``);
    expect(await coupons()).toBe(before);
    // The refusal is on the coupon's audit trail.
    const audit = await run("audit subject=NOHASH1", "shell:admin");
    expect(audit.reply.text ?? JSON.stringify(audit.reply)).toMatch(/missing_hash/);
    // The line it gives launches it.
    expect((await run(p.line)).outcome).toBe("ok");
  });

  it("tells anyone else, and for an unknown or stale preview, to run the preview again; never gives another's check", async () => {
    const p = await preview("NOHASH2");
    const other = await run(`coupon confirm ${p.id}`, "shell:mia");
    expect(other.code).toBe("missing_hash");
    expect(other.reply.text).toContain("nothing was launched. Run `coupon launch` again for a new preview and press its Confirm button.");
    expect(other.reply.text).not.toContain(p.hash);
    expect((await zh(`coupon confirm ${p.id}`, "shell:mia")).reply.text).toContain("未发布任何内容。请重新运行 `coupon launch` 生成新的预览");
    const unknown = await run("coupon confirm D-NOPE00");
    expect(unknown.reply.text).toContain("nothing was launched. Run `coupon launch` again");
    // Replaced by a newer preview of the same code: no line for the stale one.
    await preview("NOHASH2");
    const stale = await run(`coupon confirm ${p.id}`);
    expect(stale.reply.text).toContain("Run `coupon launch` again");
    expect(stale.reply.text).not.toContain(p.hash);
    expect(await app.store.coupons.exists({ _id: "NOHASH2" })).toBeNull();
  });

  it("on a preview already confirmed, says this line launched nothing and the coupon is launched", async () => {
    const p = await preview("NOHASH3");
    expect((await run(p.line)).outcome).toBe("ok");
    const r = await run(`coupon confirm ${p.id}`);
    expect(r.reply.text).toContain("this line launched nothing. Coupon NOHASH3 was already launched from this preview: see `coupon show NOHASH3`.");
    expect((await zh(`coupon confirm ${p.id}`)).reply.text).toContain("优惠券 NOHASH3 已由此预览发布");
  });
});

describe("coupon confirm by someone without the role", () => {
  it("says nothing was launched and that a manager can confirm (en and zh), and launches nothing", async () => {
    const p = await preview("STAFF1");
    const r = await run(p.line, "shell:sam");
    expect([r.outcome, r.code]).toEqual(["denied", "permission_denied"]);
    expect(r.reply.text).toContain("`coupon confirm` needs the manager role; you are staff.");
    expect(r.reply.text).toContain("Nothing was launched: only someone with the manager role or above can confirm a coupon; ask one to press Confirm on the preview.");
    expect((await zh(p.line, "shell:sam")).reply.text).toContain("未发布任何内容：只有经理（manager）或以上角色才能确认优惠券");
    expect(await app.store.coupons.exists({ _id: "STAFF1" })).toBeNull();
    // Other commands' denials are unchanged.
    expect((await run("coupon pause STAFF1", "shell:sam")).reply.text).not.toContain("Nothing was launched");
  });
});

describe("coupon types and 折 as Chinese marketers write them", () => {
  it("reads 满减, 立减, 减 as fixed and 折扣, 打折, 折, 百分比 as percent", async () => {
    for (const type of ["满减", "立减", "减", "满减券"]) {
      const r = await zh(`coupon launch code=CNTYPE type=${type} value=20 min=150`);
      expect([type, r.outcome]).toEqual([type, "ok"]);
      expect(field(r, "折扣")).toBe("满 ¥150.00 减 ¥20.00");
    }
    for (const type of ["折扣", "打折", "折", "百分比", "折扣券"]) {
      const r = await zh(`coupon launch code=CNTYPE type=${type} value=15`);
      expect([type, r.outcome]).toEqual([type, "ok"]);
      expect(field(r, "折扣")).toBe("减 15%（8.5 折）");
    }
    expect(field(await run("coupon launch code=CNTYPE type=满减 value=20 min=150"), "Discount")).toBe("CN¥20.00 off orders from CN¥150.00");
    const bad = await zh("coupon launch code=CNTYPE type=优惠 value=15");
    expect(bad.reply.text).toContain('"优惠" 不是优惠券类型：请用 percent（折扣：按百分比减）或 fixed（满减：减固定金额）。');
  });

  it("refuses 八折 and 八五折 with the percent off to type, and a 折 on a fixed coupon with the percent coupon it means", async () => {
    for (const [value, off] of [["八折", 20], ["八五折", 15], ["七折", 30], ["八点五折", 15]] as const) {
      const r = await run(`coupon launch code=ZHE8 type=percent value=${value}`);
      expect(r.code).toBe("bad_percent");
      expect(r.reply.text).toContain(`Percent "${value}": 折 gives the share of the price paid, while value= is the percent off: ${value} is ${off}% off, so write value=${off}.`);
    }
    expect((await zh("coupon launch code=ZHE8 type=折扣 value=八折")).reply.text).toContain("八折 即减 20%，请写 value=20");
    const fixed = await run("coupon launch code=ZHE8 type=fixed value=8折 min=100");
    expect(fixed.code).toBe("bad_fixed");
    expect(fixed.reply.text).toContain('Fixed discount "8折": 折 is for percent coupons (8折 is 20% off: `coupon launch code=ZHE8 type=percent value=20 min=100`); a fixed discount is an amount in the shop currency, e.g. 20 or 19.90.');
    expect((await zh("coupon launch code=ZHE8 type=满减 value=8折 min=100")).reply.text).toContain("折 只用于百分比优惠券（8折 即减 20%：`coupon launch code=ZHE8 type=percent value=20 min=100`）");
  });
});

describe("a start or end written as a span back", () => {
  it("refuses start=-1d (and -2h, -1天, −1d) as past with what to type, not as unreadable (en and zh)", async () => {
    for (const start of ["-1d", "-2h", "−1d", "-3天"]) {
      const r = await run(`coupon launch code=BACK1 type=percent value=10 start=${start}`);
      expect([start, r.code]).toEqual([start, "start_in_past"]);
      expect(r.reply.text).toContain(`The start (${start}) is already past. Leave start out (or use start=now) to start at once, or give a later time.`);
    }
    expect((await zh("coupon launch code=BACK1 type=percent value=10 start=-1天")).reply.text).toContain("开始时间（-1天）已过。不写 start（或用 start=now）即可立即开始");
    const end = await run("coupon launch code=BACK1 type=percent value=10 end=-1d");
    expect(end.code).toBe("end_in_past");
    expect(end.reply.text).toContain("The end (-1d) is already past.");
  });
});

describe("块 (块钱) as yuan", () => {
  it("reads value=20块 and min=150块钱 in a CNY shop, and refund amounts 20块 / 5块钱", async () => {
    const r = await run("coupon launch code=KUAI20 type=fixed value=20块 min=150块钱");
    expect(r.outcome).toBe("ok");
    expect(field(r, "Discount")).toBe("CN¥20.00 off orders from CN¥150.00");
    for (const [amount, minor] of [["20块", 2_000], ["5块钱", 500], ["１０块", 1_000]] as const) {
      const q = await run(`refund request ORD-1 ${amount} reason=damaged`, "shell:sam");
      expect([amount, q.outcome]).toEqual([amount, "ok"]);
      const id = /R-[0-9A-Z]{6}/.exec(q.reply.title ?? "")![0];
      expect(await app.store.refundRequests.findById(id).lean()).toMatchObject({ orderNo: "ORD-1", amount: minor });
    }
  });

  it("refuses 块 on a USD order naming its currency, and on a percent coupon as an amount", async () => {
    const q = await run("refund request ORD-US 20块 reason=damaged", "shell:sam");
    expect([q.code, q.reply.text]).toEqual(["bad_amount", '"20块" is in another currency than order ORD-US, which is in USD: give the amount in USD, e.g. 25.00, or full.']);
    const p = await run("coupon launch code=KUAI20 type=percent value=20块");
    expect(p.reply.text).toContain('Percent "20块": a currency sign is for fixed coupons, which need a minimum spend above the discount (e.g. `coupon launch code=KUAI20 type=fixed value=20 min=100`)');
  });

  it("refuses 块 in a shop of another currency, naming the shop's (en and zh)", async () => {
    const usd = await withCast(makeTestApp({ SHOP_CURRENCY: "USD" }, "2026-11-25T02:00:00Z"), { "shell:max": "manager" });
    try {
      const r = await usd.run("shell:max", "coupon launch code=KUAI20 type=fixed value=20块 min=150块钱");
      expect(r.code).toBe("coupon_invalid");
      expect(r.reply.text).toContain('Fixed discount "20块": coupons are in the shop currency, USD; give the amount in USD, e.g. 20 or 19.90.');
      expect(r.reply.text).toContain('Minimum spend "150块钱": coupons are in the shop currency, USD; give the amount in USD, e.g. 100.');
      const z = await usd.core.invoke({ identity: "shell:max", platform: "shell", text: "coupon launch code=KUAI20 type=fixed value=20块 min=150", locale: "zh-CN" });
      expect(z.reply.text).toContain('固定折扣 "20块"：优惠券使用店铺币种 USD；请用 USD 填写金额');
      expect(await usd.store.couponDrafts.countDocuments()).toBe(0);
    } finally {
      await usd.close();
    }
  });
});
