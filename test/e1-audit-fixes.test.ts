/**
 * The audit trail as a compliance reader uses it: `audit actor=` finds an identity however its
 * case or width is typed; the table says from which platform each entry came and why a refused or
 * failed one was; entries the services write themselves (a terminal's refusal, a change of the
 * shop's settings) carry the app's clock, so they sort with the chat commands around them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { renderTable } from "../adapters/shell/render.js";
import { checkShopSettings, ShopSettingsDeniedError } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import type { Platform } from "../src/core/identity.js";
import type { Locale } from "../src/core/messages.js";
import { clip } from "../src/core/reply.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:root", "manager", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

/** The rows of `audit <filters>` as a manager reads them, in `locale`. */
const audit = async (filters: string, locale: Locale = "en") => {
  const r = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: `audit ${filters}`.trim(), locale });
  return { columns: r.reply.table?.columns ?? [], rows: r.reply.table?.rows ?? [], text: r.reply.text };
};
const refs = async (filters: string) => (await audit(filters)).rows.map((r) => r[4]);
const as = (identity: string, text: string, via?: string) =>
  app.core.invoke({ identity, platform: identity.split(":")[0] as Platform, text, ...(via ? { via } : {}) });

describe("audit actor= in any case or width", () => {
  it("finds an identity typed upper case, mixed case or full-width upper case, as actor and as the one typing with --as", async () => {
    const own = await as("shell:root", "role grant shell:x staff");
    const slack = await as("slack:T1:U2", "role grant shell:y staff");
    // shell:root at the terminal acting as shell:bob (`--as`): found by actor=shell:root too.
    const viaRoot = await as("shell:bob", "stock adjust SKU-9 +1 reason=x", "shell:root");
    for (const typed of ["SHELL:ROOT", "Shell:Root", "ＳＨＥＬＬ：ＲＯＯＴ", "ｓｈｅｌｌ：ｒｏｏｔ"]) {
      expect((await refs(`actor=${typed} limit=100`)).sort(), typed).toEqual([own.ref, viaRoot.ref].sort());
    }
    // Slack ids are stored upper case; typed lower case they are the same person.
    expect(await refs("actor=slack:t1:u2")).toEqual([slack.ref]);
    // Still the whole identity, not a part of it.
    expect(await audit("actor=SHELL:ROO")).toMatchObject({ rows: [], text: "No audit entries match." });
  });

  it("finds an API key's entries by its label or its key id in any case", async () => {
    const ref = await app.services.audit.add({ ref: "api-e1-1", at: app.clock.now(), actor: "api:Shop#kAB12CD34EF", platform: "http", command: "api orders", args: "1 item [key kAB12CD34EF]", outcome: "ok" });
    for (const typed of ["api:shop", "API:SHOP", "api:shop#kab12cd34ef", "ａｐｉ：ｓｈｏｐ"]) expect(await refs(`actor=${typed}`), typed).toEqual([ref]);
    expect(await refs("actor=api:sho")).toEqual([]);
  });
});

