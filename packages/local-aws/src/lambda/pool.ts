import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The error body Lambda returns for a failed invocation (`X-Amz-Function-Error: Unhandled`). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** The outcome of one invocation: the payload as JSON text, or the function's error. */
export type Outcome = { ok: true; payload: string; logs: string } | { ok: false; error: FunctionError; logs: string };

/** What a pool needs to know of its function. */
export interface PoolFunction {
  name: string;
  entry: string;
  handler: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb?: number;
}

/** Per-invocation facts the sandbox hands the handler in its context object. */
export interface InvokeMeta {
  requestId: string;
  invokedFunctionArn: string;
  clientContext?: unknown;
}

interface Sandbox {
  child: ChildProcess;
  /** Resolves when the module is loaded: `true`, or the error of an init that never finished. */
  ready: Promise<true | FunctionError>;
  busy: boolean;
  output: string[];
  settle?: (outcome: Outcome) => void;
}

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const LOG_TAIL_BYTES = 4096;
const LOG_KEEP_CHARS = 1 << 20;

/**
 * The warm sandboxes of one function: each a node child process running worker.mjs with exactly
 * the function's environment (plus PATH and Lambda's own variables), one invocation at a time; at
 * most `concurrency` of them, further invocations wait for a free one. A sandbox is killed when
 * its invocation times out (`Sandbox.Timedout`) and dropped when it dies (`Runtime.ExitError`).
 */
export class FunctionPool {
  private readonly sandboxes = new Set<Sandbox>();
  private readonly waiting: (() => void)[] = [];
  private readonly log: string[] = [];
  private logChars = 0;
  private closed = false;

  constructor(
    private readonly fn: PoolFunction,
    private readonly settings: { region: string; account: string; concurrency: number; initTimeoutSeconds: number },
  ) {}

  /** All the output of this function's sandboxes so far (the last MiB), as CloudWatch Logs would hold it. */
  logs(): string {
    return this.log.join('');
  }

  /** Runs one invocation with `event` (JSON text) and resolves with its outcome; never rejects. */
  async invoke(event: string, meta: InvokeMeta): Promise<Outcome> {
    const box = await this.acquire();
    try {
      const ready = await box.ready;
      if (ready !== true) return this.failure(box, meta, ready.errorType, ready.errorMessage);
      return await this.run(box, event, meta);
    } finally {
      this.release(box);
    }
  }

  /** Kills every sandbox. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.sandboxes].map((b) => this.kill(b));
    this.sandboxes.clear();
    await Promise.all(exits);
  }

  private run(box: Sandbox, event: string, meta: InvokeMeta): Promise<Outcome> {
    const { timeoutSeconds } = this.fn;
    const deadlineMs = Date.now() + timeoutSeconds * 1000;
    box.output = [`START RequestId: ${meta.requestId} Version: $LATEST\n`];
    return new Promise<Outcome>((settle) => {
      const timer = setTimeout(() => {
        // a timed-out sandbox is discarded, with whatever it was doing
        delete box.settle;
        void this.kill(box);
        settle(this.failure(box, meta, 'Sandbox.Timedout', `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`));
      }, timeoutSeconds * 1000);
      box.settle = (outcome) => {
        clearTimeout(timer);
        delete box.settle;
        box.output.push(`END RequestId: ${meta.requestId}\n`);
        settle({ ...outcome, logs: tail(box.output.join('')) } as Outcome);
      };
      const context = {
        awsRequestId: meta.requestId,
        functionName: this.fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: meta.invokedFunctionArn,
        memoryLimitInMB: String(this.fn.memoryMb ?? 128),
        logGroupName: `/aws/lambda/${this.fn.name}`,
        logStreamName: `local/[$LATEST]${process.pid}`,
        deadlineMs,
        ...(meta.clientContext === undefined ? {} : { clientContext: meta.clientContext }),
      };
      box.child.send({ type: 'invoke', id: meta.requestId, event, context });
    });
  }

  /** A failure Lambda reports itself (not the handler's error): `RequestId: <id> Error: <what>`. */
  private failure(box: Sandbox, meta: InvokeMeta, errorType: string, what: string): Outcome {
    box.output.push(`${new Date().toISOString()} ${meta.requestId} ${what}\n`);
    return { ok: false, error: { errorType, errorMessage: `RequestId: ${meta.requestId} Error: ${what}` }, logs: tail(box.output.join('')) };
  }

