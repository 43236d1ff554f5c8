import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { addDays, localDay } from "../src/core/format.js";
import { silentLogger } from "../src/core/logger.js";
import { reviveReply } from "../src/services/outbox.service.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";

const START = Date.parse("2026-11-25T04:00:00Z"); // 12:00 in Shanghai
let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp({ VELOCITY_WINDOW_DAYS: "28" });
});
afterAll(() => app.close());

/** The same database restarted with other settings (same clock). */
async function restart(env: Record<string, string>): Promise<TestApp> {
  const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", ...env });
  const next = await createApp({ config, conn: app.db.conn, clock: app.clock, logger: silentLogger });
  return { ...next, db: app.db, clock: app.clock, config, run: (identity, text) => next.core.invoke({ identity, platform: "shell", text }), close: async () => {} };
}

describe("a changed velocity window takes effect at start-up", () => {
  it("stock low and the next low-stock alert use the new window at once, not from the next day", async () => {
    const today = localDay(new Date(START), "Asia/Shanghai");
    // 70 sold, all in the last 7 days: 2.5 a day over 28 days (20 units last 8 days: not low),
    // 10 a day over 7 days (20 units last 2 days, lead time 7: low).
    const sales = new Map(Array.from({ length: 7 }, (_, i) => [addDays(today, -(i + 1)), 10] as [string, number]));
    await app.store.products.insertMany([product("W-1", { onHand: 20, reorderPoint: 5, leadTimeDays: 7, salesByDay: sales })]);
    const jobs = await jobStepper(app, "low-stock", START);
    await jobs.step(5 * 60_000);
    // Seen by that scan as it is (last changed an hour before it): nothing marks it changed since.
    await app.store.products.updateOne({ _id: "W-1" }, { $set: { updatedAt: new Date(Date.now() - 3_600_000) } }, { timestamps: false });
    expect((await app.run("shell:admin", "stock low")).reply.table?.rows.map((r) => r[0]) ?? []).not.toContain("W-1");

    const after = await restart({ VELOCITY_WINDOW_DAYS: "7" });
    const low = await after.run("shell:admin", "stock low");
    expect(low.reply.table?.rows.map((r) => r[0])).toContain("W-1");
    // The first scan after the restart alerts it (its stored threshold is the new window's).
    const jobs2 = await jobStepper(after, "low-stock", jobs.t);
    await jobs2.step(5 * 60_000);
    const sent = (await app.store.outbox.find({ kind: "low_stock" }).lean()).flatMap((d) => reviveReply(d.reply).table!.rows.map((r) => r[0]));
    expect(sent).toContain("W-1");
  });
});
