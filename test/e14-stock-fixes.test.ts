import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LowStockService } from "../src/services/low-stock.service.js";
import { makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff", "shell:bob": "staff" }); // 2026-11-25 12:00 in Shanghai
});
afterAll(() => app.close());

describe("a PO that loses every race to a colleague's snooze", () => {
  it("answers busy and writes nothing: the colleague's longer snooze is not cut short to the PO's hold; audited", async () => {
    await app.store.products.insertMany([product("P-R1", { onHand: 5 })]);
    expect((await app.run("shell:sam", "stock snooze P-R1 3d")).outcome).toBe("ok");
    const real = LowStockService.prototype.state;
    // Each time the PO reads the alert state, the colleague extends their snooze by an hour
    // before the PO's guarded write: the hold as read is never the hold written against.
    const spy = vi.spyOn(app.services.lowStock, "state").mockImplementation(async function (this: LowStockService, sku: string) {
      const s = await real.call(app.services.lowStock, sku);
      if (s?.snoozedUntil) await app.store.stockAlerts.updateOne({ _id: sku }, { $set: { snoozedUntil: new Date(s.snoozedUntil.getTime() + 3_600_000) } });
      return s;
    });
    let r;
    try {
      r = await app.run("shell:bob", "stock po P-R1 eta=+1d");
    } finally {
      spy.mockRestore();
    }
    expect(r.outcome).toBe("user_error");
    expect(r.code).toBe("busy");
    expect(r.reply.text).toBe("The low-stock alerts of P-R1 kept changing under other updates; nothing changed. Try again.");
    // Sam's snooze, extended three times by the race, still runs: 3 days and 3 hours, by sam, no PO.
    const s = await app.services.lowStock.state("P-R1");
    expect(s).toMatchObject({ state: "snoozed", snoozedUntil: new Date("2026-11-28T07:00:00Z"), snoozedBy: "shell:sam" });
    expect(s?.po).toBeUndefined();
    const audit = await app.store.audit.find({ command: "stock po", actor: "shell:bob", subject: "P-R1" }).lean();
    expect(audit.map((a) => [a.outcome, a.code])).toEqual([["user_error", "busy"]]);
    // With the race over, the same PO is recorded beside the longer snooze.
    const again = await app.run("shell:bob", "stock po P-R1 eta=+1d");
    expect(again.outcome).toBe("ok");
    expect(await app.services.lowStock.state("P-R1")).toMatchObject({ snoozedUntil: new Date("2026-11-28T07:00:00Z"), snoozedBy: "shell:sam", po: { eta: "2026-11-26" } });
  });
});

describe("stock low pages through a long list", () => {
  it("each page names the next as a command that runs; the pages together are the whole ranked list; past the end is said", async () => {
    // 20 low products (on hand 0..9 twice, reorder point 10), besides P-R1 above (5 on hand).
    await app.store.products.insertMany(Array.from({ length: 20 }, (_, i) => product(`P-L${String(i).padStart(2, "0")}`, { onHand: i % 10 })));
    const all = await app.run("shell:bob", "stock low limit=50");
    const ranked = all.reply.table!.rows.map((r) => r[0]);
    expect(ranked).toHaveLength(21);
    expect(all.reply.context).toBeUndefined();

    const p1 = await app.run("shell:bob", "stock low limit=8");
    expect(p1.reply.title).toContain("21");
    expect(p1.reply.context).toEqual(["Showing 1–8 of 21, most urgent first.", "Next page: `stock low limit=8 page=2`"]);
    const p2 = await app.run("shell:bob", "stock low limit=8 page=2");
    expect(p2.reply.context).toEqual(["Showing 9–16 of 21, most urgent first.", "Next page: `stock low limit=8 page=3`"]);
    const p3 = await app.run("shell:bob", "stock low limit=8 page=3");
    expect(p3.reply.context).toEqual(["Showing 17–21 of 21, most urgent first."]);
    expect([p1, p2, p3].flatMap((p) => p.reply.table!.rows.map((r) => r[0]))).toEqual(ranked);

    // The default size (15) is not repeated in the hint.
    expect((await app.run("shell:bob", "stock low")).reply.context).toEqual(["Showing 1–15 of 21, most urgent first.", "Next page: `stock low page=2`"]);

    const past = await app.run("shell:bob", "stock low limit=8 page=4");
    expect(past.outcome).toBe("user_error");
    expect(past.code).toBe("page_out_of_range");
    expect(past.reply.text).toBe("Page 4 is past the last page (3) of 21 low-stock products. Run `stock low` for the first page.");
    const zh = await app.core.invoke({ identity: "shell:bob", platform: "shell", text: "stock low limit=8 page=2", locale: "zh-CN" });
    expect(zh.reply.context).toEqual(["显示第 9–16 个，共 21 个，最紧急的在前。", "下一页：`stock low limit=8 page=3`"]);
    const bad = await app.run("shell:bob", "stock low page=0");
    expect(bad.outcome).toBe("user_error");
  });
});
