import type { RunEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { roundOf, sectionVersionsOf } from '../review-audit.js';
import { createSqlRegistry } from '../sql-registry.js';
import type { RunRegistry } from '../types.js';
import { schemaName, type OpenClient } from './registry-suite.js';

const at = (m: number): string => new Date(Date.UTC(2026, 11, 4, 9, m)).toISOString();

/** A report-pipeline review payload: map results of two sections, one repaired, one held. */
function payload(padding = 0): unknown {
  const sources = [{ docId: 'protocol', name: 'protocol.pdf', key: 'docs/protocol.json' }];
  return {
    reportTitle: 'Clinical Study Report BTN-101',
    sections: [
      {
        status: 'succeeded',
        output: {
          task: { sectionId: 'efficacy', title: 'Efficacy results' },
          sources,
          generated: { sectionId: 'efficacy', outputKey: 'sections/r/efficacy/generated.json', promptSha256: 'p-gen', modelId: 'model-a' },
          check: { valid: true, sectionId: 'efficacy', outputKey: 'sections/r/efficacy/repair-1.json', round: 1, promptSha256: 'p-rep', modelId: 'model-b' },
        },
      },
      {
        status: 'succeeded',
        output: { task: { sectionId: 'safety', title: 'Safety' }, generated: { outputKey: 'sections/r/safety/generated.json', promptSha256: 'p-s' } },
      },
      { status: 'failed', error: { code: 'InvalidInput', message: 'missing source' } },
    ],
    filler: 'x'.repeat(padding),
  };
}

function opened(runId: string, stepPath: string, body: unknown, sections?: string[]): RunEvent {
  const event = {
    type: 'review-opened',
    runId,
    gate: 'review',
    stepPath,
    reviewer: 'ana',
    payload: body,
    tokenHash: `h-${stepPath}`,
    expiresAt: at(600),
    at: at(1),
  };
  return (sections ? { ...event, sections } : event) as RunEvent;
}

function decided(runId: string, stepPath: string, minute: number, sections?: Record<string, { verdict: string; note?: string }>): RunEvent {
  const event = { type: 'review-decided', runId, gate: 'review', stepPath, decision: 'approved', reviewer: 'ana', comment: 'round done', at: at(minute) };
  return (sections ? { ...event, sections } : event) as RunEvent;
}

/** The review audit trail (migration 4) on every registry implementation: versions read at open, verdicts per round, idempotent, any note length. */
export function reviewAuditSuite(label: string, open: OpenClient): void {
  const fresh = async (): Promise<RunRegistry> => createSqlRegistry(await open(schemaName()));

  describe(`review audit trail on ${label}`, () => {
    it('finds what made each section, the last output (a repair) winning', () => {
      expect(sectionVersionsOf(payload())).toEqual({
        efficacy: { index: 0, title: 'Efficacy results', outputKey: 'sections/r/efficacy/repair-1.json', promptSha256: 'p-rep', modelId: 'model-b', round: 1 },
        safety: { index: 1, title: 'Safety', outputKey: 'sections/r/safety/generated.json', promptSha256: 'p-s' },
      });
      expect(sectionVersionsOf({ sections: 'nope' })).toEqual({});
      expect(roundOf('review-rounds@2/review')).toBe(2);
      expect(roundOf('review')).toBeNull();
    });

    it("records who decided what on which section, with the model and prompt of the text, round by round (the report's first gate is round 1, each gate its review loop reopens the next)", async () => {
      const registry = await fresh();
      await registry.apply({ type: 'run-started', runId: 'r', pipeline: 'report', engine: 'local', input: { reportTitle: 'CSR BTN-101' }, at: at(0) });
      // a payload over the registry's inline limit: the versions are read before it becomes a digest
      await registry.apply(opened('r', 'review', payload(40_000), ['efficacy', 'safety']));
      expect((await registry.getReview('r', 'review'))?.payload).toMatchObject({ $omitted: true });
      expect((await registry.getReview('r', 'review'))?.sections).toEqual(['efficacy', 'safety']);
      const note = 'The efficacy table misses the 10 mg arm <script>alert(1)</script>';
      await registry.apply(decided('r', 'review', 5, { efficacy: { verdict: 'send-back', note }, safety: { verdict: 'approve' } }));
      await registry.apply(opened('r', 'review-rounds@0/review-again', payload(), ['efficacy']));
      await registry.apply(decided('r', 'review-rounds@0/review-again', 9, { efficacy: { verdict: 'send-back', note: 'again' } }));
      await registry.apply(opened('r', 'review-rounds@1/review-again', payload(), ['efficacy']));
      const third = decided('r', 'review-rounds@1/review-again', 12, { efficacy: { verdict: 'accept-missing', note: 'ok as missing' } });
      await registry.apply(third);
      await registry.apply(third); // a replay keeps its round

      const trail = await registry.reviewDecisions('r');
      expect(trail.map((d) => [d.round, d.sectionId, d.verdict, d.note])).toEqual([
        [1, null, 'approved', 'round done'],
        [1, 'efficacy', 'send-back', note],
        [1, 'safety', 'approve', null],
        [2, null, 'approved', 'round done'],
        [2, 'efficacy', 'send-back', 'again'],
        [3, null, 'approved', 'round done'],
        [3, 'efficacy', 'accept-missing', 'ok as missing'],
      ]);
      expect(trail[1]).toMatchObject({
        decidedBy: 'ana',
        decidedAt: at(5),
        sectionTitle: 'Efficacy results',
        modelId: 'model-b',
        promptSha256: 'p-rep',
        gate: 'review',
      });
      expect(trail[2]).toMatchObject({ modelId: null, promptSha256: 'p-s' });
      expect((await registry.getRun('r'))?.title).toBe('CSR BTN-101');
      await registry.close();
    });

    it('adds nothing when the same decision is delivered twice, and has no rows for an unknown run', async () => {
      const registry = await fresh();
      await registry.apply(opened('d', 'review', payload(), ['efficacy']));
      const event = decided('d', 'review', 3, { efficacy: { verdict: 'approve' } });
      await registry.apply(event);
      await registry.applyAll([event, event]);
      expect(await registry.reviewDecisions('d')).toHaveLength(2);
      expect(await registry.reviewDecisions('nobody')).toEqual([]);
      await registry.close();
    });

    it('keeps a note of any length and ignores verdict kinds it does not know', async () => {
      const registry = await fresh();
      await registry.apply(opened('m', 'review', payload(), ['efficacy']));
      const long = 'n'.repeat(2_000_000);
      await registry.apply(decided('m', 'review', 4, { efficacy: { verdict: 'send-back', note: long }, safety: { verdict: 'delete-everything' } }));
      const trail = await registry.reviewDecisions('m');
      expect(trail.map((d) => d.sectionId)).toEqual([null, 'efficacy']);
      expect(trail[1]?.note?.length).toBe(long.length);
      await registry.close();
    });
  });
}
