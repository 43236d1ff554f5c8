/**
 * Complaint and digest leftovers (issue #4), as support staff and as a manager: several complaint
 * lists at once, "by you" in a refusal to the one who did it, `digest last friday`, and a refund
 * rate without sales said in words. Real database, fixed clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildCommandSet, commandLine, slashLine } from "../adapters/discord/commands.js";
import { commandsOnce } from "../src/app.js";
import type { InvocationResult } from "../src/core/core.js";
import { makeTestApp, paidOrder, withCast, type TestApp } from "./helpers/app.js";

const NOW = Date.parse("2026-11-25T04:00:00Z"); // Wednesday 2026-11-25, 12:00 in Asia/Shanghai
let app: TestApp;
const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: identity.split(":")[0] as "shell", text, locale: "zh-CN" });
const idOf = (r: InvocationResult) => /C-[A-Z0-9]+/.exec(r.reply.title ?? r.reply.text ?? "")![0];
const ids = (r: InvocationResult) => (r.reply.table?.rows ?? []).map((x) => x[0]);
const row = (r: InvocationResult, label: string) => r.reply.table!.rows.find((x) => x[0] === label)!;

beforeAll(async () => {
  app = await withCast(makeTestApp({ DIGEST_ANOMALY_MIN_COUNT: "1" }), { "shell:sue": "support", "shell:lin": "support", "shell:ann": "support", "shell:max": "manager" });
});
afterAll(() => app.close());
beforeEach(async () => {
  await app.store.complaints.deleteMany({});
  app.clock.set(new Date(NOW));
});

describe("complaint list with several lists at once", () => {
  /** Sue holds an overdue and a fresh one, Lin an overdue one; an overdue and a fresh one nobody has. */
  async function triage() {
    const file = async (sev: string, text: string) => idOf(await app.run("shell:sue", `complaint new severity=${sev} "${text}"`));
    const c = { sueLate: await file("urgent", "sue late"), sueFresh: await file("low", "sue fresh"), linLate: await file("urgent", "lin late"), nobodyLate: await file("urgent", "nobody late"), nobodyFresh: await file("low", "nobody fresh") };
    await app.run("shell:sue", `complaint claim ${c.sueLate}`);
    await app.run("shell:sue", `complaint claim ${c.sueFresh}`);
    await app.run("shell:lin", `complaint claim ${c.linLate}`);
    // 9 hours on: urgent resolution (8h) and first response (1h) ran out; the low ones did not.
    app.clock.set(new Date(NOW + 9 * 3_600_000));
    return c;
  }

  it("`mine overdue` in any order, repeated or with `open`, is my overdue complaints (en, zh)", async () => {
    const c = await triage();
    for (const line of ["mine overdue", "overdue mine", "mine mine overdue", "open mine overdue", "overdue open mine overdue"]) {
      const r = await app.run("shell:sue", `complaint list ${line}`);
      expect(r.outcome, line).toBe("ok");
      expect(ids(r), line).toEqual([c.sueLate]);
      expect(r.reply.title, line).toBe("Your overdue complaints: 1");
    }
    const z = await zh("shell:sue", "complaint list 我的 已超时");
    expect(ids(z)).toEqual([c.sueLate]);
    expect(z.reply.title).toBe("我的已超时投诉：1 个");
    const u = await app.run("shell:sue", "complaint list unassigned overdue");
    expect(ids(u)).toEqual([c.nobodyLate]);
    expect(u.reply.title).toBe("Overdue unassigned complaints: 1");
    expect((await zh("shell:sue", "complaint list 已超时 未分配")).reply.title).toBe("未分配的已超时投诉：1 个");
    // One list alone is as before.
    expect(ids(await app.run("shell:sue", "complaint list mine")).sort()).toEqual([c.sueLate, c.sueFresh].sort());
  });

  it("none matching: the empty reply names both lists (en, zh)", async () => {
    await triage();
    const r = await app.run("shell:ann", "complaint list mine overdue");
    expect(r.reply.text).toBe("None of your open complaints is overdue. `complaint list mine` shows all of yours.");
    expect((await zh("shell:ann", "complaint list mine overdue")).reply.text).toBe("你的未结投诉都没有超时。`complaint list mine` 可查看你的全部投诉。");
  });

  it("`mine unassigned` is refused, saying why and the line for each; nothing is listed (en, zh)", async () => {
    await triage();
    const r = await app.run("shell:sue", "complaint list overdue mine unassigned");
    expect([r.outcome, r.code]).toEqual(["user_error", "contradictory_lists"]);
    expect(r.reply.text).toBe(
      "A complaint cannot be both mine and unassigned: one of yours has someone on it, you. Nothing is listed. For yours, type `complaint list mine overdue`; for those nobody has, `complaint list unassigned overdue`.",
    );
    expect(r.reply.table).toBeUndefined();
    const z = await zh("shell:sue", "complaint list 我的 未分配");
    expect(z.code).toBe("contradictory_lists");
    expect(z.reply.text).toContain("投诉不可能既是“我的”又是“未分配”");
    expect(z.reply.text).toContain("`complaint list mine`；查看无人处理的投诉请输入 `complaint list unassigned`");
    // A word that is no list is named.
    const bad = await app.run("shell:sue", "complaint list mine later");
    expect(bad.outcome).toBe("user_error");
    expect(bad.reply.text).toContain('"later" is not a list');
  });

  it("the next-page line keeps every list given (en, zh, and as Discord members type it)", async () => {
    for (let i = 0; i < 11; i++) await app.run("shell:sue", `complaint new severity=urgent "late ${i}"`);
    app.clock.set(new Date(NOW + 2 * 3_600_000));
    const r = await app.run("shell:sue", "complaint list unassigned overdue");
    expect(r.reply.title).toBe("Overdue unassigned complaints: 11");
    expect(r.reply.context).toContain("Next page: `complaint list unassigned overdue page=2`");
    const z = await zh("shell:sue", "complaint list 未分配 已超时");
    expect(z.reply.context).toContain("下一页：`complaint list unassigned overdue page=2`");
    const two = await app.run("shell:sue", "complaint list unassigned overdue page=2");
    expect(ids(two)).toHaveLength(1);
    // Past the last page: the line to it keeps them too.
    expect((await app.run("shell:sue", "complaint list unassigned overdue page=5")).reply.text).toContain("`complaint list unassigned overdue page=2`");
    // On Discord: the first list a choice, the others beside it.
    const set = buildCommandSet(await commandsOnce());
    expect(slashLine(set, "complaint list unassigned overdue page=2")).toBe("/complaint list which:unassigned and:overdue page:2");
    expect(commandLine(set.routes.get("complaint list")!, new Map([["which", "mine"], ["and", "overdue"]]))).toBe("complaint list mine overdue");
  });
});

