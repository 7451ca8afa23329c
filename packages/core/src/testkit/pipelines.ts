import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import type { RetryPolicy } from '../retry.js';
import { kitReviewRounds, kitReviewSections } from './pipelines-review.js';
import { limitsPipelines } from './pipelines-limits.js';
import { semanticsPipelines } from './pipelines-semantics.js';
import { mapTolerancePipelines } from './pipelines-map-tolerance.js';
import { kitBig, kitConsume, kitFlaky, kitHandler, kitItem, kitSlow, kitStep, kitValidate, kitWriter } from './stages.js';

const Input = z.looseObject({ probe: z.string() });
const P = { 'probe.$': '$.probe' };

/** The retrier of the retry scenario; the kit checks delays against its bounds. */
export const KIT_RETRY: RetryPolicy = { errors: ['ThrottlingException'], intervalMs: 200, backoffRate: 2, maxAttempts: 3, jitter: 'FULL' };

/** Timeout of the approval gate in the timeout scenario. */
export const KIT_APPROVAL_TIMEOUT_SECONDS = 2;

const define = (name: string) => definePipeline({ name, version: 1, input: Input });

/** 1. Three stages passing data through paths. */
export const kitSequence = define('kit-sequence')
  .task('a', kitStep, { input: { ...P, 'value.$': '$.value' }, resultPath: '$.a' })
  .task('b', kitStep, { input: { ...P, 'value.$': '$.a.value' }, resultPath: '$.b' })
  .task('c', kitStep, { input: { ...P, 'value.$': '$.b.value', 'seen.$': '$.label' }, resultPath: '$.c' })
  .build();

/** 2. A pipeline with a strict input schema. */
export const kitStrictInput = definePipeline({ name: 'kit-strict-input', version: 1, input: z.object({ probe: z.string(), value: z.number() }) })
  .task('a', kitStep, { input: { ...P, 'value.$': '$.value' }, resultPath: '$.a' })
  .build();

/** 3. Throttled twice, then success. */
export const kitRetry = define('kit-retry')
  .task('flaky', kitFlaky, { input: { ...P, failTimes: 2, code: 'ThrottlingException' }, retry: [KIT_RETRY], resultPath: '$.flaky' })
  .build();

/** 4. Retries exhausted, then a catch handler gets the error intact. */
export const kitExhausted = define('kit-exhausted')
  .task('flaky', kitFlaky, {
    input: { ...P, failTimes: 99, code: 'ThrottlingException', details: { provider: 'kit', quota: 7 } },
    retry: [{ errors: ['ThrottlingException'], intervalMs: 50, maxAttempts: 2 }],
    resultPath: '$.flaky',
    catch: [
      {
        errors: ['ThrottlingException'],
        resultPath: '$.caught',
        then: (b) => b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught' }, resultPath: '$.handled' }),
      },
    ],
  })
  .build();

/** 5. ValidationFailed is not retried and goes to repair. */
export const kitRepair = define('kit-repair')
  .task('validate', kitValidate, {
    input: { ...P, 'text.$': '$.text' },
    retry: [{ errors: ['States.ALL'], intervalMs: 50, maxAttempts: 3 }],
    resultPath: '$.validation',
    catch: [
      {
        errors: ['ValidationFailed'],
        resultPath: '$.validationError',
        then: (b) => b.task('repair', kitHandler, { input: { ...P, 'error.$': '$.validationError' }, resultPath: '$.repair' }),
      },
    ],
  })
  .build();

/** 6. SafetyCheckFailed is never retried and goes to a human. */
export const kitSafety = define('kit-safety')
  .task('generate', kitFlaky, {
    input: { ...P, failTimes: 99, code: 'SafetyCheckFailed' },
    retry: [{ errors: ['States.ALL'], intervalMs: 50, maxAttempts: 3 }],
    resultPath: '$.generated',
    catch: [
      {
        errors: ['SafetyCheckFailed'],
        resultPath: '$.safety',
        then: (b) => b.approval('safety-review', { gate: 'safety', timeoutSeconds: 120, payload: { 'error.$': '$.safety' }, resultPath: '$.review' }),
      },
    ],
  })
  .build();

