import { z } from 'zod';
import type { SectionVerdict } from '../engine.js';
import { defineStage } from '../stage.js';
import { recordProbe } from './probe.js';

const Verdict = z.object({ verdict: z.enum(['approve', 'send-back', 'accept-missing']), note: z.string().optional() });
/** The state the review-rounds scenario carries from round to round. */
const Round = z.object({
  texts: z.record(z.string(), z.string()),
  /** Sections under review this round. */
  ids: z.array(z.string()),
  /** Sections to (re)draft, with the reviewer's note when sent back. */
  todo: z.array(z.object({ id: z.string(), note: z.string().nullable() })),
  settled: z.record(z.string(), Verdict),
  done: z.boolean(),
});
type RoundState = z.infer<typeof Round>;

/** Drafts one section: `<id> v1`, or `<id> revised: <note>` when sent back. Probe key `draft-<id>`. */
export const kitDraft = defineStage({
  name: 'kit-draft',
  version: 1,
  input: z.object({ probe: z.string(), item: z.object({ id: z.string(), note: z.string().nullable() }) }),
  output: z.object({ id: z.string(), text: z.string() }),
  async run({ probe, item }, ctx) {
    recordProbe(probe, { event: 'start', stage: 'kit-draft', key: `draft-${item.id}`, attempt: ctx.attempt });
    return { id: item.id, text: item.note === null ? `${item.id} v1` : `${item.id} revised: ${item.note}` };
  },
});

/**
 * The bookkeeping of a review loop, in three modes: `plan` (every section to draft), `collect`
 * (the drafted texts join the others; they are this round's sections), `apply` (the verdicts of
 * the round: sent-back sections are drafted again with the note, the others are settled; done
 * when nothing is sent back).
 */
export const kitReviewRound = defineStage({
  name: 'kit-review-round',
  version: 1,
  input: z.object({
    probe: z.string(),
    mode: z.enum(['plan', 'collect', 'apply']),
    ids: z.array(z.string()).optional(),
    round: Round.optional(),
    drafted: z.array(z.object({ status: z.string(), output: z.object({ id: z.string(), text: z.string() }).optional() })).optional(),
    verdicts: z.record(z.string(), Verdict).optional(),
  }),
  output: Round,
  async run(input): Promise<RoundState> {
    if (input.mode === 'plan') return { texts: {}, ids: [], todo: (input.ids ?? []).map((id) => ({ id, note: null })), settled: {}, done: false };
    const round = input.round!;
    if (input.mode === 'collect') {
      const texts = { ...round.texts };
      const ids: string[] = [];
      for (const d of input.drafted ?? []) {
        if (!d.output) continue;
        texts[d.output.id] = d.output.text;
        ids.push(d.output.id);
      }
      return { ...round, texts, ids, todo: [] };
    }
    const verdicts: Record<string, SectionVerdict> = input.verdicts ?? {};
    const todo = round.ids.filter((id) => verdicts[id]?.verdict === 'send-back').map((id) => ({ id, note: verdicts[id]!.note ?? '' }));
    const settled = { ...round.settled };
    // a section without a verdict counts as approved with the round
    for (const id of round.ids) if (verdicts[id]?.verdict !== 'send-back') settled[id] = verdicts[id] ?? { verdict: 'approve' };
    return { ...round, todo, settled, done: todo.length === 0 };
  },
});
