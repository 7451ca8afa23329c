// Baton-on-Temporal vs raw Temporal, measured side by side in one run, on one dev server.
//   npx tsx bench/temporal.ts     (starts its own tuned `temporal server start-dev`; or set TEMPORAL_ADDRESS)
// (a) time per stage hop: a pipeline of HOPS sequential no-op stages vs a raw workflow calling
//     HOPS no-op activities (target <= 1.3x raw);
// (b) makespan of a 1,000-item map of a 50 ms stage at maxConcurrency 100 / the ideal 500 ms,
//     next to a raw workflow running the same 1,000 activities 100 at a time.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { z } from 'zod';
import { createMemoryBlobStore, defineStage, definePipeline, type AnyPipeline } from '@baton/core';
import { bundleBatonWorkflow, createTemporalEngine } from '../packages/adapter-temporal/src/index.js';
import { startDevServer, type DevServer } from '../packages/adapter-temporal/src/test-support/dev-server.js';
import type { RawActivities } from './temporal-raw-workflow.js';

const HOPS = Number(process.env.HOPS ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ITEMS = 1000;
const STAGE_MS = 50;
const MAX_CONCURRENCY = 100;

const noop = defineStage({
  name: 'noop',
  version: 1,
  input: z.object({ i: z.number() }),
  output: z.object({ i: z.number() }),
  async run(input) {
    return { i: input.i + 1 };
  },
});

const sleepy = defineStage({
  name: 'sleepy',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  async run(input) {
    await new Promise((r) => setTimeout(r, STAGE_MS));
    return { n: input.n };
  },
});

function chainPipeline(hops: number): AnyPipeline {
  let b = definePipeline({ name: 'bench-hops', version: 1, input: z.object({ i: z.number() }) });
  for (let h = 0; h < hops; h++) b = b.task(`s${h}`, noop) as typeof b;
  return b.build();
}

const mapPipeline = definePipeline({ name: 'bench-map', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .map('items', { items: '$.items', itemSelector: { 'n.$': '$$.Map.Item.Value' }, maxConcurrency: MAX_CONCURRENCY, resultPath: '$.results' }, (b) =>
    b.task('work', sleepy),
  )
  .build();

const rawWorkflows = fileURLToPath(new URL('./temporal-raw-workflow.ts', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let server: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
  const tuning = server ? server.tuning.join(', ') : 'unknown (TEMPORAL_ADDRESS given)';
  console.log(`Temporal dev server ${address}; dynamic config: ${tuning}`);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address });
  const rawQueue = `bench-raw-${randomUUID()}`;
  const activities: RawActivities = {
    noop: async (i) => i + 1,
    sleepy: async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    },
  };
  const rawWorker = await Worker.create({
    connection: native,
    taskQueue: rawQueue,
    workflowsPath: rawWorkflows,
    activities,
    maxConcurrentActivityTaskExecutions: MAX_CONCURRENCY,
  });
  const rawRunning = rawWorker.run();
  const engine = createTemporalEngine({
    pipelines: [chainPipeline(HOPS), mapPipeline],
    connection,
    address,
    taskQueue: `bench-baton-${randomUUID()}`,
    blobs: createMemoryBlobStore(),
    workflowBundle: await bundleBatonWorkflow(),
  });
  let lastRaw = '';
  let lastBaton = '';
  const raw = (type: string, args: unknown[]): Promise<unknown> =>
    client.workflow.execute(type, { taskQueue: rawQueue, workflowId: (lastRaw = `raw-${randomUUID()}`), args });
  const baton = async (pipeline: string, input: unknown): Promise<void> => {
    const { runId } = await engine.start(pipeline, input);
    lastBaton = runId;
    const outcome = await engine.result(runId);
    if (outcome.status !== 'succeeded') throw new Error(`${pipeline} failed: ${outcome.error.code} ${outcome.error.message}`);
  };

  // warm-up: caches, JIT, sticky queues
  await raw('rawChain', [5]);
  await baton('bench-hops', { i: 0 });

  const rawHop: number[] = [];
  const batonHop: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rawHop.push((await time(() => raw('rawChain', [HOPS]))) / HOPS);
    batonHop.push((await time(() => baton('bench-hops', { i: 0 }))) / HOPS);
  }
  const rawMs = median(rawHop);
  const batonMs = median(batonHop);
  console.log(`\n(a) stage hop, ${HOPS} sequential no-op stages, median of ${ROUNDS} rounds (alternating):`);
  console.log(`    raw Temporal workflow + activities : ${rawMs.toFixed(2)} ms/hop   (rounds: ${rawHop.map((x) => x.toFixed(2)).join(' ')})`);
  console.log(`    Baton on Temporal                  : ${batonMs.toFixed(2)} ms/hop   (rounds: ${batonHop.map((x) => x.toFixed(2)).join(' ')})`);
  console.log(`    ratio Baton / raw                  : ${(batonMs / rawMs).toFixed(2)}x  (target <= 1.3x)`);

  const ideal = Math.ceil(ITEMS / MAX_CONCURRENCY) * STAGE_MS;
  const items = Array.from({ length: ITEMS }, (_, i) => i);
  const rawMap = await time(() => raw('rawMap', [ITEMS, MAX_CONCURRENCY, STAGE_MS]));
  const batonMap = await time(() => baton('bench-map', { items }));
  console.log(`\n(b) map of ${ITEMS} items x ${STAGE_MS} ms at maxConcurrency ${MAX_CONCURRENCY}; ideal makespan ${ideal} ms:`);
  console.log(`    raw Temporal workflow              : ${rawMap.toFixed(0)} ms = ${(rawMap / ideal).toFixed(2)}x ideal`);
  console.log(
    `    Baton on Temporal                  : ${batonMap.toFixed(0)} ms = ${(batonMap / ideal).toFixed(2)}x ideal (${(batonMap / rawMap).toFixed(2)}x raw)`,
  );

  // workflow-side cost, without the server: replay both map histories in this thread and count CPU
  const rawHistory = await client.workflow.getHandle(lastRaw).fetchHistory();
  const batonHistory = await client.workflow.getHandle(lastBaton).fetchHistory();
  const replayCpu = async (history: typeof rawHistory, bundle: { code: string }): Promise<number> => {
    const before = process.cpuUsage();
    await Worker.runReplayHistory(
      { workflowBundle: bundle, workflowThreadPoolSize: 0, sinks: { baton: { event: { fn: () => undefined } } } } as never,
      history,
    );
    const d = process.cpuUsage(before);
    return (d.user + d.system) / 1000;
  };
  const rawBundle = await bundleWorkflowCode({ workflowsPath: rawWorkflows, logger: new DefaultLogger('WARN') });
  const batonBundle = await bundleBatonWorkflow();
  await replayCpu(rawHistory, rawBundle);
  await replayCpu(batonHistory, batonBundle);
  const rawCpu = median([await replayCpu(rawHistory, rawBundle), await replayCpu(rawHistory, rawBundle), await replayCpu(rawHistory, rawBundle)]);
  const batonCpu = median([await replayCpu(batonHistory, batonBundle), await replayCpu(batonHistory, batonBundle), await replayCpu(batonHistory, batonBundle)]);
  console.log(`    history events                     : raw ${rawHistory.events?.length ?? 0}, Baton ${batonHistory.events?.length ?? 0}`);
  console.log(`    workflow CPU (replay, median of 3) : raw ${rawCpu.toFixed(0)} ms, Baton ${batonCpu.toFixed(0)} ms (${(batonCpu / rawCpu).toFixed(2)}x)`);

  await engine.close();
  rawWorker.shutdown();
  await rawRunning;
  await native.close();
  await connection.close();
  await server?.stop();
}

await main();
