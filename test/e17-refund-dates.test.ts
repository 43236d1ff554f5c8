/**
 * Refund and date leftovers (issues #3 and #4): a note given to an approval that records none is
 * said not recorded; yuan amounts as Chinese staff type them (RMB￥25, 人民币25元, RMB 25 apart);
 * the shop's own refund closing a request reads without a double colon; `digest` and since=
 * refusals list the day without a year; 2/29 looked back at is the latest real 29 February.
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
afterEach(() => app?.close());

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const idOf = (title: string | undefined) => /R-[0-9A-Z]{6}/.exec(title ?? "")![0];

/** A fresh app (CNY, Asia/Shanghai) with staff, support and two managers, and orders of ¥300 and ¥4,000. */
async function fresh(now?: string): Promise<TestApp> {
  app = await withCast(makeTestApp({}, now), USUAL_CAST);
  await app.store.orders.insertMany([paidOrder("ORD-1", 30_000), paidOrder("ORD-4", 400_000)]);
  return app;
}

describe("refund approve note= on an approval that records none", () => {
  it("a manager's note on a request already approved is said not recorded (en, zh), and the audit trail keeps it as typed", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-1 100 reason=dented")).reply.title);
    expect((await app.run("shell:sue", `refund approve ${id}`)).outcome).toBe("ok");
    const r = await app.run("shell:mia", `refund approve ${id} note="photos checked, customer is a regular"`);
    expect([r.outcome, r.code, r.reply.text]).toEqual([
      "ok",
      "already_approved",
      `Refund request ${id} was already approved by shell:sue; nothing changed.\nYour note was not added to ${id}: a note is kept with the approval it is given with, and this command recorded no approval. Only the audit trail has it, in the command as typed (\`audit subject=${id}\`).`,
    ]);
    const z = await zh("shell:max", `refund approve ${id} note=照片已核实`);
    expect(z.reply.text).toContain(`你的备注未添加到 ${id}：备注随其所附的审批保存，而这条命令没有记录新的审批。`);
    // Nothing written to the request; the command is on the trail with the note.
    expect((await app.services.refund.get(id))!.approvals.map((a) => [a.by, a.note ?? null])).toEqual([["shell:sue", null]]);
    const entry = await app.store.audit.findOne({ actor: "shell:mia", command: "refund approve" }).lean();
    expect(entry).toMatchObject({ outcome: "ok", code: "already_approved", args: expect.stringContaining("photos checked, customer is a regular") });
    // Without a note, nothing about notes.
    expect((await app.run("shell:max", `refund approve ${id}`)).reply.text).toBe(`Refund request ${id} was already approved by shell:sue; nothing changed.`);
  });

  it("a first manager approving again with a note while a second is awaited is told the note was not recorded", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-4 3000 reason=lost")).reply.title);
    expect((await app.run("shell:mia", `refund approve ${id} note=first`)).outcome).toBe("ok");
    const again = await app.run("shell:mia", `refund approve ${id} note="second thoughts"`);
    expect([again.code, again.reply.text]).toEqual(["awaiting_second_approval", expect.stringContaining(`Your note was not added to ${id}`)]);
    expect((await app.services.refund.get(id))!.approvals.map((a) => a.note)).toEqual(["first"]);
    // The policy changes so that one manager's approval is enough: approving again completes it, the new note said not recorded.
    expect((await app.run("shell:admin", "refund policy set manager=5000")).outcome).toBe("ok");
    const done = await app.run("shell:mia", `refund approve ${id} note="all good now"`);
    expect([done.outcome, done.reply.context]).toEqual(["ok", [expect.stringContaining(`Your note was not added to ${id}`)]]);
    expect((await app.services.refund.get(id))!).toMatchObject({ status: "approved", approvals: [{ by: "shell:mia", note: "first" }] });
    // An approval that records the note says nothing about it.
    const other = idOf((await app.run("shell:sam", "refund request ORD-1 50 reason=dented")).reply.title);
    expect((await app.run("shell:sue", `refund approve ${other} note=ok`)).reply.context).toBeUndefined();
  });
});

