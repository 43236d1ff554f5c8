/**
 * Configuration values as people write them: a Slack channel name in ALERT_ROUTES cut by .env's
 * comments, numbers that Number() would read another way, switches in capitals.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { t } from "../src/core/messages.js";

/** The ConfigError loadConfig throws for `env` (fails the test when it starts). */
function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** What Node reads from a .env file holding `lines` (as shopops loads .env). */
function fromEnvFile(lines: string): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), "shopops-env-"));
  try {
    const file = path.join(dir, ".env");
    writeFileSync(file, lines);
    const saved = { ...process.env };
    try {
      process.loadEnvFile(file);
      const keys = lines.split("\n").map((l) => l.split("=")[0]!.trim()).filter(Boolean);
      return Object.fromEntries(keys.map((k) => [k, process.env[k]!]));
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("ALERT_ROUTES in .env", () => {
  it("the route example of the start-up warning starts when put in .env as shown", () => {
    for (const locale of ["en", "zh-CN"] as const) {
      const warning = t(locale, "startup.idle_routes", { routes: "digest:slack:C1", running: "shell" });
      const example = /(low_stock:slack:\S+?)[,，）)]/.exec(warning)?.[1];
      expect(example, warning).toBe("low_stock:slack:C0123ABCD");
      const env = fromEnvFile(`ALERT_ROUTES=${example}\n`);
      expect(loadConfig(env).alertRoutes).toEqual([{ type: "low_stock", platform: "slack", channel: "C0123ABCD" }]);
    }
  });

  it("a channel name cut at its # says why and how to write it; quoted, it works", () => {
    const cut = fromEnvFile("ALERT_ROUTES=low_stock:slack:#ops\n");
    expect(cut.ALERT_ROUTES).toBe("low_stock:slack:");
    const msg = problem(cut);
    expect(msg).toContain('ALERT_ROUTES: "low_stock:slack:" is not a route');
    expect(msg).toContain('a # in .env starts a comment');
    expect(msg).toContain('give the channel by its id (low_stock:slack:C0123ABCD; click the channel\'s name at the top of the channel: the ID is at the bottom of the About tab), or quote the value (ALERT_ROUTES="low_stock:slack:#ops")');
    const quoted = fromEnvFile('ALERT_ROUTES="low_stock:slack:#ops"\n');
    expect(loadConfig(quoted).alertRoutes).toEqual([{ type: "low_stock", platform: "slack", channel: "#ops" }]);
    // Other bad routes do not get the .env hint.
    expect(problem({ ALERT_ROUTES: "digest:discord:general" })).not.toContain("comment");
  });
});

describe("numbers are plain digits", () => {
  it.each([
    ["HTTP_PORT", "0x1F90"],
    ["HTTP_PORT", "8080.0"],
    ["HTTP_PORT", "8e3"],
    ["SLACK_PORT", "0x0BB8"],
    ["DEMO_SEED", "1e3"],
    ["DEMO_SEED", "0x10"],
    ["VELOCITY_WINDOW_DAYS", "28.0"],
    ["VELOCITY_WINDOW_DAYS", "0b11"],
    ["RETENTION_DAYS", "-30"],
    ["RETENTION_DAYS", "Infinity"],
  ])("%s=%s is refused, naming the variable and the form expected", (name, value) => {
    const msg = problem({ [name]: value });
    expect(msg).toContain(`${name}: "${value}" is not a whole number in plain digits (not 1e3, 0x10 or 10.0); expected a`);
    expect(msg).toMatch(new RegExp(`${name}: .*from \\d+ to \\d+`));
  });

  it("digits work (spaces around them too), and a number out of range is still refused", () => {
    const c = loadConfig({ HTTP_PORT: "8080", SLACK_PORT: "3001", DEMO_SEED: "1000", VELOCITY_WINDOW_DAYS: " 14 ", RETENTION_DAYS: "030" });
    expect(c.http.port).toBe(8080);
    expect(c.slack).toBeUndefined();
    expect(c.demoSeed).toBe(1000);
    expect(c.velocityWindowDays).toBe(14);
    expect(c.retentionDays).toBe(30);
    expect(loadConfig({ HTTP_PORT: "0" }).http.port).toBe(0);
    expect(loadConfig({}).http.port).toBeUndefined();
    expect(loadConfig({}).demoSeed).toBe(42);
    expect(problem({ HTTP_PORT: "65536" })).toContain("HTTP_PORT: expected a port number from 0 to 65535");
    expect(problem({ VELOCITY_WINDOW_DAYS: "91" })).toContain("VELOCITY_WINDOW_DAYS: expected a whole number from 1 to 90");
  });
});

describe("switches", () => {
  it("take true and false in any case, and 1/0, yes/no", () => {
    expect(loadConfig({ JOBS_ENABLED: "FALSE", DIGEST_STAFF: "True", SHOPOPS_DEMO: "False", JOBS_CATCH_UP: "No" })).toMatchObject({
      jobsEnabled: false,
      digestStaff: true,
      demo: false,
      jobsCatchUp: false,
    });
    expect(loadConfig({ DIGEST_STAFF: "1", JOBS_ENABLED: "0" })).toMatchObject({ digestStaff: true, jobsEnabled: false });
    expect(loadConfig({ DIGEST_STAFF: "yes" }).digestStaff).toBe(true);
    expect(loadConfig({}).jobsEnabled).toBe(true);
  });

  it("another word is refused, naming the variable, the value and the words taken", () => {
    expect(problem({ DIGEST_STAFF: "on" })).toContain('DIGEST_STAFF: "on" is not true or false; expected true or false (in any case; 1/0 and yes/no also work)');
    expect(problem({ JOBS_ENABLED: "ture" })).toContain('JOBS_ENABLED: "ture" is not true or false');
  });
});