const mapItem = { ...P, 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'delayMs.$': '$.delayMs', 'failIndexes.$': '$.failIndexes' };

/** 7, 8, 13. A map over `$.items`, whose settings come from the IR. */
const mapPipeline = (name: string, settings: { maxConcurrency?: number; toleratedFailureCount?: number }): AnyPipeline =>
  define(name)
    .task('before', kitStep, { input: { ...P, value: 0 }, resultPath: '$.before' })
    .map('items', { items: '$.items', itemSelector: mapItem, resultPath: '$.results', ...settings }, (b) => b.task('item', kitItem))
    .build();

/** 7. Twenty items at most three in flight. */
export const kitMapConcurrency = mapPipeline('kit-map-concurrency', { maxConcurrency: 3 });
/** 8. One failed item tolerated. */
export const kitMapTolerated = mapPipeline('kit-map-tolerated', { maxConcurrency: 4, toleratedFailureCount: 1 });
/** 13. No failure tolerated; redrive re-runs failed items only. */
export const kitMapStrict = mapPipeline('kit-map-strict', { maxConcurrency: 2 });

/** 9. Two branches at once. */
export const kitParallel = define('kit-parallel')
  .parallel('both', { resultPath: '$.branches' }, [
    (b) => b.task('left', kitStep, { input: { ...P, value: 10, delayMs: 300, key: 'left' } }),
    (b) => b.task('right', kitStep, { input: { ...P, value: 20, delayMs: 300, key: 'right' } }),
  ])
  .build();

/** 10. Routing on a value. */
export const kitChoice = define('kit-choice')
  .choice(
    'route',
    [
      {
        when: { path: '$.route', op: 'eq', value: 'fast' },
        then: (b) => b.task('fast', kitStep, { input: { ...P, value: 100, key: 'fast' }, resultPath: '$.out' }),
      },
    ],
    (b) => b.task('slow', kitStep, { input: { ...P, value: 200, key: 'slow' }, resultPath: '$.out' }),
  )
  .build();

/** 11. An approval gate: approve, reject (caught), or time out. */
export const kitApproval = define('kit-approval')
  .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
  .approval('review', {
    gate: 'review',
    timeoutSeconds: KIT_APPROVAL_TIMEOUT_SECONDS,
    payload: { 'draft.$': '$.draft' },
    resultPath: '$.review',
    catch: [
      {
        errors: ['ApprovalRejected'],
        resultPath: '$.rejection',
        then: (b) => b.task('on-reject', kitHandler, { input: { ...P, 'error.$': '$.rejection' }, resultPath: '$.handled' }),
      },
    ],
  })
  .task('publish', kitStep, { input: { ...P, 'value.$': '$.draft.value' }, resultPath: '$.published' })
  .build();

