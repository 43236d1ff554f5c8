import { afterAll, beforeAll, describe, expect, it } from "vitest";
import job from "../jobs/housekeeping.job.js";
import { silentLogger } from "../src/core/logger.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ RETENTION_DAYS: "30" }, "2026-11-25T04:00:00Z");
});
afterAll(() => app.close());

const daysAgo = (n: number) => new Date(app.clock.now().getTime() - n * 86_400_000);

describe("housekeeping job", () => {
  it("deletes old markers, delivered messages and finished job runs, and keeps everything else", async () => {
    await app.store.markers.insertMany([
      { _id: "old-marker", by: "slack:T1:U1", at: daysAgo(31) },
      { _id: "new-marker", by: "slack:T1:U1", at: daysAgo(2) },
    ]);
    const msg = (id: string, status: string, age: number) => ({
      _id: id, platform: "slack", dest: { kind: "user", identity: "slack:T1:U1" }, reply: { text: "x", visibility: "public" }, kind: "refund",
      status, attempts: 1, notBefore: daysAgo(age), createdAt: daysAgo(age), ...(status === "sent" ? { sentAt: daysAgo(age) } : {}),
    });
    await app.store.outbox.insertMany([msg("old-sent", "sent", 40), msg("new-sent", "sent", 3), msg("old-dead", "dead", 40), msg("old-pending", "pending", 40)]);
    const run = (id: string, age: number, ended: boolean) => ({
      _id: id, job: "low-stock", slot: daysAgo(age), status: ended ? "ok" : "running", holder: "i1", leaseUntil: daysAgo(age), startedAt: daysAgo(age), ...(ended ? { endedAt: daysAgo(age) } : {}),
    });
    await app.store.jobRuns.insertMany([run("old-run", 45, true), run("new-run", 1, true), run("old-stuck", 45, false)]);
    // Stock changes interrupted between their steps: one landed on the product, one did not, one is still running.
    // A change's key is held in ledgerKeys (older data: appliedKeys, shared with the order effects' hundreds of keys a day).
    await app.store.products.create({ _id: "HK-1", name: "Kept", category: "c", price: 100, cost: 50, currency: "CNY", onHand: 12, reserved: 0, available: 12, appliedKeys: ["adj-landed", "o:A-1:r"], ledgerKeys: ["adj-landed-2"] });
    const entry = (id: string, ageMs: number) => ({ _id: id, sku: "HK-1", delta: 2, reason: "count", actor: "slack:T1:U1", status: "pending", at: new Date(app.clock.now().getTime() - ageMs) });
    await app.store.ledger.insertMany([entry("adj-landed", 2 * 3_600_000), entry("adj-landed-2", 2 * 3_600_000), entry("adj-lost", 2 * 3_600_000), entry("adj-running", 60_000)]);

    const summary = await job.handler({ services: app.services, clock: app.clock, logger: silentLogger, config: app.config, slot: app.clock.now(), catchUp: false, signal: new AbortController().signal });
    expect(summary).toBe("deleted 1 markers, 1 messages, 1 job runs older than 30 days; settled 3 pending stock changes (2 applied, 1 withdrawn)");
    expect((await app.store.ledger.find().sort({ _id: 1 }).lean()).map((d) => [d._id, d.status])).toEqual([["adj-landed", "applied"], ["adj-landed-2", "applied"], ["adj-running", "pending"]]);
    expect((await app.store.markers.find().lean()).map((d) => d._id)).toEqual(["new-marker"]);
    expect((await app.store.outbox.find().sort({ _id: 1 }).lean()).map((d) => d._id)).toEqual(["new-sent", "old-dead", "old-pending"]);
    expect((await app.store.jobRuns.find().sort({ _id: 1 }).lean()).map((d) => d._id)).toEqual(["new-run", "old-stuck"]);
  });
});
