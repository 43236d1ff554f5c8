import { ButtonStyle, ComponentType, escapeMarkdown, type APIActionRowComponent, type APIButtonComponentWithCustomId, type APIEmbed } from "discord.js";
import type { Formatter } from "../../src/core/format.js";
import type { Translate } from "../../src/core/messages.js";
import { clip, clipValue, fencedCells, isPrivate, MAX_ACTION_ID, renderFitting, type Reply, type ReplyAction, type ReplyStatus, type ReplyTable } from "../../src/core/reply.js";
import { renderTable } from "../shell/render.js";

/** Embed colours by reply status (Discord's own palette where it has one). */
export const COLOURS: Record<ReplyStatus, number> = {
  ok: 0x57f287,
  info: 0x5865f2,
  warning: 0xfee75c,
  error: 0xed4245,
  critical: 0x992d22,
};

/** Discord's limits on what one message may hold. */
export const LIMITS = { description: 4096, fieldName: 256, fieldValue: 1024, fields: 25, footer: 2048, title: 256, total: 6000, embeds: 10, buttonsPerRow: 5, rows: 5, label: 80 } as const;

/** Characters Discord counts toward a message's 6,000 (all its embeds together). */
export function embedSize(e: APIEmbed): number {
  return sizeWithoutDescription(e) + (e.description?.length ?? 0);
}

/** Characters Discord counts toward an embed's total, but for the description. */
function sizeWithoutDescription(e: APIEmbed): number {
  return (e.title?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((s, f) => s + f.name.length + f.value.length, 0);
}

/** Room kept for the description (text and table) when fields and footer are long. */
const DESCRIPTION_ROOM = 1200;

/**
 * Shortens footer and fields so that, with `room` (at least `DESCRIPTION_ROOM`) left for the description, the
 * embed stays within Discord's 6,000-character total (over it, Discord refuses the whole
 * message): a long footer first, then the longest field, down to 64 characters each. A field
 * flagged in `newestLast` (a log, by index) loses its oldest entries, never its newest.
 */
function fitAround(e: APIEmbed, newestLast: readonly boolean[] = [], room: number = DESCRIPTION_ROOM): void {
  const over = () => sizeWithoutDescription(e) + room - LIMITS.total;
  if (over() > 0 && e.footer && e.footer.text.length > 300) e.footer.text = clip(e.footer.text, Math.max(300, e.footer.text.length - over()));
  const fields = e.fields ?? [];
  for (let guard = 0; guard < 100 && over() > 0; guard++) {
    let i = -1;
    fields.forEach((f, j) => {
      if (i < 0 || f.value.length > fields[i]!.value.length) i = j;
    });
    const longest = fields[i];
    if (!longest || longest.value.length <= 64) return;
    longest.value = clipValue(longest.value, Math.max(64, longest.value.length - over()), newestLast[i]);
  }
}

/**
 * Text people typed (a complaint, a note, a product name) made literal for Discord markdown:
 * bold, italics, code, spoilers, headings and lists escaped, and masked links `[text](url)`
 * broken, so a customer cannot put a disguised link into the bot's own card.
 */
function escapeUserText(s: string): string {
  return escapeMarkdown(s, { maskedLink: true, heading: true, bulletedList: true, numberedList: true }).replace(/\]\(/g, "]\\(");
}

/** A reply rendered for Discord: the body of a message, interaction reply or edit. */
export interface DiscordMessage {
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  files: { attachment: Buffer; name: string; description?: string }[];
  /** Shown to the caller only (errors and personal replies). */
  ephemeral: boolean;
  /**
   * Follow-up messages with the table's rows this one could not hold (an `audit limit=100`), each
   * under the table's header again: sent right after it, as visible as it is, where the adapter
   * answers an interaction (see `followUps` of {@link renderReply}).
   */
  more?: DiscordMessage[];
}

const STYLE: Record<NonNullable<ReplyAction["style"]>, ButtonStyle.Primary | ButtonStyle.Danger | ButtonStyle.Secondary> = {
  primary: ButtonStyle.Primary,
  danger: ButtonStyle.Danger,
  default: ButtonStyle.Secondary,
};

/** Buttons in action rows of at most 5; ids longer than Discord allows are left out (they could not be pressed). */
export function actionRows(actions: readonly ReplyAction[]): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const buttons: APIButtonComponentWithCustomId[] = actions
    .filter((a) => a.id.length > 0 && a.id.length <= MAX_ACTION_ID)
    .slice(0, LIMITS.buttonsPerRow * LIMITS.rows)
    .map((a) => ({ type: ComponentType.Button, custom_id: a.id, label: clip(a.label, LIMITS.label), style: STYLE[a.style ?? "default"] }));
  const rows: APIActionRowComponent<APIButtonComponentWithCustomId>[] = [];
  for (let i = 0; i < buttons.length; i += LIMITS.buttonsPerRow) rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + LIMITS.buttonsPerRow) });
  return rows;
}

/** Follow-up messages a table may take beyond the first, where the adapter answers an interaction. */
export const MORE_MESSAGES = 4;

