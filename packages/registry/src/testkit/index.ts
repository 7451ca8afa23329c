export { RECORD_INPUT, RECORD_ITEMS, RECORD_THROTTLED, expectedRecordAttempts, registryRecordPipeline } from './pipeline.js';
export { expectCompleteRecord, runApprovedRecord, until, type RecordScenario } from './check.js';
