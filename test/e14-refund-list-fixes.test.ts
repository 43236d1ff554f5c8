/**
 * Refund lists paged as a manager works through them: the next-page line pins the window (since=7d
 * as the instant it meant) and names the last request shown (before=), so page 2 goes on exactly
 * after page 1, whatever is requested, decided or expires meanwhile; a before= no request has is
 * refused saying what it takes. And the policy card names an expiry of one hour in the singular.
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, type TestApp } from "./helpers/app.js";

let app: TestApp;
afterEach(() => app?.close());

/** A fresh app (its own database: each list starts empty) with a big paid order to ask refunds on. */
async function fresh(): Promise<TestApp> {
  app = await makeTestApp(); // 2026-11-25T04:00:00Z
  for (const [id, role] of [["shell:sam", "staff"], ["shell:mia", "manager"], ["shell:max", "manager"]] as const) await app.services.identity.grant(id, role, "shell:admin");
  await app.store.orders.insertMany([paidOrder("ORD-BIG", 10_000_000)]);
  return app;
}

const zh = (identity: string, text: string) => app.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });

/** Asks a refund of ¥1 on ORD-BIG as sam; its id. */
async function request(): Promise<string> {
  const r = await app.run("shell:sam", 'refund request ORD-BIG 1 reason="damaged"');
  expect(r.outcome, r.reply.text).toBe("ok");
  return /R-[0-9A-Z]{6}/.exec(r.reply.title!)![0];
}

/** The command line of the next-page hint in a reply's context, if any. */
const nextOf = (r: { reply: { context?: string[] } }) => /`(refund list [^`]+)`/.exec((r.reply.context ?? []).join("\n"))?.[1];
const idsOf = (r: { reply: { table?: { rows: string[][] } } }) => (r.reply.table?.rows ?? []).map((row) => row[0]!);

/** Follows the next-page lines from `line` to the end: the ids shown, and each page's first context line. */
async function follow(who: string, line: string | undefined): Promise<{ seen: string[]; contexts: string[] }> {
  const seen: string[] = [];
  const contexts: string[] = [];
  while (line) {
    const r = await app.run(who, line);
    expect([line, r.outcome, r.reply.text]).toEqual([line, "ok", undefined]);
    seen.push(...idsOf(r));
    contexts.push(r.reply.context![0]!);
    line = nextOf(r);
  }
  return { seen, contexts };
}

describe("refund list paging", () => {
  it("all since=7d: the next-page line pins the window and the last row, so page 2 neither repeats nor skips as requests arrive and days pass", async () => {
    await fresh();
    const made: string[] = [];
    for (let i = 0; i < 25; i++) {
      made.unshift(await request());
      app.clock.advance(3_600_000); // an hour apart: newest first, in a known order
    }
    // Now 2026-11-26T05:00:00Z (with the milliseconds a real clock has): 7d back is the 19th, 05:00:00 UTC.
    app.clock.advance(250);
    const first = await app.run("shell:mia", "refund list all since=7d");
    expect(idsOf(first)).toEqual(made.slice(0, 20));
    expect(first.reply.context).toEqual(["Requests 1–20 of 25, newest first.", `Next page: \`refund list all since=2026-11-19T05:00:00Z before=${made[19]} page=2\``]);

    // Meanwhile: two new requests on top, and six days go by (a 7d read again would leave out the oldest).
    await request();
    await request();
    app.clock.advance(6 * 86_400_000);
    const rest = await follow("shell:mia", nextOf(first));
    expect(rest.seen).toEqual(made.slice(20));
    expect(rest.contexts).toEqual(["Requests 21–25 of 25, newest first."]);
  });

  it("pending: requests decided while a manager works through page 1 do not push page 2's rows out of reach", async () => {
    await fresh();
    const made: string[] = [];
    for (let i = 0; i < 23; i++) {
      made.unshift(await request());
      app.clock.advance(60_000);
    }
    const first = await app.run("shell:mia", "refund list pending");
    expect(idsOf(first)).toEqual(made.slice(0, 20));
    expect(nextOf(first)).toBe(`refund list pending before=${made[19]} page=2`);
    // Three of page 1 decided: they leave the pending list, and with them page 2's offset.
    expect((await app.run("shell:mia", `refund approve ${made[0]}`)).outcome).toBe("ok");
    expect((await app.run("shell:mia", `refund reject ${made[1]} reason=duplicate`)).outcome).toBe("ok");
    expect((await app.run("shell:max", `refund approve ${made[5]}`)).outcome).toBe("ok");
    const rest = await follow("shell:mia", nextOf(first));
    expect(rest.seen).toEqual(made.slice(20));
    expect(rest.contexts).toEqual(["Requests 21–23 of 23, newest first."]);
  });

  it("approvable: requests asked at the same instant page in the table's order (by id), none twice nor left out, as the caller approves them", async () => {
    await fresh();
    // All at one instant: only the id orders them.
    const made: string[] = [];
    for (let i = 0; i < 24; i++) made.push(await request());
    made.sort().reverse();
    const first = await app.run("shell:mia", "refund list approvable");
    expect(idsOf(first)).toEqual(made.slice(0, 20));
    // Each approved from the page: it is no longer approvable by her.
    for (const id of made.slice(0, 20)) expect((await app.run("shell:mia", `refund approve ${id}`)).outcome).toBe("ok");
    const rest = await follow("shell:mia", nextOf(first));
    expect(rest.seen).toEqual(made.slice(20));
    expect(rest.contexts).toEqual(["Requests 21–24 of 24, newest first."]);
  });

  it("before= an id no request has is refused saying what it takes (en, zh); a known one in any case lists the rows after it, or says none is left", async () => {
    await fresh();
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      made.unshift(await request());
      app.clock.advance(60_000);
    }
    const bad = await app.run("shell:mia", "refund list all before=R-NOPE99");
    expect([bad.outcome, bad.code, bad.reply.text]).toEqual([
      "user_error",
      "unknown_refund",
      "No refund request R-NOPE99 to continue after: before= takes the last request id of the page before (R-…), as the next-page line writes it.",
    ]);
    expect((await zh("shell:mia", "refund list all before=r-nope99")).reply.text).toBe("没有退款申请 R-NOPE99，无法从它之后继续：before= 应为上一页最后一个申请编号（R-…），照“下一页”提示的写法即可。");
    // Typed in lower case, the rows after it.
    expect(idsOf(await app.run("shell:mia", `refund list all before=${made[0]!.toLowerCase()}`))).toEqual(made.slice(1));
    // After the last one: said so, not "no refund requests".
    const end = await app.run("shell:mia", `refund list all before=${made[2]}`);
    expect(end.reply.text).toBe(`No more requests in this list after ${made[2]}: it was the last one.`);
    expect((await zh("shell:mia", `refund list all before=${made[2]}`)).reply.text).toBe(`此列表中 ${made[2]} 之后没有更多申请：它是最后一个。`);
  });
});

describe("refund policy", () => {
  it("an expiry of one hour reads \"1 hour\" (not \"1 hours\"), in the reply to set and on the card after", async () => {
    await fresh();
    const expiry = (r: { reply: { fields?: { label: string; value: string }[] } }) => r.reply.fields?.find((f) => f.label === "Pending requests expire after")?.value;
    const set = await app.run("shell:admin", "refund policy set expiry=1h");
    expect([set.outcome, expiry(set)]).toEqual(["ok", "1 hour"]);
    expect(expiry(await app.run("shell:sam", "refund policy"))).toBe("1 hour");
    expect(expiry(await app.run("shell:admin", "refund policy set expiry=2d"))).toBe("48 hours");
  });
});
