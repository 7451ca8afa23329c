import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, context, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { StageError } from '../errors.js';
import { createLocalEngine } from '../local/engine.js';
import type { ModelClient } from '../ports/model.js';
import { defineStage } from '../stage.js';
import { KIT_TRACED_TREE, createTracedScenario, kitTraced, spanTree } from '../testkit/index.js';
import { createOtelObserver, createRunIdGenerator, runTraceIds } from './index.js';

function tracing(withIds = true) {
  const exporter = new InMemorySpanExporter();
  const idGenerator = createRunIdGenerator();
  const provider = new BasicTracerProvider({ ...(withIds ? { idGenerator } : {}), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const observer = createOtelObserver({ tracer: provider.getTracer('test'), ...(withIds ? { idGenerator } : {}) });
  return { exporter, observer, spans: (runId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.attributes['baton.run.id'] === runId) };
}

describe('createOtelObserver on the local engine', () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  it('records the kit-traced run as one trace: the run span over a span per attempt and one per review', async () => {
    const { observer, spans } = tracing();
    const scenario = createTracedScenario();
    const engine = createLocalEngine({ pipelines: [kitTraced], observer, notifier: scenario.notifier });
    closing.push(() => engine.close());
    const { runId, outcome } = await scenario.run(engine);
    expect(outcome.status).toBe('succeeded');
    const recorded = spans(runId);
    const { traceIds, tree } = spanTree(recorded);
    expect(tree).toEqual(KIT_TRACED_TREE);
    expect(traceIds).toEqual([runTraceIds(runId).traceId]);
    // the run span took the derived ids, so a process that saw none of its events finds it
    const run = recorded.find((s) => s.name === 'run')!;
    expect(run.spanContext().spanId).toBe(runTraceIds(runId).spanId);
    expect(run.parentSpanContext).toBeUndefined();
    const failed = recorded.find((s) => s.attributes['baton.error.code'] === 'ThrottlingException')!;
    expect(failed.status).toMatchObject({ code: 2, message: expect.stringMatching(/^ThrottlingException: /) });
    expect(failed.attributes).toMatchObject({ 'baton.run.id': runId, 'baton.stage': 'kit-flaky', 'baton.attempt': 1 });
    for (const s of recorded) expect(s.endTime[0] * 1e3 + s.endTime[1] / 1e6).toBeGreaterThanOrEqual(s.startTime[0] * 1e3 + s.startTime[1] / 1e6);
  });

  it('puts model id and tokens on the attempt span, and scrubs secrets out of error messages', async () => {
    const { observer, spans } = tracing();
    const model: ModelClient = {
      modelId: 'm-test',
      complete: async () => ({ text: 'ok', usage: { inputTokens: 12, outputTokens: 34 }, latencyMs: 1, modelId: 'm-test-v2' }),
    };
    const ask = defineStage({
      name: 'ask',
      version: 1,
      usesModel: true,
      input: z.object({ leak: z.boolean() }),
      output: z.object({ text: z.string() }),
      throws: ['Leaky'],
      async run(input, ctx) {
        const answer = await ctx.model.complete({ messages: [{ role: 'user', content: 'hi' }] });
        if (input.leak) throw new StageError('Leaky', 'proxy said authorization: Bearer abcdefghijk', { retryable: false });
        return { text: answer.text };
      },
    });
    const p = definePipeline({ name: 'ask', version: 1, input: z.object({ leak: z.boolean() }) })
      .task('ask', ask)
      .build();
    const engine = createLocalEngine({ pipelines: [p], model, observer });
    closing.push(() => engine.close());
    const ok = await engine.start('ask', { leak: false });
    await engine.result(ok.runId);
    const [attempt] = spans(ok.runId).filter((s) => s.name === 'stage ask');
    expect(attempt!.attributes).toMatchObject({
      'gen_ai.request.model': 'm-test-v2',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 34,
      'baton.step.path': 'ask',
    });
    const bad = await engine.start('ask', { leak: true });
    await engine.result(bad.runId);
    const failed = spans(bad.runId).filter((s) => s.status.code === 2);
    expect(failed.map((s) => s.name).sort()).toEqual(['run', 'stage ask']);
    for (const s of failed) {
      expect(s.attributes['baton.error.code']).toBe('Leaky');
      expect(s.status.message).not.toContain('abcdefghijk');
    }
  });

  it('joins spans of one run recorded by observers that share nothing but the run id', async () => {
    // two observers stand for two processes: each sees only its own events of the run
    const a = tracing();
    const b = tracing();
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, 0, ms)).toISOString();
    const runId = 'joined-run';
    await a.observer({ type: 'run-started', runId, pipeline: 'p', engine: 'bullmq', input: {}, at: at(0) });
    await b.observer({ type: 'attempt-started', runId, stepPath: 'x', stage: 's', attempt: 1, at: at(10) });
    await b.observer({ type: 'attempt-finished', runId, stepPath: 'x', stage: 's', attempt: 1, status: 'succeeded', at: at(20) });
    // an attempt whose start this process did not see starts `durationMs` before its end
    await b.observer({
      type: 'attempt-finished',
      runId,
      stepPath: 'y',
      stage: 's',
      attempt: 1,
      status: 'succeeded',
      metrics: { durationMs: 5, modelCalls: 0, inputTokens: 0, outputTokens: 0, modelLatencyMs: 0 },
      at: at(40),
    });
    // the run ends where its last step ran (a BullMQ worker): that process starts the run span at the first event it saw
    await b.observer({ type: 'run-finished', runId, status: 'succeeded', at: at(50) });
    const all = [...a.spans(runId), ...b.spans(runId)];
    expect(spanTree(all)).toEqual({ traceIds: [runTraceIds(runId).traceId], tree: ['run', '  stage s x #1', '  stage s y #1'] });
    const y = all.find((s) => s.attributes['baton.step.path'] === 'y')!;
    expect(y.endTime[1] - y.startTime[1]).toBe(5e6);
    const run = all.find((s) => s.name === 'run')!;
    expect(run.spanContext().spanId).toBe(runTraceIds(runId).spanId);
    expect([run.startTime[1], run.endTime[1]]).toEqual([10e6, 50e6]);
  });

  it('records a redrive as a second run span under the first, which keeps the derived id', async () => {
    const { observer, spans } = tracing();
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, 0, ms)).toISOString();
    const runId = 'redriven-run';
    await observer({ type: 'run-started', runId, pipeline: 'p', engine: 'local', input: {}, at: at(0) });
    await observer({ type: 'run-finished', runId, status: 'failed', error: { code: 'ItemBroken', message: 'item 1 is broken', retryable: false }, at: at(10) });
    await observer({ type: 'run-redriven', runId, redrive: 1, at: at(20) });
    await observer({ type: 'attempt-started', runId, stepPath: 'items[1]/item', stage: 'kit-item', attempt: 1, at: at(21) });
    await observer({ type: 'attempt-finished', runId, stepPath: 'items[1]/item', stage: 'kit-item', attempt: 1, status: 'succeeded', at: at(25) });
    await observer({ type: 'run-finished', runId, status: 'succeeded', at: at(30) });
    const recorded = spans(runId);
    expect(spanTree(recorded).tree).toEqual(['run ItemBroken', '  run', '  stage kit-item items[1]/item #1']);
    const [first, second] = recorded.filter((s) => s.name === 'run').sort((a, b) => a.startTime[1] - b.startTime[1]);
    expect(first!.spanContext().spanId).toBe(runTraceIds(runId).spanId);
    expect(second!.attributes).toMatchObject({ 'baton.redrive': 1, 'baton.pipeline': 'p' });
    expect(second!.status.code).not.toBe(2);
  });

  it('forgets the oldest open spans beyond 10,000, instead of holding spans whose end another process sees', async () => {
    const { observer, spans } = tracing();
    const at = (s: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, s)).toISOString();
    for (let i = 0; i <= 10_000; i++) await observer({ type: 'attempt-started', runId: 'many', stepPath: `m[${i}]/x`, stage: 's', attempt: 1, at: at(0) });
    for (const i of [0, 1])
      await observer({ type: 'attempt-finished', runId: 'many', stepPath: `m[${i}]/x`, stage: 's', attempt: 1, status: 'succeeded', at: at(9) });
    const starts = spans('many').map((s) => [s.attributes['baton.step.path'], s.startTime[0] - s.endTime[0]]);
    // the first was dropped (a new span, started at its end); the second was still open
    expect(starts).toEqual([
      ['m[0]/x', 0],
      ['m[1]/x', -9],
    ]);
  });

  it('without the run id generator the run span is one more child of the derived parent, in the same trace', async () => {
    const { observer, spans } = tracing(false);
    const scenario = createTracedScenario();
    const withScenario = createLocalEngine({ pipelines: [kitTraced], observer, notifier: scenario.notifier });
    closing.push(() => withScenario.close());
    const { runId } = await scenario.run(withScenario);
    const recorded = spans(runId);
    const derived = runTraceIds(runId);
    expect(new Set(recorded.map((s) => s.spanContext().traceId))).toEqual(new Set([derived.traceId]));
    expect(new Set(recorded.map((s) => s.parentSpanContext?.spanId))).toEqual(new Set([derived.spanId]));
    expect(recorded).toHaveLength(KIT_TRACED_TREE.length);
  });

  it('links an attempt span to the span active where the attempt ran (a Lambda or Temporal activity span)', async () => {
    // what an OpenTelemetry SDK registers in a Node process (context-async-hooks), in a few lines
    const storage = new AsyncLocalStorage<Context>();
    const manager: ContextManager = {
      active: () => storage.getStore() ?? ROOT_CONTEXT,
      with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
      bind: (_ctx, target) => target,
      enable: () => manager,
      disable: () => manager,
    };
    context.setGlobalContextManager(manager);
    closing.push(async () => context.disable());
    const { observer, spans } = tracing();
    const outer = new BasicTracerProvider().getTracer('host').startSpan('lambda invocation');
    await context.with(trace.setSpan(context.active(), outer), async () => {
      await observer({ type: 'attempt-started', runId: 'linked', stepPath: 'x', stage: 's', attempt: 1, at: new Date().toISOString() });
      await observer({ type: 'attempt-finished', runId: 'linked', stepPath: 'x', stage: 's', attempt: 1, status: 'succeeded', at: new Date().toISOString() });
    });
    const [span] = spans('linked');
    expect(span!.links.map((l) => l.context.spanId)).toEqual([outer.spanContext().spanId]);
    expect(span!.parentSpanContext?.spanId).toBe(runTraceIds('linked').spanId);
  });
});

