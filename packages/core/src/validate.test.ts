import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline, pipelineFromIR } from './builder.js';
import { IR_VERSION, type PipelineIR, type StepIR } from './ir.js';
import { defineStage } from './stage.js';
import { PipelineValidationError, throwable, validatePipelineIR, type PipelineIssue } from './validate.js';

const gen = defineStage({
  name: 'gen',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  throws: ['ValidationFailed'],
  retry: [{ errors: ['ThrottlingException'] }],
  async run(input) {
    return input;
  },
});
const stages = new Map([[gen.name, gen]]);

const ir = (steps: StepIR[]): PipelineIR => ({ irVersion: IR_VERSION, name: 'p', version: 1, steps });
const task = (id: string, extra: Partial<Extract<StepIR, { kind: 'task' }>> = {}): StepIR => ({ kind: 'task', id, stage: 'gen', ...extra });
const messages = (issues: PipelineIssue[]): string[] => issues.map((i) => `${i.stepId ?? '-'}: ${i.message}`);

describe('validatePipelineIR', () => {
  it('accepts a valid pipeline', () => {
    expect(validatePipelineIR(ir([task('a'), task('b', { input: { 'text.$': '$.a.text' }, resultPath: '$.b' })]), stages)).toEqual([]);
  });

  it('rejects an empty pipeline', () => {
    expect(messages(validatePipelineIR(ir([]), stages))).toEqual(['-: the pipeline has no steps']);
  });

  it('names an unknown stage and the registered ones', () => {
    expect(messages(validatePipelineIR(ir([{ kind: 'task', id: 'a', stage: 'nope' }]), stages))).toEqual(['a: unknown stage "nope" (registered: gen)']);
    expect(messages(validatePipelineIR(ir([{ kind: 'task', id: 'a', stage: 'nope' }]), new Map()))).toEqual(['a: unknown stage "nope" (registered: none)']);
  });

  it('names each bad path and where it is', () => {
    const issues = validatePipelineIR(
      ir([
        task('a', { input: { 'text.$': 'text' }, resultPath: '$.x..y' as `$${string}` }),
        { kind: 'map', id: 'm', items: '$.list[' as `$${string}`, itemSelector: { 'v.$': '$$.Map.Item.Value' }, steps: [task('in')] },
        {
          kind: 'choice',
          id: 'c',
          branches: [{ when: { and: [{ path: '$.ok', op: 'present' }, { not: { path: '$ bad' as `$${string}`, op: 'eq', value: 1 } }] }, steps: [task('c1')] }],
        },
        { kind: 'wait', id: 'w', secondsPath: '$.s[x]' as `$${string}` },
      ]),
      stages,
    );
    expect(messages(issues)).toEqual([
      'a: bad path "$.x..y" in resultPath',
      'a: bad path "text" in input',
      'm: bad path "$.list[" in items',
      'c: bad path "$ bad" in predicate',
      'w: bad path "$.s[x]" in secondsPath',
    ]);
  });

  it('finds duplicate step ids, also across nesting', () => {
    const issues = validatePipelineIR(ir([task('a'), { kind: 'map', id: 'm', items: '$.l', steps: [task('a')] }]), stages);
    expect(messages(issues)).toEqual(['a: duplicate step id "a": step ids must be unique in a pipeline']);
  });

  it('rejects step ids that cannot be a state name segment', () => {
    expect(messages(validatePipelineIR(ir([task('a/b')]), stages))).toEqual(['a/b: step id "a/b" must be letters, digits, ".", "-" or "_"']);
  });

  it('finds steps after a succeed or fail, in nested blocks too', () => {
    const issues = validatePipelineIR(
      ir([
        { kind: 'choice', id: 'c', branches: [{ when: { path: '$.x', op: 'present' }, steps: [{ kind: 'fail', id: 'f', error: 'E' }, task('dead1')] }] },
        { kind: 'succeed', id: 's' },
        task('dead2'),
      ]),
      stages,
    );
    expect(messages(issues)).toEqual([
      'dead2: unreachable step "dead2": it follows the succeed step "s"',
      'dead1: unreachable step "dead1": it follows the fail step "f"',
    ]);
  });

  it('rejects a catch of a code nothing in the step throws and lists what it can throw', () => {
    const issues = validatePipelineIR(ir([task('a', { catch: [{ errors: ['SafetyCheckFailed'], steps: [task('h')] }] })]), stages);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.stepId).toBe('a');
    expect(issues[0]!.message).toContain('catch of "SafetyCheckFailed", which nothing in this step throws');
    expect(issues[0]!.message).toContain('ValidationFailed');
    expect(issues[0]!.message).toContain('declare it in the stage\'s "throws"');
  });

  it('accepts catches of declared, retried, built-in and nested codes', () => {
    const ok = validatePipelineIR(
      ir([
        task('a', { catch: [{ errors: ['ValidationFailed', 'ThrottlingException', 'States.Timeout'], steps: [task('h')] }] }),
        {
          kind: 'parallel',
          id: 'p',
          branches: [[task('b')], [{ kind: 'fail', id: 'f', error: 'MyOwn' }]],
          catch: [{ errors: ['MyOwn', 'ValidationFailed'], steps: [task('h2')] }],
        },
        { kind: 'approval', id: 'g', gate: 'g', timeoutSeconds: 60, catch: [{ errors: ['ApprovalRejected'], steps: [task('h3')] }] },
        {
          kind: 'map',
          id: 'm',
          items: '$.l',
          toleratedFailureCount: 0,
          steps: [task('i')],
          catch: [{ errors: ['States.ExceedToleratedFailureThreshold'], steps: [task('h4')] }],
        },
        // a map without a tolerance fails with its failed item's own error
        { kind: 'map', id: 'n', items: '$.l', steps: [task('j')], catch: [{ errors: ['ValidationFailed'], steps: [task('h5')] }] },
      ]),
      stages,
    );
    expect(ok).toEqual([]);
  });

  it('a code caught inside a block is not throwable by the block', () => {
    const caughtInside: StepIR = {
      kind: 'parallel',
      id: 'p',
      branches: [[task('b', { catch: [{ errors: ['ValidationFailed'], steps: [task('h')] }] })]],
    };
    expect(throwable(caughtInside, stages)).not.toContain('ValidationFailed');
    const all: StepIR = { kind: 'parallel', id: 'p', branches: [[task('b', { catch: [{ errors: ['States.ALL'], steps: [task('h')] }] })]] };
    // States.ALL catches all but the fatal codes, which stay throwable by the block
    expect(throwable(all, stages).sort()).toEqual(['ConfigurationError', 'ModelAccessDenied', 'States.ALL', 'States.Runtime']);
  });

  it("fatal codes: any task may throw them, a map passes its items' on, a catcher naming one is valid", () => {
    const named = [{ errors: ['ModelAccessDenied', 'ConfigurationError'], steps: [task('h')] }];
    expect(
      validatePipelineIR(
        ir([
          task('a', { catch: named }),
          {
            kind: 'map',
            id: 'm',
            items: '$.l',
            toleratedFailurePercentage: 100,
            steps: [task('i')],
            catch: [{ errors: ['ModelAccessDenied'], steps: [task('h2')] }],
          },
        ]),
        stages,
      ),
    ).toEqual([]);
    const items = [task('i', { catch: [{ errors: ['ModelAccessDenied'], steps: [] }] })];
    const itemsCatchIt: StepIR = { kind: 'map', id: 'm', items: '$.l', toleratedFailureCount: 0, steps: items };
    expect(throwable(itemsCatchIt, stages)).toEqual(['States.ExceedToleratedFailureThreshold', 'States.Runtime', 'ConfigurationError', 'States.ALL']);
    // without a tolerance the map fails with its first failed item's own code: every code its items let through
    const strict = throwable({ kind: 'map', id: 'm', items: '$.l', steps: items }, stages);
    expect(strict).toEqual(expect.arrayContaining(['ValidationFailed', 'ThrottlingException', 'ConfigurationError', 'States.Runtime', 'States.ALL']));
    expect(strict).not.toContain('ModelAccessDenied');
    expect(strict).not.toContain('States.ExceedToleratedFailureThreshold');
  });

  it('an approval gate takes reviewer or reviewerPath, not both, and reviewerPath must be a path', () => {
    const gate = (extra: Partial<Extract<StepIR, { kind: 'approval' }>>): StepIR => ({
      kind: 'approval',
      id: 'g',
      gate: 'legal',
      timeoutSeconds: 60,
      ...extra,
    });
    expect(validatePipelineIR(ir([gate({ reviewerPath: '$.reviewerId' })]), stages)).toEqual([]);
    expect(messages(validatePipelineIR(ir([gate({ reviewer: 'alice', reviewerPath: '$.reviewerId' })]), stages))).toEqual([
      'g: approval gate "legal" has both reviewer and reviewerPath: give one (a fixed reviewer, or where the state holds it)',
    ]);
    expect(messages(validatePipelineIR(ir([Object.assign(gate({}), { reviewerPath: 'reviewerId' })]), stages))).toEqual([
      'g: bad path "reviewerId" in reviewerPath',
    ]);
  });

  it("an approval gate's sectionsPath must be a path", () => {
    const gate: StepIR = { kind: 'approval', id: 'g', gate: 'legal', timeoutSeconds: 60, sectionsPath: '$.ids' };
    expect(validatePipelineIR(ir([gate]), stages)).toEqual([]);
    expect(messages(validatePipelineIR(ir([Object.assign({ ...gate }, { sectionsPath: 'ids' })]), stages))).toEqual(['g: bad path "ids" in sectionsPath']);
  });

  it('States.ALL must be alone in the last retrier and the last catcher', () => {
    const issues = validatePipelineIR(
      ir([
        task('a', {
          retry: [{ errors: ['States.ALL'] }, { errors: ['ThrottlingException'] }],
          catch: [
            { errors: ['States.ALL', 'ValidationFailed'], steps: [task('h')] },
            { errors: ['StageFailed'], steps: [task('h2')] },
          ],
        }),
      ]),
      stages,
    );
    expect(messages(issues)).toEqual([
      'a: retrier 0: "States.ALL" must be alone in the last retrier',
      'a: catcher 0: "States.ALL" must be alone in the last catcher',
    ]);
  });

  it('checks retry, map, loop, wait, approval and task settings', () => {
    const issues = validatePipelineIR(
      ir([
        task('a', { timeoutMs: 0, retry: [{ errors: [], maxAttempts: -1, intervalMs: 0, backoffRate: 0.5, maxDelayMs: 0 }] }),
        { kind: 'map', id: 'm', items: '$.l', steps: [], maxConcurrency: 1.5, toleratedFailurePercentage: 101 },
        { kind: 'parallel', id: 'p', branches: [] },
        { kind: 'choice', id: 'c', branches: [] },
        { kind: 'loop', id: 'l', steps: [task('lb')], until: { path: '$.done', op: 'eq', value: true }, maxIterations: 0 },
        { kind: 'wait', id: 'w', seconds: 1, until: '2030-01-01T00:00:00Z' },
        { kind: 'approval', id: 'g', gate: 'g', timeoutSeconds: 0, payload: { 'x.$': 'x' } },
      ]),
      stages,
    );
    expect(messages(issues)).toEqual([
      'a: retrier 0 lists no errors',
      'a: retrier 0: maxAttempts must be a whole number >= 0',
      'a: retrier 0: intervalMs must be positive',
      'a: retrier 0: backoffRate must be >= 1',
      'a: retrier 0: maxDelayMs must be positive',
      'a: timeoutMs must be positive',
      'm: maxConcurrency must be a whole number >= 0',
      'm: toleratedFailurePercentage must be between 0 and 100',
      'm: a map needs at least one step per item',
      'p: a parallel step needs at least one branch',
      'c: a choice needs at least one branch',
      'l: maxIterations must be a whole number >= 1',
      'w: a wait needs exactly one of seconds, secondsPath or until',
      'g: timeoutSeconds must be positive',
      'g: bad path "x" in payload',
    ]);
  });

  it('an EXPRESS target rejects an approval gate with a clear reason', () => {
    const p = ir([task('a'), { kind: 'approval', id: 'review', gate: 'legal', timeoutSeconds: 3600 }]);
    expect(validatePipelineIR(p, stages)).toEqual([]);
    expect(messages(validatePipelineIR(p, stages, { target: 'stepfunctions-express' }))).toEqual([
      'review: approval gate "legal" cannot run in an EXPRESS workflow (no task tokens, 5-minute limit): use STANDARD',
    ]);
  });
});

