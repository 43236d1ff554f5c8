import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { addDays } from "../src/core/format.js";
import { parseDigestDay } from "../src/services/digest.service.js";

/** Days one rebuild may cover (longer ranges: run it again for the next stretch). */
const MAX_DAYS = 370;

export default defineCommand({
  name: "digest rebuild",
  description: "cmd.digest_rebuild",
  positional: ["from", "to"],
  usage: { en: "<from YYYY-MM-DD> [to YYYY-MM-DD]", zh: "<from 起始日 YYYY-MM-DD> [to 截止日 YYYY-MM-DD]" },
  args: z.object({ from: z.string().trim().max(20), to: z.string().trim().max(20).optional() }),
  examples: ["digest rebuild 2026-01-01 2026-11-24", { en: "digest rebuild yesterday", zh: "digest rebuild 昨天" }],
  // Recomputes shared figures from the orders: admins, after data was written around the bot.
  permission: "admin",
  mutates: true,
  async handler({ args, services, t, config }) {
    const today = services.digest.today();
    const day = (v: string) => {
      const p = parseDigestDay(v, today);
      if (p.ok) return p.day;
      if (p.reason === "future") throw new UserError("future_day", t("digest.future", { day: p.day, today, tz: config.timeZone }));
      if (p.reason === "no_such_day") throw new UserError("bad_day", t("digest.no_such_day", { value: v, month: p.month, days: p.days }));
      if (p.reason === "day_first") throw new UserError("bad_day", t("digest.day_first", { value: v, month_day: p.month_day }));
      throw new UserError("bad_day", t("digest.bad_day", { value: v }));
    };
    const from = day(args.from);
    const to = args.to === undefined ? from : day(args.to);
    if (from > to) throw new UserError("bad_range", t("digest.rebuild.order", { from, to }));
    if (addDays(from, MAX_DAYS - 1) < to) throw new UserError("range_too_long", t("digest.rebuild.too_long", { max: MAX_DAYS, from, to }));
    const r = await services.digest.rebuildRollups(from, to);
    return { status: "ok", text: t("digest.rebuild.done", { from, to, orders: r.orders, rows: r.days }), visibility: "ephemeral" };
  },
});