describe('runTraceIds', () => {
  it('derives valid W3C ids, stable per run id and distinct between runs', () => {
    const one = runTraceIds('run-1');
    expect(one).toEqual(runTraceIds('run-1'));
    expect(one.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(one.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(runTraceIds('run-2').traceId).not.toBe(one.traceId);
    expect(trace.isSpanContextValid({ ...one, traceFlags: 1 })).toBe(true);
  });

  it('with xray, starts the trace id with the start time a Baton run id carries, as X-Ray requires', () => {
    const runId = 'report-20261205131913-4c56d9da';
    const xray = runTraceIds(runId, { xray: true });
    expect(parseInt(xray.traceId.slice(0, 8), 16)).toBe(Date.UTC(2026, 11, 5, 13, 19, 13) / 1000);
    expect(xray.traceId.slice(8)).toBe(runTraceIds(runId).traceId.slice(8));
    expect(xray.spanId).toBe(runTraceIds(runId).spanId);
    // a run id without Baton's timestamp cannot carry its start: the plain derived id
    expect(runTraceIds('my-own-id', { xray: true })).toEqual(runTraceIds('my-own-id'));
  });

  it('an xray observer records the run under the X-Ray-shaped trace id', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const observer = createOtelObserver({ tracer: provider.getTracer('test'), xray: true });
    const runId = 'p-20261205120000-0000abcd';
    await observer({ type: 'attempt-finished', runId, stepPath: 'x', stage: 's', attempt: 1, status: 'succeeded', at: new Date().toISOString() });
    const [span] = exporter.getFinishedSpans();
    expect(span!.spanContext().traceId).toBe(runTraceIds(runId, { xray: true }).traceId);
    expect(span!.spanContext().traceId.slice(0, 8)).toBe((Date.UTC(2026, 11, 5, 12) / 1000).toString(16));
  });
});
