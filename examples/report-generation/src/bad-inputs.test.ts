import { BAD_CORPUS_MAX_BYTES, createBadSourceCorpus } from '@baton/stages';
import { describe, expect, it } from 'vitest';
import { runReport } from './run-report.test-helper.js';

describe('bad source corpus through the whole pipeline', () => {
  const corpus = createBadSourceCorpus();
  it('has at least 15 bad inputs', () => expect(corpus.length).toBeGreaterThanOrEqual(15));

  it.each(corpus.map((c) => [c.name, c] as const))(
    '%s: the run fails with a typed InvalidInput naming the file, and the failure is recorded',
    async (name, c) => {
      const { outcome, info } = await runReport({ sources: [c], maxSourceBytes: BAD_CORPUS_MAX_BYTES });
      expect(outcome.status).toBe('failed');
      const error = (outcome as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('InvalidInput');
      expect(error.message).toContain(`no usable source documents: source "${name}"`);
      expect(error.message).toMatch(c.message);
      expect(info.status).toBe('failed');
      expect(info.error?.code).toBe('InvalidInput');
      expect(info.attempts.filter((a) => a.status === 'failed').map((a) => [a.stepPath, a.error?.code])).toEqual([
        ['ingest[0]/ingest-file', 'InvalidInput'],
        ['plan', 'InvalidInput'],
      ]);
    },
  );
});
