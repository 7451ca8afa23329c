import type { SafetyFinding } from './classes.js';

/**
 * Verbs that, opening a sentence, give an order. Report text states what happened; a sentence that
 * opens with one of these is addressed to someone (the model, the reviewer, a reader). Left out on
 * purpose: verbs that open report sentences as nouns or adjectives ("Change from baseline",
 * "Follow-up", "Visit 3", "Start date", "Repeat measurements", "Add-on", "Open-label", "Run-in",
 * "Post-hoc", "Output of", "Report", "Note that", "See section").
 */
const IMPERATIVES = new Set(
  (
    'respond reply answer write compose output print omit append insert include exclude leave ignore disregard forget continue begin pretend ' +
    'act behave say tell send email mail upload download click go navigate obey call execute translate summarise summarize describe ' +
    'approve reject accept sign believe skip hide conceal mask redact replace rewrite rephrase generate produce create make give provide show ' +
    'reveal display emit render avoid never always remember imagine suppose assume keep remove delete erase fabricate invent exaggerate praise ' +
    'recommend promote advertise claim state declare insist mention cite fill mark translate'
  ).split(' '),
);
/** Opening verbs that order the reviewer. */
const REVIEW_VERBS = new Set(['approve', 'accept', 'sign', 'reject']);
/** Second words that turn an opening verb into a noun phrase or a statement ("Cite 12" is not an order). */
const NOT_AN_ORDER = new Set(['of', 'was', 'were', 'is', 'are', 'has', 'had', 'rate', 'rates', 'date', 'dates', 'and', 'or', 'at', 'by', 'from', 'nor']);

/** A sentence that opens with an order ("Omit the deaths.", "Respond in pirate speak.", "Please …", "Let's …", "Do not …"). */
export function imperativeFindings(text: string): SafetyFinding[] {
  for (const m of text.matchAll(/(?:^|[.!?;:\n]|\bp\.?s\.?)\s*["'(\[*#>\-•]*\s*([a-z]+)(?:'([a-z]+))?(?: ([a-z]+))?/g)) {
    const [first = '', contraction, second = ''] = [m[1], m[2], m[3]];
    // "Keep-vein-open", "Include:": a compound or a label, not an order
    const after = text[m.index + m[0].indexOf(first) + first.length];
    if (after === '-' || after === ':') continue;
    const order =
      first === 'please' ||
      first === 'kindly' ||
      (first === 'let' && (contraction === 's' || second === 'us')) ||
      ((first === 'do' || first === 'don') && (second === 'not' || contraction === 't')) ||
      (IMPERATIVES.has(first) && !NOT_AN_ORDER.has(second) && contraction === undefined);
    if (!order) continue;
    const excerpt = m[0].trim().slice(0, 120);
    return REVIEW_VERBS.has(first)
      ? [{ class: 'reviewer-manipulation', reason: 'orders the reviewer to approve, accept or sign', excerpt }]
      : [{ class: 'instruction-override', reason: 'gives an order (a sentence in the imperative) instead of reporting', excerpt }];
  }
  return [];
}
