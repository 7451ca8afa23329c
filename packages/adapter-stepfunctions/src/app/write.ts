import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyPipeline } from '@baton/core';
import { compileToAsl } from '../compile/compile.js';
import { deployedCompileOptions } from '../compile/deployed.js';
import { estimateRunCost } from '../compile/limits.js';
import type { CompileOptions, CompiledMachine } from '../compile/types.js';

/** Options of {@link writeStepFunctionsApp}. */
export interface WriteAppOptions extends CompileOptions {
  /** Output directory (created). */
  outDir: string;
  /** Import specifier of the module exporting the pipeline, as the CDK app will import it (`@acme/report`). */
  pipelineModule: string;
  /** Name of the pipeline's export in that module. */
  exportName: string;
  /** Model of the stages that call one, written into cdk.json (`bedrock:<modelId>`, see `modelFromSpec`). */
  model?: string;
  /** ARN of the Secrets Manager secret of the registry's PostgreSQL, written into cdk.json. */
  databaseSecretArn?: string;
  /** Base URL of the dashboard (review links), written into cdk.json. */
  dashboardUrl?: string;
  /** `sns`, `eventbridge[:<bus>]` or `webhook:<url>[#<secretArn>]`, written into cdk.json. */
  reviewNotifier?: string;
  /**
   * Model budgets by model id, as JSON (core's `ModelBudgets`), written into cdk.json: the app's
   * `BatonStateMachine` gets `modelBudgets`, and the ASL written here has `MODEL_BUDGET_RETRY` as deployed.
   */
  modelBudgets?: string;
  /**
   * Stage name → the name under which `pipelineModule` exports that stage (see
   * {@link stageExportsOf}). Each stage listed gets its own handler entry importing only that
   * stage, so its Lambda bundle holds no other stage's code (the reference report's `generate`
   * function: about 0.6 MB minified instead of 2.2 MB). A stage not listed runs from an entry
   * that imports the whole pipeline. @default none: every function bundles the whole pipeline
   */
  stageExports?: Record<string, string>;
}

/**
 * For {@link WriteAppOptions.stageExports}: the name under which a module exports each of the
 * pipeline's stages (the same object, not only the same name). Stages the module does not
 * export are left out: their functions bundle the whole pipeline.
 *
 * @example
 * ```ts
 * const mod = await import('@baton/example-report');
 * writeStepFunctionsApp(mod.reportPipeline, {
 *   outDir: 'out/sfn', pipelineModule: '@baton/example-report', exportName: 'reportPipeline',
 *   stageExports: stageExportsOf(mod, mod.reportPipeline),
 * });
 * ```
 */
export function stageExportsOf(moduleExports: Record<string, unknown>, pipeline: AnyPipeline): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, stage] of pipeline.stages) {
    const found = Object.keys(moduleExports).find((k) => moduleExports[k] === stage && /^[A-Za-z_$][\w$]*$/.test(k));
    if (found) out[name] = found;
  }
  return out;
}

/** What {@link writeStepFunctionsApp} wrote. */
export interface WrittenApp {
  compiled: CompiledMachine;
  files: string[];
  /**
   * Stage name → the entry file of its function, relative to `outDir`: `cdk/handlers/stages/<stage>.ts`
   * (that stage only) for the stages in `stageExports`, `cdk/handlers/stage.ts` (the whole pipeline) for the others.
   */
  stageEntries: Record<string, string>;
}

/**
 * Writes what `baton compile --target stepfunctions --out <dir>` produces: the ASL JSON (function
 * ARNs as `${fn_<stage>}` definition substitutions), a compile report (issues, transitions per
 * run, task bindings) and a ready CDK app (`cdk/`) deploying it with `BatonStateMachine`: one
 * Lambda per stage, the review gate and the registry writer (handlers from `@baton/aws-runtime`),
 * claim checks in S3, the dead-letter queue and alarms. Deployment settings (model, registry secret,
 * dashboard URL, notifier) go into `cdk/cdk.json` when given, else `cdk deploy -c key=value`.
 *
 * @example
 * ```ts
 * writeStepFunctionsApp(reportPipeline, { outDir: 'out/sfn', pipelineModule: '@baton/example-report', exportName: 'reportPipeline' });
 * ```
 */
