import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { KIT_TRACED_TREE, createTracedScenario, kitTraced, spanTree } from '@baton/core/testkit';
import { createOtelObserver, createRunIdGenerator, runTraceIds } from '@baton/core/otel';
import { createStepFunctionsLocalEngine } from './engine.js';

describe('OpenTelemetry on stepfunctions-local', () => {
  it('the kit-traced run, compiled to ASL and run by the local interpreter, is one trace of the local engine shape', async () => {
    const exporter = new InMemorySpanExporter();
    const idGenerator = createRunIdGenerator();
    const provider = new BasicTracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const scenario = createTracedScenario();
    await using engine = createStepFunctionsLocalEngine({
      pipelines: [kitTraced],
      observer: createOtelObserver({ tracer: provider.getTracer('test'), idGenerator }),
      notifier: scenario.notifier,
    });
    const { runId, outcome } = await scenario.run(engine);
    expect(outcome.status).toBe('succeeded');
    const spans = exporter.getFinishedSpans().filter((s) => s.attributes['baton.run.id'] === runId);
    expect(spanTree(spans)).toEqual({ traceIds: [runTraceIds(runId).traceId], tree: KIT_TRACED_TREE });
  });
});
