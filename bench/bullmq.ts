// Baton-on-BullMQ vs raw BullMQ, measured side by side in one run on this machine.
//   npx tsx bench/bullmq.ts            (starts its own redis-server; or set REDIS_URL)
// (a) time per stage hop: a pipeline of N sequential no-op stages vs a raw chain of N no-op jobs
//     where each job adds the next (target <= 1.5x raw);
// (b) makespan of a 1,000-item map of a 50 ms stage at maxConcurrency 100 / the ideal 500 ms
//     (target <= 1.15).
// Both enqueue paths side by side: `fused` (task jobs added inside the journal script, BullMQ's own
// add scripts embedded) and `public` (claims in the script, jobs added through Queue.addBulk).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { createFsBlobStore, createLocalEngine, createMemoryBlobStore, defineStage, definePipeline, type AnyPipeline } from '@baton/core';
import { createBullmqEngine } from '../packages/adapter-bullmq/src/index.js';
import { startRedis, type RedisServer } from '../packages/adapter-bullmq/test/redis.js';

const HOPS = Number(process.env.HOPS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
/** Rounds of (b): a round of 1,000 items varies by +-15 ms on this machine, so the median takes more. */
const ROUNDS_B = Number(process.env.ROUNDS_B ?? 9);
const ITEMS = 1000;
/** Untimed rounds of (b) before the measured ones. */
const WARMUP_B = Number(process.env.WARMUP_B ?? 5);
/** Run only part a or b (profiling). */
const PART = process.env.PART;
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

function chainPipeline(n: number): AnyPipeline {
  let b = definePipeline({ name: 'hops', version: 1, input: z.object({ i: z.number() }) }) as unknown as {
    task(id: string, stage: typeof noop, o: object): typeof b;
    build(): AnyPipeline;
  };
  for (let k = 0; k < n; k++) b = b.task(`h${k}`, noop, { input: { 'i.$': k === 0 ? '$.i' : `$.h${k - 1}.i` }, resultPath: `$.h${k}` });
  return b.build();
}

const mapPipeline = definePipeline({ name: 'wide', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .map('items', { items: '$.items', itemSelector: { 'n.$': '$$.Map.Item.Value' }, maxConcurrency: MAX_CONCURRENCY, resultPath: '$.results' }, (b) =>
    b.task('sleep', sleepy),
  )
  .build();

async function rawChain(connection: { host: string; port: number }, prefix: string, hops: number): Promise<number> {
  const name = `raw-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection: { ...connection, maxRetriesPerRequest: null }, prefix });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const worker = new Worker(
    name,
    async (job) => {
      const i = (job.data as { i: number }).i;
      if (i + 1 < hops) await queue.add('hop', { i: i + 1 }, { removeOnComplete: { count: 2000 } });
      else done();
    },
    { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency: 50 },
  );
  await worker.waitUntilReady();
  const t0 = performance.now();
  await queue.add('hop', { i: 0 }, { removeOnComplete: { count: 2000 } });
  await finished;
  const ms = performance.now() - t0;
  await worker.close();
  await queue.close();
  return ms;
}

/** Raw BullMQ reference for (b): the same 1,000 x 50 ms jobs added at once, a worker at concurrency 100. */
async function rawMap(connection: { host: string; port: number }, prefix: string): Promise<number> {
  const name = `rawmap-${randomBytes(3).toString('hex')}`;
  const conn = { ...connection, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection: conn, prefix });
  let left = ITEMS;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const worker = new Worker(
    name,
    async () => {
      await new Promise((r) => setTimeout(r, STAGE_MS));
      if (--left === 0) done();
    },
    { connection: conn, prefix, concurrency: MAX_CONCURRENCY },
  );
  await worker.waitUntilReady();
  const t0 = performance.now();
  await queue.addBulk(Array.from({ length: ITEMS }, (_, i) => ({ name: 'item', data: { i }, opts: { removeOnComplete: { count: 2000 } } })));
  await finished;
  const ms = performance.now() - t0;
  await worker.close();
  await queue.close();
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

type Path = 'fused' | 'public';
const PATHS: Path[] = ['fused', 'public'];

async function main(): Promise<void> {
  let server: RedisServer | undefined;
  const url = process.env.REDIS_URL ?? (server = await startRedis()).url;
  const u = new URL(url);
  const connection = { host: u.hostname, port: Number(u.port || 6379) };
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const chain = chainPipeline(HOPS);
  const blobRoot = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  // one engine per enqueue path (own prefix): task jobs added inside the journal script, or through Queue.addBulk
  const engines = Object.fromEntries(
    PATHS.map((path) => [
      path,
      createBullmqEngine({
        connection: url,
        prefix: `${prefix}-${path}`,
        pipelines: [chain, mapPipeline],
        blobs: createFsBlobStore({ root: blobRoot }),
        worker: { concurrency: 128, recoverOnStart: false, enqueuePath: path === 'fused' ? 'auto' : 'public' },
      }),
    ]),
  ) as Record<Path, ReturnType<typeof createBullmqEngine>>;
  for (const path of PATHS) {
    await engines[path].worker?.ready;
    const got = await engines[path].worker?.enqueuePath;
    if (got !== path) throw new Error(`the ${path} engine enqueues through the ${got} path`);
  }
  const mapItems = (): { items: number[] } => ({ items: Array.from({ length: ITEMS }, (_, i) => i) });
  try {
    // warm-up: JIT, connections, Lua script cache
    await rawChain(connection, prefix, 50);
    for (const path of PATHS) await engines[path].result((await engines[path].start('hops', { i: 0 })).runId);

    const raw: number[] = [];
    const baton: Record<Path, number[]> = { fused: [], public: [] };
    for (let r = 0; r < (PART === 'b' ? 0 : ROUNDS); r++) {
      raw.push((await rawChain(connection, prefix, HOPS)) / HOPS);
      for (const path of PATHS) {
        const t0 = performance.now();
        const { runId } = await engines[path].start('hops', { i: 0 });
        const outcome = await engines[path].result(runId);
        if (outcome.status !== 'succeeded') throw new Error(`hops run failed: ${JSON.stringify(outcome)}`);
        baton[path].push((performance.now() - t0) / HOPS);
      }
    }
    const rawHop = median(raw);

    const makespans: Record<Path, number[]> = { fused: [], public: [] };
    const rawMakespans: number[] = [];
    const localMakespans: number[] = [];
    // the floor without any queue: core's in-memory local engine runs the same interpreter and invokeStage in-process
    const local = createLocalEngine({ pipelines: [mapPipeline], blobs: createMemoryBlobStore() });
    if (PART !== 'a') {
      // warm-up of (b), untimed, on every side: the first rounds of 1,000 items still run
      // partly unoptimised code (makespans fall for three to five rounds, then level off)
      for (let w = 0; w < WARMUP_B; w++) {
        await rawMap(connection, prefix);
        await local.result((await local.start('wide', mapItems())).runId);
        for (const path of PATHS) await engines[path].result((await engines[path].start('wide', mapItems())).runId);
      }
    }
    for (let r = 0; r < (PART === 'a' ? 0 : ROUNDS_B); r++) {
      rawMakespans.push(await rawMap(connection, prefix));
      const l0 = performance.now();
      await local.result((await local.start('wide', mapItems())).runId);
      localMakespans.push(performance.now() - l0);
      for (const path of PATHS) {
        const t0 = performance.now();
        const { runId } = await engines[path].start('wide', mapItems());
        const outcome = await engines[path].result(runId);
        if (outcome.status !== 'succeeded') throw new Error(`map run failed: ${JSON.stringify(outcome).slice(0, 500)}`);
        makespans[path].push(performance.now() - t0);
      }
    }
    const ideal = (ITEMS / MAX_CONCURRENCY) * STAGE_MS;
    const rawMakespan = median(rawMakespans);
    const localMakespan = median(localMakespans);

    const f = (n: number): string => n.toFixed(2);
    console.log(
      `Baton on BullMQ vs raw BullMQ, Redis ${url}, medians of ${ROUNDS} rounds (a) and ${ROUNDS_B} rounds (b), load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    if (PART !== 'b') {
      console.log(`(a) ${HOPS} sequential hops   raw BullMQ ${f(rawHop)} ms/hop   rounds [${raw.map(f).join(', ')}]`);
      for (const path of PATHS) {
        const hop = median(baton[path]);
        const ratio = hop / rawHop;
        // rounds alternate raw and Baton, so each round's ratio compares the two under the same load
        const roundRatios = baton[path].map((b, i) => b / raw[i]!);
        console.log(
          `    ${path.padEnd(6)} Baton ${f(hop)} ms/hop   ratio ${f(ratio)}x (target <= 1.5) ${ratio <= 1.5 ? 'OK' : 'MISSED'}   rounds [${baton[path].map(f).join(', ')}]  per-round ratio median ${f(median(roundRatios))}x`,
        );
      }
    }
    if (PART !== 'a') {
      console.log(`(b) ${ITEMS} items x ${STAGE_MS} ms @ ${MAX_CONCURRENCY}, ideal ${ideal} ms`);
      for (const path of PATHS) {
        const makespan = median(makespans[path]);
        const ratio = makespan / ideal;
        console.log(
          `    ${path.padEnd(6)} makespan ${makespan.toFixed(0)} ms   ratio ${f(ratio)} (target <= 1.15) ${ratio <= 1.15 ? 'OK' : 'MISSED'}   Baton / raw ${f(makespan / rawMakespan)}x   Baton / local ${f(makespan / localMakespan)}x   rounds [${makespans[path].map((m) => m.toFixed(0)).join(', ')}] ms`,
        );
      }
      console.log(
        `    reference: raw BullMQ, the same ${ITEMS} jobs added at once, concurrency ${MAX_CONCURRENCY}: makespan ${rawMakespan.toFixed(0)} ms, ratio ${f(rawMakespan / ideal)}`,
      );
      console.log(
        `    floor: core's in-memory local engine, same pipeline, no Redis: makespan ${localMakespan.toFixed(0)} ms, ratio ${f(localMakespan / ideal)}`,
      );
    }
  } finally {
    await Promise.all(PATHS.map((path) => engines[path].close()));
    await server?.close();
    rmSync(blobRoot, { recursive: true, force: true });
  }
}

await main();
