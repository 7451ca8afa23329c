// Measures what the registry observer costs a run: the same 200-item map on the local engine,
// without an observer and with createRegistryObserver over PGlite, side by side in one process.
// Prints ratios, not absolute claims. Run: npx tsx bench/observer-overhead.ts
import { createLocalEngine, definePipeline, defineStage } from '@baton/core';
import { z } from 'zod';
import { createPgliteRegistry, createRegistryObserver } from '../src/index.js';

const ITEMS = Number(process.env.ITEMS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const work = defineStage({
  name: 'work',
  version: 1,
  input: z.object({ i: z.number() }),
  output: z.object({ i: z.number() }),
  async run(input) {
    return { i: input.i * 2 };
  },
});
const pipeline = definePipeline({ name: 'bench-map', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .map('items', { items: '$.items', itemSelector: { 'i.$': '$$.Map.Item.Value' }, maxConcurrency: 20, resultPath: '$.out' }, (b) => b.task('work', work))
  .build();

const registry = await createPgliteRegistry();
const input = { items: Array.from({ length: ITEMS }, (_, i) => i) };

let batches = 0;
async function once(observed: boolean): Promise<{ runMs: number; drainMs: number; events: number }> {
  let events = 0;
  const counted = { ...registry, applyAll: (es: Parameters<typeof registry.applyAll>[0]) => (batches++, registry.applyAll(es)) };
  const observer = createRegistryObserver(counted);
  const engine = createLocalEngine({
    pipelines: [pipeline],
    ...(observed ? { observer: (e: Parameters<typeof observer>[0]) => (events++, observer(e)) } : {}),
  });
  const t0 = performance.now();
  const { runId } = await engine.start(pipeline, input);
  await engine.result(runId);
  const t1 = performance.now();
  await observer.flush();
  const t2 = performance.now();
  await engine.close();
  if (observed) {
    const run = await registry.getRun(runId);
    if (run?.attempts.length !== ITEMS) throw new Error(`expected ${ITEMS} attempts recorded, got ${run?.attempts.length}`);
  }
  return { runMs: t1 - t0, drainMs: t2 - t0, events };
}

await once(false); // warm up
await once(true);
const bare: number[] = [];
const withObs: { runMs: number; drainMs: number; events: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  bare.push((await once(false)).runMs);
  withObs.push(await once(true));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const b = median(bare);
const run = median(withObs.map((x) => x.runMs));
const drain = median(withObs.map((x) => x.drainMs));
const events = withObs[0]!.events;
console.log(`local engine, ${ITEMS}-item map, median of ${ROUNDS} (PGlite registry, in memory)`);
console.log(`run time with observer / without:            ${(run / b).toFixed(2)}x`);
console.log(`time until every row is written / bare run:  ${(drain / b).toFixed(2)}x`);
console.log(
  `events per run: ${events}; registry throughput ${(events / (drain / 1000)).toFixed(0)} events/s in ${(batches / (ROUNDS + 1)).toFixed(0)} transactions per run`,
);
await registry.close();
