/**
 * A shop without SHOPOPS_ADMINS is run by its stored admins: no role change may leave it with
 * none, not even two admins demoting each other at the same moment, and no reply may say a
 * change was made that was not.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FixedClock } from "../src/core/clock.js";
import { IdentityService } from "../src/services/identity.service.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp({ SHOPOPS_ADMINS: "" });
});
afterAll(() => app.close());

/** Two stored admins, nothing else. */
async function twoAdmins(): Promise<void> {
  await app.store.roles.deleteMany({});
  const at = app.clock.now();
  await app.store.roles.insertMany([
    { _id: "shell:a1", role: "admin", grantedBy: "setup", grantedAt: at },
    { _id: "shell:a2", role: "admin", grantedBy: "setup", grantedAt: at },
  ]);
}
beforeEach(twoAdmins);

const roleOf = async (id: string) => (await app.store.roles.findById(id).lean())?.role ?? "viewer";
const admins = async () => (await app.store.roles.find({ role: "admin" }).lean()).map((d) => d._id).sort();

describe("the last admin", () => {
  it("two admins revoking each other at once: one change is made, the other refused as the last admin's, and the replies say what happened", async () => {
    for (let round = 0; round < 5; round++) {
      await twoAdmins();
      const [r1, r2] = await Promise.all([app.run("shell:a1", "role revoke shell:a2"), app.run("shell:a2", "role revoke shell:a1")]);
      const left = await admins();
      expect(left, `round ${round}`).toHaveLength(1);
      const [kept] = left;
      const refused = kept === "shell:a1" ? r2 : r1;
      const done = kept === "shell:a1" ? r1 : r2;
      expect(done.outcome).toBe("ok");
      expect(refused.code).toBe("last_admin");
      expect(refused.reply.text).toContain(`${kept} is the shop's last admin, so the change was not made`);
    }
  });

  it("two admins demoting each other to manager at once keep one admin", async () => {
    const [r1, r2] = await Promise.all([app.run("shell:a1", "role grant shell:a2 manager"), app.run("shell:a2", "role grant shell:a1 manager")]);
    expect(await admins()).toHaveLength(1);
    expect([r1.code, r2.code].filter((c) => c === "last_admin")).toHaveLength(1);
  });

  it("a revoke, a counter-revoke and a grant at once: every reply that says a change was made is true of what is stored", async () => {
    for (let round = 0; round < 4; round++) {
      await twoAdmins();
      const [x, y, z] = await Promise.all([app.run("shell:a1", "role revoke shell:a2"), app.run("shell:a2", "role revoke shell:a1"), app.run("shell:a1", "role grant shell:a2 support")]);
      expect((await admins()).length, `round ${round}`).toBeGreaterThanOrEqual(1);
      // The last change reported made to a2 is what a2 has.
      const a2 = await roleOf("shell:a2");
      if (z.outcome === "ok") expect(["support", "viewer"]).toContain(a2);
      if (x.outcome === "ok" && z.outcome !== "ok") expect(a2).toBe("viewer");
      if (y.outcome === "ok") expect(await roleOf("shell:a1")).toBe("viewer");
    }
  });

  it("two instances whose clocks differ by 15 s still take turns: one admin is left", async () => {
    const at = app.clock.now().getTime();
    const a = new IdentityService(app.store, new FixedClock(new Date(at)), []);
    const b = new IdentityService(app.store, new FixedClock(new Date(at + 15_000)), []);
    for (let round = 0; round < 4; round++) {
      await twoAdmins();
      const results = await Promise.all([a.revoke("shell:a2"), b.revoke("shell:a1")]);
      expect((await admins()).length, `round ${round}`).toBe(1);
      expect(results.map((r) => r.kind).sort()).toEqual(["last_admin", "revoked"]);
    }
  });

  it("one admin revoking another while a third stays is an ordinary change", async () => {
    const r = await app.run("shell:a1", "role revoke shell:a2");
    expect(r.outcome).toBe("ok");
    expect(await admins()).toEqual(["shell:a1"]);
  });
});
