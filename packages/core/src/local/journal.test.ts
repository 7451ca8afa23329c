import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileJournalStore, createMemoryJournalStore, foldJournal, type JournalEntry } from './journal.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'baton-journal-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const err = (code: string) => ({ code, message: code, retryable: false });
const t = (s: number): string => new Date(s * 1000).toISOString();

/** A run that completed `a`, failed `b` twice (one retry), opened two gates and ended failed. */
const failedRun: JournalEntry[] = [
  { t: 'start', runId: 'r', pipeline: 'p', input: { x: 1 }, at: t(1) },
  { t: 'attempt', path: 'a', stage: 's', attempt: 1, at: t(2) },
  { t: 'task', path: 'a', stage: 's', hash: 'h-a', attempt: 1, ok: true, output: 'A', startedAt: t(2), at: t(3) },
  { t: 'timer', key: 'wait', dueAt: 5000 },
  { t: 'review', path: 'ok-gate', gate: 'ok-gate', tokenHash: 'th1', payload: {}, createdAt: t(4), expiresAt: t(100) },
  { t: 'decision', path: 'ok-gate', gate: 'ok-gate', decision: 'approved', reviewer: 'alice', at: t(5) },
  { t: 'attempt', path: 'b', stage: 's', attempt: 1, at: t(6) },
  { t: 'task', path: 'b', stage: 's', hash: 'h-b', attempt: 1, ok: false, error: err('ThrottlingException'), startedAt: t(6), at: t(7) },
  { t: 'retry', path: 'b', attempt: 1, code: 'ThrottlingException', delayMs: 10, maxDelayMs: 20 },
  { t: 'timer', key: 'b#1:retry', dueAt: 7010 },
  { t: 'attempt', path: 'b', stage: 's', attempt: 2, at: t(8) },
  { t: 'task', path: 'b', stage: 's', hash: 'h-b', attempt: 2, ok: false, error: err('ThrottlingException'), startedAt: t(8), at: t(9) },
  { t: 'review', path: 'no-gate', gate: 'no-gate', tokenHash: 'th2', payload: {}, createdAt: t(9), expiresAt: t(10) },
  { t: 'decision', path: 'no-gate', gate: 'no-gate', decision: 'timeout', at: t(10) },
  { t: 'end', ok: false, error: err('ThrottlingException'), at: t(11) },
];

describe('foldJournal', () => {
  it('folds every entry kind into the run state', () => {
    const s = foldJournal(failedRun);
    expect(s.start?.input).toEqual({ x: 1 });
    expect([...s.completed]).toEqual([['a', { hash: 'h-a', output: 'A' }]]);
    expect([...s.failedAttempts.keys()]).toEqual(['b#1', 'b#2']);
    expect(s.attempts.map((a) => `${a.path}#${a.attempt}:${a.ok}`)).toEqual(['a#1:true', 'b#1:false', 'b#2:false']);
    expect(s.running.size).toBe(0);
    expect(s.retries).toHaveLength(1);
    expect([...s.timers]).toEqual([
      ['wait', 5000],
      ['b#1:retry', 7010],
    ]);
    expect([...s.reviews.keys()]).toEqual(['ok-gate', 'no-gate']);
    expect([...s.decisions.keys()]).toEqual(['ok-gate', 'no-gate']);
    expect(s.end?.ok).toBe(false);
    expect(s.updatedAt).toBe(t(11));
  });

  it('an attempt without its task entry is running (it was in flight at a crash)', () => {
    const s = foldJournal(failedRun.slice(0, 7));
    expect([...s.running.keys()]).toEqual(['b#1']);
    expect(s.end).toBeUndefined();
  });

  it('redrive forgets failures, in-flight attempts, retry timers, unapproved gates and the end, and keeps the rest', () => {
    const s = foldJournal([...failedRun, { t: 'attempt', path: 'c', attempt: 1, at: t(11) }, { t: 'redrive', at: t(12) }]);
    expect(s.end).toBeUndefined();
    expect(s.failedAttempts.size).toBe(0);
    expect(s.running.size).toBe(0);
    expect([...s.timers.keys()]).toEqual(['wait']);
    expect([...s.decisions.keys()]).toEqual(['ok-gate']);
    expect([...s.reviews.keys()]).toEqual(['ok-gate']);
    expect([...s.completed.keys()]).toEqual(['a']);
    expect(s.attempts).toHaveLength(3);
    expect(s.updatedAt).toBe(t(12));
  });

  it('entries after a redrive apply again: a new success completes the failed step, a new end ends the run', () => {
    const s = foldJournal([
      ...failedRun,
      { t: 'redrive', at: t(12) },
      { t: 'task', path: 'b', stage: 's', hash: 'h-b', attempt: 1, ok: true, output: 'B', startedAt: t(13), at: t(14) },
      { t: 'end', ok: true, output: { done: true }, at: t(15) },
    ]);
    expect(s.completed.get('b')).toEqual({ hash: 'h-b', output: 'B' });
    expect(s.failedAttempts.size).toBe(0);
    expect(s.end).toMatchObject({ ok: true, output: { done: true } });
  });

  it('a rejected gate is forgotten by redrive so that it opens again', () => {
    const s = foldJournal([
      failedRun[0]!,
      { t: 'review', path: 'g', gate: 'g', tokenHash: 'x', payload: {}, createdAt: t(1), expiresAt: t(9) },
      { t: 'decision', path: 'g', gate: 'g', decision: 'rejected', at: t(2) },
      { t: 'end', ok: false, error: err('ApprovalRejected'), at: t(3) },
      { t: 'redrive', at: t(4) },
    ]);
    expect(s.reviews.size).toBe(0);
    expect(s.decisions.size).toBe(0);
  });
});

