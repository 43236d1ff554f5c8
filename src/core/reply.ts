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
}

/** A small table: adapters render it monospace. */
export interface ReplyTable {
  columns: string[];
  rows: string[][];
  /** Columns to right-align (numbers). */
  alignRight?: number[];
}

/** A platform-neutral reply. Adapters render it as Block Kit, embeds or plain text. */
export interface Reply {
  title?: string;
  text?: string;
  fields?: ReplyField[];
  table?: ReplyTable;
  status?: ReplyStatus;
  actions?: ReplyAction[];
  image?: { filename: string; data: Uint8Array; alt: string };
  /** Small print under the body (footers, notes). */
  context?: string[];
  /** Stable code of an expected failure (status "error"), e.g. "insufficient_stock". */
  code?: string;
  /** Ephemeral replies are shown to the caller only. */
  visibility: "ephemeral" | "public";
}

/** Maximum length of an action id (Discord custom_id). */
export const MAX_ACTION_ID = 100;

/** True when a reply is shown to the caller only: ephemeral ones and errors. */
export function isPrivate(r: Reply): boolean {
  return r.visibility === "ephemeral" || r.status === "error";
}

/** `s` cut to at most `n` characters, the last one "…" when it was cut. */
export function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}
