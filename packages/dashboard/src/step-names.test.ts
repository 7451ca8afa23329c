import type { RunDetail, StepRecord } from '@baton/registry';
import { describe, expect, it } from 'vitest';
import { errorLabel, stepLabel } from './format.js';
import { stepNamesOf } from './step-names.js';

const step = (stepPath: string): StepRecord => ({ runId: 'r', stepPath, kind: 'task', status: 'succeeded', startedAt: '2026-12-04T09:00:00.000Z' });

function run(over: Partial<RunDetail>): RunDetail {
  return {
    runId: 'r',
    pipeline: 'report',
    engine: 'local',
    status: 'waiting',
    statusSince: '',
    startedAt: '',
    updatedAt: '',
    inputTokens: 0,
    outputTokens: 0,
    modelCalls: 0,
    attemptCount: 0,
    throttledCalls: 0,
    execution: 1,
    steps: [],
    attempts: [],
    reviews: [],
    usage: {
      total: {
        attempts: 0,
        modelCalls: 0,
        throttledCalls: 0,
        inputTokens: 0,
        outputTokens: 0,
        estimatedInputTokens: 0,
        estimatedOutputTokens: 0,
        budgetWaitMs: 0,
        failedInputTokens: 0,
      },
      bySection: {},
      unpricedModels: [],
    },
    ...over,
  };
}

describe('step names', () => {
  it('names source files and sections instead of item numbers', () => {
    const detail = run({
      inputRef: {
        reportTitle: 'CSR',
        sources: [
          { key: 'a', name: 'protocol.pdf' },
          { key: 'b', name: 'sap.docx' },
        ],
      },
      steps: ['ingest', 'ingest[0]/ingest-file', 'ingest[1]/ingest-file', 'sections', 'sections[0]', 'sections[0]/generate', 'sections[1]/generate'].map(step),
      reviews: [
        {
          runId: 'r',
          gate: 'review',
          stepPath: 'review',
          payload: { $omitted: true },
          tokenHash: 'h',
          createdAt: '',
          sectionVersions: { efficacy: { index: 0, title: 'Efficacy results' }, safety: { index: 1, title: 'Safety <b>overview</b>' } },
        },
      ],
    });
    const names = stepNamesOf(detail);
    expect(stepLabel('ingest[1]/ingest-file', names)).toBe('ingest › sap.docx › ingest-file');
    expect(stepLabel('sections[0]/generate', names)).toBe('sections › Efficacy results › generate');
    expect(stepLabel('sections[1]/generate', names)).toBe('sections › Safety <b>overview</b> › generate');
    // without names, or for an item nothing names, the item number stays
    expect(stepLabel('sections[4]/generate', names)).toBe('sections › item 5 › generate');
    expect(stepLabel('review-rounds@1/review')).toBe('review-rounds › round 2 › review');
  });

  it("names a review loop's rewritten sections by the titles of the sections its gate asks about again", () => {
    const detail = run({
      steps: [
        'review',
        'review-rounds@0/rewrite[0]/regenerate',
        'review-rounds@0/rewrite[1]/regenerate',
        'review-rounds@0/review-again',
        'review-rounds@1/rewrite[0]/regenerate',
        'review-rounds@2/rewrite[0]/regenerate',
        'review-rounds@2/rewrite[1]/regenerate',
      ].map(step),
      reviews: [
        {
          runId: 'r',
          gate: 'review',
          stepPath: 'review',
          payload: null,
          tokenHash: 'h',
          createdAt: '',
          sections: ['synopsis', 'efficacy', 'conclusions'],
          sectionVersions: { efficacy: { index: 1, title: 'Efficacy results' }, conclusions: { index: 2, title: 'Conclusions' } },
        },
        {
          runId: 'r',
          gate: 'review',
          stepPath: 'review-rounds@0/review-again',
          payload: null,
          tokenHash: 'h',
          createdAt: '',
          sections: ['efficacy', 'conclusions'],
          sectionVersions: { efficacy: { index: 1, title: 'Efficacy results' }, conclusions: { index: 2, title: 'Conclusions' } },
        },
        {
          runId: 'r',
          gate: 'review',
          stepPath: 'review-rounds@1/review-again',
          payload: null,
          tokenHash: 'h',
          createdAt: '',
          sections: ['conclusions'],
          sectionVersions: {},
        },
        // a gate asking about more sections than were rewritten (one left without a verdict): no guess
        {
          runId: 'r',
          gate: 'review',
          stepPath: 'review-rounds@2/review-again',
          payload: null,
          tokenHash: 'h',
          createdAt: '',
          sections: ['synopsis', 'efficacy', 'conclusions'],
          sectionVersions: {},
        },
      ],
    });
    const names = stepNamesOf(detail);
    expect(stepLabel('review-rounds@0/rewrite[0]/regenerate', names)).toBe('review-rounds › round 1 › rewrite › Efficacy results › regenerate');
    expect(stepLabel('review-rounds@0/rewrite[1]/regenerate', names)).toBe('review-rounds › round 1 › rewrite › Conclusions › regenerate');
    expect(stepLabel('review-rounds@1/rewrite[0]/regenerate', names)).toBe('review-rounds › round 2 › rewrite › conclusions › regenerate');
    expect(stepLabel('review-rounds@2/rewrite[1]/regenerate', names)).toBe('review-rounds › round 3 › rewrite › item 2 › regenerate');
  });

  it('reads section titles from a small payload, and does not guess between two input arrays of the same length', () => {
    const detail = run({
      inputRef: { a: [{ name: 'x' }], b: [{ name: 'y' }] },
      steps: ['items[0]'].map(step),
      reviews: [
        {
          runId: 'r',
          gate: 'g',
          stepPath: 'g',
          tokenHash: 'h',
          createdAt: '',
          payload: { sections: [{ status: 'succeeded', output: { task: { title: 'Intro' } } }] },
        },
      ],
    });
    const names = stepNamesOf(detail);
    expect(names.get('sections[0]')).toBe('Intro');
    expect(names.has('items[0]')).toBe(false);
  });

  it('says error codes in words', () => {
    expect(errorLabel('SafetyCheckFailed')).toBe('Held for a person by the safety check');
    expect(errorLabel('Whatever')).toBe('Whatever');
  });
});
