import { z } from "zod";
import { defineCommand } from "../src/core/command.js";
import { closestChoice, zhChoiceNames } from "../src/core/args.js";
import { splitList } from "../src/core/text.js";
import { API_SCOPES, type ApiScope } from "../src/services/apikey.service.js";

const zhScopes: Record<string, ApiScope> = zhChoiceNames(API_SCOPES, "apikey.scope");

const scopes = z
  .string()
  // Comma-separated, with a Chinese keyboard's ，or 、 too, in any case or width.
  // Each scope once (`orders,ORDERS` is one scope, stored and shown once).
  // A scope by its Chinese name too (`scopes=订单,商品`), as roles are (`经理`).
  .transform((s) => [...new Set(splitList(s.normalize("NFKC")).map((x) => x.toLowerCase()).filter(Boolean).map((x) => zhScopes[x] ?? x))])
  .refine((list) => list.length > 0, { error: "apikey.bad_scopes", abort: true })
  // Names the scopes that are not ones (`bogus` in `orders,bogus`), not the whole list; one typo
  // (`order`) with the scope meant and the list written with it (`scopes=orders,products`).
  .check((ctx) => {
    const unknown = ctx.value.filter((x) => !(API_SCOPES as readonly string[]).includes(x));
    const suggestion = unknown.length === 1 ? closestChoice(unknown[0]!, API_SCOPES) : undefined;
    if (suggestion) {
      const fixed = [...new Set(ctx.value.map((x) => (x === unknown[0] ? suggestion : x)))].join(",");
      ctx.issues.push({ code: "custom", input: ctx.value, message: "apikey.unknown_scope.near", params: { scope: unknown[0], suggestion, fixed } });
    } else if (unknown.length) ctx.issues.push({ code: "custom", input: ctx.value, message: unknown.length === 1 ? "apikey.unknown_scope" : "apikey.unknown_scopes", params: { scope: unknown[0], scopes: unknown } });
  })
  .transform((list) => list as ApiScope[]);

export default defineCommand({
  name: "apikey create",
  description: "cmd.apikey_create",
  positional: ["label"],
  usage: { en: "<label> scopes=<orders,products,inventory,complaints,refunds>", zh: "<label 名称> scopes=<orders,products,inventory,complaints,refunds>" },
  args: z.object({
    // Composed (NFC: "e" + U+0301 is "é", as pasted text often is), marks allowed (हिंदी).
    label: z.string().trim().overwrite((s) => s.normalize("NFC")).regex(/^[\p{L}\p{M}\p{N} _.-]{1,60}$/u, { error: "apikey.bad_label" }),
    scopes,
  }),
  examples: [
    { en: "apikey create storefront scopes=orders,products,inventory", zh: "apikey create 官网商城 scopes=orders,products,inventory" },
    { en: 'apikey create "helpdesk webhook" scopes=complaints', zh: "apikey create 客服工单回调 scopes=complaints" },
  ],
  permission: "admin",
  mutates: true,
  async handler({ args, services, actor, t, subject }) {
    const { id, token } = await services.apiKeys.create(args.label, args.scopes, actor.identity);
    // The audit entry names the key made, so `audit subject=<key id>` ties a key to who made it.
    subject(id);
    // Labels need not be unique, but a second active key of one label is often a mistake or a
    // replacement: said, naming the other keys, so the old one is not left active by oversight.
    const same = await services.apiKeys.activeWithLabel(args.label, id);
    // Ephemeral: the token is for the admin who asked, never for the channel.
    return {
      title: t("apikey.created.title", { id }),
      text: t("apikey.created", { label: args.label, scopes: args.scopes.join(t("text.list_sep")), token }),
      ...(same.length ? { context: [t("apikey.created.same_label", { count: same.length, label: args.label, ids: same.join(t("text.list_sep")) })] } : {}),
      status: "ok",
      visibility: "ephemeral",
    };
  },
});
