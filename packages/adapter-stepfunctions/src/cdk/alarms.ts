import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The failure classes of the run registry, each with an alarm and a topic of its own. */
export const ALARM_FAILURE_CLASSES = ['model', 'validation', 'safety', 'assembly', 'infrastructure'] as const;
/** A failure class (see `classifyFailure` in `@baton/registry`). */
export type AlarmFailureClass = (typeof ALARM_FAILURE_CLASSES)[number];
/** Where alarms go: one topic per failure class, and `operations` for the state machine's own alarms. */
export type AlarmTopicName = AlarmFailureClass | 'operations';

/** Namespace of the metrics Baton's functions write as Embedded Metric Format log lines. */
export const METRIC_NAMESPACE = 'Baton';

/** Options of {@link BatonAlarms}. */
export interface BatonAlarmsProps {
  pipeline: string;
  stateMachine: sfn.IStateMachine;
  /** Functions whose every error is an incident (the review gate, the registry writer). */
  functions: lambda.IFunction[];
  /** Topics to use instead of creating one per class. */
  topics?: Partial<Record<AlarmTopicName, sns.ITopic>>;
  /** Failures per 5 minutes that raise a class's alarm. @default 1 for every class */
  thresholds?: Partial<Record<AlarmFailureClass, number>>;
}

/**
 * CloudWatch alarms of a deployed pipeline. Per failure class, one alarm on the steps that ended
 * failed (`FailedSteps`, written by the stage functions when a step fails for good: not retryable
 * or out of retries) plus the runs that failed (`FailedRuns`, written by the registry writer),
 * both in namespace `Baton` with dimensions Pipeline and FailureClass, to that class's topic:
 * model retries exhausted go to `model`, validation to `validation`, assembly and downstream to
 * `assembly`... The state machine's executions failed, timed out and throttled, and any error of
 * the review gate or the registry writer, go to `operations`.
 */
export class BatonAlarms extends Construct {
  readonly topics: Record<AlarmTopicName, sns.ITopic>;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: BatonAlarmsProps) {
    super(scope, id);
    const names: AlarmTopicName[] = [...ALARM_FAILURE_CLASSES, 'operations'];
    this.topics = Object.fromEntries(
      names.map((n) => [
        n,
        props.topics?.[n] ?? new sns.Topic(this, `Topic-${n}`, { displayName: `Baton ${props.pipeline}: ${n} failures`, enforceSSL: true }),
      ]),
    ) as Record<AlarmTopicName, sns.ITopic>;
    const period = Duration.minutes(5);
    for (const c of ALARM_FAILURE_CLASSES) {
      const metric = (name: string): cloudwatch.Metric =>
        new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: name,
          dimensionsMap: { Pipeline: props.pipeline, FailureClass: c },
          statistic: 'Sum',
          period,
        });
      const failures = new cloudwatch.MathExpression({
        expression: 'FILL(steps, 0) + FILL(runs, 0)',
        usingMetrics: { steps: metric('FailedSteps'), runs: metric('FailedRuns') },
        period,
        label: `${c} failures`,
      });
      this.add(`${c}-failures`, c, failures, props.thresholds?.[c] ?? 1, `${props.pipeline}: ${c} failures (steps that failed for good, runs that failed)`);
    }
    const sm = props.stateMachine;
    this.add('executions-failed', 'operations', sm.metricFailed({ period, statistic: 'Sum' }), 1, `${props.pipeline}: executions failed`);
    this.add('executions-timed-out', 'operations', sm.metricTimedOut({ period, statistic: 'Sum' }), 1, `${props.pipeline}: executions timed out`);
    this.add('executions-throttled', 'operations', sm.metricThrottled({ period, statistic: 'Sum' }), 1, `${props.pipeline}: execution starts throttled`);
    for (const fn of props.functions) {
      this.add(`${fn.node.id}-errors`, 'operations', fn.metricErrors({ period, statistic: 'Sum' }), 1, `${props.pipeline}: errors of ${fn.node.id}`);
    }
  }

  private add(id: string, topic: AlarmTopicName, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topics[topic]));
    this.alarms.push(alarm);
  }
}
