import { CliError } from '../errors.js';
import { commonOptions, type EngineContext, type EngineFactory, type WorkerFactory } from './context.js';
import { assertReachable, hostPort } from './reach.js';

/** Redis when neither `--redis-url` nor `REDIS_URL` says otherwise. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The BullMQ engine: runs journaled in Redis, an in-process worker unless `--no-worker`. */
export const bullmqEngineFactory: EngineFactory = async (ctx) => {
  const connection = await redisOf(ctx);
  // loaded on demand: `baton run --engine local` never pays for BullMQ and ioredis
  const { createBullmqEngine, DEFAULT_PREFIX } = await import('@baton/adapter-bullmq');
  const engine = createBullmqEngine({
    connection,
    prefix: ctx.connection?.bullmqPrefix ?? DEFAULT_PREFIX,
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    ...(ctx.prices ? { prices: ctx.prices } : {}),
    worker: ctx.connection?.worker !== false && tuningOf(ctx),
    ...(ctx.onRecovering ? { onRecovering: ctx.onRecovering } : {}),
    ...commonOptions(ctx),
  });
  // Closing the engine while its Redis connections are still being made emits an unhandled
  // ioredis "Connection is closed" error that kills the process (a quick `baton status` did).
  // The engine exposes no `ready`; `result` awaits it before anything else, so an unknown run id
  // is a cheap way to wait for it.
  await engine.worker?.ready;
  await engine.result(`baton-cli-ready-probe-${process.pid}`).catch(() => undefined);
  return engine;
};

/** `baton worker --engine bullmq`: runs task and driver jobs until closed. */
export const bullmqWorkerFactory: WorkerFactory = async (ctx) => {
  const connection = await redisOf(ctx);
  const { createBullmqWorker, DEFAULT_PREFIX } = await import('@baton/adapter-bullmq');
  const prefix = ctx.connection?.bullmqPrefix ?? DEFAULT_PREFIX;
  const worker = createBullmqWorker({
    connection,
    prefix,
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    ...(ctx.prices ? { prices: ctx.prices } : {}),
    ...tuningOf(ctx),
    ...commonOptions(ctx),
  });
  await worker.ready;
  let stopped: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (stopped = resolve));
  return {
    description: `bullmq worker on ${redact(connection)} (prefix "${prefix}")`,
    running,
    async close() {
      await worker.close();
      stopped();
    },
  };
};

/** The worker's lock and stalled-check settings given by `--bullmq-lock-ms` / `--bullmq-stalled-ms`. */
function tuningOf(ctx: EngineContext): { lockDurationMs?: number; stalledIntervalMs?: number } {
  return {
    ...(ctx.connection?.bullmqLockMs ? { lockDurationMs: ctx.connection.bullmqLockMs } : {}),
    ...(ctx.connection?.bullmqStalledMs ? { stalledIntervalMs: ctx.connection.bullmqStalledMs } : {}),
  };
}

async function redisOf(ctx: EngineContext): Promise<string> {
  const url = ctx.connection?.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  let target: { host: string; port: number };
  try {
    if (!/^rediss?:\/\//.test(url)) throw new Error('not a redis:// URL');
    target = hostPort(url, 6379);
  } catch (e) {
    throw new CliError(`--redis-url "${url}": ${(e as Error).message}. Use redis://host:port`);
  }
  await assertReachable(
    'Redis',
    target.host,
    target.port,
    'Start Redis (Debian: apt-get install -y redis-server; redis-server --port 6379) or point the CLI at one with --redis-url redis://host:port or REDIS_URL.',
  );
  return url;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
