/**
 * A hands-on pass over complaint triage as support staff and their lead (EN and ZH): what people
 * type. Real database, fixed clock (2026-11-25 12:00 Asia/Shanghai).
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

async function file(text = "box arrived crushed"): Promise<string> {
  const r = await app.run("shell:sue", `complaint new severity=high "${text}"`);
  expect(r.outcome, r.reply.text).toBe("ok");
  return /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
}

describe("a note or reason typed without its name", () => {
  it("complaint resolve C-… fixed it: told it looks like the note, with the line written right (en, zh); nothing changes", async () => {
    const id = await file();
    await app.run("shell:sue", `complaint claim ${id}`);
    const r = await app.run("shell:sue", `complaint resolve ${id} fixed it`);
    expect([r.outcome, r.code]).toEqual(["user_error", "invalid_args"]);
    expect(r.reply.text).toContain(`"fixed it" looks like the note, typed without note=; nothing changed. Write it as note="…": \`complaint resolve ${id} note="fixed it"\``);
    expect(r.reply.text).not.toContain("unexpected extra argument");
    const z = await zh("shell:sue", `complaint resolve ${id.toLowerCase()} 已补发`);
    expect(z.reply.text).toContain(`"已补发" 看起来是处理说明，但没有写 note=，未做任何更改。请写成 note="…"：\`complaint resolve ${id} note="已补发"\``);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "claimed" });
    // The line it gives works.
    expect((await app.run("shell:sue", `complaint resolve ${id} note="fixed it"`)).outcome).toBe("ok");
    // The refusal is on the complaint's trail.
    const trail = await app.run("shell:admin", `audit subject=${id} outcome=user_error`);
    expect(trail.reply.table?.rows.map((row) => row.join(" ")).join("\n")).toContain(`complaint resolve ${id} fixed it`);
  });

  it("complaint escalate C-… customer angry, complaint reopen C-… <why>: the reason, the note (en, zh); nothing changes", async () => {
    const id = await file();
    const e = await app.run("shell:sue", `complaint escalate ${id} customer threatens chargeback`);
    expect(e.reply.text).toContain(`Write it as reason="…": \`complaint escalate ${id} reason="customer threatens chargeback"\``);
    expect((await zh("shell:sue", `complaint escalate ${id} 客户要投诉`)).reply.text).toContain(`"客户要投诉" 看起来是原因`);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "new" });
    await app.run("shell:sue", `complaint resolve ${id} note=done`);
    const o = await app.run("shell:sue", `complaint reopen ${id} replacement broken too`);
    expect(o.reply.text).toContain(`\`complaint reopen ${id} note="replacement broken too"\``);
    expect(await app.store.complaints.findById(id).lean()).toMatchObject({ status: "resolved" });
  });

  it("an unknown complaint is said first, not a line that would only be refused for it (en, zh)", async () => {
    const u = await app.run("shell:sue", "complaint resolve c-nope12 fixed it");
    expect([u.outcome, u.code, u.reply.text]).toEqual(["user_error", "unknown_complaint", "No complaint C-NOPE12. Complaint ids look like C-7K2M9Q; `complaint list` shows the open ones."]);
    expect((await zh("shell:sue", "complaint escalate C-NOPE12 客户要投诉")).reply.text).toBe("没有投诉 C-NOPE12。投诉编号形如 C-7K2M9Q；`complaint list` 可查看未结投诉。");
  });
});

describe("an id written as in a sentence", () => {
  it("punctuation after it or brackets around it are not part of it (claim, resolve, show; en, zh)", async () => {
    const id = await file();
    const c = await app.run("shell:sue", `complaint claim ${id}.`);
    expect([c.outcome, c.reply.title], c.reply.text).toEqual(["ok", `You have ${id} now.`]);
    expect((await zh("shell:lin", `complaint claim ${id.toLowerCase()}，`)).reply.text).toBe(`${id} 已被 shell:sue 认领。请联系对方，或由经理执行 \`complaint assign ${id} <身份>\`。`);
    expect((await app.run("shell:sue", `complaint show (${id})`)).reply.title).toBe(`Complaint ${id} · high`);
    const r = await app.run("shell:sue", `complaint resolve ${id}; note=replaced`);
    expect([r.outcome, r.reply.title]).toEqual(["ok", `${id} resolved.`]);
    // Still refused: what is not an id once its punctuation is set aside.
    expect((await app.run("shell:sue", "complaint show C-!!")).reply.text).toContain('"C-!!" is not a complaint id');
  });
});

describe("complaint new with an option named in Chinese", () => {
  it("严重程度=紧急 is refused naming severity=, with the line written right, not filed as normal text (en, zh)", async () => {
    const z = await zh("shell:sue", "complaint new 严重程度=紧急 客户 三天 没收到货");
    expect([z.outcome, z.code]).toEqual(["user_error", "invalid_args"]);
    expect(z.reply.text).toContain('"严重程度=" 不是选项：选项名要用英文写，严重程度请写作 `severity=`（如果这本来就是正文，请给文字加上引号）');
    expect(z.reply.text).toContain("complaint new severity=紧急 客户 三天 没收到货");
    const r = await app.run("shell:sue", "complaint new parcel lost 类别=物流配送");
    expect(r.reply.text).toContain('"类别=" is not an option: option names are written in English; 类别 is `category=` (if it is meant as text, put the text in quotes)');
    expect(await app.store.complaints.countDocuments({})).toBe(0);
    // Written right, or meant as text in quotes: filed.
    const ok = await zh("shell:sue", "complaint new severity=紧急 客户 三天 没收到货");
    expect([ok.outcome, ok.reply.title]).toEqual(["ok", expect.stringMatching(/ · 紧急$/)]);
    const quoted = await app.run("shell:sue", 'complaint new "严重程度=紧急 is what the customer wrote"');
    expect([quoted.outcome, quoted.reply.text]).toEqual(["ok", "严重程度=紧急 is what the customer wrote"]);
    // A word no option is named by stays text.
    expect((await zh("shell:sue", "complaint new 客户说 价格=太贵")).outcome).toBe("ok");
  });
});
