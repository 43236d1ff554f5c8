import { randomBytes } from "node:crypto";
import { aboutSameSubject, clip, clipValue, fencedCells, isPrivate, moreMarker, renderFitting, type Reply, type ReplyField, type ReplyStatus, type ReplyTable } from "../../src/core/reply.js";
import { renderTable } from "../shell/render.js";

/** A Block Kit block (kept loose: we only build a few kinds). */
export type Block = Record<string, unknown> & { type: string };

/** A rendered message: `text` is the notification/fallback, `blocks` what Slack shows. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
  /** "ephemeral" for errors and personal replies; "in_channel" when the command asks for it. */
  response_type: "ephemeral" | "in_channel";
  /**
   * Follow-up messages with the table's rows one message could not hold (an `audit limit=100`),
   * each under the table's header again: sent right after this one where the adapter answers a
   * person, so no row between this page and the next page's command goes unseen.
   */
  more?: SlackMessage[];
}

/** Prefix of the action_id of every shopops button (the handler matches it). */
export const ACTION_PREFIX = "shopops.run.";
/** Prefix of the block_id of a reply's action row: a nonce follows, fresh on every render. */
export const ACTIONS_BLOCK_PREFIX = "shopops.actions.";

const ICON: Record<ReplyStatus, string> = {
  ok: ":white_check_mark:",
  info: ":information_source:",
  warning: ":warning:",
  error: ":x:",
  critical: ":rotating_light:",
};

// Slack's limits: header 150 chars, section text 3000, a field 2000, 10 fields per section,
// button text 75, value 2000, 5 buttons per actions block within 25 elements, 50 blocks.
const HEADER_MAX = 150;
const TEXT_MAX = 3000;
const FIELD_MAX = 2000;
// A reply's text in up to 3 sections, 7,000 characters (a 4,000-character complaint, escaped).
const TEXT_SECTIONS = 3;
const TEXT_ROOM = 7000;
const BLOCKS_MAX = 50;
// Not documented, but Slack refuses a message whose blocks hold more than about 13,200
// characters (msg_blocks_too_long, slackapi/bolt-js#2509): stay well under it.
const MESSAGE_MAX = 12_000;
// Follow-up messages a table may take beyond the first (a response_url takes 5 posts in all).
const MORE_MESSAGES = 3;
// JSON of a section block around its text: `{"type":"section","text":{"type":"mrkdwn","text":""}}`.
const SECTION_JSON = 56;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Options of {@link renderBlocks}. */
export interface RenderOptions {
  /** Extra context lines at the end (who acted, when): Slack mrkdwn, not escaped. */
  extraContext?: string[];
  /**
   * Follow-up messages a table may take ({@link SlackMessage.more}), up to three (the default);
   * 0 where only the message itself is sent (a press's outcome added to the pressed message).
   */
  followUps?: number;
  /**
   * The registry's top-level command words (`help`, `refund`, `stock`…): a code span of the
   * reply's own text starting with one is a command line, shown as a Slack user types it,
   * `/ops <line>` (see {@link opsLine}). Unset: code spans are shown as they are.
   */
  commandWords?: ReadonlySet<string>;
  /**
   * The reply goes into a thread, where Slack takes no slash commands: its command lines are
   * shown as a mention of the bot then the line, `<@U…> \`help\`` (see {@link threadLine}).
   * `botUserId`: the bot's own user id, which Slack shows as its name, whatever the app is
   * called; unknown, the line reads `@shopops help` in one code span.
   */
  thread?: { botUserId?: string };
}

/**
 * The slash command every command line is shown with. Always the umbrella `/ops`, never the
 * group's own `/stock`: `/ops` is registered wherever the app is installed, while `help`,
 * `whoami`, `role` and `audit` have no command of their own (UMBRELLA_ONLY in manifest.ts), a
 * group added since the app's manifest was last updated has none yet, and another app may own
 * `/stock` in the workspace.
 */
export const OPS_COMMAND = "/ops";

