import { createHash } from "node:crypto";
import { ApplicationCommandOptionType, type APIApplicationCommandBasicOption, type RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord.js";
import { z } from "zod";
import { CHOICE_NAMES } from "../../src/core/args.js";
import type { Command } from "../../src/core/command.js";
import { isMessageKey, t, type Locale, type MessageKey } from "../../src/core/messages.js";
import { camel, kebab, parseArgs, quote } from "../../src/core/parser.js";
import { argName, examplesOf, isFlagArg, isOptionalArg } from "../../src/core/registry.js";
import { clip } from "../../src/core/reply.js";
import { sourceFor } from "./autocomplete.js";

/** Name of the subcommand that runs a one-word command when two-word ones share its first word (`/stock show`). */
export const BASE_SUBCOMMAND = "show";

/** How one Discord option maps back onto a command argument. */
export interface OptionRoute {
  /** Discord option name (lower-case kebab of the argument). */
  option: string;
  /** Argument key in the command's zod schema. */
  arg: string;
  /** Index among the positional arguments, or -1 for a `key=value` / `--flag` argument. */
  position: number;
  flag: boolean;
}

/** A Discord (sub)command and the shopops command it runs. */
export interface CommandRoute {
  command: Command;
  options: OptionRoute[];
  /** A one-word command shown as `show` beside two-word ones: its positionals are sent by name. */
  base?: boolean;
}

/** The generated application commands and the routes back from interactions. */
export interface CommandSet {
  /** Body of the bulk PUT. */
  definitions: RESTPostAPIChatInputApplicationCommandsJSONBody[];
  /** Keyed by `top` or `top sub` as Discord sends them. */
  routes: Map<string, CommandRoute>;
  /** Hash of the definitions: registration is skipped when it is unchanged. */
  hash: string;
}

/**
 * A Chinese text for both of Discord's Chinese locales: replies answer any Chinese (zh-TW too) in
 * Simplified Chinese, as shopops has no Traditional Chinese, so the command picker does the same
 * rather than show a zh-TW member English descriptions above Chinese replies.
 */
const chinese = (text: string) => ({ "zh-CN": text, "zh-TW": text });

/** An English text for Discord's English locales (a Chinese-speaking shop's picker, for members in English). */
const english = (text: string) => ({ "en-US": text, "en-GB": text });

/**
 * A description in the shop's language (`SHOP_LOCALE`), which Discord shows to every member whose
 * language has no localization and which the replies answer them in, with the other language as
 * the localizations of its Discord locales (members in English or Chinese get their own).
 */
function described(shop: Locale, text: (locale: Locale) => string) {
  return shop === "zh-CN" ? { description: text("zh-CN"), description_localizations: english(text("en")) } : { description: text("en"), description_localizations: chinese(text("zh-CN")) };
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType };

/**
 * The schema under optional/default/nullable wrappers and transforms (what the user types); a
 * choice read leniently (`oneOf`: any case, Chinese names) is still offered as its choices.
 */
function base(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 8; i++) {
    const def = (cur as unknown as { _zod: { def: Def } })._zod.def;
    if (["optional", "default", "nullable", "prefault", "catch", "readonly", "nonoptional"].includes(def.type) && def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.out instanceof z.ZodEnum) return def.out;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else break;
  }
  return cur;
}


/** Sample values of each argument, read from the command's examples as a reader in `locale` sees them. */
function samples(cmd: Command, locale: Locale): Map<string, string> {
  const out = new Map<string, string>();
  const words = cmd.name.split(" ").length;
  const names = (cmd.positional ?? []).map(argName);
  for (const ex of examplesOf(cmd, locale)) {
    try {
      const p = parseArgs(ex);
      const rest = p.positional.slice(words);
      names.forEach((n, i) => {
        const isRest = (cmd.positional ?? [])[i]?.startsWith("...");
        const v = isRest ? rest.slice(i).join(" ") : rest[i];
        if (v && !out.has(n)) out.set(n, v);
      });
      for (const [k, v] of Object.entries(p.named)) if (!out.has(k)) out.set(k, v);
    } catch {
      // A malformed example only costs the hint.
    }
  }
  return out;
}

