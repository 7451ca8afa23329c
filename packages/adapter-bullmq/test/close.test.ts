import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createBullmqEngine } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';

describe('closing a bullmq engine', () => {
  it('right after creating it, while its connections are still opening, raises nothing unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const worker of [false, true]) {
        const engine = createBullmqEngine({
          connection: inject('redisUrl'),
          prefix: `close-${randomBytes(4).toString('hex')}`,
          pipelines: chaosPipelines,
          worker,
        });
        await engine.close();
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.map((e) => String((e as Error)?.message ?? e))).toEqual([]);
  });
});
