/**
 * Size of the reference report's stage Lambda bundle (cold starts load all of it): the app
 * `baton compile --target stepfunctions` writes is generated into a temporary directory and its
 * `handlers/stage.ts` is bundled with the options BatonStateMachine gives NodejsFunction (ESM,
 * node22, mainFields module/main, the createRequire banner, CDK's default external `@aws-sdk/*`,
 * no minification). Also prints the same bundle minified, its largest inputs, and a bundle of an
 * entry that holds one stage (`generate`) only, for comparison.
 *
 *   npx tsx bench/lambda-bundle.ts      (also run at the end of bench/stepfunctions.ts)
 */
import { writeStepFunctionsApp } from '@baton/adapter-stepfunctions';
import { reportPipeline } from '@baton/example-report';
import { build, type Metafile } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The issue-19 target for one stage function's bundle. */
export const STAGE_BUNDLE_TARGET_BYTES = 1.5 * 1024 * 1024;

const ROOT = join(import.meta.dirname, '..');

/** Bytes of the bundle of `entry` as the CDK construct builds it, and its inputs by package. */
export async function bundleSize(entry: string, minify = false): Promise<{ bytes: number; byPackage: [string, number][] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __batonCreateRequire } from 'node:module'; const require = __batonCreateRequire(import.meta.url);" },
    // aws-cdk-lib/aws-lambda-nodejs leaves the AWS SDK v3 to the Node 18+ runtimes
    external: ['@aws-sdk/*'],
    // the entry lives outside the workspace, as in a generated app: resolve the repo's packages
    nodePaths: [join(ROOT, 'node_modules')],
    minify,
    write: false,
    metafile: true,
    outfile: join(tmpdir(), 'baton-bundle-bench.mjs'),
    logLevel: 'error',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  if (!js) throw new Error('esbuild wrote no JavaScript');
  return { bytes: js.contents.length, byPackage: byPackage(result.metafile) };
}

function byPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? /(packages|examples)\/([^/]+)\//.exec(path)?.slice(1, 3).join('/') ?? path;
    totals.set(pkg, (totals.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/** Prints the stage bundle figures; returns the bytes of the bundle as deployed. */
export async function printStageBundle(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bundle-'));
  try {
    writeStepFunctionsApp(reportPipeline, { outDir: dir, pipelineModule: '@baton/example-report', exportName: 'reportPipeline' });
    const stageEntry = join(dir, 'cdk/handlers/stage.ts');
    const oneStage = join(dir, 'one-stage.ts');
    writeFileSync(
      oneStage,
      "import { createStageLambda } from '@baton/aws-runtime';\nimport { generate } from '@baton/stages';\nimport type { AnyPipeline } from '@baton/core';\n" +
        "export const handler = createStageLambda({ pipeline: { name: 'report', stages: new Map([['generate', generate]]) } as unknown as AnyPipeline });\n",
    );
    const deployed = await bundleSize(stageEntry);
    const minified = await bundleSize(stageEntry, true);
    const single = await bundleSize(oneStage);
    const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(2)} MB`;
    console.log(`\nstage Lambda bundle of the reference report (generated handlers/stage.ts, BatonStateMachine's esbuild options, @aws-sdk/* external)`);
    console.log(`bundle | bytes | MB | / target ${mb(STAGE_BUNDLE_TARGET_BYTES)}`);
    console.log(`as deployed | ${deployed.bytes} | ${mb(deployed.bytes)} | ${(deployed.bytes / STAGE_BUNDLE_TARGET_BYTES).toFixed(2)}`);
    console.log(`minified | ${minified.bytes} | ${mb(minified.bytes)} | ${(minified.bytes / STAGE_BUNDLE_TARGET_BYTES).toFixed(2)}`);
    console.log(`one stage (generate) only | ${single.bytes} | ${mb(single.bytes)} | ${(single.bytes / STAGE_BUNDLE_TARGET_BYTES).toFixed(2)}`);
    console.log(
      `largest inputs as deployed: ${deployed.byPackage
        .slice(0, 10)
        .map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`)
        .join(', ')}`,
    );
    const local = deployed.byPackage.filter(([p]) => /aws-local-stepfunctions|asl-validator|aws-cdk-lib|constructs|pglite/.test(p));
    console.log(`local-emulation and CDK code in the bundle: ${local.length ? local.map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`).join(', ') : 'none'}`);
    return deployed.bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await printStageBundle();
