import { z } from "zod";
import { idemKey, plainTyped, signedDelta, text, typedId, wholeNumber } from "../src/core/args.js";
import { defineCommand, type Command, type CommandContext } from "../src/core/command.js";
import { quote } from "../src/core/parser.js";
import type { Reply } from "../src/core/reply.js";
import { UserError } from "../src/core/errors.js";
import type { LevelSeen } from "../src/services/ingest.service.js";
import type { Translate } from "../src/core/messages.js";
import type { Services } from "../src/services/services.js";
import { unknownSku, withoutPieceUnit } from "./stock.command.js";

/** The most a counted level may be, as the inventory API's `set`. */
const MAX_LEVEL = 1_000_000_000;

/**
 * A signed change (`+5`, `-2`, `−2`, `－２`); a number typed without a sign, kept apart
 * (`{ bare }`) to be refused below: read as +5 it would add to what a count meant to set; the
 * word `set` typed apart from its level (`set 40`), told to write `set=40`; or no change at all
 * (`abc`, `+0`: `{ notChange }`), refused below too, where the product is known: its refusal
 * names the line that records a count for it.
 */
const deltaTyped = z.string().transform((typed, ctx) => {
  const s = plainTyped(typed);
  if (s.toLowerCase() === "set") return "set" as const;
  const r = signedDelta.safeParse(typed);
  if (r.error?.issues.some((iss) => iss.message === "stock.adjust.bad_delta")) return { notChange: true } as const;
  // Refused below too, where the product and the reason typed are known for the line it gives.
  if (r.error?.issues.some((iss) => iss.message === "stock.adjust.delta_too_large")) return { tooLarge: true } as const;
  if (!r.success) {
    for (const iss of r.error.issues) ctx.issues.push({ code: "custom", input: typed, message: iss.message });
    return z.NEVER;
  }
  return /^[+-]/.test(s) ? r.data : { bare: r.data };
});

/**
 * `stock adjust SKU-1 set 40 reason=count` (or Discord's `delta:set 40`): the level typed apart
 * from `set`, refused with the line written right (`set=40`) rather than as an extra argument. A
 * level is an option, not a third word, so words after a change stay extra words (an unquoted
 * reason keeps its hint). The line is a code span: Discord shows it as its members type it.
 */
const setApart: NonNullable<Command["explainArgs"]> = async (typed, services, t) => {
  const words = typed.words.map((w) => plainTyped(w));
  const asTyped = words.slice(1).join(" ");
  const level = /^set(?:\s+|=)(\d+)$/i.exec(asTyped)?.[1];
  if (words[0] && level === undefined) return (await unitOrOrder(typed, services, t)) ?? null;
  if (!words[0] || level === undefined) return null;
  const sku = words[0].toUpperCase();
  const options = Object.entries({ set: level, ...typed.named }).map(([k, v]) => `${k}=${quote(v)}`);
  const command = ["stock adjust", sku, ...options].join(" ");
  const text = `${t("error.invalid_args", { command: "stock adjust" })}\n• ${t("stock.adjust.set_apart", { typed: asTyped, command })}`;
  return { error: new UserError("invalid_args", text), subject: sku };
};

/**
 * Two slips the line written right answers better than "not a quantity change": a quantity typed
 * with a word for pieces (`+5件`, `+5 pcs`, `set=40件`: stock counts units, the number alone is
 * meant), and the change typed before the SKU (`stock adjust +5 SKU-1001`, when the second word is
 * a product). Nothing is guessed beyond that: the line is shown, nothing changes.
 */