/** The catalog's key for `cmd`'s `part` (`discord.arg.refund_request.amount`), else the one shared by name (`discord.arg.amount`). */
function catalogKey(prefix: string, cmd: Command, part: string): MessageKey | undefined {
  const own = `${prefix}.${cmd.name.replace(/ /g, "_")}.${part}`;
  const shared = `${prefix}.${part}`;
  return isMessageKey(own) ? own : isMessageKey(shared) ? shared : undefined;
}

/**
 * The Chinese name of a choice: as the command reads it (`oneOf`'s names: 紧急, 已结束), else
 * from the catalog for choices typed in English only (`type=percent`, a role): shown to Chinese
 * members, the value sent stays the English one.
 */
function zhChoiceName(cmd: Command, arg: string, value: string, named: Readonly<Record<string, string>>): string | undefined {
  if (named[value]) return named[value];
  const key = arg === "role" && isMessageKey(`role.name.${value}`) ? (`role.name.${value}` as MessageKey) : catalogKey("discord.choice", cmd, `${kebab(arg).toLowerCase()}.${value}`);
  // A name with its English value in brackets (经理（manager）): the value is beside it already.
  return key ? t("zh-CN", key).replace(/（[^（）]*）$/, "") : undefined;
}

/**
 * Builds one Discord option from a zod argument; its hint shows a sample value from the examples
 * in each language (the English description, the Chinese localization).
 */
function optionOf(cmd: Command, arg: string, schema: z.ZodType, required: boolean, example: Readonly<Record<Locale, string | undefined>>, shop: Locale): APIApplicationCommandBasicOption {
  const name = kebab(arg).toLowerCase().slice(0, 32);
  const flag = isFlagArg(schema);
  // What the option is, in the reader's language (退款金额（或 全额）); English keeps the option's name.
  const labelKey = catalogKey("discord.arg", cmd, name);
  const describe = (locale: Locale) => {
    const sample = example[locale];
    const label = labelKey ? t(locale, labelKey) : name;
    return clip(flag ? t(locale, "discord.option.flag", { name }) : sample ? t(locale, "discord.option", { name: label, example: clip(sample, 40) }) : t(locale, "discord.option.plain", { name: label }), 100);
  };
  const common = { name, ...described(shop, describe), required };
  const b = base(schema);
  if (flag) return { ...common, type: ApplicationCommandOptionType.Boolean as const };
  if (b instanceof z.ZodEnum) {
    const values = (b.options as readonly (string | number)[]).map(String).slice(0, 25);
    // A Chinese member picks 紧急 as the card shows it, not "urgent".
    const named = CHOICE_NAMES.get(b) ?? {};
    return {
      ...common,
      type: ApplicationCommandOptionType.String as const,
      choices: values.map((v) => {
        const zh = zhChoiceName(cmd, arg, v, named);
        if (!zh) return { name: v, value: v };
        // Named in the shop's language, the other as its localizations; the value sent stays the English one.
        return shop === "zh-CN" ? { name: clip(zh, 100), value: v, name_localizations: english(v) } : { name: v, value: v, name_localizations: chinese(clip(zh, 100)) };
      }),
    };
  }
  if (b instanceof z.ZodNumber) {
    const num = b as z.ZodNumber;
    const lim = (v: number | null) => (v !== null && Number.isFinite(v) && Math.abs(v) <= 2 ** 53 ? v : undefined);
    const min = lim(num.minValue);
    const max = lim(num.maxValue);
    const range = { ...(min !== undefined ? { min_value: min } : {}), ...(max !== undefined ? { max_value: max } : {}) };
    return num.isInt ? { ...common, ...range, type: ApplicationCommandOptionType.Integer } : { ...common, ...range, type: ApplicationCommandOptionType.Number };
  }
  const str = b instanceof z.ZodString ? b : undefined;
  const maxLen = str?.maxLength ?? null;
  return {
    ...common,
    type: ApplicationCommandOptionType.String as const,
    ...(maxLen !== null && maxLen <= 6000 ? { max_length: maxLen } : {}),
    ...(sourceFor(cmd.name, arg) ? { autocomplete: true } : {}),
  };
}

