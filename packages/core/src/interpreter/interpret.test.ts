import { describe, expect, it } from 'vitest';
import { StageError } from '../errors.js';
import type { StepIR } from '../ir.js';
import { fake, inc, run, type Handler } from './fake.fixture.js';

describe('interpret: tasks and data flow', () => {
  it('selects input, writes output at resultPath and passes the state on', async () => {
    const f = fake({ upper: (i) => ({ text: (i as { text: string }).text.toUpperCase() }) });
    const out = await run(
      [
        { kind: 'task', id: 'a', stage: 'upper', input: { 'text.$': '$.text' }, resultPath: '$.a' },
        { kind: 'task', id: 'b', stage: 'upper', input: { 'text.$': '$.a.text' }, resultPath: null },
      ],
      { text: 'hi' },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { text: 'hi', a: { text: 'HI' } } });
    expect(f.calls.map((c) => [c.stepPath, c.input])).toEqual([
      ['a', { text: 'hi' }],
      ['b', { text: 'HI' }],
    ]);
  });

  it('a recorded completion is replayed without running the task', async () => {
    const f = fake({ s: () => 'fresh' }, { completed: { a: 'recorded' } });
    const out = await run(
      [
        { kind: 'task', id: 'a', stage: 's', resultPath: '$.a' },
        { kind: 'task', id: 'b', stage: 's', resultPath: '$.b' },
      ],
      {},
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { a: 'recorded', b: 'fresh' } });
    expect(f.calls.map((c) => c.stepPath)).toEqual(['b']);
    expect(f.events).toContainEqual({ type: 'task-replayed', stepPath: 'a' });
  });

  it('retries with the policy of the IR over the stage, sleeping the computed delays, counting attempts', async () => {
    const f = fake({
      flaky: (_i, req) => {
        if (req.attempt < 3) throw new StageError('ThrottlingException', `t${req.attempt}`);
        return req.attempt;
      },
    });
    const out = await run(
      [{ kind: 'task', id: 'a', stage: 'flaky', retry: [{ errors: ['ThrottlingException'], intervalMs: 100, backoffRate: 3 }], timeoutMs: 50 }],
      {},
      f,
      {
        flaky: { retry: [{ errors: ['ThrottlingException'], maxAttempts: 0 }] },
      },
    );
    expect(out).toEqual({ status: 'succeeded', output: 3 });
    expect(f.calls.map((c) => [c.attempt, c.timeoutMs])).toEqual([
      [1, 50],
      [2, 50],
      [3, 50],
    ]);
    expect(f.sleeps).toEqual([
      { key: 'a#1:retry', ms: 100 },
      { key: 'a#2:retry', ms: 300 },
    ]);
    expect(f.events.filter((e) => e.type === 'retry-scheduled')).toEqual([
      { type: 'retry-scheduled', stepPath: 'a', attempt: 1, code: 'ThrottlingException', delayMs: 100, maxDelayMs: 100 },
      { type: 'retry-scheduled', stepPath: 'a', attempt: 2, code: 'ThrottlingException', delayMs: 300, maxDelayMs: 300 },
    ]);
  });

  it("falls back to the stage's retry policy and gives up when it is exhausted", async () => {
    const f = fake({
      flaky: () => {
        throw new StageError('ThrottlingException', 'slow down');
      },
    });
    const out = await run([{ kind: 'task', id: 'a', stage: 'flaky' }], {}, f, {
      flaky: { retry: [{ errors: ['ThrottlingException'], maxAttempts: 2, intervalMs: 10 }] },
    });
    expect(out).toEqual({ status: 'failed', error: { code: 'ThrottlingException', message: 'slow down', retryable: true } });
    expect(f.calls).toHaveLength(3);
  });

  it('a non-retryable error thrown as retryable: false is not retried by States.ALL', async () => {
    const f = fake({
      s: () => {
        throw new StageError('Custom', 'no', { retryable: false });
      },
    });
    const out = await run([{ kind: 'task', id: 'a', stage: 's', retry: [{ errors: ['States.ALL'] }] }], {}, f);
    expect(out).toMatchObject({ status: 'failed', error: { code: 'Custom' } });
    expect(f.calls).toHaveLength(1);
  });

  it('a path that does not resolve fails the step with States.Runtime naming the segment', async () => {
    const f = fake({ s: () => 1 });
    const out = await run([{ kind: 'task', id: 'a', stage: 's', input: '$.plan.sections' }], { plan: {} }, f);
    expect(out).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: 'path $.plan.sections: nothing at ".sections" under $.plan' } });
    expect(f.calls).toHaveLength(0);
  });
});

