import { definePipeline, type ApprovalOptions } from '@baton/core';
import { type StepsBuilder } from '@baton/core/engine';
import {
  NotifySinkConfig,
  SourceRef,
  applyReview,
  assemble,
  checkOutcome,
  flagForReview,
  generate,
  ingest,
  mergeRevisions,
  notify,
  openReview,
  plan,
  repair,
  validate,
} from '@baton/stages';
import { z } from 'zod';

/** Repair rounds a section gets before it ends as a placeholder. */
export const MAX_REPAIR_ROUNDS = 2;

/**
 * Review rounds: a section may be sent back and written again before each round but the last;
 * sections still undecided after the last fail the run with `ReviewIncomplete`.
 */
export const MAX_REVIEW_ROUNDS = 5;

/** How long each review round waits for a human: seven days. */
export const REVIEW_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** Input of the report pipeline. */
export const ReportInput = z.object({
  /** The report this run produces (the registry's `pipeline_run.report_id`). */
  reportId: z.string().min(1).optional(),
  /** Who must review the report: only they may decide the review gate. `null`: anyone holding the review link. */
  reviewerId: z.string().min(1).nullable().default(null),
  reportTitle: z.string().min(1).default('Clinical Study Report BTN-101'),
  /** Id of a registered report template. */
  template: z.string().default('clinical-study-report'),
  /** Source documents already stored in the engine's blob store. */
  sources: z.array(SourceRef).min(1),
  /** Largest accepted source file in bytes. */
  maxSourceBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Where the completion event goes. */
  notify: NotifySinkConfig.default({ kind: 'file' }),
  /** Fewest generated sections for the run to succeed (below: it fails with `ReportIncomplete`). */
  minGeneratedSections: z.number().int().min(0).default(1),
  /** Smallest generated share (0-1) of the sections for the run to succeed. */
  minGeneratedShare: z.number().min(0).max(1).default(0),
});
/** Input of the report pipeline. */
export type ReportInput = z.input<typeof ReportInput>;

const SECTION = { 'task.$': '$.task', 'reportTitle.$': '$.reportTitle', 'sources.$': '$.sources', 'sectionIndex.$': '$.sectionIndex' };
/** A section sent back by the reviewer: the same context plus the revision (note, findings) its prompt carries. */
const REVISED = { ...SECTION, 'revision.$': '$.revision' };
/** Step ids of a section's first draft, and of its rewrite after review (ids are unique in a pipeline). */
const FIRST_DRAFT = { generate: 'generate', validate: 'validate', repairLoop: 'repair-loop', repair: 'repair', flag: 'flag' };
const REWRITE: typeof FIRST_DRAFT = {
  generate: 'regenerate',
  validate: 'revalidate',
  repairLoop: 'rewrite-repair-loop',
  repair: 'rewrite-repair',
  flag: 'rewrite-flag',
};

/**
 * What happens to one section: generate → validate [ValidationFailed → repair loop]
 * [SafetyCheckFailed → flag for human]. The same steps write a section the first time and
 * again after a reviewer sent it back (`select` adds the revision to each stage's input).
 */
function writeSection(b: StepsBuilder, select: Record<string, string>, ids: typeof FIRST_DRAFT): StepsBuilder {
  return b.task(ids.generate, generate, { input: select, resultPath: '$.generated' }).task(ids.validate, validate, {
    input: { ...select, 'outputKey.$': '$.generated.outputKey' },
    resultPath: '$.check',
    catch: [
      {
        errors: ['ValidationFailed'],
        resultPath: '$.check',
        then: (c) =>
          c.loop(
            ids.repairLoop,
            {
              until: {
                or: [
                  { path: '$.check.valid', op: 'eq', value: true },
                  { path: '$.flagged', op: 'present' },
                ],
              },
              maxIterations: MAX_REPAIR_ROUNDS,
            },
            (l) =>
              l.task(ids.repair, repair, {
                input: { ...select, 'check.$': '$.check', maxRounds: MAX_REPAIR_ROUNDS },
                resultPath: '$.check',
                // an off-script answer in a repair round is held for a human, like one in the first round
                catch: [
                  {
                    errors: ['SafetyCheckFailed'],
                    resultPath: '$.safety',
                    then: (f) =>
                      f.task(`${ids.repair}-flag`, flagForReview, {
                        input: { 'sectionId.$': '$.task.sectionId', 'error.$': '$.safety' },
                        resultPath: '$.flagged',
                      }),
                  },
                ],
              }),
          ),
      },
      {
        errors: ['SafetyCheckFailed'],
        resultPath: '$.safety',
        then: (c) => c.task(ids.flag, flagForReview, { input: { 'sectionId.$': '$.task.sectionId', 'error.$': '$.safety' }, resultPath: '$.flagged' }),
      },
    ],
  });
}

