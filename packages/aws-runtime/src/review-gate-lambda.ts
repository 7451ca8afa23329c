import { createReviewGateHandler, toLambdaError, type ReviewGateEvent } from '@baton/adapter-stepfunctions/lambda';
import { createJsonLogger, type Logger, type ReviewNotifier } from '@baton/core';
import { serializeError } from '@baton/core/engine';
import { createRegistryReviewStore } from '@baton/registry';
import { createReviewNotifierFromEnv } from '@baton/stages';
import { DATABASE_SECRET_VARIABLE, openRegistryFromEnv } from './database.js';
import { configurationError, envValue, once, type Env } from './env.js';
import { invocationLogger } from './logging.js';

/** Options of {@link createReviewGateLambda}. */
export interface ReviewGateLambdaOptions {
  /** @default process.env */
  env?: Env;
  /** @default JSON lines on stderr, bound to the pipeline */
  logger?: Logger;
  /** Replaces the notifier read from the environment (tests). @default createReviewNotifierFromEnv(\{ env \}) */
  notifier?: ReviewNotifier;
}

/**
 * The handler of the deployed review-gate Lambda (`lambda:invoke.waitForTaskToken`): records the
 * pending review in the registry's `pending_review` table (`createRegistryReviewStore`: hashed
 * review token, the task token, atomic single-use close) and then notifies the reviewer
 * (`createReviewNotifierFromEnv`: `BATON_REVIEW_NOTIFIER` and its variables, with the dashboard's
 * review link from `BATON_DASHBOARD_URL`).
 *
 * The database is essential here (a review nobody can decide would only time out): an unset
 * `BATON_DATABASE_SECRET_ARN` is a fatal `ConfigurationError`, an unreachable database the
 * registry's retryable `ServiceUnavailableException`, refused credentials its `ConfigurationError`;
 * a notice that fails throws too. Each is thrown named after its code, so the gate's retrier
 * retries it or the run fails saying why, instead of waiting unheard. Registry pool, secret and
 * notifier clients are made once per sandbox.
 *
 * @example
 * ```ts
 * import { createReviewGateLambda } from '@baton/aws-runtime';
 *
 * export const handler = createReviewGateLambda();
 * ```
 */
export function createReviewGateLambda(options: ReviewGateLambdaOptions = {}): (event: ReviewGateEvent) => Promise<{ recorded: true; expiresAt: string }> {
  const env = options.env ?? process.env;
  const base = options.logger ?? createJsonLogger({ bindings: { pipeline: envValue(env, 'BATON_PIPELINE') ?? null, function: 'review-gate' } });
  const { logger, use } = invocationLogger(base);
  const gate = once(async () => {
    if (!envValue(env, DATABASE_SECRET_VARIABLE)) {
      throw configurationError(
        `${DATABASE_SECRET_VARIABLE} is not set: the review gate records pending reviews in the run registry; set it to the ARN of the registry database's secret`,
        {
          variable: DATABASE_SECRET_VARIABLE,
        },
      );
    }
    const registry = (await openRegistryFromEnv(env))!;
    const notifier = options.notifier ?? createReviewNotifierFromEnv({ env });
    const problem = (notifier as { configurationError?: Error }).configurationError;
    if (problem) logger.error('review notifier is not configured: every gate will fail', { code: 'ConfigurationError', error: problem.message });
    // the handler binds executionArn, step, gate and attempt itself
    return createReviewGateHandler({ store: createRegistryReviewStore(registry), notifier, logger: base });
  });
  return async (event) => {
    const log = use(base.child({ executionArn: event.executionId, step: event.stepPath, gate: event.gate, attempt: (event.retryCount ?? 0) + 1 }));
    let handler;
    try {
      handler = await gate();
    } catch (e) {
      const error = serializeError(e);
      log.error('review gate cannot record reviews', { code: error.code, error: error.message });
      throw toLambdaError(error);
    }
    return handler(event);
  };
}