describe('interpret: catch', () => {
  const failing =
    (code: string): Handler =>
    () => {
      throw new StageError(code, `${code} happened`, { details: { why: code } });
    };

  it('writes the error at the catcher resultPath, runs the handler, then continues after the failed step', async () => {
    const f = fake({ bad: failing('ValidationFailed'), fix: (i) => ({ fixedFrom: (i as { err: { code: string } }).err.code }), next: () => 'after' });
    const out = await run(
      [
        {
          kind: 'task',
          id: 'a',
          stage: 'bad',
          resultPath: '$.a',
          catch: [
            { errors: ['ThrottlingException'], steps: [] },
            { errors: ['ValidationFailed'], resultPath: '$.err', steps: [{ kind: 'task', id: 'fix', stage: 'fix', resultPath: '$.fixed' }] },
          ],
        },
        { kind: 'task', id: 'b', stage: 'next', resultPath: '$.b' },
      ],
      { keep: 1 },
      f,
    );
    expect(out).toEqual({
      status: 'succeeded',
      output: {
        keep: 1,
        err: { code: 'ValidationFailed', message: 'ValidationFailed happened', retryable: false, details: { why: 'ValidationFailed' } },
        fixed: { fixedFrom: 'ValidationFailed' },
        b: 'after',
      },
    });
  });

  it('defaults the catch resultPath to $.error, null discards, States.ALL catches anything', async () => {
    const f = fake({ bad: failing('Boom') });
    const dflt = await run([{ kind: 'task', id: 'a', stage: 'bad', catch: [{ errors: ['States.ALL'], steps: [] }] }], { x: 1 }, f);
    expect(dflt).toMatchObject({ status: 'succeeded', output: { x: 1, error: { code: 'Boom' } } });
    const discard = await run([{ kind: 'task', id: 'a', stage: 'bad', catch: [{ errors: ['Boom'], resultPath: null, steps: [] }] }], { x: 1 }, f);
    expect(discard).toEqual({ status: 'succeeded', output: { x: 1 } });
    const replace = await run([{ kind: 'task', id: 'a', stage: 'bad', catch: [{ errors: ['Boom'], resultPath: '$', steps: [] }] }], { x: 1 }, f);
    expect(replace).toMatchObject({ status: 'succeeded', output: { code: 'Boom' } });
  });

  it('an uncaught code fails the run with code, message and details intact', async () => {
    const f = fake({ bad: failing('SafetyCheckFailed') });
    const out = await run([{ kind: 'task', id: 'a', stage: 'bad', catch: [{ errors: ['ValidationFailed'], steps: [] }] }], {}, f);
    expect(out).toEqual({
      status: 'failed',
      error: { code: 'SafetyCheckFailed', message: 'SafetyCheckFailed happened', retryable: false, details: { why: 'SafetyCheckFailed' } },
    });
  });
});

