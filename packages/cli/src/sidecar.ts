import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertRunId } from '@baton/core';
import type { EngineConnection } from './engines/context.js';

/** What the CLI remembers about a run it started, so approve/resume/redrive can finish it. */
export interface RunSidecar {
  runId: string;
  pipeline: string;
  pipelines: string;
  engine: string;
  model: string;
  faults?: string;
  /** Where the report files are copied when the run succeeds. */
  out?: string;
  /** The run was started with --auto-approve: resume and redrive approve its gates the same way. */
  autoApprove?: boolean;
  /** Servers the run's engine was reached at (`--redis-url`, `--temporal-address`, ...), minus `worker`. */
  connection?: Omit<EngineConnection, 'worker'>;
}

/** Writes the sidecar of a run under `<stateDir>/cli/`. */
export function writeSidecar(stateDir: string, sidecar: RunSidecar): void {
  mkdirSync(join(stateDir, 'cli'), { recursive: true });
  writeFileSync(join(stateDir, 'cli', `${assertRunId(sidecar.runId)}.json`), JSON.stringify(sidecar, null, 2));
}

/** Reads the sidecar of a run, if the CLI started it. */
export function readSidecar(stateDir: string, runId: string): RunSidecar | undefined {
  try {
    // assertRunId: an id from the command line (`../../package`) never names a file outside cli/
    return JSON.parse(readFileSync(join(stateDir, 'cli', `${assertRunId(runId)}.json`), 'utf8')) as RunSidecar;
  } catch {
    return undefined;
  }
}