describe("a refusal to the one who did it says “by you”", () => {
  it("Sue assigned it to Lin, then tries to claim it: “(by you)”; to Ann “(by shell:sue)” (en, zh)", async () => {
    const id = idOf(await app.run("shell:sue", "complaint new lid broken"));
    expect((await app.run("shell:sue", `complaint assign ${id} shell:lin`)).outcome).toBe("ok");
    const r = await app.run("shell:sue", `complaint claim ${id}`);
    expect(r.code).toBe("claimed_by_other");
    expect(r.reply.text).toBe(`${id} is already assigned to shell:lin (by you). Ask them, or a manager can \`complaint assign ${id} <identity>\`.`);
    expect((await zh("shell:sue", `complaint claim ${id}`)).reply.text).toBe(`${id} 已由你分配给 shell:lin。请联系对方，或由经理执行 \`complaint assign ${id} <身份>\`。`);
    // Someone else reads the name.
    expect((await app.run("shell:ann", `complaint claim ${id}`)).reply.text).toContain(`${id} is already assigned to shell:lin (by shell:sue).`);
    expect((await zh("shell:ann", `complaint claim ${id}`)).reply.text).toContain(`${id} 已由 shell:sue 分配给 shell:lin。`);
  });

  it("two assignments of one manager at once: the loser says “You assigned …”, not the manager's own name (en, zh)", async () => {
    let lost = 0;
    for (let round = 0; round < 4; round++) {
      const id = idOf(await app.run("shell:sue", `complaint new two tabs round ${round}`));
      const [a, b] = await Promise.all([app.run("shell:max", `complaint assign ${id} shell:lin`), zh("shell:max", `complaint assign ${id} shell:ann`)]);
      if (a.outcome === "ok" && b.outcome === "ok") continue; // the second saw the first: a reassignment
      lost++;
      if (a.outcome !== "ok") {
        expect(a.reply.text).toBe(`You assigned ${id} to shell:ann in another command while you were assigning it here; nothing changed. To give it to shell:lin anyway, run \`complaint assign ${id} shell:lin\` again.`);
      } else {
        expect(b.reply.text).toBe(`你在这里分配时，${id} 已由你在另一条命令中分配给 shell:lin，未做任何更改。如仍要交给 shell:ann，请再次执行 \`complaint assign ${id} shell:ann\`。`);
      }
    }
    expect(lost).toBeGreaterThan(0);
  });

  it("under another identity linked to hers, it is still her: “by you”", async () => {
    await app.services.identity.grant("slack:T1:USUE", "support", "shell:admin");
    await app.run("shell:admin", "role link shell:sue slack:T1:USUE");
    try {
      const id = idOf(await app.run("shell:sue", "complaint new wrong colour"));
      await app.run("shell:sue", `complaint assign ${id} shell:lin`);
      const r = await app.run("slack:T1:USUE", `complaint claim ${id}`);
      expect(r.reply.text).toContain(`${id} is already assigned to shell:lin (by you).`);
      // And the other way round: assigned on Slack, refused in the shell.
      const other = idOf(await app.run("shell:sue", "complaint new wrong size"));
      await app.run("slack:T1:USUE", `complaint assign ${other} shell:lin`);
      expect((await app.run("shell:sue", `complaint claim ${other}`)).reply.text).toContain(`${other} is already assigned to shell:lin (by you).`);
    } finally {
      await app.run("shell:admin", "role unlink shell:sue slack:T1:USUE");
    }
  });
});

