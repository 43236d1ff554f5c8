import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommandSet, commandLine } from "../adapters/discord/commands.js";
import { commandsOnce } from "../src/app.js";
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
  await app.store.products.insertMany([
    product("SKU-P1", { onHand: 20 }),
    product("SKU-P4", { name: "Wireless Mouse Black" }),
    product("SKU-P5", { name: "不锈钢 保温杯 500ml" }),
  ]);
  await app.store.orders.insertMany([
    paidOrder("ORD-P1", 10_000, undefined, { status: "paid" }),
    paidOrder("ORD-P2", 5_000, undefined, { customerId: "CUST-P2" }),
    paidOrder("ORD-P3", 5_000, undefined, { status: "paid" }),
  ]);
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

describe("quotes after an option typed with a colon, quotes around search words, nested quotes", () => {
  it("key:\"value\" of the command's own option is refused with the value as one, quoted once", async () => {
    const cancel = await en('order cancel ORD-P3 reason:"customer changed mind"');
    expect([cancel.code, cancel.reply.text]).toEqual([
      "invalid_args",
      'Invalid arguments for `order cancel`:\n• "reason:customer changed mind" is an option typed with a colon: write it with =, e.g. reason="customer changed mind" (if it is meant as text, put the text in quotes)',
    ]);
    const before = await app.store.complaints.countDocuments();
    const sev = await en('complaint new severity:"high" broken');
    expect([sev.code, sev.reply.text]).toEqual([
      "invalid_args",
      'Invalid arguments for `complaint new`:\n• "severity:high" is an option typed with a colon: write it with =, e.g. severity=high (if it is meant as text, put the text in quotes)',
    ]);
    expect((await zh("order cancel ORD-P3 reason：“客户改主意了”")).reply.text).toBe(
      "`order cancel` 的参数无效：\n• “reason：客户改主意了”是用冒号写的选项：选项请用 = 连接，例如 reason=客户改主意了（如果这本来就是正文，请给文字加上引号）",
    );
    expect(await app.store.complaints.countDocuments()).toBe(before);
    expect((await app.store.orders.findById("ORD-P3").lean())?.status).toBe("paid");
    // In free text such a word is kept as typed; a quote after it that never closes is text, as before.
    expect(await textOf(await en('complaint new note:"fragile" box, lid:"cracked"'))).toBe('note:"fragile" box, lid:"cracked"');
    expect(await textOf(await en('complaint new customer wrote:"the box was crushed'))).toBe('customer wrote:"the box was crushed');
  });

  it("a Discord complaint whose one word starts with an option's name is filed as that text", async () => {
    const route = buildCommandSet(await commandsOnce()).routes.get("complaint new")!;
    for (const text of ["customer:angry", "ORDER：ORD-P2", "severity:high"]) {
      const line = commandLine(route, new Map([["text", text]]));
      const r = await en(line);
      expect(r.outcome, `${line}: ${r.reply.text}`).toBe("ok");
      expect(await textOf(r)).toBe(text);
    }
    // An identity stays as written (`audit actor=shell:bob`, `role grant shell:bob`): no option is named so.
    expect([quote("shell:bob"), quote("slack:T1:U1"), quote("api:shop#k1")]).toEqual(["shell:bob", "slack:T1:U1", "api:shop#k1"]);
  });

  it("a search reads its words without the quotes that group them", async () => {
    for (const line of ['stock "wireless" mouse', 'stock wireless "mouse"', 'stock "wireless mouse"', "stock 'Wireless'  \"black\""]) {
      const r = await en(line);
      expect([r.outcome, r.reply.title], `${line}: ${r.reply.text}`).toEqual(["ok", "Wireless Mouse Black (SKU-P4)"]);
    }
    const cup = await zh("stock 「保温杯」 500ml");
    expect([cup.outcome, cup.reply.title], cup.reply.text).toEqual(["ok", "不锈钢 保温杯 500ml（SKU-P5）"]);
    // Nothing found: the words are named without the quotes.
    expect((await en('stock "wireless" keyboard')).reply.text).not.toContain('"wireless"');
    const help = await en('help "stock" adjust');
    expect([help.outcome, help.reply.title]).toEqual(["ok", "stock adjust"]);
  });

  it("help finds a command typed full-width", async () => {
    const one = await zh("help ｓｔｏｃｋ");
    expect([one.outcome, one.reply.title], one.reply.text).toEqual(["ok", (await zh("help stock")).reply.title]);
    expect(one.reply.title).toContain("stock adjust");
    const two = await zh("help ｓｔｏｃｋ　ＡＤＪＵＳＴ");
    expect([two.outcome, two.reply.title], two.reply.text).toEqual(["ok", "stock adjust"]);
  });

  it("a quote nested in a quote of its own kind gets the whole word in the other kind as the example", async () => {
    const nested = await en('complaint new "She said "no""');
    expect(nested.code).toBe("unclosed_quote");
    expect(nested.reply.text).toContain(`Close it: 'She said "no"'.`);
    const opt = await en('order cancel ORD-P3 reason="She said "no""');
    expect(opt.reply.text).toContain(`Close it: reason='She said "no"'.`);
    const lone = await en('complaint new He said "');
    expect(lone.reply.text).toContain(`Close it: '"'.`);
    // As the example says, it is taken.
    expect(await textOf(await en(`complaint new 'She said "no"'`))).toBe('She said "no"');
    expect((await app.store.orders.findById("ORD-P3").lean())?.status).toBe("paid");
  });
});
