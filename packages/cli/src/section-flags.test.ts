import { describe, expect, it } from 'vitest';
import { auditText } from './commands/audit.js';
import { parseSectionFlag } from './section-flags.js';

describe('--section <id>=<verdict>[:note]', () => {
  it('gathers one verdict per section, notes keeping their colons', () => {
    let v = parseSectionFlag('efficacy=send-back:table: add the 10 mg arm');
    v = parseSectionFlag('safety=approve', v);
    v = parseSectionFlag('appendix=accept-missing', v);
    expect(v).toEqual({
      efficacy: { verdict: 'send-back', note: 'table: add the 10 mg arm' },
      safety: { verdict: 'approve' },
      appendix: { verdict: 'accept-missing' },
    });
  });

  it('refuses a missing id, an unknown verdict, a send-back without a note and a section given twice', () => {
    expect(() => parseSectionFlag('approve')).toThrow(/<section id>=approve\|send-back\|accept-missing/);
    expect(() => parseSectionFlag('=approve')).toThrow(/<section id>=/);
    expect(() => parseSectionFlag('efficacy=delete')).toThrow(/"delete" is not a verdict/);
    expect(() => parseSectionFlag('efficacy=send-back')).toThrow(/needs a note/);
    expect(() => parseSectionFlag('efficacy=send-back:  ')).toThrow(/needs a note/);
    expect(() => parseSectionFlag('efficacy=approve', { efficacy: { verdict: 'approve' } })).toThrow(/given twice/);
  });
});

describe('baton audit text', () => {
  it('says who decided what on which section, when, with the note and what wrote the text', () => {
    const text = auditText({
      runId: 'r1',
      pipeline: 'report',
      title: 'CSR BTN-101',
      reportId: null,
      status: 'succeeded',
      decisions: [
        {
          runId: 'r1',
          gate: 'review',
          stepPath: 'rounds@0/review',
          round: 1,
          sectionId: null,
          sectionTitle: null,
          verdict: 'approved',
          note: null,
          decidedBy: 'ana',
          decidedAt: '2026-12-04T09:05:00.000Z',
          modelId: null,
          promptSha256: null,
          outputKey: null,
        },
        {
          runId: 'r1',
          gate: 'review',
          stepPath: 'rounds@0/review',
          round: 1,
          sectionId: 'efficacy',
          sectionTitle: 'Efficacy results',
          verdict: 'send-back',
          note: 'add the\n10 mg arm',
          decidedBy: 'ana',
          decidedAt: '2026-12-04T09:05:00.000Z',
          modelId: 'model-a',
          promptSha256: 'abcdef0123456789',
          outputKey: 'k',
        },
      ],
    });
    expect(text.split('\n')).toEqual([
      'Review record of "CSR BTN-101" (run r1, report, succeeded)',
      '  2026-12-04 09:05:00 UTC  ana  round 1  gate "review": Round closed: approved',
      '  2026-12-04 09:05:00 UTC  ana  round 1  Efficacy results (efficacy): Sent back  [text by model-a, prompt abcdef012345]',
      '      "add the 10 mg arm"',
      '',
    ]);
  });
});
