import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { kitFlaky, kitHandler, kitItem, kitStep } from './stages.js';

const define = (name: string) => definePipeline({ name, version: 1, input: z.looseObject({ probe: z.string() }) });
const P = { 'probe.$': '$.probe' };

/** Timeout of the approval gate whose catch handler runs a task (scenario 32). */
export const KIT_GATE_CATCH_TIMEOUT_SECONDS = 2;

/** 30. A choice on `absent`: a missing `$.flag` routes to `missing`, a present one to `present`. */
export const kitAbsent = define('kit-absent')
  .choice(
    'route',
    [{ when: { path: '$.flag', op: 'absent' }, then: (b) => b.task('missing', kitStep, { input: { ...P, value: 1, key: 'missing' }, resultPath: '$.out' }) }],
    (b) => b.task('present', kitStep, { input: { ...P, value: 2, key: 'present' }, resultPath: '$.out' }),
  )
  .build();

/** 31. A parallel one branch of which ends in a fail step: the error caught by an empty handler, or by a task. */
const failInParallel = (name: string, handled: boolean): AnyPipeline =>
  define(name)
    .parallel(
      'both',
      {
        resultPath: '$.branches',
        catch: [
          {
            errors: ['States.ALL'],
            resultPath: '$.caught',
            then: (b) => (handled ? b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught', key: 'handle' }, resultPath: '$.handled' }) : b),
          },
        ],
      },
      [(b) => b.task('ok', kitStep, { input: { ...P, value: 1, key: 'ok' } }), (b) => b.fail('stop', { error: 'Stopped', cause: 'stopped on purpose' })],
    )
    .build();
export const kitFailCaughtEmpty = failInParallel('kit-fail-caught-empty', false);
export const kitFailCaughtTask = failInParallel('kit-fail-caught-task', true);

/** 31. A `States.ALL` retrier on a parallel whose branch ends in a fail step: a fail step's error is not retried. */
export const kitFailRetried = define('kit-fail-retried')
  .parallel('once', { resultPath: '$.branches', retry: [{ errors: ['States.ALL'], intervalMs: 50, maxAttempts: 2 }] }, [
    (b) => b.task('before', kitStep, { input: { ...P, value: 1, key: 'before-fail' } }).fail('stop', { error: 'Stopped', cause: 'stopped on purpose' }),
  ])
  .build();

/** 32. An approval gate whose `States.ALL` catcher runs a task (a rejection and a timeout both reach it). */
export const kitGateCatchTask = define('kit-gate-catch-task')
  .approval('review', {
    gate: 'review',
    timeoutSeconds: KIT_GATE_CATCH_TIMEOUT_SECONDS,
    resultPath: '$.review',
    catch: [
      {
        errors: ['States.ALL'],
        resultPath: '$.refused',
        then: (b) => b.task('on-refused', kitHandler, { input: { ...P, 'error.$': '$.refused', key: 'on-refused' }, resultPath: '$.handled' }),
      },
    ],
  })
  .task('publish', kitStep, { input: { ...P, value: 1, key: 'publish' }, resultPath: '$.published' })
  .build();

/**
 * 33. A loop of more iterations than compilers unroll: `count` adds one to `$.n.value` until it
 * reaches 3; `check` fails (not retryable) at the `failIndexes` values until the probe flag `fixed`.
 */
export const kitLoopPaths = define('kit-loop-paths')
  .loop('spin', { until: { path: '$.n.value', op: 'gte', value: 3 }, maxIterations: 6 }, (b) =>
    b
      .task('count', kitStep, { input: { ...P, 'value.$': '$.n.value' }, resultPath: '$.n' })
      .task('check', kitItem, { input: { ...P, 'index.$': '$.n.value', value: 1, 'failIndexes.$': '$.failIndexes' }, resultPath: '$.checked' }),
  )
  .build();

/** 34. A failing branch stops its sibling: `after-slow` must never start. */
export const kitParallelStop = define('kit-parallel-stop')
  .parallel(
    'race',
    {
      resultPath: '$.branches',
      catch: [
        {
          errors: ['States.ALL'],
          resultPath: '$.caught',
          then: (b) => b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught', key: 'handle' }, resultPath: '$.handled' }),
        },
      ],
    },
    [
      (b) =>
        b
          .task('slow', kitStep, { input: { ...P, value: 1, delayMs: 400, key: 'slow' } })
          .task('after-slow', kitStep, { input: { ...P, value: 2, key: 'after-slow' } }),
      (b) => b.task('fails', kitFlaky, { input: { ...P, failTimes: 99, code: 'Broken', key: 'fails' } }),
    ],
  )
  .build();

/** 35. A data path that does not resolve under a `States.ALL` catcher: `States.Runtime` is not caught. */
export const kitRuntimeCatchAll = define('kit-runtime-catch-all')
  .task('needs', kitStep, {
    input: { ...P, 'value.$': '$.missing.value', key: 'needs' },
    resultPath: '$.needed',
    catch: [
      {
        errors: ['States.ALL'],
        resultPath: '$.caught',
        then: (b) => b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught', key: 'handle' }, resultPath: '$.handled' }),
      },
    ],
  })
  .build();

/** The pipelines of scenarios 30-35 (part of `conformancePipelines`). */
export const semanticsPipelines: AnyPipeline[] = [
  kitAbsent,
  kitFailCaughtEmpty,
  kitFailCaughtTask,
  kitFailRetried,
  kitGateCatchTask,
  kitLoopPaths,
  kitParallelStop,
  kitRuntimeCatchAll,
];
