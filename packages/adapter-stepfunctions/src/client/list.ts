import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem, type ExecutionStatus, type SFNClient } from '@aws-sdk/client-sfn';
import type { RunState, RunSummary } from '@baton/core';
import { replayExecutionName, replayOf, runIdOf } from '../lambda/event.js';
import type { ReviewStore } from '../lambda/reviews.js';
import { awsErrorName, sfnApiError } from './service-errors.js';

/** What {@link listExecutions} reads. */
export interface ListExecutionsOptions {
  client: SFNClient;
  /** State machine ARN per pipeline name. */
  machines: ReadonlyMap<string, string>;
  /** Tells waiting runs (an open review) from running ones. */
  reviews: ReviewStore;
  /** Executions read per machine and status filter, newest first. */
  limit: number;
  filter: { status?: RunState; pipeline?: string };
}

/** The execution statuses each run state covers (a run of any of them has that state). */
const STATUSES: Record<RunState, ExecutionStatus[]> = {
  running: ['RUNNING', 'PENDING_REDRIVE'],
  waiting: ['RUNNING'],
  succeeded: ['SUCCEEDED'],
  failed: ['FAILED', 'TIMED_OUT', 'ABORTED'],
};

/**
 * ListExecutions of each state machine (every page up to `limit`, with the service's status
 * filter where the run state asks for one) as {@link RunSummary} rows, newest first. A RUNNING
 * execution with an open review in the store is `waiting`.
 *
 * @example
 * ```ts
 * const rows = await listExecutions({ client, machines: new Map([['report', arn]]), reviews, limit: 100, filter: { status: 'failed' } });
 * ```
 */
export async function listExecutions(options: ListExecutionsOptions): Promise<RunSummary[]> {
  const { filter } = options;
  const rows: RunSummary[] = [];
  for (const [pipeline, stateMachineArn] of options.machines) {
    if (filter.pipeline && filter.pipeline !== pipeline) continue;
    for (const statusFilter of filter.status ? STATUSES[filter.status] : [undefined]) {
      for (const e of await page(options, stateMachineArn, statusFilter)) {
        const status = await stateOf(e, options.reviews);
        if (filter.status && status !== filter.status) continue;
        // a failed execution that was replayed is not the run's state any more: its replay is
        if (status === 'failed' && (await replayed(options.client, e))) continue;
        const startedAt = (e.startDate ?? new Date(0)).toISOString();
        rows.push({
          runId: runIdOf(e.executionArn ?? e.name ?? ''),
          pipeline,
          engine: 'stepfunctions',
          status,
          startedAt,
          updatedAt: (e.stopDate ?? e.redriveDate ?? e.startDate ?? new Date(0)).toISOString(),
        });
      }
    }
  }
  return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

async function page(options: ListExecutionsOptions, stateMachineArn: string, statusFilter: ExecutionStatus | undefined): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const out = await options.client
      .send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: Math.min(1000, options.limit - items.length),
          ...(statusFilter ? { statusFilter } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      .catch((e: unknown) => {
        throw sfnApiError(e, `ListExecutions of ${stateMachineArn}`);
      });
    items.push(...(out.executions ?? []));
    nextToken = out.nextToken;
  } while (nextToken && items.length < options.limit);
  return items;
}

/** Whether a (failed) execution has a replay: Baton's redrive `<runId>.r<n+1>` of its run. */
async function replayed(client: SFNClient, e: ExecutionListItem): Promise<boolean> {
  const arn = e.executionArn ?? '';
  const next = `${arn.slice(0, arn.lastIndexOf(':') + 1)}${replayExecutionName(runIdOf(arn), replayOf(arn) + 1)}`;
  try {
    await client.send(new DescribeExecutionCommand({ executionArn: next }));
    return true;
  } catch (err) {
    if (awsErrorName(err) === 'ExecutionDoesNotExist') return false;
    throw sfnApiError(err, `DescribeExecution of ${next}`);
  }
}

async function stateOf(e: ExecutionListItem, reviews: ReviewStore): Promise<RunState> {
  switch (e.status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'RUNNING': {
      const now = Date.now();
      const open = (await reviews.list(e.executionArn ?? '')).some((r) => r.status === 'open' && Date.parse(r.expiresAt) > now);
      return open ? 'waiting' : 'running';
    }
    case 'PENDING_REDRIVE':
      return 'running';
    default:
      return 'failed';
  }
}
