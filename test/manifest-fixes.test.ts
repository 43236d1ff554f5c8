/**
 * The command lines around the bot: the Slack manifest script (the README's command writes a file
 * Slack accepts; `--out`; a wrong command line exits 64 with the usage, an http:// URL is refused)
 * and the benchmark runner's arguments (`--help`, unknown names 64, a bad BENCH_* value one line
 * and 78). No benchmark is run: every case here stops before one starts.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/config.js";
import { cleanEnv, runScript, type CliRun } from "./helpers/cli.js";

/** Each case starts a Node process with TypeScript compiled on the fly. */
const SPAWNS_TIMEOUT = 120_000;
const MANIFEST = "adapters/slack/manifest.ts";
const BENCH = "bench/run.ts";
const FIRST_LINE = "# shopops Slack app manifest, generated from commands/";

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shopops-manifest-"));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Runs `line` in a shell at the project root, as a reader of the README would. */
function sh(line: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", line], { cwd: PROJECT_ROOT, env: cleanEnv("SLACK_", "BENCH_", "npm_"), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The README's manifest command lines (step 1 of "From 'create app from manifest'…"). */
async function readmeManifestLines(): Promise<string[]> {
  const readme = await fsp.readFile(path.join(PROJECT_ROOT, "README.md"), "utf8");
  return readme
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^npm run .*slack:manifest/.test(l))
    .map((l) => l.replace(/\s+#.*$/, ""));
}

describe("slack:manifest", () => {
  it(
    "the README's command writes a manifest file that starts as YAML, not with npm's banner",
    async () => {
      const lines = await readmeManifestLines();
      expect(lines.length).toBeGreaterThanOrEqual(2);
      const socket = lines.find((l) => l.includes("> slack-manifest.yaml") && !l.includes("--http"));
      expect(socket).toBeDefined();
      const file = path.join(dir, "readme.yaml");
      const run = await sh(socket!.replace("slack-manifest.yaml", JSON.stringify(file)));
      expect(run.code).toBe(0);
      const text = await fsp.readFile(file, "utf8");
      expect(text.startsWith(FIRST_LINE)).toBe(true);
      expect(text).not.toMatch(/^> /m);
      expect(text).toContain("socket_mode_enabled: true");
      // Every redirecting line keeps npm quiet.
      for (const l of lines.filter((x) => x.includes(">"))) expect(l).toContain("npm run -s slack:manifest");
    },
    SPAWNS_TIMEOUT,
  );

  it(
    "--out writes the file itself and says where; nothing on standard output",
    async () => {
      const file = path.join(dir, "out.yaml");
      const run = await runScript(MANIFEST, ["--http", "https://shopops.example.com/", "--out", file], {});
      expect(run.code).toBe(0);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`wrote ${file}`);
      expect(run.stderr).toContain("https://shopops.example.com/slack/events");
      const text = await fsp.readFile(file, "utf8");
      expect(text.startsWith(`${FIRST_LINE} (HTTP mode).`)).toBe(true);
      expect(text).toContain('request_url: "https://shopops.example.com/slack/events"');
      expect(text).toContain("socket_mode_enabled: false");
    },
    SPAWNS_TIMEOUT,
  );

  it(
    "a wrong command line exits 64 with the usage and prints no manifest: missing URL, unknown option, http:// URL",
    async () => {
      const missing = await runScript(MANIFEST, ["--http"], {});
      expect(missing.code).toBe(64);
      expect(missing.stdout).toBe("");
      expect(missing.stderr).toContain("--http needs the bot's public base URL");
      expect(missing.stderr).toContain("Usage: npm run -s slack:manifest");

      const bogus = await runScript(MANIFEST, ["--bogus"], {});
      expect(bogus.code).toBe(64);
      expect(bogus.stdout).toBe("");
      expect(bogus.stderr).toContain('unknown option "--bogus"');
      expect(bogus.stderr).toContain("Usage: npm run -s slack:manifest");

      const file = path.join(dir, "plain-http.yaml");
      const http = await runScript(MANIFEST, ["--http", "http://shopops.example.com", "--out", file], {});
      expect(http.code).toBe(64);
      expect(http.stdout).toBe("");
      expect(http.stderr).toContain("Slack needs an https URL");
      await expect(fsp.stat(file)).rejects.toThrow(/ENOENT/);

      const help = await runScript(MANIFEST, ["--help"], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("--http <https URL>");
      expect(help.stdout).toContain("--out <file>");
      expect(help.stdout).not.toContain("display_information");
    },
    SPAWNS_TIMEOUT,
  );
});

describe("npm run bench: arguments", () => {
  const BENCHES = ["approvals", "digest", "discord", "ingest", "low-stock", "slack", "stock-lookup"];

  it(
    "--help prints the usage (each benchmark, the BENCH_* settings) and exits 0 without running one",
    async () => {
      const run = await runScript(BENCH, ["--help"], {});
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Usage: npm run bench");
      for (const b of BENCHES) expect(run.stdout).toMatch(new RegExp(`^  ${b} +\\S`, "m"));
      for (const v of ["BENCH_SCALE", "BENCH_APPROVALS", "BENCH_LOOKUPS", "BENCH_SLACK_REQUESTS"]) expect(run.stdout).toContain(v);
      expect(run.stdout).not.toContain("==");
      expect(run.stderr).toBe("");
    },
    SPAWNS_TIMEOUT,
  );

  it(
    "an unknown benchmark or option exits 64 with the usage",
    async () => {
      const name = await runScript(BENCH, ["stock-lookup", "nope"], {});
      expect(name.code).toBe(64);
      expect(name.stderr).toContain('unknown benchmark "nope"');
      expect(name.stderr).toContain("Usage: npm run bench");
      expect(name.stdout).toBe("");

      const option = await runScript(BENCH, ["--bogus"], {});
      expect(option.code).toBe(64);
      expect(option.stderr).toContain('unknown option "--bogus"');
      expect(option.stderr).toContain("Usage: npm run bench");
    },
    SPAWNS_TIMEOUT,
  );

  it(
    "a bad BENCH_* value is one line naming the variable and what it takes, exit 78, before anything runs",
    async () => {
      for (const [env, bench, wants] of [
        [{ BENCH_APPROVALS: "1" }, "approvals", /BENCH_APPROVALS="1": expected a whole number from 2 to 100000/],
        [{ BENCH_SCALE: "lots" }, "stock-lookup", /BENCH_SCALE="lots": expected a fraction of full size/],
        [{ BENCH_SCALE: "5" }, "digest", /BENCH_SCALE="5": expected .*at most 1/],
        [{ BENCH_LOOKUPS: "0" }, "stock-lookup", /BENCH_LOOKUPS="0": expected a whole number/],
      ] as const) {
        const run = await runScript(BENCH, [bench], { ...env });
        expect(run.code, JSON.stringify(env)).toBe(78);
        expect(run.stderr).toMatch(wants);
        expect(run.stderr.trim().split("\n")).toHaveLength(1);
        expect(run.stdout).toBe("");
      }
    },
    SPAWNS_TIMEOUT,
  );
});
