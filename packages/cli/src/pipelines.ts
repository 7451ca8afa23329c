import type { AnyPipeline } from '@baton/core';
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.js';

/** The module `--pipelines` defaults to: the reference report example. */
export const DEFAULT_PIPELINES_MODULE = '@baton/example-report';

/**
 * Loads a pipeline module (a package name or a file path) and returns its exported `pipelines`
 * array (or every exported pipeline object when there is no such array).
 */
export async function loadPipelines(spec: string): Promise<AnyPipeline[]> {
  const target = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(
      `cannot load pipeline module "${spec}": ${(e as Error).message}. Pass --pipelines <package or path to a built .js file>, and run "npm run build" first.`,
    );
  }
  const list = Array.isArray(mod.pipelines) ? (mod.pipelines as unknown[]) : Object.values(mod);
  const pipelines = list.filter((p): p is AnyPipeline => typeof p === 'object' && p !== null && (p as { kind?: unknown }).kind === 'baton.pipeline');
  if (pipelines.length === 0) throw new CliError(`module "${spec}" exports no pipelines; export "pipelines: AnyPipeline[]" from it`);
  return pipelines;
}

/** Finds a pipeline by name (its newest version, or `version`), or says which names or versions exist. */
export function findPipeline(pipelines: AnyPipeline[], name: string, spec: string, version?: number): AnyPipeline {
  const named = pipelines.filter((x) => x.name === name);
  if (named.length === 0) throw new CliError(`no pipeline "${name}" in "${spec}". Available: ${[...new Set(pipelines.map((x) => x.name))].join(', ')}`);
  // several versions of a name: the newest, as engines start by name, or the one asked for
  const p = version === undefined ? named.reduce((a, b) => (b.ir.version > a.ir.version ? b : a)) : named.find((x) => x.ir.version === version);
  if (!p) throw new CliError(`no version ${version} of pipeline "${name}" in "${spec}". Versions: ${named.map((x) => x.ir.version).join(', ')}`);
  return p;
}

/** The name under which a pipeline module exports a pipeline (for generated code that imports it). */
export async function exportNameOf(spec: string, pipeline: AnyPipeline): Promise<string> {
  const mod = await moduleExports(spec);
  const name = Object.keys(mod).find((k) => mod[k] === pipeline);
  if (!name)
    throw new CliError(
      `module "${spec}" does not export pipeline "${pipeline.name}" under its own name (only inside "pipelines"): export it by name so the CDK app can import it`,
    );
  return name;
}

/** The exports of the pipelines module `spec` (a package name, or a file path from the working directory). */
export async function moduleExports(spec: string): Promise<Record<string, unknown>> {
  return (await import(spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec)) as Record<string, unknown>;
}

/**
 * Commander parser of `--pipeline-version`: a positive integer, a usage error otherwise.
 *
 * @example
 * ```ts
 * program.option('--pipeline-version <n>', 'start on this version', parsePipelineVersion);
 * ```
 */
export function parsePipelineVersion(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`a pipeline version is a positive integer, not "${value}"`);
  return n;
}
