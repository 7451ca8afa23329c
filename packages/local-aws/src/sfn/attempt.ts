import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { MAX_TIMEOUT_SECONDS, type PreparedDefinition, type TaskInfo } from './definition.js';
import { taskError } from './errors.js';
import { AttemptRecorder, json, type AttemptMemory, type Entered, type History } from './history.js';
import type { Credentials, Integration } from './integrations.js';
import { RetryMirror } from './retry.js';
import type { TaskTokens } from './tokens.js';

/** How an attempt ended. */
export interface AttemptResult {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  output?: string;
  error?: string;
  cause?: string;
  memory: AttemptMemory;
}

/** What an attempt runs with. */
export interface AttemptOptions {
  prepared: PreparedDefinition;
  input: unknown;
  history: History;
  /** Context object fields (`$$.Execution`, `$$.StateMachine`). */
  context: { Execution: Record<string, unknown>; StateMachine: Record<string, unknown> };
  integrationOf: (resource: string) => Integration;
  credentials: Credentials;
  roleArn: string;
  region: string;
  tokens: TaskTokens;
  timeScale: number;
  /** The execution's start (`$$.Execution.StartTime`). */
  startDate: Date;
  /** The previous attempt's memory: set for a redrive. */
  previous?: AttemptMemory;
}

// the interpreter has no $$.Task.Token and no $$.State: the context carries these markers, which
// each Task's effective input gets replaced by the real values
const MARK = randomUUID();
const TOKEN = `$local-sfn:task-token:${MARK}`;
const RETRY_COUNT = `$local-sfn:retry-count:${MARK}`;
const STATE_NAME = `$local-sfn:state-name:${MARK}`;
const ENTERED_TIME = `$local-sfn:entered-time:${MARK}`;

/**
 * Runs one attempt of an execution (its start, or a redrive) on aws-local-stepfunctions, every
 * Task state bound by name to a handler that mints task tokens, fills in `$$.Task.Token` and
 * `$$.State.RetryCount`, calls the service integration, records the Task history events, and
 * plans each retry's delay (scaled by `timeScale`). In a redrive, a Task that ended in the previous
 * attempt with the same input is answered with that attempt's outcome instead of running again.
 */
