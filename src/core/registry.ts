import { z } from "zod";
import { localText, type ArgsSchema, type Command, type LocalText } from "./command.js";
import { isMessageKey, type Locale } from "./messages.js";
import { loadDefaults } from "./module-loader.js";
import { kebab, parseArgs } from "./parser.js";
import { ROLES } from "./roles.js";

/** Raised when a command file is malformed: startup stops with this message. */
export class CommandLoadError extends Error {
  constructor(file: string, problem: string) {
    super(`Cannot load command file ${file}: ${problem}. Fix the file (see README, "Adding a command") and start again.`);
    this.name = "CommandLoadError";
  }
}

/** A {@link LocalText}: one string, or English with its Chinese. */
const LocalTextShape = z.union([z.string(), z.object({ en: z.string().min(1), zh: z.string().min(1) }, { error: "give a string, or { en, zh } with both" }).strict()]);

const CommandShape = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)?$/, "name must be one or two lower-case words"),
  description: z.string().refine(isMessageKey, "description must be a key of the message catalog (src/core/messages.ts)"),
  positional: z.array(z.string()).optional(),
  args: z.custom<ArgsSchema>((v) => v instanceof z.ZodObject, "args must be a zod object schema"),
  usage: LocalTextShape.optional(),
  examples: z.array(LocalTextShape).min(1, "give at least one example"),
  permission: z.enum(ROLES),
  mutates: z.boolean(),
  handler: z.custom<(...a: unknown[]) => unknown>((v) => typeof v === "function", "handler must be a function"),
});

