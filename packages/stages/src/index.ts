export { IngestedDoc, NormalisedDocument, Paragraph, SectionIndexEntry, SectionTask, SourceRef } from './documents.js';
export { DEFAULT_MAX_SOURCE_BYTES, IngestInput, docIdOf, ingest, normaliseSource } from './ingest/stage.js';
export { formatOf, type SourceFormat } from './ingest/parsers.js';
export { BAD_CORPUS_MAX_BYTES, createBadSourceCorpus, type BadSource } from './ingest/bad-sources.js';
export { createHostileSourceCorpus, pdfOfPages, writeZip, zerosDeflated, type HostileSource, type ZipSpec } from './ingest/hostile-sources.js';
export { IngestLimits, RATIO_FLOOR_BYTES, ingestLimits } from './ingest/limits.js';
export type { RejectReason } from './ingest/reject.js';
export { listSourceDir, readSourceFile, type SourceDirEntry } from './ingest/source-dir.js';
export { decodeText, type TextEncoding } from './ingest/text.js';
export { OutcomeInput, OutcomeOutput, REPORT_INCOMPLETE, checkOutcome } from './outcome/check.js';
export { PlanInput, PlanOutput, chooseExcerpts, plan } from './plan.js';
export { GenerateOutput, MODEL_RETRY, generate } from './generate.js';
export { ValidOutput, ValidateInput, checkOrThrow, validate } from './validate.js';
export { RepairInput, RepairOutput, repair, repairInstructions } from './repair.js';
export { FlagInput, FlagOutput, flagForReview } from './flag.js';
export { AssembleInput, AssembleOutput, assemble } from './assemble/stage.js';
export { SectionItemState, SectionResult, buildReportModel, type ReportModel, type ReportSection } from './assemble/model.js';
export { renderDocx } from './assemble/docx.js';
export { renderMarkdown } from './assemble/markdown.js';
export { renderHtml } from './assemble/html.js';
export { CompletionEvent, NotifyInput, NotifySinkConfig, notify, registerNotifySink, type NotifySink } from './notify.js';
export { createEventBridgeSink, type EventBridgeSinkOptions } from './notify-eventbridge.js';
export { REVIEW_REQUESTED, reviewMessage, reviewRequested, type ReviewRequested } from './review-notice/message.js';
export { createSnsReviewNotifier, type SnsReviewNotifierOptions } from './review-notice/sns.js';
export { createEventBridgeReviewNotifier, type EventBridgeReviewNotifierOptions } from './review-notice/eventbridge.js';
export { SIGNATURE_HEADER, createWebhookReviewNotifier, type WebhookReviewNotifierOptions } from './review-notice/webhook.js';
export { REVIEW_NOTIFIERS, createReviewNotifierFromEnv, type EnvReviewNotifier, type ReviewNotifierFromEnvOptions } from './review-notice/from-env.js';
export { RawOutput, SectionContext, promptHash, renderSectionPrompt, sectionJsonSchema } from './report/prompt.js';
export { checkSection, type CheckContext, type SectionCheck } from './report/rules.js';
export { SAFETY_CLASSES, SAFETY_CLASS_NAMES, describeFinding, type SafetyClass, type SafetyFinding } from './safety/classes.js';
export { createSafetyScanner, type SafetyContext, type SafetyScanner } from './safety/scan.js';
export { normaliseForMatching, type InvisibleHit, type InvisibleKind, type NormalisedText } from './safety/normalise.js';
export { findUrls, hostsOf, type FoundUrl } from './safety/links.js';
export { escapeHtmlText, escapeMarkdown } from './safety/escape.js';
export { defineReportTemplate, getReportTemplate } from './template/registry.js';
export { clinicalStudyReport } from './template/clinical.js';
export {
  MetricsSection,
  NarrativeSection,
  ReportTemplate,
  SECTION_SCHEMAS,
  SectionRules,
  SectionType,
  type ReportTemplateInput,
  type SectionContent,
  type SectionSchemaName,
} from './template/types.js';
export { createOfflineModel, type OfflineFaults, type OfflineModelOptions } from './models/offline.js';
export { createBedrockModel, type BedrockModelOptions } from './models/bedrock.js';
export { createOpenAiCompatibleModel, type OpenAiCompatibleModelOptions } from './models/openai.js';
export { MODEL_PROVIDERS, createModelFromEnv, type EnvModelClient, type ModelFromEnvOptions } from './models/from-env.js';
export { malformed, providerError } from './models/errors.js';
export { createS3BlobStore, type S3BlobStoreOptions } from './blobs/s3.js';
export { awsEnvConfig, readSecretString, type AwsEnvConfig } from './models/from-env-aws.js';
export { renderPdf } from './assemble/pdf.js';
export {
  acceptedText,
  placeholderText,
  sectionOutcome,
  type AcceptedMissing,
  type PlaceholderSection,
  type SectionOutcome,
  type SignOff,
} from './assemble/model.js';
export { SIGN_OFF_HEADING } from './assemble/sign-off.js';
export { Revision, revisionInstructions } from './report/prompt.js';
export { DecidedSection, ReviewOutcome, ReviewRound, ReviewState, SectionVerdictSchema, SentBack } from './review/state.js';
export { OpenReviewInput, openReview } from './review/open.js';
export { ApplyReviewInput, applyReview } from './review/apply.js';
export { MergeRevisionsInput, mergeRevisions } from './review/merge.js';