async function unitOrOrder(typed: { words: readonly string[]; named: Readonly<Record<string, string>> }, services: Services, t: Translate): Promise<{ error: UserError; subject: string } | null> {
  const [first, second, ...rest] = typed.words.map((w) => plainTyped(w));
  if (!first) return null;
  const line = (sku: string, change: string | undefined, named: Record<string, string>) =>
    ["stock adjust", sku, ...(change ? [change] : []), ...Object.entries(named).map(([k, v]) => `${k}=${quote(v)}`)].join(" ");
  const refuse = (key: "stock.adjust.unit" | "stock.adjust.order", asTyped: string, command: string, sku: string) => ({
    error: new UserError("invalid_args", `${t("error.invalid_args", { command: "stock adjust" })}\n• ${t(key, { typed: asTyped, command })}`),
    subject: sku,
  });
  // The change before the SKU: the first word a change, the second a product.
  if (second !== undefined && rest.length === 0 && /^[+-]\d+$/.test(first) && !/^[+-]?\d/.test(second)) {
    const sku = second.toUpperCase();
    if (await services.stock.bySku(sku)) return refuse("stock.adjust.order", `${typed.words[0]} ${typed.words[1]}`, line(sku, first, typed.named), sku);
  }
  const sku = first.toUpperCase();
  const named = { ...typed.named };
  let change = second;
  let asTyped = "";
  if (second !== undefined && rest.length === 0 && named.set !== undefined && withoutPieceUnit(named.set, second) !== null) {
    // `set=40 pcs`: the unit after a counted level.
    asTyped = `set=${named.set} ${second}`;
    named.set = withoutPieceUnit(named.set, second)!;
    change = undefined;
  } else if (second !== undefined && rest.length <= 1) {
    const n = rest.length ? withoutPieceUnit(second, rest[0]) : withoutPieceUnit(second);
    if (n === null || !/^[+-]/.test(n)) return null;
    change = n;
    asTyped = [second, ...rest].join(" ");
  }
  if (named.set !== undefined && !asTyped) {
    const n = withoutPieceUnit(named.set);
    if (n === null || /^[+-]/.test(n)) return null;
    asTyped = `set=${named.set}`;
    named.set = n;
  }
  return asTyped ? refuse("stock.adjust.unit", asTyped, line(sku, change, named), sku) : null;
}

export default defineCommand({
  name: "stock adjust",
  description: "cmd.stock_adjust",
  positional: ["sku", "delta"],
  // A change or a counted level, one of the two (Discord: `(delta:<+n|-n> | set:<n>)`).
  usage: { en: "<sku> (<+n|-n> | set=<n>) reason=<text> [key=<idempotency key>]", zh: "<sku> (<+n|-n> | set=<n>) reason=<原因> [key=<幂等键>]" },
  args: z.object({
    sku: typedId(z.string().min(1).max(64)),
    delta: deltaTyped.optional(),
    set: wholeNumber(0, MAX_LEVEL).optional(),
    reason: text(200),
    key: idemKey.optional(),
  }).check((ctx) => {
    const { sku, delta, set, reason } = ctx.value;
    // The lines written right keep the reason typed (`reason=damaged`), not a stock one. The
    // check runs only once every argument parsed, so a reason is there; `count` is a fallback.
    const params = { sku: sku.toUpperCase(), reason: `reason=${quote(reason ?? "count")}` };
    const issue = (path: string, message: string, extra: Record<string, unknown> = {}) =>
      ctx.issues.push({ code: "custom", path: [path], input: ctx.value, message, params: { ...params, ...extra } });
    if (typeof delta === "object" && "bare" in delta) issue("delta", "stock.adjust.unsigned", { n: delta.bare });
    else if (typeof delta === "object" && "tooLarge" in delta) issue("delta", "stock.adjust.delta_too_large");
    // A code span: Discord shows the line as its members type it (`set:<n>`).
    else if (typeof delta === "object") issue("delta", "stock.adjust.bad_delta");
    else if (delta === "set") issue("delta", "stock.adjust.set_form");
    else if (delta === undefined && set === undefined) issue("delta", "stock.adjust.change_or_set");
    else if (delta !== undefined && set !== undefined) issue("set", "stock.adjust.change_and_set", { delta: (delta > 0 ? "+" : "") + delta, level: set });
  }),
  explainArgs: setApart,
  examples: [
    { en: 'stock adjust SKU-1001 -2 reason="damaged in transit"', zh: "stock adjust SKU-1001 -2 reason=运输途中损坏" },
    { en: "stock adjust SKU-1001 +24 reason=restock key=PO-7781", zh: "stock adjust SKU-1001 +24 reason=采购到货 key=PO-7781" },
    { en: "stock adjust SKU-1001 set=40 reason=count", zh: "stock adjust SKU-1001 set=40 reason=盘点" },
  ],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the product typed: `audit subject=SKU-…` finds them.
  typedSubject: { arg: "sku", spelling: (s) => s.toUpperCase() },
  async handler({ args: typed, services, actor, t, fmt, ref, subject }) {
    // `stock adjust SKU-1001, +5 …`: the SKU ended as in a sentence is that product.
    const args = { ...typed, sku: await services.stock.skuAsMeant(typed.sku) };
    if (args.set !== undefined) return setLevel(args.sku, args.set, args.reason, args.key, { services, actor, t, fmt, subject });
    // The schema's check refused a number without a sign, no change, `set` apart, and neither given.
    if (typeof args.delta !== "number") throw new Error("stock adjust: no signed change past the check");
    const delta = args.delta;
    // Without a key each invocation is its own change; a key makes retries safe.
    const key = args.key ?? `adj:${ref}`;
    const r = await services.stock.adjust({ sku: args.sku, delta, reason: args.reason, actor: actor.identity, key });
    const sku = args.sku.toUpperCase();
    // The product, as the API's inventory entries name it: `audit subject=SKU-1001`.
    if (r.kind !== "not_found") subject(sku);
    switch (r.kind) {
      case "applied":
        return {
          title: t("stock.adjusted.title", { sku }),
          // Figures grouped as the card shows them (1,000,000,000).
          text: t("stock.adjusted", { sku, delta: (delta > 0 ? "+" : "") + fmt.number(delta), before: fmt.number(r.before), after: fmt.number(r.after), available: fmt.number(r.available) }),
          status: "ok",
          visibility: "public",
        };
      case "replayed":
        return { text: t("stock.adjust.replayed", { key, onHand: fmt.number(r.onHand) }), status: "info", code: "replayed", visibility: "ephemeral" };
      case "insufficient":
        return {
          status: "error",
          code: "insufficient_stock",
          // "only -2 available" reads as nonsense: with none left, say so. With nothing on hand,
          // no count can have found fewer: just that (and what open orders wait for).
          text: t(
            r.available > 0 ? "stock.adjust.below_zero" : r.onHand > 0 ? "stock.adjust.none_available" : r.reserved > 0 ? "stock.adjust.none_on_hand_reserved" : "stock.adjust.none_on_hand",
            { sku, qty: fmt.number(-delta), available: fmt.number(r.available), onHand: fmt.number(r.onHand), reserved: fmt.number(r.reserved), reason: `reason=${quote(args.reason)}` },
          ),
          visibility: "ephemeral",
        };
      case "inactive":
        return { status: "error", code: "inactive_product", text: t("stock.adjust.inactive", { sku }), visibility: "ephemeral" };
      case "key_conflict":
        return { status: "error", code: "key_conflict", text: t("stock.adjust.key_conflict", { key, other: r.other }), visibility: "ephemeral" };
      case "busy":
        return { status: "error", code: "busy", text: t("stock.adjust.busy", { sku }), visibility: "ephemeral" };
      case "not_found":
        return unknownSku(args.sku, await services.stock.suggest(args.sku), t);
    }
  },
});

