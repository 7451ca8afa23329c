import { definePipeline } from '@baton/core';
import { conformancePipelines, conformanceStages } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileToAsl, compileUnchecked } from './compile.js';
import { checkLimits, estimateRunCost } from './limits.js';
import { NON_RETRYABLE_CODES } from './retry.js';
import { LAMBDA_SERVICE_ERRORS } from './task.js';
import type { AslState } from './types.js';
import { validateAsl } from './validate.js';

const kitStep = conformanceStages.find((s) => s.name === 'kit-step')!;
const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const states = (name: string, opts = {}) => compileToAsl(kit(name), opts).definition.States;
const items = (s: AslState) => (s.ItemProcessor as { States: Record<string, AslState> }).States;

describe('workflow type limits', { timeout: 60_000 }, () => {
  it('rejects an approval gate in an EXPRESS workflow with a clear error', () => {
    expect(() => compileToAsl(kit('kit-approval'), { type: 'EXPRESS' })).toThrow(
      /cannot run as a EXPRESS state machine:[\s\S]*review.*EXPRESS workflows do not support \.waitForTaskToken/,
    );
  });
  it('rejects a DISTRIBUTED map in EXPRESS, and uses DISTRIBUTED mode in STANDARD above the threshold', () => {
    expect(() => compileToAsl(kit('kit-scale'), { type: 'EXPRESS', expectedItems: { items: 5000 } })).toThrow(/DISTRIBUTED mode is needed/);
    const big = states('kit-scale', { expectedItems: { items: 5000 } }).items!;
    expect(big.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } });
    expect(validateAsl(compileToAsl(kit('kit-scale'), { expectedItems: { items: 5000 } }).definition).errorsText).toBe('');
    const tolerant = compileToAsl(kit('kit-map-tolerated'), { expectedItems: { items: 5000 } }).definition;
    expect(tolerant.States.items).toMatchObject({ ToleratedFailureCount: 1 });
    expect(validateAsl(tolerant).errorsText).toBe('');
    expect(states('kit-scale', { expectedItems: { items: 200 } }).items!.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'INLINE' } });
    expect(compileToAsl(kit('kit-sequence'), { type: 'EXPRESS' }).type).toBe('EXPRESS');
  });
});

