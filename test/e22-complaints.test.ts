/**
 * Complaint triage as support staff and their lead (EN and ZH): the lists a lead reviews
 * (resolved, escalated, all) and the short category words people type. Real database, fixed
 * clock (2026-11-25 12:00 Asia/Shanghai).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTestApp, withCast, type TestApp } from "./helpers/app.js";

const NOW = Date.parse("2026-11-25T04:00:00Z");
let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" });

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:sue": "support", "shell:lin": "support", "shell:mia": "manager" });
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

async function file(text = "box arrived crushed", more = "severity=high"): Promise<string> {
  const r = await app.run("shell:sue", `complaint new ${more} "${text}"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
}
const ids = (r: { reply: { table?: { rows: string[][] } } }) => r.reply.table?.rows.map((row) => row[0]);

describe("complaint list resolved / escalated / all: a lead reviews what was closed", () => {
  it("resolved: latest resolved first, with when and whether on time; paged; 已解决 in Chinese", async () => {
    const a = await file("first");
    const b = await file("second");
    const open = await file("still open");
    await app.run("shell:sue", `complaint resolve ${a} note=refunded`);
    app.clock.set(new Date(NOW + 3_600_000));
    await app.run("shell:lin", `complaint resolve ${b} note=resent`);
    const r = await app.run("shell:mia", "complaint list resolved");
    expect(r.outcome, r.reply.text).toBe("ok");
    expect(r.reply.title).toBe("Resolved complaints: 2");
    expect(ids(r)).toEqual([b, a]);
    expect(r.reply.table?.columns).toContain("Resolved");
    expect(r.reply.table?.rows[0]![4]).toBe("done 2026-11-25 13:00 GMT+8, on time");
    expect(r.reply.context?.[0]).toContain("latest resolved first");
    expect(ids(r)).not.toContain(open);
    const z = await zh("shell:mia", "complaint list 已解决");
    expect([z.outcome, z.reply.title]).toEqual(["ok", "已解决投诉：2 个"]);
    // Yours: the ones you held when they were resolved.
    expect(ids(await app.run("shell:lin", "complaint list mine resolved"))).toEqual([b]);
    // Page 2 of 1: the line for the last page keeps the list.
    const p = await app.run("shell:mia", "complaint list resolved page=2");
    expect(p.reply.text).toContain("`complaint list resolved`");
  });

  it("all: open ones first (most urgent first), then resolved ones; 全部 in Chinese; pages join up", async () => {
    const done = await file("done one");
    await app.run("shell:sue", `complaint resolve ${done} note=ok`);
    const open = [];
    for (let i = 0; i < 10; i++) open.push(await file(`open ${i}`));
    const p1 = await app.run("shell:mia", "complaint list all");
    expect([p1.outcome, p1.reply.title]).toEqual(["ok", "All complaints: 11"]);
    expect(ids(p1)).toHaveLength(10);
    expect(ids(p1)).not.toContain(done);
    expect(p1.reply.context?.join("\n")).toContain("`complaint list all page=2`");
    const p2 = await app.run("shell:mia", "complaint list all page=2");
    expect(ids(p2)).toEqual([done]);
    expect((await zh("shell:mia", "complaint list 全部")).reply.title).toBe("全部投诉：11 个");
  });

  it("escalated: open escalated ones only, also with unassigned; 已升级 in Chinese", async () => {
    const e = await file("angry");
    await file("calm");
    await app.run("shell:sue", `complaint escalate ${e} reason=chargeback`);
    const r = await app.run("shell:mia", "complaint list escalated unassigned");
    expect([r.reply.title, ids(r)]).toEqual(["Escalated complaints waiting for a manager: 1", [e]]);
    expect((await zh("shell:mia", "complaint list 已升级")).reply.title).toBe("已升级投诉：1 个");
    await app.run("shell:mia", `complaint resolve ${e} note=done`);
    expect((await app.run("shell:mia", "complaint list escalated")).reply.text).toBe("No open complaint is escalated.");
  });

  it("resolved with a list of open ones is refused with the line for each (en, zh)", async () => {
    const r = await app.run("shell:mia", "complaint list overdue resolved");
    expect([r.outcome, r.code]).toEqual(["user_error", "contradictory_lists"]);
    expect(r.reply.text).toContain("For the open ones, type `complaint list overdue`; for the resolved ones, `complaint list resolved`.");
    expect((await zh("shell:mia", "complaint list 已超时 已解决")).reply.text).toContain("查看已解决投诉请输入 `complaint list resolved`");
    const bad = await app.run("shell:mia", "complaint list closed");
    expect(bad.reply.text).toContain("\"closed\" is not a list. Use open, mine, overdue, unassigned, escalated, resolved or all.");
  });
});

describe("category: the short words people type", () => {
  it.each([
    ["物流", "delivery"],
    ["logistics", "delivery"],
    ["shipping", "delivery"],
    ["质量", "quality"],
    ["发错", "wrong_item"],
  ])("category=%s is filed as %s", async (word, stored) => {
    const id = await file("late parcel", `category=${word}`);
    expect((await app.store.complaints.findById(id).lean())?.category).toBe(stored);
  });

  it("an unknown word is refused listing the categories, and nothing is filed (en, zh)", async () => {
    const r = await app.run("shell:sue", 'complaint new category=weather "late"');
    expect(r.reply.text).toContain('"weather" is not a category. Use delivery, damaged');
    expect((await zh("shell:sue", 'complaint new category=天气 "晚了"')).reply.text).toContain('"天气" 不是类别。请使用 物流配送（delivery）');
    expect(await app.store.complaints.countDocuments({})).toBe(0);
  });
});

describe("audit of a complaint's actions", () => {
  it("claim then resolve in the same second (the clock moves on by milliseconds, as it does): newest first, in the order they happened", async () => {
    const id = await file();
    for (const line of [`complaint claim ${id}`, `complaint resolve ${id} note=done`, `complaint reopen ${id}`]) {
      app.clock.set(new Date(app.clock.now().getTime() + 7));
      expect((await app.run("shell:sue", line)).outcome).toBe("ok");
    }
    const r = await app.run("shell:mia", `audit subject=${id}`);
    expect(r.reply.table?.rows.map((row) => row[2]!.split(" ").slice(0, 2).join(" "))).toEqual(["complaint reopen", "complaint resolve", "complaint claim", "complaint new"]);
  });
});
