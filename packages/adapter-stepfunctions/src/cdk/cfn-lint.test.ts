import { conformancePipelines } from '@baton/core/testkit';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyPipeline } from '@baton/core';
import { cfnLint } from './cfn-lint.js';
import { BatonStateMachine } from './construct.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-cfn-lint-'));
const examples = ['report-generation', 'support-triage'].map((e) => fileURLToPath(new URL(`../../../../examples/${e}/dist/index.js`, import.meta.url)));

/** Synthesizes a pipeline's stack (prebuilt inline code: bundling is the generated-app test's job) into a template file. */
function synthTemplate(pipeline: AnyPipeline): string {
  const app = new App();
  const stack = new Stack(app, `Lint${pipeline.name.replace(/\W/g, '')}`, { env: { account: '123456789012', region: 'eu-west-1' } });
  const databaseSecret = Secret.fromSecretCompleteArn(stack, 'Db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf');
  new BatonStateMachine(stack, 'Pipeline', {
    pipeline,
    stageEntry: () => '',
    code: () => lambda.Code.fromInline('exports.handler = async () => null;'),
    model: { provider: 'bedrock', modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
    registry: { databaseSecret },
    dashboardUrl: 'https://baton.example.com',
  });
  const file = join(dir, `${pipeline.name}.template.json`);
  writeFileSync(file, JSON.stringify(app.synth().getStackByName(stack.stackName).template));
  return file;
}

describe('cfn-lint on synthesized templates', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports no error on every example pipeline, and on conformance pipelines of the shapes the examples lack', async () => {
    // parallel, choice, a repair loop, catch handlers, a stage timeout
    const shapes = ['kit-parallel', 'kit-choice', 'kit-repair', 'kit-exhausted', 'kit-timeout'];
    const pipelines: AnyPipeline[] = conformancePipelines.filter((p) => shapes.includes(p.name));
    for (const file of examples) pipelines.push(...((await import(pathToFileURL(file).href)) as { pipelines: AnyPipeline[] }).pipelines);
    expect(pipelines.map((p) => p.name)).toEqual(expect.arrayContaining(['report', 'support-triage']));
    const files = pipelines.map(synthTemplate);
    const errors = cfnLint(files).filter((f) => f.Level === 'Error');
    expect(errors.map((e) => `${e.Filename}: ${e.Rule.Id} ${e.Message}`)).toEqual([]);
  });

  it('is a real check: it reports the error of a broken template', () => {
    const file = join(dir, 'broken.template.json');
    writeFileSync(file, JSON.stringify({ Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 'a fortnight' } } } }));
    expect(cfnLint([file]).filter((f) => f.Level === 'Error').length).toBeGreaterThan(0);
  });
});
