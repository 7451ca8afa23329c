import { randomUUID } from 'node:crypto';
import { decideReview, type ReviewGateEvent } from '@baton/adapter-stepfunctions';
import { createJsonLogger, type ReviewNotice, type SectionVerdict } from '@baton/core';
import { createPostgresRegistry, createRegistryReviewStore, type RunRegistry } from '@baton/registry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createReviewGateLambda } from './review-gate-lambda.js';
import { motoAccount } from './test-support/aws.js';

const moto = motoAccount(inject('motoEndpoint'));
const postgresUrl = inject('postgresUrl');
const arnOf = (runId: string): string => `arn:aws:states:us-east-1:123456789012:execution:report:${runId}`;

let registry: RunRegistry;
beforeAll(async () => {
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
});
afterAll(async () => registry?.close());

describe('the deployed review gate with sections (registry on PostgreSQL)', () => {
  it('records the section ids; approve refuses an unknown section or a long note before closing, then decides with verdicts', async () => {
    const notices: ReviewNotice[] = [];
    const secretArn = await moto.createSecret(postgresUrl);
    const gate = createReviewGateLambda({
      env: { ...moto.env, BATON_PIPELINE: 'report', BATON_DATABASE_SECRET_ARN: secretArn },
      notifier: (n) => void notices.push(n),
      logger: createJsonLogger({ write: () => undefined }),
    });
    const runId = `run-${randomUUID().slice(0, 8)}`;
    const event: ReviewGateEvent = {
      taskToken: `TT-${runId}`,
      executionId: arnOf(runId),
      gate: 'review',
      stepPath: 'rounds@0/review',
      timeoutSeconds: 3600,
      sections: ['intro', 'results'],
      payload: { title: 'Q3' },
    };
    await gate(event);
    expect(notices.map((n) => n.sections)).toEqual([['intro', 'results']]);
    const store = createRegistryReviewStore(registry);
    const token = notices[0]!.token;
    const approve = (sections: Record<string, SectionVerdict>) => decideReview(store, arnOf(runId), 'review', { token, reviewer: 'ana', sections }, 'approved');
    await expect(approve({ methods: { verdict: 'approve' } })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringMatching(/no section "methods"/),
    });
    await expect(approve({ results: { verdict: 'send-back', note: 'x'.repeat(4001) } })).rejects.toMatchObject({ code: 'InvalidInput' });
    expect(await store.open(arnOf(runId), 'review')).toMatchObject([{ stepPath: 'rounds@0/review', sections: ['intro', 'results'], status: 'open' }]);
    const sections: Record<string, SectionVerdict> = { intro: { verdict: 'approve' }, results: { verdict: 'send-back', note: 'add the 10 mg arm' } };
    expect(await approve(sections)).toEqual({
      taskToken: `TT-${runId}`,
      verdict: 'approved',
      output: { approved: true, reviewer: 'ana', comment: null, sections },
    });
    expect(await store.open(arnOf(runId), 'review')).toEqual([]);
    await expect(approve(sections)).rejects.toMatchObject({ code: 'ReviewTokenUsed' });
  });

  it('a section list that is not strings fails the gate with States.Runtime and records nothing', async () => {
    const secretArn = await moto.createSecret(postgresUrl);
    const gate = createReviewGateLambda({
      env: { ...moto.env, BATON_DATABASE_SECRET_ARN: secretArn },
      notifier: () => undefined,
      logger: createJsonLogger({ write: () => undefined }),
    });
    const runId = `run-${randomUUID().slice(0, 8)}`;
    const event = {
      taskToken: 'TT',
      executionId: arnOf(runId),
      gate: 'review',
      stepPath: 'review',
      timeoutSeconds: 60,
      sections: [1, 2],
      payload: {},
    } as unknown as ReviewGateEvent;
    await expect(gate(event)).rejects.toMatchObject({ name: 'States.Runtime' });
    expect(await createRegistryReviewStore(registry).list(arnOf(runId))).toEqual([]);
  });
});
