import { Match, Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyPipeline } from '@baton/core';
import { cfnLint } from '../cdk/cfn-lint.js';
import { stageExportsOf, writeStepFunctionsApp } from './write.js';

const pkg = fileURLToPath(new URL('../../', import.meta.url));
const example = fileURLToPath(new URL('../../../../examples/report-generation/dist/index.js', import.meta.url));
// under the package so that the generated app resolves @baton/* like an installed app would
const cache = join(pkg, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'baton-sfn-app-'));

describe('generated CDK app of the reference example: offline cdk synth', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('synthesizes (esbuild bundling) into a template with the state machine, functions, logs and least-privilege IAM that cfn-lint passes', async () => {
    expect(existsSync(example), 'build examples/report-generation first').toBe(true);
    expect(existsSync(join(pkg, 'dist/cdk/index.js')), 'build this package first (the app imports @baton/adapter-stepfunctions/cdk)').toBe(true);
    const mod = (await import(pathToFileURL(example).href)) as { reportPipeline: AnyPipeline };
    const { reportPipeline } = mod;
    const written = writeStepFunctionsApp(reportPipeline, {
      outDir: dir,
      pipelineModule: '@baton/example-report',
      exportName: 'reportPipeline',
      // the example exports its stages: every function gets an entry with its own stage only
      stageExports: stageExportsOf(mod, reportPipeline),
      expectedItems: { sections: 40 },
      model: 'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0',
      databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf',
      dashboardUrl: 'https://baton.example.com',
    });
    const out = join(dir, 'cdk.out');
    // what `cdk synth` does: the app with cdk.json's context, an account and a region
    const { context } = JSON.parse(readFileSync(join(dir, 'cdk/cdk.json'), 'utf8')) as { context: Record<string, string> };
    expect(context).toMatchObject({ model: expect.stringMatching(/^bedrock:/), databaseSecretArn: expect.stringMatching(/^arn:aws:secretsmanager:/) });
    const env = {
      ...process.env,
      CDK_OUTDIR: out,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_DEFAULT_ACCOUNT: '123456789012',
      CDK_DEFAULT_REGION: 'eu-west-1',
    };
    execFileSync(process.execPath, ['--import', 'tsx', join(dir, 'cdk/bin/app.ts')], { cwd: join(dir, 'cdk'), env, stdio: 'pipe' });
    const template = Template.fromJSON(JSON.parse(readFileSync(join(out, 'ReportStepFunctions.template.json'), 'utf8')) as Record<string, unknown>);
    const stages = [...reportPipeline.stages.keys()];
    // a function per stage, the review gate, the registry writer, the dead letters
    template.resourceCountIs('AWS::Lambda::Function', stages.length + 3);
    const templateFile = join(out, 'ReportStepFunctions.template.json');
    expect(cfnLint([templateFile]).filter((f) => f.Level === 'Error')).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_STAGE: 'generate', BATON_MODEL_PROVIDER: 'bedrock' }) },
    });
    template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'report',
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { DefinitionString: string; DefinitionSubstitutions: Record<string, unknown> };
    };
    expect(JSON.parse(sm.Properties.DefinitionString)).toEqual(JSON.parse(readFileSync(join(dir, 'report.asl.json'), 'utf8')));
    expect(Object.keys(sm.Properties.DefinitionSubstitutions).sort()).toEqual([...stages.map((s) => `fn_${s.replace(/\W/g, '_')}`), 'fn_review_gate'].sort());
    const smPolicy = JSON.stringify(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('StateMachineRole') }] } }),
    );
    expect(smPolicy).toContain('lambda:InvokeFunction');
    expect((JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: object }).artifacts).toBeDefined();
    // one entry per stage, so one bundle per stage: only assemble's holds the DOCX writer; ingest's
    // PDF parser (its stage's `unbundled`) is shipped beside its bundle, loaded on the first PDF
    expect(new Set(Object.values(written.stageEntries)).size).toBe(stages.length);
    expect(existsSync(join(dir, 'cdk/handlers/stage.ts'))).toBe(false);
    const bundleOf = (stage: string): string => {
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (r) => (r as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.BATON_STAGE === stage,
      ) as { Properties: { Code: { S3Key: string } } };
      return join(out, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    };
    const pdfjs = 'PDFDocumentProxy';
    for (const stage of ['ingest', 'generate', 'plan', 'assemble']) expect(readFileSync(bundleOf(stage), 'utf8'), stage).not.toContain(pdfjs);
    expect(readFileSync(bundleOf('ingest'), 'utf8')).toMatch(/from\s*"unpdf"/);
    const shipped = join(dirname(bundleOf('ingest')), 'node_modules/unpdf');
    expect((JSON.parse(readFileSync(join(shipped, 'package.json'), 'utf8')) as { name: string }).name).toBe('unpdf');
    expect(readFileSync(join(shipped, 'dist/pdfjs.mjs'), 'utf8')).toContain(pdfjs);
    expect(existsSync(join(dirname(bundleOf('generate')), 'node_modules'))).toBe(false);
    expect(readFileSync(bundleOf('generate'), 'utf8')).not.toContain('"Packer"');
    expect(readFileSync(bundleOf('assemble'), 'utf8')).toContain('"Packer"');
    // a bundled stage Lambda loads as an ES module and exports its handler
    process.env.BATON_STAGE = 'plan';
    process.env.BATON_BUCKET = 'bucket';
    const loaded = (await import(pathToFileURL(bundleOf('plan')).href)) as { handler: unknown };
    expect(typeof loaded.handler).toBe('function');
  }, 240_000);
});