export function runAttempt(options: AttemptOptions): { abort: () => void; done: Promise<AttemptResult> } {
  const { prepared, history, tokens } = options;
  const recorder = new AttemptRecorder(history, prepared, options.previous);
  const mirror = new RetryMirror(options.timeScale);
  const retryIntervalOverrides: Record<string, number[]> = {};
  const replayed = new Map<string, number>();
  const entries = new Map<string, Entered>();
  const startTimes: Record<string, unknown> = {};
  // tokens of this attempt still awaited: refused (TaskTimedOut) once the attempt has ended
  const awaited = new Set<string>();
  // the attempt has ended (failed, aborted, timed out; or succeeded after a caught Map failure): the
  // interpreter may still dispatch the items a Map had queued, but Step Functions starts no Task of
  // an ended execution
  let ended = false;

  const handler =
    (info: TaskInfo) =>
    async (evaluated: unknown): Promise<unknown> => {
      let key = '';
      const attempt: { timedOut: boolean; token?: string; entry?: Entered; integration?: Integration } = { timedOut: false };
      // registered before the interpreter's own timer of the same length, so it runs first and the
      // retry delay of a timed-out attempt is planned before the interpreter asks for it
      const timer = info.timeoutFromPath
        ? undefined
        : setTimeout(() => {
            attempt.timedOut = true;
            if (attempt.token) tokens.forget(attempt.token);
            if (attempt.entry && attempt.integration)
              recorder.task(attempt.entry, timedOutType(attempt.integration), { ...resourceOf(attempt.integration), error: 'States.Timeout' });
            if (key) planRetry(key, info, 'States.Timeout', true);
          }, info.timeoutSeconds * 1000);
      try {
        // let the event log catch up, so that the Task's StateEntered is recorded before its Task events
        // (a Map iteration's events come through the interpreter's nested logs: a few turns later)
        await new Promise((r) => setImmediate(r));
        for (let turn = 0; turn < 20 && !ended && !recorder.hasUnclaimed(info.name); turn++) await new Promise((r) => setImmediate(r));
        if (ended) throw taskError('States.Runtime', 'the execution has ended: no Task of it starts', { retryable: false });
        // $$.Execution.StartTime is the execution's start, in a redrive too (the interpreter puts its run's)
        const input = fill(evaluated, startTimes);
        key = `${info.name}\n${JSON.stringify(input)}`;
        const retryCount = mirror.begin(key, info.retry);
        const entry = retryCount > 0 && entries.has(key) ? entries.get(key)! : recorder.claim(info.name);
        // an iteration of a failed Map (aborted, or queued and started by the interpreter after the failure) starts nothing
        if (recorder.aborted(entry.thread)) {
          mirror.end(key);
          throw taskError('States.Runtime', `the Map iteration ${entry.thread} was aborted: its Map failed`, { retryable: false });
        }
        entries.set(key, entry);
        attempt.entry = entry;
        if (entry.suppressed) {
          const n = replayed.get(key) ?? 0;
          const earlier = recorder.recorded(key)?.[n];
          if (earlier) {
            replayed.set(key, n + 1);
            mirror.end(key);
            entries.delete(key);
            recorder.outcome(key, earlier);
            if (earlier.ok) return earlier.result;
            // the error was caught in the previous attempt: caught again, without retries
            throw taskError(earlier.error, earlier.cause, { retryable: false });
          }
          recorder.reveal(entry);
        }
        const integration = options.integrationOf(info.resource);
        attempt.integration = integration;
        const token = integration.callback ? tokens.mint(String(options.context.StateMachine.Id)) : undefined;
        if (token) {
          attempt.token = token;
          awaited.add(token);
        }
        const params = fill(input, {
          [TOKEN]: token ?? TOKEN,
          [RETRY_COUNT]: retryCount,
          [STATE_NAME]: info.name,
          [ENTERED_TIME]: entry.enteredAt.toISOString(),
        });
        scheduled(entry, integration, info, params);
        const answered = token ? tokens.wait(token, info.heartbeatSeconds) : undefined;
        answered?.catch(() => undefined);
        try {
          let result = await integration.call(params);
          if (answered) {
            recorder.task(entry, 'TaskSubmitted', { ...resourceOf(integration), output: json(result), outputDetails: { truncated: false } });
            result = await answered;
          }
          if (attempt.timedOut) return null;
          recorder.task(entry, integration.resourceType === 'function' ? 'LambdaFunctionSucceeded' : 'TaskSucceeded', {
            ...(integration.resourceType === 'function' ? {} : resourceOf(integration)),
            output: json(result),
            outputDetails: { truncated: false },
          });
          mirror.end(key);
          entries.delete(key);
          recorder.outcome(key, { ok: true, result });
          return result;
        } catch (e) {
          if (token) tokens.forget(token);
          const err = e as Error;
          if (attempt.timedOut) throw err;
          recorder.task(entry, integration.resourceType === 'function' ? 'LambdaFunctionFailed' : 'TaskFailed', {
            ...(integration.resourceType === 'function' ? {} : resourceOf(integration)),
            error: err.name,
            cause: err.message,
          });
          if (!planRetry(key, info, err.name, (err as { isRetryable?: boolean }).isRetryable !== false)) {
            entries.delete(key);
            recorder.outcome(key, { ok: false, error: err.name, cause: err.message });
          }
          throw err;
        } finally {
          if (token) awaited.delete(token);
        }
      } finally {
        clearTimeout(timer);
      }
    };

  const planRetry = (key: string, info: TaskInfo, error: string, retryable: boolean): boolean => {
    const d = mirror.fail(key, info.retry, error, retryable);
    if (d.retry) retryIntervalOverrides[info.name] = info.retry.map((_, i) => (i === d.retrierIndex ? d.delayMs : -1));
    return d.retry;
  };

  const scheduled = (entry: Entered, integration: Integration, info: TaskInfo, params: unknown): void => {
    const timeout = info.timeoutSeconds < MAX_TIMEOUT_SECONDS ? { timeoutInSeconds: info.timeoutSeconds } : {};
    if (integration.resourceType === 'function') {
      recorder.task(entry, 'LambdaFunctionScheduled', { resource: integration.resource, input: json(params), inputDetails: { truncated: false }, ...timeout });
      recorder.task(entry, 'LambdaFunctionStarted');
      return;
    }
    recorder.task(entry, 'TaskScheduled', {
      ...resourceOf(integration),
      region: options.region,
      parameters: json(params),
      ...timeout,
      ...(info.heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: info.heartbeatSeconds }),
      taskCredentials: { roleArn: options.roleArn },
    });
    recorder.task(entry, 'TaskStarted', resourceOf(integration));
  };

  const sm = new StateMachine(structuredClone(prepared.definition) as never, { validationOptions: { noValidate: true } });
  const waitTimeOverrides: Record<string, number> = {};
  if (options.timeScale !== 1) {
    for (const [name, state] of prepared.states)
      if (state.Type === 'Wait' && typeof state.Seconds === 'number') waitTimeOverrides[name] = state.Seconds * 1000 * options.timeScale;
  }
  const runFrom = Date.now();
  const execution = sm.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries([...prepared.tasks.values()].map((t) => [t.name, handler(t)])) as never,
      retryIntervalOverrides,
      waitTimeOverrides,
    },
    context: {
      ...options.context,
      State: { Name: STATE_NAME, EnteredTime: ENTERED_TIME, RetryCount: RETRY_COUNT },
      Task: { Token: TOKEN },
    } as never,
  });
  // the interpreter stamps $$.Execution.StartTime while run() runs: one of these milliseconds
  for (let t = runFrom; t <= Date.now(); t++) startTimes[new Date(t).toISOString()] = options.startDate.toISOString();
  const consumed = (async () => {
    for await (const e of execution.eventLogs) recorder.consume(e as never);
  })();
  const done = execution.result.then(
    (output): AttemptResult => {
      ended = true;
      return { status: 'SUCCEEDED', output: json(output), memory: recorder.memory };
    },
    (e: unknown): AttemptResult => {
      ended = true;
      if (e instanceof ExecutionAbortedError) return { status: 'ABORTED', memory: recorder.memory };
      if (e instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout', memory: recorder.memory };
      const cause = ((e as { cause?: unknown }).cause ?? e) as Error;
      return { status: 'FAILED', error: cause.name, cause: cause.message, memory: recorder.memory };
    },
  );
  return {
    abort: () => {
      ended = true;
      execution.abort();
    },
    done: done.then(async (result) => {
      await consumed.catch(() => undefined);
      recorder.close();
      for (const token of awaited) tokens.forget(token);
      return result;
    }),
  };
}

function resourceOf(integration: Integration): { resourceType: string; resource: string } {
  return { resourceType: integration.resourceType, resource: integration.resource };
}

function timedOutType(integration: Integration): string {
  return integration.resourceType === 'function' ? 'LambdaFunctionTimedOut' : 'TaskTimedOut';
}

/** Replaces marked strings in a Task's effective input by their values (whole strings by the value; the context markers inside strings by its text). */
function fill(value: unknown, marks: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (Object.hasOwn(marks, value)) return marks[value];
    if (!value.includes(MARK)) return value;
    let out = value;
    for (const [mark, v] of Object.entries(marks)) out = out.split(mark).join(String(v));
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, marks));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, marks)]));
  return value;
}
