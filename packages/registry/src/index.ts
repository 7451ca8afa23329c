export { FAILURE_CLASSES } from './types.js';
export type {
  AttemptRow,
  FailureClass,
  FailureCount,
  InFlightRun,
  RecordedError,
  ReviewDecisionRecord,
  ReviewRecord,
  RunDetail,
  RunFilter,
  RunRecord,
  RunRegistry,
  PipelineUsage,
  RunUsage,
  RunUsageDetail,
  SectionVersion,
  StepRecord,
  TokenPricing,
  UsageReport,
  UsageSummary,
} from './types.js';
export { classifyFailure, type FailureClassifier, type FailureContext } from './classify.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { migrate } from './migrate.js';
export { checkSchemaName, type SqlClient, type SqlExecutor } from './sql.js';
export { MAX_INLINE_BYTES, mapIndexOf } from './values.js';
export { createSqlRegistry, startOfIsoWeek, type SqlRegistryOptions } from './sql-registry.js';
export { DEFAULT_LABEL_PATHS, type RunLabelPaths } from './labels.js';
export { createRegistryReviewStore, type TaskTokenReviewClose, type TaskTokenReviewRecord, type TaskTokenReviewStore } from './review-store.js';
export { createPostgresClient, createPostgresRegistry, type PostgresRegistryOptions } from './postgres.js';
export { createPostgresModelLimiter, type PostgresModelLimiter, type PostgresModelLimiterOptions } from './model-limiter.js';
export { MODEL_QUOTA_MIGRATIONS } from './model-limiter-sql.js';
export { createPgliteClient, createPgliteRegistry, type PgliteRegistryOptions } from './pglite.js';
export { createRegistryObserver, type RegistryObserver, type RegistryObserverOptions } from './observer.js';
export { auditRunRecord, type RunAudit } from './audit.js';
export { reviewAuditExport, roundOf, sectionItems, sectionVersionsOf, verdictWords, type ReviewAuditExport } from './review-audit.js';
