import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition } from '../compile/types.js';
import { clampLocalTimers } from './timers.js';

/** The outcome of {@link runAslLocally}. */
export interface LocalAslRun {
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: { name: string; message: string };
  /** StateEntered events: the state transitions Step Functions would bill for a STANDARD run. */
  transitions: number;
  /** Transitions per state name. */
  byState: Record<string, number>;
}

/**
 * Runs any ASL definition on aws-local-stepfunctions with Task states bound to local functions
 * by state name, and counts its state transitions. Used by tests of compiled machines and by the
 * transition benchmark (compiled vs hand-written machine).
 *
 * @example
 * ```ts
 * const { transitions } = await runAslLocally(definition, input, { handlers: { plan: async () => ({ sections: [] }) } });
 * ```
 */
export async function runAslLocally(
  definition: AslDefinition,
  input: unknown,
  options: { handlers: Record<string, (input: unknown) => unknown>; executionId?: string },
): Promise<LocalAslRun> {
  const sm = new StateMachine(clampLocalTimers(definition) as never, { validationOptions: { checkArn: false, checkPaths: true } });
  const handlers = Object.fromEntries(Object.entries(options.handlers).map(([k, fn]) => [k, async (i: unknown) => fn(i)]));
  const execution = sm.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: {} },
    context: {
      Execution: { Id: options.executionId ?? 'arn:aws:states:local:000000000000:execution:bench:run' },
      Task: { Token: 'local' },
      State: { RetryCount: 0 },
    } as never,
  });
  const byState: Record<string, number> = {};
  let transitions = 0;
  const counting = (async () => {
    for await (const e of execution.eventLogs) {
      if (e.type === 'StateEntered') {
        transitions++;
        byState[e.state.name] = (byState[e.state.name] ?? 0) + 1;
      }
    }
  })();
  try {
    const output = await execution.result;
    await counting;
    return { status: 'succeeded', output, transitions, byState };
  } catch (e) {
    await counting.catch(() => undefined);
    const cause = (e as { cause?: Error }).cause ?? (e as Error);
    return { status: 'failed', error: { name: cause.name, message: cause.message }, transitions, byState };
  }
}
