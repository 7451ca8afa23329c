import { conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { compileToAsl } from './compile.js';
import { validateAsl } from './validate.js';

describe('compileToAsl: conformance pipelines', { timeout: 60_000 }, () => {
  for (const pipeline of conformancePipelines) {
    it(`${pipeline.name} compiles to ASL that asl-validator accepts`, () => {
      const { definition } = compileToAsl(pipeline, { type: 'STANDARD' });
      const v = validateAsl(definition);
      expect(v.errorsText).toBe('');
      expect(v.isValid).toBe(true);
    });
  }
});
