import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { readHistory, runIdOf, toLambdaError, type DeadLetterMessage, type ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions/lambda';
import { createJsonLogger, type Logger } from '@baton/core';
import { serializeError } from '@baton/core/engine';
import { awsClientConfig, envValue, requireEnv, type Env } from './env.js';

/** The variable naming the queue of failed runs. */
export const DEAD_LETTER_QUEUE_VARIABLE = 'BATON_DEAD_LETTER_QUEUE_URL';

/** Options of {@link createDeadLetterLambda}. */
export interface DeadLetterLambdaOptions {
  /** @default process.env */
  env?: Env;
  /** @default JSON lines on stderr, bound to the pipeline */
  logger?: Logger;
  /** Reads an execution's whole history. @default GetExecutionHistory through an SFN client built from `env` */
  history?: (executionArn: string) => Promise<HistoryEvent[]>;
  /** Sends the message. @default SendMessage through an SQS client built from `env` */
  send?: (queueUrl: string, body: string) => Promise<void>;
}

/**
 * The handler of the deployed dead-letter Lambda, the target of an EventBridge rule on Step
 * Functions' status-change events of FAILED, TIMED_OUT and ABORTED executions. It sends each
 * failed run's context to the queue `BATON_DEAD_LETTER_QUEUE_URL` names: run id, execution ARN,
 * the failed step (the Baton step path of the last failed task attempt, read from the execution
 * history, else the last state entered), error and cause as Step Functions reports them, the run
 * input and its start time.
 *
 * Why not a Catch in the state machine sending the message before the run fails: the execution
 * would then fail at that route's own Fail state, and RedriveExecution, which restarts from the
 * state that failed, would only fail again. Sent from the status change, the execution fails where
 * its error happened and redrives from there.
 *
 * Delivery is at least once (EventBridge may repeat an event): a consumer keys on
 * `executionArn` + `redriveCount`. A send that fails throws, and EventBridge retries.
 *
 * @example
 * ```ts
 * import { createDeadLetterLambda } from '@baton/aws-runtime';
 *
 * export const handler = createDeadLetterLambda();
 * ```
 */
export function createDeadLetterLambda(
  options: DeadLetterLambdaOptions = {},
): (event: ExecutionStatusChangeEvent) => Promise<(DeadLetterMessage & { status: string; redriveCount: number }) | null> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createJsonLogger({ bindings: { pipeline: envValue(env, 'BATON_PIPELINE') ?? null, function: 'dead-letter' } });
  let sfn: SFNClient | undefined;
  let sqs: SQSClient | undefined;
  const history =
    options.history ??
    (async (executionArn: string): Promise<HistoryEvent[]> => {
      sfn ??= new SFNClient(awsClientConfig(env, 'SFN'));
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: false, ...(nextToken ? { nextToken } : {}) }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return events;
    });
  const send =
    options.send ??
    (async (queueUrl: string, body: string): Promise<void> => {
      sqs ??= new SQSClient(awsClientConfig(env, 'SQS'));
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    });
  return async (event) => {
    const d = event.detail;
    const log = logger.child({ executionArn: d.executionArn, step: null, attempt: (d.redriveCount ?? 0) + 1 });
    if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(d.status)) return null;
    try {
      const queueUrl = requireEnv(env, DEAD_LETTER_QUEUE_VARIABLE, 'the dead-letter function sends failed runs to that SQS queue');
      const failedStep = await failedStepOf(d.executionArn, history).catch((e: unknown) => {
        log.warn('failed step not found in the execution history', { error: (e as Error).message });
        return '(unknown)';
      });
      const message = {
        runId: runIdOf(d.executionArn),
        executionArn: d.executionArn,
        failedStep,
        error: d.error ?? (d.status === 'TIMED_OUT' ? 'States.Timeout' : d.status === 'ABORTED' ? 'States.Aborted' : 'States.Runtime'),
        cause: d.cause ?? (d.status === 'TIMED_OUT' ? 'the execution ran longer than its timeout' : d.status === 'ABORTED' ? 'the execution was stopped' : ''),
        input: parseInput(d.input),
        startedAt: new Date(d.startDate).toISOString(),
        status: d.status,
        redriveCount: d.redriveCount ?? 0,
      };
      await send(queueUrl, JSON.stringify(message));
      log.info('failed run sent to the dead-letter queue', { status: d.status, code: message.error, failedStep });
      return message;
    } catch (e) {
      const error = serializeError(e);
      log.error('failed run not sent to the dead-letter queue', { status: d.status, code: error.code, error: error.message });
      throw toLambdaError(error);
    }
  };
}

/** The Baton step path of the last failed task attempt, else the last state entered. */
async function failedStepOf(executionArn: string, history: (arn: string) => Promise<HistoryEvent[]>): Promise<string> {
  const events = await history(executionArn);
  const failed = readHistory(events, { retryOf: () => [], ended: true }).attempts.filter((a) => a.status === 'failed' && a.error?.code !== 'States.Aborted');
  const last = failed.at(-1);
  if (last) return last.stepPath;
  const entered = [...events].reverse().find((e) => e.type?.endsWith('StateEntered'));
  return entered?.stateEnteredEventDetails?.name ?? '(unknown)';
}

function parseInput(input: string | null): unknown {
  if (input === null) return null;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
