/** Platforms an invocation can come from. */
export type Platform = "shell" | "slack" | "discord" | "http" | "system";

/**
 * Parses a platform identity: `shell:<name>`, `slack:<team>:<user>` or
 * `discord:<user>`. Returns null when the string is not one.
 */
export function parseIdentity(s: string): { platform: Platform; id: string } | null {
  const m =
    /^shell:([A-Za-z0-9._-]{1,64})$/.exec(s) ??
    /^slack:([A-Z0-9]{2,20}):([A-Z0-9]{2,20})$/.exec(s) ??
    /^discord:(\d{5,25})$/.exec(s);
  if (!m) return null;
  const platform = s.slice(0, s.indexOf(":")) as Platform;
  return { platform, id: s };
}

/** The usage hint shown when an identity does not parse. */
export const IDENTITY_FORMS = "shell:<name>, slack:<TEAM>:<USER> or discord:<user id>";
