import { StageError, type AnyPipeline } from '@baton/core';
import { executionArnOf, stateMachineNameOf } from './service-errors.js';

/**
 * The state machine of each pipeline, by pipeline name: `stateMachines` as given, plus
 * `stateMachineArn` for the pipeline it is named after (`BatonStateMachine` names the machine
 * after its pipeline) or, failing that, for the only pipeline. Throws `ConfigurationError` when a
 * machine cannot be matched to a pipeline or none is given.
 *
 * @example
 * ```ts
 * machinesOf({ stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:report', pipelines: [report] });
 * // Map { 'report' => 'arn:aws:states:eu-west-1:123456789012:stateMachine:report' }
 * ```
 */
export function machinesOf(options: { stateMachineArn?: string; stateMachines?: Record<string, string>; pipelines: AnyPipeline[] }): Map<string, string> {
  const names = options.pipelines.map((p) => p.name);
  const machines = new Map<string, string>();
  for (const [pipeline, arn] of Object.entries(options.stateMachines ?? {})) {
    if (!names.includes(pipeline))
      throw new StageError('ConfigurationError', `stateMachines names pipeline "${pipeline}", which is not among the pipelines given (${names.join(', ')})`);
    machines.set(pipeline, checked(arn));
  }
  if (options.stateMachineArn !== undefined) {
    const arn = checked(options.stateMachineArn);
    const named = stateMachineNameOf(arn);
    const pipeline = names.includes(named) ? named : names.length === 1 ? names[0]! : undefined;
    if (!pipeline) {
      throw new StageError(
        'ConfigurationError',
        `state machine "${named}" is not named after any of the pipelines ${names.join(', ')}: pass stateMachines: { <pipeline>: <arn> } instead`,
      );
    }
    machines.set(pipeline, arn);
  }
  if (machines.size === 0) throw new StageError('ConfigurationError', 'no state machine: pass stateMachineArn (or stateMachines: { <pipeline>: <arn> })');
  return machines;
}

function checked(arn: string): string {
  executionArnOf(arn, 'probe');
  return arn;
}
