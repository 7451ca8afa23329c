import { createFsBlobStore, createJsonLogger, type AnyPipeline, type BlobStore, type Logger, type ModelClient, type PriceTable } from '@baton/core';
import { fromPino } from '@baton/core/logging';
import { type LogLevel } from '@baton/core/engine';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { EngineConnection } from './engines.js';
import { CliError } from './errors.js';
import { createModelFromSpec, parseFaults } from './models.js';
import { loadPipelines } from './pipelines.js';
import { blobBucketOf } from './engines/deployment.js';
import { createRunRecorder, type RunRecorder } from './registry/open.js';

/** Options shared by every command. */
export interface GlobalOptions {
  stateDir: string;
  engine: string;
  pipelines: string;
  model: string;
  faults?: string;
  offlineLatency?: string;
  /** Enforce another engine's limits on the local engine (`stepfunctions`). */
  emulate?: string;
  /** Level of the JSON log written to `<stateDir>/logs/baton.jsonl`. @default 'info' */
  logLevel?: string;
  /** `file` (JSON lines in `<stateDir>/logs/baton.jsonl`) or `json` (pino lines on stderr; `BATON_LOG_FORMAT`). @default 'file' */
  logFormat?: string;
  /** Servers of the bullmq and temporal engines, and whether this process runs a worker. */
  connection?: EngineConnection;
  /** Postgres run registry (`--database-url`, `DATABASE_URL`); unset: the PGlite registry fed by the event spool. */
  databaseUrl?: string;
  /** Token prices by model id (`--prices`, `BATON_MODEL_PRICES`): JSON, or the path of a JSON file. */
  prices?: string;
}

/** What every engine-facing command builds first: pipelines, blobs, model, log and run recorder. */
export interface CliContext {
  stateDir: string;
  pipelines: AnyPipeline[];
  blobs: BlobStore;
  model: ModelClient;
  logger: Logger;
  /** Records every run event in the registry (Postgres) or the event spool (PGlite). */
  recorder: RunRecorder;
  /** Token prices by model id: each attempt's cost, the run's in the summary and the registry. */
  prices?: PriceTable;
}

/** Builds the {@link CliContext} of a command from the global options. */
export async function openContext(opts: GlobalOptions): Promise<CliContext> {
  if (opts.logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(opts.logLevel))
    throw new CliError(`--log-level ${opts.logLevel}: use debug, info, warn or error`);
  if (opts.logFormat !== undefined && !['file', 'json'].includes(opts.logFormat)) throw new CliError(`--log-format ${opts.logFormat}: use file or json`);
  if (opts.emulate !== undefined && opts.emulate !== 'stepfunctions') throw new CliError(`--emulate ${opts.emulate}: only "stepfunctions" can be emulated`);
  const stateDir = resolve(opts.stateDir);
  const pipelines = await loadPipelines(opts.pipelines);
  const blobs = await blobStoreOf(opts, stateDir);
  const logger = loggerOf(opts, stateDir);
  const model = createModelFromSpec(opts.model, parseFaults(opts.faults ?? process.env.BATON_OFFLINE_FAULTS), Number(opts.offlineLatency ?? 0));
  const prices = opts.prices === undefined ? undefined : pricesOf(opts.prices);
  const recorder = await createRunRecorder(stateDir, opts.databaseUrl ?? process.env.DATABASE_URL);
  return { stateDir, pipelines, blobs, model, logger, recorder, ...(prices ? { prices } : {}) };
}

/** `--prices`: a JSON object of prices by model id, given inline (`{…}`) or as the path of a JSON file. */
export function pricesOf(spec: string): PriceTable {
  const inline = spec.trim().startsWith('{');
  let text = spec;
  if (!inline) {
    try {
      text = readFileSync(resolve(spec), 'utf8');
    } catch (e) {
      throw new CliError(`--prices ${spec}: cannot read the file (${(e as Error).message}); give JSON or the path of a JSON file`);
    }
  }
  let prices: unknown;
  try {
    prices = JSON.parse(text);
  } catch (e) {
    throw new CliError(
      `--prices${inline ? '' : ` ${spec}`}: not JSON (${(e as Error).message}); e.g. --prices '{"<model id>":{"inputPer1M":0.8,"outputPer1M":4}}'`,
    );
  }
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) throw new CliError('--prices: give a JSON object of prices by model id');
  return prices as PriceTable;
}

/**
 * The log of a command: JSON lines appended to `<stateDir>/logs/baton.jsonl` (the default: the
 * terminal keeps the human output alone), or with `--log-format json` pino lines on stderr,
 * written synchronously so that none is lost when the CLI exits. Secrets are redacted either way.
 */
function loggerOf(opts: GlobalOptions, stateDir: string): Logger {
  const level = (opts.logLevel ?? 'info') as LogLevel;
  if (opts.logFormat === 'json') return fromPino(pino({ level, base: { pid: process.pid, name: 'baton' } }, pino.destination({ dest: 2, sync: true })));
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const logFile = join(stateDir, 'logs', 'baton.jsonl');
  return createJsonLogger({ level, write: (line) => appendFileSync(logFile, line + '\n') });
}

/**
 * Where sources, claim checks and reports live: the deployment's S3 bucket for a deployed app
 * (`--engine stepfunctions` with `--blob-bucket` or the app's outputs: its stages read and write
 * there), else the filesystem store under the state directory.
 */
async function blobStoreOf(opts: GlobalOptions, stateDir: string): Promise<BlobStore> {
  const bucket = opts.engine === 'stepfunctions' ? blobBucketOf(opts.connection) : undefined;
  if (!bucket) return createFsBlobStore({ root: join(stateDir, 'blobs') });
  const { createS3BlobStore } = await import('@baton/stages');
  return createS3BlobStore({ bucket });
}
