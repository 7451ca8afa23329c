import { isStageError } from '@baton/core';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CliError } from '../errors.js';
import { exportNameOf, findPipeline, loadPipelines, moduleExports } from '../pipelines.js';

/** Options of `baton compile`. */
export interface CompileCommandOptions {
  target: string;
  out: string;
  /** Step Functions workflow type. @default 'STANDARD' */
  type?: string;
  /** Model spec written into the app's cdk.json (`bedrock:<modelId>`…). */
  model?: string;
  /** Secrets Manager ARN of the registry's PostgreSQL, written into cdk.json. */
  databaseSecretArn?: string;
  /** Dashboard base URL (review links), written into cdk.json. */
  dashboardUrl?: string;
  /** `sns`, `eventbridge[:<bus>]` or `webhook:<url>[#<secretArn>]`, written into cdk.json. */
  reviewNotifier?: string;
}

/**
 * `baton compile [pipeline...] --target stepfunctions --out <dir>`: writes, per pipeline, the ASL
 * JSON, a compile report and a CDK app into `<out>/<pipeline>/` (through adapter-stepfunctions'
 * `writeStepFunctionsApp`). Every pipeline of `--pipelines` when none is named.
 */
export async function compileCommand(names: string[], opts: CompileCommandOptions, pipelinesSpec: string): Promise<number> {
  if (opts.target !== 'stepfunctions')
    throw new CliError(`--target ${opts.target}: only "stepfunctions" can be compiled (the other engines interpret the pipeline IR at run time)`);
  const type = (opts.type ?? 'STANDARD').toUpperCase();
  if (type !== 'STANDARD' && type !== 'EXPRESS') throw new CliError(`--type ${opts.type}: use STANDARD or EXPRESS`);
  const all = await loadPipelines(pipelinesSpec);
  const chosen = names.length ? names.map((n) => findPipeline(all, n, pipelinesSpec)) : all;
  const { stageExportsOf, writeStepFunctionsApp } = await import('@baton/adapter-stepfunctions');
  const exported = await moduleExports(pipelinesSpec);
  if (pipelinesSpec.startsWith('.') || isAbsolute(pipelinesSpec)) {
    process.stderr.write(
      `note: the CDK app imports the pipelines as "${pipelinesSpec}" and lists it as a dependency; pass a package name with --pipelines for an app you can install and deploy elsewhere\n`,
    );
  }
  let failed = 0;
  for (const pipeline of chosen) {
    const outDir = resolve(opts.out, pipeline.name);
    try {
      const settings = {
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.databaseSecretArn ? { databaseSecretArn: opts.databaseSecretArn } : {}),
        ...(opts.dashboardUrl ? { dashboardUrl: opts.dashboardUrl } : {}),
        ...(opts.reviewNotifier ? { reviewNotifier: opts.reviewNotifier } : {}),
      };
      const written = writeStepFunctionsApp(pipeline, {
        outDir,
        type,
        pipelineModule: pipelinesSpec,
        exportName: await exportNameOf(pipelinesSpec, pipeline),
        // each stage the module exports gets an entry of its own (a bundle without the other stages)
        stageExports: stageExportsOf(exported, pipeline),
        ...settings,
      });
      const warnings = written.compiled.issues.filter((i) => i.severity !== 'error');
      process.stdout.write(
        `${pipeline.name}: ${type} state machine, ${Object.keys(written.compiled.definition.States).length} top-level states -> ${outDir}\n`,
      );
      for (const f of written.files) process.stdout.write(`  ${relative(process.cwd(), join(outDir, f)) || f}\n`);
      for (const w of warnings) process.stdout.write(`  warning: ${w.step}: ${w.message}\n`);
      const whole = Object.keys(written.stageEntries).filter((s) => written.stageEntries[s] === 'cdk/handlers/stage.ts');
      if (whole.length > 0)
        process.stdout.write(
          `  note: ${pipelinesSpec} does not export stage(s) ${whole.join(', ')}: their functions bundle the whole pipeline; export each stage by name for a smaller bundle\n`,
        );
    } catch (e) {
      if (!isStageError(e)) throw e;
      failed++;
      process.stderr.write(`baton: ${pipeline.name}: ${e.message}\n`);
    }
  }
  if (!failed) {
    const missing = [opts.model ? '' : ' -c model=bedrock:<modelId>', opts.databaseSecretArn ? '' : ' -c databaseSecretArn=<secret ARN>'].join('');
    process.stdout.write(`deploy: cd ${relative(process.cwd(), resolve(opts.out)) || '.'}/<pipeline>/cdk && npm install && npx cdk deploy${missing}\n`);
  }
  return failed ? 1 : 0;
}
