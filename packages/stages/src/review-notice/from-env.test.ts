import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpStub, type HttpStub } from '../test-support/http-stub.js';
import { sampleNotice } from '../test-support/review-notice.js';
import { createReviewNotifierFromEnv } from './from-env.js';
import { stageErrorOf } from '../test-support/stage-error.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton/webhook-AbCdEf';
const aws = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_MAX_ATTEMPTS: '1' };
const dash = { BATON_DASHBOARD_URL: 'https://baton.example.com' };

describe('createReviewNotifierFromEnv: a wrong configuration is a fatal ConfigurationError naming the variable', () => {
  it.each([
    [{}, 'BATON_REVIEW_NOTIFIER', 'BATON_REVIEW_NOTIFIER is not set: set it to one of "sns", "eventbridge", "webhook", "none"'],
    [{ BATON_REVIEW_NOTIFIER: 'email' }, 'BATON_REVIEW_NOTIFIER', 'BATON_REVIEW_NOTIFIER is "email": use one of'],
    [
      { BATON_REVIEW_NOTIFIER: 'sns', BATON_REVIEW_TOPIC_ARN: 'arn:aws:sns:eu-west-1:1:t' },
      'BATON_DASHBOARD_URL',
      'BATON_REVIEW_NOTIFIER is "sns" but BATON_DASHBOARD_URL is not set',
    ],
    [
      { BATON_REVIEW_NOTIFIER: 'sns', BATON_DASHBOARD_URL: 'baton.example.com' },
      'BATON_DASHBOARD_URL',
      'BATON_DASHBOARD_URL is "baton.example.com", which is not an http(s) URL',
    ],
    [{ BATON_REVIEW_NOTIFIER: 'sns', ...dash }, 'BATON_REVIEW_TOPIC_ARN', 'BATON_REVIEW_NOTIFIER is "sns" but BATON_REVIEW_TOPIC_ARN is not set'],
    [
      { BATON_REVIEW_NOTIFIER: 'eventbridge', ...dash },
      'BATON_REVIEW_EVENT_BUS',
      'BATON_REVIEW_NOTIFIER is "eventbridge" but BATON_REVIEW_EVENT_BUS is not set',
    ],
    [{ BATON_REVIEW_NOTIFIER: 'webhook', ...dash }, 'BATON_REVIEW_WEBHOOK_URL', 'BATON_REVIEW_NOTIFIER is "webhook" but BATON_REVIEW_WEBHOOK_URL is not set'],
    [
      { BATON_REVIEW_NOTIFIER: 'webhook', BATON_REVIEW_WEBHOOK_URL: 'hooks/x', ...dash },
      'BATON_REVIEW_WEBHOOK_URL',
      'BATON_REVIEW_WEBHOOK_URL is not an http(s) URL',
    ],
  ])('%j', async (env, variable, message) => {
    const notifier = createReviewNotifierFromEnv({ env });
    expect(notifier.configurationError?.message).toContain(message);
    const e = await stageErrorOf(notifier(sampleNotice));
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { variable } });
    expect(e.message).toMatch(/^the review gate cannot notify reviewers: /);
  });

  it('"none" notifies nobody, on purpose', async () => {
    const notifier = createReviewNotifierFromEnv({ env: { BATON_REVIEW_NOTIFIER: 'none' } });
    expect(notifier.target).toBe('nobody');
    expect(notifier.configurationError).toBeUndefined();
    await expect(notifier(sampleNotice)).resolves.toBeUndefined();
  });
});

describe('createReviewNotifierFromEnv: webhook signed with a key from Secrets Manager (wire-format stub)', () => {
  let hook: HttpStub;
  let secrets: HttpStub;
  beforeAll(async () => {
    [hook, secrets] = await Promise.all([startHttpStub(), startHttpStub()]);
    hook.reply({ status: 200, body: '{}' });
  });
  afterAll(() => Promise.all([hook.close(), secrets.close()]));

  it('reads the key once and signs every notice with it; the pipeline name comes from BATON_PIPELINE', async () => {
    secrets.reply({ status: 200, body: JSON.stringify({ ARN: SECRET_ARN, Name: 'baton/webhook', SecretString: 'whsec-from-sm\n' }) });
    const env = {
      ...aws,
      ...dash,
      BATON_PIPELINE: 'report',
      BATON_REVIEW_NOTIFIER: 'webhook',
      BATON_REVIEW_WEBHOOK_URL: `${hook.url}/in`,
      BATON_REVIEW_WEBHOOK_SECRET_ARN: SECRET_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    };
    const notifier = createReviewNotifierFromEnv({ env });
    expect(notifier.target).toBe(`webhook ${hook.url}`);
    await notifier(sampleNotice);
    await notifier(sampleNotice);
    expect(secrets.requests).toHaveLength(1);
    for (const req of hook.requests) {
      expect(req.headers['x-baton-signature']).toBe(`sha256=${createHmac('sha256', 'whsec-from-sm').update(req.body).digest('hex')}`);
      expect(JSON.parse(req.body)).toMatchObject({ pipeline: 'report', reviewUrl: expect.stringMatching(/^https:\/\/baton\.example\.com\/reviews\//) });
    }
  });

  it('a webhook secret the role may not read is a ConfigurationError naming the ARN and secretsmanager:GetSecretValue', async () => {
    secrets.reply({ status: 400, body: JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized' }) });
    const env = {
      ...aws,
      ...dash,
      BATON_REVIEW_NOTIFIER: 'webhook',
      BATON_REVIEW_WEBHOOK_URL: hook.url,
      BATON_REVIEW_WEBHOOK_SECRET_ARN: SECRET_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    };
    const e = await stageErrorOf(createReviewNotifierFromEnv({ env })(sampleNotice));
    expect(e).toMatchObject({ code: 'ConfigurationError', details: { secretId: SECRET_ARN, variable: 'BATON_REVIEW_WEBHOOK_SECRET_ARN' } });
    expect(e.message).toContain('secretsmanager:GetSecretValue');
  });
});
