import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

let cached: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Path of the Baton workflow module (compiled `.js` next to this file, or `.ts` when run from sources). */
export function batonWorkflowsPath(): string {
  const js = fileURLToPath(new URL('./workflow/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./workflow/index.ts', import.meta.url));
}

/**
 * Bundles the Baton workflow with webpack, once per process (about a second): workers and
 * replays reuse the bundle. The workflow imports core's interpreter and nothing with Node
 * built-ins; bundling fails loudly if that ever changes.
 *
 * @example
 * ```ts
 * const bundle = await bundleBatonWorkflow();
 * const worker = await createTemporalWorker({ pipelines, workflowBundle: bundle });
 * ```
 */
export function bundleBatonWorkflow(): Promise<WorkflowBundleWithSourceMap> {
  cached ??= bundleWorkflowCode({ workflowsPath: batonWorkflowsPath(), logger: new DefaultLogger('WARN') }).catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}
