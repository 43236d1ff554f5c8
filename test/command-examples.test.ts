/** Every command's examples, as English and Chinese readers see them, are commands it accepts. */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { commandsOnce } from "../src/app.js";
import { localText } from "../src/core/command.js";
import { parseArgs } from "../src/core/parser.js";
import { argName, examplesOf, usageOf } from "../src/core/registry.js";

/** The arguments an example line binds to, as the core binds them (positional words in order, then options and flags). */
function bind(name: string, positional: readonly string[], line: string): Record<string, unknown> {
  const p = parseArgs(line);
  const words = p.positional.slice(name.split(" ").length);
  const obj: Record<string, unknown> = {};
  let i = 0;
  for (const n of positional) {
    if (i >= words.length) break;
    if (n.startsWith("...")) {
      obj[argName(n)] = words.slice(i).join(" ");
      i = words.length;
    } else obj[n] = words[i++];
  }
  expect(i, `${line}: extra words`).toBe(words.length);
  return { ...obj, ...p.named, ...Object.fromEntries(Object.keys(p.flags).map((k) => [k, true])) };
}

describe("command examples", () => {
  it("are accepted by their command's arguments, in English and in Chinese", async () => {
    for (const cmd of await commandsOnce()) {
      for (const locale of ["en", "zh-CN"] as const) {
        for (const ex of examplesOf(cmd, locale)) {
          const r = (cmd.args as z.ZodObject).safeParse(bind(cmd.name, cmd.positional ?? [], ex));
          expect(r.success, `${locale}: ${ex}: ${r.error?.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`).toBe(true);
        }
      }
    }
  });

  it("read in Chinese where they carry words: free text and usage placeholders", async () => {
    const commands = await commandsOnce();
    const groups = ["order", "complaint", "digest", "refund", "coupon", "stock", "apikey", "audit"];
    const han = /\p{Script=Han}/u;
    // Values that are typed as they are whatever the language (`type=percent`, `scopes=orders`).
    const fixed = /\b(percent|fixed|orders|products|inventory|complaints|refunds)\b/g;
    for (const cmd of commands.filter((c) => groups.includes(c.name.split(" ")[0]!))) {
      // What goes after an option name (`reason=<原因>`) is described in Chinese; option names stay.
      const usage = usageOf(cmd, "zh-CN");
      for (const [, placeholder] of usage.matchAll(/=<([^>]*)>/g)) expect(placeholder!.replace(fixed, ""), `${cmd.name}: ${usage}`).not.toMatch(/[a-z]{2,}/);
      expect(usage.startsWith(cmd.name + " ") || usage === cmd.name, usage).toBe(true);
      // Free text in an example (a reason, a note, a complaint, a label) is Chinese.
      for (const ex of examplesOf(cmd, "zh-CN")) {
        const p = parseArgs(ex);
        for (const k of ["reason", "note"]) if (p.named[k] !== undefined) expect(p.named[k], ex).toMatch(han);
        if (cmd.name === "complaint new" || cmd.name === "apikey create") expect(p.positional.slice(2).join(" "), ex).toMatch(han);
        expect(ex, "no English phrase in quotes").not.toMatch(/"[^"]*[A-Za-z]{3,} [A-Za-z]{3,}[^"]*"/);
      }
    }
    // Spot checks of the pairs the issue named.
    const byName = new Map(commands.map((c) => [c.name, c]));
    expect(localText(byName.get("order cancel")!.examples[0]!, "zh-CN")).toBe("order cancel ORD-100001 reason=客户改主意了");
    expect(examplesOf(byName.get("order tracking")!, "zh-CN")[0]).toBe("order tracking ORD-100001 tracking=SF1234567891 reason=最后一位输错了");
    expect(examplesOf(byName.get("complaint new")!, "zh-CN")[0]).toContain("外箱被压坏，杯子碎了");
    expect(examplesOf(byName.get("apikey create")!, "zh-CN")[1]).toBe("apikey create 客服工单回调 scopes=complaints");
  });
});
