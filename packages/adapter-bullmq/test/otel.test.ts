import { randomBytes } from 'node:crypto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, inject, it } from 'vitest';
import { KIT_TRACED_TREE, createTracedScenario, kitTraced, spanTree } from '@baton/core/testkit';
import { createOtelObserver, createRunIdGenerator, runTraceIds } from '@baton/core/otel';
import { createBullmqEngine } from '../src/engine.js';
import { createBullmqWorker } from '../src/worker.js';

// each side has its own provider, exporter and observer, as two processes would: they share
// nothing but Redis and the run id
function tracing() {
  const exporter = new InMemorySpanExporter();
  const idGenerator = createRunIdGenerator();
  const provider = new BasicTracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, observer: createOtelObserver({ tracer: provider.getTracer('test'), idGenerator }) };
}

describe('OpenTelemetry on BullMQ (real Redis)', () => {
  it('the kit-traced run is one trace of the same shape as on the local engine, from an engine and a separate worker', async () => {
    const prefix = `otel-${randomBytes(3).toString('hex')}`;
    const connection = inject('redisUrl');
    const client = tracing();
    const work = tracing();
    const scenario = createTracedScenario();
    await using worker = createBullmqWorker({ pipelines: [kitTraced], connection, prefix, observer: work.observer, notifier: scenario.notifier });
    await using engine = createBullmqEngine({
      pipelines: [kitTraced],
      connection,
      prefix,
      worker: false,
      observer: client.observer,
      notifier: scenario.notifier,
    });
    await worker.ready;
    const { runId, outcome } = await scenario.run(engine);
    expect(outcome.status).toBe('succeeded');
    const spans = [...client.exporter.getFinishedSpans(), ...work.exporter.getFinishedSpans()].filter((s) => s.attributes['baton.run.id'] === runId);
    expect(spanTree(spans)).toEqual({ traceIds: [runTraceIds(runId).traceId], tree: KIT_TRACED_TREE });
    // the worker recorded the attempts and the run span (the run ended there); the engine, the run's start it never saw end
    expect(work.exporter.getFinishedSpans().filter((s) => s.name.startsWith('stage ')).length).toBe(6);
  });
});
