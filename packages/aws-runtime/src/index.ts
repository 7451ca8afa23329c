export { createStageLambda, REGISTRY_RETRY_MS, type PipelineStages, type StageLambdaOptions } from './stage-lambda.js';
export { createReviewGateLambda, type ReviewGateLambdaOptions } from './review-gate-lambda.js';
export { createRegistryWriterLambda, type RegistryWriterLambdaOptions } from './registry-writer-lambda.js';
export { readSecret, type ReadSecretOptions } from './secrets.js';
export { DATABASE_SECRET_VARIABLE, connectionStringOf } from './database.js';
export { METRIC_NAMESPACE, failureMetricLine, stdoutMetrics, type FailureMetric, type MetricWriter } from './metrics.js';
export { awsClientConfig, type AwsClientConfig, type Env } from './env.js';
export { DEAD_LETTER_QUEUE_VARIABLE, createDeadLetterLambda, type DeadLetterLambdaOptions } from './dead-letter-lambda.js';
export {
  MAX_WINDOW_ENTRIES,
  createDynamoModelLimiter,
  type DynamoModelLimiter,
  type DynamoModelLimiterOptions,
  type DynamoModelPermit,
} from './dynamo-limiter.js';
export { MODEL_BUDGETS_TABLE_VARIABLE, MODEL_BUDGETS_VARIABLE, MODEL_PRICES_VARIABLE, modelLimiterFromEnv, modelPricesFromEnv } from './model-budgets-env.js';