describe("refund request: yuan amounts as Chinese staff type them", () => {
  it("reads RMB￥25, RMB¥25, 人民币25元, 人民币25, \"RMB 25\", CNY25, rmb25, ￥25元 on a CNY order; another currency's sign beside them is refused", async () => {
    await fresh();
    for (const amount of ["RMB￥25", "RMB¥25", "人民币25元", "人民币25", '"RMB 25"', "CNY25", "rmb25", "￥25元", '"RMB ￥25"']) {
      const r = await app.run("shell:sam", `refund request ORD-1 ${amount} reason=damaged`);
      expect([amount, r.outcome, r.code]).toEqual([amount, "ok", undefined]);
      expect((await app.services.refund.get(idOf(r.reply.title)))!.amount).toBe(2_500);
      await app.run("shell:sue", `refund reject ${idOf(r.reply.title)} reason=test`);
    }
    // Another currency beside the yuan's is still refused naming the order's currency; on a USD order the yuan's signs are.
    const before = await app.store.refundRequests.countDocuments({});
    await app.store.orders.insertOne(paidOrder("ORD-US", 5_000, undefined, { currency: "USD" }) as never);
    for (const [orderNo, amount, currency] of [["ORD-1", "RMB$25", "CNY"], ["ORD-1", "US$25元", "CNY"], ["ORD-US", "人民币25元", "USD"], ["ORD-US", "RMB￥25", "USD"]] as const) {
      const r = await app.run("shell:sam", `refund request ${orderNo} ${amount} reason=damaged`);
      expect([r.code, r.reply.text]).toEqual(["bad_amount", `"${amount}" is in another currency than order ${orderNo}, which is in ${currency}: give the amount in ${currency}, e.g. 25.00, or full.`]);
    }
    expect(await app.store.refundRequests.countDocuments({})).toBe(before);
  });

  it("RMB 25 or 25 元 typed apart is refused saying to write it as one word, with the line (en, zh)", async () => {
    await fresh();
    const r = await app.run("shell:sam", 'refund request ord-1 RMB 25 reason="arrived damaged"');
    expect([r.code, r.reply.text]).toEqual([
      "invalid_args",
      'Invalid arguments for `refund request`:\n• "RMB 25" is one amount, typed with a space: write it as one word, `refund request ORD-1 RMB25 reason="arrived damaged"`.',
    ]);
    const z = await zh("shell:sam", "refund request ORD-1 25 元 reason=破损");
    expect(z.reply.text).toContain("\"25 元\" 是一个金额，中间多了空格：请连在一起写，`refund request ORD-1 25元 reason=破损`。");
    // A word that is no currency stays the core's extra argument.
    expect((await app.run("shell:sam", "refund request ORD-1 25 box reason=x")).reply.text).toContain('unexpected extra argument "box"');
    expect(await app.store.refundRequests.countDocuments({})).toBe(0);
  });
});

describe("the shop's own refund closing a request", () => {
  it("the requester's notice and the card read with one colon, en and zh", async () => {
    await fresh();
    const id = idOf((await app.run("shell:sam", "refund request ORD-1 20 reason=scratched")).reply.title);
    await app.store.orders.updateOne({ _id: "ORD-1" }, { $set: { refundedTotal: 30_000, status: "refunded" } });
    expect(await app.services.refund.closeExhausted("ORD-1")).toEqual([id]);
    const notice = await app.store.outbox.findById(`refund:${id}:rejected`).lean<{ reply: { text: string } }>();
    expect(notice!.reply.text).toBe(`Your refund request ${id} for CN¥20.00 on order ORD-1 was rejected by system: the shop refunded the order in full, so nothing is left to refund`);
    const card = await zh("shell:sam", `refund show ${id}`);
    const rejected = card.reply.fields!.find((f) => f.label === "拒绝人")!.value;
    expect(rejected).toBe("system（原因：店铺已全额退款该订单，没有可退的余额）");
  });
});

describe("date refusals name the day without a year", () => {
  it("digest <bad day> lists 11/24 and 11月24日 (en, zh); since= in order search, audit and refund list too", async () => {
    await fresh();
    const r = await app.run("shell:mia", "digest someday");
    expect(r.reply.text).toBe('"someday" is not a day the digest covers. Use today, yesterday, a date from 1970-01-01 on as YYYY-MM-DD (e.g. 2026-11-24), or a day without a year as month/day, 11/24 or 11月24日 (the latest such day, today or before). A weekday reads too: friday or fri, the latest one, today or before.');
    expect((await zh("shell:mia", "digest someday")).reply.text).toContain("或不带年份的 11月24日、11/24（月/日，按今天或之前最近的这一天读取）");
    for (const line of ["order search since=someday", "audit since=someday", "refund list all since=someday"]) {
      const s = await app.run("shell:mia", line);
      expect([line, s.code, s.reply.text]).toEqual([line, "invalid_args", expect.stringContaining('"someday" is not a date. Use YYYY-MM-DD, a day without a year as month/day, 11/24 or 11月24日 (the latest such day, today or before), today')]);
    }
  });
});

describe("29 February without a year, looked back at", () => {
  it("in January 2027 digest 2/29, 02-29 and 2月29日 are 2024-02-29, the latest there was; since=2/29 too", async () => {
    await fresh("2027-01-15T04:00:00Z");
    for (const day of ["2/29", "02-29", "2月29日"]) {
      const r = await app.run("shell:mia", `digest ${day}`);
      expect([day, r.outcome, r.reply.title]).toEqual([day, "ok", "Daily digest: 2024-02-29"]);
    }
    await app.store.orders.insertMany([
      paidOrder("LP-1", 1000, "2024-02-28T04:00:00Z", { customerId: "LP", createdAt: new Date("2024-02-28T04:00:00Z") }),
      paidOrder("LP-2", 1000, "2024-03-01T04:00:00Z", { customerId: "LP", createdAt: new Date("2024-03-01T04:00:00Z") }),
    ]);
    const s = await app.run("shell:sam", "order search customer=LP since=2/29");
    expect([s.outcome, s.reply.table?.rows.map((row) => row[0])]).toEqual(["ok", ["LP-2"]]);
    // In a leap year after the day, this year's; before it in a leap year, 2024's again (2028 is ahead).
    app.clock.set("2028-01-10T04:00:00Z");
    expect((await app.run("shell:mia", "digest 2/29")).reply.title).toBe("Daily digest: 2024-02-29");
    app.clock.set("2028-03-10T04:00:00Z");
    expect((await app.run("shell:mia", "digest 2/29")).reply.title).toBe("Daily digest: 2028-02-29");
  });
});
