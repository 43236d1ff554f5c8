import { z } from "zod";
import { plainTyped, text } from "../src/core/args.js";
import { defineCommand, type Command } from "../src/core/command.js";
import { UserError } from "../src/core/errors.js";
import { quote } from "../src/core/parser.js";
import { OrderService } from "../src/services/order.service.js";
import { ASKING_SHOWN, FULL_WORDS, namesCurrency } from "../src/services/refund.service.js";
import { refundCard } from "../src/services/refund.view.js";
import { orderNoArg } from "./order.command.js";
import { statusName } from "./order.view.js";

/**
 * `refund request ORD-1 RMB 25 reason=…` (or `25 元`): an amount and its currency typed apart,
 * refused with the line written right (`RMB25`) rather than as an extra argument "25".
 */
const amountApart: NonNullable<Command["explainArgs"]> = async (typed, _services, t) => {
  const words = typed.words.map((w) => plainTyped(w));
  if (words.length !== 3 || !words.slice(1).some((w) => /^\d[\d.,]*$/.test(w)) || !namesCurrency(`${words[1]} ${words[2]}`)) return null;
  const orderNo = OrderService.normalizeOrderNo(words[0]!);
  const options = Object.entries(typed.named).map(([k, v]) => `${k}=${quote(v)}`);
  const command = ["refund request", quote(orderNo), `${words[1]}${words[2]}`, ...options].join(" ");
  const text = `${t("error.invalid_args", { command: "refund request" })}\n• ${t("refund.amount_apart", { value: `${words[1]} ${words[2]}`, command })}`;
  return { error: new UserError("invalid_args", text), subject: orderNo };
};

/**
 * `refund request 订单 ORD-1 全额 reason=…`: the word 订单 typed apart before the order number (read
 * as the order number, the amount then an extra word), refused with the line written without it.
 */
const orderWordApart: NonNullable<Command["explainArgs"]> = async (typed, _services, t) => {
  const [word, no, ...rest] = typed.words;
  if (no === undefined || !/^订单(号|编号)?[:：]?$/.test(plainTyped(word!)) || !orderNoArg.safeParse(no).success) return null;
  const orderNo = OrderService.normalizeOrderNo(plainTyped(no));
  const command = ["refund request", orderNo, ...rest.map((w) => quote(w)), ...Object.entries(typed.named).map(([k, v]) => `${k}=${quote(v)}`)].join(" ");
  return { error: new UserError("invalid_args", `${t("error.invalid_args", { command: "refund request" })}\n• ${t("refund.order_word_apart", { word: word!, command })}`), subject: orderNo };
};

export default defineCommand({
  name: "refund request",
  description: "cmd.refund_request",
  positional: ["orderNo", "amount"],
  usage: { en: "<orderNo> <amount|full> reason=<text>", zh: "<orderNo> <amount 金额|full 全额> reason=<原因>" },
  args: z.object({
    // As `order` reads it: full-width characters and invisible ones pasted with it (a zero-width space) are ignored.
    orderNo: orderNoArg,
    amount: z.string().trim().min(1).max(20),
    reason: text(300),
  }),
  examples: [
    { en: 'refund request ORD-100231 25.00 reason="arrived damaged"', zh: "refund request ORD-100231 25.00 reason=到货破损" },
    { en: 'refund request ORD-100231 full reason="never delivered"', zh: "refund request ORD-100231 全额 reason=一直没收到货" },
  ],
  permission: "staff",
  mutates: true,
  explainArgs: async (...a) => (await orderWordApart(...a)) ?? amountApart(...a),
  // `全额 退款` typed with a space: a full refund, as `全额退款` is.
  phrases: { amount: FULL_WORDS.filter((w) => w.includes(" ")) },
  // Refusals before the handler runs name the order typed: `audit subject=ORD-…` finds them.
  typedSubject: { arg: "orderNo", spelling: (s) => OrderService.normalizeOrderNo(s) },
  async handler({ args, services, actor, via, t, fmt, now, subject }) {
    const r = await services.refund.request({ orderNo: args.orderNo, amount: args.amount, reason: args.reason, requester: actor.identity, ...(via ? { via } : {}) });
    // The request and its order: `audit subject=ORD-…` lists what was asked and decided on it,
    // refused asks too (as the API's are).
    if ("request" in r) subject([r.request._id, r.request.orderNo]);
    else if ("orderNo" in r) subject(r.orderNo);
    switch (r.kind) {
      case "created":
        return refundCard(r.request, { t, fmt, now, policy: r.policy, title: t("refund.created.title", { id: r.request._id }) });
      case "exists": // only for callers that pass their own id (the ingestion API)
        return refundCard(r.request, { t, fmt, now, policy: await services.refund.policy() });
      case "not_found":
        return { status: "error", code: "unknown_order", text: t("refund.unknown_order", { orderNo: OrderService.normalizeOrderNo(args.orderNo) }), visibility: "ephemeral" };
      case "not_paid":
        return { status: "error", code: "order_not_paid", text: t("refund.not_paid", { orderNo: r.orderNo, status: statusName(r.status, t) }), visibility: "ephemeral" };
      case "already_refunded":
        return { status: "error", code: "already_refunded", text: t("refund.already_refunded", { orderNo: r.orderNo }), visibility: "ephemeral" };
      case "bad_amount":
        // `十二块`: the amount as it reads in digits (`12块`), on the line to type.
        if (r.digits !== undefined) {
          const command = ["refund request", r.orderNo, quote(r.digits), `reason=${quote(args.reason)}`].join(" ");
          return { status: "error", code: "bad_amount", text: t("refund.bad_amount_digits", { value: args.amount, digits: r.digits, command }), visibility: "ephemeral" };
        }
        // The example in the order's currency: "25" for JPY, "25.00" for CNY, "25.000" for KWD.
        return {
          status: "error",
          code: "bad_amount",
          text: t(r.problem === "zero" ? "refund.bad_amount_zero" : r.problem === "currency" ? "refund.bad_amount_currency" : r.problem === "format" ? "refund.bad_amount" : r.decimals ? "refund.bad_amount_decimals" : "refund.bad_amount_whole", {
            value: args.amount,
            orderNo: r.orderNo,
            decimals: r.decimals,
            currency: r.currency,
            example: (25).toFixed(r.decimals),
          }),
          visibility: "ephemeral",
        };
      case "over_balance":
        // Nothing left, all of it asked in requests awaiting a decision: named, as rejecting one frees its
        // amount; none to name when they are being asked (or executed) this very moment.
        if (r.refundable <= 0 && r.pending > 0) {
          const ids = [...r.asking.slice(0, ASKING_SHOWN), ...(r.asking.length > ASKING_SHOWN ? ["…"] : [])].join(t("text.list_sep"));
          const money = { orderNo: r.orderNo, paid: fmt.money(r.paid, r.currency), refunded: fmt.money(r.refunded, r.currency), pending: fmt.money(r.pending, r.currency) };
          return { status: "error", code: "over_balance", text: r.asking.length ? t("refund.nothing_left", { ...money, ids }) : t("refund.nothing_left_held", money), visibility: "ephemeral" };
        }
        return {
          status: "error",
          code: "over_balance",
          text: t("refund.over_balance", {
            orderNo: r.orderNo,
            refundable: fmt.money(r.refundable, r.currency),
            paid: fmt.money(r.paid, r.currency),
            refunded: fmt.money(r.refunded, r.currency),
            pending: fmt.money(r.pending, r.currency),
          }),
          visibility: "ephemeral",
        };
    }
  },
});
