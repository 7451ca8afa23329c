import { stageExportsOf, writeStepFunctionsApp } from '@baton/adapter-stepfunctions';
import type { AnyPipeline } from '@baton/core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The reference deployment settings, as adapter-stepfunctions' synth test writes them. */
export const REFERENCE = {
  model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
  databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf',
  dashboardUrl: 'https://baton.example.com',
  account: '123456789012',
  region: 'eu-west-1',
} as const;

// under the package, so that the generated app resolves @baton/* as an installed app would
const CACHE = resolve(import.meta.dirname, '../../../node_modules/.cache');

/**
 * Synthesizes the generated CDK app of a pipeline exactly as `cdk synth` would and as
 * adapter-stepfunctions' src/app/synth.test.ts does: writeStepFunctionsApp with model, database
 * secret and dashboard URL in cdk.json, then `tsx bin/app.ts` with CDK_CONTEXT_JSON, an account and
 * a region (esbuild bundles every function into cdk.out). With `moduleExports` (the pipeline
 * module's namespace), each stage it exports gets its own entry. Returns the app directory and cdk.out.
 */
export function synthesizeApp(
  pipeline: AnyPipeline,
  options: { pipelineModule: string; exportName: string; expectedItems?: Record<string, number>; moduleExports?: Record<string, unknown> },
): { dir: string; cdkOut: string } {
  mkdirSync(CACHE, { recursive: true });
  const dir = mkdtempSync(join(CACHE, 'baton-rehearsal-'));
  writeStepFunctionsApp(pipeline, {
    outDir: dir,
    pipelineModule: options.pipelineModule,
    exportName: options.exportName,
    // with the module's exports: one entry (and bundle) per stage it exports, as `baton compile` writes
    ...(options.moduleExports ? { stageExports: stageExportsOf(options.moduleExports, pipeline) } : {}),
    expectedItems: options.expectedItems ?? { sections: 40 },
    model: `bedrock:${REFERENCE.model}`,
    databaseSecretArn: REFERENCE.databaseSecretArn,
    dashboardUrl: REFERENCE.dashboardUrl,
  });
  const cdkOut = join(dir, 'cdk.out');
  const { context } = JSON.parse(readFileSync(join(dir, 'cdk/cdk.json'), 'utf8')) as { context: Record<string, string> };
  const env = {
    ...process.env,
    CDK_OUTDIR: cdkOut,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DEFAULT_ACCOUNT: REFERENCE.account,
    CDK_DEFAULT_REGION: REFERENCE.region,
  };
  execFileSync(process.execPath, ['--import', 'tsx', join(dir, 'cdk/bin/app.ts')], { cwd: join(dir, 'cdk'), env, stdio: 'pipe' });
  return { dir, cdkOut };
}
