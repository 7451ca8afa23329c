import { definePipeline } from '@baton/core';
import { NotifySinkConfig, SourceRef, assemble, flagForReview, generate, ingest, notify, plan, repair, validate } from '@baton/stages';
import { z } from 'zod';

/** Repair rounds a section gets before it ends as a placeholder. */
export const MAX_REPAIR_ROUNDS = 2;

/** How long the review gate waits for a human: seven days. */
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
  maxSourceBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Where the completion event goes. */
  notify: NotifySinkConfig.default({ kind: 'file' }),
});
/** Input of the report pipeline. */
export type ReportInput = z.input<typeof ReportInput>;

const SECTION = { 'task.$': '$.task', 'reportTitle.$': '$.reportTitle', 'sources.$': '$.sources', 'sectionIndex.$': '$.sectionIndex' };

/**
 * The reference pipeline:
 * `ingest (map) -> plan -> sections (map){ generate -> validate [ValidationFailed -> repair loop]
 * [SafetyCheckFailed -> flag for human] } -> review gate -> assemble -> notify`.
 * Bad sources and failed sections are tolerated and recorded: the report is assembled from what
 * made it, with placeholders for the rest.
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
      itemSelector: { 'task.$': '$$.Map.Item.Value', 'reportTitle.$': '$.plan.reportTitle', 'sources.$': '$.plan.sources', 'sectionIndex.$': '$.plan.sectionIndex' },
      maxConcurrency: 4,
      toleratedFailurePercentage: 100,
      resultPath: '$.sections',
      comment: 'one item per section; a failed section becomes a placeholder',
    },
    (b) =>
      b.task('generate', generate, { input: SECTION, resultPath: '$.generated' }).task('validate', validate, {
        input: { ...SECTION, 'outputKey.$': '$.generated.outputKey' },
        resultPath: '$.check',
        catch: [
          {
            errors: ['ValidationFailed'],
            resultPath: '$.check',
            then: (c) =>
              c.loop('repair-loop', { until: { or: [{ path: '$.check.valid', op: 'eq', value: true }, { path: '$.flagged', op: 'present' }] }, maxIterations: MAX_REPAIR_ROUNDS }, (l) =>
                l.task('repair', repair, {
                  input: { ...SECTION, 'check.$': '$.check', maxRounds: MAX_REPAIR_ROUNDS },
                  resultPath: '$.check',
                  // an off-script answer in a repair round is held for a human, like one in the first round
                  catch: [{ errors: ['SafetyCheckFailed'], resultPath: '$.safety', then: (f) => f.task('repair-flag', flagForReview, { input: { 'sectionId.$': '$.task.sectionId', 'error.$': '$.safety' }, resultPath: '$.flagged' }) }],
                }),
              ),
          },
          {
            errors: ['SafetyCheckFailed'],
            resultPath: '$.safety',
            then: (c) => c.task('flag', flagForReview, { input: { 'sectionId.$': '$.task.sectionId', 'error.$': '$.safety' }, resultPath: '$.flagged' }),
          },
        ],
      }),
  )
  .approval('review', {
    gate: 'review',
    timeoutSeconds: REVIEW_TIMEOUT_SECONDS,
    reviewerPath: '$.reviewerId',
    payload: { 'reportTitle.$': '$.plan.reportTitle', 'sections.$': '$.sections', 'rejectedSources.$': '$.plan.rejectedSources' },
    resultPath: '$.review',
  })
  .task('assemble', assemble, { input: { 'plan.$': '$.plan', 'sections.$': '$.sections', 'review.$': '$.review' }, resultPath: '$.report' })
  .task('notify', notify, {
    input: {
      event: {
        'runId.$': '$$.Execution.Id',
        'title.$': '$.plan.reportTitle',
        outputs: { 'docx.$': '$.report.docxKey', 'markdown.$': '$.report.markdownKey', 'html.$': '$.report.htmlKey' },
        'sections.$': '$.report.sections',
      },
      'sink.$': '$.notify',
    },
    resultPath: '$.notified',
  })
  .build();
