import { jsonBytes } from '@baton/core/engine';
import { SFN_PAYLOAD_LIMIT } from '../compile/limits.js';
import type { AslDefinition, AslState } from '../compile/types.js';

/** The function ARN of the check states (never called: a local handler is bound to each by name). */
const CHECK_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:baton-local-payload-limit';
/** ASL's longest state name. */
const MAX_STATE_NAME = 80;

/** A definition with its Map and Parallel outputs checked, and the handlers of the checks. */
export interface PayloadChecked {
  definition: AslDefinition;
  /** Check state name → the state it checks. */
  checks: Map<string, string>;
  /** Local Task handlers of the check states, by state name. */
  handlers: Record<string, (input: unknown) => Promise<unknown>>;
}

/**
 * Baton-side layer (named as such): Step Functions fails a Map or Parallel state whose output
 * passes 256 KB with `States.DataLimitExceeded`, a terminal error that `States.ALL` does not
 * catch. aws-local-stepfunctions builds those outputs without any limit. This copy of the
 * definition routes every Map and Parallel state through a check Task state (bound to a local
 * handler, no Retry, no Catch) that passes the state output on unchanged or fails the execution
 * with `States.DataLimitExceeded` naming the state and its size; so a machine that would fail on
 * AWS fails locally, at the same step. The check states are not part of the deployed machine:
 * event consumers skip them (`checks`), so transitions and history counts stay AWS's.
 *
 * @example
 * ```ts
 * const { definition, handlers } = withPayloadChecks(compiled.definition);
 * sm.run(input, { overrides: { taskResourceLocalHandlers: { ...stageHandlers, ...handlers } } });
 * ```
 */
export function withPayloadChecks(definition: AslDefinition, limit = SFN_PAYLOAD_LIMIT): PayloadChecked {
  const copy = structuredClone(definition);
  const checks = new Map<string, string>();
  const used = new Set<string>();
  collectNames(copy.States, used);
  const visit = (states: Record<string, AslState>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Map') visit(((state.ItemProcessor ?? state.Iterator) as { States: Record<string, AslState> }).States);
      if (state.Type === 'Parallel') for (const b of state.Branches as { States: Record<string, AslState> }[]) visit(b.States);
      if (state.Type !== 'Map' && state.Type !== 'Parallel') continue;
      const check = checkName(name, used);
      const tail: Record<string, unknown> = state.End === true ? { End: true } : { Next: state.Next };
      delete state.End;
      state.Next = check;
      states[check] = { Type: 'Task', Resource: CHECK_RESOURCE, ...tail };
      checks.set(check, name);
    }
  };
  visit(copy.States);
  const handlers: PayloadChecked['handlers'] = {};
  for (const [check, state] of checks) {
    handlers[check] = async (input) => {
      const bytes = jsonBytes(input);
      if (bytes <= limit) return input;
      const e = new Error(
        `The state "${state}" returned an output of ${bytes} bytes, over the 256 KB state limit (${limit} bytes): Step Functions fails it with States.DataLimitExceeded`,
      );
      e.name = 'States.DataLimitExceeded';
      throw e;
    };
  }
  return { definition: copy, checks, handlers };
}

function collectNames(states: Record<string, AslState>, into: Set<string>): void {
  for (const [name, state] of Object.entries(states)) {
    into.add(name);
    const proc = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, AslState> } | undefined;
    if (proc) collectNames(proc.States, into);
    for (const b of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) collectNames(b.States, into);
  }
}

function checkName(name: string, used: Set<string>): string {
  let candidate = `${name.slice(0, MAX_STATE_NAME - 12)}.limit`;
  for (let i = 2; used.has(candidate); i++) candidate = `${name.slice(0, MAX_STATE_NAME - 12)}.limit${i}`;
  used.add(candidate);
  return candidate;
}
