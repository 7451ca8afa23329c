import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '../testkit/index.js';
import { createLocalEngine, type LocalEngine, type LocalEngineOptions } from './engine.js';

// The kit runs twice: on the local engine as is, and emulating Step Functions' limits, where every
// scenario the compiled machine runs runs too (scenario 40's map aggregate included: its items
// claim-check at the lowered per-item threshold, core's mapItemClaimCheckThresholds, as there).
for (const [name, extra] of [
  ['local', {}],
  ['local (emulate stepfunctions)', { emulate: 'stepfunctions' }],
] as const satisfies readonly (readonly [string, Partial<LocalEngineOptions>])[]) {
  runConformance({
    name,
    async setup({ pipelines, notifier, observer }) {
      const dir = mkdtempSync(join(tmpdir(), 'baton-local-'));
      let held = pipelines;
      const create = (): LocalEngine => createLocalEngine({ pipelines: held, notifier, observer, dir, ...extra });
      let engine = create();
      return {
        get engine() {
          return engine;
        },
        async crash() {
          engine.crash();
        },
        async restart() {
          engine = create();
          await engine.recover();
        },
        async deploy(next) {
          await engine.close();
          held = next.pipelines;
          engine = create();
          await engine.recover();
        },
        async close() {
          await engine.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
}
