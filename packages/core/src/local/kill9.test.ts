import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../interpreter/types.js';
import { createProbeDir, readProbe, startCounts, type ProbeEvent } from '../testkit/probe.js';
import { createLocalEngine } from './engine.js';
import { createFileJournalStore, foldJournal } from './journal.js';

/*
 * Real crashes: a child Node process runs the local engine over a file journal and is killed
 * with SIGKILL; another child process resumes the run from the journal.
 */

const FIXTURE = fileURLToPath(new URL('./kill9.fixture.ts', import.meta.url));
const STAGES = Array.from({ length: 8 }, (_, i) => `s${i + 1}`);
const RUN_ID = 'kill9';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function child(args: string[]): {
  proc: ChildProcess;
  output: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { proc, output };
}

async function until<T>(what: string, probe: () => T | undefined, proc: ChildProcess, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (proc.exitCode !== null) throw new Error(`child exited (${proc.exitCode}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function kill(proc: ChildProcess, output: ReturnType<typeof child>['output']): Promise<void> {
  proc.kill('SIGKILL');
  const result = await output;
  expect(result.signal).toBe('SIGKILL');
  expect(result.stdout).not.toContain('finished before the kill');
}

function outcomeOf(stdout: string): RunOutcome {
  const line = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { outcome?: RunOutcome })
    .find((l) => l.outcome);
  if (!line?.outcome) throw new Error(`no outcome in child output: ${stdout}`);
  return line.outcome;
}

const ends = (events: ProbeEvent[]): number => events.filter((e) => e.event === 'end').length;

describe('local engine under kill -9', () => {
  for (const k of [1, 4]) {
    it(`killed after ${k} of 8 stages completed, recovered by another process: completed stages never run again`, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-kill9-'));
      dirs.push(dir);
      const probe = createProbeDir();
      dirs.push(probe);

      const first = child(['start', dir, probe, 'sequence']);
      await until(`${k} completed stages`, () => (ends(readProbe(probe)) >= k ? true : undefined), first.proc);
      // kill mid-way through the next stage, while it is in flight
      await new Promise((r) => setTimeout(r, 80));
      await kill(first.proc, first.output);

      const journaled = foldJournal(createFileJournalStore(dir).read(RUN_ID));
      const completedBeforeKill = [...journaled.completed.keys()];
      expect(completedBeforeKill.length).toBeGreaterThanOrEqual(k);
      expect(completedBeforeKill.length).toBeLessThan(STAGES.length);
      expect(completedBeforeKill).toEqual(STAGES.slice(0, completedBeforeKill.length));
      expect(journaled.end).toBeUndefined();
      const startsBeforeKill = startCounts(readProbe(probe));

      const second = child(['recover', dir]);
      const result = await second.output;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(JSON.stringify({ resumed: [RUN_ID] }));
      const outcome = outcomeOf(result.stdout);
      expect(outcome.status).toBe('succeeded');
      expect((outcome as { output: Record<string, { value: number }> }).output.s8!.value).toBe(8);

      const events = readProbe(probe);
      const counts = startCounts(events);
      for (const s of completedBeforeKill) expect(counts.get(s), `${s} completed before the kill`).toBe(1);
      const rerun = STAGES.filter((s) => (counts.get(s) ?? 0) > 1);
      expect(rerun.length).toBeLessThanOrEqual(1);
      // only the stage in flight at the kill may have run twice
      for (const s of rerun) expect(startsBeforeKill.get(s)).toBe(1);
      for (const s of STAGES) expect(counts.get(s) ?? 0).toBeGreaterThanOrEqual(1);
      expect(new Set(events.map((e) => e.pid)).size).toBe(2);
    });
  }

  it('killed while waiting at an approval gate, approved from another process: the run resumes and completes', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-kill9-'));
    dirs.push(dir);
    const probe = createProbeDir();
    dirs.push(probe);

    const first = child(['start', dir, probe, 'gated']);
    await until('the review notice', () => (existsSync(join(dir, 'token.json')) ? true : undefined), first.proc);
    await kill(first.proc, first.output);

    // a third party reading the same journal sees the run waiting at the gate
    const observer = createLocalEngine({ pipelines: [], dir });
    const waiting = await observer.status(RUN_ID);
    expect(waiting.status).toBe('waiting');
    expect(waiting.pendingReviews.map((r) => [r.gate, r.payload])).toEqual([['review', { value: 1 }]]);
    await observer.close();

    const second = child(['approve', dir]);
    const result = await second.output;
    expect(result.code, result.stderr).toBe(0);
    const outcome = outcomeOf(result.stdout);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      output: { before: { value: 1 }, review: { approved: true, reviewer: 'bob', comment: 'ok from another process', sections: {} }, after: { value: 2 } },
    });
    const counts = startCounts(readProbe(probe));
    expect(Object.fromEntries(counts)).toEqual({ before: 1, after: 1 });
    // `before` ran in the killed process, `after` in the approving one
    const pidOf = (key: string): number | undefined => readProbe(probe).find((e) => e.key === key)?.pid;
    expect(pidOf('before')).not.toBe(pidOf('after'));
  });
});