/** Unwraps optional/default/nullable wrappers of a zod schema. */
function inner(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 5; i++) {
    const def = (cur as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
    if ((def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault") && def.innerType) cur = def.innerType;
    else break;
  }
  return cur;
}

/** True when the argument can be left out. */
export function isOptionalArg(s: z.ZodType): boolean {
  return s.safeParse(undefined).success;
}

/** True when the argument is a boolean `--flag`. */
export function isFlagArg(s: z.ZodType): boolean {
  return inner(s) instanceof z.ZodBoolean;
}

/** The argument key a positional name stands for (`...reason` → `reason`). */
export function argName(p: string): string {
  return p.replace(/^\.\.\./, "");
}

/**
 * Chinese names of the arguments commands take, for a Chinese reader's placeholders (`<订单号>`
 * for `<orderNo>`, in a usage line and in "缺少 <订单号>"). Option names typed with `=` stay
 * English (command.ts); an argument not listed keeps its own name.
 */
export const ARG_NAMES_ZH: Readonly<Record<string, string>> = {
  orderNo: "订单号",
  id: "编号",
  sku: "SKU",
  query: "查询内容",
  text: "内容",
  user: "用户",
  code: "券码",
  date: "日期",
  day: "日期",
  draft: "草稿编号",
  identity: "身份",
  other: "另一身份",
  role: "角色",
  command: "命令",
  h: "校验码",
  label: "名称",
  amount: "金额",
  delta: "变化量",
  duration: "时长",
  from: "起始日",
  to: "截止日",
  type: "类型",
  platform: "平台",
  channel: "频道",
};

/** The name of argument `name` as a placeholder shows it to a reader in `locale` (`orderNo`, `订单号`). */
export function placeholderName(name: string, locale: Locale): string {
  return locale === "zh-CN" ? (ARG_NAMES_ZH[name] ?? name) : name;
}

/**
 * Returns the usage line of a command for a reader in `locale`: `stock adjust <sku> <+n|-n>
 * reason=<text> [key=<idempotency key>]` (`reason=<原因>` in Chinese, where the command gives it;
 * a placeholder that is an argument's bare name, `<orderNo>`, by {@link ARG_NAMES_ZH}: `<订单号>`).
 */
export function usageOf(cmd: Command, locale: Locale = "en"): string {
  const shape = cmd.args.shape as Record<string, z.ZodType>;
  if (cmd.usage) {
    const text = localText(cmd.usage, locale);
    return `${cmd.name} ${locale === "zh-CN" ? text.replace(/<([A-Za-z]\w*)(…?)>/g, (m, name: string, rest: string) => (Object.hasOwn(shape, name) ? `<${placeholderName(name, locale)}${rest}>` : m)) : text}`;
  }
  const parts: string[] = [];
  const positional = (cmd.positional ?? []).map(argName);
  for (const p of cmd.positional ?? []) {
    const name = argName(p);
    const s = shape[name];
    const word = p.startsWith("...") ? `<${placeholderName(name, locale)}…>` : `<${placeholderName(name, locale)}>`;
    parts.push(s && isOptionalArg(s) ? `[${word}]` : word);
  }
  for (const [k, s] of Object.entries(shape)) {
    if (positional.includes(k)) continue;
    const key = kebab(k);
    const word = isFlagArg(s) ? `--${key}` : `${key}=<${(locale === "zh-CN" && ARG_NAMES_ZH[k]) || key}>`;
    parts.push(isOptionalArg(s) ? `[${word}]` : word);
  }
  return [cmd.name, ...parts].join(" ");
}

/**
 * Chinese words a newcomer may type for a command group (`退款` for `refund`): never run as the
 * command, only suggested in place of an unknown command (and of `help 退款`).
 */
export const CHINESE_COMMAND_WORDS: Readonly<Record<string, string>> = {
  帮助: "help",
  库存: "stock",
  低库存: "stock low",
  订单: "order",
  退款: "refund",
  投诉: "complaint",
  优惠券: "coupon",
  日报: "digest",
  告警: "alerts",
  角色: "role",
  审计: "audit",
  我是谁: "whoami",
};

/** The example command lines of a command for a reader in `locale`. */
export function examplesOf(cmd: Pick<Command, "examples">, locale: Locale = "en"): string[] {
  return cmd.examples.map((e) => localText(e, locale));
}

/** Option names and `--flags` a usage line or example names (`reason=`, `--all`), sorted: what must not change with the language. */
function optionWords(line: string, usage: boolean): string[] {
  if (usage) return [...new Set([...line.matchAll(/(?:^|[\s[|])(--[A-Za-z][A-Za-z0-9-]*|[A-Za-z][A-Za-z0-9-]*=)/g)].map((m) => m[1]!))].sort();
  const p = parseArgs(line);
  return [...Object.keys(p.named).map((k) => `${k}=`), ...Object.keys(p.flags).map((k) => `--${k}`)].sort();
}

/** The problem with a {@link LocalText} pair whose Chinese names other options than its English, if any. */
function pairProblem(text: LocalText, usage: boolean): string | undefined {
  if (typeof text === "string") return undefined;
  let en: string[], zh: string[];
  try {
    en = optionWords(text.en, usage);
    zh = optionWords(text.zh, usage);
  } catch (e) {
    // The parser's only refusal: a quote left open (its message is the quote).
    return `cannot be read: the quote ${(e as Error).message} is not closed`;
  }
  return en.join(" ") === zh.join(" ") ? undefined : `names options ${zh.join(" ") || "(none)"} in Chinese but ${en.join(" ") || "(none)"} in English (translate the words, not the option names)`;
}

/** Checks one command object; throws {@link CommandLoadError} naming the file. */
export function checkCommand(value: unknown, file: string): Command {
  const r = CommandShape.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new CommandLoadError(file, `${i.path.join(".") || "default export"}: ${i.message}`);
  }
  const cmd = value as Command;
  const shape = cmd.args.shape as Record<string, unknown>;
  for (const p of cmd.positional ?? []) {
    if (!(argName(p) in shape)) throw new CommandLoadError(file, `positional "${p}" is not a key of args`);
  }
  for (const ex of [...examplesOf(cmd, "en"), ...examplesOf(cmd, "zh-CN")]) {
    if (!ex.startsWith(cmd.name)) throw new CommandLoadError(file, `example "${ex}" does not start with "${cmd.name}"`);
  }
  if (cmd.usage) {
    const problem = pairProblem(cmd.usage, true);
    if (problem) throw new CommandLoadError(file, `usage ${problem}`);
  }
  for (const ex of cmd.examples) {
    const problem = pairProblem(ex, false);
    if (problem) throw new CommandLoadError(file, `example "${typeof ex === "string" ? ex : ex.en}" ${problem}`);
  }
  return cmd;
}

/**
 * Loads every `*.command.ts` (or `.js`) file in `dir`. A malformed file, or two
 * commands with one name, stops startup with a message naming the file.
 */
export async function loadCommands(dir: string): Promise<Command[]> {
  return loadDefaults({
    dir,
    pattern: /\.command\.(ts|js)$/,
    check: checkCommand,
    key: (c) => c.name,
    keyName: "name",
    fail: (file, problem) => new CommandLoadError(file, problem),
  });
}
