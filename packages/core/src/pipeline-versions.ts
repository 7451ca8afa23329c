import { createHash } from 'node:crypto';
import { apiError } from './api-errors.js';
import type { AnyPipeline } from './builder.js';
import type { PipelineIR } from './ir.js';

/**
 * What a run is pinned to: its pipeline's version, the digest of that version's IR and the
 * version of each stage. Recorded when the run starts; resume, approve and redrive use it.
 */
export interface PipelinePin {
  version: number;
  /** sha256 (hex) of the IR's canonical JSON, see {@link irDigest}. */
  digest: string;
  /** Stage name → stage version. */
  stages: Record<string, number>;
}

/**
 * sha256 (hex) of a pipeline IR's canonical JSON (object keys sorted), so the same IR gives the
 * same digest whether it was built in this process or read back from JSON.
 *
 * @example
 * ```ts
 * irDigest(pipeline.ir); // '3f1c…'
 * ```
 */
export function irDigest(ir: PipelineIR): string {
  return createHash('sha256').update(canonicalJson(ir)).digest('hex');
}

/**
 * The pin of a pipeline: what a run started on it records.
 *
 * @example
 * ```ts
 * pinOf(reportV2); // { version: 2, digest: '…', stages: { generate: 3, assemble: 1 } }
 * ```
 */
export function pinOf(pipeline: AnyPipeline): PipelinePin {
  const stages: Record<string, number> = {};
  for (const [name, stage] of [...pipeline.stages].sort(([a], [b]) => a.localeCompare(b))) stages[name] = stage.version;
  return { version: pipeline.ir.version, digest: irDigest(pipeline.ir), stages };
}

/**
 * The pipelines an engine holds, several versions of a name allowed. New runs take the newest
 * version of a name (or a named one); a run goes on only with the version it is pinned to.
 */
export interface PipelineSet {
  /** Names of the pipelines held. */
  names(): string[];
  /** Whether any version of `name` is held. */
  has(name: string): boolean;
  /** Adds a pipeline (a version already held under that name and number is replaced). */
  add(pipeline: AnyPipeline): void;
  /** A version of a name (the newest without `version`), if held. */
  get(name: string, version?: number): AnyPipeline | undefined;
  /** The newest version of a name, if any. */
  newest(name: string): AnyPipeline | undefined;
  /** Every held pipeline, each version once. */
  all(): AnyPipeline[];
  /**
   * The pipeline a new run starts on: the given one, or by name the newest version (or
   * `version`); throws `PipelineNotFound` / `PipelineVersionNotLoaded`.
   */
  forStart(pipeline: AnyPipeline | string, version?: number): AnyPipeline;
  /**
   * The pipeline a run goes on with, by its recorded name and pin; throws `PipelineVersionNotLoaded`
   * when that version is not held or its IR digest differs, and, unless `allowStageChanges`
   * (redrive), when a stage's version differs from the pin. A run recorded before pins existed
   * (no pin) goes on with the newest version.
   */
  forRun(runId: string, name: string, pin: PipelinePin | undefined, options?: { allowStageChanges?: boolean }): AnyPipeline;
  /** As {@link PipelineSet.forRun}, `undefined` instead of throwing. */
  findForRun(name: string, pin: PipelinePin | undefined): AnyPipeline | undefined;
}

/**
 * Creates the set of pipelines of an engine.
 *
 * @example
 * ```ts
 * const set = createPipelineSet([reportV1, reportV2]);
 * set.forStart('report').ir.version; // 2
 * set.forStart('report', 1).ir.version; // 1
 * ```
 */
export function createPipelineSet(pipelines: readonly AnyPipeline[]): PipelineSet {
  const byName = new Map<string, Map<number, AnyPipeline>>();
  const set: PipelineSet = {
    names: () => [...byName.keys()],
    has: (name) => byName.has(name),
    add(pipeline) {
      let versions = byName.get(pipeline.name);
      if (!versions) byName.set(pipeline.name, (versions = new Map()));
      versions.set(pipeline.ir.version, pipeline);
    },
    get: (name, version) => (version === undefined ? set.newest(name) : byName.get(name)?.get(version)),
    newest(name) {
      const versions = byName.get(name);
      if (!versions) return undefined;
      return versions.get(Math.max(...versions.keys()));
    },
    all: () => [...byName.values()].flatMap((v) => [...v.values()]),
    forStart(pipeline, version) {
      if (typeof pipeline !== 'string') {
        if (version !== undefined && version !== pipeline.ir.version) throw apiError.pipelineVersionNotLoaded(pipeline.name, version, [pipeline.ir.version]);
        return pipeline;
      }
      const versions = byName.get(pipeline);
      if (!versions) throw apiError.pipelineNotFound(pipeline, set.names());
      if (version === undefined) return set.newest(pipeline)!;
      const found = versions.get(version);
      if (!found) throw apiError.pipelineVersionNotLoaded(pipeline, version, [...versions.keys()]);
      return found;
    },
    findForRun(name, pin) {
      try {
        return set.forRun('', name, pin);
      } catch {
        return undefined;
      }
    },
    forRun(runId, name, pin, options = {}) {
      const versions = byName.get(name);
      if (!pin) {
        const newest = set.newest(name);
        if (!newest) throw apiError.pipelineNotFound(name, set.names());
        return newest;
      }
      const loaded = [...(versions?.keys() ?? [])];
      const found = versions?.get(pin.version);
      if (!found) throw apiError.pipelineVersionNotLoaded(name, pin.version, loaded, runId);
      const digest = irDigest(found.ir);
      if (digest !== pin.digest)
        throw apiError.pipelineVersionNotLoaded(
          name,
          pin.version,
          loaded,
          runId,
          `with another IR (digest ${digest.slice(0, 12)}, the run's ${pin.digest.slice(0, 12)})`,
        );
      if (!options.allowStageChanges) {
        for (const [stage, version] of Object.entries(pin.stages)) {
          const now = found.stages.get(stage)?.version;
          if (now !== version)
            throw apiError.pipelineVersionNotLoaded(
              name,
              pin.version,
              loaded,
              runId,
              `stage "${stage}" is at version ${now ?? 'none'}, the run's is ${version} (redrive a failed run to take new stage versions)`,
            );
        }
      }
      return found;
    },
  };
  for (const p of pipelines) set.add(p);
  return set;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
