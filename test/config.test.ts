import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, sameTimeZone } from "../src/config.js";

describe("config", () => {
  it("has working defaults and is frozen", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ timeZone: "UTC", currency: "USD", locale: "en", mongodbUri: undefined, velocityWindowDays: 28 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { currency: string }).currency = "EUR";
    }).toThrow();
  });

  it("names each bad variable and what it expects", () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({ SHOP_TIMEZONE: "Mars/Olympus", SHOP_CURRENCY: "dollars", MONGODB_URI: "localhost:27017", VELOCITY_WINDOW_DAYS: "0" });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain("SHOP_TIMEZONE: expected an IANA time zone such as Asia/Shanghai");
    expect(err!.message).toContain("SHOP_CURRENCY: expected an ISO 4217 currency code");
    expect(err!.message).toContain("MONGODB_URI: expected a MongoDB connection string");
    expect(err!.message).toContain("VELOCITY_WINDOW_DAYS: expected a whole number from 1 to 90");
    expect(err!.message).toContain(".env.example");
  });

  it("refuses a currency code that has the shape of one but is none", () => {
    expect(() => loadConfig({ SHOP_CURRENCY: "XYZ" })).toThrow(/SHOP_CURRENCY: expected an ISO 4217 currency code/);
    expect(loadConfig({ SHOP_CURRENCY: "EUR" }).currency).toBe("EUR");
  });

  it("checks bootstrap admin identities", () => {
    expect(() => loadConfig({ SHOPOPS_ADMINS: "alice" })).toThrow(/SHOPOPS_ADMINS: "alice" is not an identity/);
    expect(loadConfig({ SHOPOPS_ADMINS: "shell:alice, slack:T01:U02" }).bootstrapAdmins).toEqual(["shell:alice", "slack:T01:U02"]);
  });

  it("refuses an alert route to a Discord channel by name (Discord addresses channels by id)", () => {
    expect(() => loadConfig({ ALERT_ROUTES: "digest:discord:general" })).toThrow(/ALERT_ROUTES: "digest:discord:general" is not a route;.*a Discord channel by its numeric id/);
    expect(loadConfig({ ALERT_ROUTES: "digest:discord:123456789012345678,low_stock:slack:#ops" }).alertRoutes).toHaveLength(2);
  });

  it("refuses quiet hours that start and end at the same time (all day quiet)", () => {
    expect(() => loadConfig({ QUIET_HOURS: "22:00-22:00" })).toThrow(/QUIET_HOURS: start and end are the same time/);
    expect(loadConfig({ QUIET_HOURS: "22:00-07:00" }).quietHours).toEqual({ start: "22:00", end: "07:00" });
  });

  it("refuses a time zone abbreviation (CST would be Chicago, not China) and keeps the zone's canonical name", () => {
    expect(() => loadConfig({ SHOP_TIMEZONE: "CST" })).toThrow(/SHOP_TIMEZONE: "CST" is an abbreviation.*Asia\/Shanghai, America\/Chicago/);
    expect(() => loadConfig({ SHOP_TIMEZONE: "EST" })).toThrow(/"EST" is an abbreviation/);
    expect(loadConfig({ SHOP_TIMEZONE: "america/new_york" }).timeZone).toBe("America/New_York");
    expect(loadConfig({ SHOP_TIMEZONE: "utc" }).timeZone).toBe("UTC");
    // The name the shop gave is kept: ICU knows Asia/Kolkata as Asia/Calcutta, Europe/Kyiv as Europe/Kiev.
    expect(loadConfig({ SHOP_TIMEZONE: "Asia/Kolkata" }).timeZone).toBe("Asia/Kolkata");
    expect(loadConfig({ SHOP_TIMEZONE: "Europe/Kyiv" }).timeZone).toBe("Europe/Kyiv");
    // IANA names without an area that name one zone are zones, not abbreviations.
    for (const tz of ["PRC", "Singapore", "Japan", "Hongkong", "US/Eastern", "W-SU", "NZ-CHAT", "GB-Eire", "EST5EDT", "PST8PDT"]) expect(loadConfig({ SHOP_TIMEZONE: tz }).timeZone).toBe(tz);
    expect(() => loadConfig({ SHOP_TIMEZONE: "EST" })).toThrow(/"EST" is an abbreviation.*EST never moves to summer time.*America\/New_York/);
    expect(sameTimeZone("PRC", "Asia/Shanghai")).toBe(true);
    expect(sameTimeZone("Asia/Kolkata", "Asia/Calcutta")).toBe(true);
    expect(sameTimeZone("America/Chicago", "America/New_York")).toBe(false);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ MONGODB_URI: "", SHOP_TIMEZONE: "" }).timeZone).toBe("UTC");
  });
});
