import { createMemoryBlobStore } from '@baton/core';
import { invokeStage } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { checkOutcome } from './check.js';

const run = (input: unknown) => invokeStage(checkOutcome, input, { blobs: createMemoryBlobStore(), runId: 'r1', stepPath: 'check-outcome', attempt: 1 });

describe('checkOutcome', () => {
  it('0 of 9 sections generated fails with ReportIncomplete, never retried (default minimum: one section)', async () => {
    const r = await run({ sections: { total: 9, ok: 0, failed: 9, held: 0, repaired: 0 } });
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'ReportIncomplete',
        retryable: false,
        message: 'report incomplete: 0 of 9 sections generated; the run needs at least 1 (1)',
        details: { total: 9, generated: 0, missing: 9, minimum: 1 },
      },
    });
  });

  it('succeeds with the number of missing sections for the caller to read', async () => {
    expect(await run({ sections: { total: 9, ok: 7, failed: 1, held: 1, repaired: 0 } })).toMatchObject({
      ok: true,
      output: { total: 9, generated: 7, missing: 2, minimum: 1 },
    });
    expect(await run({ sections: { total: 9, ok: 9 } })).toMatchObject({ ok: true, output: { missing: 0 } });
  });

  it('takes the minimum as a count or a share of the sections', async () => {
    expect(await run({ sections: { total: 9, ok: 4 }, minGeneratedSections: 5 })).toMatchObject({ ok: false, error: { code: 'ReportIncomplete' } });
    const share = await run({ sections: { total: 9, ok: 6 }, minGeneratedShare: 0.75 });
    expect(share).toMatchObject({
      ok: false,
      error: { message: 'report incomplete: 6 of 9 sections generated; the run needs at least 1 and 75% of the sections (7)' },
    });
    expect(await run({ sections: { total: 9, ok: 7 }, minGeneratedShare: 0.75 })).toMatchObject({ ok: true });
    expect(await run({ sections: { total: 9, ok: 0 }, minGeneratedSections: 0 })).toMatchObject({ ok: true, output: { missing: 9 } });
  });
});
