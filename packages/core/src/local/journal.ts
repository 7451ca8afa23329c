import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SectionVerdict } from '../engine.js';
import { StageError, type SerializedError } from '../errors.js';
import { assertRunId, pathUnder } from '../run-id.js';
import type { InvocationMetrics } from '../stage.js';
import type { PipelinePin } from '../pipeline-versions.js';

/** One line of a run's journal. The journal is append-only; state is the fold of its lines. */
export type JournalEntry =
  | {
      t: 'start';
      runId: string;
      pipeline: string;
      input: unknown;
      at: string;
      /** The pipeline version, IR digest and stage versions the run is pinned to; absent in journals older than pins. */
      pin?: PipelinePin;
    }
  | { t: 'attempt'; path: string; stage?: string; attempt: number; at: string }
  | {
      t: 'task';
      path: string;
      stage?: string;
      /** The version of the stage that ran; a redrive reuses the output only while the stage keeps it. */
      stageVersion?: number;
      hash: string;
      attempt: number;
      ok: boolean;
      output?: unknown;
      error?: SerializedError;
      metrics?: InvocationMetrics;
      startedAt: string;
      at: string;
    }
  | { t: 'retry'; path: string; attempt: number; code: string; delayMs: number; maxDelayMs: number; at?: string }
  | { t: 'timer'; key: string; dueAt: number }
  | {
      t: 'review';
      path: string;
      gate: string;
      tokenHash: string;
      reviewer?: string;
      sections?: string[];
      payload: unknown;
      createdAt: string;
      expiresAt: string;
      /** Its notice's delivery is journaled (`noticed`): without that entry, the notice was lost. Absent in older journals. */
      noticeRecorded?: true;
    }
  | {
      t: 'decision';
      path: string;
      gate: string;
      decision: 'approved' | 'rejected' | 'timeout';
      reviewer?: string;
      comment?: string;
      sections?: Record<string, SectionVerdict>;
      at: string;
    }
  /** The notice of the review whose token hash this is was delivered (the notifier returned). */
  | { t: 'noticed'; path: string; tokenHash: string; at: string }
  | { t: 'end'; ok: boolean; output?: unknown; error?: SerializedError; at: string }
  | {
      t: 'redrive';
      at: string;
      /** The stage versions the redrive runs with: outputs of stages whose version changed are dropped, so they run again. */
      stages?: Record<string, number>;
    };

/** The state of a run folded from its journal. */
export interface JournalState {
  start?: Extract<JournalEntry, { t: 'start' }>;
  /** The run's pin now: the start's, with the stage versions of the last redrive. */
  pin?: PipelinePin;
  completed: Map<string, { hash: string; output: unknown; stage?: string; stageVersion?: number }>;
  failedAttempts: Map<string, SerializedError>;
  attempts: Extract<JournalEntry, { t: 'task' }>[];
  running: Map<string, Extract<JournalEntry, { t: 'attempt' }>>;
  retries: Extract<JournalEntry, { t: 'retry' }>[];
  timers: Map<string, number>;
  reviews: Map<string, Extract<JournalEntry, { t: 'review' }>>;
  /** Token hashes whose notice was delivered, by gate step path. */
  noticed: Map<string, Set<string>>;
  decisions: Map<string, Extract<JournalEntry, { t: 'decision' }>>;
  end?: Extract<JournalEntry, { t: 'end' }>;
  updatedAt: string;
}

/** Folds journal entries into state. A `redrive` entry forgets failures so they run again. */
export function foldJournal(entries: JournalEntry[]): JournalState {
  const s: JournalState = {
    completed: new Map(),
    failedAttempts: new Map(),
    attempts: [],
    running: new Map(),
    retries: [],
    timers: new Map(),
    reviews: new Map(),
    noticed: new Map(),
    decisions: new Map(),
    updatedAt: '',
  };
  for (const e of entries) apply(s, e);
  return s;
}

