import { z } from "zod";
import { RateLimiter } from "./rate-limit.js";
import type { Config } from "../config.js";
import type { Services } from "../services/services.js";
import type { Clock } from "./clock.js";
import { chineseOptionKey, renameChineseKeys } from "./args.js";
import { localText, requiredRole, type Actor, type Command } from "./command.js";
import { UserError } from "./errors.js";
import { Formatter } from "./format.js";
import { readingFor, type Platform } from "./identity.js";
import { shortId } from "./ids.js";
import { scrubText, type Logger } from "./logger.js";
import { isMessageKey, translator, type Locale, type Translate } from "./messages.js";
import { camel, kebab, parseLine, quote, renameOptions, restAsTyped, UnclosedQuote, type ParsedArgs } from "./parser.js";
import { argName, CHINESE_COMMAND_WORDS, isFlagArg, isOptionalArg, placeholderName, usageOf } from "./registry.js";
import { clip, type Reply } from "./reply.js";
import { roleAtLeast, type Role } from "./roles.js";
import { CONTROL_CHARS, editDistance, withoutControls, withoutInvisible } from "./text.js";

/** One normalized request from any adapter. */
export interface Invocation {
  identity: string;
  platform: Platform;
  /** The command line, e.g. `stock adjust SKU-1001 -2 reason="damaged"`. */
  text: string;
  displayName?: string;
  locale?: Locale;
  /**
   * A role the platform vouches for (Discord guild roles mapped by DISCORD_ROLE_MAP).
   * The core grants the higher of this and the identity's stored role; adapters never decide.
   */
  platformRole?: Role;
  /** Who really typed it, when acting as `identity` (the shell's `--as`): recorded in the audit trail. */
  via?: string;
  /**
   * Free text carried beside the command line, exactly as written (line breaks, spacing, any
   * length up to the command's limit): a chat message filed as a complaint. It fills the argument
   * the command names for it ({@link Command.attachedText}) instead of words typed; the audit
   * entry shows it abbreviated after the line's arguments.
   */
  attachedText?: string;
}

/** What happened: the reply to render, and the outcome for exit codes and audit. */
export interface InvocationResult {
  reply: Reply;
  outcome: "ok" | "user_error" | "denied" | "error";
  code?: string;
  ref: string;
  /** The command that ran, if one was resolved. */
  command?: string;
}

/** Dependencies of the core. */
export interface CoreDeps {
  commands: readonly Command[];
  services: Services;
  config: Config;
  clock: Clock;
  logger: Logger;
}


/**
 * The command core: parses a line, finds the command, checks the caller's
 * role, validates arguments, runs the handler, and audits state changes.
 * Adapters only translate platform events into {@link Invocation}s.
 */
export class Core {
  private readonly byName = new Map<string, Command>();
  private readonly sorted: readonly Command[];

  /** Commands per person from chat (CHAT_RATE_*): a flood is refused before it reaches the database or the audit trail. */
  private readonly chatLimiter: RateLimiter;