describe("the audit table's platform and reason", () => {
  it("shows each entry's platform, and a refused entry's reason on its row, in both languages", async () => {
    const denied = await as("slack:T9:U9", "order cancel ORD-77 reason=x");
    expect(denied.outcome).toBe("denied");
    const wrong = await as("shell:mia", "stock adjust SKU-404 lots reason=x");
    expect(wrong.outcome).toBe("user_error");
    const fine = await as("shell:admin", "role grant shell:z staff");
    expect(fine.outcome).toBe("ok");
    const en = await audit("limit=100");
    expect(en.columns).toEqual(["When", "Actor", "Command", "Outcome", "Ref", "Platform", "Reason"]);
    const row = (ref: string) => en.rows.find((r) => r[4] === ref)!;
    expect(row(denied.ref).slice(5)).toEqual(["slack", clip(denied.reply.text!.replace(/\s+/g, " "), 80)]);
    expect(row(denied.ref)[6]).toMatch(/^`order cancel` needs the /);
    expect(row(wrong.ref)[5]).toBe("shell");
    const message = (await app.store.audit.findById(wrong.ref).lean())?.message;
    expect(message).toBeTruthy();
    expect(row(wrong.ref)[6]).toBe(clip(message!.replace(/\s+/g, " "), 80));
    // An ok entry has no reason, and its line ends at its platform (no room taken).
    expect(row(fine.ref).slice(5)).toEqual(["shell", ""]);
    const drawn = renderTable(en.columns, [row(fine.ref), row(denied.ref)]).split("\n");
    expect(drawn[2]).toMatch(/ shell$/);
    const zh = await audit("limit=100", "zh-CN");
    expect(zh.columns).toEqual(["时间", "操作人", "命令", "结果", "编号", "平台", "原因"]);
    expect(zh.rows.find((r) => r[4] === denied.ref)!.slice(5, 6)).toEqual(["slack"]);
  });

  it("puts a long or multi-line reason on one clipped line, and keeps an internal error's own text out of chat", async () => {
    await app.services.audit.record({
      ref: "seed-e1",
      at: app.clock.now(),
      actor: "shell:admin",
      platform: "shell",
      command: "seed:demo",
      args: "loading the demo shop",
      outcome: "error",
      code: "incomplete",
      message: `the seed started\nand did not finish ${"x".repeat(200)}`,
    });
    const spy = vi.spyOn(app.services.identity, "grant").mockRejectedValueOnce(new Error("connection to db-7.internal:27017 reset"));
    const failed = await as("shell:admin", "role grant shell:w staff");
    spy.mockRestore();
    expect(failed.code).toBe("internal");
    const { rows } = await audit("limit=100");
    const seed = rows.find((r) => r[4] === "seed-e1")!;
    expect(seed[6]).toMatch(/^the seed started and did not finish x+…$/);
    expect(seed[6]).toHaveLength(80);
    expect(rows.find((r) => r[4] === failed.ref)!.slice(3)).toEqual(["error (internal)", failed.ref, "shell", ""]);
  });
});

describe("entries written by the services themselves follow the app's clock", () => {
  it("a terminal's refusal is stamped with the app's clock and sorts between the chat commands around it", async () => {
    app.clock.set("2026-11-25T05:00:00Z");
    const before = await as("shell:admin", "role grant shell:v1 staff");
    app.clock.set("2026-11-25T05:01:00Z");
    expect(await app.services.audit.refusedBelow("admin", "staff", { operator: "shell:sam" }, { command: "import orders", args: "orders.csv" })).toBe(true);
    app.clock.set("2026-11-25T05:02:00Z");
    const after = await as("shell:admin", "role grant shell:v2 staff");
    const refused = await app.store.audit.findOne({ command: "import orders", actor: "shell:sam" }).lean();
    expect(refused?.at.toISOString()).toBe("2026-11-25T05:01:00.000Z");
    expect(await refs("since=2026-11-25 limit=3")).toEqual([after.ref, refused!._id, before.ref]);
  });

  it("a change of the shop's settings, and a refused one, are stamped with the clock given", async () => {
    const base = { SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin" };
    expect(await checkShopSettings(app.store, loadConfig(base), { operator: "shell:admin" }, { clock: app.clock })).toBe("set");
    const change = loadConfig({ ...base, SHOP_CURRENCY: "USD", SHOP_SETTINGS_CHANGE: "true" });
    app.clock.set("2026-11-25T06:00:00Z");
    await expect(checkShopSettings(app.store, change, { operator: "shell:sam" }, { clock: app.clock })).rejects.toBeInstanceOf(ShopSettingsDeniedError);
    app.clock.set("2026-11-25T06:05:00Z");
    expect(await checkShopSettings(app.store, change, { operator: "shell:admin" }, { clock: app.clock })).toBe("changed");
    const entries = await app.store.audit.find({ command: "shop-settings" }).sort({ at: 1 }).lean();
    expect(entries.map((e) => [e.actor, e.outcome, e.at.toISOString()])).toEqual([
      ["shell:sam", "denied", "2026-11-25T06:00:00.000Z"],
      ["shell:admin", "ok", "2026-11-25T06:05:00.000Z"],
    ]);
  });
});
