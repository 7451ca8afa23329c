import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBlobRef } from './blob-ref.js';
import { offloadLarge, resolveRefs } from './claim-check.js';
import { StageError, isStageError } from './errors.js';
import { createMemoryBlobStore } from './ports/blob-store.js';
import { createJsonLogger } from './ports/logger.js';
import type { ModelClient, ModelRequest } from './ports/model.js';
import { createTestClock } from './ports/clock.js';
import { defineStage, invokeStage, summarizeIssues, type AnyStage, type InvokeOptions, type StageContext } from './stage.js';

const opts = (extra: Partial<InvokeOptions> = {}): InvokeOptions => ({
  blobs: createMemoryBlobStore(),
  runId: 'run-1',
  stepPath: 'sections[0]/gen',
  attempt: 1,
  ...extra,
});

const echo = defineStage({
  name: 'echo',
  version: 1,
  input: z.object({ text: z.string(), n: z.number().default(1) }),
  output: z.object({ text: z.string() }),
  async run(input) {
    return { text: input.text.repeat(input.n) };
  },
});

function stageThat(run: (input: unknown, ctx: StageContext) => Promise<unknown>, extra: Partial<AnyStage> = {}): AnyStage {
  return defineStage({ name: 'custom', version: 1, input: z.unknown(), output: z.unknown(), run, ...extra });
}

