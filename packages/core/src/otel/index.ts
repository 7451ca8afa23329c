// `@baton/core/otel`: OpenTelemetry tracing of runs. The only entry that imports
// `@opentelemetry/api` (an optional peer), so the root entry never loads it.
export { OTEL_ATTRIBUTES, createOtelObserver, type OtelObserverOptions } from './observer.js';
export { createRunIdGenerator, runTraceIds, type OtelIdGenerator, type RunIdGenerator, type RunTraceIdOptions, type RunTraceIds } from './ids.js';