describe('PipelineValidationError', () => {
  it('is thrown by build() and pipelineFromIR() with every issue in the message', () => {
    const builder = definePipeline({ name: 'bad', version: 1 })
      .task('a', gen)
      .task('a', gen, { resultPath: 'x' as `$${string}` });
    let caught: unknown;
    try {
      builder.build();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PipelineValidationError);
    const err = caught as PipelineValidationError;
    expect(err.code).toBe('InvalidPipeline');
    expect(err.pipeline).toBe('bad');
    expect(err.message).toBe(
      'pipeline "bad" is invalid:\n  - [a] duplicate step id "a": step ids must be unique in a pipeline\n  - [a] bad path "x" in resultPath',
    );
    expect(() => pipelineFromIR(ir([]), [gen])).toThrow('pipeline "p" is invalid:\n  - the pipeline has no steps');
  });

  it('build() with an EXPRESS target refuses approval gates', () => {
    const b = definePipeline({ name: 'x', version: 1 }).task('a', gen).approval('review', { timeoutSeconds: 60 });
    expect(() => b.build({ target: 'stepfunctions-express' })).toThrow(/cannot run in an EXPRESS workflow/);
  });
});

describe('map context paths', () => {
  it('rejects $$.Map.Item in a task input: Step Functions only has it in the itemSelector', async () => {
    const { definePipeline } = await import('./builder.js');
    const { defineStage } = await import('./stage.js');
    const { z } = await import('zod');
    const echo = defineStage({ name: 'echo', version: 1, input: z.unknown(), output: z.unknown(), run: async (i) => i });
    expect(() =>
      definePipeline({ name: 'ctx', version: 1 })
        .map('m', { items: '$.xs' }, (b) => b.task('t', echo, { input: { 'v.$': '$$.Map.Item.Value' } }))
        .build(),
    ).toThrow(/only available in a map's itemSelector/);
  });
});
