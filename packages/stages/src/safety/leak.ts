import { normaliseForMatching } from './normalise.js';

/** Consecutive words of a protected text that count as a verbatim leak. */
export const LEAK_SHINGLE_WORDS = 7;

/**
 * The word shingles of the texts the model must not repeat (its system prompt, the prompt
 * template's fixed wording). Template placeholders split a text: no shingle spans one.
 */
export function leakShingles(texts: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const t of texts) {
    for (const part of t.split(/\{\{\w+\}\}/)) {
      const words = normaliseForMatching(part).words.split(' ').filter(Boolean);
      for (let i = 0; i + LEAK_SHINGLE_WORDS <= words.length; i++) out.add(words.slice(i, i + LEAK_SHINGLE_WORDS).join(' '));
    }
  }
  return out;
}

/** The first shingle of `words` (normalised words) found among `shingles`, if any. */
export function findLeak(words: string, shingles: ReadonlySet<string>): string | undefined {
  if (shingles.size === 0) return undefined;
  const w = words.split(' ');
  for (let i = 0; i + LEAK_SHINGLE_WORDS <= w.length; i++) {
    const s = w.slice(i, i + LEAK_SHINGLE_WORDS).join(' ');
    if (shingles.has(s)) return s;
  }
  return undefined;
}
