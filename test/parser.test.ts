import { describe, expect, it } from "vitest";
import { parseArgs, tokenize } from "../src/core/parser.js";
import { UserError } from "../src/core/errors.js";
import { pageArg } from "../src/core/args.js";
import { normalizeDateInput, readDateInput } from "../src/core/format.js";

describe("argument parser", () => {
  it("splits positional words, key=value pairs and --flags", () => {
    expect(parseArgs('stock adjust SKU-1 -2 reason="box damaged" --dry-run per-customer=3')).toEqual({
      positional: ["stock", "adjust", "SKU-1", "-2"],
      named: { reason: "box damaged", perCustomer: "3" },
      flags: { dryRun: true },
    });
  });

  it("keeps Chinese text, Chinese quotes and full-width spaces", () => {
    expect(parseArgs("stock 保温杯　不锈钢 reason=“外箱 破损”")).toEqual({
      positional: ["stock", "保温杯", "不锈钢"],
      named: { reason: "外箱 破损" },
      flags: {},
    });
  });

  it("takes a full-width ＝ (a Chinese keyboard's) as =: options stay options, not complaint text", () => {
    expect(parseArgs("complaint new severity＝urgent category＝damaged 杯子碎了")).toEqual({
      positional: ["complaint", "new", "杯子碎了"],
      named: { severity: "urgent", category: "damaged" },
      flags: {},
    });
    expect(parseArgs("x --since＝7d").named).toEqual({ since: "7d" });
  });

  it("treats a word that starts with a quote as text even if it contains =", () => {
    expect(parseArgs("complaint new 'a=b is broken'").positional).toEqual(["complaint", "new", "a=b is broken"]);
  });

  it("accepts --key=value and negative numbers", () => {
    expect(parseArgs("x --since=7d -5 +3")).toEqual({ positional: ["x", "-5", "+3"], named: { since: "7d" }, flags: {} });
  });

  it("reports an unclosed quote", () => {
    expect(() => tokenize('reason="oops')).toThrow(UserError);
  });
});

describe("dates and pages as typed", () => {
  it("reads Chinese date words and spans: 前天 and a day without a year against today, 7天 and 3小时 as 7d and 3h", () => {
    expect(["今天", "昨天", "明天", "7天", "+7天", "３小时", "24 小时", "24个小时", "2026年11月24日", "11月24日"].map((s) => normalizeDateInput(s))).toEqual([
      "today",
      "yesterday",
      "tomorrow",
      "7d",
      "+7d",
      "3h",
      "24h",
      "24h",
      "2026-11-24",
      "11-24",
    ]);
    // 前天 and a day without a year need today: kept for a parser that knows it, or read against it.
    expect(normalizeDateInput("前天")).toBe("前天");
    expect(["前天", "11月24日", "１月５号", "11-24", "12月1日 09:30", "昨天", "2025/12/31"].map((s) => readDateInput(s, "2026-01-01"))).toEqual([
      "2025-12-30",
      "2026-11-24",
      "2026-01-05",
      "2026-11-24",
      "2026-12-01 09:30",
      "yesterday",
      "2025-12-31",
    ]);
    // For a date ahead (an arrival, a coupon's end), a day already past this year is next year's.
    expect(["1月5日", "11月25日", "12月1日"].map((s) => readDateInput(s, "2026-11-25", "next"))).toEqual(["2027-01-05", "2026-11-25", "2026-12-01"]);
    // 7日 is a day of the month in Chinese (the 7th), not seven days: left for the parser to refuse.
    expect(normalizeDateInput("7日")).toBe("7日");
  });

  it("reads a page typed full-width, and refuses what is no page number with one message", () => {
    expect(pageArg.parse("２")).toBe(2);
    expect(pageArg.parse(" 3 ")).toBe(3);
    expect(pageArg.parse(4)).toBe(4);
    expect(pageArg.parse(undefined)).toBe(1);
    for (const bad of ["0", "abc", "1.5", "10001", "", "-1"]) {
      const r = pageArg.safeParse(bad);
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues.map((i) => i.message), bad).toEqual(["arg.bad_page"]);
    }
  });
});