describe('interpret: loop', () => {
  it('repeats the body until the predicate holds', async () => {
    const f = fake({ inc });
    const out = await run(
      [{ kind: 'loop', id: 'l', maxIterations: 10, until: { path: '$.n', op: 'gte', value: 3 }, steps: [{ kind: 'task', id: 'b', stage: 'inc' }] }],
      { n: 0 },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { n: 3 } });
    expect(f.calls.map((c) => c.stepPath)).toEqual(['l@0/b', 'l@1/b', 'l@2/b']);
  });

  it('stops after maxIterations bodies when the predicate never holds, and the run goes on', async () => {
    const f = fake({ inc, after: () => 'next' });
    const out = await run(
      [
        { kind: 'loop', id: 'l', maxIterations: 4, until: { path: '$.n', op: 'lt', value: 0 }, steps: [{ kind: 'task', id: 'b', stage: 'inc' }] },
        { kind: 'task', id: 'after', stage: 'after', resultPath: '$.after' },
      ],
      { n: 0 },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { n: 4, after: 'next' } });
    expect(f.calls.filter((c) => c.stage === 'inc')).toHaveLength(4);
  });

  it('a succeed in the body ends the run', async () => {
    const f = fake({ inc, after: () => 'next' });
    const out = await run(
      [
        {
          kind: 'loop',
          id: 'l',
          maxIterations: 4,
          until: { path: '$.never', op: 'present' },
          steps: [
            { kind: 'task', id: 'b', stage: 'inc' },
            { kind: 'succeed', id: 'stop' },
          ],
        },
        { kind: 'task', id: 'after', stage: 'after', resultPath: '$.after' },
      ],
      { n: 0 },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { n: 1 } });
  });
});

describe('interpret: wait', () => {
  it('sleeps seconds, seconds read at secondsPath, or until a timestamp', async () => {
    const f = fake({}, { now: Date.parse('2030-01-01T00:00:00Z') });
    const out = await run(
      [
        { kind: 'wait', id: 'w1', seconds: 2 },
        { kind: 'wait', id: 'w2', secondsPath: '$.delay' },
        { kind: 'wait', id: 'w3', until: '2030-01-01T00:00:05Z' },
        { kind: 'wait', id: 'w4', until: '2029-01-01T00:00:00Z' },
      ],
      { delay: 1.5 },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { delay: 1.5 } });
    expect(f.sleeps).toEqual([
      { key: 'w1', ms: 2000 },
      { key: 'w2', ms: 1500 },
      { key: 'w3', ms: 5000 },
      { key: 'w4', ms: 0 },
    ]);
  });

  it('fails with States.Runtime when secondsPath is not a number of seconds or until is not a timestamp', async () => {
    for (const delay of ['soon', -1]) {
      const out = await run([{ kind: 'wait', id: 'w', secondsPath: '$.delay' }], { delay }, fake({}));
      expect(out).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: 'wait "w": $.delay is not a number of seconds' } });
    }
    const missing = await run([{ kind: 'wait', id: 'w', secondsPath: '$.delay' }], {}, fake({}));
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: 'path $.delay: nothing at ".delay" under $' } });
    const bad = await run([{ kind: 'wait', id: 'w', until: 'tomorrow' }], {}, fake({}));
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: 'wait "w": "tomorrow" is not a timestamp' } });
  });
});