describe("digest last <weekday>, and last week", () => {
  it("`digest last friday` / `last fri` is the latest Friday before today; on a Friday a week ago, where `digest friday` is today (en, zh)", async () => {
    for (const line of ["last friday", "Last Fri"]) {
      const r = await app.run("shell:max", `digest ${line}`);
      expect([r.outcome, r.reply.title], line).toEqual(["ok", "Daily digest: 2026-11-20"]);
    }
    // Friday 2026-11-27, 12:00 in Shanghai.
    app.clock.set(new Date("2026-11-27T04:00:00Z"));
    expect((await app.run("shell:max", "digest last friday")).reply.title).toBe("Daily digest: 2026-11-20");
    expect((await app.run("shell:max", "digest friday")).reply.title).toBe("Daily digest: 2026-11-27 (today so far)");
    expect((await zh("shell:max", "digest last fri")).reply.title).toBe("销售日报：2026-11-20");
  });

  it("`digest last week` is refused as a week, saying to name a day and where the weekly summary is (en, zh)", async () => {
    const r = await app.run("shell:max", "digest last week");
    expect([r.outcome, r.code]).toEqual(["user_error", "bad_day"]);
    expect(r.reply.text).toBe(
      "\"last week\" is a week, and the digest is of one day. For a day of it, name the day: `digest last friday`, or a date, `digest 2026-11-20`. The weekly summary (the last 7 days against the 7 before) comes with Monday's daily digest, to the digest channel and to managers who ran `digest subscribe`.",
    );
    const z = await zh("shell:max", "digest 上周");
    expect(z.code).toBe("bad_day");
    expect(z.reply.text).toContain("\"上周\" 是一周，而日报只针对一天。要看其中某一天，请写出那一天：`digest 上周五`");
    expect(z.reply.text).toContain("`digest subscribe`");
  });
});

describe("a refund rate without sales says why", () => {
  beforeAll(async () => {
    await app.store.orders.insertMany([
      // Paid 11-19, refunded 11-20 (no sales that day) and 11-25 (today, no sales so far).
      paidOrder("ORD-900001", 10000, "2026-11-19T02:00:00Z", {
        refunds: [
          { requestId: "R-1", amount: 4000, at: new Date("2026-11-20T03:00:00Z"), day: "2026-11-20" },
          { requestId: "R-3", amount: 1000, at: new Date("2026-11-25T01:00:00Z"), day: "2026-11-25" },
        ],
        refundedTotal: 5000,
      }),
      // 11-21: sales and a refund; its rate against 11-20's none is "—", never flagged.
      paidOrder("ORD-900002", 10000, "2026-11-21T02:00:00Z", { refunds: [{ requestId: "R-2", amount: 5000, at: new Date("2026-11-21T05:00:00Z"), day: "2026-11-21" }], refundedTotal: 5000 }),
    ]);
  });
  afterAll(async () => {
    await app.store.orders.deleteMany({ _id: { $in: ["ORD-900001", "ORD-900002"] } });
  });

  it("refunds on a day without sales: “— (no sales that day)”, the refunds still shown (en, zh)", async () => {
    const r = await app.run("shell:max", "digest 2026-11-20");
    expect(row(r, "Refund rate")).toEqual(["Refund rate", "— (no sales that day)", "—", "—"]);
    expect(row(r, "Refunds")[1]).toBe("CN¥40.00");
    expect(row(r, "GMV")[1]).toBe("CN¥0.00");
    const z = await zh("shell:max", "digest 2026-11-20");
    expect(row(z, "退款率")).toEqual(["退款率", "—（当日无销售）", "—", "—"]);
    expect(row(z, "退款")[1]).toBe("¥40.00");
    // Today so far: said so.
    expect(row(await app.run("shell:max", "digest today"), "Refund rate")[1]).toBe("— (no sales so far today)");
    expect(row(await zh("shell:max", "digest today"), "退款率")[1]).toBe("—（今日暂无销售）");
    // The day after, with sales: its change against the day without a rate is "—", never flagged.
    const next = await app.run("shell:max", "digest 2026-11-21");
    // (Against 11-14, before the shop's first paid order on 11-19: no data yet.)
    expect(row(next, "Refund rate")).toEqual(["Refund rate", "50.0%", "—", "— (no data yet)"]);
    expect(next.reply.text ?? "").not.toContain("Refund rate");
    expect(next.reply.image?.data.length).toBeGreaterThan(0);
  });
});