describe('Retry translation', { timeout: 60_000 }, () => {
  it('States.ALL gets a leading MaxAttempts 0 retrier for the codes Baton never retries', () => {
    const retry = states('kit-repair', { lambdaIntegration: 'function-arn' }).validate!.Retry as Record<string, unknown>[];
    expect(retry[0]).toEqual({ ErrorEquals: NON_RETRYABLE_CODES, MaxAttempts: 0 });
    expect(retry[0]!.ErrorEquals).toEqual(
      expect.arrayContaining(['ValidationFailed', 'SafetyCheckFailed', 'InvalidInput', 'ApprovalRejected', 'States.Runtime']),
    );
    expect(retry[1]).toEqual({ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 });
    // lambda:invoke (the default) adds the Lambda service-error retrier after the never-retry entry, before States.ALL
    const invoke = compileToAsl(kit('kit-repair'));
    const withLambda = invoke.definition.States.validate!.Retry as Record<string, unknown>[];
    expect(withLambda.map((r) => r.ErrorEquals)).toEqual([NON_RETRYABLE_CODES, [...LAMBDA_SERVICE_ERRORS], ['States.ALL']]);
    expect(withLambda[1]).toEqual({ ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' });
    expect(invoke.tasks.validate!.retry.map((p) => p === null)).toEqual([true, true, false]);
  });
  it('keeps backoff, attempts, cap and jitter; rounds sub-second delays up with a warning', () => {
    const stage = {
      ...kitStep,
      retry: [{ errors: ['ThrottlingException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5, jitter: 'FULL' as const, maxDelayMs: 60_000 }],
    };
    const p = definePipeline({ name: 'r', version: 1, input: z.object({ probe: z.string() }) })
      .task('gen', stage, { input: { 'probe.$': '$.probe', value: 1 } })
      .build();
    const c = compileToAsl(p, { lambdaIntegration: 'function-arn' });
    expect(c.definition.States.gen!.Retry).toEqual([
      { ErrorEquals: ['ThrottlingException'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 5, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
    ]);
    expect(c.issues).toEqual([]);
    const retry = compileToAsl(kit('kit-retry'), { lambdaIntegration: 'function-arn' });
    expect(retry.definition.States.flaky!.Retry).toEqual([
      { ErrorEquals: ['ThrottlingException'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' },
    ]);
    expect(retry.issues).toContainEqual(
      expect.objectContaining({ severity: 'warning', step: 'flaky', message: expect.stringMatching(/200 ms is rounded up to 1 s/) }),
    );
  });
  it('validateAsl catches what asl-validator lets through in retriers', () => {
    const def = compileToAsl(kit('kit-retry')).definition;
    const bad = structuredClone(def);
    Object.assign((bad.States.flaky!.Retry as Record<string, unknown>[])[0]!, { JitterStrategy: 'PARTIAL', MaxDelaySecs: 3, MaxDelaySeconds: 0.5 });
    const v = validateAsl(bad);
    expect(v.isValid).toBe(false);
    expect(v.errorsText).toMatch(/unknown retrier field "MaxDelaySecs"/);
    expect(v.errorsText).toMatch(/JitterStrategy must be FULL or NONE/);
    expect(v.errorsText).toMatch(/MaxDelaySeconds must be a whole number/);
    expect(validateAsl(def).isValid).toBe(true);
  });
});

describe('lambda:invoke integration (the default)', { timeout: 60_000 }, () => {
  it('a result below the root: the Lambda gets the state and returns it with the output written in, kept by OutputPath (one state per task)', () => {
    const c = compileToAsl(kit('kit-sequence'));
    const s = c.definition.States;
    expect(s.a).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:baton-kit-step',
        Payload: { stage: 'kit-step', stepPath: 'a', 'state.$': '$', resultPath: '$.a', select: expect.any(String) },
      },
      OutputPath: '$.Payload',
      Next: 'b',
    });
    expect(s.a).not.toHaveProperty('ResultPath');
    expect(Object.keys(s)).toEqual(['c', 'b', 'a']);
    expect(JSON.parse((s.b!.Parameters as { Payload: { select: string } }).Payload.select)).toMatchObject({ 'value.$': '$.a.value' });
    expect((s.a!.Retry as { ErrorEquals: string[] }[])[0]!.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    expect(c.lambdaIntegration).toBe('invoke');
    for (const p of conformancePipelines) expect(validateAsl(compileToAsl(p).definition).errorsText, p.name).toBe('');
  });
  it("a map item's last task ends the item with no extra state, whether it replaces the item state or writes below it", () => {
    const replacing = items(compileToAsl(kit('kit-map-concurrency')).definition.States.items!);
    expect(replacing.item).toMatchObject({ ResultSelector: { status: 'succeeded', 'output.$': '$.Payload' }, End: true });
    expect(replacing.item!.Parameters).toMatchObject({ Payload: { 'input.$': expect.any(String) } });
    // kit-item's output keys are all required: the Task picks them and keeps the item result ($.result)
    const below = items(compileToAsl(kit('kit-scale')).definition.States.items!);
    expect(below.third).toMatchObject({
      ResultSelector: { 'index.$': '$.Payload.index', 'value.$': '$.Payload.value' },
      ResultPath: '$.result.output.third',
      OutputPath: '$.result',
      End: true,
    });
    expect(below.third!.Parameters).toMatchObject({ Payload: { input: { 'value.$': '$.result.output.second.value' }, keepKeys: true } });
    expect((below.third!.Parameters as { Payload: object }).Payload).not.toHaveProperty('state.$');
    expect(Object.keys(below)).toEqual(['third', 'second', 'first']);
  });
  it('a discarded result is ResultPath null; a result replacing the state is OutputPath $.Payload', () => {
    const p = definePipeline({ name: 'shapes', version: 1, input: z.object({ probe: z.string() }) })
      .task('fire', kitStep, { input: { 'probe.$': '$.probe', value: 1 }, resultPath: null })
      .task('swap', kitStep, { input: { 'probe.$': '$.probe', value: 2 } })
      .build();
    const s = compileToAsl(p).definition.States;
    expect(s.fire).toMatchObject({ ResultPath: null, Parameters: { Payload: { input: { 'probe.$': '$.probe', value: 1 } } } });
    expect(s.swap).toMatchObject({ OutputPath: '$.Payload', End: true });
    expect(s.swap).not.toHaveProperty('ResultPath');
  });
  it('function-arn stays available: the function ARN as Resource, the result written natively', () => {
    const s = compileToAsl(kit('kit-sequence'), { lambdaIntegration: 'function-arn' }).definition.States;
    expect(s.a).toMatchObject({
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:baton-kit-step',
      ResultPath: '$.a',
      Parameters: { stage: 'kit-step', input: expect.any(Object) },
    });
    expect(s.a).not.toHaveProperty('Retry');
  });
});

describe('Catch and error shape', () => {
  it("lambda:invoke: a caught error read first by a task is decoded by that task's Lambda, no Pass state", () => {
    const s = states('kit-exhausted');
    expect(s.flaky!.Catch).toEqual([{ ErrorEquals: ['ThrottlingException'], ResultPath: '$.caught', Next: 'handle' }]);
    expect(s.handle!.Parameters).toMatchObject({ Payload: { errors: ['$.caught'], resultPath: '$.handled' } });
    expect(Object.keys(s).filter((n) => n.includes('catch'))).toEqual([]);
  });
  it('function-arn: a caught Lambda error is parsed into { code, message, retryable, details } by Pass states', () => {
    const s = states('kit-exhausted', { lambdaIntegration: 'function-arn' });
    expect(s.flaky!.Catch).toEqual([{ ErrorEquals: ['ThrottlingException'], ResultPath: '$.caught', Next: 'flaky.catch0.envelope' }]);
    // only a Cause that is JSON is parsed: Lambda's own failures (timeouts, crashes) carry text
    expect(s['flaky.catch0.envelope']).toMatchObject({ Type: 'Choice', Default: 'flaky.catch0.no-cause' });
    expect(JSON.stringify(s['flaky.catch0.envelope'])).toContain('"StringMatches":"{*"');
    expect(s['flaky.catch0.envelope-json']).toMatchObject({
      Type: 'Pass',
      Parameters: { 'e.$': 'States.StringToJson($.caught.Cause)' },
      ResultPath: '$.caught',
      Next: 'flaky.catch0.message',
    });
    expect(s['flaky.catch0.message']).toMatchObject({ Type: 'Choice', Default: 'flaky.catch0.lambda-no-message' });
    expect(s['flaky.catch0.cause']).toMatchObject({ Parameters: { 'e.$': 'States.StringToJson($.caught.e.errorMessage)' } });
    expect(s['flaky.catch0.text']).toMatchObject({
      Type: 'Pass',
      Parameters: { e: { 'code.$': '$.caught.Error', 'message.$': '$.caught.Cause', retryable: false } },
    });
    expect(s['flaky.catch0.error']).toMatchObject({ InputPath: '$.caught.e', ResultPath: '$.caught', Next: 'handle' });
  });
  it('keeps the Pass parsing where no Lambda reads the error first (a Choice, or the end of the run)', () => {
    const p = definePipeline({ name: 'choosy', version: 1, input: z.object({ probe: z.string() }) })
      .task('try', kitStep, {
        input: { 'probe.$': '$.probe', value: 1 },
        resultPath: '$.tried',
        catch: [
          {
            errors: ['StageFailed'],
            resultPath: '$.err',
            then: (b) => b.choice('which', [{ when: { path: '$.err.code', op: 'eq', value: 'StageFailed' }, then: (c) => c.succeed('ok') }]),
          },
          { errors: ['States.ALL'], resultPath: '$.other', then: (b) => b },
        ],
      })
      .build();
    const s = compileToAsl(p).definition.States;
    expect(s['try']!.Catch).toEqual([
      { ErrorEquals: ['StageFailed'], ResultPath: '$.err', Next: 'try.catch0.envelope' },
      // States.ALL does not catch the fatal codes, States.Runtime nor States.DataLimitExceeded: they are re-raised (see fatal.test.ts)
      { ErrorEquals: ['ModelAccessDenied', 'ConfigurationError', 'States.Runtime', 'States.DataLimitExceeded'], Next: 'try.fatal' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.other', Next: 'try.catch1.envelope' },
    ]);
  });
});

describe('approval gate', () => {
  it('compiles to lambda:invoke.waitForTaskToken with TimeoutSeconds, HeartbeatSeconds and timeout -> ApprovalTimedOut', () => {
    const s = states('kit-approval', { approvalHeartbeatSeconds: 3600 });
    expect(s.review).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { 'taskToken.$': '$$.Task.Token', gate: 'review', timeoutSeconds: 2, payload: { 'draft.$': '$.draft' } } },
      TimeoutSeconds: 2,
      HeartbeatSeconds: 3600,
      ResultPath: '$.review',
      Next: 'publish',
    });
    const catchers = s.review!.Catch as { ErrorEquals: string[]; Next: string }[];
    expect(catchers[0]).toMatchObject({ ErrorEquals: ['States.Timeout'] });
    expect(s[catchers[0]!.Next]).toEqual({ Type: 'Fail', Error: 'ApprovalTimedOut', Cause: 'gate "review" was not decided within 2 s' });
    // the rejection is read first by the on-reject task, whose Lambda decodes it
    expect(catchers[1]).toMatchObject({ ErrorEquals: ['ApprovalRejected'], ResultPath: '$.rejection', Next: 'on-reject' });
    expect(s['on-reject']!.Parameters).toMatchObject({ Payload: { errors: ['$.rejection'] } });
    // function-arn: SendTaskFailure's cause is the serialized error itself: one parse, no Lambda envelope
    const parsed = states('kit-approval', { lambdaIntegration: 'function-arn' }).review!.Catch as { ErrorEquals: string[]; Next: string }[];
    expect(parsed[1]).toMatchObject({ ErrorEquals: ['ApprovalRejected'], ResultPath: '$.rejection', Next: 'review.catch0.decode' });
  });
});

describe('map', () => {
  it('items carry their step path; the last task shapes { status, output } with no extra state', () => {
    const m = states('kit-map-concurrency').items!;
    expect(m).toMatchObject({ Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 3, ResultPath: '$.results' });
    expect((m.ItemSelector as Record<string, unknown>)['path.$']).toBe("States.Format('items[{}]/', $$.Map.Item.Index)");
    const item = items(m).item!;
    expect(item).toMatchObject({ ResultSelector: { status: 'succeeded', 'output.$': '$.Payload' }, End: true });
    expect((item.Parameters as { Payload: Record<string, unknown> }).Payload['stepPath.$']).toBe("States.Format('{}item', $.path)");
    expect(Object.keys(items(m))).toEqual(['item']);
  });
  it('with a tolerated failure threshold, item failures are caught and recorded as { status: failed, error }', () => {
    const c = compileToAsl(kit('kit-map-tolerated'));
    const proc = items(c.definition.States.items!);
    expect(proc.item!.Catch).toEqual([
      { ErrorEquals: ['ModelAccessDenied', 'ConfigurationError'], Next: 'items.failed.fatal' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'items.failed.envelope' },
    ]);
    expect(proc['items.failed']).toEqual({ Type: 'Pass', Parameters: { status: 'failed', 'error.$': '$.error' }, End: true });
    // toleratedFailureCount is enforced after the Map: count failed items, fail beyond the count, put the items back
    const s = c.definition.States;
    expect(s.items).toMatchObject({ ResultSelector: { 'items.$': '$', 'total.$': 'States.ArrayLength($)' }, ResultPath: '$.results', Next: 'items.any' });
    expect(s['items.count']).toMatchObject({
      Parameters: { 'failed.$': "States.MathAdd(States.ArrayLength(States.StringSplit(States.JsonToString($.results.items[*].status), 'f')), -1)" },
      Next: 'items.tolerance',
    });
    expect(s['items.tolerance']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.results.count.failed', NumericGreaterThan: 1, Next: 'items.exceeded' }],
      Default: 'items.results',
    });
    expect(s['items.exceeded']).toEqual({ Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', CausePath: '$.results.count.cause' });
    expect(s['items.results']).toEqual({ Type: 'Pass', InputPath: '$.results.items', ResultPath: '$.results', End: true });
    // kit-step's output has an optional key: `before` sends its state, and the compile says so
    expect(c.issues).toEqual([
      expect.objectContaining({ severity: 'warning', step: 'before', message: expect.stringMatching(/output key "seen" may be absent/) }),
    ]);
  });
});

describe('plain item step paths', () => {
  it('items start as { status, output } and end without a shaping state', () => {
    const m = states('kit-scale', { itemStepPaths: 'plain' }).items!;
    expect(m.ItemSelector).toMatchObject({ status: 'succeeded', output: { 'index.$': '$$.Map.Item.Index' } });
    expect(Object.keys(items(m))).toEqual(['third', 'second', 'first']);
    expect(items(m).third).toMatchObject({
      ResultSelector: { 'index.$': '$.Payload.index', 'value.$': '$.Payload.value' },
      ResultPath: '$.output.third',
      End: true,
    });
    expect(items(m).third).not.toHaveProperty('OutputPath');
    expect(items(m).first!.Parameters).toMatchObject({ Payload: { stepPath: 'items[]/first' } });
    expect(estimateRunCost(compileToAsl(kit('kit-scale'), { itemStepPaths: 'plain' }).definition, { items: 10 }).transitions).toBe(1 + 10 * 3);
  });
});

describe('context object in map items', () => {
  it('refuses $$.Map.Item outside the itemSelector (Step Functions only exposes it there)', () => {
    const build = (value: string) =>
      definePipeline({ name: 'ctx', version: 1, input: z.object({ probe: z.string(), items: z.array(z.number()) }) })
        .map('each', { items: '$.items', resultPath: '$.out' }, (b) => b.task('one', kitStep, { input: { 'probe.$': '$.probe', 'value.$': value } }))
        .build();
    // core's validator refuses it when the pipeline is built ...
    expect(() => build('$$.Map.Item.Value')).toThrow(/only available in a map's itemSelector/);
    // ... and the compiler refuses it in an IR that did not go through the builder
    const p = build('$.value');
    const map = p.ir.steps[0] as { steps: { input: Record<string, string> }[] };
    map.steps[0]!.input['value.$'] = '$$.Map.Item.Value';
    expect(() => compileToAsl(p)).toThrow(/each\/?one|one: Step Functions exposes \$\$\.Map\.Item/);
  });
});

describe('claim-checked map items', () => {
  it("the task producing a map's items is told to keep them out of the claim check (a Map cannot follow a blob reference)", () => {
    const p = definePipeline({ name: 'cc', version: 1, input: z.object({ probe: z.string() }) })
      .task('plan', kitStep, { input: { 'probe.$': '$.probe', value: 1 }, resultPath: '$.plan' })
      .map('each', { items: '$.plan.sections', resultPath: '$.out' }, (b) => b.task('one', kitStep, { input: { 'probe.$': '$.probe', value: 1 } }))
      .task('after', kitStep, { input: { 'probe.$': '$.probe', value: 2 }, resultPath: '$.after' })
      .build();
    for (const lambdaIntegration of ['invoke', 'function-arn'] as const) {
      const c = compileToAsl(p, { lambdaIntegration });
      const payload = (s: AslState) =>
        lambdaIntegration === 'invoke' ? (s.Parameters as { Payload: Record<string, unknown> }).Payload : (s.Parameters as Record<string, unknown>);
      expect(payload(c.definition.States.plan!).keepInline).toEqual(['$.sections']);
      expect(payload(c.definition.States.after!)).not.toHaveProperty('keepInline');
      const stateForm = c.issues.filter((i) => /sends its whole state/.test(i.message)).map((i) => i.step);
      expect(stateForm).toEqual(lambdaIntegration === 'invoke' ? ['after', 'plan'] : []);
      expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    }
  });
});

describe('limits and state transitions', () => {
  it('reports a map whose results can exceed 256 KB and a STANDARD history over 25,000 events', () => {
    const def = compileToAsl(kit('kit-scale')).definition;
    const small = checkLimits(def, { items: 5 });
    expect(small).toEqual([]);
    const big = checkLimits(def, { items: 200 });
    expect(big).toContainEqual(expect.objectContaining({ severity: 'warning', step: 'items', message: expect.stringMatching(/over the 256 KB state limit/) }));
    const huge = checkLimits(def, { items: 2000 });
    expect(huge).toContainEqual(
      expect.objectContaining({ severity: 'error', message: expect.stringMatching(/history events .* over Step Functions' 25,000/) }),
    );
    expect(
      checkLimits(compileToAsl(kit('kit-scale'), { expectedItems: { items: 2000 } }).definition, { items: 2000 }).filter((i) => i.severity === 'error'),
    ).toEqual([]);
  });
  it('counts happy-path transitions: one per task; the item-shaping Pass only with function-arn when the last item step does not replace the item state', () => {
    expect(estimateRunCost(compileToAsl(kit('kit-sequence')).definition).transitions).toBe(3);
    // kit-scale items end with a task writing $.third, which shapes the item result itself
    expect(estimateRunCost(compileToAsl(kit('kit-scale')).definition, { items: 10 }).transitions).toBe(1 + 10 * 3);
    // function-arn: 3 tasks + the { status, output } Pass
    expect(estimateRunCost(compileToAsl(kit('kit-scale'), { lambdaIntegration: 'function-arn' }).definition, { items: 10 }).transitions).toBe(1 + 10 * 4);
    // kit-map-concurrency items end with a task replacing the item state: shaped by its ResultSelector
    expect(estimateRunCost(compileToAsl(kit('kit-map-concurrency')).definition, { items: 10 }).transitions).toBe(2 + 10 * 1);
  });
  it('compileUnchecked returns errors instead of throwing', () => {
    expect(compileUnchecked(kit('kit-approval'), { type: 'EXPRESS' }).issues.filter((i) => i.severity === 'error')).toHaveLength(1);
  });
});
