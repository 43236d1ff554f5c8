/**
 * Roles, help and arguments as a user meets them: a grant that changes nothing says so and
 * writes nothing; refusals for who the caller is are denials on the trail; a page out of range
 * names the range; `help` with words too many helps with what exists; a time unit typed apart
 * from its number is refused with how to write it, nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, field, product, type TestApp } from "./helpers/app.js";

let app: TestApp;
/** A shop run by stored admins only (role changes take the lease). */
let leased: TestApp;
beforeAll(async () => {
  [app, leased] = await Promise.all([makeTestApp(), makeTestApp({ SHOPOPS_ADMINS: "" })]);
  await app.store.products.insertMany([product("SKU-1")]);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:ad2", "admin", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
  await leased.services.identity.grant("shell:root", "admin", "setup");
  await leased.services.identity.grant("shell:root2", "admin", "setup");
});
afterAll(async () => {
  await Promise.all([app?.close(), leased?.close()]);
});

const zh = (a: TestApp, identity: string, text: string) => a.core.invoke({ identity, platform: "shell", text, locale: "zh-CN" });
const entry = (a: TestApp, ref: string) => a.store.audit.findById(ref).lean();

describe("granting a role someone has already", () => {
  for (const [name, shop, admin, other] of [
    ["with SHOPOPS_ADMINS", () => app, "shell:admin", "shell:ad2"],
    ["run by stored admins (the lease)", () => leased, "shell:root", "shell:root2"],
  ] as const) {
    it(`${name}: says so, is audited ok with code already_granted, and keeps who granted it and when`, async () => {
      const a = shop();
      const first = await a.run(admin, "role grant shell:bob 经理");
      expect([first.outcome, first.reply.text]).toEqual(["ok", "shell:bob is now manager (was viewer)."]);
      const granted = await a.store.roles.findById("shell:bob").lean();
      a.clock.advance(60_000);

      const again = await a.run(other, "role grant shell:bob Manager");
      expect([again.outcome, again.code, again.reply.status, again.reply.text]).toEqual(["ok", "already_granted", "info", "shell:bob is already manager; nothing changed."]);
      expect(await entry(a, again.ref)).toMatchObject({ outcome: "ok", code: "already_granted", command: "role grant" });
      expect(await a.store.roles.findById("shell:bob").lean()).toEqual(granted);
      const zhAgain = await zh(a, other, "role grant shell:bob 经理（manager）");
      expect([zhAgain.code, zhAgain.reply.text]).toEqual(["already_granted", "shell:bob 已经是经理（manager），未做任何更改。"]);
      // role list shows the first grant, not the repeat.
      const row = (await a.run(admin, "role list")).reply.table!.rows.find((r) => r[0] === "shell:bob");
      expect(row?.[2]).toBe(admin);

      // A real change is still made and reported.
      const change = await a.run(other, "role grant shell:bob support");
      expect([change.outcome, change.code, change.reply.text]).toEqual(["ok", undefined, "shell:bob is now support (was manager)."]);
      expect(await a.store.roles.findById("shell:bob").lean()).toMatchObject({ role: "support", grantedBy: other });
      await a.store.roles.deleteOne({ _id: "shell:bob" });
      // Someone never granted a role is a viewer already: no binding is written for it.
      const viewer = await a.run(admin, "role grant shell:newcomer viewer");
      expect([viewer.outcome, viewer.code, viewer.reply.text]).toEqual(["ok", "already_granted", "shell:newcomer is already viewer; nothing changed."]);
      expect(await a.store.roles.findById("shell:newcomer").lean()).toBeNull();
    });
  }
});

describe("refusals for who the caller is", () => {
  it("an admin demoting or unlinking themselves is denied on the audit trail, nothing changed", async () => {
    for (const line of ["role revoke shell:root", "role grant shell:root manager"]) {
      const r = await leased.run("shell:root", line);
      expect([r.outcome, r.code, r.reply.text], line).toEqual(["denied", "self_demote", "You cannot remove your own admin role; ask another admin."]);
      expect(await entry(leased, r.ref), line).toMatchObject({ outcome: "denied", code: "self_demote" });
    }
    expect(await leased.services.identity.roleOf("shell:root")).toBe("admin");
    // A bootstrap admin too.
    const boot = await app.run("shell:admin", "role revoke shell:admin");
    expect([boot.outcome, boot.code]).toEqual(["denied", "self_demote"]);

    expect((await leased.run("shell:root2", "role link shell:root slack:T1:UROOT")).outcome).toBe("ok");
    const own = await leased.run("shell:root", "role unlink slack:T1:UROOT");
    expect([own.outcome, own.code]).toEqual(["denied", "self_unlink"]);
    expect(await entry(leased, own.ref)).toMatchObject({ outcome: "denied", code: "self_unlink", command: "role unlink" });
    expect(await leased.services.identity.samePerson("shell:root", "slack:T1:UROOT")).toBe(true);
    // audit outcome=… is not a filter; the row shows it.
    const rows = (await leased.run("shell:root2", "audit command=role limit=100")).reply.table!.rows.map((r) => r.join(" "));
    expect(rows.some((r) => r.includes("role unlink slack:T1:UROOT") && r.includes("denied"))).toBe(true);
  });
});

