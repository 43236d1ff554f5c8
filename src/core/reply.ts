/** Visual status of a reply: adapters map it to colours and icons. */
export type ReplyStatus = "ok" | "info" | "warning" | "error" | "critical";

/** A button: `id` is a command line the core can run later when it is pressed. */
export interface ReplyAction {
  /** Command text the core resolves when the button is pressed (≤ 100 chars, Discord's custom_id limit). */
  id: string;
  label: string;
  style?: "primary" | "danger" | "default";
}

/** A key/value pair shown as a field (Slack section field, Discord embed field). */
export interface ReplyField {
  label: string;
  value: string;
  inline?: boolean;
  /**
   * The value is text as people typed it (a complaint, a note, a customer id): adapters show it
   * literally, escaping their markup in it. Leave unset where the bot writes markup on purpose.
   */
  plain?: boolean;
  /**
   * The value is a log, one entry a line, oldest first (a history, a timeline): when it is too
   * long, whole entries give way from the start, so the newest (the current state) stay.
   */
  newestLast?: boolean;
}

/** A small table: adapters render it monospace. */
export interface ReplyTable {
  columns: string[];
  rows: string[][];
  /** Columns to right-align (numbers). */
  alignRight?: number[];
  /**
   * A page of a longer list (`audit`, `role list`, `stock low`): for each row, the reply's paging
   * lines (which rows the page holds, the next page's command) as they read when the page ends
   * after that row; null where it cannot end there. The reply's context holds the last row's.
   * A page too long for a platform's messages is then shown to a row that has them
   * ({@link firstRows}), so its next page goes on right after the last row shown: none is skipped.
   */
  pageLines?: (readonly string[] | null)[];
}

/** A platform-neutral reply. Adapters render it as Block Kit, embeds or plain text. */
export interface Reply {
  title?: string;
  text?: string;
  /** `text` is text as someone typed it (see {@link ReplyField.plain}): shown literally. */
  plainText?: boolean;
  fields?: ReplyField[];
  table?: ReplyTable;
  /**
   * The table comes before the fields (headline figures, then lists: the digest). Unset: fields
   * first, then the table (an order's details above its lines). Discord always draws the table
   * in the description, above the fields; with this set it also keeps its room there first.
   */
  tableFirst?: boolean;
  status?: ReplyStatus;
  actions?: ReplyAction[];
  image?: { filename: string; data: Uint8Array; alt: string };
  /** Small print under the body (footers, notes). */
  context?: string[];
  /** Stable code of an expected failure (status "error"), e.g. "insufficient_stock". */
  code?: string;
  /** Ephemeral replies are shown to the caller only. */
  visibility: "ephemeral" | "public";
  /**
   * Set on the answer to a pressed button whose subject has nothing left to press (a refund request
   * decided or expired meanwhile): the line put on the shared message, whose buttons about that
   * subject are removed (Slack) or disabled (Discord); the answer itself still goes to the presser.
   */
  settled?: string;
}

/**
 * The reply as a page of only its table's first rows, at most `fit` (what the platform's messages
 * hold): ending at the last of them that has {@link ReplyTable.pageLines}, whose lines take the
 * place of the page's own in the context (where they were, else at its end). Undefined when no
 * such row is among them: the adapter then shows what fits and says which rows it left out.
 */
export function firstRows(reply: Reply, fit: number): Reply | undefined {
  const tb = reply.table;
  const lines = tb?.pageLines;
  if (!tb || !lines || fit >= tb.rows.length) return undefined;
  let k = Math.min(fit, lines.length);
  while (k > 0 && !lines[k - 1]) k--;
  if (k === 0) return undefined;
  const own = lines[tb.rows.length - 1] ?? [];
  const context = [...(reply.context ?? [])];
  let at = -1;
  for (const line of own) {
    const i = context.indexOf(line);
    if (i < 0) continue;
    context.splice(i, 1);
    if (at < 0 || i < at) at = i;
  }
  context.splice(at < 0 ? context.length : at, 0, ...lines[k - 1]!);
  return { ...reply, table: { ...tb, rows: tb.rows.slice(0, k), pageLines: lines.slice(0, k) }, ...(context.length ? { context } : {}) };
}

/**
 * A reply rendered by `render` (one platform's messages, and how many of the table's rows they
 * show): a page of a list too long for them is rendered again as the page of the rows they hold
 * ({@link firstRows}), until it fits, so its next page's command goes on right after its last row.
 */
export function renderFitting<M>(reply: Reply, render: (r: Reply) => { msg: M; shown: number }): M {
  for (let r = reply; ; ) {
    const { msg, shown } = render(r);
    const shorter = firstRows(r, shown);
    if (!shorter) return msg;
    r = shorter;
  }
}

