import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, makeTestApp, paidOrder, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

/** Runs `text` as `identity` with Chinese replies. */
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:sue": "support" }); // 2026-11-25 12:00 in Shanghai
});
afterAll(() => app.close());

describe("a full refund asked when part of the order is refunded or requested already", () => {
  it("the card says it is the rest of the order's total, not the whole order; a full refund of an untouched order says full refund", async () => {
    await app.store.orders.insertMany([paidOrder("F-1", 8998), paidOrder("F-2", 8998), paidOrder("F-3", 8998)]);
    // Untouched: the whole order.
    const whole = await app.run("shell:sam", "refund request F-1 full reason=lost");
    expect(field(whole, "Amount")).toBe("CN¥89.98 (full refund)");

    // A request for part of it awaits a decision: "full" asks the rest.
    expect((await app.run("shell:sam", "refund request F-2 58.00 reason=late")).outcome).toBe("ok");
    const rest = await app.run("shell:sam", "refund request F-2 full reason=lost");
    expect(field(rest, "Amount")).toBe("CN¥31.98 (all that was left of CN¥89.98 paid: the rest is refunded or asked in other requests)");
    const id = /R-[A-Z0-9]+/.exec(rest.reply.title!)![0];
    // Its card says so wherever it is shown again, in Chinese too.
    expect(field(await app.run("shell:sue", `refund show ${id}`), "Amount")).toBe(field(rest, "Amount"));
    expect(field(await zh("shell:sue", `refund show ${id}`), "金额")).toBe("¥31.98（实付 ¥89.98 中剩余的全部：其余已退款或在其他退款申请中）");

    // Part refunded already (approved and executed): "full" is the rest as well.
    const part = await app.run("shell:sam", "refund request F-3 20.00 reason=scratch");
    const partId = /R-[A-Z0-9]+/.exec(part.reply.title!)![0];
    expect((await app.run("shell:sue", `refund approve ${partId}`)).outcome).toBe("ok");
    expect(field(await app.run("shell:sam", "refund request F-3 full reason=lost"), "Amount")).toBe("CN¥69.98 (all that was left of CN¥89.98 paid: the rest is refunded or asked in other requests)");
  });
});

describe("an empty refund list with since=", () => {
  it("says only that window was looked at and how to see the whole list (en, zh); without since= nothing more is said", async () => {
    // F-1..F-3 above were asked at the test clock (2026-11-25 12:00 Shanghai, 04:00Z); an hour later, none since 04:30Z.
    app.clock.advance(3_600_000);
    const r = await app.run("shell:sam", "refund list all since=2026-11-25T04:30:00Z");
    expect(r.reply.text).toBe("No refund requests.");
    expect(r.reply.context).toEqual(["Only requests asked since 2026-11-25 12:30 GMT+8 were looked at: run `refund list all` without since= for all of them."]);
    const zh = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: "refund list 全部 since=2026-11-25T04:30:00Z", locale: "zh-CN" });
    expect(zh.reply.context).toEqual(["只查看了 2026-11-25 12:30 GMT+8 以后提交的申请：去掉 since= 运行 `refund list all` 可查看全部。"]);
    // Without since=, an empty list says nothing more.
    const none = await app.run("shell:sam", "refund list approvable");
    expect(none.reply.text).toBe("No refund request is waiting for your approval.");
    expect(none.reply.context).toBeUndefined();
    // The whole list has them.
    expect((await app.run("shell:sam", "refund list all")).reply.table!.rows.length).toBeGreaterThan(0);
  });
});
