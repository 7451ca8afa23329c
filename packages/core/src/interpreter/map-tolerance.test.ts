import { describe, expect, it } from 'vitest';
import { StageError } from '../errors.js';
import type { StepIR } from '../ir.js';
import { fake, run } from './fake.fixture.js';

const broken = (i: unknown): never => {
  throw new StageError('ItemBroken', `item ${String(i)}`, { retryable: false });
};
const over = (failed: number, total: number) => ({
  status: 'failed',
  error: { code: 'States.ExceedToleratedFailureThreshold', message: `map "m": ${failed} of ${total} items failed, more than tolerated`, retryable: false },
});

// Step Functions' semantics for a DISTRIBUTED Map Run: the map fails once its failures pass the
// threshold; items not started are never started, those in flight are stopped
describe('interpret: a map over its failure tolerance', () => {
  it('starts no item after the failure that passed the threshold, and counts the failures that passed it', async () => {
    const f = fake({ item: (i) => ([1, 3, 4].includes(i as number) ? broken(i) : i) });
    const map: StepIR = { kind: 'map', id: 'm', items: '$', maxConcurrency: 1, toleratedFailureCount: 1, steps: [{ kind: 'task', id: 't', stage: 'item' }] };
    expect(await run([map], [0, 1, 2, 3, 4, 5], f)).toEqual(over(2, 6));
    expect(f.calls.map((c) => c.stepPath)).toEqual(['m[0]/t', 'm[1]/t', 'm[2]/t', 'm[3]/t']);
  });

  it("decides a percentage on the run's item count: one failure passes 10 % of five items, not of twenty", async () => {
    const steps: StepIR[] = [{ kind: 'task', id: 't', stage: 'item' }];
    const map: StepIR = { kind: 'map', id: 'm', items: '$', maxConcurrency: 1, toleratedFailurePercentage: 10, steps };
    const few = fake({ item: (i) => (i === 1 ? broken(i) : i) });
    expect(await run([map], [0, 1, 2, 3, 4], few)).toEqual(over(1, 5));
    expect(few.calls).toHaveLength(2);
    const many = fake({ item: (i) => (i === 1 ? broken(i) : i) });
    expect(
      await run(
        [map],
        Array.from({ length: 20 }, (_, i) => i),
        many,
      ),
    ).toMatchObject({ status: 'succeeded' });
    expect(many.calls).toHaveLength(20);
  });

  it('stops the items in flight: they start no further step, and their later failures do not change the count', async () => {
    const f = fake({
      first: async (i) => {
        if (i === 0) broken(i);
        await new Promise((r) => setTimeout(r, 20));
        if (i === 1) broken(i);
        return i;
      },
      second: (i) => i,
    });
    const steps: StepIR[] = [
      { kind: 'task', id: 'a', stage: 'first' },
      { kind: 'task', id: 'b', stage: 'second' },
    ];
    const out = await run([{ kind: 'map', id: 'm', items: '$', maxConcurrency: 3, toleratedFailureCount: 0, steps }], [0, 1, 2, 3, 4], f);
    expect(out).toEqual(over(1, 5));
    expect(f.calls.map((c) => c.stepPath).sort()).toEqual(['m[0]/a', 'm[1]/a', 'm[2]/a']);
  });

  it("a caught breach reaches the map's catch handler with the same error", async () => {
    const f = fake({ item: broken });
    const map: StepIR = {
      kind: 'map',
      id: 'm',
      items: '$.items',
      resultPath: '$.results',
      toleratedFailureCount: 0,
      steps: [{ kind: 'task', id: 't', stage: 'item' }],
      catch: [{ errors: ['States.ExceedToleratedFailureThreshold'], resultPath: '$.over', steps: [] }],
    };
    expect(await run([map], { items: [0, 1] }, f)).toEqual({ status: 'succeeded', output: { items: [0, 1], over: over(1, 2).error } });
  });

  it('a second run over the journal runs the failed item again and the never-started ones for the first time', async () => {
    let fixed = false;
    const f = fake({ item: (i) => (i === 2 && !fixed ? broken(i) : i) }, { journal: true });
    const map: StepIR = { kind: 'map', id: 'm', items: '$', maxConcurrency: 1, toleratedFailureCount: 0, steps: [{ kind: 'task', id: 't', stage: 'item' }] };
    expect(await run([map], [0, 1, 2, 3, 4], f)).toEqual(over(1, 5));
    fixed = true;
    f.calls.length = 0;
    const again = await run([map], [0, 1, 2, 3, 4], f);
    expect(again).toEqual({ status: 'succeeded', output: [0, 1, 2, 3, 4].map((output) => ({ status: 'succeeded', output })) });
    expect(f.calls.map((c) => c.stepPath)).toEqual(['m[2]/t', 'm[3]/t', 'm[4]/t']);
  });
});

// an INLINE Map state fails with its failed iteration's own error: so does a map that declares no tolerance
describe('interpret: a map without a tolerance', () => {
  const item = { code: 'ItemBroken', message: 'item 1', retryable: false };
  const strict = (extra: Partial<Extract<StepIR, { kind: 'map' }>> = {}): StepIR => ({
    kind: 'map',
    id: 'm',
    items: '$.items',
    maxConcurrency: 1,
    resultPath: '$.results',
    steps: [{ kind: 'task', id: 't', stage: 'item' }],
    ...extra,
  });

  it("fails with the first failed item's own error, and starts no item after it", async () => {
    const f = fake({ item: (i) => (i === 1 || i === 2 ? broken(i) : i) });
    expect(await run([strict()], { items: [0, 1, 2, 3] }, f)).toEqual({ status: 'failed', error: item });
    expect(f.calls.map((c) => c.stepPath)).toEqual(['m[0]/t', 'm[1]/t']);
  });

  it("a catch on the map naming the item's code catches it, with the error at its resultPath", async () => {
    const f = fake({ item: (i) => (i === 1 ? broken(i) : i) });
    const map = strict({ catch: [{ errors: ['ItemBroken'], resultPath: '$.caught', steps: [] }] });
    expect(await run([map], { items: [0, 1, 2] }, f)).toEqual({ status: 'succeeded', output: { items: [0, 1, 2], caught: item } });
    // the threshold's code is not what it fails with
    const other = strict({ catch: [{ errors: ['States.ExceedToleratedFailureThreshold'], resultPath: '$.caught', steps: [] }] });
    expect(await run([other], { items: [0, 1, 2] }, fake({ item: (i) => (i === 1 ? broken(i) : i) }))).toEqual({ status: 'failed', error: item });
  });
});
