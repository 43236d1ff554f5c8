import { z } from "zod";
import { addLocalDays, plain, plainTyped, typedId } from "../src/core/args.js";
import { defineCommand, type CommandContext } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { quote } from "../src/core/parser.js";
import type { Reply } from "../src/core/reply.js";
import { isLow } from "../src/services/stock.service.js";
import { unknownSku, withSelloutNote } from "./stock.command.js";

const UNIT_MS = { m: 60_000, h: 3_600_000 } as const;

/**
 * A duration such as 30m, 24h or 3d, at most 30 days: minutes and hours elapsed, days as
 * calendar days at the same local time (3d from Friday 10:00 is Monday 10:00, a clock change between or not).
 * Or `off` (取消, 关闭): the running snooze or PO hold ends now.
 */
const duration = plain(z
  .string()
  // 30分钟, 24小时 and 3天 as Chinese teams write them; 3D and 24H as 3d and 24h; 2days, 24hours and 30min as 2d, 24h and 30m.
  .transform((s) =>
    s
      .toLowerCase()
      .replace(/^(取消|关闭|關閉)$/, "off")
      .replace(/^(\d+)\s*(?:分钟|minutes?|mins?)$/, "$1m")
      .replace(/^(\d+)\s*(?:小时|小時|hours?|hrs?)$/, "$1h")
      .replace(/^(\d+)\s*(?:天|days?)$/, "$1d"),
  )
  // Up to 30 days in minutes (43200m): the refinement below sets the limit, not the digits.
  .pipe(z.string().regex(/^(\d{1,6}[mhd]|off)$/, { error: "lowstock.bad_duration" })
  .transform((s) => (s === "off" ? { off: true as const } : { n: Number(s.slice(0, -1)), unit: s.slice(-1) as "m" | "h" | "d" }))
  .refine((d) => "off" in d || d.n > 0, { error: "lowstock.bad_duration" })
  // A duration, only longer than a snooze may be (31d, 1000h): said so, not "not a duration".
  .refine((d) => "off" in d || d.n === 0 || (d.unit === "d" ? d.n <= 30 : d.n * UNIT_MS[d.unit] <= 30 * 86_400_000), { error: "lowstock.duration_too_long" })));