describe('interpret: choice, succeed, fail', () => {
  const choice = (otherwise?: StepIR[]): StepIR => ({
    kind: 'choice',
    id: 'c',
    branches: [
      { when: { path: '$.kind', op: 'eq', value: 'a' }, steps: [{ kind: 'task', id: 'ta', stage: 'tag', input: { t: 'a' }, resultPath: '$.tag' }] },
      { when: { path: '$.kind', op: 'eq', value: 'b' }, steps: [{ kind: 'task', id: 'tb', stage: 'tag', input: { t: 'b' }, resultPath: '$.tag' }] },
    ],
    ...(otherwise ? { otherwise } : {}),
  });
  const tag: Handler = (i) => (i as { t: string }).t;

  it('runs the first matching branch, else otherwise', async () => {
    const other: StepIR[] = [{ kind: 'task', id: 'to', stage: 'tag', input: { t: 'other' }, resultPath: '$.tag' }];
    expect(await run([choice(other)], { kind: 'b' }, fake({ tag }))).toEqual({ status: 'succeeded', output: { kind: 'b', tag: 'b' } });
    expect(await run([choice(other)], { kind: 'z' }, fake({ tag }))).toEqual({ status: 'succeeded', output: { kind: 'z', tag: 'other' } });
  });

  it('fails with States.NoChoiceMatched when nothing matches and there is no otherwise', async () => {
    expect(await run([choice()], { kind: 'z' }, fake({ tag }))).toEqual({
      status: 'failed',
      error: { code: 'States.NoChoiceMatched', message: 'choice "c": no branch matched and there is no otherwise', retryable: false },
    });
  });

  it('a fail step fails the run with its error and cause; without a cause it names the step', async () => {
    expect(await run([{ kind: 'fail', id: 'f', error: 'ReportRejected', cause: 'legal said no' }], {}, fake({}))).toEqual({
      status: 'failed',
      error: { code: 'ReportRejected', message: 'legal said no', retryable: false },
    });
    expect(await run([{ kind: 'fail', id: 'f', error: 'E' }], {}, fake({}))).toMatchObject({ error: { message: 'failed at step "f"' } });
  });

  it('a succeed step ends the run with the current state', async () => {
    const f = fake({ tag });
    const out = await run(
      [
        { kind: 'succeed', id: 's' },
        { kind: 'task', id: 'never', stage: 'tag' },
      ],
      { x: 1 },
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: { x: 1 } });
    expect(f.calls).toHaveLength(0);
  });
});

