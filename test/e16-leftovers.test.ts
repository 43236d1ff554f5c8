/**
 * Leftovers in orders, ingestion and the digest (issues #4 and #8): a since= with a day word
 * repeated in the reader's language when nothing matches; a refund request retried with another
 * reason says the reason was not recorded; two Content-Type headers are refused; a day without a
 * year written month/day (11/20) in `digest` and since=, the most recent such day.
 */
import { request as httpRequest } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { formatReport, runImport } from "../src/import.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
// 12:00 in Asia/Shanghai (UTC+8), the test app's zone: Wednesday 25 November 2026.
const NOW = "2026-11-25T04:00:00Z";
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const rows = (r: { reply: { table?: { rows: string[][] } } }) => r.reply.table?.rows.map((row) => row[0]) ?? [];

beforeAll(async () => {
  app = await makeTestApp({ INGEST_RATE_BURST: "100000", INGEST_RATE_PER_SEC: "100000" }, NOW);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { name: "Mug", onHand: 100 })]);
});
afterAll(async () => {
  await app.close();
});

describe("order search: the filter of a search that matches nothing, as its reader types it", () => {
  it("a day word reads 今天 / 昨天 to a Chinese reader, and 7天 stays 7天, not today 10:00 or 7d", async () => {
    const cases = [
      ['"今天 10:00"', '没有匹配的订单（customer=NOBODY since="今天 10:00"）。'],
      ["昨天18:00", '没有匹配的订单（customer=NOBODY since="昨天 18:00"）。'],
      ['"yesterday 18:00"', '没有匹配的订单（customer=NOBODY since="昨天 18:00"）。'],
      ["今天", "没有匹配的订单（customer=NOBODY since=今天）。"],
      ["7天", "没有匹配的订单（customer=NOBODY since=7天）。"],
      ["24h", "没有匹配的订单（customer=NOBODY since=24小时）。"],
    ] as const;
    for (const [since, text] of cases) {
      const r = await zh("shell:sam", `order search customer=NOBODY since=${since}`);
      expect([since, r.code, r.reply.text]).toEqual([since, "no_match", text]);
    }
    // An English reader reads the English words, whatever was typed.
    const en = await app.run("shell:sam", 'order search customer=NOBODY since="今天 10:00"');
    expect(en.reply.text).toBe('No orders match (customer=NOBODY since="today 10:00").');
    // What a Chinese reader is shown runs as shown, reading the same window.
    const again = await zh("shell:sam", 'order search customer=NOBODY since="昨天 18:00"');
    expect(again.code).toBe("no_match");
  });
});

