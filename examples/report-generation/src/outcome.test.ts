import { clinicalStudyReport, createHostileSourceCorpus } from '@baton/stages';
import { describe, expect, it } from 'vitest';
import { runReport, sampleSources } from './run-report.test-helper.js';

const ALL_SECTIONS = clinicalStudyReport.sections.map((s) => s.type);

describe('outcome honesty: the report pipeline', () => {
  it('a report with 0 of 9 sections generated fails with ReportIncomplete; the partial report is still written', async () => {
    const { outcome, info, blobs } = await runReport({ faults: { persistentInvalidSections: ALL_SECTIONS } });
    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'ReportIncomplete', message: 'report incomplete: 0 of 9 sections generated; the run needs at least 1 (1)' },
    });
    expect(info.status).toBe('failed');
    expect(info.attempts.filter((a) => a.stepPath === 'check-outcome').map((a) => a.status)).toEqual(['failed']);
    expect((await blobs.list('reports/')).some((k) => k.endsWith('report.md'))).toBe(true);
  });

  it('a report with missing sections above the minimum succeeds and says how many are missing at $.outcome', async () => {
    const { outcome } = await runReport({ faults: { persistentInvalidSections: ALL_SECTIONS.slice(0, 2) } });
    expect(outcome.status).toBe('succeeded');
    expect((outcome as { output: { outcome: unknown } }).output.outcome).toEqual({ total: 9, generated: 7, missing: 2, minimum: 1 });
  });

  it('every run whose sources were all rejected fails, naming each file and its reason', async () => {
    const hostile = createHostileSourceCorpus().map((c) => ({ name: c.name, bytes: c.bytes }));
    const dotFile = { name: '.env', bytes: new Uint8Array(Buffer.from('SECRET=1')) };
    const { outcome, info } = await runReport({ sources: [...hostile, dotFile] });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'InvalidInput' } });
    const message = (outcome as { error: { message: string } }).error.message;
    expect(message).toContain('no usable source documents');
    for (const c of createHostileSourceCorpus()) expect(message).toContain(`source "${c.name}"`);
    expect(message).toContain('source ".env": hidden file');
    expect(info.attempts.filter((a) => a.stepPath.endsWith('/ingest-file') && a.status === 'failed')).toHaveLength(hostile.length + 1);
  });

  it('hostile sources beside good ones fail one by one; the report is made from the good ones', async () => {
    const hostile = createHostileSourceCorpus().map((c) => ({ name: c.name, bytes: c.bytes }));
    const { outcome, info } = await runReport({ sources: [...sampleSources(), ...hostile] });
    expect(outcome.status).toBe('succeeded');
    const failed = info.attempts.filter((a) => a.status === 'failed');
    expect(failed.map((a) => [a.error?.code, (a.error?.details as { reason?: string } | undefined)?.reason]).sort()).toEqual(
      createHostileSourceCorpus()
        .map((c) => ['InvalidInput', c.reason])
        .sort(),
    );
    expect((outcome as { output: { outcome: unknown } }).output.outcome).toMatchObject({ total: 9, generated: 9, missing: 0 });
  });
});
