import type { ModelClient, RunInfo } from '@baton/core';
import type { Redis } from 'ioredis';

/**
 * Hash of the model calls made per attempt of a run (`path#attempt` → count). Written before
 * each call leaves the worker, so a call made by a worker that is then killed still counts: the
 * journal's metrics only hold the calls of the execution that recorded the attempt's outcome.
 */
export function modelCallsKey(prefix: string, runId: string): string {
  return `${prefix}:run:{${runId}}:calls`;
}

/**
 * The worker's model for one attempt: each call is counted in Redis ({@link modelCallsKey}) before
 * it is made. A failed count (Redis unreachable) does not stop the call: the journal's own figure
 * still stands.
 *
 * @example
 * ```ts
 * const model = countingModel(options.model, store.redis, prefix, runId, 'sections[0]/generate#1');
 * ```
 */
export function countingModel(model: ModelClient, redis: Redis, prefix: string, runId: string, attemptField: string): ModelClient {
  return {
    modelId: model.modelId,
    async complete(request, opts) {
      await redis.hincrby(modelCallsKey(prefix, runId), attemptField, 1).catch(() => undefined);
      return model.complete(request, opts);
    },
  };
}

/** The model calls counted per attempt of a run. */
export async function readModelCalls(redis: Redis, prefix: string, runId: string): Promise<Map<string, number>> {
  const raw = await redis.hgetall(modelCallsKey(prefix, runId));
  return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/**
 * A run's status with each attempt's `metrics.modelCalls` raised to the calls counted for it, so
 * "model calls" is what the provider received, executions cut short by a killed worker included.
 */
export function withModelCalls(info: RunInfo, calls: Map<string, number>): RunInfo {
  if (calls.size === 0) return info;
  const attempts = info.attempts.map((a) => {
    const counted = calls.get(`${a.stepPath}#${a.attempt}`) ?? 0;
    const recorded = a.metrics?.modelCalls ?? 0;
    if (counted <= recorded) return a;
    const metrics = a.metrics ?? { durationMs: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0, modelLatencyMs: 0 };
    return { ...a, metrics: { ...metrics, modelCalls: counted } };
  });
  return { ...info, attempts };
}
