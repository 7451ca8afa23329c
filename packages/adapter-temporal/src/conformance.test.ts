import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { createFsBlobStore } from '@baton/core';
import { KIT_DEPLOY_EXPORTS, runConformance } from '@baton/core/testkit';
import { bundleBatonWorkflow } from './bundle.js';
import { createTemporalEngine, type TemporalEngine } from './engine.js';
import { createWorkerProcesses } from './test-support/harness.js';
import { quietTemporalRuntime } from './test-support/quiet.js';
import { replaySinks } from './test-support/replay.js';
import { BATON_WORKFLOW_TYPE } from './workflow/contract.js';

quietTemporalRuntime();
const address = inject('temporalAddress');
const taskQueue = `conformance-${randomUUID()}`;

runConformance({
  name: 'temporal',
  async setup({ pipelines, notifier, observer }) {
    const workers = await createWorkerProcesses({ address, taskQueue, notifier });
    await workers.start();
    const open = (held: typeof pipelines): TemporalEngine =>
      createTemporalEngine({
        pipelines: held,
        address,
        taskQueue,
        worker: false,
        observer,
        blobs: createFsBlobStore({ root: workers.blobDir }),
        activity: { heartbeatTimeoutMs: 3000 },
      });
    let engine = open(pipelines);
    return {
      get engine() {
        return engine;
      },
      // a deploy: the worker process and the engine replaced by ones holding the set
      async deploy({ pipelines: held, set }) {
        await workers.stop();
        await engine.close();
        await workers.start({ kitDeploy: KIT_DEPLOY_EXPORTS[set] });
        engine = open(held);
      },
      crash: () => workers.kill(),
      restart: () => workers.start(),
      async close() {
        await workers.stop();
        await engine.close();
      },
    };
  },
});

describe('replay of the conformance runs', () => {
  it('every recorded history replays cleanly against the current workflow code', { timeout: 120_000 }, async () => {
    // scenario 40's history holds a 2.4 MB map twice (the item outputs, then the aggregate stored in parts): over gRPC's default 4 MB
    const connection = await Connection.connect({ address, channelArgs: { 'grpc.max_receive_message_length': 32 * 1024 * 1024 } });
    try {
      const client = new Client({ connection });
      const histories: { workflowId: string; history: History }[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${BATON_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'` })) {
        if (wf.status.name === 'RUNNING') continue;
        const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        histories.push({ workflowId: `${wf.workflowId}/${wf.runId}`, history });
      }
      expect(histories.length).toBeGreaterThanOrEqual(17);
      const record = process.env.BATON_RECORD_HISTORIES;
      if (record) {
        mkdirSync(record, { recursive: true });
        for (const h of histories) writeFileSync(join(record, `${h.workflowId.replace('/', '--')}.json`), historyToJSON(h.history));
      }
      const failures: string[] = [];
      const results = Worker.runReplayHistories({ workflowBundle: await bundleBatonWorkflow(), sinks: replaySinks }, histories);
      let replayed = 0;
      for await (const r of results) {
        replayed++;
        if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
      }
      expect(failures).toEqual([]);
      expect(replayed).toBe(histories.length);
    } finally {
      await connection.close();
    }
  });
});