  constructor(private readonly deps: CoreDeps) {
    this.chatLimiter = new RateLimiter(deps.config.chatRate.perMin / 60, deps.config.chatRate.burst);
    for (const c of deps.commands) this.byName.set(c.name, c);
    this.sorted = [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Commands in name order. */
  get commands(): readonly Command[] {
    return this.sorted;
  }

  /** Runs one invocation. Never throws: every failure becomes a reply. */
  async invoke(inv: Invocation): Promise<InvocationResult> {
    const { config, clock, logger, services } = this.deps;
    // 50 bits, short enough to read out: chat is low-volume, and a collision is stored beside
    // the earlier entry (AuditService.add), not lost.
    const ref = shortId(10);
    const now = clock.now();
    const locale = inv.locale ?? config.locale;
    const t = translator(locale);
    const fmt = new Formatter(locale, config.timeZone, config.currency);
    let cmd: Command | undefined;
    let argText = "";
    let actor: Actor = { identity: inv.identity, platform: inv.platform, role: "viewer", ...(inv.displayName ? { displayName: inv.displayName } : {}) };

    let bound: Record<string, unknown> | undefined;
    let typoOf: string | undefined;
    // "Did you mean `stock adjust`?" after a failure's message, when the first argument is close to a subcommand's name.
    const withTypoHint = (message: string): string => {
      const sub = cmd && typoOf !== undefined ? this.closeSubcommand(cmd.name, typoOf, 1) : null;
      return sub ? `${message}\n${t("error.did_you_mean", { suggestion: `${cmd!.name} ${sub}` })}` : message;
    };
    let subject: string | readonly string[] | undefined;
    // The arguments as typed (positional words after the command's name, and options), for the
    // subject of a refusal that named none.
    let typed: { words: readonly string[]; named: Readonly<Record<string, string>> } | undefined;
    const finish = async (result: Omit<InvocationResult, "ref" | "command">, message?: string): Promise<InvocationResult> => {
      // A change, tried or made; and any refusal for who the caller is, reads too (least
      // privilege: an auditor sees who tried to read what they may not). Not a read that ran.
      if (cmd && ((cmd.mutates && !(bound && cmd.readsOnly?.(bound))) || result.outcome === "denied")) {
        // The subject the handler named; else, for any refusal (before the handler ran, or one
        // it answered without naming a record: a missing note, an assignee who is not support),
        // the record typed, so `audit subject=…` finds refused attempts too.
        const about = subject ?? (result.outcome === "ok" ? undefined : typedSubjectOf(cmd, typed));
        try {
          await services.audit.add({
            ref,
            at: now,
            actor: actor.identity,
            platform: actor.platform,
            command: cmd.name,
            // Clipped to the longest line read, control characters shown as escapes (a refused line may hold either).
            args: clip(visibleControls(argText), config.maxInputLength),
            outcome: result.outcome,
            ...(result.code ? { code: result.code } : {}),
            ...(message ? { message: message.slice(0, 500) } : {}),
            ...(inv.via ? { via: inv.via } : {}),
            ...(about ? { subject: about } : {}),
          });
        } catch (e) {
          logger.error("audit write failed", { ref, error: e });
        }
      }
      return { ...result, ref, ...(cmd ? { command: cmd.name } : {}) };
    };

    try {
      if (inv.platform !== "shell") {
        const wait = this.chatLimiter.take(inv.identity);
        if (wait > 0) throw new UserError("rate_limited", t("error.rate_limited", { seconds: wait }));
      }
      const text = inv.text.trim();
      // A line that cannot be read (too long, control characters, a quote left open) is still an
      // attempt at the command its first words name: that command is found from the words split
      // on spaces alone, so a refused change is on the audit trail like any other.
      const unreadable = (e: UserError): UserError => {
        const words = text.split(/\s+/);
        const named = this.resolve(words.slice(0, 2));
        if (named) {
          cmd = named.cmd;
          argText = words.slice(named.consumed).join(" ");
          typed = plainSplit(words.slice(named.consumed));
        }
        return e;
      };
      if (text.length > config.maxInputLength) throw unreadable(new UserError("input_too_long", t("error.too_long", { length: text.length, max: config.maxInputLength })));
      if (CONTROL_CHARS.test(text)) throw unreadable(new UserError("control_chars", t("error.control_chars")));
      if (text === "") throw new UserError("empty", t("error.empty"));
      let parsed: ParsedArgs;
      try {
        parsed = parseLine(text);
      } catch (e) {
        // Its example is the line typed, closed (`reason="box damaged"`, `"parcel is late"`).
        if (e instanceof UnclosedQuote) throw unreadable(new UserError("unclosed_quote", t("error.unclosed_quote", { quote: e.quote, example: e.fixed, key: e.prefix })));
        throw e;
      }
      const resolved = this.resolve(parsed.positional);
      if (!resolved) throw this.unknownCommand(parsed.positional[0] ?? text.split(/\s+/)[0] ?? "", parsed.positional[1], t);
      cmd = resolved.cmd;
      // Option keys as the command spells them, whatever the case typed (`orderNo=`, `ORDER=`).
      parsed = withSchemaKeys(parsed, Object.keys(cmd.args.shape));
      // `stock adjst SKU-1 +1 …` runs `stock` (a search for "adjst"): if it fails, the
      // subcommand the first argument was probably meant to be is suggested with the error.
      if (resolved.consumed === 1) typoOf = parsed.positional[1];
      argText = text.split(/\s+/).slice(resolved.consumed).join(" ");
      // Attached text is someone else's message filed as it is (a customer's, from a reaction):
      // its control characters (escape codes, NUL, bidi overrides that would reverse a card's
      // text) are dropped rather than refused, line breaks (CRLF as \n) and tabs kept.
      const attached = inv.attachedText === undefined ? undefined : withoutControls(inv.attachedText);
      // Attached text, abbreviated on one line: the entry reads as the command with its text.
      if (attached !== undefined) argText = `${argText} ${quote(clip(attached.replace(/\s+/g, " ").trim(), ATTACHED_IN_AUDIT))}`.trim();
      typed = { words: parsed.positional.slice(resolved.consumed), named: parsed.named };
      actor = { ...actor, role: await this.roleOf(inv) };
      // An action needing more than the command (`refund policy set`) is checked here too, named as typed.
      const action = actionOf(cmd, typed);
      const required = action && roleAtLeast(action.role, requiredRole(cmd, config)) ? action.role : requiredRole(cmd, config);
      if (!roleAtLeast(actor.role, required)) {
        const msg =
          t("error.permission", { command: action ? `${cmd.name} ${action.word}` : cmd.name, required: t(`role.name.${required}`), role: t(`role.name.${actor.role}`) }) +
          (cmd.deniedNote ? `\n${t(cmd.deniedNote, { required: t(`role.name.${required}`) })}` : "");
        return await finish({ reply: { status: "error", text: msg, code: "permission_denied", visibility: "ephemeral" }, outcome: "denied", code: "permission_denied" }, msg);
      }
      let args: Record<string, unknown>;
      try {
        // Read for the caller: a Slack mention typed as an identity is one of their workspace.
        args = readingFor(inv.identity, () => this.bindArgs(cmd!, parsed, resolved.consumed, t, locale, inv.platform, text, attached));
      } catch (e) {
        // The command's own reading of the words refused (an order number split by a space), if it has one.
        const better = e instanceof UserError && cmd.explainArgs ? await cmd.explainArgs(typed, services, t, actor) : null;
        if (better?.subject) subject = better.subject;
        throw better?.error ?? e;
      }
      bound = args;
      const { denied, auditDetail, ...reply } = await cmd.handler({
        args,
        actor,
        ...(inv.via ? { via: inv.via } : {}),
        services,
        t,
        fmt,
        locale,
        now,
        ref,
        commands: this.commands,
        config,
        logger: logger.child({ ref, command: cmd.name }),
        subject: (id) => {
          subject = id;
        },
      });
      if (auditDetail) argText = `${argText} (${auditDetail})`;
      const failed = reply.status === "error";
      // A handler's own role check (one action of a command needing more, an amount above the
      // caller's approval limit) is a denial too, under its own code.
      const outcome = !failed ? "ok" : reply.code === "permission_denied" || denied ? "denied" : "user_error";
      const shown = outcome === "user_error" && reply.text ? { ...reply, text: withTypoHint(reply.text) } : reply;
      return await finish(
        { reply: shown, outcome, ...(reply.code ? { code: reply.code } : {}) },
        failed ? reply.text : undefined,
      );
    } catch (e) {
      if (e instanceof UserError) {
        const fields = [
          ...(e.details?.usage ? [{ label: t("label.usage"), value: "`" + e.details.usage + "`" }] : []),
          ...(e.details?.example ? [{ label: t("label.example"), value: "`" + e.details.example + "`" }] : []),
        ];
        const reply: Reply = { status: "error", text: withTypoHint(e.message), code: e.code, visibility: "ephemeral", ...(fields.length ? { fields } : {}) };
        return finish({ reply, outcome: "user_error", code: e.code }, e.message);
      }
      logger.error("command failed", { ref, command: cmd?.name, actor: actor.identity, error: e });
      const reply: Reply = { status: "error", text: t("error.generic", { ref }), code: "internal", visibility: "ephemeral" };
      return finish({ reply, outcome: "error", code: "internal" }, (e as Error)?.message);
    }
  }

  /** The role an invocation acts with: the stored one, or a higher one its platform vouches for. */
  private async roleOf(inv: Pick<Invocation, "identity" | "platformRole">): Promise<Role> {
    const stored = await this.deps.services.identity.roleOf(inv.identity);
    return inv.platformRole && roleAtLeast(inv.platformRole, stored) ? inv.platformRole : stored;
  }

  /**
   * True when the caller may run the command `name` (the core's permission check, for what an
   * adapter shows before a command runs, such as Discord's autocomplete suggestions).
   */
  async mayRun(inv: Pick<Invocation, "identity" | "platformRole">, name: string): Promise<boolean> {
    const cmd = this.byName.get(name);
    if (!cmd) return false;
    // The role is the higher of the platform's and the stored one: when the platform's suffices
    // (or anyone may run it), no read is needed (Discord asks on every keystroke).
    const required = requiredRole(cmd, this.deps.config);
    if (required === "viewer" || (inv.platformRole && roleAtLeast(inv.platformRole, required))) return true;
    return roleAtLeast(await this.roleOf(inv), required);
  }

  /** Finds the longest command name matching the first words. */
  resolve(words: readonly string[]): { cmd: Command; consumed: number } | null {
    // Typed on a Chinese keyboard in full-width (`ｓｔｏｃｋ`, `ＨＥＬＰ`): the same command.
    const two = commandWord(words.slice(0, 2).join(" "));
    const one = commandWord(words[0] ?? "");
    const c2 = words.length >= 2 ? this.byName.get(two) : undefined;
    if (c2) return { cmd: c2, consumed: 2 };
    const c1 = this.byName.get(one);
    return c1 ? { cmd: c1, consumed: 1 } : null;
  }

  /** The subcommands of a group (`refund` → approve, list, …): the second words of its commands' names. */
  private subcommandsOf(group: string): string[] {
    const prefix = group.toLowerCase() + " ";
    return this.sorted.filter((c) => c.name.startsWith(prefix)).map((c) => c.name.slice(prefix.length));
  }

  /**
   * The subcommand of `group` closest to `word` (a typo: `aprove` → `approve`), or null when
   * none is within `min` edits (more for longer words) or `word` is one already.
   */
  private closeSubcommand(group: string, word: string, min: number): string | null {
    const subs = this.subcommandsOf(group);
    const lower = commandWord(word);
    if (subs.includes(lower)) return null;
    const best = closest(lower, subs);
    return best && best.d <= Math.max(min, Math.floor(lower.length / 3)) ? best.c : null;
  }

  /**
   * The error for a line naming no command. A group's first word with a mistyped second
   * (`refund aprove`) suggests the group's command (`refund approve`), or lists the group's
   * subcommands; another word suggests the nearest command, never the text typed.
   */
  private unknownCommand(typedName: string, typedSecond: string | undefined, t: Translate): UserError {
    const name = typedName.normalize("NFKC");
    const second = typedSecond?.normalize("NFKC");
    const lower = commandWord(name);
    // A pasted API key is never echoed, not even cut (the audit trail and the logs redact it too).
    const clipped = (s: string) => { const v = scrubText(s); return v.length > 40 ? v.slice(0, 40) + "…" : v; };
    const fail = (shown: string, suggestion: string | null, extra?: string) =>
      new UserError(
        "unknown_command",
        (suggestion ? t("error.unknown_command.suggest", { name: clipped(shown), suggestion }) : t("error.unknown_command", { name: clipped(shown) })) +
          t("text.sentence_sep") +
          (extra ?? t("error.unknown_command.hint")),
        suggestion ? { suggestions: [suggestion] } : undefined,
      );
    const subs = this.subcommandsOf(lower);
    if (subs.length) {
      // A group without a bare form (`refund`), alone or with a second word that is no subcommand.
      const typed = second === undefined ? name : `${name} ${second}`;
      const sub = second === undefined ? null : this.closeSubcommand(lower, second, 2);
      if (sub) return fail(typed, `${lower} ${sub}`);
      return fail(typed, null, t("error.unknown_command.subcommands", { group: lower, subcommands: subs.join(t("text.list_sep")) }));
    }
    const candidates = new Set<string>();
    for (const c of this.byName.keys()) {
      candidates.add(c);
      candidates.add(c.split(" ")[0]!);
    }
    candidates.delete(lower);
    // A Chinese word for a group (`退款`: `refund`), else the closest name.
    const word = CHINESE_COMMAND_WORDS[lower];
    const best = word && (this.byName.has(word) || this.subcommandsOf(word).length) ? { c: word, d: 0 } : closest(lower, [...candidates]);
    if (!best || best.d > Math.max(2, Math.floor(lower.length / 3))) return fail(name, null);
    // `refnd aprove`, `stok low`: the group's command, when the second word is (close to) one of its subcommands.
    const groupSubs = this.subcommandsOf(best.c);
    const sub = second === undefined || !groupSubs.length ? null : groupSubs.includes(commandWord(second)) ? commandWord(second) : this.closeSubcommand(best.c, second, 2);
    if (sub) return fail(`${name} ${second}`, `${best.c} ${sub}`);
    // A group that does not run alone (`refund`): its subcommands too, as typing it would answer.
    return fail(name, best.c, groupSubs.length && !this.byName.has(best.c) ? t("error.unknown_command.subcommands", { group: best.c, subcommands: groupSubs.join(t("text.list_sep")) }) : undefined);
  }

  /**
   * Maps parsed words onto the command's schema and validates them. On `platform` Discord an
   * argument's problem is labelled by the option its members fill (`set`), not `set=` or `<delta>`.
   */
  private bindArgs(cmd: Command, parsed: ParsedArgs, consumed: number, t: Translate, locale: Locale, platform: Platform, line: string, attached?: string): Record<string, unknown> {
    const shape = cmd.args.shape as Record<string, z.ZodType>;
    const problems: string[] = [];
    const obj: Record<string, unknown> = {};
    const words = parsed.positional.slice(consumed);
    const names = cmd.positional ?? [];
    const info = parsed.words?.slice(consumed);
    let i = 0;
    // Where the rest of the line (free text, a search) begins, if it took any words.
    let restFrom = -1;
    for (const n of names) {
      if (i >= words.length) break;
      if (n.startsWith("...")) {
        // Free text, the argument a chat message may fill (a complaint), as typed: quotes typed in
        // it (`Customer's`, `the "free shipping" banner`) stay. Other words (a search, a command's
        // name: `stock "wireless" mouse`, `help "stock" adjust`) without the quotes that group them.
        const name = n.slice(3);
        obj[name] = cmd.attachedText?.arg === name ? restAsTyped(parsed, consumed + i) : words.slice(i).join(" ");
        restFrom = i;
        i = words.length;
      } else if (i + 1 < words.length && cmd.phrases?.[n]?.includes(`${words[i]} ${words[i + 1]}`.normalize("NFKC").toLowerCase())) {
        // A value the command takes typed as two words (`全额 退款`), as it lists it.
        obj[n] = `${words[i]} ${words[i + 1]}`.normalize("NFKC").toLowerCase();
        i += 2;
      } else obj[n] = words[i++];
    }
    const positionalNames = names.map(argName);
    const known = Object.keys(shape).filter((k) => !positionalNames.includes(k));
    // `severity：紧急`, `order:ORD-1`: one of this command's options typed with a colon is refused,
    // saying to write it with =, rather than filed as text (or read as an option) silently.
    const colonAt = new Set<number>();
    // The list of known options is only written when an option is refused.
    let knownCache: string | undefined;
    const knownText = () => (knownCache ??= known.length ? known.map((k) => (isFlagArg(shape[k]!) ? `--${kebab(k)}` : `${kebab(k)}=`)).join(", ") : "—");
    // Words read as nothing (extra arguments).
    const strays: number[] = [];
    // Words typed as an option named in Chinese (`原因=破损`), with the option meant.
    const zhKeys: { key: string; value: string; option: string }[] = [];
    words.forEach((w, at) => {
      const colon = info?.[at]?.colon;
      const key = colon ? schemaKey(colon.key, known) : undefined;
      if (!colon || key === undefined || isFlagArg(shape[key]!)) return;
      colonAt.add(at);
      problems.push(t("error.option_colon", { value: w, example: `${kebab(key)}=${quote(colon.value)}` }));
    });
    // `complaint new 严重程度=紧急 没收到`: in the rest of the line, a word typed as one of the
    // command's options named in Chinese is refused as below, not kept as text (a complaint filed
    // at normal severity); quoted, it is text.
    for (let at = Math.max(restFrom, 0); restFrom >= 0 && at < words.length; at++) {
      const zhKey = colonAt.has(at) || info?.[at]?.enclosed ? undefined : chineseOptionKey(words[at]!, Object.keys(shape));
      if (!zhKey?.option || positionalNames.includes(zhKey.option)) continue;
      zhKeys.push({ key: zhKey.key, value: zhKey.value, option: zhKey.option });
      problems.push(t("error.option_name_english", { key: zhKey.key, option: kebab(zhKey.option) }) + t("error.option_name_english.text"));
    }
    for (; i < words.length; i++) {
      if (colonAt.has(i)) continue;
      // `expiry=48 小时`, `stock snooze SKU-1 3 天`: a time unit typed apart from its number is
      // refused (nothing is guessed), saying how to write it, when written together it is taken.
      const joined = unitApart(words, i, positionalNames, parsed.named, shape);
      if (joined) {
        problems.push(t("error.unit_apart", { value: words[i]!, joined }));
        continue;
      }
      // `原因=破损`: an option's name in Chinese. Names are English (command.ts): refused saying so,
      // with the option meant where the command has one (even after another option's value), else
      // its options; never read as one.
      const zhKey = info?.[i]?.enclosed ? undefined : chineseOptionKey(words[i]!, Object.keys(shape));
      if (zhKey?.option) {
        zhKeys.push({ key: zhKey.key, value: zhKey.value, option: zhKey.option });
        problems.push(t("error.option_name_english", { key: zhKey.key, option: kebab(zhKey.option) }));
        continue;
      }
      // `reason=customer changed mind`: the words after an option's value, with how to quote it,
      // when the option takes the value so. A time unit alone after a number (`customer=12345 d`)
      // is no value with spaces: only an extra argument.
      const after = info?.[i]?.after;
      if (after !== undefined && parsed.named[after] !== undefined && known.includes(after)) {
        let j = i + 1;
        while (j < words.length && info?.[j]?.gap !== undefined && !colonAt.has(j)) j++;
        const extra = info!.slice(i, j).map((w, k) => (k === 0 ? "" : w.gap) + w.raw).join("");
        const value = `${parsed.named[after]} ${extra}`;
        const unitOnly = j === i + 1 && TIME_UNITS.has(withoutInvisible(words[i]!.normalize("NFKC")).trim().toLowerCase());
        if (!unitOnly && shape[after]!.safeParse(value).success) {
          problems.push(t("error.value_needs_quotes", { value: extra, example: `${kebab(after)}=${quote(value)}` }));
          i = j - 1;
          continue;
        }
      }
      if (zhKey) {
        problems.push(t("error.option_name_english.list", { key: zhKey.key, known: knownText() }));
        continue;
      }
      strays.push(i);
      problems.push(t("error.unexpected_arg", { value: words[i]! }));
    }
    for (const k of parsed.repeated ?? []) problems.push(t("error.repeated_option", { key: kebab(k) }));
    const freeText = names.some((n) => n.startsWith("...") && cmd.attachedText?.arg === n.slice(3));
    // Another name for one of its options (audit's `user=` for `actor=`): refused, naming the one meant.
    const meant = (k: string) => Object.entries(cmd.optionSynonyms ?? {}).find(([option, s]) => known.includes(option) && s.typed.includes(k));
    const synonyms: string[] = [];
    for (const [k, v] of Object.entries(parsed.named)) {
      // A positional argument may also be named (`stock query=low`: a search for "low", where
      // `stock low` is another command), unless it was given by position too.
      if (positionalNames.includes(k) && !(k in obj)) obj[k] = v;
      else if (positionalNames.includes(k)) problems.push(t("error.given_twice", { key: kebab(k) }));
      // In free text kept as typed (a complaint: `the price=wrong on my invoice`), how to keep it as text.
      else if (!known.includes(k) && meant(k)) {
        const [option, { means }] = meant(k)!;
        synonyms.push(k);
        problems.push(t("error.option_synonym", { key: kebab(k), command: cmd.name, means: t(means), option: kebab(option) }));
      } else if (!known.includes(k) && freeText) problems.push(t("error.unknown_option_text", { key: kebab(k), known: knownText(), typed: `${kebab(k)}=${v}`, command: cmd.name }));
      else if (!known.includes(k)) problems.push(t("error.unknown_option", { key: kebab(k), known: knownText() }));
      else obj[k] = v;
    }
    for (const k of Object.keys(parsed.flags)) {
      if (!known.includes(k) || !isFlagArg(shape[k]!)) problems.push(t("error.unknown_option", { key: `--${kebab(k)}`, known: knownText() }));
      else obj[k] = true;
    }
    // `refund reject R-1 customer changed mind`: the last words, and the only problem, are the value
    // of the one required option left out (reason=), which takes them: said so, with the line written right.
    const left = known.filter((k) => !(k in parsed.named) && !isFlagArg(shape[k]!) && !isOptionalArg(shape[k]!));
    const value = strays.map((at) => words[at]!).join(" ");
    if (strays.length && problems.length === strays.length && left.length === 1 && strays.at(-1) === words.length - 1 && strays.every((at, n) => at === strays[0]! + n) && shape[left[0]!]!.safeParse(value).success) {
      const option = kebab(left[0]!);
      const given = [...words.slice(0, strays[0]).map((w) => quote(w)), ...Object.entries(parsed.named).map(([k, v]) => `${kebab(k)}=${quote(v)}`), ...Object.keys(parsed.flags).map((k) => `--${kebab(k)}`)];
      problems.splice(0, problems.length, t("error.option_left_out", { value, option: `${option}=`, command: [cmd.name, ...given, `${option}=${quote(value)}`].join(" ") }));
    }
    // Attached text fills its argument, read by its own schema (a longer limit, line breaks kept).
    let schema: z.ZodType = cmd.args;
    if (attached !== undefined) {
      const spec = cmd.attachedText;
      // An adapter's mistake, never a person's: they cannot type attached text.
      if (!spec) throw new Error(`${cmd.name} takes no attached text`);
      if (obj[spec.arg] !== undefined) throw new Error(`${cmd.name}: <${spec.arg}> given both typed and attached`);
      obj[spec.arg] = attached;
      schema = cmd.args.extend({ [spec.arg]: spec.schema });
    }
    // Options typed by another name (audit's `user=`, 原因=) that the command has, each given once and
    // not otherwise: the line is read with them too, so what else it lacks is said with them.
    const renamed = [...synonyms.map((k) => meant(k)![0]), ...zhKeys.map((z) => z.option)];
    const fixed = problems.length > 0 && synonyms.length + zhKeys.length === problems.length && new Set(renamed).size === renamed.length && renamed.every((o) => !(o in parsed.named) && !(o in obj));
    const read: Record<string, unknown> = fixed ? { ...obj, ...Object.fromEntries([...synonyms.map((k) => [meant(k)![0], parsed.named[k]]), ...zhKeys.map((z) => [z.option, z.value])]) } : obj;
    if (problems.length === 0 || fixed) {
      const r = schema.safeParse(read, { error: (iss) => messageFor(iss, locale) });
      if (r.success && !fixed) return r.data as Record<string, unknown>;
      for (const iss of firstIssuePerField(r.error?.issues ?? [])) {
        const name = String(iss.path[0] ?? "");
        // Discord's option name (adapters/discord/commands.ts): every argument is an option there.
        // A positional's placeholder as the usage line names it (`<订单号>` in Chinese); `reason=` as typed.
        const label = platform === "discord" ? kebab(name).toLowerCase() : positionalNames.includes(name) ? `<${placeholderName(name, locale)}>` : `${kebab(name)}=`;
        // Not given at all: say it is missing, whatever the schema's own complaint ('"" is not a role'),
        // unless a command's own check explains it (`stock adjust`: a change or a counted level).
        const explained = iss.code === "custom" && iss.params !== undefined;
        problems.push(read[name] === undefined && !explained ? t("error.missing_arg", { name: label }) : `${label}: ${translateIssue(iss.message, t, read[name], iss.code === "custom" ? iss.params : undefined)}`);
      }
    }
    // In the reader's language (`reason=<原因>`, `reason=客户改主意了`), as `help` shows them.
    const details = { usage: usageOf(cmd, locale), ...(cmd.examples[0] ? { example: localText(cmd.examples[0], locale) } : {}) };
    // The line with the option meant for each other name, when nothing else is wrong in it and the option is given once.
    const zhRenamed = (k: string) => zhKeys.find((z) => z.key === k)?.option;
    const retyped = fixed && problems.length === renamed.length ? `\n${t("error.did_you_mean", { suggestion: renameChineseKeys(renameOptions(line, (k) => (synonyms.includes(k) ? kebab(meant(k)![0]) : undefined)), (k) => (zhRenamed(k) ? kebab(zhRenamed(k)!) : undefined)) })}` : "";
    throw new UserError("invalid_args", `${t("error.invalid_args", { command: cmd.name })}\n` + problems.map((p) => `• ${p}`).join("\n") + retyped, details);
  }
}

/** A command's name as looked up: NFKC (full-width `ｓｔｏｃｋ` is `stock`), lower case. */
function commandWord(s: string): string {
  return s.normalize("NFKC").toLowerCase();
}

/** The key of `keys` that `key` (as parsed: lower-cased camelCase) names, whatever its case (`orderno` → `orderNo`), or undefined. */
function schemaKey(key: string, keys: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  return keys.find((k) => k.toLowerCase() === lower);
}

/**
 * `parsed` with its option and flag keys spelt as the command's schema spells them (`orderNo=` typed
 * `orderNo`, `order-no` or `ORDERNO`); one given twice in two spellings counts as repeated.
 */
function withSchemaKeys(parsed: ParsedArgs, keys: readonly string[]): ParsedArgs {
  const fix = (k: string) => schemaKey(k, keys) ?? k;
  const named: Record<string, string> = {};
  const flags: Record<string, true> = {};
  const repeated = new Set((parsed.repeated ?? []).map(fix));
  for (const [k, v] of Object.entries(parsed.named)) {
    const key = fix(k);
    if (key in named) repeated.add(key);
    named[key] = v;
  }
  for (const k of Object.keys(parsed.flags)) flags[fix(k)] = true;
  const words = parsed.words?.map((w) => (w.after === undefined ? w : { ...w, after: fix(w.after) }));
  return { ...parsed, named, flags, ...(repeated.size ? { repeated: [...repeated] } : {}), ...(words ? { words } : {}) };
}

/** Characters of an invocation's attached text its audit entry shows. */
const ATTACHED_IN_AUDIT = 200;

/** Time units Chinese (and English) teams may type apart from their number (`48 小时`, `3 d`). */
const TIME_UNITS = new Set(["小时", "小時", "天", "分钟", "分鐘", "h", "d", "m"]);
/** English unit words typed apart (`2 days`, `24 hours`): the hint writes them as their letter (`2d`). */
const UNIT_WORDS: Readonly<Record<string, string>> = { day: "d", days: "d", hour: "h", hours: "h", hr: "h", hrs: "h", min: "m", mins: "m", minute: "m", minutes: "m" };

/**
 * For an extra word `words[i]` that is a bare time unit: how to write it with its number, when
 * that number is the positional argument just before it (`3天`) or an option's value
 * (`expiry=48小时`) and the argument is a duration that takes the two written together; else
 * undefined. A duration is an argument that reads time units: it takes the number in hours and
 * in days (`48h`, `48d`) but not with a letter that is no unit (`48x`). An id or free text
 * (`customer=12345 d`, `order 12345 m`, `coupon show 10 d`) takes any of them: no hint, the word
 * is an extra argument.
 */
function unitApart(words: readonly string[], i: number, positionalNames: readonly string[], named: Readonly<Record<string, string>>, shape: Record<string, z.ZodType>): string | undefined {
  const typed = withoutInvisible(words[i]!.normalize("NFKC")).trim().toLowerCase();
  const unit = UNIT_WORDS[typed] ?? typed;
  if (!TIME_UNITS.has(unit)) return undefined;
  const isNumber = (v: string) => /^\d+(\.\d+)?$/.test(withoutInvisible(v.normalize("NFKC")).trim());
  const parses = (key: string, value: string) => shape[key]?.safeParse(value).success === true;
  const isDuration = (key: string, n: string) => parses(key, `${n}h`) && parses(key, `${n}d`) && !parses(key, `${n}x`);
  const takes = (key: string, n: string) => parses(key, n + unit) && isDuration(key, n);
  const before = words[i - 1];
  const at = positionalNames[i - 1];
  if (before !== undefined && at !== undefined && isNumber(before) && takes(at, before)) return before + unit;
  for (const [k, v] of Object.entries(named)) if (isNumber(v) && takes(k, v)) return `${kebab(k)}=${v}${unit}`;
  return undefined;
}

/**
 * One issue per argument, so a value is refused with one message, not the same one twice (a
 * number failing the safe-integer bound and the schema's own maximum). The first, except the
 * safe-integer bound when the schema's own check also failed: "at most 1000000", not "at most
 * 9007199254740991".
 */
function firstIssuePerField(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out = new Map<string, z.core.$ZodIssue>();
  const safeBound = (iss: z.core.$ZodIssue) => (iss.code === "too_big" || iss.code === "too_small") && iss.origin === "int";
  for (const iss of issues) {
    // Checks across arguments (no path) are each their own problem: only repeats are dropped.
    const name = iss.path.length ? `arg:${String(iss.path[0])}` : `all:${iss.message}`;
    const kept = out.get(name);
    if (!kept || (safeBound(kept) && !safeBound(iss))) out.set(name, iss);
  }
  return [...out.values()];
}

/** Arguments as typed, from a line split on spaces only (one that cannot be read): positional words up to the first quote, and unquoted options. */
function plainSplit(words: readonly string[]): { words: string[]; named: Record<string, string> } {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  let quoted = false;
  for (const w of words) {
    const hasQuote = /["'“”‘’「」『』]/.test(w);
    const kv = /^(?:--)?([A-Za-z][A-Za-z0-9_-]*)[=＝](.*)$/.exec(w);
    if (kv) {
      // An option whose value opens a quote: the words after it may be inside the quote.
      if (hasQuote) quoted = true;
      else named[camel(kv[1]!)] = kv[2]!;
    } else if (w.startsWith("--")) continue;
    // Words after a quote may belong to it: positions are no longer known.
    else if (hasQuote) quoted = true;
    else if (!quoted) positional.push(w);
  }
  return { words: positional, named };
}

/**
 * The record a command names in its arguments as typed ({@link Command.typedSubject}), in its
 * stored spelling, or undefined. An API key pasted in its place is cut as the trail cuts it.
 */
function typedSubjectOf(cmd: Command, typed: { words: readonly string[]; named: Readonly<Record<string, string>> } | undefined): string | undefined {
  const spec = cmd.typedSubject;
  if (!spec || !typed) return undefined;
  const at = (cmd.positional ?? []).findIndex((p) => argName(p) === spec.arg);
  const raw = (at >= 0 ? typed.words[at] : undefined) ?? typed.named[spec.arg];
  const value = raw === undefined ? "" : scrubText(withoutInvisible(raw.normalize("NFKC")).trim());
  // As `audit subject=` takes it (at most 100 characters).
  if (value === "" || value.length > 100 || CONTROL_CHARS.test(value)) return undefined;
  return spec.spelling(value);
}

/** The action typed ({@link Command.actions}): its first positional argument, by position or named, with the role it needs. */
function actionOf(cmd: Command, typed: { words: readonly string[]; named: Readonly<Record<string, string>> }): { word: string; role: Role } | undefined {
  const first = cmd.positional?.[0];
  if (!cmd.actions || first === undefined) return undefined;
  const raw = typed.words[0] ?? typed.named[argName(first)];
  const word = raw === undefined ? undefined : withoutInvisible(raw.normalize("NFKC")).trim().toLowerCase();
  const role = word !== undefined && Object.hasOwn(cmd.actions, word) ? cmd.actions[word] : undefined;
  return word !== undefined && role ? { word, role } : undefined;
}

const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, "g");


/** `s` with each control character written as its escape (`\u0007`), for a record people read. */
function visibleControls(s: string): string {
  return s.replace(CONTROL_CHARS_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The candidate nearest to `word` by edit distance, or null when there is none. On a tie, one
 * that starts with what was typed (`lo` is `low` cut short, not `po` mistyped), then the shorter.
 */
function closest(word: string, candidates: readonly string[]): { c: string; d: number } | null {
  let best: { c: string; d: number } | null = null;
  const rank = (c: string) => (c.startsWith(word) ? 0 : 1);
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (!best || d < best.d || (d === best.d && (rank(c) < rank(best.c) || (rank(c) === rank(best.c) && c.length < best.c.length)))) best = { c, d };
  }
  return best;
}

// Schemas may give a catalog key as their error message; it is translated here
// with the offending value as {value}, and a custom issue's params (a list joined as the reader's
// language joins one: the scopes of a list that are unknown).
function translateIssue(message: string, t: Translate, value: unknown, params?: Record<string, unknown>): string {
  const extra = Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(t("text.list_sep")) : String(v)]));
  return isMessageKey(message) ? t(message, { ...extra, value: typeof value === "string" ? value : String(value ?? "") }) : message;
}

