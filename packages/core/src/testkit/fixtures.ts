// The conformance pipelines, stages and probe without vitest: what a worker process of an engine
// under test imports (`@baton/core/testkit/pipelines`).
export { conformancePipelines, KIT_APPROVAL_TIMEOUT_SECONDS, KIT_RETRY } from './pipelines.js';
export { conformanceStages } from './stages.js';
export { createProbeDir, hasProbeFlag, highWaterMark, readProbe, recordProbe, setProbeFlag, startCounts, type ProbeEvent } from './probe.js';
export { kitTraced } from './pipelines-otel.js';
