import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RetryAfterError, UndeliverableError } from "../src/core/outbound.js";
import type { Reply } from "../src/core/reply.js";
import { silentLogger } from "../src/core/logger.js";
import { LEASE_MS, MAX_ATTEMPTS, OutboxService } from "../src/services/outbox.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { recorder } from "./helpers/outbound.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
});
afterAll(() => app.close());

describe("outbox", () => {
  it("queues one message per key however often the event is replayed, and delivers it once", async () => {
    const dest = { kind: "channel", platform: "slack", channel: "C-ops" } as const;
    const reply: Reply = { text: "Low stock: 3 products", visibility: "public", image: { filename: "c.png", alt: "chart", data: new Uint8Array([137, 80, 78, 71]) } };
    const firsts = await Promise.all(Array.from({ length: 5 }, () => app.services.outbox.enqueue({ key: "k1", dest, reply, kind: "low_stock" })));
    expect(firsts.filter(Boolean)).toHaveLength(1);
    const d = recorder();
    expect(await app.services.outbox.dispatch(d)).toEqual({ sent: 1, failed: 0 });
    expect(await app.services.outbox.dispatch(d)).toEqual({ sent: 0, failed: 0 });
    expect(d.got).toHaveLength(1);
    expect(d.got[0]!.reply.text).toBe("Low stock: 3 products");
    expect(Array.from(d.got[0]!.reply.image!.data)).toEqual([137, 80, 78, 71]);
  });

  it("a complaint reminder its assignee cannot get by direct message goes to the support channel instead, once", async () => {
    const reply: Reply = { title: "Complaint C-DM1: resolution due soon", text: "lid cracked", visibility: "public" };
    expect(await app.services.alerts.direct({ key: "complaint-alert:C-DM1:resolutionWarn:slack:T1:U9", identity: "slack:T1:U9", reply, kind: "complaints" })).toBe(true);
    const slack = recorder("slack");
    slack.failing = new UndeliverableError("cannot_dm_bot");
    expect(await app.services.outbox.dispatch(slack)).toEqual({ sent: 0, failed: 1 });
    expect(await app.store.outbox.findById("complaint-alert:C-DM1:resolutionWarn:slack:T1:U9").lean()).toMatchObject({ status: "dead", deadAt: app.clock.now() });
    // The support channel (complaints route: shell:support by default) gets it, with why.
    const shell = recorder("shell");
    expect(await app.services.outbox.dispatch(shell)).toEqual({ sent: 1, failed: 0 });
    expect(shell.got.map((g) => [g.dest, g.reply.title])).toEqual([[{ kind: "channel", platform: "shell", channel: "support" }, "Complaint C-DM1: resolution due soon"]]);
    expect(shell.got[0]!.reply.context).toEqual(["This reminder could not be delivered to slack:T1:U9 by direct message (cannot_dm_bot): it is sent here instead."]);
    // Another kind of direct message that dies (a refund notice) is not redirected.
    await app.services.outbox.enqueue({ key: "refund:R-DM1:approved", dest: { kind: "user", identity: "slack:T1:U9" }, reply: { text: "approved", visibility: "ephemeral" }, kind: "refund" });
    expect((await app.services.outbox.dispatch(slack)).failed).toBe(1);
    expect((await app.services.outbox.dispatch(shell)).sent).toBe(0);
  });

  it("retries failed deliveries with backoff, honours Retry-After, and records the error", async () => {
    const dest = { kind: "user", identity: "slack:T1:U1" } as const;
    await app.services.outbox.enqueue({ key: "k2", dest, reply: { text: "hi", visibility: "ephemeral" }, kind: "refund" });
    const d = recorder();
    d.failing = new RetryAfterError(30_000);
    expect(await app.services.outbox.dispatch(d)).toEqual({ sent: 0, failed: 1 });
    const held = await app.store.outbox.findById("k2").lean();
    // A rate limit uses no attempt.
    expect(held).toMatchObject({ status: "pending", attempts: 0, lastError: "rate limited: retry after 30000 ms" });
    d.failing = null;
    expect((await app.services.outbox.dispatch(d)).sent).toBe(0); // not due yet
    app.clock.advance(31_000);
    expect((await app.services.outbox.dispatch(d)).sent).toBe(1);
    expect((await app.store.outbox.findById("k2").lean())?.status).toBe("sent");
  });

  it("a long rate limit never kills messages, and a round stops at the first 429", async () => {
    const dest = { kind: "user", identity: "slack:T1:U9" } as const;
    for (const k of ["rl-1", "rl-2"]) await app.services.outbox.enqueue({ key: k, dest, reply: { text: k, visibility: "ephemeral" }, kind: "refund" });
    const d = recorder();
    d.failing = new RetryAfterError(1_000);
    for (let i = 0; i < MAX_ATTEMPTS + 2; i++) {
      expect((await app.services.outbox.dispatch(d)).failed).toBe(1); // one try per round, then it waits
      app.clock.advance(2_000);
    }
    const docs = await app.store.outbox.find({ _id: { $in: ["rl-1", "rl-2"] } }).lean();
    expect(docs.map((m) => m.status)).toEqual(["pending", "pending"]);
    d.failing = null;
    expect((await app.services.outbox.dispatch(d)).sent).toBe(2);
  });

  it("a clean shutdown drains: the message being sent is recorded as sent, no new one is claimed", async () => {
    const outbox = new OutboxService(app.store, app.clock, silentLogger);
    const dest = { kind: "channel", platform: "slack", channel: "C-drain" } as const;
    await outbox.enqueue({ key: "drain-1", dest, reply: { text: "one", visibility: "public" }, kind: "sla" });
    await outbox.enqueue({ key: "drain-2", dest, reply: { text: "two", visibility: "public" }, kind: "sla" });
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    const stop = outbox.startLoop({ platform: "slack", deliver: async (_d, reply) => { await slow; sent.push(reply.text!); } }, 10);
    await vi.waitFor(async () => expect(await app.store.outbox.countDocuments({ _id: { $in: ["drain-1", "drain-2"] }, status: "sending" })).toBe(1));
    stop();
    const drained = outbox.drain(5_000);
    setTimeout(release, 50);
    await drained;
    expect(sent).toHaveLength(1);
    const docs = await app.store.outbox.find({ _id: { $in: ["drain-1", "drain-2"] } }).sort({ _id: 1 }).lean();
    expect(docs.map((d) => d.status).sort()).toEqual(["pending", "sent"]);
    await app.store.outbox.deleteMany({ _id: { $in: ["drain-1", "drain-2"] } });
  });

  it("marks a message dead after the last attempt instead of dropping it", async () => {
    await app.services.outbox.enqueue({ key: "k3", dest: { kind: "user", identity: "slack:T1:U2" }, reply: { text: "x", visibility: "ephemeral" }, kind: "refund" });
    const d = recorder();
    d.failing = new Error("channel_not_found");
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await app.services.outbox.dispatch(d);
      app.clock.advance(3_600_000);
    }
    expect(await app.store.outbox.findById("k3").lean()).toMatchObject({ status: "dead", attempts: MAX_ATTEMPTS, lastError: "channel_not_found" });
  });

  it("retries a message whose sender crashed mid-send once its lease expires", async () => {
    await app.services.outbox.enqueue({ key: "k4", dest: { kind: "user", identity: "slack:T1:U3" }, reply: { text: "y", visibility: "ephemeral" }, kind: "refund" });
    const claimed = await app.services.outbox.claim("slack");
    expect(claimed?._id).toBe("k4");
    const d = recorder();
    expect((await app.services.outbox.dispatch(d)).sent).toBe(0);
    app.clock.advance(LEASE_MS - 1_000);
    expect((await app.services.outbox.dispatch(d)).sent).toBe(0); // a slow sender may still be at it
    app.clock.advance(2_000);
    expect((await app.services.outbox.dispatch(d)).sent).toBe(1);
  });
});
