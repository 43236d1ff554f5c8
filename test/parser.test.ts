import { describe, expect, it } from "vitest";
import { parseArgs, tokenize } from "../src/core/parser.js";
import { UserError } from "../src/core/errors.js";

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
