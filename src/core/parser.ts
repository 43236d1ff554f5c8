import { ZH_OPTION_WORDS } from "./args.js";
import { UserError } from "./errors.js";
import { withoutInvisible } from "./text.js";

/** What the parser knows of each positional word beyond its text: how it was typed. */
export interface WordInfo {
  /** The word as typed, quotes and all. */
  raw: string;
  /** The spaces typed before it, when the token before it was a positional word too (else undefined). */
  gap?: string;
  /** The option (`key=value`, its key as parsed) typed just before it, if any. */
  after?: string;
  /** True when the whole word was typed in quotes (`"a b"`): its text is what was inside them. */
  enclosed: boolean;
  /** `key:value` / `key：value` typed with a colon, unquoted: the key (as parsed) and the value. */
  colon?: { key: string; value: string };
}

/** Arguments split from a command line. */
export interface ParsedArgs {
  positional: string[];
  /** `key=value` and `--key=value` pairs; keys are lower-cased and kebab-case turned into camelCase. */
  named: Record<string, string>;
  /** `--flag` switches. */
  flags: Record<string, true>;
  /** Option keys given more than once (`reason=a reason=b`): refused, rather than one silently winning. */
  repeated?: string[];
  /** One per positional word: how it was typed (for free text kept as typed, and hints). */
  words?: WordInfo[];
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』" };
/** Closing quotes that are never anything else: they close wherever they stand. */
const ALWAYS_CLOSES = new Set(["”", "」", "』"]);
/**
 * `"`, `'` and `’` are also inch marks and apostrophes (`it's`, `10"x`): before a Latin letter or
 * a digit one is a character of the text, not the end of the quote.
 */
const INSIDE_WORD = /[\p{Script=Latin}\p{N}]/u;
// An option's key, read after NFKC (a Chinese keyboard's full-width `ｓｅｖｅｒｉｔｙ`, `＝` as `=`).
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;
const FLAG = /^--([A-Za-z][A-Za-z0-9_-]*)$/;

/** kebab-case or snake_case to camelCase (`per-customer` → `perCustomer`). */
export function camel(s: string): string {
  return s.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** camelCase to kebab-case (`perCustomer` → `per-customer`), as arguments are typed. */
export function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One word of a command line, and whether it began with a quote. */
export interface Token {
  text: string;
  quoted: boolean;
  /** Where it stands in the line (UTF-16 offsets, end exclusive). */
  start: number;
  end: number;
  /** Made only of quoted pieces: one, or ASCII-quoted pieces side by side (as {@link quote} writes them). */
  enclosed: boolean;
}

/** A quote opened and never closed: the quote, the `key=` it followed (or ""), and the line closed as it probably meant. */
export class UnclosedQuote extends UserError {
  constructor(
    readonly quote: string,
    readonly prefix: string,
    readonly fixed: string,
  ) {
    super("unclosed_quote", quote);
  }
}

/**
 * `key=` or `--key=` (any width) typed so far in a word: a quote may open after it ("="). So it
 * may after `key:` / `key：` (":"), an option typed with a colon (`reason:"customer changed mind"`),
 * so that its value is read whole and the hint to write it with = quotes it once.
 */
function keyPrefix(cur: string): "=" | ":" | undefined {
  const m = /^(.*)([=＝:：])$/.exec(cur);
  if (!m) return undefined;
  const k = m[1]!.normalize("NFKC");
  const eq = m[2] === "=" || m[2] === "＝";
  // `原因="客户 改主意"`: an option named in Chinese (refused by the core, naming `reason=`) groups its quoted value as one.
  if (!KEY.test(k.startsWith("--") ? k.slice(2) : k) && !(eq && Object.hasOwn(ZH_OPTION_WORDS, withoutInvisible(k).trim()))) return undefined;
  return eq ? "=" : ":";
}

/** A quote opened after `key:` that never closed: tokenized again with it as text. */
class TextQuote {
  constructor(readonly at: number) {}
}

/**
 * Splits a line into words. Full-width spaces separate words. A quote (ASCII, or Chinese “…”
 * ‘…’ 「…」 『…』) groups words when it opens a word or follows `key=` (`reason="box damaged"`);
 * anywhere else in a word it is a character of the text (`customer's`, `说“太差”`, `10"`). A
 * `"`, `'` or `’` followed by a Latin letter or a digit does not close a quote (`'it's late'`).
 * Quoted pieces written side by side make one word. There is no escape character: `\"` in a
 * quote is refused as an unclosed quote, whose message says how to put a quote in a value.
 * After `key:` a quote groups words only when it closes: else it is text (`wrote:"the box…`).
 */
export function tokenize(line: string): Token[] {
  return scan(line, true);
}

/** {@link tokenize}; `example`: work out an unclosed quote's example (not while {@link quote} tries quotes). */
function scan(line: string, example: boolean): Token[] {
  const asText = new Set<number>();
  for (;;) {
    try {
      return tokenizeWith(line, asText, example);
    } catch (e) {
      if (!(e instanceof TextQuote)) throw e;
      asText.add(e.at);
    }
  }
}

/** {@link tokenize}, the quotes at the char indexes of `asText` read as text. */
function tokenizeWith(line: string, asText: ReadonlySet<number>, example: boolean): Token[] {
  const out: Token[] = [];
  const chars: { ch: string; at: number }[] = [];
  for (let at = 0; at < line.length; ) {
    const ch = String.fromCodePoint(line.codePointAt(at)!);
    chars.push({ ch, at });
    at += ch.length;
  }
  let cur = "";
  let quoted = false;
  let inWord = false;
  let start = 0;
  let close: string | null = null;
  let open = "";
  let openPrefix = "";
  let openAt = 0;
  // The current word's first quote (after which its text starts, `key=` typed before it) and a
  // quote opened in it after `key:` (its char index), if any.
  let first = { open: "", prefix: "", at: 0 };
  let colonQuote = -1;
  // Index of the char that last closed a quote; a quote right after it opens the next piece.
  let closedAt = -2;
  let openedAfterClose = false;
  let outside = false;
  let pieces = 0;
  let asciiPieces = true;
  const push = (end: number) => out.push({ text: cur, quoted, start, end, enclosed: quoted && !outside && (pieces === 1 || asciiPieces) });
  const unclosed = (): never => {
    if (colonQuote >= 0) throw new TextQuote(colonQuote);
    if (!example) throw new UnclosedQuote(open, openPrefix, "");
    // Nothing after the quote, or a quote right after one that closed (`"She said "no""`): the
    // word as probably meant, its quotes inside it, in the other kind of quote ('She said "no"').
    if (line.slice(openAt).trim() === "" || openedAfterClose) {
      let word = line.slice(first.at).trimEnd();
      if (word.endsWith(QUOTES[first.open]!)) word = word.slice(0, -QUOTES[first.open]!.length);
      if (word === "") word = first.open;
      if (word.length > 60) word = word.slice(0, 59) + "…";
      throw new UnclosedQuote(open, first.prefix, first.prefix + quote(word, true));
    }
    // The rest of the line as it was probably meant: closed at its end, an escaped quote as a quote.
    let content = line.slice(openAt).trimEnd();
    if (content.endsWith("\\" + QUOTES[open]!)) content = content.slice(0, -2);
    else if (content.endsWith(QUOTES[open]!)) content = content.slice(0, -QUOTES[open]!.length);
    content = content.replaceAll("\\" + QUOTES[open]!, QUOTES[open]!);
    if (content.length > 60) content = content.slice(0, 59) + "…";
    throw new UnclosedQuote(open, openPrefix, openPrefix + wrap(content, open));
  };
  for (let i = 0; i < chars.length; i++) {
    const { ch, at } = chars[i]!;
    if (close !== null) {
      if (ch === close) {
        const next = chars[i + 1]?.ch;
        if (ALWAYS_CLOSES.has(ch) || next === undefined || !INSIDE_WORD.test(next)) {
          close = null;
          closedAt = i;
          continue;
        }
        // `\"` meant as an escape: there is none; say so rather than keep the backslash.
        if (chars[i - 1]?.ch === "\\") unclosed();
      }
      cur += ch;
      continue;
    }
    const after = ch in QUOTES && !asText.has(i) && inWord && closedAt !== i - 1 ? keyPrefix(cur) : undefined;
    if (ch in QUOTES && !asText.has(i) && (!inWord || closedAt === i - 1 || after)) {
      close = QUOTES[ch]!;
      open = ch;
      openAt = at + ch.length;
      openPrefix = inWord && closedAt !== i - 1 ? cur : "";
      openedAfterClose = inWord && closedAt === i - 1;
      if (pieces === 0) first = { open: ch, prefix: openPrefix, at: openAt };
      if (after === ":") colonQuote = i;
      if (!inWord) {
        quoted = true;
        start = at;
      } else if (closedAt !== i - 1) outside = true;
      pieces++;
      if (ch !== '"' && ch !== "'") asciiPieces = false;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) push(at);
      cur = "";
      quoted = false;
      inWord = false;
      outside = false;
      pieces = 0;
      asciiPieces = true;
      colonQuote = -1;
      continue;
    }
    if (!inWord) start = at;
    cur += ch;
    outside = true;
    inWord = true;
  }
  if (close !== null) unclosed();
  if (inWord) push(line.length);
  return out;
}

/** An option token's key and value (`severity=high`, `ｓｅｖｅｒｉｔｙ＝紧急`, `--since=7d`), or its flag (`--all`); else null. */
function optionOf(text: string): { key: string; value?: string; flag: boolean } | null {
  const sep = /[=＝]/.exec(text);
  const head = (sep ? text.slice(0, sep.index) : text).normalize("NFKC");
  if (sep) {
    const value = text.slice(sep.index + 1);
    if (head.startsWith("--") && KEY.test(head.slice(2))) return { key: camel(head.slice(2)), value, flag: false };
    if (KEY.test(head)) return { key: camel(head), value, flag: false };
    return null;
  }
  const f = FLAG.exec(head);
  return f ? { key: camel(f[1]!), flag: true } : null;
}

/**
 * `line` with its options' keys (as parsed: `user` for `User=` or `--user=`) renamed where
 * `rename` gives a name (`actor`), written `name=` and the value as typed; all else as typed.
 */
export function renameOptions(line: string, rename: (key: string) => string | undefined): string {
  let out = "";
  let at = 0;
  for (const tok of tokenize(line)) {
    const opt = tok.quoted ? null : optionOf(tok.text);
    const name = opt && !opt.flag ? rename(opt.key) : undefined;
    if (name === undefined) continue;
    const raw = line.slice(tok.start, tok.end);
    out += `${line.slice(at, tok.start)}${name}=${raw.slice(/[=＝]/.exec(raw)!.index + 1)}`;
    at = tok.end;
  }
  return out + line.slice(at);
}

/** `severity:紧急`, `ｏｒｄｅｒ：ORD-1`: an option's shape typed with a colon (not `https://…`), or undefined. */
function colonOf(text: string): { key: string; value: string } | undefined {
  const m = /^([^:：]+)[:：](.+)$/su.exec(text);
  if (!m || m[2]!.startsWith("//")) return undefined;
  const head = m[1]!.normalize("NFKC");
  return KEY.test(head) ? { key: camel(head), value: m[2]! } : undefined;
}

/**
 * Parses a command line into positional words, `key=value` pairs and `--flags`.
 * A word that begins with a quote is always positional (so `"a=b"` stays text);
 * `-5` is a number, not a flag.
 */
export function parseArgs(line: string): ParsedArgs {
  const { words: _, ...parsed } = parseLine(line);
  return parsed;
}

/** {@link parseArgs}, with how each positional word was typed (for the core: free text as typed, hints). */
export function parseLine(line: string): ParsedArgs & { words: WordInfo[] } {
  const positional: string[] = [];
  const words: WordInfo[] = [];
  const named: Record<string, string> = {};
  const flags: Record<string, true> = {};
  const repeated: string[] = [];
  let prev: { kind: "word" | "option" | "flag"; end: number; key?: string } | undefined;
  for (const tok of tokenize(line)) {
    // A fully quoted token is text; `key="quoted value"` still counts as key=value.
    const opt = tok.quoted ? null : optionOf(tok.text);
    if (opt && !opt.flag) {
      if (opt.key in named && !repeated.includes(opt.key)) repeated.push(opt.key);
      named[opt.key] = opt.value!;
      prev = { kind: "option", end: tok.end, key: opt.key };
      continue;
    }
    if (opt) {
      flags[opt.key] = true;
      prev = { kind: "flag", end: tok.end };
      continue;
    }
    positional.push(tok.text);
    const colon = tok.quoted ? undefined : colonOf(tok.text);
    words.push({
      raw: line.slice(tok.start, tok.end),
      ...(prev?.kind === "word" ? { gap: line.slice(prev.end, tok.start) } : {}),
      ...(prev?.kind === "option" ? { after: prev.key! } : {}),
      enclosed: tok.enclosed,
      ...(colon ? { colon } : {}),
    });
    prev = { kind: "word", end: tok.end };
  }
  return { positional, named, flags, ...(repeated.length ? { repeated } : {}), words };
}

/**
 * The words `from` on as typed, for free text (a complaint): one word typed in quotes
 * is what was inside them (`"box arrived crushed"`); more are kept as typed, quotes and spacing
 * too (`The "free shipping" banner`), options typed among them left out.
 */
export function restAsTyped(parsed: ParsedArgs, from: number): string {
  const text = parsed.positional.slice(from);
  const info = parsed.words?.slice(from);
  if (!info || info.length !== text.length) return text.join(" ");
  if (info.length === 1 && info[0]!.enclosed) return text[0]!;
  return info.map((w, i) => (i === 0 ? "" : (w.gap ?? " ")) + w.raw).join("");
}

// Characters that end or start a word or a key=value for the core's parser.
const PLAIN = /^[^\s"'“”‘’「」『』=＝]+$/;
// Identities and actors (`shell:bob`, `slack:T1:U1`, `api:shop#k1`) are written as they are: no
// command has an option named after a platform, so they never read as one typed with a colon.
const ACTOR = /^(shell|slack|discord|http|system|api|import):/;

/** `value` between `open` and its closing quote, if the parser reads that back as `value`. */
function wrapped(value: string, open: string): string | undefined {
  const s = open + value + QUOTES[open]!;
  try {
    const toks = scan(s, false);
    return toks.length === 1 && toks[0]!.text === value && toks[0]!.enclosed ? s : undefined;
  } catch {
    return undefined;
  }
}

/** `value` in quotes, `open`'s kind if that reads back, else another. */
function wrap(value: string, open: string): string {
  return wrapped(value, open) ?? quote(value, true);
}

/**
 * Quotes a value so the core's parser reads it back as one word (`always`: even a plain one),
 * and as text: `customer:angry` is quoted too, which unquoted would read as an option typed
 * with a colon (an identity is not: {@link ACTOR}).
 */
export function quote(value: string, always = false): string {
  const colon = colonOf(value) !== undefined && !ACTOR.test(value);
  if (!always && PLAIN.test(value) && !value.normalize("NFKC").startsWith("--") && !colon) return value;
  for (const open of ['"', "'", "「", "『"]) {
    const s = wrapped(value, open);
    if (s) return s;
  }
  // Every quote style would end early: quoted pieces side by side make one word (the tokenizer
  // joins them), the runs without `"` in "…" and each `"` in '…'. Nothing is changed.
  return value.split('"').map((run) => `"${run}"`).join(`'"'`);
}