describe('interpret: map', () => {
  const double: Handler = (i) => (i as { value: number }).value * 2;

  it('runs the sub-pipeline per item with $$.Map.Item context and returns results in item order', async () => {
    const f = fake({ double });
    const out = await run(
      [
        {
          kind: 'map',
          id: 'm',
          items: '$.items',
          itemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'run.$': '$$.Execution.Id' },
          resultPath: '$.out',
          steps: [{ kind: 'task', id: 'd', stage: 'double', resultPath: '$.doubled' }],
        },
      ],
      { items: [1, 2, 3] },
      f,
    );
    expect(out).toEqual({
      status: 'succeeded',
      output: {
        items: [1, 2, 3],
        out: [1, 2, 3].map((v, i) => ({ status: 'succeeded', output: { value: v, index: i, run: 'run-1', doubled: v * 2 } })),
      },
    });
    expect(f.calls.map((c) => c.stepPath).sort()).toEqual(['m[0]/d', 'm[1]/d', 'm[2]/d']);
  });

  it('a succeed inside an item ends only that item; the map and the run go on', async () => {
    const f = fake({ double, after: () => 'after' });
    const out = await run(
      [
        {
          kind: 'map',
          id: 'm',
          items: '$.items',
          itemSelector: { 'value.$': '$$.Map.Item.Value' },
          resultPath: '$.out',
          steps: [
            {
              kind: 'choice',
              id: 'skip-odd',
              branches: [{ when: { path: '$.value', op: 'eq', value: 1 }, steps: [{ kind: 'succeed', id: 'early' }] }],
              otherwise: [],
            },
            { kind: 'task', id: 'd', stage: 'double', resultPath: '$.doubled' },
          ],
        },
        { kind: 'task', id: 'after', stage: 'after', resultPath: '$.after' },
      ],
      { items: [1, 2] },
      f,
    );
    expect(out).toEqual({
      status: 'succeeded',
      output: {
        items: [1, 2],
        out: [
          { status: 'succeeded', output: { value: 1 } },
          { status: 'succeeded', output: { value: 2, doubled: 4 } },
        ],
        after: 'after',
      },
    });
  });

  it('tolerates failed items up to the threshold and reports them in place', async () => {
    const f = fake({
      item: (i) => {
        if ((i as number) % 2) throw new StageError('ItemBroken', `item ${String(i)}`, { retryable: false });
        return i;
      },
    });
    const steps: StepIR[] = [{ kind: 'task', id: 't', stage: 'item' }];
    const ok = await run([{ kind: 'map', id: 'm', items: '$', toleratedFailureCount: 2, steps }], [0, 1, 2, 3], f);
    expect(ok).toEqual({
      status: 'succeeded',
      output: [
        { status: 'succeeded', output: 0 },
        { status: 'failed', error: { code: 'ItemBroken', message: 'item 1', retryable: false } },
        { status: 'succeeded', output: 2 },
        { status: 'failed', error: { code: 'ItemBroken', message: 'item 3', retryable: false } },
      ],
    });
    const pct = await run([{ kind: 'map', id: 'm', items: '$', toleratedFailurePercentage: 25, steps }], [0, 1, 2, 3], f);
    expect(pct).toMatchObject({
      status: 'failed',
      error: { code: 'States.ExceedToleratedFailureThreshold', message: 'map "m": 2 of 4 items failed, more than tolerated' },
    });
    // no tolerance declared: the failed item's own error, as an INLINE Map state fails
    const none = await run([{ kind: 'map', id: 'm', items: '$', steps }], [0, 1], f);
    expect(none).toEqual({ status: 'failed', error: { code: 'ItemBroken', message: 'item 1', retryable: false } });
  });

  it('keeps at most maxConcurrency items in flight', async () => {
    let inFlight = 0;
    let high = 0;
    const f = fake({
      slow: async (i) => {
        high = Math.max(high, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return i;
      },
    });
    const out = await run(
      [{ kind: 'map', id: 'm', items: '$', maxConcurrency: 3, steps: [{ kind: 'task', id: 't', stage: 'slow' }] }],
      Array.from({ length: 12 }, (_, i) => i),
      f,
    );
    expect(out.status).toBe('succeeded');
    expect(high).toBe(3);
  });

  it('fails with States.Runtime when items is not an array', async () => {
    const out = await run([{ kind: 'map', id: 'm', items: '$.items', steps: [{ kind: 'succeed', id: 's' }] }], { items: 'nope' }, fake({}));
    expect(out).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: 'map "m": $.items is not an array (got string)' } });
    const ref = await run(
      [{ kind: 'map', id: 'm', items: '$.items', steps: [{ kind: 'succeed', id: 's' }] }],
      { items: { $blob: 'k', bytes: 1, sha256: 'x' } },
      fake({}),
    );
    expect(ref).toMatchObject({ error: { message: 'map "m": $.items is not an array (got an unresolved blob reference)' } });
  });
});

describe('interpret: parallel', () => {
  it('runs every branch on the same input and outputs the branch results in order', async () => {
    const f = fake({ a: () => 'A', b: () => 'B' });
    const out = await run(
      [
        {
          kind: 'parallel',
          id: 'p',
          resultPath: '$.both',
          branches: [[{ kind: 'task', id: 'ta', stage: 'a', resultPath: '$.r' }], [{ kind: 'task', id: 'tb', stage: 'b', resultPath: '$.r' }]],
        },
      ],
      { x: 1 },
      f,
    );
    expect(out).toEqual({
      status: 'succeeded',
      output: {
        x: 1,
        both: [
          { x: 1, r: 'A' },
          { x: 1, r: 'B' },
        ],
      },
    });
    expect(f.calls.map((c) => c.stepPath).sort()).toEqual(['p.0/ta', 'p.1/tb']);
  });

  it('fails when a branch fails (after every branch settled), catchable on the parallel step', async () => {
    const f = fake({
      a: () => 'A',
      b: () => {
        throw new StageError('ModelErrorException', 'model down', { retryable: false });
      },
    });
    const branches: StepIR[][] = [[{ kind: 'task', id: 'ta', stage: 'a' }], [{ kind: 'task', id: 'tb', stage: 'b' }]];
    const failed = await run([{ kind: 'parallel', id: 'p', branches }], {}, f);
    expect(failed).toEqual({ status: 'failed', error: { code: 'ModelErrorException', message: 'model down', retryable: false } });
    expect(f.calls.map((c) => c.stage).sort()).toEqual(['a', 'b']);
    const caught = await run(
      [{ kind: 'parallel', id: 'p', branches, catch: [{ errors: ['ModelErrorException'], resultPath: '$.failure', steps: [] }] }],
      {},
      f,
    );
    expect(caught).toMatchObject({ status: 'succeeded', output: { failure: { code: 'ModelErrorException' } } });
    expect(f.events).toContainEqual(expect.objectContaining({ type: 'step-failed', stepPath: 'p', kind: 'parallel' }));
  });
});

