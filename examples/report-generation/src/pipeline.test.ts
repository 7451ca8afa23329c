import { getText } from '@baton/core/engine';
import { clinicalStudyReport } from '@baton/stages';
import JSZip from 'jszip';
import mammoth from 'mammoth';
import { describe, expect, it } from 'vitest';
import { attemptsOf, runReport } from './run-report.test-helper.js';

const TITLES = clinicalStudyReport.sections.map((s) => s.title);
const index = (type: string): number => clinicalStudyReport.sections.findIndex((s) => s.type === type);
type Output = {
  report: { docxKey: string; markdownKey: string; htmlKey: string; sections: Record<string, number> };
  sections: { status: string; output?: Record<string, unknown>; error?: { code: string; message: string } }[];
};

describe('report pipeline on the local engine with the offline model', () => {
  it('writes a DOCX, Markdown and HTML report with every section title and citations', async () => {
    const { outcome, blobs, reviews } = await runReport();
    expect(outcome.status).toBe('succeeded');
    expect(reviews).toEqual(['review']);
    const out = (outcome as { output: Output }).output;
    expect(out.report.sections).toEqual({ total: 9, ok: 9, failed: 0, held: 0, repaired: 0 });
    const docx = Buffer.from(await blobs.get(out.report.docxKey));
    const zip = await JSZip.loadAsync(docx);
    expect(zip.file('word/document.xml')).not.toBeNull();
    const text = (await mammoth.extractRawText({ buffer: docx })).value;
    for (const title of TITLES) expect(text).toContain(title);
    for (const cite of ['[study-protocol#p1]', '[efficacy-results#p', '[safety-summary#p', '[investigator-brochure#p']) expect(text).toContain(cite);
    expect(text).toContain('Sources');
    const md = await getText(blobs, out.report.markdownKey);
    const html = await getText(blobs, out.report.htmlKey);
    for (const title of TITLES) {
      expect(md).toContain(`## ${TITLES.indexOf(title) + 1}. ${title}`);
      expect(html).toContain(title);
    }
    expect(md).not.toContain('placeholder');
  });

  it('retries a throttled section and the section succeeds', async () => {
    const { outcome, info } = await runReport({ faults: { throttleSections: ['synopsis'] } });
    expect(outcome.status).toBe('succeeded');
    const path = `sections[${index('synopsis')}]/generate`;
    expect(attemptsOf(info, path).map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'ThrottlingException'],
      [2, 'succeeded', undefined],
    ]);
    expect(info.retries).toEqual([expect.objectContaining({ stepPath: path, attempt: 1, code: 'ThrottlingException' })]);
    expect((outcome as { output: Output }).output.sections[index('synopsis')]!.status).toBe('succeeded');
  });

  it('repairs an invalid section with a new prompt that contains the validator errors', async () => {
    const { outcome, info, blobs, runId, model } = await runReport({ faults: { invalidSections: ['objectives'] } });
    expect(outcome.status).toBe('succeeded');
    const i = index('objectives');
    expect(attemptsOf(info, `sections[${i}]/validate`)).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'ValidationFailed' }) }),
    ]);
    expect(attemptsOf(info, `sections[${i}]/repair-loop@0/repair`)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    const prompt = await getText(blobs, `sections/${runId}/objectives/repair-1.prompt.txt`);
    expect(prompt).toContain('You made these mistakes:');
    expect(prompt).toContain('- paragraphs.0: citation "unknown-source#p999" does not name a source paragraph');
    const calls = model.calls.filter((c) => c.metadata?.sectionId === 'objectives');
    expect(calls.map((c) => c.metadata?.purpose)).toEqual(['generate', 'repair']);
    expect(JSON.stringify(calls[1]!.messages)).not.toEqual(JSON.stringify(calls[0]!.messages));
    expect(calls[1]!.messages[0]).toEqual(calls[0]!.messages[0]);
    const out = (outcome as { output: Output }).output;
    expect(out.report.sections).toMatchObject({ ok: 9, repaired: 1 });
  });

  it('ends a section that stays invalid as a placeholder and assembles the rest', async () => {
    const { outcome, info, blobs } = await runReport({ faults: { persistentInvalidSections: ['discussion'] } });
    expect(outcome.status).toBe('succeeded');
    const i = index('discussion');
    const out = (outcome as { output: Output }).output;
    expect(out.sections[i]).toMatchObject({ status: 'failed', error: { code: 'ValidationFailed' } });
    expect(attemptsOf(info, `sections[${i}]/repair-loop@0/repair`)).toHaveLength(1);
    expect(attemptsOf(info, `sections[${i}]/repair-loop@1/repair`)).toEqual([expect.objectContaining({ status: 'failed' })]);
    expect(out.report.sections).toMatchObject({ total: 9, ok: 8, failed: 1 });
    const md = await getText(blobs, out.report.markdownKey);
    expect(md).toMatch(/## 8\. Discussion\n\n> \*\*SECTION NOT GENERATED \(ValidationFailed\): section "discussion" is still invalid after 2 repair round/);
    const text = (await mammoth.extractRawText({ buffer: Buffer.from(await blobs.get(out.report.docxKey)) })).value;
    expect(text).toContain('SECTION NOT GENERATED (ValidationFailed)');
    expect(text).toContain('Conclusions');
  });

  it('routes an off-script output to human review without any retry', async () => {
    const { outcome, info, blobs } = await runReport({ faults: { offScriptSections: ['conclusions'] } });
    expect(outcome.status).toBe('succeeded');
    const i = index('conclusions');
    expect(attemptsOf(info, `sections[${i}]/generate`)).toHaveLength(1);
    expect(attemptsOf(info, `sections[${i}]/validate`)).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'SafetyCheckFailed', retryable: false }) }),
    ]);
    expect(info.attempts.filter((a) => a.stepPath.startsWith(`sections[${i}]/repair`))).toEqual([]);
    expect(info.retries).toEqual([]);
    const out = (outcome as { output: Output }).output;
    expect(out.sections[i]!.output?.flagged).toMatchObject({ status: 'needs-human-review' });
    expect(out.report.sections).toMatchObject({ held: 1, ok: 8 });
    expect(await getText(blobs, out.report.markdownKey)).toContain('SECTION HELD FOR HUMAN REVIEW (SafetyCheckFailed)');
  });

  it('records a bad source as a failed ingest item, lists it as rejected and keeps the other sections', async () => {
    const { sampleSources } = await import('./run-report.test-helper.js');
    const bad = { name: 'scan.pdf', bytes: new Uint8Array(Buffer.from('not really a pdf')) };
    const { outcome, info, blobs } = await runReport({ sources: [...sampleSources(), bad] });
    expect(outcome.status).toBe('succeeded');
    const failed = info.attempts.filter((a) => a.status === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({
        stepPath: 'ingest[5]/ingest-file',
        error: expect.objectContaining({ code: 'InvalidInput', message: expect.stringContaining('source "scan.pdf": unreadable PDF') }),
      }),
    ]);
    const out = (outcome as { output: Output }).output;
    expect(out.report.sections).toMatchObject({ ok: 9 });
    expect(await getText(blobs, out.report.markdownKey)).toContain('REJECTED (InvalidInput): source "scan.pdf": unreadable PDF');
  });

  it('fails the sections whose required source is missing, and only those', async () => {
    const { sampleSources } = await import('./run-report.test-helper.js');
    const { outcome } = await runReport({ sources: sampleSources(['safety-summary.docx']) });
    const out = (outcome as { output: Output }).output;
    const failed = out.sections.map((s, i) => [clinicalStudyReport.sections[i]!.type, s.status]).filter(([, s]) => s === 'failed');
    expect(failed).toEqual([['safety-results', 'failed']]);
    expect(out.sections[index('safety-results')]!.error?.message).toMatch(/needs source\(s\) safety-summary/);
    expect(out.report.sections).toMatchObject({ ok: 8, failed: 1 });
  });
});
