import { runConformance } from '@baton/core/testkit';
import { createStepFunctionsLocalEngine } from './engine.js';

runConformance({
  name: 'stepfunctions-local',
  capabilities: {
    // aws-local-stepfunctions keeps executions in memory: there is nothing to resume after a crash
    crashResume: false,
  },
  async setup({ pipelines, notifier }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier });
    return { engine, close: () => engine.close() };
  },
});