/** 12. Six slow steps, to crash in the middle of. */
export const kitCrash = define('kit-crash')
  .task('s1', kitStep, { input: { ...P, 'value.$': '$.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s1' })
  .task('s2', kitStep, { input: { ...P, 'value.$': '$.s1.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s2' })
  .task('s3', kitStep, { input: { ...P, 'value.$': '$.s2.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s3' })
  .task('s4', kitStep, { input: { ...P, 'value.$': '$.s3.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s4' })
  .task('s5', kitStep, { input: { ...P, 'value.$': '$.s4.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s5' })
  .task('s6', kitStep, { input: { ...P, 'value.$': '$.s5.value', 'delayMs.$': '$.delayMs' }, resultPath: '$.s6' })
  .build();

/** 14. A 1 MB output handed to the next stage. */
export const kitClaimCheck = define('kit-claim-check')
  .task('big', kitBig, { input: { ...P, bytes: 1024 * 1024 }, resultPath: '$.big' })
  .task('consume', kitConsume, { input: { ...P, 'text.$': '$.big.text', 'sha256.$': '$.big.sha256' }, resultPath: '$.consumed' })
  .build();

/** 15. A stage that outlives its timeout. */
export const kitTimeout = define('kit-timeout')
  .task('slow', kitSlow, {
    input: { ...P },
    resultPath: '$.slow',
    catch: [
      {
        errors: ['States.Timeout'],
        resultPath: '$.timeout',
        then: (b) => b.task('after-timeout', kitHandler, { input: { ...P, 'error.$': '$.timeout' }, resultPath: '$.handled' }),
      },
    ],
  })
  .build();

/** 16. A stage delivered twice. */
export const kitIdempotent = define('kit-idempotent')
  .task('write', kitWriter, {
    input: { ...P, 'runKey.$': '$.runKey' },
    retry: [{ errors: ['ThrottlingException'], intervalMs: 50, maxAttempts: 2 }],
    resultPath: '$.written',
  })
  .build();

/** 17. Two hundred items through three stages. */
export const kitScale = define('kit-scale')
  .map('items', { items: '$.items', itemSelector: { ...mapItem, 'delayMs.$': '$.delayMs' }, maxConcurrency: 20, resultPath: '$.results' }, (b) =>
    b
      .task('first', kitItem, { resultPath: '$.first' })
      .task('second', kitItem, { input: { ...P, 'index.$': '$.index', 'value.$': '$.first.value' }, resultPath: '$.second' })
      .task('third', kitItem, { input: { ...P, 'index.$': '$.index', 'value.$': '$.second.value' }, resultPath: '$.third' }),
  )
  .build();

/** 18. A map tolerating every failure, with a retrier naming the fatal code; item 2 is denied the model. */
export const kitMapFatal = define('kit-map-fatal')
  .map(
    'items',
    {
      items: '$.items',
      itemSelector: { ...mapItem, failCode: 'ModelAccessDenied' },
      maxConcurrency: 1,
      toleratedFailurePercentage: 100,
      resultPath: '$.results',
    },
    (b) => b.task('item', kitItem, { retry: [{ errors: ['ModelAccessDenied'], intervalMs: 50, maxAttempts: 2 }] }),
  )
  .build();

/** 19. A misconfigured deployment under a `States.ALL` catcher, and under a catcher naming the code. */
const misconfigured = (name: string, errors: string[]): AnyPipeline =>
  define(name)
    .task('configure', kitFlaky, {
      input: { ...P, failTimes: 99, code: 'ConfigurationError' },
      resultPath: '$.configured',
      catch: [
        { errors, resultPath: '$.caught', then: (b) => b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught' }, resultPath: '$.handled' }) },
      ],
    })
    .build();
export const kitFatalCatchAll = misconfigured('kit-fatal-catch-all', ['States.ALL']);
export const kitFatalCatchNamed = misconfigured('kit-fatal-catch-named', ['ConfigurationError']);

/** 20. An approval gate whose reviewer comes from the run input. */
export const kitReviewerPath = define('kit-reviewer-path')
  .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
  .approval('review', { gate: 'review', timeoutSeconds: 300, reviewerPath: '$.reviewerId', payload: { 'draft.$': '$.draft' }, resultPath: '$.review' })
  .build();

/** 25. A gate behind a step that takes `delayMs`: an approve sent at once finds the gate not reached. */
export const kitGateLater = define('kit-gate-later')
  .task('draft', kitStep, { input: { ...P, value: 1, 'delayMs.$': '$.delayMs' }, resultPath: '$.draft' })
  .approval('review', { gate: 'review', timeoutSeconds: 300, payload: { 'draft.$': '$.draft' }, resultPath: '$.review' })
  .build();

/** Every pipeline the conformance kit runs; an engine under test must know all of them. */
export const conformancePipelines: AnyPipeline[] = [
  kitSequence,
  kitStrictInput,
  kitRetry,
  kitExhausted,
  kitRepair,
  kitSafety,
  kitMapConcurrency,
  kitMapTolerated,
  kitMapStrict,
  kitParallel,
  kitChoice,
  kitApproval,
  kitCrash,
  kitClaimCheck,
  kitTimeout,
  kitIdempotent,
  kitScale,
  kitMapFatal,
  kitFatalCatchAll,
  kitFatalCatchNamed,
  kitReviewerPath,
  kitGateLater,
  kitReviewSections,
  kitReviewRounds,
  ...semanticsPipelines,
  ...mapTolerancePipelines,
  ...limitsPipelines,
];
