import { createHash, randomBytes } from 'node:crypto';

/** The W3C ids of a run's trace: the trace id and the id of the run span every attempt span hangs under. */
export interface RunTraceIds {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters: the id of the run span. */
  spanId: string;
}

/** Options of {@link runTraceIds}. */
export interface RunTraceIdOptions {
  /**
   * AWS X-Ray accepts a trace id only if its first 8 hex digits are the trace's start in epoch
   * seconds, within the last 30 days. With `xray`, a run id made by Baton (the pipeline, the UTC
   * start as `yyyymmddhhmmss`, random hex) gives those digits its own start time, so every process still derives
   * the same id; a run id chosen by the caller without that timestamp keeps the plain derived id,
   * which X-Ray refuses. @default false
   */
  xray?: boolean;
}

/**
 * The trace ids of a run, derived from its run id alone: every process that observes the run
 * (an engine, a BullMQ worker, a Temporal activity, a Lambda handler) computes the same ids, so
 * their spans join one trace with no context carried between them.
 *
 * @example
 * ```ts
 * const { traceId, spanId } = runTraceIds('report-20261205131913-4c56d9da');
 * // the same two ids in every process, on every engine
 * runTraceIds('report-20261205131913-4c56d9da', { xray: true }).traceId.slice(0, 8); // '6b140f51': 2026-12-05T13:19:13Z in epoch seconds
 * ```
 */
export function runTraceIds(runId: string, options: RunTraceIdOptions = {}): RunTraceIds {
  const traceId = nonZeroHex(`baton/trace/${runId}`, 32);
  const started = options.xray ? startOfRunId(runId) : undefined;
  return {
    traceId: started === undefined ? traceId : started.toString(16).padStart(8, '0') + traceId.slice(8),
    spanId: nonZeroHex(`baton/run/${runId}`, 16),
  };
}

// the start time newRunId writes into a run id, in epoch seconds
function startOfRunId(runId: string): number | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]{8}$/.exec(runId);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * The `IdGenerator` shape of `@opentelemetry/sdk-trace-base` (structural: core does not import
 * the SDK).
 */
export interface OtelIdGenerator {
  generateTraceId(): string;
  generateSpanId(): string;
}

/** An id generator that gives a run span its derived ids (see {@link createRunIdGenerator}). */
export interface RunIdGenerator extends OtelIdGenerator {
  /** @internal Runs `start` with the next ids fixed to `ids`; the observer calls it around the run span's start. */
  withIds<T>(ids: RunTraceIds, start: () => T): T;
}

/**
 * An id generator for the tracer provider that lets {@link createOtelObserver} give each run span
 * the ids {@link runTraceIds} derives from the run id, so that attempt spans recorded in other
 * processes find their parent. Every other span gets random ids, as with the SDK's default.
 * Without it the run span is a child of the derived (never recorded) parent: the trace is still
 * one trace, with a missing root.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { createOtelObserver, createRunIdGenerator } from '@baton/core/otel';
 *
 * const idGenerator = createRunIdGenerator();
 * const provider = new BasicTracerProvider({ idGenerator, spanProcessors: [new BatchSpanProcessor(exporter)] });
 * const observer = createOtelObserver({ tracer: provider.getTracer('baton'), idGenerator });
 * ```
 */
export function createRunIdGenerator(): RunIdGenerator {
  let next: RunTraceIds | undefined;
  return {
    generateTraceId: () => next?.traceId ?? randomHex(16),
    generateSpanId: () => {
      // the SDK asks for the span id once per span, before the trace id of a root span
      const id = next?.spanId;
      if (next) next = { ...next, spanId: '' };
      return id || randomHex(8);
    },
    withIds(ids, start) {
      next = ids;
      try {
        return start();
      } finally {
        next = undefined;
      }
    },
  };
}

function nonZeroHex(seed: string, chars: number): string {
  const hex = createHash('sha256').update(seed).digest('hex').slice(0, chars);
  // an all-zero id is invalid in W3C trace context; one in 2^64 seeds, but then keep it valid
  return /^0+$/.test(hex) ? '1'.padStart(chars, '0') : hex;
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}
