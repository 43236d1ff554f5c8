import { z } from "zod";
import { typedId } from "../src/core/args.js";
import { defineCommand, type Command } from "../src/core/command.js";
import type { Translate } from "../src/core/messages.js";
import { UserError } from "../src/core/errors.js";
import { quote } from "../src/core/parser.js";
import { withoutInvisible } from "../src/core/text.js";
import { OrderService } from "../src/services/order.service.js";
import { orderCard } from "./order.view.js";

/**
 * An order number as typed: `ORD-100001`, or just `100001`, full-width characters too
 * (`ＯＲＤ－１００１`), with the `#` shop admin pages print before it (`#1001` is `1001`), and with
 * a question's punctuation after it (`ORD-100001?`, `ORD-100001。` are `ORD-100001`).
 */
// As long as ingestion accepts (64), so every stored order can be reached from chat. A space in
// it (`ORD 100001`, or two numbers) is told as such, with how to write one, before the form is.
export const orderNoArg = typedId(
  z
    .string()
    // `ORD-100001?`, `ORD-100001。`: the question's punctuation, not part of the number.
    .overwrite(OrderService.withoutEndPunctuation)
    // `订单ORD-100001`, `订单号：100001` (the word a Chinese team writes before the number): the number.
    .overwrite((s) => s.replace(/^订单(?:号|编号)?[\s:：]*(?=[#A-Za-z0-9])/u, ""))
    .refine((s) => !/\s/.test(s), { error: "order.no_spaces", abort: true })
    .overwrite(OrderService.withoutHash)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "order.bad_no" }),
);

/**
 * An order number split by a space in a command taking one (`order ship ORD 100001 carrier=…`),
 * refused as such with the command written right, for {@link Command.explainArgs}: when the
 * words typed, joined (as typed, with a hyphen, or a hyphen after the first), make an order
 * number that exists, or they are a bare prefix and digits (`ORD 100001`). With `reason` (the
 * command's required text option, `reason`), words after a valid order number while that option
 * is missing (`order cancel ORD-1 客户取消`) are told to look like the reason, with the line
 * written with `reason="…"`. Anything else keeps the core's "unexpected extra argument".
 */
export function splitOrderNo(name: string, reason?: string): NonNullable<Command["explainArgs"]> {
  return async (typed, services, t) => {
    const words = typed.words.map((w) => withoutInvisible(w.normalize("NFKC")).trim()).filter(Boolean);
    if (words.length < 2 || typed.words.length !== words.length) return null;
    const [first, ...rest] = words as [string, ...string[]];
    const joined = [...new Set([words.join(""), words.join("-"), `${first}-${rest.join("")}`])].filter((no) => orderNoArg.safeParse(no).success);
    let orderNo: string | undefined;
    for (const no of joined) {
      const found = await services.orders.byNo(no);
      if (found) {
        orderNo = found._id;
        break;
      }
    }
    // `ORD 100001` (or `ORD- 100001`): a prefix of letters and the digits after it, whether or not that order exists.
    const prefixAndDigits = /^[A-Za-z]+-?$/.test(first) && /^\d+$/.test(rest[0]!);
    if (!orderNo && words.length === 2 && prefixAndDigits) orderNo = `${first.replace(/-$/, "").toUpperCase()}-${rest[0]}`;
    if (!orderNo) return reason ? reasonApart(name, reason, typed, prefixAndDigits, t) : null;
    // The line as it should have been: the number joined, the options as given.
    const options = Object.entries(typed.named).map(([k, v]) => `${k}=${quote(v)}`);
    const command = [name, orderNo, ...options].join(" ");
    const text = `${t("error.invalid_args", { command: name })}\n• ${t("order.no_spaces.fix", { value: typed.words.join(" "), command })}`;
    return { error: new UserError("invalid_args", text), subject: orderNo };
  };
}

/**
 * `order cancel ORD-1 客户取消`: a valid order number, words after it and no `reason=`: the words
 * are the reason typed without its name, said so with the line written right (null otherwise).
 */
function reasonApart(name: string, reason: string, typed: Parameters<NonNullable<Command["explainArgs"]>>[0], prefixAndDigits: boolean, t: Translate) {
  const [first, ...rest] = typed.words;
  // `ORD 100001 …` is a number split by a space (said by the core as extra words), not a reason.
  if (first === undefined || !rest.length || reason in typed.named || prefixAndDigits) return null;
  // `reason:"…"`, an option typed with a colon: the core's message says how to write it.
  if (rest.some((w) => /^[A-Za-z_]+[:：]/.test(w))) return null;
  const no = orderNoArg.safeParse(first);
  if (!no.success) return null;
  const orderNo = OrderService.normalizeOrderNo(no.data);
  const value = rest.join(" ");
  const options = Object.entries(typed.named).map(([k, v]) => `${k}=${quote(v)}`);
  const command = [name, orderNo, ...options, `${reason}=${quote(value, true)}`].join(" ");
  const text = `${t("error.invalid_args", { command: name })}\n• ${t("order.reason_apart", { value, option: reason, command })}`;
  return { error: new UserError("invalid_args", text), subject: orderNo };
}

export default defineCommand({
  name: "order",
  description: "cmd.order",
  // The rest of the line: `order ORD 100001` is refused as a number with a space, not as an extra argument.
  positional: ["...orderNo"],
  usage: "<orderNo>",
  args: z.object({ orderNo: orderNoArg }),
  examples: ["order ORD-100001", "order 100001"],
  permission: "staff",
  mutates: false,
  async handler(ctx) {
    const { args, services, t } = ctx;
    const d = await services.orders.detail(args.orderNo);
    if (!d) {
      // Updates that came before the order itself (kept until it arrives) say it is on its way.
      // Read as orders are (findOrder): the first spelling that has some, else any case when one order number is spelt so.
      const parked = await services.orders.parkedUpdates(args.orderNo);
      if (parked) return { status: "info", code: "order_pending_arrival", text: t("order.parked", { orderNo: parked.orderNo, count: parked.count }), visibility: "ephemeral" };
      return { status: "error", code: "unknown_order", text: t("order.unknown", { orderNo: OrderService.normalizeOrderNo(args.orderNo) }), visibility: "ephemeral" };
    }
    return orderCard(d, ctx);
  },
});
