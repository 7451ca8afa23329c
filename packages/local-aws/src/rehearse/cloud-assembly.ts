import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A CloudFormation template as `cdk synth` writes it. */
export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string; Export?: unknown }>;
}

/** One resource of a {@link CfnTemplate}. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  Metadata?: Record<string, unknown>;
}

/** The stack of a cloud assembly that a rehearsal creates. */
export interface SynthesizedStack {
  /** The stack's name (its artifact id in manifest.json). */
  name: string;
  /** The template, parsed (a copy the caller may change before rehearsing). */
  template: CfnTemplate;
  /** `aws://<account>/<region>` of the stack, when it is not environment-agnostic. */
  account?: string;
  region?: string;
  /** Asset hash → directory of the asset (absolute), from the stack's `*.assets.json`. */
  assets: Map<string, string>;
  /** The cloud assembly directory. */
  dir: string;
}

interface Manifest {
  artifacts?: Record<string, { type: string; environment?: string; properties?: { templateFile?: string; file?: string }; dependencies?: string[] }>;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string; packaging?: string } }>;
}

/**
 * Reads a cloud assembly (`cdk.out`): the stack's template and which directory holds each file
 * asset. With several stacks, `stack` picks one by name; by default the only one.
 *
 * @example
 * ```ts
 * const { template, assets } = readCloudAssembly('cdk.out');
 * ```
 */
export function readCloudAssembly(dir: string, stack?: string): SynthesizedStack {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${dir} is not a cloud assembly (no manifest.json): run cdk synth (or the app with CDK_OUTDIR) first`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length === 0) throw new Error(`${dir}/manifest.json lists no stack`);
  const found = stack ? stacks.find(([id]) => id === stack) : stacks.length === 1 ? stacks[0] : undefined;
  if (!found) {
    const names = stacks.map(([id]) => id).join(', ');
    throw new Error(stack ? `${dir} has no stack "${stack}" (stacks: ${names})` : `${dir} has several stacks (${names}): name one`);
  }
  const [name, artifact] = found;
  const templateFile = join(dir, artifact.properties?.templateFile ?? `${name}.template.json`);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate;
  const env = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '');
  const out: SynthesizedStack = { name, template, assets: readAssets(dir, manifest, name), dir };
  if (env && env[1] !== 'unknown-account') out.account = env[1]!;
  if (env && env[2] !== 'unknown-region') out.region = env[2]!;
  return out;
}

/** Asset hash → absolute directory, from the asset manifests of the stack (or every `*.assets.json`). */
function readAssets(dir: string, manifest: Manifest, stack: string): Map<string, string> {
  const artifacts = manifest.artifacts ?? {};
  const named = Object.values(artifacts)
    .filter((a) => a.type === 'cdk:asset-manifest' && a.properties?.file)
    .map((a) => a.properties!.file!);
  const files = named.length > 0 ? named : readdirSync(dir).filter((f) => f.endsWith('.assets.json'));
  const out = new Map<string, string>();
  for (const file of files.filter((f) => f.startsWith(stack) || files.length === 1)) {
    const assets = JSON.parse(readFileSync(join(dir, file), 'utf8')) as AssetManifest;
    for (const [hash, asset] of Object.entries(assets.files ?? {})) {
      if (asset.source.path && asset.source.packaging === 'zip') out.set(hash, join(dir, asset.source.path));
    }
  }
  return out;
}

/**
 * The directory of a Lambda function's code: the asset whose hash names its `Code.S3Key`
 * (`<hash>.zip`), or the `aws:asset:path` metadata CDK adds when asset metadata is on.
 */
export function functionCodeDir(stack: SynthesizedStack, logicalId: string, resource: CfnResource): string {
  const code = (resource.Properties?.Code ?? {}) as { S3Key?: unknown; ZipFile?: unknown };
  const key = typeof code.S3Key === 'string' ? code.S3Key : undefined;
  const hash = key
    ?.replace(/\.zip$/, '')
    .split('/')
    .pop();
  const fromManifest = hash ? stack.assets.get(hash) : undefined;
  if (fromManifest) return fromManifest;
  const meta = resource.Metadata?.['aws:asset:path'];
  if (typeof meta === 'string') return join(stack.dir, meta);
  if (code.ZipFile !== undefined) throw new Error(`function ${logicalId}: inline code (ZipFile) is not rehearsed; give it an asset`);
  throw new Error(`function ${logicalId}: no asset directory for its code (S3Key ${String(key)}): is ${stack.dir} the cloud assembly it was synthesized into?`);
}
