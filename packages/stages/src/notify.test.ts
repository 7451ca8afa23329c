import { createMemoryBlobStore } from '@baton/core';
import { invokeStage } from '@baton/core/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notify, registerNotifySink } from './notify.js';
import { startHttpStub, type HttpStub } from './test-support/http-stub.js';

let stub: HttpStub;
const event = { runId: 'run-9', title: 'T', outputs: { docx: 'reports/run-9/report.docx' }, sections: { total: 9, ok: 9 } };
const send = (sink: unknown) => invokeStage(notify, { event, sink }, { blobs: createMemoryBlobStore(), runId: 'run-9', stepPath: 'notify', attempt: 1 });

describe('notify sinks', () => {
  beforeAll(async () => {
    stub = await startHttpStub();
  });
  afterAll(() => stub.close());

  it('posts the completion event to a webhook with an idempotency key', async () => {
    stub.reply({ status: 204, body: '' });
    const r = await send({ kind: 'webhook', url: `${stub.url}/hook`, headers: { 'x-team': 'qa' } });
    expect(r).toMatchObject({ ok: true, output: { delivered: 'webhook:204' } });
    const req = stub.requests.at(-1)!;
    expect(req.headers['idempotency-key']).toBe('run-9:report.completed');
    expect(req.headers['x-team']).toBe('qa');
    expect(JSON.parse(req.body)).toEqual({ type: 'report.completed', ...event });
  });

  it.each([
    [429, 'ThrottlingException', true],
    [503, 'ServiceUnavailableException', true],
    [400, 'StageFailed', false],
  ])('maps a webhook answering %i to %s', async (status, code, retryable) => {
    stub.reply({ status, body: '{}' });
    const r = await send({ kind: 'webhook', url: `${stub.url}/hook` });
    expect(r).toMatchObject({ ok: false, error: { code, retryable } });
  });

  it('delivers to a registered sink and rejects unknown sinks with the known ones', async () => {
    const seen: string[] = [];
    registerNotifySink('memory', async (e) => {
      seen.push(e.runId);
      return 'memory';
    });
    expect(await send({ kind: 'memory' })).toMatchObject({ ok: true, output: { delivered: 'memory' } });
    expect(seen).toEqual(['run-9']);
    expect(await send({ kind: 'pager' })).toMatchObject({
      ok: false,
      error: { code: 'InvalidInput', message: expect.stringContaining('unknown notify sink "pager"; known: file, stdout, webhook, eventbridge, memory') },
    });
  });
});
