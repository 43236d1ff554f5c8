/**
 * A new team member finding their way: help for a command they may not run yet, typos and
 * Chinese words typed as commands, in English and Chinese.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildManifest } from "../adapters/slack/manifest.js";
import type { Locale } from "../src/core/messages.js";
import { field, makeTestApp, USUAL_CAST, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await withCast(makeTestApp(), { ...USUAL_CAST, "shell:vic": "viewer" });
});
afterAll(() => app?.close());

const run = (identity: string, text: string, locale: Locale = "en") => app.core.invoke({ identity, platform: "shell", text, locale });

describe("help for a command the caller may not run yet", () => {
  it("shows it with the role it needs and who grants it, in en and zh", async () => {
    const r = await run("shell:sam", "help refund approve");
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe("refund approve");
    expect(field(r, "Usage")).toContain("refund approve <id>");
    expect(field(r, "Needs role")).toBe("support");
    expect(r.reply.context).toEqual(["`refund approve` needs the support role; you are staff. Ask an admin (`role grant`) if you need it."]);
    const z = await run("shell:sam", "help refund approve", "zh-CN");
    expect(z.reply.context).toEqual(["`refund approve` 需要客服（support）角色；你当前是员工（staff）。如有需要，请联系管理员（`role grant`）。"]);
  });

  it("for a group none of which the caller may run, lists it with each command's role", async () => {
    const r = await run("shell:sam", "help complaint");
    expect(r.outcome).toBe("ok");
    expect(r.reply.fields?.map((f) => f.label)).toContain("complaint new (support)");
    expect(r.reply.context).toEqual(["You are staff: these commands need the role shown beside each. Ask an admin (`role grant`) if you need one."]);
    const z = await run("shell:sam", "help complaint", "zh-CN");
    expect(z.reply.context).toEqual(["你当前是员工（staff）：这些命令各自需要名称旁标注的角色。如有需要，请联系管理员（`role grant`）。"]);
  });

  it("still says a command is unknown when no such command exists", async () => {
    expect((await run("shell:vic", "help nothing")).reply.text).toBe("No command `nothing` that you can run. Type `help` for the list.");
  });
});

describe("a typo of a group followed by one of its subcommands", () => {
  it("suggests the whole command (`stock low`), not the group alone", async () => {
    const r = await run("shell:sam", "stok low");
    expect(r.reply.text).toBe("Unknown command `stok low`. Did you mean `stock low`? Type `help` to see the commands you can use.");
    expect((await run("shell:sue", "complain new")).reply.text).toContain("Did you mean `complaint new`?");
    expect((await run("shell:sam", "stok low", "zh-CN")).reply.text).toContain("你是不是想输入 `stock low`？");
  });

  it("names the subcommands of a group that does not run alone (`refnd` for `refund`)", async () => {
    const r = await run("shell:sam", "refnd");
    expect(r.reply.text).toBe(
      "Unknown command `refnd`. Did you mean `refund`? `refund` is followed by one of: approve, list, policy, reject, request, show. Type `help refund` for their usage.",
    );
  });
});

describe("a Chinese word typed as a command", () => {
  it("suggests the command it names, in en and zh", async () => {
    expect((await run("shell:sam", "退款", "zh-CN")).reply.text).toBe(
      "未知命令 `退款`。你是不是想输入 `refund`？`refund` 后面需接以下子命令之一：approve、list、policy、reject、request、show。输入 `help refund` 查看用法。",
    );
    expect((await run("shell:sam", "库存 SKU-1001", "zh-CN")).reply.text).toContain("你是不是想输入 `stock`？");
    expect((await run("shell:sam", "订单", "zh-CN")).reply.text).toContain("你是不是想输入 `order`？");
    expect((await run("shell:sam", "订单")).reply.text).toContain("Did you mean `order`?");
  });

  it("after help, shows the help of the group it names", async () => {
    const r = await run("shell:sam", "help 库存", "zh-CN");
    expect(r.outcome).toBe("ok");
    expect(r.reply.title).toBe("stock、stock adjust、stock low、stock po、stock snooze");
  });
});

describe("help's own usage in Chinese", () => {
  it("names its argument in Chinese", async () => {
    expect(field(await run("shell:sam", "help help", "zh-CN"), "用法")).toBe("`help [<命令…>]`");
    expect(field(await run("shell:sam", "help help"), "Usage")).toBe("`help [<command…>]`");
  });
});

describe("the Slack manifest in Chinese", () => {
  it("lists a group's commands with the Chinese list separator", () => {
    const manifest = buildManifest({ commands: app.core.commands, mode: { socket: true }, locale: "zh-CN" }) as { features: { slash_commands: { command: string; description: string }[] } };
    const refund = manifest.features.slash_commands.find((c) => c.command === "/refund");
    expect(refund?.description).toBe("refund 相关命令：approve、list、policy、reject、request、show");
  });
});
