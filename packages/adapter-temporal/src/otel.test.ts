import { randomUUID } from 'node:crypto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { KIT_TRACED_TREE, createTracedScenario, kitTraced, spanTree } from '@baton/core/testkit';
import { createOtelObserver, createRunIdGenerator, runTraceIds } from '@baton/core/otel';
import { createTemporalEngine } from './engine.js';
import { createTemporalWorker } from './worker.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

const address = inject('temporalAddress');

// each side has its own provider, exporter and observer, as two processes would: they share
// nothing but the Temporal server and the run id
function tracing() {
  const exporter = new InMemorySpanExporter();
  const idGenerator = createRunIdGenerator();
  const provider = new BasicTracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, observer: createOtelObserver({ tracer: provider.getTracer('test'), idGenerator }) };
}

describe('OpenTelemetry on Temporal (dev server)', () => {
  beforeAll(() => quietTemporalRuntime());

  it('the kit-traced run is one trace of the same shape as on the local engine, from a client engine and a worker', async () => {
    const taskQueue = `otel-${randomUUID()}`;
    const client = tracing();
    const work = tracing();
    const scenario = createTracedScenario();
    await using worker = await createTemporalWorker({ pipelines: [kitTraced], address, taskQueue, observer: work.observer, notifier: scenario.notifier });
    await using engine = createTemporalEngine({ pipelines: [kitTraced], address, taskQueue, worker: false, observer: client.observer });
    const { runId, outcome } = await scenario.run(engine);
    expect(outcome.status).toBe('succeeded');
    expect(worker.taskQueue).toBe(taskQueue);
    const spans = [...client.exporter.getFinishedSpans(), ...work.exporter.getFinishedSpans()].filter((s) => s.attributes['baton.run.id'] === runId);
    expect(spanTree(spans)).toEqual({ traceIds: [runTraceIds(runId).traceId], tree: KIT_TRACED_TREE });
    // the attempts ran in the worker's activities and were recorded there
    expect(work.exporter.getFinishedSpans().filter((s) => s.name.startsWith('stage ')).length).toBe(6);
  });
});
