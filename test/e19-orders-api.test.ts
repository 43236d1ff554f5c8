/**
 * Order, API and import leftovers (issues #4 and #8), as ops staff and as an integrator: what
 * `order tracking` says in each state of an order, OPTIONS on an API route, an unreadable items
 * cell in a CSV import, the import's command-line and header errors in the shop's language, and
 * later pages of order search and audit.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { runImport } from "../src/import.js";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";
import { runScript } from "./helpers/cli.js";

let app: TestApp;
let http: RunningHttpServer;
let key: string;
let dir: string;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const shipment = { carrier: "SF", trackingNo: "SF1", shippedAt: new Date("2026-11-21T02:00:00Z") };

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.store.products.insertMany([product("SKU-1", { onHand: 100 })]);
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
  const made = await app.run("shell:admin", "apikey create storefront scopes=orders");
  key = /shopops_[A-Za-z0-9_-]+/.exec(made.reply.text ?? "")![0];
  dir = await mkdtemp(path.join(os.tmpdir(), "shopops-e19-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await http.close();
  await app.close();
});

describe("order tracking given the number an order already has", () => {
  it("says what is true in each state of the order, and changes nothing (en and zh)", async () => {
    await app.store.orders.insertMany([
      paidOrder("TR-PEND", 1000, undefined, { status: "pending", paidAt: null, paidDay: null }),
      paidOrder("TR-PAID", 1000, undefined, { status: "paid" }),
      paidOrder("TR-SHIP", 1000, undefined, { status: "shipped", shipment }),
      paidOrder("TR-DELI", 1000, undefined, { status: "delivered", shipment, deliveredAt: new Date("2026-11-22T02:00:00Z") }),
      paidOrder("TR-CANC", 1000, undefined, { status: "cancelled", cancelledAt: new Date("2026-11-21T02:00:00Z") }),
      paidOrder("TR-REFS", 1000, undefined, { status: "refunded", shipment }),
      paidOrder("TR-REFN", 1000, undefined, { status: "refunded" }),
    ]);
    const before = await app.store.orders.find({ _id: /^TR-/ }).sort({ _id: 1 }).lean();
    const said = async (no: string, typed = "carrier=SF tracking=SF1") => {
      const r = await app.run("shell:sam", `order tracking ${no} ${typed} reason=check`);
      return [r.code, r.reply.text];
    };
    expect(await said("TR-DELI")).toEqual(["unchanged", "TR-DELI was delivered with SF, tracking SF1 already; nothing changed."]);
    expect(await said("TR-DELI", "carrier=sf tracking=sf1")).toEqual(["unchanged", expect.stringMatching(/^TR-DELI was delivered with SF, tracking SF1 already; nothing changed: sf SF1 is the same shipment/)]);
    expect(await said("TR-SHIP")).toEqual(["unchanged", "TR-SHIP is already shipped with SF, tracking SF1; nothing changed."]);
    expect(await said("TR-SHIP", "carrier=sf tracking=sf1")).toEqual(["unchanged", expect.stringMatching(/^TR-SHIP is already shipped with SF, tracking SF1; nothing changed: sf SF1 is the same shipment/)]);
    // Not paid: `order ship` would be refused now, so it is not offered as the next step yet.
    expect(await said("TR-PEND")).toEqual(["not_shipped", "TR-PEND is Pending payment and has not shipped: it has no tracking to correct. Once it is paid, give its carrier and tracking number with `order ship TR-PEND carrier=… tracking=…`."]);
    expect(await said("TR-PAID")).toEqual(["not_shipped", "TR-PAID has not shipped: give its carrier and tracking number with `order ship TR-PAID carrier=… tracking=…`."]);
    expect(await said("TR-CANC")).toEqual(["invalid_transition", expect.stringMatching(/^TR-CANC is Cancelled and never shipped: it has no shipment/)]);
    expect(await said("TR-REFN")).toEqual(["invalid_transition", expect.stringMatching(/^TR-REFN is Refunded and never shipped/)]);
    expect(await said("TR-REFS")).toEqual(["shipment_closed", expect.stringMatching(/^TR-REFS is Refunded: its shipment is closed/)]);
    expect((await zh("shell:sam", "order tracking TR-DELI carrier=SF tracking=SF1 reason=核对")).reply.text).toBe("TR-DELI 已由 SF 送达（运单号 SF1），未做任何更改。");
    expect((await zh("shell:sam", "order tracking TR-SHIP carrier=SF tracking=SF1 reason=核对")).reply.text).toBe("TR-SHIP 已由 SF 发货，运单号 SF1，未做任何更改。");
    expect((await zh("shell:sam", "order tracking TR-PEND carrier=SF tracking=SF1 reason=核对")).reply.text).toBe("TR-PEND 当前为待付款，尚未发货：没有可更正的运单号。付款后请用 `order ship TR-PEND carrier=… tracking=…` 填写快递公司和运单号。");
    expect(await app.store.orders.find({ _id: /^TR-/ }).sort({ _id: 1 }).lean()).toEqual(before);
  });
});

describe("OPTIONS on an API route", () => {
  const ask = (p: string, method: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${http.port}${p}`, { method, headers });

  it("answers 204 with the methods the route takes, no body, no key needed, no CORS headers", async () => {
    const audited = await app.store.audit.countDocuments();
    const asked: Record<string, string>[] = [{}, { authorization: `Bearer ${key}` }, { authorization: "Bearer not-a-key", origin: "https://shop.example" }];
    for (const headers of asked) {
      const r = await ask("/api/v1/orders", "OPTIONS", headers);
      expect([r.status, r.headers.get("allow"), await r.text()]).toEqual([204, "POST, OPTIONS", ""]);
      expect([...r.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
    expect((await ask("/api/v1/refund-requests/", "OPTIONS")).status).toBe(204);
    // Nothing changed, so nothing on the trail.
    expect(await app.store.audit.countDocuments()).toBe(audited);
    // A wrong method names OPTIONS too; an unknown route stays a 404 whatever the method.
    const get = await ask("/api/v1/orders", "GET");
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST, OPTIONS"]);
    expect((await ask("/api/v1/nope", "OPTIONS")).status).toBe(404);
    expect((await ask("/api/v2/orders", "OPTIONS")).status).toBe(404);
  });
});

describe("a CSV items cell that cannot be read", () => {
  it("fails its line saying how the cell is written, with an example; the line number kept", async () => {
    const f = path.join(dir, "items.csv");
    const cells = ["SKU-1x2", "SKU-1:2", "SKU-1:two:1999", "SKU-1:2:19.99", "SKU-1:2:1999;SKU-1:1", "SKU-1:2:1999", "SKU-1:0:1999"];
    await writeFile(f, ["orderNo,customerId,items", ...cells.map((c, i) => `IT-${i},c1,"${c}"`)].join("\n") + "\n");
    const r = await runImport({ kind: "orders", file: f, dryRun: true, ingest: app.services.ingest });
    const how = "Write each item as SKU:qty:unitPrice (qty and unitPrice whole numbers, the price in minor units: 1999 for 19.99), items separated by ; (e.g. SKU-1:2:1999;SKU-2:1:500)";
    expect(r.failures).toEqual([
      { line: 2, message: `items: the cell "SKU-1x2" cannot be read as items: it is not SKU:qty:unitPrice. ${how}` },
      { line: 3, message: `items: the cell "SKU-1:2" cannot be read as items: it is not SKU:qty:unitPrice. ${how}` },
      { line: 4, message: `items: the cell "SKU-1:two:1999" cannot be read as items: it is not SKU:qty:unitPrice. ${how}` },
      { line: 5, message: `items: the cell "SKU-1:2:19.99" cannot be read as items: it is not SKU:qty:unitPrice. ${how}` },
      { line: 6, message: `items: the cell "SKU-1:2:1999;SKU-1:1" cannot be read as items: its item 2, "SKU-1:1", is not SKU:qty:unitPrice. ${how}` },
      // A cell of the right form with a value the API refuses: the API's words, as for any field.
      { line: 8, message: "items.0.qty: expected at least 1" },
    ]);
    expect(r.skipped).toBe(1);
  });
});

describe("the import's command-line and header errors", () => {
  const imp = (args: string[], env: Record<string, string> = {}) => runScript("src/import.ts", args, { LOG_LEVEL: "error", MONGODB_URI: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300", ...env });

  it("are said in the shop's language (SHOP_LOCALE), before any database is opened", async () => {
    const kind = await imp(["order", "x.csv"], { SHOP_LOCALE: "zh-CN" });
    expect([kind.code, kind.stderr]).toEqual([64, 'import: "order" 不是数据类型：请使用 orders, products, inventory, complaints, refund-requests\n用法：npm run import -- <orders|products|inventory|complaints|refund-requests> <文件.csv|文件.jsonl> [--dry-run]\n']);
    const header = path.join(dir, "header.csv");
    await writeFile(header, "SKU,name\nP-1,Mug\n");
    const misfit = await imp(["products", header], { SHOP_LOCALE: "zh-CN" });
    expect([misfit.code, misfit.stderr]).toEqual([64, expect.stringContaining('CSV 表头（文件第一行）与 products 不符：未知列 "SKU"：是否应为 "sku"？（列名区分大小写）；缺少列 "category", "price"（每行都必须有）。products 的列为：')]);
  });

  it("with a configuration that cannot be read: a wrong command line is still said first (in English), then the configuration problem as before", async () => {
    const bad = { SHOP_LOCALE: "zh-CN", SHOP_TIMEZONE: "Mars/Base" };
    const args = await imp(["order", "x.csv"], bad);
    expect([args.code, args.stderr]).toEqual([64, expect.stringMatching(/^import: "order" is not a kind of data/)]);
    const good = path.join(dir, "good.csv");
    await writeFile(good, "sku,name,category,price\nP-1,Mug,Kitchen,1500\n");
    const config = await imp(["products", good, "--dry-run"], bad);
    expect([config.code, config.stderr]).toEqual([78, expect.stringContaining("SHOP_TIMEZONE: expected an IANA time zone")]);
  });
});

describe("later pages", () => {
  it("order search: each page has 10 rows until the last, none repeated or skipped, as typed page= or the next-page line; limit= is refused", async () => {
    const at = Date.parse("2026-11-24T00:00:00Z");
    // Orders created at the same second too: the order between them is by number.
    await app.store.orders.insertMany(Array.from({ length: 27 }, (_, i) => paidOrder(`PG-${100 + i}`, 1000, new Date(at - Math.floor(i / 4) * 60_000).toISOString(), { customerId: "CUST-PG" })));
    const all = (await app.store.orders.find({ customerId: "CUST-PG" }).sort({ createdAt: -1, _id: -1 }).lean()).map((o) => o._id);
    const seen: string[] = [];
    let line: string | undefined = "order search customer=CUST-PG";
    while (line) {
      const r = await app.run("shell:sam", line);
      const rows = (r.reply.table?.rows ?? []).map((x) => x[0]!);
      expect(rows.length, line).toBe(Math.min(10, all.length - seen.length));
      seen.push(...rows);
      line = /`(order search [^`]*)`/.exec((r.reply.context ?? []).join("\n"))?.[1];
    }
    expect(seen).toEqual(all);
    const typed = [];
    for (let page = 1; page <= 3; page++) typed.push(...(await app.run("shell:sam", `order search customer=CUST-PG page=${page}`)).reply.table!.rows.map((x) => x[0]!));
    expect(typed).toEqual(all);
    const limit = await app.run("shell:sam", "order search customer=CUST-PG limit=7 page=2");
    expect([limit.code, limit.reply.text]).toEqual(["invalid_args", expect.stringContaining('unknown option "limit" (this command takes: customer=, since=, status=, before=, page=)')]);
  });

  it("audit limit=7: full pages of 7 through the next-page lines, none repeated or skipped", async () => {
    const at = Date.parse("2026-11-24T00:00:00Z");
    for (let i = 0; i < 30; i++) await app.services.audit.add({ ref: `E19-${String(i).padStart(3, "0")}`, at: new Date(at - Math.floor(i / 4) * 60_000), actor: "shell:pager", platform: "shell", command: "stock adjust", args: `n${i}`, outcome: "ok" });
    const all = (await app.store.audit.find({ actor: "shell:pager" }).sort({ at: -1, _id: -1 }).lean()).map((e) => e._id);
    const seen: string[] = [];
    let line: string | undefined = "audit actor=shell:pager limit=7";
    while (line) {
      const r = await app.run("shell:admin", line);
      const rows = (r.reply.table?.rows ?? []).map((x) => x[4]!);
      expect(rows.length, line).toBe(Math.min(7, all.length - seen.length));
      seen.push(...rows);
      line = /`(audit [^`]*)`/.exec((r.reply.context ?? []).join("\n"))?.[1];
    }
    expect(seen).toEqual(all);
    expect((await app.run("shell:admin", "audit actor=shell:pager limit=7 page=2")).reply.table!.rows.map((x) => x[4])).toEqual(all.slice(7, 14));
  });
});
