import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationResult } from "../src/core/core.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

// "Complaints overdue" in the digest means what `complaint list overdue`, the reminders and the
// SLA breach alert mean: either clock run out (no first response past its due time, or not
// resolved past the resolution due time), judged at the end of each day or now for today.

let app: TestApp;

/** Instants in Shanghai (the test app's zone, UTC+8), given as local "MM-DD HH:MM" of 2026. */
const local = (s: string) => new Date(`2026-${s.replace(" ", "T")}:00+08:00`);
const idOf = (r: InvocationResult) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];
const overdueRow = (r: InvocationResult) => r.reply.table!.rows.find((x) => x[0] === "Complaints overdue")![1];
const listed = async () => (await app.run("shell:sue", "complaint list overdue")).reply.table?.rows.map((r) => r[0]) ?? [];
const at = (s: string) => app.clock.set(local(s));

beforeAll(async () => {
  app = await makeTestApp({ COMPLAINT_SLA_FIRST_RESPONSE: "urgent:1h,high:4h,normal:24h,low:72h", COMPLAINT_SLA_RESOLUTION: "urgent:8h,high:24h,normal:72h,low:168h" }, local("11-26 11:00").toISOString());
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app?.close());

describe("digest: complaints overdue by either SLA clock", () => {
  let id: string;

  it("counts a complaint whose first response is overdue, as `complaint list overdue` lists it (was 0)", async () => {
    at("11-26 11:10");
    const filed = await app.run("shell:sue", 'complaint new customer=c1 severity=low "General grumble, no order"');
    expect(filed.outcome).toBe("ok");
    id = idOf(filed);
    // First response due 11-29 11:10 (72h), resolution due 12-03 11:10 (168h); nobody claims it.
    at("11-29 11:40");
    expect(await listed()).toEqual([id]);
    expect(overdueRow(await app.run("shell:mia", "digest today"))).toBe("1");
    expect(overdueRow(await app.run("shell:mia", "digest 2026-11-29"))).toBe("1");
    // Not yet at the end of the 28th (first response due the next morning).
    expect(overdueRow(await app.run("shell:mia", "digest 2026-11-28"))).toBe("0");
    expect((await app.services.digest.digest("2026-11-29")).complaints.prev.overdue).toBe(0);
  });

  it("a first response given later does not change a past day; today's count follows it", async () => {
    at("11-30 10:00");
    expect(overdueRow(await app.run("shell:mia", "digest 2026-11-29"))).toBe("1"); // at the end of the 29th
    expect(overdueRow(await app.run("shell:mia", "digest today"))).toBe("1");
    expect((await app.run("shell:sue", `complaint claim ${id}`)).outcome).toBe("ok");
    at("11-30 10:01");
    expect(await listed()).toEqual([]);
    expect(overdueRow(await app.run("shell:mia", "digest today"))).toBe("0"); // resolution due 12-03
    expect(overdueRow(await app.run("shell:mia", "digest 2026-11-29"))).toBe("1");
  });

  it("an escalation is a first response; a complaint late on both clocks counts once", async () => {
    at("12-01 09:00");
    const a = idOf(await app.run("shell:sue", 'complaint new customer=c2 severity=urgent "Wrong colour sent"'));
    const b = idOf(await app.run("shell:sue", 'complaint new customer=c3 severity=urgent "Box crushed"'));
    at("12-01 09:30");
    expect((await app.run("shell:sue", `complaint escalate ${a} reason="needs a manager"`)).outcome).toBe("ok");
    // 10:30: b's first response (due 10:00) is late, a's is not (escalated at 09:30).
    at("12-01 10:30");
    expect(await listed()).toEqual([b]);
    expect(overdueRow(await app.run("shell:mia", "digest today"))).toBe("1");
    // 18:00: both past resolution (due 17:00); b also still without a first response: 2, not 3.
    at("12-01 18:00");
    expect((await listed()).sort()).toEqual([a, b].sort());
    expect(overdueRow(await app.run("shell:mia", "digest today"))).toBe("2");
  });
});
