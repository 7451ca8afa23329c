import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyPipeline } from '@baton/core';
import { compileToAsl } from '../compile/compile.js';
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
}

/** What {@link writeStepFunctionsApp} wrote. */
export interface WrittenApp {
  compiled: CompiledMachine;
  files: string[];
}

/**
 * Writes what `baton compile --target stepfunctions --out <dir>` produces: the ASL JSON (function
 * ARNs as `${fn_<stage>}` definition substitutions), a compile report (issues, transitions per
 * run, task bindings) and a ready CDK app (`cdk/`) deploying it with {@link BatonStateMachine}:
 * one Lambda per stage, the review gate, S3 claim checks and reviews.
 *
 * @example
 * ```ts
 * writeStepFunctionsApp(reportPipeline, { outDir: 'out/sfn', pipelineModule: '@baton/example-report', exportName: 'reportPipeline' });
 * ```
 */
export function writeStepFunctionsApp(pipeline: AnyPipeline, options: WriteAppOptions): WrittenApp {
  const { outDir, pipelineModule, exportName, ...compileOptions } = options;
  const key = (stage: string): string => `fn_${stage.replace(/\W/g, '_')}`;
  const compiled = compileToAsl(pipeline, { ...compileOptions, functionArn: (s) => `\${${key(s)}}`, reviewFunctionArn: '${fn_review_gate}' });
  const files: Record<string, string> = {};
  files[`${pipeline.name}.asl.json`] = JSON.stringify(compiled.definition, null, 2);
  files['compile-report.json'] = JSON.stringify(
    {
      pipeline: pipeline.name,
      type: compiled.type,
      issues: compiled.issues,
      transitionsPerRun: estimateRunCost(compiled.definition, compileOptions.expectedItems ?? {}),
      substitutions: Object.fromEntries([...pipeline.stages.keys()].map((s) => [key(s), `ARN of the Lambda running stage "${s}"`])),
      tasks: compiled.tasks,
    },
    null,
    2,
  );
  const hasReview = Object.values(compiled.tasks).some((t) => t.kind === 'approval');
  files['cdk/package.json'] = JSON.stringify(
    {
      name: `${pipeline.name}-stepfunctions`,
      private: true,
      type: 'module',
      scripts: { synth: 'cdk synth', deploy: 'cdk deploy' },
      dependencies: { '@baton/adapter-stepfunctions': '*', '@baton/core': '*', '@baton/stages': '*', [pipelineModule]: '*', 'aws-cdk-lib': '^2.276.0', constructs: '^10.8.1' },
      devDependencies: { 'aws-cdk': '^2', esbuild: '^0.25', tsx: '^4' },
    },
    null,
    2,
  );
  files['cdk/cdk.json'] = JSON.stringify({ app: 'npx tsx bin/app.ts' }, null, 2);
  files['cdk/bin/app.ts'] = `import { BatonStateMachine } from '@baton/adapter-stepfunctions/cdk';
import { App, Stack } from 'aws-cdk-lib';
import { fileURLToPath } from 'node:url';
import { ${exportName} as pipeline } from '${pipelineModule}';

const app = new App();
const stack = new Stack(app, '${stackName(pipeline.name)}');
const handler = (file: string): string => fileURLToPath(new URL(\`../handlers/\${file}\`, import.meta.url));
const machine = new BatonStateMachine(stack, 'Pipeline', {
  pipeline,
  type: '${compiled.type}',
  stageEntry: () => handler('stage.ts'),
  ${hasReview ? "reviewGateEntry: handler('review-gate.ts')," : ''}
  xray: true,
  compile: ${JSON.stringify({ expectedItems: compileOptions.expectedItems ?? {}, itemStepPaths: compileOptions.itemStepPaths ?? 'indexed', lambdaIntegration: compiled.lambdaIntegration })},
});
// let the operators' role answer review task tokens: machine.grantReview(role)
void machine;
app.synth();
`;
  files['cdk/handlers/stage.ts'] = `import { createStageHandler } from '@baton/adapter-stepfunctions';
import { createJsonLogger } from '@baton/core';
import { createS3BlobStore } from '@baton/stages';
import { ${exportName} as pipeline } from '${pipelineModule}';

// one bundle per function; BATON_STAGE (set by BatonStateMachine) picks the stage it runs
const stage = pipeline.stages.get(process.env.BATON_STAGE ?? '');
if (!stage) throw new Error(\`unknown stage "\${process.env.BATON_STAGE}"\`);
export const handler = createStageHandler({ stages: stage, blobs: createS3BlobStore({ bucket: process.env.BATON_BUCKET! }), logger: createJsonLogger() });
`;
  if (hasReview) {
    files['cdk/handlers/review-gate.ts'] = `import { createBlobReviewStore, createReviewGateHandler } from '@baton/adapter-stepfunctions';
import { createJsonLogger } from '@baton/core';
import { createS3BlobStore } from '@baton/stages';

// reviews live next to the claim checks; deliver tokens by adding a notifier (email, chat)
const blobs = createS3BlobStore({ bucket: process.env.BATON_BUCKET! });
export const handler = createReviewGateHandler({ store: createBlobReviewStore(blobs), logger: createJsonLogger() });
`;
  }
  files['cdk/README.md'] = `# ${pipeline.name} on AWS Step Functions

Generated by \`baton compile --target stepfunctions\`. \`npm install && npx cdk synth\` (or \`cdk deploy\`).
The state machine is \`../${pipeline.name}.asl.json\`; see \`../compile-report.json\` for warnings and the
state transitions a run costs.
`;
  for (const [rel, text] of Object.entries(files)) {
    const path = join(outDir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text.endsWith('\n') ? text : text + '\n');
  }
  return { compiled, files: Object.keys(files) };
}

function stackName(name: string): string {
  return name.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '') + 'StepFunctions';
}
