import { z } from "zod";
import { idemKey, signedDelta, text, typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { unknownSku } from "./stock.command.js";

export default defineCommand({
  name: "stock adjust",
  description: "cmd.stock_adjust",
  positional: ["sku", "delta"],
  usage: { en: "<sku> <+n|-n> reason=<text> [key=<idempotency key>]", zh: "<sku> <+n|-n> reason=<原因> [key=<幂等键>]" },
  args: z.object({
    sku: typedId(z.string().min(1).max(64)),
    delta: signedDelta,
    reason: text(200),
    key: idemKey.optional(),
  }),
  examples: [
    { en: 'stock adjust SKU-1001 -2 reason="damaged in transit"', zh: "stock adjust SKU-1001 -2 reason=运输途中损坏" },
    { en: "stock adjust SKU-1001 +24 reason=restock key=PO-7781", zh: "stock adjust SKU-1001 +24 reason=采购到货 key=PO-7781" },
  ],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the product typed: `audit subject=SKU-…` finds them.
  typedSubject: { arg: "sku", spelling: (s) => s.toUpperCase() },
  async handler({ args, services, actor, t, ref, subject }) {
    // Without a key each invocation is its own change; a key makes retries safe.
    const key = args.key ?? `adj:${ref}`;
    const r = await services.stock.adjust({ sku: args.sku, delta: args.delta, reason: args.reason, actor: actor.identity, key });
    const sku = args.sku.toUpperCase();
    // The product, as the API's inventory entries name it: `audit subject=SKU-1001`.
    if (r.kind !== "not_found") subject(sku);
    switch (r.kind) {
      case "applied":
        return {
          title: t("stock.adjusted.title", { sku }),
          text: t("stock.adjusted", { sku, delta: (args.delta > 0 ? "+" : "") + args.delta, before: r.before, after: r.after, available: r.available }),
          status: "ok",
          visibility: "public",
        };
      case "replayed":
        return { text: t("stock.adjust.replayed", { key, onHand: r.onHand }), status: "info", code: "replayed", visibility: "ephemeral" };
      case "insufficient":
        return {
          status: "error",
          code: "insufficient_stock",
          // "only -2 available" reads as nonsense: with none left, say so. With nothing on hand,
          // no count can have found fewer: just that (and what open orders wait for).
          text: t(
            r.available > 0 ? "stock.adjust.below_zero" : r.onHand > 0 ? "stock.adjust.none_available" : r.reserved > 0 ? "stock.adjust.none_on_hand_reserved" : "stock.adjust.none_on_hand",
            { sku, qty: -args.delta, available: r.available, onHand: r.onHand, reserved: r.reserved },
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
