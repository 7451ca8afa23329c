import type { RunEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { createSqlRegistry, type SqlRegistryOptions } from '../sql-registry.js';
import type { RunRegistry } from '../types.js';
import { schemaName, type OpenClient } from './registry-suite.js';

/** Run labels (report id, reviewer id) read from run inputs, on every registry implementation. */
export function labelsSuite(label: string, open: OpenClient): void {
  const fresh = async (options?: SqlRegistryOptions): Promise<RunRegistry> => createSqlRegistry(await open(schemaName()), options);
  const started = (runId: string, input: unknown, at = '2026-11-23T09:00:00.000Z'): RunEvent => ({
    type: 'run-started',
    runId,
    pipeline: 'report',
    engine: 'stepfunctions',
    input,
    at,
  });

  describe(`run labels on ${label}`, () => {
    it('reads the report and the reviewer from the run input and lists the runs of a report', async () => {
      const registry = await fresh();
      await registry.apply(started('a', { reportId: 'R-7', reviewerId: 'ana', title: 'Q3' }));
      await registry.apply(started('b', { reportId: 'R-8' }, '2026-11-23T09:01:00.000Z'));
      await registry.apply(started('c', { reportId: 'R-7' }, '2026-11-23T09:02:00.000Z'));
      expect(await registry.getRun('a')).toMatchObject({ reportId: 'R-7', reviewerId: 'ana' });
      const b = await registry.getRun('b');
      expect(b?.reportId).toBe('R-8');
      expect(b && 'reviewerId' in b).toBe(false);
      expect((await registry.listRuns({ reportId: 'R-7' })).map((r) => [r.runId, r.reportId])).toEqual([
        ['c', 'R-7'],
        ['a', 'R-7'],
      ]);
      expect((await registry.listRuns({ reportId: 'R-7', limit: 1 })).map((r) => r.runId)).toEqual(['c']);
      expect(await registry.listRuns({ reportId: 'nope' })).toEqual([]);
      await registry.close();
    });

    it('ignores values that are not non-empty strings, and inputs that are not objects', async () => {
      const registry = await fresh();
      await registry.apply(started('n', { reportId: 42, reviewerId: '' }));
      await registry.apply(started('o', { reportId: { id: 'x' }, reviewerId: null }));
      await registry.apply(started('s', 'just a string'));
      await registry.apply(started('u', undefined));
      for (const id of ['n', 'o', 's', 'u']) {
        const run = await registry.getRun(id);
        expect([id, run?.reportId, run?.reviewerId]).toEqual([id, undefined, undefined]);
      }
      await registry.close();
    });

    it('reads labels before a large input is stored as a digest', async () => {
      const registry = await fresh();
      await registry.apply(started('big', { reportId: 'R-big', reviewerId: 'bo', body: 'x'.repeat(40_000) }));
      const run = await registry.getRun('big');
      expect(run?.inputRef).toMatchObject({ $omitted: true });
      expect(run).toMatchObject({ reportId: 'R-big', reviewerId: 'bo' });
      await registry.close();
    });

    it('takes its paths from the options, null turning a label off', async () => {
      const registry = await fresh({ labels: { reportId: '$.report.id', reviewerId: null } });
      await registry.apply(started('p', { report: { id: 'R-nested' }, reviewerId: 'ana' }));
      const run = await registry.getRun('p');
      expect(run?.reportId).toBe('R-nested');
      expect(run?.reviewerId).toBeUndefined();
      await registry.close();
      const client = await open(schemaName());
      await expect(createSqlRegistry(client, { labels: { reportId: '$.a..b' } })).rejects.toThrow(/registry label reportId/);
      await expect(createSqlRegistry(client, { labels: { reviewerId: '$$.Execution.Name' } })).rejects.toThrow(/context object/);
      await client.close();
    });

    it('keeps the labels of the first run-started (a placeholder row first, then replays)', async () => {
      const registry = await fresh();
      await registry.apply({ type: 'step-started', runId: 'late', stepPath: 'plan', kind: 'task', at: '2026-11-23T09:00:01.000Z' });
      expect((await registry.getRun('late'))?.reportId).toBeUndefined();
      await registry.apply(started('late', { reportId: 'R-1', reviewerId: 'ana' }));
      await registry.apply(started('late', { reportId: 'R-other' }));
      expect(await registry.getRun('late')).toMatchObject({ reportId: 'R-1', reviewerId: 'ana', pipeline: 'report' });
      await registry.close();
    });
  });
}
