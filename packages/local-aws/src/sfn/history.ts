import type { PreparedDefinition } from './definition.js';
import { readSimplePath } from './definition.js';

/** One execution history event, in GetExecutionHistory's shape (details under `<type>EventDetails`). */
export interface HistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** An execution's history: ids from 1, each event pointing at the previous one of its thread (the execution, or a Map iteration). */
export class History {
  readonly events: HistoryEvent[] = [];
  private readonly last = new Map<string, number>();

  /** Appends an event of `type` with its details; returns its id. */
  add(type: string, details?: Record<string, unknown>, thread = 'root', previous?: number): number {
    const id = this.events.length + 1;
    const previousEventId = previous ?? this.last.get(thread) ?? this.last.get('root') ?? 0;
    this.events.push({ timestamp: new Date(), type, id, previousEventId, ...(details ? { [detailsKey(type)]: details } : {}) });
    this.last.set(thread, id);
    return id;
  }

  /** The id of the last event of `thread`. */
  lastOf(thread: string): number | undefined {
    return this.last.get(thread);
  }
}

/** What one attempt (the start, or a redrive) learnt, for the next redrive to skip what succeeded. */
export interface AttemptMemory {
  /** `name\ninput` of every state that exited (succeeded, or caught its error). */
  exits: Set<string>;
  /** `map\nindex\ninput` of every Map iteration that succeeded. */
  iterations: Set<string>;
  /** Final outcomes of Task state executions, in order, by `name\neffective input`. */
  outcomes: Map<string, TaskOutcome[]>;
}

/** How a Task state execution ended. */
export type TaskOutcome = { ok: true; result: unknown } | { ok: false; error: string; cause: string };

/** A state entered in this attempt, as the Task handlers and the event consumer share it. */
export interface Entered {
  name: string;
  type: string;
  thread: string;
  input: unknown;
  enteredAt: Date;
  /** Exited before the redrive with the same input: its events are left out of the history. */
  suppressed: boolean;
}

type InterpreterEvent = {
  type: string;
  timestamp: number;
  index?: number;
  input?: unknown;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string; type: string; input: unknown };
};

/**
 * Turns aws-local-stepfunctions' event log of one attempt into Step Functions history events
 * (`<Type>StateEntered/Exited`, MapStateStarted, MapIterationStarted/Succeeded/Failed,
 * MapStateSucceeded/Failed, ParallelStateStarted/Succeeded/Failed); the Task events (TaskScheduled,
 * TaskStarted, TaskSucceeded...) come from the Task handlers through {@link AttemptRecorder.task}.
 * In a redriven attempt, states and Map iterations that ended well in the previous attempt with
 * the same input add nothing, as AWS does not run them again.
 */
export class AttemptRecorder {
  readonly memory: AttemptMemory = { exits: new Set(), iterations: new Set(), outcomes: new Map() };
  private closed = false;
  private readonly open = new Map<string, Entered[]>();
  private readonly unclaimed = new Map<string, Entered[]>();
  private readonly iterationMap = new Map<number, string>();
  private readonly iterations = new Map<string, { key: string; suppressed: boolean; map: string; index: number; ended: boolean; aborted: boolean }>();
  private readonly suppressedMaps = new Map<string, number>();
  /** Maps with a failed iteration (an inline Map fails with its first failed iteration), until entered or retried again: an iteration the interpreter starts for one is not started in AWS. */
  private readonly failedMaps = new Set<string>();

  constructor(
    private readonly history: History,
    private readonly prepared: PreparedDefinition,
    private readonly previous: AttemptMemory | undefined,
  ) {}

  /** Stops recording: what an attempt's stragglers report after its end is not history. */
  close(): void {
    this.closed = true;
  }

