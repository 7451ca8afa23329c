// Model-quota-aware flow control vs plain concurrency caps, side by side in one run.
//   npm run bench:quota          (starts its own redis-server for BullMQ; or set REDIS_URL)
// A local Bedrock server (the project's Converse wire-format stand-in, real AWS SDK client) enforces
// a sliding-window quota of requests and tokens, as Bedrock counts them (input + maxTokens reserved
// on arrival, corrected to the actual usage on completion), answers 429 ThrottlingException above
// it, and takes time proportional to the output tokens. The workload is a report of SECTIONS
// sections, one model call each, under the report's retry policy (scaled to the window).
// Lines: a concurrency cap of 4, 16 and 64 with no limiter; Baton's adaptive limiter with the
// budget declared as the server's quota; the same limiter when the server's quota is halved
// mid-run (declared budget unchanged: the limiter must find it); on the local engine and BullMQ
// (three workers, each with its own Redis limiter connection, in this process).
// The "minute" is WINDOW_MS so that a run takes seconds; every figure is a ratio to it.
// Not yet here (issue 18): Temporal, worker processes for BullMQ (the suite's model-limiter test
// runs two), and two runs sharing one quota (fair share).
import { z } from 'zod';
import {
  StageError,
  createLocalEngine,
  createMemoryBlobStore,
  definePipeline,
  defineStage,
  type AnyPipeline,
  type Engine,
  type ModelBudgets,
  type ModelClient,
  type ModelLimiter,
  type ModelRequest,
  type RunInfo,
} from '@baton/core';
import { createMemoryModelLimiter, estimateUsage } from '@baton/core/engine';
import { createBedrockModel } from '../packages/stages/src/models/bedrock.js';
import { startLocalBedrock } from '../packages/stages/src/models/local-bedrock.js';
import { createBullmqEngine, createBullmqWorker, createRedisModelLimiter, type BullmqWorker, type RedisModelLimiter } from '../packages/adapter-bullmq/src/index.js';
import { startRedis, type RedisServer } from '../packages/adapter-bullmq/test/redis.js';

const SECTIONS = Number(process.env.SECTIONS ?? 200);
// 6 s: the limiter's window margin (2%, 120 ms) stays above this one process's event-loop lag at 200 calls
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 6000);
const QUOTA = { requests: 80, tokens: 40_000 };
const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const MS_PER_OUTPUT_TOKEN = 1;
const ENGINES = (process.env.ENGINES ?? 'local,bullmq').split(',');

// ---- the provider: a sliding-window quota, as the server counts it --------------------------------

interface Reservation {
  at: number;
  tokens: number;
}

interface Provider extends ModelClient {
  received: number;
  throttled: number;
  served: number;
  tokensServed: number;
  /** Quota in force: requests and tokens per window. */
  quota: { requests: number; tokens: number };
  reset(): void;
}

function quotaProvider(): Provider {
  let window: Reservation[] = [];
  const p: Provider = {
    modelId: MODEL_ID,
    received: 0,
    throttled: 0,
    served: 0,
    tokensServed: 0,
    quota: { ...QUOTA },
    reset() {
      window = [];
      p.received = p.throttled = p.served = p.tokensServed = 0;
      p.quota = { ...QUOTA };
    },
    async complete(request: ModelRequest) {
      p.received += 1;
      const now = Date.now();
      window = window.filter((r) => r.at + WINDOW_MS > now);
      const inputTokens = estimateUsage(request).inputTokens;
      const reserve: Reservation = { at: now, tokens: inputTokens + (request.maxTokens ?? 1024) };
      const used = window.reduce((n, r) => n + r.tokens, 0);
      if (window.length + 1 > p.quota.requests || used + reserve.tokens > p.quota.tokens) {
        p.throttled += 1;
        throw new StageError('ThrottlingException', 'Too many tokens, please wait before trying again.');
      }
      window.push(reserve);
      // deterministic output length per prompt: 150 to 349 tokens
      const outputTokens = 150 + (request.messages[0]!.content.length * 7919) % 200;
      await new Promise((r) => setTimeout(r, 20 + outputTokens * MS_PER_OUTPUT_TOKEN));
      reserve.tokens = inputTokens + outputTokens;
      p.served += 1;
      p.tokensServed += reserve.tokens;
      return { text: 'w '.repeat(outputTokens), usage: { inputTokens, outputTokens }, latencyMs: 20 + outputTokens, modelId: MODEL_ID };
    },
  };
  return p;
}

