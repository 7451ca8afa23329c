import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessKeyOf, close, listen, readBody, send } from '../http.js';
import { FunctionPool, type Outcome } from './pool.js';

/** A function the local Lambda endpoint runs. */
export interface LocalFunction {
  /** FunctionName (also the last segment of its ARN). */
  name: string;
  /** An ES module exporting the handler: a bundled asset's `index.mjs`, a `.js`/`.mjs` file, or a `.ts` file (run with tsx's loader). */
  entry: string;
  /** The handler's export name. @default 'handler' */
  handler?: string;
  /** The function's environment variables: all it sees, with PATH and Lambda's own (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION...). */
  environment: Record<string, string>;
  /** Invocation timeout, as the function's `Timeout`. @default 3 */
  timeoutSeconds?: number;
  /** `MemorySize`: caps the sandbox's V8 heap at 90 % of it when set. @default 128 (reported in the context) */
  memoryMb?: number;
}

/** Options of {@link startLocalLambda}. */
export interface LocalLambdaOptions {
  functions: LocalFunction[];
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  account?: string;
  /** @default 0 (a free port on 127.0.0.1) */
  port?: number;
  /**
   * Who may invoke: returns a denial message, or `undefined` to allow. Called with the access key
   * id of the request's SigV4 signature ('' when unsigned) and the invoked function's ARN (with
   * its qualifier when one was given). A denial answers 403 `AccessDeniedException` with it.
   */
  authorize?: (accessKeyId: string, action: 'lambda:InvokeFunction', resource: string) => string | undefined;
  /** Warm sandboxes (processes) per function at most; further invocations queue. @default 4 */
  concurrency?: number;
  /** Longest module load (init) before the invocation fails with `Sandbox.Timedout`, as Lambda's 10 s. @default 10 */
  initTimeoutSeconds?: number;
}

