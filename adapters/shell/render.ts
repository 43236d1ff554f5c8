import { displayWidth } from "../../src/core/format.js";
import { t } from "../../src/core/messages.js";
import type { Reply, ReplyAction, ReplyStatus } from "../../src/core/reply.js";
import { withoutControls } from "../../src/core/text.js";
import { BUTTON_REJECT_REASON } from "../../src/services/refund.service.js";

/** A Chinese character (a label in Chinese). */
const HAN = /\p{Script=Han}/u;

const ICON: Record<ReplyStatus, string> = { ok: "✔", info: "ℹ", warning: "⚠", error: "✖", critical: "‼" };

function pad(s: string, width: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** Renders a table with columns sized by display width (CJK counts double). */
export function renderTable(columns: string[], rows: string[][], alignRight: number[] = []): string {
  const widths = columns.map((c, i) => Math.max(displayWidth(c), ...rows.map((r) => displayWidth(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells.map((c, i) => pad(c, widths[i] ?? 0, alignRight.includes(i))).join("  ").trimEnd();
  return [line(columns), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** An inline code span of chat markup: one backtick on each side, on one line. */
const CODE_SPAN = /`([^`\n]+)`/g;

/**
 * Text written for chat with its inline code spans as plain text: "Next page: `order search
 * page=2`" reads "Next page: order search page=2", a command that copies and runs as it is.
 */
export function plainCode(s: string): string {
  return s.replace(CODE_SPAN, "$1");
}

/**
 * Renders a reply as plain text for a terminal. Buttons become the commands
 * they stand for; an image is written by the caller and shown as its path.
 * Chat's inline code marks are dropped from the bot's own wording (text, fields and
 * context); what people wrote is shown as stored: the title (a product's name), text marked
 * `plainText`, `plain` fields (a complaint's text, a reason) and table cells.
 */
export function renderText(reply: Reply, imagePath?: string): string {
  const out: string[] = [];
  const icon = reply.status ? ICON[reply.status] + " " : "";
  if (reply.title) out.push(icon + reply.title);
  if (reply.text) out.push((reply.title ? "" : icon) + (reply.plainText ? reply.text : plainCode(reply.text)));
  const table = () => {
    if (reply.table) out.push(renderTable(reply.table.columns, reply.table.rows, reply.table.alignRight));
  };
  if (reply.tableFirst) table();
  if (reply.fields?.length) {
    const w = Math.max(...reply.fields.map((f) => displayWidth(f.label)));
    for (const f of reply.fields) {
      const [first, ...rest] = (f.plain ? f.value : plainCode(f.value)).split("\n");
      out.push(`  ${pad(f.label, w, false)}  ${first ?? ""}`);
      for (const r of rest) out.push(`  ${" ".repeat(w)}  ${r}`);
    }
  }
  if (!reply.tableFirst) table();
  if (reply.image) out.push(`[image] ${imagePath ?? reply.image.filename} (${reply.image.alt})`);
  if (reply.actions?.length) {
    // A Chinese label takes the full-width colon ("→ 批准：refund approve R-…"), as its replies write it.
    for (const a of reply.actions) out.push(`  → ${a.label}${HAN.test(a.label) ? "：" : ": "}${shownCommand(a)}`);
  }
  if (reply.context?.length) out.push(...reply.context.map((c) => `  ${plainCode(c)}`));
  return safeForTerminal(out.join("\n"));
}

/** The end of a Reject button's command: the button gives a fixed reason, in English, that chat never shows. */
const BUTTON_REJECT = ` reason="${BUTTON_REJECT_REASON}"`;

/**
 * The command a button stands for, as a person at the terminal would type it. The Reject
 * button of a refund request reads `refund reject R-… reason=<reason>` (`reason=<原因>` under a
 * Chinese label): a reason to fill in, not the fixed English one the button sends in chat.
 */
function shownCommand(a: ReplyAction): string {
  if (!a.id.startsWith("refund reject ") || !a.id.endsWith(BUTTON_REJECT)) return a.id;
  return `${a.id.slice(0, -BUTTON_REJECT.length)} reason=${t(HAN.test(a.label) ? "zh-CN" : "en", "shell.reason_placeholder")}`;
}

/**
 * Text with control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides
 * removed: stored text that came from elsewhere (a complaint sent through the API) can never
 * move the cursor, rewrite the screen or reorder what the operator reads.
 */
export function safeForTerminal(s: string): string {
  return withoutControls(s);
}
