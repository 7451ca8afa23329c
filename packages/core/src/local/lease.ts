import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { assertRunId, pathUnder } from '../run-id.js';

/**
 * The lease a local engine holds on a run while it drives it, kept beside the run's journal
 * (`<dir>/leases/<runId>.json`) and renewed every {@link LEASE_RENEW_MS}: who drives the run
 * (host and pid) and when it last said so.
 */
export interface RunLease {
  runId: string;
  host: string;
  pid: number;
  /** When the engine took the run on. */
  since: string;
  /** The last heartbeat. */
  renewedAt: string;
  /** A lease not renewed for this long has lapsed: its holder is gone. */
  ttlMs: number;
}

/** How often a held lease is renewed. */
export const LEASE_RENEW_MS = 2000;
/** How long a lease lasts without renewal (three missed heartbeats). */
export const LEASE_TTL_MS = 3 * LEASE_RENEW_MS;

/**
 * What a run's lease says: `held` (a live process drives the run), `lapsed` (the holder died or
 * stopped without finishing: the run is interrupted until someone resumes it), `none` (no lease
 * was ever written: a run left waiting for review, or one journaled before leases existed).
 */
export type LeaseState = { state: 'held'; lease: RunLease } | { state: 'lapsed'; lease: RunLease } | { state: 'none' };

/** The lease file of a run. */
function leaseFile(dir: string, runId: string): string {
  return pathUnder(join(dir, 'leases'), `${assertRunId(runId)}.json`);
}

/**
 * Reads the lease of a run from a local engine's journal directory. Lapsed when its heartbeat is
 * older than its TTL, or at once when the holder ran on this host and its pid is gone (a SIGKILLed
 * CLI is seen as such by the next `baton status`, not seconds later).
 *
 * @example
 * ```ts
 * const lease = readRunLease('.baton/journal', 'report-1');
 * if (lease.state === 'lapsed') console.log(`interrupted: baton resume report-1`);
 * ```
 */
export function readRunLease(dir: string, runId: string, now: number = Date.now()): LeaseState {
  let lease: RunLease;
  try {
    lease = JSON.parse(readFileSync(leaseFile(dir, runId), 'utf8')) as RunLease;
  } catch {
    return { state: 'none' };
  }
  const stale = now - Date.parse(lease.renewedAt) > lease.ttlMs;
  const gone = lease.host === hostname() && !isProcessAlive(lease.pid);
  return stale || gone ? { state: 'lapsed', lease } : { state: 'held', lease };
}

/** Takes, renews and gives back the leases of the runs a local engine drives. */
export interface LeaseKeeper {
  /** Takes the lease of a run (and renews it until released). */
  hold(runId: string): void;
  /** Deletes the lease: the run ended, or waits for a decision with nobody driving it. */
  release(runId: string): void;
  /** Stops renewing every lease without deleting them: the process is going away; they lapse. */
  abandon(): void;
}

/**
 * A lease keeper writing under `dir` (a local engine's journal directory), renewing every held
 * lease on one unref'd timer so it never keeps the process alive.
 *
 * @example
 * ```ts
 * const leases = createLeaseKeeper('.baton/journal');
 * leases.hold(runId); // ...the run ends
 * leases.release(runId);
 * ```
 */
export function createLeaseKeeper(dir: string): LeaseKeeper {
  const held = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  const write = (runId: string, since: string): void => {
    const file = leaseFile(dir, runId);
    const lease: RunLease = { runId, host: hostname(), pid: process.pid, since, renewedAt: new Date().toISOString(), ttlMs: LEASE_TTL_MS };
    try {
      mkdirSync(join(dir, 'leases'), { recursive: true });
      // write then rename: a reader never sees a half-written lease
      writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(lease));
      renameSync(`${file}.${process.pid}.tmp`, file);
    } catch {
      // a lease is advice for `status`; the journal stays the truth
    }
  };
  return {
    hold(runId) {
      if (held.has(runId)) return;
      const since = new Date().toISOString();
      held.set(runId, since);
      write(runId, since);
      timer ??= setInterval(() => held.forEach((s, id) => write(id, s)), LEASE_RENEW_MS).unref();
    },
    release(runId) {
      if (!held.delete(runId)) return;
      rmSync(leaseFile(dir, runId), { force: true });
      if (held.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    abandon() {
      if (timer) clearInterval(timer);
      timer = undefined;
      held.clear();
    },
  };
}

/**
 * Whether a process of this host is alive (signal 0: exists, whether or not we may signal it).
 *
 * @example
 * ```ts
 * if (!isProcessAlive(lease.pid)) console.log('its holder is gone');
 * ```
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
