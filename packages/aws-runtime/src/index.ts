export { createStageLambda, REGISTRY_RETRY_MS, type StageLambdaOptions } from './stage-lambda.js';
export { createReviewGateLambda, type ReviewGateLambdaOptions } from './review-gate-lambda.js';
export { createRegistryWriterLambda, type RegistryWriterLambdaOptions } from './registry-writer-lambda.js';
export { readSecret, type ReadSecretOptions } from './secrets.js';
export { DATABASE_SECRET_VARIABLE, connectionStringOf } from './database.js';
export { METRIC_NAMESPACE, failureMetricLine, stdoutMetrics, type FailureMetric, type MetricWriter } from './metrics.js';
export { awsClientConfig, type AwsClientConfig, type Env } from './env.js';
export { DEAD_LETTER_QUEUE_VARIABLE, createDeadLetterLambda, type DeadLetterLambdaOptions } from './dead-letter-lambda.js';
