import { defineStage, definePipeline } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileToAsl } from '../compile/compile.js';
import { validateAsl } from '../compile/validate.js';
import { stageInputOf, stageResultOf, type StageEvent } from '../lambda/event.js';
import { runAslLocally } from './run-asl.js';

// Not every failure a caught Task sees carries Baton's serialized error: Step Functions reports a
// Lambda that timed out or crashed with Lambda's own text in errorMessage, a Lambda service error
// with a plain-text Cause, a task timeout with none. Parsing those as JSON would fail the whole
// execution (States.Runtime on AWS); the compiled machine turns them into Baton's error shape.
const work = defineStage({
  name: 'work',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  async run(i) {
    return i;
  },
});

const pipeline = definePipeline({ name: 'lambda-failures', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .map(
    'items',
    { items: '$.items', itemSelector: { 'n.$': '$$.Map.Item.Value' }, maxConcurrency: 4, toleratedFailurePercentage: 100, resultPath: '$.results' },
    (b) => b.task('item', work),
  )
  .task('once', work, {
    input: { n: 1 },
    resultPath: '$.once',
    catch: [
      {
        errors: ['States.ALL'],
        resultPath: '$.err',
        then: (b) => b.choice('which', [{ when: { path: '$.err.retryable', op: 'eq', value: false }, then: (c) => c.succeed('handled') }]),
      },
    ],
  })
  .build();

/** What Step Functions' lambda:invoke reports: `Error` is the errorType, `Cause` Lambda's JSON envelope (or plain text, or nothing). */
function failure(error: string, cause: string): Error {
  const e = new Error(cause);
  e.name = error;
  return e;
}

const FAILURES: Record<number, Error> = {
  1: failure('Sandbox.Timedout', JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 5b1c Error: Task timed out after 3.00 seconds' })),
  2: failure(
    'Runtime.ExitError',
    JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: 'RequestId: 7d2e Error: Runtime exited with error: signal: killed' }),
  ),
  // retried three times by the Lambda service-error retrier (1 + 2 + 4 s at most), then caught
  3: failure('Lambda.TooManyRequestsException', 'Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: 9f3a)'),
  4: failure('States.Timeout', ''),
  5: failure('Runtime.Unknown', JSON.stringify({ errorType: 'Runtime.Unknown', trace: [] })),
};

function handlers(onceFails: Error | undefined) {
  const answer = (params: unknown, fail?: Error) => {
    if (fail) throw fail;
    const event = (params as { Payload: StageEvent }).Payload;
    return { Payload: stageResultOf(event, stageInputOf(event)), StatusCode: 200 };
  };
  return {
    item: (params: unknown) => answer(params, FAILURES[(params as { Payload: { input: { n: number } } }).Payload.input.n]),
    once: (params: unknown) => answer(params, onceFails),
  };
}

describe('Lambda failures without Baton JSON in a caught task (stepfunctions-local)', { timeout: 30_000 }, () => {
  const { definition } = compileToAsl(pipeline);

  it('a tolerant map records each as a failed item with the Lambda error code and text; the run goes on', async () => {
    expect(validateAsl(definition).errorsText).toBe('');
    const run = await runAslLocally(definition, { items: [0, 1, 2, 3, 4, 5] }, { handlers: handlers(undefined) });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const results = (run.output as { results: { status: string; error?: unknown; output?: unknown }[] }).results;
    expect(results[0]).toMatchObject({ status: 'succeeded', output: { n: 0 } });
    expect(results.slice(1).map((r) => r.error)).toEqual([
      { code: 'Sandbox.Timedout', message: 'RequestId: 5b1c Error: Task timed out after 3.00 seconds', retryable: false },
      { code: 'Runtime.ExitError', message: 'RequestId: 7d2e Error: Runtime exited with error: signal: killed', retryable: false },
      { code: 'Lambda.TooManyRequestsException', message: 'Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: 9f3a)', retryable: false },
      { code: 'States.Timeout', message: '', retryable: false },
      { code: 'Runtime.Unknown', message: '', retryable: false },
    ]);
  });

  it('a task catcher whose handler is a Choice reads the decoded error: a crash is handled, not a States.Runtime', async () => {
    const run = await runAslLocally(definition, { items: [] }, { handlers: handlers(FAILURES[2]) });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect((run.output as { err: unknown }).err).toEqual({
      code: 'Runtime.ExitError',
      message: 'RequestId: 7d2e Error: Runtime exited with error: signal: killed',
      retryable: false,
    });
  });

  it("Baton's own errors are still parsed whole (code, message, retryable, details)", async () => {
    const baton = failure(
      'StageFailed',
      JSON.stringify({
        errorType: 'StageFailed',
        errorMessage: JSON.stringify({ code: 'StageFailed', message: 'no', retryable: false, details: { why: 1 } }),
        trace: [],
      }),
    );
    const run = await runAslLocally(definition, { items: [] }, { handlers: handlers(baton) });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect((run.output as { err: unknown }).err).toEqual({ code: 'StageFailed', message: 'no', retryable: false, details: { why: 1 } });
  });
});
