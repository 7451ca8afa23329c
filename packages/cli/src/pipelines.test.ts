import { definePipeline, defineStage } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findPipeline, parsePipelineVersion } from './pipelines.js';

const step = defineStage({ name: 'step', version: 1, input: z.unknown(), output: z.unknown(), run: async (i) => i });
const report = (version: number) => definePipeline({ name: 'report', version }).task('s', step).build();

describe('findPipeline with several versions of a name', () => {
  const all = [report(2), report(3), report(1), definePipeline({ name: 'triage', version: 1 }).task('s', step).build()];
  it('finds the newest version, or the one asked for, and names the versions when it is missing', () => {
    expect(findPipeline(all, 'report', 'mod').ir.version).toBe(3);
    expect(findPipeline(all, 'report', 'mod', 1).ir.version).toBe(1);
    expect(() => findPipeline(all, 'report', 'mod', 4)).toThrow('no version 4 of pipeline "report" in "mod". Versions: 2, 3, 1');
    expect(() => findPipeline(all, 'nope', 'mod')).toThrow('no pipeline "nope" in "mod". Available: report, triage');
  });
  it('--pipeline-version takes a positive integer', () => {
    expect(parsePipelineVersion('2')).toBe(2);
    expect(() => parsePipelineVersion('0')).toThrow('a pipeline version is a positive integer, not "0"');
    expect(() => parsePipelineVersion('v1')).toThrow(/positive integer/);
  });
});
