import { definePipeline } from '@baton/core';
import { conformancePipelines, conformanceStages } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REVIEW_GATE_RETRY } from './approval.js';
import { compileToAsl } from './compile.js';
import { LAMBDA_SERVICE_ERRORS } from './task.js';
import type { AslState } from './types.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const kitStep = conformanceStages.find((s) => s.name === 'kit-step')!;
const payload = (s: AslState) => (s.Parameters as { Payload: Record<string, unknown> }).Payload;

describe('approval gate: reviewer', () => {
  it('reviewerPath reads the reviewer from the state (reviewer.$); a fixed reviewer stays a constant', () => {
    const gate = compileToAsl(kit('kit-reviewer-path')).definition.States.review!;
    expect(payload(gate)).toMatchObject({ 'reviewer.$': '$.reviewerId', gate: 'review' });
    expect(payload(gate)).not.toHaveProperty('reviewer');
    const fixed = definePipeline({ name: 'fixed', version: 1 }).approval('g', { timeoutSeconds: 60, reviewer: 'alice' }).build();
    expect(payload(compileToAsl(fixed).definition.States.g!)).toMatchObject({ reviewer: 'alice' });
    expect(payload(compileToAsl(kit('kit-approval')).definition.States.review!)).not.toHaveProperty('reviewer');
    expect(payload(compileToAsl(kit('kit-approval')).definition.States.review!)).not.toHaveProperty('reviewer.$');
  });

  it("inside a map item the path is read from the item's Baton state", () => {
    const p = definePipeline({ name: 'per-item', version: 1, input: z.object({ probe: z.string(), items: z.array(z.object({ owner: z.string() })) }) })
      .map('each', { items: '$.items', resultPath: '$.out' }, (b) =>
        b
          .task('draft', kitStep, { input: { 'probe.$': '$.probe', value: 1 }, resultPath: '$.draft' })
          .approval('sign-off', { timeoutSeconds: 60, reviewerPath: '$.owner' }),
      )
      .build();
    const proc = (compileToAsl(p).definition.States.each!.ItemProcessor as { States: Record<string, AslState> }).States;
    expect(payload(proc['sign-off']!)['reviewer.$']).toBe('$.result.output.owner');
  });
});

describe('approval gate: sections', () => {
  it('sectionsPath sends the section ids (sections.$); a gate without it sends none', () => {
    expect(payload(compileToAsl(kit('kit-review-sections')).definition.States.review!)).toMatchObject({ 'sections.$': '$.ids', gate: 'review' });
    expect(payload(compileToAsl(kit('kit-approval')).definition.States.review!)).not.toHaveProperty('sections.$');
  });

  it('a review loop unrolls one gate per round, each with its step path', () => {
    const states = compileToAsl(kit('kit-review-rounds')).definition.States;
    expect([states.review, states['review@2'], states['review@3']].map((s) => payload(s!).stepPath)).toEqual([
      'rounds@0/review',
      'rounds@1/review',
      'rounds@2/review',
    ]);
    expect(payload(states['review@2']!)['sections.$']).toBe('$.round.ids');
  });

  it("a loop unrolled inside another's copy keeps every state name unique and names its original step", () => {
    const p = definePipeline({ name: 'nested', version: 1, input: z.object({ probe: z.string() }) })
      .loop('outer', { until: { path: '$.done', op: 'eq', value: true }, maxIterations: 2 }, (o) =>
        o.loop('inner', { until: { path: '$.done', op: 'eq', value: true }, maxIterations: 2 }, (i) =>
          i.task('fix', kitStep, { input: { 'probe.$': '$.probe', value: 1 }, resultPath: '$.fix' }),
        ),
      )
      .build();
    const c = compileToAsl(p);
    const fixes = Object.keys(c.definition.States).filter((n) => n.startsWith('fix'));
    expect(fixes.sort()).toEqual(['fix', 'fix@2', 'fix@2@@2', 'fix@@2']);
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('approval gate: Lambda service errors', () => {
  it('the waitForTaskToken Task retries them as stage tasks do, so a throttled gate does not fail the run', () => {
    const c = compileToAsl(kit('kit-approval'));
    const gate = c.definition.States.review!;
    expect(gate.Retry).toEqual([
      { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' },
      // the gate function's own transient failures: registry database or notice target unavailable
      {
        ErrorEquals: ['ServiceUnavailableException', 'ThrottlingException'],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxAttempts: 5,
        MaxDelaySeconds: 30,
        JitterStrategy: 'FULL',
      },
    ]);
    expect(payload(gate)['retryCount.$']).toBe('$$.State.RetryCount');
    // the same retrier as the stage tasks' Lambda service-error entry
    expect(c.definition.States.draft!.Retry).toContainEqual(REVIEW_GATE_RETRY);
    expect(c.tasks.review).toMatchObject({ kind: 'approval', retry: [null, null] });
    // timeouts and rejections are not Lambda service errors: the catchers still see them
    expect((gate.Catch as { ErrorEquals: string[] }[]).map((x) => x.ErrorEquals)).toEqual([['States.Timeout'], ['ApprovalRejected']]);
  });
});
