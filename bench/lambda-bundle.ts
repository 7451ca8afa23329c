/**
 * Size of the reference report's stage Lambda bundles (cold starts load all of it): the app
 * `baton compile --target stepfunctions` writes is generated into a temporary directory and each
 * stage function's entry is bundled with the options BatonStateMachine gives NodejsFunction (ESM,
 * node22, mainFields module/main, the createRequire banner, CDK's default external `@aws-sdk/*`,
 * minified with names kept). One line per stage function (the app gives each stage the pipeline
 * module exports its own entry), then the entry that bundles the whole pipeline, for comparison.
 *
 *   npx tsx bench/lambda-bundle.ts      (also run at the end of bench/stepfunctions.ts)
 */
import { stageExportsOf, writeStepFunctionsApp } from '@baton/adapter-stepfunctions';
import { reportPipeline } from '@baton/example-report';
import { build, type Metafile } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The issue-19 target for one stage function's bundle. */
export const STAGE_BUNDLE_TARGET_BYTES = 1.5 * 1024 * 1024;

const ROOT = join(import.meta.dirname, '..');

/** Bytes of the bundle of `entry` as the CDK construct builds it, and its inputs by package. */
export async function bundleSize(entry: string, minify = false, unbundled: string[] = []): Promise<{ bytes: number; byPackage: [string, number][] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __batonCreateRequire } from 'node:module'; const require = __batonCreateRequire(import.meta.url);" },
    // aws-cdk-lib/aws-lambda-nodejs leaves the AWS SDK v3 to the Node 18+ runtimes
    // and a stage's `unbundled` packages, which the construct ships beside the bundle
    external: ['@aws-sdk/*', ...unbundled],
    // the entry lives outside the workspace, as in a generated app: resolve the repo's packages
    nodePaths: [join(ROOT, 'node_modules')],
    minify,
    keepNames: minify,
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

/** Bytes of the JavaScript files of an installed package (what a function ships beside its bundle). */
function packageJsBytes(name: string): number {
  const walk = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (sum, e) => sum + (e.isDirectory() ? walk(join(dir, e.name)) : /\.(m|c)?js$/.test(e.name) ? statSync(join(dir, e.name)).size : 0),
      0,
    );
  return walk(join(ROOT, 'node_modules', name));
}

/** Prints the stage bundle figures; returns the bytes of the largest stage function bundle as deployed. */
export async function printStageBundle(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bundle-'));
  try {
    const mod = (await import('@baton/example-report')) as unknown as Record<string, unknown>;
    // the app as `baton compile` writes it: one entry per stage the pipeline module exports
    writeStepFunctionsApp(reportPipeline, {
      outDir: dir,
      pipelineModule: '@baton/example-report',
      exportName: 'reportPipeline',
      stageExports: stageExportsOf(mod, reportPipeline),
    });
    // the app before per-stage entries: every function bundled the whole pipeline
    const whole = mkdtempSync(join(tmpdir(), 'baton-bundle-whole-'));
    writeStepFunctionsApp(reportPipeline, { outDir: whole, pipelineModule: '@baton/example-report', exportName: 'reportPipeline' });
    const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(2)} MB`;
    const ratio = (b: number): string => (b / STAGE_BUNDLE_TARGET_BYTES).toFixed(2);
    const wholeBytes = (await bundleSize(join(whole, 'cdk/handlers/stage.ts'), true)).bytes;
    rmSync(whole, { recursive: true, force: true });
    const entries = JSON.parse(readFileSync(join(dir, 'compile-report.json'), 'utf8')) as { stageEntries: Record<string, string> };
    console.log(
      `\nstage Lambda bundles of the reference report (the generated app's entries, BatonStateMachine's esbuild options: minified, @aws-sdk/* external)`,
    );
    console.log(`function | entry | bytes | MB | / target ${mb(STAGE_BUNDLE_TARGET_BYTES)} | largest inputs`);
    let largest = 0;
    for (const [stage, entry] of Object.entries(entries.stageEntries)) {
      const file = join(dir, entry.split(' ')[0]!);
      const unbundled = reportPipeline.stages.get(stage)?.unbundled ?? [];
      const { bytes, byPackage } = await bundleSize(file, true, unbundled);
      largest = Math.max(largest, bytes);
      const top = byPackage
        .slice(0, 3)
        .map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`)
        .join(', ');
      const beside = unbundled.map((p) => `; beside it, loaded on first use: ${p} ${mb(packageJsBytes(p))}`).join('');
      console.log(`${stage} | ${entry.replace('cdk/handlers/', '')} | ${bytes} | ${mb(bytes)} | ${ratio(bytes)} | ${top}${beside}`);
    }
    console.log(`whole pipeline in one entry (before per-stage entries) | stage.ts | ${wholeBytes} | ${mb(wholeBytes)} | ${ratio(wholeBytes)} |`);
    const over = Object.keys(entries.stageEntries).length;
    console.log(
      `largest stage function: ${mb(largest)} (${ratio(largest)} of the target); ${over} functions; the whole pipeline bundled once: ${(wholeBytes / largest).toFixed(2)}x the largest`,
    );
    return largest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await printStageBundle();