describe("a refund request retried with the same externalId and order but another reason", () => {
  let http: RunningHttpServer;
  let base: string;
  let key: string;
  let dir: string;
  beforeAll(async () => {
    http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
    base = `http://127.0.0.1:${http.port}`;
    key = (await app.services.apiKeys.create("helpdesk", ["refunds", "orders"], "shell:admin")).token;
    dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e16-"));
    await app.store.orders.insertMany([paidOrder("ORD-E16R", 10_000), paidOrder("ORD-E16I", 10_000)]);
  });
  afterAll(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });
  const post = async (body: unknown) => {
    const res = await fetch(`${base}/api/v1/refund-requests`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  it("over the API: unchanged, with ignored: [\"reason\"] and the reason on record, as /inventory answers a key's", async () => {
    const first = await post({ externalId: "HD-E16-1", orderNo: "ORD-E16R", amount: "10.00", reason: "damaged" });
    expect(first.status).toBe(201);
    const id = first.json.id as string;
    // The same request: unchanged, nothing more to say (as before).
    expect((await post({ externalId: "HD-E16-1", orderNo: "ORD-E16R", amount: "10.00", reason: "damaged" })).json).toEqual({ status: 200, outcome: "unchanged", id });
    const r = await post({ externalId: "HD-E16-1", orderNo: "ORD-E16R", amount: "10.00", reason: "wrong size" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      status: 200,
      outcome: "unchanged",
      id,
      ignored: ["reason"],
      message: `externalId HD-E16-1 already recorded as ${id}, with reason "damaged": not changed: reason (this retry gives "wrong size"; an externalId names one request, kept as first recorded; another request takes another externalId)`,
    });
    expect((await app.store.refundRequests.findById(id).lean())?.reason).toBe("damaged");
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-E16R" })).toBe(1);
  });

  it("in an import: the line is counted as differing from what is stored, with that message", async () => {
    const f = path.join(dir, "requests.jsonl");
    await writeFile(f, JSON.stringify({ externalId: "IMP-E16-1", orderNo: "ORD-E16I", amount: "5.00", reason: "late" }) + "\n");
    expect(await runImport({ kind: "refund-requests", file: f, ingest: app.services.ingest })).toMatchObject({ imported: 1, failed: 0 });
    await writeFile(f, JSON.stringify({ externalId: "IMP-E16-1", orderNo: "ORD-E16I", amount: "5.00", reason: "never arrived" }) + "\n");
    const report = await runImport({ kind: "refund-requests", file: f, ingest: app.services.ingest });
    expect(report).toMatchObject({ failed: 0, differs: 1 });
    expect(report.differences[0]?.message).toMatch(/^externalId IMP-E16-1 already recorded as R-X\w+, with reason "late": not changed: reason \(this retry gives "never arrived";/);
    expect(formatReport(report)).toContain('with reason "late": not changed: reason');
    expect((await app.store.refundRequests.findOne({ orderNo: "ORD-E16I" }).lean())?.reason).toBe("late");
  });

  it("two Content-Type headers: a 400 naming the header, nothing applied (Node would keep the first, unsaid)", async () => {
    const body = JSON.stringify({ externalId: "HD-E16-CT", orderNo: "ORD-E16R", amount: "1.00", reason: "x" });
    for (const types of [["application/json", "text/plain"], ["text/plain", "application/json"], ["application/json", "application/json"]]) {
      const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(`${base}/api/v1/refund-requests`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": types } }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
        req.end(body);
      });
      expect([types, r.status, JSON.parse(r.text)]).toEqual([
        types,
        400,
        { error: "invalid", code: "invalid", message: "more than one Content-Type header: send one (Content-Type: application/json)" },
      ]);
    }
    expect(await app.store.refundRequests.countDocuments({ orderNo: "ORD-E16R" })).toBe(1);
    // On the key's trail as bad input.
    expect(await app.store.audit.countDocuments({ command: "api refund-requests", outcome: "user_error", message: /more than one Content-Type/ })).toBe(3);
  });
});

describe("a day without a year written month/day", () => {
  it("digest 11/20 and 11月20日 are 20 November, the most recent one; 12/31 in November is last year's", async () => {
    for (const day of ["11/20", "11月20日"]) {
      const r = await app.run("shell:mia", `digest ${day}`);
      expect([day, r.outcome, r.reply.title]).toEqual([day, "ok", "Daily digest: 2026-11-20"]);
    }
    expect((await app.run("shell:mia", "digest 12/31")).reply.title).toBe("Daily digest: 2025-12-31");
    // Today, written so, is today.
    expect((await app.run("shell:mia", "digest 11/25")).reply.title).toBe("Daily digest: 2026-11-25 (today so far)");
    // A day that does not exist is still said so.
    expect((await app.run("shell:mia", "digest 11/31")).code).toBe("bad_day");
  });

  it("20/11 (day/month) is refused, saying days read month/day and how to write it, in en and zh", async () => {
    const r = await app.run("shell:mia", "digest 20/11");
    expect([r.outcome, r.code, r.reply.text]).toEqual(["user_error", "bad_day", '"20/11" reads as month/day, and its first number is no month. Write the month first, 11/20, or the full date, YYYY-MM-DD.']);
    const z = await zh("shell:mia", "digest 20/11");
    expect(z.reply.text).toBe('"20/11" 按“月/日”读取，但第一个数不是月份。请把月份写在前面（11/20），或给出完整日期 YYYY-MM-DD。');
    expect((await app.run("shell:admin", "digest rebuild 20/11")).reply.text).toBe(r.reply.text);
  });

  it("since= reads them alike: 11/24, 11/24 10:00, 12-31 last year's; 24/11 is refused the same way", async () => {
    await app.store.orders.insertMany([
      // 23 November 12:00 and 24 November 12:00, shop time; 1 January 2026.
      paidOrder("MD-1", 1000, "2026-11-23T04:00:00Z", { customerId: "MD", createdAt: new Date("2026-11-23T04:00:00Z") }),
      paidOrder("MD-2", 1000, "2026-11-24T04:00:00Z", { customerId: "MD", createdAt: new Date("2026-11-24T04:00:00Z") }),
      paidOrder("MD-3", 1000, "2026-01-01T04:00:00Z", { customerId: "MDY", createdAt: new Date("2026-01-01T04:00:00Z") }),
    ]);
    expect(rows(await app.run("shell:sam", "order search customer=MD since=11/24"))).toEqual(["MD-2"]);
    expect(rows(await app.run("shell:sam", 'order search customer=MD since="11/23 13:00"'))).toEqual(["MD-2"]);
    expect(rows(await app.run("shell:sam", "order search customer=MDY since=12-31"))).toEqual(["MD-3"]);
    const bad = await app.run("shell:sam", "order search customer=MD since=24/11");
    expect([bad.code, bad.reply.text]).toEqual([
      "invalid_args",
      expect.stringContaining('since=: "24/11" reads as month/day (11/20 is 20 November), and its first number is no month. Write the month first, or the full date, YYYY-MM-DD.'),
    ]);
    expect((await app.run("shell:mia", "audit since=24/11")).reply.text).toContain('"24/11" reads as month/day');
    expect((await app.run("shell:mia", "audit command=order since=11/24")).outcome).toBe("ok");
  });
});
