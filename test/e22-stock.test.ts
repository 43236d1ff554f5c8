/**
 * A hands-on pass over stock as an inventory planner types it (e22), in English and Chinese:
 * a SKU ended as in a sentence (`SKU-1001.`, `sku-1001，`) is that product, not "no product";
 * a snooze longer than 30 days is said to be too long, not "not a duration"; and the figures of
 * the tables (`stock low`, a search, the low-stock alert) and of a PO's quantity are grouped as
 * the card's (12,000, not 12000).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays } from "../src/core/format.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { field, makeTestApp, product, withCast, type TestApp } from "./helpers/app.js";
import { jobStepper, type JobStepper } from "./helpers/jobs.js";

let app: TestApp;
let jobs: JobStepper;

/** perDay units on each of the 28 days before the test clock's shop day (2026-11-25). */
const sales = (perDay: number) => new Map(Array.from({ length: 28 }, (_, i) => [addDays("2026-11-25", -(i + 1)), perDay] as [string, number]));

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sam": "staff" });
  jobs = await jobStepper(app, "low-stock", Date.parse("2026-11-25T04:00:00Z"));
  await app.store.products.insertMany([
    product("SKU-1001", { name: "Wireless Mouse", onHand: 30, reorderPoint: 10 }),
    product("SKU-1002", { name: "Wireless Keyboard", onHand: 5, reorderPoint: 10 }),
    // A SKU ending in a full stop, beside one without: the one typed is the one meant.
    product("SKU-DOT.", { name: "Dotted", onHand: 7 }),
    product("SKU-DOT", { name: "Plain", onHand: 9 }),
    product("SKU-BULK", { name: "Bulk screws", onHand: 12_000, reorderPoint: 15_000, salesByDay: sales(600) }),
  ]);
});
afterAll(() => app?.close());

const zh = (text: string) => app.core.invoke({ identity: "shell:sam", platform: "shell", text, locale: "zh-CN" });

describe("a SKU ended as in a sentence (`SKU-1001.`, `sku-1001，`)", () => {
  it("is that product in `stock`, `stock adjust`, `stock snooze` and `stock po`, on the trail under its SKU", async () => {
    const card = await app.run("shell:sam", "stock SKU-1001.");
    expect([card.outcome, card.reply.title]).toEqual(["ok", "Wireless Mouse (SKU-1001)"]);
    expect((await zh("stock sku-1001，")).reply.title).toBe("Wireless Mouse（SKU-1001）");

    const adj = await app.run("shell:sam", "stock adjust sku-1002, +5 reason=restock");
    expect([adj.outcome, adj.reply.text]).toEqual(["ok", "SKU-1002 +5: on hand 5 → 10, available 10."]);
    expect((await app.services.stock.bySku("SKU-1002"))?.onHand).toBe(10);
    expect(await app.store.audit.findById(adj.ref).lean()).toMatchObject({ command: "stock adjust", outcome: "ok", subject: "SKU-1002" });

    const snooze = await app.run("shell:sam", "stock snooze SKU-1002. 3d");
    expect([snooze.outcome, snooze.reply.text]).toEqual(["ok", expect.stringContaining("Low-stock alerts for SKU-1002 are snoozed until 2026-11-28 12:00 GMT+8")]);
    expect(await app.store.audit.findById(snooze.ref).lean()).toMatchObject({ subject: "SKU-1002" });

    const po = await zh("stock po SKU-1002。 eta=2026-12-01 qty=20");
    expect([po.outcome, po.reply.text]).toEqual(["ok", expect.stringContaining("已记录 SKU-1002 的采购单（20 件），预计 2026-12-01 到货。")]);
    expect((await app.services.lowStock.state("SKU-1002"))?.po).toMatchObject({ eta: "2026-12-01", qty: 20 });
  });

  it("keeps a SKU that does end so, and an unknown one is still refused as typed", async () => {
    expect((await app.run("shell:sam", "stock SKU-DOT.")).reply.title).toBe("Dotted (SKU-DOT.)");
    expect((await app.run("shell:sam", "stock SKU-DOT")).reply.title).toBe("Plain (SKU-DOT)");
    const unknown = await app.run("shell:sam", "stock adjust SKU-9999, +5 reason=x");
    expect([unknown.outcome, unknown.code, unknown.reply.text]).toEqual(["user_error", "unknown_sku", 'No product with SKU or name matching "SKU-9999,".']);
  });
});

describe("a snooze longer than 30 days", () => {
  it("is refused as too long (not as no duration), naming the longest and the PO instead, in English and Chinese; nothing changes", async () => {
    const en = await app.run("shell:sam", "stock snooze SKU-1001 31d");
    expect([en.outcome, en.code]).toEqual(["user_error", "invalid_args"]);
    expect(en.reply.text).toContain('"31d" is longer than a snooze may last: at most 30 days (30d, 720h).');
    expect(en.reply.text).toContain("`stock po <sku> eta=YYYY-MM-DD`");
    expect(en.reply.text).not.toContain("is not a duration");
    const z = await zh("stock snooze SKU-1001 1000小时");
    expect(z.reply.text).toContain('"1000小时" 超过了暂停的最长时长：最多 30 天');
    expect(await app.services.lowStock.state("SKU-1001")).toBeFalsy();
    // Not a duration at all is still said so.
    expect((await app.run("shell:sam", "stock snooze SKU-1001 0m")).reply.text).toContain('"0m" is not a duration.');
  });
});

describe("figures in thousands", () => {
  it("are grouped as the card's in `stock low`, a search, the low-stock alert and a PO's quantity", async () => {
    expect(field(await app.run("shell:sam", "stock SKU-BULK"), "Available")).toBe("12,000");
    const low = await app.run("shell:sam", "stock low");
    expect(low.reply.table?.rows.find((r) => r[0] === "SKU-BULK")?.slice(2, 4)).toEqual(["12,000", "15,000"]);
    const matches = await app.run("shell:sam", "stock SKU-");
    expect(matches.reply.table?.rows.find((r) => r[0] === "SKU-BULK")?.slice(2)).toEqual(["12,000", "15,000"]);

    await jobs.step(5 * 60_000);
    const alerts = (await app.store.outbox.find({ kind: "low_stock" }).lean()).map((d) => reviveReply(d.reply));
    const row = alerts.flatMap((r) => r.table?.rows ?? []).find((r) => r[0] === "SKU-BULK");
    // 600 a day over a 7-day lead time: threshold the reorder point 15,000 (above 600 × 7 − 1);
    // reorder 600 × (7 + 30 + 7) = 26,400, less the 12,000 available: 14,400 (above the re-arm level 18,001).
    expect(row?.slice(2)).toEqual(["12,000", "15,000", "20.0", "7", "14,400"]);
    const button = alerts.flatMap((r) => r.actions ?? []).find((a) => a.id.startsWith("stock po SKU-BULK"));
    expect(button?.id).toMatch(/qty=14400$/);
    expect(button?.label).toContain("14,400");

    const po = await app.run("shell:sam", "stock po SKU-BULK eta=+10d qty=10000");
    expect(po.reply.text).toContain("PO recorded for SKU-BULK (10,000 units)");
    expect(field(await app.run("shell:sam", "stock SKU-BULK"), "Low-stock alerts")).toContain("PO (10,000 units)");
    expect((await zh("stock po SKU-BULK eta=+12d qty=20000")).reply.text).toContain("（20,000 件）");
  });
});
