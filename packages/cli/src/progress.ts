import type { RunEvent, RunObserver } from '@baton/core';
import cliProgress from 'cli-progress';

/** Live counts shown during a run and in the summary. */
export interface RunCounts {
  attempts: number;
  retries: number;
  repairs: number;
  failures: number;
  held: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
}

/** A progress display fed by run events. */
export interface ProgressDisplay {
  observer: RunObserver;
  counts: RunCounts;
  /** Prints a line without breaking the bars. */
  log(line: string): void;
  /** Stops drawing (before prompting, and at the end). */
  stop(): void;
  /** Names the items of a map (`sections[3]` → `efficacy-results`) once they are known. */
  setItemLabels(mapId: string, labels: readonly string[]): void;
}

const TOP = /^[^/[\]]+$/;
const ITEM = /^([^/[\]]+)\[(\d+)\]\/(.+)$/;

/**
 * Progress bars per top-level step and per map item when attached to a terminal; plain lines
 * otherwise (CI logs). Counts retries, repairs, failed attempts and sections held for review.
 */
export function createProgress(options: { tty: boolean; out?: NodeJS.WritableStream }): ProgressDisplay {
  const out = options.out ?? process.stderr;
  const counts: RunCounts = { attempts: 0, retries: 0, repairs: 0, failures: 0, held: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0 };
  const countLine = (): string => `retries ${counts.retries} · repairs ${counts.repairs} · failed attempts ${counts.failures} · held ${counts.held}`;
  if (!options.tty) {
    const line = (s: string): void => void out.write(s + '\n');
    return {
      counts,
      log: line,
      stop: () => undefined,
      setItemLabels: () => undefined,
      observer: (e) => {
        tally(counts, e);
        const text = plainLine(e);
        if (text) line(text + (e.type === 'retry-scheduled' || (e.type === 'attempt-finished' && e.status === 'failed') ? `  [${countLine()}]` : ''));
      },
    };
  }
  const multibar = new cliProgress.MultiBar(
    {
      format: ' {name} {bar} {value}/{total} {status}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      stream: out as NodeJS.WriteStream,
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const summary = multibar.create(1, 0, { name: pad('counts'), status: countLine() }, { format: ' {name} {status}' });
  const steps = new Map<string, { bar: cliProgress.SingleBar; done: number; total: number }>();
  const items = new Map<string, cliProgress.SingleBar>();
  const stepBar = (id: string): { bar: cliProgress.SingleBar; done: number; total: number } => {
    let s = steps.get(id);
    if (!s) {
      s = { bar: multibar.create(1, 0, { name: pad(id), status: 'running' }), done: 0, total: 1 };
      steps.set(id, s);
    }
    return s;
  };
  let stopped = false;
  const labels = new Map<string, readonly string[]>();
  const itemName = (mapId: string, index: string): string => pad(`  ${labels.get(mapId)?.[Number(index)] ?? `${mapId}[${index}]`}`);
  return {
    counts,
    setItemLabels: (mapId, list) => {
      labels.set(mapId, list);
      for (const [key, bar] of items) {
        const m = /^(.+)\[(\d+)\]$/.exec(key);
        if (m && m[1] === mapId) bar.update({ name: itemName(mapId, m[2]!) });
      }
    },
    log: (s) => (stopped ? void out.write(s + '\n') : multibar.log(s + '\n')),
    stop: () => {
      if (!stopped) multibar.stop();
      stopped = true;
    },
    observer: (e) => {
      tally(counts, e);
      if (stopped) {
        // After a prompt the bars are gone: keep reporting top-level steps as plain lines.
        const text = plainLine(e);
        if (text && !text.startsWith('  ')) out.write(text + '\n');
        return;
      }
      summary.update(0, { status: countLine() });
      if (e.type === 'step-started' && TOP.test(e.stepPath)) stepBar(e.stepPath);
      if (e.type === 'step-finished' && TOP.test(e.stepPath)) {
        const s = stepBar(e.stepPath);
        s.bar.setTotal(s.total);
        s.bar.update(s.total, { status: e.status === 'succeeded' ? 'done' : `FAILED ${e.error?.code ?? ''}` });
      }
      const m = 'stepPath' in e ? ITEM.exec(e.stepPath) : null;
      if (!m) return;
      const [, mapId, index, inner] = m as unknown as [string, string, string, string];
      const itemKey = `${mapId}[${index}]`;
      const s = stepBar(mapId);
      if (!items.has(itemKey)) {
        s.total = Math.max(s.total, Number(index) + 1);
        s.bar.setTotal(s.total);
        if (mapId === 'sections') items.set(itemKey, multibar.create(4, 0, { name: itemName(mapId, index), status: 'queued' }));
        else items.set(itemKey, s.bar);
      }
      const bar = items.get(itemKey)!;
      if (bar === s.bar) {
        if (e.type === 'attempt-finished') {
          s.done += 1;
          s.bar.update(s.done, { status: e.status === 'failed' ? `last: ${e.error?.code ?? 'failed'}` : 'running' });
        }
        return;
      }
      const stage = inner.split('/').pop()!.replace(/@\d+$/, '');
      if (e.type === 'attempt-started') bar.update(phase(stage), { status: `${stage}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}` });
      if (e.type === 'retry-scheduled') bar.update({ status: `${stage}: ${e.code}, retry in ${e.delayMs} ms` });
      if (e.type === 'attempt-finished' && e.status === 'failed') bar.update({ status: `${stage}: ${e.error?.code ?? 'failed'}` });
      if (e.type === 'attempt-finished' && e.status === 'succeeded' && (stage === 'validate' || stage === 'repair' || stage === 'flag')) {
        bar.update(4, { status: stage === 'flag' ? 'held for review' : stage === 'repair' ? 'repaired' : 'valid' });
        s.done += 1;
        s.bar.update(s.done, { status: 'running' });
      }
    },
  };
}

function phase(stage: string): number {
  return stage === 'generate' ? 1 : stage === 'validate' ? 2 : 3;
}

function tally(c: RunCounts, e: RunEvent): void {
  if (e.type === 'attempt-started') {
    c.attempts += 1;
    if (e.stage === 'repair') c.repairs += 1;
    if (e.stage === 'flag-for-review') c.held += 1;
  }
  if (e.type === 'retry-scheduled') c.retries += 1;
  if (e.type === 'attempt-finished') {
    if (e.status === 'failed') c.failures += 1;
    if (e.metrics) {
      c.modelCalls += e.metrics.modelCalls;
      c.inputTokens += e.metrics.inputTokens;
      c.outputTokens += e.metrics.outputTokens;
    }
  }
}

function plainLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run-started':
      return `run ${e.runId} started (${e.pipeline} on ${e.engine})`;
    case 'attempt-started':
      return `  ${e.stepPath}: ${e.stage} attempt ${e.attempt}`;
    case 'attempt-finished':
      return e.status === 'failed' ? `  ${e.stepPath}: FAILED ${e.error?.code}: ${e.error?.message}` : `  ${e.stepPath}: ok`;
    case 'retry-scheduled':
      return `  ${e.stepPath}: ${e.code}, retry in ${e.delayMs} ms`;
    case 'step-finished':
      return TOP.test(e.stepPath) ? `[${e.stepPath}] ${e.status}${e.error ? ` (${e.error.code})` : ''}` : undefined;
    case 'review-opened':
      return `review gate "${e.gate}" opened`;
    case 'review-decided':
      return `review gate "${e.gate}" ${e.decision}${e.reviewer ? ` by ${e.reviewer}` : ''}`;
    case 'run-finished':
      return `run ${e.runId} ${e.status}${e.error ? `: ${e.error.code}: ${e.error.message}` : ''}`;
    default:
      return undefined;
  }
}

function pad(s: string): string {
  return s.length >= 20 ? s.slice(0, 20) : s + ' '.repeat(20 - s.length);
}
