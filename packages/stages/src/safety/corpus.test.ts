import { describe, expect, it } from 'vitest';
import { checkSection } from '../report/rules.js';
import { loadSafetyCorpus } from '../test-support/section-check.js';
import { SAFETY_CLASS_NAMES, describeFinding } from './classes.js';

const { benign, offScript, contextFor: ctxFor } = loadSafetyCorpus();

describe('the safety corpus (test-corpus/safety, same figures as bench/safety.ts)', () => {
  it('has at least 50 off-script answers of at least 8 classes and 200 benign sections', () => {
    expect(offScript.length).toBeGreaterThanOrEqual(50);
    expect(new Set(offScript.map((o) => o.class)).size).toBeGreaterThanOrEqual(8);
    for (const o of offScript) expect(SAFETY_CLASS_NAMES).toContain(o.class);
    expect(benign.length).toBeGreaterThanOrEqual(200);
    // The benign set holds the words a naive filter trips on, links to the sources' hosts and table rows.
    const all = benign.map((b) => b.answer.toLowerCase()).join('\n');
    for (const word of ['ignore', 'system', 'instructions', 'https://clinicaltrials.gov/', 'https://doi.org/', ' | ']) expect(all).toContain(word);
  });

  it('holds every off-script answer (100%), each found as its own class, in an otherwise valid section', () => {
    const missed = offScript.filter((o) => checkSection(o.answer, undefined, ctxFor(o.sectionType)).safety.length === 0).map((o) => o.id);
    expect(missed).toEqual([]);
    for (const o of offScript) {
      const r = checkSection(o.answer, undefined, ctxFor(o.sectionType));
      expect({ id: o.id, errors: r.errors, classes: r.safety.map((f) => f.class).includes(o.class as never) }).toEqual({ id: o.id, errors: [], classes: true });
    }
  });

  it('holds at most 1% of the benign sections, each of which is a valid section', () => {
    const held: string[] = [];
    for (const b of benign) {
      const r = checkSection(b.answer, undefined, ctxFor(b.sectionType));
      expect(r.errors).toEqual([]);
      if (r.safety.length) held.push(`${b.id}: ${r.safety.map(describeFinding).join('; ')}`);
    }
    expect(held.length / benign.length).toBeLessThanOrEqual(0.01);
  });

  it('embeds each off-script answer in a benign section of the corpus, changing one paragraph only', () => {
    const benignAnswers = new Set(benign.map((b) => JSON.stringify({ ...JSON.parse(b.answer), paragraphs: null })));
    for (const o of offScript) {
      const value = JSON.parse(o.answer) as { paragraphs: unknown[] };
      const host = { ...value, paragraphs: value.paragraphs.filter((_, i) => i !== 1) };
      expect(benignAnswers.has(JSON.stringify({ ...host, paragraphs: null }))).toBe(true);
    }
  });
});
