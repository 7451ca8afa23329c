import { createMemoryBlobStore } from '@baton/core';
import { createReviewToken } from '@baton/core/engine';
import { conformancePipelines } from '@baton/core/testkit';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateAsl } from '../compile/validate.js';
import { createBlobReviewStore } from '../lambda/blob-reviews.js';
import { decideReview } from '../lambda/reviews.js';
import { writeStepFunctionsApp } from './write.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;

describe('writeStepFunctionsApp (baton compile --target stepfunctions --out <dir>)', { timeout: 60_000 }, () => {
  it('writes the ASL with function substitutions, a compile report and a CDK app', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'baton-sfn-app-'));
    const { files, compiled } = writeStepFunctionsApp(kit('kit-approval'), {
      outDir,
      pipelineModule: '@acme/kit',
      exportName: 'kitApproval',
      expectedItems: {},
    });
    expect(files.sort()).toEqual(
      [
        'cdk/README.md',
        'cdk/bin/app.ts',
        'cdk/cdk.json',
        'cdk/handlers/dead-letter.ts',
        'cdk/handlers/registry-writer.ts',
        'cdk/handlers/review-gate.ts',
        'cdk/handlers/stage.ts',
        'cdk/package.json',
        'compile-report.json',
        'kit-approval.asl.json',
      ].sort(),
    );
    const asl = JSON.parse(readFileSync(join(outDir, 'kit-approval.asl.json'), 'utf8')) as typeof compiled.definition;
    expect(asl).toEqual(compiled.definition);
    expect(asl.States.draft).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${fn_kit_step}' } });
    // what CloudFormation does with DefinitionSubstitutions at deploy time
    const deployed = JSON.parse(JSON.stringify(asl).replace(/\$\{fn_(\w+)\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1')) as typeof asl;
    expect(validateAsl(deployed).errorsText).toBe('');
    const report = JSON.parse(readFileSync(join(outDir, 'compile-report.json'), 'utf8')) as {
      transitionsPerRun: { transitions: number };
      substitutions: Record<string, string>;
    };
    expect(report.transitionsPerRun.transitions).toBe(3);
    expect(Object.keys(report.substitutions).sort()).toEqual(['fn_kit_handler', 'fn_kit_step']);
    const app = readFileSync(join(outDir, 'cdk/bin/app.ts'), 'utf8');
    expect(app).toContain("import { kitApproval as pipeline } from '@acme/kit';");
    expect(app).toContain('new BatonStateMachine(stack');
    expect(app).toContain("reviewGateEntry: handler('review-gate.ts')");
    expect(JSON.parse(readFileSync(join(outDir, 'cdk/cdk.json'), 'utf8'))).toEqual({ app: 'npx tsx bin/app.ts', context: {} });
    expect(app).toContain('...deploymentFromContext(stack)');
    expect(readFileSync(join(outDir, 'cdk/handlers/stage.ts'), 'utf8')).toContain("import { createStageLambda } from '@baton/aws-runtime';");
  });
});

describe('createBlobReviewStore', () => {
  it('stores reviews as blobs; decisions are single use (a second use is ReviewTokenUsed)', async () => {
    const store = createBlobReviewStore(createMemoryBlobStore());
    const { token, hash } = createReviewToken();
    const arn = 'arn:aws:states:eu-west-1:1:execution:report:run-1';
    await store.put({
      runId: 'run-1',
      executionArn: arn,
      gate: 'review',
      stepPath: 'sections[1]/review',
      payload: { a: 1 },
      createdAt: 'c',
      expiresAt: 'e',
      tokenHash: hash,
      taskToken: 'TT',
      status: 'open',
    });
    expect(await store.open(arn, 'review')).toHaveLength(1);
    expect(await decideReview(store, arn, 'review', { token }, 'approved')).toMatchObject({ taskToken: 'TT', verdict: 'approved' });
    expect(await store.open(arn, 'review')).toHaveLength(0);
    expect((await store.list(arn))[0]).toMatchObject({ status: 'approved', payload: { a: 1 } });
    await expect(decideReview(store, arn, 'review', { token }, 'approved')).rejects.toMatchObject({ code: 'ReviewTokenUsed' });
  });
});