// A table line longer than this is cut ("…"): with the header, it still fits an embed of its own.
const LINE_MAX = 1000;

/** A table cut for Discord: the first message's code block and the follow-up messages' blocks. */
interface TableCut {
  /** The block in the first message's description, with its note ("" when nothing at all fits). */
  first: string;
  /** One array of descriptions (one an embed) a follow-up message, each message's first under the table's header. */
  more: string[][];
  /** How many of the rows, from the first, the blocks show. */
  shown: number;
}

/**
 * A monospace table cut between whole rows: as many rows as `room` holds in the first message,
 * then the rows left in up to `followUps` messages of their own (each within Discord's 4,096 a
 * description and 6,000 a message, under the header again), so no row between this page and a
 * next page's command goes unseen. A message followed by another says which rows it holds and
 * that the rest follow; rows that fit in none are left out, and the last block says which rows
 * were shown (never more than it shows). `titleRoom`: the length of a follow-up's title, at most.
 */
function tableCut(tb: ReplyTable, room: number, followUps: number, t: Translate, titleRoom: number = LIMITS.title): TableCut {
  // A cell holding ``` would close the code block early: the rest of the table would be markdown.
  // A line break in a cell would break the one-line-a-row cut (and the alignment).
  const oneLine = (c: string) => c.replace(/\r?\n/g, " ");
  const { columns, rows } = fencedCells({ columns: tb.columns.map(oneLine), rows: tb.rows.map((r) => r.map(oneLine)) });
  const lines = renderTable(columns, rows, tb.alignRight).split("\n").map((l) => clip(l, LINE_MAX));
  const head = lines.slice(0, 2);
  const body = lines.slice(2);
  const total = body.length;
  const notes = {
    continued: (from: number, to: number) => t("discord.table.continued", { from, to, total }),
    truncated: (shown: number) => (shown ? t("discord.table.truncated", { shown, from: shown + 1, total }) : t("discord.table.none", { total })),
    below: () => t("discord.table.below", { total }),
  };
  // Room kept in every block for its note, at its longest (the numbers as long as the total).
  const noteRoom = 1 + Math.max(notes.continued(total, total).length, notes.truncated(total).length, notes.below().length);
  const size = (ls: readonly string[]) => 7 + ls.reduce((n, l) => n + l.length + 1, 0); // "```\n" + lines + "\n```"
  /** The end (exclusive) of the rows from `start` a block under `prefix` holds in `room`, a note included unless all the rest fit. */
  const fit = (prefix: readonly string[], start: number, room: number): number => {
    if (size([...prefix, ...body.slice(start)]) <= room) return total;
    let used = size(prefix) + noteRoom;
    let end = start;
    while (end < total && used + body[end]!.length + 1 <= room) used += body[end++]!.length + 1;
    return end;
  };
  const block = (prefix: readonly string[], start: number, end: number) => "```\n" + [...prefix, ...body.slice(start, end)].join("\n") + "\n```";

  const firstEnd = fit(head, 0, room);
  // Each follow-up: embeds under one title (`titleRoom` kept for it), the header atop the first.
  const more: { start: number; end: number; texts: string[] }[] = [];
  let at = firstEnd;
  while (at < total && more.length < followUps) {
    const msg = { start: at, end: at, texts: [] as string[] };
    let budget = LIMITS.total - titleRoom;
    while (at < total && msg.texts.length < LIMITS.embeds) {
      const prefix = msg.texts.length ? [] : head;
      const end = fit(prefix, at, Math.min(LIMITS.description, budget));
      if (end === at) break;
      const text = block(prefix, at, end);
      msg.texts.push(text);
      budget -= text.length + noteRoom;
      msg.end = at = end;
    }
    if (!msg.texts.length) break;
    more.push(msg);
  }
  const withNote = (text: string, note: string) => (text ? text + "\n" : "") + note;
  let first = firstEnd > 0 ? block(head, 0, firstEnd) : "";
  if (firstEnd < total) first = withNote(first, more.length ? (firstEnd ? notes.continued(1, firstEnd) : notes.below()) : notes.truncated(firstEnd));
  if (first.length > room) first = ""; // not even the note fits (the fields took the room)
  more.forEach((m, k) => {
    const last = k === more.length - 1;
    if (last && m.end === total) return;
    m.texts[m.texts.length - 1] = withNote(m.texts[m.texts.length - 1]!, last ? notes.truncated(m.end) : notes.continued(m.start + 1, m.end));
  });
  return { first, more: more.map((m) => m.texts), shown: more.at(-1)?.end ?? firstEnd };
}

/** A file name Discord accepts in `attachment://` links. */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
  return /\.png$/i.test(cleaned) ? cleaned : cleaned + ".png";
}