type Ctx = Pick<CommandContext<unknown>, "services" | "actor" | "t" | "fmt" | "subject">;

/**
 * `stock adjust <sku> set <n>`: the counted level, through the very path the inventory API's
 * `{sku, set}` takes (a compare-and-set, once per `key=`, a ledger entry; a level below what
 * open orders reserve is recorded, saying the shortfall), so chat and API counts agree.
 */
async function setLevel(typedSku: string, level: number, reason: string, key: string | undefined, { services, actor, t, fmt, subject }: Ctx): Promise<Reply> {
  const sku = typedSku.toUpperCase();
  const seen: LevelSeen = {};
  const r = await services.ingest.setLevel(sku, level, actor.identity, reason, key, reason, seen);
  if (r.code !== "unknown_sku") subject(sku);
  if (r.outcome === "updated") {
    const reserved = seen.reserved ?? 0;
    const lines = [t("stock.level.set", { sku, level: fmt.number(level), before: fmt.number(seen.before ?? 0), available: fmt.number(level - reserved) })];
    if (level < reserved) lines.push(t("stock.level.short", { sku, reserved: fmt.number(reserved), short: fmt.number(reserved - level) }));
    return { title: t("stock.level.title", { sku }), text: lines.join(" "), status: level < reserved ? "warning" : "ok", visibility: "public" };
  }
  if (r.outcome === "unchanged" && seen.before === undefined) {
    // The key was applied already (a retry): what is on hand now.
    const p = await services.stock.bySku(sku);
    return { text: t("stock.adjust.replayed", { key: key ?? "", onHand: fmt.number(p?.onHand ?? 0) }), status: "info", code: "replayed", visibility: "ephemeral" };
  }
  if (r.outcome === "unchanged") return { title: t("stock.level.title", { sku }), text: t("stock.level.unchanged", { sku, level: fmt.number(level) }), status: "ok", visibility: "public" };
  switch (r.code) {
    case "inactive_product":
      return { status: "error", code: "inactive_product", text: t("stock.adjust.inactive", { sku }), visibility: "ephemeral" };
    case "key_conflict":
      return { status: "error", code: "key_conflict", text: t("stock.adjust.key_conflict", { key: key ?? "", other: seen.other ?? "" }), visibility: "ephemeral" };
    case "unknown_sku":
      return unknownSku(typedSku, await services.stock.suggest(typedSku), t);
    default:
      return { status: "error", code: "busy", text: t("stock.adjust.busy", { sku }), visibility: "ephemeral" };
  }
}
