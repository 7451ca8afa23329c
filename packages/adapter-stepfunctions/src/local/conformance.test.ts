import { runConformance } from '@baton/core/testkit';
import { createStepFunctionsLocalEngine } from './engine.js';

const capabilities = {
  // aws-local-stepfunctions keeps executions in memory in one process: there is nothing durable to resume after a crash
  crashResume: false,
};

runConformance({
  name: 'stepfunctions-local',
  capabilities,
  async setup({ pipelines, notifier }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier });
    return { engine, close: () => engine.close() };
  },
});

runConformance({
  name: 'stepfunctions-local, tasks with the function ARN as Resource',
  capabilities,
  async setup({ pipelines, notifier }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier, compile: { lambdaIntegration: 'function-arn' } });
    return { engine, close: () => engine.close() };
  },
});
