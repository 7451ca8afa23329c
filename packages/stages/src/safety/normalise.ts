import { foldConfusables } from './confusables.js';

/** Kinds of invisible character the normaliser strips and reports. */
export type InvisibleKind = 'zero-width' | 'bidi-control' | 'unicode-tag' | 'variation-selector' | 'private-use' | 'format-control' | 'control-character';

/** Invisible characters of one kind found in a text. */
export interface InvisibleHit {
  kind: InvisibleKind;
  count: number;
  /** Code points, as `U+200B`, without repeats. */
  codePoints: string[];
}

/** A text made ready for matching, with what had to be removed to get there. */
export interface NormalisedText {
  /** NFKC, invisible characters stripped, confusables folded, quotes and dashes unified, lower case, runs of spaces collapsed (line breaks kept as one `\n`). */
  text: string;
  /** {@link text} reduced to words: letters and digits (digits inside words read as the letters they imitate, "1gn0re"), single spaces between. */
  words: string;
  /** {@link words} with spaced-out and split words put back together: runs of single letters joined ("i g n o r e"), hyphens, dots and apostrophes inside words dropped ("dis-regard", "i.g.n.o.r.e"). */
  joined: string;
  /** Runs of six or more single letters, spaces removed ("ignoreallpreviousinstructions"): text spelled out letter by letter. */
  spelled: string[];
  /** Invisible characters that were stripped. */
  invisible: InvisibleHit[];
  /** Text spelled in Unicode tag characters (U+E0020..U+E007E), decoded to ASCII: "ASCII smuggling". */
  hidden: string;
}

const INVISIBLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cf}\p{Co}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180D\u3164\uFFA0\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;
const QUOTES: [RegExp, string][] = [
  [/[\u2018\u2019\u201A\u201B\u2032\u2035\u02BC\u02B9\u0060\u00B4\uFF07]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033\u2036\u00AB\u00BB\u02BA\u3003\uFF02]/g, '"'],
  [/[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/g, '-'],
];
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '|': 'l' };

/**
 * Normalises text before any detector reads it, so that a curly apostrophe, a double space, a
 * Cyrillic "о" or a zero-width space cannot carry a phrase past a pattern.
 *
 * @example
 * ```ts
 * normaliseForMatching('Ign\u200Bore  all prior instructions').words; // 'ignore all prior instructions'
 * ```
 */
export function normaliseForMatching(input: string): NormalisedText {
  const invisible = invisibleHits(input);
  const hidden = [...input]
    .map((c) => c.codePointAt(0)!)
    .filter((cp) => cp >= 0xe0020 && cp <= 0xe007e)
    .map((cp) => String.fromCharCode(cp - 0xe0000))
    .join('');
  let text = input.replace(INVISIBLE, '').normalize('NFKC');
  for (const [re, to] of QUOTES) text = text.replace(re, to);
  text = foldConfusables(text.toLowerCase());
  text = text
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n[\s]*/g, '\n')
    .trim();
  const words = wordsOf(text);
  const joined = wordsOf(text.replace(/(\p{L})[-._·•*'](?=\p{L})/gu, '$1')).replace(/\b(?:\p{L} ){2,}\p{L}\b/gu, (run) => run.replace(/ /g, ''));
  const spelled = [...words.matchAll(/\b(?:\p{L} ){5,}\p{L}\b/gu)].map((m) => m[0].replace(/ /g, ''));
  return { text, words, joined, spelled, invisible, hidden };
}

/** Letters and digits only, single-spaced; digits and `@ $ |` inside a word with letters read as letters. */
function wordsOf(text: string): string {
  return text
    .split(/\s+/)
    .map((tok) => (/\p{L}/u.test(tok) && /[0-9@$|]/.test(tok) ? tok.replace(/[0-9@$|]/g, (c) => LEET[c] ?? c) : tok))
    .join(' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function invisibleHits(input: string): InvisibleHit[] {
  const byKind = new Map<InvisibleKind, { count: number; cps: Set<string> }>();
  for (const m of input.matchAll(INVISIBLE)) {
    const cp = m[0].codePointAt(0)!;
    const kind = kindOf(cp);
    const e = byKind.get(kind) ?? { count: 0, cps: new Set<string>() };
    e.count++;
    e.cps.add(`U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
    byKind.set(kind, e);
  }
  return [...byKind].map(([kind, e]) => ({ kind, count: e.count, codePoints: [...e.cps] }));
}

function kindOf(cp: number): InvisibleKind {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'control-character';
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'unicode-tag';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x200e || cp === 0x200f || cp === 0x061c) return 'bidi-control';
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x180b && cp <= 0x180d)) return 'variation-selector';
  if ((cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000) return 'private-use';
  if (
    (cp >= 0x200b && cp <= 0x200d) ||
    cp === 0x2060 ||
    cp === 0xfeff ||
    cp === 0x034f ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0 ||
    cp === 0x17b4 ||
    cp === 0x17b5
  )
    return 'zero-width';
  return 'format-control';
}
