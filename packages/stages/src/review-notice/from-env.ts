import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ReviewNotice, StageError } from '@baton/core';
import { awsEnvConfig, configurationError, isHttpUrl, readSecretString } from '../models/from-env-aws.js';
import { createEventBridgeReviewNotifier } from './eventbridge.js';
import { createSnsReviewNotifier } from './sns.js';
import { createWebhookReviewNotifier } from './webhook.js';

/** Options of {@link createReviewNotifierFromEnv}. */
export interface ReviewNotifierFromEnvOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * The notifier of {@link createReviewNotifierFromEnv}: a review notifier that also says where it sends.
 *
 * @example
 * ```ts
 * const notifier: EnvReviewNotifier = createReviewNotifierFromEnv();
 * log.info('review notices go to ' + notifier.target);
 * ```
 */
export interface EnvReviewNotifier {
  (notice: ReviewNotice): Promise<void>;
  /** Where notices go (`SNS topic arn:…`, `EventBridge bus …`, `webhook https://host`, `nobody`), for logs. */
  readonly target: string;
  /** What is wrong with the configuration, when something is: every call throws it. Log it at cold start. */
  readonly configurationError?: StageError;
}

/**
 * The values `BATON_REVIEW_NOTIFIER` may take.
 *
 * @example
 * ```ts
 * const kind: (typeof REVIEW_NOTIFIERS)[number] = 'sns';
 * ```
 */
export const REVIEW_NOTIFIERS = ['sns', 'eventbridge', 'webhook', 'none'] as const;

/**
 * The review notifier of a deployed review-gate Lambda, from the variables the CDK construct sets:
 * `BATON_REVIEW_NOTIFIER` (`sns` | `eventbridge` | `webhook` | `none`), `BATON_DASHBOARD_URL` (the
 * link's base), and per kind `BATON_REVIEW_TOPIC_ARN`, `BATON_REVIEW_EVENT_BUS`, or
 * `BATON_REVIEW_WEBHOOK_URL` with an optional `BATON_REVIEW_WEBHOOK_SECRET_ARN` (a Secrets
 * Manager secret whose SecretString is the HMAC key, read on the first notice). `BATON_PIPELINE`
 * names the pipeline in the notice. Endpoints follow the SDK's own `AWS_ENDPOINT_URL_SNS`,
 * `AWS_ENDPOINT_URL_EVENTBRIDGE`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 *
 * It never throws: a missing or wrong variable gives a notifier whose calls throw a fatal
 * `ConfigurationError` naming the variable (`none` must be chosen explicitly: an unset variable is
 * an error, since a gate nobody hears about waits until it times out).
 *
 * @example
 * ```ts
 * const notifier = createReviewNotifierFromEnv();
 * if (notifier.configurationError) log.error(notifier.configurationError.message);
 * export const handler = createReviewGateHandler({ store, notifier });
 * ```
 */
export function createReviewNotifierFromEnv(options: ReviewNotifierFromEnvOptions = {}): EnvReviewNotifier {
  const env = options.env ?? process.env;
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const kind = get('BATON_REVIEW_NOTIFIER');
  const choices = REVIEW_NOTIFIERS.map((k) => `"${k}"`).join(', ');
  if (!kind)
    return broken(
      `BATON_REVIEW_NOTIFIER is not set: set it to one of ${choices} (a review gate nobody hears about waits until it times out)`,
      'BATON_REVIEW_NOTIFIER',
    );
  if (!(REVIEW_NOTIFIERS as readonly string[]).includes(kind))
    return broken(`BATON_REVIEW_NOTIFIER is "${kind}": use one of ${choices}`, 'BATON_REVIEW_NOTIFIER');
  if (kind === 'none') return Object.assign(async () => undefined, { target: 'nobody' });
  const dashboardUrl = get('BATON_DASHBOARD_URL');
  if (!dashboardUrl)
    return broken(
      `BATON_REVIEW_NOTIFIER is "${kind}" but BATON_DASHBOARD_URL is not set: set it to the dashboard's base URL, which the review link starts with`,
      'BATON_DASHBOARD_URL',
    );
  if (!isHttpUrl(dashboardUrl))
    return broken(`BATON_DASHBOARD_URL is "${dashboardUrl}", which is not an http(s) URL: set it to the dashboard's base URL`, 'BATON_DASHBOARD_URL');
  const pipeline = get('BATON_PIPELINE');
  const common = { dashboardUrl, ...(pipeline ? { pipeline } : {}) };
  if (kind === 'sns') {
    const topicArn = get('BATON_REVIEW_TOPIC_ARN');
    if (!topicArn)
      return broken(
        'BATON_REVIEW_NOTIFIER is "sns" but BATON_REVIEW_TOPIC_ARN is not set: set it to the ARN of the topic reviewers subscribe to',
        'BATON_REVIEW_TOPIC_ARN',
      );
    return Object.assign(createSnsReviewNotifier({ ...common, topicArn, clientConfig: awsEnvConfig(env, 'SNS') }), { target: `SNS topic ${topicArn}` });
  }
  if (kind === 'eventbridge') {
    const eventBusName = get('BATON_REVIEW_EVENT_BUS');
    if (!eventBusName)
      return broken(
        'BATON_REVIEW_NOTIFIER is "eventbridge" but BATON_REVIEW_EVENT_BUS is not set: set it to the name or ARN of the event bus',
        'BATON_REVIEW_EVENT_BUS',
      );
    return Object.assign(createEventBridgeReviewNotifier({ ...common, eventBusName, clientConfig: awsEnvConfig(env, 'EVENTBRIDGE') }), {
      target: `EventBridge bus ${eventBusName}`,
    });
  }
  const url = get('BATON_REVIEW_WEBHOOK_URL');
  if (!url || !isHttpUrl(url)) {
    const what = url ? 'is not an http(s) URL' : 'is not set';
    return broken(
      `BATON_REVIEW_NOTIFIER is "webhook" but BATON_REVIEW_WEBHOOK_URL ${what}: set it to the URL notices are POSTed to`,
      'BATON_REVIEW_WEBHOOK_URL',
    );
  }
  const secretArn = get('BATON_REVIEW_WEBHOOK_SECRET_ARN');
  let secrets: SecretsManagerClient | undefined;
  const secret = secretArn
    ? async () => {
        secrets ??= new SecretsManagerClient(awsEnvConfig(env, 'SECRETS_MANAGER'));
        return (await readSecretString(secrets, secretArn, 'BATON_REVIEW_WEBHOOK_SECRET_ARN')).trim();
      }
    : undefined;
  return Object.assign(createWebhookReviewNotifier({ ...common, url, ...(secret ? { secret } : {}) }), { target: `webhook ${new URL(url).origin}` });
}

function broken(message: string, variable: string): EnvReviewNotifier {
  const error = configurationError(`the review gate cannot notify reviewers: ${message}`, { variable });
  return Object.assign(() => Promise.reject(error), { target: 'nobody (misconfigured)', configurationError: error });
}