/** Options of a command (required ones first, as Discord demands) and their routes. */
function optionsOf(cmd: Command, shop: Locale) {
  const shape = cmd.args.shape as Record<string, z.ZodType>;
  const positional = (cmd.positional ?? []).map(argName);
  const ex = { en: samples(cmd, "en"), "zh-CN": samples(cmd, "zh-CN") };
  const keys = [...positional, ...Object.keys(shape).filter((k) => !positional.includes(k))];
  const built = keys.map((arg) => {
    const schema = shape[arg]!;
    const required = !isOptionalArg(schema);
    const option = optionOf(cmd, arg, schema, required, { en: ex.en.get(arg), "zh-CN": ex["zh-CN"].get(arg) }, shop);
    const route: OptionRoute = { option: option.name, arg, position: positional.indexOf(arg), flag: isFlagArg(schema) };
    return { option, route, required };
  });
  const sorted = [...built.filter((b) => b.required), ...built.filter((b) => !b.required)];
  return { options: sorted.map((b) => b.option).slice(0, 25), routes: built.map((b) => b.route) };
}

const describe = (key: MessageKey, shop: Locale) => described(shop, (locale) => clip(t(locale, key), 100));


/**
 * Generates the application commands from the registry: one top-level command
 * per first word; two-word commands become its subcommands (a one-word command
 * beside them becomes the `show` subcommand). Descriptions and choices are in the shop's
 * language (`shop`, SHOP_LOCALE), the other language in the localizations.
 */
export function buildCommandSet(commands: readonly Command[], shop: Locale = "en"): CommandSet {
  const groups = new Map<string, Command[]>();
  for (const c of [...commands].sort((a, b) => a.name.localeCompare(b.name))) {
    const top = c.name.split(" ")[0]!;
    groups.set(top, [...(groups.get(top) ?? []), c]);
  }
  const definitions: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [];
  const routes = new Map<string, CommandRoute>();
  for (const [top, cmds] of groups) {
    // Every command is visible to every member: Discord's own permission flags (Manage Server,
    // Administrator) would hide /audit or /role from a manager or admin whose role comes from
    // DISCORD_ROLE_MAP or `role grant`. The core checks each invocation; a server may still
    // restrict commands in Server Settings → Integrations.
    const common = { name: top, default_member_permissions: null, contexts: [0] };
    const single = cmds.length === 1 && !cmds[0]!.name.includes(" ") ? cmds[0]! : undefined;
    if (single) {
      const { options, routes: r } = optionsOf(single, shop);
      definitions.push({ ...common, ...describe(single.description, shop), options });
      routes.set(top, { command: single, options: r });
      continue;
    }
    const baseCmd = cmds.find((c) => !c.name.includes(" "));
    const subs = cmds.map((c) => {
      const sub = c.name.includes(" ") ? c.name.split(" ")[1]! : BASE_SUBCOMMAND;
      const { options, routes: r } = optionsOf(c, shop);
      routes.set(`${top} ${sub}`, { command: c, options: r, ...(sub === BASE_SUBCOMMAND ? { base: true } : {}) });
      return { type: ApplicationCommandOptionType.Subcommand as const, name: sub, ...describe(c.description, shop), options };
    });
    const groupText = (locale: "en" | "zh-CN") => clip(baseCmd ? t(locale, baseCmd.description) : t(locale, "discord.group", { name: top }), 100);
    definitions.push({ ...common, ...described(shop, groupText), options: subs.slice(0, 25) });
  }
  const hash = createHash("sha256").update(JSON.stringify(definitions)).digest("hex");
  return { definitions, routes, hash };
}


