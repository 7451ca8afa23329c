import type { GlobalOptions } from './context.js';
import { CliError } from './errors.js';

/** The model flags: they act only in a process that runs stages. */
const MODEL_FLAGS = { model: '--model', faults: '--faults', offlineLatency: '--offline-latency' } as const;

/** A command of the CLI, as far as deciding which options can apply to it. */
export interface CommandShape {
  /** The command's name (`run`, `status`, …). */
  name: string;
  /** `--auto-approve` was given. */
  autoApprove?: boolean;
  /** `approve`/`reject --no-wait`: the decision is recorded and the process exits. */
  noWait?: boolean;
}

/**
 * Refuses, before anything starts, options that cannot apply in this combination, naming the
 * process that would honour them (exit 2): `--auto-approve` where the review notice never
 * reaches this process (Temporal with `--no-worker`: the token goes to the worker whose activity
 * opened the gate), and model flags (`--model`, `--faults`, `--offline-latency`) on a process
 * that runs no stage (`--no-worker`, a deployed run, `status`, `list`).
 *
 * @example
 * ```ts
 * refuseInapplicable({ name: 'run', autoApprove: true }, global, explicit); // throws CliError on temporal --no-worker
 * ```
 */
export function refuseInapplicable(command: CommandShape, global: GlobalOptions, explicit: ReadonlySet<string>): void {
  const noWorker = (global.engine === 'bullmq' || global.engine === 'temporal') && global.connection?.worker === false;
  if (command.autoApprove && global.engine === 'temporal' && noWorker) {
    throw new CliError(
      "--auto-approve cannot act from `baton run --engine temporal --no-worker`: Temporal delivers the review token only to the `baton worker` process whose activity opened the gate, never to this one. Drop --no-worker (this process then runs a worker and approves its gates), or decide with `baton approve <run> <gate> --token <token>` using the notice of the worker's --review-notices",
    );
  }
  const given = (Object.keys(MODEL_FLAGS) as (keyof typeof MODEL_FLAGS)[]).filter((k) => explicit.has(k)).map((k) => MODEL_FLAGS[k]);
  if (given.length === 0) return;
  const flags = given.join(', ');
  const verb = given.length > 1 ? 'act' : 'acts';
  if (command.name === 'status' || command.name === 'list') {
    throw new CliError(
      `${flags} ${verb} only where stages run: \`baton ${command.name}\` runs none. Give ${flags} to \`baton run\`, \`baton resume\` or \`baton worker\``,
    );
  }
  if (global.engine === 'stepfunctions' && command.name !== 'compile') {
    throw new CliError(
      `${flags} ${verb} only where stages run: a deployed run's stages run in the deployment's Lambdas (their model is set at compile time: baton compile --model …), never in this process`,
    );
  }
  if (noWorker || (command.noWait && (global.engine === 'bullmq' || global.engine === 'temporal'))) {
    const why = noWorker ? 'with --no-worker this process runs no stage' : 'with --no-wait this process records the decision and runs no stage';
    throw new CliError(
      `${flags} ${verb} only where stages run: ${why}; the \`baton worker --engine ${global.engine}\` processes run them. Give ${flags} to those workers`,
    );
  }
}
