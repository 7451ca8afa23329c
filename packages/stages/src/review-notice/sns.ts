import { PublishCommand, SNSClient, type MessageAttributeValue, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { ReviewNotice } from '@baton/core';
import { awsFailure, deliveryFailed, reviewMessage, reviewRequested, targetMisconfigured } from './message.js';

/** Options of {@link createSnsReviewNotifier}. */
export interface SnsReviewNotifierOptions {
  /** The topic reviewers (mail, SMS, chat, a queue) subscribe to. */
  topicArn: string;
  /** Base URL of the dashboard; the message carries `reviewLink(dashboardUrl, notice)`. */
  dashboardUrl: string;
  /** The pipeline's name, shown in the message and sent as an attribute. */
  pipeline?: string;
  /** A client to reuse; otherwise one is built from `clientConfig` on first use. */
  client?: SNSClient;
  /** Region, endpoint, credentials. @default the environment's */
  clientConfig?: SNSClientConfig;
}

/** SNS errors the deployment must fix: retrying them cannot help. */
const MISCONFIGURED = new Set([
  'AuthorizationErrorException',
  'NotFoundException',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'InvalidSecurityException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);

/**
 * A review notifier that publishes to an Amazon SNS topic: a Subject and a plain-text message a
 * reviewer can act on (pipeline and run, gate, who it is assigned to, expiry, the review link),
 * and the message attributes `runId`, `gate`, `reviewer` (when assigned) and `pipeline` (when
 * known) for subscription filter policies (`{"reviewer": ["alice@example.com"]}`). The payload is
 * not sent; the token appears only inside the link. A topic that does not exist or may not be
 * published to is a fatal `ConfigurationError` (naming `sns:Publish`); any other failure a
 * retryable `ServiceUnavailableException` naming the topic.
 *
 * @example
 * ```ts
 * const notifier = createSnsReviewNotifier({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:baton-reviews', dashboardUrl: 'https://baton.example.com' });
 * export const handler = createReviewGateHandler({ store, notifier });
 * ```
 */
export function createSnsReviewNotifier(options: SnsReviewNotifierOptions): (notice: ReviewNotice) => Promise<void> {
  let client = options.client;
  const target = `SNS topic ${options.topicArn}`;
  return async (notice) => {
    client ??= new SNSClient(options.clientConfig ?? {});
    const r = reviewRequested(notice, options);
    const { subject, text } = reviewMessage(r);
    const attributes: Record<string, MessageAttributeValue> = {};
    const attr = (name: string, value: string | null | undefined): void => {
      // SNS refuses empty attribute values; an absent attribute is what filter policies test with `exists`.
      if (value) attributes[name] = { DataType: 'String', StringValue: value };
    };
    attr('runId', r.runId);
    attr('gate', r.gate);
    attr('reviewer', r.reviewer);
    attr('pipeline', r.pipeline);
    let res;
    try {
      res = await client.send(new PublishCommand({ TopicArn: options.topicArn, Subject: subject, Message: text, MessageAttributes: attributes }));
    } catch (e) {
      const f = awsFailure(e);
      const why = `${f.name}: ${f.message}`;
      const details = { providerCode: f.name, httpStatus: f.status };
      throw MISCONFIGURED.has(f.name) ? targetMisconfigured(target, 'sns:Publish', why, details) : deliveryFailed(target, r, why, details);
    }
    if (!res.MessageId) throw deliveryFailed(target, r, 'SNS returned no MessageId');
  };
}
