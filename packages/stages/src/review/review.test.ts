import { createMemoryBlobStore, type BlobStore } from '@baton/core';
import { invokeStage } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import type { PlanOutput } from '../plan.js';
import { applyReview } from './apply.js';
import { mergeRevisions } from './merge.js';
import { openReview } from './open.js';
import type { ReviewState } from './state.js';

const ids = ['synopsis', 'objectives', 'discussion', 'conclusions'];
const plan: PlanOutput = {
  reportTitle: 'T',
  template: 'clinical-study-report',
  templateVersion: 1,
  sections: ids.map((id) => ({
    sectionId: id,
    type: id,
    title: id.toUpperCase(),
    template: 'clinical-study-report',
    contextRefs: [],
    outputKey: `sections/run-1/${id}/generated.json`,
    missingSources: [],
  })),
  sectionIndex: ids.map((id) => ({ sectionId: id, title: id.toUpperCase() })),
  sources: [],
  rejectedSources: [],
};
const ok = (id: string, key = `sections/run-1/${id}/generated.json`) => ({
  status: 'succeeded' as const,
  output: { task: { sectionId: id }, check: { valid: true, outputKey: key, round: 0 } },
});
// synopsis and objectives valid, discussion failed validation, conclusions held by the safety check
const sections = [
  ok('synopsis'),
  ok('objectives'),
  {
    status: 'failed' as const,
    error: { code: 'ValidationFailed', message: 'still invalid', details: { errors: ['paragraphs.0: citation "x#p9" does not name a source paragraph'] } },
  },
  {
    status: 'succeeded' as const,
    output: {
      flagged: { status: 'needs-human-review' as const, reason: 'off-script' },
      safety: { code: 'SafetyCheckFailed', details: { matches: ['as an ai language model'] } },
    },
  },
];

async function call(
  stage: Parameters<typeof invokeStage>[0],
  input: unknown,
  blobs: BlobStore = createMemoryBlobStore(),
  now = Date.parse('2026-12-04T10:00:00Z'),
) {
  const r = await invokeStage(stage, input, { blobs, runId: 'run-1', stepPath: 'x', attempt: 1, clock: { now: () => now, sleep: async () => {} } });
  if (!r.ok) throw Object.assign(new Error(r.error.message), { error: r.error });
  return r.output;
}
const open = async () => (await call(openReview, { sectionIndex: plan.sectionIndex })) as ReviewState;
const decide = async (state: ReviewState, review: Record<string, unknown>) =>
  (await call(applyReview, { plan, sections, state, review: { approved: true, reviewer: 'dr.lee', comment: null, ...review } })) as ReviewState;

