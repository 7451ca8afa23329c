import { describe, expect, it } from 'vitest';
import { StageError } from '../errors.js';
import type { CatchIR, StepIR } from '../ir.js';
import { fake, run, type Handler } from './fake.fixture.js';

const deny: Handler = () => {
  throw new StageError('ModelAccessDenied', 'no bedrock:InvokeModel on the model');
};
/** Items pass through, but item 2 is denied. */
const denySecond: Handler = (i, req) => (i === 2 ? deny(i, req) : i);
const denied = { code: 'ModelAccessDenied', message: 'no bedrock:InvokeModel on the model', retryable: false };

describe('interpret: fatal codes fail the run', () => {
  it('a fully tolerant map fails with the fatal item error; items already done keep their work, none starts after', async () => {
    const f = fake({ item: denySecond });
    const map: StepIR = {
      kind: 'map',
      id: 'm',
      items: '$',
      maxConcurrency: 1,
      toleratedFailurePercentage: 100,
      steps: [{ kind: 'task', id: 't', stage: 'item' }],
    };
    const out = await run([map], [0, 1, 2, 3, 4], f);
    expect(out).toEqual({ status: 'failed', error: denied });
    expect(f.calls.map((c) => c.stepPath)).toEqual(['m[0]/t', 'm[1]/t', 'm[2]/t']);
    expect(f.events).toContainEqual({ type: 'step-succeeded', stepPath: 'm[1]/t', kind: 'task' });
  });

  it('a map without a threshold fails with the fatal code, not States.ExceedToleratedFailureThreshold', async () => {
    const out = await run([{ kind: 'map', id: 'm', items: '$', steps: [{ kind: 'task', id: 't', stage: 'deny' }] }], [0], fake({ deny }));
    expect(out).toEqual({ status: 'failed', error: denied });
  });

  it('a fatal failure beside ordinary ones still fails a map that tolerates every failure', async () => {
    const f = fake({
      item: (i) => {
        if (i === 0) throw new StageError('ItemBroken', 'broken', { retryable: false });
        if (i === 1) throw new StageError('ConfigurationError', 'BATON_MODEL_ID is not set');
        return i;
      },
    });
    const out = await run(
      [{ kind: 'map', id: 'm', items: '$', maxConcurrency: 1, toleratedFailureCount: 5, steps: [{ kind: 'task', id: 't', stage: 'item' }] }],
      [0, 1, 2],
      f,
    );
    expect(out).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: 'BATON_MODEL_ID is not set' } });
  });

  it('States.ALL does not catch a fatal error; a catcher naming the code does', async () => {
    const handler: StepIR[] = [{ kind: 'task', id: 'h', stage: 'h' }];
    const all: StepIR = { kind: 'task', id: 'a', stage: 'deny', catch: [{ errors: ['States.ALL'], steps: handler }] };
    const f = fake({ deny, h: () => 'handled' });
    expect(await run([all], {}, f)).toEqual({ status: 'failed', error: denied });
    expect(f.calls.map((c) => c.stage)).toEqual(['deny']);
    const named: StepIR = {
      kind: 'task',
      id: 'a',
      stage: 'deny',
      catch: [
        { errors: ['ModelAccessDenied'], resultPath: '$.err', steps: handler },
        { errors: ['States.ALL'], steps: [] },
      ],
    };
    expect(await run([named], {}, fake({ deny, h: () => 'handled' }))).toEqual({ status: 'succeeded', output: 'handled' });
  });

  it('a States.ALL catcher on a map or parallel lets a fatal error through', async () => {
    const catchAll: CatchIR[] = [{ errors: ['States.ALL'], resultPath: '$.caught', steps: [] }];
    const map: StepIR = {
      kind: 'map',
      id: 'm',
      items: '$.items',
      toleratedFailurePercentage: 100,
      steps: [{ kind: 'task', id: 't', stage: 'deny' }],
      catch: catchAll,
    };
    expect(await run([map], { items: [1] }, fake({ deny }))).toEqual({ status: 'failed', error: denied });
    const parallel: StepIR = { kind: 'parallel', id: 'p', branches: [[{ kind: 'task', id: 't', stage: 'deny' }]], catch: catchAll };
    expect(await run([parallel], {}, fake({ deny }))).toEqual({ status: 'failed', error: denied });
  });

  it('no retrier retries a fatal error, not even one naming it, nor one on an enclosing map', async () => {
    const f = fake({ deny });
    const retry = [{ errors: ['ModelAccessDenied'], intervalMs: 10, maxAttempts: 3 }];
    const out = await run([{ kind: 'map', id: 'm', items: '$', retry, steps: [{ kind: 'task', id: 't', stage: 'deny', retry }] }], [0], f);
    expect(out).toEqual({ status: 'failed', error: denied });
    expect(f.calls).toHaveLength(1);
    expect(f.sleeps).toEqual([]);
  });

  it('even a fatal error thrown as retryable is not retried by States.ALL', async () => {
    const f = fake({
      s: () => {
        throw new StageError('ConfigurationError', 'no secret', { retryable: true });
      },
    });
    const out = await run([{ kind: 'task', id: 'a', stage: 's', retry: [{ errors: ['States.ALL'], intervalMs: 10, maxAttempts: 3 }] }], {}, f);
    expect(out).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError' } });
    expect(f.calls).toHaveLength(1);
  });
});

describe('interpret: reviewerPath', () => {
  const gate: StepIR = {
    kind: 'approval',
    id: 'review',
    gate: 'legal',
    timeoutSeconds: 60,
    reviewerPath: '$.reviewerId',
    payload: { 'doc.$': '$.doc' },
    resultPath: '$.review',
  };

  it('a string at the path assigns the gate to that reviewer', async () => {
    const f = fake({});
    await run([gate], { doc: 'd', reviewerId: 'alice' }, f);
    expect(f.approvals).toEqual([{ stepPath: 'review', gate: 'legal', timeoutSeconds: 60, reviewer: 'alice', payload: { doc: 'd' } }]);
  });

  it('null at the path leaves the gate unassigned', async () => {
    const f = fake({});
    expect(await run([gate], { doc: 'd', reviewerId: null }, f)).toMatchObject({ status: 'succeeded' });
    expect(f.approvals).toEqual([{ stepPath: 'review', gate: 'legal', timeoutSeconds: 60, payload: { doc: 'd' } }]);
  });

  it('a missing path fails with States.Runtime before the gate opens; a non-string too', async () => {
    const f = fake({});
    expect(await run([gate], { doc: 'd' }, f)).toMatchObject({
      status: 'failed',
      error: { code: 'States.Runtime', message: expect.stringContaining('reviewerId') },
    });
    expect(await run([gate], { doc: 'd', reviewerId: 7 }, f)).toMatchObject({
      status: 'failed',
      error: { code: 'States.Runtime', message: 'approval "review": $.reviewerId is not a reviewer (a string, or null for anyone); got number' },
    });
    expect(f.approvals).toEqual([]);
  });
});