/**
 * Rebuilds the command line the core runs from a Discord (sub)command and its
 * option values: positional words in order, then `key=value` and `--flags`.
 */
export function commandLine(route: CommandRoute, values: ReadonlyMap<string, string | number | boolean>): string {
  const words = [route.command.name];
  const positional = route.options.filter((o) => o.position >= 0).sort((a, b) => a.position - b.position);
  let skipped = false;
  for (const o of positional) {
    const v = values.get(o.option);
    if (v === undefined) {
      skipped = true;
      continue;
    }
    // `/stock show query:low` must search for "low", not run `stock low`: a base command's
    // positionals go by name, which the core reads as the same argument. So does one given
    // after an optional one left empty (`/complaint list and:overdue`): not dropped, nor read
    // as the empty one.
    words.push(route.base || skipped ? `${kebab(o.arg)}=${quote(String(v))}` : quote(String(v)));
  }
  for (const o of route.options.filter((x) => x.position < 0)) {
    const v = values.get(o.option);
    if (v === undefined) continue;
    if (o.flag) {
      if (v === true) words.push(`--${kebab(o.arg)}`);
    } else words.push(`${kebab(o.arg)}=${quote(String(v))}`);
  }
  return words.join(" ");
}

/**
 * A command line as a Discord user types it (`order search customer=CUST-9 page=2` →
 * `/order search customer:CUST-9 page:2`): the replies' hints name text commands, which Discord
 * has no box for. Undefined for a line that is not a known command with options it has.
 */
