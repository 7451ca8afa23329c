import { describe, expect, it } from 'vitest';
import { runAslLocally } from './run-asl.js';
import { clampLocalTimers, MAX_LOCAL_TIMER_SECONDS } from './timers.js';

describe('timers longer than Node can hold (stepfunctions-local)', () => {
  // the deployed reference report: one day plus five 7-day review rounds
  const definition = {
    TimeoutSeconds: 86_400 + 5 * 7 * 86_400,
    StartAt: 'gate',
    States: {
      gate: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:123456789012:function:gate',
        TimeoutSeconds: 40 * 86_400,
        HeartbeatSeconds: 30 * 86_400,
        End: true,
      },
    },
  };

  it('a 36-day execution timeout does not end the run at its start', async () => {
    const run = await runAslLocally(definition, { ok: true }, { handlers: { gate: async (i) => new Promise((r) => setTimeout(() => r(i), 100)) } });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.output).toEqual({ ok: true });
  });

  it('clamps the machine and nested states to about 24.8 days, leaving the definition itself unchanged', () => {
    const clamped = clampLocalTimers(definition);
    expect(clamped.TimeoutSeconds).toBe(MAX_LOCAL_TIMER_SECONDS);
    expect(clamped.States.gate).toMatchObject({ TimeoutSeconds: MAX_LOCAL_TIMER_SECONDS, HeartbeatSeconds: MAX_LOCAL_TIMER_SECONDS });
    expect(definition.TimeoutSeconds).toBe(3_110_400);
  });
});
