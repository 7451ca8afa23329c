import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One history event in Step Functions' JSON wire shape (timestamps in epoch seconds). */
export interface WireEvent {
  id: number;
  previousEventId?: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** An execution as the fake service keeps it. */
export interface FakeExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  redriveStatus?: 'REDRIVABLE' | 'NOT_REDRIVABLE';
  redriveStatusReason?: string;
  events: WireEvent[];
}

/** A task token the fake service awaits, and what answering it does. */
export interface AwaitedToken {
  executionArn: string;
  answer?: (verdict: { output?: string; error?: string; cause?: string }) => void;
}

/** A local server speaking the Step Functions JSON protocol (awsJson1.0, `X-Amz-Target`), with an in-memory model. */
export interface FakeSfn {
  url: string;
  calls: { op: string; body: Record<string, unknown> }[];
  executions: Map<string, FakeExecution>;
  tokens: Map<string, AwaitedToken>;
  /** The next call of an operation fails with this AWS error (`__type` name and message), once. */
  failNext: Record<string, { name: string; message: string; status?: number }>;
  /** Events per GetExecutionHistory page at most (the service's maxResults still applies). */
  historyPageSize: number;
  /** Called after StartExecution created an execution (to script its history). */
  onStart?: (execution: FakeExecution) => void;
  /** Called after RedriveExecution. */
  onRedrive?: (execution: FakeExecution) => void;
  close(): Promise<void>;
}

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

/** The ARN of a state machine of the fake service. */
export function fakeMachineArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
}

/** Starts the fake service on a free loopback port. */
export async function startFakeSfn(): Promise<FakeSfn> {
  const fake: Omit<FakeSfn, 'url' | 'close'> = { calls: [], executions: new Map(), tokens: new Map(), failNext: {}, historyPageSize: 1000 };
  const handle = (op: string, b: Record<string, unknown>): [number, unknown] => {
    const injected = fake.failNext[op];
    if (injected) {
      delete fake.failNext[op];
      return [injected.status ?? 400, { __type: `com.amazonaws.swf.service.v2.model#${injected.name}`, message: injected.message }];
    }
    const err = (name: string, message: string): [number, unknown] => [400, { __type: `com.amazonaws.swf.service.v2.model#${name}`, message }];
    const now = Date.now() / 1000;
    switch (op) {
      case 'StartExecution': {
        const sm = String(b.stateMachineArn);
        const name = String(b.name);
        const arn = sm.replace(':stateMachine:', ':execution:') + `:${name}`;
        const existing = fake.executions.get(arn);
        if (existing) {
          if (existing.status === 'RUNNING' && existing.input === b.input) return [200, { executionArn: arn, startDate: existing.startDate }];
          return err('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
        }
        const execution: FakeExecution = {
          executionArn: arn,
          stateMachineArn: sm,
          name,
          input: String(b.input ?? '{}'),
          status: 'RUNNING',
          startDate: now,
          redriveCount: 0,
          events: [],
        };
        fake.executions.set(arn, execution);
        fake.onStart?.(execution);
        return [200, { executionArn: arn, startDate: now }];
      }
      case 'DescribeExecution': {
        const e = fake.executions.get(String(b.executionArn));
        if (!e) return err('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(b.executionArn)}'`);
        const { events: _events, ...rest } = e;
        return [200, rest];
      }
      case 'GetExecutionHistory': {
        const e = fake.executions.get(String(b.executionArn));
        if (!e) return err('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(b.executionArn)}'`);
        const from = b.nextToken ? Number(b.nextToken) : 0;
        const size = Math.min(Number(b.maxResults ?? 100) || 100, fake.historyPageSize);
        const ordered = b.reverseOrder === true ? [...e.events].reverse() : e.events;
        const events = ordered.slice(from, from + size);
        return [200, { events, ...(from + size < ordered.length ? { nextToken: String(from + size) } : {}) }];
      }
      case 'ListExecutions': {
        const all = [...fake.executions.values()]
          .filter((e) => e.stateMachineArn === b.stateMachineArn && (!b.statusFilter || e.status === b.statusFilter))
          .sort((x, y) => y.startDate - x.startDate);
        const from = b.nextToken ? Number(b.nextToken) : 0;
        const size = Number(b.maxResults ?? 100) || 100;
        const page = all.slice(from, from + size).map(({ executionArn, stateMachineArn, name, status, startDate, stopDate, redriveCount, redriveDate }) => ({
          executionArn,
          stateMachineArn,
          name,
          status,
          startDate,
          ...(stopDate === undefined ? {} : { stopDate }),
          redriveCount,
          ...(redriveDate === undefined ? {} : { redriveDate }),
        }));
        return [200, { executions: page, ...(from + size < all.length ? { nextToken: String(from + size) } : {}) }];
      }
      case 'SendTaskSuccess':
      case 'SendTaskFailure': {
        const t = fake.tokens.get(String(b.taskToken));
        if (!t) return err('TaskDoesNotExist', 'Task Does Not Exist');
        fake.tokens.delete(String(b.taskToken));
        t.answer?.(op === 'SendTaskSuccess' ? { output: String(b.output) } : { error: String(b.error), cause: String(b.cause) });
        return [200, {}];
      }
      case 'RedriveExecution': {
        const e = fake.executions.get(String(b.executionArn));
        if (!e) return err('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(b.executionArn)}'`);
        if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(e.status) || e.redriveStatus === 'NOT_REDRIVABLE') {
          return err('ExecutionNotRedrivable', e.redriveStatusReason ?? `Execution is ${e.status} and cannot be redriven`);
        }
        e.status = 'RUNNING';
        e.redriveCount += 1;
        e.redriveDate = now;
        delete e.stopDate;
        delete e.error;
        delete e.cause;
        fake.onRedrive?.(e);
        return [200, { redriveDate: now }];
      }
      default:
        return err('UnknownOperationException', `fake Step Functions does not implement ${op}`);
    }
  };
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
      const body = JSON.parse(data || '{}') as Record<string, unknown>;
      fake.calls.push({ op, body });
      const [status, reply] = handle(op, body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
