import type { AnyPipeline } from '@baton/core';
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import type { EngineConnection } from './context.js';

/** Where a deployed app lives: its state machine(s) and its claim-check bucket. */
export interface Deployment {
  /** The state machine of each pipeline, by pipeline name. */
  stateMachines: Record<string, string>;
  /** The bucket the deployed stages read and write (sources, claim checks, reports), when known. */
  blobBucket?: string;
}

/** Outputs of `BatonStateMachine` as `cdk deploy --outputs-file` writes them: `<construct id><output id><hash>`. */
const STATE_MACHINE_OUTPUT = /StateMachineArn(?:[0-9A-F]{8})?$/;
const BUCKET_OUTPUT = /BlobBucketName(?:[0-9A-F]{8})?$/;

/**
 * The deployment `--engine stepfunctions` drives: `--state-machine-arn` (the machine of the
 * pipeline it is named after, or of the only pipeline), or the `StateMachineArn` and
 * `BlobBucketName` outputs of every stack in `--cdk-outputs` (the file `cdk deploy --outputs-file`
 * writes); `--blob-bucket` names the bucket. Throws a {@link CliError} (exit 2) saying what to pass.
 *
 * @example
 * ```ts
 * const { stateMachines, blobBucket } = readDeployment({ cdkOutputs: 'cdk-outputs.json' }, pipelines);
 * ```
 */
export function readDeployment(connection: EngineConnection | undefined, pipelines: AnyPipeline[]): Deployment {
  const names = pipelines.map((p) => p.name);
  const stateMachines: Record<string, string> = {};
  const place = (arn: string, from: string): void => {
    const machine = arn.split(':')[6];
    if (!arn.startsWith('arn:') || arn.split(':')[5] !== 'stateMachine' || !machine)
      throw new CliError(`${from}: "${arn}" is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
    const pipeline = names.includes(machine) ? machine : names.length === 1 ? names[0]! : undefined;
    if (!pipeline)
      throw new CliError(
        `${from}: state machine "${machine}" is not named after any pipeline of --pipelines (${names.join(', ')}); BatonStateMachine names it after its pipeline`,
      );
    stateMachines[pipeline] = arn;
  };
  if (connection?.cdkOutputs) {
    const file = connection.cdkOutputs;
    let outputs: Record<string, Record<string, unknown>>;
    try {
      outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    } catch (e) {
      throw new CliError(`cannot read --cdk-outputs "${file}": ${(e as Error).message}. Write it with: cdk deploy --outputs-file ${file}`);
    }
    for (const [stack, values] of Object.entries(outputs ?? {})) {
      for (const [key, value] of Object.entries(values ?? {})) {
        if (typeof value !== 'string') continue;
        if (STATE_MACHINE_OUTPUT.test(key)) place(value, `--cdk-outputs ${file} (${stack}.${key})`);
      }
    }
    if (Object.keys(stateMachines).length === 0)
      throw new CliError(`--cdk-outputs "${file}" has no StateMachineArn output: is it the outputs file of a Baton app (cdk deploy --outputs-file)?`);
  }
  if (connection?.stateMachineArn) place(connection.stateMachineArn, '--state-machine-arn');
  if (Object.keys(stateMachines).length === 0) {
    throw new CliError(
      '--engine stepfunctions drives a deployed state machine: pass --state-machine-arn arn:aws:states:<region>:<account>:stateMachine:<name>, or --cdk-outputs <file> (written by cdk deploy --outputs-file <file>)',
    );
  }
  const blobBucket = blobBucketOf(connection);
  return { stateMachines, ...(blobBucket ? { blobBucket } : {}) };
}

/**
 * The claim-check bucket of the deployment `--engine stepfunctions` drives, when one is known:
 * `--blob-bucket`, else the app's only `BlobBucketName` output in `--cdk-outputs`.
 *
 * @example
 * ```ts
 * const bucket = blobBucketOf({ cdkOutputs: 'cdk-outputs.json' }); // 'reportstepfunctions-pipelineblobs…'
 * ```
 */
export function blobBucketOf(connection: EngineConnection | undefined): string | undefined {
  if (connection?.blobBucket) return connection.blobBucket;
  if (!connection?.cdkOutputs) return undefined;
  try {
    const outputs = JSON.parse(readFileSync(connection.cdkOutputs, 'utf8')) as Record<string, Record<string, unknown>>;
    const buckets = new Set(
      Object.values(outputs).flatMap((values) =>
        Object.entries(values ?? {})
          .filter(([k, v]) => BUCKET_OUTPUT.test(k) && typeof v === 'string')
          .map(([, v]) => v as string),
      ),
    );
    return buckets.size === 1 ? [...buckets][0] : undefined;
  } catch {
    return undefined; // the engine factory says what is wrong with the file
  }
}
