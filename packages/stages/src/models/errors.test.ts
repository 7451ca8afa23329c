import { createLocalEngine, defineStage, definePipeline } from '@baton/core';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOpenAiCompatibleModel } from './openai.js';

const API_KEY = 'sk-live-0123456789abcdefghij';
const SESSION = 'sess-77aa88bb99cc';

/** A proxy in front of the provider that answers 502 and echoes the request's headers (issue 15). */
const echoingProxy: typeof fetch = async (_url, init) => {
  const headers = new Headers(init?.headers);
  headers.set('cookie', `session=${SESSION}`);
  const echoed = [...headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  return new Response(JSON.stringify({ error: { message: `bad gateway; your request headers were:\n${echoed}` } }), { status: 502 });
};

const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));

describe('provider error texts', () => {
  it('keep no credential in the error, the journal or the failure a run records', async () => {
    const model = createOpenAiCompatibleModel({ baseUrl: 'http://proxy.invalid/v1', model: 'm', apiKey: API_KEY, fetch: echoingProxy });
    const direct = await model.complete({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: Error) => e);
    expect((direct as Error).message).toContain('bad gateway');
    expect((direct as Error).message).not.toContain(API_KEY);
    expect((direct as Error).message).not.toContain(SESSION);

    const ask = defineStage({
      name: 'ask',
      version: 1,
      input: z.object({}),
      output: z.object({ text: z.string() }),
      async run(_input, ctx) {
        return { text: (await ctx.model.complete({ messages: [{ role: 'user', content: 'hi' }] })).text };
      },
    });
    const pipeline = definePipeline({ name: 'ask-once', version: 1, input: z.object({}) })
      .task('ask', ask, { retry: [{ errors: ['States.ALL'], maxAttempts: 1 }] })
      .build();
    const dir = mkdtempSync(join(tmpdir(), 'baton-scrub-'));
    const logged: string[] = [];
    const engine = createLocalEngine({ pipelines: [pipeline], dir, model, observer: (e) => void logged.push(JSON.stringify(e)) });
    try {
      const { runId } = await engine.start('ask-once', {});
      const outcome = await engine.result(runId);
      expect(outcome.status).toBe('failed');
      const recorded = [JSON.stringify(outcome), JSON.stringify(await engine.status(runId)), ...logged, ...files(dir).map((f) => readFileSync(f, 'utf8'))].join(
        '\n',
      );
      expect(recorded).toContain('bad gateway');
      expect(recorded).not.toContain(API_KEY);
      expect(recorded).not.toContain(SESSION);
    } finally {
      await engine.close();
    }
  });
});
