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
import { stageExportsOf, writeStepFunctionsApp } from './write.js';

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

describe('per-stage entries (stageExports): each function bundles its own stage only', () => {
  const pipeline = kit('kit-approval');
  const stages = [...pipeline.stages.entries()];

  it('finds the exports holding the very stage objects, and writes one entry per exported stage', () => {
    const [[first, stage]] = stages as [[string, unknown]];
    // a look-alike under another name is not the stage; a name that is not an identifier is skipped
    const exports = stageExportsOf({ lookAlike: { ...(stage as object) }, 'not-an-id': stage, kitStep: stage }, pipeline);
    expect(exports).toEqual({ [first]: 'kitStep' });
    const outDir = mkdtempSync(join(tmpdir(), 'baton-sfn-app-'));
    const written = writeStepFunctionsApp(pipeline, { outDir, pipelineModule: '@acme/kit', exportName: 'kitApproval', stageExports: exports });
    const file = `cdk/handlers/stages/${first}.ts`;
    expect(written.stageEntries[first]).toBe(file);
    const entry = readFileSync(join(outDir, file), 'utf8');
    expect(entry).toContain("import { kitStep as stage } from '@acme/kit';");
    expect(entry).toContain('createStageLambda({ pipeline: { name: "kit-approval", stages: new Map([[stage.name, stage]]) } })');
    expect(entry).not.toContain('kitApproval');
    // the stages not exported share the whole-pipeline entry, and the report says why
    const others = stages.map(([n]) => n).filter((n) => n !== first);
    expect(others.length).toBeGreaterThan(0);
    for (const n of others) expect(written.stageEntries[n]).toBe('cdk/handlers/stage.ts');
    expect(readFileSync(join(outDir, 'cdk/handlers/stage.ts'), 'utf8')).toContain("import { kitApproval as pipeline } from '@acme/kit';");
    const report = JSON.parse(readFileSync(join(outDir, 'compile-report.json'), 'utf8')) as { stageEntries: Record<string, string> };
    expect(report.stageEntries[first]).toBe(file);
    expect(report.stageEntries[others[0]!]).toContain('does not export this stage');
    const app = readFileSync(join(outDir, 'cdk/bin/app.ts'), 'utf8');
    expect(app).toContain(`const stageEntries: Record<string, string> = ${JSON.stringify({ [first]: `stages/${first}.ts` })};`);
    expect(app).toContain("stageEntry: (stage) => handler(stageEntries[stage] ?? 'stage.ts'),");
  });

  it('writes no whole-pipeline entry when every stage is exported', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'baton-sfn-app-'));
    const exports = Object.fromEntries(stages.map(([n], i) => [n, `stage${i}`]));
    const written = writeStepFunctionsApp(pipeline, { outDir, pipelineModule: '@acme/kit', exportName: 'kitApproval', stageExports: exports });
    expect(written.files).not.toContain('cdk/handlers/stage.ts');
    expect(Object.values(written.stageEntries).every((f) => f.startsWith('cdk/handlers/stages/'))).toBe(true);
  });

  it('refuses an export name that is not an identifier (it would be written into an import)', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'baton-sfn-app-'));
    const [first] = stages[0]!;
    expect(() =>
      writeStepFunctionsApp(pipeline, { outDir, pipelineModule: '@acme/kit', exportName: 'kitApproval', stageExports: { [first]: "x } from 'evil'; //" } }),
    ).toThrow(/is not an export name/);
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
