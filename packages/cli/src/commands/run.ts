import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineConnection } from '../engines.js';
import { blobBucketOf } from '../engines/deployment.js';
import { CliError } from '../errors.js';
import { findPipeline } from '../pipelines.js';
import { finishRun } from '../finish.js';
import { stopSignal } from '../shutdown.js';
import { openSession, type GlobalOptions } from '../session.js';
import { writeSidecar } from '../sidecar.js';
import { uploadSourceDir } from '../sources.js';

/** Options of `baton run`. */
export interface RunOptions {
  sources?: string;
  input?: string;
  title?: string;
  out?: string;
  autoApprove?: boolean;
  runId?: string;
  /** Start on this version of the pipeline; default the newest the pipelines module exports. */
  pipelineVersion?: number;
}

/** `baton run <pipeline>`: uploads sources, starts the run, shows progress, handles the review gate, writes outputs. */
export async function runCommand(name: string, opts: RunOptions, global: GlobalOptions): Promise<number> {
  if (global.engine === 'stepfunctions') checkDeployedRun(opts, global);
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const session = await openSession(global, opts.autoApprove ? 'auto' : tty ? 'prompt' : 'print');
  const pipeline = findPipeline(session.pipelines, name, global.pipelines, opts.pipelineVersion);
  const input: Record<string, unknown> = opts.input ? readJson(opts.input) : {};
  if (opts.sources) input.sources = await uploadSourceDir(session.blobs, opts.sources);
  if (opts.title) input.reportTitle = opts.title;
  // from here a SIGINT/SIGTERM is this command's to handle (a signal that arrives while the run
  // starts is acted on once it has started: stop following, hand back what runs here)
  const signal = stopSignal();
  let runId: string;
  try {
    ({ runId } = await session.engine.start(pipeline, input, opts.runId ? { runId: opts.runId } : {}));
  } catch (e) {
    signal.dispose();
    throw e;
  }
  writeSidecar(session.stateDir, {
    runId,
    pipeline: name,
    pipelines: global.pipelines,
    engine: global.engine,
    model: global.model,
    ...(global.faults ? { faults: global.faults } : {}),
    ...(global.prices ? { prices: global.prices.trim().startsWith('{') ? global.prices : resolve(global.prices) } : {}),
    ...(opts.out ? { out: resolve(opts.out) } : {}),
    ...(opts.autoApprove ? { autoApprove: true } : {}),
    ...(global.connection ? { connection: withoutWorker(global.connection) } : {}),
  });
  session.progress.log(`run ${runId} started; state in ${session.stateDir}`);
  if (global.engine === 'temporal' && global.connection?.worker === false) {
    // Temporal delivers review tokens in the worker that runs the gate's activity, not here
    session.progress.log(
      'review gates: the `baton worker` process that opens one sends its notice through its --review-notices; this process prints the review page when the gate opens',
    );
  }
  return finishRun(session, runId, opts.out, global, signal);
}

/**
 * What `baton run --engine stepfunctions` cannot do: approve unattended (the review token goes to
 * the reviewer through the deployment's notifier, never to this process), or move files without
 * the deployment's bucket.
 */
function checkDeployedRun(opts: RunOptions, global: GlobalOptions): void {
  if (opts.autoApprove) {
    throw new CliError(
      "--auto-approve cannot act on a deployed run: the review token goes to the reviewer through the deployment's notifier (SNS, EventBridge or webhook), never to this process. Approve with baton approve <run> <gate> --token <token> --engine stepfunctions, or in the dashboard",
    );
  }
  if ((opts.sources || opts.out) && !blobBucketOf(global.connection)) {
    throw new CliError(
      `${opts.sources ? '--sources' : '--out'} with --engine stepfunctions reads and writes the deployment's claim-check bucket: pass --blob-bucket <name> or --cdk-outputs <file> (its BlobBucketName output)`,
    );
  }
}

function withoutWorker(c: EngineConnection): Omit<EngineConnection, 'worker'> {
  const { worker: _worker, ...rest } = c;
  return rest;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`cannot read --input "${file}" as JSON: ${(e as Error).message}`);
  }
}
