/**
 * Two leftovers of the helpers' passes: a staff member pressing a coupon preview's Cancel is told
 * the preview stays open and who can close it (as Confirm already says nothing was launched), and
 * OPTIONS on `/healthz` and `/readyz` answers what they take, as it does on the API's routes.
 * Real database, real HTTP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../adapters/http/http.server.js";
import { silentLogger } from "../src/core/logger.js";
import { makeTestApp, withCast, type TestApp } from "./helpers/app.js";

let app: TestApp;
let http: RunningHttpServer;

beforeAll(async () => {
  app = await withCast(makeTestApp(), { "shell:max": "manager", "shell:sam": "staff" });
  http = await startHttpServer({ services: app.services, config: app.config, logger: silentLogger }, 0, "127.0.0.1");
});
afterAll(async () => {
  await http?.close();
  await app?.close();
});

describe("coupon cancel by someone without the role", () => {
  it("says the preview stays open and who can cancel it (en and zh); the preview can still be confirmed", async () => {
    const p = await app.run("shell:max", "coupon launch code=KEEP10 type=percent value=10");
    const [confirm, cancel] = p.reply.actions!.map((a) => a.id);
    expect(cancel).toMatch(/^coupon cancel D-/);
    const r = await app.run("shell:sam", cancel!);
    expect([r.outcome, r.code]).toEqual(["denied", "permission_denied"]);
    expect(r.reply.text).toBe(
      "`coupon cancel` needs the manager role; you are staff. Ask an admin (`role grant`) if you need it.\nThe preview stays open: only someone with the manager role or above can cancel it (or confirm it); ask one to press Cancel on the preview. Left alone, it can no longer be confirmed 30 minutes after it was made.",
    );
    const z = await app.core.invoke({ identity: "shell:sam", platform: "shell", text: cancel!, locale: "zh-CN" });
    expect(z.reply.text).toContain("预览仍然有效：只有经理（manager）或以上角色才能取消（或确认）它");
    expect((await app.run("shell:max", confirm!)).outcome).toBe("ok");
    expect(await app.store.coupons.exists({ _id: "KEEP10" })).not.toBeNull();
  });
});

describe("OPTIONS on /healthz and /readyz", () => {
  it("answers 204 with GET, HEAD, OPTIONS and no body; another method's 405 names the same", async () => {
    for (const p of ["/healthz", "/readyz"]) {
      const r = await fetch(`http://127.0.0.1:${http.port}${p}`, { method: "OPTIONS" });
      expect([p, r.status, r.headers.get("allow"), await r.text()]).toEqual([p, 204, "GET, HEAD, OPTIONS", ""]);
      const post = await fetch(`http://127.0.0.1:${http.port}${p}`, { method: "POST" });
      expect([p, post.status, post.headers.get("allow")]).toEqual([p, 405, "GET, HEAD, OPTIONS"]);
    }
  });
});
