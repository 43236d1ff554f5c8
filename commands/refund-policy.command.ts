import { z } from "zod";
import { plain } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { minorUnitFactor } from "../src/core/format.js";

// Whole units, with commas between thousands as `refund request` takes them (1,000; full-width １，０００ too): "1,0" is refused.
const wholeAmount = plain(z.string().regex(/^(\d{1,9}|[1-9]\d{0,2}(,\d{3}){1,2})$/, { error: "refund.policy.bad_amount" }).transform((s) => Number(s.replace(/,/g, ""))));
const hours = plain(z
  .string()
  // 48小时 and 3天 as Chinese teams write them.
  .transform((s) => s.replace(/\s*(小时|小時)$/, "h").replace(/\s*天$/, "d"))
  .pipe(z.string().regex(/^\d{1,4}[hd]?$/, { error: "refund.policy.bad_expiry" })
  .transform((s) => (s.endsWith("d") ? Number(s.slice(0, -1)) * 24 : Number(s.replace("h", ""))))
  .refine((h) => h >= 1 && h <= 24 * 90, { error: "refund.policy.bad_expiry" })));

export default defineCommand({
  name: "refund policy",
  description: "cmd.refund_policy",
  positional: ["action"],
  usage: { en: "[set support=<amount> manager=<amount> expiry=<hours|Nd>]", zh: "[set support=<金额> manager=<金额> expiry=<小时数|Nd>]" },
  args: z.object({
    action: z.enum(["set"], { error: "refund.policy.bad_action" }).optional(),
    support: wholeAmount.optional(),
    manager: wholeAmount.optional(),
    expiry: hours.optional(),
  }),
  examples: ["refund policy", "refund policy set support=300 manager=5000", "refund policy set expiry=48h"],
  // Reading is for staff; `set` for admins, checked by the core before the values are read.
  permission: "staff",
  actions: { set: "admin" },
  mutates: true,
  // Showing the policy changes nothing: only `set` is audited.
  // (`refund policy support=500`, a `set` forgotten, is an attempted change: audited.)
  readsOnly: (args) => args.action === undefined && args.support === undefined && args.manager === undefined && args.expiry === undefined,
  async handler({ args, services, actor, t, fmt, config }) {
    const f = minorUnitFactor(config.currency);
    const show = (p: { supportLimit: number; managerLimit: number; pendingHours: number; updatedBy?: string; updatedAt?: Date }, title: string) => ({
      title,
      status: "info" as const,
      fields: [
        { label: t("refund.policy.support"), value: t("refund.policy.up_to", { amount: fmt.money(p.supportLimit) }), inline: true },
        { label: t("refund.policy.manager"), value: t("refund.policy.up_to", { amount: fmt.money(p.managerLimit) }), inline: true },
        { label: t("refund.policy.above"), value: t("refund.policy.two_managers", { amount: fmt.money(p.managerLimit) }) },
        { label: t("refund.policy.expiry"), value: t("refund.policy.hours", { hours: p.pendingHours }) },
        { label: t("refund.policy.self"), value: t("refund.policy.self.value") },
      ],
      context: [p.updatedBy && p.updatedAt ? t("refund.policy.updated", { by: p.updatedBy, at: fmt.dateTime(p.updatedAt) }) : t("refund.policy.defaults")],
      visibility: "ephemeral" as const,
    });
    if (!args.action) {
      if (args.support !== undefined || args.manager !== undefined || args.expiry !== undefined) {
        return { status: "error", code: "invalid_args", text: t("refund.policy.set_missing"), visibility: "ephemeral" };
      }
      return show(await services.refund.policy(), t("refund.policy.title"));
    }
    if (args.support === undefined && args.manager === undefined && args.expiry === undefined) {
      return { status: "error", code: "invalid_args", text: t("refund.policy.nothing"), visibility: "ephemeral" };
    }
    const r = await services.refund.setPolicy(
      {
        ...(args.support !== undefined ? { supportLimit: args.support * f } : {}),
        ...(args.manager !== undefined ? { managerLimit: args.manager * f } : {}),
        ...(args.expiry !== undefined ? { pendingHours: args.expiry } : {}),
      },
      actor.identity,
    );
    if (r.kind === "inconsistent") {
      return { status: "error", code: "policy_inconsistent", text: t("refund.policy.inconsistent", { support: fmt.money(r.policy.supportLimit), manager: fmt.money(r.policy.managerLimit) }), visibility: "ephemeral" };
    }
    const shown = show(r.policy, t("refund.policy.set.title"));
    // A new expiry does not move the deadlines pending requests were given (their cards said them): said so.
    if (r.keptExpiry) shown.context.push(t("refund.policy.expiry_kept", { count: r.keptExpiry }));
    return { ...shown, status: "ok", visibility: "public" };
  },
});