const zodLocales = { en: z.locales.en(), "zh-CN": z.locales.zhCN() } as const;

/**
 * Messages for the checks schemas leave to zod, in the caller's language and in a person's terms
 * (not "expected number, received NaN" or a regular expression): a catalog key where the value
 * typed goes in (filled by {@link translateIssue}), else zod's own localized message.
 */
function messageFor(iss: z.core.$ZodRawIssue, locale: Locale): string | undefined {
  const t = translator(locale);
  const bound = (n: unknown) => String(n);
  if (iss.code === "too_small" && iss.origin === "string") return Number(iss.minimum) <= 1 ? t("arg.empty") : t("arg.too_short", { min: bound(iss.minimum) });
  if (iss.code === "too_big" && iss.origin === "string") return t("arg.too_long", { max: bound(iss.maximum) });
  if (iss.code === "too_small" && iss.origin === "number") return t("arg.too_small", { min: bound(iss.minimum) });
  // "int": beyond the safe-integer range (a whole number over 2^53), said as any other maximum.
  if (iss.code === "too_big" && (iss.origin === "number" || iss.origin === "int")) return t("arg.too_big", { max: bound(iss.maximum) });
  if (iss.code === "too_small" && iss.origin === "int") return t("arg.too_small", { min: bound(iss.minimum) });
  if (iss.code === "invalid_type" && iss.expected === "number") return "arg.not_number";
  if (iss.code === "invalid_type" && iss.expected === "int") return "arg.not_whole";
  if (iss.code === "invalid_format") return "arg.bad_format";
  if (iss.code === "invalid_value" && Array.isArray(iss.values)) return t("arg.one_of", { values: iss.values.map(String).join(", ") });
  const r = zodLocales[locale].localeError?.(iss);
  return typeof r === "string" ? r : r?.message;
}
