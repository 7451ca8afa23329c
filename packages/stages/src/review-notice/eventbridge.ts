import { EventBridgeClient, PutEventsCommand, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { ReviewNotice } from '@baton/core';
import { REVIEW_REQUESTED, awsFailure, deliveryFailed, reviewRequested, targetMisconfigured } from './message.js';

/** Options of {@link createEventBridgeReviewNotifier}. */
export interface EventBridgeReviewNotifierOptions {
  /** Name or ARN of the event bus. */
  eventBusName: string;
  /** Base URL of the dashboard; the event carries `reviewLink(dashboardUrl, notice)`. */
  dashboardUrl: string;
  /** @default 'baton' */
  source?: string;
  /** The pipeline's name, put in the event's detail. */
  pipeline?: string;
  /** A client to reuse; otherwise one is built from `clientConfig` on first use. */
  client?: EventBridgeClient;
  /** Region, endpoint, credentials. @default the environment's */
  clientConfig?: EventBridgeClientConfig;
}

/** Request-level EventBridge errors the deployment must fix. */
const MISCONFIGURED = new Set(['AccessDeniedException', 'ResourceNotFoundException', 'ValidationException']);
/** Per-entry error codes EventBridge documents as retryable; every other entry error is not. */
const RETRYABLE_ENTRY = new Set(['InternalFailure', 'ThrottlingException']);

/**
 * A review notifier that puts an event on an Amazon EventBridge bus (`PutEvents`), detail-type
 * `Baton Review Requested`, source `baton`, whose detail is what a reviewer needs to open the
 * review (`pipeline`, `runId`, `gate`, `stepPath`, `reviewer`, `createdAt`, `expiresAt`,
 * `reviewUrl`): route it with a rule to a chat bot, a ticket, a mail. The payload is not sent;
 * the token appears only inside `reviewUrl`. A failed entry is checked (`FailedEntryCount`):
 * throttling and internal failures, or a failed call, are a retryable `ServiceUnavailableException`
 * naming the bus; access denied, an unknown bus or a refused entry a fatal `ConfigurationError`.
 *
 * @example
 * ```ts
 * const notifier = createEventBridgeReviewNotifier({ eventBusName: 'baton-reviews', dashboardUrl: 'https://baton.example.com' });
 * // rule pattern: { "source": ["baton"], "detail-type": ["Baton Review Requested"], "detail": { "reviewer": ["alice@example.com"] } }
 * ```
 */
export function createEventBridgeReviewNotifier(options: EventBridgeReviewNotifierOptions): (notice: ReviewNotice) => Promise<void> {
  let client = options.client;
  const target = `EventBridge bus ${options.eventBusName}`;
  return async (notice) => {
    client ??= new EventBridgeClient(options.clientConfig ?? {});
    const r = reviewRequested(notice, options);
    let res;
    try {
      res = await client.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: options.eventBusName, Source: options.source ?? 'baton', DetailType: REVIEW_REQUESTED, Detail: JSON.stringify(r) }],
        }),
      );
    } catch (e) {
      const f = awsFailure(e);
      const why = `${f.name}: ${f.message}`;
      const details = { providerCode: f.name, httpStatus: f.status };
      throw MISCONFIGURED.has(f.name) ? targetMisconfigured(target, 'events:PutEvents', why, details) : deliveryFailed(target, r, why, details);
    }
    const entry = res.Entries?.[0];
    if ((res.FailedEntryCount ?? 0) === 0 && entry?.EventId) return;
    const code = entry?.ErrorCode ?? 'unknown';
    const why = `PutEvents reported a failed entry: ${code}: ${entry?.ErrorMessage ?? ''}`;
    throw RETRYABLE_ENTRY.has(code) || code === 'unknown'
      ? deliveryFailed(target, r, why, { providerCode: code })
      : targetMisconfigured(target, 'events:PutEvents', why, { providerCode: code });
  };
}
