import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from './builder.js';
import { isStageError } from './errors.js';
import { createPipelineSet, irDigest, pinOf } from './pipeline-versions.js';
import { defineStage } from './stage.js';

const stage = (name: string, version: number) => defineStage({ name, version, input: z.unknown(), output: z.unknown(), run: async (i) => i });
const report = (version: number, steps: string[] = ['a']) => {
  let b = definePipeline({ name: 'report', version });
  for (const s of steps) b = b.task(s, stage(s, version)) as typeof b;
  return b.build();
};
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isStageError(e) ? e.code : String(e);
  }
};

describe('pipeline versions', () => {
  it('the IR digest does not depend on key order, and changes with the steps', () => {
    const ir = report(1).ir;
    const reordered = JSON.parse(JSON.stringify({ steps: ir.steps, version: ir.version, name: ir.name, irVersion: ir.irVersion })) as typeof ir;
    expect(irDigest(reordered)).toBe(irDigest(ir));
    expect(irDigest(report(1, ['a', 'b']).ir)).not.toBe(irDigest(ir));
    expect(pinOf(report(1, ['b', 'a']))).toEqual({ version: 1, digest: irDigest(report(1, ['b', 'a']).ir), stages: { a: 1, b: 1 } });
  });

  it('starts on the newest version or a named one; a run goes on only with its own', () => {
    const [v1, v2] = [report(1), report(2, ['a', 'b'])];
    const set = createPipelineSet([v2, v1]);
    expect(set.forStart('report')).toBe(v2);
    expect(set.forStart('report', 1)).toBe(v1);
    expect(codeOf(() => set.forStart('report', 7))).toBe('PipelineVersionNotLoaded');
    expect(codeOf(() => set.forStart('other'))).toBe('PipelineNotFound');
    expect(set.forRun('r', 'report', pinOf(v1))).toBe(v1);
    // a run recorded before pins goes on with the newest, as before
    expect(set.forRun('r', 'report', undefined)).toBe(v2);
    expect(codeOf(() => createPipelineSet([v2]).forRun('r', 'report', pinOf(v1)))).toBe('PipelineVersionNotLoaded');
    expect(createPipelineSet([v2]).findForRun('report', pinOf(v1))).toBeUndefined();
  });

  it('other stage versions under the same pipeline version are refused, except for a redrive', () => {
    const pinned = pinOf(report(1));
    const bumped = definePipeline({ name: 'report', version: 1 }).task('a', stage('a', 2)).build();
    const set = createPipelineSet([bumped]);
    expect(irDigest(bumped.ir)).toBe(pinned.digest);
    expect(codeOf(() => set.forRun('r', 'report', pinned))).toBe('PipelineVersionNotLoaded');
    expect(set.forRun('r', 'report', pinned, { allowStageChanges: true })).toBe(bumped);
  });
});