// ---- the workload ---------------------------------------------------------------------------------

const writeSection = defineStage({
  name: 'write-section',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ words: z.number() }),
  // the report's generate policy, in window time (2 s of a minute is WINDOW_MS / 30)
  retry: [{ errors: ['ThrottlingException'], intervalMs: Math.round(WINDOW_MS / 30), backoffRate: 2, maxAttempts: 8, jitter: 'FULL', maxDelayMs: WINDOW_MS }],
  timeoutMs: 600_000,
  async run(input, ctx) {
    const prompt = `Write section ${input.n} of the report from its sources. `.repeat(24 + (input.n % 8));
    const res = await ctx.model.complete({ messages: [{ role: 'user', content: prompt }], maxTokens: 400 });
    return { words: res.text.length / 2 };
  },
});

function reportPipeline(name: string, maxConcurrency: number): AnyPipeline {
  return definePipeline({ name, version: 1, input: z.array(z.object({ n: z.number() })) })
    // a section out of retries is reported, not the end of the bench
    .map('sections', { items: '$', maxConcurrency, toleratedFailurePercentage: 100 }, (b) => b.task('write', writeSection))
    .build();
}

const CAPS = [4, 16, 64];
const pipelines = [...CAPS.map((c) => reportPipeline(`cap-${c}`, c)), reportPipeline('adaptive', 200)];
const budgets: ModelBudgets = { [MODEL_ID]: { requestsPerMinute: QUOTA.requests, tokensPerMinute: QUOTA.tokens, windowMs: WINDOW_MS } };

// ---- measuring --------------------------------------------------------------------------------------

interface Line {
  engine: string;
  limiter: string;
  makespanMs: number;
  utilisation: number;
  throttled: number;
  ideal: number;
  attempts: number;
  /** Sections that ran out of retries. */
  failed: number;
  cost: number;
}

async function measure(engine: Engine, engineName: string, pipeline: string, label: string, provider: Provider, halveAtMs?: number): Promise<Line> {
  provider.reset();
  const items = Array.from({ length: SECTIONS }, (_, n) => ({ n }));
  const started = Date.now();
  const halve = halveAtMs === undefined ? undefined : setTimeout(() => (provider.quota = { requests: QUOTA.requests / 2, tokens: QUOTA.tokens / 2 }), halveAtMs);
  const { runId } = await engine.start(pipeline, items);
  const outcome = await engine.result(runId, { timeoutMs: 600_000 });
  const makespanMs = Date.now() - started;
  clearTimeout(halve);
  if (outcome.status !== 'succeeded') throw new Error(`${engineName} ${label}: run ${outcome.status}`);
  const info: RunInfo = await engine.status(runId);
  // A sliding-window quota of Q per window W can serve Q * (1 + L / W) over an interval of length L
  // (a full window at the start, then W's worth per W): that is the capacity utilisation divides by,
  // and the ideal makespan is the shortest L whose capacity holds the tokens served.
  const windows = (ms: number): number => ms / WINDOW_MS;
  const capacityOver = (ms: number): number =>
    halveAtMs === undefined || ms <= halveAtMs ? QUOTA.tokens * (1 + windows(ms)) : QUOTA.tokens * (1 + windows(halveAtMs)) + (QUOTA.tokens / 2) * windows(ms - halveAtMs);
  const needed = Math.max(provider.tokensServed, (provider.served / QUOTA.requests) * QUOTA.tokens);
  const beforeHalving = halveAtMs === undefined ? Infinity : capacityOver(halveAtMs);
  const idealMs =
    needed <= beforeHalving
      ? Math.max(0, needed / QUOTA.tokens - 1) * WINDOW_MS
      : halveAtMs! + ((needed - beforeHalving) / (QUOTA.tokens / 2)) * WINDOW_MS;
  return {
    engine: engineName,
    limiter: label,
    makespanMs,
    utilisation: provider.tokensServed / capacityOver(makespanMs),
    throttled: provider.throttled / provider.received,
    // plus one call's latency: the last call must also be answered
    ideal: makespanMs / (idealMs + 20 + 250 * MS_PER_OUTPUT_TOKEN),
    attempts: info.attempts.length,
    failed: (outcome.output as { status: string }[]).filter((r) => r.status !== 'succeeded').length,
    cost: info.usage?.cost ?? 0,
  };
}