/** A running local Lambda endpoint. */
export interface LocalLambda {
  /** Endpoint for `new LambdaClient({ endpoint })` (or `AWS_ENDPOINT_URL_LAMBDA`). */
  url: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>`. */
  arnOf(name: string): string;
  /** Every invocation run so far, in the order they ended; `error` is the errorType of a failed one. */
  invocations: { name: string; ms: number; error?: string }[];
  /** What a function's sandboxes wrote to stdout/stderr so far (the last MiB), as its log group would hold it. */
  logs(name: string): string;
  /** Stops the server and kills every sandbox. */
  close(): Promise<void>;
}

const MAX_PAYLOAD = 6 * 1024 * 1024;
const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/**
 * Starts an HTTP server speaking Lambda's Invoke API
 * (`POST /2015-03-31/functions/{FunctionName}/invocations`: RequestResponse, Event, DryRun,
 * `LogType: Tail`), so that `@aws-sdk/client-lambda` and the local Step Functions endpoint call it
 * unchanged. Each function runs in its own node processes with exactly its environment, kept warm
 * between invocations, one invocation at a time per process. A handler's error answers 200 with
 * `X-Amz-Function-Error: Unhandled` and `{ errorType, errorMessage, trace }`; a timeout kills the
 * process and reports `Sandbox.Timedout` ("Task timed out after N.00 seconds"); a process that
 * dies reports `Runtime.ExitError`, as Lambda does. A test and development tool: nothing persists.
 *
 * @example
 * ```ts
 * const lambda = await startLocalLambda({ functions: [{ name: 'hello', entry: 'dist/hello.mjs', environment: { GREETING: 'hi' } }] });
 * const client = new LambdaClient({ endpoint: lambda.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * await client.send(new InvokeCommand({ FunctionName: 'hello', Payload: JSON.stringify({}) }));
 * await lambda.close();
 * ```
 */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const arnOf = (name: string): string => `arn:aws:lambda:${region}:${account}:function:${name}`;
  const settings = { region, account, concurrency: options.concurrency ?? 4, initTimeoutSeconds: options.initTimeoutSeconds ?? 10 };
  const pools = new Map(
    options.functions.map((f) => [
      f.name,
      new FunctionPool(
        {
          name: f.name,
          entry: f.entry,
          handler: f.handler ?? 'handler',
          environment: f.environment,
          timeoutSeconds: f.timeoutSeconds ?? 3,
          ...(f.memoryMb === undefined ? {} : { memoryMb: f.memoryMb }),
        },
        settings,
      ),
    ]),
  );
  const invocations: LocalLambda['invocations'] = [];
  const background = new Set<Promise<unknown>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const route = INVOKE.exec(url.pathname);
    if (req.method !== 'POST' || !route)
      return error(res, 404, 'UnknownOperationException', `local Lambda supports Invoke only (${req.method} ${url.pathname})`);
    const { name, qualifier: named } = parseFunctionName(decodeURIComponent(route[1]!));
    const qualifier = url.searchParams.get('Qualifier') ?? named;
    const resource = qualifier ? `${arnOf(name)}:${qualifier}` : arnOf(name);
    const pool = pools.get(name);
    if (!pool) return error(res, 404, 'ResourceNotFoundException', `Function not found: ${resource}`);
    const denial = options.authorize?.(accessKeyOf(req), 'lambda:InvokeFunction', resource);
    if (denial !== undefined) return error(res, 403, 'AccessDeniedException', denial);
    const body = await readBody(req, MAX_PAYLOAD);
    if (!body) return error(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD} bytes for the InvokeFunction operation`);
    const event = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(event);
    } catch (e) {
      return error(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
    }
    const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    const requestId = randomUUID();
    const version = qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST';
    if (type === 'DryRun') return send(res, 204, '', { 'x-amzn-requestid': requestId });
    const clientContext = header(req, 'x-amz-client-context');
    const run = async (): Promise<Outcome> => {
      const started = performance.now();
      const outcome = await pool.invoke(event, {
        requestId,
        invokedFunctionArn: resource,
        ...(clientContext ? { clientContext: JSON.parse(Buffer.from(clientContext, 'base64').toString('utf8')) as unknown } : {}),
      });
      invocations.push({ name, ms: Math.round(performance.now() - started), ...(outcome.ok ? {} : { error: outcome.error.errorType }) });
      return outcome;
    };
    if (type === 'Event') {
      // asynchronous invocation: accepted now, run in the background (Lambda's own retries are not modelled)
      const p = run().finally(() => background.delete(p));
      background.add(p);
      return send(res, 202, '', { 'x-amzn-requestid': requestId });
    }
    const outcome = await run();
    const headers: Record<string, string> = { 'x-amzn-requestid': requestId, 'x-amz-executed-version': version };
    if (header(req, 'x-amz-log-type') === 'Tail') headers['x-amz-log-result'] = Buffer.from(outcome.logs).toString('base64');
    if (outcome.ok) return send(res, 200, outcome.payload, headers);
    send(res, 200, outcome.error, { ...headers, 'x-amz-function-error': 'Unhandled' });
  };

  const { server, url } = await listen(handle, options.port);
  return {
    url,
    arnOf,
    invocations,
    logs: (name) => pools.get(name)?.logs() ?? '',
    async close() {
      await close(server);
      await Promise.all([...pools.values()].map((p) => p.close()));
      await Promise.allSettled([...background]);
    },
  };
}

/** A FunctionName as Invoke takes it: `name`, `name:qualifier`, a partial or a full ARN. */
function parseFunctionName(value: string): { name: string; qualifier?: string } {
  const at = value.indexOf('function:');
  const [name = '', qualifier] = (at >= 0 ? value.slice(at + 'function:'.length) : value).split(':');
  return qualifier ? { name, qualifier } : { name };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A Lambda API error as restJson1 clients read it: the code in `x-amzn-ErrorType`, the message in the body. */
function error(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { Type: 'User', message }, { 'x-amzn-errortype': code });
}
