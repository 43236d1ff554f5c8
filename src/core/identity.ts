import os from "node:os";

/** Platforms an invocation can come from. */
export type Platform = "shell" | "slack" | "discord" | "http" | "system";

/** A parsed platform identity: the user's id (or shell name) and, on Slack, the team. */
export interface ParsedIdentity {
  platform: Platform;
  user: string;
  team?: string;
}

/**
 * Parses a platform identity: `shell:<name>`, `slack:<team>:<user>` or
 * `discord:<user>`. Returns null when the string is not one.
 */
export function parseIdentity(s: string): ParsedIdentity | null {
  let m = /^shell:([A-Za-z0-9._-]{1,64})$/.exec(s);
  if (m) return { platform: "shell", user: m[1]! };
  m = /^slack:([A-Z0-9]{2,20}):([A-Z0-9]{2,20})$/.exec(s);
  if (m) return { platform: "slack", team: m[1]!, user: m[2]! };
  m = /^discord:(\d{5,25})$/.exec(s);
  if (m) return { platform: "discord", user: m[1]! };
  return null;
}

/**
 * A Slack mention as Slack writes a person in a command's text (`<@U123ABC>`, `<@U123ABC|bob>`:
 * a name after the bar), bare or after `slack:`; group 1 is the user. It names no workspace.
 */
export const SLACK_MENTION = /^(?:slack:)?<@([A-Z][A-Z0-9]{1,19})(?:\|[^>]*)?>$/i;

/** A Discord mention as Discord writes a person in text (`<@123…>`, `<@!123…>`), bare or after `discord:`; group 1 is the user id. */
export const DISCORD_MENTION = /^(?:discord:)?<@!?(\d{5,25})>$/i;

/** The identity whose command's arguments are being read ({@link readingFor}), if any. */
let reader: string | undefined;

/**
 * Runs `read` (a synchronous reading of a command's arguments) for the identity invoking the
 * command: a Slack mention pasted as an identity is then read in the caller's workspace
 * ({@link canonicalIdentity}), as Slack shows it to them.
 */
export function readingFor<T>(identity: string, read: () => T): T {
  const before = reader;
  reader = identity;
  try {
    return read();
  } finally {
    reader = before;
  }
}

/**
 * An identity as typed, in the form it is stored: the platform in any case (`Slack:`, `SHELL:`),
 * a Slack team and user in upper case as Slack writes them (`slack:t1:u2` is slack:T1:U2), a
 * Discord mention (`<@123…>`, `<@!123…>`: {@link DISCORD_MENTION}), bare or after `discord:`, as
 * `discord:<its id>` wherever it is typed (a Discord id names one user everywhere). A Slack mention
 * (`<@U123ABC>`, `<@U123ABC|bob>`: {@link SLACK_MENTION}) is the user in the workspace of `caller`
 * when that is a Slack identity (by default whoever's command is being read: {@link readingFor}),
 * `slack:<caller's team>:U123ABC`; elsewhere it is returned unchanged (it names no workspace). A
 * shell name keeps its case (shell:Bob and shell:bob are two people). Anything else is returned
 * unchanged.
 */
export function canonicalIdentity(s: string, caller = reader): string {
  // A Discord mention names its user everywhere (Discord ids are global): discord:<id>, as after `discord:`.
  const discord = DISCORD_MENTION.exec(s);
  if (discord) return `discord:${discord[1]!}`;
  const mention = SLACK_MENTION.exec(s);
  if (mention) {
    const from = caller === undefined ? null : parseIdentity(caller);
    return from?.platform === "slack" ? `slack:${from.team}:${mention[1]!.toUpperCase()}` : s;
  }
  const m = /^(shell|slack|discord):(.*)$/i.exec(s);
  if (!m) return s;
  const platform = m[1]!.toLowerCase();
  const rest = platform === "slack" ? m[2]!.toUpperCase() : platform === "discord" ? (/^<@!?(\d+)>$/.exec(m[2]!)?.[1] ?? m[2]!) : m[2]!;
  return `${platform}:${rest}`;
}

/** The identity of the local shell user (`shell:<OS user name>`). */
export function shellIdentity(): string {
  const name = os.userInfo().username.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "user";
  return `shell:${name}`;
}