describe('invokeStage', () => {
  it('parses input (defaults applied), runs and returns the parsed output with metrics', async () => {
    const r = await invokeStage(echo, { text: 'ab', n: 2 }, opts());
    expect(r).toMatchObject({ ok: true, output: { text: 'abab' }, metrics: { modelCalls: 0, inputTokens: 0, outputTokens: 0 } });
    expect((await invokeStage(echo, { text: 'a' }, opts())).ok).toBe(true);
  });

  it('invalid input fails with InvalidInput, not retryable, zod issues untouched in details, and does not run', async () => {
    let ran = false;
    const stage = defineStage({
      ...echo,
      async run() {
        ran = true;
        return { text: '' };
      },
    });
    const r = await invokeStage(stage, { text: 3 }, opts());
    expect(ran).toBe(false);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('InvalidInput');
    expect(r.error.retryable).toBe(false);
    expect(r.error.message).toBe('input of stage "echo" is invalid: text: Invalid input: expected string, received number');
    const issues = (r.error.details as { issues: { path: unknown[]; code: string; expected: string }[] }).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: ['text'], code: 'invalid_type', expected: 'string' });
  });

  it('output not matching its schema fails with a non-retryable StageFailed carrying the issues', async () => {
    const stage = defineStage({ ...echo, run: async () => ({ text: 1 }) as unknown as { text: string } });
    const r = await invokeStage(stage, { text: 'x' }, opts());
    expect(r).toMatchObject({ ok: false, error: { code: 'StageFailed', retryable: false } });
    if (r.ok) return;
    expect(r.error.message).toContain('output of stage "echo" does not match its schema: text:');
    expect((r.error.details as { issues: unknown[] }).issues).toHaveLength(1);
  });

  it('a stage outliving its timeout fails with States.Timeout and its signal is aborted with that error', async () => {
    let seen: AbortSignal | undefined;
    const stage = stageThat(
      (_input, ctx) => {
        seen = ctx.signal;
        return new Promise(() => undefined);
      },
      { timeoutMs: 10_000 },
    );
    const r = await invokeStage(stage, {}, opts({ timeoutMs: 30 }));
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'States.Timeout', retryable: true, message: 'stage "custom" timed out after 30 ms', details: { timeoutMs: 30 } },
    });
    expect(seen?.aborted).toBe(true);
    expect(isStageError(seen?.reason)).toBe(true);
    expect((seen?.reason as StageError).code).toBe('States.Timeout');
  });

  it('a stage that reads its signal only after the timeout finds it aborted with the timeout', async () => {
    let ctxSeen: { signal: AbortSignal } | undefined;
    const reading = stageThat((_input, ctx) => {
      ctxSeen = ctx;
      return new Promise(() => undefined);
    });
    expect(await invokeStage(reading, {}, opts({ timeoutMs: 20 }))).toMatchObject({ ok: false, error: { code: 'States.Timeout' } });
    // the signal is made on first read, after the timeout: born aborted, with the timeout as its reason
    const signal = ctxSeen!.signal;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as StageError).code).toBe('States.Timeout');
    expect(ctxSeen!.signal).toBe(signal);
  });

  it('a signal read only after an engine shutdown is aborted with the shutdown reason', async () => {
    const shutdown = new AbortController();
    let ctxSeen: { signal: AbortSignal } | undefined;
    const stage = stageThat((_input, ctx) => {
      ctxSeen = ctx;
      return new Promise(() => undefined);
    });
    const pending = invokeStage(stage, {}, opts({ signal: shutdown.signal }));
    await new Promise((r) => setTimeout(r, 10));
    shutdown.abort(new Error('engine closed'));
    expect(await pending).toMatchObject({ ok: false, error: { code: 'StageFailed', message: 'stage aborted: engine closed' } });
    expect(ctxSeen!.signal.aborted).toBe(true);
    expect((ctxSeen!.signal.reason as Error).message).toBe('engine closed');
  });

  it("uses the stage's own timeout when the IR sets none", async () => {
    const stage = stageThat(() => new Promise(() => undefined), { timeoutMs: 20 });
    const r = await invokeStage(stage, {}, opts());
    expect(r).toMatchObject({ ok: false, error: { code: 'States.Timeout', message: 'stage "custom" timed out after 20 ms' } });
  });

  it('a thrown plain Error becomes StageFailed; a thrown StageError keeps its code and details', async () => {
    const plain = await invokeStage(
      stageThat(async () => {
        throw new TypeError('cannot read x');
      }),
      {},
      opts(),
    );
    expect(plain).toMatchObject({ ok: false, error: { code: 'StageFailed', retryable: true, message: 'TypeError: cannot read x' } });
    const own = await invokeStage(
      stageThat(async () => {
        throw new StageError('ValidationFailed', 'no citation', { details: { issues: [{ path: ['text'] }] } });
      }),
      {},
      opts(),
    );
    expect(own).toMatchObject({
      ok: false,
      error: { code: 'ValidationFailed', retryable: false, message: 'no citation', details: { issues: [{ path: ['text'] }] } },
    });
  });

  it('engine shutdown aborts the stage and fails it with StageFailed naming the reason', async () => {
    const shutdown = new AbortController();
    const stage = stageThat(
      (_input, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    );
    const pending = invokeStage(stage, {}, opts({ signal: shutdown.signal }));
    await new Promise((r) => setTimeout(r, 10));
    shutdown.abort(new Error('engine closed'));
    const r = await pending;
    expect(r).toMatchObject({ ok: false, error: { code: 'StageFailed', message: 'stage aborted: engine closed' } });
  });

  it('a stage rejecting with an AbortError (as fetch does) on shutdown is reported as aborted, not as a timeout', async () => {
    const shutdown = new AbortController();
    const stage = stageThat(
      (_input, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
        }),
    );
    const pending = invokeStage(stage, {}, opts({ signal: shutdown.signal }));
    await new Promise((r) => setTimeout(r, 10));
    shutdown.abort(new Error('engine closed'));
    expect(await pending).toMatchObject({ ok: false, error: { code: 'StageFailed', message: 'stage aborted: engine closed' } });
  });

  it('engine shutdown ends the invocation even when the stage ignores its signal', async () => {
    const shutdown = new AbortController();
    let started = false;
    const stage = stageThat(() => {
      started = true;
      return new Promise(() => undefined);
    });
    const pending = invokeStage(stage, {}, opts({ signal: shutdown.signal }));
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(true);
    shutdown.abort(new Error('engine closed'));
    expect(await pending).toMatchObject({ ok: false, error: { code: 'StageFailed', message: 'stage aborted: engine closed' } });
  });

  it('does not start a stage once the engine has shut down', async () => {
    let started = false;
    const stage = stageThat(async () => {
      started = true;
      return 1;
    });
    const r = await invokeStage(stage, {}, opts({ signal: AbortSignal.abort(new Error('engine closed')) }));
    expect(started).toBe(false);
    expect(r).toMatchObject({ ok: false, error: { code: 'StageFailed', message: 'stage aborted: engine closed' } });
  });

  it('meters model usage over every call the stage makes', async () => {
    const requests: ModelRequest[] = [];
    const model: ModelClient = {
      modelId: 'fake-1',
      async complete(request) {
        requests.push(request);
        return { text: 'ok', usage: { inputTokens: 100, outputTokens: 7 }, latencyMs: 50, modelId: 'fake-1' };
      },
    };
    const stage = stageThat(async (_input, ctx) => {
      expect(ctx.model.modelId).toBe('fake-1');
      await ctx.model.complete({ messages: [{ role: 'user', content: 'a' }] });
      await ctx.model.complete({ messages: [{ role: 'user', content: 'b' }] });
      return 'done';
    });
    const r = await invokeStage(stage, {}, opts({ model }));
    expect(requests).toHaveLength(2);
    expect(r.metrics).toMatchObject({ modelCalls: 2, inputTokens: 200, outputTokens: 14, modelLatencyMs: 100, modelId: 'fake-1' });
  });

  it('calling ctx.model without a configured client fails with the fatal ConfigurationError, not retried', async () => {
    const stage = stageThat(async (_input, ctx) => ctx.model.complete({ messages: [] }));
    const r = await invokeStage(stage, {}, opts());
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'ConfigurationError', retryable: false, message: 'stage "custom" called ctx.model but the engine has no ModelClient configured' },
    });
  });

  it('offloads a large output to the blob store under claims/<runId>', async () => {
    const blobs = createMemoryBlobStore();
    const stage = stageThat(async () => ({ title: 't', body: 'z'.repeat(4000) }));
    const r = await invokeStage(stage, {}, opts({ blobs, claimCheckThreshold: 1000 }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const out = r.output as { title: string; body: unknown };
    expect(out.title).toBe('t');
    expect(isBlobRef(out.body)).toBe(true);
    expect((await blobs.list('claims/run-1/')).length).toBe(1);
    expect(await resolveRefs(out, blobs)).toEqual({ title: 't', body: 'z'.repeat(4000) });
    const small = await invokeStage(stage, {}, opts({ blobs }));
    expect(small.ok && isBlobRef((small.output as { body: unknown }).body)).toBe(false);
  });

  it('resolves claim-check references in the input before parsing', async () => {
    const blobs = createMemoryBlobStore();
    const input = await offloadLarge({ text: 'q'.repeat(3000) }, blobs, 'claims/x', 100);
    expect(isBlobRef(input)).toBe(true);
    const r = await invokeStage(echo, input, opts({ blobs }));
    expect(r).toMatchObject({ ok: true, output: { text: 'q'.repeat(3000) } });
  });

  it('gives the stage a logger bound to runId, stepPath, attempt, stage and engine bindings', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const stage = stageThat(async (_input, ctx) => {
      ctx.log.info('inside');
      return 1;
    });
    await invokeStage(stage, {}, opts({ logger, attempt: 3, logBindings: { executionId: 'exec-1' } }));
    expect(lines.map((l) => l.msg)).toEqual(['inside', 'stage succeeded']);
    for (const l of lines) expect(l).toMatchObject({ runId: 'run-1', stepPath: 'sections[0]/gen', attempt: 3, stage: 'custom', executionId: 'exec-1' });
  });

  it('measures duration with the given clock and passes it to the stage', async () => {
    const clock = createTestClock(1000);
    const stage = stageThat(async (_input, ctx) => {
      expect(ctx.clock).toBe(clock);
      expect(ctx).toMatchObject({ runId: 'run-1', stepPath: 'sections[0]/gen', attempt: 1 });
      await clock.advance(250);
      return null;
    });
    const r = await invokeStage(stage, {}, opts({ clock }));
    expect(r.metrics.durationMs).toBe(250);
  });
});

describe('summarizeIssues', () => {
  it('lists at most five issues and counts the rest', () => {
    const issues = Array.from({ length: 7 }, (_, i) => ({ path: i === 0 ? [] : ['a', i], message: `m${i}` }));
    expect(summarizeIssues(issues)).toBe('(root): m0; a.1: m1; a.2: m2; a.3: m3; a.4: m4; and 2 more');
  });
});