export function writeStepFunctionsApp(pipeline: AnyPipeline, options: WriteAppOptions): WrittenApp {
  const {
    outDir,
    pipelineModule,
    exportName,
    model: _m,
    databaseSecretArn: _d,
    dashboardUrl: _u,
    reviewNotifier: _n,
    modelBudgets: _b,
    stageExports = {},
    ...compileOptions
  } = options;
  const key = (stage: string): string => `fn_${stage.replace(/\W/g, '_')}`;
  // the machine BatonStateMachine deploys with its defaults (execution timeout, model retry)
  const deployed = deployedCompileOptions(pipeline, { type: compileOptions.type ?? 'STANDARD', ...(options.modelBudgets ? { modelBudgets: true } : {}) });
  const compiled = compileToAsl(pipeline, { ...compileOptions, functionArn: (s) => `\${${key(s)}}`, reviewFunctionArn: '${fn_review_gate}', ...deployed });
  // one entry per exported stage (a bundle with that stage only); the others share the pipeline's
  const stageEntries = entryFiles(pipeline, stageExports);
  const wholePipeline = [...pipeline.stages.keys()].filter((s) => !stageEntries[s]);
  const files: Record<string, string> = {};
  files[`${pipeline.name}.asl.json`] = JSON.stringify(compiled.definition, null, 2);
  files['compile-report.json'] = JSON.stringify(
    {
      pipeline: pipeline.name,
      type: compiled.type,
      issues: compiled.issues,
      transitionsPerRun: estimateRunCost(compiled.definition, compileOptions.expectedItems ?? {}),
      stageEntries: Object.fromEntries(
        [...pipeline.stages.keys()].map((s) => [
          s,
          stageEntries[s] ? `cdk/handlers/${stageEntries[s]}` : `cdk/handlers/stage.ts (the whole pipeline: ${pipelineModule} does not export this stage)`,
        ]),
      ),
      substitutions: Object.fromEntries([...pipeline.stages.keys()].map((s) => [key(s), `ARN of the Lambda running stage "${s}"`])),
      tasks: compiled.tasks,
    },
    null,
    2,
  );
  const hasReview = Object.values(compiled.tasks).some((t) => t.kind === 'approval');
  const usesModel = [...pipeline.stages.values()].some((s) => s.usesModel);
  const context: Record<string, string> = {};
  if (options.model) context.model = options.model;
  if (options.databaseSecretArn) context.databaseSecretArn = options.databaseSecretArn;
  if (options.dashboardUrl) context.dashboardUrl = options.dashboardUrl;
  if (options.reviewNotifier) context.reviewNotifier = options.reviewNotifier;
  if (options.modelBudgets) context.modelBudgets = options.modelBudgets;
  files['cdk/package.json'] = JSON.stringify(
    {
      name: `${pipeline.name}-stepfunctions`,
      private: true,
      type: 'module',
      scripts: { synth: 'cdk synth', deploy: 'cdk deploy' },
      dependencies: {
        '@baton/adapter-stepfunctions': '*',
        '@baton/aws-runtime': '*',
        '@baton/core': '*',
        [pipelineModule]: '*',
        'aws-cdk-lib': '^2.276.0',
        constructs: '^10.8.1',
      },
      devDependencies: { 'aws-cdk': '^2', esbuild: '^0.25', tsx: '^4' },
    },
    null,
    2,
  );
  files['cdk/cdk.json'] = JSON.stringify({ app: 'npx tsx bin/app.ts', context }, null, 2);
  files['cdk/bin/app.ts'] = `import { BatonStateMachine, deploymentFromContext } from '@baton/adapter-stepfunctions/cdk';
import { App, Stack } from 'aws-cdk-lib';
import { fileURLToPath } from 'node:url';
import { ${exportName} as pipeline } from '${pipelineModule}';

// Deployment settings come from CDK context (cdk.json, or -c key=value on the command line):
//   model              bedrock:<modelId> | bedrock-profile:<profileId>#<foundationModelId>#<regions> | openai:<baseUrl>#<model>#<keySecretArn>
//   databaseSecretArn  Secrets Manager secret of the run registry's PostgreSQL (URL or RDS JSON)
//   dashboardUrl       base URL of the Baton dashboard (the review link in notices)
//   reviewNotifier     sns (default) | eventbridge[:<bus>] | webhook:<url>[#<signingSecretArn>]
const app = new App();
const stack = new Stack(app, '${stackName(pipeline.name)}', { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } });
const handler = (file: string): string => fileURLToPath(new URL(\`../handlers/\${file}\`, import.meta.url));
// one entry per stage the pipeline module exports: each function bundles only its own stage
const stageEntries: Record<string, string> = ${JSON.stringify(stageEntries)};
const machine = new BatonStateMachine(stack, 'Pipeline', {
  pipeline,
  type: '${compiled.type}',
  stageEntry: (stage) => handler(stageEntries[stage] ?? 'stage.ts'),
  ${hasReview ? "reviewGateEntry: handler('review-gate.ts'),\n  " : ''}registryWriterEntry: handler('registry-writer.ts'),
  deadLetterEntry: handler('dead-letter.ts'),
  compile: ${JSON.stringify({ expectedItems: compileOptions.expectedItems ?? {}, itemStepPaths: compileOptions.itemStepPaths ?? 'indexed', lambdaIntegration: compiled.lambdaIntegration })},
  ...deploymentFromContext(stack),
});
// let the operators' role (CLI, dashboard) answer review task tokens: machine.grantReview(role)
void machine;
app.synth();
`;
  if (wholePipeline.length > 0) {
    files['cdk/handlers/stage.ts'] = `import { createStageLambda } from '@baton/aws-runtime';
import { ${exportName} as pipeline } from '${pipelineModule}';

// the functions of stages ${pipelineModule} does not export (${wholePipeline.join(', ')}): each bundles
// the whole pipeline; BATON_STAGE (set by BatonStateMachine) picks the stage it runs
export const handler = createStageLambda({ pipeline });
`;
  }
  for (const [stage, file] of Object.entries(stageEntries)) {
    files[`cdk/handlers/${file}`] = `import { createStageLambda } from '@baton/aws-runtime';
import { ${stageExports[stage]} as stage } from '${pipelineModule}';

// stage "${stage}" only: this function's bundle holds no other stage's code
export const handler = createStageLambda({ pipeline: { name: ${JSON.stringify(pipeline.name)}, stages: new Map([[stage.name, stage]]) } });
`;
  }
  files['cdk/handlers/registry-writer.ts'] = `import { createRegistryWriterLambda } from '@baton/aws-runtime';

// execution status changes (EventBridge) -> pipeline_run rows in the registry
export const handler = createRegistryWriterLambda();
`;
  files['cdk/handlers/dead-letter.ts'] = `import { createDeadLetterLambda } from '@baton/aws-runtime';

// failed, timed-out and stopped executions (EventBridge) -> their context on the dead-letter queue
export const handler = createDeadLetterLambda();
`;
  if (hasReview) {
    files['cdk/handlers/review-gate.ts'] = `import { createReviewGateLambda } from '@baton/aws-runtime';

// records the pending review in the registry (hashed token) and notifies the reviewer
export const handler = createReviewGateLambda();
`;
  }
  const missing = [
    !options.model && usesModel ? '-c model=bedrock:<modelId>' : '',
    !options.databaseSecretArn ? '-c databaseSecretArn=<secret ARN>' : '',
  ].filter(Boolean);
  files['cdk/README.md'] = `# ${pipeline.name} on AWS Step Functions

Generated by \`baton compile --target stepfunctions\`. The state machine is \`../${pipeline.name}.asl.json\`;
\`../compile-report.json\` lists warnings and the state transitions a run costs.

\`\`\`sh
npm install
npx cdk deploy${missing.length ? ' ' + missing.join(' ') : ''}
\`\`\`

Settings (in \`cdk.json\` "context", or \`-c key=value\`): \`model\`, \`databaseSecretArn\`, \`dashboardUrl\`,
\`reviewNotifier\` (see bin/app.ts). The stack outputs the state machine ARN, the claim-check bucket, the
dead-letter queue URL and the review topic: subscribe reviewers to the topic, and operators to the alarm topics.
`;
  for (const [rel, text] of Object.entries(files)) {
    const path = join(outDir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text.endsWith('\n') ? text : text + '\n');
  }
  const entries = Object.fromEntries([...pipeline.stages.keys()].map((s) => [s, `cdk/handlers/${stageEntries[s] ?? 'stage.ts'}`]));
  return { compiled, files: Object.keys(files), stageEntries: entries };
}

/** Stage name → its entry file under `cdk/handlers/` (`stages/<name>.ts`), for the stages in `exports`. */
function entryFiles(pipeline: AnyPipeline, exports: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  for (const name of pipeline.stages.keys()) {
    const exported = exports[name];
    if (exported === undefined) continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(exported)) throw new Error(`stageExports: "${exported}" (stage "${name}") is not an export name`);
    const base = name.replace(/[^A-Za-z0-9_-]/g, '_');
    let file = `stages/${base}.ts`;
    for (let i = 2; taken.has(file); i++) file = `stages/${base}-${i}.ts`;
    taken.add(file);
    out[name] = file;
  }
  return out;
}

function stackName(name: string): string {
  return name.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '') + 'StepFunctions';
}
