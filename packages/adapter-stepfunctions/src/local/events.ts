import type { SerializedError } from '@baton/core';
import type { StateMachine } from 'aws-local-stepfunctions';

/** What the event tracker keeps up to date on a run. */
export interface TrackedRun {
  /** StateEntered events so far: the billed state transitions. */
  transitions: number;
  /** Execution history events as Step Functions would record them. */
  historyEvents: number;
  /** States in flight, by name (map iterations share a name). */
  current: Map<string, number>;
  /** Set when the run was stopped for passing the history limit. */
  limitError?: SerializedError;
}

type Execution = ReturnType<StateMachine['run']>;

/**
 * Consumes an execution's event log: counts transitions and history events (2 per state, 3 more
 * per Task, 2 per map iteration) and the states in flight; aborts the execution once the history
 * passes `historyLimit`, as Step Functions fails a STANDARD execution at 25,000 events. States in
 * `hidden` (the local engine's own) are not counted.
 */
export async function trackEvents(execution: Execution, run: TrackedRun, historyLimit: number | false, hidden: ReadonlySet<string> = new Set()): Promise<void> {
  try {
    for await (const e of execution.eventLogs) {
      // the engine's own states (payload-limit checks) are not in the deployed machine
      if ('state' in e && hidden.has(e.state.name)) continue;
      if (e.type === 'StateEntered') {
        run.transitions++;
        run.historyEvents += e.state.type === 'Task' ? 5 : 2;
        run.current.set(e.state.name, (run.current.get(e.state.name) ?? 0) + 1);
        if (historyLimit !== false && run.historyEvents > historyLimit && !run.limitError) {
          run.limitError = {
            code: 'States.Runtime',
            message: `execution history passed ${historyLimit} events (Step Functions' limit for STANDARD workflows): run large maps in DISTRIBUTED mode`,
            retryable: false,
            details: { historyEvents: run.historyEvents, transitions: run.transitions },
          };
          execution.abort();
        }
      } else if (e.type === 'MapIterationStarted') {
        run.historyEvents += 2;
      } else if (e.type === 'StateExited' || e.type === 'StateFailed') {
        const n = (run.current.get(e.state.name) ?? 1) - 1;
        if (n <= 0) run.current.delete(e.state.name);
        else run.current.set(e.state.name, n);
      }
    }
  } catch {
    // the log ends with the execution; an abort is reported by the result
  }
}
