import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { kitStep } from './stages.js';
import { kitDraft, kitReviewRound } from './stages-review.js';

const define = (name: string) => definePipeline({ name, version: 1, input: z.looseObject({ probe: z.string() }) });
const P = { 'probe.$': '$.probe' };

/** 22, 24. A gate whose sections are the run input's `ids`: verdicts round trip into `$.review.sections`. */
export const kitReviewSections = define('kit-review-sections')
  .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
  .approval('review', {
    gate: 'review',
    timeoutSeconds: 300,
    sectionsPath: '$.ids',
    payload: { 'draft.$': '$.draft', 'ids.$': '$.ids' },
    resultPath: '$.review',
  })
  .build();

/**
 * 23. A review loop in plain IR: draft every section (a map), open the gate on the drafted
 * sections, apply the verdicts; a sent-back section is drafted again with the note and comes back
 * alone at the next round, until a round sends nothing back (at most three rounds).
 */
export const kitReviewRounds = define('kit-review-rounds')
  .task('plan', kitReviewRound, { input: { ...P, mode: 'plan', 'ids.$': '$.ids' }, resultPath: '$.round' })
  .loop('rounds', { until: { path: '$.round.done', op: 'eq', value: true }, maxIterations: 3 }, (b) =>
    b
      .map('sections', { items: '$.round.todo', itemSelector: { ...P, 'item.$': '$$.Map.Item.Value' }, resultPath: '$.drafted' }, (m) =>
        m.task('draft', kitDraft),
      )
      .task('collect', kitReviewRound, { input: { ...P, mode: 'collect', 'round.$': '$.round', 'drafted.$': '$.drafted' }, resultPath: '$.round' })
      .approval('review', {
        gate: 'review',
        timeoutSeconds: 300,
        sectionsPath: '$.round.ids',
        payload: { 'texts.$': '$.round.texts', 'ids.$': '$.round.ids' },
        resultPath: '$.review',
      })
      .task('apply', kitReviewRound, { input: { ...P, mode: 'apply', 'round.$': '$.round', 'verdicts.$': '$.review.sections' }, resultPath: '$.round' }),
  )
  .build();
