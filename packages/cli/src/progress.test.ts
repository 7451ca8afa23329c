import type { RunEvent } from '@baton/core';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createModelFromSpec, parseFaults } from './models.js';
import { createProgress } from './progress.js';

const at = '2026-01-01T00:00:00.000Z';
const events: RunEvent[] = [
  { type: 'run-started', runId: 'r', pipeline: 'report', engine: 'local', input: {}, at },
  { type: 'step-started', runId: 'r', stepPath: 'sections', kind: 'map', at },
  { type: 'attempt-started', runId: 'r', stepPath: 'sections[0]/generate', stage: 'generate', attempt: 1, at },
  {
    type: 'attempt-finished',
    runId: 'r',
    stepPath: 'sections[0]/generate',
    stage: 'generate',
    attempt: 1,
    status: 'failed',
    error: { code: 'ThrottlingException', message: 'slow down', retryable: true },
    at,
  },
  { type: 'retry-scheduled', runId: 'r', stepPath: 'sections[0]/generate', attempt: 1, code: 'ThrottlingException', delayMs: 120, at },
  { type: 'attempt-started', runId: 'r', stepPath: 'sections[0]/generate', stage: 'generate', attempt: 2, at },
  {
    type: 'attempt-finished',
    runId: 'r',
    stepPath: 'sections[0]/generate',
    stage: 'generate',
    attempt: 2,
    status: 'succeeded',
    metrics: { durationMs: 1, modelCalls: 1, inputTokens: 100, outputTokens: 20, modelLatencyMs: 5 },
    at,
  },
  { type: 'attempt-started', runId: 'r', stepPath: 'sections[0]/repair-loop@0/repair', stage: 'repair', attempt: 1, at },
  { type: 'attempt-started', runId: 'r', stepPath: 'sections[1]/flag', stage: 'flag-for-review', attempt: 1, at },
  { type: 'step-finished', runId: 'r', stepPath: 'sections', kind: 'map', status: 'succeeded', at },
  { type: 'run-finished', runId: 'r', status: 'succeeded', at },
];

function collect(tty: boolean): { text: () => string; display: ReturnType<typeof createProgress> } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  Object.assign(out, { isTTY: tty, columns: 120, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
  return { text: () => text, display: createProgress({ tty, out }) };
}

describe('progress display', () => {
  it('counts retries, repairs, failed attempts, held sections and tokens from run events', async () => {
    const { display } = collect(false);
    for (const e of events) await display.observer(e);
    expect(display.counts).toMatchObject({ retries: 1, repairs: 1, failures: 1, held: 1, modelCalls: 1, inputTokens: 100, outputTokens: 20 });
  });

  it('prints plain lines with live counts when not attached to a terminal', async () => {
    const { display, text } = collect(false);
    for (const e of events) await display.observer(e);
    expect(text()).toContain('sections[0]/generate: ThrottlingException, retry in 120 ms  [retries 1 · repairs 0 · failed attempts 1 · held 0]');
    expect(text()).toContain('[sections] succeeded');
    expect(text()).toContain('run r succeeded');
  });

  it('draws bars per step and per section on a terminal', async () => {
    const { display, text } = collect(true);
    for (const e of events) await display.observer(e);
    display.stop();
    const plain = text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(/sections +\S*█/);
    expect(plain).toContain('sections[0]');
    expect(plain).toContain('retries 1 · repairs 1 · failed attempts 1 · held 1');
  });
});

describe('model and fault options', () => {
  it('parses fault lists and rates', () => {
    expect(parseFaults('throttle=a+b,invalid=c,persistent-invalid=d,offscript=e,throttle-rate=0.25,invalid-json-rate=0,seed=z')).toEqual({
      throttleSections: ['a', 'b'],
      invalidSections: ['c'],
      persistentInvalidSections: ['d'],
      offScriptSections: ['e'],
      throttleRate: 0.25,
      invalidJsonRate: 0,
      seed: 'z',
    });
    expect(() => parseFaults('throttle-rate=2')).toThrow(/between 0 and 1/);
    expect(() => parseFaults('explode=1')).toThrow(/unknown fault "explode"/);
  });

  it('builds models from a spec and explains bad specs', () => {
    expect(createModelFromSpec('offline', {}).modelId).toBe('baton-offline-extractive-v1');
    expect(createModelFromSpec('bedrock:anthropic.claude-3-5-haiku-20241022-v1:0', {}).modelId).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(createModelFromSpec('openai:http://127.0.0.1:11434/v1#llama3.1', {}).modelId).toBe('llama3.1');
    expect(() => createModelFromSpec('openai:http://x', {})).toThrow(/openai:<baseUrl>#<model>/);
    expect(() => createModelFromSpec('gpt', {})).toThrow(/unknown --model "gpt"/);
  });
});
