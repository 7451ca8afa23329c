import { describe, expect, it } from 'vitest';
import { refuseInapplicable } from './applicable.js';
import type { GlobalOptions } from './context.js';
import { ERROR_CODES } from '@baton/core';
import { API_ERROR_CODES } from '@baton/core/engine';
import {
  ERROR_EXIT_CODES,
  REFUSAL_EXIT_CODES,
  RUN_EXIT_CODES,
  RUN_EXIT_HELP,
  WORKER_EXIT_CODES,
  errorExitCode,
  missingSections,
  runExitCode,
} from './exit-codes.js';
import { runsStepsHere } from './finish.js';

describe('exit codes of baton run', () => {
  it('reads missing sections from the assemble output: counts, a list of sections, or a missing count', () => {
    expect(missingSections({ report: { sections: { total: 9, ok: 9, failed: 0, held: 0, repaired: 2 } } })).toBe(0);
    expect(missingSections({ report: { sections: { total: 9, ok: 6, failed: 2, held: 1 } } })).toBe(3);
    expect(
      missingSections({
        report: {
          sections: [
            { sectionId: 'a', status: 'ok' },
            { sectionId: 'b', status: 'accepted-missing' },
            { sectionId: 'c', status: 'failed' },
          ],
        },
      }),
    ).toBe(2);
    expect(missingSections({ report: { sections: { missing: 4 } } })).toBe(4);
    expect(missingSections({ other: true })).toBe(0);
    expect(missingSections(undefined)).toBe(0);
  });

  it('0 succeeded, 3 succeeded with missing sections, 1 failed, 4 waiting', () => {
    expect(runExitCode('succeeded', { report: { sections: { total: 2, ok: 2 } } })).toBe(0);
    expect(runExitCode('succeeded', { report: { sections: { total: 2, ok: 1 } } })).toBe(3);
    expect(runExitCode('failed', undefined)).toBe(1);
    expect(runExitCode('waiting', undefined)).toBe(4);
  });
});

describe('which process runs the steps, and which options it refuses', () => {
  const g = (engine: string, worker?: boolean): GlobalOptions => ({
    stateDir: '.baton',
    engine,
    pipelines: 'x',
    model: 'offline',
    ...(worker === false ? { connection: { worker: false } } : {}),
  });

  it('steps run here on local and with an in-process worker, elsewhere with --no-worker and on a deployment', () => {
    expect([runsStepsHere(g('local')), runsStepsHere(g('bullmq')), runsStepsHere(g('temporal')), runsStepsHere(g('stepfunctions-local'))]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([runsStepsHere(g('bullmq', false)), runsStepsHere(g('temporal', false)), runsStepsHere(g('stepfunctions'))]).toEqual([false, false, false]);
  });

  it('--auto-approve is refused only where the notice cannot reach the process (temporal --no-worker); BullMQ relays it', () => {
    expect(() => refuseInapplicable({ name: 'run', autoApprove: true }, g('temporal', false), new Set())).toThrow(
      /Temporal delivers the review token only to the `baton worker` process/,
    );
    expect(() => refuseInapplicable({ name: 'run', autoApprove: true }, g('bullmq', false), new Set())).not.toThrow();
    expect(() => refuseInapplicable({ name: 'run', autoApprove: true }, g('temporal'), new Set())).not.toThrow();
  });

  it('model flags are refused where no stage runs, and accepted where one does', () => {
    const latency = new Set(['offlineLatency']);
    expect(() => refuseInapplicable({ name: 'run' }, g('local'), latency)).not.toThrow();
    expect(() => refuseInapplicable({ name: 'resume' }, g('bullmq'), latency)).not.toThrow();
    expect(() => refuseInapplicable({ name: 'approve', noWait: true }, g('local'), latency)).not.toThrow();
    expect(() => refuseInapplicable({ name: 'approve', noWait: true }, g('temporal'), latency)).toThrow(
      /with --no-wait this process records the decision and runs no stage/,
    );
    expect(() => refuseInapplicable({ name: 'run' }, g('stepfunctions'), new Set(['model']))).toThrow(/stages run in the deployment's Lambdas/);
    expect(() => refuseInapplicable({ name: 'list' }, g('local'), new Set(['faults']))).toThrow(/`baton list` runs none/);
  });
});

describe('exit codes of a refused engine call', () => {
  it('6 not found, 7 token rejected, 8 refused by the run state, 9 timed out; a refused decision content stays a usage error', () => {
    expect(Object.fromEntries(API_ERROR_CODES.map((code) => [code, errorExitCode(code)]))).toEqual({
      RunNotFound: 6,
      PipelineNotFound: 6,
      GateNotFound: 6,
      PipelineVersionNotLoaded: 6,
      ReviewTokenRejected: 7,
      ReviewTokenUsed: 8,
      GateNotOpen: 8,
      RunNotRedrivable: 8,
      ResultTimedOut: 9,
    });
    expect(errorExitCode('InvalidInput')).toBe(2);
    expect(errorExitCode('ServiceUnavailableException')).toBe(2);
    expect(errorExitCode('StageFailed')).toBe(1);
    expect(errorExitCode('MyOwnCode')).toBe(1);
    expect(Object.keys(ERROR_EXIT_CODES).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('the refusal codes collide with no other exit code and are in the help text', () => {
    const refusals: number[] = Object.values(REFUSAL_EXIT_CODES);
    for (const other of [...Object.values(RUN_EXIT_CODES), ...Object.values(WORKER_EXIT_CODES)]) expect(refusals).not.toContain(other);
    for (const n of refusals) expect(RUN_EXIT_HELP).toMatch(new RegExp(`\\n  ${n} `));
  });
});
