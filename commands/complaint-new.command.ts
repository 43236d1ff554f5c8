import { z } from "zod";
import { text } from "../src/core/args.js";
import { defineCommand } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { trimInvisible, withoutInvisible } from "../src/core/text.js";
import { orderNoArg } from "./order.command.js";
import { OrderService } from "../src/services/order.service.js";
import { COMPLAINT_TEXT_MAX, type IgnoredArg } from "../src/services/complaint.service.js";
import { categoryArg, choiceName, complaintCard, severityArg, severityName, sourceArg } from "./complaint.view.js";

export default defineCommand({
  name: "complaint new",
  description: "cmd.complaint_new",
  positional: ["...text"],
  usage: {
    en: "[order=<orderNo>] [severity=low|normal|high|urgent] [category=<category>] [customer=<id>] [source=<source>] [link=<message url> [author=<identity>]] <text…>",
    zh: "[order=<订单号>] [severity=低|一般|高|紧急] [category=<类别>] [customer=<客户编号>] [source=<来源>] [link=<消息链接> [author=<身份>]] <text 投诉内容…>",
  },
  args: z.object({
    text: text(900),
    order: orderNoArg.optional(),
    // No defaults here (the service has them): a repeated filing names only what was typed.
    severity: severityArg.optional(),
    category: categoryArg.optional(),
    // As ingestion takes it (ingest-schemas `customerId`): the shop's own id, any 1-100 characters,
    // without spaces or invisible characters (a pasted zero-width space) at its ends.
    customer: z.string().overwrite(trimInvisible).min(1, { error: "complaint.bad_customer" }).max(100, { error: "complaint.bad_customer" }).optional(),
    source: sourceArg.default("chat"),
    // Filing from a chat message: its permalink (one complaint per message) and its author's identity.
    link: z.string().trim().regex(/^https?:\/\/\S{1,300}$/, { error: "complaint.bad_link" }).optional(),
    author: z.string().trim().regex(/^[a-z]+:[A-Za-z0-9:._@-]{1,100}$/, { error: "complaint.bad_author" }).optional(),
  }),
  examples: [
    { en: 'complaint new order=ORD-100001 severity=high category=damaged "box arrived crushed, mug broken"', zh: "complaint new order=ORD-100001 severity=高 category=商品损坏 外箱被压坏，杯子碎了" },
    { en: "complaint new customer=CUST-10002 source=email still waiting for a reply about my invoice", zh: "complaint new customer=CUST-10002 source=邮件 发票的事一直没人回复" },
    {
      en: 'complaint new source=slack link=https://shop.slack.com/archives/C1/p1700000500000500 author=slack:T1:U2 "my thermos arrived broken"',
      zh: "complaint new source=slack link=https://shop.slack.com/archives/C1/p1700000500000500 author=slack:T1:U2 保温杯到货就是坏的",
    },
  ],
  // A chat message filed as a complaint (the Slack reaction) comes beside the line, kept as
  // written: its line breaks, and up to the API's 4,000 characters rather than the 900 typed.
  attachedText: { arg: "text", schema: text(COMPLAINT_TEXT_MAX) },
  permission: "support",
  mutates: true,
  // A refusal (an unknown order, not support) names the order typed, so `audit subject=<order>` finds it.
  typedSubject: { arg: "order", spelling: (s) => OrderService.normalizeOrderNo(s) },
  async handler(ctx) {
    const { args, services, actor, t } = ctx;
    // Without a message, author= would be dropped unsaid and the complaint filed as the caller's.
    if (args.author !== undefined && !args.link) throw new UserError("invalid_args", t("complaint.author_without_link"));
    const common = {
      ...(args.severity ? { severity: args.severity } : {}),
      ...(args.category ? { category: args.category } : {}),
      source: args.source,
      ...(args.order ? { orderNo: args.order } : {}),
      ...(args.customer ? { customerId: args.customer } : {}),
    };
    // Typed, a text that is only an order number (`complaint new ORD-100001`) says nothing of the
    // complaint: refused with the line written right, rather than filed as a complaint "ORD-100001".
    if (!args.link) {
      const word = withoutInvisible(args.text.normalize("NFKC")).trim();
      // One word with a digit: an order number's shape, or a shop's own number (`web-1001`) that exists.
      const order = /^\S+$/.test(word) && /\d/.test(word) ? await services.orders.byNo(word) : null;
      if (order || /^#?(ORD-)?\d+$/i.test(word)) {
        const orderNo = order?._id ?? OrderService.normalizeOrderNo(word);
        return { status: "error", code: "text_only_order", text: t("complaint.text_only_order", { orderNo }), visibility: "ephemeral" };
      }
    }
    // From a chat message: filed as its author, idempotent per permalink (the audit keeps who filed it).
    // Typed: an order number in the text links that order, as from a message, unless order= is given.
    const r = args.link
      ? await services.complaints.fileFromMessage({ ...common, text: args.text, author: args.author ?? actor.identity, permalink: args.link, filedBy: actor.identity })
      : await services.complaints.fileTyped({ ...common, text: args.text, by: actor.identity });
    // The complaint and the order it is about, as the API's entry names them: `audit subject=<order>` finds it.
    const about = (c: { _id: string; orderNo?: string | null }) => (c.orderNo ? [c._id, c.orderNo] : c._id);
    switch (r.kind) {
      case "unknown_order":
        return { status: "error", code: "unknown_order", text: t("complaint.unknown_order", { orderNo: r.orderNo }), visibility: "ephemeral" };
      case "customer_mismatch":
        ctx.subject(r.orderNo);
        return {
          status: "error",
          code: "customer_mismatch",
          text: t("complaint.customer_mismatch", { orderNo: r.orderNo, orderCustomer: r.orderCustomer, customer: args.customer! }),
          visibility: "ephemeral",
        };
      case "duplicate": {
        ctx.subject(about(r.complaint));
        // Filed before (two people reacted to the same message): no second public card; the
        // one who filed again learns which complaint it is and what of theirs was not applied.
        // Severity and category by the names the card shows (紧急, not urgent); ids as they are.
        const shown = (a: IgnoredArg, v: string) => (a.arg === "severity" || a.arg === "category" ? choiceName(a.arg, v, t) : v);
        const ignored = r.ignored.map((a) =>
          a.kept === undefined
            ? t("complaint.duplicate.arg_none", { arg: a.arg, value: shown(a, a.value) })
            : t("complaint.duplicate.arg", { arg: a.arg, value: shown(a, a.value), kept: shown(a, a.kept) }),
        );
        const text = [t("complaint.duplicate", { id: r.complaint._id }), ...(ignored.length ? [t("complaint.duplicate.ignored", { id: r.complaint._id, args: ignored.join(t("text.clause_sep")) })] : [])].join(t("text.sentence_sep"));
        return { status: "info", code: "already_filed", text, visibility: "ephemeral" };
      }
      case "created": {
        ctx.subject(about(r.complaint));
        const card = complaintCard(r.complaint, services, ctx);
        return { ...card, title: t("complaint.created", { id: r.complaint._id, severity: severityName(r.complaint.severity, t) }), visibility: "public" };
      }
    }
  },
});
