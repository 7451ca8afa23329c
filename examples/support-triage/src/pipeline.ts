import { definePipeline } from '@baton/core';
import { z } from 'zod';
import { Ticket, classify, draftReply, escalate } from './stages.js';

const BOTH = { 'ticket.$': '$.ticket', 'classification.$': '$.classification' };

/**
 * Support triage:
 * `classify -> choice(urgency) -> high: parallel[draft reply, escalate] -> ack gate | normal: draft reply`.
 * A different shape from the report: no map, a choice, a parallel step
 * and a short approval gate only on the urgent branch.
 */
export const triagePipeline = definePipeline({ name: 'support-triage', version: 1, input: z.object({ ticket: Ticket }) })
  .task('classify', classify, { input: '$.ticket', resultPath: '$.classification' })
  .choice(
    'route',
    [
      {
        when: { path: '$.classification.urgency', op: 'eq', value: 'high' },
        then: (b) =>
          b
            .parallel('urgent', { resultPath: '$.urgent' }, [
              (p) => p.task('urgent-reply', draftReply, { input: BOTH }),
              (p) => p.task('page', escalate, { input: BOTH }),
            ])
            .approval('ack', {
              gate: 'oncall-ack',
              timeoutSeconds: 3600,
              payload: { 'ticket.$': '$.ticket.id', 'classification.$': '$.classification' },
              resultPath: '$.ack',
            }),
      },
    ],
    (b) => b.task('reply', draftReply, { input: BOTH, resultPath: '$.reply' }),
  )
  .build();
