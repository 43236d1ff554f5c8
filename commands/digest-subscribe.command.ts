import { TZDate } from "@date-fns/tz";
import { format as fmtDate } from "date-fns";
import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { holdsEveryDay, nextSlot, parseCron } from "../src/core/cron.js";
import { roleAtLeast } from "../src/core/roles.js";

export default defineCommand({
  name: "digest subscribe",
  description: "cmd.digest_subscribe",
  args: z.object({}),
  examples: ["digest subscribe"],
  permission: "manager",
  mutates: true,
  async handler({ services, actor, t, config, now }) {
    // The daily job sends only to stored managers: a manager by Discord role alone
    // (DISCORD_ROLE_MAP) would be subscribed and never get a message.
    if (!roleAtLeast(await services.identity.roleOf(actor.identity), "manager")) {
      return { status: "error", code: "role_not_stored", text: t("notify.digest.role_not_stored", { identity: actor.identity }), visibility: "ephemeral" };
    }
    const added = await services.digest.subscribe(actor.identity);
    // Subscribed all the same, but said now: DMs on a platform this process does not run (the
    // shell's `--as discord:…` where only Slack runs) wait undelivered until one that runs it starts.
    const idle = services.alerts.idleDirect(actor.identity, t);
    const warned = (text: string) => (idle ? `${text}\n${idle}` : text);
    if (!added) return { status: "info", code: "already_subscribed", text: warned(t("notify.digest.already_subscribed")), visibility: "ephemeral" };
    // When, in words people read ("every day at 09:00 (UTC), next 2026-11-26 09:00"), not cron.
    const spec = parseCron(config.digestCron, config.timeZone);
    const local = (d: Date, pattern: string) => fmtDate(new TZDate(d.getTime(), config.timeZone), pattern);
    // Every day only when the day fields hold every day, as cron matches them (`*/2` does not).
    const daily = spec.minutes.length === 1 && spec.hours.length === 1 && holdsEveryDay(spec) && spec.months.size === 12;
    const two = (n: number | undefined) => String(n ?? 0).padStart(2, "0");
    const when = daily
      ? t("digest.schedule.daily", { time: `${two(spec.hours[0])}:${two(spec.minutes[0])}`, tz: config.timeZone })
      : t("digest.schedule.cron", { cron: config.digestCron, tz: config.timeZone });
    const next = nextSlot(spec, now);
    // A slot inside quiet hours is delivered when they end: say when it really arrives.
    const held = next ? services.alerts.quietUntil(next) : null;
    const text = t("digest.subscribed", { when, next: next ? local(next, "yyyy-MM-dd HH:mm") : "—" }) + (held ? t("digest.subscribed.quiet", { until: local(held, "yyyy-MM-dd HH:mm") }) : "");
    return { status: idle ? "warning" : "ok", text: warned(text), visibility: "ephemeral" };
  },
});
