import type { z } from "zod";
import type { Config } from "../config.js";
import type { Services } from "../services/services.js";
import type { UserError } from "./errors.js";
import type { Formatter } from "./format.js";
import type { Platform } from "./identity.js";
import type { Logger } from "./logger.js";
import type { Locale, MessageKey, Translate } from "./messages.js";
import type { Reply } from "./reply.js";
import type { Role } from "./roles.js";

/** Who is running a command. */
export interface Actor {
  /** Platform identity, e.g. `shell:alice` or `slack:T1:U2`. */
  identity: string;
  platform: Platform;
  role: Role;
  displayName?: string;
}

/** What a handler receives. */
export interface CommandContext<A> {
  args: A;
  actor: Actor;
  /** The person really typing, when acting as `actor` (the shell's `--as`): four-eyes rules count them too. */
  via?: string;
  services: Services;
  t: Translate;
  fmt: Formatter;
  locale: Locale;
  /** The invocation's time, from the core's clock. */
  now: Date;
  /** Reference id of this invocation (audit id, shown with errors). */
  ref: string;
  /** Commands the core knows (for `help`). */
  commands: readonly Command[];
  config: Config;
  logger: Logger;
  /**
   * Names the record this invocation is about, as stored (the id of a complaint it created, or
   * of one typed as `7k2m9q`), for its audit entry: `audit subject=C-7K2M9Q` finds every change
   * to it, whoever typed it however.
   */
  subject(id: string | readonly string[]): void;
}

/**
 * Text a command shows its reader (its usage, an example): one string for every language, or
 * English with its Simplified Chinese, chosen by the reader's locale where it is shown. In the
 * Chinese, command names, option names (`reason=`), ids and SKUs stay as typed; only the words
 * (`reason="客户改主意了"`, `<原因>`) change.
 */
export type LocalText = string | { readonly en: string; readonly zh: string };

/** The {@link LocalText} for a reader in `locale`. */
export function localText(text: LocalText, locale: Locale): string {
  return typeof text === "string" ? text : locale === "zh-CN" ? text.zh : text.en;
}

/** The argument schema of a command: a zod object whose keys are argument names. */
export type ArgsSchema = z.ZodObject<z.ZodRawShape>;

/**
 * A command: one file in commands/ exporting one of these as default.
 * Help, the Slack manifest and Discord's registration are generated from it.
 */
export interface Command<S extends ArgsSchema = ArgsSchema> {
  /** One or two lower-case words: `stock`, `stock adjust`, `role grant`. */
  name: string;
  /** Catalog key of the one-line description. */
  description: MessageKey;
  /** Argument names taken from positional words, in order; `...name` takes the rest of the line. */
  positional?: readonly string[];
  /** Arguments: positional names and `key=value` options; booleans are `--flags`. */
  args: S;
  /**
   * Other names people type for its options (`user=` for audit's `actor=`), by the option meant:
   * the names as parsed (lower case) and the catalog key of what the option is (`who did it`).
   * One typed is refused, naming the option meant, with the line retyped with it; never taken
   * for it (nothing is guessed).
   */
  optionSynonyms?: Readonly<Record<string, { readonly typed: readonly string[]; readonly means: MessageKey }>>;
  /**
   * Values a positional argument takes typed as two words, by the argument (`refund request`'s
   * amount `全额 退款`): the two words typed where it goes are bound to it as one value, as written
   * here (any case or width); else the second is an extra argument as usual.
   */
  phrases?: Readonly<Record<string, readonly string[]>>;
  /** Overrides the generated usage line (after the command name); see {@link LocalText}. */
  usage?: LocalText;
  /**
   * Full example command lines, each starting with the command name; see {@link LocalText}. The
   * first is shown with an argument error; Discord's option hints are read from them.
   */
  examples: readonly LocalText[];
  /** Least role allowed to run it. */
  permission: Role;
  /** When the least role depends on configuration (`digest`: staff with DIGEST_STAFF, else manager): it, given the config. */
  permissionFor?: (config: Config) => Role;
  /**
   * Actions that need more than {@link permission}, by the word its first positional argument is
   * typed as (`refund policy set`: admin, where `refund policy` alone is for staff). The core
   * checks it with the command's own role, before the arguments are read, and a refusal names
   * the action (`refund policy set` needs the admin role).
   */
  actions?: Readonly<Record<string, Role>>;
  /** True when it changes state: such invocations are always audited. */
  mutates: boolean;
  /**
   * For a command that mutates only with some arguments (`refund policy` reads, `refund policy
   * set` changes): true when these arguments only read, so the invocation is not audited. A
   * refusal before the arguments are read is audited still.
   */
  readsOnly?: (args: z.output<S>) => boolean;
  /**
   * The record the command is about, named from its arguments as typed (an order number, a
   * complaint or refund request id, a SKU): the argument's name, and its stored spelling from the
   * typed value (full-width characters already made plain, trimmed). The audit entry of an
   * invocation refused before its handler ran (a denial, an argument error, a line that cannot be
   * read) names it, so `audit subject=…` finds refused attempts too; a handler that ran names its
   * subject itself ({@link CommandContext.subject}).
   */
  typedSubject?: { readonly arg: string; readonly spelling: (typed: string) => string };
  /**
   * The argument an invocation's attached text fills (`Invocation.attachedText` in core.ts: a chat
   * message filed as a complaint, carried beside the command line so its line breaks and length
   * survive), and the schema it is read by then (its own limit) instead of the argument's own. A
   * command without it refuses attached text.
   */
  attachedText?: { readonly arg: string; readonly schema: z.ZodType };
  /**
   * When the arguments are refused: a clearer refusal for the words typed, if the command reads
   * them better (`order ship ORD 100001 …`: an order number split by a space), with the record it
   * is about for the audit entry; null keeps the core's ("unexpected extra argument"). The core
   * gives the caller too (`actor`), for a refusal that depends on whose record it is.
   */
  explainArgs?(typed: { words: readonly string[]; named: Readonly<Record<string, string>> }, services: Services, t: Translate, actor?: Actor): Promise<{ error: UserError; subject?: string } | null>;
  /**
   * A line the core adds to its refusal for the caller's role, after its own (`coupon confirm`:
   * nothing was launched, and who can confirm), given `{required}`: the least role's name.
   */
  deniedNote?: MessageKey;
  handler(ctx: CommandContext<z.output<S>>): Promise<HandlerReply>;
}

/**
 * What a handler returns: a reply, which a refusal because of the caller's role or identity (an
 * amount above their approval limit, approving their own request) marks `denied`: the core
 * audits it `denied` with its own code, as it does its own permission check. `auditDetail` is
 * what the typed arguments do not say about the change (a route's channel before and after:
 * `C0OLD → C0NEW`): the audit entry records it after them, in parentheses.
 */
export type HandlerReply = Reply & { denied?: boolean; auditDetail?: string };

/** The least role allowed to run `cmd` under `config`: what the core checks, `help` shows and a refusal names. */
export function requiredRole(cmd: Pick<Command, "permission" | "permissionFor">, config: Config): Role {
  return cmd.permissionFor?.(config) ?? cmd.permission;
}

/** Declares a command with its argument types inferred from the schema. */
export function defineCommand<S extends ArgsSchema>(command: Command<S>): Command<S> {
  return command;
}
