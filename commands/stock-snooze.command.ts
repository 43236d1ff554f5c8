import { z } from "zod";
import { addLocalDays, plain, typedId } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";

const UNIT_MS = { m: 60_000, h: 3_600_000 } as const;

/**
 * A duration such as 30m, 24h or 3d, at most 30 days: minutes and hours elapsed, days as
 * calendar days at the same local time (3d from Friday 10:00 is Monday 10:00, a clock change between or not).
 */
const duration = plain(z
  .string()
  // 30分钟, 24小时 and 3天 as Chinese teams write them.
  .transform((s) => s.replace(/\s*分钟$/, "m").replace(/\s*(小时|小時)$/, "h").replace(/\s*天$/, "d"))
  .pipe(z.string().regex(/^\d{1,4}[mhd]$/, { error: "lowstock.bad_duration" })
  .transform((s) => ({ n: Number(s.slice(0, -1)), unit: s.slice(-1) as "m" | "h" | "d" }))
  .refine(({ n, unit }) => n > 0 && (unit === "d" ? n <= 30 : n * UNIT_MS[unit] <= 30 * 86_400_000), { error: "lowstock.bad_duration" })));

export default defineCommand({
  name: "stock snooze",
  description: "cmd.stock_snooze",
  positional: ["sku", "duration"],
  args: z.object({ sku: typedId(z.string().min(1).max(64)), duration }),
  // The generated usage, with its words in Chinese for Chinese readers.
  usage: { en: "<sku> <duration>", zh: "<sku> <duration 时长 30m|24h|3d>" },
  examples: ["stock snooze SKU-1001 24h", "stock snooze SKU-1001 3d"],
  permission: "staff",
  mutates: true,
  // Refusals before the handler runs name the product typed: `audit subject=SKU-…` finds them.
  typedSubject: { arg: "sku", spelling: (s) => s.toUpperCase() },
  async handler({ args, services, actor, t, fmt, now, subject }) {
    const { n, unit } = args.duration;
    const until = unit === "d" ? addLocalDays(now, n, fmt.timeZone).at : new Date(now.getTime() + n * UNIT_MS[unit]);
    const sku = args.sku.toUpperCase();
    const r = await services.lowStock.snooze({ sku, until, by: actor.identity });
    if (r.kind !== "not_found") subject(sku);
    if (r.kind === "not_found") return { status: "error", code: "unknown_sku", text: t("stock.unknown", { query: args.sku }), visibility: "ephemeral" };
    if (r.kind === "po_holds") return { status: "info", code: "po_holds", text: t("lowstock.po_holds", { sku, eta: r.eta, until: fmt.dateTime(r.until) }), visibility: "ephemeral" };
    // A PO on its way that this snooze outlasts stays on record: say so (the card shows both).
    const text = r.po
      ? t("lowstock.snoozed.po_kept", { sku, until: fmt.dateTime(until), eta: r.po.eta, qty: r.po.qty ? t("lowstock.po.qty", { qty: r.po.qty }) : "", by: r.po.by ?? "" })
      : t("lowstock.snoozed", { sku, until: fmt.dateTime(until) });
    return { status: "ok", text, visibility: "public" };
  },
});
