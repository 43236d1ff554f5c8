import { ButtonStyle, ComponentType, escapeMarkdown, type APIActionRowComponent, type APIButtonComponentWithCustomId, type APIEmbed } from "discord.js";
import type { Formatter } from "../../src/core/format.js";
import type { Translate } from "../../src/core/messages.js";
import { clip, clipValue, fencedCells, isPrivate, MAX_ACTION_ID, type Reply, type ReplyAction, type ReplyStatus } from "../../src/core/reply.js";
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
export const LIMITS = { description: 4096, fieldName: 256, fieldValue: 1024, fields: 25, footer: 2048, title: 256, total: 6000, buttonsPerRow: 5, rows: 5, label: 80 } as const;

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

/** A monospace table that fits in what is left of the description. */
function tableBlock(reply: Reply, room: number, t: Translate): string {
  const tb = reply.table!;
  // A cell holding ``` would close the code block early: the rest of the table would be markdown.
  const { columns, rows } = fencedCells(tb);
  for (let n = tb.rows.length; n >= 0; n--) {
    const note = n < tb.rows.length ? "\n" + t("discord.table.truncated", { shown: n, total: tb.rows.length }) : "";
    const block = "```\n" + renderTable(columns, rows.slice(0, n), tb.alignRight) + "\n```" + note;
    if (block.length <= room) return block;
  }
  return "";
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
 * action rows, and an attached PNG shown inside the embed.
 */
export function renderReply(reply0: Reply, opts: { fmt: Formatter; now: Date; t: Translate; slash?: (line: string) => string | undefined }): DiscordMessage {
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
  const wanted = reply.table && reply.tableFirst ? (reply.text?.length ?? 0) + 1 + tableBlock(reply, LIMITS.description, opts.t).length : 0;
  fitAround(embed, shown.map((f) => f.newestLast === true), Math.min(LIMITS.description, Math.max(DESCRIPTION_ROOM, wanted)));
  // The description last, in the room the rest leaves: a table is cut by whole rows (its code
  // block stays closed), the text only if it alone is too long.
  const room = Math.max(1, Math.min(LIMITS.description, LIMITS.total - sizeWithoutDescription(embed)));
  let description = clip((reply.plainText && reply.text ? escapeUserText(reply.text) : reply.text) ?? "", room);
  if (reply.table) {
    const sep = description ? "\n" : "";
    description += sep + tableBlock(reply, room - description.length - sep.length, opts.t);
  }
  if (description) embed.description = description;
  const files: DiscordMessage["files"] = [];
  if (reply.image) {
    const name = safeName(reply.image.filename);
    files.push({ attachment: Buffer.from(reply.image.data), name, description: clip(reply.image.alt, 1000) });
    embed.image = { url: `attachment://${name}` };
  }
  return {
    embeds: [embed],
    components: actionRows(reply.actions ?? []),
    files,
    ephemeral: isPrivate(reply),
  };
}