describe('the review loop stages', () => {
  it('open-review puts every section in the first round, nothing decided', async () => {
    expect(await open()).toEqual({ round: 0, pending: ids, decided: {}, sendBack: [], rounds: [], done: false });
  });

  it('a decision without verdicts approves the report as it stands: text approved, placeholders accepted as missing', async () => {
    const s = await decide(await open(), { comment: 'fine as is' });
    expect(s).toMatchObject({ round: 1, pending: [], sendBack: [], done: true });
    expect(Object.fromEntries(Object.entries(s.decided).map(([k, v]) => [k, v.verdict]))).toEqual({
      synopsis: 'approve',
      objectives: 'approve',
      discussion: 'accept-missing',
      conclusions: 'accept-missing',
    });
    expect(s.decided.discussion).toEqual({ verdict: 'accept-missing', reviewer: 'dr.lee', note: 'fine as is', round: 1, at: '2026-12-04T10:00:00.000Z' });
    expect(s.rounds).toEqual([
      expect.objectContaining({
        round: 1,
        reviewer: 'dr.lee',
        comment: 'fine as is',
        sections: expect.objectContaining({ synopsis: { verdict: 'approve', note: 'fine as is' } }),
      }),
    ]);
  });

  it('per-section verdicts: approve, send back (with note and findings), accept missing, and no verdict stays pending', async () => {
    const s = await decide(await open(), {
      sections: {
        synopsis: { verdict: 'approve' },
        objectives: { verdict: 'send-back', note: 'the efficacy table misses the 10 mg arm' },
        discussion: { verdict: 'send-back', note: 'retry please' },
      },
    });
    expect(s.done).toBe(false);
    expect(s.pending).toEqual(['objectives', 'discussion', 'conclusions']);
    expect(Object.keys(s.decided)).toEqual(['synopsis']);
    expect(s.sendBack.map((b) => [b.index, b.task.sectionId, b.task.outputKey, b.revision])).toEqual([
      [
        1,
        'objectives',
        'sections/run-1/objectives/review-1/generated.json',
        { round: 1, reviewer: 'dr.lee', note: 'the efficacy table misses the 10 mg arm', findings: [] },
      ],
      [
        2,
        'discussion',
        'sections/run-1/discussion/review-1/generated.json',
        { round: 1, reviewer: 'dr.lee', note: 'retry please', findings: ['paragraphs.0: citation "x#p9" does not name a source paragraph'] },
      ],
    ]);
    // the next round decides only what is pending; synopsis stays decided in round 1
    const next = await decide(s, {
      sections: {
        objectives: { verdict: 'approve' },
        discussion: { verdict: 'accept-missing', note: 'no data yet' },
        conclusions: { verdict: 'send-back', note: 'tone' },
      },
    });
    expect(next).toMatchObject({ round: 2, pending: ['conclusions'], done: false });
    expect(next.sendBack[0]!.revision.findings).toEqual(['safety: as an ai language model']);
    expect(next.decided.synopsis!.round).toBe(1);
    expect(next.decided.discussion).toMatchObject({ verdict: 'accept-missing', note: 'no data yet', round: 2 });
    expect(next.rounds.map((r) => Object.keys(r.sections))).toEqual([
      ['synopsis', 'objectives', 'discussion'],
      ['objectives', 'discussion', 'conclusions'],
    ]);
  });

  it('approving a placeholder accepts it as missing; verdicts on sections already decided are ignored', async () => {
    const first = await decide(await open(), { sections: { synopsis: { verdict: 'approve' }, discussion: { verdict: 'approve', note: 'ok without it' } } });
    expect(first.decided.discussion).toMatchObject({ verdict: 'accept-missing', note: 'ok without it' });
    const second = await decide(first, {
      sections: { synopsis: { verdict: 'send-back', note: 'again' }, objectives: { verdict: 'approve' }, conclusions: { verdict: 'accept-missing' } },
    });
    expect(second.sendBack).toEqual([]);
    expect(second.decided.synopsis!.round).toBe(1);
    expect(second).toMatchObject({ pending: [], done: true });
  });

  it('sections still pending after the last round fail the run with ReviewIncomplete, naming them', async () => {
    const state = { ...(await open()), round: 2 };
    const decision = {
      plan,
      sections,
      state,
      maxRounds: 3,
      review: { approved: true, reviewer: 'dr.lee', comment: null, sections: { synopsis: { verdict: 'send-back', note: 'n' } } },
    };
    await expect(call(applyReview, decision)).rejects.toMatchObject({
      error: { code: 'ReviewIncomplete', retryable: false, message: expect.stringContaining('synopsis, objectives, discussion, conclusions undecided') },
    });
    expect(await call(applyReview, { ...decision, review: { ...decision.review, sections: {} } })).toMatchObject({ round: 3, done: true });
  });

  it('merge-revisions puts the rewritten sections in their places and keeps every other one as it was', async () => {
    const s = await decide(await open(), { sections: { objectives: { verdict: 'send-back', note: 'n' }, conclusions: { verdict: 'send-back', note: 'n' } } });
    const rewritten = [
      ok('objectives', 'sections/run-1/objectives/review-1/generated.json'),
      { status: 'failed', error: { code: 'SafetyCheckFailed', message: 'again' } },
    ];
    const merged = (await call(mergeRevisions, { sections, sendBack: s.sendBack, rewritten })) as typeof sections;
    expect(merged.map((m) => m.status)).toEqual(['succeeded', 'succeeded', 'failed', 'failed']);
    expect(merged[0]).toEqual(sections[0]);
    expect(merged[2]).toEqual(sections[2]);
    expect((merged[1] as ReturnType<typeof ok>).output.check.outputKey).toBe('sections/run-1/objectives/review-1/generated.json');
  });
});