export function slashLine(set: CommandSet, line: string): string | undefined {
  // A usage line (`refund approve <id> [note=<note>]`): its placeholders kept, in slash form.
  if (/[<[]/.test(line)) return slashUsage(set, line);
  let p: ReturnType<typeof parseArgs>;
  try {
    p = parseArgs(line);
  } catch {
    return undefined;
  }
  const hit = routeOf(set, p.positional);
  if (!hit) return undefined;
  const parts: string[] = [];
  const rest = p.positional.slice(hit.words.length);
  const positional = hit.route.options.filter((o) => o.position >= 0).sort((a, b) => a.position - b.position);
  if (rest.length > positional.length && !(hit.route.command.positional ?? []).at(-1)?.startsWith("...")) return undefined;
  positional.forEach((o, i) => {
    // The last positional of a `...rest` command takes the words left.
    const v = i === positional.length - 1 ? rest.slice(i).join(" ") : rest[i];
    if (v) parts.push(`${o.option}:${v}`);
  });
  for (const [key, v] of Object.entries(p.named)) {
    const o = hit.route.options.find((x) => x.arg === key && x.position < 0) ?? hit.route.options.find((x) => x.arg === key);
    if (!o) return undefined;
    parts.push(`${o.option}:${v}`);
  }
  for (const key of Object.keys(p.flags)) {
    const o = hit.route.options.find((x) => x.arg === key && x.flag);
    if (!o) return undefined;
    parts.push(`${o.option}:True`);
  }
  return [`/${hit.key}`, ...parts].join(" ");
}

/**
 * A usage line as a Discord user types the command (`stock adjust <sku> <+n|-n> reason=<text>
 * [key=<idempotency key>]` → `/stock adjust sku:<sku> delta:<+n|-n> reason:<text> [key:<idempotency
 * key>]`): options named as Discord names them, placeholders and brackets kept. Undefined when it
 * names no command, or an option the command lacks.
 */
function slashUsage(set: CommandSet, line: string): string | undefined {
  const words = line.trim().split(/\s+/);
  const hit = routeOf(set, words);
  if (!hit) return undefined;
  const positional = hit.route.options.filter((o) => o.position >= 0).sort((a, b) => a.position - b.position);
  let next = 0;
  let glue = false;
  const out: string[] = [`/${hit.key}`];
  /** Inside a placeholder of several words (`<amount 金额|full 全额>`, `<sku | words>`): words join it as they are. */
  let inside = false;
  /** The placeholder's first word was its option's name, dropped: the next word starts it. */
  let attach = false;
  /**
   * Pushes an option with its placeholder. A placeholder of several words that starts with the
   * option's own name (`<from YYYY-MM-DD>`, `<label 名称>`) drops it: the option names it already
   * (`from:<YYYY-MM-DD>`, not `from:<from YYYY-MM-DD>`). A placeholder that is the name alone
   * (`id:<id>`) stays: nothing else would say what goes there.
   */
  const push = (text: string, word: string) => {
    const m = /([a-z0-9-]+):(\[*<)([A-Za-z][\w-]*)$/.exec(text);
    const o = m && opens(word) ? hit.route.options.find((x) => x.option === m[1]) : undefined;
    if (m && o && (camel(m[3]!) === o.arg || m[3]!.toLowerCase() === o.option)) {
      out.push(text.slice(0, -m[3]!.length));
      attach = true;
    } else out.push(text);
    if (opens(word)) inside = true;
  };
  for (const word of words.slice(hit.words.length)) {
    if (inside) {
      if (attach) out[out.length - 1] += word;
      else out.push(word);
      attach = false;
      if (word.includes(">")) inside = false;
      continue;
    }
    // Options, also several in one word (`[skus=<a,b>|categories=<a,b>]`), by Discord's names.
    let unknown = false;
    const renamed = word.replace(/(^|[[|])(--)?([A-Za-z][\w-]*)(=)?/g, (m, before: string, dashes: string | undefined, name: string, eq: string | undefined) => {
      if (!dashes && !eq) return m;
      const o = dashes ? hit.route.options.find((x) => x.arg === camel(name) && x.flag) : (hit.route.options.find((x) => x.arg === camel(name) && x.position < 0) ?? hit.route.options.find((x) => x.arg === camel(name)));
      if (!o) unknown = true;
      return o ? `${before}${o.option}:${dashes ? "True" : ""}` : m;
    });
    if (unknown) return undefined;
    if (renamed !== word) {
      // An option's placeholder of several words (`[link=<message url>`): the words after it join it.
      push(renamed, word);
    } else if (/^\[[A-Za-z]\w*$/.test(word) && positional[next]?.arg === word.slice(1)) {
      // A positional named in words (`[to YYYY-MM-DD]`): `[to:YYYY-MM-DD]`.
      out.push(`[${positional[next++]!.option}:`);
      glue = true;
      continue;
    } else if (word === "|") {
      // Between alternatives (`(<+n|-n> | set=<n>)`): one or the other, as it is.
      out.push(word);
    } else if (/^[[(]*</.test(word) || /^\[/.test(word) || word.includes("|")) {
      // A positional placeholder (`<id>`, `[<page>]`, `[open|mine]`, `(<+n|-n>`): named by the next positional option.
      const o = positional[next++];
      if (!o) return undefined;
      const brackets = /^[[(]*/.exec(word)![0];
      push(`${brackets}${o.option}:${word.slice(brackets.length)}`, word);
    } else if (glue) out[out.length - 1] += word;
    // A value given as it is (`complaint assign C-7K2M9Q <identity>`): it fills the next
    // positional option, so the placeholders after it keep their own names.
    else if (positional[next]) out.push(`${positional[next++]!.option}:${word}`);
    else out.push(word); // words past the last positional (the rest of a `...text` one)
    glue = false;
  }
  return out.join(" ");
}

/** Whether a word opens a placeholder (`<`) it does not close. */
const opens = (word: string) => word.lastIndexOf("<") > word.lastIndexOf(">");

/** The route of the longest command name `words` start with (`stock adjust` before `stock`), or undefined. */
function routeOf(set: CommandSet, words: readonly string[]): { key: string; route: CommandRoute; words: string[] } | undefined {
  return [...set.routes]
    .map(([key, route]) => ({ key, route, words: route.command.name.split(" ") }))
    .filter((e) => e.words.every((w, i) => words[i]?.toLowerCase() === w))
    .sort((a, b) => b.words.length - a.words.length)[0];
}
