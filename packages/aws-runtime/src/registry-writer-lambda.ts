import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createRegistryWriterHandler, toLambdaError, type ExecutionPayloads, type ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions/lambda';
import { StageError, createJsonLogger, type Logger, type RunEvent } from '@baton/core';
import { serializeError } from '@baton/core/engine';
import { createRegistryObserver } from '@baton/registry';
import { DATABASE_SECRET_VARIABLE, openRegistryFromEnv } from './database.js';
import { awsClientConfig, configurationError, envValue, once, type Env } from './env.js';
import { invocationLogger } from './logging.js';
import { failureMetricLine, stdoutMetrics, type MetricWriter } from './metrics.js';

/** Options of {@link createRegistryWriterLambda}. */
export interface RegistryWriterLambdaOptions {
  /** @default process.env */
  env?: Env;
  /** @default JSON lines on stderr, bound to the pipeline */
  logger?: Logger;
  /** Where the `FailedRuns` EMF lines go. @default stdout */
  writeMetric?: MetricWriter;
  /** Engine name recorded for the runs (a rehearsal on `stepfunctions-local` records its own). @default 'stepfunctions' */
  engine?: string;
  /** Reads an input or output left out of an event. @default DescribeExecution through an SFN client built from `env` */
  describeExecution?: (executionArn: string) => Promise<ExecutionPayloads>;
}

/**
 * The handler of the deployed registry-writer Lambda, the target of an EventBridge rule on Step
 * Functions' execution status-change events: each event becomes a run row update in the registry
 * named by `BATON_DATABASE_SECRET_ARN` (see `createRegistryWriterHandler` of
 * `@baton/adapter-stepfunctions`: RUNNING starts or, redriven, reopens the run; SUCCEEDED, FAILED,
 * TIMED_OUT, ABORTED end it), with the pipeline name from `BATON_PIPELINE` (else the state
 * machine's). A run that ends FAILED, TIMED_OUT or ABORTED also prints one Embedded Metric Format
 * line, `FailedRuns` by `Pipeline` and `FailureClass`, once its row is written.
 *
 * Writing the registry is this function's whole job, so a write that fails throws (and
 * EventBridge's asynchronous invocation retries the event; writes are idempotent), and a missing
 * secret is a `ConfigurationError`. Inputs over 256 KB are read with `states:DescribeExecution`.
 *
 * @example
 * ```ts
 * import { createRegistryWriterLambda } from '@baton/aws-runtime';
 *
 * export const handler = createRegistryWriterLambda();
 * ```
 */
export function createRegistryWriterLambda(options: RegistryWriterLambdaOptions = {}): (event: ExecutionStatusChangeEvent) => Promise<RunEvent | null> {
  const env = options.env ?? process.env;
  const pipeline = envValue(env, 'BATON_PIPELINE');
  const base = options.logger ?? createJsonLogger({ bindings: { pipeline: pipeline ?? null, function: 'registry-writer' } });
  const { logger, use } = invocationLogger(base);
  const writeMetric = options.writeMetric ?? stdoutMetrics;
  const writer = once(async () => {
    if (!envValue(env, DATABASE_SECRET_VARIABLE)) {
      throw configurationError(
        `${DATABASE_SECRET_VARIABLE} is not set: the registry writer records runs in the run registry; set it to the ARN of the registry database's secret`,
        {
          variable: DATABASE_SECRET_VARIABLE,
        },
      );
    }
    const observer = createRegistryObserver((await openRegistryFromEnv(env))!, { logger });
    const handler = createRegistryWriterHandler({
      observer,
      // the handler binds executionArn, step and attempt itself
      logger: base,
      describeExecution: options.describeExecution ?? describeWith(env),
      ...(pipeline ? { pipeline } : {}),
      ...(options.engine ? { engine: options.engine } : {}),
    });
    return { observer, handler };
  });
  return async (event) => {
    const log = use(base.child({ executionArn: event.detail.executionArn, step: null, attempt: (event.detail.redriveCount ?? 0) + 1 }));
    try {
      const { observer, handler } = await writer();
      const before = observer.failures;
      const written = await handler(event);
      await observer.flush();
      if (observer.failures > before)
        throw new StageError(
          'ServiceUnavailableException',
          `the run registry did not take the ${event.detail.status} event of ${event.detail.executionArn} (see the preceding error line); the event is retried`,
        );
      if (written?.type === 'run-finished' && written.status === 'failed' && written.error) {
        writeMetric(failureMetricLine('FailedRuns', { pipeline: pipeline ?? stateMachineOf(event), error: written.error, runId: written.runId }));
      }
      return written;
    } catch (e) {
      const error = serializeError(e);
      log.error('status change not recorded', { status: event.detail.status, code: error.code, error: error.message });
      throw toLambdaError(error);
    }
  };
}

function stateMachineOf(event: ExecutionStatusChangeEvent): string {
  return event.detail.stateMachineArn.split(':')[6] ?? event.detail.stateMachineArn;
}

function describeWith(env: Env): (executionArn: string) => Promise<ExecutionPayloads> {
  let client: SFNClient | undefined;
  return async (executionArn) => {
    client ??= new SFNClient(awsClientConfig(env, 'SFN'));
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return { input: out.input ?? null, output: out.output ?? null };
  };
}
