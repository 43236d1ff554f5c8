import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reply } from "../src/core/reply.js";
import { Formatter } from "../src/core/format.js";
import { translator } from "../src/core/messages.js";
import { makeTestApp, product, type TestApp } from "./helpers/app.js";
import { jobStepper } from "./helpers/jobs.js";
import { recorder } from "./helpers/outbound.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ QUIET_HOURS: "22:00-07:00", ALERT_ROUTES: "low_stock:shell:ops,low_stock:slack:C0123,digest:discord:456789" });
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

const reply: Reply = { text: "digest", visibility: "public" };

describe("alert routing", () => {
  it("lists the configured routes and quiet hours; admins change a route, which overrides configuration", async () => {
    const list = await app.run("shell:mia", "alerts list");
    expect(list.reply.table!.rows).toEqual([
      ["low_stock", "shell", "ops", "configuration"],
      ["low_stock", "slack", "C0123", "configuration"],
      ["digest", "discord", "456789", "configuration"],
    ]);
    expect(list.reply.context).toEqual(["Quiet hours 22:00–07:00 (Asia/Shanghai): non-urgent alerts are held until they end."]);

    expect((await app.run("shell:mia", "alerts route low_stock slack C999")).code).toBe("permission_denied");
    const bad = await app.run("shell:admin", "alerts route stockouts slack C999");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toContain('"stockouts" is not an alert type');

    expect((await app.run("shell:admin", "alerts route low_stock slack C999")).reply.text).toBe("low_stock alerts on slack now go to C999.");
    // A Discord channel by name: refused, nothing stored (every alert to it would die).
    const named = await app.run("shell:admin", "alerts route sla discord general");
    expect([named.code, named.reply.text]).toEqual(["bad_channel", expect.stringContaining('"general" is not a Discord channel id')]);
    expect((await app.run("shell:admin", "alerts route sla slack C777")).outcome).toBe("ok");
    expect((await app.run("shell:admin", "alerts route low_stock shell OFF")).reply.text).toBe("low_stock alerts on shell are now off.");
    const after = await app.run("shell:mia", "alerts list");
    expect(after.reply.table!.rows).toEqual([
      ["low_stock", "shell", "ops (off)", "shell:admin on 2026-11-25 12:00 GMT+8"],
      ["low_stock", "slack", "C999", "shell:admin on 2026-11-25 12:00 GMT+8"],
      ["sla", "slack", "C777", "shell:admin on 2026-11-25 12:00 GMT+8"],
      ["digest", "discord", "456789", "configuration"],
    ]);
    expect(await app.services.alerts.routesFor("low_stock")).toEqual([{ type: "low_stock", platform: "slack", channel: "C999" }]);
  });

  it("alerts list shows what is not getting through: messages given up and ones waiting long past their time", async () => {
    expect((await app.run("shell:mia", "alerts list")).reply.fields).toBeUndefined();
    const now = app.clock.now().getTime();
    const msg = (id: string, status: string, ageMin: number, lastError?: string) => ({
      _id: id, platform: "slack", dest: { kind: "channel", platform: "slack", channel: "C0PRIV" }, reply, kind: "sla", status, attempts: status === "dead" ? 8 : 2,
      notBefore: new Date(now - ageMin * 60_000), createdAt: new Date(now - ageMin * 60_000), ...(lastError ? { lastError } : {}),
    });
    // u-old gave up 8 days ago (its cause fixed since): not counted. u-week, queued 8 days ago for a
    // platform nobody ran, gave up an hour ago: counted. u-stuck's sender stopped an hour ago: late.
    await app.store.outbox.insertMany([
      msg("u-dead", "dead", 90, "not_in_channel"),
      msg("u-late", "pending", 30, "not_in_channel"),
      msg("u-fresh", "pending", 1),
      { ...msg("u-old", "dead", 8 * 24 * 60, "channel_not_found"), deadAt: new Date(now - 8 * 24 * 60 * 60_000) },
      { ...msg("u-week", "dead", 8 * 24 * 60, "channel_not_found"), deadAt: new Date(now - 60 * 60_000) },
      { ...msg("u-stuck", "sending", 120), leaseUntil: new Date(now - 60 * 60_000) },
    ]);
    try {
      const list = await app.run("shell:mia", "alerts list");
      expect(list.reply.status).toBe("warning");
      const f = list.reply.fields![0]!;
      expect(f.label).toBe("Not getting through: 2 gave up in the last 7 days, 2 waiting over 15 minutes (a bot not in the channel, a platform no instance runs). Newest:");
      expect(f.value.split("\n")).toEqual([
        expect.stringMatching(/ sla → slack C0PRIV \(waiting\): not_in_channel$/),
        expect.stringMatching(/ sla → slack C0PRIV \(gave up\): not_in_channel$/),
        expect.stringMatching(/ sla → slack C0PRIV \(waiting\): —$/),
        expect.stringMatching(/ sla → slack C0PRIV \(gave up\): channel_not_found$/),
      ]);
      const zh = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: "alerts list", locale: "zh-CN" });
      expect(zh.reply.fields![0]!.value).toMatch(/（等待中）：not_in_channel\n.*（已放弃）：not_in_channel\n/);
    } finally {
      await app.store.outbox.deleteMany({ _id: { $in: ["u-dead", "u-late", "u-fresh", "u-old", "u-week", "u-stuck"] } });
    }
  });

  it("quiet hours hold non-urgent alerts until they end and let urgent ones through", async () => {
    app.clock.set("2026-11-25T15:00:00Z"); // 23:00 in Shanghai
    const held = await app.services.alerts.send({ type: "digest", key: "digest:2026-11-25", reply });
    expect(held.heldUntil?.toISOString()).toBe("2026-11-25T23:00:00.000Z"); // 07:00 the next morning
    await app.services.alerts.send({ type: "digest", key: "urgent-1", reply: { text: "urgent", visibility: "public" }, urgent: true });
    const d = recorder("discord");
    await app.services.outbox.dispatch(d);
    expect(d.got.map((g) => g.reply.text)).toEqual(["urgent"]);

    app.clock.set("2026-11-25T22:59:00Z");
    await app.services.outbox.dispatch(d);
    expect(d.got).toHaveLength(1);
    app.clock.set("2026-11-25T23:00:00Z");
    await app.services.outbox.dispatch(d);
    expect(d.got.map((g) => g.reply.text)).toEqual(["urgent", "digest"]);
    expect(d.got[1]!.dest).toEqual({ kind: "channel", platform: "discord", channel: "456789" });

    // Replaying the same alert key queues nothing.
    expect((await app.services.alerts.send({ type: "digest", key: "digest:2026-11-25", reply })).queued).toBe(0);
  });

  it("a low-stock crossing in quiet hours is not queued (the first scan after them alerts it if still low); one with a product out of stock is sent at once", async () => {
    const t = translator("en");
    const fmt = new Formatter("en", "Asia/Shanghai", "CNY");
    app.clock.set("2026-11-26T15:05:00Z"); // 23:05
    await app.store.products.insertMany([product("Q-LOW", { onHand: 4, reorderPoint: 10 })]);
    const low = await app.services.lowStock.scan({ slot: new Date("2026-11-26T15:05:00Z"), t, fmt });
    expect(low.alerted).toEqual([]);
    expect(low.deferred).toBe(1);

    await app.store.products.insertMany([product("Q-OUT", { onHand: 0, reorderPoint: 10 })]);
    app.clock.set("2026-11-26T15:10:00Z");
    const out = await app.services.lowStock.scan({ slot: new Date("2026-11-26T15:10:00Z"), t, fmt });
    expect(out.alerted.map((i) => i.view.sku)).toEqual(["Q-OUT"]);
    expect(out.heldUntil).toBeUndefined();
  });

  it("failed deliveries are retried and recorded, and the table arrives intact", async () => {
    app.clock.set("2026-11-27T04:00:00Z"); // noon: outside quiet hours
    // The first scan after quiet hours alerts Q-LOW, still low.
    const morning = await app.services.lowStock.scan({ slot: new Date("2026-11-27T04:00:00Z"), t: translator("en"), fmt: new Formatter("en", "Asia/Shanghai", "CNY") });
    expect(morning.alerted.map((i) => i.view.sku)).toEqual(["Q-LOW"]);
    const slack = recorder("slack");
    slack.failing = new Error("channel_not_found");
    // Q-OUT's alert (urgent) is due for slack C999.
    expect(await app.services.outbox.dispatch(slack)).toEqual({ sent: 0, failed: 2 });
    const failed = await app.store.outbox.find({ platform: "slack", status: "pending" }).lean();
    expect(failed.map((f) => [f.attempts, f.lastError])).toEqual([
      [1, "channel_not_found"],
      [1, "channel_not_found"],
    ]);
    slack.failing = null;
    app.clock.set("2026-11-27T04:01:00Z");
    expect(await app.services.outbox.dispatch(slack)).toEqual({ sent: 2, failed: 0 });
    const rows = slack.got.map((g) => g.reply.table!.rows[0]![0]).sort();
    expect(rows).toEqual(["Q-LOW", "Q-OUT"]);
    expect(await app.store.outbox.countDocuments({ platform: "slack", status: "sent" })).toBe(2);
  });

  it("complaint posts and warnings are not queued in quiet hours: the first run after them sends those still relevant; a warning its breach overtook is dropped", async () => {
    await app.services.identity.grant("shell:lin", "support", "shell:admin");
    expect((await app.run("shell:admin", "alerts route complaints shell support")).outcome).toBe("ok");
    const jobs = await jobStepper(app, "complaint-alerts", Date.parse("2026-12-01T06:00:00Z")); // 14:00 in Shanghai
    const at = (iso: string) => jobs.step(Date.parse(iso) - jobs.t);
    const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
    const messages = async (id: string, kind: string) => app.store.outbox.find({ _id: { $regex: `^complaint-alert:${id}:${kind}:` } }).lean();
    await at("2026-12-01T06:00:00Z");
    const normal = idOf(await app.run("shell:lin", 'complaint new severity=normal customer=cust-1 "lid cracked"'));
    expect((await app.run("shell:lin", `complaint claim ${normal}`)).outcome).toBe("ok");

    // High, filed at 20:30, first seen at 23:45 (quiet hours until 07:00): neither its post nor its
    // 80% warning (23:42) is queued or recorded. Its breach at 00:30 goes at once (urgent) and
    // makes the warning moot (recorded without a message).
    await at("2026-12-01T12:30:00Z");
    const high = idOf(await app.run("shell:lin", 'complaint new severity=high customer=cust-1 "charged twice"'));
    await at("2026-12-01T15:45:00Z");
    expect(await messages(high, "posted")).toHaveLength(0);
    expect(await messages(high, "firstResponseWarn")).toHaveLength(0);
    expect((await app.store.complaints.findById(high).lean())!.alerted?.firstResponseWarn ?? undefined).toBeUndefined();
    await at("2026-12-01T16:31:00Z");
    const hc = (await app.store.complaints.findById(high).lean())!;
    expect(hc.alerted?.firstResponseBreach).toBeInstanceOf(Date);
    expect(hc.alerted?.firstResponseWarn).toBeInstanceOf(Date);
    expect(await messages(high, "firstResponseWarn")).toHaveLength(0);
    // Still open at 07:00: posted then, at once.
    await at("2026-12-01T23:01:00Z");
    expect((await messages(high, "posted")).map((d) => d.notBefore)).toEqual([new Date("2026-12-01T23:01:00Z")]);

    // Normal, claimed: its resolution warning (80% of 72 h) falls at 23:36 on the 3rd; the
    // assignee's direct message goes with the first run after 07:00, well before the 14:00 due time.
    await at("2026-12-03T15:40:00Z");
    expect(await messages(normal, "resolutionWarn")).toHaveLength(0);
    await at("2026-12-03T23:01:00Z");
    const dm = await messages(normal, "resolutionWarn");
    expect(dm.map((d) => ({ dest: d.dest, notBefore: d.notBefore }))).toEqual([{ dest: { kind: "user", identity: "shell:lin" }, notBefore: new Date("2026-12-03T23:01:00Z") }]);
  });
});
