import { spawn, type ChildProcess } from "node:child_process";
import { PROJECT_ROOT } from "../../src/config.js";

/** Result of running the bot's command line. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `process.env` without the settings that would change how the bot runs (database, shop, admins,
 * demo, logging, limits, and any `extra` prefixes such as `SLACK_`), for a child process.
 */
export function cleanEnv(...extra: string[]): Record<string, string> {
  const re = new RegExp(`^(MONGODB_URI|SHOP|SHOPOPS_|DEMO_|LOG_LEVEL|VELOCITY_|MAX_INPUT${extra.map((p) => "|" + p).join("")})`);
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !re.test(e[0])));
}

/**
 * Runs `node --import tsx src/main.ts <args>` as `npm run shell` would, with `env` added to a
 * clean environment (no inherited shopops settings) and `stdin` piped in.
 */
export function runCli(args: string[], env: Record<string, string>, stdin = ""): Promise<CliRun> {
  return runScript("src/main.ts", args, env, stdin);
}

/** Runs one of the project's TypeScript entry points (`src/import.ts` …) the same way. */
export function runScript(script: string, args: string[], env: Record<string, string>, stdin = ""): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...cleanEnv(), ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A project entry point running in a child process ({@link startScript}), its output read as it comes. */
export interface RunningScript {
  child: ChildProcess;
  /** What it has written to stdout so far. */
  out(): string;
  /** What it has written to stderr so far. */
  err(): string;
  /** Its exit code once it has closed. */
  code: Promise<number | null>;
}

/**
 * Starts `node --import tsx <script> <args>` with `env` added to a clean environment and no
 * input, without waiting for it: for tests that signal or watch a run mid-way (the caller kills
 * what is left of it).
 */
export function startScript(script: string, args: string[], env: Record<string, string>): RunningScript {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: PROJECT_ROOT, env: { ...cleanEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  return { child, out: () => stdout, err: () => stderr, code };
}
