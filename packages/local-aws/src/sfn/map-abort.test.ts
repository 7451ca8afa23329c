import { CreateStateMachineCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_ARN, startHarness, type Harness } from '../test-support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'local-sfn-map-abort-'));
// fails at once for { fail: true }, otherwise answers after `ms`
writeFileSync(
  join(dir, 'item.mjs'),
  'export const handler = async (event) => { if (event.fail) { const e = new Error(`item ${event.i} failed`); e.name = "ItemFailed"; throw e; } await new Promise((r) => setTimeout(r, event.ms ?? 0)); return event.i; };\n',
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ functions: [{ name: 'map-item', entry: join(dir, 'item.mjs'), environment: {}, timeoutSeconds: 10 }] });
});
afterAll(async () => {
  await h?.close();
});

const types = (events: HistoryEvent[]): string[] => events.map((e) => e.type!);
const itemCalls = (): number => h.lambda.invocations.filter((i) => i.name === 'map-item').length;
const items = (n: number, first: object, rest: object = {}): object[] => Array.from({ length: n }, (_, i) => ({ i, ...(i === 0 ? first : rest) }));
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const machine = async (name: string, maxConcurrency: number, caught: boolean): Promise<string> => {
  const definition = {
    StartAt: 'each',
    States: {
      each: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: maxConcurrency,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'work',
          States: {
            work: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: h.lambda.arnOf('map-item'), 'Payload.$': '$' },
              OutputPath: '$.Payload',
              End: true,
            },
          },
        },
        ...(caught ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'recovered' }], Next: 'recovered' } : { End: true }),
      },
      // 0.5 s at the harness's time scale: long enough for the interpreter to dispatch the queued items
      ...(caught ? { recovered: { Type: 'Wait', Seconds: 50, End: true } } : {}),
    },
  };
  return (await h.client.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }))).stateMachineArn!;
};

describe('startLocalStepFunctions: a failed Map starts no further iteration (as AWS)', () => {
  it('an uncaught failure of the first item at MaxConcurrency 1 fails the execution after one invocation: the queued items never run', async () => {
    const before = itemCalls();
    const sm = await machine('map-uncaught', 1, false);
    const arn = await h.start(sm, { items: items(12, { fail: true }) });
    const done = await h.settled(arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ItemFailed');
    // the interpreter's queued items would have been dispatched by now
    await settle(500);
    expect(itemCalls() - before).toBe(1);
    const events = await h.history(arn);
    expect(types(events).filter((t) => t.startsWith('MapIteration'))).toEqual(['MapIterationStarted', 'MapIterationFailed']);
    expect(types(events).at(-1)).toBe('ExecutionFailed');
  });

  it('a caught failure aborts the iterations in flight (MapIterationAborted) and starts none of the queued ones; the execution goes on from the Catch', async () => {
    const before = itemCalls();
    const sm = await machine('map-caught', 2, true);
    // item 0 fails at once while item 1 is in flight; items 2.. are queued
    const arn = await h.start(sm, { items: items(10, { fail: true }, { ms: 300 }) });
    const done = await h.settled(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ failure: { Error: 'ItemFailed' } });
    await settle(800);
    // the failing item and the one in flight: at most what MaxConcurrency let run
    expect(itemCalls() - before).toBeLessThanOrEqual(2);
    const events = await h.history(arn);
    const iterations = events
      .filter((e) => e.type!.startsWith('MapIteration'))
      .map((e) => [e.type, (e.mapIterationStartedEventDetails ?? e.mapIterationFailedEventDetails ?? e.mapIterationAbortedEventDetails)?.index]);
    expect(iterations).toEqual(
      expect.arrayContaining([
        ['MapIterationFailed', 0],
        ['MapIterationAborted', 1],
      ]),
    );
    expect(iterations.filter(([, i]) => (i as number) >= 2)).toEqual([]);
    expect(types(events).slice(types(events).indexOf('MapStateFailed'))).toEqual([
      'MapStateFailed',
      'MapStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ]);
    expect(types(events).at(-1)).toBe('ExecutionSucceeded');
  });
});