const CODE_SPAN = /`([^`\n]+)`/g;

/**
 * The reply with each command line in a code span (`order search customer=CUST-9 page=2`) as a
 * Discord user types it (`/order search customer:CUST-9 page:2`): Discord has no box for text
 * commands. What `slash` does not know (a usage line, a value) stays as it is; text shown as
 * typed by someone (`plain`) is not touched.
 */
function asSlash(reply: Reply, slash: (line: string) => string | undefined): Reply {
  const conv = (s: string) => s.replace(CODE_SPAN, (m, c: string) => {
    const x = slash(c);
    return x ? `\`${x}\`` : m;
  });
  return {
    ...reply,
    ...(reply.text && !reply.plainText ? { text: conv(reply.text) } : {}),
    ...(reply.fields ? { fields: reply.fields.map((f) => (f.plain ? f : { ...f, value: conv(f.value) })) } : {}),
    ...(reply.context ? { context: reply.context.map(conv) } : {}),
  };
}

/**
 * Renders a platform-neutral reply as one embed (title, text, table, fields,
 * colour by status, footer with the small print and the shop time), buttons in
 * action rows, and an attached PNG shown inside the embed. A table too long for it goes on in
 * up to `followUps` messages ({@link DiscordMessage.more}; none by default: an outbox delivery
 * stays one message, retried whole), the rows that fit in none left out and said so.
 */
export function renderReply(reply: Reply, opts: RenderOptions): DiscordMessage {
  // A page of a list too long for the messages ends at the last row they hold, its next page after it.
  return renderFitting(reply, (r) => renderOnce(r, opts));
}

/** Options of {@link renderReply}. */
type RenderOptions = { fmt: Formatter; now: Date; t: Translate; slash?: (line: string) => string | undefined; followUps?: number };

/** {@link renderReply} of the reply as it is, and how many of its table's rows it shows. */
function renderOnce(reply0: Reply, opts: RenderOptions): { msg: DiscordMessage; shown: number } {
  const reply = opts.slash ? asSlash(reply0, opts.slash) : reply0;
  const embed: APIEmbed = {};
  if (reply.title) embed.title = clip(reply.title, LIMITS.title);
  const shown = (reply.fields ?? []).slice(0, LIMITS.fields);
  if (shown.length) {
    // Escaped before it is cut: the backslashes count toward Discord's limits too.
    embed.fields = shown.map((f) => ({
      name: clip(f.label || "\u200b", LIMITS.fieldName),
      value: clipValue((f.plain ? escapeUserText(f.value) : f.value) || "—", LIMITS.fieldValue, f.newestLast),
      ...(f.inline ? { inline: true } : {}),
    }));
  }
  if (reply.status) embed.color = COLOURS[reply.status];
  // A footer shows no markdown: its code spans lose their backticks.
  const footer = [...(reply.context ?? []), opts.fmt.dateTime(opts.now)].join(" · ").replace(CODE_SPAN, (_, c: string) => c);
  embed.footer = { text: clip(footer, LIMITS.footer) };
  // A table that comes first (the digest's figures) keeps the room it needs; the fields give way.
  const followUps = opts.followUps ?? 0;
  // Each follow-up under the reply's title, numbered (2/3), in its colour.
  const followTitle = (k: number, n: number) => `${reply.title ? clip(reply.title, LIMITS.title - 12) + " " : ""}(${k + 2}/${n + 1})`;
  const titleRoom = followTitle(followUps, followUps).length;
  const wanted = reply.table && reply.tableFirst ? (reply.text?.length ?? 0) + 1 + tableCut(reply.table, LIMITS.description, followUps, opts.t, titleRoom).first.length : 0;
  fitAround(embed, shown.map((f) => f.newestLast === true), Math.min(LIMITS.description, Math.max(DESCRIPTION_ROOM, wanted)));
  // The description last, in the room the rest leaves: a table is cut by whole rows (its code
  // block stays closed), the text only if it alone is too long.
  const room = Math.max(1, Math.min(LIMITS.description, LIMITS.total - sizeWithoutDescription(embed)));
  let description = clip((reply.plainText && reply.text ? escapeUserText(reply.text) : reply.text) ?? "", room);
  let more: DiscordMessage[] = [];
  let rowsShown = 0;
  if (reply.table) {
    const sep = description ? "\n" : "";
    const cut = tableCut(reply.table, room - description.length - sep.length, followUps, opts.t, titleRoom);
    if (cut.first) description += sep + cut.first;
    rowsShown = cut.first || cut.more.length ? cut.shown : 0;
    more = cut.more.map((texts, k) => ({
      embeds: texts.map((text, j) => ({ ...(j === 0 ? { title: followTitle(k, cut.more.length) } : {}), description: text, ...(embed.color !== undefined ? { color: embed.color } : {}) })),
      components: [],
      files: [],
      ephemeral: isPrivate(reply),
    }));
  }
  if (description) embed.description = description;
  const files: DiscordMessage["files"] = [];
  if (reply.image) {
    const name = safeName(reply.image.filename);
    files.push({ attachment: Buffer.from(reply.image.data), name, description: clip(reply.image.alt, 1000) });
    embed.image = { url: `attachment://${name}` };
  }
  const msg: DiscordMessage = {
    embeds: [embed],
    components: actionRows(reply.actions ?? []),
    files,
    ephemeral: isPrivate(reply),
    ...(more.length ? { more } : {}),
  };
  return { msg, shown: rowsShown };
}
