import type { RunEvent, RunObserver } from '@baton/core';
import type { RunRegistry } from '@baton/registry';
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directory of the event spool under a state directory. */
export const spoolDir = (stateDir: string): string => join(stateDir, 'events');

/**
 * A {@link RunObserver} that appends every event as one JSON line to
 * `<stateDir>/events/<runId>.jsonl`. Each event is a single `write(2)` on a file opened with
 * O_APPEND, so any number of CLI processes (runs, workers, approvers, the dashboard) can record
 * the same run without a lock and without owning the PGlite registry, which is single-process.
 *
 * @example
 * ```ts
 * const engine = createLocalEngine({ pipelines, observer: createSpoolObserver('.baton') });
 * ```
 */
export function createSpoolObserver(stateDir: string): RunObserver {
  const dir = spoolDir(stateDir);
  mkdirSync(dir, { recursive: true });
  return (event: RunEvent) => {
    appendFileSync(join(dir, `${safeName(event.runId)}.jsonl`), JSON.stringify(event) + '\n');
  };
}

/** How far each spool file has been ingested, in bytes. */
type Offsets = Record<string, number>;

/**
 * Applies the spooled events not yet in the registry, in file order, and remembers how far each
 * file was read (`offsets.json` beside the registry). Only complete lines are applied; a line a
 * writer is still appending waits for the next ingest. The offset is saved after the registry
 * committed the batch: a crash in between re-applies the same events in the same order, which
 * the registry's idempotent `applyAll` turns into the same rows. Returns the number of events applied.
 */
export async function ingestSpool(registry: RunRegistry, stateDir: string, offsetsFile: string): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(spoolDir(stateDir)).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return 0;
  }
  const offsets = readOffsets(offsetsFile);
  let applied = 0;
  for (const name of names.sort()) {
    const from = offsets[name] ?? 0;
    const chunk = readFrom(join(spoolDir(stateDir), name), from);
    const end = chunk.lastIndexOf(0x0a);
    if (end < 0) continue;
    const events = parseLines(chunk.subarray(0, end).toString('utf8'));
    if (events.length) await registry.applyAll(events);
    offsets[name] = from + end + 1;
    writeOffsets(offsetsFile, offsets);
    applied += events.length;
  }
  return applied;
}

/**
 * A registry whose every read first ingests the spool, so the dashboard always shows what the
 * CLI processes have recorded. Ingests are serialised; reads share one that is in progress.
 */
export function createSpooledRegistry(registry: RunRegistry, stateDir: string, offsetsFile: string): RunRegistry & { ingest(): Promise<number> } {
  let running: Promise<number> | undefined;
  const ingest = (): Promise<number> => {
    running ??= ingestSpool(registry, stateDir, offsetsFile).finally(() => (running = undefined));
    return running;
  };
  const fresh =
    <TArgs extends unknown[], TResult>(fn: (...args: TArgs) => Promise<TResult>) =>
    async (...args: TArgs): Promise<TResult> => {
      await ingest();
      return fn(...args);
    };
  return {
    ingest,
    apply: (e) => registry.apply(e),
    applyAll: (e) => registry.applyAll(e),
    listRuns: fresh((f) => registry.listRuns(f)),
    getRun: fresh((id: string) => registry.getRun(id)),
    runsInFlight: fresh((o) => registry.runsInFlight(o)),
    failuresByClass: fresh((o) => registry.failuresByClass(o)),
    usageByPipeline: fresh((o?: Parameters<RunRegistry['usageByPipeline']>[0]) => registry.usageByPipeline(o)),
    tokenUsage: fresh((o: Parameters<RunRegistry['tokenUsage']>[0]) => registry.tokenUsage(o)),
    pendingReviews: fresh(() => registry.pendingReviews()),
    getReview: fresh((runId: string, gate: string) => registry.getReview(runId, gate)),
    reviewDecisions: fresh((runId: string) => registry.reviewDecisions(runId)),
    close: () => registry.close(),
  };
}

/** The events of complete lines; a line that is not JSON (a torn write) is skipped, never fatal. */
function parseLines(text: string): RunEvent[] {
  const out: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as RunEvent);
    } catch {
      process.emitWarning(`baton: skipped an unreadable line of the run event spool: ${line.slice(0, 80)}`);
    }
  }
  return out;
}

function readFrom(file: string, from: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= from) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function readOffsets(file: string): Offsets {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Offsets;
  } catch {
    return {};
  }
}

function writeOffsets(file: string, offsets: Offsets): void {
  writeFileSync(file + '.tmp', JSON.stringify(offsets));
  renameSync(file + '.tmp', file);
}

function safeName(runId: string): string {
  return runId.replace(/[^\w.-]/g, '_');
}
