import { SpanStatusCode, TraceFlags, context, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import type { SerializedError } from '../errors.js';
import { scrubSecrets } from '../scrub.js';
import type { RunEvent, RunObserver } from '../observer.js';
import type { InvocationMetrics } from '../stage.js';
import { runTraceIds, type RunIdGenerator, type RunTraceIds } from './ids.js';

/** Options of {@link createOtelObserver}. */
export interface OtelObserverOptions {
  /** Where spans go. @default the tracer of the globally registered provider, named after this package */
  tracer?: Tracer;
  /**
   * The id generator the tracer's provider was built with, from {@link createRunIdGenerator}: the
   * run span then takes the ids derived from the run id and is the root of the trace. Without it
   * the run span is one more child of the derived parent, which no process records.
   */
  idGenerator?: RunIdGenerator;
  /**
   * Trace ids AWS X-Ray accepts (start time in the first 8 hex digits) for run ids Baton made:
   * see `RunTraceIdOptions.xray`. Every observer of a run must agree on it. @default false
   */
  xray?: boolean;
}

/** Span attribute names; model and token attributes follow the OpenTelemetry GenAI conventions. */
export const OTEL_ATTRIBUTES = {
  runId: 'baton.run.id',
  pipeline: 'baton.pipeline',
  engine: 'baton.engine',
  stepPath: 'baton.step.path',
  stage: 'baton.stage',
  attempt: 'baton.attempt',
  errorCode: 'baton.error.code',
  gate: 'baton.review.gate',
  decision: 'baton.review.decision',
  redrive: 'baton.redrive',
  model: 'gen_ai.request.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;

const A = OTEL_ATTRIBUTES;

/**
 * A run observer that records OpenTelemetry spans: one trace per run, a span per stage attempt
 * (`stage <name>`, with run id, step path, stage, attempt, error code, model id and tokens), a span
 * per review gate (`review <gate>`, opened to decided) and the run span (`run`, with the pipeline
 * and engine as attributes when this process saw the run start).
 *
 * Processes do not pass trace context to each other: each derives the trace id and the run span's
 * id from the run id ({@link runTraceIds}), so attempt spans recorded by BullMQ workers, Temporal
 * activities and Lambda handlers land in one trace under one parent. An attempt span also links to
 * the span active where the attempt ran (a Lambda invocation span, a Temporal interceptor's
 * activity span), if there is one. A span is recorded by the process that sees it end; its start is
 * the start event's time when the same process saw it, else the attempt's duration before its end,
 * or for the run, the first event of the run this process saw.
 *
 * Give it to any engine or worker as `observer` (combine with others through `safeObserver`).
 *
 * @example
 * ```ts
 * import { createLocalEngine } from '@baton/core';
 * import { createOtelObserver } from '@baton/core/otel';
 *
 * const engine = createLocalEngine({ pipelines: [report], observer: createOtelObserver() });
 * ```
 */
export function createOtelObserver(options: OtelObserverOptions = {}): RunObserver {
  const tracer = options.tracer ?? trace.getTracer('@baton/core');
  const idsOf = (runId: string): RunTraceIds => runTraceIds(runId, { xray: options.xray ?? false });
  // runs, attempts and reviews whose end another process sees stay open here: bounded
  const runs = new BoundedMap<{ span?: Span; firstAt: string }>();
  // kept past the run's end: a redrive names the pipeline again
  const pipelines = new BoundedMap<string>();
  const attempts = new BoundedMap<Span>();
  const reviews = new BoundedMap<Span>();

  const parentOf = (runId: string): Context => {
    const { traceId, spanId } = idsOf(runId);
    return trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  };
  const startRun = (runId: string, at: string, attributes: Attributes, derived: boolean): Span => {
    const opts = { startTime: new Date(at), attributes: { [A.runId]: runId, ...attributes } };
    const ids = options.idGenerator;
    if (derived && ids) return ids.withIds(idsOf(runId), () => tracer.startSpan('run', { ...opts, root: true }));
    return tracer.startSpan('run', opts, parentOf(runId));
  };
  const child = (runId: string, name: string, at: string | Date, attributes: Attributes): Span => {
    const seen = runs.get(runId);
    if (!seen) runs.set(runId, { firstAt: typeof at === 'string' ? at : at.toISOString() });
    const active = trace.getSpanContext(context.active());
    const links: Link[] = active && trace.isSpanContextValid(active) && active.traceId !== idsOf(runId).traceId ? [{ context: active }] : [];
    return tracer.startSpan(name, { startTime: new Date(at), attributes: { [A.runId]: runId, ...attributes }, links }, parentOf(runId));
  };

  return (event: RunEvent) => {
    switch (event.type) {
      case 'run-started': {
        const span = startRun(event.runId, event.at, { [A.pipeline]: event.pipeline, [A.engine]: event.engine }, true);
        runs.set(event.runId, { span, firstAt: event.at });
        pipelines.set(event.runId, event.pipeline);
        return;
      }
      case 'run-redriven': {
        // the run's derived span id belongs to its first execution: a redrive is a child of it
        runs.get(event.runId)?.span?.end(new Date(event.at));
        const pipeline = pipelines.get(event.runId);
        const span = startRun(event.runId, event.at, { [A.redrive]: event.redrive, ...(pipeline ? { [A.pipeline]: pipeline } : {}) }, false);
        runs.set(event.runId, { span, firstAt: event.at });
        return;
      }
      case 'run-finished': {
        const seen = runs.get(event.runId);
        // started elsewhere: from the first event of the run this process saw
        const span = seen?.span ?? startRun(event.runId, seen?.firstAt ?? event.at, {}, true);
        finish(span, event.status, event.error, event.at);
        runs.delete(event.runId);
        return;
      }
      case 'attempt-started': {
        attempts.set(
          attemptKey(event),
          child(event.runId, `stage ${event.stage}`, event.at, { [A.stepPath]: event.stepPath, [A.stage]: event.stage, [A.attempt]: event.attempt }),
        );
        return;
      }
      case 'attempt-finished': {
        const key = attemptKey(event);
        const startedAt = event.metrics ? new Date(Date.parse(event.at) - event.metrics.durationMs) : event.at;
        const span =
          attempts.get(key) ??
          child(event.runId, `stage ${event.stage}`, startedAt, { [A.stepPath]: event.stepPath, [A.stage]: event.stage, [A.attempt]: event.attempt });
        attempts.delete(key);
        if (event.metrics) span.setAttributes(metricAttributes(event.metrics));
        finish(span, event.status, event.error, event.at);
        return;
      }
      case 'review-opened': {
        reviews.set(
          `${event.runId}\u0000${event.stepPath}`,
          child(event.runId, `review ${event.gate}`, event.at, { [A.stepPath]: event.stepPath, [A.gate]: event.gate }),
        );
        return;
      }
      case 'review-decided': {
        const key = `${event.runId}\u0000${event.stepPath}`;
        const span = reviews.get(key) ?? child(event.runId, `review ${event.gate}`, event.at, { [A.stepPath]: event.stepPath, [A.gate]: event.gate });
        reviews.delete(key);
        span.setAttribute(A.decision, event.decision);
        finish(
          span,
          event.decision === 'approved' ? 'succeeded' : 'failed',
          undefined,
          event.at,
          event.decision === 'rejected' ? 'ApprovalRejected' : event.decision === 'timeout' ? 'ApprovalTimedOut' : undefined,
        );
        return;
      }
      default:
        return;
    }
  };
}

/** How many open runs, attempts and reviews an observer keeps before dropping the oldest. */
const MAX_OPEN = 10_000;

// A process that sees a span start but never its end (the engine of BullMQ runs whose workers
// finish them, a killed worker) must not keep it forever: beyond MAX_OPEN the oldest go, unrecorded.
class BoundedMap<T> extends Map<string, T> {
  override set(key: string, value: T): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > MAX_OPEN) this.delete(this.keys().next().value as string);
    return this;
  }
}

function attemptKey(e: { runId: string; stepPath: string; attempt: number }): string {
  return `${e.runId}\u0000${e.stepPath}\u0000${e.attempt}`;
}

function metricAttributes(m: InvocationMetrics): Attributes {
  if (m.modelCalls === 0) return {};
  return { ...(m.modelId ? { [A.model]: m.modelId } : {}), [A.inputTokens]: m.inputTokens, [A.outputTokens]: m.outputTokens };
}

function finish(span: Span, status: 'succeeded' | 'failed', error: SerializedError | undefined, at: string, code = error?.code): void {
  if (status === 'failed') {
    if (code) span.setAttribute(A.errorCode, code);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(code ? { message: error ? scrubSecrets(`${code}: ${error.message}`) : code } : {}) });
  }
  span.end(new Date(at));
}
