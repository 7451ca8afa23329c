import { conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { compileToAsl, compileUnchecked } from './compile.js';
import { validateAsl } from './validate.js';

describe('compileToAsl: conformance pipelines', () => {
  for (const pipeline of conformancePipelines) {
    it(`${pipeline.name} compiles to ASL that asl-validator accepts`, () => {
      const { definition } = compileToAsl(pipeline, { type: 'STANDARD' });
      const v = validateAsl(definition);
      expect(v.errorsText).toBe('');
      expect(v.isValid).toBe(true);
    });
  }
});

describe('scratch', () => {
  it('prints', () => {
    const p = conformancePipelines.find((x) => x.name === process.env.SHOW);
    if (p) console.log(JSON.stringify(compileUnchecked(p), null, 1));
  });
});
