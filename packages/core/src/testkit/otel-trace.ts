import type { Engine, ReviewNotice, ReviewNotifier } from '../engine.js';
import type { RunOutcome } from '../interpreter/types.js';
import { createProbeDir } from './probe.js';

/** What {@link spanTree} reads of a finished span: the fields of the SDK's `ReadableSpan` it needs. */
export interface FinishedSpanLike {
  name: string;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string } | undefined;
  attributes: Record<string, unknown>;
  status: { code: number };
}

/** The sections of the tracing scenario's run. */
export const KIT_TRACED_SECTIONS = ['intro', 'results'];

/**
 * The tracing scenario: a notifier to give the engine, and `run`, which starts `kit-traced`,
 * approves its gate as soon as it is pending and waits for the outcome.
 */
export function createTracedScenario(): { notifier: ReviewNotifier; run(engine: Engine, timeoutMs?: number): Promise<{ runId: string; outcome: RunOutcome }> } {
  const notices = new Map<string, ReviewNotice>();
  return {
    notifier: (n) => {
      notices.set(n.runId, n);
    },
    async run(engine, timeoutMs = 60_000) {
      const { runId } = await engine.start('kit-traced', { probe: createProbeDir(), sections: KIT_TRACED_SECTIONS });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const notice = notices.get(runId);
        if (notice && (await engine.status(runId)).pendingReviews.some((r) => r.gate === 'review')) {
          await engine.approve(runId, 'review', { token: notice.token, reviewer: 'kit' });
          break;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for the gate of ${runId}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return { runId, outcome: await engine.result(runId, { timeoutMs }) };
    },
  };
}

/**
 * A span tree as text, one line per span, indented under its parent and sorted, so that two
 * engines' traces of one run compare with `toEqual`: `name stepPath #attempt errorCode`. Spans whose
 * parent was not recorded are roots; `traceIds` lists the distinct trace ids.
 */
export function spanTree(spans: readonly FinishedSpanLike[]): { traceIds: string[]; tree: string[] } {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, FinishedSpanLike[]>();
  for (const s of spans) {
    const parent = s.parentSpanContext && ids.has(s.parentSpanContext.spanId) ? s.parentSpanContext.spanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const label = (s: FinishedSpanLike): string =>
    [
      s.name,
      s.attributes['baton.step.path'],
      s.attributes['baton.attempt'] === undefined ? undefined : `#${String(s.attributes['baton.attempt'])}`,
      s.attributes['baton.error.code'],
    ]
      .filter((p) => p !== undefined)
      .join(' ');
  const tree: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    const level = (children.get(parent) ?? []).map((s) => ({ s, text: label(s) })).sort((a, b) => a.text.localeCompare(b.text));
    for (const { s, text } of level) {
      tree.push(`${'  '.repeat(depth)}${text}`);
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return { traceIds: [...new Set(spans.map((s) => s.spanContext().traceId))], tree };
}

/** The tree {@link spanTree} gives of the tracing scenario's run, on every engine. */
export const KIT_TRACED_TREE = [
  'run',
  '  review review review',
  '  stage kit-flaky sections[0]/draft #1 ThrottlingException',
  '  stage kit-flaky sections[0]/draft #2',
  '  stage kit-flaky sections[1]/draft #1 ThrottlingException',
  '  stage kit-flaky sections[1]/draft #2',
  '  stage kit-step plan #1',
  '  stage kit-step publish #1',
];