describe("a page number out of range", () => {
  it("names the range, for every command with pages, in English and Chinese", async () => {
    for (const line of ["audit page=99999", "order search customer=C1 page=10001", "complaint list page=10001", "refund list page=10001"]) {
      const r = await app.run("shell:admin", line);
      expect(r.code, line).toBe("invalid_args");
      expect(r.reply.text, line).toContain("is not a page number from 1 to 10000, e.g. page=2.");
    }
    expect((await zh(app, "shell:admin", "audit page=99999")).reply.text).toContain("不是 1 到 10000 之间的页码");
    expect((await app.run("shell:admin", "audit page=10000")).code).toBe("page_out_of_range");
  });
});

describe("help", () => {
  it("with words after a command: help for the command, saying the rest was not understood", async () => {
    const r = await app.run("shell:sam", "help stock adjust now");
    expect([r.outcome, r.reply.title]).toEqual(["ok", "stock adjust"]);
    expect(field(r, "Usage")).toContain("stock adjust <sku>");
    expect(r.reply.context).toEqual(['Showing help for `stock adjust`: "now" after it was not understood.']);
    const z = await zh(app, "shell:sam", "help stock adjust now please");
    expect(z.reply.title).toBe("stock adjust");
    expect(z.reply.context).toEqual(['以下是 `stock adjust` 的帮助：其后的 "now please" 无法识别。']);
    // A group, when the second word is none of its commands.
    expect((await app.run("shell:sam", "help refund nonsense")).reply.context).toEqual(['Showing help for `refund`: "nonsense" after it was not understood.']);
    // A command the caller may not run is shown, with the role it needs; nothing known at all is unknown as before.
    expect((await app.run("shell:nobody", "help stock adjust now")).reply.context).toEqual([
      'Showing help for `stock adjust`: "now" after it was not understood.',
      "`stock adjust` needs the staff role; you are viewer. Ask an admin (`role grant`) if you need it.",
    ]);
    expect((await app.run("shell:sam", "help nothing here")).reply.text).toBe("No command `nothing here` that you can run. Type `help` for the list.");
    expect((await app.run("shell:sam", "help stock adjust")).reply.context).toBeUndefined();
  });

  it("English usage lines say what the Chinese ones say", async () => {
    expect(field(await app.run("shell:sam", "help stock snooze"), "Usage")).toBe("`stock snooze <sku> <30m|24h|3d|off>`");
    expect(field(await zh(app, "shell:sam", "help stock snooze"), "用法")).toBe("`stock snooze <SKU> <duration 时长 30m|24h|3d|off|取消>`");
    expect(field(await app.run("shell:mia", "help audit"), "Usage")).toContain("[since=YYYY-MM-DD|7d|24h]");
    expect(field(await zh(app, "shell:mia", "help audit"), "用法")).toContain("[since=<日期|7天>]");
  });
});

describe("a time unit typed apart from its number", () => {
  it("is refused with how to write it, and changes nothing: refund policy set expiry=48 小时, stock snooze SKU-1 3 天", async () => {
    const before = await app.services.refund.policy();
    const policy = await app.run("shell:admin", "refund policy set expiry=48 小时");
    expect([policy.code, policy.reply.text]).toEqual(["invalid_args", 'Invalid arguments for `refund policy`:\n• unexpected extra argument "小时": write expiry=48小时 without the space']);
    expect(await app.services.refund.policy()).toEqual(before);
    expect((await zh(app, "shell:admin", "refund policy set expiry=２ 天")).reply.text).toContain('多余的参数 "天"：请写成 expiry=２天，数字和单位之间不要空格');

    const snoozed = await app.store.products.findById("SKU-1").lean();
    const snooze = await app.run("shell:sam", "stock snooze SKU-1 3 天");
    expect([snooze.code, snooze.reply.text]).toEqual(["invalid_args", 'Invalid arguments for `stock snooze`:\n• unexpected extra argument "天": write 3天 without the space']);
    expect((await app.run("shell:sam", "stock snooze SKU-1 30 M")).reply.text).toContain('write 30m without the space');
    expect(await app.store.products.findById("SKU-1").lean()).toEqual(snoozed);

    // Written together, both are taken.
    expect((await app.run("shell:admin", "refund policy set expiry=48小时")).outcome).toBe("ok");
    expect((await app.services.refund.policy()).pendingHours).toBe(48);
    expect((await app.run("shell:sam", "stock snooze SKU-1 3天")).outcome).toBe("ok");
    // A unit after a number that is no duration is an extra argument as before.
    const adjust = await app.run("shell:sam", "stock adjust SKU-1 +5 d reason=x");
    expect(adjust.reply.text).toBe('Invalid arguments for `stock adjust`:\n• unexpected extra argument "d"');
  });
});
