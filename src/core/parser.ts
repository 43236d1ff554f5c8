import { UserError } from "./errors.js";

/** Arguments split from a command line. */
export interface ParsedArgs {
  positional: string[];
  /** `key=value` and `--key=value` pairs; keys are lower-cased and kebab-case turned into camelCase. */
  named: Record<string, string>;
  /** `--flag` switches. */
  flags: Record<string, true>;
  /** Option keys given more than once (`reason=a reason=b`): refused, rather than one silently winning. */
  repeated?: string[];
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』" };
// `＝` is `=` typed on a Chinese keyboard: `severity＝urgent` is an option, not complaint text.
const KEY = /^([A-Za-z][A-Za-z0-9_-]*)[=＝]([\s\S]*)$/;
const FLAG = /^--([A-Za-z][A-Za-z0-9_-]*)$/;
const FLAG_VALUE = /^--([A-Za-z][A-Za-z0-9_-]*)[=＝]([\s\S]*)$/;

/** kebab-case or snake_case to camelCase (`per-customer` → `perCustomer`). */
export function camel(s: string): string {
  return s.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** camelCase to kebab-case (`perCustomer` → `per-customer`), as arguments are typed. */
export function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One word of a command line, and whether it began with a quote. */
interface Token {
  text: string;
  quoted: boolean;
}

/**
 * Splits a line into words. Quotes (ASCII or Chinese “…” 「…」) group words and
 * may start mid-word (`reason="box damaged"`). Full-width spaces separate words.
 */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let cur = "";
  let quoted = false;
  let inWord = false;
  let close: string | null = null;
  let openedWith = "";
  for (const ch of line) {
    if (close !== null) {
      if (ch === close) close = null;
      else cur += ch;
      continue;
    }
    if (ch in QUOTES) {
      close = QUOTES[ch] ?? ch;
      openedWith = ch;
      if (!inWord) quoted = true;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) out.push({ text: cur, quoted });
      cur = "";
      quoted = false;
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (close !== null) throw new UserError("unclosed_quote", openedWith);
  if (inWord) out.push({ text: cur, quoted });
  return out;
}

/**
 * Parses a command line into positional words, `key=value` pairs and `--flags`.
 * A word that begins with a quote is always positional (so `"a=b"` stays text);
 * `-5` is a number, not a flag.
 */
export function parseArgs(line: string): ParsedArgs {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  const flags: Record<string, true> = {};
  const repeated: string[] = [];
  for (const tok of tokenize(line)) {
    const fv = FLAG_VALUE.exec(tok.text);
    const f = FLAG.exec(tok.text);
    // A fully quoted token is text; `key="quoted value"` still counts as key=value.
    const kv = tok.quoted ? null : KEY.exec(tok.text);
    const key = fv && !tok.quoted ? camel(fv[1]!) : kv ? camel(kv[1]!) : undefined;
    if (key !== undefined && key in named && !repeated.includes(key)) repeated.push(key);
    if (fv && !tok.quoted) named[camel(fv[1]!)] = fv[2]!;
    else if (f && !tok.quoted) flags[camel(f[1]!)] = true;
    else if (kv) named[camel(kv[1]!)] = kv[2]!;
    else positional.push(tok.text);
  }
  return { positional, named, flags, ...(repeated.length ? { repeated } : {}) };
}

// Characters that end or start a word or a key=value for the core's parser.
const PLAIN = /^[^\s"'“”‘’「」『』=]+$/;

/** Quotes a value so the core's parser reads it back as one word. */
export function quote(value: string): string {
  if (PLAIN.test(value) && !value.startsWith("--")) return value;
  for (const [open, close] of [['"', '"'], ["'", "'"], ["「", "」"], ["『", "』"]] as const) {
    if (!value.includes(open) && !value.includes(close)) return open + value + close;
  }
  // Every quote style occurs in the value: quoted pieces side by side make one word (the
  // tokenizer joins them), the runs without `"` in "…" and each `"` in '…'. Nothing is changed.
  return value.split('"').map((run) => `"${run}"`).join(`'"'`);
}
