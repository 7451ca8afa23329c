import { createMemoryBlobStore } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { loadReviewContent } from './review-sections.js';
import { reviewSection } from './views/review-section.js';

/** A second review round of the report: one section approved in round 1, one written again after a note, one that failed. */
async function roundTwo() {
  const blobs = createMemoryBlobStore();
  await blobs.put('docs/protocol.json', JSON.stringify({ name: 'protocol.pdf', paragraphs: [{ id: 'protocol#p1', text: 'Arm A: 42 patients.' }] }));
  const raw = (text: string, round: number) =>
    JSON.stringify({
      modelId: 'm-1',
      promptSha256: 'abc',
      round,
      json: { title: 'Efficacy', paragraphs: [{ text, citations: ['protocol#p1', 'protocol#p9'] }] },
    });
  await blobs.put('out/efficacy-r1.json', raw('Rewritten with the 10 mg arm.', 0));
  await blobs.put('out/synopsis.json', raw('Synopsis text.', 0));
  const sources = [{ key: 'docs/protocol.json', name: 'protocol.pdf' }];
  const payload = {
    reportTitle: 'CSR',
    sectionIndex: [
      { sectionId: 'synopsis', title: 'Synopsis' },
      { sectionId: 'efficacy', title: 'Efficacy results' },
      { sectionId: 'appendix', title: 'Appendix' },
    ],
    sections: [
      { status: 'succeeded', output: { task: { sectionId: 'synopsis', title: 'Synopsis' }, sources, generated: { outputKey: 'out/synopsis.json' } } },
      {
        status: 'succeeded',
        output: {
          task: { sectionId: 'efficacy', title: 'Efficacy results' },
          sources,
          revision: { round: 1, reviewer: 'ana', note: 'add the 10 mg arm' },
          generated: { outputKey: 'out/efficacy-r1.json' },
        },
      },
      { status: 'failed', error: { code: 'InvalidInput', message: 'needs source(s) appendix-data' } },
    ],
    pending: ['efficacy', 'appendix'],
    decided: { synopsis: { verdict: 'approve', reviewer: 'ana', note: null, round: 1, at: '2026-12-04T09:00:00.000Z' } },
  };
  return { blobs, payload };
}

describe('loadReviewContent', () => {
  it('names a failed section from the section index, shows earlier decisions and the note a text was rewritten after', async () => {
    const { blobs, payload } = await roundTwo();
    const { sections } = await loadReviewContent(payload, blobs);
    expect(sections.map((s) => [s.id, s.title, s.state])).toEqual([
      ['synopsis', 'Synopsis', 'ready'],
      ['efficacy', 'Efficacy results', 'ready'],
      ['appendix', 'Appendix', 'failed'],
    ]);
    expect(sections[0]?.decided).toEqual({ verdict: 'approve', reviewer: 'ana', note: null, round: 1 });
    expect(sections[1]?.revision).toEqual({ note: 'add the 10 mg arm', reviewer: 'ana', round: 1 });
    expect(sections[1]?.paragraphs[0]?.text).toBe('Rewritten with the 10 mg arm.');
    // a citation that is not among the sources says so, instead of vanishing
    expect(sections[1]?.excerpts).toEqual([
      { id: 'protocol#p1', source: 'protocol.pdf', text: 'Arm A: 42 patients.' },
      { id: 'protocol#p9', source: 'not found among the sources', text: '' },
    ]);
    expect(sections[2]?.failure).toBe('InvalidInput: needs source(s) appendix-data');

    const failed = reviewSection(sections[2]!, 3, {}).value;
    expect(failed).not.toContain('value="approve"'); // nothing written: approve is not offered
    expect(failed).toContain('Send back (retry)');
    expect(failed).toContain('value="accept-missing"');
    const decided = reviewSection(sections[0]!, 1, undefined).value;
    expect(decided).toContain('Decided in round 1: approved</b> by ana. It is not asked again.');
    expect(decided).not.toContain('<fieldset');
    expect(reviewSection(sections[1]!, 2, {}).value).toContain('Written again after the note of ana in round 1:</b> “add the 10 mg arm”');
  });

  it("shows a section that stayed invalid after its repair rounds with its last text, the validator's findings, and that the report has a placeholder", async () => {
    const blobs = createMemoryBlobStore();
    await blobs.put(
      'out/objectives-repair-2.json',
      JSON.stringify({ modelId: 'm-1', round: 2, json: { paragraphs: [{ text: 'Objectives as the model wrote them.', citations: ['unknown-source#p999'] }] } }),
    );
    const error = {
      code: 'ValidationFailed',
      message: 'section "objectives" is still invalid after 2 repair round(s)',
      details: {
        sectionId: 'objectives',
        errors: ['paragraphs.0: citation "unknown-source#p999" does not name a source paragraph'],
        outputKey: 'out/objectives-repair-2.json',
        round: 2,
      },
    };
    const payload = { sectionIndex: [{ sectionId: 'objectives', title: 'Study Objectives' }], sections: [{ status: 'failed', error }] };
    const [section] = (await loadReviewContent(payload, blobs)).sections;
    expect(section).toMatchObject({ id: 'objectives', title: 'Study Objectives', state: 'failed', findings: error.details.errors });
    const page = reviewSection(section!, 3, {}).value;
    expect(page).toContain('Objectives as the model wrote them.');
    expect(page).toContain('This text is not in the report (a placeholder stands in its place).');
    expect(page).toContain('<li>paragraphs.0: citation &quot;unknown-source#p999&quot; does not name a source paragraph</li>');
    expect(page).not.toContain('No text was produced');
    expect(page).not.toContain('found nothing to fix');
  });

  it('leaves a payload whose sections are plain data to be shown as data', async () => {
    const { sections, payload } = await loadReviewContent(
      { sections: [{ status: 'succeeded', output: { heading: 'Revenue', text: 'Up 4%' } }] },
      createMemoryBlobStore(),
    );
    expect(sections).toEqual([]);
    expect(payload).toEqual({ sections: [{ status: 'succeeded', output: { heading: 'Revenue', text: 'Up 4%' } }] });
  });

  it('says where the text is when the dashboard has no blob store', async () => {
    const { sections } = await loadReviewContent({ sections: [{ task: { sectionId: 'x', title: 'X' }, generated: { outputKey: 'k.json' } }] }, undefined);
    expect(sections[0]?.loadError).toMatch(/^The text is in the blob store at k\.json; this dashboard was started without the blob store/);
  });

  it('says when a text cannot be read instead of showing nothing', async () => {
    const { sections } = await loadReviewContent(
      { sections: [{ task: { sectionId: 'x', title: 'X' }, generated: { outputKey: 'missing.json' } }] },
      createMemoryBlobStore(),
    );
    expect(sections[0]?.loadError).toMatch(/^The text at missing\.json could not be read/);
  });
});
