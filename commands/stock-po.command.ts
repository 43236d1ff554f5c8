import { z } from "zod";
import { plainTyped, ungrouped, wholeNumber, typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { addDays, isDay, missingLeapDay, normalizeDateInput, readDateInput } from "../src/core/format.js";
import { quote } from "../src/core/parser.js";
import { unknownSku, withoutPieceUnit, withSelloutNote } from "./stock.command.js";

/** The furthest expected arrival a PO may give, unless the product's lead time is longer. */
const MAX_ETA_DAYS = 180;

/** A PO's quantity: whole units. */
const QTY = wholeNumber(1, 1_000_000);

export default defineCommand({
  name: "stock po",
  description: "cmd.stock_po",
  positional: ["sku"],
  usage: { en: "<sku> eta=<YYYY-MM-DD|today|tomorrow|+Nd> [qty=<units>]", zh: "<sku> eta=<YYYY-MM-DD|今天|明天|+N天> [qty=<数量>]" },
  args: z.object({
    sku: typedId(z.string().min(1).max(64)),
    // A day, or one counted from today: today, tomorrow, +10d (明天, 2026/12/05, 12月5日 too).
    eta: z
      .string()
      .trim()
      // Checked in the spelling the parsers take; kept as typed, so a message quotes what was typed.
      .refine((raw) => {
        const s = normalizeDateInput(raw);
        // +1000d is a span, only too far: refused as such once the product's limit is known.
        return /^(\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|today|tomorrow|\+\d+d)$/.test(s) && (!/^\d/.test(s) || isDay(s.length === 5 ? `2000-${s}` : s));
      }, { error: "lowstock.bad_eta" }),
    qty: QTY.optional(),
  }),
  examples: ["stock po SKU-1001 eta=2026-12-05 qty=120", { en: "stock po SKU-1001 eta=+10d", zh: "stock po SKU-1001 eta=+10天" }],
  // `qty=100件`, `qty=100 pcs`: stock is counted in units, the number alone is meant; the line written so.
  // `stock po SKU-1 eta=+5d 50` (`50件`, `50 pcs`): the quantity typed without `qty=`; the line written with it.
  async explainArgs(typed, _services, t) {
    const [sku, unit, ...rest] = typed.words;
    const qty = typed.named.qty;
    // Only beside its eta=: without one the line would still be refused.
    if (sku && unit !== undefined && qty === undefined && typed.named.eta !== undefined && rest.length <= 1) {
      // `50` or `1,000` alone, as the number's digits.
      const n = /^\d+$/.test(ungrouped(plainTyped(unit))) && rest.length === 0 ? ungrouped(plainTyped(unit)) : withoutPieceUnit(unit, rest[0]);
      if (n === null || /^[+-]/.test(n) || !QTY.safeParse(n).success) return null;
      const command = ["stock po", sku.toUpperCase(), ...Object.entries({ ...typed.named, qty: n }).map(([k, v]) => `${k}=${quote(v)}`)].join(" ");
      const asTyped = [unit, ...rest].join(" ");
      return { error: new UserError("invalid_args", `${t("error.invalid_args", { command: "stock po" })}\n• ${t("stock.po.qty_apart", { typed: asTyped, command })}`), subject: sku.toUpperCase() };
    }
    if (!sku || qty === undefined || rest.length) return null;
    const n = withoutPieceUnit(qty, unit);
    if (n === null || /^[+-]/.test(n)) return null;
    const command = ["stock po", sku.toUpperCase(), ...Object.entries({ ...typed.named, qty: n }).map(([k, v]) => `${k}=${quote(v)}`)].join(" ");
    const asTyped = `qty=${qty}${unit === undefined ? "" : ` ${unit}`}`;
    return { error: new UserError("invalid_args", `${t("error.invalid_args", { command: "stock po" })}\n• ${t("stock.adjust.unit", { typed: asTyped, command })}`), subject: sku.toUpperCase() };
  },
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the product typed: `audit subject=SKU-…` finds them.
  typedSubject: { arg: "sku", spelling: (s) => s.toUpperCase() },
  async handler({ args: given, services, actor, t, fmt, now, subject }) {
    // `stock po SKU-1001, eta=…`: the SKU ended as in a sentence is that product.
    const args = { ...given, sku: await services.stock.skuAsMeant(given.sku) };
    const sku = args.sku.toUpperCase();
    const today = fmt.day(now);
    const typed = normalizeDateInput(args.eta);
    const rel = /^\+(\d+)d$/.exec(typed);
    // A span counts at most a million days on (a Date ends long after): further is as far, quoted as typed.
    const huge = rel !== null && Number(rel[1]) > 1_000_000;
    // 12月5日 without a year (MM-DD here): the next such day.
    const eta = rel ? addDays(today, Math.min(Number(rel[1]), 1_000_000)) : typed === "today" ? today : typed === "tomorrow" ? addDays(today, 1) : readDateInput(typed, today, "next");
    // 2月29日 in a year without one: said so, with the days to type (not "not a date").
    const leap = isDay(eta) ? null : missingLeapDay(typed, today);
    if (leap) throw new UserError("bad_eta", t("arg.no_feb29", { value: args.eta, ...leap }));
    if (!isDay(eta)) throw new UserError("bad_eta", t("lowstock.bad_eta", { value: args.eta }));
    // An arrival in the past would not hold any alert: said so, with today's date (a late PO gets its new date).
    if (eta < today) throw new UserError("bad_eta", t("lowstock.eta_past", { value: args.eta, today }));
    const product = await services.stock.bySku(sku);
    if (!product) return unknownSku(args.sku, await services.stock.suggest(args.sku), t);
    // Discontinued: no alert for a PO to hold (and none expected). Said before the date's range.
    if (!product.active) {
      subject(sku);
      return { status: "error", code: "inactive_product", text: t("lowstock.po.inactive", { sku }), visibility: "ephemeral" };
    }
    // A PO holds the product's low-stock alerts until it arrives: a far date would silence them
    // for good. A product with a longer lead time may have its PO as far (the alert's button).
    const maxDays = Math.max(MAX_ETA_DAYS, product.leadTimeDays);
    if (eta > addDays(today, maxDays)) throw new UserError("eta_too_far", t("lowstock.eta_too_far", { value: huge ? args.eta : eta, days: maxDays }));
    subject(sku);
    const r = await services.lowStock.placePo({ sku, eta, ...(args.qty ? { qty: args.qty } : {}), by: actor.identity, view: product });
    if (r.kind === "inactive") return { status: "error", code: "inactive_product", text: t("lowstock.po.inactive", { sku }), visibility: "ephemeral" };
    if (r.kind === "busy") return { status: "error", code: "busy", text: t("lowstock.busy", { sku }), visibility: "ephemeral" };
    // The same PO on record already: said so, naming who recorded it; to the presser alone (the alert stays as it is).
    if (r.kind === "po_on_record") {
      const qty = r.po.qty ? t("lowstock.po.qty", { qty: fmt.number(r.po.qty) }) : "";
      return { status: "info", code: "po_on_record", text: t("lowstock.po.on_record", { sku, eta: r.po.eta, qty, by: r.po.by ?? "", until: fmt.dateTime(r.until) }), visibility: "ephemeral" };
    }
    if (r.kind !== "ok") return unknownSku(args.sku, await services.stock.suggest(args.sku), t);
    const qty = args.qty ? t("lowstock.po.qty", { qty: fmt.number(args.qty) }) : "";
    // A running snooze that outlasts this PO's hold is kept: say so, and until when.
    const recorded = r.snoozedBy !== undefined
      ? t("lowstock.po.recorded_snoozed", { sku, eta, qty, until: fmt.dateTime(r.until), by: r.snoozedBy })
      : t("lowstock.po.recorded", { sku, eta, qty, until: fmt.dateTime(r.until) });
    // A PO already on record is replaced, not added to: say which, so a second order is not lost from sight.
    const old = r.replaced ? t("lowstock.po.replaced", { eta: r.replaced.eta, qty: r.replaced.qty ? t("lowstock.po.qty", { qty: fmt.number(r.replaced.qty) }) : "", by: r.replaced.by ?? "" }) : "";
    // Whether a sell-out can still be announced: not for a product already out of stock.
    return { status: "ok", text: withSelloutNote(old ? recorded + t("text.sentence_sep") + old : recorded, r.sellout, r.until, t, fmt), visibility: "public" };
  },
});
