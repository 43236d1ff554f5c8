import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LowStockService } from "../src/services/low-stock.service.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp(); // 2026-11-25 12:00 in Shanghai
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:bob", "staff", "shell:admin");
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
