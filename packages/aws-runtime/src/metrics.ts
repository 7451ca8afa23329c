import type { SerializedError } from '@baton/core';
import { classifyFailure, type FailureClass, type FailureContext } from '@baton/registry';

/**
 * The CloudWatch namespace of Baton's metrics.
 *
 * @example
 * ```ts
 * new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: 'FailedSteps', dimensionsMap: { Pipeline: 'report', FailureClass: 'model' } });
 * ```
 */
export const METRIC_NAMESPACE = 'Baton';

/**
 * Baton's failure metrics: `FailedSteps` (a stage step ended failed: not retried, or out of
 * retries), `FailedRuns` (an execution ended FAILED, TIMED_OUT or ABORTED).
 *
 * @example
 * ```ts
 * const metric: FailureMetric = 'FailedRuns';
 * ```
 */
export type FailureMetric = 'FailedSteps' | 'FailedRuns';

/**
 * Where metric lines go (one EMF JSON document per call).
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const handler = createStageLambda({ pipeline, writeMetric: (line) => lines.push(line) });
 * ```
 */
export type MetricWriter = (line: string) => void;

/**
 * The default {@link MetricWriter}: the line on stdout, where Lambda's log agent extracts EMF.
 *
 * @example
 * ```ts
 * stdoutMetrics(failureMetricLine('FailedRuns', { pipeline: 'report', error }));
 * ```
 */
export const stdoutMetrics: MetricWriter = (line) => void process.stdout.write(`${line}\n`);

/**
 * One CloudWatch Embedded Metric Format line counting a failure: namespace `Baton`, dimensions
 * `Pipeline` and `FailureClass` (the registry's `classifyFailure`), value 1, with the run, step and
 * error code as searchable properties. Lambda's log agent turns it into the metric the alarms watch;
 * no IAM is needed (no PutMetricData).
 *
 * @example
 * ```ts
 * console.log(failureMetricLine('FailedSteps', { pipeline: 'report', error, context: { stage: 'generate' }, runId, stepPath }));
 * ```
 */
export function failureMetricLine(
  metric: FailureMetric,
  fields: { pipeline: string; error: SerializedError; context?: FailureContext; runId?: string; stepPath?: string; at?: number },
): string {
  const failureClass: FailureClass = classifyFailure(fields.error, fields.context ?? {});
  return JSON.stringify({
    _aws: {
      Timestamp: fields.at ?? Date.now(),
      CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['Pipeline', 'FailureClass']], Metrics: [{ Name: metric, Unit: 'Count' }] }],
    },
    Pipeline: fields.pipeline,
    FailureClass: failureClass,
    [metric]: 1,
    errorCode: fields.error.code,
    ...(fields.runId ? { runId: fields.runId } : {}),
    ...(fields.stepPath ? { stepPath: fields.stepPath } : {}),
  });
}
