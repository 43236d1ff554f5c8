/**
 * A shop without SHOPOPS_ADMINS is run by its stored admins: no role change may leave it with
 * none, not even two admins demoting each other at the same moment.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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

const admins = async () => (await app.store.roles.find({ role: "admin" }).lean()).map((d) => d._id).sort();

describe("the last admin", () => {
  it("two admins revoking each other at once: the shop keeps at least one admin, and a refused side is told why", async () => {
    for (let round = 0; round < 5; round++) {
      await twoAdmins();
      const [r1, r2] = await Promise.all([app.run("shell:a1", "role revoke shell:a2"), app.run("shell:a2", "role revoke shell:a1")]);
      const left = await admins();
      expect(left.length, `round ${round}`).toBeGreaterThanOrEqual(1);
      // Whoever is still an admin kept their role because the other's change was refused.
      for (const [r, target] of [[r1, "shell:a2"], [r2, "shell:a1"]] as const) {
        if (left.includes(target)) {
          expect(r.code).toBe("last_admin");
          expect(r.reply.text).toContain(`${target} keeps the admin role: the change could have left the shop without an admin`);
        } else expect(r.outcome).toBe("ok");
      }
    }
  });

  it("two admins demoting each other to manager at once keep an admin too", async () => {
    const [r1, r2] = await Promise.all([app.run("shell:a1", "role grant shell:a2 manager"), app.run("shell:a2", "role grant shell:a1 manager")]);
    expect((await admins()).length).toBeGreaterThanOrEqual(1);
    expect([r1.code, r2.code]).toContain("last_admin");
  });

  it("one admin revoking another while a third stays is an ordinary change", async () => {
    const r = await app.run("shell:a1", "role revoke shell:a2");
    expect(r.outcome).toBe("ok");
    expect(await admins()).toEqual(["shell:a1"]);
  });
});
