import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createMemoryBlobStore } from '@baton/core';
import { invokeStage } from '@baton/core/engine';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { notify, registerNotifySink } from './notify.js';
import { createEventBridgeSink } from './notify-eventbridge.js';

// Runs in the `moto` project: moto serves EventBridge on the same endpoint as S3.
const client = new EventBridgeClient({ endpoint: inject('s3Endpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const event = { runId: 'run-eb', title: 'T', outputs: { docx: 'reports/run-eb/report.docx' }, sections: { total: 9, ok: 9 } };
const send = (sink: unknown) => invokeStage(notify, { event, sink }, { blobs: createMemoryBlobStore(), runId: 'run-eb', stepPath: 'notify', attempt: 1 });

describe('EventBridge notify sink against moto', () => {
  it('puts the completion event on a bus and returns its event id', async () => {
    const bus = `reports-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateEventBusCommand({ Name: bus }));
    registerNotifySink('eventbridge-moto', createEventBridgeSink({ client }));
    const r = await send({ kind: 'eventbridge-moto', eventBusName: bus });
    expect(r).toMatchObject({ ok: true, output: { delivered: expect.stringMatching(new RegExp(`^eventbridge:${bus}:.+`)) } });
  });

  it('maps an unreachable endpoint to a retryable code', async () => {
    const dead = new EventBridgeClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    registerNotifySink('eventbridge-dead', createEventBridgeSink({ client: dead }));
    const r = await send({ kind: 'eventbridge-dead' });
    expect(r).toMatchObject({ ok: false, error: { code: 'ServiceUnavailableException', retryable: true } });
  });
});