async function benchEngine(name: string, make: (limiter: boolean) => Promise<{ engine: Engine; close(): Promise<void> }>, provider: Provider): Promise<Line[]> {
  const lines: Line[] = [];
  const plain = await make(false);
  try {
    for (const c of CAPS) lines.push(await measure(plain.engine, name, `cap-${c}`, `cap-${c}`, provider));
  } finally {
    await plain.close();
  }
  for (const [label, halveAt] of [['adaptive', undefined], ['adaptive-halved', WINDOW_MS * 2]] as const) {
    // a fresh limiter per line: the halved line must not start from the first one's factor
    const limited = await make(true);
    try {
      lines.push(await measure(limited.engine, name, 'adaptive', label, provider, halveAt));
    } finally {
      await limited.close();
    }
  }
  return lines;
}

const fixed = (x: number, d: number): string => x.toFixed(d);

async function main(): Promise<void> {
  const provider = quotaProvider();
  const bedrock = await startLocalBedrock({ model: provider });
  const model = createBedrockModel({
    modelId: MODEL_ID,
    clientConfig: { endpoint: bedrock.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
  });
  const prices = { [MODEL_ID]: { inputPer1M: 0.8, outputPer1M: 4 } };
  console.log(`quota: ${QUOTA.requests} requests and ${QUOTA.tokens} tokens per ${WINDOW_MS} ms window; ${SECTIONS} sections; latency 20 ms + ${MS_PER_OUTPUT_TOKEN} ms per output token`);
  const lines: Line[] = [];
  let redis: RedisServer | undefined;
  try {
    if (ENGINES.includes('local')) {
      lines.push(
        ...(await benchEngine(
          'local',
          async (limited) => {
            const limiter: ModelLimiter | undefined = limited ? createMemoryModelLimiter({ budgets }) : undefined;
            const engine = createLocalEngine({ pipelines, model, prices, ...(limiter ? { limiter } : {}) });
            return { engine, close: () => engine.close() };
          },
          provider,
        )),
      );
    }
    if (ENGINES.includes('bullmq')) {
      redis = process.env.REDIS_URL ? undefined : await startRedis();
      const url = process.env.REDIS_URL ?? redis!.url;
      let round = 0;
      lines.push(
        ...(await benchEngine(
          'bullmq',
          async (limited) => {
            const prefix = `quota-bench-${process.pid}-${round++}`;
            const blobs = createMemoryBlobStore();
            const limiters: RedisModelLimiter[] = [];
            const limiterOf = (): { limiter?: ModelLimiter } => {
              if (!limited) return {};
              const l = createRedisModelLimiter({ connection: url, prefix, budgets });
              limiters.push(l);
              return { limiter: l };
            };
            const engine = createBullmqEngine({ connection: url, prefix, pipelines, blobs, model, prices, ...limiterOf() });
            const workers: BullmqWorker[] = [1, 2].map(() => createBullmqWorker({ connection: url, prefix, pipelines, blobs, model, prices, ...limiterOf() }));
            await Promise.all(workers.map((w) => w.ready));
            return {
              engine,
              async close() {
                await Promise.all(workers.map((w) => w.close()));
                await engine.close();
                await Promise.all(limiters.map((l) => l.close()));
              },
            };
          },
          provider,
        )),
      );
    }
  } finally {
    await bedrock.close();
    await redis?.close();
  }
  console.log('\nengine  limiter          makespan  utilisation  throttled  makespan/ideal  attempts  failed  cost');
  for (const l of lines) {
    console.log(
      `${l.engine.padEnd(7)} ${l.limiter.padEnd(16)} ${`${fixed(l.makespanMs / 1000, 1)} s`.padStart(8)}  ${fixed(l.utilisation, 3).padStart(11)}  ${fixed(l.throttled, 3).padStart(9)}  ${fixed(l.ideal, 2).padStart(14)}  ${String(l.attempts).padStart(8)}  ${String(l.failed).padStart(6)}  ${fixed(l.cost, 4)}`,
    );
  }
  console.log('');
  for (const l of lines) console.log(`quota ${l.engine} ${l.limiter} utilisation=${fixed(l.utilisation, 2)} throttled=${fixed(l.throttled, 3)} makespan=${fixed(l.ideal, 2)}`);
}

await main();
process.exit(0);
