import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";
import { parseArgs, quote } from "../src/core/parser.js";

// Typing commands: quotes in free text, options typed on a Chinese keyboard, option names in
// camelCase, values with spaces, command names typed full-width.

let app: TestApp;
const en = (text: string) => app.run("shell:admin", text);
const zh = (text: string) => app.core.invoke({ identity: "shell:admin", platform: "shell", text, locale: "zh-CN" });
const textOf = async (r: { reply: { text?: string } }) => {
  const id = /C-[0-9A-Z]{6}/.exec(r.reply.text ?? "")?.[0] ?? /C-[0-9A-Z]{6}/.exec(JSON.stringify(r.reply))?.[0];
  return (await app.store.complaints.findById(id).lean())?.text;
};

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-P1", { onHand: 20 })]);
  await app.store.orders.insertMany([paidOrder("ORD-P1", 10_000, undefined, { status: "paid" }), paidOrder("ORD-P2", 5_000, undefined, { customerId: "CUST-P2" })]);
});
afterAll(async () => {
  await app.close();
});

describe("quotes typed in free text", () => {
  it("an apostrophe or a quote inside a word is text: the complaint is stored as typed", async () => {
    for (const typed of [
      "Customer's parcel didn't arrive",
      "Customer's parcel is late",
      "客户说“质量太差”要退货",
      'The "free shipping" banner was wrong',
      'Size 10" screen cracked',
      "“质量太差”要退货",
      'He said "no".',
    ]) {
      const r = await en(`complaint new ${typed}`);
      expect(r.outcome, `${typed}: ${r.reply.text}`).toBe("ok");
      expect(await textOf(r), typed).toBe(typed);
    }
    // Text typed wholly in quotes is what is inside them, as before.
    expect(await textOf(await en('complaint new severity=high "box arrived crushed, mug broken"'))).toBe("box arrived crushed, mug broken");
    expect(await textOf(await en("complaint new 'lid said \"no\"'"))).toBe('lid said "no"');
  });

  it("an apostrophe in an option's value is text; the words after it get the quoting hint, and nothing changes", async () => {
    const cancel = await en("order cancel ORD-P1 reason=customer's request");
    expect([cancel.code, cancel.reply.text]).toEqual([
      "invalid_args",
      "Invalid arguments for `order cancel`:\n• unexpected extra argument \"request\": put a value with spaces in quotes: reason=\"customer's request\"",
    ]);
    const adjust = await en("stock adjust SKU-P1 -1 reason=customer's return didn't count");
    expect(adjust.reply.text).toBe(
      "Invalid arguments for `stock adjust`:\n• unexpected extra argument \"return didn't count\": put a value with spaces in quotes: reason=\"customer's return didn't count\"",
    );
    expect((await app.store.orders.findById("ORD-P1").lean())?.status).toBe("paid");
    expect((await app.store.products.findById("SKU-P1").lean())?.onHand).toBe(20);
    // Quoted as the hint says, it works.
    expect((await en(`stock adjust SKU-P1 -1 reason="customer's return didn't count"`)).outcome).toBe("ok");
    expect((await app.store.products.findById("SKU-P1").lean())?.onHand).toBe(19);
  });

  it("a quote opened and never closed is still refused, its example the line typed, closed", async () => {
    const text = await en("complaint new 'parcel is late");
    expect(text.code).toBe("unclosed_quote");
    expect(text.reply.text).toContain("Close it: 'parcel is late'.");
    expect(text.reply.text).not.toContain("reason=");
    const opt = await en('order cancel ORD-P1 reason="customer request');
    expect(opt.code).toBe("unclosed_quote");
    expect(opt.reply.text).toContain('Close it: reason="customer request".');
    expect((await zh("complaint new “质量太差")).reply.text).toContain("请闭合引号：“质量太差”。");
    expect((await app.store.orders.findById("ORD-P1").lean())?.status).toBe("paid");
  });

  it("what the Discord adapter quotes reads back unchanged", () => {
    for (const v of ["customer's", "it's 10\" wide", "“质量”“服务”都差", 'a\\"b', "severity:urgent", "https://x.test/a"]) {
      expect(parseArgs(`x ${quote(v)}`).positional.slice(1), v).toEqual([v]);
      expect(parseArgs(`x text=${quote(v)}`).named, v).toEqual({ text: v });
    }
  });
});