/** Where a page's next page starts: page `page` of pages of `limit` rows, or at row `from` (1 the first), `limit` rows long. */
export type PageAt = { limit: number; page: number } | { limit: number; from: number };

/**
 * Where a list goes on when a page of `limit` rows after `passed` rows (holding `rows`) ends
 * after `shown` of them: right after the last row shown, always. The next page by `page=` where
 * the rows before it are whole pages of `limit` (or, the first page cut short, of the rows shown:
 * `limit=<shown> page=2`), else by `from=` that row, the page size kept (page 2 of 97 cut to 30:
 * `limit=97 from=128`).
 */
export function pageAfter(passed: number, limit: number, rows: number, shown: number): PageAt {
  const next = passed + Math.min(rows, shown);
  if (next % limit === 0) return { limit, page: next / limit + 1 };
  if (passed === 0 && shown < rows) return { limit: shown, page: 2 };
  return { limit, from: next + 1 };
}

/** The words a next-page command ends with: `limit=` (unless it is the command's default) and `page=` or `from=`. */
export function pageWords(at: PageAt, defaultLimit: number): string[] {
  return [...(at.limit !== defaultLimit ? [`limit=${at.limit}`] : []), "page" in at ? `page=${at.page}` : `from=${at.from}`];
}

/** Maximum length of an action id (Discord custom_id). */
export const MAX_ACTION_ID = 100;

/** True when a reply is shown to the caller only: ephemeral ones and errors. */
export function isPrivate(r: Reply): boolean {
  return r.visibility === "ephemeral" || r.status === "error";
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * `s` cut to at most `n` UTF-16 units, the last one "…" when it was cut. Never cuts an emoji
 * (a surrogate pair) in half: Discord refuses a whole message holding half of one.
 */
export function clip(s: string, n: number): string {
  if (s.length <= n) return s;
  let end = Math.max(0, n - 1);
  if (end > 0 && isHighSurrogate(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end) + "…";
}

/** `s` cut to its last `n` UTF-16 units, the first one "…" when it was cut (pairs kept whole). */
export function clipStart(s: string, n: number): string {
  if (s.length <= n) return s;
  let start = s.length - Math.max(0, n - 1);
  if (start < s.length && isLowSurrogate(s.charCodeAt(start))) start++;
  return "…" + s.slice(start);
}

/**
 * The line that stands for `count` entries or rows left out. Language-neutral ("… +12"): the
 * adapters that draw it have no translator for it (yet).
 */
export function moreMarker(count: number): string {
  return `… +${count}`;
}

/**
 * A log (one entry a line, oldest first) cut to at most `n` UTF-16 units by dropping whole
 * entries from the start, a {@link moreMarker} line first saying how many. When the newest
 * entry alone is too long, its start is kept (when and who come first).
 */
export function clipOldest(s: string, n: number): string {
  if (s.length <= n) return s;
  const lines = s.split("\n");
  if (lines.length === 1) return clip(s, n);
  let rest = s.length; // length of lines k.. joined
  for (let k = 1; k < lines.length; k++) {
    rest -= lines[k - 1]!.length + 1;
    const marker = moreMarker(k);
    if (marker.length + 1 + rest <= n) return marker + "\n" + lines.slice(k).join("\n");
  }
  return clip(moreMarker(lines.length - 1) + "\n" + lines[lines.length - 1]!, n);
}

/** A field value cut to `n` UTF-16 units: from the start for logs ({@link ReplyField.newestLast}), else from the end. */
export function clipValue(value: string, n: number, newestLast = false): string {
  return newestLast ? clipOldest(value, n) : clip(value, n);
}

/**
 * `s` with every run of backticks broken by zero-width spaces: a cell holding "```" can then
 * not close the code block a table is drawn in (on Slack and Discord alike).
 */
export function breakBacktickRuns(s: string): string {
  return s.replace(/`(?=`)/g, "`\u200b");
}

/** A table's header and cells with {@link breakBacktickRuns}, for drawing inside a code fence. */
export function fencedCells(tb: Pick<ReplyTable, "columns" | "rows">): { columns: string[]; rows: string[][] } {
  return { columns: tb.columns.map(breakBacktickRuns), rows: tb.rows.map((r) => r.map(breakBacktickRuns)) };
}

/**
 * True when a button's command line is about the same thing as the pressed one: the same line,
 * or the same object (`SKU-1`, `R-…`, `C-…`: the third word, as `stock snooze SKU-1 24h` and
 * `stock po SKU-1 eta=…`). After a press, Slack removes and Discord disables such buttons.
 */
export function aboutSameSubject(line: string, pressed: string): boolean {
  const subject = pressed.split(/\s+/)[2];
  return line === pressed || (subject !== undefined && line.split(/\s+/)[2] === subject);
}
