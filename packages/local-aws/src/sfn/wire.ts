import { SfnApiError } from './errors.js';
import type { ExecutionRecord } from './executions.js';

/** A request or response body of the JSON protocol. */
export type Body = Record<string, unknown>;

/** DescribeExecution's answer; `notRedrivable` is why RedriveExecution would refuse it. */
export function describeExecution(e: ExecutionRecord, notRedrivable: string | undefined): Body {
  return {
    ...listItem(e),
    input: e.input,
    inputDetails: { included: true },
    ...(e.output === undefined ? {} : { output: e.output, outputDetails: { included: true } }),
    ...(e.error === undefined ? {} : { error: e.error }),
    ...(e.cause === undefined ? {} : { cause: e.cause }),
    ...(e.traceHeader === undefined ? {} : { traceHeader: e.traceHeader }),
    ...(e.machine.versionArn === undefined ? {} : { stateMachineVersionArn: e.machine.versionArn }),
    ...(e.machine.aliasArn === undefined ? {} : { stateMachineAliasArn: e.machine.aliasArn }),
    redriveStatus: notRedrivable ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
    ...(notRedrivable ? { redriveStatusReason: notRedrivable } : {}),
  };
}

/** An execution as ListExecutions lists it. */
export function listItem(e: ExecutionRecord): Body {
  return {
    executionArn: e.arn,
    stateMachineArn: e.machine.arn,
    name: e.name,
    status: e.status,
    startDate: e.startDate,
    ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    redriveCount: e.redriveCount,
    ...(e.redriveDate ? { redriveDate: e.redriveDate } : {}),
  };
}

/** Pages a sorted list by a stable key: the token holds the key of the last item returned. */
export function paginate<T>(items: T[], b: Body, keyOf: (item: T) => number, order: 'asc' | 'desc'): { page: T[]; nextToken?: string } {
  const max = typeof b.maxResults === 'number' && b.maxResults > 0 ? Math.min(b.maxResults, 1000) : 100;
  let from = items;
  if (typeof b.nextToken === 'string') {
    let after: number;
    try {
      after = (JSON.parse(Buffer.from(b.nextToken, 'base64').toString('utf8')) as { after: number }).after;
    } catch {
      throw new SfnApiError('InvalidToken', `Invalid Token: '${b.nextToken}'`);
    }
    from = items.filter((i) => (order === 'asc' ? keyOf(i) > after : keyOf(i) < after));
  }
  const page = from.slice(0, max);
  return from.length > max ? { page, nextToken: Buffer.from(JSON.stringify({ after: keyOf(page[page.length - 1]!) })).toString('base64') } : { page };
}

/** A history event without its input and output (`includeExecutionData: false`). */
export function withoutData(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(event).map(([k, v]) => {
      if (!k.endsWith('EventDetails') || !v || typeof v !== 'object') return [k, v];
      const { input: _i, output: _o, ...rest } = v as Record<string, unknown>;
      return [k, rest];
    }),
  );
}

/** awsJson1.0 timestamps are epoch seconds. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}
