import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One observation a conformance stage records: which stage, which key, which attempt, when. */
export interface ProbeEvent {
  event: 'start' | 'end' | 'blob-write' | 'received';
  stage: string;
  key: string;
  attempt: number;
  t: number;
  pid: number;
  data?: unknown;
}

/**
 * A probe is a directory shared by the test and the stages it observes, wherever they run
 * (another process, another worker). Events are appended to one file with O_APPEND writes,
 * so their order is the global order in which they happened.
 */
export function createProbeDir(): string {
  return mkdtempSync(join(tmpdir(), 'baton-probe-'));
}

/** Records one event in a probe directory. */
export function recordProbe(dir: string, event: Omit<ProbeEvent, 't' | 'pid'>): void {
  appendFileSync(join(dir, 'events.jsonl'), JSON.stringify({ ...event, t: Date.now(), pid: process.pid }) + '\n');
}

/** Reads every event recorded in a probe directory, in order. */
export function readProbe(dir: string): ProbeEvent[] {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeEvent);
}

/** Sets a named flag in the probe directory (stages read it to change behaviour, e.g. "fixed"). */
export function setProbeFlag(dir: string, flag: string): void {
  writeFileSync(join(dir, `flag-${flag}`), '1');
}

/** Whether a flag is set. */
export function hasProbeFlag(dir: string, flag: string): boolean {
  return existsSync(join(dir, `flag-${flag}`));
}

/** How many times each key started, from a probe's events. */
export function startCounts(events: ProbeEvent[], stage?: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) if (e.event === 'start' && (!stage || e.stage === stage)) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  return counts;
}

/** The most executions in flight at once, from start/end events. */
export function highWaterMark(events: ProbeEvent[], stage?: string): number {
  let now = 0;
  let max = 0;
  for (const e of events) {
    if (stage && e.stage !== stage) continue;
    if (e.event === 'start') max = Math.max(max, ++now);
    else if (e.event === 'end') now--;
  }
  return max;
}
