import { type RunInfo } from '@baton/core';
import { readRunLease } from '@baton/core/engine';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { GlobalOptions } from './context.js';
import { CliError } from './errors.js';

/**
 * Whether a local run is interrupted: it has not ended, it is not waiting for a decision, and no
 * live process holds its lease (the process that drove it died or stopped; `baton resume`
 * continues it). Read from the lease beside the journal, not guessed from timestamps. Returns the
 * words `baton status` prints, or undefined when the run is not interrupted or not local.
 *
 * @example
 * ```ts
 * const note = interruptedNote(global, info); // 'interrupted: the process driving it (pid 4242 on host a) stopped ...'
 * ```
 */
export function interruptedNote(global: Pick<GlobalOptions, 'engine' | 'stateDir'>, info: RunInfo): string | undefined {
  if (global.engine !== 'local' || info.status !== 'running') return undefined;
  const lease = readRunLease(join(resolve(global.stateDir), 'journal'), info.runId);
  if (lease.state === 'held') return undefined;
  const who =
    lease.state === 'lapsed'
      ? `the process driving it (pid ${lease.lease.pid} on ${lease.lease.host}, last heartbeat ${lease.lease.renewedAt}) is gone`
      : 'no process drives it';
  return `interrupted: ${who}. Continue it with: baton resume ${info.runId}`;
}

/**
 * The error of `baton resume` for a run no engine recorded: the process that started it stopped
 * before its first journal entry. Starting again with the same id is safe: `start` with an id
 * that exists returns that run instead of a second one.
 *
 * @example
 * ```ts
 * throw neverRecorded('report-7');
 * ```
 */
export function neverRecorded(runId: string): CliError {
  return new CliError(
    `run "${runId}" was never recorded: the process that started it stopped before the engine wrote its first entry, so there is nothing to resume. Start it again with the same id: baton run <pipeline> --run-id ${runId} (with its other options); starting with an id that exists is idempotent (it follows the existing run, never a second one)`,
  );
}

/**
 * Refuses to drive a local run that a live process drives already (its lease is held by another
 * pid): two processes would run its steps twice. `baton resume` of a run another `baton run` is
 * still running says so instead.
 *
 * @example
 * ```ts
 * assertNotDrivenElsewhere(global, runId); // throws CliError (exit 2) naming the other process
 * ```
 */
export function assertNotDrivenElsewhere(global: Pick<GlobalOptions, 'engine' | 'stateDir'>, runId: string): void {
  if (global.engine !== 'local') return;
  const lease = readRunLease(join(resolve(global.stateDir), 'journal'), runId);
  if (lease.state !== 'held' || (lease.lease.pid === process.pid && lease.lease.host === hostname())) return;
  throw new CliError(
    `run ${runId} is being driven by process ${lease.lease.pid} on ${lease.lease.host} (heartbeat ${lease.lease.renewedAt}): resuming it here would run its steps twice. Follow it with: baton status ${runId}, or stop that process first (Ctrl-C), then: baton resume ${runId}`,
  );
}
