/**
 * Compliance as an ops lead meets it: "who changed bob's role?" is answered by `audit
 * subject=shell:bob` (role grant, revoke, link and unlink name the identity, refused attempts
 * too), and the refusals are listed on their own with `audit outcome=denied` (in Chinese too),
 * combined with the other filters and paged. A key revoked while a request was reading it is
 * refused at once, not accepted for seconds more from this instance's cache.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeTestApp, type TestApp } from "./helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:root", "admin", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await app.services.identity.grant("shell:sue", "support", "shell:admin");
});
afterAll(() => app?.close());

/** Runs a line as `identity` a minute after the last one, so the trail's order is the order typed. */
const run = (identity: string, text: string) => {
  app.clock.advance(60_000);
  return app.run(identity, text);
};
/** The rows `audit <filters>` shows a manager, each as one line. */
const rows = async (filters: string) => ((await app.run("shell:mia", `audit ${filters} limit=100`)).reply.table?.rows ?? []).map((r) => r.join(" "));

describe("audit subject=<identity>", () => {
  it("lists every role change and link of that identity, refused attempts included, and nothing of others", async () => {
    expect((await run("shell:root", "role grant shell:bob admin")).outcome).toBe("ok");
    expect((await run("shell:root", "role grant shell:bob manager")).outcome).toBe("ok");
    // Refused for who the caller is (a support may not grant roles), and for a bad role.
    expect((await run("shell:sue", "role grant shell:bob admin")).outcome).toBe("denied");
    expect((await run("shell:root", "role grant shell:bob boss")).outcome).toBe("user_error");
    expect((await run("shell:root", "role link shell:bob discord:323456789012345678")).outcome).toBe("ok");
    expect((await run("shell:root", "role unlink shell:bob")).outcome).toBe("ok");
    expect((await run("shell:root", "role revoke shell:bob")).outcome).toBe("ok");
    // Another identity's change is not listed.
    expect((await run("shell:root", "role grant shell:ann staff")).outcome).toBe("ok");

    const bob = await rows("subject=shell:bob");
    expect(bob).toHaveLength(7);
    expect(bob.map((r) => r.split(" ").slice(4, 6).join(" "))).toEqual([
      "role revoke",
      "role unlink",
      "role link",
      "role grant",
      "role grant",
      "role grant",
      "role grant",
    ]);
    expect(bob.some((r) => r.includes("shell:sue") && r.includes("denied (permission_denied)"))).toBe(true);
    expect(bob.some((r) => r.includes("shell:ann"))).toBe(false);
    // The other identity of a link finds it too.
    expect(await rows("subject=discord:323456789012345678")).toEqual([expect.stringContaining("role link shell:bob discord:323456789012345678")]);
  });

  it("finds a refused self-demotion under the identity the admin tried to demote", async () => {
    const r = await run("shell:root", "role revoke shell:root");
    expect([r.outcome, r.code]).toEqual(["denied", "self_demote"]);
    expect(await rows("subject=shell:root")).toEqual([expect.stringMatching(/shell:root role revoke shell:root denied \(self_demote\)/)]);
  });
});

describe("audit outcome=", () => {
  it("lists only the entries with that outcome, combined with actor= and command=, paged with the filter kept", async () => {
    for (const sku of ["A", "B", "C"]) expect((await run("shell:sue", `apikey create ${sku} scopes=orders`)).outcome).toBe("denied");
    const denied = await rows("outcome=denied");
    expect(denied.length).toBeGreaterThanOrEqual(5);
    expect(denied.every((r) => r.includes("denied ("))).toBe(true);

    const sue = await app.run("shell:mia", "audit actor=shell:sue command=apikey outcome=denied limit=2");
    expect(sue.reply.table?.rows).toHaveLength(2);
    expect(sue.reply.context).toEqual([
      "Entries 1–2 of 3, newest first. Narrow with actor=, command=, since=, subject= or outcome=.",
      `Next page: \`audit actor=shell:sue command=apikey before=${sue.reply.table!.rows[1]![4]} outcome=denied limit=2 page=2\``,
      // The refusal's reason is longer than the table's column: the entry is named to read it whole.
      `A row cut short (…) is shown whole by its Ref: \`audit ref=${sue.reply.table!.rows[0]![4]}\`.`,
    ]);
    const next = await app.run("shell:mia", "audit actor=shell:sue command=apikey outcome=denied limit=2 page=2");
    expect(next.reply.table?.rows.map((r) => r[2])).toEqual(["apikey create A scopes=orders"]);

    // ok only: none of the refusals.
    const ok = await rows("actor=shell:root outcome=ok");
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.some((r) => r.includes("denied") || r.includes("user_error"))).toBe(false);
  });

  it("takes the outcome as the Chinese table names it, in any case or width", async () => {
    const zh = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: "audit outcome=被拒绝 limit=100", locale: "zh-CN" });
    expect(zh.outcome).toBe("ok");
    expect(zh.reply.table?.rows.every((r) => String(r[3]).startsWith("被拒绝（"))).toBe(true);
    const upper = await app.run("shell:mia", "audit outcome=ＤＥＮＩＥＤ limit=100");
    expect(upper.reply.table?.rows).toHaveLength(zh.reply.table!.rows.length);
  });

  it("refuses an unknown outcome, naming it and the outcomes there are", async () => {
    const r = await app.run("shell:mia", "audit outcome=refused");
    expect(r.outcome).toBe("user_error");
    expect(r.reply.text).toContain('"refused" is not an outcome. Outcomes: ok, denied, user_error, error');
    const zh = await app.core.invoke({ identity: "shell:mia", platform: "shell", text: "audit outcome=拒绝", locale: "zh-CN" });
    expect(zh.reply.text).toContain('"拒绝" 不是有效的结果');
  });
});

describe("apikey revoke while a request is reading the key", () => {
  it("refuses the key at once afterwards: the request in flight does not cache it as valid", async () => {
    const { id, token } = await app.services.apiKeys.create("storefront", ["orders"], "shell:root");
    const keys = app.store.apiKeys;
    const findById = keys.findById.bind(keys);
    // The revoke lands between the request's read of the key and its answer.
    vi.spyOn(keys, "findById").mockImplementationOnce(((...a: Parameters<typeof findById>) => ({
      lean: async () => {
        const doc = await findById(...a).lean();
        expect((await run("shell:root", `apikey revoke ${id}`)).outcome).toBe("ok");
        return doc;
      },
    })) as never);
    expect((await app.services.apiKeys.authenticate(token))?.id).toBe(id);
    expect(await app.services.apiKeys.authenticate(token)).toBeNull();
    vi.restoreAllMocks();
  });
});

describe("apikey list", () => {
  it("names who revoked a key, as it names who created it, in English and Chinese", async () => {
    const { id } = await app.services.apiKeys.create("helpdesk", ["complaints"], "shell:admin");
    expect((await run("shell:root", `apikey revoke ${id}`)).outcome).toBe("ok");
    const row = (await app.run("shell:admin", "apikey list")).reply.table!.rows.find((r) => r[0] === id)!;
    expect(row[5]).toMatch(/^revoked 2026-11-25 \d\d:\d\d GMT\+8 by shell:root$/);
    const zh = await app.core.invoke({ identity: "shell:admin", platform: "shell", text: "apikey list", locale: "zh-CN" });
    expect(zh.reply.table!.rows.find((r) => r[0] === id)![5]).toMatch(/^已于 2026-11-25 \d\d:\d\d GMT\+8 由 shell:root 撤销$/);
  });
});