describe('interpret: retry of parallel and map steps', () => {
  it('a retried parallel runs the failed branch again with a new attempt number and reuses the completed one', async () => {
    let calls = 0;
    const f = fake(
      {
        ok: () => 'fine',
        flaky: (_i, req) => {
          calls++;
          if (calls === 1) throw new StageError('ServiceUnavailableException', 'down');
          return `up on attempt ${req.attempt}`;
        },
      },
      { journal: true },
    );
    const out = await run(
      [
        {
          kind: 'parallel',
          id: 'p',
          retry: [{ errors: ['ServiceUnavailableException'], intervalMs: 500 }],
          branches: [[{ kind: 'task', id: 'a', stage: 'ok' }], [{ kind: 'task', id: 'b', stage: 'flaky' }]],
        },
      ],
      {},
      f,
    );
    expect(out).toEqual({ status: 'succeeded', output: ['fine', 'up on attempt 2'] });
    expect(f.calls.map((c) => `${c.stepPath}#${c.attempt}`).sort()).toEqual(['p.0/a#1', 'p.1/b#1', 'p.1/b#2']);
    expect(f.sleeps).toEqual([{ key: 'p#1:retry', ms: 500 }]);
    expect(f.events).toContainEqual({ type: 'retry-scheduled', stepPath: 'p', attempt: 1, code: 'ServiceUnavailableException', delayMs: 500, maxDelayMs: 500 });
  });

  it('a parallel gives up when its retrier is exhausted or does not match', async () => {
    const f = fake({
      bad: () => {
        throw new StageError('ServiceUnavailableException', 'down');
      },
    });
    const branches: StepIR[][] = [[{ kind: 'task', id: 'b', stage: 'bad' }]];
    const exhausted = await run(
      [{ kind: 'parallel', id: 'p', retry: [{ errors: ['ServiceUnavailableException'], maxAttempts: 2, intervalMs: 1 }], branches }],
      {},
      f,
    );
    expect(exhausted).toMatchObject({ status: 'failed', error: { code: 'ServiceUnavailableException' } });
    expect(f.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const g = fake({
      bad: () => {
        throw new StageError('ValidationFailed', 'no');
      },
    });
    const unmatched = await run([{ kind: 'parallel', id: 'p', retry: [{ errors: ['States.ALL'] }], branches }], {}, g);
    expect(unmatched).toMatchObject({ status: 'failed', error: { code: 'ValidationFailed' } });
    expect(g.calls).toHaveLength(1);
  });

  it('a map never retries a tolerated-failure breach (never retried), even under States.ALL', async () => {
    const f = fake({
      bad: () => {
        throw new StageError('ItemBroken', 'no', { retryable: false });
      },
    });
    const out = await run(
      [{ kind: 'map', id: 'm', items: '$', toleratedFailureCount: 0, retry: [{ errors: ['States.ALL'] }], steps: [{ kind: 'task', id: 't', stage: 'bad' }] }],
      [1],
      f,
    );
    expect(out).toMatchObject({ status: 'failed', error: { code: 'States.ExceedToleratedFailureThreshold' } });
    expect(f.calls).toHaveLength(1);
  });
});

describe('interpret: approval', () => {
  const gate: StepIR = {
    kind: 'approval',
    id: 'review',
    gate: 'legal',
    timeoutSeconds: 60,
    reviewer: 'alice',
    payload: { 'doc.$': '$.doc' },
    resultPath: '$.review',
  };

  it('asks with the selected payload and writes the decision', async () => {
    const f = fake({});
    const out = await run([gate], { doc: 'd' }, f);
    expect(f.approvals).toEqual([{ stepPath: 'review', gate: 'legal', timeoutSeconds: 60, reviewer: 'alice', payload: { doc: 'd' } }]);
    expect(out).toEqual({ status: 'succeeded', output: { doc: 'd', review: { approved: true, reviewer: 'alice', comment: 'fine', sections: {} } } });
    const bare = fake({}, { approval: { decision: 'approved' } });
    expect(await run([{ kind: 'approval', id: 'g', gate: 'g', timeoutSeconds: 1 }], { a: 1 }, bare)).toEqual({
      status: 'succeeded',
      output: { approved: true, reviewer: null, comment: null, sections: {} },
    });
    expect(bare.approvals[0]).toEqual({ stepPath: 'g', gate: 'g', timeoutSeconds: 1, payload: { a: 1 } });
  });

  it('a sectionsPath asks with the section ids and writes the verdicts; a missing or non-list path is States.Runtime', async () => {
    const sectioned: StepIR = { kind: 'approval', id: 'review', gate: 'g', timeoutSeconds: 60, sectionsPath: '$.ids', payload: {}, resultPath: '$.review' };
    const verdicts = { a: { verdict: 'send-back' as const, note: 'cite it' } };
    const f = fake({}, { approval: { decision: 'approved', reviewer: 'alice', sections: verdicts } });
    const out = await run([sectioned], { ids: ['a', 'b'] }, f);
    expect(f.approvals).toEqual([{ stepPath: 'review', gate: 'g', timeoutSeconds: 60, sections: ['a', 'b'], payload: {} }]);
    expect(out).toEqual({ status: 'succeeded', output: { ids: ['a', 'b'], review: { approved: true, reviewer: 'alice', comment: null, sections: verdicts } } });
    for (const input of [{}, { ids: 'a' }, { ids: [1] }]) {
      const g = fake({});
      expect(await run([sectioned], input, g)).toMatchObject({ status: 'failed', error: { code: 'States.Runtime' } });
      expect(g.approvals).toHaveLength(0);
    }
  });

  it('a rejection fails with ApprovalRejected naming reviewer and comment; a timeout with ApprovalTimedOut', async () => {
    const rejected = await run([gate], { doc: 'd' }, fake({}, { approval: { decision: 'rejected', reviewer: 'alice', comment: 'missing sources' } }));
    expect(rejected).toEqual({
      status: 'failed',
      error: {
        code: 'ApprovalRejected',
        message: 'gate "legal" rejected by alice: missing sources',
        retryable: false,
        details: { gate: 'legal', reviewer: 'alice', comment: 'missing sources' },
      },
    });
    const timedOut = await run([gate], { doc: 'd' }, fake({}, { approval: { decision: 'timeout' } }));
    expect(timedOut).toEqual({
      status: 'failed',
      error: {
        code: 'ApprovalTimedOut',
        message: 'gate "legal" was not decided within 60 s',
        retryable: false,
        details: { gate: 'legal', timeoutSeconds: 60 },
      },
    });
  });
});

describe('interpret: effects that throw', () => {
  it('an effect failure becomes a failed run, not a rejected promise', async () => {
    const f = fake({});
    f.effects.completed = async () => {
      throw new Error('journal unavailable');
    };
    const out = await run([{ kind: 'task', id: 'a', stage: 's' }], {}, f);
    expect(out).toEqual({ status: 'failed', error: { code: 'StageFailed', message: 'Error: journal unavailable', retryable: true } });
  });
});