  private async acquire(): Promise<Sandbox> {
    for (;;) {
      if (this.closed) throw new Error(`function ${this.fn.name} is closed`);
      for (const b of this.sandboxes) {
        if (!b.busy) {
          b.busy = true;
          return b;
        }
      }
      if (this.sandboxes.size < this.settings.concurrency) {
        const b = this.spawn();
        b.busy = true;
        return b;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private release(box: Sandbox): void {
    box.busy = false;
    this.waiting.shift()?.();
  }

  private spawn(): Sandbox {
    const { fn } = this;
    const entry = resolve(fn.entry);
    const args = [
      ...(/\.[cm]?tsx?$/.test(entry) ? ['--import', tsxLoader()] : []),
      ...(fn.memoryMb === undefined ? [] : [`--max-old-space-size=${Math.max(32, Math.floor(fn.memoryMb * 0.9))}`]),
      WORKER,
      pathToFileURL(entry).href,
      fn.handler,
    ];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      LAMBDA_TASK_ROOT: dirname(entry),
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb ?? 128),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_REGION: this.settings.region,
      AWS_DEFAULT_REGION: this.settings.region,
      ...fn.environment,
    };
    const child = spawn(process.execPath, args, { env, cwd: dirname(entry), stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    const box: Sandbox = { child, busy: false, output: [], ready: Promise.resolve(true) };
    const record = (chunk: Buffer): void => {
      const text = chunk.toString();
      box.output.push(text);
      this.keep(text);
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    box.ready = new Promise<true | FunctionError>((ready) => {
      const limit = this.settings.initTimeoutSeconds;
      const timer = setTimeout(() => {
        void this.kill(box);
        ready({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${limit.toFixed(2)} seconds` });
      }, limit * 1000);
      child.on('message', (m: { type?: string; ok?: boolean; payload?: string; error?: FunctionError }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          ready(true);
        } else if (m.type === 'result') {
          box.settle?.(m.ok ? { ok: true, payload: m.payload ?? 'null', logs: '' } : { ok: false, error: m.error!, logs: '' });
        }
      });
      const ended = (why: string): void => {
        clearTimeout(timer);
        this.sandboxes.delete(box);
        ready({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${why}` });
        box.settle?.({
          ok: false,
          error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${currentId(box)} Error: Runtime exited with error: ${why}` },
          logs: '',
        });
      };
      child.once('exit', (code, signal) => ended(code !== null ? `exit status ${code}` : `signal: ${SIGNALS[signal ?? ''] ?? signal}`));
      child.once('error', (e) => ended(e.message));
    });
    this.sandboxes.add(box);
    return box;
  }

  private keep(text: string): void {
    this.log.push(text);
    this.logChars += text.length;
    while (this.logChars > LOG_KEEP_CHARS && this.log.length > 1) this.logChars -= this.log.shift()!.length;
  }

  private async kill(box: Sandbox): Promise<void> {
    this.sandboxes.delete(box);
    const { child } = box;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** The request id of the invocation a sandbox is running, read back from its START line. */
function currentId(box: Sandbox): string {
  return /RequestId: (\S+)/.exec(box.output[0] ?? '')?.[1] ?? '';
}

/** How Lambda (Go's os/exec) names the signal that ended a runtime. */
const SIGNALS: Record<string, string> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGSEGV: 'segmentation fault', SIGABRT: 'aborted', SIGINT: 'interrupt' };

/** The last 4 KB of an invocation's log, as `LogType: Tail` returns it. */
function tail(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= LOG_TAIL_BYTES ? text : bytes.subarray(bytes.length - LOG_TAIL_BYTES).toString();
}

let loader: string | undefined;

/** tsx's ESM loader, for `.ts` entries (`node --import tsx`). */
function tsxLoader(): string {
  loader ??= pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return loader;
}
