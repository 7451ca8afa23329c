import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '../testkit/index.js';
import { createLocalEngine, type LocalEngine } from './engine.js';

runConformance({
  name: 'local',
  async setup({ pipelines, notifier, observer }) {
    const dir = mkdtempSync(join(tmpdir(), 'baton-local-'));
    let held = pipelines;
    let engine: LocalEngine = createLocalEngine({ pipelines: held, notifier, observer, dir });
    return {
      get engine() {
        return engine;
      },
      async crash() {
        engine.crash();
      },
      async restart() {
        engine = createLocalEngine({ pipelines: held, notifier, observer, dir });
        await engine.recover();
      },
      async deploy(next) {
        await engine.close();
        held = next.pipelines;
        engine = createLocalEngine({ pipelines: held, notifier, observer, dir });
        await engine.recover();
      },
      async close() {
        await engine.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
