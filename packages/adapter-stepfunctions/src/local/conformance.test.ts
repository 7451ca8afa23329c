import { runConformance } from '@baton/core/testkit';
import { createStepFunctionsLocalEngine } from './engine.js';

const capabilities = {
  // aws-local-stepfunctions keeps executions in memory in one process: there is nothing durable to resume after a crash
  crashResume: false,
};

runConformance({
  name: 'stepfunctions-local',
  capabilities,
  async setup({ pipelines, notifier, observer }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier, observer });
    return { engine, deploy: async ({ pipelines: held }) => engine.deploy(held), close: () => engine.close() };
  },
});

runConformance({
  name: 'stepfunctions-local, tasks with the function ARN as Resource',
  capabilities,
  async setup({ pipelines, notifier, observer }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier, observer, compile: { lambdaIntegration: 'function-arn' } });
    return { engine, deploy: async ({ pipelines: held }) => engine.deploy(held), close: () => engine.close() };
  },
});

// the deployed shape: every failure routed through the dead-letter queue, an execution-level timeout
runConformance({
  name: 'stepfunctions-local, deployed shape (dead-letter route, execution timeout)',
  capabilities,
  async setup({ pipelines, notifier, observer }) {
    const engine = createStepFunctionsLocalEngine({ pipelines, notifier, observer, compile: { timeoutSeconds: 3600 }, deadLetters: () => undefined });
    return { engine, deploy: async ({ pipelines: held }) => engine.deploy(held), close: () => engine.close() };
  },
});
