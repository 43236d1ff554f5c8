/**
 * Configuration as a newcomer meets it: every variable documented, and a mistyped value refused
 * with what was given and the right spelling.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, loadConfig, PROJECT_ROOT } from "../src/config.js";

/** The message of the configuration error `env` gives (fails the test when there is none). */
function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe("configuration documented", () => {
  const example = readFileSync(path.join(PROJECT_ROOT, ".env.example"), "utf8");
  const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

  it("every variable the configuration reads is in .env.example and in the README, and .env.example names no other", () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(50);
    const missing = CONFIG_VARIABLES.filter((v) => !new RegExp(`^#? ?${v}=`, "m").test(example));
    expect(missing, "not in .env.example").toEqual([]);
    const undocumented = CONFIG_VARIABLES.filter((v) => !readme.includes("`" + v + "`") && !readme.includes("`" + v + "="));
    expect(undocumented, "not in the README").toEqual([]);
    const stale = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!).filter((v) => !CONFIG_VARIABLES.includes(v));
    expect(stale, "in .env.example but never read").toEqual([]);
  });

  it("the quick start says how to get the replies in Chinese", () => {
    const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Configuration"));
    expect(quickStart).toContain("SHOP_LOCALE=zh-CN npm start");
  });
});

describe("a mistyped value is said back, with the right spelling when it is close", () => {
  it("time zone, currency, language and log level", () => {
    expect(problem({ SHOP_TIMEZONE: "Asia/Shangai" })).toContain('SHOP_TIMEZONE: expected an IANA time zone such as Asia/Shanghai or America/New_York (Area/City, as in the tz database); got "Asia/Shangai"');
    // An abbreviation in lower case is still an abbreviation (ICU reads cst as US Central time).
    expect(problem({ SHOP_TIMEZONE: "cst" })).toContain('SHOP_TIMEZONE: "cst" is an abbreviation');
    expect(problem({ SHOP_TIMEZONE: "Paris" })).toContain('got "Paris"');
    expect(problem({ SHOP_CURRENCY: "usd" })).toContain('SHOP_CURRENCY: expected an ISO 4217 currency code in capitals such as USD, CNY or EUR; got "usd" (did you mean USD?)');
    expect(problem({ SHOP_CURRENCY: "XYZ" })).toContain('got "XYZ", which is not an ISO 4217 code');
    expect(problem({ SHOP_LOCALE: "zh_CN" })).toContain('SHOP_LOCALE: expected en or zh-CN; got "zh_CN" (did you mean zh-CN?)');
    expect(problem({ SHOP_LOCALE: "zh" })).toContain("(did you mean zh-CN?)");
    expect(problem({ SHOP_LOCALE: "fr" })).toMatch(/SHOP_LOCALE: expected en or zh-CN; got "fr"\n/);
    expect(problem({ LOG_LEVEL: "DEBUG" })).toContain('LOG_LEVEL: expected debug, info, warn or error; got "DEBUG" (did you mean debug?)');
    // Nothing is guessed: the right spellings still load, the near misses do not.
    expect(loadConfig({ SHOP_LOCALE: "zh-CN", LOG_LEVEL: "warn", SHOP_CURRENCY: "CNY" })).toMatchObject({ locale: "zh-CN", logLevel: "warn", currency: "CNY" });
  });

  it("SHOPOPS_ADMINS: each identity that is not one, with what it probably meant", () => {
    const m = problem({ SHOPOPS_ADMINS: "Shell:Alice,bob,slack:U0456,shell:carol;shell:dan,shell:ok" });
    expect(m).toContain('SHOPOPS_ADMINS: "Shell:Alice" is not an identity (did you mean shell:Alice?)');
    expect(m).toContain('"bob" is not an identity (did you mean shell:bob? an identity names its platform: shell:, slack: or discord:)');
    expect(m).toContain('"slack:U0456" is not an identity (a Slack identity names the workspace and the user: slack:T0123:U0456)');
    expect(m).toContain('"shell:carol;shell:dan" is not an identity (separate identities with commas)');
    expect(m).toContain("expected a comma-separated list like shell:alice,slack:T0123:U0456,discord:123456789");
    expect(m).not.toContain('"shell:ok"');
    expect(problem({ SHOPOPS_ADMINS: "slack:t0123:u0456" })).toContain("(did you mean slack:T0123:U0456?)");
  });
});

describe("a MONGODB_URI written so the driver cannot read it", () => {
  it("a password with @, : or / not percent-encoded, or cut at a # in .env, is refused saying how to write it, never repeating it", () => {
    for (const uri of ["mongodb://shop:s3cr@t@db.example.com/shopops", "mongodb://shop:s3cr:t@db.example.com/shopops", "mongodb+srv://shop:s3cr/t@cluster0.example.net/?retryWrites=true"]) {
      const m = problem({ MONGODB_URI: uri });
      expect(m).toContain("MONGODB_URI: the user name or password holds a character that must be percent-encoded (@ as %40, : as %3A, / as %2F, # as %23, % as %25), e.g. mongodb://shop:p%40ss@db.example.com/shopops");
      expect(m).not.toContain("s3cr");
    }
    // `MONGODB_URI=mongodb://shop:s3cr#t@db…` unquoted in .env reads as mongodb://shop:s3cr.
    const cut = problem({ MONGODB_URI: "mongodb://shop:s3cr" });
    expect(cut).toContain("MONGODB_URI: a host's port is not a number. If that is user:password, the host follows it after an @");
    expect(cut).toContain("in .env a # starts a comment, so quote a value holding one");
    expect(cut).not.toContain("s3cr");
    // Well-formed ones load as before.
    for (const uri of ["mongodb://shop:p%40ss@db.example.com/shopops", "mongodb://u:p@h1:27017,h2:27017/db?replicaSet=rs", "mongodb+srv://user:pass@cluster0.abc.mongodb.net/?appName=a@b", "mongodb://[::1]:27017/shop", "mongodb://localhost"]) {
      expect(loadConfig({ MONGODB_URI: uri }).mongodbUri).toBe(uri);
    }
  });
});
