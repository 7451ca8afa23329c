export { runConformance, type ConformanceCapabilities, type ConformanceOptions, type Harness, type HarnessOptions } from './suite.js';
export { conformancePipelines, KIT_APPROVAL_TIMEOUT_SECONDS, KIT_RETRY } from './pipelines.js';
export { conformanceStages } from './stages.js';
export { KIT_DEPLOY_EXPORTS, KIT_VERSION_DEPLOYS, kitVersionedV1, kitVersionedV2, type KitVersionDeploy } from './pipelines-versions.js';
export { createProbeDir, hasProbeFlag, highWaterMark, readProbe, recordProbe, setProbeFlag, startCounts, type ProbeEvent } from './probe.js';
export { kitTraced } from './pipelines-otel.js';
export { KIT_TRACED_SECTIONS, KIT_TRACED_TREE, createTracedScenario, spanTree, type FinishedSpanLike } from './otel-trace.js';
