/**
 * Leftovers in orders, ingest and jobs: a reason typed without `reason=`; a day word with a time
 * in since=; the instant a since= on a clock-change night was read as; an import of a file with
 * no items; a job's timeout in Chinese with seconds.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../src/core/job.js";
import { silentLogger } from "../src/core/logger.js";
import { checkJob, Scheduler } from "../src/core/scheduler.js";
import { formatReport, runImport } from "../src/import.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
// 12:00 in Asia/Shanghai (UTC+8), the test app's zone.
const NOW = "2026-11-25T04:00:00Z";
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const rows = (r: { reply: { table?: { rows: string[][] } } }) => r.reply.table?.rows.map((row) => row[0]) ?? [];

beforeAll(async () => {
  app = await makeTestApp({}, NOW);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("a reason typed without reason=", () => {
  it("order cancel ORD-… 客户取消 is told the words look like the reason, with the line written with reason=\"…\", in en and zh; nothing changes", async () => {
    await app.store.orders.insertMany([paidOrder("ORD-500001", 1000)]);
    const r = await app.run("shell:mia", "order cancel ORD-500001 客户取消");
    expect([r.outcome, r.reply.text]).toEqual([
      "user_error",
      'Invalid arguments for `order cancel`:\n• "客户取消" looks like the reason, typed without reason=. Write it as reason="…": `order cancel ORD-500001 reason="客户取消"`',
    ]);
    const z = await zh("shell:mia", "order cancel 500001 customer changed mind");
    expect(z.reply.text).toBe('`order cancel` 的参数无效：\n• "customer changed mind" 看起来是原因，但没有写 reason=。请写成 reason="…"：`order cancel ORD-500001 reason="customer changed mind"`');
    expect((await app.store.orders.findById("ORD-500001").lean<{ status: string }>())!.status).toBe("delivered");
    // Audited as refused, about that order.
    expect((await app.run("shell:mia", "audit subject=ORD-500001")).reply.table?.rows.length).toBe(2);
    // With reason= given, an extra word is still only an extra word.
    expect((await app.run("shell:mia", "order cancel ORD-500001 oops reason=dup")).reply.text).toContain('unexpected extra argument "oops"');
  });

  it("order tracking likewise, keeping the options typed", async () => {
    const r = await app.run("shell:sam", "order tracking ORD-500001 tracking=SF1234567891 typo fixed");
    expect(r.reply.text).toContain('"typo fixed" looks like the reason, typed without reason=. Write it as reason="…": `order tracking ORD-500001 tracking=SF1234567891 reason="typo fixed"`');
  });
});

describe("since= takes a day word and a time", () => {
  beforeAll(async () => {
    // 17:59 and 18:00 on 24 November, 10:00 on 25 November, shop time (UTC+8).
    await app.store.orders.insertMany([
      paidOrder("LW-1", 1000, "2026-11-24T09:59:00Z", { customerId: "WORD-1" }),
      paidOrder("LW-2", 1000, "2026-11-24T10:00:00Z", { customerId: "WORD-1" }),
      paidOrder("LW-3", 1000, "2026-11-25T02:00:00Z", { customerId: "WORD-1" }),
    ]);
  });

  it("order search reads 昨天 18:00, yesterday 18:00, 今天10:00 and 前天 on the shop's clock", async () => {
    for (const [since, want] of [['"昨天 18:00"', ["LW-3", "LW-2"]], ['"yesterday 18:00"', ["LW-3", "LW-2"]], ["今天10:00", ["LW-3"]], ['"今天 10:00"', ["LW-3"]], ['"前天 23:00"', ["LW-3", "LW-2", "LW-1"]]] as const) {
      const r = await app.run("shell:sam", `order search customer=WORD-1 since=${since}`);
      expect([since, r.outcome, r.reply.text, rows(r)]).toEqual([since, "ok", undefined, want]);
    }
    const later = await zh("shell:sam", 'order search customer=WORD-1 since="今天 13:00"');
    expect([later.code, later.reply.text]).toEqual(["future_date", "2026-11-25 13:00 是将来的时间（现在是 2026-11-25 12:00 GMT+8）；since= 必须是现在或更早。"]);
    expect((await app.run("shell:sam", 'order search customer=WORD-1 since="昨天 25:00"')).reply.text).toContain("is not a time");
  });

  it("audit and refund list read them the same way", async () => {
    expect((await app.run("shell:admin", "stock adjust SKU-1 +1 reason=count")).outcome).toBe("ok");
    expect((await app.run("shell:mia", 'audit command=stock since="今天 11:00"')).reply.table?.rows.length).toBe(1);
    expect((await app.run("shell:mia", 'audit command=stock since="今天 12:01"')).code).toBe("future_date");
    await app.store.orders.insertMany([paidOrder("ORD-RW", 100_000)]);
    expect((await app.run("shell:sam", 'refund request ORD-RW 1 reason="damaged"')).outcome).toBe("ok");
    const list = await app.run("shell:mia", 'refund list all since="昨天 18:00"');
    expect([list.outcome, list.reply.title]).toEqual(["ok", "Refund requests: 1 (since 2026-11-24 18:00 GMT+8)"]);
  });
});

describe("since= on a clock-change night says which instant it read", () => {
  let ny: TestApp;
  beforeAll(async () => {
    ny = await makeTestApp({ SHOP_TIMEZONE: "America/New_York" }, "2026-03-08T18:00:00Z");
    await ny.services.identity.grant("shell:sam", "staff", "shell:admin");
    // 01:59 EST and 03:00 EDT on 8 March; 01:29 EDT, 01:30 EDT and 01:30 EST on 1 November.
    await ny.store.orders.insertMany([
      paidOrder("NY-1", 1000, "2026-03-08T06:59:00Z", { customerId: "NY" }),
      paidOrder("NY-2", 1000, "2026-03-08T07:00:00Z", { customerId: "NY" }),
      paidOrder("NY-3", 1000, "2026-11-01T05:29:00Z", { customerId: "NYF" }),
      paidOrder("NY-4", 1000, "2026-11-01T05:30:00Z", { customerId: "NYF" }),
      paidOrder("NY-5", 1000, "2026-11-01T06:30:00Z", { customerId: "NYF" }),
    ]);
  });
  afterAll(() => ny.close());

  it("a skipped time: read from the instant the clocks jump to, said in en and zh", async () => {
    const r = await ny.run("shell:sam", 'order search customer=NY since="2026-03-08 02:30"');
    expect(rows(r)).toEqual(["NY-2"]);
    expect(r.reply.context).toEqual([
      "since=: 02:30 does not exist on 2026-03-08 in America/New_York (the clocks jump forward); read from 03:00 GMT-4, the instant they jump to.",
      "Page 1 of 1, newest first.",
    ]);
    const z = await ny.core.invoke({ identity: "shell:sam", platform: "shell", text: "order search customer=NY since=今天02:30", locale: "zh-CN" });
    expect(z.reply.context?.[0]).toBe("since=：America/New_York 在 2026-03-08 没有 02:30（时钟拨快）；从时钟跳到的 03:00 GMT-4 起算。");
    // An exact time says nothing more.
    expect((await ny.run("shell:sam", 'order search customer=NY since="2026-03-08 03:00"')).reply.context).toEqual(["Page 1 of 1, newest first."]);
  });

  it("a repeated time: read from its first occurrence, said, also when nothing matches", async () => {
    ny.clock.set("2026-11-01T12:00:00Z");
    const r = await ny.run("shell:sam", "order search customer=NYF since=01:30");
    expect(rows(r)).toEqual(["NY-5", "NY-4"]);
    expect(r.reply.context?.[0]).toBe("since=: 01:30 happens twice on 2026-11-01 in America/New_York (the clocks go back); read from the first, 01:30 GMT-4.");
    const none = await ny.run("shell:sam", "order search customer=NONE since=01:30");
    expect([none.code, none.reply.context]).toEqual(["no_match", ["since=: 01:30 happens twice on 2026-11-01 in America/New_York (the clocks go back); read from the first, 01:30 GMT-4."]]);
  });

  it("audit and refund list say it the same way", async () => {
    ny.clock.set("2026-03-08T18:00:00Z");
    const gap = "since=: 02:30 does not exist on 2026-03-08 in America/New_York (the clocks jump forward); read from 03:00 GMT-4, the instant they jump to.";
    expect((await ny.run("shell:admin", 'audit command=stock since="2026-03-08 02:30"')).reply.context).toEqual([gap]);
    expect((await ny.run("shell:admin", 'refund list all since="2026-03-08 02:30"')).reply.context?.[0]).toBe(gap);
    expect((await ny.run("shell:admin", 'refund list all since="2026-03-08 03:00"')).reply.context).not.toContain(gap);
  });
});

describe("import of a file with no items", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e15-left-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("an empty .jsonl or a CSV with its header only says the file held no items; one item is \"1 item\"", async () => {
    const jsonl = path.join(dir, "empty.jsonl");
    await writeFile(jsonl, "\n");
    const j = formatReport(await runImport({ kind: "products", file: jsonl, ingest: app.services.ingest }));
    expect(j).toContain(`Import of products from ${jsonl}: 0 items in`);
    expect(j).toContain("  the file holds no items (no lines of data): nothing was imported; check that it is the right file\n");
    const csv = path.join(dir, "header.csv");
    await writeFile(csv, "sku,name,category,price\n");
    const c = formatReport(await runImport({ kind: "products", file: csv, ingest: app.services.ingest, dryRun: true }));
    expect(c).toContain("  the file holds no items (a header line and no records): nothing was checked; check that it is the right file\n");
    const one = path.join(dir, "one.csv");
    await writeFile(one, "sku,name,category,price\nONE-1,One,Home,100\n");
    const o = formatReport(await runImport({ kind: "products", file: one, ingest: app.services.ingest }));
    expect(o).toContain(`Import of products from ${one}: 1 item in`);
    expect(o).not.toContain("no items");
  });
});

describe("jobs: a timeout in hours, minutes and seconds", () => {
  it("reads 1h 30m 30s in en and 1小时30分钟30秒 in zh", async () => {
    const job = checkJob(defineJob({ id: "low-stock", description: "low-stock", schedule: "*/5 * * * *", timeout: 1000, handler: () => new Promise<void>(() => undefined) }), "low-stock.job.ts", app.config);
    const s = new Scheduler({ jobs: [job], services: app.services, runs: app.services.jobs, clock: app.clock, config: app.config, logger: silentLogger, instance: "T" });
    app.clock.set("2026-12-12T02:00:00Z");
    await s.tick(new Date("2026-12-12T02:00:00Z"));
    await app.store.jobRuns.updateOne({ _id: "low-stock@2026-12-12T02:00:00.000Z" }, { $set: { timeoutMs: 5_430_000 } });
    const failure = async (r: Promise<{ reply: { context?: string[] } }>) => (await r).reply.context?.find((c) => c.startsWith("low-stock"));
    expect(await failure(app.run("shell:admin", "jobs"))).toBe("low-stock: last failure at 2026-12-12 10:00 GMT+8: timed out after 1h 30m 30s");
    expect(await failure(zh("shell:admin", "jobs"))).toBe("low-stock：最近一次失败于 2026-12-12 10:00 GMT+8：运行超过 1小时30分钟30秒，已超时");
    app.clock.set(NOW);
  });
});