describe("options typed on a Chinese keyboard", () => {
  it("full-width option names are options, not complaint text", async () => {
    const r = await zh("complaint new ｓｅｖｅｒｉｔｙ＝紧急 ｃａｔｅｇｏｒｙ＝商品损坏 ｏｒｄｅｒ＝ＯＲＤ－Ｐ２ 全角模式输入");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(await app.store.complaints.findOne({ text: "全角模式输入" }).lean()).toMatchObject({ severity: "urgent", category: "damaged", orderNo: "ORD-P2" });
  });

  it("an option typed with a colon is refused, saying to write it with =, and nothing is filed", async () => {
    const before = await app.store.complaints.countDocuments();
    const r = await zh("complaint new severity：紧急 order：ORD-P2 冒号分隔");
    expect([r.code, r.reply.text]).toEqual([
      "invalid_args",
      "`complaint new` 的参数无效：\n• “severity：紧急”是用冒号写的选项：选项请用 = 连接，例如 severity=紧急（如果这本来就是正文，请给文字加上引号）\n• “order：ORD-P2”是用冒号写的选项：选项请用 = 连接，例如 order=ORD-P2（如果这本来就是正文，请给文字加上引号）",
    ]);
    expect((await en("complaint new ＳＥＶＥＲＩＴＹ:high lid")).code).toBe("invalid_args");
    expect(await app.store.complaints.countDocuments()).toBe(before);
    // A link, or a word that is no option of the command, stays text; so does the text quoted.
    expect(await textOf(await en("complaint new see https://shop.test/x and note:lid"))).toBe("see https://shop.test/x and note:lid");
    expect(await textOf(await en('complaint new "severity: the customer says it is urgent"'))).toBe("severity: the customer says it is urgent");
  });
});

describe("option names and values", () => {
  it("an option named in camelCase, as the schema spells it, is taken", async () => {
    const r = await en("order orderNo=ORD-P2");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.text ?? JSON.stringify(r.reply)).toContain("ORD-P2");
    // Two spellings of one option are one option given twice.
    expect((await en("order orderNo=ORD-P2 order-no=ORD-P1")).reply.text).toContain("order-no= is given more than once");
  });

  it("words after an option's value are refused with how to quote the value, in both languages", async () => {
    const r = await en("order cancel ORD-P1 reason=customer changed mind");
    expect(r.reply.text).toBe(
      'Invalid arguments for `order cancel`:\n• unexpected extra argument "changed mind": put a value with spaces in quotes: reason="customer changed mind"',
    );
    expect((await zh("order cancel ORD-P1 reason=客户 改主意了")).reply.text).toContain('多余的参数 "改主意了"：值中有空格时请加引号，例如 reason="客户 改主意了"');
    expect((await app.store.orders.findById("ORD-P1").lean())?.status).toBe("paid");
  });
});

describe("command names typed full-width", () => {
  it("run as the command they spell", async () => {
    const stock = await zh("ｓｔｏｃｋ　ＳＫＵ－Ｐ１");
    expect(stock.command, stock.reply.text).toBe("stock");
    expect(stock.outcome).toBe("ok");
    const help = await zh("ｈｅｌｐ");
    expect([help.command, help.outcome]).toEqual(["help", "ok"]);
    expect((await zh("ｓｔｏｃｋ　ａｄｊｕｓｔ SKU-P1 +1 reason=到货")).command).toBe("stock adjust");
    // A typo typed full-width gets the suggestion.
    expect((await zh("ｓｔｏｋ")).reply.text).toContain("`stock`");
  });
});
