/** Escapes a string for use inside a RegExp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Control characters other than tab and newline (escape sequences, NUL, bidi overrides). */
export const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

const ALL_CONTROL_CHARS = new RegExp(CONTROL_CHARS.source, "g");

/** `s` without control characters ({@link CONTROL_CHARS}: CR too, so CRLF becomes a line break); tabs and line breaks stay. */
export function withoutControls(s: string): string {
  return s.replace(ALL_CONTROL_CHARS, "");
}

/**
 * Characters that show as nothing though they are no format character: the Hangul fillers
 * (U+115F, U+1160, U+3164, half-width U+FFA0) and the blank braille pattern (U+2800), pasted
 * as "blank" text that trim() and \s do not see.
 */
const BLANKS = "\u115F\u1160\u2800\u3164\uFFA0";

/**
 * A space or an invisible character (zero-width space U+200B, joiners U+200C/U+200D, marks
 * U+200E/U+200F, word joiner U+2060, BOM U+FEFF, soft hyphen, the {@link BLANKS}).
 * `String.prototype.trim` keeps them, so "\u200b" would pass as a non-empty text that shows as
 * nothing. Not all of \p{Cf}. The tag characters (U+E0000–E007F) are {@link TAG}: they end
 * subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿), which are text, so they are trimmed only where they end no flag.
 */
const INVISIBLE = new RegExp(`^[\\s\\u00AD\\u180E\\u200B-\\u200F\\u2060-\\u2064\\uFEFF${BLANKS}]$`, "u");

/** A tag character (U+E0000–E007F): invisible by itself, the end of a flag after 🏴 (U+1F3F4). */
const TAG = /^[\u{E0000}-\u{E007F}]$/u;

/** Every invisible character (\p{Cf}, tag characters included, and the {@link BLANKS}): ids, SKUs and numbers hold none. */
const FORMAT_CHARS = new RegExp(`[\\p{Cf}${BLANKS}]`, "gu");

/** `s` without invisible characters anywhere (a zero-width space pasted into an id or a number). */
export function withoutInvisible(s: string): string {
  return s.replace(FORMAT_CHARS, "");
}

/**
 * `s` with full-width forms made plain, and nothing else: U+FF01–FF5E (`１２`, `－`, `，`, `Ａ`)
 * as their ASCII characters, the ideographic space U+3000 as a space. Unlike NFKC, which also
 * reads superscripts and circled digits as digits (`1²` as `12`, `⑤⓪` as `50`): a number typed
 * with them is refused, not read as another.
 */
export function foldWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, " ");
}

/**
 * `s` without spaces and invisible format characters at its ends (inside, they are kept: a ZWJ
 * emoji stays whole). Linear: a character-by-character walk from each end, not a `…+$` regex,
 * which backtracks quadratically on a long run of spaces that does not end the text.
 */
export function trimInvisible(s: string): string {
  let start = 0;
  while (start < s.length) {
    const ch = String.fromCodePoint(s.codePointAt(start)!);
    // Tag characters before any text end no flag.
    if (!INVISIBLE.test(ch) && !TAG.test(ch)) break;
    start += ch.length;
  }
  // The start of the whole character that ends at `end` (a surrogate pair is read as one).
  const before = (end: number) => (end - 2 >= start && /[\uDC00-\uDFFF]/.test(s[end - 1]!) && /[\uD800-\uDBFF]/.test(s[end - 2]!) ? end - 2 : end - 1);
  let end = s.length;
  while (end > start) {
    const k = before(end);
    const ch = s.slice(k, end);
    if (TAG.test(ch)) {
      // A run of tag characters: a flag's end after 🏴 (kept, and the text ends there), else blank.
      let r = k;
      while (r > start && TAG.test(s.slice(before(r), r))) r = before(r);
      if (r > start && s.slice(before(r), r) === "\u{1F3F4}") break;
      end = r;
      continue;
    }
    if (!INVISIBLE.test(ch)) break;
    end = k;
  }
  return s.slice(start, end);
}

/**
 * Splits a list typed in an argument (`skus=A,B`, `categories=家居，厨房`): on commas, full-width
 * commas and the ideographic comma `、`, which Chinese keyboards type; items trimmed, empty ones
 * dropped. With `known` names (case-insensitive), consecutive pieces that together spell a known
 * name, separators included, stay one item (the longest such run wins).
 */
export function splitList(s: string | undefined, known: readonly string[] = []): string[] {
  // Odd indexes hold the separators (a capturing split), so a run can be put back as typed.
  const parts = (s ?? "").split(/([,，、])/);
  const names = new Set(known.map((k) => k.trim().toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    let end = i;
    for (let j = parts.length - 1; j > i && names.size; j -= 2) {
      if (names.has(parts.slice(i, j + 1).join("").trim().toLowerCase())) {
        end = j;
        break;
      }
    }
    out.push(parts.slice(i, end + 1).join("").trim());
    i = end;
  }
  return out.filter(Boolean);
}

/**
 * A regex source matching `word` (as chat reads what is typed: NFKC, so full-width `ＡＢＣ（大）`
 * is `ABC(大)`) in text stored in either width: each printable ASCII character also matches its
 * full-width form (`(` matches `（`, `A` matches `Ａ`). A product name keeps the shop's own
 * punctuation (`保温杯（大号）`), and a typed word finds it however either was written.
 */
export function widthInsensitive(word: string): string {
  let out = "";
  for (const ch of word.normalize("NFKC")) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c < 0x7f) {
      const half = /[\\\][^-]/.test(ch) ? `\\${ch}` : ch;
      out += `[${half}${String.fromCodePoint(c + 0xfee0)}]`;
    } else {
      out += escapeRegex(ch);
    }
  }
  return out;
}

/**
 * A tracking number as people and systems write it ("1z 999 aa1", full-width "１Ｚ９９９"): the
 * same characters in one form (NFKC), spaces dropped, upper case; so chat, the API and the
 * import store one spelling and a correction compares like with like.
 */
export function normalizeTracking(s: string): string {
  return s.normalize("NFKC").replace(/\s+/g, "").toUpperCase();
}
