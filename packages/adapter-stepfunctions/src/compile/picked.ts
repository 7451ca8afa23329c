import type { TaskIR } from '@baton/core/engine';
import { covers, type Scope } from './context.js';
import { PLAIN_KEY } from './output-fields.js';

/** A Task that picks its output's fields: the ResultSelector and the caught errors its Lambda decodes in its input. */
export interface PickedForm {
  /** `{ "<k>.$": "$.Payload.<k>" }` for every output key. */
  fields: Record<string, string>;
  /** Paths of the stage input where a Catch left a raw `{ Error, Cause }` (see `StageEvent.errors`). */
  errors: string[];
}

/**
 * Whether a `lambda:invoke` Task writing its result at `rp` (below the state root) can send only
 * its selected input and pick the output's fields in a ResultSelector, as one writes it by hand,
 * or why not. Two conditions: the stage's output keys are known (see `outputFieldsOf`), and a
 * caught error that the task is the first to read (its `rawErrors`) can be decoded in the input
 * and does not outlive the task raw in the state: the selection reads it whole (or an object
 * around it), and the result path overwrites it. Where the error would stay in the state, only a
 * Lambda that returns the state can decode it without adding Pass states.
 */
export function pickedForm(scope: Scope, step: TaskIR, rp: string | null, input: Record<string, unknown>): PickedForm | { reason: string } {
  if (rp === null) return { reason: 'its result is discarded' };
  const shape = scope.ctx.outputs.get(step.stage);
  if (!shape) return { reason: `stage "${step.stage}" is not among the pipeline's stages` };
  if ('reason' in shape) return { reason: `the output of stage "${step.stage}" cannot be picked field by field: ${shape.reason}` };
  const errors: string[] = [];
  for (const { path: target } of scope.ctx.rawErrors.get(step) ?? []) {
    if (!covers(rp, target))
      return { reason: `the caught error at ${target} that it reads first would stay undecoded in the state (its result goes to ${rp})` };
    const found = readsOf(input, target);
    if (found === undefined) return { reason: `its input selection reads inside the caught error at ${target}` };
    errors.push(...found);
  }
  return { fields: Object.fromEntries(shape.keys.map((k) => [`${k}.$`, `$.Payload.${k}`])), errors };
}

/**
 * The paths of the stage input that hold the value at ASL path `target`, given the Task's
 * `input` payload field (`{ "input.$": path }` or `{ input: template }`); `undefined` when a
 * selection reads inside it or an intrinsic function uses it (the raw value is then not what the
 * stage would get, and cannot be decoded afterwards).
 */
function readsOf(input: Record<string, unknown>, target: string): string[] | undefined {
  const out: string[] = [];
  let ok = true;
  const check = (path: string, at: string): void => {
    if (path.startsWith('$$')) return;
    if (path.startsWith('States.')) {
      if (path.includes(target)) ok = false;
      return;
    }
    if (covers(path, target)) out.push(at + target.slice(path === '$' ? 1 : path.length));
    else if (covers(target, path)) ok = false;
  };
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}[${i}]`));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        const name = key.endsWith('.$') ? key.slice(0, -2) : key;
        if (!PLAIN_KEY.test(name)) {
          if (JSON.stringify(value).includes(target)) ok = false;
          continue;
        }
        if (key.endsWith('.$') && typeof value === 'string') check(value, `${at}.${name}`);
        else walk(value, `${at}.${name}`);
      }
    }
  };
  const whole = input['input.$'];
  if (typeof whole === 'string') check(whole, '$');
  else walk(input.input, '$');
  return ok ? out : undefined;
}
