import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/**
 * How the review gate tells a reviewer that a run waits for them. Each notice carries the run,
 * the gate, the assigned reviewer, the expiry and the dashboard's review link (with the single-use
 * token); never the payload under review.
 * - `sns`: published to a topic (created when omitted: subscribe the reviewers' e-mail to it);
 *   message attributes `runId`, `gate`, `reviewer` allow subscription filter policies per reviewer.
 * - `eventbridge`: a `Baton Review Requested` event on a bus (default: the account's default bus).
 * - `webhook`: a JSON POST, signed `X-Baton-Signature: sha256=<HMAC>` with the secret when given.
 * - `none`: no notice; reviewers find the gate in the dashboard's pending reviews.
 */
export type ReviewNotifierConfig =
  | { kind: 'none' }
  | { kind: 'sns'; topic?: sns.ITopic }
  | { kind: 'eventbridge'; eventBus?: events.IEventBus }
  | { kind: 'webhook'; url: string; secret?: secretsmanager.ISecret };

/** What the construct made of a {@link ReviewNotifierConfig}. */
export interface ReviewNotifierResources {
  environment: Record<string, string>;
  topic?: sns.ITopic;
  eventBus?: events.IEventBus;
}

/** Creates (or takes) the notice target, and the environment the review gate reads it from. */
export function reviewNotifierResources(scope: Construct, config: ReviewNotifierConfig): ReviewNotifierResources {
  switch (config.kind) {
    case 'none':
      return { environment: { BATON_REVIEW_NOTIFIER: 'none' } };
    case 'sns': {
      const topic = config.topic ?? new sns.Topic(scope, 'ReviewRequests', { displayName: 'Baton review requests', enforceSSL: true });
      return { environment: { BATON_REVIEW_NOTIFIER: 'sns', BATON_REVIEW_TOPIC_ARN: topic.topicArn }, topic };
    }
    case 'eventbridge': {
      const eventBus = config.eventBus ?? events.EventBus.fromEventBusName(scope, 'ReviewBus', 'default');
      return { environment: { BATON_REVIEW_NOTIFIER: 'eventbridge', BATON_REVIEW_EVENT_BUS: eventBus.eventBusName }, eventBus };
    }
    case 'webhook':
      return {
        environment: {
          BATON_REVIEW_NOTIFIER: 'webhook',
          BATON_REVIEW_WEBHOOK_URL: config.url,
          ...(config.secret ? { BATON_REVIEW_WEBHOOK_SECRET_ARN: config.secret.secretArn } : {}),
        },
      };
  }
}

/** Lets the review gate deliver notices: publish on the topic, put events on the bus, or read the webhook's secret. */
export function grantNotify(config: ReviewNotifierConfig, resources: ReviewNotifierResources, grantee: iam.IGrantable): void {
  resources.topic?.grantPublish(grantee);
  resources.eventBus?.grantPutEventsTo(grantee);
  if (config.kind === 'webhook') config.secret?.grantRead(grantee);
}
