/**
 * Alert routes in the configuration read as `alerts route` reads them (a Slack channel id in any
 * case is the id; a channel name is accepted with a start-up warning saying what it costs and how
 * to give the id), and `alerts list` says who set an admin's route and when.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, PROJECT_ROOT } from "../src/config.js";
import { t as tr, translator } from "../src/core/messages.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";
import { cleanEnv } from "./helpers/cli.js";
import { connectTestDb } from "./helpers/db.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ ALERT_ROUTES: "low_stock:shell:ops,low_stock:slack:c0new0001,complaints:slack:#ops,digest:slack:general,sla:slack:C0SLA" });
});
afterAll(() => app.close());

const rows = async (locale: "en" | "zh-CN" = "en") => (await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "alerts list", locale })).reply.table!.rows;

describe("ALERT_ROUTES: Slack channel ids in any case", () => {
  it("keeps a Slack id typed in lower case in upper case, as Slack writes it; the same route twice is one; other platforms as given", () => {
    const routes = loadConfig({ ALERT_ROUTES: "low_stock:slack:c0new0001,sla:slack:g01abcdef,low_stock:slack:C0NEW0001,low_stock:shell:ops,complaints:slack:#ops,digest:slack:general" }).alertRoutes;
    expect(routes).toEqual([
      { type: "low_stock", platform: "slack", channel: "C0NEW0001" },
      { type: "sla", platform: "slack", channel: "G01ABCDEF" },
      { type: "low_stock", platform: "shell", channel: "ops" },
      // Names are kept (accepted, with a start-up warning): chat.postMessage takes them.
      { type: "complaints", platform: "slack", channel: "#ops" },
      { type: "digest", platform: "slack", channel: "general" },
    ]);
  });

  it("`alerts route` to the id typed in upper case finds the configured lower-case id already in effect", async () => {
    const r = await app.run("shell:admin", "alerts route low_stock slack C0NEW0001");
    expect([r.reply.code, r.reply.text]).toEqual(["already_routed", "low_stock alerts on slack already go to C0NEW0001, as the configuration (ALERT_ROUTES) says; nothing changed."]);
    expect(await app.store.alertRoutes.findById("low_stock:slack").lean()).toBeNull();
  });

  it("a channel name cut at its # by .env leads with the id as the fix", () => {
    try {
      loadConfig({ ALERT_ROUTES: "low_stock:slack:" });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain("so give the channel by its id (low_stock:slack:C0123ABCD; click the channel's name at the top of the channel: the ID is at the bottom of the About tab)");
    }
  });

  it(".env.example and the README route Slack alerts by channel id only", () => {
    for (const file of [".env.example", "README.md"]) {
      const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8");
      const examples = [...text.matchAll(/ALERT_ROUTES="?([^"\s`)]+)/g)].map((m) => m[1]!).filter((v) => v.includes(":"));
      expect(examples.length, file).toBeGreaterThan(0);
      for (const v of examples) {
        for (const r of loadConfig({ ALERT_ROUTES: v }).alertRoutes) if (r.platform === "slack") expect(r.channel, `${file}: ${v}`).toMatch(/^[CG][A-Z0-9]+$/);
      }
    }
  });
});

describe("ALERT_ROUTES: a Slack channel by name warns at start-up", () => {
  const EN =
    "warning: complaints:slack:#ops, digest:slack:general name a Slack channel instead of giving its id. Text alerts reach it while it keeps that name, but the daily digest's chart can only be uploaded to a channel id, so a daily digest routed there never arrives, and once the channel is renamed no alert does. Give the channel's id instead (click the channel's name at the top of the channel: the ID is at the bottom of the About tab), in ALERT_ROUTES (e.g. low_stock:slack:C0123ABCD) or with `alerts route <type> slack <id>`.";

  it("names the routes in effect that give a name, in en and zh, until each is given by id", async () => {
    expect(await app.services.alerts.slackNameWarning(translator("en"))).toBe(EN);
    expect(await app.services.alerts.slackNameWarning(translator("zh-CN"))).toBe(
      "警告：complaints:slack:#ops, digest:slack:general 用名称而不是 ID 指定 Slack 频道。频道名称不变时文字告警可以送达，但每日日报的图表只能上传到频道 ID，路由到那里的每日日报永远无法送达；频道改名后任何告警都无法送达。请改用频道 ID（点击频道顶部的频道名称，在“关于”页底部可找到 ID），写在 ALERT_ROUTES 中（如 low_stock:slack:C0123ABCD），或用 `alerts route <类型> slack <ID>` 设置。",
    );
    expect((await app.run("shell:admin", "alerts route digest slack C0DIG")).outcome).toBe("ok");
    expect(await app.services.alerts.slackNameWarning(translator("en"))).toContain("warning: complaints:slack:#ops name a Slack channel");
    expect((await app.run("shell:admin", "alerts route complaints slack off")).outcome).toBe("ok");
    expect(await app.services.alerts.slackNameWarning(translator("en"))).toBeNull();
    await app.run("shell:admin", "alerts route digest slack default");
    await app.run("shell:admin", "alerts route complaints slack default");
  });

  it("its example route starts when put in ALERT_ROUTES as shown", () => {
    for (const locale of ["en", "zh-CN"] as const) {
      const example = /(low_stock:slack:\S+?)[,，）)]/.exec(tr(locale, "startup.slack_names", { routes: "digest:slack:general" }))?.[1];
      expect(loadConfig({ ALERT_ROUTES: example! }).alertRoutes).toEqual([{ type: "low_stock", platform: "slack", channel: "C0123ABCD" }]);
    }
  });

  it("the bot says it at start-up, and starts", { timeout: 180_000 }, async () => {
    const db = await connectTestDb();
    const env = { ...cleanEnv("SLACK_", "DISCORD_", "HTTP_", "ALERT_"), MONGODB_URI: db.processUri, SHOPOPS_ADMINS: "shell:admin", HTTP_PORT: "0", JOBS_ENABLED: "false", ALERT_ROUTES: 'digest:slack:general,sla:slack:c0sla0001' };
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    try {
      const deadline = Date.now() + 150_000;
      while (!stderr.includes("name a Slack channel") && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(stderr).toContain("shopops: warning: digest:slack:general name a Slack channel instead of giving its id.");
      expect(stderr).not.toContain("c0sla");
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGTERM");
      await exited;
      await db.close();
    }
  });
});

describe("alerts list: who set an admin's route, and when", () => {
  it("shows the admin's identity and the time (shop zone) for routes and offs they set; the configuration's as before", async () => {
    expect((await app.run("shell:admin", "role grant shell:alice admin")).outcome).toBe("ok");
    app.clock.set("2026-11-25T06:30:00Z");
    expect((await app.run("shell:alice", "alerts route sla slack C0NEWSLA")).outcome).toBe("ok");
    expect((await app.run("shell:alice", "alerts route low_stock shell off")).outcome).toBe("ok");
    const en = await rows();
    expect(en).toContainEqual(["sla", "slack", "C0NEWSLA", "shell:alice on 2026-11-25 14:30 GMT+8"]);
    expect(en).toContainEqual(["low_stock", "shell", "ops (off)", "shell:alice on 2026-11-25 14:30 GMT+8"]);
    expect(en).toContainEqual(["low_stock", "slack", "C0NEW0001", "configuration"]);
    expect(await rows("zh-CN")).toContainEqual(["sla", "slack", "C0NEWSLA", "shell:alice（2026-11-25 14:30 GMT+8）"]);
  });
});