describe.each([
  ['memory', () => createMemoryJournalStore()],
  ['file', () => createFileJournalStore(tempDir())],
])('%s journal store', (_name, make) => {
  it('appends and reads back per run, listing run ids', () => {
    const store = make();
    store.append('r1', failedRun[0]!);
    store.append('r1', failedRun[1]!);
    store.append('r2', failedRun[0]!);
    expect(store.read('r1')).toEqual([failedRun[0], failedRun[1]]);
    expect(store.read('none')).toEqual([]);
    expect(store.runIds().sort()).toEqual(['r1', 'r2']);
  });

  it('hands out copies: changing what was read or appended does not change the journal', () => {
    const store = make();
    const entry: JournalEntry = { t: 'start', runId: 'r', pipeline: 'p', input: { x: 1 }, at: t(1) };
    store.append('r', entry);
    (entry.input as { x: number }).x = 2;
    (store.read('r')[0] as { input: { x: number } }).input.x = 3;
    expect(store.read('r')[0]).toMatchObject({ input: { x: 1 } });
  });
});

describe('file journal store', () => {
  it('skips a torn last line left by a crash mid-write', () => {
    const dir = tempDir();
    const store = createFileJournalStore(dir);
    store.append('r', failedRun[0]!);
    store.append('r', failedRun[1]!);
    appendFileSync(join(dir, 'runs', 'r.jsonl'), JSON.stringify(failedRun[2]).slice(0, 25));
    const again = createFileJournalStore(dir);
    expect(again.read('r')).toEqual([failedRun[0], failedRun[1]]);
    expect(foldJournal(again.read('r')).running.size).toBe(1);
  });

  it('an entry appended after a torn line (by the recovering process) is not lost', () => {
    const dir = tempDir();
    createFileJournalStore(dir).append('r', failedRun[0]!);
    appendFileSync(join(dir, 'runs', 'r.jsonl'), '{"t":"task","pa');
    const recovering = createFileJournalStore(dir);
    recovering.append('r', failedRun[1]!);
    recovering.append('r', failedRun[2]!);
    expect(recovering.read('r')).toEqual([failedRun[0], failedRun[1], failedRun[2]]);
    expect(
      readFileSync(join(dir, 'runs', 'r.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean),
    ).toHaveLength(4);
  });

  it('refuses a run id with path characters instead of rewriting it into a file name', () => {
    const dir = tempDir();
    const store = createFileJournalStore(dir);
    expect(() => store.append('../evil/run', failedRun[0]!)).toThrow(/invalid run id/);
    expect(() => store.read('../evil/run')).toThrow(/invalid run id/);
    expect(existsSync(join(dir, 'runs', '.._evil_run.jsonl'))).toBe(false);
  });
});