/** A code span on one line, not part of a run of backticks (a ``` fence). */
const CODE_SPAN = /(?<!`)`([^`\n]+)`(?!`)/g;

/**
 * A code span's content as a Slack user types it (`help refund` → `/ops help refund`): Slack
 * reads only slash commands, mentions and reactions, never a plain `help`. A command line is
 * one whose first word is one of `commandWords` (a command or a group: `refund` alone, or a
 * usage line `refund approve <id> [note=<note>]`, which `/ops` takes as it is); anything else
 * (a value, an error code, `npm run …`, a line already starting with `/`) is undefined.
 */
export function opsLine(code: string, commandWords: ReadonlySet<string>): string | undefined {
  const line = code.trim();
  const first = line.split(/\s/, 1)[0]!.toLowerCase();
  return line && commandWords.has(first) ? `${OPS_COMMAND} ${line}` : undefined;
}

/**
 * Stands, in a reply's text before it is escaped and measured, for the mention of the bot that
 * precedes a command line in a thread ({@link threadLine}); put in place once escaped. Counted at
 * {@link MENTION_ROOM} characters, so a text holding it never outgrows Slack's limits. (A private
 * use character: any in the reply's own text is dropped first.)
 */
const MENTION_MARK = "\ue000";
const MENTION_MARKS = /\ue000/g;
/** `<@` + a user id (at most 20) + `> `. */
const MENTION_ROOM = 24;

/** The mention of the bot a {@link MENTION_MARK} stands for, or undefined when its id is unusable. */
function botMention(botUserId: string | undefined): string | undefined {
  return botUserId && /^[A-Z0-9]{1,20}$/.test(botUserId) ? `<@${botUserId}> ` : undefined;
}

/**
 * A code span's command line as typed in a thread, where Slack takes no slash commands and the
 * bot reads the words after its mention (`help refund` → {@link MENTION_MARK}`` `help refund` ``,
 * shown as "@shopops `help refund`"): the mention outside the code span, where Slack renders it as
 * the bot's name, whatever the app is called, and the user can copy it; without the bot's id,
 * `` `@shopops help refund` ``. Undefined for anything not a command line ({@link opsLine}).
 */
export function threadLine(code: string, commandWords: ReadonlySet<string>, botUserId: string | undefined): string | undefined {
  if (!opsLine(code, commandWords)) return undefined;
  return botMention(botUserId) ? `${MENTION_MARK}\`${code.trim()}\`` : `\`@shopops ${code.trim()}\``;
}

/** `text` (a reply's own, not yet escaped) with each command line in a code span as a Slack user types it ({@link opsLine}, in a thread {@link threadLine}). */
function typedLines(text: string, commandWords: ReadonlySet<string>, thread?: { botUserId?: string }): string {
  const own = thread ? text.replace(MENTION_MARKS, "") : text;
  return own.replace(CODE_SPAN, (m, code: string) => {
    if (thread) return threadLine(code, commandWords, thread.botUserId) ?? m;
    const line = opsLine(code, commandWords);
    return line ? `\`${line}\`` : m;
  });
}

/** Room a text's {@link MENTION_MARK}s take beyond their one character each, once put in place. */
function markRoom(s: string): number {
  return (s.match(MENTION_MARKS)?.length ?? 0) * (MENTION_ROOM - 1);
}

/**
 * The reply with its command lines as a Slack user types them ({@link typedLines}): its text,
 * fields and context, before they are measured and clipped. Text shown as someone typed it
 * (`plainText`, a `plain` field), the title (plain text), the table and buttons are left as
 * they are: a button's value is the line the core runs.
 */
function asTyped(reply: Reply, commandWords: ReadonlySet<string>, thread?: { botUserId?: string }): Reply {
  const conv = (s: string) => typedLines(s, commandWords, thread);
  // In a thread, a mark already in the text (a private use character) would become a mention: dropped.
  const own = (s: string) => (thread ? s.replace(MENTION_MARKS, "") : s);
  return {
    ...reply,
    ...(reply.text ? { text: reply.plainText ? own(reply.text) : conv(reply.text) } : {}),
    ...(reply.fields ? { fields: reply.fields.map((f) => ({ ...f, label: own(f.label), value: f.plain ? own(f.value) : conv(f.value) })) } : {}),
    ...(reply.context ? { context: reply.context.map(conv) } : {}),
  };
}

/**
 * Renders a platform-neutral reply as Block Kit: a header (status icon and
 * title), the text, fields, a monospace table (before the fields with
 * `tableFirst`), buttons and context (a
 * reply's image is not a block: the adapter uploads it as a file).
 * Every button's `value` is the reply action's command line; its action row
 * gets a fresh block_id nonce, so a re-rendered button is a new button for
 * the dedupe of presses.
 */
export function renderBlocks(reply: Reply, opts: RenderOptions = {}): SlackMessage {
  // A page of a list too long for the messages ends at the last row they hold, its next page after it.
  return renderFitting(reply, (r) => renderOnce(r, opts));
}

/** {@link renderBlocks} of the reply as it is, and how many of its table's rows it shows. */
function renderOnce(reply0: Reply, opts: RenderOptions): { msg: SlackMessage; shown: number } {
  // Rewritten here, after renderFitting's page cut (it matches the reply's own context lines).
  const reply = opts.commandWords ? asTyped(reply0, opts.commandWords, opts.thread) : reply0;
  // The bot's mention put where a command line in a thread starts (its mark counted at full size).
  const mention = botMention(opts.thread?.botUserId) ?? "";
  const put = (s: string) => (opts.thread ? s.replace(MENTION_MARKS, mention) : s);
  const blocks: Block[] = [];
  const icon = reply.status ? ICON[reply.status] + " " : "";
  if (reply.title) blocks.push({ type: "header", text: { type: "plain_text", text: clip(`${icon}${reply.title}`, HEADER_MAX), emoji: true } });
  if (reply.text) {
    // A long text (a complaint of 4,000 characters) takes several sections, cut between lines or words.
    const lead = reply.title ? "" : icon;
    const pieces = splitEscaped(fitRaw(reply.text, TEXT_ROOM - lead.length), TEXT_MAX - lead.length, TEXT_SECTIONS);
    pieces.forEach((p, i) => {
      const text = (i === 0 ? lead : "") + p;
      // Text as someone typed it is plain_text: no bold, code or mentions from a customer's words.
      blocks.push({ type: "section", text: reply.plainText ? plainTextObject(text) : { type: "mrkdwn", text: put(text) } });
    });
  }
  // With tableFirst the table goes here, before the fields (it is sized last, below).
  const tableAt = blocks.length;
  const fields = reply.fields ?? [];
  // Inline fields share sections (two columns, up to 10 per section); a wide field gets its own.
  let run: ReplyField[] = [];
  const putIn = (cell: Block): Block => (cell.type === "mrkdwn" ? { ...cell, text: put(String(cell.text)) } : cell);
  const flush = () => {
    let cells: Block[] = [];
    // Two fields a row. A row with a field shown as typed (`plain`) is drawn as the labels (bold)
    // over the values (plain_text), the way the others show a label over its value.
    for (let i = 0; i < run.length; i += 2) {
      const row = run.slice(i, i + 2);
      const drawn: Block[] = (row.some((f) => f.plain) ? [...row.map(labelCell), ...row.map(valueCell)] : row.map(mrkdwnField)).map(putIn);
      if (cells.length + drawn.length > 10) {
        blocks.push({ type: "section", fields: cells });
        cells = [];
      }
      cells.push(...drawn);
    }
    if (cells.length) blocks.push({ type: "section", fields: cells });
    run = [];
  };
  for (const f of fields) {
    if (f.inline) run.push(f);
    else {
      flush();
      if (f.plain) {
        // The label in bold, then the value as typed in plain_text (a text object is one or the other).
        blocks.push({ type: "section", text: labelCell(f) }, { type: "section", text: valueCell(f) });
      } else blocks.push({ type: "section", text: putIn(mrkdwnField(f)) });
    }
  }
  flush();
  const after: Block[] = [];
  if (reply.actions?.length) {
    const nonce = randomBytes(6).toString("hex");
    const buttons = reply.actions.slice(0, 25).map((a, i) => ({
      type: "button",
      action_id: `${ACTION_PREFIX}${i}`,
      value: a.id,
      text: { type: "plain_text", text: clip(a.label, 75), emoji: true },
      ...(a.style === "primary" || a.style === "danger" ? { style: a.style } : {}),
    }));
    for (let i = 0; i < buttons.length; i += 5) after.push({ type: "actions", block_id: `${ACTIONS_BLOCK_PREFIX}${nonce}.${i / 5}`, elements: buttons.slice(i, i + 5) });
  }
  // The adapter's own lines carry Slack mentions (<@U…>), so they are not escaped.
  // (Not rewritten: a pressed button's "ran `refund approve R-1`" names the line it ran, its value.)
  const context = [...(reply.context ?? []).map(escapeMrkdwn), ...(opts.extraContext ?? [])];
  if (context.length) after.push({ type: "context", elements: context.slice(-10).map((c) => ({ type: "mrkdwn", text: put(clipMrkdwn(c, TEXT_MAX - markRoom(c))) })) });
  const responseType = isPrivate(reply) ? "ephemeral" : "in_channel";
  let more: SlackMessage[] = [];
  let shown = 0;
  if (reply.table) {
    // The table gets the blocks and characters the rest leaves (buttons and context are drawn after it).
    const room = Math.max(TEXT_MAX, MESSAGE_MAX - JSON.stringify([...blocks, ...after]).length);
    const cut = tableSections(reply.table, room, Math.max(1, BLOCKS_MAX - blocks.length - after.length), opts.followUps ?? MORE_MESSAGES);
    shown = cut.shown;
    const [sections = [], ...rest] = cut.messages;
    const tableBlocks = sections.map(sectionOf);
    blocks.splice(reply.tableFirst ? tableAt : blocks.length, 0, ...tableBlocks);
    const head = clip(escapeMrkdwn(reply.title || fallbackText(reply)), 200);
    more = rest.map((texts, i) => ({ text: `${head} (${i + 2}/${rest.length + 1})`, blocks: texts.map(sectionOf), response_type: responseType }));
  }
  blocks.push(...after);
  const fallback = escapeMrkdwn(fallbackText(reply));
  const msg: SlackMessage = { text: put(clip(fallback, TEXT_MAX - markRoom(fallback))), blocks: blocks.slice(0, BLOCKS_MAX), response_type: responseType, ...(more.length ? { more } : {}) };
  return { msg, shown };
}

/**
 * Mrkdwn (escaped, with the adapter's own mentions and links) cut to `n` characters, ending "…",
 * never through a mention or link (`<@U1>`, `<https://x|y>`) or a code span: what the cut would
 * leave open goes whole, so no lone `<` or backtick turns the rest into a broken link or code.
 */
export function clipMrkdwn(s: string, n: number): string {
  if (s.length <= n) return s;
  let cut = clip(s, n).slice(0, -1);
  const open = cut.lastIndexOf("<");
  if (open > cut.lastIndexOf(">")) cut = cut.slice(0, open);
  // Outside a ``` fence, an odd number of backticks leaves a code span open: cut before it.
  if (!cut.includes("```") && (cut.match(/`/g)?.length ?? 0) % 2 === 1) cut = cut.slice(0, cut.lastIndexOf("`"));
  return cut.trimEnd() + "…";
}

/** A mrkdwn section block. */
function sectionOf(text: string): Block {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/**
 * `raw` cut (ending "…") so that, escaped for mrkdwn, it takes at most `n` characters: the longest
 * prefix that fits beside the "…" (each character counted at its escaped size, so a text full of
 * `&`, `<`, `>` loses no more than it must), never between the halves of an emoji.
 */
function fitRaw(raw: string, n: number): string {
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += escapedSize(raw[i]!);
  if (size <= n) return raw;
  let end = 0;
  for (size = 1; end < raw.length && size + escapedSize(raw[end]!) <= n; end++) size += escapedSize(raw[end]!);
  if (end > 0 && /[\ud800-\udbff]/.test(raw[end - 1]!)) end--;
  // Not through a code span (a lone backtick would turn the rest into code): before it.
  end = outsideSpans(spansOf(raw), end);
  return raw.slice(0, end) + "…";
}

/**
 * `end`, or where the code span (or a bot mention's mark with its span) `end` falls inside
 * starts: a cut there leaves no lone backtick. A span starting at the text's start is cut as it was.
 */
function outsideSpans(spans: readonly (readonly [number, number])[], end: number): number {
  for (const [at, to] of spans) {
    if (at >= end) break;
    if (end < to && at > 0) return at;
  }
  return end;
}

/** Where each code span of `raw` starts (at the mention's mark before it, if any) and ends. */
function spansOf(raw: string): [number, number][] {
  return [...raw.matchAll(CODE_SPAN)].map((m) => [m.index > 0 && raw[m.index - 1] === MENTION_MARK ? m.index - 1 : m.index, m.index + m[0].length]);
}

/** `raw` escaped for mrkdwn and cut to `n` characters, never through an entity (`&amp;`). */
function escapedClip(raw: string, n: number): string {
  return escapeMrkdwn(fitRaw(raw, n));
}

/** Characters `c` takes once escaped for Slack. */
const escapedSize = (c: string): number => (c === "&" ? 5 : c === "<" || c === ">" ? 4 : c === MENTION_MARK ? MENTION_ROOM : 1);

/** Where a piece may end: after a space or Chinese/Japanese punctuation. */
const BREAK_AFTER = /[\s\u3000。！？，；、：）]/;

/**
 * `raw` escaped for Slack in pieces of at most `max` characters each (at most `maxPieces`; what
 * is left over goes, the last piece ending "…"). A piece ends at a line break or a space (which
 * the cut takes), else after punctuation, when one falls in its second half; else anywhere but
 * inside an emoji. Every piece is escaped by itself, so an entity (`&amp;`) is never split.
 * Blank pieces are dropped.
 */
export function splitEscaped(raw: string, max: number, maxPieces = Infinity): string[] {
  const out: string[] = [];
  const spans = spansOf(raw);
  let start = 0;
  while (start < raw.length) {
    if (out.length === maxPieces - 1) {
      out.push(escapedClip(raw.slice(start), max));
      break;
    }
    let end = start;
    for (let size = 0; end < raw.length && size + escapedSize(raw[end]!) <= max; end++) size += escapedSize(raw[end]!);
    let next = end;
    if (end < raw.length) {
      const half = start + Math.ceil((end - start) / 2);
      const nl = raw.lastIndexOf("\n", end);
      let brk = -1;
      // Never inside a code span: its backticks would pair with others, the rest read as code.
      for (let i = end - 1; i >= half && brk < 0; i--) if (BREAK_AFTER.test(raw[i]!) && outsideSpans(spans, i + 1) === i + 1 && outsideSpans(spans, i) === i) brk = i;
      if (nl >= half && nl <= end) {
        end = nl; // the line break itself is the section boundary
        next = nl + 1;
      } else if (brk >= 0) {
        // A space at the cut goes with it; punctuation stays at the end of its piece.
        end = /\s/.test(raw[brk]!) ? brk : brk + 1;
        next = brk + 1;
      } else if (outsideSpans(spans, end) > start && outsideSpans(spans, end) < end) {
        end = next = outsideSpans(spans, end); // not through a code span: before it
      } else if (end - 1 > start && /[\ud800-\udbff]/.test(raw[end - 1]!)) {
        end = next = end - 1; // not between the halves of an emoji
      }
    }
    const piece = raw.slice(start, end);
    if (piece.trim()) out.push(escapeMrkdwn(piece));
    start = Math.max(next, start + 1);
  }
  return out;
}

/** Slack's plain_text object: what people typed, shown as it is (no mrkdwn, no mentions); `text` escaped. */
function plainTextObject(text: string): Block {
  return { type: "plain_text", text, emoji: true };
}

/** A field's label in bold (mrkdwn). */
function labelCell(f: ReplyField): Block {
  return { type: "mrkdwn", text: `*${clip(escapeMrkdwn(f.label), 200) || "\u200b"}*` };
}

/** A field's value cut to Slack's 2,000: as typed (`plain`) in plain_text, else mrkdwn. */
function valueCell(f: ReplyField): Block {
  const escaped = escapeMrkdwn(f.value || "—");
  const value = entitySafe(clipValue(escaped, FIELD_MAX - markRoom(escaped), f.newestLast));
  return f.plain ? plainTextObject(value) : { type: "mrkdwn", text: value };
}

/** A field as one mrkdwn cell, its label in bold over its value (the bot's own text). */
function mrkdwnField(f: ReplyField): Block {
  const label = `*${clip(escapeMrkdwn(f.label), 200)}*\n`;
  const value = escapeMrkdwn(f.value);
  return { type: "mrkdwn", text: label + entitySafe(clipValue(value, FIELD_MAX - label.length - markRoom(value), f.newestLast)) };
}

/** Escaped text cut at its end: an entity cut in half before the "…" goes whole. */
function entitySafe(s: string): string {
  return s.replace(/&[a-z]{0,3}…$/, "…");
}

/**
 * A table as monospace sections of at most 3,000 characters each, cut between rows (every row is
 * escaped before it is measured, so an entity is never split): the first message's in at most
 * `maxBlocks` sections and `room` characters, then the rows left over in up to `followUps`
 * follow-up messages of their own, each under the table's header again. Rows that fit in none
 * are left out, and a last line says how many; so does the last line of a message followed by
 * another (the rows that come after it). `shown`: how many rows, from the first, they show.
 */
function tableSections(tb: ReplyTable, room: number, maxBlocks: number, followUps: number): { messages: string[][]; shown: number } {
  // A cell holding ``` would close the fence early: the rest of the table would be mrkdwn.
  const cells = fencedCells(tb);
  const drawn = renderTable(cells.columns, cells.rows, tb.alignRight).split("\n");
  // Each line: a header line, the rule, then one line a row. Room for the fence (6) and a note.
  const noteRoom = moreMarker(tb.rows.length).length + 1;
  const lines = drawn.map((l) => escapedClip(l, TEXT_MAX - 6 - noteRoom));
  const head = lines.slice(0, 2);
  const messages: string[][] = [];
  const first = packLines(lines, room, maxBlocks, noteRoom);
  let left = lines.slice(first.taken);
  messages.push(first.texts);
  // The follow-ups repeat the header (when the first message showed it), so each reads alone.
  const prefix = first.taken >= head.length ? head : [];
  while (left.length && messages.length <= followUps) {
    const next = packLines([...prefix, ...left], MESSAGE_MAX, BLOCKS_MAX, noteRoom);
    const taken = next.taken - prefix.length;
    if (taken <= 0) break;
    messages[messages.length - 1] = withMore(messages[messages.length - 1]!, Math.min(tb.rows.length, left.length));
    messages.push(next.texts);
    left = left.slice(taken);
  }
  const hidden = Math.min(tb.rows.length, left.length);
  if (hidden > 0) messages[messages.length - 1] = withMore(messages[messages.length - 1]!, hidden);
  return { messages, shown: tb.rows.length - hidden };
}

/** A message's table sections, the last one ending with the line that says `count` rows follow or are left out. */
function withMore(texts: string[], count: number): string[] {
  if (!texts.length) return texts;
  return [...texts.slice(0, -1), texts[texts.length - 1] + "\n" + moreMarker(count)];
}

/**
 * Monospace lines packed into fenced sections of at most 3,000 characters (room kept for a note
 * line), at most `maxBlocks` of them and `room` characters of JSON in all: how many lines fit, in
 * order, and the sections' texts.
 */
function packLines(lines: readonly string[], room: number, maxBlocks: number, noteRoom: number): { texts: string[]; taken: number } {
  const sections: string[][] = [];
  let used = 0; // JSON characters of all sections so far (a quote or line break is two)
  let size = 0; // characters of the last section, fence included
  let taken = 0;
  for (const line of lines) {
    const last = sections[sections.length - 1];
    const grow = last !== undefined && size + 1 + line.length <= TEXT_MAX - noteRoom;
    const json = JSON.stringify(line).length - 2;
    const cost = grow ? json + 2 : json + 6 + SECTION_JSON;
    if (used + cost > room - noteRoom || (!grow && sections.length >= maxBlocks)) break;
    if (grow) last.push(line);
    else sections.push([line]);
    size = grow ? size + 1 + line.length : line.length + 6;
    used += cost;
    taken++;
  }
  return { texts: sections.map((s) => "```" + s.join("\n") + "```"), taken };
}

/** The plain text Slack shows in notifications and where blocks cannot be shown. */
export function fallbackText(reply: Reply): string {
  // A title that ends a sentence or a phrase ("You have C-1 now.", "销售日报：…") takes no colon after it.
  const head = reply.title && reply.text ? reply.title + (/[.!?。！？:：]$/.test(reply.title) ? " " : " — ") + reply.text : reply.title || reply.text;
  return head || reply.fields?.map((f) => `${f.label}: ${f.value}`).join(", ") || reply.context?.join(" ") || "shopops";
}

/** A one-line notice written by the adapter itself (mrkdwn with mentions, not escaped). */
export function noticeMessage(mrkdwn: string): SlackMessage {
  return { text: mrkdwn, blocks: [{ type: "section", text: { type: "mrkdwn", text: `${ICON.info} ${clipMrkdwn(mrkdwn, TEXT_MAX - 30)}` } }], response_type: "ephemeral" };
}

/** Prefix of the block_id of an outcome a press appended to a message (a nonce follows). */
const OUTCOME_BLOCK_PREFIX = "shopops.outcome.";

type Button = { type?: string; action_id?: string; value?: string };

/**
 * A message's blocks after a press, with its outcome: the message as it was, minus the buttons
 * about the pressed subject (Slack buttons cannot be disabled, so they are removed, and an
 * actions block left empty goes), or minus all its buttons when the outcome brings its own (a
 * two-manager refund's card offers Approve again); then a divider and the outcome. So a
 * low-stock alert keeps its table and its other products' buttons.
 *
 * Within Slack's limits (50 blocks, about 12,000 characters): earlier outcomes give way first,
 * oldest first; then the message's context lines, then its sections from the last up, then
 * its header. Live buttons are never dropped; if even that does not fit, the outcome alone.
 */
export function appendOutcome(original: readonly Block[], outcome: readonly Block[], pressed: string): Block[] {
  const ownButtons = outcome.some((b) => b.type === "actions");
  const kept: Block[] = [];
  for (const b of original) {
    if (b.type !== "actions") {
      kept.push(b);
      continue;
    }
    // Only our own buttons are touched (another element is left as it is).
    const ours = (e: Button) => e.type === "button" && !!e.action_id?.startsWith(ACTION_PREFIX);
    const elements = ((b.elements ?? []) as Button[]).filter((e) => !ours(e) || (!ownButtons && !aboutSameSubject(String(e.value ?? ""), pressed)));
    if (elements.length) kept.push({ ...b, elements });
  }
  // The outcome's own blocks are tagged, so a later press can tell them from the message's.
  const nonce = randomBytes(4).toString("hex");
  const tagged = [{ type: "divider" }, ...outcome].map((b, i) => (b.type === "actions" ? b : { ...b, block_id: `${OUTCOME_BLOCK_PREFIX}${nonce}.${i}` }));
  const fits = (bs: Block[]) => bs.length <= BLOCKS_MAX && JSON.stringify(bs).length <= MESSAGE_MAX;
  if (fits([...kept, ...tagged])) return [...kept, ...tagged];
  const rank = (b: Block): number => {
    if (b.type === "actions") return -1; // live buttons: kept
    if (String(b.block_id ?? "").startsWith(OUTCOME_BLOCK_PREFIX)) return 0;
    if (b.type === "context" || b.type === "divider") return 1;
    return b.type === "header" ? 3 : 2;
  };
  // Earlier outcomes and context lines oldest first; sections (a table's worst rows come first) last first.
  const order = kept
    .map((b, i) => ({ i, r: rank(b) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || (a.r === 2 ? b.i - a.i : a.i - b.i));
  const dropped = new Set<number>();
  for (const { i } of order) {
    dropped.add(i);
    const rest = [...kept.filter((_, j) => !dropped.has(j)), ...tagged];
    if (fits(rest)) return rest;
  }
  return [...outcome];
}