  /** Records one interpreter event. */
  consume(e: InterpreterEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'StateEntered':
        return this.entered(e);
      case 'StateExited':
        return this.exited(e);
      case 'StateFailed': {
        const entry = this.open.get(this.key(e))?.[0];
        if (!entry || entry.suppressed || (entry.type !== 'Map' && entry.type !== 'Parallel')) return;
        // the interpreter stops a failed Map's other iterations without a word: AWS reports them aborted
        for (const it of this.iterations.values()) {
          if (it.map === entry.name && !it.ended) {
            it.ended = true;
            it.aborted = true;
            if (!it.suppressed) this.add('MapIterationAborted', { name: it.map, index: it.index }, `${it.map}#${it.index}`);
          }
        }
        if (entry.type === 'Map') this.failedMaps.add(entry.name);
        this.add(`${entry.type}StateFailed`, undefined, entry.thread);
        return;
      }
      case 'StateRetried':
        // a retried Map runs its items again
        if (e.state?.type === 'Map') this.failedMaps.delete(e.state.name);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return this.iteration(e);
    }
  }

  /**
   * Whether a Task of `thread` must not start: its Map iteration was aborted (its Map failed), or
   * started after its Map had failed (the interpreter still runs the items it had queued; AWS
   * starts no iteration of a failed Map).
   */
  aborted(thread: string): boolean {
    return this.iterations.get(thread)?.aborted ?? false;
  }

  /** Whether an entered Task state of `name` waits for its handler call to claim it. */
  hasUnclaimed(name: string): boolean {
    return (this.unclaimed.get(name)?.length ?? 0) > 0;
  }

  /** The entered Task state a handler call belongs to: the oldest one not claimed yet (a retry keeps the entry its first attempt claimed). */
  claim(name: string): Entered {
    return this.unclaimed.get(name)?.shift() ?? { name, type: 'Task', thread: 'root', input: null, enteredAt: new Date(), suppressed: false };
  }

  /** Records a Task event of `entry` (none for a suppressed one). */
  task(entry: Entered, type: string, details?: Record<string, unknown>): void {
    if (!this.closed && !entry.suppressed && !this.aborted(entry.thread)) this.add(type, details, entry.thread);
  }

  /** A suppressed Task that has to run after all (nothing recorded to answer it): its entry goes in the history now. */
  reveal(entry: Entered): void {
    if (!entry.suppressed) return;
    entry.suppressed = false;
    this.add('TaskStateEntered', { name: entry.name, input: json(entry.input), inputDetails: { truncated: false } }, entry.thread);
  }

  /** The outcomes of the previous attempt for a Task state execution, to answer it again. */
  recorded(key: string): TaskOutcome[] | undefined {
    return this.previous?.outcomes.get(key);
  }

  /** Remembers how a Task state execution ended. */
  outcome(key: string, outcome: TaskOutcome): void {
    const list = this.memory.outcomes.get(key) ?? [];
    list.push(outcome);
    this.memory.outcomes.set(key, list);
  }

  private entered(e: InterpreterEvent): void {
    const s = e.state!;
    const thread = this.threadOf(e);
    const inherited = this.iterations.get(thread)?.suppressed ?? false;
    const entry: Entered = {
      name: s.name,
      type: s.type,
      thread,
      input: s.input,
      enteredAt: new Date(e.timestamp),
      suppressed: inherited || (this.previous?.exits.has(stateKey(s.name, s.input)) ?? false),
    };
    const k = this.key(e);
    this.open.set(k, [...(this.open.get(k) ?? []), entry]);
    if (s.type === 'Task') this.unclaimed.set(s.name, [...(this.unclaimed.get(s.name) ?? []), entry]);
    if (s.type === 'Map' && entry.suppressed) this.suppressedMaps.set(s.name, (this.suppressedMaps.get(s.name) ?? 0) + 1);
    if (s.type === 'Map') this.failedMaps.delete(s.name);
    if (entry.suppressed) return;
    this.add(`${s.type}StateEntered`, { name: s.name, input: json(s.input), inputDetails: { truncated: false } }, thread);
    if (s.type === 'Parallel') this.add('ParallelStateStarted', undefined, thread);
    if (s.type === 'Map') {
      const def = this.prepared.states.get(s.name) ?? {};
      const input = readSimplePath(s.input, def.InputPath as string | undefined);
      const items = input.ok ? readSimplePath(input.value, def.ItemsPath as string | undefined) : input;
      this.add('MapStateStarted', items.ok && Array.isArray(items.value) ? { length: items.value.length } : {}, thread);
    }
  }

  private exited(e: InterpreterEvent): void {
    const s = e.state!;
    if (!this.aborted(this.threadOf(e))) this.memory.exits.add(stateKey(s.name, s.input));
    const entry = this.open.get(this.key(e))?.shift();
    if (s.type === 'Map' && entry?.suppressed) this.suppressedMaps.set(s.name, (this.suppressedMaps.get(s.name) ?? 1) - 1);
    if (!entry || entry.suppressed) return;
    // a caught Map or Parallel failure exits to the Catch's state: failed, not succeeded
    const last = this.history.events[(this.history.lastOf(entry.thread) ?? 0) - 1]?.type;
    if ((s.type === 'Map' || s.type === 'Parallel') && last !== `${s.type}StateFailed`) this.add(`${s.type}StateSucceeded`, undefined, entry.thread);
    this.add(`${s.type}StateExited`, { name: s.name, output: json(s.output), outputDetails: { truncated: false } }, entry.thread);
  }

  private iteration(e: InterpreterEvent): void {
    const map = e.parentState!.name;
    const index = e.index!;
    const thread = `${map}#${index}`;
    if (e.type === 'MapIterationStarted') {
      const key = `${map}\n${index}\n${JSON.stringify(e.input ?? null)}`;
      this.iterationMap.set(index, map);
      if (this.failedMaps.has(map)) {
        // a straggler of a failed Map: not in the history, its Tasks refused (see aborted)
        this.iterations.set(thread, { key, suppressed: true, map, index, ended: true, aborted: true });
        return;
      }
      const suppressed = (this.suppressedMaps.get(map) ?? 0) > 0 || (this.previous?.iterations.has(key) ?? false);
      this.iterations.set(thread, { key, suppressed, map, index, ended: false, aborted: false });
      if (!suppressed) this.add('MapIterationStarted', { name: map, index }, thread, this.history.lastOf('root'));
      return;
    }
    const it = this.iterations.get(thread);
    // what an aborted iteration reports later (its refused Task's failure) is not history
    if (it?.aborted) return;
    if (it) it.ended = true;
    if (e.type === 'MapIterationFailed') this.failedMaps.add(map);
    if (e.type === 'MapIterationSucceeded' && it) this.memory.iterations.add(it.key);
    if (!it?.suppressed) this.add(e.type, { name: map, index }, thread);
  }

  private threadOf(e: InterpreterEvent): string {
    return e.index === undefined ? 'root' : `${this.iterationMap.get(e.index) ?? ''}#${e.index}`;
  }

  private key(e: InterpreterEvent): string {
    return `${this.threadOf(e)}\n${e.state!.name}`;
  }

  private add(type: string, details: Record<string, unknown> | undefined, thread: string, previous?: number): void {
    this.history.add(type, details, thread, previous);
  }
}

/** The identity of a state execution for redrive: its name and raw input. */
export function stateKey(name: string, input: unknown): string {
  return `${name}\n${JSON.stringify(input ?? null)}`;
}

/** JSON text of a value as the history holds it. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** `TaskScheduled` → `taskScheduledEventDetails`; every `<Type>StateEntered/Exited` shares `stateEntered/ExitedEventDetails`. */
function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
}