/** The review gate of every round: the same gate name, reviewer and payload; the section ids still to decide. */
const REVIEW_GATE: ApprovalOptions = {
  gate: 'review',
  timeoutSeconds: REVIEW_TIMEOUT_SECONDS,
  reviewerPath: '$.reviewerId',
  sectionsPath: '$.reviewState.pending',
  payload: {
    'reportTitle.$': '$.plan.reportTitle',
    'sections.$': '$.sections',
    'sectionIndex.$': '$.plan.sectionIndex',
    'pending.$': '$.reviewState.pending',
    'decided.$': '$.reviewState.decided',
    'round.$': '$.reviewState.round',
    'rejectedSources.$': '$.plan.rejectedSources',
  },
  resultPath: '$.review',
};
/** Applying a round's verdicts: what is decided, sent back, still pending. */
const APPLY_REVIEW = {
  input: { 'plan.$': '$.plan', 'sections.$': '$.sections', 'review.$': '$.review', 'state.$': '$.reviewState', maxRounds: MAX_REVIEW_ROUNDS },
  resultPath: '$.reviewState',
} as const;

/**
 * The reference pipeline:
 * `ingest (map) -> plan -> sections (map){ write section } -> review gate over every section`
 * `-> apply the verdicts -> [sections sent back or undecided: review rounds (loop){ rewrite (map){`
 * `write section, with the note } -> merge -> review gate over the sections still to decide -> apply }]`
 * `-> assemble -> notify`.
 * Bad sources and failed sections are tolerated and recorded: the report is assembled from what
 * made it, with placeholders for the rest. The reviewer decides each section: approve, send back
 * with a note (written again with the note and the validator's findings in its prompt, and shown
 * again at the next round) or accept as missing; approved sections are never written again. A
 * decision without per-section verdicts approves the report as it stands. Plain IR only (loop,
 * map, choice, task, approval), so every engine and the Step Functions compiler run it as is.
 * At most {@link MAX_REVIEW_ROUNDS} rounds; a run whose first round decides everything costs
 * one Choice more than a single yes/no gate.
 */
export const reportPipeline = definePipeline({ name: 'report', version: 1, input: ReportInput })
  .map(
    'ingest',
    {
      items: '$.sources',
      itemSelector: { 'source.$': '$$.Map.Item.Value', 'maxBytes.$': '$.maxSourceBytes' },
      maxConcurrency: 4,
      toleratedFailurePercentage: 100,
      resultPath: '$.ingested',
      comment: 'source documents -> normalised JSON; bad files are recorded, not fatal',
    },
    (b) => b.task('ingest-file', ingest),
  )
  .task('plan', plan, { input: { 'template.$': '$.template', 'reportTitle.$': '$.reportTitle', 'ingested.$': '$.ingested' }, resultPath: '$.plan' })
  .map(
    'sections',
    {
      items: '$.plan.sections',
      itemSelector: {
        'task.$': '$$.Map.Item.Value',
        'reportTitle.$': '$.plan.reportTitle',
        'sources.$': '$.plan.sources',
        'sectionIndex.$': '$.plan.sectionIndex',
      },
      maxConcurrency: 4,
      toleratedFailurePercentage: 100,
      resultPath: '$.sections',
      comment: 'one item per section; a failed section becomes a placeholder',
    },
    (b) => writeSection(b, SECTION, FIRST_DRAFT),
  )
  .task('open-review', openReview, { input: { 'sectionIndex.$': '$.plan.sectionIndex' }, resultPath: '$.reviewState' })
  .approval('review', REVIEW_GATE)
  .task('apply-review', applyReview, APPLY_REVIEW)
  .choice(
    'review-decided',
    // the first rule is the run where the first round decides every section (Step Functions cost estimates take it)
    [{ when: { path: '$.reviewState.done', op: 'eq', value: true }, then: (b) => b }],
    (b) =>
      b.loop('review-rounds', { until: { path: '$.reviewState.done', op: 'eq', value: true }, maxIterations: MAX_REVIEW_ROUNDS - 1 }, (round) =>
        round
          .map(
            'rewrite',
            {
              items: '$.reviewState.sendBack',
              maxConcurrency: 4,
              toleratedFailurePercentage: 100,
              resultPath: '$.rewritten',
              comment: "the sections sent back, written again with the reviewer's note",
            },
            (m) => writeSection(m, REVISED, REWRITE),
          )
          .task('merge', mergeRevisions, {
            input: { 'sections.$': '$.sections', 'sendBack.$': '$.reviewState.sendBack', 'rewritten.$': '$.rewritten' },
            resultPath: '$.sections',
          })
          .approval('review-again', REVIEW_GATE)
          .task('apply-review-again', applyReview, APPLY_REVIEW),
      ),
  )
  .task('assemble', assemble, {
    input: { 'plan.$': '$.plan', 'sections.$': '$.sections', 'review.$': '$.review', 'reviewState.$': '$.reviewState' },
    resultPath: '$.report',
  })
  .task('check-outcome', checkOutcome, {
    input: { 'sections.$': '$.report.sections', 'minGeneratedSections.$': '$.minGeneratedSections', 'minGeneratedShare.$': '$.minGeneratedShare' },
    resultPath: '$.outcome',
    comment: 'fewer generated sections than the minimum: ReportIncomplete (the report stays written)',
  })
  .task('notify', notify, {
    input: {
      event: {
        'runId.$': '$$.Execution.Id',
        'title.$': '$.plan.reportTitle',
        outputs: { 'docx.$': '$.report.docxKey', 'pdf.$': '$.report.pdfKey', 'markdown.$': '$.report.markdownKey', 'html.$': '$.report.htmlKey' },
        'sections.$': '$.report.sections',
      },
      'sink.$': '$.notify',
    },
    resultPath: '$.notified',
  })
  .build();
