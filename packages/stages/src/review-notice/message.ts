import { StageError, type ReviewNotice } from '@baton/core';
import { reviewLink } from '@baton/core/engine';

/**
 * What a reviewer needs to open a review, and nothing more: the payload under review (possibly
 * large, possibly sensitive) is not in it, and the single-use token appears only inside `reviewUrl`.
 *
 * @example
 * ```ts
 * const r: ReviewRequested = reviewRequested(notice, { dashboardUrl: 'https://baton.example.com' });
 * await mail(r.reviewer ?? 'reviewers@example.com', reviewMessage(r));
 * ```
 */
export interface ReviewRequested {
  /** The pipeline's name, when the notifier was told it. */
  pipeline?: string;
  runId: string;
  gate: string;
  stepPath: string;
  /** Who the review is assigned to; `null` when anyone with access to the dashboard may decide. */
  reviewer: string | null;
  createdAt: string;
  expiresAt: string;
  /** The dashboard page of the gate, carrying the token. */
  reviewUrl: string;
}

/**
 * The detail-type (EventBridge) and `type` (webhook) of a review notice.
 *
 * @example
 * ```ts
 * const pattern = { source: ['baton'], 'detail-type': [REVIEW_REQUESTED] }; // an EventBridge rule's pattern
 * ```
 */
export const REVIEW_REQUESTED = 'Baton Review Requested';

/**
 * The fields of a review notice that go out: run, gate, step, reviewer, times and the review link
 * built with core's `reviewLink` (never the payload, never the bare token).
 *
 * @example
 * ```ts
 * const detail = reviewRequested(notice, { dashboardUrl: 'https://baton.example.com', pipeline: 'report' });
 * ```
 */
export function reviewRequested(notice: ReviewNotice, options: { dashboardUrl: string; pipeline?: string }): ReviewRequested {
  return {
    ...(options.pipeline ? { pipeline: options.pipeline } : {}),
    runId: notice.runId,
    gate: notice.gate,
    stepPath: notice.stepPath,
    reviewer: notice.reviewer ?? null,
    createdAt: notice.createdAt,
    expiresAt: notice.expiresAt,
    reviewUrl: reviewLink(options.dashboardUrl, notice),
  };
}

/** SNS allows at most 100 characters of subject, printable ASCII without line breaks. */
const SUBJECT_MAX = 100;

/**
 * A subject line and a plain-text body a reviewer can act on from a mail client or a chat message:
 * what is waiting, for whom, until when, and the link.
 *
 * @example
 * ```ts
 * const { subject, text } = reviewMessage(reviewRequested(notice, { dashboardUrl }));
 * ```
 */
export function reviewMessage(r: ReviewRequested): { subject: string; text: string } {
  const where = r.pipeline ? `${r.pipeline} run ${r.runId}` : `run ${r.runId}`;
  const subject = ascii(`Review requested: ${r.gate} of ${where}`);
  const lines = [
    `A Baton pipeline is waiting for a review.`,
    '',
    ...(r.pipeline ? [`Pipeline:     ${r.pipeline}`] : []),
    `Run:          ${r.runId}`,
    `Gate:         ${r.gate} (step ${r.stepPath})`,
    `Assigned to:  ${r.reviewer ?? 'anyone who may review on the dashboard'}`,
    `Opened:       ${r.createdAt}`,
    `Expires:      ${r.expiresAt} (if nobody decides by then, the gate times out)`,
    '',
    `Open the review to read the text and approve or reject it:`,
    r.reviewUrl,
    '',
    `The link carries a single-use token for this review: do not forward it.`,
  ];
  return { subject: subject.length > SUBJECT_MAX ? `${subject.slice(0, SUBJECT_MAX - 3)}...` : subject, text: lines.join('\n') };
}

function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The error of a notice that did not reach its target: retryable `ServiceUnavailableException`
 * naming the target, so the review-gate Lambda fails and Step Functions retries it.
 */
export function deliveryFailed(target: string, r: Pick<ReviewRequested, 'runId' | 'gate'>, why: string, details: Record<string, unknown> = {}): StageError {
  return new StageError('ServiceUnavailableException', `review notice for gate "${r.gate}" of run ${r.runId} was not delivered to ${target}: ${why}`, {
    retryable: true,
    details: { target, ...details },
  });
}

/**
 * The error of a target the deployment must fix (it does not exist, or the role may not use it):
 * a fatal `ConfigurationError` naming the target and the IAM action, since retrying cannot help.
 */
export function targetMisconfigured(target: string, action: string, why: string, details: Record<string, unknown> = {}): StageError {
  return new StageError(
    'ConfigurationError',
    `review notices cannot be sent to ${target}: ${why}; check that it exists and that the function's role allows ${action} on it`,
    {
      retryable: false,
      details: { target, action, ...details },
    },
  );
}

/** What an AWS SDK error says: its name, HTTP status and message. */
export function awsFailure(e: unknown): { name: string; status: number | null; message: string } {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return { name: err.name ?? 'Error', status: err.$metadata?.httpStatusCode ?? null, message: err.message ?? String(e) };
}