export default defineCommand({
  name: "stock snooze",
  description: "cmd.stock_snooze",
  positional: ["sku", "duration"],
  args: z.object({ sku: typedId(z.string().min(1).max(64)), duration }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "<sku> <30m|24h|3d|off>", zh: "<sku> <duration 时长 30m|24h|3d|off|取消>" },
  examples: ["stock snooze SKU-1001 24h", "stock snooze SKU-1001 3d", "stock snooze SKU-1001 off"],
  // `stock snooze 24h SKU-1001`: the duration typed before the SKU, when the second word is a
  // product; the line written with the SKU first (as `stock adjust +5 SKU-1001` is answered).
  async explainArgs(typed, services, t) {
    const [first, second, ...rest] = typed.words;
    if (first === undefined || second === undefined || rest.length || !duration.safeParse(first).success || duration.safeParse(second).success) return null;
    const sku = plainTyped(second).toUpperCase();
    if (!(await services.stock.bySku(sku))) return null;
    const command = ["stock snooze", sku, quote(plainTyped(first))].join(" ");
    return { error: new UserError("invalid_args", `${t("error.invalid_args", { command: "stock snooze" })}\n• ${t("stock.snooze.order", { typed: `${first} ${second}`, command })}`), subject: sku };
  },
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the product typed: `audit subject=SKU-…` finds them.
  typedSubject: { arg: "sku", spelling: (s) => s.toUpperCase() },
  async handler({ args: typed, services, actor, t, fmt, now, subject }) {
    // `stock snooze SKU-1001, 3d`: the SKU ended as in a sentence is that product.
    const args = { ...typed, sku: await services.stock.skuAsMeant(typed.sku) };
    if ("off" in args.duration) return await unsnooze(args.sku, { services, t, fmt, subject });
    const { n, unit } = args.duration;
    const until = unit === "d" ? addLocalDays(now, n, fmt.timeZone).at : new Date(now.getTime() + n * UNIT_MS[unit]);
    const sku = args.sku.toUpperCase();
    const r = await services.lowStock.snooze({ sku, until, by: actor.identity });
    if (r.kind !== "not_found") subject(sku);
    if (r.kind === "not_found") return unknownSku(args.sku, await services.stock.suggest(args.sku), t);
    if (r.kind === "inactive") return { status: "error", code: "inactive_product", text: t("lowstock.snooze.inactive", { sku }), visibility: "ephemeral" };
    if (r.kind === "busy") return { status: "error", code: "busy", text: t("lowstock.busy", { sku }), visibility: "ephemeral" };
    if (r.kind === "po_holds") return { status: "info", code: "po_holds", text: t("lowstock.po_holds", { sku, eta: r.eta, until: fmt.dateTime(r.until) }), visibility: "ephemeral" };
    // Only a PO's own recording answers this (never a snooze): its PO holds the alerts, as above.
    if (r.kind === "po_on_record") return { status: "info", code: "po_holds", text: t("lowstock.po_holds", { sku, eta: r.po.eta, until: fmt.dateTime(r.until) }), visibility: "ephemeral" };
    // A colleague's longer snooze is not cut short (a 24h button pressed over their 3d): who, until when, and how to end it.
    if (r.kind === "snooze_holds") {
      const vars = { sku, until: fmt.dateTime(r.until), by: r.by };
      const text = r.po
        ? t("lowstock.snooze_holds.po", { ...vars, eta: r.po.eta, qty: r.po.qty ? t("lowstock.po.qty", { qty: fmt.number(r.po.qty) }) : "" })
        : t("lowstock.snooze_holds", vars);
      return { status: "info", code: "snooze_holds", text, visibility: "ephemeral" };
    }
    // A PO on its way that this snooze outlasts stays on record: say so (the card shows both).
    // Until when the service held it (one's own snooze over a PO is not shortened below the PO's hold).
    // Snoozed ahead of time (not low now): "alerts again then if still low" would say it is low.
    const v = r.po ? null : await services.stock.bySku(sku);
    const text = r.po
      ? t("lowstock.snoozed.po_kept", { sku, until: fmt.dateTime(r.until), eta: r.po.eta, qty: r.po.qty ? t("lowstock.po.qty", { qty: fmt.number(r.po.qty) }) : "", by: r.po.by ?? "" })
      : v && !isLow(v)
        ? t("stock.snooze.not_low", { sku, until: fmt.dateTime(r.until), available: fmt.number(v.available), reorderPoint: fmt.number(v.reorderPoint) })
        : t("lowstock.snoozed", { sku, until: fmt.dateTime(r.until) });
    // Whether a sell-out can still be announced: not for a product already out of stock.
    return { status: "ok", text: withSelloutNote(text, r.sellout, r.until, t, fmt), visibility: "public" };
  },
});

/** `stock snooze <sku> off`: ends the running snooze or PO hold now, saying what it was. */
async function unsnooze(typed: string, { services, t, fmt, subject }: Pick<CommandContext<unknown>, "services" | "t" | "fmt" | "subject">): Promise<Reply> {
  const sku = typed.toUpperCase();
  const r = await services.lowStock.unsnooze({ sku });
  if (r.kind === "not_found") return unknownSku(typed, await services.stock.suggest(typed), t);
  subject(sku);
  if (r.kind === "none") return { status: "info", code: "not_held", text: t("lowstock.unsnoozed.none", { sku }), visibility: "ephemeral" };
  if (r.kind === "po_dropped") {
    return { status: "ok", text: t("lowstock.unsnoozed.po_overdue", { sku, eta: r.po.eta, qty: r.po.qty ? t("lowstock.po.qty", { qty: fmt.number(r.po.qty) }) : "", by: r.po.by ?? "" }), visibility: "public" };
  }
  const until = fmt.dateTime(r.until);
  const po = r.po ? { eta: r.po.eta, qty: r.po.qty ? t("lowstock.po.qty", { qty: fmt.number(r.po.qty) }) : "" } : null;
  const text =
    r.snoozedBy !== undefined && po
      ? t("lowstock.unsnoozed.snooze_po", { sku, until, by: r.snoozedBy, ...po, poBy: r.po!.by ?? "" })
      : po
        ? t("lowstock.unsnoozed.po", { sku, ...po, by: r.po!.by ?? "" })
        : t("lowstock.unsnoozed.snooze", { sku, until, by: r.snoozedBy ?? "" });
  return { status: "ok", text, visibility: "public" };
}