/** Applies one entry to a folded state. */
export function apply(s: JournalState, e: JournalEntry): void {
  switch (e.t) {
    case 'start':
      s.start = e;
      if (e.pin) s.pin = e.pin;
      s.updatedAt = e.at;
      break;
    case 'attempt':
      s.running.set(`${e.path}#${e.attempt}`, e);
      s.updatedAt = e.at;
      break;
    case 'task':
      s.running.delete(`${e.path}#${e.attempt}`);
      s.attempts.push(e);
      if (e.ok) {
        s.completed.set(e.path, {
          hash: e.hash,
          output: e.output,
          ...(e.stage === undefined || e.stageVersion === undefined ? {} : { stage: e.stage, stageVersion: e.stageVersion }),
        });
      } else s.failedAttempts.set(`${e.path}#${e.attempt}`, e.error!);
      s.updatedAt = e.at;
      break;
    case 'retry':
      s.retries.push(e);
      break;
    case 'timer':
      s.timers.set(e.key, e.dueAt);
      break;
    case 'review':
      s.reviews.set(e.path, e);
      break;
    case 'noticed': {
      const hashes = s.noticed.get(e.path) ?? new Set<string>();
      hashes.add(e.tokenHash);
      s.noticed.set(e.path, hashes);
      break;
    }
    case 'decision':
      s.decisions.set(e.path, e);
      s.updatedAt = e.at;
      break;
    case 'end':
      s.end = e;
      s.updatedAt = e.at;
      break;
    case 'redrive':
      if (e.stages) {
        const stages = e.stages;
        for (const [path, done] of [...s.completed]) {
          if (done.stage !== undefined && done.stageVersion !== undefined && stages[done.stage] !== done.stageVersion) s.completed.delete(path);
        }
        if (s.pin) s.pin = { ...s.pin, stages };
      }
      s.failedAttempts.clear();
      s.running.clear();
      for (const key of [...s.timers.keys()]) if (key.endsWith(':retry')) s.timers.delete(key);
      for (const [path, d] of [...s.decisions]) {
        if (d.decision !== 'approved') {
          s.decisions.delete(path);
          s.reviews.delete(path);
        }
      }
      delete s.end;
      s.updatedAt = e.at;
      break;
  }
}

/** Where journals live: a directory of files (durable) or memory (tests). */
export interface JournalStore {
  append(runId: string, entry: JournalEntry): void;
  read(runId: string): JournalEntry[];
  runIds(): string[];
}

/** Journals in memory: fast, and gone with the process. */
export function createMemoryJournalStore(): JournalStore {
  const runs = new Map<string, JournalEntry[]>();
  return {
    append(runId, entry) {
      const list = runs.get(runId) ?? [];
      list.push(structuredClone(entry));
      runs.set(runId, list);
    },
    read: (runId) => structuredClone(runs.get(runId) ?? []),
    runIds: () => [...runs.keys()],
  };
}

/**
 * Journals as JSON-lines files, one per run. Each entry is one `write` in append mode, so a
 * process killed with SIGKILL leaves at worst a torn last line, which reading skips.
 */
export function createFileJournalStore(dir: string): JournalStore {
  const runsDir = join(dir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  // Run ids are file names as they are: rewriting one (`rep 1` -> `rep_1`) would give two runs one journal.
  const file = (runId: string): string => pathUnder(runsDir, `${assertRunId(runId)}.jsonl`);
  const healed = new Set<string>();
  return {
    append(runId, entry) {
      const f = file(runId);
      // The first append of this process to a file torn by a crash starts a new line; otherwise
      // the entry would be glued to the torn one and skipped with it.
      const lead = healed.has(f) || !endsTorn(f) ? '' : '\n';
      healed.add(f);
      appendFileSync(f, lead + JSON.stringify(entry) + '\n');
    },
    read(runId) {
      const f = file(runId);
      if (!existsSync(f)) return [];
      const out: JournalEntry[] = [];
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          out.push(JSON.parse(line) as JournalEntry);
        } catch {
          // a torn last line from a crash mid-write: the entry never happened
        }
      }
      // a file system that ignores case (macOS, Windows) gives `Rep1` the file of `rep1`
      const first = out[0];
      if (first?.t === 'start' && first.runId !== runId && first.runId.toLowerCase() === runId.toLowerCase()) {
        throw new StageError(
          'InvalidInput',
          `run id "${runId}" names the journal of run "${first.runId}" on this file system, which ignores case: choose another id`,
        );
      }
      return out;
    },
    runIds: () =>
      readdirSync(runsDir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => f.slice(0, -'.jsonl'.length)),
  };
}

/** Whether a journal file exists and its last byte is not a newline (a write torn by a crash). */
function endsTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
