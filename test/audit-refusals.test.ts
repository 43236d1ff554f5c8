import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestApp, paidOrder, product, type TestApp } from "./helpers/app.js";

// Refused attempts at a change are on the audit trail as completely as the changes: found by
// `audit subject=…`, recorded even when the line cannot be read, and without a pasted secret.

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.store.products.insertMany([product("SKU-1")]);
  await app.store.orders.insertMany([paidOrder("ORD-1", 10_000), paidOrder("ORD-4", 10_000, undefined, { status: "paid" })]);
  await app.services.identity.grant("shell:sam", "staff", "shell:admin");
  await app.services.identity.grant("shell:mia", "manager", "shell:admin");
});
afterAll(() => app.close());

/** The audit rows `audit subject=<s>` shows a manager, each as one line. */
const rowsAbout = async (s: string) => ((await app.run("shell:mia", `audit subject=${s} limit=100`)).reply.table?.rows ?? []).map((r) => r.join(" "));

describe("refused attempts in the audit trail", () => {
  it("a denial and an argument error name the record typed, so audit subject= finds them", async () => {
    const cancel = await app.run("shell:vic", "order cancel ord-4 reason=x");
    expect(cancel.outcome).toBe("denied");
    const adjust = await app.run("shell:vic", "stock adjust sku-1 +5 reason=x");
    expect(adjust.outcome).toBe("denied");
    const noReason = await app.run("shell:sam", "refund request ORD-1 10");
    expect(noReason.code).toBe("invalid_args");
    const complaint = await app.run("shell:sam", "complaint resolve 7k2m9q");
    expect(complaint.outcome).toBe("denied");
    expect(await app.store.audit.findById(cancel.ref).lean()).toMatchObject({ outcome: "denied", subject: "ORD-4" });
    expect(await app.store.audit.findById(adjust.ref).lean()).toMatchObject({ outcome: "denied", subject: "SKU-1" });
    expect(await app.store.audit.findById(noReason.ref).lean()).toMatchObject({ outcome: "user_error", code: "invalid_args", subject: "ORD-1" });
    expect(await app.store.audit.findById(complaint.ref).lean()).toMatchObject({ outcome: "denied", subject: "C-7K2M9Q" });
    expect((await rowsAbout("ORD-4")).some((r) => r.includes("order cancel") && r.includes(cancel.ref))).toBe(true);
    expect((await rowsAbout("SKU-1")).some((r) => r.includes("stock adjust") && r.includes(adjust.ref))).toBe(true);
    expect((await rowsAbout("ord-1")).some((r) => r.includes("refund request") && r.includes(noReason.ref))).toBe(true);
    expect((await rowsAbout("C-7K2M9Q")).some((r) => r.includes(complaint.ref))).toBe(true);
    // Nothing changed.
    expect((await app.store.orders.findById("ORD-4").lean())?.status).toBe("paid");
    expect((await app.store.products.findById("SKU-1").lean())?.onHand).toBe(50);
  });

  it("a line refused as unreadable (too long, an open quote, a control character) is still audited, its arguments clipped and escaped", async () => {
    const long = await app.run("shell:sam", `stock adjust SKU-1 +1 reason="${"x".repeat(1600)}"`);
    expect(long.code).toBe("input_too_long");
    const open = await app.run("shell:sam", 'order ship ORD-4 carrier="SF tracking=1');
    expect(open.code).toBe("unclosed_quote");
    const bell = await app.run("shell:sam", "stock adjust SKU-1 +1 reason=ding\u0007dong");
    expect(bell.code).toBe("control_chars");
    const entry = async (ref: string) => app.store.audit.findById(ref).lean();
    const l = await entry(long.ref);
    expect(l).toMatchObject({ command: "stock adjust", outcome: "user_error", code: "input_too_long", actor: "shell:sam", subject: "SKU-1" });
    expect(l!.args.startsWith('SKU-1 +1 reason="xxx')).toBe(true);
    expect(l!.args.length).toBeLessThanOrEqual(app.config.maxInputLength);
    expect(await entry(open.ref)).toMatchObject({ command: "order ship", code: "unclosed_quote", args: 'ORD-4 carrier="SF tracking=1', subject: "ORD-4" });
    const b = await entry(bell.ref);
    expect(b).toMatchObject({ command: "stock adjust", code: "control_chars", args: "SKU-1 +1 reason=ding\\u0007dong" });
    expect(b!.args).not.toContain("\u0007");
    expect((await app.store.products.findById("SKU-1").lean())?.onHand).toBe(50);
    // An option that opens a quote left open: the words after it are not taken for the record.
    const quoted = await app.run("shell:sam", 'order cancel reason="duplicate of ORD-1');
    expect(await entry(quoted.ref)).toMatchObject({ command: "order cancel", code: "unclosed_quote" });
    expect((await entry(quoted.ref))!.subject).toBeUndefined();
    // A denial naming an id pasted with a zero-width space names the id without it.
    const pasted = await app.run("shell:vic", "order cancel ORD-4\u200b reason=x");
    expect(await entry(pasted.ref)).toMatchObject({ outcome: "denied", subject: "ORD-4" });
    // A reading command refused so stays off the trail, as when it runs.
    const read = await app.run("shell:sam", "stock " + "x".repeat(1600));
    expect(await entry(read.ref)).toBeNull();
  });

  it("audit actor= finds what a person did at the terminal as someone else (--as)", async () => {
    const as = await app.core.invoke({ identity: "shell:mia", via: "shell:sam", platform: "shell", text: "stock adjust SKU-1 +1 reason=recount" });
    const rows = ((await app.run("shell:mia", "audit actor=shell:sam limit=100")).reply.table?.rows ?? []).map((r) => r.join(" "));
    expect(rows.some((r) => r.includes(as.ref) && r.includes("shell:mia (via shell:sam)"))).toBe(true);
  });

  it("an API key pasted by mistake is not kept in clear in the audit trail", async () => {
    const created = await app.run("shell:admin", "apikey create label=shop scopes=orders");
    const token = /shopops_k[0-9A-Z]{10}_[A-Za-z0-9_-]+/.exec(JSON.stringify(created.reply))?.[0];
    expect(token, JSON.stringify(created.reply)).toBeDefined();
    const secret = token!.split("_").slice(2).join("_");
    const r = await app.run("shell:admin", `apikey revoke ${token}`);
    expect(r.code).toBe("invalid_args");
    const stored = JSON.stringify(await app.store.audit.findById(r.ref).lean());
    expect(stored).toContain("[redacted]");
    expect(stored).not.toContain(secret);
    const shown = JSON.stringify((await app.run("shell:mia", "audit command=apikey")).reply);
    expect(shown).not.toContain(secret);
  });
});
