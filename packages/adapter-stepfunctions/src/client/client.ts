import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type ExecutionStatus,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { StageError, type ReviewDecision, type SerializedError } from '@baton/core';
import { apiError, startRunId } from '@baton/core/engine';
import { errorFromCause } from '../lambda/errors.js';
import { decideReview, type ReviewStore } from '../lambda/reviews.js';

/** Options of {@link createStepFunctionsClient}. */
export interface StepFunctionsClientOptions {
  /** An `SFNClient` (region, credentials, endpoint are its business). */
  client: SFNClient;
  /** The deployed state machine of the pipeline. */
  stateMachineArn: string;
  /** Where the review-gate Lambda records pending reviews (needed by approve / reject / heartbeat). */
  reviews?: ReviewStore;
}

/** An execution as {@link StepFunctionsClient.describe} reports it. */
export interface ExecutionInfo {
  executionArn: string;
  name: string;
  status: ExecutionStatus | string;
  startDate?: Date;
  stopDate?: Date;
  output?: unknown;
  error?: SerializedError;
  redriveCount?: number;
}

/** Thin helpers over `@aws-sdk/client-sfn` for Baton pipelines deployed on Step Functions. */
export interface StepFunctionsClient {
  /** StartExecution; the execution name is the Baton run id (idempotent for 90 days in STANDARD). */
  start(input: unknown, options?: { runId?: string; pipeline?: string }): Promise<{ runId: string; executionArn: string }>;
  /** DescribeExecution, with the output parsed and a failure mapped back to Baton's error. */
  describe(executionArn: string): Promise<ExecutionInfo>;
  /** Checks the review token, then SendTaskSuccess with `{ approved: true, reviewer, comment, sections }`. */
  approve(executionArn: string, gate: string, decision: ReviewDecision): Promise<void>;
  /** Checks the review token, then SendTaskFailure with error `ApprovalRejected`. */
  reject(executionArn: string, gate: string, decision: ReviewDecision): Promise<void>;
  /** SendTaskHeartbeat for the open review of a gate (gates compiled with HeartbeatSeconds). */
  heartbeat(executionArn: string, gate: string): Promise<void>;
  /** RedriveExecution: restarts a failed STANDARD execution from its failed states (within 14 days). */
  redrive(executionArn: string): Promise<{ redriveDate?: Date }>;
  /** ListExecutions of the state machine, newest first, following pages up to `limit`. */
  list(filter?: { status?: ExecutionStatus; limit?: number }): Promise<{ executionArn: string; name: string; status: string; startDate?: Date }[]>;
}

/**
 * Creates the client helpers. Approve and reject verify the single-use review token against its
 * stored hash (and the assigned reviewer) before answering the task token.
 *
 * @example
 * ```ts
 * const sfn = createStepFunctionsClient({ client: new SFNClient({}), stateMachineArn, reviews });
 * const { executionArn } = await sfn.start({ sources });
 * ```
 */
export function createStepFunctionsClient(options: StepFunctionsClientOptions): StepFunctionsClient {
  const { client, stateMachineArn } = options;
  const reviews = (): ReviewStore => {
    if (!options.reviews) throw new StageError('InvalidInput', 'approve / reject / heartbeat need the review store the review-gate Lambda writes to');
    return options.reviews;
  };
  return {
    async start(input, startOptions = {}) {
      const runId = startRunId(startOptions.runId, startOptions.pipeline ?? stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1));
      const out = await client.send(new StartExecutionCommand({ stateMachineArn, name: runId, input: JSON.stringify(input) }));
      return { runId, executionArn: out.executionArn! };
    },
    async describe(executionArn) {
      const d = await client.send(new DescribeExecutionCommand({ executionArn }));
      const info: ExecutionInfo = { executionArn, name: d.name ?? '', status: d.status ?? 'UNKNOWN' };
      if (d.startDate) info.startDate = d.startDate;
      if (d.stopDate) info.stopDate = d.stopDate;
      if (d.output !== undefined) info.output = JSON.parse(d.output) as unknown;
      if (d.error !== undefined) info.error = errorFromCause(d.error, d.cause ?? '');
      if (d.redriveCount !== undefined) info.redriveCount = d.redriveCount;
      return info;
    },
    async approve(executionArn, gate, decision) {
      const answer = await decideReview(reviews(), executionArn, gate, decision, 'approved');
      if (answer.verdict === 'approved') await client.send(new SendTaskSuccessCommand({ taskToken: answer.taskToken, output: JSON.stringify(answer.output) }));
    },
    async reject(executionArn, gate, decision) {
      const answer = await decideReview(reviews(), executionArn, gate, decision, 'rejected');
      if (answer.verdict === 'rejected')
        await client.send(new SendTaskFailureCommand({ taskToken: answer.taskToken, error: answer.error, cause: answer.cause }));
    },
    async heartbeat(executionArn, gate) {
      const open = await reviews().open(executionArn, gate);
      if (open.length === 0) throw apiError.gateNotOpen(executionArn, gate);
      for (const r of open) await client.send(new SendTaskHeartbeatCommand({ taskToken: r.taskToken }));
    },
    async redrive(executionArn) {
      const out = await client.send(new RedriveExecutionCommand({ executionArn }));
      return out.redriveDate ? { redriveDate: out.redriveDate } : {};
    },
    async list(filter = {}) {
      const limit = filter.limit ?? 100;
      const rows: { executionArn: string; name: string; status: string; startDate?: Date }[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: Math.min(100, limit - rows.length),
            ...(filter.status ? { statusFilter: filter.status } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const e of page.executions ?? []) {
          rows.push({ executionArn: e.executionArn!, name: e.name ?? '', status: e.status ?? 'UNKNOWN', ...(e.startDate ? { startDate: e.startDate } : {}) });
        }
        nextToken = page.nextToken;
      } while (nextToken && rows.length < limit);
      return rows;
    },
  };
}
