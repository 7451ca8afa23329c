import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The directory of package `name` as the function's `entry` resolves it. Throws, naming the
 * stage, when the package cannot be found or has dependencies of its own (they would be missing
 * beside the bundle).
 */
export function unbundledPackageDir(entry: string, name: string, stage: string): string {
  let dir: string;
  try {
    dir = dirname(createRequire(entry).resolve(name));
  } catch {
    throw new Error(`stage "${stage}": its unbundled package "${name}" cannot be found from ${entry}: install it in the app`);
  }
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; dependencies?: Record<string, string> };
      if (pkg.name === name) {
        const deps = Object.keys(pkg.dependencies ?? {});
        if (deps.length > 0)
          throw new Error(
            `stage "${stage}": its unbundled package "${name}" has dependencies (${deps.join(', ')}), which would be missing beside the bundle: bundle it instead`,
          );
        return dir;
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`stage "${stage}": no package.json of "${name}" above ${entry}`);
    dir = up;
  }
}

/**
 * Bundling hooks that copy each unbundled package into the function's `node_modules` after
 * esbuild ran (local bundling: the paths are this machine's).
 */
export function copyUnbundled(packages: { name: string; dir: string }[]): ICommandHooks {
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_input: string, output: string) =>
      packages.map(({ name, dir }) => `mkdir -p ${q(join(output, 'node_modules', dirname(name)))} && cp -R ${q(dir)} ${q(join(output, 'node_modules', name))}`),
  };
}
