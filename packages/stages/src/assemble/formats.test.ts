import mammoth from 'mammoth';
import { extractText, getDocumentProxy } from 'unpdf';
import { describe, expect, it } from 'vitest';
import { renderDocx } from './docx.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ReportModel } from './model.js';
import { renderPdf } from './pdf.js';

const paragraph = (i: number) => ({
  text: `Paragraph ${i}: the response rate was ≥ 42.1% in the 10 mg arm (μ = 3), ${'with a long sentence that wraps '.repeat(6)}`,
  citations: [`study-protocol#p${i}`],
});
const model: ReportModel = {
  title: 'Clinical Study Report BTN-101',
  subtitle: 'Clinical Study Report',
  runId: 'run-1',
  review: { approved: true, reviewer: 'dr.lee', comment: null },
  sections: [
    ...['Synopsis', 'Introduction', 'Objectives', 'Study Design', 'Efficacy Results'].map((title, i) => ({
      sectionId: title.toLowerCase().replace(/ /g, '-'),
      title,
      status: 'ok' as const,
      repairRounds: 0,
      ...(i === 2 ? { revisedInRound: 1 } : {}),
      content: {
        title,
        paragraphs: Array.from({ length: 4 }, (_, p) => paragraph(p + 1)),
        figures: i === 4 ? [{ label: 'Response rate', value: 42.1, unit: '%', citation: 'efficacy-results#p2' }] : [],
        crossRefs: [],
      },
    })),
    {
      sectionId: 'safety-results',
      title: 'Safety Results',
      status: 'failed',
      error: { code: 'InvalidInput', message: 'needs source(s) safety-summary' },
      accepted: { reviewer: 'dr.lee', note: 'safety data\nfollow in the addendum' },
    },
    { sectionId: 'conclusions', title: 'Conclusions', status: 'held', error: { code: 'SafetyCheckFailed', message: 'off-script' } },
  ],
  sources: [{ docId: 'study-protocol', name: 'study-protocol.md', title: 'Study Protocol', paragraphs: 12 }],
  rejectedSources: [{ code: 'InvalidInput', message: 'source "scan.pdf": unreadable PDF' }],
  signOff: {
    approver: 'dr.lee',
    at: '2026-12-04T10:00:00.000Z',
    comment: 'signed',
    rounds: 2,
    sections: [
      { sectionId: 'synopsis', title: 'Synopsis', verdict: 'approve', reviewer: 'dr.lee', note: null, round: 1, at: '2026-12-04T09:00:00.000Z', sentBack: 0 },
      {
        sectionId: 'objectives',
        title: 'Objectives',
        verdict: 'approve',
        reviewer: 'dr.lee',
        note: null,
        round: 2,
        at: '2026-12-04T10:00:00.000Z',
        sentBack: 1,
      },
      {
        sectionId: 'safety-results',
        title: 'Safety Results',
        verdict: 'accept-missing',
        reviewer: 'dr.lee',
        note: 'safety data\nfollow in the addendum',
        round: 1,
        at: '2026-12-04T09:00:00.000Z',
        sentBack: 0,
      },
    ],
  },
};
const HEADINGS = [...model.sections.map((s, i) => `${i + 1}. ${s.title}`), 'Sources', 'Sign-off'];
const MARKER = 'Accepted as missing by dr.lee: safety data follow in the addendum';
/** What every format carries: the acceptance marker, the revision line, the sign-off. */
const IN_EVERY_FORMAT = [MARKER, 'Revised after review round 1.', 'Sign-off', 'Approved by: dr.lee', 'accepted as missing'];

describe('report formats from one model', () => {
  it('PDF: more than one page, every heading, the marker and the sign-off, an outline of sections, sources and sign-off', async () => {
    const bytes = await renderPdf(model);
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    expect(pdf.numPages).toBeGreaterThan(1);
    const { text } = await extractText(pdf, { mergePages: true });
    for (const line of [
      ...HEADINGS,
      ...IN_EVERY_FORMAT,
      'SECTION HELD FOR HUMAN REVIEW (SafetyCheckFailed): off-script',
      'Approved at: 2026-12-04T10:00:00.000Z',
    ])
      expect(text).toContain(line);
    // characters outside the standard fonts' encoding are written as look-alikes, not dropped
    expect(text).toContain('>= 42.1%');
    const outline = (await pdf.getOutline()) ?? [];
    expect(outline.map((o) => o.title)).toEqual(HEADINGS);
    // each bookmark points at a page of the document
    for (const o of outline) expect(await pdf.getPageIndex((o.dest as [{ num: number; gen: number }])[0])).toBeGreaterThanOrEqual(0);
  });

  it('Markdown, HTML and DOCX carry the marker, the revision line and the sign-off table', async () => {
    const md = renderMarkdown(model);
    const html = renderHtml(model);
    const docx = (await mammoth.extractRawText({ buffer: Buffer.from(await renderDocx(model)) })).value;
    for (const text of [md, html, docx]) for (const line of IN_EVERY_FORMAT) expect(text).toContain(line);
    expect(md).toContain('| 3. Objectives | approved (after 1 send-back) | dr.lee | 2 | 2026-12-04 10:00 UTC |  |');
    expect(md).toContain('> *Accepted as missing by dr.lee: safety data follow in the addendum*');
    expect(html).toContain('<a href="#sign-off">Sign-off</a>');
  });

  it('a reviewer note of 4,000 characters with markup: whole in the PDF over pages, escaped in HTML', async () => {
    const note = `<script>alert(1)</script> ${'zebrafish table 3 lacks the 10 mg arm; '.repeat(110)}`.slice(0, 4000);
    const times = note.split('zebrafish').length - 1;
    const long: ReportModel = {
      ...model,
      sections: model.sections.map((s) => (s.status === 'ok' ? s : { ...s, accepted: { reviewer: 'dr.lee', note } })),
      signOff: { ...model.signOff!, sections: model.signOff!.sections.map((d) => ({ ...d, note })) },
    };
    const pdf = await getDocumentProxy(new Uint8Array(await renderPdf(long)));
    const { text } = await extractText(pdf, { mergePages: true });
    // the whole note in the 2 placeholders (as one text) and in the 3 sign-off rows (a cell over pages)
    expect(text.replace(/\s+/g, ' ').split(note.replace(/\s+/g, ' ').trim()).length - 1).toBe(2);
    expect(text.split('zebrafish').length - 1).toBe(5 * times);
    expect(pdf.numPages).toBeGreaterThan(10);
    const html = renderHtml(long);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('without a per-section review there is no sign-off page', async () => {
    const plain = { ...model, signOff: null };
    expect(renderMarkdown(plain)).not.toContain('Sign-off');
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(await renderPdf(plain))), { mergePages: true });
    expect(text).not.toContain('Sign-off');
    expect(text).toContain('7. Conclusions');
  });
});
