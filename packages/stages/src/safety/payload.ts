import type { SafetyFinding } from './classes.js';
import type { InvisibleHit } from './normalise.js';

const INVISIBLE_REASON: Record<InvisibleHit['kind'], string> = {
  'zero-width': 'zero-width characters hidden in the text',
  'bidi-control': 'bidirectional control characters that reorder what is displayed',
  'unicode-tag': 'Unicode tag characters, which spell text no one sees',
  'variation-selector': 'variation selectors, which can smuggle hidden data',
  'private-use': 'private-use characters with no agreed meaning',
  'format-control': 'invisible formatting characters',
  'control-character': 'control characters, which no report text contains and some formats cannot hold',
};

/** One finding per kind of invisible character stripped by the normaliser. */
export function invisibleFindings(hits: readonly InvisibleHit[]): SafetyFinding[] {
  return hits.map((h) => ({ class: 'invisible-characters', reason: `${INVISIBLE_REASON[h.kind]} (${h.count})`, excerpt: h.codePoints.join(' ') }));
}

const BLOBS: [RegExp, string][] = [
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/])/g, 'a base64 blob'],
  [/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])/g, 'a base64url blob'],
  [/\b[0-9a-fA-F]{32,}\b/g, 'a long hex string'],
  [/(?:%[0-9a-fA-F]{2}){6,}/g, 'a percent-encoded string'],
  [/(?:\\x[0-9a-fA-F]{2}){4,}|(?:\\u[0-9a-fA-F]{4}){3,}|(?:&#x?[0-9a-fA-F]{2,5};){4,}/g, 'escaped character codes'],
];

/** Encoded blobs in the (NFKC, case-preserving) text: long base64, hex, percent-encoded or escaped runs. */
export function encodedFindings(text: string): SafetyFinding[] {
  const out: SafetyFinding[] = [];
  for (const [re, what] of BLOBS) {
    for (const m of text.matchAll(re)) {
      const s = m[0];
      // A word run with no digits or no mixed case is prose or an identifier, not a blob.
      if (what.startsWith('a base64') && !(/[0-9]/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s))) continue;
      if (what.startsWith('a base64') && /^[A-Za-z-]+$/.test(s)) continue;
      out.push({ class: 'encoded-payload', reason: `contains ${what}`, excerpt: s.slice(0, 80) });
      break;
    }
  }
  return out;
}
