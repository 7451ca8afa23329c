import type { AnyPipeline } from '@baton/core';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileToAsl } from './compile.js';
import { validateAsl } from './validate.js';

// examples depend on the adapters' public APIs, never the reverse: they are loaded from their build output
const root = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const examples: { dir: string; exportName: string; expectedItems: Record<string, number> }[] = [
  { dir: 'report-generation', exportName: 'reportPipeline', expectedItems: { sections: 40, ingest: 10 } },
  { dir: 'support-triage', exportName: 'triagePipeline', expectedItems: {} },
];

describe('examples compile to valid ASL', { timeout: 60_000 }, () => {
  for (const ex of examples) {
    it(`${ex.dir}: STANDARD compiles, asl-validator accepts it`, async () => {
      const file = `${root}${ex.dir}/dist/index.js`;
      expect(existsSync(file), `build the example first: npx turbo run build --filter=./examples/${ex.dir}`).toBe(true);
      const mod = (await import(pathToFileURL(file).href)) as Record<string, AnyPipeline>;
      const pipeline = mod[ex.exportName]!;
      const compiled = compileToAsl(pipeline, { type: 'STANDARD', expectedItems: ex.expectedItems });
      const v = validateAsl(compiled.definition);
      expect(v.errorsText).toBe('');
      // both examples have an approval gate: EXPRESS must refuse them
      expect(() => compileToAsl(pipeline, { type: 'EXPRESS' })).toThrow(/waitForTaskToken/);
    });
  }
});
