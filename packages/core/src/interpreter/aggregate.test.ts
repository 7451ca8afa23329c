import { describe, expect, it } from 'vitest';
import { isBlobRef } from '../blob-ref.js';
import type { StepIR } from '../ir.js';
import { AGGREGATE_CLAIM_CHECK_CHARS } from './interpret.js';
import { fake, run } from './fake.fixture.js';

// each item's output is far under any per-value threshold; together they pass the aggregate bound
const itemChars = 8 * 1024;
const items = Array.from({ length: Math.ceil(AGGREGATE_CLAIM_CHECK_CHARS / itemChars) + 2 }, (_, i) => i);
const big = (i: unknown): unknown => ({ index: i, text: 'x'.repeat(itemChars) });
const consume = (input: unknown): unknown => ({ received: input });

describe('interpret: map and parallel results claim-checked as a whole', () => {
  it('a map result over the bound reaches the state as one reference, and the next task reads that reference', async () => {
    const f = fake({ big, consume });
    const steps: StepIR[] = [
      { kind: 'map', id: 'm', items: '$.items', resultPath: '$.results', steps: [{ kind: 'task', id: 'b', stage: 'big' }] },
      { kind: 'task', id: 'c', stage: 'consume', input: { 'results.$': '$.results' }, resultPath: '$.consumed' },
    ];
    const out = await run(steps, { items }, f);
    expect(out.status).toBe('succeeded');
    const state = (out as { output: { results: unknown; consumed: { received: { results: unknown } } } }).output;
    expect(isBlobRef(state.results)).toBe(true);
    expect(f.stored).toHaveLength(1);
    expect(f.stored[0]).toEqual(items.map((i) => ({ status: 'succeeded', output: big(i) })));
    expect(state.consumed.received.results).toEqual(state.results);
  });

  it('a map result under the bound, and a discarded one, stay as they are', async () => {
    const f = fake({ big });
    const small = await run(
      [{ kind: 'map', id: 'm', items: '$.items', resultPath: '$.results', steps: [{ kind: 'task', id: 'b', stage: 'big' }] }],
      { items: [1, 2] },
      f,
    );
    expect((small as { output: { results: unknown[] } }).output.results).toHaveLength(2);
    const discarded = await run([{ kind: 'map', id: 'm', items: '$.items', resultPath: null, steps: [{ kind: 'task', id: 'b', stage: 'big' }] }], { items }, f);
    expect(discarded.status).toBe('succeeded');
    expect(f.stored).toHaveLength(0);
  });

  it('a parallel result over the bound is stored whole too', async () => {
    const f = fake({ big });
    const branch = (n: number): StepIR[] => [{ kind: 'task', id: `b${n}`, stage: 'big', input: { 'n.$': '$.n' } }];
    const branches = items.map((n) => branch(n));
    const out = await run([{ kind: 'parallel', id: 'p', resultPath: '$.both', branches }], { n: 1 }, f);
    expect(isBlobRef((out as { output: { both: unknown } }).output.both)).toBe(true);
    expect(f.stored[0]).toHaveLength(items.length);
  });
});
